"""``lambdalab lessons check``: exit statuses and messages for authors' mistakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambdalab.cli import main
from lambdalab.course.loader import bundled_lessons_path

LESSON = bundled_lessons_path() / "01-first-invocation"


def check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    code = main(["lessons", "check", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_lesson_that_cannot_load_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same status as `lambdalab --lessons` and every other input error
    lesson = tmp_path / "lesson"
    shutil.copytree(LESSON, lesson)
    manifest = lesson / "lesson.toml"
    manifest.write_text(manifest.read_text().replace('id = "warm-start"', "id = 5"))
    code, out, err = check(capsys, lesson)
    assert code == 2
    assert out == ""
    assert err.startswith(f"lambdalab: {manifest}:")
    assert "steps[1].id: must be text, not 5." in err


def test_an_empty_folder_says_what_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check(capsys, tmp_path)
    assert code == 2
    assert "has neither course.toml nor lesson.toml" in err
    assert "file not found" not in err


def test_a_lesson_toml_in_utf16_is_named_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = tmp_path / "lesson"
    shutil.copytree(LESSON, lesson)
    manifest = lesson / "lesson.toml"
    manifest.write_bytes(b"\xff\xfe")
    code, _, err = check(capsys, lesson)
    assert code == 2
    assert err == (
        f"lambdalab: {manifest}: not UTF-8 text (it starts with a UTF-16 byte-order "
        "mark, so it was saved as UTF-16). Save it as UTF-8 and try again.\n"
    )


def test_a_lesson_whose_replay_fails_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it loads, so this is a finding of the check, not an input error
    lesson = tmp_path / "lesson"
    shutil.copytree(LESSON, lesson)
    (lesson / "handler.py").write_text("def handler(event, context)\n    return 1\n")
    code, out, err = check(capsys, lesson)
    assert code == 1
    assert out.startswith("FAIL first-invocation")
    assert "1 lesson(s) checked" in out
    assert "expected ':'" in err
