"""The course map when the learner's files cannot be made or reset: a message, the
map stays, and no progress is lost."""

from __future__ import annotations

from pathlib import Path

from players import AppFactory

from lambdalab.ui.screens.course_map import CourseMapScreen
from lambdalab.ui.screens.lesson import LessonScreen


def notifications(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


async def test_a_lesson_whose_code_folder_cannot_be_made_says_so_and_stays_on_the_map(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    workspace = app.store.workspace(app.course.lessons[0].id)
    workspace.parent.mkdir(parents=True, exist_ok=True)
    workspace.write_text("not a folder")  # where the lesson's code folder should be
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CourseMapScreen)
        assert app.progress.current is None
        assert any(str(workspace) in message for message in notifications(app))


async def test_a_reset_that_cannot_restore_the_code_keeps_the_progress(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    lesson = app.course.lessons[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")  # open lesson 1: its code folder is made
        assert isinstance(app.screen, LessonScreen)
        app.progress.lesson(lesson.id).passed_steps.append("done-before")
        await pilot.press("escape")
        await pilot.pause()
        workspace: Path = app.store.workspace(lesson.id)
        for path in workspace.iterdir():  # the code cannot be written back
            if path.is_file():
                path.unlink()
                path.mkdir()
        await pilot.press("x", "y")
        await pilot.pause()
        assert app.progress.lesson(lesson.id).passed_steps == ["done-before"]
        assert any("is kept" in message for message in notifications(app))
