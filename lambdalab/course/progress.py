"""Per-learner progress, saved atomically, never lost, never shared between learners.

A progress file that cannot be read is set aside (renamed, never deleted) with a message,
and the learner starts afresh rather than seeing a crash.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdalab.errors import ProgressError

FORMAT = "lambdalab-progress"
VERSION = 1
_LEARNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")


def data_home() -> Path:
    """Where lambdalab keeps learners' data (LAMBDALAB_HOME overrides the platform's)."""
    override = os.environ.get("LAMBDALAB_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("lambdalab", appauthor=False))


def learner_folder_name(name: str) -> str:
    """A learner name as a folder name that can never leave the learners folder."""
    cleaned = name.strip()
    if not _LEARNER.match(cleaned) or cleaned in (".", ".."):
        raise ProgressError(
            f"Learner name {name!r} is not usable: use 1-40 letters, digits, spaces, "
            "dots, hyphens or underscores, starting with a letter or digit."
        )
    return cleaned.replace(" ", "_").lower()


@dataclass
class LessonProgress:
    """How far a learner got in one lesson."""

    step: int = 0
    passed_steps: list[str] = field(default_factory=list)
    completed: bool = False
    hints_used: dict[str, int] = field(default_factory=dict)
    predictions: dict[str, float | int] = field(default_factory=dict)
    failed_checks: int = 0
    solution_seen: bool = False


@dataclass
class Progress:
    """A learner's progress across a course."""

    learner: str
    current: str | None = None
    lessons: dict[str, LessonProgress] = field(default_factory=dict)
    theme: str | None = None
    """The learner's colour theme, chosen in the app (ctrl+p, theme)."""
    notice: str = ""
    """A message for the learner about the file (e.g. it was set aside); not saved."""

    def lesson(self, lesson_id: str) -> LessonProgress:
        """The progress record of a lesson, created on first use."""
        return self.lessons.setdefault(lesson_id, LessonProgress())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "learner": self.learner,
            "current": self.current,
            "theme": self.theme,
            "lessons": {k: vars(v) for k, v in self.lessons.items()},
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> Progress:
        """Build from a decoded file, refusing anything that is not lambdalab progress."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProgressError(f"{source} is not a lambdalab progress file.")
        if data.get("version") != VERSION:
            raise ProgressError(
                f"{source} has progress format version {data.get('version')!r}; this "
                f"lambdalab reads version {VERSION}."
            )
        lessons: dict[str, LessonProgress] = {}
        raw = data.get("lessons", {})
        if not isinstance(raw, dict):
            raise ProgressError(f"{source}: 'lessons' must be an object.")
        for lesson_id, item in raw.items():
            if not isinstance(item, dict):
                raise ProgressError(f"{source}: lesson {lesson_id!r} is not an object.")
            lessons[str(lesson_id)] = _lesson_progress(
                item, f"{source}: lesson {lesson_id!r}"
            )
        current = data.get("current")
        theme = data.get("theme")
        return cls(
            learner=str(data.get("learner", "")),
            current=current if isinstance(current, str) else None,
            lessons=lessons,
            theme=theme if isinstance(theme, str) else None,
        )


class ProgressStore:
    """The progress file and code workspace of one learner."""

    def __init__(self, learner: str, home: Path | None = None) -> None:
        self.learner = learner
        self.folder = (home or data_home()) / "learners" / learner_folder_name(learner)
        self.path = self.folder / "progress.json"

    def workspace(self, lesson_id: str) -> Path:
        """The folder holding this learner's code for a lesson."""
        return self.folder / "workspace" / lesson_id

    def load(self) -> Progress:
        """Read the progress; a corrupt or foreign file is set aside, never fatal."""
        if not self.path.exists():
            return Progress(self.learner)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            progress = Progress.from_json(data, str(self.path))
        except (
            OSError,
            UnicodeDecodeError,
            json.JSONDecodeError,
            ProgressError,
        ) as exc:
            aside = self._set_aside()
            fresh = Progress(self.learner)
            fresh.notice = (
                f"Your progress file could not be read ({_reason(exc)}). It was kept as "
                f"{aside.name} in {aside.parent} and you start afresh."
            )
            return fresh
        progress.learner = self.learner
        return progress

    def _set_aside(self) -> Path:
        n = 1
        while (aside := self.path.with_name(f"progress.corrupt-{n}.json")).exists():
            n += 1
        os.replace(self.path, aside)
        return aside

    def save(self, progress: Progress) -> None:
        """Write atomically: a crash leaves either the old file or the new one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(progress.to_json(), indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".progress-", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def export(self, target: Path) -> None:
        """Copy the progress to ``target`` for another machine."""
        progress = self.load()
        text = json.dumps(progress.to_json(), indent=2, sort_keys=True)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ProgressError(_cannot_write(target, exc)) from None

    def import_(self, source: Path) -> Progress:
        """Replace this learner's progress with an exported file (validated first)."""
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProgressError(f"Cannot read {source}: {exc.strerror}.") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProgressError(
                f"{source} is not a lambdalab progress file ({_reason(exc)})."
            ) from None
        progress = Progress.from_json(data, str(source))
        progress.learner = self.learner
        self.save(progress)
        return progress


def _lesson_progress(item: dict[str, Any], where: str) -> LessonProgress:
    """Check every field's type, so a hand-edited file cannot break a lesson later."""

    def is_number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    rules: dict[str, tuple[Any, str]] = {
        "step": (
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
            "a whole number, 0 or more",
        ),
        "passed_steps": (
            lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
            "a list of step ids",
        ),
        "completed": (lambda v: isinstance(v, bool), "true or false"),
        "hints_used": (
            lambda v: (
                isinstance(v, dict)
                and all(isinstance(n, int) and n >= 0 for n in v.values())
            ),
            "an object of step id to a count",
        ),
        "predictions": (
            lambda v: isinstance(v, dict) and all(is_number(n) for n in v.values()),
            "an object of step id to a number",
        ),
        "failed_checks": (lambda v: isinstance(v, int) and v >= 0, "a whole number"),
        "solution_seen": (lambda v: isinstance(v, bool), "true or false"),
    }
    values: dict[str, Any] = {}
    for key, value in item.items():
        if key not in rules:
            continue  # a newer lambdalab's field: ignored, not fatal
        valid, expected = rules[key]
        if not valid(value):
            raise ProgressError(f"{where}: {key} is {value!r}; it must be {expected}.")
        values[key] = value
    return LessonProgress(**values)


def _cannot_write(target: Path, exc: OSError) -> str:
    """Why a progress file could not be written, and what to do instead."""
    if isinstance(exc, IsADirectoryError) or target.is_dir():
        return (
            f"Cannot write progress to {target}: it is a folder. Name a file, "
            f"e.g. {target / 'progress.json'}."
        )
    folder = target.parent
    if folder.exists() and not folder.is_dir():
        return (
            f"Cannot write progress to {target}: {folder} is a file, not a folder. "
            "Name a file in a folder."
        )
    if not folder.exists():
        return (
            f"Cannot write progress to {target}: the folder {folder} does not "
            "exist. Create it first, or name a file in a folder that exists."
        )
    return (
        f"Cannot write progress to {target}: {exc.strerror}. Choose a place you can "
        "write to."
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON at line {exc.lineno}"
    return str(exc).rstrip(".")
