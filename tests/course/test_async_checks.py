"""The async and queue checks explain themselves in Lambda's terms; the loader refuses
malformed async checks and actions by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambdalab.course.async_checks import check_async, check_queue
from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.engine.model import DurationModel, FunctionConfig
from lambdalab.engine.service import LambdaService
from lambdalab.errors import LessonFormatError

EVENTS = {"poison": {"n": 1}, "good": {"n": 2}}


def service(**kw: object) -> LambdaService:
    svc = LambdaService()
    svc.create_function(
        FunctionConfig(
            "orders",
            duration=DurationModel("fixed", 100),
            error_rate=1.0,
            dead_letter_queue="orders-dlq",
            **kw,  # type: ignore[arg-type]
        )
    )
    return svc


def test_async_check_counts_how_events_ended() -> None:
    svc = service()
    svc.invoke("orders", EVENTS["poison"], "Event")
    svc.run()
    goal = {"function": "orders", "event": "poison", "outcome": "RetriesExhausted"}
    assert check_async(svc, EVENTS, {**goal, "attempts": 3}) == (
        True,
        "1 'poison' event(s) of orders that ended in RetriesExhausted after 3 "
        "attempt(s).",
    )
    passed, detail = check_async(svc, EVENTS, {**goal, "outcome": "succeeded"})
    assert not passed
    assert detail == (
        "Needs at least 1 'poison' event(s) of orders that succeeded; the lab shows "
        "0. So far: RetriesExhausted after 3 of 3 attempts, sent to orders-dlq."
    )
    assert check_async(svc, EVENTS, {"event": "good"})[1].endswith(
        "No such event was sent yet."
    )


def test_async_check_names_the_setting_in_the_way() -> None:
    # DESIGN: "the DLQ is empty because MaximumRetryAttempts is 0"
    svc = service(max_retry_attempts=0)
    svc.invoke("orders", EVENTS["poison"], "Event")
    svc.run()
    passed, detail = check_async(svc, EVENTS, {"function": "orders", "attempts": 3})
    assert not passed
    assert detail.endswith(
        "orders has MaximumRetryAttempts 0, so an event gets at most 1 attempt(s)."
    )
    passed, detail = check_async(
        svc, EVENTS, {"function": "orders", "outcome": "EventAgeExceeded"}
    )
    assert not passed and "MaximumEventAgeInSeconds 21600 (6 hours)" in detail


def test_queue_check_says_what_is_still_on_its_way() -> None:
    svc = service()
    svc.invoke("orders", EVENTS["poison"], "Event")
    svc.run(until_ms=30_000)
    passed, detail = check_queue(svc, {"queue": "orders-dlq"})
    assert not passed
    assert detail == (
        "Queue orders-dlq holds 0 message(s); the goal is at least 1. Not there "
        "yet: 1 event(s) on their way (waiting to retry (1 of 3 attempts done, "
        "next try in 30 s))."
    )
    svc.run()
    attributes = {"ErrorCode": "200", "ErrorMessage": "Simulated failure (error_rate)"}
    assert check_queue(
        svc, {"queue": "orders-dlq", "attributes": attributes, "body": {"n": 1}}
    ) == (True, "orders-dlq holds 1 message(s) like that.")
    passed, detail = check_queue(
        svc, {"queue": "orders-dlq", "attributes": {"ErrorCode": "500"}}
    )
    assert not passed and detail.endswith("It holds 1 in all.")
    passed, detail = check_queue(
        svc, {"queue": "orders-dlq", "min": 0, "max": 0, "redriven": 1}
    )
    assert not passed  # still holds its message
    svc.redrive("orders-dlq")
    assert check_queue(
        svc, {"queue": "orders-dlq", "min": 0, "max": 0, "redriven": 1}
    ) == (True, "orders-dlq holds 0 message(s) (1 redriven).")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "lesson"
    shutil.copytree(bundled_lessons_path() / "05-retries-dlq", target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'outcome = "RetriesExhausted"\nattempts = 3',
            'outcome = "Lost"\nattempts = 3',
            "steps[0].checks[0].outcome: 'Lost' is not one of succeeded, failed, "
            "RetriesExhausted, EventAgeExceeded, ZeroReservedConcurrency.",
        ),
        (
            'queue = "orders-dlq"\n\n[[solution]]',
            'queue = "nope"\n\n[[solution]]',
            "solution[6].queue: 'nope' is not a queue of this lab (orders-dlq, "
            "shipping-failures)",
        ),
        (
            "speed = 100",
            "speed = 100\nduplicates = 2",
            "lab.duplicates: 2 must be a number from 0 (off) to 1",
        ),
        (
            'attributes = { ErrorCode = "200",',
            "attributes = { ErrorCode = 200,",
            "steps[1].checks[1].attributes: must map attribute names to text",
        ),
    ],
)
def test_loader_refuses_malformed_async_parts(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    lesson = _copy(tmp_path)
    toml = lesson / "lesson.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new, 1))
    with pytest.raises(LessonFormatError) as err:
        load_course(lesson)
    assert message in str(err.value)
