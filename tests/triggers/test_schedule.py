"""EventBridge schedule expressions: documented fire times, refusals and messages."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice

import pytest

from lambdalab.errors import ScheduleSyntaxError
from lambdalab.triggers.schedule import (
    AWS_INVALID_EXPRESSION,
    CronSchedule,
    RateSchedule,
    ScheduleFieldError,
    parse_schedule,
)

R = datetime(2025, 1, 1, tzinfo=UTC)  # LAMBDA-FACTS section 12: a Wednesday


def utc(text: str) -> datetime:
    """'2025-01-01 08:00' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str, after: datetime = R, count: int = 3, tz: str | None = None):
    return parse_schedule(expression).next_fire_times(after, count, tz)


def refused(expression: str) -> ScheduleFieldError:
    with pytest.raises(ScheduleSyntaxError) as info:
        parse_schedule(expression)
    assert isinstance(info.value, ScheduleFieldError)
    return info.value


# ------------------------------------------------------------ LAMBDA-FACTS 12, T1-T15

WORKED_EXAMPLES = [
    (
        "T1",
        "cron(0 8 * * ? *)",
        R,
        ["2025-01-01 08:00", "2025-01-02 08:00", "2025-01-03 08:00"],
    ),
    (
        "T2",
        "cron(0 8 * * ? *)",
        utc("2025-01-01 08:00"),
        ["2025-01-02 08:00", "2025-01-03 08:00", "2025-01-04 08:00"],
    ),
    (
        "T3",
        "cron(0 10 * * ? *)",
        R,
        ["2025-01-01 10:00", "2025-01-02 10:00", "2025-01-03 10:00"],
    ),
    (
        "T4",
        "cron(0 18 ? * MON-FRI *)",
        R,
        [
            "2025-01-01 18:00",
            "2025-01-02 18:00",
            "2025-01-03 18:00",
            "2025-01-06 18:00",
        ],
    ),
    (
        "T5",
        "cron(0 8 1 * ? *)",
        R,
        ["2025-01-01 08:00", "2025-02-01 08:00", "2025-03-01 08:00"],
    ),
    (
        "T6",
        "cron(0/15 * * * ? *)",
        R,
        ["2025-01-01 00:15", "2025-01-01 00:30", "2025-01-01 00:45"],
    ),
    (
        "T7",
        "cron(0 9 ? * 2#1 *)",
        R,
        ["2025-01-06 09:00", "2025-02-03 09:00", "2025-03-03 09:00"],
    ),
    (
        "T10",
        "cron(5,35 14 * * ? *)",
        R,
        ["2025-01-01 14:05", "2025-01-01 14:35", "2025-01-02 14:05"],
    ),
    (
        "T12",
        "cron(0 0 ? * 1 *)",
        R,
        ["2025-01-05 00:00", "2025-01-12 00:00", "2025-01-19 00:00"],
    ),
    (
        "T13",
        "cron(0 0 L * ? *)",
        R,
        ["2025-01-31 00:00", "2025-02-28 00:00", "2025-03-31 00:00"],
    ),
    (
        "T15",
        "cron(1/10 * * * ? *)",
        R,
        ["2025-01-01 00:01", "2025-01-01 00:11", "2025-01-01 00:21"],
    ),
]


@pytest.mark.parametrize(
    ("source", "expression", "after", "expected"),
    WORKED_EXAMPLES,
    ids=[case[0] for case in WORKED_EXAMPLES],
)
def test_worked_examples_fire_at_documented_times(source, expression, after, expected):
    times = fires(expression, after, count=len(expected))
    assert times == [utc(t) for t in expected]
    assert all(t.tzinfo is UTC for t in times)


# ------------------------------------------------------- documented valid expressions

