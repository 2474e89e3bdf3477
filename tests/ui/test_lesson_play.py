"""Play lesson 1 to its end with the keyboard alone, in step mode (clock stopped)."""

from __future__ import annotations

from pathlib import Path

from players import AppFactory, press, quick, quick_key, settle, tap
from textual.pilot import Pilot
from textual.widgets import TextArea

from lambdalab.course.progress import ProgressStore
from lambdalab.ui.screens.lesson import LessonScreen


async def run_latest(pilot: Pilot[None], screen: LessonScreen) -> None:
    """Press '.' (step) until the latest invocation has finished."""
    for _ in range(40):
        history = screen.session.history
        if history and history[-1].done and not screen.session.service.waiting_on_code:
            break
        await quick_key(pilot, "full_stop")
    await settle(pilot)


async def test_lesson_one_played_with_the_keyboard(
    app_factory: AppFactory, home: Path
) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "enter")  # open lesson 1 from the course map
        screen = app.screen
        assert (
            isinstance(screen, LessonScreen) and screen.lesson.id == "first-invocation"
        )

        # step 1: the lab is locked until the prediction is made
        await tap(pilot, "i")
        assert screen.session.history == []
        await tap(pilot, "2", "i")
        await run_latest(pilot, screen)
        assert screen.session.history[-1].cold
        assert "cold-start" in screen.state.passed_steps

        # step 2: a numeric prediction, typed, then a warm invoke
        await tap(pilot, "n")
        await press(pilot, "2", "enter")
        assert screen.session.answers["warm-start"] == 2
        await tap(pilot, "i")
        await run_latest(pilot, screen)
        assert not screen.session.history[-1].cold
        assert "warm-start" in screen.state.passed_steps

        # step 3: choose the no-name event and watch the KeyError come back as 200
        await tap(pilot, "n", "1", "e", "e", "i")
        await run_latest(pilot, screen)
        response = screen.session.history[-1].response
        assert response is not None and response.status_code == 200
        assert response.function_error == "Unhandled"
        assert "error" in screen.state.passed_steps

        # step 4: fix the code in the editor, save, go back, invoke again
        await tap(pilot, "n")
        await press(pilot, "c")
        editor = app.screen.query_one(TextArea)
        editor.move_cursor((12, 0))
        await tap(pilot, "shift+end")
        await quick(pilot, *'    name = event.get("name", "stranger")')
        await press(pilot, "ctrl+s", "escape")
        assert app.screen is screen
        await tap(pilot, "i")
        await run_latest(pilot, screen)
        assert screen.session.history[-1].response is not None
        assert '"Hello, stranger!"' in screen.session.history[-1].response.payload
        assert screen.state.completed

        # the recap, then on to lesson 2
        await tap(pilot, "n")
        await press(pilot, "escape")
        assert (
            isinstance(app.screen, LessonScreen)
            and app.screen.lesson.id == "sync-vs-async"
        )

    saved = ProgressStore("tester", home=home).load()
    assert saved.lessons["first-invocation"].completed
    assert saved.current == "sync-vs-async"
    assert (
        'event.get("name", "stranger")'
        in (home / "learners/tester/workspace/first-invocation/handler.py").read_text()
    )


async def test_reopening_returns_to_the_same_step(app_factory: AppFactory) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "enter", "n", "n")
        assert isinstance(app.screen, LessonScreen) and app.screen.step_index == 2
    again = app_factory()
    async with again.run_test(size=(120, 40)) as pilot:
        await press(pilot, "enter")
        assert isinstance(again.screen, LessonScreen) and again.screen.step_index == 2


async def test_hints_come_one_at_a_time_and_are_saved(
    app_factory: AppFactory, home: Path
) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "enter", "h")
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        assert screen.state.hints_used == {"cold-start": 1}
        await press(pilot, "h", "h")
        assert screen.state.hints_used == {"cold-start": 2}  # only two hints exist
    assert ProgressStore("tester", home=home).load().lessons[
        "first-invocation"
    ].hints_used == {"cold-start": 2}


async def test_solution_asks_first(app_factory: AppFactory) -> None:
    from lambdalab.ui.screens.dialogs import ConfirmScreen, PageScreen

    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "enter", "s")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "n")
        assert isinstance(app.screen, LessonScreen)
        await press(pilot, "s", "y")
        assert isinstance(app.screen, PageScreen)
