"""``lambdalab progress export|import|reset``: progress that travels between machines."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from lambdalab.course.progress import Progress, ProgressStore
from lambdalab.errors import ProgressError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "progress", help="export, import or reset a learner's progress"
    )
    actions = parser.add_subparsers(
        dest="progress_command", metavar="ACTION", required=True
    )
    export = actions.add_parser("export", help="write your progress to FILE")
    export.add_argument("file", metavar="FILE")
    export.set_defaults(handler=run_export)
    import_ = actions.add_parser("import", help="replace your progress with FILE")
    import_.add_argument("file", metavar="FILE")
    import_.set_defaults(handler=run_import)
    reset = actions.add_parser("reset", help="forget all progress (asks first)")
    reset.add_argument("--yes", action="store_true", help="do not ask")
    reset.set_defaults(handler=run_reset)


def learner_name(args: argparse.Namespace) -> str:
    """The learner from --learner, else the login name."""
    name: str | None = getattr(args, "learner", None)
    if name:
        return name
    try:
        return getpass.getuser() or "learner"
    except (KeyError, OSError):
        return "learner"


def run_export(args: argparse.Namespace) -> int:
    store = ProgressStore(learner_name(args))
    store.export(Path(args.file))
    print(f"Progress of {store.learner} written to {args.file}.")
    return 0


def _save_failed(store: ProgressStore, exc: OSError) -> ProgressError:
    """Saving into the learner's folder failed: name it and how to move it."""
    detail = (
        f" at {exc.filename}" if exc.filename not in (None, str(store.folder)) else ""
    )
    return ProgressError(
        f"Cannot save progress in {store.folder}: {exc.strerror}{detail}. Every part "
        "of that path must be a folder you can write to; or set LAMBDALAB_HOME to "
        "one that is."
    )


def run_import(args: argparse.Namespace) -> int:
    store = ProgressStore(learner_name(args))
    try:
        progress = store.import_(Path(args.file))
    except OSError as exc:
        raise _save_failed(store, exc) from None
    done = sum(1 for p in progress.lessons.values() if p.completed)
    print(f"Imported {args.file} for {store.learner}: {done} lesson(s) completed.")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    store = ProgressStore(learner_name(args))
    if not args.yes:
        try:
            answer = input(
                f"Forget all progress of {store.learner}? Type yes to confirm: "
            )
        except EOFError:
            print(
                "lambdalab: no answer (standard input is closed), so nothing changed; "
                "add --yes to reset without asking.",
                file=sys.stderr,
            )
            return 2
        if answer.strip().lower() != "yes":
            print("Nothing changed.")
            return 0
    try:
        store.save(Progress(store.learner))
    except OSError as exc:
        raise _save_failed(store, exc) from None
    print(f"Progress of {store.learner} reset.")
    return 0