DOCUMENTED_VALID = [
    # LAMBDA-FACTS 5.2 table (D-EB), the LS-EVS ones, and 5.3/T20 rates.
    ("cron(0 10 * * ? *)", "2025-01-01 10:00"),
    ("cron(15 10 * * ? *)", "2025-01-01 10:15"),
    ("cron(15 12 * * ? *)", "2025-01-01 12:15"),
    ("cron(0 12 * * ? *)", "2025-01-01 12:00"),
    ("cron(5,35 14 * * ? *)", "2025-01-01 14:05"),
    ("cron(0 18 ? * MON-FRI *)", "2025-01-01 18:00"),
    ("cron(0 8 1 * ? *)", "2025-01-01 08:00"),
    ("cron(0/15 * * * ? *)", "2025-01-01 00:15"),
    ("cron(0/10 * ? * MON-FRI *)", "2025-01-01 00:10"),
    ("cron(0/5 8-17 ? * MON-FRI *)", "2025-01-01 08:00"),
    ("cron(0 9 ? * 2#1 *)", "2025-01-06 09:00"),
    ("cron(15 10 ? * 6L 2019-2022)", None),  # all in the past after R
    ("cron(0/30 20-2 ? * MON-FRI *)", "2025-01-01 00:30"),
    ("cron(0 2 ? * SAT#3 *)", "2025-01-18 02:00"),
    ("cron(* * ? * SAT#3 *)", "2025-01-18 00:00"),
    ("cron(0/5 5 ? JAN 1-5 2022)", None),
    ("0 8 * * ? *", "2025-01-01 08:00"),  # the seed example, console style
    ("rate(1 minute)", "2025-01-01 00:01"),
    ("rate(5 minutes)", "2025-01-01 00:05"),
    ("rate(1 hour)", "2025-01-01 01:00"),
    ("rate(7 days)", "2025-01-08 00:00"),
]


@pytest.mark.parametrize(("expression", "first"), DOCUMENTED_VALID)
def test_documented_expressions_are_accepted(expression, first):
    times = fires(expression, count=1)
    assert times == ([utc(first)] if first else [])


def test_last_friday_2019_2022_fires_on_last_fridays():  # LAMBDA-FACTS 5.2, R01
    times = fires("cron(15 10 ? * 6L 2019-2022)", utc("2018-06-01 00:00"), count=3)
    assert times == [
        utc("2019-01-25 10:15"),
        utc("2019-02-22 10:15"),
        utc("2019-03-29 10:15"),
    ]
    last = fires("cron(15 10 ? * 6L 2019-2022)", utc("2022-12-01 00:00"), count=3)
    assert last == [utc("2022-12-30 10:15")]  # and nothing after 2022


def test_ls_evs_january_2022_expression():  # LAMBDA-FACTS 5.2 (LS-EVS)
    times = fires("cron(0/5 5 ? JAN 1-5 2022)", utc("2021-12-31 00:00"), count=13)
    # 2022-01-02 is the first Sunday (1) of January 2022; 1-5 = SUN-THU.
    assert times[0] == utc("2022-01-02 05:00")
    assert times[11] == utc("2022-01-02 05:55")
    assert times[12] == utc("2022-01-03 05:00")


# ------------------------------------------------------------------ PITFALLS (a)


def test_r01_numeric_weekdays_count_from_sunday():  # PITFALLS R01
    assert fires("cron(0 12 ? * 2 *)", utc("2024-06-02 00:00"), 1) == [
        utc("2024-06-03 12:00")
    ]
    # 7 is Saturday and valid; 2024-06-08 is a Saturday.
    assert fires("cron(0 12 ? * 7 *)", utc("2024-06-02 00:00"), 1) == [
        utc("2024-06-08 12:00")
    ]
    assert refused("cron(0 12 ? * 0 *)").field == "day-of-week"
    # 6L is the last Friday: 2022-01-28.
    assert fires("cron(15 10 ? * 6L 2022-2023)", R.replace(year=2021), 1) == [
        utc("2022-01-28 10:15")
    ]


def test_r02_sixth_field_is_the_year_and_2100_2199_work():  # PITFALLS R02
    assert fires("cron(0 10 * * ? 2030)", R, 2) == [
        utc("2030-01-01 10:00"),
        utc("2030-01-02 10:00"),
    ]
    # croniter's year field stops at 2099; lambdalab's does not.
    schedule = parse_schedule("cron(0 10 ? * 6L 2150-2151)")
    assert isinstance(schedule, CronSchedule)
    assert schedule.croniter_expression is None
    assert schedule.next_fire_times(R, 2) == [
        utc("2150-01-30 10:00"),
        utc("2150-02-27 10:00"),
    ]
    # A "*" year ends with 2199.
    assert fires("cron(0 0 * * ? *)", utc("2199-12-30 12:00"), 5) == [
        utc("2199-12-31 00:00")
    ]


