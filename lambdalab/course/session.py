"""A lesson's live lab: the service it drives, the learner's code, and the checks.

The UI and ``lessons check`` drive the same ``LabSession``; the UI only adds pacing and
drawing, so what a replay proves is what a learner sees.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lambdalab.course.async_checks import check_async, check_queue
from lambdalab.course.model import Check, Lesson, Step
from lambdalab.course.ops_checks import check_cost, check_metric
from lambdalab.course.security import ACTION_KEYS as SECURITY_ACTIONS
from lambdalab.course.security import CallRecord, LabSecurity
from lambdalab.course.triggers import LabTriggers
from lambdalab.engine.metrics import Metrics
from lambdalab.engine.model import (
    AWS_SETTING_NAMES,
    Account,
    DurationModel,
    FunctionConfig,
)
from lambdalab.engine.scenario import not_utf8_text
from lambdalab.engine.service import Invocation, LambdaService
from lambdalab.engine.trace import TraceRecord
from lambdalab.errors import HandlerError, LambdaLabError, ProgressError

InvokeKind = Literal["sync", "async"]
_TYPES: dict[str, Literal["RequestResponse", "Event"]] = {
    "sync": "RequestResponse",
    "async": "Event",
}


def read_learner_text(path: Path, what: str) -> str:
    """A learner's file as UTF-8 text, or a ``HandlerError`` naming it and the fix."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HandlerError(
            f"Cannot read {what} {path}: {exc.strerror or exc}. Check that it is a "
            "file you may read."
        ) from None
    except UnicodeDecodeError as exc:
        raise HandlerError(f"{what.capitalize()} {not_utf8_text(path, exc)}") from None


def write_learner_text(path: Path, text: str) -> None:
    """Replace a learner's code file whole: a failed write leaves the old one intact."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # Not mkstemp: its files are private (0600); this one gets the umask's mode.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise ProgressError(_cannot_save(path, exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ProgressError(_cannot_save(path, exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _cannot_save(path: Path, exc: OSError) -> str:
    return (
        f"Cannot save {path}: {exc.strerror or exc}. The file keeps its previous text; "
        "free some disk space or check the folder's permissions, then save again."
    )


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one check, with the reason in Lambda's terms."""

    check: Check
    passed: bool
    detail: str


