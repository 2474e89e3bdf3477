"""``lambdalab serve``: the course in learners' browsers for a workshop."""

from __future__ import annotations

import argparse
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lambdalab.errors import LambdaLabError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "serve",
        help="serve the course to learners' browsers (a workshop on a LAN)",
        description=(
            "Serve the app to browsers, one process per learner. Each learner gives a "
            "name and keeps their own progress. Binds 127.0.0.1 unless --host says "
            "otherwise; the pages need no Internet access."
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; 0.0.0.0 for every network (default: 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=8000, help="default: 8000")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL learners open, when it differs from the address they type "
        "(a reverse proxy or https front end)",
    )
    parser.add_argument(
        "--max-learners",
        type=int,
        default=30,
        metavar="N",
        help="refuse more learners than this with a 'full' page (default: 30)",
    )
    parser.add_argument(
        "--instructor-key",
        metavar="KEY",
        help="the key of the instructor view (default: a random one, printed)",
    )
    parser.add_argument(
        "--api-port",
        type=int,
        metavar="PORT",
        help="also answer each learner's Lambda Invoke API on HOST:PORT, for the AWS "
        "CLI and boto3 (--endpoint-url http://HOST:PORT/<learner>)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="also print one line per HTTP request (the instructor key hidden); by "
        "default the console shows only start-up, learners joining and leaving, and "
        "errors",
    )
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from lambdalab.serve.server import (
        ClassroomServer,
        learner_app_command,
        learner_urls,
    )

    if not 1 <= args.max_learners <= 500:
        raise LambdaLabError(
            f"--max-learners {args.max_learners} is out of range 1-500; each learner "
            "costs about 75 MB of memory (see 'Running a workshop' in the README)."
        )
    if not 1 <= args.port <= 65535:
        raise LambdaLabError(f"--port {args.port} is not a TCP port; use 1024-65535.")
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        raise LambdaLabError(
            f"--public-url {args.public_url!r} must start with http:// or https://."
        )
    if args.api_port is not None:
        from lambdalab.serve.invoke_api import check_port

        if args.api_port == args.port:
            raise LambdaLabError(
                f"--api-port {args.api_port} is the same as --port; choose another."
            )
        check_port(args.api_port, args.host)
    lessons = Path(args.lessons).resolve() if args.lessons else None
    if lessons is not None:
        from lambdalab.course.loader import load_course

        load_course(lessons)  # refuse a broken pack now, not in every learner's tab
    key = args.instructor_key or secrets.token_urlsafe(9)
    status_dir = Path(tempfile.mkdtemp(prefix="lambdalab-classroom-"))
    server = ClassroomServer(
        status_dir=status_dir,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        max_learners=args.max_learners,
        instructor_key=key,
        learner_command=learner_app_command(lessons),
        api_port=args.api_port,
        access_log=args.access_log,
    )
    urls, warnings = learner_urls(args.host, args.port, args.public_url)
    print(f"lambdalab classroom: up to {args.max_learners} learners.")
    for url in urls:
        print(f"  Learners open:   {url}")
    if urls:
        print(f"  Instructor view: {urls[0]}instructor?key={key}")
    else:
        print(f"  Instructor view: /instructor?key={key} on the address above")
    if args.api_port is not None:
        for url in urls:
            api = f"http://{urlsplit(url).hostname}:{args.api_port}/<learner>"
            print(f"  Invoke API:      --endpoint-url {api} (each lab shows its own)")
    for warning in warnings:
        print(f"  Note: {warning}")
    print("Press Ctrl+C to stop; progress is saved as learners go.", flush=True)
    try:
        server.serve()
    except OSError as exc:
        raise LambdaLabError(
            f"Cannot serve on {args.host}:{args.port}: {exc.strerror}. Choose another "
            "--port or --host."
        ) from None
    finally:
        shutil.rmtree(status_dir, ignore_errors=True)
    return 0
