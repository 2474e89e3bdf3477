"""Free play: a one-step lesson around the learner's own handler."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lambdalab.course.loader import bundled_lessons_path
from lambdalab.course.model import Action, Course, LabFunction, LabSpec, Lesson, Step
from lambdalab.errors import HandlerError


def free_play_course(spec: str, event_files: list[str], name: str | None) -> Course:
    """Build the lab for ``FILE.py:function`` with the given event files."""
    path_text, sep, function = spec.rpartition(":")
    if not sep or not path_text.endswith(".py") or not function.isidentifier():
        raise HandlerError(
            f"Handler {spec!r} is not FILE.py:function, e.g. handler.py:handler."
        )
    path = Path(path_text).expanduser().resolve()
    if not path.is_file():
        raise HandlerError(f"Handler file {path} does not exist; check the path.")
    function_name = (
        name or re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-")[:64] or "function"
    )
    events: dict[str, object] = {"empty": {}}
    for item in event_files:
        event_path = Path(item)
        try:
            events[event_path.stem] = json.loads(event_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise HandlerError(
                f"Cannot read event file {item}: {exc.strerror}."
            ) from None
        except json.JSONDecodeError as exc:
            raise HandlerError(
                f"Event file {item} is not valid JSON: {exc.msg} at line {exc.lineno}."
            ) from None
    text = (bundled_lessons_path() / "free-play.md").read_text(encoding="utf-8")
    lab = LabSpec(
        functions=(
            LabFunction(function_name, f"{path.name}:{function}", editable=True),
        ),
        events=events,
        seed=1,
        speed=10.0,
    )
    lesson = Lesson(
        id="free-play",
        title=f"Free play: {path.name}",
        summary="The lab on your own handler.",
        objectives=("Try anything.",),
        steps=(Step("play", "Free play", text),),
        lab=lab,
        solution=(Action("wait", {"seconds": 0}),),
        solution_text="There is no solution in free play.",
        recap="",
        folder=path.parent,
        files={path.name: path.read_text(encoding="utf-8")},
    )
    return Course(title="Free play", lessons=(lesson,), root=path.parent)
