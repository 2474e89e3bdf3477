"""``lambdalab cron``: exact output, errors and exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lambdalab.cli import cron_cmd, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["cron", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_description_then_fire_times(capsys):  # LAMBDA-FACTS T1
    code, out, err = run(
        capsys, "cron(0 8 * * ? *)", "--after", "2025-01-01T00:00Z", "--count", "3"
    )
    assert (code, err) == (0, "")
    assert out == (
        "At 08:00 UTC, every day\n"
        "2025-01-01T08:00:00Z\n"
        "2025-01-02T08:00:00Z\n"
        "2025-01-03T08:00:00Z\n"
    )


def test_default_count_is_five_and_console_style_is_accepted(capsys):  # LAMBDA-FACTS T4
    code, out, _ = run(capsys, "0 18 ? * MON-FRI *", "--after", "2025-01-01T00:00Z")
    assert code == 0
    assert out.splitlines() == [
        "At 18:00 UTC, Monday through Friday",
        "2025-01-01T18:00:00Z",
        "2025-01-02T18:00:00Z",
        "2025-01-03T18:00:00Z",
        "2025-01-06T18:00:00Z",
        "2025-01-07T18:00:00Z",
    ]


def test_unquoted_fields_are_joined(capsys):
    code, out, _ = run(
        capsys, "0", "8", "*", "*", "?", "*", "--after", "2025-01-01", "--count", "1"
    )
    assert (code, out) == (0, "At 08:00 UTC, every day\n2025-01-01T08:00:00Z\n")


@pytest.mark.parametrize(
    "after",
    [
        "2025-01-01T00:00Z",
        "2025-01-01T00:00:00Z",
        "2025-01-01",
        "2025-01-01T05:30+05:30",
        "2025-01-01T00:00",
    ],
)
def test_after_forms_name_the_same_instant(capsys, after):
    code, out, _ = run(capsys, "cron(0/15 * * * ? *)", "--after", after, "--count", "1")
    assert (code, out) == (
        0,
        "Every 15 minutes\n2025-01-01T00:15:00Z\n",
    )  # LAMBDA-FACTS T6


def test_rate_counts_from_after(capsys):  # LAMBDA-FACTS T20
    code, out, _ = run(
        capsys, "rate(1 minute)", "--after", "2025-01-01T10:00:20Z", "--count", "3"
    )
    assert code == 0
    assert (
        out == "Every minute\n"
        "2025-01-01T10:01:20Z\n2025-01-01T10:02:20Z\n2025-01-01T10:03:20Z\n"
    )


def test_json(capsys):  # LAMBDA-FACTS T7
    code, out, err = run(
        capsys,
        "cron(0 9 ? * 2#1 *)",
        "--after",
        "2025-01-01T00:00Z",
        "--count",
        "2",
        "--json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "expression": "cron(0 9 ? * 2#1 *)",
        "description": "At 09:00 UTC, on the first Monday of the month",
        "timezone": "UTC",
        "after": "2025-01-01T00:00:00Z",
        "next": ["2025-01-06T09:00:00Z", "2025-02-03T09:00:00Z"],
    }


def test_tz_shows_local_time_beside_utc(capsys):  # LAMBDA-FACTS 5.5
    code, out, _ = run(
        capsys,
        "cron(0 8 * * ? *)",
        "--after",
        "2025-01-01T00:00Z",
        "--count",
        "2",
        "--tz",
        "Asia/Kolkata",
    )
    assert code == 0
    assert out == (
        "At 08:00 Asia/Kolkata time, every day\n"
        "2025-01-01T02:30:00Z  2025-01-01T08:00:00+05:30 IST\n"
        "2025-01-02T02:30:00Z  2025-01-02T08:00:00+05:30 IST\n"
    )


def test_tz_json_keeps_next_in_utc_and_adds_next_local(capsys):  # PITFALLS R08
    code, out, _ = run(
        capsys,
        "cron(0 4 * * ? *)",
        "--after",
        "2024-12-02T00:00Z",
        "--count",
        "1",
        "--tz",
        "America/Los_Angeles",
        "--json",
    )
    document = json.loads(out)
    assert code == 0
    assert document["timezone"] == "America/Los_Angeles"
    assert document["next"] == ["2024-12-02T12:00:00Z"]
    assert document["next_local"] == ["2024-12-02T04:00:00-08:00"]


def test_no_fire_times_left(capsys):
    code, out, _ = run(capsys, "cron(0 8 * * ? 2020)", "--after", "2025-01-01")
    assert code == 0
    assert (
        out
        == "At 08:00 UTC, every day, 2020\nNo fire times after 2025-01-01T00:00:00Z.\n"
    )


def test_invalid_expression_exits_2_with_the_reason(capsys):  # LAMBDA-FACTS T18
    code, out, err = run(capsys, "cron(0 12 ? * 8 *)")
    assert (code, out) == (2, "")
    assert err == (
        "lambdalab: Parameter ScheduleExpression is not valid. "
        "day-of-week 8 is out of range 1-7 (1 = SUN).\n"
    )


def test_invalid_rate_exits_2(capsys):  # LAMBDA-FACTS T19
    code, out, err = run(capsys, "rate(5 minute)")
    assert (code, out) == (2, "")
    assert err == (
        "lambdalab: Parameter ScheduleExpression is not valid. a value of 5 takes a "
        "plural unit: write rate(5 minutes).\n"
    )


@pytest.mark.parametrize("after", ["yesterday", "2025-13-01", "2025-01-01T25:00Z", ""])
def test_bad_after_exits_2(capsys, after):
    code, out, err = run(capsys, "cron(0 8 * * ? *)", "--after", after)
    assert (code, out) == (2, "")
    assert err == (
        f"lambdalab: --after {after!r} is not an ISO-8601 date or time; "
        "write for example "
        "2025-01-01T08:00Z, 2025-01-01T08:00:00+05:30 or 2025-01-01.\n"
    )


@pytest.mark.parametrize("count", ["0", "1001", "-1", "five", "2.5"])
def test_count_out_of_bounds_exits_2(capsys, count):
    code, out, err = run(capsys, "cron(0 8 * * ? *)", "--count", count)
    assert (code, out) == (2, "")
    assert (
        err
        == f"lambdalab: --count must be a whole number from 1 to 1000; got {count!r}.\n"
    )


def test_count_bounds_are_inclusive(capsys):
    code, out, _ = run(
        capsys, "cron(* * * * ? *)", "--after", "2025-01-01", "--count", "1000"
    )
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == 1001
    assert lines[-1] == "2025-01-01T16:40:00Z"


def test_unknown_zone_exits_2(capsys):
    code, out, err = run(capsys, "cron(0 8 * * ? *)", "--tz", "Mars/Olympus_Mons")
    assert (code, out) == (2, "")
    assert err == (
        "lambdalab: Parameter ScheduleExpressionTimezone is not valid. "
        "'Mars/Olympus_Mons' is not an IANA time zone name "
        "(for example UTC, Europe/London or Asia/Kolkata).\n"
    )


def test_default_after_is_now_rounded_down_to_the_minute(capsys, monkeypatch):
    monkeypatch.setattr(
        cron_cmd, "_now", lambda: datetime(2025, 1, 1, 7, 59, tzinfo=UTC)
    )
    code, out, _ = run(capsys, "cron(0 8 * * ? *)", "--count", "1")
    assert (code, out) == (0, "At 08:00 UTC, every day\n2025-01-01T08:00:00Z\n")


def test_now_has_no_seconds():
    now = cron_cmd._now()
    assert now.tzinfo is UTC
    assert (now.second, now.microsecond) == (0, 0)


def test_text_that_is_no_expression_says_how_to_write_one(capsys):
    code, out, err = run(capsys, "bad expression")
    assert (code, out) == (2, "")
    assert err == (
        "lambdalab: Parameter ScheduleExpression is not valid. 'bad expression' is "
        "not cron(...), rate(...) or six cron fields (it has 2 fields); write "
        "cron(minutes hours day-of-month month day-of-week year), e.g. "
        "cron(0 8 * * ? *), or rate(5 minutes).\n"
    )


def test_bare_unix_cron_is_offered_in_its_wrapper(capsys):
    code, _, err = run(capsys, "0 9 * * 1-5")
    assert code == 2
    assert "write cron(minutes hours" in err
    assert err.endswith("Did you mean 'cron(0 9 ? * 2-6 *)'?\n")  # 1-5 Unix = 2-6 AWS


def test_bare_six_fields_work_with_a_note_that_eventbridge_needs_cron(capsys):
    # LAMBDA-FACTS 5.2: the Lambda console takes the fields alone; 5.1: PutRule's
    # ScheduleExpression is cron(...) or rate(...).
    code, out, err = run(capsys, "0 8 * * ? *", "--after", "2025-01-01", "--count", "1")
    assert (code, out) == (0, "At 08:00 UTC, every day\n2025-01-01T08:00:00Z\n")
    assert err == (
        "lambdalab: note: six bare fields are what the Lambda console takes; "
        "EventBridge's ScheduleExpression (PutRule, SAM, CloudFormation) needs the "
        "wrapper: cron(0 8 * * ? *)\n"
    )


def test_wrapped_expressions_get_no_note(capsys):
    for expression in ("cron(0 8 * * ? *)", "rate(5 minutes)"):
        assert run(capsys, expression, "--count", "1")[2] == ""
