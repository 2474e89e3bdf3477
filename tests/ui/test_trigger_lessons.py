"""Lessons 5-7 completed with the keyboard in step mode, through the trigger tabs.

Each solution action becomes a learner's keys: ] to reach the Schedules, HTTP or S3
tab, the arrows to choose, enter to edit, send or upload, d and g to switch, '.' to
step virtual time. Code and expressions are pasted (ctrl+v); typing an expression key
by key is tested once, with its live validation.
"""

from __future__ import annotations

from players import (
    COURSE,
    AppFactory,
    open_tab,
    play_lesson,
    press,
    quick,
    settle,
    tap,
    text_of,
)
from textual.pilot import Pilot
from textual.widgets import Static

from lambdalab.ui.panels.buckets import BucketPanel
from lambdalab.ui.panels.schedules import SchedulePanel
from lambdalab.ui.screens.lesson import LessonScreen


async def _typed_expression_is_validated(
    pilot: Pilot[None], screen: LessonScreen
) -> None:
    """Type a bad expression key by key: AWS's message and the field, live."""
    await open_tab(pilot, screen, SchedulePanel)
    panel = screen.query_one(SchedulePanel)
    await press(pilot, "enter")
    await quick(pilot, *["backspace"] * 4, *"8 *)")  # cron(0 8 * * 8 *)
    verdict = text_of(panel.query_one("#verdict", Static))
    assert "Parameter ScheduleExpression is not valid." in verdict
    assert "day-of-week: day-of-week 8 is out of range 1-7 (1 = SUN)." in verdict
    await tap(pilot, "enter")  # refused: the rule keeps its expression
    rule = screen.session.triggers.rule("daily-report")
    assert rule.expression == "cron(0 8 * * ? *)"
    pilot.app.copy_to_clipboard("cron(0 8 ? * 6 *)")
    await tap(pilot, "ctrl+u", "ctrl+v")
    verdict = text_of(panel.query_one("#verdict", Static))
    assert "At 08:00 UTC, every Friday" in verdict
    assert "then Fri 2025-01-03 08:00 UTC" in verdict
    await press(pilot, "escape")  # gives up the edit and stays in the lesson
    assert pilot.app.screen is screen and pilot.app.focused is panel
    assert rule.expression == "cron(0 8 * * ? *)"


async def test_cron_lesson_completed_with_the_keyboard(
    app_factory: AppFactory,
) -> None:
    lesson = COURSE.lesson("cron-eventbridge")
    assert lesson is not None
    first_schedule = next(
        i for i, a in enumerate(lesson.solution) if a.do == "schedule"
    )
    await play_lesson(
        app_factory, lesson, hooks={first_schedule: _typed_expression_is_validated}
    )


async def _guard_refusal_was_announced(
    pilot: Pilot[None], screen: LessonScreen
) -> None:
    assert "Loop guard" in [n.title for n in pilot.app._notifications]
    activity = text_of(screen.query_one("#activity", Static))
    assert "loop guard: thumbnailer writing 'thumbs/" in activity


async def test_s3_lesson_completed_with_the_keyboard(app_factory: AppFactory) -> None:
    lesson = COURSE.lesson("s3-uploads")
    assert lesson is not None
    await play_lesson(
        app_factory, lesson, hooks={len(lesson.solution): _guard_refusal_was_announced}
    )


async def test_http_lesson_completed_with_the_keyboard(
    app_factory: AppFactory,
) -> None:
    lesson = COURSE.lesson("multi-header-responses")
    assert lesson is not None
    await play_lesson(app_factory, lesson)


async def test_a_hidden_tab_catches_up_when_shown(app_factory: AppFactory) -> None:
    app = app_factory(open_lesson="s3-uploads")
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await tap(pilot, "2")
        screen.session.triggers.upload("q1")  # while the Lab tab is shown
        screen.draw_lab(force=True)
        activity = screen.query_one("#activity", Static)
        assert "uploads/Q1 summary (final).csv" not in text_of(activity)
        await open_tab(pilot, screen, BucketPanel)
        await settle(pilot)
        assert "you: put 'uploads/Q1 summary (final).csv'" in text_of(activity)
