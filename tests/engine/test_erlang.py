"""Queueing theory check: sync throttling under Poisson load follows Erlang B.

With Poisson arrivals (rate lambda), service times of mean 1/mu and c environments and no
waiting room (a sync request that finds c in flight gets a 429 at once), the share
of requests throttled converges to Erlang's loss formula B(c, lambda/mu). Erlang B
depends on the service time only through its mean, so this checks the concurrency cap,
the arrival process and the durations together.
"""

from __future__ import annotations

import math
import random
import statistics

from lambdalab.engine.model import Account, DurationModel, FunctionConfig
from lambdalab.engine.service import LambdaService
from lambdalab.engine.trace import TraceRecord
from lambdalab.engine.traffic import TrafficSource, TrafficSpec

BATCHES = 20


def erlang_b(servers: int, offered: float) -> float:
    """B(c, A) by the stable recursion B(k) = A B(k-1) / (k + A B(k-1))."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return blocking


def test_erlang_b_reference_value() -> None:
    # ENV-NOTES 6: B(10, 8) = 0.121661.
    assert round(erlang_b(10, 8.0), 6) == 0.121661


def throttled_share(
    service: LambdaService, rate_per_s: float, arrivals: int
) -> tuple[float, float]:
    """Run ``arrivals`` Poisson sync requests to ``f``; return the throttled share
    and its standard error from batch means."""
    outcomes: list[bool] = []  # one per arrival, in order: True when throttled

    def listen(record: TraceRecord) -> None:
        # A sync request either starts or is throttled at the instant it arrives.
        if record.kind == "invoke.throttled":
            outcomes.append(True)
        elif record.kind == "invoke.start":
            outcomes.append(False)

    service.trace.subscribe(listen)
    spec = TrafficSpec("f", "sync", "poisson", rate_per_s, count=arrivals)
    TrafficSource(service, spec, random.Random(99)).start()
    service.run()
    assert len(outcomes) == arrivals
    size = arrivals // BATCHES
    shares = [sum(outcomes[i * size : (i + 1) * size]) / size for i in range(BATCHES)]
    return sum(outcomes) / arrivals, statistics.stdev(shares) / math.sqrt(BATCHES)


def exponential_function(**kw: object) -> FunctionConfig:
    # Mean 1 s; a 900 s timeout never truncates it, and a tiny init keeps cold starts
    # from adding service time.
    return FunctionConfig(
        "f",
        duration=DurationModel("exponential", 1000.0),
        timeout_s=900,
        init_ms=0.001,
        **kw,  # type: ignore[arg-type]
    )


def check_against_erlang_b(share: float, stderr: float, expected: float) -> None:
    # Tolerance from the run itself: successive arrivals are correlated, so the
    # standard error comes from the spread of 20 batch means, not from a binomial
    # formula. Such a run has an SE near 0.002; 4 SE (plus a small floor for the
    # estimate's own noise) would be missed by chance about once in 10,000 seeds,
    # while a wrong cap or a wrong mean duration moves the share by 0.03 or more.
    assert 0 < stderr < 0.004, stderr
    assert abs(share - expected) < 4 * stderr + 0.002, (share, expected, stderr)


def test_reserved_concurrency_throttles_as_erlang_b() -> None:
    # c = 10 (reserved), lambda = 8/s, 1/mu = 1 s: B(10, 8) = 0.1217.
    svc = LambdaService(seed=1, trace_maxlen=0, trace_detail="invocations")
    svc.create_function(exponential_function(reserved_concurrency=10))
    share, stderr = throttled_share(svc, 8.0, 40_000)
    check_against_erlang_b(share, stderr, erlang_b(10, 8.0))


def test_account_limit_throttles_as_erlang_b() -> None:
    # c = 6 (the account limit, nothing reserved), lambda = 5/s: B(6, 5) = 0.1918.
    svc = LambdaService(
        Account(concurrency_limit=6, unreserved_minimum=0),
        seed=2,
        trace_maxlen=0,
        trace_detail="invocations",
    )
    svc.create_function(exponential_function())
    share, stderr = throttled_share(svc, 5.0, 40_000)
    check_against_erlang_b(share, stderr, erlang_b(6, 5.0))
