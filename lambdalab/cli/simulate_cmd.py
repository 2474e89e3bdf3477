"""``lambdalab simulate``: run a scenario file headless and report its metrics.

The run goes as fast as the machine allows; virtual time is independent of it, so the
same file and seed always print the same numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Any

from lambdalab.engine.metrics import MINUTE_MS, Metrics
from lambdalab.engine.scenario import Scenario, ScenarioRun, load_scenario
from lambdalab.engine.trace import TraceRecord
from lambdalab.errors import LambdaLabError

PROGRESS_AFTER_S = 0.5
"""Wall time after which a run counts as long and gets a progress bar."""
PROGRESS_STEPS = 200
"""Virtual-time slices the run is cut into while the bar is live."""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "simulate",
        help="run a scenario file and report CloudWatch metrics, queues and cost",
        description=(
            "Run the functions and traffic of a scenario TOML file on the simulated "
            "Lambda service, as fast as possible, and report per function the "
            "CloudWatch metrics (Invocations, Errors, Throttles, Duration, "
            "ConcurrentExecutions, ...), the lab queues and the cost."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the scenario (.toml)")
    parser.add_argument(
        "--seed", type=int, metavar="N", help="seed (default: the file's, else 0)"
    )
    parser.add_argument(
        "--until",
        type=float,
        metavar="SECONDS",
        help="stop at this virtual second (default: run until everything is done)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of tables"
    )
    parser.add_argument(
        "--trace",
        metavar="FILE.jsonl",
        help="write every trace record to FILE.jsonl, one JSON object a line",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.until is not None and args.until <= 0:
        print(f"lambdalab: --until {args.until:g} must be positive.", file=sys.stderr)
        return 2
    scenario = load_scenario(args.file)
    metrics = Metrics()
    activity = _LastActivity()
    listeners: list[Any] = [activity]
    trace_out: IO[str] | None = None
    if args.trace:
        try:
            trace_out = Path(args.trace).open("w", encoding="utf-8")
        except OSError as exc:
            raise LambdaLabError(
                f"Cannot write trace file {args.trace}: {exc.strerror}."
            ) from None
        listeners.append(_TraceWriter(trace_out))
    until_ms = args.until * 1000.0 if args.until is not None else None
    # The file gets the full story; otherwise the metrics count what they need
    # without records, which is several times faster. The numbers are the same.
    built = scenario.build(
        seed=args.seed,
        listeners=listeners,
        metrics=metrics,
        trace_detail="full" if trace_out else "metrics",
        keep_finished=False,
        trace_maxlen=0,
    )
    try:
        _drive(built, until_ms, show_progress=sys.stderr.isatty())
    finally:
        built.service.close()
        if trace_out is not None:
            trace_out.close()
    last_activity_ms = max(activity.time_ms, built.service.counted_until_ms)
    report = build_report(scenario, built, metrics, last_activity_ms, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


class _LastActivity:
    """Remembers when the last request-related record happened."""

    def __init__(self) -> None:
        self.time_ms = 0.0

    def __call__(self, record: TraceRecord) -> None:
        if record.kind.startswith(("invoke.", "async.")):
            self.time_ms = record.time_ms


class _TraceWriter:
    """Streams trace records to a JSON-lines file, keeping none in memory."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def __call__(self, record: TraceRecord) -> None:
        self.out.write(json.dumps(record.to_json(), default=str))
        self.out.write("\n")


def _drive(built: ScenarioRun, until_ms: float | None, *, show_progress: bool) -> None:
    """Run to ``until_ms`` (or to the end), with a progress bar on long runs."""
    service = built.service
    if not show_progress:
        service.run(until_ms)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    horizon = until_ms if until_ms is not None else max(built.expected_end_ms, 1.0)
    step = max(horizon / PROGRESS_STEPS, 1.0)
    started = time.monotonic()
    progress: Progress | None = None
    task = None
    try:
        while True:
            target = service.now_ms + step
            if until_ms is not None:
                target = min(target, until_ms)
            service.run(target)
            if progress is None and time.monotonic() - started > PROGRESS_AFTER_S:
                progress = Progress(
                    TextColumn("virtual {task.fields[clock]}"),
                    BarColumn(),
                    TextColumn("{task.fields[sent]:,} requests sent"),
                    TimeElapsedColumn(),
                    console=Console(stderr=True),
                    transient=True,
                )
                progress.start()
                task = progress.add_task("simulate", total=horizon, clock="", sent=0)
            if progress is not None and task is not None:
                progress.update(
                    task,
                    completed=min(service.now_ms, horizon),
                    clock=_clock(service.now_ms),
                    sent=sum(source.sent for source in built.sources),
                )
            if until_ms is not None and service.now_ms >= until_ms:
                return
            if until_ms is None and service.loop.peek() is None:
                return
    finally:
        if progress is not None:
            progress.stop()


