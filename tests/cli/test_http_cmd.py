"""``lambdalab http``: raw responses on stdout, reasons on stderr, exit statuses."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lambdalab.cli import main


def write(tmp_path: Path, value: object) -> str:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


def test_rest_multi_value_headers_printed_as_raw_http_t43(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(
        tmp_path,
        {
            "statusCode": 200,
            "multiValueHeaders": {"test-multi": ["value1", "value2"]},
            "body": "ok",
        },
    )
    assert main(["http", name, "--api", "rest"]) == 0
    out, err = capsysbinary.readouterr()
    assert (
        out == b"HTTP/1.1 200 OK\r\ntest-multi: value1\r\ntest-multi: value2\r\n\r\nok"
    )
    assert b"Method completed with status: 200" in err


def test_rest_merge_notes_go_to_stderr(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(
        tmp_path,
        {
            "headers": {"Set-Cookie": "c=3"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        },
    )
    assert main(["http", name]) == 0
    out, err = capsysbinary.readouterr()
    assert out.count(b"Set-Cookie: ") == 3
    assert b"note: REST: headers['Set-Cookie'] merged after multiValueHeaders" in err


def test_malformed_result_prints_the_502_and_says_why(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(tmp_path, {"statusCode": 200, "wrongValue": 1})
    assert main(["http", name, "--api", "rest"]) == 0
    out, err = capsysbinary.readouterr()
    assert out == (
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n\r\n"
        b'{"message": "Internal server error"}'
    )
    assert b"unknown key 'wrongValue'" in err
    assert b"Malformed Lambda proxy response" in err


def test_http_api_inferred_format_t49(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(tmp_path, {"message": "hi"})
    assert main(["http", name, "--api", "http"]) == 0
    out, _ = capsysbinary.readouterr()
    assert (
        out
        == b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"message":"hi"}'
    )


def test_alb_single_and_multi_value_modes(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(
        tmp_path,
        {
            "statusCode": 200,
            "headers": {"Set-Cookie": "a=1", "set-cookie": "b=2"},
            "multiValueHeaders": {"Set-Cookie": ["x=1", "y=2"]},
        },
    )
    assert main(["http", name, "--api", "alb"]) == 0
    out, err = capsysbinary.readouterr()
    assert out == b"HTTP/1.1 200 OK\r\nset-cookie: b=2\r\n\r\n"
    assert b"kept the last of 2 Set-Cookie values" in err
    assert main(["http", name, "--api", "alb", "--multi-value"]) == 0
    out, _ = capsysbinary.readouterr()
    assert out == b"HTTP/1.1 200 OK\r\nSet-Cookie: x=1\r\nSet-Cookie: y=2\r\n\r\n"


def test_function_error_document_gives_the_front_door_error_t46(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(tmp_path, {"errorMessage": "Handler fails", "errorType": "Exception"})
    assert main(["http", name, "--function-error"]) == 0
    out, err = capsysbinary.readouterr()
    assert out.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert b"due to customer function error: Handler fails." in err


def test_binary_body_is_written_as_bytes_r17(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(
        tmp_path,
        {
            "statusCode": 200,
            "headers": {"content-type": "image/png"},
            "isBase64Encoded": True,
            "body": "iVBORw0KGgo=",
        },
    )
    assert main(["http", name, "--binary-media-type", "image/png"]) == 0
    out, _ = capsysbinary.readouterr()
    assert out.endswith(b"\r\n\r\n\x89PNG\r\n\x1a\n")


def test_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('"justAString"'))
    assert main(["http", "-"]) == 0
    out, err = capsysbinary.readouterr()
    assert out.startswith(b"HTTP/1.1 502 Bad Gateway")
    assert b"not a JSON object" in err


def test_missing_file_exits_2_naming_it(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    missing = str(tmp_path / "nope.json")
    assert main(["http", missing]) == 2
    out, err = capsysbinary.readouterr()
    assert out == b""
    assert (
        f"cannot read response file {missing!r}: No such file or directory".encode()
        in err
    )


def test_bad_json_exits_2_naming_file_and_problem(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"statusCode": 200,', encoding="utf-8")
    assert main(["http", str(path)]) == 2
    _, err = capsysbinary.readouterr()
    assert f"response file {str(path)!r} is not valid JSON".encode() in err
    assert b"line 1, column 20" in err
    path.write_text("NaN", encoding="utf-8")
    assert main(["http", str(path)]) == 2
    _, err = capsysbinary.readouterr()
    assert b"NaN is not a JSON value" in err


def test_options_for_another_front_door_exit_2(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    name = write(tmp_path, {"statusCode": 200})
    assert main(["http", name, "--api", "rest", "--multi-value"]) == 2
    assert main(["http", name, "--api", "alb", "--binary-media-type", "image/png"]) == 2
    _, err = capsysbinary.readouterr()
    assert b"--multi-value applies to --api alb only" in err
