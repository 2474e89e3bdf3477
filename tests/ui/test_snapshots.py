"""Snapshots of the course map and a lesson at 80x24 and 120x40, clock stopped."""

from __future__ import annotations

import pytest
from conftest import AppFactory
from textual.pilot import Pilot

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.ui.screens.lesson import LessonScreen


async def _invoke_once(pilot: Pilot[None]) -> None:
    await pilot.press("enter", "2", "i")
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen)
    while not screen.session.history[-1].done:
        await pilot.press("full_stop")
    pilot.app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_course_map(
    snap_compare: object, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(app_factory(), terminal_size=size)  # type: ignore[operator]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_lesson_after_first_invoke(
    snap_compare: object, app_factory: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(app_factory(), terminal_size=size, run_before=_invoke_once)  # type: ignore[operator]


LESSON_IDS = [lesson.id for lesson in load_course(bundled_lessons_path()).lessons]


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_first_screen_of_each_lesson(
    snap_compare: object, app_factory: AppFactory, lesson_id: str
) -> None:
    assert snap_compare(app_factory(open_lesson=lesson_id), terminal_size=(80, 24))  # type: ignore[operator]
