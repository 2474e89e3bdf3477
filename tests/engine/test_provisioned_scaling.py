"""Provisioned concurrency, the per-function scaling rate and idle reaping
(LAMBDA-FACTS 2.1, 2.2, 3.1; PITFALLS R28)."""

from __future__ import annotations

import json

import pytest
from conftest import MakeFunction, logs_of

from lambdalab.engine.model import Account, DurationModel, FunctionConfig
from lambdalab.engine.profile import CURRENT
from lambdalab.engine.service import SCALING_THROTTLE_REASON, LambdaService
from lambdalab.engine.trace import TraceRecord
from lambdalab.errors import ConfigError


def model(name: str, ms: float = 1000.0, **kw: object) -> FunctionConfig:
    return FunctionConfig(name, duration=DurationModel("fixed", ms), **kw)  # type: ignore[arg-type]


def test_provisioned_environments_are_initialised_at_creation_3_1() -> None:
    svc = LambdaService()
    svc.create_function(model("p", provisioned_concurrency=3, reserved_concurrency=5))
    created = svc.trace.of_kind("env.created")
    assert [(r.time_ms, r.data["provisioned"]) for r in created] == [(0.0, True)] * 3
    inits = [m for m in logs_of(svc) if m.startswith("INIT_START")]
    assert len(inits) == 3  # before any request
    svc.run(until_ms=1000)
    assert [e.state for e in svc.environments["p"]] == ["idle"] * 3
    assert all(e.initialised and e.provisioned for e in svc.environments["p"])


def test_five_warm_then_spill_over_cold_up_to_reserved_r28() -> None:
    # PITFALLS R28: provisioned 5, reserved 10, 8 concurrent -> 5 warm without Init
    # Duration, 3 spill over to on-demand with cold starts.
    svc = LambdaService()
    svc.create_function(model("p", provisioned_concurrency=5, reserved_concurrency=10))
    svc.run(until_ms=2000)
    invs = [svc.invoke("p") for _ in range(8)]
    svc.run()
    warm = [i for i in invs if not i.cold]
    cold = [i for i in invs if i.cold]
    assert (len(warm), len(cold)) == (5, 3)
    provisioned = {e.env_id for e in svc.environments["p"] if e.provisioned}
    assert {i.env_id for i in warm} == provisioned
    for inv in warm:
        report = next(m for m in logs_of(svc, inv.request_id) if m.startswith("REPORT"))
        assert "Init Duration" not in report
    for inv in cold:
        report = next(m for m in logs_of(svc, inv.request_id) if m.startswith("REPORT"))
        assert "\tInit Duration: " in report
    spilled = svc.trace.of_kind("invoke.spillover")
    assert sorted(r.request_id for r in spilled) == sorted(i.request_id for i in cold)


def test_spill_over_never_goes_above_reserved_2_1() -> None:
    svc = LambdaService()
    svc.create_function(model("p", provisioned_concurrency=5, reserved_concurrency=10))
    svc.run(until_ms=2000)
    invs = [svc.invoke("p") for _ in range(12)]
    assert svc.in_flight["p"] == 10
    throttled = [i for i in invs if i.outcome == "throttled"]
    assert len(throttled) == 2
    assert throttled[0].response is not None
    assert json.loads(throttled[0].response.payload)["Reason"] == (
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    )


def test_every_on_demand_request_beside_provisioned_counts_as_spillover() -> None:
    # A warm on-demand environment still serves spill-over: it is not provisioned.
    svc = LambdaService()
    svc.create_function(model("p", 500.0, provisioned_concurrency=1))
    svc.run(until_ms=1000)
    svc.invoke("p")
    svc.invoke("p")  # spills over, cold
    svc.run(until_ms=5000)
    svc.invoke("p")
    svc.invoke("p")  # spills over again, now warm
    svc.run(until_ms=10_000)
    spill = svc.trace.of_kind("invoke.spillover")
    assert len(spill) == 2
    second = svc.invocations[spill[1].request_id]
    assert not second.cold
    starts = svc.trace.of_kind("invoke.start")
    assert [r.data["provisioned"] for r in starts] == [True, False, True, False]


