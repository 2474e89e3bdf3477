"""``lambdalab lessons check``: validate a course or lesson and replay it."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.session import replay_problems


def register(sub: Any) -> None:
    parser = sub.add_parser("lessons", help="tools for lesson authors")
    lessons_sub = parser.add_subparsers(
        dest="lessons_command", metavar="ACTION", required=True
    )
    check = lessons_sub.add_parser(
        "check",
        help="validate a course or one lesson and replay it",
        description=(
            "Load every lesson (files, keys, references), then replay each one: its "
            "starting state must fail its checks and its reference solution must pass."
        ),
        epilog=(
            "Exit status: 0 when every lesson passes, 1 when a replay finds problems, "
            "2 when a file cannot be loaded (the message names the file and line)."
        ),
    )
    check.add_argument(
        "path",
        nargs="?",
        help="a course or lesson folder (default: the bundled course)",
    )
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    root = Path(args.path) if args.path else bundled_lessons_path()
    course = load_course(root)  # a LessonFormatError: the shell says it, exit 2
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lambdalab-check-") as scratch:
        for lesson in course.lessons:
            found = replay_problems(lesson, Path(scratch) / lesson.id)
            problems.extend(found)
            mark = "ok  " if not found else "FAIL"
            print(f"{mark} {lesson.id}: {lesson.title}")
    for problem in problems:
        print(f"lambdalab: {problem}", file=sys.stderr)
    print(f"{len(course.lessons)} lesson(s) checked, {len(problems)} problem(s).")
    return 1 if problems else 0
