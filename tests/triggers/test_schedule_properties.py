"""Property tests: the croniter translation agrees with a brute-force AWS oracle.

The oracle never parses text. Hypothesis builds each expression from parts whose meaning
is known (a set of minutes, a day rule...), renders the AWS text, and the oracle scans
the calendar minute by minute applying the AWS rules to those parts directly: weekdays
1-7 from Sunday, L, LW, nW (kept inside the month), x L, x#n, years 1970-2199, and, with
a zone, wall-clock minutes that a DST change skips (no fire) or repeats (first only).
"""

from __future__ import annotations

import calendar
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from croniter import CroniterBadDateError, croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalab.errors import ScheduleSyntaxError
from lambdalab.triggers.schedule import CronSchedule, parse_schedule

FIRST_YEAR, LAST_YEAR = 1970, 2199
MONTHS = [
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]  # AWS 1..7
ZONES = [
    None,
    "UTC",
    "Asia/Kolkata",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
]
N_FIRES = 5

DayRule = Callable[[date], bool]


# ------------------------------------------------------------------------ the oracle


def aws_weekday(day: date) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def nearest_weekday(n: int) -> DayRule:
    def rule(day: date) -> bool:
        last = last_day(day)
        target = date(day.year, day.month, min(n, last))
        if target.weekday() == 5:  # Saturday: Friday before, or Monday if the 1st
            target += timedelta(days=2) if target.day == 1 else timedelta(days=-1)
        elif target.weekday() == 6:  # Sunday: Monday after, or Friday if the last day
            target += timedelta(days=-2) if target.day == last else timedelta(days=1)
        return day == target

    return rule


def last_weekday_of_month(day: date) -> bool:
    last = last_day(day)
    weekdays = [
        d for d in range(1, last + 1) if date(day.year, day.month, d).weekday() < 5
    ]
    return day.day == weekdays[-1]


