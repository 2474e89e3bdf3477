"""``lambdalab cron``: explain an EventBridge schedule expression and its fire times."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from lambdalab.triggers.schedule import parse_schedule, resolve_timezone

COUNT_MIN, COUNT_MAX = 1, 1000


def register(subparsers: Any) -> None:
    """Add the ``cron`` subcommand."""
    parser = subparsers.add_parser(
        "cron",
        help="explain a cron()/rate() schedule expression and list its next fire times",
        description=(
            "Explain an EventBridge schedule expression (cron(...), rate(...), or "
            "the six cron fields alone, as the Lambda console takes them; "
            "EventBridge's API and templates need cron(...)) and list its next fire "
            "times in UTC. Quote the expression: 'cron(0 8 * * ? *)'."
        ),
    )
    parser.add_argument("expression", nargs="+", metavar="EXPR")
    parser.add_argument(
        "--after",
        metavar="ISO-8601",
        help=(
            "list fire times strictly after this instant, e.g. 2025-01-01T08:00Z or "
            "2025-01-01 (no offset means UTC); for rate() it is the rule's creation "
            "time. Default: now, rounded down to the minute"
        ),
    )
    parser.add_argument(
        "--count",
        metavar="N",
        default="5",
        help=f"how many fire times to list ({COUNT_MIN}-{COUNT_MAX}, default 5)",
    )
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help=(
            "evaluate the expression in this IANA zone, as EventBridge Scheduler does "
            "(classic EventBridge rules always use UTC)"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _now() -> datetime:
    """The wall clock rounded down to the minute (the CLI may read it; triggers not)."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def _parse_after(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    """Print the description and the next fire times; 2 on any invalid input."""
    count_text: str = args.count
    if not count_text.isdigit() or not COUNT_MIN <= int(count_text) <= COUNT_MAX:
        print(
            f"lambdalab: --count must be a whole number from {COUNT_MIN} to "
            f"{COUNT_MAX}; got {count_text!r}.",
            file=sys.stderr,
        )
        return 2
    if args.after is None:
        after = _now()
    else:
        parsed = _parse_after(args.after)
        if parsed is None:
            print(
                f"lambdalab: --after {args.after!r} is not an ISO-8601 date or time; "
                "write for example 2025-01-01T08:00Z, 2025-01-01T08:00:00+05:30 or "
                "2025-01-01.",
                file=sys.stderr,
            )
            return 2
        after = parsed
    tz: str | None = args.tz
    zone = resolve_timezone(tz)  # ScheduleSyntaxError -> "lambdalab: ...", exit 2
    text = " ".join(args.expression)
    schedule = parse_schedule(text)
    if schedule.kind == "cron" and not text.startswith("cron("):
        # Taken as the Lambda console takes them; PutRule and templates refuse them.
        print(
            "lambdalab: note: six bare fields are what the Lambda console takes; "
            "EventBridge's ScheduleExpression (PutRule, SAM, CloudFormation) needs "
            f"the wrapper: {schedule.expression}",
            file=sys.stderr,
        )
    description = schedule.describe(tz)
    fires = schedule.next_fire_times(after, int(count_text), tz)

    if args.json:
        document: dict[str, Any] = {
            "expression": schedule.expression,
            "description": description,
            "timezone": tz or "UTC",
            "after": _utc_text(after),
            "next": [_utc_text(t) for t in fires],
        }
        if tz is not None:
            document["next_local"] = [t.astimezone(zone).isoformat() for t in fires]
        print(json.dumps(document, indent=2))
        return 0

    print(description)
    for moment in fires:
        if tz is None:
            print(_utc_text(moment))
        else:
            local = moment.astimezone(zone)
            print(f"{_utc_text(moment)}  {local.isoformat()} {local.tzname()}")
    if not fires:
        print(f"No fire times after {_utc_text(after)}.")
    return 0
