"""Pure renderables of asynchronous invocation: the timeline and the lab's queues.

Each async event is a row on a shared time axis: queued (·), attempts (█, green when
they succeed, red when they fail), the waits between them (─ before a retry, ┄ a
throttle backoff), duplicate deliveries (▒), and how it ended. Everything here is a
function of the service's state, testable without an App.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from rich.console import Group
from rich.text import Text

from lambdalab.engine.service import (
    FAILURE_CONDITIONS,
    AsyncEvent,
    AsyncWait,
    Invocation,
    LambdaService,
    Queue,
    QueueMessage,
    parse_target,
)
from lambdalab.ui.render import elapsed_text

STYLE = {
    "queued": "cyan",
    "success": "bold green",
    "error": "bold red",
    "running": "bold cyan",
    "retry": "yellow",
    "throttle": "dim yellow",
    "duplicate": "magenta",
}
GLYPH = {
    "queued": "·",
    "success": "█",
    "error": "█",
    "running": "█",
    "retry": "─",
    "throttle": "┄",
    "duplicate": "▒",
}
# Later kinds win a column shared with earlier ones: an attempt shorter than a
# column still shows, over the wait or queueing around it.
_PRIORITY = ("queued", "throttle", "retry", "duplicate", "success", "error", "running")
_TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
LABEL_WIDTH = 17
"""Request id (8), a space, the lab's name of the event (7), a space."""
OUTCOME_WIDTH = 21
"""Room after the bar for how the event ended, e.g. ``✘ RetriesExhausted ×3``."""


def bar_width(width: int) -> int:
    """Columns of the time axis in a timeline ``width`` characters wide."""
    return max(10, width - LABEL_WIDTH - OUTCOME_WIDTH - 2)


@dataclass(frozen=True)
class Window:
    """The stretch of virtual time the timeline shows, across ``width`` columns."""

    start_ms: float
    end_ms: float
    width: int

    @property
    def ms_per_column(self) -> float:
        """Virtual milliseconds one column stands for."""
        return (self.end_ms - self.start_ms) / self.width

    def column(self, time_ms: float) -> int:
        """The column of an instant (may lie outside 0..width-1)."""
        return int((time_ms - self.start_ms) / self.ms_per_column)


def latest_events(service: LambdaService, limit: int) -> list[AsyncEvent]:
    """The ``limit`` most recently accepted events, oldest first (cost O(limit))."""
    newest = list(islice(reversed(service.async_events.values()), limit))
    newest.reverse()
    return newest


def window_for(
    events: Sequence[AsyncEvent], now_ms: float, width: int, min_span_ms: float = 5_000
) -> Window:
    """From the first shown event to now while any is unfinished, else to the last end.

    So the axis keeps moving while something happens and stays put when all is done.
    """
    width = max(1, width)
    if not events:
        return Window(max(0.0, now_ms - min_span_ms), max(now_ms, min_span_ms), width)
    start = min(e.received_ms for e in events)
    if all(e.finished for e in events):
        end = max(e.ended_ms or start for e in events)
        end += max(200.0, (end - start) * 0.04)  # room for the end marker
    else:
        end = now_ms
    return Window(start, max(end, start + min_span_ms), width)


def _segments(event: AsyncEvent, now_ms: float) -> list[tuple[float, float, str]]:
    def span(inv: Invocation) -> tuple[float, float]:
        start = inv.started_ms if inv.started_ms is not None else now_ms
        return start, inv.ended_ms if inv.ended_ms is not None else now_ms

    firsts = [inv.started_ms for inv in event.attempt_log if inv.started_ms is not None]
    firsts += [w.start_ms for w in event.waits[:1]]
    firsts.append(event.ended_ms if event.ended_ms is not None else now_ms)
    segments = [(event.received_ms, min(firsts), "queued")]
    for wait in event.waits:
        segments.append((wait.start_ms, min(wait.end_ms, now_ms), wait.why))
    for inv in event.attempt_log:
        start, end = span(inv)
        kind = "running" if inv.outcome == "pending" else inv.outcome
        segments.append((start, end, "success" if kind == "success" else kind))
    for inv in event.duplicates:
        start, end = span(inv)
        segments.append((start, end, "duplicate"))
    return [
        (start, end, kind if kind in GLYPH else "error")
        for start, end, kind in segments
    ]


