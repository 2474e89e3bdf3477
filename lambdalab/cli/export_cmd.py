"""``lambdalab export``: a lesson's lab or a scenario as a SAM application."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lambdalab.errors import LambdaLabError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "export",
        help="write a SAM template and handler code that deploy to real AWS Lambda",
        description=(
            "Export LESSON (an id or folder of the course) or SCENARIO.toml as an AWS "
            "SAM application: template.yaml, src/<function>/ and events/. Deploy it "
            "with `sam build && sam deploy --guided`."
        ),
    )
    parser.add_argument("target", metavar="LESSON_OR_SCENARIO")
    parser.add_argument("--out", required=True, metavar="DIR", help="where to write")
    parser.add_argument(
        "--code",
        choices=("mine", "start", "solution"),
        default="mine",
        help="a lesson's code: your edited code (default), the starting code, or the "
        "reference solution",
    )
    parser.add_argument(
        "--force", action="store_true", help="write into DIR even if it is not empty"
    )
    events = parser.add_argument_group("event sources (attached to one function)")
    events.add_argument(
        "--function", metavar="NAME", help="which function gets them (default: first)"
    )
    events.add_argument(
        "--schedule", metavar="EXPR", help="an EventBridge cron(...) or rate(...) rule"
    )
    events.add_argument(
        "--api", choices=("rest", "http"), help="an API Gateway REST or HTTP API"
    )
    events.add_argument("--api-path", default="/", metavar="PATH")
    events.add_argument("--api-method", default="get", metavar="METHOD")
    events.add_argument(
        "--s3", action="store_true", help="a new bucket whose uploads invoke it"
    )
    events.add_argument(
        "--s3-prefix",
        default="",
        metavar="PREFIX",
        help="the prefix filter of the --s3 bucket, and of a lesson's bucket "
        "notification that has none and would invoke its function again (a loop)",
    )
    events.add_argument("--s3-suffix", default="", metavar="SUFFIX")
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from lambdalab.export import sam

    out = Path(args.out)
    _check_out(out, args.force)
    triggers = sam.Triggers(
        function=args.function,
        schedule=args.schedule,
        api=args.api,
        api_path=args.api_path,
        api_method=args.api_method,
        s3=args.s3,
        s3_prefix=args.s3_prefix,
        s3_suffix=args.s3_suffix,
    )
    target = Path(args.target)
    if target.is_file() and target.suffix == ".toml" and target.name != "lesson.toml":
        from lambdalab.engine.scenario import load_scenario

        scenario = load_scenario(target)
        export = sam.build(
            sam.from_scenario(scenario),
            triggers,
            description=f"lambdalab scenario {target.name}",
        )
    else:
        lesson = _find_lesson(args)
        from lambdalab.cli.progress_cmd import learner_name
        from lambdalab.course.progress import ProgressStore

        workspace = ProgressStore(learner_name(args)).workspace(lesson.id)
        export = sam.build(
            sam.from_lesson(lesson, workspace, args.code),
            triggers,
            description=f"lambdalab lesson {lesson.id}: {lesson.title}",
            events=lesson.lab.events,
            lab=lesson.lab,
            solution=lesson.solution,
        )
    for warning in export.warnings:
        print(f"lambdalab: warning: {warning}", file=sys.stderr)
    try:
        written = sam.write(export, out)
    except OSError as exc:
        raise _cannot_write(out, exc) from None
    print(f"Wrote {len(written)} files to {out}:")
    for path in written:
        print(f"  {path.relative_to(out)}")
    print(f"Deploy: cd {out} && sam build && sam deploy --guided")
    return 0


def _check_out(out: Path, force: bool) -> None:
    """Refuse an --out that is a file or a non-empty folder before exporting."""
    if out.exists() and not out.is_dir():
        raise LambdaLabError(
            f"--out {out} is a file; name a folder (it is created if missing)."
        )
    try:
        if out.is_dir() and any(out.iterdir()) and not force:
            raise LambdaLabError(
                f"{out} is not empty; choose an empty folder or pass --force to "
                "overwrite."
            )
    except OSError as exc:
        raise _cannot_write(out, exc) from None


def _cannot_write(out: Path, exc: OSError) -> LambdaLabError:
    """Writing the application failed: name the path and what to do."""
    detail = f" at {exc.filename}" if exc.filename not in (None, str(out)) else ""
    return LambdaLabError(
        f"Cannot write the export to {out}: {exc.strerror}{detail}. Choose an --out "
        "folder you can write to (missing folders are created)."
    )


def _find_lesson(args: argparse.Namespace) -> Any:
    from lambdalab.course.loader import bundled_lessons_path, load_course, load_lesson

    target = Path(args.target)
    if target.is_dir() and (target / "lesson.toml").is_file():
        return load_lesson(target)
    if target.name == "lesson.toml" and target.is_file():
        return load_lesson(target.parent)
    root = Path(args.lessons) if args.lessons else bundled_lessons_path()
    course = load_course(root)
    for lesson in course.lessons:
        if args.target in (lesson.id, lesson.folder.name):
            return lesson
    known = ", ".join(lesson.id for lesson in course.lessons)
    raise LambdaLabError(
        f"No lesson or scenario called {args.target!r}; give a scenario .toml file, a "
        f"lesson folder, or one of these lessons: {known}."
    )
