"""The metric and cost checks, their loader errors, and the Metrics/Trace renderers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from lambdalab.course.loader import bundled_lessons_path, load_lesson
from lambdalab.course.model import Check
from lambdalab.course.ops_checks import check_cost
from lambdalab.course.session import LabSession
from lambdalab.engine.metrics import Metrics, estimate_cost
from lambdalab.errors import LessonFormatError
from lambdalab.ui import render_ops

LESSONS = bundled_lessons_path()


def plain(renderable: object) -> str:
    console = Console(width=100, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


@pytest.fixture
def cost_lab(tmp_path: Path) -> Iterator[LabSession]:
    session = LabSession(load_lesson(LESSONS / "12-cost"), tmp_path)
    yield session
    session.close()


def test_gb_seconds_of_a_burst_are_exact(cost_lab: LabSession) -> None:
    # LAMBDA-FACTS 3.3: 512 MB x 300 ms billed = 0.15 GB-s a request
    cost_lab.burst("resize", "photo", "sync", 20)
    cost_lab.settle()
    assert cost_lab.metrics.requests() == 20
    assert cost_lab.metrics.gb_seconds() == pytest.approx(3.0)
    result = cost_lab.check(
        Check("cost", "g", {"function": "resize", "min_gb_seconds": 3})
    )
    assert result.passed, result.detail
    assert "20 billed requests of resize, 3 GB-s" in result.detail


def test_cost_check_explains_what_is_missing(cost_lab: LabSession) -> None:
    result = cost_lab.check(
        Check("cost", "g", {"min_requests": 20, "min_gb_seconds": 3})
    )
    assert not result.passed
    assert result.detail == (
        "The bill so far: 0 billed requests, 0 GB-s, $0.000000 without the free "
        "tier; the goal needs at least 20 requests; needs at least 3 GB-s."
    )


def test_t56_month_price_and_free_tier() -> None:
    # LAMBDA-FACTS T56: 1M x 512 MB x 300 ms -> $2.50 + $0.20 = $2.70; $0 in free tier
    bill = estimate_cost(1_000_000, 150_000.0)
    assert round(bill.compute_cost, 2) == 2.50
    assert round(bill.request_cost, 2) == 0.20
    assert round(bill.total, 2) == 2.70
    assert estimate_cost(1_000_000, 150_000.0, free_tier=True).total == 0.0


def test_metric_check_counts_errors_with_cloudwatch_names(tmp_path: Path) -> None:
    session = LabSession(load_lesson(LESSONS / "10-monitoring"), tmp_path)
    try:
        check = Check(
            "metric", "g", {"function": "checkout", "metric": "Errors", "min": 2}
        )
        assert session.check(check).detail == (
            "Errors (Sum) of checkout needs to be at least 2; CloudWatch shows 0."
        )
        for event in ("legacy", "legacy", "order"):
            session.service.run_until_done(session.invoke("checkout", event))
        result = session.check(check)
        assert result.passed and result.detail == "Errors (Sum) of checkout is 2."
        invocations = Check(
            "metric",
            "g",
            {"function": "checkout", "metric": "Invocations", "min": 3, "max": 3},
        )
        assert session.check(invocations).passed
        text = plain(render_ops.metrics_view(session.metrics, session.service.now_ms))
        assert "AWS/Lambda · FunctionName=checkout" in text
        assert "Errors" in text and "Invocations" in text
        requests = render_ops.traced_requests(session)
        assert [r.kind for r in requests] == ["sync", "sync", "sync"]
        path = plain(render_ops.trace_path(session, requests[0].request_id))
        assert "caller   you" in path
        assert "result   error KeyError" in path
        assert "cold, Init Duration" in path
    finally:
        session.close()


def test_trace_follows_an_async_event_to_the_dlq(tmp_path: Path) -> None:
    session = LabSession(load_lesson(LESSONS / "10-monitoring"), tmp_path)
    try:
        inv = session.invoke("checkout", "legacy", "async")
        session.settle()
        path = plain(render_ops.trace_path(session, inv.request_id))
        assert "queued   checkout's async queue, 202" in path
        assert path.count("result   error KeyError") == 3
        assert "wait     retry in 60 s" in path and "wait     retry in 120 s" in path
        assert "DLQ      checkout-dlq: sent" in path
        assert "ended    RetriesExhausted after 3 attempt(s)" in path
    finally:
        session.close()


def test_sparkline_scales_to_the_largest_minute() -> None:
    # no data, zero, half, top
    assert render_ops.sparkline([None, 0, 4, 8]) == " ▁▄█"
    assert render_ops.sparkline([]) == ""


def test_bill_view_shows_both_prices() -> None:
    text = plain(render_ops.bill_view(Metrics()))
    assert "$0.000000  without the free tier" in text
    assert "$0.000000  after the free tier" in text
    assert "(free tier: 1M requests + 400,000 GB-s a month)" in text


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ('metric = "Invocationz"\nmin = 1', "'Invocationz' is not a Lambda metric"),
        ('metric = "Errors"', "give min, max or both"),
        (
            'metric = "ConcurrentExecutions"\nstatistic = "Sum"\nmin = 1',
            "ConcurrentExecutions is reported as Maximum, not Sum",
        ),
        ('metric = "Errors"\nmin = -1', "must be a number, 0 or more"),
    ],
)
def test_loader_refuses_bad_metric_checks(
    tmp_path: Path, check: str, message: str
) -> None:
    folder = tmp_path / "lesson"
    source = LESSONS / "10-monitoring"
    folder.mkdir()
    for path in source.rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    toml = (folder / "lesson.toml").read_text()
    toml = toml.replace('metric = "Errors"\nmin = 2', check, 1)
    (folder / "lesson.toml").write_text(toml)
    with pytest.raises(LessonFormatError, match=message) as info:
        load_lesson(folder)
    assert "lesson.toml:" in str(info.value)
    assert "steps[1].checks[0]" in str(info.value)


def test_check_cost_on_empty_metrics() -> None:
    passed, detail = check_cost(Metrics(), {"free_tier": True, "max_dollars": 0})
    assert passed
    assert (
        detail
        == "The bill so far: 0 billed requests, 0 GB-s, $0.000000 after the free tier."
    )
