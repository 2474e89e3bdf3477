"""No accepted event is ever lost (DESIGN "none lost"; LAMBDA-FACTS 4.1-4.3).

For random functions, targets (queues, FIFO queues, a bus, another function), failure
rates, event ages, reserved concurrency (0 included), duplicate delivery and a
redrive of everything that failed: every accepted event ends exactly once, in
success or dropped with AsyncEventsDropped, and every DLQ send and destination
record is either in its target or counted as a failed send.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalab.engine.metrics import Metrics
from lambdalab.engine.model import Account, DurationModel, FunctionConfig
from lambdalab.engine.service import FAILURE_CONDITIONS, LambdaService
from lambdalab.engine.traffic import TrafficSource, TrafficSpec

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TARGETS = [None, "q", "q.fifo", "event-bus/default", "sink"]


@dataclass(frozen=True)
class AsyncLoad:
    limit: int
    functions: tuple[FunctionConfig, ...]
    traffic: tuple[TrafficSpec, ...]
    duplicate_rate: float
    redrive: bool
    seed: int


@st.composite
def async_loads(draw: st.DrawFn) -> AsyncLoad:
    limit = draw(st.integers(2, 12))
    functions = [FunctionConfig("sink", duration=DurationModel("fixed", 5.0))]
    reserved_left = limit
    for index in range(draw(st.integers(1, 3))):
        reserved = draw(st.sampled_from([None, None, 0, 1, 2]))
        if reserved is not None:
            reserved = min(reserved, reserved_left)
            reserved_left -= reserved
        functions.append(
            FunctionConfig(
                f"fn-{index}",
                duration=DurationModel(
                    draw(st.sampled_from(["fixed", "exponential"])),
                    draw(st.floats(20.0, 3000.0)),
                ),
                error_rate=draw(st.sampled_from([0.0, 0.5, 1.0])),
                timeout_s=draw(st.sampled_from([1, 3])),
                reserved_concurrency=reserved,
                max_retry_attempts=draw(st.integers(0, 2)),
                max_event_age_s=draw(st.sampled_from([60, 90, 200, 21_600])),
                dead_letter_queue=draw(st.sampled_from([None, "dlq", "dlq.fifo"])),
                on_success=draw(st.sampled_from(TARGETS)),
                on_failure=draw(st.sampled_from(TARGETS)),
            )
        )
    names = [f.name for f in functions[1:]]
    traffic = tuple(
        TrafficSpec(
            draw(st.sampled_from(names)),
            "async",
            draw(st.sampled_from(["poisson", "uniform", "burst"])),
            rate=draw(st.floats(1.0, 40.0)),
            count=draw(st.integers(1, 40)),
        )
        for _ in range(draw(st.integers(1, 3)))
    )
    return AsyncLoad(
        limit,
        tuple(functions),
        traffic,
        draw(st.sampled_from([0.0, 0.0, 0.3, 1.0])),
        draw(st.booleans()),
        draw(st.integers(0, 2**16)),
    )


def run(load: AsyncLoad) -> tuple[LambdaService, Metrics]:
    svc = LambdaService(
        Account(concurrency_limit=load.limit, unreserved_minimum=0),
        seed=load.seed,
        duplicate_rate=load.duplicate_rate,
    )
    metrics = Metrics.attach(svc)
    for config in load.functions:
        svc.create_function(FunctionConfig(**config.__dict__))
    for index, spec in enumerate(load.traffic):
        TrafficSource(svc, spec, random.Random(load.seed * 7 + index)).start()
    svc.run()
    if load.redrive:
        for name in ("dlq", "q"):  # a bus keeps no events to redrive
            if name in svc.queues and svc.queues[name].messages:
                svc.redrive(name)
        svc.run()
    return svc, metrics


@SETTINGS
@given(async_loads())
def test_every_accepted_event_ends_exactly_once(load: AsyncLoad) -> None:
    svc, metrics = run(load)
    trace = svc.trace
    accepted = [r.request_id for r in trace.of_kind("async.received")]
    assert len(accepted) == len(set(accepted)) == len(svc.async_events)
    succeeded = Counter(r.request_id for r in trace.of_kind("async.succeeded"))
    dropped = Counter(r.request_id for r in trace.of_kind("async.dropped"))
    for request_id in accepted:
        event = svc.async_events[request_id]
        assert succeeded[request_id] + dropped[request_id] == 1
        assert event.finished
        if succeeded[request_id]:
            assert event.state == "succeeded" and event.attempts >= 1
        else:
            assert event.state in FAILURE_CONDITIONS
        # one start per attempt, plus the duplicate deliveries; nothing else
        starts = [
            r for r in trace.of_kind("invoke.start") if r.request_id == request_id
        ]
        assert len(starts) == event.attempts + len(event.duplicates)
        assert all(d.duplicate for d in event.duplicates)
    assert not any(svc.async_queue.values())
    assert sum(svc.in_flight.values()) == 0
    # AsyncEventsDropped counts exactly the failed events (LAMBDA-FACTS 2.4)
    total_dropped = sum(metrics.total(f).async_events_dropped for f in svc.functions)
    assert total_dropped == sum(dropped.values())


@SETTINGS
@given(async_loads())
def test_every_send_is_in_its_target_or_counted_as_failed(load: AsyncLoad) -> None:
    svc, metrics = run(load)
    config = {f.name: f for f in load.functions}
    sent: Counter[str] = Counter()
    failed_dlq = failed_destination = 0
    for event in svc.async_events.values():
        settings_of = config[event.function]
        roles = [d.role for d in event.deliveries]
        if event.state == "succeeded":
            assert roles == (["on_success"] if settings_of.on_success else [])
        else:
            expected = []
            if settings_of.dead_letter_queue:
                expected.append("dead_letter_queue")
            if settings_of.on_failure:
                expected.append("on_failure")
            assert roles == expected
        for delivery in event.deliveries:
            kind, key = svc._target(delivery.target)
            fails = kind != "function" and key.endswith(".fifo")
            fails = fails or (delivery.role == "dead_letter_queue" and kind != "sqs")
            assert delivery.delivered is not fails
            if delivery.delivered and kind != "function":
                sent[key] += 1
            elif not delivery.delivered:
                if delivery.role == "dead_letter_queue":
                    failed_dlq += 1
                else:
                    failed_destination += 1
    redriven = Counter(r.data["queue"] for r in svc.trace.of_kind("queue.redriven"))
    for name, queue in svc.queues.items():
        assert len(queue.messages) + redriven[name] == sent[name], name
    # DeadLetterErrors and DestinationDeliveryFailures count the failed sends (2.4)
    totals = [metrics.total(f) for f in svc.functions]
    assert sum(t.dead_letter_errors for t in totals) == failed_dlq
    assert sum(t.destination_delivery_failures for t in totals) == failed_destination
    # a function destination receives each record as one accepted event (4.3)
    to_sink = [
        d for e in svc.async_events.values() for d in e.deliveries if d.target == "sink"
    ]
    sink_events = [e for e in svc.async_events.values() if e.function == "sink"]
    assert len(sink_events) == len(to_sink)
    for event in sink_events:
        record = json.loads(event.payload)
        assert record["requestContext"]["condition"] in ("Success", *FAILURE_CONDITIONS)


@settings(max_examples=20, deadline=None)
@given(async_loads())
def test_the_same_seed_gives_the_same_async_trace(load: AsyncLoad) -> None:
    first, _ = run(load)
    second, _ = run(load)
    assert [r.to_json() for r in first.trace] == [r.to_json() for r in second.trace]
