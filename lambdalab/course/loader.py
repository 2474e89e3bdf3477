"""Read a course folder and its lessons, refusing anything malformed by name.

Every error names the file, the key (and the line where it can be found) and what to do,
so an author can fix a lesson without reading this code.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lambdalab.course.async_specs import ACTION_KEYS as ASYNC_ACTION_KEYS
from lambdalab.course.async_specs import CHECK_KEYS as ASYNC_CHECK_KEYS
from lambdalab.course.async_specs import LAB_KEYS as ASYNC_LAB_KEYS
from lambdalab.course.async_specs import (
    QUEUE_KEYS,
    check_async_references,
    load_lab_async,
)
from lambdalab.course.model import (
    CHECK_TYPES,
    OUTCOMES,
    Action,
    Check,
    Course,
    LabFunction,
    LabSpec,
    Lesson,
    Prediction,
    Step,
)
from lambdalab.course.ops_checks import CHECK_KEYS as OPS_CHECK_KEYS
from lambdalab.course.ops_checks import validate_check as validate_ops_check
from lambdalab.course.security import ACTION_KEYS as SECURITY_ACTION_KEYS
from lambdalab.course.security import CHECK_KEYS as SECURITY_CHECK_KEYS
from lambdalab.course.security import LAB_KEYS as SECURITY_LAB_KEYS
from lambdalab.course.security import (
    check_security_references,
    load_lab_security,
)
from lambdalab.course.trigger_specs import (
    ACTION_KEYS,
    CHECK_KEYS,
    LAB_KEYS,
    check_references,
    load_lab_triggers,
)
from lambdalab.engine.scenario import not_utf8_text
from lambdalab.errors import LessonFormatError

FORMAT_VERSION = 1
COURSE_FILE = "course.toml"
LESSON_FILE = "lesson.toml"
ACTIONS = (
    "invoke",
    "burst",
    "write",
    "set",
    "wait",
    "answer",
    *ACTION_KEYS,
    *ASYNC_ACTION_KEYS,
    *SECURITY_ACTION_KEYS,
)
FUNCTION_SETTINGS = (
    "memory_mb",
    "timeout_s",
    "reserved_concurrency",
    "provisioned_concurrency",
    "max_retry_attempts",
    "max_event_age_s",
    "dead_letter_queue",
    "on_success",
    "on_failure",
    "environment",
    "duration_ms",
    "error_rate",
)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def bundled_lessons_path() -> Path:
    """Where the bundled course lives: in the wheel, or at the top of a checkout."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_lessons"
    if (packaged / COURSE_FILE).is_file():
        return packaged
    return here.parent / "lessons"


def _read_text(path: Path, *, data: bool = True) -> str:
    """An author's file as text, or a message naming it and the fix.

    A data file (TOML, Markdown) may start with a UTF-8 byte-order mark, which is
    dropped; code keeps it, as Python itself accepts one.
    """
    try:
        return path.read_text(encoding="utf-8-sig" if data else "utf-8")
    except FileNotFoundError:
        raise LessonFormatError(f"{path}: file not found. Create it.") from None
    except OSError as exc:
        raise LessonFormatError(
            f"{path}: cannot read it ({exc.strerror}). Make it a readable file."
        ) from None
    except UnicodeDecodeError as exc:
        raise LessonFormatError(not_utf8_text(path, exc)) from None


_KEY_PART = re.compile(r"""\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*""")
_AFTER_HEADER = re.compile(r"\s*(#.*)?$")
_INDEX = re.compile(r"\[(\d+)\]")


def _dotted_key(line: str, pos: int) -> tuple[list[str], int] | None:
    """A TOML dotted key starting at ``pos``: its parts and where it ends, or None."""
    parts: list[str] = []
    while True:
        match = _KEY_PART.match(line, pos)
        if match is None:
            return None
        bare, basic, literal = match.groups()
        parts.append(next(p for p in (bare, basic, literal) if p is not None))
        pos = match.end()
        if not line.startswith(".", pos):
            return parts, pos
        pos += 1


