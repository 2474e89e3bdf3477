"""CloudWatch metrics from the trace, GB-seconds and cost (LAMBDA-FACTS 2.4, 3.3)."""

from __future__ import annotations

import math

import pytest

from lambdalab.engine.metrics import (
    MINUTE_MS,
    Metrics,
    estimate_cost,
)
from lambdalab.engine.model import Account, DurationModel, FunctionConfig
from lambdalab.engine.service import LambdaService, TraceDetail


def model(name: str, ms: float = 100.0, **kw: object) -> FunctionConfig:
    return FunctionConfig(name, duration=DurationModel("fixed", ms), **kw)  # type: ignore[arg-type]


def service_with_metrics(
    account: Account | None = None, detail: TraceDetail = "full", seed: int = 0
) -> tuple[LambdaService, Metrics]:
    svc = LambdaService(account, seed=seed, trace_detail=detail)
    return svc, Metrics.attach(svc)


def test_cost_of_one_million_512mb_300ms_t56() -> None:
    # LAMBDA-FACTS T56: 150,000 GB-s x $0.0000166667 = $2.50, + $0.20 of requests.
    cost = estimate_cost(1_000_000, 1_000_000 * 0.5 * 0.3)
    assert cost.gb_seconds == pytest.approx(150_000)
    assert cost.compute_cost == pytest.approx(2.500005)
    assert cost.request_cost == pytest.approx(0.20)
    assert round(cost.total, 2) == 2.70
    # Inside the free tier (1M requests + 400,000 GB-s) the same month costs nothing.
    assert estimate_cost(1_000_000, 150_000, free_tier=True).total == 0.0


def test_free_tier_only_removes_the_allowance_3_3() -> None:
    cost = estimate_cost(3_000_000, 500_000, free_tier=True)
    assert cost.request_cost == pytest.approx(0.40)
    assert cost.compute_cost == pytest.approx(100_000 * 0.0000166667)


def test_gb_seconds_tiers_3_3() -> None:
    # The first 6 B GB-s at $0.0000166667, the next 9 B at $0.000015.
    cost = estimate_cost(0, 7_000_000_000)
    assert cost.compute_cost == pytest.approx(6e9 * 0.0000166667 + 1e9 * 0.000015)


def test_gb_seconds_from_a_run_match_t56_per_invocation() -> None:
    # Each 512 MB x 300 ms invocation bills 0.15 GB-s, as in T56.
    svc, metrics = service_with_metrics()
    svc.create_function(model("f", 300.0, memory_mb=512))
    for i in range(2000):
        svc.loop.schedule(i * 1000.0, lambda: svc.invoke("f"))
    svc.run()
    assert metrics.requests() == 2000
    assert metrics.gb_seconds() == pytest.approx(300.0)
    cost = metrics.cost()
    assert cost.total == pytest.approx(2000 * 0.20 / 1e6 + 300.0 * 0.0000166667)
    # one cold start: its init phase is billed only when asked (since 2025-08, 3.3)
    assert metrics.total("f").cold_starts == 1
    assert metrics.gb_seconds(include_init=True) > metrics.gb_seconds()


def test_throttles_count_apart_from_invocations_and_errors_t27() -> None:
    # LAMBDA-FACTS 2.3 / T27: a throttled call adds to Throttles only.
    svc, metrics = service_with_metrics()
    svc.create_function(model("f", 1000.0, reserved_concurrency=1))
    svc.invoke("f")
    svc.invoke("f")
    svc.run()
    total = metrics.total("f")
    assert (total.invocations, total.errors, total.throttles) == (1, 0, 1)


def test_errors_include_function_errors_and_timeouts_2_4() -> None:
    svc, metrics = service_with_metrics()
    svc.create_function(model("raises", 10.0, error_rate=1.0))
    svc.create_function(model("slow", 5000.0, timeout_s=1))
    svc.create_function(model("fine", 10.0))
    for name in ("raises", "slow", "fine"):
        svc.invoke(name)
    svc.run()
    assert [metrics.total(n).errors for n in ("raises", "slow", "fine")] == [1, 1, 0]
    # a timeout's Duration is the timeout
    assert metrics.total("slow").duration.maximum == 1000.0


