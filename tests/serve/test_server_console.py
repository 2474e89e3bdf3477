"""What the instructor sees: a readable console, and key refusals that say why.

The console test runs the real ``lambdalab serve`` on 127.0.0.1 (a free port) and
reads its output; the key tests use aiohttp's test client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from lambdalab.serve.server import ACCESS_LOG, ClassroomServer

KEY = "sesame-Xy9"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_serve(tmp_path: Path, *extra: str) -> tuple[str, str]:
    """Start ``lambdalab serve``, make a few requests, stop it; its stdout and stderr."""
    port = free_port()
    env = dict(os.environ, LAMBDALAB_HOME=str(tmp_path / "home"), COLUMNS="200")
    command = [sys.executable, "-m", "lambdalab", "serve", "--port", str(port)]
    command += ["--instructor-key", KEY, *extra]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                assert process.poll() is None, "serve exited early"
                assert time.monotonic() < end, "serve did not start"
                time.sleep(0.1)
        for path in ("/?learner=Ada", f"/instructor.json?key={KEY}", "/nothing"):
            try:
                urllib.request.urlopen(base + path, timeout=5).close()
            except OSError:
                pass  # a 404 is a request too
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    return out, err


def test_the_console_shows_no_request_lines_by_default(tmp_path: Path) -> None:
    out, err = run_serve(tmp_path)
    console = out + err
    assert "Learners open:   http://127.0.0.1:" in console
    assert f"instructor?key={KEY}" in console  # the one place the key is shown
    assert "GET /" not in console
    assert "HTTP/1.1" not in console
    assert console.count(KEY) == 1


def test_access_log_flag_shows_each_request_without_the_key(tmp_path: Path) -> None:
    out, err = run_serve(tmp_path, "--access-log")
    console = out + err
    assert "GET /?learner=Ada 200" in console
    assert "GET /nothing 404" in console
    assert "GET /instructor.json?key=*** 200" in console
    assert console.count(KEY) == 1  # only the start-up line
    # Plain request lines: time, client, method, path, status, size, duration; no
    # log level (the instructor asked for an access log, not a debug log).
    lines = [line for line in console.splitlines() if " GET " in line]
    assert len(lines) == 4
    for line in lines:
        assert re.fullmatch(
            r"\d\d:\d\d:\d\d 127\.0\.0\.1 GET /\S* \d{3} \d+B \d+ms", line
        ), line
    assert "DEBUG" not in console


def test_stopping_says_it_is_stopping_and_when_it_has(tmp_path: Path) -> None:
    out, err = run_serve(tmp_path)
    console = out + err
    stopping = console.index("Stopping the classroom (no learner apps open).")
    stopped = console.index("Classroom stopped: 0 learner apps ended, in ")
    assert stopping < stopped


def test_access_log_flag_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    from lambdalab.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--access-log" in capsys.readouterr().out


# -- the instructor key ------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    server = ClassroomServer(status_dir=tmp_path, instructor_key=KEY)
    test_server = TestServer(await server._make_app())
    # The runner options go to start_server: TestServer() drops its extra arguments.
    await test_server.start_server(**server.access_log_options())
    test_client = TestClient(test_server)
    await test_client.start_server()
    yield test_client
    await test_client.close()


@pytest.mark.parametrize("path", ["/instructor", "/instructor.json"])
async def test_a_missing_key_says_where_the_key_is(
    client: TestClient, path: str
) -> None:
    response = await client.get(path)
    text = await response.text()
    assert response.status == 403
    assert "needs the instructor key" in text
    assert "lambdalab serve" in text and "Instructor view" in text
    assert KEY not in text


@pytest.mark.parametrize("path", ["/instructor", "/instructor.json"])
@pytest.mark.parametrize("given", ["nope", KEY.upper(), KEY[:-1], " " + KEY])
async def test_a_wrong_key_is_told_apart_from_a_missing_one(
    client: TestClient, path: str, given: str
) -> None:
    response = await client.get(path, params={"key": given})
    text = await response.text()
    assert response.status == 403
    assert "not this classroom's instructor key" in text
    assert "needs the instructor key" not in text
    assert KEY not in text and given not in text


async def test_an_empty_key_is_a_missing_key(client: TestClient) -> None:
    text = await (await client.get("/instructor", params={"key": ""})).text()
    assert "needs the instructor key" in text


async def test_the_right_key_still_opens_the_view(client: TestClient) -> None:
    response = await client.get("/instructor.json", params={"key": KEY})
    assert response.status == 200
    assert (await response.json())["connected"] == 0


async def test_requests_go_to_logging_at_debug_with_the_key_hidden(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=ACCESS_LOG):
        await client.get("/instructor.json", params={"key": KEY})
        await client.get("/instructor", params={"key": "guess"})
        # aiohttp writes the line once the response is out, maybe after the client
        # has read it.
        for _ in range(100):
            lines = [r for r in caplog.records if r.name == ACCESS_LOG]
            if len(lines) >= 2:
                break
            await asyncio.sleep(0.01)
    assert [r.levelno for r in lines] == [logging.DEBUG, logging.DEBUG]
    assert "GET /instructor.json?key=*** 200" in lines[0].getMessage()
    assert "GET /instructor?key=*** 403" in lines[1].getMessage()
    assert all(KEY not in r.getMessage() for r in caplog.records)


async def test_a_wrong_key_is_noted_for_the_instructor(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="lambdalab.serve.server"):
        await client.get("/instructor", params={"key": "guess"})
    notes = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(notes) == 1 and "wrong instructor key" in notes[0]
    assert "guess" not in notes[0]


async def test_a_server_without_a_key_says_it_has_no_instructor_view(
    tmp_path: Path,
) -> None:
    server = ClassroomServer(status_dir=tmp_path, instructor_key="")
    async with TestClient(TestServer(await server._make_app())) as keyless:
        for given in ("", "anything"):
            response = await keyless.get("/instructor", params={"key": given})
            assert response.status == 403
            assert "no instructor view" in await response.text()
