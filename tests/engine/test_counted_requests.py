"""Trace detail "metrics": requests counted in the metrics instead of recorded.

The property test in test_load_properties.py compares whole runs with the full trace;
these cases pin the paths random loads seldom take.
"""

from __future__ import annotations

import random

import pytest

from lambdalab.engine.metrics import Metrics
from lambdalab.engine.model import DurationModel, FunctionConfig
from lambdalab.engine.service import LambdaService, TraceDetail
from lambdalab.errors import ConfigError


def service(detail: TraceDetail) -> tuple[LambdaService, Metrics]:
    svc = LambdaService(seed=7, trace_detail=detail)
    return svc, Metrics.attach(svc)


def send_at(svc: LambdaService, times_ms: list[float], name: str = "f") -> None:
    for at in times_ms:
        svc.loop.schedule(at, lambda: svc.send(name))


def test_spillover_and_provisioned_counts_match_the_trace() -> None:
    # LAMBDA-FACTS 2.1/2.4: with 2 provisioned environments busy, the next requests
    # run on demand and each is a ProvisionedConcurrencySpilloverInvocation.
    def run(detail: TraceDetail) -> dict[str, object]:
        svc, metrics = service(detail)
        svc.create_function(
            FunctionConfig(
                "f",
                duration=DurationModel("fixed", 100.0),
                reserved_concurrency=6,
                provisioned_concurrency=2,
            )
        )
        send_at(svc, [1_000.0] * 4 + [5_000.0] * 4)  # cold extras, then all warm
        svc.run()
        return metrics.summary("f")

    counted, full = run("metrics"), run("full")
    assert counted == full
    assert counted["ProvisionedConcurrencyInvocations"] == 4
    assert counted["ProvisionedConcurrencySpilloverInvocations"] == 4
    assert counted["Invocations"] == 8
    assert counted["ColdStarts"] == 2


def test_counted_requests_leave_no_records_and_warm_ones_no_invocations() -> None:
    svc, metrics = service("metrics")
    svc.create_function(
        FunctionConfig(
            "f", duration=DurationModel("fixed", 50.0), reserved_concurrency=1
        )
    )
    send_at(svc, [0.0, 10.0, 500.0, 1_000.0])  # cold, throttled, warm, warm
    svc.run()
    total = metrics.total("f")
    assert (total.invocations, total.throttles, total.cold_starts) == (3, 1, 1)
    ends = svc.trace.of_kind("invoke.end")
    assert len(ends) == 1 and ends[0].data["cold"]  # only the cold start is recorded
    assert not svc.trace.of_kind("invoke.throttled")
    assert list(svc.invocations) == [ends[0].request_id]
    assert svc.counted_until_ms == 1_050.0  # the last counted end


def test_a_counted_timeout_resets_the_environment() -> None:
    # LAMBDA-FACTS 1.4: a timeout resets the runtime, so the next request is cold.
    def run(detail: TraceDetail) -> dict[str, object]:
        svc, metrics = service(detail)
        svc.create_function(
            FunctionConfig(
                "f", timeout_s=1, duration=DurationModel("uniform", 0.0, 0.0, 2_000.0)
            )
        )
        send_at(svc, [i * 3_000.0 for i in range(40)])
        svc.run()
        return metrics.summary("f")

    counted, full = run("metrics"), run("full")
    assert counted == full
    # uniform 0-2 s against a 1 s timeout: about half time out, each at exactly 1 s
    assert 10 < counted["Errors"] < 30  # type: ignore[operator]
    assert counted["DurationMaximum"] == 1_000.0
    assert counted["ColdStarts"] > 10  # type: ignore[operator]


def test_busy_counted_environments_survive_an_update_then_retire() -> None:
    def run(detail: TraceDetail) -> tuple[LambdaService, Metrics, int]:
        svc, metrics = service(detail)
        svc.create_function(
            FunctionConfig(
                "f", duration=DurationModel("fixed", 400.0), provisioned_concurrency=1
            )
        )
        send_at(svc, [1_000.0, 1_000.0, 3_000.0, 3_000.0])  # then both warm, counted

        def update() -> None:
            svc.update_function("f", memory_mb=256)

        svc.loop.schedule(3_100.0, update)
        svc.run(3_200.0)
        # the pool counts the busy provisioned environment as claimed once
        return svc, metrics, svc._unreserved_claimed

    svc, metrics, claimed = run("metrics")
    assert claimed == run("full")[2]
    assert sorted(e.state for e in svc.environments["f"]) == [
        "busy",
        "busy",
        "initialising",
    ]
    assert svc.in_flight["f"] == 2
    svc.run()
    assert all(e.code_version == 1 for e in svc.environments["f"])
    assert svc.in_flight["f"] == 0
    assert metrics.total("f").invocations == 4


def test_only_one_metrics_may_count() -> None:
    svc, _ = service("metrics")
    with pytest.raises(ConfigError, match="one Metrics only"):
        Metrics.attach(svc)
    lean = LambdaService(trace_detail="invocations")
    Metrics.attach(lean)
    Metrics.attach(lean)  # records feed any number of listeners


def test_without_metrics_every_request_is_recorded() -> None:
    svc = LambdaService(seed=7, trace_detail="metrics")
    svc.create_function(FunctionConfig("f", duration=DurationModel("fixed", 50.0)))
    send_at(svc, [0.0, 500.0, 1_000.0])
    svc.run()
    assert len(svc.trace.of_kind("invoke.end")) == 3


@pytest.mark.parametrize(
    "model",
    [
        DurationModel("fixed", 120.0),
        DurationModel("uniform", low_ms=5.0, high_ms=90.0),
        DurationModel("exponential", 300.0),
        DurationModel("lognormal", 300.0, sigma=1.2),
    ],
    ids=lambda m: m.distribution,
)
def test_a_sampler_draws_what_sample_draws(model: DurationModel) -> None:
    # The counted path must consume the generator exactly as the recorded path does,
    # or the same seed would give a different run at a different detail.
    a, b = random.Random(3), random.Random(3)
    draw = model.sampler(b)
    assert [model.sample(a) for _ in range(500)] == [draw() for _ in range(500)]
    assert a.random() == b.random()


def test_a_duration_model_replaced_in_place_is_seen() -> None:
    def run(detail: TraceDetail) -> dict[str, object]:
        svc, metrics = service(detail)
        svc.create_function(FunctionConfig("f", duration=DurationModel("fixed", 100.0)))

        def slower() -> None:
            svc.functions["f"].duration = DurationModel("fixed", 500.0)

        send_at(svc, [0.0, 1_000.0, 2_000.0])
        svc.loop.schedule(1_500.0, slower)
        svc.run()
        return metrics.summary("f")

    counted = run("metrics")
    assert counted == run("full")
    assert counted["DurationMaximum"] == 500.0