def _clock(ms: float) -> str:
    seconds = int(ms // 1000)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _num(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def build_report(
    scenario: Scenario,
    built: ScenarioRun,
    metrics: Metrics,
    last_activity_ms: float,
    seed: int | None,
) -> dict[str, Any]:
    """The run's results as plain data: the ``--json`` output."""
    service = built.service
    functions: dict[str, Any] = {}
    for config in scenario.functions:
        summary = metrics.summary(config.name)
        functions[config.name] = {
            key: _num(value) if isinstance(value, float) else value
            for key, value in summary.items()
        }
    requests = metrics.requests()
    gb_s = metrics.gb_seconds()
    # On-demand init has been billed since 2025-08 (LAMBDA-FACTS 3.3).
    bill_init = scenario.profile.docs_date >= "2025-08"
    cost = metrics.cost(include_init=bill_init)
    free = metrics.cost(include_init=bill_init, free_tier=True)
    return {
        "scenario": str(scenario.path),
        "seed": scenario.seed if seed is None else seed,
        "profile": scenario.profile.name,
        "virtual_seconds": _num(last_activity_ms / 1000.0),
        "minutes": int(last_activity_ms // MINUTE_MS) + 1,
        "functions": functions,
        "account": {
            "ConcurrencyLimit": scenario.account.concurrency_limit,
            "UnreservedConcurrentExecutions": metrics.unreserved_concurrent_executions(),
        },
        "queues": {
            name: {"messages": len(queue.messages)}
            for name, queue in sorted(service.queues.items())
        },
        "requests_sent": sum(source.sent for source in built.sources),
        "cost": {
            "requests": requests,
            "gb_seconds": _num(gb_s),
            "init_gb_seconds": _num(metrics.gb_seconds(include_init=True) - gb_s),
            "init_billed": bill_init,
            "request_usd": _num(cost.request_cost, 6),
            "compute_usd": _num(cost.compute_cost, 6),
            "total_usd": _num(cost.total, 6),
            "total_after_free_tier_usd": _num(free.total, 6),
        },
    }


def print_report(report: dict[str, Any]) -> None:
    """The run's results as Rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{report['scenario']}[/] (seed {report['seed']}, profile "
        f"{report['profile']})\n{report['requests_sent']:,} requests in "
        f"{report['virtual_seconds']:,.1f} virtual seconds"
    )
    for name, m in report["functions"].items():
        table = Table(title=f"function {name}", title_justify="left", min_width=48)
        table.add_column("CloudWatch metric")
        table.add_column("value", justify="right")
        rows: list[tuple[str, Any]] = [
            ("Invocations (Sum)", m["Invocations"]),
            ("Errors (Sum)", m["Errors"]),
            ("Throttles (Sum)", m["Throttles"]),
            ("ConcurrentExecutions (Maximum)", m["ConcurrentExecutions"]),
            ("Duration (Average, ms)", m["Duration"]),
            ("Duration (p50 / p99 / Maximum, ms)", _triple(m)),
            ("cold starts", m["ColdStarts"]),
        ]
        if (
            m["ProvisionedConcurrencyInvocations"]
            or m["ProvisionedConcurrencySpilloverInvocations"]
        ):
            rows += [
                (
                    "ProvisionedConcurrencyInvocations",
                    m["ProvisionedConcurrencyInvocations"],
                ),
                (
                    "ProvisionedConcurrencySpilloverInvocations",
                    m["ProvisionedConcurrencySpilloverInvocations"],
                ),
            ]
        if m["AsyncEventsReceived"]:
            rows += [
                ("AsyncEventsReceived", m["AsyncEventsReceived"]),
                ("AsyncEventAge (Average / Maximum, ms)", _pair(m, "AsyncEventAge")),
                ("AsyncEventsDropped", m["AsyncEventsDropped"]),
                ("DeadLetterErrors", m["DeadLetterErrors"]),
                ("DestinationDeliveryFailures", m["DestinationDeliveryFailures"]),
            ]
        rows.append(("GB-seconds", m["GBSeconds"]))
        for label, value in rows:
            table.add_row(label, _shown(value))
        console.print(table)
    account = report["account"]
    console.print(
        f"account: concurrency limit {account['ConcurrencyLimit']:,}, "
        "UnreservedConcurrentExecutions (Maximum) "
        f"{account['UnreservedConcurrentExecutions']:,}"
    )
    if report["queues"]:
        queues = Table(title="queues", title_justify="left")
        queues.add_column("queue")
        queues.add_column("messages", justify="right")
        for name, queue in report["queues"].items():
            queues.add_row(name, f"{queue['messages']:,}")
        console.print(queues)
    cost = report["cost"]
    bill = Table(title="cost (x86, us-east-1)", title_justify="left")
    bill.add_column("item")
    bill.add_column("amount", justify="right")
    bill.add_row(
        f"{cost['requests']:,} requests at $0.20 per 1M", f"${cost['request_usd']:.6f}"
    )
    init = " incl. init" if cost["init_billed"] else ""
    compute = cost["gb_seconds"] + (
        cost["init_gb_seconds"] if cost["init_billed"] else 0
    )
    bill.add_row(f"{compute:,.3f} GB-s{init}", f"${cost['compute_usd']:.6f}")
    bill.add_row("total", f"${cost['total_usd']:.2f}")
    bill.add_row(
        "total after the monthly free tier", f"${cost['total_after_free_tier_usd']:.2f}"
    )
    console.print(bill)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _triple(m: dict[str, Any]) -> str:
    return " / ".join(
        _shown(m[k]) for k in ("DurationP50", "DurationP99", "DurationMaximum")
    )


def _pair(m: dict[str, Any], name: str) -> str:
    return f"{_shown(m[name])} / {_shown(m[name + 'Maximum'])}"