def test_r03_question_mark_is_accepted():  # PITFALLS R03
    assert fires("cron(0/3 * * * ? *)", R, 2) == [
        utc("2025-01-01 00:03"),
        utc("2025-01-01 00:06"),
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "cron(7 20 * * 1-7 *)",
        "cron(34 12 * * SAT *)",
        "cron(0 12 * * 1 *)",
        "cron(0 1 * * * *)",
    ],
)
def test_r05_both_day_fields_set_is_refused(expression):  # PITFALLS R05
    error = refused(expression)
    assert error.fields == ("day-of-month", "day-of-week")
    assert "must be '?'" in str(error)


def test_r05_both_day_fields_question_mark_is_refused():
    error = refused("cron(0 8 ? * ? *)")
    assert "both '?'" in str(error)


@pytest.mark.parametrize("expression", ["rate(1 hour)", "rate(2 minutes)"])
def test_r06_rate_unit_agrees_with_value_valid(expression):  # PITFALLS R06
    assert isinstance(parse_schedule(expression), RateSchedule)


@pytest.mark.parametrize(
    "expression", ["rate(1 minutes)", "rate(3 minute)", "rate(0 minutes)"]
)
def test_r06_rate_unit_agrees_with_value_invalid(expression):  # PITFALLS R06
    assert refused(expression).field == "rate"


def test_r07_l_w_and_hash():  # PITFALLS R07
    assert fires("cron(0 9 15W * ? *)", R, 3) == [
        utc("2025-01-15 09:00"),
        utc("2025-02-14 09:00"),  # the 15th is a Saturday
        utc("2025-03-14 09:00"),
    ]
    assert fires("cron(0 8 ? * 3#2 *)", R, 2) == [
        utc("2025-01-14 08:00"),
        utc("2025-02-11 08:00"),
    ]
    assert "only one" in str(refused("cron(0 8 ? * 3#1,6#3 *)"))
    schedule = parse_schedule("cron(15 10 ? * 6L 2019-2022)")
    assert isinstance(schedule, CronSchedule)
    assert schedule.croniter_expression == "15 10 * * L5 0 2019-2022"
    schedule = parse_schedule("cron(0 9 ? * 2#1 *)")
    assert isinstance(schedule, CronSchedule)
    assert schedule.croniter_expression == "0 9 * * 1#1 0 *"


def test_r08_scheduler_zone_tracks_daylight_saving():  # PITFALLS R08
    # 04:00 in Los Angeles is 11:00 UTC in July (PDT) and 12:00 UTC in December (PST).
    summer = fires(
        "cron(0 4 * * ? *)", utc("2024-07-01 10:59"), 1, tz="America/Los_Angeles"
    )
    winter = fires(
        "cron(0 4 * * ? *)", utc("2024-12-02 11:59"), 1, tz="America/Los_Angeles"
    )
    assert summer == [utc("2024-07-01 11:00")]
    assert winter == [utc("2024-12-02 12:00")]
    # Classic rules are UTC.
    assert fires("cron(0 4 * * ? *)", utc("2024-07-01 00:00"), 1) == [
        utc("2024-07-01 04:00")
    ]


# ------------------------------------------------------------------- more semantics


def test_wrap_around_hours_check_each_fire_against_its_own_day():  # LAMBDA-FACTS 11.5
    times = fires("cron(0/30 20-2 ? * MON-FRI *)", utc("2025-01-03 19:00"), count=15)
    friday_evening = [
        utc("2025-01-03 20:00") + timedelta(minutes=30 * k) for k in range(8)
    ]
    monday_night = [
        utc("2025-01-06 00:00") + timedelta(minutes=30 * k) for k in range(6)
    ]
    # Saturday 00:00-02:30 does not fire: Saturday is not MON-FRI.
    assert times == friday_evening + monday_night + [utc("2025-01-06 20:00")]


def test_wrap_around_weekday_range():
    # FRI-MON = Friday, Saturday, Sunday, Monday. 2025-01-01 is a Wednesday.
    days = [t.day for t in fires("cron(0 0 ? * FRI-MON *)", R, 5)]
    assert days == [3, 4, 5, 6, 10]


