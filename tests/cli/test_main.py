"""The shell: a file or encoding error no subcommand named becomes one line, exit 2."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from lambdalab.cli import main
from lambdalab.errors import LessonFormatError


def failing(exc: BaseException) -> Callable[[object], int]:
    def open_course(args: object) -> int:
        raise exc

    return open_course


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
) -> tuple[int, str, str]:
    # `lambdalab` with no command opens the course: the handler stands in for it
    monkeypatch.setattr("lambdalab.cli.lab_cmd.open_course", failing(exc))
    code = main([])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_os_error_names_the_path_without_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exc = PermissionError(13, "Permission denied", "/srv/course/lesson.toml")
    assert run(capsys, monkeypatch, exc) == (
        2,
        "",
        "lambdalab: /srv/course/lesson.toml: Permission denied. Check the path and "
        "that you may read or write it.\n",
    )


def test_a_decode_error_says_to_save_as_utf8(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exc = UnicodeDecodeError("utf-8", b"\xff\xfe", 0, 1, "invalid start byte")
    code, _, err = run(capsys, monkeypatch, exc)
    assert code == 2
    assert err == (
        "lambdalab: a file is not UTF-8 text (invalid start byte at byte 0). Save it "
        "as UTF-8 and try again.\n"
    )


def test_an_encode_error_says_how_to_get_utf8_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exc = UnicodeEncodeError("ascii", "λ", 0, 1, "ordinal not in range(128)")
    code, _, err = run(capsys, monkeypatch, exc)
    assert code == 2
    assert "PYTHONIOENCODING=utf-8" in err
    assert "Traceback" not in err


def test_the_traceback_goes_to_the_debug_log_only(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="lambdalab.cli"):
        code, _, err = run(capsys, monkeypatch, OSError(5, "Input/output error"))
    assert (code, err) == (2, "lambdalab: Input/output error.\n")
    [record] = [r for r in caplog.records if r.name == "lambdalab.cli"]
    assert record.levelno == logging.DEBUG
    assert record.exc_info is not None and record.exc_info[0] is OSError


def test_a_broken_pipe_exits_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `lambdalab cron ... | head`: the reader left; there is no one to tell
    code, _, err = run(capsys, monkeypatch, BrokenPipeError(32, "Broken pipe"))
    assert (code, err) == (141, "")


def test_lambdalab_errors_are_still_printed_as_they_are(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exc = LessonFormatError("course.toml:3: lessons: must be a list.")
    assert run(capsys, monkeypatch, exc) == (
        2,
        "",
        "lambdalab: course.toml:3: lessons: must be a list.\n",
    )
