"""The course map: enter continues the lesson the continue line names."""

from __future__ import annotations

from players import AppFactory

from lambdalab.ui.screens.course_map import CourseMapScreen
from lambdalab.ui.screens.lesson import LessonScreen


async def test_back_from_a_lesson_the_highlight_follows_the_continue_line(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")  # lesson 1
        assert isinstance(app.screen, LessonScreen)
        # the learner moved on to lesson 2 (as escape from a recap does), then left it
        app.progress.current = "sync-vs-async"
        await pilot.press("escape")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CourseMapScreen)
        assert "Synchronous versus asynchronous" in str(
            screen.query_one("#continue").content  # type: ignore[attr-defined]
        )
        await pilot.press("enter")
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "sync-vs-async"
