"""Free play names a learner's handler or event file it cannot read, and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalab.course.freeplay import free_play_course
from lambdalab.errors import HandlerError

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


@pytest.fixture
def handler(tmp_path: Path) -> Path:
    path = tmp_path / "handler.py"
    path.write_text(HANDLER, encoding="utf-8")
    return path


def test_a_latin1_handler_is_named_with_the_byte_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "caf\u00e9.py"
    path.write_bytes(b"# caf\xe9\ndef handler(event, context):\n    return 1\n")
    with pytest.raises(HandlerError) as caught:
        free_play_course(f"{path}:handler", [], None)
    message = str(caught.value)
    assert message.startswith(f"Handler file {path}: not UTF-8 text")
    assert "byte 0xe9 on line 1" in message
    assert "Save it as UTF-8" in message


def test_a_utf16_event_file_is_named(tmp_path: Path, handler: Path) -> None:
    event = tmp_path / "order.json"
    event.write_text('{"id": 1}', encoding="utf-16")
    with pytest.raises(HandlerError) as caught:
        free_play_course(f"{handler}:handler", [str(event)], None)
    message = str(caught.value)
    assert message.startswith(f"Event file {event}: not UTF-8 text")
    assert "UTF-16" in message


def test_an_event_file_with_invalid_bytes_is_named(
    tmp_path: Path, handler: Path
) -> None:
    event = tmp_path / "bad.json"
    event.write_bytes(b'{"name": "Ada"}\n{"x": "\xff"}')
    with pytest.raises(HandlerError) as caught:
        free_play_course(f"{handler}:handler", [str(event)], None)
    assert str(caught.value).startswith(f"Event file {event}: not UTF-8 text")
    assert "byte 0xff on line 2" in str(caught.value)


def test_a_folder_given_as_event_file_is_named(tmp_path: Path, handler: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    with pytest.raises(HandlerError) as caught:
        free_play_course(f"{handler}:handler", [str(folder)], None)
    assert f"Cannot read event file {folder}" in str(caught.value)


def test_good_files_still_make_the_lab(tmp_path: Path, handler: Path) -> None:
    event = tmp_path / "order.json"
    event.write_text('{"id": "caf\u00e9"}', encoding="utf-8")
    course = free_play_course(f"{handler}:handler", [str(event)], None)
    lesson = course.lessons[0]
    assert lesson.lab.events["order"] == {"id": "caf\u00e9"}
    assert lesson.files == {"handler.py": HANDLER}
