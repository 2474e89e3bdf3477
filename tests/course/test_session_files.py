"""A lab's workspace files: a bad one is named, a failed save never loses code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.model import Lesson
from lambdalab.course.session import LabSession
from lambdalab.errors import HandlerError, ProgressError


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    found = load_course(bundled_lessons_path()).lesson("first-invocation")
    assert found is not None
    return found


@pytest.fixture
def session(lesson: Lesson, tmp_path: Path) -> Iterator[LabSession]:
    lab = LabSession(lesson, tmp_path / "work", wall_guard_s=2.0)
    yield lab
    lab.close()


def test_a_code_file_saved_in_another_encoding_is_named_and_kept(
    session: LabSession,
) -> None:
    path = session.workspace / "handler.py"
    original = b"# r\xe9sum\xe9\ndef handler(event, context):\n    return 1\n"
    path.write_bytes(original)
    with pytest.raises(HandlerError) as caught:
        session.code("handler.py")
    message = str(caught.value)
    assert message.startswith(f"Code file {path}: not UTF-8 text")
    assert "byte 0xe9 on line 1" in message and "Save it as UTF-8" in message
    assert path.read_bytes() == original  # the learner's bytes are untouched


def test_a_deleted_code_file_comes_back_as_the_lesson_started_it(
    session: LabSession, lesson: Lesson
) -> None:
    (session.workspace / "handler.py").unlink()
    assert session.code("handler.py") == lesson.files["handler.py"]


def test_a_code_file_that_is_a_folder_is_named(session: LabSession) -> None:
    path = session.workspace / "handler.py"
    path.unlink()
    path.mkdir()
    with pytest.raises(HandlerError) as caught:
        session.code("handler.py")
    assert str(caught.value).startswith(f"Cannot read code file {path}")


def test_a_failed_save_keeps_the_previous_code_whole(
    session: LabSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = session.workspace / "handler.py"
    before = path.read_text(encoding="utf-8")

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ProgressError) as caught:
        session.save_code("handler.py", "def handler(event, context):\n    return 2\n")
    message = str(caught.value)
    assert f"Cannot save {path}: No space left on device" in message
    assert path.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in session.workspace.iterdir()) == ["handler.py"]


def test_a_save_replaces_the_file(session: LabSession) -> None:
    text = "def handler(event, context):\n    return 'caf\u00e9'\n"
    session.save_code("handler.py", text)
    assert session.code("handler.py") == text
    assert sorted(p.name for p in session.workspace.iterdir()) == ["handler.py"]


def test_a_workspace_that_is_a_file_is_named(lesson: Lesson, tmp_path: Path) -> None:
    blocker = tmp_path / "work"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ProgressError) as caught:
        LabSession(lesson, blocker, wall_guard_s=2.0)
    assert str(caught.value).startswith(f"Cannot prepare the code folder {blocker}")
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_save_keeps_the_file_mode(session: LabSession) -> None:
    path = session.workspace / "handler.py"
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain write makes
    path.chmod(0o640)
    session.save_code("handler.py", "def handler(event, context):\n    return 3\n")
    assert path.stat().st_mode & 0o777 == 0o640
