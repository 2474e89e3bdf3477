"""Stopping ``lambdalab serve`` with a learner in a lesson, as an instructor does.

The real server and a real learner app run on 127.0.0.1 (a free port). Ctrl+C in a
terminal sends SIGINT to the whole foreground process group, so the test does the same.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until(check: object, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def play_then_stop(home: Path, stop: signal.Signals) -> tuple[str, float]:
    """One learner opens lesson 1; then the server's process group gets ``stop``."""
    port = free_port()
    env = dict(os.environ, LAMBDALAB_HOME=str(home), COLUMNS="200")
    command = [sys.executable, "-m", "lambdalab", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--instructor-key", "k"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal gives it
    )
    progress = home / "learners" / "ada" / "progress.json"
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert server.poll() is None, "serve exited early"
            try:
                urllib.request.urlopen(f"{base}/", timeout=2).close()
            except OSError:
                return False
            return True

        await wait_until(up, "the server")
        async with aiohttp.ClientSession() as http:
            tab = await http.ws_connect(f"{base}/ws/Ada?width=120&height=40")
            screen = bytearray()

            async def read() -> None:
                async for message in tab:
                    if message.type == aiohttp.WSMsgType.BINARY:
                        screen.extend(message.data)

            reader = asyncio.ensure_future(read())
            await wait_until(lambda: b"first invocation" in screen, "the course map")
            await tab.send_str(json.dumps(["stdin", "\r"]))  # open lesson 1

            def opened() -> bool:
                if not progress.exists():
                    return False
                return json.loads(progress.read_text())["current"] == "first-invocation"

            await wait_until(opened, "lesson 1's progress")
            # Invoke once, so the lab has an execution environment (a handler process).
            await tab.send_str(json.dumps(["stdin", "i"]))
            await asyncio.sleep(1.0)
            began = time.monotonic()
            os.killpg(server.pid, stop)
            out, _ = await asyncio.to_thread(server.communicate, timeout=30)
            took = time.monotonic() - began
            await reader
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    return out, took


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_each_learner_app_says_so_and_keeps_progress(
    tmp_path: Path, stop: signal.Signals
) -> None:
    out, took = asyncio.run(play_then_stop(tmp_path / "home", stop))
    lines = [line.strip() for line in out.splitlines()]
    stopping = [n for n, line in enumerate(lines) if "Stopping the classroom" in line]
    stopped = [n for n, line in enumerate(lines) if "Classroom stopped" in line]
    assert len(stopping) == 1 and len(stopped) == 1, out
    # The server, not the signal, ends the app: it is counted and was not killed.
    assert "ending 1 learner app; their progress is kept." in lines[stopping[0]]
    assert "1 learner app ended, in " in lines[stopped[0]]
    assert stopping[0] < stopped[0]
    assert "was killed" not in out and "Traceback" not in out
    assert took < 5.0, f"stopping took {took:.1f} s"
    saved = json.loads((tmp_path / "home/learners/ada/progress.json").read_text())
    assert saved["current"] == "first-invocation"
    assert saved["learner"] == "Ada"