def test_names_are_case_insensitive_and_canonical_is_upper_case():
    lower = parse_schedule("cron(0 18 ? * mon-fri *)")
    assert lower.expression == "cron(0 18 ? * MON-FRI *)"
    assert lower.next_fire_times(R, 5) == fires("cron(0 18 ? * MON-FRI *)", R, 5)
    assert fires("cron(0 0 1 jan,Jul ? *)", R, 2) == [  # strictly after R
        utc("2025-07-01 00:00"),
        utc("2026-01-01 00:00"),
    ]


def test_console_style_six_fields_and_canonical_text():
    schedule = parse_schedule("0 8 * * ? *")
    assert schedule.expression == "cron(0 8 * * ? *)"
    assert schedule.kind == "cron"


def test_last_weekday_of_month():
    # LW: accepted by EventBridge though not in its tables; croniter has no LW.
    assert fires("cron(0 21 LW * ? *)", utc("2025-05-01 00:00"), 3) == [
        utc("2025-05-30 21:00"),  # the 31st is a Saturday
        utc("2025-06-30 21:00"),
        utc("2025-07-31 21:00"),
    ]


def test_nearest_weekday_never_leaves_the_month():
    # 2025-11-01 is a Saturday: 1W is Monday the 3rd, not Friday 31 October.
    assert fires("cron(0 0 1W * ? *)", utc("2025-10-15 00:00"), 1) == [
        utc("2025-11-03 00:00")
    ]
    # 2025-08-31 is a Sunday: 31W is Friday the 29th. In a 30-day month 31W is read as
    # 30W (croniter's clamp): 2025-09-30 is a Tuesday.
    assert fires("cron(0 0 31W * ? *)", utc("2025-08-01 00:00"), 2) == [
        utc("2025-08-29 00:00"),
        utc("2025-09-30 00:00"),
    ]


def test_l_alone_in_day_of_week_is_saturday():
    assert fires("cron(0 0 ? * L *)", R, 2) == [
        utc("2025-01-04 00:00"),
        utc("2025-01-11 00:00"),
    ]


def test_a_day_that_never_comes_never_fires():
    assert fires("cron(0 0 31 2 ? *)", R, 3) == []
    assert fires("cron(0 0 * * ? 2020)", R, 3) == []


def test_fire_times_are_strictly_after_and_seconds_count():
    assert fires("cron(0 8 * * ? *)", utc("2025-01-01 08:00:30"), 1) == [
        utc("2025-01-02 08:00")
    ]
    assert fires("cron(0 8 * * ? *)", utc("2025-01-01 07:59:59"), 1) == [
        utc("2025-01-01 08:00")
    ]


