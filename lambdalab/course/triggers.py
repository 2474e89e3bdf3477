"""The lab's event sources: EventBridge schedules, an HTTP front door, S3 buckets.

``LabTriggers`` wires the pure logic of ``lambdalab.triggers`` to a lesson's
``LambdaService``. Schedules fire as events of the service's own loop, so virtual time
drives them like everything else; S3 deliveries and schedule fires are asynchronous
invokes (the async queue, retries included); the HTTP front door invokes synchronously
and maps the answer to the bytes a client receives. Handler code writes to the lab's
buckets through the sandbox ``boto3``; the service hands those *effects* over when
the invocation ends, and every effect is kept, applied or not.

Lab decisions where LAMBDA-FACTS is silent:

- A rule fires at second 0 of its minute (AWS fires somewhere in that minute).
- Changing a rule's expression or enabling it is a new PutRule: a ``rate()`` counts
  from that instant. A schedule with a timezone is a Scheduler schedule: its rate
  fires at once, then every interval (5.5); it delivers the same Scheduled Event
  document as a rule, to keep one shape in the lab.
- Any Invoke answer that is not a plain 200 reaches the front door as a function
  error (REST 502, HTTP API 500, ALB 502).
- The lab brake: a chain of S3-triggered invocations started by one upload stops after
  ``LAB_BRAKE_DEPTH`` invocations. Lambda's recursive loop detection stops SQS/SNS
  loops after about 16; whether it covers S3 is not confirmed (7.4), so the lab says
  so and the learner should assume such a loop runs and bills until it is broken.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from lambdalab.course.model import (
    BucketSpec,
    HttpRequestSpec,
    LabSpec,
    ScheduleSpec,
    UploadSpec,
)
from lambdalab.engine.loop import Timer
from lambdalab.engine.service import Invocation, LambdaService
from lambdalab.errors import ConfigError
from lambdalab.triggers.events import scheduled_event
from lambdalab.triggers.http import (
    FunctionErrorResult,
    HttpRequest,
    HttpResponse,
    alb_event,
    http_api_event,
    map_response,
    rest_event,
)
from lambdalab.triggers.s3 import Bucket, NotificationConfiguration, ObjectOperation
from lambdalab.triggers.schedule import (
    RateSchedule,
    Schedule,
    ScheduleFieldError,
    parse_schedule,
    resolve_timezone,
)

LAB_BRAKE_DEPTH = 16
"""S3-triggered invocations one upload may chain before the lab stops the loop."""

FRONT_DOORS: tuple[tuple[str, bool], ...] = (
    ("rest", False),
    ("http", False),
    ("alb", False),
    ("alb", True),
)
"""The front doors the door key cycles through: (api, ALB multi-value mode)."""

DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
"""Weekday names in Python's order (``date.weekday()``)."""


def front_door_name(api: str, multi_value: bool = False) -> str:
    """How the lab names a front door, e.g. ``REST API (payload 1.0)``."""
    if api == "rest":
        return "REST API (payload 1.0)"
    if api == "http":
        return "HTTP API (payload 2.0)"
    return "ALB (multi-value headers)" if multi_value else "ALB (single-value headers)"


def _uuid(seed: str) -> str:
    """A version-4-shaped UUID that depends only on ``seed`` (deterministic labs)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def parse_rule_expression(expression: str, timezone: str | None) -> Schedule:
    """Parse a rule's expression; ``at()`` only for Scheduler (with a timezone)."""
    schedule = parse_schedule(expression)
    if schedule.scheduler_only and timezone is None:
        raise ScheduleFieldError(
            f"{expression!r} is an EventBridge Scheduler expression; a scheduled rule "
            "takes cron(...) or rate(...). Give the schedule a timezone to make it a "
            "Scheduler schedule.",
            field="expression",
            value=expression,
        )
    if timezone is not None:
        resolve_timezone(timezone)
    return schedule


# ----------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class ScheduleFire:
    """One fire of a rule: the Scheduled Event it sent and the invoke it became."""

    rule: str
    at: datetime
    """The scheduled instant (UTC)."""
    time_ms: float
    """Virtual milliseconds since the lab started."""
    event_id: str
    request_id: str


