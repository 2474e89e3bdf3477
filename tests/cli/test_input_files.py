"""Files that are not UTF-8 (or start with a byte-order mark): named, never a traceback.

Each command that reads a file the user names says which file, why it cannot be read
and what to do, with exit status 2. A UTF-8 byte-order mark is accepted where JSON or
TOML is read.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from lambdalab.cli import main
from lambdalab.course.loader import bundled_lessons_path

UTF16 = (
    "not UTF-8 text (it starts with a UTF-16 byte-order mark, so it was saved as "
    "UTF-16). Save it as UTF-8 and try again."
)
HANDLER = "def handler(event, context):\n    return event\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def handler(tmp_path: Path) -> str:
    (tmp_path / "h.py").write_text(HANDLER)
    return f"{tmp_path / 'h.py'}:handler"


def utf16(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-16")
    return path


def test_simulate_names_a_utf16_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = utf16(tmp_path / "s.toml", "seed = 1\n")
    assert run(capsys, "simulate", str(path)) == (
        2,
        "",
        f"lambdalab: {path}: {UTF16}\n",
    )


def test_export_names_a_utf16_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = utf16(tmp_path / "s.toml", "seed = 1\n")
    code, _, err = run(capsys, "export", str(path), "--out", str(tmp_path / "out"))
    assert (code, err) == (2, f"lambdalab: {path}: {UTF16}\n")


def test_export_names_a_scenario_handler_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "h.py").write_bytes(b"# caf\xe9\n" + HANDLER.encode())
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        '[[functions]]\nname = "f"\nhandler = "h.py:handler"\n'
        '[[traffic]]\nfunction = "f"\nrate = 1\nstop_s = 1\n'
    )
    code, _, err = run(capsys, "export", str(scenario), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err == (
        f"lambdalab: Cannot read the handler of f: {tmp_path / 'h.py'}: not UTF-8 "
        "text (byte 0xe9 on line 1 is not valid UTF-8). Save it as UTF-8 and try "
        "again.\n"
    )


def test_invoke_names_a_utf16_event_file(
    tmp_path: Path, handler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = utf16(tmp_path / "ev.json", '{"a": 1}')
    code, out, err = run(capsys, "invoke", handler, "--event", str(event))
    assert (code, out) == (2, "")
    assert err == f"lambdalab: Event file {event}: {UTF16}\n"


def test_invoke_names_utf16_on_stdin(
    handler: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = io.TextIOWrapper(io.BytesIO('{"a": 1}'.encode("utf-16")), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", raw)
    code, _, err = run(capsys, "invoke", handler, "--event", "-")
    assert (code, err) == (2, f"lambdalab: Event file standard input: {UTF16}\n")


def test_invoke_accepts_an_event_file_with_a_utf8_byte_order_mark(
    tmp_path: Path, handler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "ev.json"
    event.write_text('{"name": "Ada"}', encoding="utf-8-sig")
    code, out, _ = run(capsys, "invoke", handler, "--event", str(event))
    assert code == 0
    assert json.loads(out) == {"name": "Ada"}


def test_lab_names_a_utf16_event_file(
    tmp_path: Path, handler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = utf16(tmp_path / "ev.json", '{"a": 1}')
    code, _, err = run(capsys, "lab", handler, "--event", str(event))
    assert (code, err) == (2, f"lambdalab: Event file {event}: {UTF16}\n")


def test_lab_asks_for_an_event_file_without_a_byte_order_mark(
    tmp_path: Path, handler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "ev.json"
    event.write_text('{"a": 1}', encoding="utf-8-sig")
    code, _, err = run(capsys, "lab", handler, "--event", str(event))
    assert code == 2
    assert "save it as UTF-8 without a BOM" in err
    assert "utf-8-sig" not in err


def test_lab_names_a_handler_file_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lat.py"
    path.write_bytes(b'GREETING = "caf\xe9"\n' + HANDLER.encode())
    code, _, err = run(capsys, "lab", f"{path}:handler")
    assert code == 2
    assert err.startswith(f"lambdalab: Handler file {path}: not UTF-8 text (byte 0xe9")


def test_http_accepts_a_response_with_a_utf8_byte_order_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"statusCode": 201, "body": "made"}', encoding="utf-8-sig")
    code, out, err = run(capsys, "http", str(path), "--api", "rest")
    assert code == 0
    assert out.startswith("HTTP/1.1 201 Created")
    assert "utf-8-sig" not in err


def test_http_names_a_utf16_response_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = utf16(tmp_path / "r.json", '{"statusCode": 200}')
    code, _, err = run(capsys, "http", str(path))
    assert (code, err) == (2, f"lambdalab: response file {str(path)!r}: {UTF16}\n")


def test_opening_a_lesson_pack_names_a_utf16_lesson_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = tmp_path / "lesson"
    shutil.copytree(bundled_lessons_path() / "01-first-invocation", lesson)
    manifest = utf16(lesson / "lesson.toml", (lesson / "lesson.toml").read_text())
    code, _, err = run(capsys, "--lessons", str(lesson))
    assert (code, err) == (2, f"lambdalab: {manifest}: {UTF16}\n")
