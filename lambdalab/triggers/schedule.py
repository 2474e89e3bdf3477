"""EventBridge schedule expressions: the AWS ``cron()``/``rate()`` dialect, exactly.

``parse_schedule`` turns the text a learner types into an immutable ``Schedule`` that
explains itself in plain English and lists its fire times. The AWS dialect only looks
like Unix cron, so each quirk is handled (and commented) here, once: six fields with a
year and no seconds, ``?``, weekdays numbered from Sunday = 1, ``L``, ``W``, ``#``, and
the exact rules of ``rate()``. croniter finds calendar days through a translation to
its own 7-field form; lambdalab does what croniter cannot (years past 2099, ``LW``, time
zones).

Nothing here reads the wall clock: every instant is passed in.
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import islice, takewhile
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from lambdalab.errors import ScheduleSyntaxError

__all__ = [
    "AWS_INVALID_EXPRESSION",
    "FIELD_NAMES",
    "AtSchedule",
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleFieldError",
    "ScheduleKind",
    "parse_schedule",
    "resolve_timezone",
]

ScheduleKind = Literal["cron", "rate", "at"]

# PutRule's message for any refused expression (LAMBDA-FACTS 5.4); we add the reason.
AWS_INVALID_EXPRESSION = "Parameter ScheduleExpression is not valid."
AWS_INVALID_TIMEZONE = "Parameter ScheduleExpressionTimezone is not valid."

FIELD_NAMES = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_FIELDS_HINT = "minutes hours day-of-month month day-of-week year"

# AWS numbers weekdays 1-7 from Sunday (LAMBDA-FACTS 5.2, PITFALLS R01).
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DAY_WORDS = (
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
)
_MONTH_NAMES = tuple(calendar.month_abbr[m].upper() for m in range(1, 13))
_MONTH_WORDS = tuple(calendar.month_name[m] for m in range(1, 13))
_ORDINALS = ("first", "second", "third", "fourth", "fifth")

_FIRST_YEAR, _LAST_YEAR = 1970, 2199
# croniter's own year field stops at 2099 (ENV-NOTES 4), so years are filtered here.
_CRONITER_LAST_YEAR = 2099


class ScheduleFieldError(ScheduleSyntaxError):
    """An expression EventBridge would refuse, with the part that is wrong.

    ``field`` is one of ``FIELD_NAMES``, ``"rate"``, ``"at"``, ``"expression"`` (the
    whole text) or ``"timezone"``, so a UI can highlight it; ``fields`` lists every
    field involved when a rule spans two (the day-of-month/day-of-week pair).
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str,
        value: str,
        fields: tuple[str, ...] = (),
        prefix: str = AWS_INVALID_EXPRESSION,
    ) -> None:
        super().__init__(f"{prefix} {reason}", title="ValidationException")
        self.reason = reason
        self.field = field
        self.fields = fields or (field,)
        self.value = value


# --------------------------------------------------------------------------- time zones


def resolve_timezone(tz: str | None) -> tzinfo:
    """Return the IANA zone named ``tz`` (``None`` means UTC, as for classic rules)."""
    if tz is None or tz == "UTC":
        return UTC
    if re.fullmatch(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", tz):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ScheduleFieldError(
        f"{tz!r} is not an IANA time zone name (for example UTC, Europe/London or "
        "Asia/Kolkata).",
        field="timezone",
        value=tz,
        prefix=AWS_INVALID_TIMEZONE,
    )


