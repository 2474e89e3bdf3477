"""The headless packages import no UI and read no wall clock (brief rule 5, STYLE 1-2)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HEADLESS = ("engine", "triggers", "course")
ROOT = Path(__file__).resolve().parents[1] / "lambdalab"


def test_headless_packages_import_no_textual_in_a_fresh_interpreter() -> None:
    code = (
        "import sys, pkgutil, importlib\n"
        "import lambdalab\n"
        f"for pkg in {HEADLESS!r}:\n"
        "    mod = importlib.import_module('lambdalab.' + pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, mod.__name__ + '.'):\n"
        "        if not info.name.endswith('_worker'):\n"
        "            importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') or m.startswith('lambdalab.ui') or m.startswith('lambdalab.cli'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_headless_packages_read_no_wall_clock() -> None:
    forbidden = re.compile(
        r"time\.time\(|time\.monotonic|perf_counter|datetime\.now|datetime\.utcnow|date\.today"
    )
    offenders = []
    for pkg in HEADLESS:
        for path in (ROOT / pkg).rglob("*.py"):
            if path.name == "_worker.py":
                continue  # the handler's process: it replaces the clocks, it reads none
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if forbidden.search(line):
                    offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []
