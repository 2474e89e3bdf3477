"""The ``async`` and ``queue`` checks: how events ended, and what reached a queue.

A failing check says what the lab shows in Lambda's terms: how each event ended or
where it waits ("waiting to retry, 2 of 3 attempts done"), and which setting stands
in the way ("MaximumRetryAttempts is 0, so an event gets 1 attempt").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from lambdalab.engine.service import (
    FAILURE_CONDITIONS,
    AsyncEvent,
    LambdaService,
    Queue,
    QueueMessage,
    parse_target,
)

Verdict = tuple[bool, str]


def matches(actual: Any, expected: Any) -> bool:
    """Whether ``expected`` is contained in ``actual`` (dicts by subset, others equal)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and matches(actual[k], v) for k, v in expected.items()
        )
    return bool(actual == expected)


def event_state(event: AsyncEvent, service: LambdaService) -> str:
    """How an async event stands, in a few words of Lambda's vocabulary."""
    config = service.functions[event.function]
    tries = f"{event.attempts} of {config.max_retry_attempts + 1} attempts"
    if event.state == "succeeded":
        text = f"succeeded ({tries})"
    elif event.state in FAILURE_CONDITIONS:
        text = f"{event.state} after {tries}"
        sent = [d.target for d in event.deliveries if d.delivered]
        text += f", sent to {' and '.join(sent)}" if sent else ", dropped"
    elif event.state == "waiting":
        wait = event.waits[-1]
        why = "to retry" if wait.why == "retry" else "after a throttle"
        left = max(0.0, wait.end_ms - service.now_ms) / 1000
        text = f"waiting {why} ({tries} done, next try in {left:.0f} s)"
    elif event.state == "running":
        text = f"running attempt {event.attempts}"
    else:
        text = "queued"
    if event.redriven_from:
        text = f"redriven from {event.redriven_from}: {text}"
    return text


def _ended_as(event: AsyncEvent, outcome: str) -> bool:
    if outcome == "failed":
        return event.state in FAILURE_CONDITIONS
    return event.state == outcome


def _describe(p: dict[str, Any]) -> str:
    words = ["event(s)"]
    if p.get("event"):
        words.insert(0, repr(p["event"]))
    if p.get("function"):
        words.append(f"of {p['function']}")
    if p.get("redriven") is True:
        words.append("redriven from a queue")
    if p.get("duplicated") is True:
        words.append("delivered twice")
    outcome = p.get("outcome")
    if outcome == "succeeded":
        words.append("that succeeded")
    elif outcome == "failed":
        words.append("that failed for good")
    elif outcome:
        words.append(f"that ended in {outcome}")
    if "attempts" in p:
        words.append(f"after {p['attempts']} attempt(s)")
    return " ".join(words)


def check_async(
    service: LambdaService, events: dict[str, Any], p: dict[str, Any]
) -> Verdict:
    """Count the accepted events that ended as ``p`` asks (see ``lessons/README.md``)."""
    function = p.get("function")
    payload = events.get(p["event"]) if "event" in p else None
    candidates: list[AsyncEvent] = []
    for event in service.async_events.values():
        if function and event.function != function:
            continue
        if "event" in p and json.loads(event.payload) != payload:
            continue
        candidates.append(event)
    count = 0
    for event in candidates:
        if "outcome" in p and not _ended_as(event, p["outcome"]):
            continue
        if "attempts" in p and (not event.finished or event.attempts != p["attempts"]):
            continue
        if "redriven" in p and (event.redriven_from is not None) != p["redriven"]:
            continue
        if "duplicated" in p and bool(event.duplicates) != p["duplicated"]:
            continue
        count += 1
    low, high = int(p.get("min", 1)), p.get("max")
    what = _describe(p)
    if count >= low and (high is None or count <= int(high)):
        return True, f"{count} {what}."
    need = f"at least {low}" if high is None else f"{low} to {high}"
    seen = Counter(event_state(e, service) for e in candidates)
    so_far = "; ".join(f"{n} {state}" if n > 1 else state for state, n in seen.items())
    detail = f"Needs {need} {what}; the lab shows {count}."
    detail += f" So far: {so_far}." if so_far else " No such event was sent yet."
    note = _setting_note(service, function, p)
    return False, f"{detail} {note}" if note else detail


def _setting_note(
    service: LambdaService, function: str | None, p: dict[str, Any]
) -> str:
    """The setting that makes the goal impossible as the function stands, if any."""
    if not function or function not in service.functions:
        return ""
    config = service.functions[function]
    most = config.max_retry_attempts + 1
    if "attempts" in p and p["attempts"] > most:
        return (
            f"{function} has MaximumRetryAttempts {config.max_retry_attempts}, so an "
            f"event gets at most {most} attempt(s)."
        )
    if p.get("outcome") == "EventAgeExceeded" and config.max_event_age_s >= 21_600:
        return (
            f"{function} keeps events up to MaximumEventAgeInSeconds "
            f"{config.max_event_age_s} (6 hours): lower it to see EventAgeExceeded."
        )
    if (
        p.get("outcome") == "ZeroReservedConcurrency"
        and config.reserved_concurrency != 0
    ):
        return f"{function} has no reserved concurrency of 0."
    return ""


def _message_matches(queue: Queue, message: QueueMessage, p: dict[str, Any]) -> bool:
    for name, value in (p.get("attributes") or {}).items():
        attribute = message.attributes.get(name)
        if attribute is None or attribute.get("StringValue") != value:
            return False
    if "body" in p:
        try:
            body = json.loads(message.body)
        except json.JSONDecodeError:
            body = message.body
        if not matches(body, p["body"]):
            return False
    return True


def _headed_for(service: LambdaService, queue: str) -> Iterable[AsyncEvent]:
    """Unfinished events whose function would send them to ``queue``."""
    for event in service.async_events.values():
        if event.finished:
            continue
        config = service.functions[event.function]
        targets = (config.dead_letter_queue, config.on_success, config.on_failure)
        if any(t and parse_target(t)[1] == queue for t in targets):
            yield event


def check_queue(service: LambdaService, p: dict[str, Any]) -> Verdict:
    """Count the messages of a lab queue (or bus) that look as ``p`` asks."""
    queue = service.queue(str(p["queue"]))
    name = queue.name
    count = sum(1 for m in queue.messages if _message_matches(queue, m, p))
    low, high = int(p.get("min", 1)), p.get("max")
    redriven = int(p.get("redriven", 0))
    filtered = "attributes" in p or "body" in p
    like = " like that" if filtered else ""
    if count >= low and (high is None or count <= int(high)):
        if queue.redriven >= redriven:
            done = f" ({queue.redriven} redriven)" if redriven else ""
            return True, f"{name} holds {count} message(s){like}{done}."
        return (
            False,
            f"{queue.redriven} message(s) of {name} were redriven; the goal is "
            f"{redriven}. Open the Queues tab and redrive (R).",
        )
    goal = f"at least {low}" if high is None else f"{low} to {high}"
    detail = f"Queue {name} holds {count} message(s){like}; the goal is {goal}."
    if filtered and len(queue.messages) > count:
        detail += f" It holds {len(queue.messages)} in all."
    pending = [event_state(e, service) for e in _headed_for(service, name)]
    if count < low and pending:
        detail += (
            f" Not there yet: {len(pending)} event(s) on their way ("
            + "; ".join(pending[:3])
            + ")."
        )
    return False, detail