def _key_path(key: str) -> list[str | int]:
    """``steps[0].checks[1].type`` as ``["steps", 0, "checks", 1, "type"]``."""
    path: list[str | int] = []
    for segment in key.split("."):
        name = segment.split("[", 1)[0]
        if name:
            path.append(name)
        path.extend(int(i) for i in _INDEX.findall(segment[len(name) :]))
    return path


def _locate(text: str, key: str) -> int | None:
    """The line setting ``key``, else the first line inside it, else its nearest table.

    Follows TOML's tables and arrays of tables (``[[steps]]`` counts from 0), so a key
    that appears in many tables (``id``, ``type``) is found in the right one.
    """
    target = _key_path(key)
    arrays: dict[tuple[str | int, ...], int] = {}
    table: list[str | int] = []
    closing = ""  # the quotes that end a multi-line string being skipped
    best, best_length = None, 0
    for number, line in enumerate(text.splitlines(), 1):
        if closing:
            if closing in line:
                closing = ""
            continue
        stripped = line.lstrip()
        path: list[str | int] | None = None
        if stripped.startswith("["):
            is_array = stripped.startswith("[[")
            parsed = _dotted_key(stripped, 2 if is_array else 1)
            end = "]]" if is_array else "]"
            if parsed and stripped.startswith(end, parsed[1]):
                if _AFTER_HEADER.match(stripped, parsed[1] + len(end)):
                    table = _resolve(parsed[0], is_array, arrays)
                    path = table
        else:
            parsed = _dotted_key(line, 0)
            if parsed and line.startswith("=", parsed[1]):
                path = [*table, *parsed[0]]
                value = line[parsed[1] + 1 :].strip()
                for quotes in ('"""', "'''"):
                    if value.startswith(quotes) and value.count(quotes) == 1:
                        closing = quotes
        if path is None:
            continue
        if path[: len(target)] == target:
            return number
        if len(path) > best_length and target[: len(path)] == path:
            best, best_length = number, len(path)
    return best


def _resolve(
    names: list[str], is_array: bool, arrays: dict[tuple[str | int, ...], int]
) -> list[str | int]:
    """A table header as a path, each array of tables at its latest entry."""
    path: list[str | int] = []
    for i, name in enumerate(names):
        path.append(name)
        key = tuple(path)
        if is_array and i == len(names) - 1:
            arrays[key] = arrays.get(key, 0) + 1
        if key in arrays:
            path.append(arrays[key] - 1)
    return path