class LabRule:
    """A schedule in the lab: its expression, state and the fires so far."""

    def __init__(self, spec: ScheduleSpec, created: datetime) -> None:
        self.name = spec.name
        self.function = spec.function
        self.timezone = spec.timezone
        self.enabled = spec.enabled
        self.schedule = parse_rule_expression(spec.expression, spec.timezone)
        self.created = created
        """When the rule was last put (created, changed or enabled): rate's anchor."""
        self.fires: list[ScheduleFire] = []
        self.timer: Timer | None = None

    @property
    def expression(self) -> str:
        """The canonical expression, e.g. ``cron(0 8 * * ? *)``."""
        return self.schedule.expression

    @property
    def scheduler(self) -> bool:
        """True for an EventBridge Scheduler schedule (it names a zone)."""
        return self.timezone is not None

    @property
    def zone_label(self) -> str:
        """``UTC`` for rules; the IANA name for Scheduler schedules."""
        return self.timezone or "UTC"

    def describe(self) -> str:
        """Plain English, in the rule's zone."""
        return self.schedule.describe(self.timezone)

    def fires_after(self, moment: datetime) -> Iterator[datetime]:
        """Fire instants strictly after ``moment``, in order (UTC)."""
        schedule = self.schedule
        if isinstance(schedule, RateSchedule):
            return self._rate_fires(schedule.interval, moment)
        return schedule.fire_times(moment, self.timezone)

    def _rate_fires(self, interval: timedelta, moment: datetime) -> Iterator[datetime]:
        # Classic rules fire one interval after creation (T20); Scheduler at once (5.5).
        first = 0 if self.scheduler else 1
        k = first
        if moment >= self.created:
            k = max(first, (moment - self.created) // interval + 1)
        while True:
            yield self.created + k * interval
            k += 1

    def next_fires(self, moment: datetime, count: int) -> list[datetime]:
        """The next ``count`` fire instants strictly after ``moment``."""
        out: list[datetime] = []
        for when in self.fires_after(moment):
            if len(out) >= count:
                break
            out.append(when)
        return out

    def day_counts(self, first: date, days: int, cap: int = 99) -> list[int]:
        """Fires per calendar day in the rule's zone, each day counted up to ``cap``."""
        zone = resolve_timezone(self.timezone)
        counts = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            start = datetime(day.year, day.month, day.day, tzinfo=zone)
            end = start + timedelta(days=1)
            start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
            n = 0
            for when in self.fires_after(start_utc - timedelta(microseconds=1)):
                if when >= end_utc or n >= cap:
                    break
                n += 1
            counts.append(n)
        return counts


# --------------------------------------------------------------------------- HTTP


@dataclass
class HttpExchange:
    """One request through the front door: wire, event, return value, client bytes."""

    number: int
    request_name: str
    api: str
    multi_value: bool
    request: HttpRequest
    event: dict[str, Any]
    sent_ms: float
    invocation: Invocation | None = None
    result: object = None
    """The handler's decoded return value, or a ``FunctionErrorResult``."""
    response: HttpResponse | None = None
    """What the client receives, once the invocation has answered."""

    @property
    def door(self) -> str:
        """The front door's display name."""
        return front_door_name(self.api, self.multi_value)


def build_request(spec: HttpRequestSpec) -> HttpRequest:
    """The ``HttpRequest`` a lesson's named request stands for."""
    target = f"{spec.path}?{spec.query}" if spec.query else spec.path
    return HttpRequest.from_target(
        spec.method, target, headers=spec.headers, body=spec.body
    )


# ---------------------------------------------------------------------------- S3


@dataclass(frozen=True)
class BucketActivity:
    """One line of a bucket's story: a write, a delivery, a refusal, the brake."""

    time_ms: float
    bucket: str
    kind: str
    """``put``, ``copy``, ``delete``, ``delivery``, ``refused``, ``denied``, ``failed``,
    ``brake``."""
    key: str
    text: str
    function: str = ""
    request_id: str = ""
    event: dict[str, Any] | None = field(default=None, compare=False)
    """For a delivery: the event document sent to the function."""


@dataclass(frozen=True)
class EffectRecord:
    """One AWS call a handler made, as least-privilege thinking needs it."""

    time_ms: float
    function: str
    request_id: str
    action: str
    """IAM-style action, e.g. ``s3:PutObject``."""
    resource: str
    """The ARN it touched, e.g. ``arn:aws:s3:::photos/thumbs/cat.jpg``."""
    outcome: str
    """``applied``, ``refused`` (loop guard), ``denied`` (execution role: AccessDenied)
    or ``failed`` (with ``detail``)."""
    detail: str = ""


# ---------------------------------------------------------------------- the lab


class LabTriggers:
    """Schedules, front door and buckets of one lab, on one ``LambdaService``."""

    def __init__(
        self,
        lab: LabSpec,
        service: LambdaService,
        *,
        adopt: Callable[[Invocation], None] | None = None,
        changed: Callable[[], None] | None = None,
        authorize: Callable[[str, str, str], str | None] | None = None,
    ) -> None:
        self.lab = lab
        self.service = service
        self._authorize = authorize or (lambda _f, _p, _s: None)
        """The functions' resource-based policies: None, or why an invoke is denied."""
        self._adopt = adopt or (lambda _inv: None)
        self._changed = changed or (lambda: None)
        self._held = False
        start = self.now()
        self.started = start
        self.rules: dict[str, LabRule] = {
            spec.name: LabRule(spec, start) for spec in lab.schedules
        }
        http = lab.http
        self.api = http.api if http else "rest"
        self.multi_value = http.multi_value if http else False
        self.requests: dict[str, HttpRequestSpec] = {
            r.name: r for r in (http.requests if http else ())
        }
        self.exchanges: list[HttpExchange] = []
        self.buckets: dict[str, Bucket] = {
            spec.name: self._bucket(spec) for spec in lab.buckets
        }
        self.uploads: dict[str, UploadSpec] = {u.name: u for u in lab.uploads}
        self.activity: list[BucketActivity] = []
        self.effects: list[EffectRecord] = []
        self._depth: dict[str, int] = {}
        """Chain depth of S3-triggered requests (1 = started by the learner's upload)."""
        service.effect_handler = self.apply_effects
        for rule in self.rules.values():
            self._arm(rule)

    @staticmethod
    def _bucket(spec: BucketSpec) -> Bucket:
        bucket = Bucket(spec.name, loop_guard=spec.loop_guard)
        for note in spec.notifications:
            bucket.add_notification(
                NotificationConfiguration(
                    note.id, note.function, note.events, note.prefix, note.suffix
                )
            )
        return bucket

    @property
    def active(self) -> bool:
        """True when the lab has any schedule, front door or bucket."""
        return bool(self.rules or self.lab.http or self.buckets)

    # -- time ------------------------------------------------------------------------

    def now(self) -> datetime:
        """The lab's virtual wall clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.service.wall_ms() / 1000, UTC)

    def wall_ms(self) -> int:
        """The virtual wall clock in whole epoch milliseconds."""
        return int(self.service.wall_ms())

    @contextmanager
    def held(self) -> Iterator[None]:
        """Pause every schedule (for settling the lab), then pick them up again."""
        self._held = True
        for rule in self.rules.values():
            self._disarm(rule)
        try:
            yield
        finally:
            self._held = False
            for rule in self.rules.values():
                self._arm(rule)

    # -- schedules -------------------------------------------------------------------

    def rule(self, name: str) -> LabRule:
        """The schedule called ``name``."""
        try:
            return self.rules[name]
        except KeyError:
            raise ConfigError(
                f"the lab has no schedule {name!r}; it has {', '.join(self.rules) or 'none'}"
            ) from None

    def _disarm(self, rule: LabRule) -> None:
        if rule.timer is not None:
            rule.timer.cancel()
            rule.timer = None

    def _arm(self, rule: LabRule, after: datetime | None = None) -> None:
        """Put the rule's next fire on the service's loop (if it is enabled)."""
        self._disarm(rule)
        if not rule.enabled or self._held:
            return
        now = self.now()
        if after is None:
            after = now
            if rule.scheduler and isinstance(rule.schedule, RateSchedule):
                after = now - timedelta(microseconds=1)  # a Scheduler rate starts now
        when = next(rule.fires_after(after), None)
        if when is None:
            return
        delay_ms = max(0.0, (when - now).total_seconds() * 1000.0)
        rule.timer = self.service.loop.schedule(
            delay_ms, partial(self._fire, rule, when)
        )

    def _fire(self, rule: LabRule, when: datetime) -> None:
        rule.timer = None
        if not rule.enabled:
            return
        account = self.service.account
        # A classic rule invokes as events.amazonaws.com under the function's resource
        # policy; a Scheduler schedule uses its own execution role instead.
        source = (
            f"arn:aws:events:{account.region}:{account.account_id}:rule/{rule.name}"
        )
        if not rule.scheduler and self._authorize(
            rule.function, "events.amazonaws.com", source
        ):
            self._changed()
            self._arm(rule, when)
            return
        event_id = _uuid(f"{rule.name}/{when.isoformat()}")
        event = scheduled_event(
            rule=rule.name,
            time_ms=int(when.timestamp() * 1000),
            event_id=event_id,
            account_id=account.account_id,
            region=account.region,
        )
        # EventBridge invokes Lambda asynchronously (LAMBDA-FACTS 5.1): queue, retries.
        inv = self.service.invoke(
            rule.function, event, "Event", on_done=lambda _inv: self._changed()
        )
        rule.fires.append(
            ScheduleFire(rule.name, when, self.service.now_ms, event_id, inv.request_id)
        )
        self._adopt(inv)
        self._arm(rule, when)

    def set_schedule(
        self,
        name: str,
        *,
        expression: str | None = None,
        enabled: bool | None = None,
    ) -> LabRule:
        """PutRule: change the expression and/or the state; refused as AWS refuses."""
        rule = self.rule(name)
        if expression is not None:
            schedule = parse_rule_expression(expression, rule.timezone)
            rule.schedule = schedule
            rule.created = self.now()
        if enabled is not None and enabled != rule.enabled:
            rule.enabled = enabled
            if enabled:
                rule.created = self.now()
        self._arm(rule)
        self._changed()
        return rule

    # -- HTTP front door -------------------------------------------------------------

    def set_front_door(self, api: str, multi_value: bool | None = None) -> None:
        """Put a different front door before the function: rest, http or alb."""
        if api not in ("rest", "http", "alb"):
            raise ConfigError(f"front door {api!r} is unknown; use rest, http or alb")
        self.api = api
        if multi_value is not None:
            self.multi_value = multi_value
        self._changed()

    def next_front_door(self) -> str:
        """Switch to the next front door (REST, HTTP API, ALB, ALB multi-value)."""
        current = (self.api, self.multi_value if self.api == "alb" else False)
        index = FRONT_DOORS.index(current) if current in FRONT_DOORS else -1
        api, multi = FRONT_DOORS[(index + 1) % len(FRONT_DOORS)]
        self.set_front_door(api, multi)
        return front_door_name(api, multi)

    def send(self, request_name: str) -> HttpExchange:
        """Send a named request through the front door; the function runs synchronously."""
        http = self.lab.http
        if http is None:
            raise ConfigError("this lab has no HTTP front door ([lab.http])")
        try:
            spec = self.requests[request_name]
        except KeyError:
            raise ConfigError(
                f"the lab has no request {request_name!r}; it has "
                f"{', '.join(self.requests) or 'none'}"
            ) from None
        request = build_request(spec)
        number = len(self.exchanges) + 1
        api_request_id = _uuid(f"http/{number}")
        if self.api == "rest":
            event = rest_event(
                request, request_id=api_request_id, time_ms=self.wall_ms()
            )
        elif self.api == "http":
            event = http_api_event(
                request, request_id=api_request_id, time_ms=self.wall_ms()
            )
        else:
            event = alb_event(request, multi_value_headers=self.multi_value)
        exchange = HttpExchange(
            number,
            request_name,
            self.api,
            self.multi_value,
            request,
            event,
            self.service.now_ms,
        )
        self.exchanges.append(exchange)
        inv = self.service.invoke(
            http.function,
            event,
            "RequestResponse",
            on_done=partial(self._answered, exchange),
        )
        exchange.invocation = inv
        self._adopt(inv)
        return exchange

    def _answered(self, exchange: HttpExchange, inv: Invocation) -> None:
        answer = inv.response
        assert answer is not None
        outcome: object
        if answer.status_code == 200 and not answer.function_error:
            try:
                outcome = json.loads(answer.payload) if answer.payload else None
            except json.JSONDecodeError:
                outcome = answer.payload
        else:
            try:
                document: object = json.loads(answer.payload)
            except json.JSONDecodeError:
                document = answer.payload
            outcome = FunctionErrorResult.from_document(
                document,
                request_id=inv.request_id,
                function_error=answer.function_error
                or f"Invoke answered {answer.status_code}",
            )
        exchange.result = outcome
        exchange.response = map_response(
            exchange.api, outcome, multi_value_headers=exchange.multi_value
        )
        self._changed()

    # -- S3 --------------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket:
        """The lab bucket called ``name``."""
        try:
            return self.buckets[name]
        except KeyError:
            raise ConfigError(
                f"the lab has no bucket {name!r}; it has {', '.join(self.buckets) or 'none'}"
            ) from None

    def set_loop_guard(self, bucket: str, on: bool) -> None:
        """Switch a bucket's loop guard (a lab device, not an AWS setting)."""
        self.bucket(bucket).loop_guard = on
        self._changed()

    def put_notification(
        self,
        bucket: str,
        config_id: str,
        *,
        function: str | None = None,
        events: tuple[str, ...] | None = None,
        prefix: str | None = None,
        suffix: str | None = None,
    ) -> NotificationConfiguration:
        """Add or replace one notification; an overlap is refused with S3's message."""
        target = self.bucket(bucket)
        old = next((c for c in target.notifications if c.id == config_id), None)
        if old is None and (function is None or events is None):
            raise ConfigError(
                f"bucket {bucket!r} has no notification {config_id!r}; a new one "
                "needs a function and events"
            )
        if old is not None:
            function = old.function_name if function is None else function
            events = old.events if events is None else events
            prefix = old.prefix if prefix is None else prefix
            suffix = old.suffix if suffix is None else suffix
        assert function is not None and events is not None
        config = NotificationConfiguration(
            config_id, function, events, prefix or "", suffix or ""
        )
        if config.function_name not in self.service.functions:
            raise ConfigError(
                f"notification {config_id!r}: the lab has no function "
                f"{config.function_name!r}"
            )
        if old is not None:
            target.remove_notification(config_id)
        try:
            target.add_notification(config)
        except ConfigError:
            if old is not None:
                target.add_notification(old)
            raise
        self._changed()
        return config

    def upload(self, name: str) -> list[Invocation]:
        """Perform a named upload (put, copy or delete) as the learner."""
        try:
            spec = self.uploads[name]
        except KeyError:
            raise ConfigError(
                f"the lab has no upload {name!r}; it has {', '.join(self.uploads) or 'none'}"
            ) from None
        bucket = self.bucket(spec.bucket)
        now = self.wall_ms()
        if spec.operation == "copy":
            assert spec.source is not None
            op = bucket.copy_object(spec.source, spec.key, time_ms=now)
        elif spec.operation == "delete":
            op = bucket.delete_object(spec.key, time_ms=now)
        else:
            op = bucket.put_object(spec.key, spec.body, size=spec.size, time_ms=now)
        self._note(op, "")
        invocations = self._deliver(bucket, op, depth=1)
        self._changed()
        return invocations

    def _note(self, op: ObjectOperation, function: str, request_id: str = "") -> None:
        kind = {
            "ObjectCreated:Put": "put",
            "ObjectCreated:Copy": "copy",
            "ObjectRemoved:Delete": "delete",
        }[op.event_name]
        who = function or "you"
        size = f" ({op.size} bytes)" if op.size is not None else ""
        self.activity.append(
            BucketActivity(
                self.service.now_ms,
                op.bucket,
                kind,
                op.key,
                f"{who}: {kind} {op.key!r}{size}",
                function,
                request_id,
            )
        )

    def _deliver(
        self, bucket: Bucket, op: ObjectOperation, *, depth: int
    ) -> list[Invocation]:
        """S3 invokes each matching rule's function asynchronously (7.1)."""
        invocations = []
        for config, delivery in zip(
            bucket.matching_notifications(op), bucket.deliveries(op), strict=True
        ):
            if depth > LAB_BRAKE_DEPTH:
                self.activity.append(
                    BucketActivity(
                        self.service.now_ms,
                        bucket.name,
                        "brake",
                        op.key,
                        f"lab brake: {LAB_BRAKE_DEPTH} invocations in one chain, so "
                        f"the lab dropped this event for {config.function_name}. AWS "
                        "may not stop an S3 loop for you: assume it runs, and bills, "
                        "until you break it.",
                        config.function_name,
                    )
                )
                continue
            denied = self._authorize(
                delivery.function_name,
                "s3.amazonaws.com",
                f"arn:aws:s3:::{bucket.name}",
            )
            if denied:
                self._problem(
                    bucket.name, op.key, "denied", denied, delivery.function_name
                )
                continue
            inv = self.service.invoke(
                delivery.function_name,
                delivery.event,
                "Event",
                on_done=lambda _inv: self._changed(),
            )
            self._depth[inv.request_id] = depth
            self.activity.append(
                BucketActivity(
                    self.service.now_ms,
                    bucket.name,
                    "delivery",
                    op.key,
                    f"{op.event_name} on {op.key!r} → {delivery.function_name} "
                    f"(notification {config.id!r}, async)",
                    delivery.function_name,
                    inv.request_id,
                    delivery.event,
                )
            )
            self._adopt(inv)
            invocations.append(inv)
        return invocations

    def apply_effects(
        self, function: str, request_id: str, effects: list[dict[str, Any]]
    ) -> None:
        """Apply what a handler asked AWS to do, now, in call order; keep a record."""
        depth = self._depth.get(request_id, 0)
        for effect in effects:
            self._apply(function, request_id, effect, depth)
        self._changed()

    def _apply(
        self, function: str, request_id: str, effect: dict[str, Any], depth: int
    ) -> None:
        action = str(effect.get("action", "?"))
        name = str(effect.get("bucket", ""))
        key = str(effect.get("key", ""))
        resource = f"arn:aws:s3:::{name}/{key}"

        def keep(outcome: str, detail: str = "") -> None:
            self.effects.append(
                EffectRecord(
                    self.service.now_ms,
                    function,
                    request_id,
                    f"{effect.get('service', '?')}:{action}",
                    resource,
                    outcome,
                    detail,
                )
            )

        if effect.get("denied"):
            # The sandbox refused it (execution role): the handler got AccessDenied.
            keep("denied", str(effect["denied"]))
            self._problem(
                name,
                key,
                "denied",
                f"{function}: AccessDenied for {action} {key!r} (execution role)",
                function,
                request_id,
            )
            return
        if effect.get("service") != "s3":
            keep(
                "failed", f"the lab does not know the service {effect.get('service')!r}"
            )
            return
        bucket = self.buckets.get(name)
        if bucket is None:
            detail = (
                f"NoSuchBucket: the lab has no bucket {name!r} "
                f"(it has {', '.join(self.buckets) or 'none'})"
            )
            keep("failed", detail)
            self._problem(
                name, key, "failed", f"{function}: {action} {detail}", function
            )
            return
        now = self.wall_ms()
        try:
            if action == "PutObject":
                content = None
                if "body_b64" in effect:
                    content = base64.b64decode(effect["body_b64"])
                op = bucket.put_object(
                    key,
                    content,
                    size=None if content is not None else int(effect.get("size", 0)),
                    time_ms=now,
                    writer=function,
                )
            elif action == "CopyObject":
                source = self.buckets.get(str(effect.get("source_bucket", "")))
                if source is None:
                    raise ConfigError(
                        f"NoSuchBucket: the copy source bucket "
                        f"{effect.get('source_bucket')!r} is not in the lab"
                    )
                op = bucket.copy_object(
                    str(effect.get("source_key", "")),
                    key,
                    time_ms=now,
                    source_bucket=source,
                    writer=function,
                )
            elif action == "DeleteObject":
                op = bucket.delete_object(key, time_ms=now, writer=function)
            else:
                keep("failed", f"the lab cannot apply s3:{action}")
                return
        except ConfigError as exc:
            refused = exc.title == "Recursive invocation"
            keep("refused" if refused else "failed", str(exc))
            self._problem(
                name,
                key,
                "refused" if refused else "failed",
                str(exc) if refused else f"{function}: {action} failed: {exc}",
                function,
                request_id,
            )
            return
        keep("applied")
        self._note(op, function, request_id)
        self._deliver(bucket, op, depth=depth + 1)

    def _problem(
        self,
        bucket: str,
        key: str,
        kind: str,
        text: str,
        function: str,
        request_id: str = "",
    ) -> None:
        self.activity.append(
            BucketActivity(
                self.service.now_ms, bucket, kind, key, text, function, request_id
            )
        )

    def touched(self, function: str | None = None) -> dict[tuple[str, str], int]:
        """(action, resource) pairs a function's code touched, with counts."""
        counts: dict[tuple[str, str], int] = {}
        for record in self.effects:
            if function is None or record.function == function:
                pair = (record.action, record.resource)
                counts[pair] = counts.get(pair, 0) + 1
        return counts

    # -- checks ----------------------------------------------------------------------

    def check_schedule(self, p: dict[str, Any]) -> tuple[bool, str]:
        """The ``schedule`` check: expression, state, fires, days and times."""
        rule = self.rule(str(p["schedule"]))
        problems: list[str] = []
        facts: list[str] = []
        if "expression" in p:
            want = parse_rule_expression(str(p["expression"]), rule.timezone).expression
            if rule.expression != want:
                problems.append(f"its expression is {rule.expression}, not {want}")
        if "enabled" in p and rule.enabled != bool(p["enabled"]):
            state = "enabled" if rule.enabled else "disabled"
            problems.append(f"it is {state}; a disabled rule never fires")
        if "timezone" in p and rule.timezone != p["timezone"]:
            problems.append(f"it evaluates in {rule.zone_label}, not {p['timezone']}")
        if "min" in p or "max" in p:
            fired = len(rule.fires)
            low, high = int(p.get("min", 0)), p.get("max")
            facts.append(f"it fired {fired} time(s)")
            if fired < low or (high is not None and fired > int(high)):
                need = f"at least {low}" if high is None else f"{low} to {high}"
                why = "" if rule.enabled else " (it is disabled)"
                problems.append(f"it fired {fired} time(s){why}; the goal is {need}")
        if "weekdays" in p or "times" in p:
            days, times = self._sample(rule)
            if "weekdays" in p:
                want_days = [str(d).upper() for d in p["weekdays"]]
                got = [d for d in DAY_NAMES if d in days]
                if got != [d for d in DAY_NAMES if d in want_days]:
                    problems.append(
                        f"it fires on {_days_text(got)}; the goal is "
                        f"{_days_text(want_days)} (in EventBridge cron 1 = SUN, 2 = MON "
                        "... 7 = SAT)"
                    )
            if "times" in p:
                want_times = sorted(str(t) for t in p["times"])
                if sorted(times) != want_times:
                    shown = ", ".join(sorted(times)[:6]) or "never"
                    problems.append(
                        f"it fires at {shown} {rule.zone_label}; the goal is "
                        f"{', '.join(want_times)}"
                    )
        if "next_fires" in p:
            want_fires = [_parse_instant(str(t)) for t in p["next_fires"]]
            got_fires = rule.next_fires(
                self.started - timedelta(microseconds=1), len(want_fires)
            )
            if got_fires != want_fires:
                problems.append(
                    "after the lab's start its first fires are "
                    f"{', '.join(_instant(t) for t in got_fires) or 'none'}; the goal "
                    f"is {', '.join(_instant(t) for t in want_fires)}"
                )
        label = f"Rule {rule.name} ({rule.expression}, {rule.describe()})"
        if problems:
            return False, f"{label}: " + "; ".join(problems) + "."
        return True, f"{label}" + (": " + ", ".join(facts) if facts else "") + "."

    def _sample(self, rule: LabRule) -> tuple[set[str], set[str]]:
        """Weekdays and times of day of two weeks of fires (in the rule's zone)."""
        zone = resolve_timezone(rule.timezone)
        days: set[str] = set()
        times: set[str] = set()
        start = self.started - timedelta(microseconds=1)
        end = self.started + timedelta(days=14)
        for n, when in enumerate(rule.fires_after(start)):
            if when > end or n >= 5000:
                break
            local = when.astimezone(zone)
            days.add(DAY_NAMES[local.weekday()])
            times.add(local.strftime("%H:%M"))
        return days, times

    def check_http(self, p: dict[str, Any]) -> tuple[bool, str]:
        """The ``http`` check: what the client received for a request."""
        candidates = [
            x
            for x in reversed(self.exchanges)
            if x.response is not None
            and ("request" not in p or x.request_name == p["request"])
            and ("api" not in p or x.api == p["api"])
            and ("multi_value" not in p or x.multi_value == bool(p["multi_value"]))
        ]
        where = (
            front_door_name(str(p["api"]), bool(p.get("multi_value")))
            if ("api" in p)
            else "the front door"
        )
        what = f"request {p['request']!r}" if "request" in p else "a request"
        if not candidates:
            return (
                False,
                f"No answer to {what} through {where} yet; send it from the HTTP tab "
                "(enter sends the selected request, d switches the front door).",
            )
        problems: list[str] = []
        for exchange in candidates:
            problems = _http_problems(exchange, p)
            if not problems:
                assert exchange.response is not None
                return True, (
                    f"{exchange.door} answered {what} with {exchange.response.status} "
                    "as expected."
                )
        latest = candidates[0]
        problems = _http_problems(latest, p)
        return False, f"The latest answer through {latest.door}: " + "; ".join(
            problems
        ) + "."

    def check_bucket(self, p: dict[str, Any]) -> tuple[bool, str]:
        """The ``bucket`` check: objects, deliveries, refusals, the loop guard."""
        bucket = self.bucket(str(p["bucket"]))
        if "loop_guard" in p and bucket.loop_guard != bool(p["loop_guard"]):
            state = "on" if bucket.loop_guard else "off"
            return False, f"The loop guard of bucket {bucket.name} is {state}."
        count_what = str(p.get("count", "objects"))
        key, prefix, suffix = p.get("key"), p.get("prefix", ""), p.get("suffix", "")
        function = p.get("function")

        def key_ok(k: str) -> bool:
            return (
                (key is None or k == key)
                and k.startswith(prefix)
                and k.endswith(suffix)
            )

        if count_what == "objects":
            keys = [k for k in bucket.objects if key_ok(k)]
            count = len(keys)
            noun = "object(s)"
            seen = ", ".join(sorted(bucket.objects)[:5]) or "no objects"
        else:
            kind = {"deliveries": "delivery", "refused": "refused"}[count_what]
            rows = [
                a
                for a in self.activity
                if a.bucket == bucket.name
                and a.kind == kind
                and key_ok(a.key)
                and (function is None or a.function == function)
            ]
            count = len(rows)
            noun = {
                "deliveries": "event notification(s)",
                "refused": "write(s) refused by the loop guard",
            }[count_what]
            seen = f"{len(bucket.objects)} object(s): " + (
                ", ".join(sorted(bucket.objects)[:5]) or "none"
            )
        low, high = int(p.get("min", 1)), p.get("max")
        scope = ""
        if key is not None:
            scope = f" for key {key!r}"
        elif prefix or suffix:
            scope = f" for keys {prefix}*{suffix}"
        if function:
            scope += (
                f" to {function}" if count_what == "deliveries" else f" by {function}"
            )
        if count >= low and (high is None or count <= int(high)):
            return True, f"Bucket {bucket.name}: {count} {noun}{scope}."
        need = f"at least {low}" if high is None else f"{low} to {high}"
        return (
            False,
            f"Bucket {bucket.name} shows {count} {noun}{scope}; the goal is {need}. "
            f"It holds {seen}.",
        )

    def check_effects(self, p: dict[str, Any]) -> tuple[bool, str]:
        """The ``effects`` check: AWS calls a function's code made (least privilege)."""
        action = p.get("action")
        if action is not None and ":" not in str(action):
            action = f"s3:{action}"
        rows = [
            r
            for r in self.effects
            if (p.get("function") in (None, r.function))
            and (action is None or r.action == action)
            and ("resource" not in p or fnmatch.fnmatchcase(r.resource, p["resource"]))
            and ("outcome" not in p or r.outcome == p["outcome"])
        ]
        low, high = int(p.get("min", 1)), p.get("max")
        what = f"{action or 'AWS'} call(s)"
        if p.get("function"):
            what += f" by {p['function']}"
        if "resource" in p:
            what += f" on {p['resource']}"
        if len(rows) >= low and (high is None or len(rows) <= int(high)):
            return True, f"{len(rows)} {what}."
        touched = ", ".join(
            f"{a} {r}" for (a, r) in list(self.touched(p.get("function")))[:4]
        )
        need = f"at least {low}" if high is None else f"{low} to {high}"
        return (
            False,
            f"Needs {need} {what}; the lab recorded {len(rows)}. Touched so far: "
            f"{touched or 'nothing'}.",
        )


def _http_problems(exchange: HttpExchange, p: dict[str, Any]) -> list[str]:
    response = exchange.response
    assert response is not None
    problems: list[str] = []
    if "status" in p and response.status != int(p["status"]):
        why = f" ({response.problem})" if response.problem else ""
        problems.append(
            f"the client got status {response.status}{why}, not {p['status']}"
        )
    if "header" in p:
        name = str(p["header"])
        got = response.header_values(name)
        if "values" in p and got != [str(v) for v in p["values"]]:
            lost = [
                str(n)
                for n in response.notes
                if n.header and n.header.lower() == name.lower()
            ]
            problems.append(
                f"the client received {len(got)} {name} line(s)"
                + (f" ({'; '.join(got)})" if got else "")
                + f", not {len(p['values'])} ({'; '.join(str(v) for v in p['values'])})"
                + (f". The front door noted: {' '.join(lost)}" if lost else "")
            )
    if "body_contains" in p and str(p["body_contains"]).encode() not in response.body:
        problems.append(f"the body does not contain {p['body_contains']!r}")
    return problems


def _days_text(days: list[str]) -> str:
    return ", ".join(days) if days else "no day"


def _parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


__all__ = [
    "DAY_NAMES",
    "FRONT_DOORS",
    "LAB_BRAKE_DEPTH",
    "BucketActivity",
    "EffectRecord",
    "HttpExchange",
    "LabRule",
    "LabTriggers",
    "ScheduleFire",
    "build_request",
    "front_door_name",
    "parse_rule_expression",
]