def test_naive_and_offset_after_are_instants():
    naive = datetime(2025, 1, 1)
    kolkata = datetime(
        2025, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    expected = fires("cron(0 8 * * ? *)", R, 2)
    assert fires("cron(0 8 * * ? *)", naive, 2) == expected
    assert fires("cron(0 8 * * ? *)", kolkata, 2) == expected


def test_schedule_is_immutable():
    schedule = parse_schedule("cron(0 8 * * ? *)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.expression = "rate(1 minute)"  # type: ignore[misc]


# ------------------------------------------------------------------------------- rate


def test_t20_rate_counts_from_creation():  # LAMBDA-FACTS T20
    created = utc("2025-01-01 10:00:20")
    assert fires("rate(1 minute)", created, 3) == [
        utc("2025-01-01 10:01:20"),
        utc("2025-01-01 10:02:20"),
        utc("2025-01-01 10:03:20"),
    ]


def test_rate_days_are_24_hours_whatever_the_zone():
    created = utc("2025-03-08 12:00")
    times = fires("rate(1 day)", created, 2, tz="America/New_York")
    assert times == [utc("2025-03-09 12:00"), utc("2025-03-10 12:00")]


def test_rate_fires_between_keeps_the_creation_anchor():
    schedule = parse_schedule("rate(5 minutes)")
    created = utc("2025-01-01 10:00:20")
    window = list(
        schedule.fires_between(
            utc("2025-01-01 11:00"), utc("2025-01-01 11:15:20"), created=created
        )
    )
    assert window == [
        utc("2025-01-01 11:00:20"),  # 12 intervals after creation
        utc("2025-01-01 11:05:20"),
        utc("2025-01-01 11:10:20"),
        utc("2025-01-01 11:15:20"),
    ]


# --------------------------------------------------------------------- fires_between


def test_fires_between_is_half_open_so_windows_do_not_repeat():
    schedule = parse_schedule("cron(0/15 * * * ? *)")
    first = list(schedule.fires_between(R, utc("2025-01-01 00:30")))
    second = list(
        schedule.fires_between(utc("2025-01-01 00:30"), utc("2025-01-01 01:00"))
    )
    assert first == [utc("2025-01-01 00:15"), utc("2025-01-01 00:30")]
    assert second == [utc("2025-01-01 00:45"), utc("2025-01-01 01:00")]


def test_fires_between_is_lazy_over_a_year_of_minutes():
    schedule = parse_schedule("cron(0/1 * * * ? *)")
    window = schedule.fires_between(R, utc("2026-01-01 00:00"))
    assert isinstance(window, Iterator)
    assert list(islice(window, 3)) == [
        utc("2025-01-01 00:01"),
        utc("2025-01-01 00:02"),
        utc("2025-01-01 00:03"),
    ]
    # One day of it, counted without building a list of the whole year.
    assert sum(1 for _ in schedule.fires_between(R, utc("2025-01-02 00:00"))) == 1440


# ------------------------------------------------------------------------ time zones


def test_kolkata_evaluates_fields_in_the_zone():  # LAMBDA-FACTS 5.5
    assert fires("cron(0 8 * * ? *)", R, 2, tz="Asia/Kolkata") == [
        utc("2025-01-01 02:30"),
        utc("2025-01-02 02:30"),
    ]


def test_a_time_skipped_by_spring_forward_does_not_fire():
    # New York skips 02:00-02:59 on 2025-03-09; EventBridge Scheduler skips that run.
    assert fires(
        "cron(30 2 * * ? *)", utc("2025-03-08 00:00"), 3, tz="America/New_York"
    ) == [
        utc("2025-03-08 07:30"),  # 02:30 EST
        utc("2025-03-10 06:30"),  # 02:30 EDT
        utc("2025-03-11 06:30"),
    ]


def test_a_time_repeated_by_fall_back_fires_once_at_its_first_occurrence():
    # New York repeats 01:00-01:59 on 2025-11-02: 01:30 EDT (05:30 UTC) then EST.
    assert fires(
        "cron(30 1 * * ? *)", utc("2025-11-01 12:00"), 2, tz="America/New_York"
    ) == [
        utc("2025-11-02 05:30"),
        utc("2025-11-03 06:30"),
    ]
    # Starting inside the second 01:xx hour does not fire 01:30 again.
    assert fires(
        "cron(30 1 * * ? *)", utc("2025-11-02 06:10"), 1, tz="America/New_York"
    ) == [utc("2025-11-03 06:30")]


def test_unknown_zone_is_refused_naming_it():
    with pytest.raises(ScheduleSyntaxError) as info:
        fires("cron(0 8 * * ? *)", tz="Mars/Olympus_Mons")
    assert "'Mars/Olympus_Mons'" in str(info.value)
    assert info.value.field == "timezone"  # type: ignore[attr-defined]
    with pytest.raises(ScheduleSyntaxError):
        parse_schedule("cron(0 8 * * ? *)").describe("../etc/passwd")


# -------------------------------------------------------------------------------- at


def test_at_fires_once_in_its_zone():  # LAMBDA-FACTS 5.5
    schedule = parse_schedule("at(2025-03-01T08:00:00)")
    assert schedule.kind == "at"
    assert schedule.scheduler_only
    assert schedule.next_fire_times(R, 3) == [utc("2025-03-01 08:00")]
    assert schedule.next_fire_times(R, 3, tz="Asia/Kolkata") == [
        utc("2025-03-01 02:30")
    ]
    assert schedule.next_fire_times(utc("2025-03-01 08:00"), 3) == []
    assert (
        schedule.describe("Asia/Kolkata")
        == "Once, at 2025-03-01 08:00:00 Asia/Kolkata time"
    )


@pytest.mark.parametrize(
    "expression", ["at(2025-02-30T08:00:00)", "at(2025-03-01 08:00:00)", "at()"]
)
def test_bad_at_is_refused(expression):
    assert refused(expression).field == "at"


# ---------------------------------------------------------------------------- refusals

REFUSED = [
    # LAMBDA-FACTS 5.4 / T18 (AWS-recorded) and the issues it cites.
    ("cron(0 1 * * * *)", "day-of-week"),
    ("cron(7 20 * * NOT *)", "day-of-week"),
    ("cron(INVALID)", "expression"),
    ("cron(0 dummy ? * MON-FRI *)", "hours"),
    ("cron(71 8 1 * ? *)", "minutes"),
    ("cron(7 20 * * 1-7 *)", "day-of-week"),
    ("cron(*/1 * * * *)", "expression"),
    ("cron(15 12 ? * -1 *)", "day-of-week"),
    ("cron(*/60 * * * ? *)", "minutes"),
    ("cron(0 8 ? * 3#1,6#3 *)", "day-of-week"),
    # LAMBDA-FACTS 5.3 / T19
    ("rate(10 seconds)", "rate"),
    ("rate(10 years)", "rate"),
    ("rate(1 minutes)", "rate"),
    ("rate(1 hours)", "rate"),
    ("rate(1 days)", "rate"),
    ("rate(10 minute)", "rate"),
    ("rate(10 hour)", "rate"),
    ("rate(10 day)", "rate"),
    ("rate()", "rate"),
    ("rate(10)", "rate"),
    ("rate(10 minutess)", "rate"),
    ("rate(foo minutes)", "rate"),
    ("rate(0 minutes)", "rate"),
    ("rate(-10 minutes)", "rate"),
    ("rate(10 MINUTES)", "rate"),
    ("rate( 10 minutes )", "rate"),
    (" rate(10 minutes)", "expression"),
    ("rate(5 minute)", "rate"),
    # Field rules of LAMBDA-FACTS 5.2
    ("cron(0 24 * * ? *)", "hours"),
    ("cron(0 0 32 * ? *)", "day-of-month"),
    ("cron(0 0 1 13 ? *)", "month"),
    ("cron(0 0 ? * 8 *)", "day-of-week"),
    ("cron(0 0 * * ? 1969)", "year"),
    ("cron(0 0 * * ? 2200)", "year"),
    ("cron(0 0 ? * 2#6 *)", "day-of-week"),
    ("cron(0 0 ? * 2#1,4 *)", "day-of-week"),
    ("cron(0 0 ? * 6L,2 *)", "day-of-week"),
    ("cron(0 0 L,15 * ? *)", "day-of-month"),
    ("cron(0 0 ? * 1/2 *)", "day-of-week"),
    ("cron(0 ? * * ? *)", "hours"),
    ("cron(0 0 15W,16 * ? *)", "day-of-month"),
    ("cron(0 0 ? * 15W *)", "day-of-week"),
    ("cron(0 0 1#2 * ? *)", "day-of-month"),
    ("cron(0 0 * * ? * *)", "expression"),
    ("cron(0/5, 9-18, ?, *, MON-FRI, *)", "minutes"),  # accepted once by AWS: a bug
    ("CRON(0 0 * * ? *)", "expression"),
    ("cron( 0 0 * * ? *)", "expression"),
    ("", "expression"),
]


@pytest.mark.parametrize(("expression", "field"), REFUSED)
def test_invalid_expressions_are_refused_with_aws_text(expression, field):
    error = refused(expression)
    assert str(error).startswith("Parameter ScheduleExpression is not valid. ")
    assert str(error).startswith(AWS_INVALID_EXPRESSION)
    assert error.field == field
    assert len(str(error)) > len(AWS_INVALID_EXPRESSION) + 10  # it says why


def test_message_day_of_week_out_of_range():
    assert str(refused("cron(0 12 ? * 8 *)")) == (
        "Parameter ScheduleExpression is not valid. "
        "day-of-week 8 is out of range 1-7 (1 = SUN)."
    )


def test_message_five_fields_suggests_six():  # LAMBDA-FACTS 5.4 (cds-snc #344)
    assert str(refused("cron(*/1 * * * *)")) == (
        "Parameter ScheduleExpression is not valid. cron needs 6 fields (minutes hours "
        "day-of-month month day-of-week year); got 5: '*/1 * * * *'. "
        "Did you mean '*/1 * * * ? *'?"
    )


def test_message_five_fields_renumbers_unix_weekdays():
    # Unix 1-5 is Monday-Friday; in AWS numbering that is 2-6.
    assert "Did you mean '0 9 ? * 2-6 *'?" in str(refused("cron(0 9 * * 1-5)"))
    # Without the wrapper, the suggestion is what EventBridge takes (LAMBDA-FACTS 5.1).
    assert "Did you mean 'cron(0 9 ? * 2-6 *)'?" in str(refused("0 9 * * 1-5"))


def test_message_without_cron_or_rate_says_how_to_write_one():
    assert str(refused("every day")) == (
        "Parameter ScheduleExpression is not valid. 'every day' is not cron(...), "
        "rate(...) or six cron fields (it has 2 fields); write cron(minutes hours "
        "day-of-month month day-of-week year), e.g. cron(0 8 * * ? *), or "
        "rate(5 minutes)."
    )


def test_message_rate_plural_rule():  # PITFALLS R06
    assert str(refused("rate(1 minutes)")) == (
        "Parameter ScheduleExpression is not valid. "
        "a value of 1 takes a singular unit: "
        "write rate(1 minute)."
    )


def test_message_seconds_are_impossible():  # LAMBDA-FACTS 5.1: 1 minute at finest
    assert "at most once a minute" in str(refused("rate(10 seconds)"))


def test_message_names_the_field_value():
    assert str(refused("cron(71 8 1 * ? *)")).endswith(
        "minutes 71 is out of range 0-59."
    )
    assert "'NOT'" in str(refused("cron(7 20 * * NOT *)"))


def test_huge_numbers_are_refused_not_crashing():
    assert refused("cron(0 0 * * ? " + "9" * 5000 + ")").field == "year"
    assert refused("rate(" + "9" * 5000 + " minutes)").field == "rate"


# ------------------------------------------------------------------------- describe

DESCRIPTIONS = [
    ("cron(0 8 * * ? *)", "At 08:00 UTC, every day"),
    ("cron(0 18 ? * MON-FRI *)", "At 18:00 UTC, Monday through Friday"),
    ("cron(0/15 * * * ? *)", "Every 15 minutes"),
    ("cron(0 9 ? * 2#1 *)", "At 09:00 UTC, on the first Monday of the month"),
    ("rate(5 minutes)", "Every 5 minutes"),
    ("rate(1 hour)", "Every hour"),
    (
        "cron(15 10 ? * 6L 2019-2022)",
        "At 10:15 UTC, on the last Friday of the month, 2019-2022",
    ),
    ("cron(5,35 14 * * ? *)", "At 14:05 and 14:35 UTC, every day"),
    ("cron(0 8 1 * ? *)", "At 08:00 UTC, on day 1 of the month"),
    ("cron(0 0 L * ? *)", "At 00:00 UTC, on the last day of the month"),
    ("cron(0 0 ? * 1 *)", "At 00:00 UTC, every Sunday"),
    (
        "cron(0/5 8-17 ? * MON-FRI *)",
        "Every 5 minutes from 08:00 to 17:55 UTC, Monday through Friday",
    ),
    (
        "cron(0/30 20-2 ? * MON-FRI *)",
        "Every 30 minutes from 00:00 to 02:30 and from 20:00 to 23:30 UTC, "
        "Monday through Friday",
    ),
    ("cron(0 9 15W * ? *)", "At 09:00 UTC, on the weekday nearest day 15 of the month"),
    ("cron(0 */2 * * ? *)", "Every 2 hours from 00:00 to 22:00 UTC"),
    (
        "cron(0 12 1 JAN-MAR ? *)",
        "At 12:00 UTC, on day 1 of the month, January through March",
    ),
]


@pytest.mark.parametrize(("expression", "text"), DESCRIPTIONS)
def test_describe(expression, text):
    assert parse_schedule(expression).describe() == text


def test_describe_names_the_zone():
    assert parse_schedule("cron(0 8 * * ? *)").describe("Asia/Kolkata") == (
        "At 08:00 Asia/Kolkata time, every day"
    )
    assert parse_schedule("cron(0/10 * ? * MON-FRI *)").describe("Asia/Kolkata") == (
        "Every 10 minutes, Monday through Friday (Asia/Kolkata time)"
    )


def test_message_counts_one_field_in_the_singular():
    assert "(it has 1 field); write cron(" in str(refused("daily"))
