"""Free play: the lab on the learner's own handler, with every control the lessons use."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalab.cli import main
from lambdalab.course.freeplay import free_play_course
from lambdalab.course.progress import ProgressStore
from lambdalab.ui.app import make_app
from lambdalab.ui.screens.lesson import LessonScreen

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hi'}\n"


async def test_free_play_has_dlq_schedule_and_front_door(tmp_path: Path) -> None:
    code = tmp_path / "mine.py"
    code.write_text(HANDLER)
    course = free_play_course(
        f"{code}:handler",
        [],
        None,
        settings={"dead_letter_queue": "mine-dlq", "timeout_s": 5},
        schedule="rate(1 minute)",
        api="rest",
    )
    app = make_app(
        course,
        ProgressStore("player", home=tmp_path),
        live=False,
        open_lesson="free-play",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        tabs = {type(panel).TAB_TITLE for panel in screen.panels}  # type: ignore[attr-defined]
        assert {"Queues", "Timeline", "Schedules", "HTTP"} <= tabs
        assert screen.session.service.functions["mine"].dead_letter_queue == "mine-dlq"
        await pilot.press("greater_than_sign", "greater_than_sign")
        # rate(1 minute) counts from the rule's creation: events at 60 s and 120 s,
        # each accepted asynchronously (the poller starts them 25 ms later).
        received = screen.session.service.trace.of_kind("async.received")
        assert [r.time_ms for r in received] == [60_000.0, 120_000.0]


def test_free_play_refuses_a_bad_schedule_and_a_bad_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "mine.py"
    code.write_text(HANDLER)
    assert main(["lab", f"{code}:handler", "--schedule", "rate(1 minutes)"]) == 2
    assert "Parameter ScheduleExpression is not valid." in capsys.readouterr().err
    assert main(["lab", f"{code}:handler", "--memory", "64"]) == 2
    assert (
        "MemorySize 64 for mine is out of range 128-10240 MB."
        in capsys.readouterr().err
    )
