"""Every lesson completed in the app with the keyboard alone, following its reference solution.

Each solution action becomes the keys a learner would press: digits for a prediction,
f and e to pick the function and event, i/a/b/B to invoke, o and the form for a
setting, c and the editor for code, '.' to step virtual time.
"""

from __future__ import annotations

import pytest
from conftest import AppFactory
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.model import Action, Lesson
from lambdalab.ui.screens.lesson import LessonScreen
from lambdalab.ui.screens.settings import FIELDS

KEYED_ACTIONS = {"answer", "invoke", "burst", "set", "wait", "write"}
COURSE = load_course(bundled_lessons_path())
# Lesson 1 has its own, stricter keyboard test (tests/ui/test_lesson_play.py).
PLAYABLE = [
    lesson
    for lesson in COURSE.lessons
    if {a.do for a in lesson.solution} <= KEYED_ACTIONS
    and lesson.id != "first-invocation"
]


async def go_to_step(pilot: Pilot[None], screen: LessonScreen, step_id: str) -> None:
    target = [s.id for s in screen.lesson.steps].index(step_id)
    while screen.step_index < target:
        await pilot.press("n")
    while screen.step_index > target:
        await pilot.press("p")


async def select(
    pilot: Pilot[None], screen: LessonScreen, function: str, event: str | None
) -> None:
    while screen.function != function:
        await pilot.press("f")
    while event is not None and screen.event != event:
        await pilot.press("e")


async def step_time(pilot: Pilot[None], screen: LessonScreen, seconds: float) -> None:
    """Press '.' until virtual time has moved ``seconds`` (or nothing is left to run)."""
    service = screen.session.service
    target = service.now_ms + seconds * 1000
    while target - service.now_ms > 60_000 and not service.waiting_on_code:
        await pilot.press("greater_than_sign")  # a minute at a time over long waits
    while service.now_ms < target or service.waiting_on_code:
        nxt = service.loop.peek()
        if not service.waiting_on_code and (nxt is None or nxt > target):
            break
        await pilot.press("full_stop")


async def settle(pilot: Pilot[None], screen: LessonScreen) -> None:
    for _ in range(200):
        pending = [i for i in screen.session.history if not i.done]
        if not pending and not screen.session.service.waiting_on_code:
            return
        await pilot.press("full_stop")


async def play(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    if action.do == "answer":
        await go_to_step(pilot, screen, p["step"])
        step = screen.step
        assert step.predict is not None
        if step.predict.choices:
            await pilot.press(str(int(p["value"]) + 1))
        else:
            await pilot.press(*str(p["value"]), "enter")
            await pilot.pause()
        assert step.id in screen.session.answers
    elif action.do in ("invoke", "burst"):
        await select(pilot, screen, p["function"], p.get("event"))
        kind = p.get("type", "sync")
        if action.do == "burst":
            assert p.get("count", screen.lesson.lab.burst) == screen.lesson.lab.burst
            await pilot.press("b" if kind == "sync" else "B")
        else:
            for _ in range(int(p.get("times", 1))):
                await pilot.press("i" if kind == "sync" else "a")
                if kind == "sync":
                    await settle(pilot, screen)
    elif action.do == "set":
        await select(pilot, screen, p["function"], None)
        await pilot.press("o")
        await pilot.pause()
        index = [key for key, _, _ in FIELDS].index(p["key"])
        for _ in range(index):
            await pilot.press("tab")
        field = pilot.app.screen.query_one(f"#set-{p['key']}", Input)
        assert pilot.app.focused is field
        await pilot.press(
            *str(p["value"]), "enter"
        )  # focusing a field selects its text
        await pilot.pause()
        assert pilot.app.screen is screen, "the setting was refused"
    elif action.do == "wait":
        await step_time(pilot, screen, float(p["seconds"]))
    elif action.do == "write":
        await select(
            pilot,
            screen,
            next(
                f.name
                for f in screen.lesson.lab.functions
                if f.handler and f.handler.startswith(p["file"])
            ),
            None,
        )
        await pilot.press("c")
        editor = pilot.app.screen.query_one(TextArea)
        text = screen.lesson.solution_files[p["file"]]
        old, new = editor.text.split("\n"), text.split("\n")
        if len(old) == len(new):
            # Retype only the lines that differ, as a learner fixing a line would.
            for number, (before, after) in enumerate(zip(old, new, strict=True)):
                if before == after:
                    continue
                # home lands after the indentation (the editor's smart home)
                indent = len(before) - len(before.lstrip())
                await pilot.press("ctrl+home", *["down"] * number, "home", "shift+end")
                if after[:indent] != before[:indent]:
                    await pilot.press("home", "shift+end")
                    indent = 0
                rest = after[indent:]
                await pilot.press(*rest) if rest else await pilot.press("delete")
        else:
            editor.select_all()
            for number, line in enumerate(new):
                if number:
                    await pilot.press("enter")
                    if editor.cursor_location[1]:
                        await pilot.press("shift+home", "delete")
                if line:
                    await pilot.press(*line)
        await pilot.press("ctrl+s", "escape")
        assert pilot.app.screen is screen
        assert screen.session.code(p["file"]) == text


@pytest.mark.parametrize("lesson", PLAYABLE, ids=lambda lesson: lesson.id)
async def test_lesson_completed_with_the_keyboard(
    app_factory: AppFactory, lesson: Lesson
) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        index = COURSE.lessons.index(lesson)
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson.id
        for action in lesson.solution:
            await play(pilot, screen, action)
        await settle(pilot, screen)
        await step_time(pilot, screen, 600)
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


def test_the_keyboard_player_covers_the_first_lessons() -> None:
    played = {lesson.id for lesson in PLAYABLE}
    assert {
        "sync-vs-async",
        "cold-starts",
        "throttling",
        "monitoring",
        "cost",
    } <= played
