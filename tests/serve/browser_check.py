"""Drive ``lambdalab serve`` with headless Chromium over CDP; print one JSON result line.

Run inside a fresh network namespace (``unshare --map-root-user --net``), where only
loopback exists, by ``test_browser.py``. It starts the server and Chromium itself, plays
a learner (name page, course map, one key press), and reports what it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")
DEADLINE_S = 40.0


class Cdp:
    """A minimal Chrome DevTools Protocol client for one page."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting[number] = future
        await self.socket.send_json({"id": number, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 20)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def screen_text(self) -> str:
        """Everything the app sent the browser's terminal so far, escapes removed."""
        chunks = []
        for event in self.events:
            if event["method"] != "Network.webSocketFrameReceived":
                continue
            frame = event["params"]["response"]
            data = frame["payloadData"]
            raw = base64.b64decode(data) if frame.get("opcode") == 2 else data.encode()
            chunks.append(raw.decode("utf-8", "replace"))
        return ANSI.sub("", "".join(chunks))

    def requested_urls(self) -> list[str]:
        urls = []
        for event in self.events:
            if event["method"] == "Network.requestWillBeSent":
                urls.append(event["params"]["request"]["url"])
            elif event["method"] == "Network.webSocketCreated":
                urls.append(event["params"]["url"])
        return urls


async def wait_for(check: Any, what: str, timeout: float = DEADLINE_S) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.25)
    raise TimeoutError(f"timed out waiting for {what}")


def http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def play(port: int, debug_port: int, shots: Path) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:

        async def targets() -> Any:
            try:
                async with http.get(f"http://127.0.0.1:{debug_port}/json/list") as r:
                    pages = [t for t in await r.json() if t["type"] == "page"]
                    return pages or None
            except aiohttp.ClientError:
                return None

        pages = await wait_for(targets, "Chromium's debugging port")
        async with http.ws_connect(
            pages[0]["webSocketDebuggerUrl"], max_msg_size=0
        ) as socket:
            cdp = Cdp(socket)
            for method in ("Network.enable", "Page.enable", "Runtime.enable"):
                await cdp.send(method)
            await cdp.send("Emulation.setFocusEmulationEnabled", enabled=True)
            await cdp.send("Page.navigate", url=f"{base}/")

            async def name_page() -> Any:
                return await cdp.evaluate("!!document.getElementById('learner')")

            await wait_for(name_page, "the name page")
            await cdp.evaluate(
                "document.getElementById('learner').value = 'Ada Lovelace';"
                "document.querySelector('form').submit();"
            )

            async def first_byte() -> Any:
                return await cdp.evaluate(
                    "document.body && document.body.classList.contains('-first-byte')"
                )

            result["first_byte"] = bool(await wait_for(first_byte, "the app's output"))

            async def course_map() -> Any:
                text = cdp.screen_text()
                return "Your first invocation" in text and "Open lesson" in text

            result["course_map"] = bool(await wait_for(course_map, "the course map"))
            await cdp.send("Page.bringToFront")
            for kind in ("mousePressed", "mouseReleased"):
                await cdp.send(
                    "Input.dispatchMouseEvent",
                    type=kind,
                    # the description pane: a click on the list would choose a lesson
                    x=1100,
                    y=300,
                    button="left",
                    clickCount=1,
                )
            seen_before = len(cdp.screen_text())
            for kind in ("keyDown", "keyUp"):
                await cdp.send(
                    "Input.dispatchKeyEvent",
                    type=kind,
                    key="Enter",
                    code="Enter",
                    windowsVirtualKeyCode=13,
                    **({"text": "\r"} if kind == "keyDown" else {}),
                )

            async def lesson_open() -> Any:
                text = cdp.screen_text()[seen_before:]
                return "Step 1 of" in text

            result["key_reached_app"] = bool(await wait_for(lesson_open, "lesson 1"))

            def classroom() -> Any:
                data = http_json(f"{base}/instructor.json?key=test-key")
                learners = data["learners"]
                return data if learners and learners[0]["lesson"] else None

            async def instructor() -> Any:
                return await asyncio.to_thread(classroom)

            result["instructor"] = await wait_for(instructor, "the instructor view")
            shot = await cdp.send("Page.captureScreenshot", format="png")
            (shots / "serve-lesson.png").write_bytes(base64.b64decode(shot["data"]))
            result["screenshot"] = str(shots / "serve-lesson.png")
            result["urls"] = cdp.requested_urls()
            result["foreign"] = [
                url
                for url in result["urls"]
                if not url.startswith((f"{base}/", f"ws://127.0.0.1:{port}/", "data:"))
                and url != "about:blank"
            ]
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--debug-port", type=int, default=19222)
    parser.add_argument("--shots", default=".")
    args = parser.parse_args()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work = Path(tempfile.mkdtemp(prefix="lambdalab-browser-"))
    env = {**os.environ, "LAMBDALAB_HOME": str(work / "home")}
    server = subprocess.Popen(
        [sys.executable, "-m", "lambdalab", "serve", "--port", str(args.port)]
        + ["--max-learners", "2", "--instructor-key", "test-key"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    browser = subprocess.Popen(
        [
            "chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--window-size=1280,800",
            f"--remote-debugging-port={args.debug_port}",
            f"--user-data-dir={work / 'chromium'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/", timeout=1)
                break
            time.sleep(0.1)
        result = asyncio.run(play(args.port, args.debug_port, Path(args.shots)))
        result["ok"] = True
    except Exception as exc:  # report, never hang: the test shows what failed
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        for process in (browser, server):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in (browser, server):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log = server.stdout.read().decode("utf-8", "replace") if server.stdout else ""
        result["server_log"] = log[-3000:]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