def end_marker(event: AsyncEvent) -> tuple[str, str]:
    """Where a finished event went: ✔ success, D its DLQ, → a destination, ✘ nowhere."""
    delivered = [d.role for d in event.deliveries if d.delivered]
    if event.state == "succeeded":
        return ("→" if delivered else "✔"), "bold green"
    if "dead_letter_queue" in delivered:
        return "D", "bold red"
    if delivered:
        return "→", "bold red"
    return "✘", "bold red"


def event_bar(event: AsyncEvent, window: Window, now_ms: float) -> Text:
    """One event's life across the window's columns, and where it ended."""
    cells: list[str | None] = [None] * window.width
    rank = {kind: i for i, kind in enumerate(_PRIORITY)}
    for start, end, kind in sorted(
        _segments(event, now_ms), key=lambda s: rank.get(s[2], 0)
    ):
        first = window.column(start)
        last = max(first + 1, window.column(end) + (1 if end > start else 0))
        for col in range(max(0, first), min(window.width, last)):
            cells[col] = kind
    marker_at = -1
    if event.ended_ms is not None:
        marker_at = min(window.width - 1, window.column(event.ended_ms) + 1)
    bar = Text()
    for col, cell in enumerate(cells):
        if col == marker_at:
            bar.append(*end_marker(event))
        elif cell is None:
            bar.append(" ")
        else:
            bar.append(GLYPH[cell], STYLE[cell])
    return bar


def outcome_text(event: AsyncEvent, service: LambdaService) -> Text:
    """How the event ended, or what it is doing now, in a few characters."""
    config = service.functions[event.function]
    tries = f"×{event.attempts}" if event.attempts else "×0"
    if event.state == "succeeded":
        text = Text(f"✔ succeeded {tries}", "green")
    elif event.state in FAILURE_CONDITIONS:
        text = Text(f"✘ {event.state} {tries}", "red")
        if any(not d.delivered for d in event.deliveries):
            text.append(" send failed", "bold red")
    elif event.state == "waiting":
        wait = event.waits[-1]
        left = max(0.0, wait.end_ms - service.now_ms)
        what = (
            f"retry {event.attempts + 1}/{config.max_retry_attempts + 1}"
            if wait.why == "retry"
            else "backoff"
        )
        text = Text(f"⧗ {what} in {_duration(left)}", "yellow")
    elif event.state == "running":
        text = Text(f"▶ attempt {event.attempts}", "cyan")
    else:
        text = Text("queued", "cyan")
    if event.duplicates:
        text.append(" +dup", "magenta")
    return text


