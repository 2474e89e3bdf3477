"""Open the app: the course (no command) or ``lambdalab lab`` on your own handler."""

from __future__ import annotations

import argparse
import codecs
import sys
from pathlib import Path
from typing import Any

from lambdalab.cli.common import read_json_file, read_text_file, split_handler
from lambdalab.cli.progress_cmd import learner_name
from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.progress import ProgressStore
from lambdalab.errors import LambdaLabError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "lab",
        help="open the lab on your own handler (free play)",
        description="Open the live lab on FILE.py:function with no lesson: invoke, time, logs.",
    )
    parser.add_argument("handler_spec", metavar="FILE.py:function")
    parser.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="EVENT.json",
        help="an event to offer (repeatable)",
    )
    parser.add_argument("--name", help="the function's name (default: the file's stem)")
    parser.add_argument(
        "--api-port",
        type=int,
        metavar="PORT",
        help="also answer Lambda's Invoke API on 127.0.0.1:PORT, for the AWS CLI and "
        "boto3 (--endpoint-url http://127.0.0.1:PORT)",
    )
    config = parser.add_argument_group(
        "the function (like CreateFunction and its event-invoke config)"
    )
    config.add_argument(
        "--timeout", type=int, metavar="S", help="Timeout in seconds (default 3)"
    )
    config.add_argument(
        "--memory", type=int, metavar="MB", help="MemorySize (default 128)"
    )
    config.add_argument(
        "--reserved", type=int, metavar="N", help="ReservedConcurrentExecutions"
    )
    config.add_argument(
        "--dlq", metavar="QUEUE", help="a dead-letter queue for failed async events"
    )
    config.add_argument(
        "--on-success",
        metavar="TARGET",
        help="on-success destination: a queue or event-bus/NAME",
    )
    config.add_argument(
        "--on-failure",
        metavar="TARGET",
        help="on-failure destination: a queue or event-bus/NAME",
    )
    triggers = parser.add_argument_group("triggers")
    triggers.add_argument(
        "--schedule", metavar="EXPR", help="an EventBridge rule, e.g. 'rate(5 minutes)'"
    )
    triggers.add_argument(
        "--api",
        choices=["rest", "http", "alb"],
        help="an HTTP front door (the HTTP tab)",
    )
    triggers.add_argument(
        "--multi-value",
        action="store_true",
        help="with --api alb: multi-value headers on",
    )
    parser.set_defaults(handler=run_lab)


def open_course(args: argparse.Namespace) -> int:
    """``lambdalab`` with no command: the course map."""
    root = Path(args.lessons) if args.lessons else bundled_lessons_path()
    course = load_course(root)
    store = ProgressStore(learner_name(args))
    return _run(course, store, theme=getattr(args, "theme", None))


def run_lab(args: argparse.Namespace) -> int:
    from lambdalab.course.freeplay import free_play_course

    names = {
        "timeout": "timeout_s",
        "memory": "memory_mb",
        "reserved": "reserved_concurrency",
        "dlq": "dead_letter_queue",
        "on_success": "on_success",
        "on_failure": "on_failure",
    }
    settings = {
        key: getattr(args, option)
        for option, key in names.items()
        if getattr(args, option, None) is not None
    }
    _check_files(args.handler_spec, args.event)
    course = free_play_course(
        args.handler_spec,
        args.event,
        args.name,
        settings=settings,
        schedule=args.schedule,
        api=args.api,
        multi_value=args.multi_value,
    )
    lab_function = course.lessons[0].lab.functions[0]
    # Validate the settings now, as CreateFunction would, before the app opens.
    from lambdalab.engine.model import FunctionConfig

    FunctionConfig(lab_function.name, **lab_function.settings)
    store = ProgressStore(learner_name(args))
    return _run(
        course,
        store,
        open_lesson=course.lessons[0].id,
        api_port=args.api_port,
        theme=getattr(args, "theme", None),
    )


def _check_files(handler_spec: str, event_files: list[str]) -> None:
    """Name a handler or event file that is unreadable, not UTF-8 or not JSON."""
    code_dir, handler = split_handler(handler_spec)
    read_text_file(str(code_dir / handler.partition(":")[0]), "handler file")
    for item in event_files:
        if item == "-":
            continue  # not a file: the lab says so
        read_json_file(item, "event file")
        if Path(item).read_bytes().startswith(codecs.BOM_UTF8):
            raise LambdaLabError(
                f"Event file {item} starts with a UTF-8 byte-order mark (BOM), which "
                "the lab does not read; save it as UTF-8 without a BOM."
            )


def _run(
    course: Any,
    store: ProgressStore,
    open_lesson: str | None = None,
    api_port: int | None = None,
    theme: str | None = None,
) -> int:
    from lambdalab.ui.app import make_app

    if not sys.stdout.isatty():
        print(
            "lambdalab: the app needs a terminal; for scripts use invoke, simulate or cron.",
            file=sys.stderr,
        )
        return 2
    if api_port is not None:
        from lambdalab.serve.invoke_api import check_port

        check_port(api_port)
    app = make_app(
        course, store, open_lesson=open_lesson, api_port=api_port, theme=theme
    )
    try:
        app.run()
    finally:
        from lambdalab.engine.sandbox import kill_all

        kill_all()
    if app.return_code not in (None, 0):
        raise LambdaLabError("the app stopped with an error; see the message above.")
    return 0
