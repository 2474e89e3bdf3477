"""Runs real handler code in a child process per execution environment.

A child process is what makes a handler that loops forever, blocks, or exits harmless:
the service can always stop waiting, kill it, and report what Lambda would report. The
guard is measured in time spent waiting for a reply, never by reading a clock.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("_worker.py")

_live: weakref.WeakSet[HandlerProcess] = weakref.WeakSet()


class ProcessGone(Exception):
    """The handler process ended without answering (it exited or crashed)."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(returncode)
        self.returncode = returncode
        """The exit status, or minus the signal number that ended it."""


class HandlerProcess:
    """One execution environment's Python process, spoken to in JSON lines."""

    def __init__(self, cwd: Path) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-B", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            text=True,
            encoding="utf-8",
        )
        _live.add(self)
        self.waited_s = 0.0
        """Seconds spent waiting for the current request; the wall guard reads it."""

    def send(self, message: dict[str, Any]) -> None:
        """Send one request; the reply is collected with ``poll``."""
        assert self._proc.stdin is not None
        self.waited_s = 0.0
        try:
            self._proc.stdin.write(json.dumps(message) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the next poll reports the process as gone

    def poll(self, timeout_s: float | None) -> dict[str, Any] | None:
        """Return the reply if it arrives within ``timeout_s``; None if not yet.

        Raises ProcessGone when the process ended without replying.
        """
        stdout = self._proc.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout_s)
        if not ready:
            self.waited_s += timeout_s or 0.0
            return None
        line = stdout.readline()
        if not line:
            try:
                self._proc.wait(timeout=1)  # it is exiting: let it say how
            except subprocess.TimeoutExpired:
                pass
            self.kill()
            raise ProcessGone(self._proc.returncode)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def kill(self) -> None:
        """End the process now (a reset or shutdown of the environment)."""
        if self._proc.poll() is None:
            self._proc.kill()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - kill is not refusable
            pass
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    @property
    def pid(self) -> int:
        """The process id, for display."""
        return self._proc.pid


def kill_all() -> None:
    """End every handler process still alive (used when the app quits)."""
    for proc in list(_live):
        proc.kill()


def child_environ(extra: dict[str, str]) -> dict[str, str]:
    """The environment a handler sees: Lambda's variables and a usable PATH."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    base.update(extra)
    return base
