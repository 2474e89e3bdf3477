"""The compiled engine (tools/compile_engine.py) and the plain one are the same engine.

``make`` compiles the request path with mypyc; ``lambdalab.engine`` takes the build only
while it was made from the sources beside it. These tests pin that rule and compare
whole runs of both in separate processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lambdalab.engine as engine
from lambdalab.engine import (
    COMPILED_MODULES,
    MANIFEST,
    PURE_PYTHON_VARIABLE,
    compiled_folder,
    source_digests,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SOURCES = Path(engine.__file__).parent


def fake_build(home: Path, digests: dict[str, str]) -> Path:
    folder = home / "lambdalab" / "engine"
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps(digests), encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def compiled_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PURE_PYTHON_VARIABLE, raising=False)


def test_a_build_of_todays_sources_is_used(tmp_path: Path) -> None:
    folder = fake_build(tmp_path, source_digests(SOURCES))
    assert compiled_folder(tmp_path) == folder


def test_a_build_of_other_sources_is_not_used(tmp_path: Path) -> None:
    digests = source_digests(SOURCES)
    digests["service"] = "0" * 64  # service.py was edited after the build
    fake_build(tmp_path, digests)
    assert compiled_folder(tmp_path) is None


def test_a_build_missing_a_module_is_not_used(tmp_path: Path) -> None:
    digests = source_digests(SOURCES)
    del digests[COMPILED_MODULES[0]]
    fake_build(tmp_path, digests)
    assert compiled_folder(tmp_path) is None


@pytest.mark.parametrize("manifest", ["", "not json", "[1, 2]"])
def test_an_unreadable_manifest_means_plain_python(
    tmp_path: Path, manifest: str
) -> None:
    folder = tmp_path / "lambdalab" / "engine"
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(manifest, encoding="utf-8")
    assert compiled_folder(tmp_path) is None


def test_no_build_means_plain_python(tmp_path: Path) -> None:
    assert compiled_folder(tmp_path) is None


def test_the_variable_forces_plain_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_build(tmp_path, source_digests(SOURCES))
    monkeypatch.setenv(PURE_PYTHON_VARIABLE, "1")
    assert compiled_folder(tmp_path) is None


def simulate(scenario: str, *, pure: bool) -> tuple[str, str]:
    """`lambdalab simulate --json` in a new process, and where its service module was."""
    env = dict(os.environ)
    env.pop(PURE_PYTHON_VARIABLE, None)
    if pure:
        env[PURE_PYTHON_VARIABLE] = "1"
    script = (
        "import sys, lambdalab.engine.service as s\n"
        "from lambdalab.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(s.__file__, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    args = ["simulate", str(EXAMPLES / scenario), "--seed", "7", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "scenario",
    ["throttling.toml", "async_retries_dlq.toml", "reserved_provisioned.toml"],
)
def test_compiled_and_plain_engines_print_the_same_report(scenario: str) -> None:
    built = compiled_folder() is not None
    report, module = simulate(scenario, pure=False)
    plain_report, plain_module = simulate(scenario, pure=True)

    assert plain_module.endswith("service.py")
    # The build is taken exactly when it matches the sources (make builds it).
    assert module.endswith(".so") == built, module
    assert report == plain_report
    assert json.loads(report)["functions"]
