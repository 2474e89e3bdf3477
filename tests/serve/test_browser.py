"""Headless Chromium against ``lambdalab serve``, inside a network namespace.

``browser_check.py`` runs under ``unshare --map-root-user --net``: only loopback exists,
so the page provably loads with no outside host. It plays one learner end to end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).with_name("browser_check.py")
INSTALL = (
    "Chromium is needed for this test: apt-get install -y --no-install-recommends "
    "chromium (.ci/run installs it when CI=true)."
)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if shutil.which("chromium") is None:
        pytest.fail(INSTALL)
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            pytest.fail(
                f"{tool} is needed (util-linux / iproute2) to isolate the test."
            )
    shots = tmp_path_factory.mktemp("shots")
    done = subprocess.run(
        ["unshare", "--map-root-user", "--net", sys.executable, str(CHECK)]
        + ["--shots", str(shots)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"], f"{result.get('error')}\n{result.get('server_log')}"
    return result


def test_the_page_loads_and_the_app_draws(played: dict[str, object]) -> None:
    assert played["first_byte"] is True


def test_the_course_map_renders_in_the_browser(played: dict[str, object]) -> None:
    assert played["course_map"] is True


def test_a_key_press_reaches_the_app(played: dict[str, object]) -> None:
    # Enter on the course map opened lesson 1, which the browser then drew.
    assert played["key_reached_app"] is True


def test_the_page_asks_no_outside_host(played: dict[str, object]) -> None:
    urls = played["urls"]
    assert isinstance(urls, list)
    assert any("/static/fonts/RobotoMono" in url for url in urls)
    assert any(url.startswith("ws://127.0.0.1:") for url in urls)
    assert played["foreign"] == []


def test_the_instructor_view_shows_the_learner_on_lesson_1(
    played: dict[str, object],
) -> None:
    classroom = played["instructor"]
    assert isinstance(classroom, dict)
    assert classroom["connected"] == 1
    (learner,) = classroom["learners"]
    assert learner["name"] == "Ada Lovelace"
    assert learner["lesson"] == "first-invocation"
    assert learner["step"] == 1
    assert learner["connected"] is True