def test_timestamps_are_the_invocation_start_2_4() -> None:
    # Starts at 59.9 s, fails at 60.4 s: counted in minute 0 (LAMBDA-FACTS 2.4).
    svc, metrics = service_with_metrics()
    svc.create_function(model("f", 500.0, error_rate=1.0, init_ms=1.0))
    svc.loop.schedule(59_900.0, lambda: svc.invoke("f"))
    svc.run()
    minutes = dict(metrics.minutes("f"))
    assert list(minutes) == [0]
    assert (minutes[0].invocations, minutes[0].errors) == (1, 1)
    assert minutes[0].duration.maximum == 500.0


def test_per_minute_buckets() -> None:
    svc, metrics = service_with_metrics()
    svc.create_function(model("f", 10.0))
    for minute, count in enumerate((3, 0, 5)):
        for i in range(count):
            svc.loop.schedule(minute * MINUTE_MS + i * 1000.0, lambda: svc.invoke("f"))
    svc.run()
    assert [(m, b.invocations) for m, b in metrics.minutes("f")] == [(0, 3), (2, 5)]
    assert metrics.total("f").invocations == 8


def test_duration_statistics() -> None:
    svc, metrics = service_with_metrics()
    svc.create_function(
        FunctionConfig("f", duration=DurationModel("uniform", low_ms=100, high_ms=300))
    )
    for i in range(4000):
        svc.loop.schedule(i * 500.0, lambda: svc.invoke("f"))
    svc.run()
    total = metrics.total("f")
    assert total.get("Duration", "SampleCount") == 4000
    assert total.get("Duration", "Average") == pytest.approx(200, rel=0.02)
    assert 299 < total.get("Duration", "Maximum") <= 300  # type: ignore[operator]
    assert 100 <= total.get("Duration", "Minimum") < 101  # type: ignore[operator]
    # Percentiles come from a 2% histogram: within 1% of the exact quantile, and the
    # uniform sample's own quantiles are within ~2% of 150/280 ms at n = 4000.
    assert total.get("Duration", "p50") == pytest.approx(200, rel=0.03)
    assert total.get("Duration", "p90") == pytest.approx(280, rel=0.03)
    with pytest.raises(KeyError, match="Invocations is reported as Sum"):
        total.get("Invocations", "Maximum")


def test_percentiles_are_within_one_percent_of_exact() -> None:
    from lambdalab.engine.metrics import FunctionMinute

    bucket = FunctionMinute()
    values = [1.0 + 0.37 * i for i in range(5000)]
    for v in values:
        bucket.duration.add(v)
        bucket.duration_histogram.add(v)
    for q in (50, 90, 99):
        exact = values[math.ceil(q / 100 * len(values)) - 1]
        assert bucket.duration_percentile(q) == pytest.approx(exact, rel=0.011)


def test_concurrent_and_unreserved_concurrent_executions() -> None:
    svc, metrics = service_with_metrics()
    svc.create_function(model("open", 1000.0))
    svc.create_function(model("capped", 1000.0, reserved_concurrency=3))
    for _ in range(5):
        svc.invoke("open")
        svc.invoke("capped")
    svc.run()
    assert metrics.total("open").concurrent_executions == 5
    assert metrics.total("capped").concurrent_executions == 3
    assert metrics.total("capped").throttles == 2
    # Only functions without a reservation use the unreserved pool (2.4).
    assert metrics.unreserved_concurrent_executions() == 5


def test_provisioned_invocations_and_spillover_2_1() -> None:
    svc, metrics = service_with_metrics()
    svc.create_function(
        model("p", 1000.0, provisioned_concurrency=2, reserved_concurrency=5)
    )
    svc.run(until_ms=5000)  # provisioned environments are initialised by now
    for _ in range(4):
        svc.invoke("p")
    svc.run()
    total = metrics.total("p")
    assert total.provisioned_invocations == 2
    assert total.spillover_invocations == 2
    assert total.cold_starts == 2  # only the spill-over ran an init phase