class LabSession:
    """One learner's lab for one lesson."""

    def __init__(
        self,
        lesson: Lesson,
        workspace: Path,
        *,
        answers: dict[str, float | int] | None = None,
        wall_guard_s: float = 3.0,
    ) -> None:
        self.lesson = lesson
        self.workspace = workspace
        self.answers: dict[str, float | int] = dict(answers or {})
        self.wall_guard_s = wall_guard_s
        self.history: list[Invocation] = []
        """Invocations the learner (or a replay) started, in order."""
        self.revision = 0
        """Bumped by every change a check could see, so watchers know to re-check."""
        self.duplicate_rate = lesson.lab.duplicates
        """The duplicate-delivery knob; kept across a reset of the lab."""
        self._ensure_workspace()
        self.security = LabSecurity(
            lesson.lab.security,
            workspace,
            account_id=Account(**lesson.lab.account).account_id,
            now_ms=lambda: self.service.now_ms,
            configure=self.configure,
            calls_so_far=lambda: len(self.triggers.effects),
        )
        """Execution roles, invoke permissions, variables and keys (kept on reset)."""
        self.service = self._build()
        self.triggers = self._build_triggers()
        """The lab's schedules, HTTP front door and S3 buckets."""

    # -- set-up ----------------------------------------------------------------------

    def _ensure_workspace(self) -> None:
        """Create the code folder, and any of the lesson's files it lacks."""
        try:
            self.workspace.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProgressError(
                f"Cannot prepare the code folder {self.workspace}: "
                f"{exc.strerror or exc}. Move away whatever is in its place, or set "
                "LAMBDALAB_HOME to a folder you may write to."
            ) from None
        for name, text in self.lesson.files.items():
            path = self.workspace / name
            if not path.exists():
                write_learner_text(path, text)

    def _build(self) -> LambdaService:
        lab = self.lesson.lab
        service = LambdaService(
            Account(**lab.account),
            seed=lab.seed,
            wall_guard_s=self.wall_guard_s,
            duplicate_rate=self.duplicate_rate,
        )
        service.trace.subscribe(self._on_record)
        self.metrics = Metrics.attach(service)
        for function in lab.functions:
            service.create_function(
                self._config(function.name, function.handler, function.settings)
            )
        return service

    def _build_triggers(self) -> LabTriggers:
        return LabTriggers(
            self.lesson.lab,
            self.service,
            adopt=self._adopt,
            changed=self._bump,
            authorize=self._authorize,
        )

    def _authorize(self, function: str, principal: str, source_arn: str) -> str | None:
        denied = self.security.authorize(function, principal, source_arn)
        if denied:
            self.revision += 1
        return denied

    def _adopt(self, inv: Invocation) -> None:
        """Show an invocation a trigger started (a fire, a delivery, a request)."""
        self.history.append(inv)
        self.revision += 1

    def _bump(self) -> None:
        self.revision += 1

    def _config(
        self, name: str, handler: str | None, settings: dict[str, Any]
    ) -> FunctionConfig:
        values = dict(settings)
        duration = values.pop("duration_ms", None)
        if duration is not None:
            values["duration"] = (
                DurationModel("fixed", float(duration))
                if isinstance(duration, int | float)
                else DurationModel(**duration)
            )
        return FunctionConfig(
            name,
            handler=handler,
            code_dir=self.workspace if handler else None,
            **values,
        )

    def reset(self) -> None:
        """Start the lab again: a fresh service, the learner's code as it is now."""
        self.service.close()
        self.service = self._build()
        self.security.role_changed_at.clear()  # the new lab records calls afresh
        self.security.denials.clear()
        self.history.clear()
        self.triggers = self._build_triggers()
        self.revision += 1

    def reset_code(self) -> None:
        """Put the lesson's starting code back into the workspace."""
        for name, text in self.lesson.files.items():
            write_learner_text(self.workspace / name, text)
        self.reset()

    def close(self) -> None:
        """End the handler processes."""
        self.service.close()

    # -- what the learner does -------------------------------------------------------

    @property
    def event_names(self) -> list[str]:
        """The lab's named events, in the lesson's order."""
        return list(self.lesson.lab.events)

    def invoke(
        self, function: str, event: str, kind: InvokeKind = "sync"
    ) -> Invocation:
        """Invoke ``function`` now with the named event."""
        payload = self.lesson.lab.events[event]
        inv = self.service.invoke(
            function, payload, _TYPES[kind], on_done=self._changed
        )
        self.history.append(inv)
        self.revision += 1
        return inv

    def burst(
        self, function: str, event: str, kind: InvokeKind, count: int
    ) -> list[Invocation]:
        """Send ``count`` requests at the same virtual instant."""
        return [self.invoke(function, event, kind) for _ in range(count)]

    def _changed(self, _inv: Invocation) -> None:
        self.revision += 1

    def _on_record(self, _record: TraceRecord) -> None:
        # Anything the service records may change what a check sees (watch mode).
        self.revision += 1

    def code(self, file: str) -> str:
        """The learner's current text of a code file (a deleted one is restored first).

        A file that cannot be read, or is not UTF-8, is a ``HandlerError`` naming it.
        """
        self._ensure_workspace()
        return read_learner_text(self.workspace / file, "code file")

    def save_code(self, file: str, text: str) -> None:
        """Save the learner's code; like a deploy, new requests get new environments.

        A failed save is a ``ProgressError`` and leaves the previous text whole.
        """
        write_learner_text(self.workspace / file, text)
        for function in self.lesson.lab.functions:
            if function.handler and function.handler.split(":")[0] == file:
                self.service.update_function(function.name)
        self.revision += 1

    def configure(self, function: str, key: str, value: Any) -> None:
        """Change a function setting, validated as Lambda would."""
        if key == "reserved_concurrency":
            self.service.put_function_concurrency(function, value)
        else:
            self.service.update_function(function, **{key: value})
        self.revision += 1

    def redrive(
        self,
        queue: str,
        function: str | None = None,
        message_ids: list[str] | None = None,
    ) -> list[Invocation]:
        """Send a queue's messages (or some of them) back to their function, async."""
        invocations = self.service.redrive(queue, message_ids, function=function)
        self.history.extend(invocations)
        self.revision += 1
        return invocations

    def set_duplicates(self, rate: float) -> None:
        """Turn the duplicate-delivery knob: 0 is off, 1 delivers every event twice."""
        self.service.set_duplicate_delivery(rate)
        self.duplicate_rate = rate
        self.revision += 1

    def answer(self, step_id: str, value: float | int) -> None:
        """Record the learner's prediction for a step."""
        self.answers[step_id] = value
        self.revision += 1

    def advance(self, seconds: float) -> None:
        """Let virtual time run for ``seconds`` (waiting for handler code as needed)."""
        self.service.run(until_ms=self.service.now_ms + seconds * 1000.0)

    def settle(self) -> None:
        """Run until nothing is left to do (every invocation and retry has finished).

        Schedules pause meanwhile, or a rule would always leave something to do.
        """
        with self.triggers.held():
            self.service.run()

    # -- replay ----------------------------------------------------------------------

    def replay_solution(self) -> set[str]:
        """Apply the lesson's reference solution; return the ids of the steps it passed.

        Steps are checked after every action, as the app checks them while a learner
        works, so a later step may change what an earlier one looked at.
        """
        passed: set[str] = set()
        for action in self.lesson.solution:
            p = action.params
            if action.do == "invoke":
                for _ in range(int(p.get("times", 1))):
                    event = p.get("event", self.event_names[0])
                    inv = self.invoke(p["function"], event, p.get("type", "sync"))
                    if p.get("type", "sync") == "sync":
                        self.service.run_until_done(inv)
            elif action.do == "burst":
                event = p.get("event", self.event_names[0])
                count = int(p.get("count", self.lesson.lab.burst))
                self.burst(p["function"], event, p.get("type", "sync"), count)
            elif action.do == "write":
                self.save_code(p["file"], self.lesson.solution_files[p["file"]])
            elif action.do == "set":
                self.configure(p["function"], p["key"], p["value"])
            elif action.do == "wait":
                self.advance(float(p["seconds"]))
            elif action.do == "answer":
                self.answer(p["step"], p["value"])
            elif action.do == "redrive":
                self.redrive(p["queue"], p.get("function"))
            elif action.do == "duplicates":
                self.set_duplicates(float(p["rate"]))
            elif action.do in SECURITY_ACTIONS:
                self.security.replay(action.do, p)
                self.revision += 1
            else:
                self._replay_trigger(action.do, p)
            passed |= self.passed_steps()
        self.settle()
        return passed | self.passed_steps()

    def _replay_trigger(self, do: str, p: dict[str, Any]) -> None:
        """The solution actions of schedules, the front door and buckets."""
        triggers = self.triggers
        if do == "schedule":
            triggers.set_schedule(
                p["schedule"], expression=p.get("expression"), enabled=p.get("enabled")
            )
        elif do == "http":
            if "api" in p:
                triggers.set_front_door(p["api"], p.get("multi_value"))
            if "request" in p:
                exchange = triggers.send(p["request"])
                assert exchange.invocation is not None
                self.service.run_until_done(exchange.invocation)
        elif do == "upload":
            for _ in range(int(p.get("times", 1))):
                triggers.upload(p["upload"])
        elif do == "bucket":
            triggers.set_loop_guard(p["bucket"], bool(p["loop_guard"]))
        elif do == "notification":
            events = p.get("events")
            triggers.put_notification(
                p["bucket"],
                p["id"],
                function=p.get("function"),
                events=tuple(events) if events is not None else None,
                prefix=p.get("prefix"),
                suffix=p.get("suffix"),
            )

    def passed_steps(self) -> set[str]:
        """Ids of the steps with checks whose checks all pass now."""
        return {s.id for s in self.lesson.steps if s.checks and self.step_passed(s)}

    # -- checks ----------------------------------------------------------------------

    def evaluate(self, step: Step) -> list[CheckResult]:
        """Every check of ``step`` against the lab as it is now."""
        return [self.check(c) for c in step.checks]

    def step_passed(self, step: Step) -> bool:
        """True when the step has checks and all of them pass (or it has none)."""
        return all(r.passed for r in self.evaluate(step))

    def check(self, check: Check) -> CheckResult:
        """Evaluate one check and explain the result."""
        handler = getattr(self, f"_check_{check.type}")
        passed, detail = handler(check.params)
        if not passed and check.explain:
            detail = f"{detail} {check.explain}"
        return CheckResult(check, passed, detail)

    def _check_invocations(self, p: dict[str, Any]) -> tuple[bool, str]:
        function = p.get("function")
        outcome = p.get("outcome")
        kind = p.get("via")
        count = 0
        seen: dict[str, int] = {}
        for record in self.service.trace:
            if function and record.function != function:
                continue
            if record.kind == "invoke.end":
                data = record.data
                if kind and data["type"] != kind:
                    continue
                label = data["outcome"] + (" (cold)" if data["cold"] else "")
                seen[label] = seen.get(label, 0) + 1
                if outcome not in (None, data["outcome"]):
                    continue
                if "cold" in p and data["cold"] != p["cold"]:
                    continue
                if "error_type" in p and data.get("error_type") != p["error_type"]:
                    continue
                count += 1
            elif record.kind == "invoke.throttled":
                seen["throttled"] = seen.get("throttled", 0) + 1
                if outcome == "throttled":
                    count += 1
            elif record.kind == "async.received":
                seen["accepted async"] = seen.get("accepted async", 0) + 1
                if outcome == "accepted":
                    count += 1
        low, high = p.get("min", 1), p.get("max")
        passed = count >= low and (high is None or count <= high)
        so_far = (
            ", ".join(f"{label} ×{n}" for label, n in seen.items()) or "nothing yet"
        )
        if passed:
            return True, f"{count} {_describe_invocations(p, count)}."
        need = f"at least {low}" if high is None else f"{low} to {high}"
        what = _describe_invocations(p, low if high is None else 2)
        return False, f"Needs {need} {what}; the lab shows {count}. So far: {so_far}."

    def _answered(self, function: str | None, event: str | None) -> list[Invocation]:
        """Synchronous invocations that have answered, newest first."""
        payload = None if event is None else self.lesson.lab.events.get(event)
        return [
            inv
            for inv in reversed(self.history)
            if inv.invocation_type == "RequestResponse"
            and inv.done
            and (function is None or inv.function == function)
            and (event is None or json.loads(inv.payload) == payload)
        ]

    def _check_response(self, p: dict[str, Any]) -> tuple[bool, str]:
        answered = self._answered(p.get("function"), p.get("event"))
        if not answered:
            sent = f" with the {p['event']!r} event" if p.get("event") else ""
            return (
                False,
                f"No synchronous invocation{sent} has answered yet; invoke it (press i).",
            )
        problems: list[str] = []
        for inv in answered:
            problems = _response_problems(inv, p)
            if not problems:
                return True, f"The response to {inv.request_id[:8]} is as expected."
        latest = answered[0]
        problems = _response_problems(latest, p)
        return False, f"The latest response ({latest.request_id[:8]}): " + "; ".join(
            problems
        ) + "."

    def _check_log(self, p: dict[str, Any]) -> tuple[bool, str]:
        pattern = re.compile(str(p.get("pattern", "")))
        function = p.get("function")
        count = sum(
            1
            for r in self.service.trace.of_kind("log")
            if (not function or r.function == function)
            and pattern.search(r.data["message"])
        )
        low = int(p.get("min", 1))
        if count >= low:
            return True, f"{count} log line(s) match."
        return (
            False,
            f"Needs at least {low} log line(s) matching {pattern.pattern!r}; found {count}.",
        )

    def _check_queue(self, p: dict[str, Any]) -> tuple[bool, str]:
        return check_queue(self.service, p)

    def _check_async(self, p: dict[str, Any]) -> tuple[bool, str]:
        return check_async(self.service, self.lesson.lab.events, p)

    def _check_config(self, p: dict[str, Any]) -> tuple[bool, str]:
        config = self.service.function(str(p["function"]))
        key = str(p["key"])
        value = getattr(config, key)
        setting = f"{p['function']}'s {AWS_SETTING_NAMES.get(key, key)}"
        shown = "not set" if value is None else str(value)
        if value == p["value"]:
            return True, f"{setting} is {shown}."
        goal = "not set" if p["value"] is None else str(p["value"])
        return False, f"{setting} is {shown}; the goal is {goal}."

    def _check_schedule(self, p: dict[str, Any]) -> tuple[bool, str]:
        return self.triggers.check_schedule(p)

    def _check_http(self, p: dict[str, Any]) -> tuple[bool, str]:
        return self.triggers.check_http(p)

    def _check_bucket(self, p: dict[str, Any]) -> tuple[bool, str]:
        return self.triggers.check_bucket(p)

    def _check_effects(self, p: dict[str, Any]) -> tuple[bool, str]:
        return self.triggers.check_effects(p)

    def _check_metric(self, p: dict[str, Any]) -> tuple[bool, str]:
        return check_metric(self.metrics, p)

    def _check_cost(self, p: dict[str, Any]) -> tuple[bool, str]:
        return check_cost(self.metrics, p)

    def _check_role(self, p: dict[str, Any]) -> tuple[bool, str]:
        calls = [
            CallRecord(r.time_ms, r.function, r.action, r.resource, r.outcome)
            for r in self.triggers.effects
        ]
        return self.security.check_role(p, calls)

    def _check_policy(self, p: dict[str, Any]) -> tuple[bool, str]:
        return self.security.check_policy(p)

    def _check_environment(self, p: dict[str, Any]) -> tuple[bool, str]:
        config = self.service.function(str(p["function"]))
        return self.security.check_environment(p, dict(config.environment or {}))

    def _check_prediction(self, p: dict[str, Any]) -> tuple[bool, str]:
        if p["step"] in self.answers:
            return True, "You committed to a prediction."
        return False, "Commit to a prediction first (press the number of your answer)."


