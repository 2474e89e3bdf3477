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


async def test_code_that_is_not_utf8_is_named_and_the_lab_stays(
    app_factory: AppFactory,
) -> None:
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        handler = screen.session.workspace / "handler.py"
        handler.write_bytes(b"# caf\xe9\ndef handler(event, context):\n    return 1\n")
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is screen  # no editor over bytes it cannot show
        assert any(
            str(handler) in message and "not UTF-8" in message
            for message in notifications(app)
        )


async def test_a_failed_save_keeps_the_edits_in_the_editor(
    app_factory: AppFactory, monkeypatch: object
) -> None:
    import pytest

    from lambdalab.errors import ProgressError
    from lambdalab.ui.screens.editor import EditorScreen

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen)

        def full_disk(file: str, text: str) -> None:
            raise ProgressError(f"Cannot save {file}: No space left on device.")

        monkeypatch.setattr(screen.session, "save_code", full_disk)
        await pilot.press("c")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        await pilot.press("end", "x", "ctrl+s")
        await pilot.pause()
        assert app.screen is editor
        assert editor.text != editor.saved_text  # the edit is not lost
        assert any("Your edits are still" in m for m in notifications(app))


async def test_the_note_for_a_bracket_key_shows_the_key(
    app_factory: AppFactory,
) -> None:
    # Tester: "[" in a lab with one tab read "[[/b]: this lab has no other tabs."
    from textual.markup import to_content

    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("[")
        await pilot.pause()
        shown = [to_content(message).plain for message in notifications(app)]
        assert "[: this lab has no other tabs." in shown


def test_environment_chips_wrap_between_chips_never_inside_one() -> None:
    # Tester: at 120x40 "env-5" ended one line and "idle ·1" began the next.
    from lambdalab.engine.service import ExecutionEnvironment
    from lambdalab.ui.render import environments

    envs = [
        ExecutionEnvironment(
            f"env-{n}", "f", "stream", 0.0, state="idle", invocations=1
        )
        for n in range(1, 10)
    ]
    lines = environments(envs, 60).plain.split("\n")
    assert len(lines) > 1
    for line in lines:
        assert len(line) <= 60
        for chip in filter(None, line.split("  ")):
            assert chip.strip().startswith("env-") and chip.strip().endswith("·1")
