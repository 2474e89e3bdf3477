"""``lambdalab http``: the raw HTTP response a client gets for a handler's return value.

stdout carries the response exactly as on the wire: CRLF line endings and the body's
own bytes, so it can be piped or saved (``| tr -d '\\r'`` strips the CRs). Front-door
headers such as Date and Content-Length are not added. Why a front door answered with
its own error, its execution-log lines (REST) and the header values it merged or
dropped go to stderr. A malformed result is not a CLI error: the client's 502 (or 500)
is the answer, with exit status 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lambdalab.engine.scenario import not_utf8_text
from lambdalab.errors import ProxyResponseError
from lambdalab.triggers.events import SAMPLE_REQUEST_ID
from lambdalab.triggers.http import (
    API_NAMES,
    FunctionErrorResult,
    map_response,
    raw_http_bytes,
)

_FRONT_DOORS = {
    "rest": "API Gateway REST API (payload 1.0)",
    "http": "API Gateway HTTP API (payload 2.0)",
    "alb": "Application Load Balancer",
}


def register(subparsers: Any) -> None:
    """Add the ``http`` subcommand."""
    parser = subparsers.add_parser(
        "http",
        help="show the raw HTTP response a client gets for a handler's return value",
        description=(
            "Map a Lambda proxy-integration result to the raw HTTP/1.1 response the "
            "client receives through a REST API, an HTTP API or an ALB. Output keeps "
            "CRLF line endings; notes about merged or dropped headers go to stderr."
        ),
    )
    parser.add_argument(
        "response",
        metavar="RESPONSE.json",
        help="file holding the handler's return value as JSON; - reads stdin",
    )
    parser.add_argument(
        "--api",
        choices=API_NAMES,
        default="rest",
        help="front door: rest (default), http (HTTP API) or alb",
    )
    parser.add_argument(
        "--multi-value",
        action="store_true",
        help="ALB only: the target group has lambda.multi_value_headers.enabled=true",
    )
    parser.add_argument(
        "--binary-media-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="REST only: a binary media type of the API, e.g. image/png (repeatable)",
    )
    parser.add_argument(
        "--accept",
        metavar="TYPE",
        help="REST only: the request's Accept header, checked against binary media types",
    )
    parser.add_argument(
        "--function-error",
        action="store_true",
        help=(
            "treat the file as Lambda's error document (errorMessage, errorType): the "
            "handler raised instead of returning"
        ),
    )
    parser.set_defaults(handler=run)


def _read(name: str) -> str:
    """The file's text; a UTF-8 byte-order mark is dropped, as JSON readers allow."""
    try:
        if name == "-":
            return sys.stdin.read().removeprefix("\ufeff")
        return Path(name).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ProxyResponseError(
            f"cannot read response file {name!r}: {exc.strerror or exc}; give the path "
            "of a JSON file, or - for stdin"
        ) from None
    except UnicodeDecodeError as exc:
        label = "stdin" if name == "-" else repr(name)
        raise ProxyResponseError(f"response file {not_utf8_text(label, exc)}") from None


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def load_result(name: str) -> object:
    """Read and decode the handler's return value; errors name the file and the problem."""
    text = _read(name)
    label = "stdin" if name == "-" else repr(name)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ProxyResponseError(
            f"response file {label} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}; it must hold the handler's return value as JSON"
        ) from None
    except ValueError as exc:
        raise ProxyResponseError(
            f"response file {label} is not valid JSON: {exc}; it must hold the "
            "handler's return value as JSON"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Print the raw response to stdout and the front door's remarks to stderr."""
    if args.multi_value and args.api != "alb":
        print("lambdalab: --multi-value applies to --api alb only", file=sys.stderr)
        return 2
    if (args.binary_media_type or args.accept) and args.api != "rest":
        print(
            "lambdalab: --binary-media-type and --accept apply to --api rest only "
            "(HTTP API and ALB decode base64 bodies themselves)",
            file=sys.stderr,
        )
        return 2
    result = load_result(args.response)
    outcome: object = result
    if args.function_error:
        outcome = FunctionErrorResult.from_document(
            result, request_id=SAMPLE_REQUEST_ID
        )
    response = map_response(
        args.api,
        outcome,
        multi_value_headers=args.multi_value,
        binary_media_types=args.binary_media_type,
        accept=args.accept,
    )
    if response.problem is not None:
        print(
            f"lambdalab: {_FRONT_DOORS[args.api]} answered {response.status} itself: "
            f"{response.problem}",
            file=sys.stderr,
        )
    for line in response.log_lines:
        print(f"execution log: {line}", file=sys.stderr)
    for note in response.notes:
        print(f"note: {note}", file=sys.stderr)
    sys.stdout.flush()
    sys.stdout.buffer.write(raw_http_bytes(response))
    sys.stdout.buffer.flush()
    return 0
