"""The ``lambdalab`` command line: a thin shell over the engine, triggers, course and UI.

Each subcommand lives in its own module and registers itself through ``register``; the
shell only parses arguments, prints, and maps ``LambdaLabError`` (and any file or
encoding error a subcommand did not name itself) to one line and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from lambdalab import __version__
from lambdalab.errors import LambdaLabError

Handler = Callable[[argparse.Namespace], int]

_log = logging.getLogger(__name__)

# Modules that add subcommands; each exposes ``register(subparsers)``.
_SUBCOMMAND_MODULES = (
    "lambdalab.cli.invoke_cmd",
    "lambdalab.cli.cron_cmd",
    "lambdalab.cli.http_cmd",
    "lambdalab.cli.event_cmd",
    "lambdalab.cli.lessons_cmd",
    "lambdalab.cli.lab_cmd",
    "lambdalab.cli.simulate_cmd",
    "lambdalab.cli.progress_cmd",
    "lambdalab.cli.serve_cmd",
    "lambdalab.cli.export_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every subcommand that is installed."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="lambdalab",
        description="Learn AWS Lambda by watching it work. With no command, opens the course.",
    )
    parser.add_argument(
        "--version", action="version", version=f"lambdalab {__version__}"
    )
    parser.add_argument(
        "--lessons",
        metavar="PATH",
        help="open a lesson pack from PATH instead of the bundled course",
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="colour theme, e.g. textual-light or textual-dark (NO_COLOR=1 gives monochrome)",
    )
    parser.add_argument(
        "--learner",
        metavar="NAME",
        help="keep progress under this learner name (default: your user name)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if handler is None:
            from lambdalab.cli.lab_cmd import open_course

            return open_course(args)
        return handler(args)
    except LambdaLabError as exc:
        print(f"lambdalab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (``| head``): nothing to say, and nowhere
        # to say it; stdout is pointed at devnull so the exit flush stays quiet.
        _log.debug("stdout closed by its reader", exc_info=True)
        _silence_stdout()
        return 141
    except (OSError, UnicodeError) as exc:
        # A file error a subcommand did not name itself: one line, never a traceback.
        _log.debug("%s failed", args.command or "lambdalab", exc_info=True)
        print(f"lambdalab: {describe_os_error(exc)}", file=sys.stderr)
        return 2


def describe_os_error(exc: OSError | UnicodeError) -> str:
    """A file or encoding error as one sentence with the path and what to do."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"a file is not UTF-8 text ({exc.reason} at byte {exc.start}). Save it as "
            "UTF-8 and try again."
        )
    if isinstance(exc, UnicodeEncodeError):
        return (
            f"cannot write {exc.object[exc.start : exc.end]!r} in the {exc.encoding} "
            "encoding. Use a UTF-8 terminal or set PYTHONIOENCODING=utf-8."
        )
    if isinstance(exc, UnicodeError):
        return f"{exc}. Save the file as UTF-8 and try again."
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return f"{reason}."
    where = str(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    return f"{where}: {reason}. Check the path and that you may read or write it."


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout has no file descriptor (captured): nothing will be flushed