def test_provisioned_environments_are_never_reaped_3_1() -> None:
    svc = LambdaService()
    svc.create_function(model("p", 10.0, provisioned_concurrency=1))
    svc.create_function(model("o", 10.0))
    svc.run(until_ms=1000)  # the provisioned environment is ready
    svc.invoke("p")
    svc.invoke("o")
    svc.run(until_ms=CURRENT.idle_reap_ms * 3)
    reaped = svc.trace.of_kind("env.reaped")
    assert [r.function for r in reaped] == ["o"]
    assert len(svc.environments["p"]) == 1


def test_idle_environment_is_reaped_idle_reap_ms_after_its_last_use() -> None:
    svc = LambdaService()
    svc.create_function(model("f", 100.0, init_ms=50.0))
    first = svc.run_until_done(svc.invoke("f"))
    # used again 10 minutes later: the reaper must not take it 15 min after the first
    svc.run(until_ms=600_000)
    second = svc.run_until_done(svc.invoke("f"))
    assert not second.cold and second.env_id == first.env_id
    svc.run()
    [reaped] = svc.trace.of_kind("env.reaped")
    assert second.ended_ms is not None
    assert reaped.time_ms == second.ended_ms + CURRENT.idle_reap_ms
    third = svc.run_until_done(svc.invoke("f"))
    assert third.cold and third.env_id != first.env_id


def test_provisioned_concurrency_claims_its_share_of_the_account_2_1() -> None:
    # Provisioned concurrency counts toward the regional quota even while idle: other
    # unreserved functions cannot take it, and its owner can always use it.
    svc = LambdaService(Account(concurrency_limit=10, unreserved_minimum=0))
    svc.create_function(model("p", 10_000.0, provisioned_concurrency=4))
    svc.create_function(model("o", 10_000.0))
    svc.run(until_ms=1000)
    others = [svc.invoke("o") for _ in range(8)]
    assert sum(i.outcome == "throttled" for i in others) == 2  # 10 - 4 claimed
    mine = [svc.invoke("p") for _ in range(5)]
    assert [i.outcome for i in mine[:4]] == ["pending"] * 4  # on provisioned
    assert mine[4].outcome == "throttled"  # spill-over needs the full pool
    assert mine[4].throttle_reason == "ConcurrentInvocationLimitExceeded"
    assert sum(svc.in_flight.values()) == 10


def test_update_provisions_new_environments_with_the_new_code(
    service: LambdaService, make_function: MakeFunction
) -> None:
    config = make_function(
        "def handler(event, context):\n    return 'v1'\n",
        provisioned_concurrency=2,
        reserved_concurrency=3,
    )
    service.run()
    assert config.code_dir is not None
    (config.code_dir / "handler.py").write_text(
        "import os\ndef handler(event, context):\n"
        "    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n"
    )
    service.update_function("demo-fn", timeout_s=5)
    service.run()
    envs = service.environments["demo-fn"]
    assert len(envs) == 2 and all(e.provisioned and e.code_version == 1 for e in envs)
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert not inv.cold
    assert inv.response is not None
    assert inv.response.json() == "provisioned-concurrency"  # LAMBDA-FACTS 2.1


def scaling_run(clients: int, seconds: int) -> tuple[LambdaService, list[float]]:
    """``clients`` callers that each retry once a second until their call runs."""
    svc = LambdaService(
        Account(concurrency_limit=10_000),
        trace_maxlen=0,
        trace_detail="invocations",
    )
    created: list[float] = []

    def listen(record: TraceRecord) -> None:
        if record.kind == "env.created":
            created.append(record.time_ms)

    svc.trace.subscribe(listen)
    # long calls keep every environment busy, so each start needs a new one
    svc.create_function(model("f", 900_000.0, timeout_s=900))

    def tick() -> None:
        for _ in range(clients - svc.in_flight["f"]):
            svc.invoke("f")
        if svc.now_ms < seconds * 1000:
            svc.loop.schedule(1000.0, tick)

    svc.loop.schedule(0.0, tick)
    svc.run(until_ms=seconds * 1000 + 1)
    return svc, created


