"""Property tests under random load (DESIGN: the engine's invariants).

For random accounts, functions and traffic: concurrency never exceeds any limit at any
instant; every request is accounted for exactly once; the same seed gives the same
trace.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalab.engine.metrics import MINUTE_MS, Metrics
from lambdalab.engine.model import Account, DurationModel, FunctionConfig
from lambdalab.engine.service import LambdaService
from lambdalab.engine.trace import TraceRecord
from lambdalab.engine.traffic import TrafficSource, TrafficSpec

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Load:
    account: Account
    functions: tuple[FunctionConfig, ...]
    traffic: tuple[TrafficSpec, ...]
    seed: int


@st.composite
def loads(draw: st.DrawFn) -> Load:
    limit = draw(st.integers(3, 25))
    minimum = draw(st.integers(0, limit))
    account = Account(concurrency_limit=limit, unreserved_minimum=minimum)
    functions = []
    reserved_total = 0
    for index in range(draw(st.integers(1, 3))):
        reserved: int | None = None
        if draw(st.booleans()) and limit - reserved_total - minimum > 0:
            reserved = draw(st.integers(0, limit - reserved_total - minimum))
            reserved_total += reserved
        provisioned = (
            draw(st.integers(0, min(reserved, 3))) if reserved is not None else 0
        )
        kind = draw(st.sampled_from(["fixed", "uniform", "exponential", "lognormal"]))
        mean = draw(st.floats(20.0, 2000.0))
        duration = DurationModel(kind, mean, low_ms=mean / 2, high_ms=mean * 2)
        targets = draw(
            st.sampled_from(
                [
                    {},
                    {"dead_letter_queue": "dlq"},
                    {"dead_letter_queue": "dlq", "on_failure": "failed"},
                    {"on_failure": "failed", "on_success": "done"},
                    {"dead_letter_queue": "dlq.fifo", "on_failure": "failed"},
                ]
            )
        )
        functions.append(
            FunctionConfig(
                f"fn-{index}",
                duration=duration,
                error_rate=draw(st.sampled_from([0.0, 0.3, 0.7, 1.0])),
                timeout_s=draw(st.sampled_from([1, 3, 10])),
                reserved_concurrency=reserved,
                provisioned_concurrency=provisioned,
                max_retry_attempts=draw(st.integers(0, 2)),
                max_event_age_s=draw(st.sampled_from([60, 300, 21_600])),
                init_ms=draw(st.sampled_from([1.0, 180.0, 2000.0])),
                **targets,  # type: ignore[arg-type]
            )
        )
    traffic = tuple(
        TrafficSpec(
            draw(st.sampled_from([f.name for f in functions])),
            draw(st.sampled_from(["sync", "async"])),
            draw(st.sampled_from(["poisson", "uniform"])),
            rate=draw(st.floats(1.0, 60.0)),
            start_s=draw(st.floats(0.0, 5.0)),
            count=draw(st.integers(1, 120)),
        )
        for _ in range(draw(st.integers(1, 3)))
    ) + tuple(
        TrafficSpec(
            draw(st.sampled_from([f.name for f in functions])),
            draw(st.sampled_from(["sync", "async"])),
            "burst",
            start_s=draw(st.floats(0.0, 5.0)),
            count=draw(st.integers(1, 40)),
        )
        for _ in range(draw(st.integers(0, 1)))
    )
    return Load(account, tuple(functions), traffic, draw(st.integers(0, 2**16)))


def start(load: Load, **kw: object) -> LambdaService:
    svc = LambdaService(load.account, seed=load.seed, **kw)  # type: ignore[arg-type]
    for config in load.functions:
        svc.create_function(FunctionConfig(**config.__dict__))
    return svc


def drive(svc: LambdaService, load: Load) -> None:
    for index, spec in enumerate(load.traffic):
        TrafficSource(svc, spec, random.Random(load.seed * 31 + index)).start()
    svc.run()


@PROPERTY_SETTINGS
@given(loads())
def test_concurrency_never_exceeds_a_limit(load: Load) -> None:
    # LAMBDA-FACTS 2.1 / PITFALLS R26, R27: the reservation caps a function, the
    # account limit caps the sum, unreserved functions share what is not reserved.
    svc = start(load)
    limit = load.account.concurrency_limit
    reserved = {
        f.name: f.reserved_concurrency
        for f in load.functions
        if f.reserved_concurrency is not None
    }
    capacity = limit - sum(reserved.values())
    peaks = Counter[str]()

    def check(record: TraceRecord) -> None:
        if record.kind not in ("invoke.start", "concurrency"):
            return
        in_flight = svc.in_flight
        assert sum(in_flight.values()) <= limit
        for name, cap in reserved.items():
            assert in_flight[name] <= cap
        unreserved = sum(n for name, n in in_flight.items() if name not in reserved)
        assert unreserved <= capacity
        assert svc.unreserved_in_flight == unreserved
        if record.kind == "invoke.start":
            assert record.data["in_flight"] == in_flight[record.function]
            peaks[record.function] = max(
                peaks[record.function], in_flight[record.function]
            )

    svc.trace.subscribe(check)
    drive(svc, load)
    assert sum(svc.in_flight.values()) == 0  # everything finished
    assert all(peaks[name] <= cap for name, cap in reserved.items())


@PROPERTY_SETTINGS
@given(loads())
def test_every_request_is_accounted_for_exactly_once(load: Load) -> None:
    svc = start(load)
    drive(svc, load)
    received = [r.request_id for r in svc.trace.of_kind("invoke.received")]
    first_starts = Counter(
        r.request_id
        for r in svc.trace.of_kind("invoke.start")
        if r.data["attempt"] == 1
    )
    throttled = Counter(r.request_id for r in svc.trace.of_kind("invoke.throttled"))
    # each sync request either started once or was throttled once, never both
    for request_id in received:
        assert first_starts[request_id] + throttled[request_id] == 1
    sync_ends = Counter(
        r.request_id
        for r in svc.trace.of_kind("invoke.end")
        if r.data["type"] == "sync"
    )
    assert sync_ends == Counter(r for r in received if first_starts[r])
    # each accepted event ends exactly once: succeeded, or dropped after its DLQ /
    # on-failure destination (LAMBDA-FACTS 4.1-4.3; DESIGN "none lost")
    accepted = [r.request_id for r in svc.trace.of_kind("async.received")]
    assert len(accepted) == len(set(accepted))
    succeeded = Counter(r.request_id for r in svc.trace.of_kind("async.succeeded"))
    dropped = {r.request_id: r for r in svc.trace.of_kind("async.dropped")}
    for request_id in accepted:
        assert succeeded[request_id] + (request_id in dropped) == 1
    assert set(svc.async_events) == set(accepted)
    assert all(
        e.state not in ("queued", "waiting", "running")
        for e in svc.async_events.values()
    )
    assert all(not queue for queue in svc.async_queue.values())
    # every drop sent to its standard DLQ, with the request id; FIFO sends fail
    config = {f.name: f for f in load.functions}
    dead_lettered = [
        m.attributes["RequestID"]["StringValue"] for m in svc.queue("dlq").messages
    ]
    expected = [
        r.request_id
        for r in svc.trace.of_kind("async.dropped")
        if config[r.function].dead_letter_queue == "dlq"
    ]
    assert dead_lettered == expected
    records = len(svc.queue("failed").messages) + len(svc.queue("done").messages)
    assert records == sum(
        1 for r in svc.trace.of_kind("async.destination") if r.data["delivered"]
    )


@PROPERTY_SETTINGS
@given(loads())
def test_same_seed_same_trace(load: Load) -> None:
    def trace() -> list[dict[str, object]]:
        svc = start(load)
        drive(svc, load)
        return [r.to_json() for r in svc.trace]

    assert trace() == trace()


@PROPERTY_SETTINGS
@given(loads())
def test_lean_trace_detail_changes_nothing_that_is_kept(load: Load) -> None:
    # The "invocations" detail leaves out records; those it keeps are identical.
    kept = {
        "invoke.start",
        "invoke.end",
        "invoke.throttled",
        "invoke.spillover",
        "async.received",
        "async.succeeded",
        "async.dropped",
        "async.wait",
        "env.created",
        "env.reaped",
    }
    full, lean = start(load), start(load, trace_detail="invocations")
    drive(full, load)
    drive(lean, load)
    assert [r for r in full.trace if r.kind in kept] == [
        r for r in lean.trace if r.kind in kept
    ]
    assert not any(r.kind in ("concurrency", "env.state", "log") for r in lean.trace)


def metrics_of(load: Load, detail: str, until_ms: float | None) -> dict[str, object]:
    svc = start(load, trace_detail=detail, trace_maxlen=0)
    metrics = Metrics.attach(svc)
    for index, spec in enumerate(load.traffic):
        TrafficSource(svc, spec, random.Random(load.seed * 31 + index)).start()
    svc.run(until_ms)
    names = [f.name for f in load.functions]
    minutes = range(int(svc.now_ms // MINUTE_MS) + 1)
    return {
        "summary": {name: metrics.summary(name) for name in names},
        "unreserved": [metrics.unreserved_concurrent_executions(m) for m in minutes],
        "in_flight": dict(svc.in_flight),
        "pool": (svc.unreserved_in_flight, svc.unreserved_capacity()),
        "environments": {
            name: sorted(
                (e.env_id, e.state, e.invocations, e.last_used_ms)
                for e in svc.environments[name]
            )
            for name in names
        },
    }


@PROPERTY_SETTINGS
@given(loads(), st.sampled_from([None, 2_000.0, 9_000.0, 65_000.0]))
def test_counted_requests_give_the_metrics_the_trace_gives(
    load: Load, until_ms: float | None
) -> None:
    # Trace detail "metrics" counts warm and throttled sync requests to model
    # functions without records; every number, and the state left behind, must be
    # what the full trace gives, also when the run stops with requests in flight.
    full = metrics_of(load, "full", until_ms)
    counted = metrics_of(load, "metrics", until_ms)
    assert counted == full