@dataclass(frozen=True)
class Spec:
    """An AWS expression and its meaning, built side by side."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    day: DayRule
    months: frozenset[int]
    years: frozenset[int]


def oracle(spec: Spec, after: datetime, count: int, zone: tzinfo) -> list[datetime]:
    """Scan wall-clock minutes in ``zone`` and keep those the AWS rules allow."""
    found: list[datetime] = []
    day = after.astimezone(zone).date()
    while len(found) < count and day.year <= LAST_YEAR:
        if day.year not in spec.years:
            later = [y for y in spec.years if y > day.year]
            if not later:
                break
            day = date(min(later), 1, 1)
            continue
        if day.month in spec.months and spec.day(day):
            for minute_of_day in range(24 * 60):
                hour, minute = divmod(minute_of_day, 60)
                if hour not in spec.hours or minute not in spec.minutes:
                    continue
                wall = datetime(day.year, day.month, day.day, hour, minute)
                instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
                if instant.astimezone(zone).replace(tzinfo=None) != wall:
                    continue  # skipped by a spring-forward change
                if instant > after:
                    found.append(instant)
        day += timedelta(days=1)
    return found[:count]


def zone_of(name: str | None) -> tzinfo:
    return UTC if name is None else ZoneInfo(name)


# -------------------------------------------------------------- expression strategies


@st.composite
def plain_field(
    draw: st.DrawFn,
    low: int,
    high: int,
    names: list[str] | None = None,
    steps: bool = True,
    wraps: bool = True,
    pool: tuple[int, int] | None = None,
) -> tuple[str, frozenset[int]]:
    """A field of values, ranges, steps and lists, and the values it means."""
    pick_low, pick_high = pool or (low, high)
    everything = list(range(low, high + 1))
    if draw(st.integers(0, 4)) == 0:
        return "*", frozenset(everything)

    def spell(value: int) -> str:
        if names and draw(st.booleans()):
            name = names[value - low]
            return draw(st.sampled_from([name, name.lower(), name.title()]))
        return str(value)

    texts: list[str] = []
    values: set[int] = set()
    for _ in range(draw(st.integers(1, 3))):
        kinds = ["single", "range"] + (
            ["star_step", "single_step", "range_step"] if steps else []
        )
        kind = draw(st.sampled_from(kinds))
        a = draw(st.integers(pick_low, pick_high))
        b = draw(st.integers(pick_low, pick_high))
        if not wraps and a > b:
            a, b = b, a
        step = draw(st.integers(1, min(high - low, 12) or 1))
        if a <= b:
            span = list(range(a, b + 1))
        else:  # wraps past the top
            span = list(range(a, high + 1)) + list(range(low, b + 1))
        if kind == "single":
            texts.append(spell(a))
            values.add(a)
        elif kind == "range":
            texts.append(f"{spell(a)}-{spell(b)}")
            values.update(span)
        elif kind == "star_step":
            texts.append(f"*/{step}")
            values.update(everything[::step])
        elif kind == "single_step":
            texts.append(f"{spell(a)}/{step}")
            values.update(range(a, high + 1, step))
        else:
            texts.append(f"{spell(a)}-{spell(b)}/{step}")
            values.update(span[::step])
    return ",".join(texts), frozenset(values)


@st.composite
def day_fields(draw: st.DrawFn) -> tuple[str, str, DayRule]:
    """Day-of-month and day-of-week texts (exactly one '?') and the day rule."""
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["plain", "plain", "L", "LW", "W"]))
        if kind == "plain":
            text, values = draw(plain_field(1, 31))
            return text, "?", lambda d: d.day in values
        if kind == "L":
            return (
                draw(st.sampled_from(["L", "l"])),
                "?",
                lambda d: d.day == last_day(d),
            )
        if kind == "LW":
            return draw(st.sampled_from(["LW", "lw"])), "?", last_weekday_of_month
        n = draw(st.integers(1, 31))
        return f"{n}{draw(st.sampled_from(['W', 'w']))}", "?", nearest_weekday(n)
    kind = draw(st.sampled_from(["plain", "plain", "star", "L", "xL", "nth"]))
    if kind == "plain":
        text, values = draw(plain_field(1, 7, names=DAYS, steps=False))
        return "?", text, lambda d: aws_weekday(d) in values
    if kind == "star":
        return "?", "*", lambda d: True
    if kind == "L":  # L alone is the last day of the week: Saturday
        return "?", "L", lambda d: aws_weekday(d) == 7
    weekday = draw(st.integers(1, 7))
    spelled = draw(st.sampled_from([str(weekday), DAYS[weekday - 1]]))
    if kind == "xL":
        return (
            "?",
            f"{spelled}L",
            lambda d: aws_weekday(d) == weekday and d.day + 7 > last_day(d),
        )
    nth = draw(st.integers(1, 5))
    return (
        "?",
        f"{spelled}#{nth}",
        lambda d: aws_weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth,
    )


@st.composite
def cron_specs(draw: st.DrawFn) -> Spec:
    minutes_text, minutes = draw(plain_field(0, 59))
    hours_text, hours = draw(plain_field(0, 23))
    dom_text, dow_text, day = draw(day_fields())
    months_text, months = draw(plain_field(1, 12, names=MONTHS))
    pool = draw(st.sampled_from([(2019, 2032), (2096, 2105), (2190, 2199)]))
    years_text, years = draw(plain_field(FIRST_YEAR, LAST_YEAR, wraps=False, pool=pool))
    fields = [minutes_text, hours_text, dom_text, months_text, dow_text, years_text]
    body = " ".join(fields)
    text = draw(st.sampled_from([f"cron({body})", body]))
    return Spec(text, minutes, hours, day, months, years)


afters = st.builds(
    lambda year, minute: datetime(year, 1, 1, tzinfo=UTC) + timedelta(minutes=minute),
    st.sampled_from([2020, 2024, 2025, 2030, 2099, 2100]),
    st.integers(0, 366 * 24 * 60),
)

FAST = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# ------------------------------------------------------------------------ properties


@FAST
@given(spec=cron_specs(), after=afters, tz=st.sampled_from(ZONES))
def test_generated_expressions_agree_with_the_oracle(spec: Spec, after: datetime, tz):
    schedule = parse_schedule(spec.text)
    expected = oracle(spec, after, N_FIRES, zone_of(tz))
    assert schedule.next_fire_times(after, N_FIRES, tz) == expected


@FAST
@given(spec=cron_specs(), after=afters)
def test_croniter_translation_agrees_where_croniter_can_express_it(spec: Spec, after):
    schedule = parse_schedule(spec.text)
    assert isinstance(schedule, CronSchedule)
    translated = schedule.croniter_expression
    if translated is None:  # years after 2099 or LW: lambdalab's own code
        return
    ours = schedule.next_fire_times(after, N_FIRES)
    theirs: list[datetime] = []
    # croniter gives up after 50 years without a match unless told otherwise.
    cron = croniter(
        translated,
        after.replace(tzinfo=None),
        day_or=False,
        max_years_between_matches=230,
    )
    try:
        while len(theirs) < len(ours):
            theirs.append(cron.get_next(datetime).replace(tzinfo=UTC))
    except CroniterBadDateError:
        pass
    assert theirs == ours


@FAST
@given(spec=cron_specs())
def test_canonical_expression_parses_to_itself(spec: Spec):
    schedule = parse_schedule(spec.text)
    again = parse_schedule(schedule.expression)
    assert again == schedule


def _survives(text: str) -> None:
    """Parse; a valid result must also describe itself and list fire times."""
    try:
        schedule = parse_schedule(text)
    except ScheduleSyntaxError as error:
        assert str(error).startswith("Parameter ScheduleExpression is not valid. ")
        return
    schedule.describe()
    schedule.next_fire_times(datetime(2025, 1, 1, tzinfo=UTC), 3)


@FAST
@given(text=st.text())
def test_any_text_is_parsed_or_refused_cleanly(text: str):
    _survives(text)


ALPHABET = string.digits + "*?/-,#LWlw ()MONFRIJANSATratecronminuteshourday" + "\t"


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    base = draw(
        st.one_of(
            cron_specs().map(lambda spec: spec.text),
            st.sampled_from(
                ["rate(5 minutes)", "rate(1 hour)", "at(2025-03-01T08:00:00)"]
            ),
        )
    )
    chars = list(base)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(chars)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert" or not chars:
            chars.insert(where, draw(st.sampled_from(ALPHABET)))
        elif action == "delete":
            del chars[min(where, len(chars) - 1)]
        else:
            chars[min(where, len(chars) - 1)] = draw(st.sampled_from(ALPHABET))
    return "".join(chars)


@FAST
@given(text=near_valid())
def test_near_valid_mutations_are_parsed_or_refused_cleanly(text: str):
    _survives(text)


@FAST
@given(value=st.integers(1, 10**6), unit=st.sampled_from(["minute", "hour", "day"]))
def test_rate_singular_exactly_when_one(value: int, unit: str):  # LAMBDA-FACTS 5.3
    singular, plural = f"rate({value} {unit})", f"rate({value} {unit}s)"
    good, bad = (singular, plural) if value == 1 else (plural, singular)
    assert parse_schedule(good).expression == good
    with pytest.raises(ScheduleSyntaxError):
        parse_schedule(bad)


# --------------------------------------------------- hand-written quirks vs the oracle


def spec(
    text: str, minutes, hours, day: DayRule, months=range(1, 13), years=None
) -> Spec:
    return Spec(
        text,
        frozenset(minutes),
        frozenset(hours),
        day,
        frozenset(months),
        frozenset(years or range(FIRST_YEAR, LAST_YEAR + 1)),
    )


def weekdays(*days: int) -> DayRule:
    return lambda d: aws_weekday(d) in days


EVERY_DAY: DayRule = lambda d: True  # noqa: E731

QUIRKS = [
    spec(
        "cron(0/30 20-2 ? * MON-FRI *)",
        range(0, 60, 30),
        [20, 21, 22, 23, 0, 1, 2],
        weekdays(2, 3, 4, 5, 6),
    ),
    spec("cron(0 0 ? * FRI-MON *)", [0], [0], weekdays(6, 7, 1, 2)),
    spec(
        "cron(15 10 ? * 6L 2019-2022)",
        [15],
        [10],
        lambda d: aws_weekday(d) == 6 and d.day > last_day(d) - 7,
        years=range(2019, 2023),
    ),
    spec("cron(0 9 ? * 2#1 *)", [0], [9], lambda d: aws_weekday(d) == 2 and d.day <= 7),
    spec("cron(0 21 LW * ? *)", [0], [21], last_weekday_of_month),
    spec("cron(0 0 31W * ? *)", [0], [0], nearest_weekday(31)),
    spec("cron(0 0 1W * ? *)", [0], [0], nearest_weekday(1)),
    spec("cron(0 0 L 2 ? *)", [0], [0], lambda d: d.day == last_day(d), months=[2]),
    spec("cron(0 0 29 2 ? *)", [0], [0], lambda d: d.day == 29, months=[2]),
    spec(
        "cron(0 12 ? * 7 2150-2160/5)", [0], [12], weekdays(7), years=[2150, 2155, 2160]
    ),
    spec(
        "cron(0 0 ? 2 2#5 *)",
        [0],
        [0],
        lambda d: aws_weekday(d) == 2 and d.day > 28,
        months=[2],
    ),
    spec("cron(*/7 */5 * * ? *)", range(0, 60, 7), range(0, 24, 5), EVERY_DAY),
    spec("cron(5 2 ? * L *)", [5], [2], weekdays(7)),
    spec("cron(0/30 1-3 * * ? *)", [0, 30], [1, 2, 3], EVERY_DAY),
]


@pytest.mark.parametrize("quirk", QUIRKS, ids=[q.text for q in QUIRKS])
@pytest.mark.parametrize("tz", ZONES)
def test_quirks_agree_with_the_oracle(quirk: Spec, tz):
    schedule = parse_schedule(quirk.text)
    for after in (
        datetime(2018, 3, 5, tzinfo=UTC),
        datetime(2025, 10, 26, 0, 15, tzinfo=UTC),
    ):
        expected = oracle(quirk, after, 12, zone_of(tz))
        assert schedule.next_fire_times(after, 12, tz) == expected