def test_scaling_rate_1000_environments_per_10_s_t33() -> None:
    # LAMBDA-FACTS T33: 5,000 concurrent callers, 0 warm environments: ~1,000 at t=0,
    # ~2,000 at 10 s, ~3,000 at 20 s, 5,000 at ~40 s; the rest get 429s.
    svc, created = scaling_run(5000, 45)
    at = {t: sum(1 for c in created if c <= t * 1000) for t in (0, 10, 20, 30, 40, 45)}
    assert at[0] == 1000
    assert 1990 <= at[10] <= 2001
    assert 2990 <= at[20] <= 3001
    assert 3990 <= at[30] <= 4001
    assert at[40] >= 4990 and at[45] == 5000
    # The budget refills continuously and is never banked above 1,000: after the
    # first full budget is spent, no 10 s window creates more than 1,000. (A window
    # that includes t = 0 holds that first 1,000 plus the refill, as T33's own
    # timeline implies.)
    for start in range(1, 36):
        window = [c for c in created if start * 1000 <= c < (start + 10) * 1000]
        assert len(window) <= 1001, (start, len(window))


def test_scaling_throttle_reason_sync_and_async_backoff() -> None:
    svc = LambdaService(Account(concurrency_limit=10_000))
    svc.create_function(model("f", 60_000.0, timeout_s=900))
    for _ in range(1000):
        svc.invoke("f")
    sync = svc.invoke("f")
    assert sync.response is not None and sync.response.status_code == 429
    assert sync.response.json() == {
        "Reason": SCALING_THROTTLE_REASON,
        "Type": "User",
        "message": "Rate Exceeded.",
    }
    assert SCALING_THROTTLE_REASON == "FunctionInvocationRateLimitExceeded"
    # an async event that finds no budget backs off and runs once budget refills:
    # the poller takes it at 25 ms, just after two calls spent the 2.4 new tokens
    event = svc.invoke("f", {}, "Event")
    svc.loop.schedule(24.0, lambda: [svc.invoke("f") for _ in range(2)])
    svc.run(until_ms=30_000)
    waits = [
        r for r in svc.trace.of_kind("async.wait") if r.request_id == event.request_id
    ]
    assert waits and waits[0].data["why"] == "throttle"
    starts = [
        r for r in svc.trace.of_kind("invoke.start") if r.request_id == event.request_id
    ]
    assert len(starts) == 1 and starts[0].data["attempt"] == 1


def test_warm_environments_need_no_scaling_budget_2_2() -> None:
    svc = LambdaService(Account(concurrency_limit=10_000))
    svc.create_function(model("f", 100.0, init_ms=10.0))
    for _ in range(1000):
        svc.invoke("f")
    svc.run(until_ms=1000)  # all 1,000 finished; the budget is nearly empty
    again = [svc.invoke("f") for _ in range(1000)]
    assert not any(i.outcome == "throttled" for i in again)
    assert not any(i.cold for i in again)


def test_update_checks_new_provisioned_against_the_new_reservation() -> None:
    # LAMBDA-FACTS 2.1: provisioned may not exceed reserved; the exact AWS text.
    svc = LambdaService()
    svc.create_function(FunctionConfig("f"))
    with pytest.raises(ConfigError) as raised:
        svc.update_function("f", provisioned_concurrency=3, reserved_concurrency=1)
    assert str(raised.value) == (
        "ReservedConcurrentExecutions  1 should not be lower than function's total "
        "provisioned concurrency [3]."
    )
    assert svc.functions["f"].reserved_concurrency is None  # nothing was applied
    svc.update_function("f", provisioned_concurrency=3, reserved_concurrency=5)
    # lowering both at once is fine although the old provisioned exceeds the new cap
    config = svc.update_function("f", provisioned_concurrency=1, reserved_concurrency=2)
    assert (config.reserved_concurrency, config.provisioned_concurrency) == (2, 1)
    assert svc.unreserved_capacity() == 998
