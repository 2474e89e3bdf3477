"""Pure renderables of the lab, built from the service's state (testable without an App)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text

from lambdalab.engine.metrics import Metrics
from lambdalab.engine.service import (
    AsyncEvent,
    ExecutionEnvironment,
    Invocation,
    LambdaService,
)

STATE_STYLE = {
    "initialising": "bold black on yellow",
    "busy": "bold black on green",
    "idle": "bold white on blue",
    "reset": "bold white on red",
}
STATE_WORD = {
    "initialising": "cold start",
    "busy": "busy",
    "idle": "idle",
    "reset": "reset",
}
OUTCOME_STYLE = {
    "success": "green",
    "error": "red",
    "timeout": "red",
    "exit": "red",
    "throttled": "yellow",
    "pending": "cyan",
}


def clock_text(service: LambdaService) -> str:
    """The virtual wall clock, e.g. ``2025-01-01 00:00:12.345 UTC``."""
    stamp = datetime.fromtimestamp(service.wall_ms() / 1000, UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d} UTC"


def elapsed_text(ms: float) -> str:
    """Virtual time since the lab started, as ``mm:ss.mmm`` (or ``h:mm:ss``)."""
    total_s = ms / 1000.0
    hours, rest = divmod(int(total_s), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}.{int(ms % 1000):03d}"


def environments(envs: Sequence[ExecutionEnvironment], width: int) -> Text:
    """Execution environments as labelled chips, or a dense strip when there are many."""
    text = Text()
    if not envs:
        return Text(
            "no execution environments yet (the next request is a cold start)", "dim"
        )
    if len(envs) * 17 <= width * 3:
        for env in envs:
            label = f" {env.env_id} {STATE_WORD[env.state]}"
            label += f" ·{env.invocations} " if env.invocations else " "
            if env.provisioned:
                label = " P" + label
            text.append(label, STATE_STYLE[env.state])
            text.append(" ")
        return text
    counts = Counter(e.state for e in envs)
    for env in envs[: width * 2]:
        text.append("▮", STATE_STYLE[env.state].split(" on ")[-1])
    text.append("\n")
    text.append(
        "  ".join(f"{STATE_WORD[s]} {counts[s]}" for s in STATE_STYLE if counts[s]),
        "dim",
    )
    return text


def numbers(service: LambdaService, metrics: Metrics, function: str) -> Text:
    """A few live numbers for one function, with CloudWatch's names where they exist."""
    total = metrics.total(function)
    config = service.functions[function]
    limit = (
        config.reserved_concurrency
        if config.reserved_concurrency is not None
        else service.unreserved_capacity()
    )
    queued = sum(
        1
        for e in service.async_events.values()
        if e.function == function and e.state in ("queued", "waiting")
    )
    parts = [
        ("Invocations", total.invocations, "bold"),
        ("Errors", total.errors, "bold red"),
        ("Throttles", total.throttles, "bold yellow"),
        ("Cold starts", total.cold_starts, "bold cyan"),
        ("Concurrent", f"{service.in_flight[function]}/{limit}", "bold"),
        ("Async queued", queued, "bold"),
    ]
    text = Text()
    for i, (name, value, style) in enumerate(parts):
        if i:
            text.append("  ")
        text.append(f"{name} ", "dim")
        text.append(str(value), style if value not in (0, "0") else "bold")
    return text


def invocation_rows(
    history: Iterable[Invocation],
    service: LambdaService,
    event_names: dict[str, str],
    limit: int,
) -> Table:
    """The latest invocations: what was sent, what came back, how long it took."""
    table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
    table.add_column("at", style="dim", no_wrap=True)
    table.add_column("request", no_wrap=True)
    table.add_column("call", no_wrap=True)
    table.add_column("event", no_wrap=True, overflow="ellipsis")
    table.add_column("answer", no_wrap=True)
    table.add_column("run", no_wrap=True, overflow="ellipsis")
    rows = list(history)[-limit:]
    if not rows:
        table.add_row("", Text("no invocations yet", "dim"), "", "", "", "")
    for inv in reversed(rows):
        event = event_names.get(inv.payload, "custom")
        kind = "sync" if inv.invocation_type == "RequestResponse" else "async"
        table.add_row(
            elapsed_text(inv.received_ms),
            inv.request_id[:8],
            kind,
            event,
            _answer(inv),
            _run(inv, service.async_events.get(inv.request_id), service),
        )
    return table


def _answer(inv: Invocation) -> Text:
    if inv.response is None:
        return Text("waiting…", "cyan")
    code = inv.response.status_code
    text = Text(str(code), "green" if code < 300 else "yellow")
    if inv.response.function_error:
        text = Text(f"{code} Unhandled", "red")
    return text


def _run(inv: Invocation, event: AsyncEvent | None, service: LambdaService) -> Text:
    if event is not None:
        return _async_state(event, service)
    if inv.outcome == "pending":
        return Text("running", "cyan")
    if inv.outcome == "throttled":
        return Text(f"429 {inv.throttle_reason or ''}", "yellow")
    text = Text(inv.outcome, OUTCOME_STYLE.get(inv.outcome, ""))
    text.append(f" {inv.duration_ms:.0f} ms", "dim")
    if inv.cold:
        text.append(" cold", "cyan")
    return text


def _async_state(event: AsyncEvent, service: LambdaService) -> Text:
    attempts = f" ×{event.attempts}" if event.attempts else ""
    if event.state == "queued":
        return Text("queued", "cyan")
    if event.state == "running":
        return Text(f"running{attempts}", "cyan")
    if event.state == "waiting":
        return Text(f"waiting to retry{attempts}", "yellow")
    if event.state == "succeeded":
        return Text(f"succeeded{attempts}", "green")
    return Text(f"{event.state}{attempts}", "red")


def response_view(inv: Invocation | None) -> Group | Text:
    """The latest synchronous answer: status, headers and the payload."""
    if inv is None:
        return Text("No synchronous response yet. Press i to invoke.", "dim")
    if inv.response is None:
        return Text(
            f"{inv.request_id[:8]}: the caller is waiting for the handler…", "cyan"
        )
    response = inv.response
    head = Text(
        f"{response.status_code} ",
        "bold green" if response.status_code < 300 else "bold yellow",
    )
    for name, value in response.headers.items():
        style = "bold red" if name == "X-Amz-Function-Error" else "dim"
        head.append(f"{name}: {value}  ", style)
    payload = response.payload or "(empty body)"
    try:
        payload = (
            json.dumps(json.loads(response.payload), indent=1)
            if response.payload
            else payload
        )
    except json.JSONDecodeError:
        pass
    lines = payload.splitlines()
    if len(lines) > 12:
        lines = [*lines[:12], "…"]
    return Group(head, Text("\n".join(lines)))


def log_line(time_ms: float, message: str) -> Text:
    """One CloudWatch log event as the lab shows it."""
    text = Text(f"{elapsed_text(time_ms)} ", "dim")
    if message.startswith(("START ", "END ")):
        text.append(message, "dim")
    elif message.startswith(("REPORT ", "INIT_START", "INIT_REPORT")):
        for i, part in enumerate(message.rstrip("\t").split("\t")):
            text.append(
                ("  " if i else "") + part,
                "cyan" if "Init Duration" in part else "bright_black" if i else "blue",
            )
    elif message.startswith("[ERROR]") or "Task timed out" in message:
        text.append(message, "red")
    else:
        text.append(message)
    return text


def json_text(value: object) -> str:
    """The JSON text of an event, as the engine stores payloads."""
    return json.dumps(value)
