"""The classroom server's pages, seats and instructor view, without a browser.

Sessions run a stand-in app (a few lines of Python that speak textual-serve's prelude
and quit when told), so these tests exercise the cap and name rules, not Textual.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shlex
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdalab.course.progress import learner_folder_name
from lambdalab.errors import ProgressError
from lambdalab.serve.server import ClassroomServer, learner_app_command, learner_urls
from lambdalab.serve.status import LearnerStatus, write_status

STAND_IN = (
    "import sys\n"
    "sys.stdout.write('__GANGLION__\\n'); sys.stdout.flush()\n"
    "seen = b''\n"
    "while b'quit' not in seen:\n"
    "    chunk = sys.stdin.buffer.read1(4096)\n"
    "    if not chunk: break\n"
    "    seen += chunk\n"
    # As a Textual app does when it quits: an exit packet, so the tab is closed.
    'exit = b\'{"type": "exit"}\'\n'
    "sys.stdout.buffer.write(b'M' + len(exit).to_bytes(4, 'big') + exit)\n"
    "sys.stdout.flush()\n"
)


def stand_in(_learner: str, _status: Path, _api: str | None) -> str:
    return "exec " + shlex.join([sys.executable, "-c", STAND_IN])


@pytest.fixture
async def classroom(
    tmp_path: Path,
) -> AsyncIterator[tuple[ClassroomServer, TestClient]]:
    server = ClassroomServer(
        status_dir=tmp_path / "status",
        max_learners=2,
        instructor_key="sesame",
        learner_command=stand_in,
    )
    (tmp_path / "status").mkdir()
    client = TestClient(TestServer(await server._make_app()))
    await client.start_server()
    yield server, client
    await client.close()


async def join(client: TestClient, name: str) -> aiohttp.ClientWebSocketResponse:
    return await client.ws_connect(f"/ws/{name}?width=100&height=30")


async def until(check: object, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.02)


# -- pages -------------------------------------------------------------------------


async def test_the_start_page_asks_for_a_name(classroom: tuple) -> None:
    _, client = classroom
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    assert 'name="learner"' in page
    assert "0 of 2 places taken" in page


@pytest.mark.parametrize(
    "name", ["../etc", "..", ".", "a/b", "/root", "x" * 41, "-x", "a\\b", "é"]
)
async def test_a_name_that_could_escape_is_refused_with_the_reason(
    classroom: tuple, name: str
) -> None:
    _, client = classroom
    response = await client.get("/", params={"learner": name})
    assert response.status == 400
    assert "is not usable" in await response.text()


@pytest.mark.parametrize("name", ["", " ", "\t "])
async def test_no_name_is_called_that_and_says_what_to_type(
    classroom: tuple, name: str
) -> None:
    _, client = classroom
    response = await client.get("/", params={"learner": name})
    page = await response.text()
    assert response.status == 400
    assert "No name given: type a name of 1-40 letters, digits, spaces" in page
    assert "then press Start" in page
    assert "is not usable" not in page and "&#39;&#39;" not in page


async def test_the_app_page_is_offline_and_uses_the_address_typed(
    classroom: tuple,
) -> None:
    _, client = classroom
    response = await client.get(
        "/", params={"learner": "Ada"}, headers={"Host": "192.168.1.20:8000"}
    )
    page = await response.text()
    assert response.status == 200
    assert 'data-session-websocket-url="ws://192.168.1.20:8000/ws/Ada"' in page
    assert "http://192.168.1.20:8000/static/fonts/RobotoMono" in page
    assert "googleapis" not in page and "https://" not in page


async def test_a_public_url_wins_and_https_means_wss(tmp_path: Path) -> None:
    server = ClassroomServer(
        status_dir=tmp_path,
        public_url="https://lab.example.org/",
        learner_command=stand_in,
    )
    client = TestClient(TestServer(await server._make_app()))
    await client.start_server()
    try:
        page = await (await client.get("/", params={"learner": "Ada"})).text()
    finally:
        await client.close()
    assert 'data-session-websocket-url="wss://lab.example.org/ws/Ada"' in page


async def test_names_are_escaped_in_pages(classroom: tuple) -> None:
    _, client = classroom
    page = await (await client.get("/", params={"learner": "<b>x"})).text()
    assert "<b>x" not in page and "&lt;b&gt;x" in page


# -- seats and the cap -------------------------------------------------------------


async def test_one_tab_per_name_and_a_full_page_at_the_cap(classroom: tuple) -> None:
    server, client = classroom
    ada = await join(client, "Ada")
    await until(lambda: "ada" in server.seats)
    # The same learner in a second tab: refused, with the reason (409).
    again = await client.get("/", params={"learner": "ADA"})
    assert again.status == 409
    assert "already open in another tab" in await again.text()
    second = await join(client, "ada")
    message = await second.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert second.close_code == 4409
    bob = await join(client, "Bob")
    await until(lambda: len(server.seats) == 2)
    full = await client.get("/", params={"learner": "Cy"})
    assert full.status == 503
    assert full.headers["Retry-After"] == "15"
    assert "The classroom is full" in await full.text()
    late = await join(client, "Cy")
    await late.receive()
    assert late.close_code == 4409
    assert set(server.seats) == {"ada", "bob"}
    await ada.close()
    await until(lambda: "ada" not in server.seats)
    assert (await client.get("/", params={"learner": "Cy"})).status == 200
    await bob.close()
    await until(lambda: not server.seats)


async def test_a_socket_with_a_bad_name_is_closed(classroom: tuple) -> None:
    server, client = classroom
    socket = await join(client, "..%2F..%2Fetc")
    await socket.receive()
    assert socket.close_code == 4400
    assert server.seats == {}


async def test_stopping_ends_each_open_app_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = ClassroomServer(
        status_dir=tmp_path, instructor_key="k", learner_command=stand_in
    )
    client = TestClient(TestServer(await server._make_app()))
    await client.start_server()
    for name in ("Ada", "Bob"):
        await join(client, name)  # the tabs stay open while the server stops
    await until(lambda: len(server.seats) == 2)
    seats = list(server.seats.values())
    await until(lambda: all(s.service and s.service.pid for s in seats))
    with caplog.at_level(logging.INFO, logger="lambdalab.serve.server"):
        # The server's shutdown, as on SIGINT or SIGTERM, with the tabs still open.
        await client.server.close()
    lines = [r.getMessage() for r in caplog.records]
    assert "Stopping the classroom: ending 2 learner apps; their progress is kept." in (
        lines
    )
    assert server.ended_at_stop == 2
    assert all(
        s.service is not None
        and s.service._process is not None
        and s.service._process.returncode == 0
        for s in seats
    ), "each app quit when told, none was killed"
    assert not any("was killed" in line for line in lines)
    await client.close()


# -- instructor view ---------------------------------------------------------------


async def test_the_instructor_view_needs_the_key(classroom: tuple) -> None:
    _, client = classroom
    assert (await client.get("/instructor")).status == 403
    assert (await client.get("/instructor.json", params={"key": "nope"})).status == 403
    assert (
        await client.get("/instructor.json", params={"key": "sesame"})
    ).status == 200


async def test_the_instructor_view_shows_who_is_where_and_who_is_stuck(
    classroom: tuple,
) -> None:
    server, client = classroom
    now = time.time()
    write_status(
        server.status_dir / "ada.json",
        LearnerStatus(
            "Ada",
            lesson="first-invocation",
            lesson_title="Your first invocation",
            step=2,
            steps=4,
            step_title="Errors",
            failed_step=3,
            failed_lesson=4,
            hints_step=1,
            step_since=now - 30,
        ).to_json(),
    )
    write_status(
        server.status_dir / "bob.json",
        LearnerStatus(
            "Bob", lesson="sync-vs-async", step=1, steps=3, step_since=now
        ).to_json(),
    )
    socket = await join(client, "Bob")
    await until(lambda: "bob" in server.seats)
    data = await (await client.get("/instructor.json", params={"key": "sesame"})).json()
    assert data["connected"] == 1 and data["capacity"] == 2
    first, second = data["learners"]
    # One name per learner: the status file's "learner" is shown as "name" only.
    assert "learner" not in first and "learner" not in second
    assert first["name"] == "Ada" and first["connected"] is False
    assert first["stuck"] == ["3 failed checks on this step"]
    assert second["name"] == "Bob" and second["connected"] is True
    assert second["stuck"] == []
    page = await (await client.get("/instructor", params={"key": "sesame"})).text()
    assert "3 failed checks on this step" in page
    assert "2/4 Errors" in page
    await socket.close()


def test_stuck_rules() -> None:
    from lambdalab.serve.status import stuck_reasons

    base = {"learner": "x", "lesson": "l", "step_since": 1000.0}
    assert stuck_reasons(LearnerStatus(**base), 1001.0) == []
    assert stuck_reasons(LearnerStatus(**base, hints_step=2), 1001.0) == [
        "2 hints on this step"
    ]
    assert stuck_reasons(LearnerStatus(**base), 1000.0 + 600) == ["10 min on this step"]
    done = LearnerStatus(**base, failed_step=9, task_done=True)
    assert stuck_reasons(done, 5000.0) == []


# -- addresses: the 0.0.0.0 and public-URL trap ------------------------------------


def test_wildcard_host_gives_the_lan_addresses_never_0_0_0_0() -> None:
    urls, warnings = learner_urls("0.0.0.0", 8000, None, lambda: ["192.168.1.20"])
    assert urls == ["http://192.168.1.20:8000/"]
    assert warnings == []
    urls, warnings = learner_urls("0.0.0.0", 8000, None, lambda: [])
    assert urls == []
    assert "never http://0.0.0.0:8000/" in warnings[0]


def test_loopback_host_says_it_serves_this_machine_only() -> None:
    urls, warnings = learner_urls("127.0.0.1", 8000, None)
    assert urls == ["http://127.0.0.1:8000/"]
    assert "--host 0.0.0.0" in warnings[0]


def test_public_url_traps_are_named() -> None:
    urls, warnings = learner_urls("0.0.0.0", 8000, "http://0.0.0.0:8000", list)
    assert urls == ["http://0.0.0.0:8000/"]
    assert "no browser can open" in warnings[0]
    _, warnings = learner_urls("0.0.0.0", 8000, "http://localhost:8000", list)
    assert "only works in a browser on this machine" in warnings[0]
    urls, warnings = learner_urls("0.0.0.0", 8000, "https://lab.example.org", list)
    assert urls == ["https://lab.example.org/"] and warnings == []


# -- names never reach outside the progress folder ---------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_name_is_refused_or_stays_inside_the_learners_folder(name: str) -> None:
    root = Path("/srv/home/learners")
    try:
        folder = learner_folder_name(name)
    except ProgressError:
        return
    for path in (root / folder, root.parent / "status" / f"{folder}.json"):
        assert path.resolve().parent == path.parent
        assert ".." not in path.parts and "/" not in folder and "\\" not in folder
    command = learner_app_command()(name.strip(), Path("/tmp/s.json"), None)
    argv = shlex.split(command.removeprefix("exec "))
    assert argv[argv.index("--learner") + 1] == name.strip()


def test_status_file_round_trip(tmp_path: Path) -> None:
    status = LearnerStatus("Ada", lesson="l", step=2, completed=["a"])
    write_status(tmp_path / "ada.json", status.to_json())
    assert json.loads((tmp_path / "ada.json").read_text())["step"] == 2
    assert LearnerStatus.from_json({"nope": 1}) is None
