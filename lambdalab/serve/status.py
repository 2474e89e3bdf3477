"""What each served learner is doing, for the instructor view.

Each learner's app writes a small JSON status file (atomically, only when it changes);
the server reads the folder. A "failed check" is an invocation of the learner's that
finished while the step's task was still open: the learner tried and the lab said no.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lambdalab.course.model import Lesson
from lambdalab.course.progress import Progress
from lambdalab.course.session import LabSession
from lambdalab.engine.scenario import not_utf8_text

log = logging.getLogger(__name__)

STATUS_EVERY_S = 1.0
"""How often the app looks at the learner's state (a cheap comparison when idle)."""
STUCK_FAILED_CHECKS = 3
"""Failed attempts at one step after which the instructor view flags the learner."""
STUCK_HINTS = 2
"""Hints taken on one step after which the learner is flagged."""
STUCK_AFTER_S = 600.0
"""Time on one unfinished task after which the learner is flagged."""


@dataclass
class LearnerStatus:
    """One learner's position and signs of trouble; the status file's content."""

    learner: str
    lesson: str | None = None
    lesson_title: str = ""
    step: int = 0
    """1-based; 0 on the course map."""
    steps: int = 0
    step_title: str = ""
    task_done: bool = False
    hints_step: int = 0
    """Hints taken on the current step."""
    hints_lesson: int = 0
    failed_step: int = 0
    """Failed checks on the current step since the app started."""
    failed_lesson: int = 0
    """Failed checks in the current lesson, kept in the learner's progress."""
    solution_seen: bool = False
    completed: list[str] = field(default_factory=list)
    step_since: float = 0.0
    """Wall-clock seconds when the learner reached this step."""
    api_port: int | None = None
    """The port of the learner's own Invoke API on 127.0.0.1, when it serves one."""
    updated: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> LearnerStatus | None:
        """Build from a decoded file; None when it is not a status (or a field's type
        is wrong, which would break the instructor view later)."""
        if not isinstance(data, dict) or not isinstance(data.get("learner"), str):
            return None
        values = {k: v for k, v in data.items() if k in _FIELD_TYPES}
        for key, value in values.items():
            if not _FIELD_TYPES[key](value):
                return None
        return cls(**values)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_FIELD_TYPES: dict[str, Any] = {
    "learner": lambda v: isinstance(v, str),
    "lesson": lambda v: v is None or isinstance(v, str),
    "lesson_title": lambda v: isinstance(v, str),
    "step": _whole,
    "steps": _whole,
    "step_title": lambda v: isinstance(v, str),
    "task_done": lambda v: isinstance(v, bool),
    "hints_step": _whole,
    "hints_lesson": _whole,
    "failed_step": _whole,
    "failed_lesson": _whole,
    "solution_seen": lambda v: isinstance(v, bool),
    "completed": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "step_since": _number,
    "api_port": lambda v: v is None or _whole(v),
    "updated": _number,
}
"""Each status field's check; a status from a newer lambdalab may carry more."""


def stuck_reasons(status: LearnerStatus, now: float) -> list[str]:
    """Why the instructor should look at this learner (empty: no sign of trouble)."""
    if status.lesson is None or status.task_done:
        return []
    reasons = []
    if status.failed_step >= STUCK_FAILED_CHECKS:
        reasons.append(f"{status.failed_step} failed checks on this step")
    if status.hints_step >= STUCK_HINTS:
        reasons.append(f"{status.hints_step} hints on this step")
    if status.solution_seen:
        reasons.append("opened the solution")
    if status.step_since and now - status.step_since >= STUCK_AFTER_S:
        reasons.append(f"{int((now - status.step_since) // 60)} min on this step")
    return reasons


class StatusReporter:
    """Keeps one learner's status file up to date from the app's state."""

    def __init__(self, path: Path, learner: str) -> None:
        self.path = path
        self.learner = learner
        self._seen_done: set[str] = set()
        self._failed_step: dict[tuple[str, int], int] = {}
        self._position: tuple[str | None, int] = (None, 0)
        self._since = time.time()
        self._written: dict[str, Any] | None = None
        self._write_failed = False
        self.api_port: int | None = None
        """Set by the app once its Invoke API listens."""

    def observe(
        self,
        progress: Progress,
        lesson: Lesson | None,
        step_index: int,
        session: LabSession | None,
    ) -> bool:
        """Count new failed checks and rewrite the file if anything changed.

        Returns True when ``progress`` was changed (a failed check was counted) and
        should be saved.
        """
        changed = False
        status = LearnerStatus(
            self.learner,
            completed=sorted(k for k, v in progress.lessons.items() if v.completed),
        )
        position: tuple[str | None, int] = (None, 0)
        if lesson is not None and session is not None:
            position = (lesson.id, step_index)
            step = lesson.steps[step_index]
            state = progress.lesson(lesson.id)
            task_done = not step.checks or step.id in state.passed_steps
            for inv in session.history:
                if not inv.done or inv.request_id in self._seen_done:
                    continue
                self._seen_done.add(inv.request_id)
                if not task_done and not session.step_passed(step):
                    state.failed_checks += 1
                    key = (lesson.id, step_index)
                    self._failed_step[key] = self._failed_step.get(key, 0) + 1
                    changed = True
            status.lesson = lesson.id
            status.lesson_title = lesson.title
            status.step = step_index + 1
            status.steps = len(lesson.steps)
            status.step_title = step.title
            status.task_done = task_done
            status.hints_step = state.hints_used.get(step.id, 0)
            status.hints_lesson = sum(state.hints_used.values())
            status.failed_step = self._failed_step.get((lesson.id, step_index), 0)
            status.failed_lesson = state.failed_checks
            status.solution_seen = state.solution_seen
        if position != self._position:
            self._position = position
            self._since = time.time()
        status.step_since = self._since
        status.api_port = self.api_port
        content = status.to_json()
        if content != self._written:
            stamped = {**content, "updated": time.time()}
            try:
                write_status(self.path, stamped)
            except OSError as exc:
                # Only the instructor view misses out: the learner's lab goes on,
                # and the next look tries again.
                if not self._write_failed:
                    log.warning(
                        "Cannot write the status file %s: %s. The instructor view "
                        "will not show %s until it can.",
                        self.path,
                        exc.strerror or exc,
                        self.learner,
                    )
                self._write_failed = True
            else:
                self._written = content
                self._write_failed = False
        return changed


def write_status(path: Path, content: dict[str, Any]) -> None:
    """Replace the status file atomically, so the server never reads half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".status-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(content, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_UNREADABLE: set[tuple[Path, str]] = set()
"""Status files already reported unreadable (the view reads them every 5 seconds)."""


def read_statuses(folder: Path) -> dict[str, LearnerStatus]:
    """Every learner status in ``folder``, keyed by the file's learner folder name.

    A file that cannot be read or is not a status is skipped, and logged once.
    """
    out: dict[str, LearnerStatus] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            _skipped(path, f"{path}: {exc.strerror or exc}")
            continue
        except UnicodeDecodeError as exc:
            _skipped(path, not_utf8_text(path, exc))
            continue
        except ValueError as exc:
            _skipped(path, f"{path}: not valid JSON ({exc}).")
            continue
        status = LearnerStatus.from_json(data)
        if status is None:
            _skipped(path, f"{path}: not a learner status.")
        else:
            out[path.stem] = status
    return out


def _skipped(path: Path, why: str) -> None:
    if (path, why) not in _UNREADABLE:
        _UNREADABLE.add((path, why))
        log.warning("Instructor view skips a status file: %s", why)
