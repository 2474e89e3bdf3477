"""Sizes, bad progress files and hidden-screen timers."""

from __future__ import annotations

from pathlib import Path

from conftest import AppFactory
from textual.widgets import Static

from lambdalab.ui.screens.dialogs import PageScreen, TooSmallScreen
from lambdalab.ui.screens.lesson import LessonScreen


async def test_too_small_terminal_says_so(app_factory: AppFactory) -> None:
    app = app_factory()
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        text = str(app.screen.query_one("#too-small", Static).content)
        assert "It is 70x20; lambdalab needs at least 80x24." in text
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not isinstance(app.screen, TooSmallScreen)


async def test_corrupt_progress_is_set_aside_with_a_message(
    app_factory: AppFactory, home: Path
) -> None:
    folder = home / "learners" / "tester"
    folder.mkdir(parents=True)
    (folder / "progress.json").write_text("\x00garbage")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert any("could not be read" in n.message for n in app._notifications)
    assert (folder / "progress.corrupt-1.json").read_text() == "\x00garbage"


async def test_f1_opens_help(app_factory: AppFactory) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, PageScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, PageScreen)


async def test_hidden_lesson_screen_stops_ticking_r39(app_factory: AppFactory) -> None:
    # PITFALLS R39: a suspended screen's timer must not keep firing.
    app = app_factory(live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await pilot.pause(0.35)
        moved = screen.session.service.now_ms
        assert moved > 0  # the lab runs while visible
        await pilot.press("f1")
        await pilot.pause(0.1)  # let the help screen cover the lesson
        moved = screen.session.service.now_ms
        await pilot.pause(0.5)
        assert screen.session.service.now_ms == moved
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert screen.session.service.now_ms > moved


async def test_narrow_terminal_shows_one_pane_at_a_time(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        assert screen.has_class("narrow")
        assert (
            screen.query_one("#lesson-pane").display
            and not screen.query_one("#lab-pane").display
        )
        await pilot.press("v")
        assert (
            screen.query_one("#lab-pane").display
            and not screen.query_one("#lesson-pane").display
        )


async def test_theme_from_the_command_line_and_remembered(
    app_factory: AppFactory, home: Path
) -> None:
    from lambdalab.course.loader import bundled_lessons_path, load_course
    from lambdalab.course.progress import ProgressStore
    from lambdalab.ui.app import make_app

    course = load_course(bundled_lessons_path())
    app = make_app(
        course, ProgressStore("tester", home=home), live=False, theme="textual-light"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"
    assert ProgressStore("tester", home=home).load().theme == "textual-light"
    again = app_factory()
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert again.theme == "textual-light"
