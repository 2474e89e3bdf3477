"""The app one served learner sees: started by ``lambdalab serve``, one per browser tab.

Not a user command: the server starts it with the learner's (already validated) name,
the course and the status file the instructor view reads.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.progress import ProgressStore
from lambdalab.errors import LambdaLabError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app for one learner; exit 2 with a message on a LambdaLabError."""
    parser = argparse.ArgumentParser(prog="lambdalab-learner")
    parser.add_argument("--learner", required=True)
    parser.add_argument("--lessons")
    parser.add_argument("--status-file")
    parser.add_argument("--api-port", type=int)
    parser.add_argument("--api-url")
    args = parser.parse_args(argv)
    from lambdalab.engine.sandbox import kill_all
    from lambdalab.ui.app import make_app

    try:
        course = load_course(
            Path(args.lessons) if args.lessons else bundled_lessons_path()
        )
        store = ProgressStore(args.learner)
    except LambdaLabError as exc:
        sys.stderr.write(f"lambdalab: {exc}\n")
        return 2
    app = make_app(
        course,
        store,
        api_port=args.api_port,
        api_url=args.api_url,
        status_file=Path(args.status_file) if args.status_file else None,
    )
    try:
        app.run()
    finally:
        kill_all()
    return 0 if app.return_code in (None, 0) else 1


if __name__ == "__main__":
    raise SystemExit(main())
