"""Lessons 5-7 completed with the keyboard in step mode, through the trigger tabs.

Each solution action becomes a learner's keys: ] to reach the Schedules, HTTP or S3
tab, the arrows to choose, enter to edit, send or upload, d and g to switch, '.' to
step virtual time. Code and expressions are pasted (ctrl+v); typing an expression key
by key is tested once, with its live validation.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

from conftest import AppFactory
from rich.console import Console
from test_lessons_by_keyboard import go_to_step, settle
from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent, TextArea

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.model import Action
from lambdalab.ui.panels.buckets import BucketPanel
from lambdalab.ui.panels.http_door import HttpPanel
from lambdalab.ui.panels.schedules import SchedulePanel
from lambdalab.ui.screens.lesson import LessonScreen

COURSE = load_course(bundled_lessons_path())


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


async def open_tab(pilot: Pilot[None], screen: LessonScreen, panel: type) -> None:
    tabs = screen.query_one("#lab-tabs", TabbedContent)
    target = f"tab-{panel.__name__.lower()}"
    for _ in range(6):
        if tabs.active == target:
            break
        await pilot.press("right_square_bracket")
    await pilot.pause()
    assert tabs.active == target
    assert isinstance(pilot.app.focused, panel), pilot.app.focused


async def choose(
    pilot: Pilot[None], panel: object, names: list[str], name: str
) -> None:
    while names[panel.index % len(names)] != name:  # type: ignore[attr-defined]
        await pilot.press("down")


async def play(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    triggers = screen.session.triggers
    if action.do == "answer":
        await go_to_step(pilot, screen, p["step"])
        predict = screen.step.predict
        assert predict is not None
        if predict.choices:
            await pilot.press(str(int(p["value"]) + 1))
        else:
            await pilot.press(*str(p["value"]), "enter")
            await pilot.pause()
        assert screen.step.id in screen.session.answers
    elif action.do == "write":
        function = next(
            f for f in screen.lesson.lab.functions if f.handler.startswith(p["file"])
        )
        while screen.function != function.name:
            await pilot.press("f")
        await pilot.press("c")
        assert isinstance(pilot.app.focused, TextArea)
        pilot.app.copy_to_clipboard(screen.lesson.solution_files[p["file"]])
        await pilot.press("f7", "ctrl+v", "ctrl+s", "escape")
        assert pilot.app.screen is screen
        assert screen.session.code(p["file"]) == screen.lesson.solution_files[p["file"]]
    elif action.do == "schedule":
        await open_tab(pilot, screen, SchedulePanel)
        panel = screen.query_one(SchedulePanel)
        await choose(pilot, panel, list(triggers.rules), p["schedule"])
        if "expression" in p:
            await pilot.press("enter")
            assert isinstance(pilot.app.focused, Input)
            pilot.app.copy_to_clipboard(p["expression"])
            await pilot.press("end", "ctrl+u", "ctrl+v", "enter")
            await pilot.pause()
            assert triggers.rule(p["schedule"]).expression == p["expression"]
        if "enabled" in p and triggers.rule(p["schedule"]).enabled != p["enabled"]:
            await pilot.press("d")
        assert pilot.app.focused is panel
    elif action.do == "http":
        await open_tab(pilot, screen, HttpPanel)
        panel = screen.query_one(HttpPanel)
        if "api" in p:
            want = (p["api"], bool(p.get("multi_value", False)))
            for _ in range(4):
                if (
                    triggers.api,
                    triggers.multi_value and triggers.api == "alb",
                ) == want:
                    break
                await pilot.press("d")
        await choose(pilot, panel, list(triggers.requests), p["request"])
        await pilot.press("enter")
        await settle(pilot, screen)
        assert triggers.exchanges[-1].response is not None
    elif action.do == "upload":
        await open_tab(pilot, screen, BucketPanel)
        panel = screen.query_one(BucketPanel)
        await choose(pilot, panel, list(triggers.uploads), p["upload"])
        for _ in range(int(p.get("times", 1))):
            await pilot.press("enter")
    elif action.do == "bucket":
        await open_tab(pilot, screen, BucketPanel)
        panel = screen.query_one(BucketPanel)
        upload = next(
            u.name for u in triggers.uploads.values() if u.bucket == p["bucket"]
        )
        await choose(pilot, panel, list(triggers.uploads), upload)
        if triggers.bucket(p["bucket"]).loop_guard != p["loop_guard"]:
            await pilot.press("g")
        assert triggers.bucket(p["bucket"]).loop_guard == p["loop_guard"]
    else:  # pragma: no cover - a new action needs its keys here
        raise AssertionError(f"no keys for {action.do}")


async def wait(pilot: Pilot[None], screen: LessonScreen, seconds: float) -> None:
    """Press '.' until another task is done or ``seconds`` of virtual time passed."""
    service = screen.session.service
    target = service.now_ms + seconds * 1000
    done = set(screen.state.passed_steps)
    while service.waiting_on_code or set(screen.state.passed_steps) == done:
        nxt = service.loop.peek()
        if not service.waiting_on_code and (nxt is None or nxt > target):
            break
        await pilot.press("full_stop")


async def play_lesson(
    app_factory: AppFactory,
    lesson_id: str,
    before: dict[int, Callable[[Pilot[None], LessonScreen], Awaitable[None]]],
) -> None:
    """Open a lesson, play its solution by keyboard, and require every task done."""
    lesson = COURSE.lesson(lesson_id)
    assert lesson is not None
    app = app_factory(open_lesson=lesson_id)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson_id
        for index, action in enumerate(lesson.solution):
            if index in before:
                await before[index](pilot, screen)
            if action.do == "wait":
                await wait(pilot, screen, float(action.params["seconds"]))
            else:
                await play(pilot, screen, action)
        await settle(pilot, screen)
        await pilot.pause()
        todo = [
            s.id
            for s in lesson.steps
            if s.checks and s.id not in screen.state.passed_steps
        ]
        assert todo == [], [
            r.detail
            for s in lesson.steps
            if s.id in todo
            for r in screen.session.evaluate(s)
        ]
        assert screen.state.completed
        if len(lesson.solution) in before:
            await before[len(lesson.solution)](pilot, screen)


async def _typed_expression_is_validated(
    pilot: Pilot[None], screen: LessonScreen
) -> None:
    """Type a bad expression key by key: AWS's message and the field, live."""
    await open_tab(pilot, screen, SchedulePanel)
    panel = screen.query_one(SchedulePanel)
    await pilot.press("enter", *["backspace"] * 4, *"8 *)")  # cron(0 8 * * 8 *)
    verdict = text_of(panel.query_one("#verdict", Static))
    assert "Parameter ScheduleExpression is not valid." in verdict
    assert "day-of-week: day-of-week 8 is out of range 1-7 (1 = SUN)." in verdict
    await pilot.press("enter")  # refused: the rule keeps its expression
    rule = screen.session.triggers.rule("daily-report")
    assert rule.expression == "cron(0 8 * * ? *)"
    pilot.app.copy_to_clipboard("cron(0 8 ? * 6 *)")
    await pilot.press("ctrl+u", "ctrl+v")
    verdict = text_of(panel.query_one("#verdict", Static))
    assert "At 08:00 UTC, every Friday" in verdict
    assert "then Fri 2025-01-03 08:00 UTC" in verdict
    await pilot.press("escape")  # gives up the edit and stays in the lesson
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
        app_factory,
        "cron-eventbridge",
        {first_schedule: _typed_expression_is_validated},
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
        app_factory, "s3-uploads", {len(lesson.solution): _guard_refusal_was_announced}
    )


async def test_http_lesson_completed_with_the_keyboard(
    app_factory: AppFactory,
) -> None:
    await play_lesson(app_factory, "multi-header-responses", {})


async def test_a_hidden_tab_catches_up_when_shown(app_factory: AppFactory) -> None:
    app = app_factory(open_lesson="s3-uploads")
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await pilot.press("2")
        screen.session.triggers.upload("q1")  # while the Lab tab is shown
        screen.draw_lab(force=True)
        activity = screen.query_one("#activity", Static)
        assert "uploads/Q1 summary (final).csv" not in text_of(activity)
        await open_tab(pilot, screen, BucketPanel)
        await pilot.pause()
        assert "you: put 'uploads/Q1 summary (final).csv'" in text_of(activity)