class _Doc:
    """A parsed TOML file that can say where a key is and refuse unknown keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = _read_text(path)
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise LessonFormatError(f"{path}: not valid TOML: {exc}.") from None

    def where(self, key: str) -> str:
        """``file:line`` where ``key`` is set (or its nearest table), else the file."""
        number = _locate(self.text, key)
        return f"{self.path}:{number}" if number else str(self.path)

    def fail(self, key: str, problem: str) -> LessonFormatError:
        return LessonFormatError(f"{self.where(key)}: {key}: {problem}")

    def only(self, table: dict[str, Any], allowed: Iterable[str], where: str) -> None:
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                raise self.fail(
                    f"{where}.{key}" if where else key,
                    f"unknown key; use one of {', '.join(allowed)}.",
                )

    def text_of(
        self, table: dict[str, Any], key: str, where: str, *, required: bool = True
    ) -> str:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key}" if where else key, "missing; add it.")
            return ""
        if not isinstance(value, str):
            raise self.fail(
                f"{where}.{key}" if where else key, f"must be text, not {value!r}."
            )
        return value


def load_course(root: Path) -> Course:
    """Load a course folder (with course.toml) or a single lesson folder."""
    root = root.expanduser()
    if (root / LESSON_FILE).is_file() and not (root / COURSE_FILE).is_file():
        lesson = load_lesson(root)
        return Course(title=lesson.title, lessons=(lesson,), root=root)
    if root.is_file():
        raise LessonFormatError(
            f"{root}: is a file; point at the folder that holds {COURSE_FILE} "
            f"(a course) or {LESSON_FILE} (one lesson)."
        )
    if not root.is_dir():
        raise LessonFormatError(
            f"{root}: no such folder. Point at a lesson pack folder."
        )
    if not (root / COURSE_FILE).exists():
        raise LessonFormatError(
            f"{root}: has neither {COURSE_FILE} nor {LESSON_FILE}. A course folder "
            f"needs {COURSE_FILE} (its title and lesson folders, in order); a single "
            f"lesson folder needs {LESSON_FILE}. Add one, or point at the folder that "
            "has it."
        )
    doc = _Doc(root / COURSE_FILE)
    data = doc.data
    doc.only(data, ("format_version", "title", "welcome", "lessons"), "")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise doc.fail(
            "format_version",
            f"is {version!r}; this lambdalab reads format_version = {FORMAT_VERSION}.",
        )
    folders = data.get("lessons")
    if (
        not isinstance(folders, list)
        or not folders
        or not all(isinstance(f, str) for f in folders)
    ):
        raise doc.fail("lessons", "must be a list of lesson folder names, in order.")
    lessons = []
    seen: set[str] = set()
    for folder in folders:
        if not (root / folder / LESSON_FILE).is_file():
            raise doc.fail(
                "lessons",
                f"{folder!r} has no {LESSON_FILE} in {root}; fix the folder name or add the lesson.",
            )
        lesson = load_lesson(root / folder)
        if lesson.id in seen:
            raise doc.fail("lessons", f"lesson id {lesson.id!r} appears twice.")
        seen.add(lesson.id)
        lessons.append(lesson)
    welcome = (
        _read_markdown(doc, root, data.get("welcome"), "welcome")
        if data.get("welcome")
        else ""
    )
    return Course(doc.text_of(data, "title", ""), tuple(lessons), root, welcome)


def _read_markdown(doc: _Doc, folder: Path, name: Any, key: str) -> str:
    if not isinstance(name, str) or not name.endswith(".md"):
        raise doc.fail(key, f"must name a Markdown file (.md), not {name!r}.")
    path = folder / name
    if not path.is_file():
        raise doc.fail(
            key, f"file {name} does not exist in {folder}; create it or fix the name."
        )
    return _read_text(path)


def load_lesson(folder: Path) -> Lesson:
    """Load and validate one lesson folder."""
    doc = _Doc(folder / LESSON_FILE)
    data = doc.data
    doc.only(
        data,
        (
            "id",
            "title",
            "summary",
            "objectives",
            "recap",
            "lab",
            "steps",
            "solution",
            "solution_text",
        ),
        "",
    )
    lesson_id = doc.text_of(data, "id", "")
    if not _ID.match(lesson_id):
        raise doc.fail(
            "id", f"{lesson_id!r} must be lower-case letters, digits and hyphens."
        )
    objectives = data.get("objectives", [])
    if (
        not isinstance(objectives, list)
        or not objectives
        or not all(isinstance(o, str) for o in objectives)
    ):
        raise doc.fail("objectives", "must be a non-empty list of sentences.")
    lab, files = _load_lab(doc, folder, data.get("lab"))
    events = lab.events
    function_names = {f.name for f in lab.functions}
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise doc.fail("steps", "add at least one [[steps]] table.")
    steps = tuple(
        _load_step(doc, folder, raw, i, function_names)
        for i, raw in enumerate(raw_steps)
    )
    step_ids = [s.id for s in steps]
    if len(set(step_ids)) != len(step_ids):
        twice = sorted({i for i in step_ids if step_ids.count(i) > 1})
        raise doc.fail(
            "steps", f"step id {twice[0]!r} is used twice; give each step its own id."
        )
    solution, solution_files = _load_solution(
        doc, folder, data.get("solution"), function_names, events, step_ids, files
    )
    check_references(doc, lab, steps, solution)
    check_async_references(doc, lab, steps, solution)
    check_security_references(doc, lab, steps, solution)
    return Lesson(
        id=lesson_id,
        title=doc.text_of(data, "title", ""),
        summary=doc.text_of(data, "summary", ""),
        objectives=tuple(objectives),
        steps=steps,
        lab=lab,
        solution=solution,
        solution_text=_read_markdown(
            doc, folder, data.get("solution_text"), "solution_text"
        ),
        recap=_read_markdown(doc, folder, data.get("recap"), "recap"),
        folder=folder,
        files=files,
        solution_files=solution_files,
    )


def _load_lab(doc: _Doc, folder: Path, raw: Any) -> tuple[LabSpec, dict[str, str]]:
    if not isinstance(raw, dict):
        raise doc.fail("lab", "add a [lab] table with at least one [[lab.functions]].")
    doc.only(
        raw,
        (
            "seed",
            "speed",
            "account",
            "functions",
            "events",
            "burst",
            *LAB_KEYS,
            *ASYNC_LAB_KEYS,
            *SECURITY_LAB_KEYS,
        ),
        "lab",
    )
    functions = []
    files: dict[str, str] = {}
    raw_functions = raw.get("functions")
    if not isinstance(raw_functions, list) or not raw_functions:
        raise doc.fail("lab.functions", "add at least one [[lab.functions]] table.")
    for i, item in enumerate(raw_functions):
        where = f"lab.functions[{i}]"
        if not isinstance(item, dict):
            raise doc.fail(where, "must be a table.")
        doc.only(item, ("name", "handler", "editable", *FUNCTION_SETTINGS), where)
        name = doc.text_of(item, "name", where)
        handler = item.get("handler")
        if handler is not None:
            if (
                not isinstance(handler, str)
                or ":" not in handler
                or not handler.split(":")[0].endswith(".py")
            ):
                raise doc.fail(
                    f"{where}.handler",
                    f"{handler!r} must look like handler.py:handler.",
                )
            file_name = handler.split(":")[0]
            source = folder / file_name
            if not source.is_file():
                raise doc.fail(
                    f"{where}.handler",
                    f"file {file_name} does not exist in {folder}; create it or fix the handler.",
                )
            files[file_name] = _read_text(source, data=False)
        settings = {k: v for k, v in item.items() if k in FUNCTION_SETTINGS}
        functions.append(
            LabFunction(name, handler, bool(item.get("editable", False)), settings)
        )
    events = raw.get("events", {})
    if not isinstance(events, dict) or not events:
        raise doc.fail(
            "lab.events", "add a [lab.events] table naming at least one event."
        )
    speed = raw.get("speed", 10)
    if not isinstance(speed, int | float) or not 1 <= speed <= 1000:
        raise doc.fail("lab.speed", f"{speed!r} must be a number from 1 to 1000.")
    account = raw.get("account", {})
    if not isinstance(account, dict):
        raise doc.fail("lab.account", "must be a table.")
    doc.only(account, ("concurrency_limit", "unreserved_minimum"), "lab.account")
    seed = raw.get("seed", 1)
    if not isinstance(seed, int):
        raise doc.fail("lab.seed", f"{seed!r} must be a whole number.")
    burst = raw.get("burst", 20)
    if not isinstance(burst, int) or not 1 <= burst <= 1000:
        raise doc.fail("lab.burst", f"{burst!r} must be a whole number from 1 to 1000.")
    triggers = load_lab_triggers(doc, raw, {f.name for f in functions})
    _check_variable_files(raw, folder)
    spec = LabSpec(
        tuple(functions),
        dict(events),
        seed,
        float(speed),
        dict(account),
        burst,
        **triggers,
        **load_lab_async(doc, raw),
        **load_lab_security(doc, raw, {f.name for f in functions}, folder),
    )
    return spec, files


def _check_variable_files(raw: dict[str, Any], folder: Path) -> None:
    """Name a ``{ file = "..." }`` environment variable's file that is not UTF-8 text.

    The security loader reads these files; their shape is checked there.
    """
    security = raw.get("security")
    named = security.get("environments") if isinstance(security, dict) else None
    for item in named.values() if isinstance(named, dict) else ():
        variables = item.get("variables") if isinstance(item, dict) else None
        for value in variables.values() if isinstance(variables, dict) else ():
            if isinstance(value, dict) and set(value) == {"file"}:
                path = folder / str(value["file"])
                if path.is_file():
                    _read_text(path)


def _load_step(
    doc: _Doc, folder: Path, raw: Any, index: int, functions: set[str]
) -> Step:
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise doc.fail(where, "must be a table.")
    doc.only(raw, ("id", "title", "text", "checks", "hints", "predict"), where)
    step_id = doc.text_of(raw, "id", where)
    text = _read_markdown(doc, folder, raw.get("text"), f"{where}.text")
    hints = raw.get("hints", [])
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        raise doc.fail(
            f"{where}.hints", "must be a list of hint sentences, gentlest first."
        )
    checks = []
    for j, item in enumerate(raw.get("checks", [])):
        checks.append(_load_check(doc, item, f"{where}.checks[{j}]", functions))
    if checks and not hints:
        raise doc.fail(f"{where}.hints", "a step with checks needs at least one hint.")
    predict = (
        _load_predict(doc, raw.get("predict"), f"{where}.predict")
        if "predict" in raw
        else None
    )
    return Step(
        step_id,
        doc.text_of(raw, "title", where),
        text,
        tuple(checks),
        tuple(hints),
        predict,
    )


def _load_predict(doc: _Doc, raw: Any, where: str) -> Prediction:
    if not isinstance(raw, dict):
        raise doc.fail(where, "must be a table with question and answer.")
    doc.only(raw, ("question", "choices", "answer", "tolerance", "explain"), where)
    choices = raw.get("choices", [])
    answer = raw.get("answer")
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise doc.fail(f"{where}.choices", "must be a list of choice texts.")
    if not isinstance(answer, int | float) or isinstance(answer, bool):
        raise doc.fail(
            f"{where}.answer",
            "must be a number (the 0-based choice index, or the value).",
        )
    if choices and not 0 <= int(answer) < len(choices):
        raise doc.fail(
            f"{where}.answer", f"choice index {answer} is outside 0-{len(choices) - 1}."
        )
    return Prediction(
        doc.text_of(raw, "question", where),
        tuple(choices),
        answer,
        float(raw.get("tolerance", 0.0)),
        doc.text_of(raw, "explain", where, required=False),
    )


def _load_check(doc: _Doc, raw: Any, where: str, functions: set[str]) -> Check:
    if not isinstance(raw, dict):
        raise doc.fail(where, "must be a table.")
    kind = raw.get("type")
    if kind not in CHECK_TYPES:
        raise doc.fail(
            f"{where}.type", f"{kind!r} is not one of {', '.join(CHECK_TYPES)}."
        )
    allowed = {
        "invocations": (
            "function",
            "via",
            "outcome",
            "cold",
            "error_type",
            "min",
            "max",
        ),
        "response": (
            "function",
            "event",
            "status_code",
            "function_error",
            "payload",
            "payload_contains",
        ),
        "log": ("function", "pattern", "min"),
        "queue": QUEUE_KEYS,
        "config": ("function", "key", "value"),
        "prediction": ("step",),
        **CHECK_KEYS,
        **ASYNC_CHECK_KEYS,
        **OPS_CHECK_KEYS,
        **SECURITY_CHECK_KEYS,
    }[kind]
    params = {k: v for k, v in raw.items() if k not in ("type", "goal", "explain")}
    doc.only(params, allowed, where)
    function = params.get("function")
    if function is not None and function not in functions:
        raise doc.fail(
            f"{where}.function",
            f"{function!r} is not a function of this lab ({', '.join(sorted(functions))}).",
        )
    if kind == "invocations":
        outcome = params.get("outcome")
        if outcome is not None and outcome not in OUTCOMES:
            raise doc.fail(
                f"{where}.outcome", f"{outcome!r} is not one of {', '.join(OUTCOMES)}."
            )
        if params.get("via") not in (None, "sync", "async"):
            raise doc.fail(f"{where}.via", "must be sync or async.")
    if kind == "log":
        try:
            re.compile(str(params.get("pattern", "")))
        except re.error as exc:
            raise doc.fail(
                f"{where}.pattern", f"is not a valid regular expression: {exc}."
            ) from None
    if kind in OPS_CHECK_KEYS:
        validate_ops_check(doc, kind, params, where)
    return Check(
        kind,
        doc.text_of(raw, "goal", where),
        params,
        doc.text_of(raw, "explain", where, required=False),
    )


def _load_solution(
    doc: _Doc,
    folder: Path,
    raw: Any,
    functions: set[str],
    events: dict[str, Any],
    steps: list[str],
    files: dict[str, str],
) -> tuple[tuple[Action, ...], dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise doc.fail("solution", "add [[solution]] actions that solve the lesson.")
    actions = []
    solution_files: dict[str, str] = {}
    for i, item in enumerate(raw):
        where = f"solution[{i}]"
        if not isinstance(item, dict) or item.get("do") not in ACTIONS:
            raise doc.fail(f"{where}.do", f"must be one of {', '.join(ACTIONS)}.")
        params = {k: v for k, v in item.items() if k != "do"}
        do = item["do"]
        if do in ("invoke", "burst"):
            doc.only(params, ("function", "event", "type", "times", "count"), where)
            if params.get("function") not in functions:
                raise doc.fail(
                    f"{where}.function",
                    f"{params.get('function')!r} is not a function of this lab.",
                )
            if params.get("event", next(iter(events))) not in events:
                raise doc.fail(
                    f"{where}.event",
                    f"{params.get('event')!r} is not one of the lab's events ({', '.join(events)}).",
                )
        elif do == "write":
            doc.only(params, ("file", "source"), where)
            target, source = params.get("file"), params.get("source")
            if target not in files:
                raise doc.fail(
                    f"{where}.file",
                    f"{target!r} is not one of the lesson's code files ({', '.join(files) or 'none'}).",
                )
            path = folder / str(source)
            if not path.is_file():
                raise doc.fail(
                    f"{where}.source",
                    f"file {source} does not exist in {folder}; create it or fix the source.",
                )
            solution_files[str(target)] = _read_text(path, data=False)
        elif do == "set":
            doc.only(params, ("function", "key", "value"), where)
            if params.get("key") not in FUNCTION_SETTINGS:
                raise doc.fail(
                    f"{where}.key",
                    f"{params.get('key')!r} is not one of {', '.join(FUNCTION_SETTINGS)}.",
                )
        elif do == "wait":
            doc.only(params, ("seconds",), where)
            if not isinstance(params.get("seconds"), int | float):
                raise doc.fail(
                    f"{where}.seconds", "must be a number of virtual seconds."
                )
        elif do == "answer":
            doc.only(params, ("step", "value"), where)
            if params.get("step") not in steps:
                raise doc.fail(
                    f"{where}.step",
                    f"{params.get('step')!r} is not a step id of this lesson.",
                )
        elif do in ACTION_KEYS:
            doc.only(params, ACTION_KEYS[do], where)  # references: check_references
        elif do in ASYNC_ACTION_KEYS:
            doc.only(params, ASYNC_ACTION_KEYS[do], where)  # check_async_references
        elif do in SECURITY_ACTION_KEYS:
            doc.only(params, SECURITY_ACTION_KEYS[do], where)  # check_security_...
        actions.append(Action(do, params))
    return tuple(actions), solution_files


def event_json(value: Any) -> str:
    """A lab event as the JSON text the function receives."""
    return json.dumps(value)
