"""Loading the lab's event sources from lesson.toml: schedules, HTTP, buckets, uploads.

The loader calls in here for ``[[lab.schedules]]``, ``[lab.http]``, ``[[lab.buckets]]``
and ``[lab.uploads]``, for the keys of the ``schedule``, ``http``, ``bucket`` and
``effects`` checks and of the trigger actions of a solution. Errors are located like
the rest of the loader's: file, line, key, and what AWS would say (an invalid cron
expression names its field; overlapping notifications get S3's message).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from lambdalab.course.model import (
    Action,
    BucketSpec,
    HttpRequestSpec,
    HttpSpec,
    LabSpec,
    NotificationSpec,
    ScheduleSpec,
    Step,
    UploadSpec,
)
from lambdalab.course.triggers import DAY_NAMES, parse_rule_expression
from lambdalab.errors import ConfigError, LessonFormatError, ProxyResponseError
from lambdalab.triggers.http import API_NAMES, HttpRequest, encode_query
from lambdalab.triggers.s3 import (
    MAX_KEY_BYTES,
    NOTIFICATION_EVENT_TYPES,
    Bucket,
    NotificationConfiguration,
)
from lambdalab.triggers.schedule import ScheduleFieldError, resolve_timezone

LAB_KEYS = ("schedules", "http", "buckets", "uploads")
"""Keys of ``[lab]`` this module reads."""

CHECK_KEYS: dict[str, tuple[str, ...]] = {
    "schedule": (
        "schedule",
        "expression",
        "enabled",
        "timezone",
        "min",
        "max",
        "weekdays",
        "times",
        "next_fires",
    ),
    "http": (
        "request",
        "api",
        "multi_value",
        "status",
        "header",
        "values",
        "body_contains",
    ),
    "bucket": (
        "bucket",
        "count",
        "key",
        "prefix",
        "suffix",
        "function",
        "min",
        "max",
        "loop_guard",
    ),
    "effects": ("function", "action", "resource", "outcome", "min", "max"),
}
"""Allowed keys of the trigger check types."""

ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "schedule": ("schedule", "expression", "enabled"),
    "http": ("request", "api", "multi_value"),
    "upload": ("upload", "times"),
    "bucket": ("bucket", "loop_guard"),
    "notification": ("bucket", "id", "function", "events", "prefix", "suffix"),
}
"""Allowed keys of the trigger solution actions."""

BUCKET_COUNTS = ("objects", "deliveries", "refused")
UPLOAD_OPERATIONS = ("put", "copy", "delete")

_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class Doc(Protocol):
    """What this module needs from the loader's parsed file."""

    def fail(self, key: str, problem: str) -> LessonFormatError: ...

    def only(
        self, table: dict[str, Any], allowed: Iterable[str], where: str
    ) -> None: ...

    def text_of(
        self, table: dict[str, Any], key: str, where: str, *, required: bool = True
    ) -> str: ...


