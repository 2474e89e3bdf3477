"""Free play: a one-step lesson around the learner's own handler."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lambdalab.course.loader import bundled_lessons_path
from lambdalab.course.model import (
    Action,
    Course,
    HttpRequestSpec,
    HttpSpec,
    LabFunction,
    LabSpec,
    Lesson,
    ScheduleSpec,
    Step,
)
from lambdalab.course.session import read_learner_text
from lambdalab.errors import HandlerError
from lambdalab.triggers.schedule import parse_schedule

SAMPLE_REQUESTS = (
    HttpRequestSpec("home", "GET", "/"),
    HttpRequestSpec(
        "two-cookies",
        "GET",
        "/items",
        "x=1&x=2",
        (("Cookie", "a=1"), ("Cookie", "b=2"), ("Accept", "application/json")),
    ),
    HttpRequestSpec(
        "post-json",
        "POST",
        "/items",
        "",
        (("Content-Type", "application/json"),),
        '{"name": "Ada"}',
    ),
)
"""Requests the HTTP tab offers in free play: plain, repeated names, a body."""


def free_play_course(
    spec: str,
    event_files: list[str],
    name: str | None,
    *,
    settings: dict[str, Any] | None = None,
    schedule: str | None = None,
    api: str | None = None,
    multi_value: bool = False,
) -> Course:
    """Build the lab for ``FILE.py:function``: its events, settings and triggers.

    ``settings`` are FunctionConfig fields (timeout, memory, reserved concurrency, a
    DLQ, destinations); ``schedule`` adds an EventBridge rule; ``api`` a front door.
    """
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
        text = read_learner_text(event_path, "event file")
        try:
            events[event_path.stem] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HandlerError(
                f"Event file {item} is not valid JSON: {exc.msg} at line {exc.lineno}."
            ) from None
    code = read_learner_text(path, "handler file")
    text = (bundled_lessons_path() / "free-play.md").read_text(encoding="utf-8")
    schedules: tuple[ScheduleSpec, ...] = ()
    if schedule is not None:
        parse_schedule(schedule)  # refused here with the field and the reason
        schedules = (ScheduleSpec("my-rule", schedule, function_name),)
    if api is not None and api not in ("rest", "http", "alb"):
        raise HandlerError(f"Front door {api!r} is not rest, http or alb.")
    http = HttpSpec(api, function_name, multi_value, SAMPLE_REQUESTS) if api else None
    lab = LabSpec(
        functions=(
            LabFunction(
                function_name,
                f"{path.name}:{function}",
                editable=True,
                settings=dict(settings or {}),
            ),
        ),
        events=events,
        seed=1,
        speed=10.0,
        schedules=schedules,
        http=http,
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
        files={path.name: code},
    )
    return Course(title="Free play", lessons=(lesson,), root=path.parent)
