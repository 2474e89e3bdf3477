"""Recursive loop detection between functions linked by destinations (LAMBDA-FACTS 7.4).

AWS's launch note (2023-07-13): a function invoked by the same triggering event more
than 16 times is stopped at the next invocation, and the event goes to the DLQ or
on-failure destination, if configured; RecursiveInvocationsDropped counts it (2.4).
"""

from __future__ import annotations

import json

from lambdalab.engine.metrics import Metrics
from lambdalab.engine.model import DurationModel, FunctionConfig
from lambdalab.engine.service import RECURSION_CONDITION, RECURSION_LIMIT, LambdaService


def loop_service(**targets: str) -> tuple[LambdaService, Metrics]:
    svc = LambdaService(seed=2)
    metrics = Metrics.attach(svc)
    svc.create_function(
        FunctionConfig("a", duration=DurationModel("fixed", 10.0), **targets)  # type: ignore[arg-type]
    )
    return svc, metrics


def test_a_function_that_is_its_own_destination_stops_after_16() -> None:
    svc, metrics = loop_service(on_success="a")
    svc.invoke("a", {"n": 1}, "Event")
    svc.run()
    summary = metrics.summary("a")
    assert RECURSION_LIMIT == 16  # LAMBDA-FACTS 7.4
    assert summary["Invocations"] == 16
    assert summary["RecursiveInvocationsDropped"] == 1
    assert summary["AsyncEventsReceived"] == 17  # the 17th is accepted, then stopped
    assert summary["AsyncEventsDropped"] == 1
    (stop,) = svc.trace.of_kind("async.recursion_stopped")
    assert stop.data == {"chain": 16}
    (dropped,) = svc.trace.of_kind("async.dropped")
    assert dropped.data["condition"] == RECURSION_CONDITION
    assert dropped.data["sent_to"] == []


def test_a_two_function_loop_stops_each_side_at_16() -> None:
    svc = LambdaService(seed=2)
    metrics = Metrics.attach(svc)
    fixed = DurationModel("fixed", 10.0)
    svc.create_function(FunctionConfig("a", duration=fixed, on_success="b"))
    svc.create_function(FunctionConfig("b", duration=fixed, on_success="a"))
    svc.invoke("a", {}, "Event")
    svc.run()
    assert metrics.summary("a")["Invocations"] == 16
    assert metrics.summary("b")["Invocations"] == 16
    assert metrics.summary("a")["RecursiveInvocationsDropped"] == 1
    assert metrics.summary("b")["RecursiveInvocationsDropped"] == 0


def test_a_stopped_event_goes_to_the_dead_letter_queue() -> None:
    svc, _ = loop_service(on_success="a", dead_letter_queue="dlq")
    svc.invoke("a", {"n": 1}, "Event")
    svc.run()
    (message,) = svc.queue("dlq").messages
    record = json.loads(message.body)  # the event the 17th invocation would have had
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(":function:a:$LATEST")


def test_a_stopped_event_is_forwarded_once_then_only_dropped() -> None:
    # Its on-failure destination is the loop itself: the forwarded record is stopped
    # again, and that second stop sends nothing, so the run ends.
    svc, metrics = loop_service(on_success="a", on_failure="a")
    svc.invoke("a", {}, "Event")
    assert svc.run()
    summary = metrics.summary("a")
    assert summary["Invocations"] == 16
    assert summary["RecursiveInvocationsDropped"] == 2
    first, second = svc.trace.of_kind("async.dropped")
    assert first.data["sent_to"] == ["a"] and second.data["sent_to"] == []
    assert not svc.async_queue["a"]


def test_a_short_chain_is_not_a_loop() -> None:
    svc = LambdaService(seed=2)
    metrics = Metrics.attach(svc)
    names = [f"f{i}" for i in range(20)]
    for name, nxt in zip(names, [*names[1:], None], strict=True):
        targets = {"on_success": nxt} if nxt else {}
        svc.create_function(FunctionConfig(name, **targets))  # type: ignore[arg-type]
    svc.invoke("f0", {}, "Event")
    svc.run()
    # 20 different functions in one chain: none repeats, nothing is stopped
    assert all(metrics.summary(n)["Invocations"] == 1 for n in names)
    assert not svc.trace.of_kind("async.recursion_stopped")