def _table(doc: Doc, raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise doc.fail(where, "must be a table.")
    return raw


def _tables(doc: Doc, raw: Any, where: str, example: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise doc.fail(where, f"must be a list of tables: write [[{example}]].")
    return raw


def _flag(doc: Doc, table: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise doc.fail(f"{where}.{key}", f"must be true or false, not {value!r}.")
    return value


def _function(doc: Doc, table: dict[str, Any], where: str, functions: set[str]) -> str:
    name = doc.text_of(table, "function", where)
    if name not in functions:
        raise doc.fail(
            f"{where}.function",
            f"{name!r} is not a function of this lab ({', '.join(sorted(functions))}).",
        )
    return name


def _unique(doc: Doc, names: Sequence[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise doc.fail(where, f"two {what} are called {name!r}; rename one.")
        seen.add(name)


def _expression(doc: Doc, expression: Any, timezone: str | None, key: str) -> str:
    if not isinstance(expression, str):
        raise doc.fail(
            key, f"must be text such as 'cron(0 8 * * ? *)', not {expression!r}."
        )
    try:
        return parse_rule_expression(expression, timezone).expression
    except ScheduleFieldError as exc:
        raise doc.fail(
            key,
            f"{expression!r} is refused by EventBridge ({exc.field}): {exc}",
        ) from None


def load_lab_triggers(
    doc: Doc, raw: dict[str, Any], functions: set[str]
) -> dict[str, Any]:
    """Read the trigger keys of ``[lab]``: keyword arguments for ``LabSpec``."""
    schedules = _schedules(doc, raw.get("schedules", []), functions)
    http = _http(doc, raw["http"], functions) if "http" in raw else None
    buckets = _buckets(doc, raw.get("buckets", []), functions)
    uploads = _uploads(doc, raw.get("uploads", {}), {b.name for b in buckets})
    return {
        "schedules": schedules,
        "http": http,
        "buckets": buckets,
        "uploads": uploads,
    }


def _schedules(doc: Doc, raw: Any, functions: set[str]) -> tuple[ScheduleSpec, ...]:
    specs = []
    for i, item in enumerate(_tables(doc, raw, "lab.schedules", "lab.schedules")):
        where = f"lab.schedules[{i}]"
        doc.only(item, ("name", "expression", "function", "enabled", "timezone"), where)
        name = doc.text_of(item, "name", where)
        if not _RULE_NAME.match(name):
            raise doc.fail(
                f"{where}.name",
                f"{name!r}: a rule name is 1-64 letters, digits, '.', '-' or '_'.",
            )
        timezone = item.get("timezone")
        if timezone is not None:
            if not isinstance(timezone, str):
                raise doc.fail(f"{where}.timezone", "must be an IANA zone name.")
            try:
                resolve_timezone(timezone)
            except ScheduleFieldError as exc:
                raise doc.fail(f"{where}.timezone", str(exc)) from None
        if "expression" not in item:
            raise doc.fail(f"{where}.expression", "missing; add it.")
        expression = _expression(
            doc, item["expression"], timezone, f"{where}.expression"
        )
        specs.append(
            ScheduleSpec(
                name,
                expression,
                _function(doc, item, where, functions),
                _flag(doc, item, "enabled", where, True),
                timezone,
            )
        )
    _unique(doc, [s.name for s in specs], "lab.schedules", "schedules")
    return tuple(specs)


def _pairs(doc: Doc, raw: Any, key: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
        for p in raw
    ):
        raise doc.fail(
            key,
            'must be a list of ["name", "value"] pairs, e.g. [["Accept", "text/html"]].',
        )
    return tuple((p[0], p[1]) for p in raw)


def _http(doc: Doc, raw: Any, functions: set[str]) -> HttpSpec:
    table = _table(doc, raw, "lab.http")
    doc.only(table, ("api", "function", "multi_value", "requests"), "lab.http")
    api = doc.text_of(table, "api", "lab.http")
    if api not in API_NAMES:
        raise doc.fail(
            "lab.http.api",
            f"{api!r} is not a front door; use rest (REST API, payload 1.0), http "
            "(HTTP API, payload 2.0) or alb.",
        )
    requests = []
    raw_requests = _tables(
        doc, table.get("requests"), "lab.http.requests", "lab.http.requests"
    )
    if not raw_requests:
        raise doc.fail("lab.http.requests", "add at least one [[lab.http.requests]].")
    for i, item in enumerate(raw_requests):
        where = f"lab.http.requests[{i}]"
        doc.only(item, ("name", "method", "path", "query", "headers", "body"), where)
        query_raw = item.get("query", "")
        if isinstance(query_raw, str):
            query = query_raw.removeprefix("?")
        else:
            query = encode_query(_pairs(doc, query_raw, f"{where}.query"))
        body = item.get("body")
        if body is not None and not isinstance(body, str):
            raise doc.fail(f"{where}.body", "must be text.")
        spec = HttpRequestSpec(
            doc.text_of(item, "name", where),
            item.get("method", "GET"),
            item.get("path", "/"),
            query,
            _pairs(doc, item.get("headers", []), f"{where}.headers"),
            body,
        )
        try:
            target = f"{spec.path}?{spec.query}" if spec.query else spec.path
            if not isinstance(spec.method, str) or not isinstance(spec.path, str):
                raise ProxyResponseError("method and path must be text")
            HttpRequest.from_target(spec.method, target, headers=spec.headers)
        except ProxyResponseError as exc:
            raise doc.fail(where, f"not a valid request: {exc}.") from None
        requests.append(spec)
    _unique(doc, [r.name for r in requests], "lab.http.requests", "requests")
    return HttpSpec(
        api,
        _function(doc, table, "lab.http", functions),
        _flag(doc, table, "multi_value", "lab.http", False),
        tuple(requests),
    )


def _buckets(doc: Doc, raw: Any, functions: set[str]) -> tuple[BucketSpec, ...]:
    specs = []
    for i, item in enumerate(_tables(doc, raw, "lab.buckets", "lab.buckets")):
        where = f"lab.buckets[{i}]"
        doc.only(item, ("name", "loop_guard", "notifications"), where)
        name = doc.text_of(item, "name", where)
        if not _BUCKET_NAME.match(name) or ".." in name:
            raise doc.fail(
                f"{where}.name",
                f"{name!r}: a bucket name is 3-63 lower-case letters, digits, '.' or "
                "'-', starting and ending with a letter or digit.",
            )
        bucket = Bucket(name)
        notes = []
        raw_notes = _tables(
            doc,
            item.get("notifications", []),
            f"{where}.notifications",
            "lab.buckets.notifications",
        )
        for j, note in enumerate(raw_notes):
            nwhere = f"{where}.notifications[{j}]"
            doc.only(note, ("id", "function", "events", "prefix", "suffix"), nwhere)
            events = note.get("events")
            if (
                not isinstance(events, list)
                or not events
                or not all(isinstance(e, str) for e in events)
            ):
                raise doc.fail(
                    f"{nwhere}.events",
                    'must list S3 event types, e.g. ["s3:ObjectCreated:*"].',
                )
            for event in events:
                if event not in NOTIFICATION_EVENT_TYPES:
                    raise doc.fail(
                        f"{nwhere}.events",
                        f"{event!r} is not an S3 event type; use one such as "
                        "s3:ObjectCreated:*, s3:ObjectCreated:Put or s3:ObjectRemoved:*.",
                    )
            spec = NotificationSpec(
                doc.text_of(note, "id", nwhere),
                _function(doc, note, nwhere, functions),
                tuple(events),
                doc.text_of(note, "prefix", nwhere, required=False),
                doc.text_of(note, "suffix", nwhere, required=False),
            )
            try:
                bucket.add_notification(
                    NotificationConfiguration(
                        spec.id, spec.function, spec.events, spec.prefix, spec.suffix
                    )
                )
            except ConfigError as exc:
                raise doc.fail(nwhere, f"{exc.title}: {exc}") from None
            notes.append(spec)
        specs.append(
            BucketSpec(name, _flag(doc, item, "loop_guard", where, False), tuple(notes))
        )
    _unique(doc, [b.name for b in specs], "lab.buckets", "buckets")
    return tuple(specs)


def _uploads(doc: Doc, raw: Any, buckets: set[str]) -> tuple[UploadSpec, ...]:
    table = _table(doc, raw, "lab.uploads")
    specs = []
    for name, item in table.items():
        where = f"lab.uploads.{name}"
        item = _table(doc, item, where)
        doc.only(item, ("bucket", "key", "operation", "body", "size", "source"), where)
        bucket = doc.text_of(item, "bucket", where)
        if bucket not in buckets:
            raise doc.fail(
                f"{where}.bucket",
                f"{bucket!r} is not a bucket of this lab "
                f"({', '.join(sorted(buckets)) or 'none: add [[lab.buckets]]'}).",
            )
        key = doc.text_of(item, "key", where)
        if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise doc.fail(f"{where}.key", f"must be 1 to {MAX_KEY_BYTES} bytes.")
        operation = item.get("operation", "put")
        if operation not in UPLOAD_OPERATIONS:
            raise doc.fail(
                f"{where}.operation",
                f"{operation!r} must be one of {', '.join(UPLOAD_OPERATIONS)}.",
            )
        body = item.get("body")
        size = item.get("size")
        if body is not None and not isinstance(body, str):
            raise doc.fail(f"{where}.body", "must be text.")
        if size is not None and (
            not isinstance(size, int) or isinstance(size, bool) or size < 0
        ):
            raise doc.fail(
                f"{where}.size", "must be a whole number of bytes, 0 or more."
            )
        if body is not None and size is not None:
            raise doc.fail(f"{where}.size", "give a body or a size, not both.")
        source = item.get("source")
        if operation == "copy":
            if not isinstance(source, str) or not source:
                raise doc.fail(
                    f"{where}.source", "a copy needs the key to copy from (source)."
                )
        elif source is not None:
            raise doc.fail(f"{where}.source", "only a copy takes a source.")
        specs.append(UploadSpec(name, bucket, key, operation, body, size, source))
    return tuple(specs)


# -------------------------------------------------------------- cross references


def check_references(
    doc: Doc, lab: LabSpec, steps: Sequence[Step], solution: Sequence[Action]
) -> None:
    """Refuse trigger checks and actions that name things the lab does not have."""
    for i, step in enumerate(steps):
        for j, check in enumerate(step.checks):
            if check.type in CHECK_KEYS:
                _check_params(
                    doc, lab, check.type, check.params, f"steps[{i}].checks[{j}]"
                )
    for i, action in enumerate(solution):
        if action.do in ACTION_KEYS:
            _action_params(doc, lab, action.do, action.params, f"solution[{i}]")


def _rule(doc: Doc, lab: LabSpec, p: dict[str, Any], where: str) -> ScheduleSpec:
    name = p.get("schedule")
    for spec in lab.schedules:
        if spec.name == name:
            return spec
    raise doc.fail(
        f"{where}.schedule",
        f"{name!r} is not a schedule of this lab "
        f"({', '.join(s.name for s in lab.schedules) or 'none: add [[lab.schedules]]'}).",
    )


def _request(doc: Doc, lab: LabSpec, p: dict[str, Any], where: str) -> None:
    if lab.http is None:
        raise doc.fail(where, "the lab has no front door; add [lab.http].")
    names = [r.name for r in lab.http.requests]
    if "request" in p and p["request"] not in names:
        raise doc.fail(
            f"{where}.request",
            f"{p['request']!r} is not one of the lab's requests ({', '.join(names)}).",
        )
    if "api" in p and p["api"] not in API_NAMES:
        raise doc.fail(f"{where}.api", f"{p['api']!r} must be rest, http or alb.")


def _bucket(doc: Doc, lab: LabSpec, p: dict[str, Any], where: str) -> BucketSpec:
    for spec in lab.buckets:
        if spec.name == p.get("bucket"):
            return spec
    raise doc.fail(
        f"{where}.bucket",
        f"{p.get('bucket')!r} is not a bucket of this lab "
        f"({', '.join(b.name for b in lab.buckets) or 'none: add [[lab.buckets]]'}).",
    )


def _count(doc: Doc, p: dict[str, Any], where: str) -> None:
    for key in ("min", "max"):
        value = p.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise doc.fail(f"{where}.{key}", "must be a whole number, 0 or more.")


def _check_params(
    doc: Doc, lab: LabSpec, kind: str, p: dict[str, Any], where: str
) -> None:
    _count(doc, p, where)
    if kind == "schedule":
        rule = _rule(doc, lab, p, where)
        if "expression" in p:
            _expression(doc, p["expression"], rule.timezone, f"{where}.expression")
        days = p.get("weekdays", [])
        if not isinstance(days, list) or any(
            str(d).upper() not in DAY_NAMES for d in days
        ):
            raise doc.fail(
                f"{where}.weekdays", f"must list day names from {', '.join(DAY_NAMES)}."
            )
        times = p.get("times", [])
        if not isinstance(times, list) or not all(
            isinstance(t, str) and _TIME.match(t) for t in times
        ):
            raise doc.fail(f"{where}.times", 'must list times of day like "08:00".')
        fires = p.get("next_fires", [])
        if not isinstance(fires, list):
            raise doc.fail(f"{where}.next_fires", "must be a list of instants.")
        for text in fires:
            try:
                datetime.fromisoformat(str(text).replace("Z", "+00:00"))
            except ValueError:
                raise doc.fail(
                    f"{where}.next_fires",
                    f"{text!r} is not ISO-8601; write e.g. 2025-01-06T09:00Z.",
                ) from None
    elif kind == "http":
        _request(doc, lab, p, where)
        if "values" in p and ("header" not in p or not isinstance(p["values"], list)):
            raise doc.fail(
                f"{where}.values", "needs a header name and a list of exact values."
            )
    elif kind == "bucket":
        _bucket(doc, lab, p, where)
        if p.get("count", "objects") not in BUCKET_COUNTS:
            raise doc.fail(
                f"{where}.count", f"must be one of {', '.join(BUCKET_COUNTS)}."
            )


def _action_params(
    doc: Doc, lab: LabSpec, do: str, p: dict[str, Any], where: str
) -> None:
    if do == "schedule":
        rule = _rule(doc, lab, p, where)
        if "expression" in p:
            _expression(doc, p["expression"], rule.timezone, f"{where}.expression")
        if "enabled" in p and not isinstance(p["enabled"], bool):
            raise doc.fail(f"{where}.enabled", "must be true or false.")
    elif do == "http":
        _request(doc, lab, p, where)
    elif do == "upload":
        names = [u.name for u in lab.uploads]
        if p.get("upload") not in names:
            raise doc.fail(
                f"{where}.upload",
                f"{p.get('upload')!r} is not one of the lab's uploads "
                f"({', '.join(names) or 'none: add [lab.uploads]'}).",
            )
    elif do == "bucket":
        _bucket(doc, lab, p, where)
        if not isinstance(p.get("loop_guard"), bool):
            raise doc.fail(f"{where}.loop_guard", "must be true or false.")
    elif do == "notification":
        bucket = _bucket(doc, lab, p, where)
        known = {n.id for n in bucket.notifications}
        if p.get("id") not in known and not ("function" in p and "events" in p):
            raise doc.fail(
                f"{where}.id",
                f"{p.get('id')!r} is not a notification of bucket {bucket.name}; a new "
                "one needs function and events.",
            )