def _zone_label(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else f"{zone} time"


def _as_utc(moment: datetime) -> datetime:
    """An aware UTC copy of ``moment``; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# ------------------------------------------------------------------------ the schedule


@dataclass(frozen=True)
class Schedule(ABC):
    """A parsed, valid schedule expression.

    ``expression`` is the canonical text (``cron(...)``, ``rate(...)`` or ``at(...)``).
    All fire times are aware UTC datetimes. ``tz`` names the IANA zone the expression is
    evaluated in (EventBridge Scheduler's ``ScheduleExpressionTimezone``); classic
    EventBridge rules always use UTC, which is the default (LAMBDA-FACTS 5.1, 5.5).
    """

    expression: str

    @property
    @abstractmethod
    def kind(self) -> ScheduleKind:
        """``"cron"``, ``"rate"`` or ``"at"``."""

    @property
    def scheduler_only(self) -> bool:
        """True when only EventBridge Scheduler, not a classic rule, accepts it."""
        return False

    @abstractmethod
    def describe(self, tz: str | None = None) -> str:
        """Plain English, e.g. ``At 08:00 UTC, every day``."""

    @abstractmethod
    def fire_times(self, after: datetime, tz: str | None = None) -> Iterator[datetime]:
        """Lazily yield fire times strictly after ``after``, in order.

        For ``rate()`` ``after`` is the rule's creation time: fires are creation plus
        whole intervals (LAMBDA-FACTS 5.3, T20). A naive ``after`` is read as UTC.
        """

    def next_fire_times(
        self, after: datetime, count: int, tz: str | None = None
    ) -> list[datetime]:
        """The first ``count`` fire times strictly after ``after`` (fewer if none)."""
        if count < 0:
            raise ValueError(f"count must be 0 or more, got {count}")
        return list(islice(self.fire_times(after, tz), count))

    def fires_between(
        self,
        start: datetime,
        end: datetime,
        tz: str | None = None,
        *,
        created: datetime | None = None,
    ) -> Iterator[datetime]:
        """Lazily yield the fire times ``t`` with ``start < t <= end``.

        Consecutive windows ``(a, b]``, ``(b, c]`` therefore fire each time once, as an
        engine advancing virtual time needs. ``created`` anchors a ``rate()`` count (the
        rule's creation instant, default ``start``); cron and at ignore it.
        """
        end_utc = _as_utc(end)
        return takewhile(lambda t: t <= end_utc, self.fire_times(start, tz))


# ----------------------------------------------------------------------------- rate()

_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE_VALUE_MAX = 2_147_483_647  # lambdalab's guess at AWS's bound: a signed 32-bit int


@dataclass(frozen=True)
class RateSchedule(Schedule):
    """``rate(value unit)``: every ``value`` units, counted from the rule's creation."""

    value: int
    unit: str  # "minute", "hour" or "day"

    @property
    def kind(self) -> ScheduleKind:
        return "rate"

    @property
    def interval(self) -> timedelta:
        """The fixed gap between fires. A day is 24 hours, even across DST changes."""
        return timedelta(seconds=self.value * _RATE_UNITS[self.unit])

    def describe(self, tz: str | None = None) -> str:
        resolve_timezone(tz)  # a rate does not depend on the zone, but a bad one is bad
        if self.value == 1:
            return f"Every {self.unit}"
        return f"Every {self.value} {self.unit}s"

    def fire_times(self, after: datetime, tz: str | None = None) -> Iterator[datetime]:
        resolve_timezone(tz)
        return self._fires_from(_as_utc(after), 1)

    def fires_between(
        self,
        start: datetime,
        end: datetime,
        tz: str | None = None,
        *,
        created: datetime | None = None,
    ) -> Iterator[datetime]:
        resolve_timezone(tz)
        start_utc, end_utc = _as_utc(start), _as_utc(end)
        anchor = start_utc if created is None else _as_utc(created)
        step = self.value * _RATE_UNITS[self.unit]
        elapsed = (start_utc - anchor).total_seconds()
        first = max(1, int(elapsed // step) + 1)  # the first whole interval past start
        fires = self._fires_from(anchor, first)
        return takewhile(lambda t: t <= end_utc, (t for t in fires if t > start_utc))

    def _fires_from(self, anchor: datetime, first: int) -> Iterator[datetime]:
        step = self.value * _RATE_UNITS[self.unit]
        k = first
        while True:
            try:
                yield anchor + timedelta(seconds=k * step)
            except OverflowError:  # past year 9999: nothing left to fire
                return
            k += 1


def _parse_rate(text: str) -> RateSchedule:
    def bad(reason: str, value: str = text) -> ScheduleFieldError:
        return ScheduleFieldError(reason, field="rate", value=value)

    if not text.endswith(")"):
        raise bad(f"{text!r} is missing its closing ')'.")
    body = text[len("rate(") : -1]
    if not body:
        raise bad("rate() needs a value and a unit, for example rate(5 minutes).")
    # AWS refuses `rate( 10 minutes )`: no spaces inside the parentheses (5.3).
    if body != body.strip():
        raise bad(
            f"{text!r} has spaces just inside the parentheses; "
            f"write rate({' '.join(body.split())})."
        )
    parts = body.split(" ")
    if len(parts) == 1:
        raise bad(
            f"{text!r} needs a unit after the value: minute(s), hour(s) or day(s), "
            "for example rate(5 minutes)."
        )
    if len(parts) != 2 or not all(parts):
        raise bad(
            f"{text!r} must be a value and a unit separated by one space, "
            "for example rate(5 minutes)."
        )
    value_text, unit = parts
    if not re.fullmatch(r"[0-9]+", value_text):
        raise bad(
            f"rate value {value_text!r} is not a positive whole number.", value_text
        )
    if len(value_text) > 10 or int(value_text) > _RATE_VALUE_MAX:
        raise bad(f"rate value {value_text} is too large.", value_text)
    value = int(value_text)
    if value == 0:
        raise bad("rate value 0 is not allowed: the value must be 1 or more.", "0")
    if value_text != str(value):
        raise bad(
            f"rate value {value_text!r} has a leading zero; write {value}.", value_text
        )
    singular = unit[:-1] if unit.lower().endswith("s") else unit
    if singular not in _RATE_UNITS:
        if singular.lower() in _RATE_UNITS:
            # The unit is case-sensitive: AWS refuses `rate(10 MINUTES)` (5.3).
            raise bad(f"rate unit {unit!r} must be lowercase: {unit.lower()!r}.", unit)
        if singular.lower() == "second":
            raise bad(
                f"rate unit {unit!r} is not supported: EventBridge fires at most once "
                "a minute. Use minute(s), hour(s) or day(s).",
                unit,
            )
        raise bad(
            f"rate unit {unit!r} is not one of minute(s), hour(s) or day(s).", unit
        )
    # The unit is singular exactly when the value is 1 (5.3, PITFALLS R06).
    if value == 1 and unit != singular:
        raise bad(
            f"a value of 1 takes a singular unit: write rate(1 {singular}).", unit
        )
    if value > 1 and unit == singular:
        raise bad(
            f"a value of {value} takes a plural unit: write rate({value} {singular}s).",
            unit,
        )
    return RateSchedule(expression=text, value=value, unit=singular)


# ------------------------------------------------------------------------------- at()


@dataclass(frozen=True)
class AtSchedule(Schedule):
    """EventBridge Scheduler's one-time ``at(yyyy-mm-ddThh:mm:ss)``, in its zone."""

    when: datetime  # naive wall-clock time, read in the evaluation zone

    @property
    def kind(self) -> ScheduleKind:
        return "at"

    @property
    def scheduler_only(self) -> bool:
        return True

    def describe(self, tz: str | None = None) -> str:
        zone = resolve_timezone(tz)
        return f"Once, at {self.when:%Y-%m-%d %H:%M:%S} {_zone_label(zone)}"

    def fire_times(self, after: datetime, tz: str | None = None) -> Iterator[datetime]:
        zone = resolve_timezone(tz)
        instant = _wall_to_utc(self.when, zone)
        if instant is not None and instant > _as_utc(after):
            yield instant


def _parse_at(text: str) -> AtSchedule:
    match = re.fullmatch(
        r"at\(([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\)", text
    )
    if match is None:
        raise ScheduleFieldError(
            f"{text!r} must be at(yyyy-mm-ddThh:mm:ss), for example "
            "at(2025-03-01T08:00:00).",
            field="at",
            value=text,
        )
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise ScheduleFieldError(
            f"{text!r} is not a real date and time.", field="at", value=text
        ) from None
    return AtSchedule(expression=text, when=when)


# ----------------------------------------------------------------------------- cron()


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i
    noun: str = ""  # what a name names: "month" or "day"
    max_step: int | None = None
    wraps: bool = True  # a range may run past the top and round to the bottom

    @property
    def range_text(self) -> str:
        if self.name == "day-of-week":
            return f"{self.low}-{self.high} (1 = SUN)"
        return f"{self.low}-{self.high}"

    @property
    def accepted(self) -> str:
        if self.names:
            return f"{self.low}-{self.high} or {self.names[0]}-{self.names[-1]}"
        return self.range_text


_MINUTES = _FieldSpec("minutes", 0, 59, max_step=59)
_HOURS = _FieldSpec("hours", 0, 23, max_step=23)
_DOM = _FieldSpec("day-of-month", 1, 31, max_step=31)
_MONTH = _FieldSpec("month", 1, 12, names=_MONTH_NAMES, noun="month", max_step=12)
_DOW = _FieldSpec("day-of-week", 1, 7, names=_DAY_NAMES, noun="day")
_YEAR = _FieldSpec("year", _FIRST_YEAR, _LAST_YEAR, wraps=False)


@dataclass(frozen=True)
class _DayRule:
    """What one of the two day fields asks for."""

    kind: Literal["any", "set", "last", "last_weekday", "nearest_weekday", "nth"]
    values: frozenset[int] = frozenset()  # days of month, or AWS weekdays 1-7
    day: int = 0  # AWS weekday for "last"/"nth" in day-of-week, day of month for "W"
    nth: int = 0


def _fail(spec: _FieldSpec, text: str, reason: str) -> ScheduleFieldError:
    return ScheduleFieldError(reason, field=spec.name, value=text)


def _number(spec: _FieldSpec, token: str, field_text: str) -> int:
    """One value of a field: digits, or a month/day name where the field has names."""
    if re.fullmatch(r"[0-9]+", token):
        if len(token) > 9 or not spec.low <= int(token) <= spec.high:
            raise _fail(
                spec,
                field_text,
                f"{spec.name} {token} is out of range {spec.range_text}.",
            )
        return int(token)
    if token in spec.names:
        return spec.low + spec.names.index(token)
    if spec.names and re.fullmatch(r"[A-Z]+", token):
        raise _fail(
            spec,
            field_text,
            f"{spec.name} {token!r} is not a {spec.noun} name; use {spec.accepted}.",
        )
    if token == "":
        raise _fail(
            spec,
            field_text,
            f"{spec.name} {field_text!r} has a missing value; use {spec.accepted}.",
        )
    raise _fail(
        spec,
        field_text,
        f"{spec.name} {token!r} is not a value; use {spec.accepted}.",
    )


def _parse_term(spec: _FieldSpec, term: str, field_text: str) -> list[int]:
    """One comma-separated item: ``*``, ``v``, ``a-b``, each optionally ``/step``."""
    base, slash, step_text = term.partition("/")
    if base == "*":
        start, end = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        if not first or not last or "-" in last:
            raise _fail(
                spec,
                field_text,
                f"{spec.name} {term!r} is not a value or a range; write a range as "
                f"start-end, for example {spec.low}-{spec.low + 1}.",
            )
        start, end = _number(spec, first, field_text), _number(spec, last, field_text)
    else:
        start = _number(spec, base, field_text)
        end = spec.high if slash else start
    if start <= end:
        values = list(range(start, end + 1))
    elif spec.wraps:
        # A range may wrap past the top: hours 20-2 is 20, 21, 22, 23, 0, 1, 2 and
        # FRI-MON is Fri, Sat, Sun, Mon (the AWS example cron(0/30 20-2 ? * MON-FRI *),
        # LAMBDA-FACTS 11.5). Each fire time is then checked against its own calendar
        # day, so Friday 20:00-23:30 fires but Saturday 00:00-02:30 does not.
        values = list(range(start, spec.high + 1)) + list(range(spec.low, end + 1))
    else:
        raise _fail(
            spec,
            field_text,
            f"{spec.name} range {base} runs backwards; write it low-high.",
        )
    if not slash:
        return values
    if spec.name == "day-of-week":
        raise _fail(
            spec,
            field_text,
            f"day-of-week {field_text!r} uses '/', which day-of-week does not accept "
            "(it takes , - * ? L #).",
        )
    if not re.fullmatch(r"[0-9]+", step_text) or len(step_text) > 9:
        raise _fail(
            spec,
            field_text,
            f"{spec.name} {term!r} needs a whole-number step after '/', for example "
            f"0/15.",
        )
    step = int(step_text)
    if step == 0:
        raise _fail(spec, field_text, f"{spec.name} step 0 in {term!r} is not allowed.")
    if spec.max_step is not None and step > spec.max_step:
        # AWS refuses cron(*/60 * * * ? *): a step must fit inside the field.
        raise _fail(
            spec,
            field_text,
            f"{spec.name} step {step} in {term!r} is too large (at most "
            f"{spec.max_step}).",
        )
    return values[::step]


def _parse_plain(spec: _FieldSpec, text: str) -> frozenset[int]:
    """A field of values, ranges, steps and lists (no ``? L W #``)."""
    if text == "*":
        return frozenset(range(spec.low, spec.high + 1))
    terms = text.split(",")
    values: set[int] = set()
    for term in terms:
        _refuse_special(spec, term, text)
        if term == "":
            # PutRule once accepted cron(0/5, 9-18, ?, *, MON-FRI, *), a validation
            # bug (LAMBDA-FACTS 5.4): lambdalab refuses the stray commas.
            raise _fail(
                spec, text, f"{spec.name} {text!r} has an empty item in its list."
            )
        if term == "*":
            raise _fail(
                spec, text, f"{spec.name} {text!r}: '*' must stand alone in the field."
            )
        values.update(_parse_term(spec, term, text))
    return frozenset(values)


# Where each special character may appear (LAMBDA-FACTS 5.2 table).
_SPECIAL_FIELDS = {
    "?": ("day-of-month", "day-of-week"),
    "L": ("day-of-month", "day-of-week"),
    "W": ("day-of-month",),
    "#": ("day-of-week",),
}


def _refuse_special(spec: _FieldSpec, term: str, text: str) -> None:
    """Refuse ``? L W #`` where they are not allowed, or not alone as they must be."""
    if "?" in term:
        special = "?"
    elif "#" in term:
        special = "#"
    elif term.startswith("L-"):
        raise _fail(
            spec,
            text,
            f"{spec.name} {text!r}: offsets from the last day (L-n) are not supported.",
        )
    elif term in ("L", "LW") or re.fullmatch(r"[0-9]+L", term):
        special = "L"
    elif re.fullmatch(r"[0-9]+W", term):
        special = "W"
    else:
        return
    homes = _SPECIAL_FIELDS[special]
    if spec.name in homes:
        reason = f"{spec.name} {text!r}: {special!r} must stand alone in the field."
    else:
        where = " or ".join(homes)
        reason = f"{spec.name} {text!r}: {special!r} is only allowed in {where}."
    raise _fail(spec, text, reason)


def _parse_dom(text: str) -> _DayRule:
    spec = _DOM
    if text == "?":
        return _DayRule("any")
    if text == "L":
        return _DayRule("last")
    # `LW` (last weekday of the month) is missing from the AWS tables, but EventBridge
    # accepts it as Quartz does; croniter has no LW, so lambdalab picks the day itself.
    if text == "LW":
        return _DayRule("last_weekday")
    match = re.fullmatch(r"([0-9]+)W", text)
    if match:
        return _DayRule("nearest_weekday", day=_number(spec, match[1], text))
    if ("L" in text or "W" in text) and "," not in text and "?" not in text:
        raise _fail(
            spec,
            text,
            f"day-of-month {text!r} is not a use of L or W that EventBridge knows: "
            "write L (last day), LW (last weekday) or a day with W, such as 15W "
            "(the weekday nearest the 15th).",
        )
    return _DayRule("set", values=_parse_plain(spec, text))


def _parse_dow(text: str) -> _DayRule:
    spec = _DOW
    if text == "?":
        return _DayRule("any")
    if text == "*":
        return _DayRule("set", values=frozenset(range(1, 8)))
    if text == "L":
        # `L` alone in day-of-week is the last day of the week: 7 = SAT.
        return _DayRule("set", values=frozenset({7}))
    terms = text.split(",")
    if "#" in text:
        if text.count("#") > 1:
            # "Only one # expression per day-of-week field" (LAMBDA-FACTS 5.2).
            raise _fail(
                spec,
                text,
                f"day-of-week {text!r} has more than one '#' expression; only one is "
                "allowed.",
            )
        if len(terms) > 1:
            # AWS does not say what `2#1,4` would mean and croniter refuses the mix:
            # lambdalab asks for the '#' expression alone.
            raise _fail(
                spec,
                text,
                f"day-of-week {text!r}: a '#' expression must stand alone, not in a "
                "list.",
            )
        day_text, _, nth_text = text.partition("#")
        day = _number(spec, day_text, text)
        if not re.fullmatch(r"[1-5]", nth_text):
            raise _fail(
                spec,
                text,
                f"day-of-week {text!r}: the number after '#' must be 1-5 (the week of "
                "the month).",
            )
        return _DayRule("nth", day=day, nth=int(nth_text))
    if any(term.endswith("L") and term not in spec.names for term in terms):
        if len(terms) > 1:
            raise _fail(
                spec,
                text,
                f"day-of-week {text!r}: an 'L' expression must stand alone, not in a "
                "list.",
            )
        # `6L` is the last Friday (6 = FRI); croniter spells it L5 (PITFALLS R07).
        day = _number(spec, text[:-1], text)
        return _DayRule("last", day=day)
    return _DayRule("set", values=_parse_plain(spec, text))


def _compact(values: Iterable[int]) -> str:
    """``0,1,2,3,10`` -> ``0-3,10``."""
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in _runs(values))


def _runs(values: Iterable[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in sorted(values):
        if runs and runs[-1][1] == v - 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def _croniter_days(rule: _DayRule, is_dom: bool) -> str:
    """One day field in croniter's spelling (weekdays 0-6 from Sunday, ``L5``, ...)."""
    if rule.kind == "any":
        return "*"
    if rule.kind == "set":
        full = 31 if is_dom else 7
        if len(rule.values) == full:
            return "*"
        if is_dom:
            return _compact(rule.values)
        # AWS weekdays are 1-7 from Sunday; croniter's are 0-6 (PITFALLS R01).
        return _compact(v - 1 for v in rule.values)
    if rule.kind == "last":
        return "L" if is_dom else f"L{rule.day - 1}"
    if rule.kind == "nearest_weekday":
        # croniter keeps nW inside the month (31W in a 30-day month is the weekday
        # nearest the 30th; 1W on a Saturday is Monday the 3rd): lambdalab follows it.
        return f"{rule.day}W"
    if rule.kind == "nth":
        return f"{rule.day - 1}#{rule.nth}"
    return "*"  # last_weekday: croniter has no LW; it is filtered in _matching_days


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """``cron(minutes hours day-of-month month day-of-week year)``."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_of_month: _DayRule
    months: frozenset[int]
    day_of_week: _DayRule
    years: tuple[int, ...]

    @property
    def kind(self) -> ScheduleKind:
        return "cron"

    @property
    def fields(self) -> tuple[str, ...]:
        """The six field texts, as written (upper-cased)."""
        return tuple(self.expression[len("cron(") : -1].split(" "))

    @property
    def croniter_expression(self) -> str | None:
        """The same schedule in croniter's 7-field form ``min hour dom mon dow 0 year``.

        ``None`` where croniter cannot express it (years after 2099, ``LW``). lambdalab
        itself only asks croniter for calendar days; this is for teaching and checking.
        """
        if self.day_of_month.kind == "last_weekday":
            return None
        if len(self.years) == _LAST_YEAR - _FIRST_YEAR + 1:
            year = "*"  # croniter's "*" year runs on past 2099
        elif self.years[-1] > _CRONITER_LAST_YEAR:
            return None
        else:
            year = _compact(self.years)
        minute = "*" if len(self.minutes) == 60 else _compact(self.minutes)
        hour = "*" if len(self.hours) == 24 else _compact(self.hours)
        return f"{minute} {hour} {self._croniter_day_fields} 0 {year}"

    @property
    def _croniter_day_fields(self) -> str:
        dom = _croniter_days(self.day_of_month, is_dom=True)
        month = "*" if len(self.months) == 12 else _compact(self.months)
        if self.day_of_month.kind == "last_weekday":
            dow = "1-5"  # candidates Monday-Friday; the last one is picked later
        else:
            dow = _croniter_days(self.day_of_week, is_dom=False)
        return f"{dom} {month} {dow}"

    # ---------------------------------------------------------------- fire times

    def fire_times(self, after: datetime, tz: str | None = None) -> Iterator[datetime]:
        zone = resolve_timezone(tz)
        after_utc = _as_utc(after)
        if after_utc.year > _LAST_YEAR:
            return
        local_day = after_utc.astimezone(zone).date()
        minutes_of_day = sorted(h * 60 + m for h in self.hours for m in self.minutes)
        for day in self._matching_days(local_day):
            for instant in _fires_on(day, minutes_of_day, zone):
                if instant > after_utc:
                    yield instant

    def _matching_days(self, first: date) -> Iterator[date]:
        """Days on or after ``first`` that the day, month and year fields allow.

        croniter finds the days (it reads L, W, # and weekdays once translated); the
        year field is applied here because croniter's own year field stops at 2099.
        """
        years, year_set = self.years, frozenset(self.years)
        # One pattern of croniter's 7-field form, at midnight, with any year.
        pattern = f"0 0 {self._croniter_day_fields} 0 *"
        day = first
        while True:
            i = bisect_left(years, day.year)
            if i == len(years):
                return
            if years[i] != day.year:
                day = date(years[i], 1, 1)
            start = datetime(day.year, day.month, day.day) - timedelta(minutes=1)
            days = croniter(
                pattern,
                start,
                day_or=False,
                max_years_between_matches=_LAST_YEAR - _FIRST_YEAR + 1,
            )
            while True:
                try:
                    found = days.get_next(datetime).date()
                except CroniterBadDateError:  # e.g. day 31 in February: never fires
                    return
                if found.year not in year_set:
                    day = found
                    break
                if self.day_of_month.kind == "last_weekday" and not _is_last_weekday(
                    found
                ):
                    continue
                yield found

    # ---------------------------------------------------------------- description

    def describe(self, tz: str | None = None) -> str:
        zone = resolve_timezone(tz)
        label = _zone_label(zone)
        clock = _describe_clock(self.minutes, self.hours, label)
        days = _describe_days(self.day_of_month, self.day_of_week)
        parts = [clock]
        if days != "every day" or not clock.startswith("Every"):
            parts.append(days)
        if len(self.months) < 12:
            parts.append(_describe_months(self.months))
        if len(self.years) < _LAST_YEAR - _FIRST_YEAR + 1:
            parts.append(_describe_numbers(self.years))
        text = ", ".join(parts)
        if zone is not UTC and label not in text:
            text += f" ({label})"
        return text


def _wall_to_utc(wall: datetime, zone: tzinfo) -> datetime | None:
    """The UTC instant of a naive wall-clock time in ``zone``; None if it never occurs.

    EventBridge Scheduler's DST rule (AWS knowledge center, "eventbridge-scheduler-
    adjust-dst"): a time skipped when clocks spring forward does not fire at all; a time
    repeated when clocks fall back fires only once, and lambdalab picks the first.
    """
    if zone is UTC:
        return wall.replace(tzinfo=UTC)
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None  # in the gap of a spring-forward change
    return instant


def _fires_on(
    day: date, minutes_of_day: Sequence[int], zone: tzinfo
) -> Iterator[datetime]:
    midnight = datetime(day.year, day.month, day.day)
    if zone is UTC:
        base = midnight.replace(tzinfo=UTC)
        for minute in minutes_of_day:
            yield base + timedelta(minutes=minute)
        return
    for minute in minutes_of_day:
        instant = _wall_to_utc(midnight + timedelta(minutes=minute), zone)
        if instant is not None:
            yield instant


def _is_last_weekday(day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    later = (date(day.year, day.month, d) for d in range(day.day + 1, last + 1))
    return day.weekday() < 5 and all(d.weekday() >= 5 for d in later)


# ------------------------------------------------------------------ plain English


def _describe_list(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _describe_numbers(values: Iterable[int]) -> str:
    return _describe_list([str(a) if a == b else f"{a}-{b}" for a, b in _runs(values)])


def _even_step(values: Sequence[int], low: int, high: int) -> int | None:
    """The step s if ``values`` is ``low, low+s, low+2s, ...`` up to ``high``."""
    if len(values) < 2 or values[0] != low:
        return None
    step = values[1] - values[0]
    return step if list(values) == list(range(low, high + 1, step)) else None


def _describe_clock(minutes: Sequence[int], hours: Sequence[int], label: str) -> str:
    if len(minutes) * len(hours) <= 4:
        times = [f"{h:02d}:{m:02d}" for h in hours for m in minutes]
        return f"At {_describe_list(times)} {label}"
    if len(minutes) == 1:
        (minute,) = minutes
        if len(hours) == 24:
            return f"Every hour, at minute {minute}"
        step = _even_step(hours, hours[0], hours[-1])
        if step is not None and hours[-1] + step > 23:
            first, last = hours[0], hours[-1]
            return (
                f"Every {step} hours from {first:02d}:{minute:02d} to "
                f"{last:02d}:{minute:02d} {label}"
            )
        return f"At minute {minute} past hours {_describe_numbers(hours)} {label}"
    step = 1 if len(minutes) == 60 else _even_step(minutes, 0, 59)
    if step is None:
        where = (
            "every hour" if len(hours) == 24 else f"hours {_describe_numbers(hours)}"
        )
        text = f"At minutes {_describe_numbers(minutes)} past {where}"
        return text if len(hours) == 24 else f"{text} {label}"
    every = "Every minute" if step == 1 else f"Every {step} minutes"
    if len(hours) == 24:
        return every
    spans = [
        f"from {a:02d}:{minutes[0]:02d} to {b:02d}:{minutes[-1]:02d}"
        for a, b in _runs(hours)
    ]
    return f"{every} {_describe_list(spans)} {label}"


def _describe_days(dom: _DayRule, dow: _DayRule) -> str:
    if dom.kind == "last":
        return "on the last day of the month"
    if dom.kind == "last_weekday":
        return "on the last weekday of the month"
    if dom.kind == "nearest_weekday":
        return f"on the weekday nearest day {dom.day} of the month"
    if dom.kind == "set" and len(dom.values) < 31:
        noun = "day" if len(dom.values) == 1 else "days"
        return f"on {noun} {_describe_numbers(dom.values)} of the month"
    if dow.kind == "last":
        return f"on the last {_DAY_WORDS[dow.day - 1]} of the month"
    if dow.kind == "nth":
        return f"on the {_ORDINALS[dow.nth - 1]} {_DAY_WORDS[dow.day - 1]} of the month"
    if dow.kind == "set" and len(dow.values) < 7:
        runs = _runs(dow.values)
        if len(runs) == 1 and runs[0][0] != runs[0][1]:
            a, b = runs[0]
            return f"{_DAY_WORDS[a - 1]} through {_DAY_WORDS[b - 1]}"
        words = [_DAY_WORDS[d - 1] for d in sorted(dow.values)]
        return f"every {words[0]}" if len(words) == 1 else f"on {_describe_list(words)}"
    return "every day"


def _describe_months(months: frozenset[int]) -> str:
    runs = _runs(months)
    if len(runs) == 1 and runs[0][0] != runs[0][1]:
        a, b = runs[0]
        return f"{_MONTH_WORDS[a - 1]} through {_MONTH_WORDS[b - 1]}"
    return "in " + _describe_list([_MONTH_WORDS[m - 1] for m in sorted(months)])


# ------------------------------------------------------------------------- parsing


def parse_schedule(text: str) -> Schedule:
    """Parse an EventBridge schedule expression, refusing what EventBridge refuses.

    Accepts ``cron(...)``, ``rate(...)``, the six cron fields alone (as the Lambda
    console takes them) and EventBridge Scheduler's ``at(...)``. Anything else raises
    ``ScheduleFieldError`` (a ``ScheduleSyntaxError``) whose message starts with AWS's
    ``Parameter ScheduleExpression is not valid.`` and then says what is wrong.
    """
    if not text:
        raise ScheduleFieldError(
            "The expression is empty; write cron(...) or rate(...).",
            field="expression",
            value=text,
        )
    if not text.isascii() or not text.isprintable():
        odd = next(c for c in text if not (c.isascii() and c.isprintable()))
        raise ScheduleFieldError(
            f"{text!r} contains the character {odd!r}, which schedule expressions do "
            "not use.",
            field="expression",
            value=text,
        )
    if text != text.strip():
        # AWS refuses ` rate(10 minutes)` with its leading space (LAMBDA-FACTS 5.3).
        raise ScheduleFieldError(
            f"{text!r} starts or ends with a space; remove it.",
            field="expression",
            value=text,
        )
    if text.startswith("rate("):
        return _parse_rate(text)
    if text.startswith("at("):
        return _parse_at(text)
    if text.startswith("cron("):
        if not text.endswith(")"):
            raise ScheduleFieldError(
                f"{text!r} is missing its closing ')'.", field="expression", value=text
            )
        body = text[len("cron(") : -1]
        if body != body.strip():
            raise ScheduleFieldError(
                f"{text!r} has spaces just inside the parentheses; write "
                f"cron({' '.join(body.split())}).",
                field="expression",
                value=text,
            )
        return _parse_cron(body, text)
    name = re.match(r"([A-Za-z]+)\(", text)
    if name:
        lower = name[1].lower()
        hint = (
            f" (write {lower}( in lowercase)" if lower in ("cron", "rate", "at") else ""
        )
        raise ScheduleFieldError(
            f"{text!r} must be cron(...) or rate(...){hint}.",
            field="expression",
            value=text,
        )
    # The Lambda console takes the six cron fields without cron( ) around them.
    return _parse_cron(text, text)


def _parse_cron(body: str, text: str) -> CronSchedule:
    # lambdalab's choice (not verified on AWS): runs of spaces between fields are read
    # as one separator; the canonical text has single spaces.
    fields = [f for f in body.split(" ") if f]
    if len(fields) != 6:
        raise ScheduleFieldError(
            _field_count_reason(fields, body, text.startswith("cron(")),
            field="expression",
            value=text,
        )
    fields = [f.upper() for f in fields]  # names and L/W are case-insensitive
    minute_text, hour_text, dom_text, month_text, dow_text, year_text = fields
    minutes = _parse_plain(_MINUTES, minute_text)
    hours = _parse_plain(_HOURS, hour_text)
    dom = _parse_dom(dom_text)
    months = _parse_plain(_MONTH, month_text)
    dow = _parse_dow(dow_text)
    years = _parse_plain(_YEAR, year_text)
    _check_day_fields(dom_text, dow_text, text)
    return CronSchedule(
        expression=f"cron({' '.join(fields)})",
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        day_of_month=dom,
        months=months,
        day_of_week=dow,
        years=tuple(sorted(years)),
    )


def _check_day_fields(dom: str, dow: str, text: str) -> None:
    """Exactly one of day-of-month and day-of-week is ``?`` (LAMBDA-FACTS 5.2, R05)."""
    both = ("day-of-month", "day-of-week")
    if dom == "?" and dow == "?":
        reason = (
            "day-of-month and day-of-week are both '?'; exactly one of them must be "
            "'?' and the other must say which days (or be '*')."
        )
    elif dom != "?" and dow != "?":
        if dom == "*" and dow == "*":
            reason = (
                "day-of-month and day-of-week are both '*'; one of them must be '?', "
                "for example '0 8 * * ? *'."
            )
        else:
            reason = (
                f"day-of-month is {dom!r} and day-of-week is {dow!r}; one of them must "
                "be '?' (EventBridge cannot combine the two)."
            )
    else:
        return
    raise ScheduleFieldError(reason, field="day-of-week", fields=both, value=text)


def _field_count_reason(fields: list[str], body: str, wrapped: bool) -> str:
    if wrapped:
        reason = f"cron needs 6 fields ({_FIELDS_HINT}); got {len(fields)}: {body!r}."
    else:
        # Neither cron(...) nor rate(...): say what a schedule expression looks like.
        reason = (
            f"{body!r} is not cron(...), rate(...) or six cron fields (it has "
            f"{len(fields)} field{'' if len(fields) == 1 else 's'}); write "
            f"cron({_FIELDS_HINT}), e.g. "
            "cron(0 8 * * ? *), or rate(5 minutes)."
        )
    suggestion = _suggest_six_fields(fields)
    if suggestion is not None:
        shown = suggestion if wrapped else f"cron({suggestion})"
        reason += f" Did you mean {shown!r}?"
    elif len(fields) == 7:
        reason += " EventBridge cron has no seconds field."
    return reason


def _suggest_six_fields(fields: list[str]) -> str | None:
    """A valid 6-field reading of a Unix (5-field) or Quartz (7-field) expression."""
    candidate: list[str] | None = None
    if len(fields) == 5:
        minute, hour, dom, month, dow = fields
        if dow == "*":
            candidate = [minute, hour, dom, month, "?", "*"]
        elif dom == "*":
            # Unix weekdays are 0-6 (0 or 7 = SUN); AWS's are 1-7 (1 = SUN).
            def shift(match: re.Match[str]) -> str:
                return str(int(match[0]) % 7 + 1)

            candidate = [minute, hour, "?", month, re.sub(r"[0-9]+", shift, dow), "*"]
    elif len(fields) == 7:
        candidate = fields[1:]
    if candidate is None:
        return None
    suggestion = " ".join(candidate)
    try:
        _parse_cron(suggestion, suggestion)
    except ScheduleSyntaxError:
        return None
    return suggestion
