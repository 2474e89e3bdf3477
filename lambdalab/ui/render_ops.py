"""Pure renderables of monitoring: CloudWatch metrics, the bill, one request's trace.

The Metrics tab shows each function's Lambda metrics per virtual minute under their
CloudWatch names (LAMBDA-FACTS 2.4) with a sparkline, then the bill in requests and
GB-seconds with and without the free tier (3.3). The Trace tab follows one request id
from what started it to how it ended. Everything is a function of the lab's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from lambdalab.course.ops_checks import default_statistic, metric_value
from lambdalab.course.session import LabSession
from lambdalab.engine.metrics import FunctionMinute, Metrics, estimate_cost
from lambdalab.engine.trace import TraceRecord

SHOWN_METRICS = (
    "Invocations",
    "Errors",
    "Throttles",
    "Duration",
    "ConcurrentExecutions",
    "AsyncEventsReceived",
    "AsyncEventAge",
    "DeadLetterErrors",
    "AsyncEventsDropped",
)
"""Metrics the tab shows, in this order; rows that are all zero are left out."""
ALWAYS_SHOWN = ("Invocations", "Errors", "Throttles", "Duration")
SPARKS = " ▁▂▃▄▅▆▇█"
_STAT_SHORT = {"Sum": "sum", "Average": "avg", "Maximum": "max"}
MINUTES_SHOWN = 10


def sparkline(values: Sequence[float | None]) -> str:
    """One character a minute, scaled to the largest value (blank for no data)."""
    top = max((v for v in values if v), default=0.0)
    out = []
    for value in values:
        if not value or top <= 0:
            out.append(" " if value is None else "▁" if top else " ")
        else:
            out.append(SPARKS[max(1, round(value / top * (len(SPARKS) - 1)))])
    return "".join(out)


def _fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    if metric in ("Duration", "AsyncEventAge"):
        return f"{value / 1000:,.1f} s" if value >= 10_000 else f"{value:,.2f} ms"
    return f"{value:,.0f}"


def metrics_view(metrics: Metrics, now_ms: float) -> RenderableType:
    """Every function's metrics: the last minutes as a sparkline, the latest minute
    and the whole lab."""
    last = int(now_ms // 60_000)
    first = max(0, last - MINUTES_SHOWN + 1)
    parts: list[RenderableType] = []
    if not metrics.functions:
        parts.append(Text("No data points yet: invoke a function.", "dim"))
    for function in metrics.functions:
        minutes = dict(metrics.minutes(function))
        table = Table(
            title=f"AWS/Lambda · FunctionName={function}",
            title_justify="left",
            title_style="bold",
            box=None,
            pad_edge=False,
            show_edge=False,
        )
        table.add_column("metric", style="cyan", no_wrap=True)
        table.add_column("stat", style="dim", no_wrap=True)
        table.add_column(f"min {first}-{last}", no_wrap=True, min_width=10)
        table.add_column("now", justify="right", no_wrap=True)
        table.add_column("all", justify="right", no_wrap=True)
        for metric in SHOWN_METRICS:
            stat = default_statistic(metric)
            series = [
                minutes.get(m, FunctionMinute()).get(metric, stat)
                for m in range(first, last + 1)
            ]
            total = metric_value(metrics, function, metric, stat)
            if metric not in ALWAYS_SHOWN and not total:
                continue
            table.add_row(
                metric,
                _STAT_SHORT.get(stat, stat),
                sparkline(series),
                _fmt(series[-1] if series else None, metric),
                _fmt(total, metric),
            )
        parts.append(table)
        parts.append(Text(""))
    parts.append(bill_view(metrics))
    return Group(*parts)


def bill_view(metrics: Metrics) -> Text:
    """Requests, GB-seconds and the price with and without the free tier."""
    requests = metrics.requests()
    gb_s = metrics.gb_seconds()
    full = estimate_cost(requests, gb_s)
    free = estimate_cost(requests, gb_s, free_tier=True)
    text = Text()
    text.append("The bill (x86, us-east-1)\n", "bold")
    text.append(f"requests    {requests:,}  × $0.20 per 1M\n")
    text.append(f"GB-seconds  {gb_s:,.4f}  × $0.0000166667\n")
    for name, function in ((n, metrics.total(n)) for n in metrics.functions):
        if function.invocations:
            text.append(f"  {name}: {function.gb_seconds:,.4f} GB-s\n", "dim")
    init = metrics.gb_seconds(include_init=True) - gb_s
    if init > 0:
        text.append(
            f"init phases {init:,.4f} GB-s (cold starts; billed since 2025-08, "
            "not in the price below)\n",
            "dim",
        )
    text.append(f"price       ${full.total:,.6f}", "bold")
    text.append("  without the free tier\n")
    text.append(f"            ${free.total:,.6f}", "bold green")
    text.append("  after the free tier\n")
    text.append("(free tier: 1M requests + 400,000 GB-s a month)\n", "dim")
    return text


# ---------------------------------------------------------------- the trace


@dataclass(frozen=True)
class TracedRequest:
    """A request id the lab saw, with what it first knew about it."""

    request_id: str
    function: str
    kind: str
    """``sync`` or ``async``."""
    time_ms: float


def traced_requests(session: LabSession) -> list[TracedRequest]:
    """Every request id in the trace, oldest first (a retry keeps its id)."""
    seen: dict[str, TracedRequest] = {}
    for record in session.service.trace:
        if record.request_id and record.request_id not in seen:
            if record.kind in ("invoke.received", "async.received"):
                kind = record.data.get("type", "sync")
                if record.kind == "async.received":
                    kind = "async"
                seen[record.request_id] = TracedRequest(
                    record.request_id, record.function, kind, record.time_ms
                )
    return list(seen.values())


def request_list(requests: Sequence[TracedRequest], selected: int, rows: int) -> Text:
    """The newest ``rows`` requests, the selected one marked."""
    text = Text()
    start = max(0, min(selected - rows + 1, len(requests) - rows))
    for i, request in enumerate(requests[start : start + rows], start):
        mark = "▶ " if i == selected else "  "
        style = "reverse" if i == selected else ""
        text.append(
            f"{mark}{request.request_id[:8]} {request.function} {request.kind} "
            f"at {_clock(request.time_ms)}\n",
            style,
        )
    if not requests:
        text.append("No requests yet: invoke a function.", "dim")
    return text


def _clock(ms: float) -> str:
    seconds = ms / 1000
    return f"{int(seconds // 60):02d}:{seconds % 60:06.3f}"


def caller_of(session: LabSession, request_id: str) -> str:
    """What started a request: an S3 notification, a schedule, the front door or you."""
    triggers = session.triggers
    for activity in triggers.activity:
        if activity.kind == "delivery" and activity.request_id == request_id:
            return f"S3: {activity.text}"
    for rule in triggers.rules.values():
        for fire in rule.fires:
            if fire.request_id == request_id:
                return f"EventBridge rule {rule.name} ({rule.expression})"
    for exchange in triggers.exchanges:
        inv = exchange.invocation
        if inv is not None and inv.request_id == request_id:
            request = exchange.request
            return f"HTTP {exchange.api}: {request.method} {request.path}"
    return "you (the lab's invoke keys or a redrive)"


def trace_path(session: LabSession, request_id: str) -> Text:
    """One request's path: caller, queue, environment (cold or warm), attempts,
    result, DLQ or destination, and its log lines."""
    records = [r for r in session.service.trace if r.request_id == request_id]
    text = Text()
    if not records:
        return Text("Pick a request with ↑↓.", "dim")
    text.append(f"request {request_id}\n", "bold")
    text.append(f"{_clock(records[0].time_ms)} caller   ", "dim")
    text.append(caller_of(session, request_id) + "\n")
    for record in records:
        line = _trace_line(record)
        if line is not None:
            text.append(f"{_clock(record.time_ms)} ", "dim")
            text.append_text(line)
            text.append("\n")
    return text


_PLATFORM_LINES = ("START ", "END ", "REPORT ", "INIT_START", "INIT_REPORT")


def _trace_line(record: TraceRecord) -> Text | None:
    d = record.data
    kind = record.kind
    if kind == "invoke.received":
        return Text(f"invoke   {record.function}, RequestResponse (waits)")
    if kind == "async.received":
        return Text(
            f"queued   {record.function}'s async queue, 202 ({d.get('size', 0)} bytes)",
            "cyan",
        )
    if kind == "invoke.start":
        how = "provisioned environment" if d.get("provisioned") else "environment"
        return Text(
            f"attempt {d.get('attempt', 1)} in {how} {record.env_id} "
            f"({d.get('in_flight', 1)} in flight)"
        )
    if kind == "invoke.end":
        warmth = (
            f"cold, Init Duration {d['init_ms']:.2f} ms" if d.get("cold") else "warm"
        )
        outcome = d.get("outcome", "?")
        style = "green" if outcome == "success" else "red"
        error = f" {d['error_type']}" if d.get("error_type") else ""
        return Text(
            f"result   {outcome}{error}: {d.get('duration_ms', 0):.2f} ms, billed "
            f"{d.get('billed_ms', 0)} ms at {d.get('memory_mb', 128)} MB ({warmth})",
            style,
        )
    if kind == "invoke.throttled":
        return Text(f"throttled {d.get('reason', '')}".rstrip(), "yellow")
    if kind == "async.wait":
        return Text(
            f"wait     {d.get('why', '')} in {d.get('delay_ms', 0) / 1000:g} s",
            "yellow",
        )
    if kind == "async.dead_letter":
        ok = "sent" if d.get("delivered", True) else "FAILED (DeadLetterErrors)"
        return Text(f"DLQ      {d.get('queue')}: {ok}", "magenta")
    if kind == "async.destination":
        ok = "sent" if d.get("delivered", True) else "FAILED"
        return Text(
            f"dest     {d.get('condition', '')} → {d.get('target', '')}: {ok}",
            "magenta",
        )
    if kind == "async.dropped":
        return Text(
            f"ended    {d.get('condition')} after {d.get('attempts')} attempt(s)",
            "bold red",
        )
    if kind == "log":
        message = str(d.get("message", "")).strip()
        if message.startswith(_PLATFORM_LINES):
            return None  # the attempt and result lines say what these say
        first = message.splitlines()[0] if message else ""
        first = first.replace(record.request_id, "…").replace("\t", " ")
        return Text(f"log      {first[:60]}", "dim", no_wrap=True, overflow="ellipsis")
    return None