def test_async_metrics_received_age_dropped_2_4() -> None:
    svc, metrics = service_with_metrics()
    svc.create_function(
        model("f", 10.0, error_rate=1.0, max_retry_attempts=0, dead_letter_queue="dlq")
    )
    for _ in range(3):
        svc.invoke("f", {}, "Event")
    svc.run()
    total = metrics.total("f")
    assert total.async_events_received == 3
    assert total.async_events_dropped == 3
    assert total.dead_letter_errors == 0
    assert len(svc.queue("dlq").messages) == 3
    # the age at the first attempt is the poller's pick-up delay
    assert total.async_event_age.count == 3
    assert total.async_event_age.maximum > 0


def test_fifo_dead_letter_queue_and_destination_fail_4_2_4_3() -> None:
    # A DLQ or destination must be a standard queue: sends to FIFO queues fail and are
    # counted in DeadLetterErrors / DestinationDeliveryFailures.
    svc, metrics = service_with_metrics()
    svc.create_function(
        model(
            "f",
            10.0,
            error_rate=1.0,
            max_retry_attempts=0,
            dead_letter_queue="dlq.fifo",
            on_failure="failures.fifo",
        )
    )
    svc.invoke("f", {}, "Event")
    svc.run()
    total = metrics.total("f")
    assert (total.dead_letter_errors, total.destination_delivery_failures) == (1, 1)
    assert total.async_events_dropped == 1
    assert svc.queue("dlq.fifo").messages == []
    [dropped] = svc.trace.of_kind("async.dropped")
    assert dropped.data["sent_to"] == []


def test_retried_event_age_grows_with_retries_2_4() -> None:
    svc, metrics = service_with_metrics()
    svc.create_function(model("f", 10.0, error_rate=1.0))
    svc.invoke("f", {}, "Event")
    svc.run()
    age = metrics.total("f").async_event_age
    assert age.count == 3  # three attempts (LAMBDA-FACTS T34)
    assert age.maximum > 180_000  # the third starts about 3 minutes after queueing


def run_mixed(detail: TraceDetail) -> dict[str, object]:
    svc, metrics = service_with_metrics(
        Account(concurrency_limit=20, unreserved_minimum=0), detail, seed=3
    )
    svc.create_function(
        FunctionConfig(
            "f",
            duration=DurationModel("exponential", 300),
            error_rate=0.2,
            dead_letter_queue="dlq",
        )
    )
    svc.create_function(model("g", 50.0, reserved_concurrency=2))
    for i in range(400):
        svc.loop.schedule(i * 37.0, lambda: svc.invoke("f", {}, "Event"))
        svc.loop.schedule(i * 41.0, lambda: svc.invoke("f", {}))
        svc.loop.schedule(i * 13.0, lambda: svc.invoke("g"))
    svc.run()
    return {name: metrics.summary(name) for name in ("f", "g")}


def test_metrics_are_the_same_at_either_trace_detail() -> None:
    full, lean = run_mixed("full"), run_mixed("invocations")
    assert full == lean
    assert full["f"]["Errors"] > 0 and full["g"]["Throttles"] > 0  # type: ignore[index]


def test_memory_is_bounded_by_minutes_not_invocations() -> None:
    svc = LambdaService(trace_maxlen=100, trace_detail="invocations")
    metrics = Metrics.attach(svc)
    svc.create_function(
        FunctionConfig("f", duration=DurationModel("lognormal", 200, sigma=1.0))
    )
    for i in range(30_000):
        svc.loop.schedule(i * 3.0, lambda: svc.invoke("f"))
    svc.run()
    assert metrics.total("f").invocations == 30_000
    buckets = list(metrics.minutes("f"))
    assert len(buckets) == 2  # 90 s of traffic: two one-minute buckets
    # a 2% histogram spans 0.01 ms .. 15 min in under 1,000 keys
    assert all(len(b.duration_histogram.counts) < 1000 for _, b in buckets)
    assert len(svc.trace) == 100
