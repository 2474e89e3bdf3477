"""The Timeline and Queues tabs: pure renderers, keys, cost, and lessons 8-9 by keyboard.

The renderers are tested without an App on a service run to a known instant; the
panels in the app, in step mode; lessons "retries-dlq" and "destinations-event-age"
are played with the keyboard from their reference solutions, redrive (R in the Queues
tab) and duplicate delivery (d in the Timeline tab) included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from players import (
    COURSE,
    AppFactory,
    go_to_step,
    open_from_map,
    open_tab,
    plain,
    play_lesson,
    press,
    settle,
    tap,
)
from textual.pilot import Pilot
from textual.widgets import Static

from lambdalab.course.session import LabSession
from lambdalab.engine.model import DurationModel, FunctionConfig
from lambdalab.engine.service import POLLER_DELAY_MS, LambdaService
from lambdalab.ui import render_async
from lambdalab.ui.panels.queues import QueuesPanel
from lambdalab.ui.panels.timeline import TimelinePanel
from lambdalab.ui.render_async import Window
from lambdalab.ui.screens.lesson import LessonScreen

ASYNC_LESSONS = ["retries-dlq", "destinations-event-age"]


def failing_service(**kw: Any) -> LambdaService:
    """orders always fails (100 ms); DLQ orders-dlq, failures to a bus."""
    svc = LambdaService()
    svc.create_function(
        FunctionConfig(
            "orders",
            duration=DurationModel("fixed", 100),
            error_rate=1.0,
            dead_letter_queue="orders-dlq",
            on_failure="event-bus/default",
            **kw,
        )
    )
    return svc


# -- pure renderers ---------------------------------------------------------------------


def test_bar_shows_attempts_waits_and_the_dlq_marker_t34() -> None:
    # LAMBDA-FACTS T34 drawn: attempt, 1 min wait, attempt, 2 min wait, attempt, DLQ.
    svc = failing_service()
    rid = svc.invoke("orders", {"n": 1}, "Event").request_id
    svc.run()
    event = svc.async_events[rid]
    window = Window(0.0, 240_000.0, 48)  # 5 s a column
    bar = render_async.event_bar(event, window, svc.now_ms).plain
    starts = [inv.started_ms or 0.0 for inv in event.attempt_log]
    columns = [window.column(t) for t in starts]
    assert columns[0] == 0 and [bar[c] for c in columns] == ["█"] * 3
    # one minute of waiting is 12 columns of ─, two minutes 24
    assert bar[columns[0] + 1 : columns[1]] == "─" * (columns[1] - columns[0] - 1)
    assert bar[columns[1] + 1 : columns[2]] == "─" * (columns[2] - columns[1] - 1)
    assert columns[1] - columns[0] in (11, 12, 13) and columns[2] - columns[1] in (
        23,
        24,
        25,
    )
    assert bar[columns[2] + 1] == "D"  # it went to the DLQ
    assert bar[columns[2] + 2 :].strip() == ""
    assert render_async.outcome_text(event, svc).plain == "✘ RetriesExhausted ×3"


def test_waiting_row_counts_down_to_the_next_retry() -> None:
    svc = failing_service()
    rid = svc.invoke("orders", {"n": 1}, "Event").request_id
    svc.run(until_ms=20_000)
    event = svc.async_events[rid]
    end = event.attempt_log[0].ended_ms
    assert end is not None
    left = round((end + 60_000 - 20_000) / 1000)
    assert render_async.outcome_text(event, svc).plain == f"⧗ retry 2/3 in {left} s"
    window = render_async.window_for([event], svc.now_ms, 40)
    assert (window.start_ms, window.end_ms) == (0.0, 20_000.0)  # moves with now
    svc.run()
    window = render_async.window_for([event], svc.now_ms, 40)
    assert window.end_ms < svc.now_ms  # finished: stays put


def test_timeline_rows_axis_and_selection() -> None:
    svc = failing_service()
    first = svc.invoke("orders", {"n": 1}, "Event").request_id
    svc.invoke("orders", {"n": 2}, "Event")
    svc.run(until_ms=200_000)
    events = render_async.latest_events(svc, 10)
    text = render_async.timeline(svc, events, 90, {'{"n": 1}': "one"}, first)
    lines = plain(text, 90).splitlines()
    assert "|1:00" in lines[0] and "|2:00" in lines[0]
    assert lines[1].startswith(f"{first[:8]} one     █")
    assert lines[2].startswith(f"{events[1].request_id[:8]} custom  █")
    assert all(len(line.rstrip()) <= 90 for line in lines)
    assert text.spans[0].style  # the selected label is highlighted
    assert "No asynchronous events yet" in plain(render_async.timeline(svc, [], 90, {}))


def test_summary_shows_queue_depth_and_async_event_age() -> None:
    # LAMBDA-FACTS 2.4: AsyncEventAge is the time from queueing to the invoke.
    svc = failing_service()
    svc.invoke("orders", {"n": 1}, "Event")
    svc.run(until_ms=70_000)
    text = plain(render_async.async_summary(svc, 0.0))
    # waiting for its third attempt: still in the queue
    assert "λ orders queue depth 1  AsyncEventAge last 1:00 · max 1:00" in text
    assert "duplicate delivery off" in text
    svc.invoke("orders", {"n": 2}, "Event")
    svc.run(until_ms=80_000)
    assert "queue depth 2" in plain(render_async.async_summary(svc, 0.5))
    assert "duplicate delivery 50%" in plain(render_async.async_summary(svc, 0.5))


def test_details_show_each_attempt_error_logs_and_where_it_went() -> None:
    svc = failing_service()
    rid = svc.invoke("orders", {"n": 1}, "Event").request_id
    svc.run()
    text = plain(render_async.event_details(svc, svc.async_events[rid], {}), 120)
    assert f"Event {rid}" in text and 'payload {"n": 1}' in text
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines.count("  Exception: Simulated failure (error_rate)") == 3
    assert text.count("│ [ERROR] Exception: Simulated failure (error_rate)") == 3
    assert "attempt 1 at 00:00.025 on env-1 (cold)" in text
    assert "wait 1:00 before a retry" in text and "wait 2:00 before a retry" in text
    assert text.count("│ REPORT RequestId: " + rid) == 3
    assert "START RequestId" not in text  # the attempt line says as much
    assert "✘ RetriesExhausted after 3 attempt(s)" in text
    assert "→ dead-letter queue orders-dlq" in text
    assert "→ on-failure destination event-bus/default" in text


def test_queue_views_show_attributes_records_and_bus_events() -> None:
    svc = failing_service(max_retry_attempts=0)
    rid = svc.invoke("orders", {"n": 1}, "Event").request_id
    svc.run()
    listing = plain(render_async.queue_list(svc, 100, 0))
    assert "orders-dlq  SQS queue · DLQ of orders · 1 message(s)" in listing
    assert "event-bus/default  event bus · on-failure of orders" in listing
    assert "Failure: RetriesExhausted ×1" in listing
    [(dlq, message), (bus, event)] = render_async.message_rows(svc)
    details = plain(render_async.message_details(dlq, message))
    assert f"RequestID    String {rid}" in details
    assert "ErrorCode    Number 200" in details
    assert "ErrorMessage String Simulated failure (error_rate)" in details
    on_bus = plain(render_async.message_details(bus, event))
    assert '"detail-type": "Lambda Function Invocation Result - Failure"' in on_bus
    assert f"Event {json.loads(event.body)['id']}" in on_bus


# -- the panels in the app --------------------------------------------------------------


async def run_lab(pilot: Pilot[None], screen: LessonScreen, seconds: float) -> None:
    """Let virtual time run as the paced clock would, then draw."""
    service = screen.session.service
    service.run(until_ms=service.now_ms + seconds * 1000)
    screen.draw_lab(force=True)
    await settle(pilot)


def test_tabs_appear_only_where_async_is_configured(tmp_path: Path) -> None:
    shown = {}
    for lesson in COURSE.lessons:
        session = LabSession(lesson, tmp_path / lesson.id)
        shown[lesson.id] = [
            panel.TAB_TITLE
            for panel in (QueuesPanel, TimelinePanel)
            if panel.applies(session)
        ]
        session.close()
    assert shown["retries-dlq"] == ["Queues", "Timeline"]
    assert shown["destinations-event-age"] == ["Queues", "Timeline"]
    assert shown["first-invocation"] == shown["throttling"] == []


async def test_timeline_keys_select_and_turn_the_duplicate_knob(
    app_factory: AppFactory,
) -> None:
    async with app_factory().run_test(size=(120, 40)) as pilot:
        screen = await open_from_map(pilot, "destinations-event-age")
        await tap(pilot, "2", "a", "a")  # answer, then two photo events
        await run_lab(pilot, screen, 2)
        await open_tab(pilot, screen, TimelinePanel)
        panel = screen.query_one(TimelinePanel)
        assert pilot.app.focused is panel
        newest, older = [i.request_id for i in reversed(screen.session.history)]
        assert panel.selected is None  # follows the newest
        await tap(pilot, "up")
        assert panel.selected == older
        await tap(pilot, "down")
        assert panel.selected == newest
        rates = []
        for _ in range(4):
            await tap(pilot, "d")
            rates.append(screen.session.service.duplicate_rate)
        assert rates == [0.1, 0.5, 1.0, 0.0]
        rows = panel.query_one("#timeline-rows", Static)
        assert older[:8] in plain(rows.content)


async def test_timeline_moves_costs_nothing_hidden_and_r_redrives(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One lab, three behaviours. PITFALLS R41/R42: a hidden tab renders nothing and
    # an unchanged lab updates no widget, however often the screen asks; the axis
    # moves while an event only waits; R redrives the selected DLQ message.
    calls: list[str] = []
    real_timeline, real_queue_list = render_async.timeline, render_async.queue_list

    def counting_timeline(*args: Any, **kw: Any) -> Any:
        calls.append("timeline")
        return real_timeline(*args, **kw)

    def counting_queue_list(*args: Any, **kw: Any) -> Any:
        calls.append("queues")
        return real_queue_list(*args, **kw)

    monkeypatch.setattr(render_async, "timeline", counting_timeline)
    monkeypatch.setattr(render_async, "queue_list", counting_queue_list)
    async with app_factory().run_test(size=(120, 40)) as pilot:
        screen = await open_from_map(pilot, "retries-dlq")
        await press(pilot, "3", "enter")
        await settle(pilot)
        await press(pilot, "a")
        await run_lab(pilot, screen, 1)
        assert calls == []  # the Lab tab was shown throughout
        await open_tab(pilot, screen, TimelinePanel)
        assert calls[-1] == "timeline"
        panel = screen.query_one(TimelinePanel)
        rows = screen.query_one("#timeline-rows", Static)
        before = plain(rows.content)
        service = screen.session.service
        service.run(until_ms=service.now_ms + 30_000)  # only time moves
        panel._tick()  # the panel's own clock: the axis has moved
        after = plain(rows.content)
        assert before != after and "⧗ retry 2/3 in" in after
        drawn = len(calls)
        for _ in range(20):
            screen.draw_lab(force=True)
            panel._tick()
        assert len(calls) == drawn  # nothing changed: nothing redrawn
        await run_lab(pilot, screen, 200)
        dlq = service.queue("orders-dlq")
        [message] = dlq.messages
        await open_tab(pilot, screen, QueuesPanel)
        details = screen.query_one("#message-details", Static)
        assert "ErrorMessage String 'quantity'" in plain(details.content)
        await tap(pilot, "R")
        assert dlq.messages == [] and dlq.redriven == 1
        inv = screen.session.history[-1]
        event = service.async_events[inv.request_id]
        assert (event.redriven_from, event.payload) == ("orders-dlq", message.body)
        await tap(pilot, "R")  # nothing left: a notice, no error
        assert dlq.redriven == 1


# -- lessons 8 and 9 by keyboard --------------------------------------------------------


@pytest.mark.parametrize("lesson_id", ASYNC_LESSONS)
async def test_async_lesson_completed_with_the_keyboard(
    app_factory: AppFactory, lesson_id: str
) -> None:
    lesson = COURSE.lesson(lesson_id)
    assert lesson is not None

    async def last_step(pilot: Pilot[None], screen: LessonScreen) -> None:
        await go_to_step(pilot, screen, lesson.steps[-1].id)

    await play_lesson(
        app_factory,
        lesson,
        from_map=True,
        wait="time",
        run_out_s=600,
        hooks={len(lesson.solution): last_step},
    )


def test_poller_delay_is_what_the_timeline_starts_from() -> None:
    assert POLLER_DELAY_MS == 25.0