def _response_problems(inv: Invocation, p: dict[str, Any]) -> list[str]:
    response = inv.response
    assert response is not None
    problems = []
    if "status_code" in p and response.status_code != p["status_code"]:
        problems.append(
            f"the status code was {response.status_code}, not {p['status_code']}"
        )
    if "function_error" in p:
        want = p["function_error"] or None
        if response.function_error != want:
            got = response.function_error or "no X-Amz-Function-Error header"
            problems.append(f"the function error was {got}, not {want or 'absent'}")
    if "payload" in p:
        try:
            body = json.loads(response.payload) if response.payload else None
        except json.JSONDecodeError:
            body = None
        if not _matches(body, p["payload"]):
            problems.append(
                f"the payload was {response.payload or 'empty'}, not {json.dumps(p['payload'])}"
            )
    if "payload_contains" in p and str(p["payload_contains"]) not in response.payload:
        problems.append(
            f"the payload {response.payload or '(empty)'} does not contain {p['payload_contains']!r}"
        )
    return problems


def plural(count: int, word: str) -> str:
    """``1 hint``, ``2 hints``: counts that read as English."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _describe_invocations(p: dict[str, Any], count: int) -> str:
    words = []
    if "cold" in p:
        words.append("cold" if p["cold"] else "warm")
    outcome = p.get("outcome")
    words.append(
        {
            None: "",
            "success": "successful",
            "error": "failed",
            "timeout": "timed-out",
            "exit": "crashed",
            "throttled": "throttled",
            "accepted": "accepted",
        }[outcome]
    )
    if p.get("via"):
        words.append("synchronous" if p["via"] == "sync" else "asynchronous")
    noun = "invocation" if count == 1 else "invocations"
    if "error_type" in p:
        noun += f" ending in {p['error_type']}"
    if p.get("function"):
        noun += f" of {p['function']}"
    return " ".join(w for w in [*words, noun] if w)


def _matches(actual: Any, expected: Any) -> bool:
    """Whether ``expected`` is contained in ``actual`` (dicts by subset, others equal)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _matches(actual[k], v) for k, v in expected.items()
        )
    return bool(actual == expected)


