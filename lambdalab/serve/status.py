"""What each served learner is doing, for the instructor view.

Each learner's app writes a small JSON status file (atomically, only when it changes);
the server reads the folder. A "failed check" is an invocation of the learner's that
finished while the step's task was still open: the learner tried and the lab said no.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lambdalab.course.model import Lesson
from lambdalab.course.progress import Progress
from lambdalab.course.session import LabSession

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
        """Build from a decoded file; None when it is not a status."""
        if not isinstance(data, dict) or not isinstance(data.get("learner"), str):
            return None
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None


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
            self._written = dict(content)
            content["updated"] = time.time()
            write_status(self.path, content)
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


def read_statuses(folder: Path) -> dict[str, LearnerStatus]:
    """Every learner status in ``folder``, keyed by the file's learner folder name."""
    out: dict[str, LearnerStatus] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        status = LearnerStatus.from_json(data)
        if status is not None:
            out[path.stem] = status
    return out