def _duration(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def axis(window: Window, now_ms: float) -> Text:
    """Tick labels (virtual time since the lab started) and a mark at now."""
    span_s = (window.end_ms - window.start_ms) / 1000
    step = next(
        (s for s in _TICK_STEPS_S if span_s / s <= max(1, window.width // 9)),
        _TICK_STEPS_S[-1],
    )
    chars = [" "] * window.width
    first = int(window.start_ms // (step * 1000) + 1) * step * 1000
    tick = float(first)
    while tick < window.end_ms:
        col = window.column(tick)
        label = "|" + _clock(tick)
        if 0 <= col and col + len(label) <= window.width:
            chars[col : col + len(label)] = label
        tick += step * 1000
    text = Text("".join(chars), "dim")
    now_col = window.column(now_ms)
    if 0 <= now_col < window.width:
        text.stylize("bold reverse", now_col, now_col + 1)
    return text


def _clock(ms: float) -> str:
    total = int(ms // 1000)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return (
        f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    )


def timeline(
    service: LambdaService,
    events: Sequence[AsyncEvent],
    width: int,
    event_names: dict[str, str],
    selected: str | None = None,
) -> Text:
    """The rows of ``events`` on one axis; ``selected`` (a request id) is highlighted."""
    now = service.now_ms
    window = window_for(events, now, bar_width(width))
    room = max(OUTCOME_WIDTH, width - LABEL_WIDTH - window.width - 1)
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(" " * LABEL_WIDTH)
    out.append_text(axis(window, now))
    if not events:
        out.append("\n")
        out.append(
            "No asynchronous events yet: press a to invoke with InvocationType Event.",
            "dim",
        )
        return out
    for event in events:
        out.append("\n")
        name = event_names.get(event.payload, "custom")
        label = f"{event.request_id[:8]} {name[:7]:<7}"
        style = "bold reverse" if event.request_id == selected else "bold"
        out.append(label, style)
        out.append(" ")
        out.append_text(event_bar(event, window, now))
        out.append(" ")
        outcome = outcome_text(event, service)
        outcome.truncate(room, overflow="ellipsis")
        out.append_text(outcome)
    return out


def legend() -> Text:
    """What the glyphs mean."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for kind, word in (
        ("success", "ok"),
        ("error", "failed"),
        ("retry", "retry wait"),
        ("throttle", "backoff"),
        ("duplicate", "dup"),
    ):
        text.append(GLYPH[kind], STYLE[kind])
        text.append(f" {word}  ", "dim")
    text.append("D", "bold red")
    text.append(" DLQ  ", "dim")
    text.append("→", "bold")
    text.append(" dest", "dim")
    return text


def async_summary(service: LambdaService, duplicate_rate: float) -> Text:
    """Per function: queue depth and AsyncEventAge (LAMBDA-FACTS 2.4); the knob."""
    depth: dict[str, list[int]] = {}
    ages: dict[str, list[float]] = {}
    for event in service.async_events.values():
        if not event.finished and event.state in ("queued", "waiting"):
            counts = depth.setdefault(event.function, [0, 0])
            counts[0 if not event.waits or event.waits[-1].why == "retry" else 1] += 1
        for inv in (*event.attempt_log, *event.duplicates):
            if inv.started_ms is not None:
                ages.setdefault(event.function, []).append(
                    inv.started_ms - event.received_ms
                )
    text = Text(no_wrap=True, overflow="ellipsis")
    names = [n for n in service.functions if n in ages or n in depth]
    if not names:
        text.append("Async queue empty.", "dim")
    for i, name in enumerate(names):
        if i:
            text.append("\n")
        waiting, backing_off = depth.get(name, [0, 0])
        text.append(f"λ {name} ", "bold")
        text.append("queue depth ", "dim")
        text.append(str(waiting + backing_off), "bold")
        if backing_off:
            text.append(f" ({backing_off} throttled)", "yellow")
        seen = ages.get(name)
        if seen:
            text.append("  AsyncEventAge ", "dim")
            text.append(f"last {_duration(seen[-1])}", "bold")
            text.append(f" · max {_duration(max(seen))}", "dim")
    text.append("\n")
    text.append("duplicate delivery ", "dim")
    text.append(
        "off" if not duplicate_rate else f"{duplicate_rate:.0%}",
        "bold" if not duplicate_rate else "bold magenta",
    )
    text.append("  (d changes it · ↑↓ select)", "dim")
    return text


_QUIET_LOG_PREFIXES = ("INIT_START", "START RequestId", "END RequestId")
"""Platform lines the details leave out: the attempt header already says as much."""


def _log_lines(
    service: LambdaService, event: AsyncEvent
) -> dict[tuple[str, float], list[str]]:
    """Log lines of the event's runs, keyed by (environment, start)."""
    runs = [
        inv
        for inv in (*event.attempt_log, *event.duplicates)
        if inv.started_ms is not None
    ]
    lines: dict[tuple[str, float], list[str]] = {
        (inv.env_id, inv.started_ms or 0.0): [] for inv in runs
    }
    for record in service.trace.of_kind("log"):
        if record.request_id != event.request_id:
            continue
        message = str(record.data["message"])
        if message.startswith(_QUIET_LOG_PREFIXES):
            continue
        for inv in runs:
            start = inv.started_ms or 0.0
            end = inv.ended_ms if inv.ended_ms is not None else service.now_ms
            if record.env_id == inv.env_id and start <= record.time_ms <= end:
                lines[(inv.env_id, start)].extend(
                    line.replace("\t", "  ") for line in message.rstrip().splitlines()
                )
                break
    return lines


def event_details(
    service: LambdaService, event: AsyncEvent, event_names: dict[str, str]
) -> Group:
    """The selected event: payload, each attempt with its error and log lines, the end.

    Log lines are cut at the panel's edge rather than wrapped, so attempts stay apart.
    """
    config = service.functions[event.function]
    parts: list[Text] = []
    head = Text()
    name = event_names.get(event.payload, "custom")
    head.append(f"Event {event.request_id}", "bold")
    head.append(f"  λ {event.function} ({name})\n", "dim")
    head.append("payload ", "dim")
    head.append(event.payload[:300] + "\n")
    head.append(
        f"received {elapsed_text(event.received_ms)} · MaximumRetryAttempts "
        f"{config.max_retry_attempts} · MaximumEventAgeInSeconds "
        f"{config.max_event_age_s}",
        "dim",
    )
    if event.redriven_from:
        head.append(f"\nredriven from {event.redriven_from}: a new request", "magenta")
    parts.append(head)
    logs = _log_lines(service, event)
    moments: list[tuple[float, int, Invocation | AsyncWait]] = []
    for inv in event.attempt_log:
        moments.append((inv.started_ms or 0.0, 1, inv))
    for inv in event.duplicates:
        moments.append((inv.started_ms or 0.0, 2, inv))
    for wait in event.waits:
        moments.append((wait.start_ms, 0, wait))
    for _, order, item in sorted(moments, key=lambda m: (m[0], m[1])):
        if isinstance(item, Invocation):
            parts.extend(_attempt(item, event, logs, duplicate=order == 2))
        else:
            why = "before a retry" if item.why == "retry" else "throttled, backing off"
            parts.append(
                Text(f"wait {_duration(item.delay_ms)} {why}", STYLE[item.why])
            )
    parts.append(_ending(event))
    return Group(*parts)


def _attempt(
    inv: Invocation,
    event: AsyncEvent,
    logs: dict[tuple[str, float], list[str]],
    *,
    duplicate: bool,
) -> list[Text]:
    start = inv.started_ms or 0.0
    label = "duplicate delivery" if duplicate else f"attempt {inv.attempt}"
    style = {"success": "green", "pending": "cyan"}.get(inv.outcome, "red")
    head = Text()
    head.append(label, "bold " + style)
    head.append(f" at {elapsed_text(start)} on {inv.env_id}", "dim")
    head.append(" (cold)" if inv.cold else "", "cyan")
    if inv.outcome == "pending":
        head.append(" · running", "cyan")
    else:
        head.append(f" · {inv.outcome}, {inv.duration_ms:.0f} ms", style)
    head.append(f"\n  AsyncEventAge {_duration(start - event.received_ms)}", "dim")
    if inv.error_type:
        head.append(f"\n  {inv.error_type}: {inv.error_message or ''}", "red")
    lines = [head]
    for line in logs.get((inv.env_id, start), [])[-10:]:
        lines.append(Text(f"  │ {line}", "dim", no_wrap=True, overflow="ellipsis"))
    return lines


def _ending(event: AsyncEvent) -> Text:
    text = Text()
    if event.state == "succeeded":
        text.append(f"✔ succeeded after {event.attempts} attempt(s)", "bold green")
    elif event.state in FAILURE_CONDITIONS:
        text.append(f"✘ {event.state} after {event.attempts} attempt(s)", "bold red")
        if not event.deliveries:
            text.append(": dropped (AsyncEventsDropped), no DLQ or destination", "red")
    elif event.state == "waiting":
        wait = event.waits[-1]
        what = f"attempt {event.attempts + 1}" if wait.why == "retry" else "a new try"
        text.append(f"in the queue: {what} at {elapsed_text(wait.end_ms)}", "yellow")
    else:
        text.append(f"{event.state}…", "cyan")
    for delivery in event.deliveries:
        role = {
            "dead_letter_queue": "dead-letter queue",
            "on_success": "on-success destination",
            "on_failure": "on-failure destination",
        }[delivery.role]
        text.append(f"\n  → {role} {delivery.target}")
        if not delivery.delivered:
            metric = (
                "DeadLetterErrors"
                if delivery.role == "dead_letter_queue"
                else "DestinationDeliveryFailures"
            )
            text.append(f": the send failed ({metric} +1)", "bold red")
    return text


# -- queues ------------------------------------------------------------------------


def queue_roles(service: LambdaService, queue: Queue) -> list[str]:
    """What each function uses the queue for, e.g. ``DLQ of orders``."""
    roles = []
    for config in service.functions.values():
        for key, word in (
            ("dead_letter_queue", "DLQ"),
            ("on_success", "on-success"),
            ("on_failure", "on-failure"),
        ):
            target = getattr(config, key)
            if target and parse_target(target)[1] == queue.name:
                roles.append(f"{word} of {config.name}")
    return roles


def message_rows(service: LambdaService) -> list[tuple[Queue, QueueMessage]]:
    """Every message of every lab queue, queue by queue: what a cursor moves over."""
    return [(q, m) for q in _queues(service) for m in q.messages]


def _queues(service: LambdaService) -> Iterable[Queue]:
    return sorted(service.queues.values(), key=lambda q: (q.kind != "sqs", q.name))


def _message_summary(queue: Queue, message: QueueMessage) -> str:
    try:
        body = json.loads(message.body)
    except json.JSONDecodeError:
        return message.body
    if queue.kind == "eventbridge" and isinstance(body, dict):
        detail = body.get("detail", {})
        context = detail.get("requestContext", {})
        result = str(body.get("detail-type", "")).rsplit(" - ", 1)[-1]
        condition = context.get("condition", "")
        count = f"×{context.get('approximateInvokeCount', '')}"
        if condition == result:
            return f"{result} {count}"
        return f"{result}: {condition} {count}"
    if isinstance(body, dict) and "requestContext" in body:
        context = body["requestContext"]
        return f"record {context.get('condition')} ×{context.get('approximateInvokeCount')}"
    return message.body


def queue_list(service: LambdaService, width: int, selected: int | None) -> Text:
    """The lab's queues and buses with their messages; row ``selected`` highlighted."""
    text = Text(no_wrap=True, overflow="ellipsis")
    index = 0
    queues = list(_queues(service))
    if not queues:
        return Text("This lab has no queues.", "dim")
    for n, queue in enumerate(queues):
        if n:
            text.append("\n")
        kind = "event bus" if queue.kind == "eventbridge" else "SQS queue"
        roles = ", ".join(queue_roles(service, queue)) or "not used"
        text.append(f"{queue.name}", "bold")
        text.append(f"  {kind} · {roles} · ", "dim")
        text.append(f"{len(queue.messages)} message(s)", "bold")
        if queue.redriven:
            text.append(f" · {queue.redriven} redriven", "magenta")
        if not queue.messages:
            text.append("\n  (empty)", "dim")
        for message in queue.messages:
            style = "reverse" if index == selected else ""
            line = (
                f"  {index + 1:>2} {elapsed_text(message.sent_ms)} "
                f"{message.message_id[:8]}  {_message_summary(queue, message)}"
            )
            text.append("\n")
            text.append(line[: max(20, width)], style)
            index += 1
    return text


def message_details(queue: Queue, message: QueueMessage) -> Text:
    """One message as SQS (or EventBridge) shows it: body and attributes."""
    text = Text()
    if queue.kind == "eventbridge":
        try:
            shown = str(json.loads(message.body).get("id", message.message_id))
        except (json.JSONDecodeError, AttributeError):
            shown = message.message_id
        text.append(f"Event {shown}", "bold")
    else:
        text.append(f"Message {message.message_id}", "bold")
    text.append(f"  in {queue.name}, sent {elapsed_text(message.sent_ms)}\n", "dim")
    if message.attributes:
        text.append("MessageAttributes\n", "bold")
        for name, attribute in message.attributes.items():
            text.append(f"  {name:<13}", "cyan")
            text.append(f"{attribute.get('DataType', ''):<7}", "dim")
            text.append(f"{attribute.get('StringValue', '')}\n")
    text.append("Body\n", "bold")
    try:
        body = json.dumps(json.loads(message.body), indent=1)
    except json.JSONDecodeError:
        body = message.body
    lines = body.splitlines()
    if len(lines) > 40:
        lines = [*lines[:40], "…"]
    text.append("\n".join(lines) + "\n")
    if message.source_function:
        text.append(
            f"R redrives it: a new asynchronous invocation of "
            f"{message.source_function} with the original event.",
            "dim",
        )
    return text