def replay_problems(lesson: Lesson, workspace: Path) -> list[str]:
    """What ``lessons check`` reports for one lesson: its start must fail, its solution pass."""
    problems: list[str] = []
    sources = [(f"{lesson.folder / n}", text) for n, text in lesson.files.items()]
    sources += [
        (f"the solution's {n}", text) for n, text in lesson.solution_files.items()
    ]
    for where, text in sources:
        try:
            compile(text, where, "exec")
        except SyntaxError as exc:
            problems.append(
                f"{lesson.id}: {where}, line {exc.lineno}: {exc.msg}; fix it so Lambda "
                "can import it."
            )
    checked = [s for s in lesson.steps if s.checks]
    if not checked:
        return [f"{lesson.id}: no step has a check; add a task with checks."]
    start = LabSession(lesson, workspace / "start", wall_guard_s=2.0)
    try:
        start.settle()
        if all(start.step_passed(s) for s in checked):
            problems.append(
                f"{lesson.id}: the starting state already passes every check; a task must need work."
            )
    finally:
        start.close()
    solved = LabSession(lesson, workspace / "solution", wall_guard_s=2.0)
    try:
        passed = solved.replay_solution()
        for step in checked:
            if step.id in passed:
                continue
            for result in solved.evaluate(step):
                if not result.passed:
                    problems.append(
                        f"{lesson.id}: step {step.id!r}: the reference solution fails "
                        f"'{result.check.goal}': {result.detail}"
                    )
    except LambdaLabError as exc:
        problems.append(
            f"{lesson.id}: the reference solution cannot be replayed: {exc}"
        )
    finally:
        solved.close()
    return problems
