"""Loading the asynchronous parts of a lesson: duplicate delivery, async checks, redrive.

The loader calls in here for ``lab.duplicates``, for the keys of the ``async`` check
and the extra keys of the ``queue`` check (``body``, ``attributes``, ``redriven``),
and for the ``redrive`` and ``duplicates`` solution actions. Errors are located like
the rest of the loader's: file, line, key, and what to write instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambdalab.course.model import Action, LabSpec, Step
from lambdalab.course.trigger_specs import Doc
from lambdalab.engine.service import FAILURE_CONDITIONS, parse_target

LAB_KEYS = ("duplicates",)
"""Keys of ``[lab]`` this module reads."""

ASYNC_OUTCOMES = ("succeeded", "failed", *FAILURE_CONDITIONS)
"""How an async event can end: ``failed`` is any of the three failure conditions."""

QUEUE_KEYS = ("queue", "min", "max", "body", "attributes", "redriven")
"""Allowed keys of the ``queue`` check."""

CHECK_KEYS: dict[str, tuple[str, ...]] = {
    "async": (
        "function",
        "event",
        "outcome",
        "attempts",
        "redriven",
        "duplicated",
        "min",
        "max",
    ),
}
"""Allowed keys of the async check types."""

ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "redrive": ("queue", "function"),
    "duplicates": ("rate",),
}
"""Allowed keys of the async solution actions."""


def _rate(doc: Doc, value: Any, key: str) -> float:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not 0 <= value <= 1
    ):
        raise doc.fail(
            key,
            f"{value!r} must be a number from 0 (off) to 1 (every event delivered "
            "twice).",
        )
    return float(value)


def load_lab_async(doc: Doc, raw: dict[str, Any]) -> dict[str, Any]:
    """Read the async keys of ``[lab]``: keyword arguments for ``LabSpec``."""
    if "duplicates" not in raw:
        return {}
    return {"duplicates": _rate(doc, raw["duplicates"], "lab.duplicates")}


def lab_queues(lab: LabSpec) -> list[str]:
    """The queues and buses the lab's functions name as DLQ or destination."""
    functions = {f.name for f in lab.functions}
    names: list[str] = []
    for function in lab.functions:
        for key in ("dead_letter_queue", "on_success", "on_failure"):
            target = function.settings.get(key)
            if not isinstance(target, str):
                continue
            kind, name = parse_target(target)
            if kind == "function" or (kind is None and name in functions):
                continue
            if name not in names:
                names.append(name)
    return names


def check_async_references(
    doc: Doc, lab: LabSpec, steps: Sequence[Step], solution: Sequence[Action]
) -> None:
    """Refuse async checks and actions that name things the lab does not have."""
    functions = {f.name for f in lab.functions}
    for i, step in enumerate(steps):
        for j, check in enumerate(step.checks):
            where = f"steps[{i}].checks[{j}]"
            if check.type == "async":
                _async_check(doc, lab, check.params, where)
            elif check.type == "queue":
                _queue_check(doc, lab, check.params, where)
    for i, action in enumerate(solution):
        where = f"solution[{i}]"
        p = action.params
        if action.do == "duplicates":
            _rate(doc, p.get("rate"), f"{where}.rate")
        elif action.do == "redrive":
            _queue_name(doc, lab, p.get("queue"), f"{where}.queue")
            if "function" in p and p["function"] not in functions:
                raise doc.fail(
                    f"{where}.function",
                    f"{p['function']!r} is not a function of this lab "
                    f"({', '.join(sorted(functions))}).",
                )


def _queue_name(doc: Doc, lab: LabSpec, name: Any, key: str) -> None:
    known = lab_queues(lab)
    if not isinstance(name, str) or parse_target(name)[1] not in known:
        raise doc.fail(
            key,
            f"{name!r} is not a queue of this lab ({', '.join(known) or 'none'}); "
            "name a function's dead_letter_queue, on_success or on_failure.",
        )


def _whole(doc: Doc, p: dict[str, Any], key: str, where: str) -> None:
    value = p.get(key)
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or value < 0
    ):
        raise doc.fail(f"{where}.{key}", "must be a whole number, 0 or more.")


def _async_check(doc: Doc, lab: LabSpec, p: dict[str, Any], where: str) -> None:
    for key in ("min", "max", "attempts"):
        _whole(doc, p, key, where)
    outcome = p.get("outcome")
    if outcome is not None and outcome not in ASYNC_OUTCOMES:
        raise doc.fail(
            f"{where}.outcome",
            f"{outcome!r} is not one of {', '.join(ASYNC_OUTCOMES)}.",
        )
    if "event" in p and p["event"] not in lab.events:
        raise doc.fail(
            f"{where}.event",
            f"{p['event']!r} is not one of the lab's events ({', '.join(lab.events)}).",
        )
    for key in ("redriven", "duplicated"):
        if key in p and not isinstance(p[key], bool):
            raise doc.fail(f"{where}.{key}", "must be true or false.")


def _queue_check(doc: Doc, lab: LabSpec, p: dict[str, Any], where: str) -> None:
    for key in ("min", "max", "redriven"):
        _whole(doc, p, key, where)
    attributes = p.get("attributes", {})
    if not isinstance(attributes, dict) or not all(
        isinstance(v, str) for v in attributes.values()
    ):
        raise doc.fail(
            f"{where}.attributes",
            'must map attribute names to text, e.g. { ErrorCode = "200" }.',
        )
    if "body" in p and not isinstance(p["body"], dict | list | str | int | float):
        raise doc.fail(f"{where}.body", "must be a JSON value (a table, text, ...).")
