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
        used = 0
        for env in envs:
            label = f" {env.env_id} {STATE_WORD[env.state]}"
            label += f" ·{env.invocations} " if env.invocations else " "
            if env.provisioned:
                label = " P" + label
            if used and used + len(label) > width:  # a chip is never broken
                text.append("\n")
                used = 0
            text.append(label, STATE_STYLE[env.state])
            text.append(" ")
            used += len(label) + 1
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


def numbers(
    service: LambdaService, metrics: Metrics, function: str, width: int = 200
) -> Text:
    """A few live numbers for one function, with CloudWatch's names where they exist.

    One line when it fits ``width`` (shorter names first); otherwise broken between
    numbers, never inside one.
    """
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
        ("Invocations", "Invocations", total.invocations, "bold"),
        ("Errors", "Errors", total.errors, "bold red"),
        ("Throttles", "Throttles", total.throttles, "bold yellow"),
        ("Cold starts", "Cold", total.cold_starts, "bold cyan"),
        ("Concurrent", "Concurrent", f"{service.in_flight[function]}/{limit}", "bold"),
        ("Async queued", "Queued", queued, "bold"),
    ]
    for short in (False, True):
        names = [p[1] if short else p[0] for p in parts]
        if (
            sum(len(f"{n} {p[2]}") for n, p in zip(names, parts, strict=True))
            + 2 * (len(parts) - 1)
            <= width
        ):
            break
    else:
        names = [p[0] for p in parts]
    text = Text()
    line = 0
    for i, (name, (_, _, value, style)) in enumerate(zip(names, parts, strict=True)):
        cell = f"{name} {value}"
        if i and line + 2 + len(cell) > width:
            text.append("\n")
            line = 0
        elif i:
            text.append("  ")
            line += 2
        text.append(f"{name} ", "dim")
        text.append(str(value), style if value not in (0, "0") else "bold")
        line += len(cell)
    return text


INVOCATION_COLUMNS = ("at", "request", "function", "call", "event", "answer", "run")
DROPPED_FIRST = ("at", "call", "event", "function")
"""Columns left out, in this order, when the table would not fit: the request id,
the answer and how the run went always stay."""


def invocation_rows(
    history: Iterable[Invocation],
    service: LambdaService,
    event_names: dict[str, str],
    limit: int,
    width: int = 200,
) -> Table:
    """The latest invocations: what was sent, what came back, how long it took.

    Columns are left out rather than squeezed to fit ``width`` (a squeezed column
    ends in an ellipsis: 'co…' for cold); the function column appears only in labs
    with several functions.
    """
    rows = list(history)[-limit:]
    cells: list[dict[str, Text]] = [
        {
            "at": Text(elapsed_text(inv.received_ms)),
            "request": Text(inv.request_id[:8]),
            "function": Text(inv.function),
            "call": Text(
                "sync" if inv.invocation_type == "RequestResponse" else "async"
            ),
            "event": Text(event_names.get(inv.payload, "custom")),
            "answer": _answer(inv),
            "run": _run(inv, service.async_events.get(inv.request_id), service),
        }
        for inv in reversed(rows)
    ]
    columns = [
        c for c in INVOCATION_COLUMNS if c != "function" or len(service.functions) > 1
    ]

    def needed(name: str) -> int:
        return max([len(name), *(c[name].cell_len for c in cells)])

    for name in DROPPED_FIRST:
        if sum(needed(c) for c in columns) + 2 * (len(columns) - 1) <= width:
            break
        if name in columns:
            columns.remove(name)
    table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
    for name in columns:
        table.add_column(
            name,
            style="dim" if name == "at" else None,
            no_wrap=True,
            overflow="ellipsis" if name in ("run", "event") else "fold",
            min_width=needed(name) if cells and name not in ("run", "event") else None,
        )
    if not cells:
        table.add_row(
            *(
                Text("no invocations yet", "dim") if c == "request" else ""
                for c in columns
            )
        )
    for row in cells:
        table.add_row(*(row[c] for c in columns))
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
    text.append(f" {inv.duration_ms:.2f} ms", "dim")  # as REPORT's Duration shows it
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


def response_view(inv: Invocation | None, max_lines: int = 12) -> Group | Text:
    """The latest synchronous answer: status, headers and the payload.

    A JSON payload taller than ``max_lines`` indented is shown on as few lines as
    it takes unindented (a small box then still shows its fields).
    """
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
        if response.payload:
            document = json.loads(response.payload)
            payload = json.dumps(document, indent=1)
            if len(payload.splitlines()) > max_lines:
                payload = json.dumps(document)
    except json.JSONDecodeError:
        pass
    lines = payload.splitlines()
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], "…"]
    return Group(head, Text("\n".join(lines)))


READABLE_FIELDS = frozenset({"Duration", "Billed Duration"})
"""REPORT fields drawn at full contrast: the numbers the lessons ask about."""


def log_line(time_ms: float, message: str) -> Text:
    """One CloudWatch log event as the lab shows it."""
    # The time alone is dim: a style given to Text() would dim every part after it.
    text = Text()
    text.append(f"{elapsed_text(time_ms)} ", "dim")
    if message.startswith(("START ", "END ")):
        text.append(message, "dim")
    elif message.startswith(("REPORT ", "INIT_START", "INIT_REPORT")):
        for i, part in enumerate(message.rstrip("\t").split("\t")):
            if i:
                text.append("  ")
            name, colon, value = part.partition(": ")
            if not i:
                text.append(part, "blue")
            elif name == "Init Duration":
                text.append(part, "cyan")
            elif name in READABLE_FIELDS and colon:
                # The numbers lessons ask about: full contrast, the value in bold.
                text.append(name + colon)
                text.append(value, "bold")
            else:
                text.append(part, "bright_black")
    elif message.startswith("[ERROR]") or "Task timed out" in message:
        text.append(message, "red")
    else:
        text.append(message)
    return text


def choice_list(choices: Sequence[str]) -> Table:
    """Numbered answer choices; a choice that wraps continues under its own text,
    not under its number (choices are markup, as in the lesson files)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for number, choice in enumerate(choices, 1):
        grid.add_row(f" {number})", Text.from_markup(choice))
    return grid


def json_text(value: object) -> str:
    """The JSON text of an event, as the engine stores payloads."""
    return json.dumps(value)
