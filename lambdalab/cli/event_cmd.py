"""``lambdalab event``: print sample event documents, like ``sam local generate-event``.

Output is indented JSON (two spaces, UTF-8, trailing newline) with fixed default ids and
times, so the same command always prints the same bytes.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from lambdalab.errors import LambdaLabError
from lambdalab.triggers import events
from lambdalab.triggers.http import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, JsonObject


def _time_arg(text: str) -> int:
    try:
        return events.parse_time(text)
    except LambdaLabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _header_arg(text: str) -> tuple[str, str]:
    try:
        return events.parse_header(text)
    except LambdaLabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size_arg(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(
            f"size {text!r} must be a whole number of bytes"
        )
    return int(text)


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", default="GET", help="HTTP method (default GET)")
    parser.add_argument("--path", default="/", help="request path (default /)")
    parser.add_argument(
        "--query", default="", metavar="RAW", help="raw query string, e.g. 'x=1&x=2'"
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        type=_header_arg,
        metavar="'NAME: VALUE'",
        help="a request header; repeat it to send several, or one name twice",
    )
    parser.add_argument("--body", help="request body text")


def _add_id_options(parser: argparse.ArgumentParser, *, time_help: str) -> None:
    parser.add_argument(
        "--time",
        type=_time_arg,
        default=events.SAMPLE_TIME_MS,
        metavar="ISO-8601",
        help=f"{time_help} (default 1970-01-01T00:00:00Z)",
    )
    parser.add_argument(
        "--account-id",
        default=DEFAULT_ACCOUNT_ID,
        help=f"AWS account id (default {DEFAULT_ACCOUNT_ID})",
    )


def register(subparsers: Any) -> None:
    """Add the ``event`` subcommand and one sub-subcommand per event kind."""
    parser = subparsers.add_parser(
        "event",
        help="print a sample event document (API Gateway, HTTP API, ALB, S3, schedule)",
        description=(
            "Print the event a front door or service would send to a function, as "
            "indented JSON with fixed ids and times. S3 keys come form-encoded as S3 "
            "sends them; decode them with urllib.parse.unquote_plus."
        ),
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)

    rest = kinds.add_parser("apigateway", help="REST API Lambda proxy event (1.0)")
    _add_request_options(rest)
    _add_id_options(rest, time_help="request time")
    rest.add_argument("--request-id", default=events.SAMPLE_REQUEST_ID)
    rest.add_argument("--stage", default="prod", help="stage name (default prod)")
    rest.set_defaults(handler=run)

    v2 = kinds.add_parser("apigateway-v2", help="HTTP API event (payload 2.0)")
    _add_request_options(v2)
    _add_id_options(v2, time_help="request time")
    v2.add_argument("--request-id", default=events.SAMPLE_REQUEST_ID)
    v2.add_argument("--route-key", default="$default", help="route (default $default)")
    v2.add_argument("--region", default=DEFAULT_REGION)
    v2.set_defaults(handler=run)

    alb = kinds.add_parser("alb", help="Application Load Balancer target event")
    _add_request_options(alb)
    alb.add_argument(
        "--multi-value",
        action="store_true",
        help="target group with lambda.multi_value_headers.enabled=true",
    )
    alb.set_defaults(handler=run)

    s3 = kinds.add_parser("s3", help="S3 notification event with one record")
    s3.add_argument(
        "--bucket",
        default=events.SAMPLE_BUCKET,
        help=f"bucket name (default {events.SAMPLE_BUCKET})",
    )
    s3.add_argument(
        "--key",
        default=events.SAMPLE_KEY,
        help=f"the object key as stored, not encoded (default {events.SAMPLE_KEY})",
    )
    s3.add_argument(
        "--event-name",
        default="ObjectCreated:Put",
        help="e.g. ObjectCreated:Put (default), ObjectCreated:Copy, ObjectRemoved:Delete",
    )
    s3.add_argument(
        "--size",
        type=_size_arg,
        default=events.SAMPLE_SIZE,
        help=f"object size in bytes (default {events.SAMPLE_SIZE})",
    )
    s3.add_argument("--etag", default=events.SAMPLE_ETAG, help="object ETag")
    s3.add_argument("--sequencer", default=events.SAMPLE_SEQUENCER)
    s3.add_argument(
        "--configuration-id",
        default=events.SAMPLE_CONFIGURATION_ID,
        help="the notification rule's Id",
    )
    s3.add_argument(
        "--region", default=DEFAULT_REGION, help=f"default {DEFAULT_REGION}"
    )
    s3.add_argument(
        "--time",
        type=_time_arg,
        default=events.SAMPLE_TIME_MS,
        metavar="ISO-8601",
        help="eventTime (default 1970-01-01T00:00:00.000Z)",
    )
    s3.set_defaults(handler=run)

    schedule = kinds.add_parser("schedule", help="EventBridge scheduled-rule event")
    schedule.add_argument("--rule", default=events.SAMPLE_RULE, help="rule name")
    _add_id_options(schedule, time_help="the minute the rule fired")
    schedule.add_argument("--region", default=DEFAULT_REGION)
    schedule.add_argument("--id", default=events.SAMPLE_EVENT_ID, help="event id")
    schedule.set_defaults(handler=run)


def build(args: argparse.Namespace) -> JsonObject:
    """Build the event document the parsed arguments ask for."""
    kind: str = args.kind
    if kind == "s3":
        return events.sample_s3_event(
            bucket=args.bucket,
            key=args.key,
            event_name=args.event_name,
            size=args.size,
            etag=args.etag,
            sequencer=args.sequencer,
            configuration_id=args.configuration_id,
            region=args.region,
            time_ms=args.time,
        )
    if kind == "schedule":
        return events.scheduled_event(
            rule=args.rule,
            time_ms=args.time,
            event_id=args.id,
            account_id=args.account_id,
            region=args.region,
        )
    request = events.sample_request(
        method=args.method,
        path=args.path,
        query=args.query,
        headers=args.header,
        body=args.body,
    )
    if kind == "apigateway":
        return events.sample_apigateway_event(
            request,
            request_id=args.request_id,
            time_ms=args.time,
            stage=args.stage,
            account_id=args.account_id,
        )
    if kind == "apigateway-v2":
        return events.sample_apigateway_v2_event(
            request,
            request_id=args.request_id,
            time_ms=args.time,
            route_key=args.route_key,
            account_id=args.account_id,
            region=args.region,
        )
    return events.sample_alb_event(request, multi_value_headers=args.multi_value)


def run(args: argparse.Namespace) -> int:
    """Print the event as indented JSON."""
    print(json.dumps(build(args), indent=2, ensure_ascii=False))
    return 0
