"""Concurrency, throttling and the async queue (LAMBDA-FACTS 2 and 4)."""

from __future__ import annotations

import json

import pytest
from conftest import MakeFunction

from lambdalab.engine.model import Account, DurationModel, FunctionConfig
from lambdalab.engine.service import LambdaService
from lambdalab.errors import ConfigError

SLOW = "import time\ndef handler(event, context):\n    time.sleep(2)\n    return event.get('id')\n"


def model(name: str, ms: float = 1000.0, **kw: object) -> FunctionConfig:
    return FunctionConfig(name, duration=DurationModel("fixed", ms), **kw)  # type: ignore[arg-type]


def test_parallel_requests_get_their_own_environments_r25(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R25: three concurrent 2 s requests all finish at ~2 s in three environments.
    make_function(SLOW)
    invs = [service.invoke("demo-fn", {"id": i}) for i in range(3)]
    service.run()
    assert {i.outcome for i in invs} == {"success"}
    assert len({i.env_id for i in invs}) == 3
    assert all(i.ended_ms is not None and i.ended_ms < 2400 for i in invs)


def test_globals_do_not_leak_between_concurrent_requests_r29(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R29: each concurrent request sees its own module global.
    make_function(
        "import time\nCURRENT = None\ndef handler(event, context):\n"
        "    global CURRENT\n    CURRENT = event['id']\n    time.sleep(1)\n    return CURRENT\n"
    )
    a, b = service.invoke("demo-fn", {"id": 1}), service.invoke("demo-fn", {"id": 2})
    service.run()
    assert a.response is not None and b.response is not None
    assert (a.response.payload, b.response.payload) == ("1", "2")


def test_reserved_one_throttles_the_second_call_t28(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T28 / PITFALLS R26.
    make_function(SLOW, reserved_concurrency=1)
    first = service.invoke("demo-fn", {})
    service.run(until_ms=500)
    second = service.invoke("demo-fn", {})
    assert second.response is not None
    assert second.response.status_code == 429
    assert second.response.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert json.loads(second.response.payload) == {
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
        "message": "Rate Exceeded.",
    }
    service.run()
    assert first.outcome == "success"
    assert [r.request_id for r in service.trace.of_kind("invoke.throttled")] == [
        second.request_id
    ]
    assert [r.request_id for r in service.trace.of_kind("invoke.start")] == [
        first.request_id
    ]


def test_reserved_zero_throttles_everything_t29(service: LambdaService) -> None:
    service.create_function(model("zero", reserved_concurrency=0))
    inv = service.invoke("zero", {})
    assert inv.response is not None and inv.response.status_code == 429
    assert (
        inv.response.json()["Reason"]
        == "ReservedFunctionConcurrentInvocationLimitExceeded"
    )


def test_account_pool_exhausted_t27() -> None:
    # LAMBDA-FACTS T27: 1,000 in flight, one more -> ConcurrentInvocationLimitExceeded.
    svc = LambdaService()
    svc.create_function(model("busy", 10_000))
    invs = [svc.invoke("busy", {}) for _ in range(1000)]
    extra = svc.invoke("busy", {})
    assert all(not i.done for i in invs)
    assert extra.response is not None and extra.response.status_code == 429
    assert extra.response.json()["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert svc.in_flight["busy"] == 1000


def test_reservation_must_leave_unreserved_minimum_t31_r27() -> None:
    # LAMBDA-FACTS T31: others reserve 850; reserving 100 more would leave 50 < 100.
    svc = LambdaService()
    svc.create_function(model("a", reserved_concurrency=850))
    svc.create_function(model("b"))
    with pytest.raises(ConfigError) as err:
        svc.put_function_concurrency("b", 100)
    assert str(err.value) == (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )
    svc.put_function_concurrency("b", 50)
    assert svc.unreserved_capacity() == 100


def test_event_retries_at_one_and_two_minutes_same_request_id_t34(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T34: attempts at ~t0, ~t0+60 s, ~t0+180 s; then RetriesExhausted, count 3.
    make_function(
        'def handler(event, context):\n    raise Exception("poison")\n',
        dead_letter_queue="dlq",
        on_failure="failures",
    )
    inv = service.invoke("demo-fn", {"raise_error": 1}, "Event")
    service.run()
    starts = service.trace.of_kind("invoke.start")
    assert [r.request_id for r in starts] == [inv.request_id] * 3
    t0 = starts[0].time_ms
    gaps = [starts[1].time_ms - t0, starts[2].time_ms - t0]
    assert 60_000 < gaps[0] < 61_000 and 180_000 < gaps[1] < 181_000
    [message] = service.queue("dlq").messages
    assert message.body == '{"raise_error": 1}'
    assert message.attributes == {
        "RequestID": {"DataType": "String", "StringValue": inv.request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "poison"},
    }
    [record_msg] = service.queue("failures").messages
    record = json.loads(record_msg.body)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["requestPayload"] == {"raise_error": 1}


def test_zero_retries_one_attempt_t35(service: LambdaService) -> None:
    service.create_function(
        model("f", 10, error_rate=1.0, max_retry_attempts=0, on_failure="q")
    )
    service.invoke("f", {}, "Event")
    service.run()
    assert len(service.trace.of_kind("invoke.start")) == 1
    record = json.loads(service.queue("q").messages[0].body)
    assert (
        record["requestContext"]["condition"],
        record["requestContext"]["approximateInvokeCount"],
    ) == ("RetriesExhausted", 1)


def test_throttled_event_waits_and_keeps_its_attempts_t39(
    service: LambdaService,
) -> None:
    # LAMBDA-FACTS T39 / 2.3: throttles back off 1 s doubling to 5 min and use no attempts.
    service.create_function(model("f", 100, reserved_concurrency=1))
    service.create_function(model("blocker", 100))
    service.invoke("f", {}, "Event")
    service.invoke("f", {}, "Event")
    service.run()
    waits = [
        r for r in service.trace.of_kind("async.wait") if r.data["why"] == "throttle"
    ]
    assert waits and waits[0].data["delay_ms"] == 1000.0
    assert len(service.trace.of_kind("async.succeeded")) == 2
    assert all(
        r.data["attempts"] == 1 for r in service.trace.of_kind("async.succeeded")
    )


def test_reserved_zero_event_goes_to_failure_handling(service: LambdaService) -> None:
    # LAMBDA-FACTS 2.3: accepted (202), then ZeroReservedConcurrency, count 0, no response.
    service.create_function(model("f", reserved_concurrency=0, on_failure="q"))
    inv = service.invoke("f", {"a": 1}, "Event")
    assert inv.response is not None and inv.response.status_code == 202
    service.run()
    record = json.loads(service.queue("q").messages[0].body)
    assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record and "responsePayload" not in record


def test_event_age_lookahead_gives_up_early(service: LambdaService) -> None:
    # LAMBDA-FACTS 4.1: age 60 s, always failing -> one attempt, EventAgeExceeded, count 1.
    service.create_function(
        model("f", 10, error_rate=1.0, max_event_age_s=60, on_failure="q")
    )
    service.invoke("f", {}, "Event")
    service.run()
    record = json.loads(service.queue("q").messages[0].body)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert service.queue("q").messages[0].sent_ms < 1000  # sent without waiting 60 s


def test_event_age_90_gives_two_attempts(service: LambdaService) -> None:
    service.create_function(
        model("f", 10, error_rate=1.0, max_event_age_s=90, on_failure="q")
    )
    service.invoke("f", {}, "Event")
    service.run()
    record = json.loads(service.queue("q").messages[0].body)
    assert (
        record["requestContext"]["condition"],
        record["requestContext"]["approximateInvokeCount"],
    ) == ("EventAgeExceeded", 2)


def test_invalid_event_invoke_config_is_refused_t40() -> None:
    with pytest.raises(
        ConfigError, match="MaximumRetryAttempts 3 for f is out of range 0-2"
    ):
        model("f", max_retry_attempts=3)
    with pytest.raises(
        ConfigError, match="MaximumEventAgeInSeconds 59 for f is out of range 60-21600"
    ):
        model("f", max_event_age_s=59)
    with pytest.raises(ConfigError, match="MaximumEventAgeInSeconds 21601"):
        model("f", max_event_age_s=21601)


def test_environment_variables_over_4kb_t57() -> None:
    with pytest.raises(ConfigError) as err:
        model("f", environment={"LARGE_VAR": "x" * 4100})
    assert str(err.value).startswith(
        "Lambda was unable to configure your environment variables because the environment "
        'variables you have provided exceeded the 4KB limit. String measured: {"LARGE_VAR":"xxx'
    )


def test_same_seed_same_trace() -> None:
    def run(seed: int) -> list[dict[str, object]]:
        svc = LambdaService(
            Account(concurrency_limit=20, unreserved_minimum=0), seed=seed
        )
        svc.create_function(
            FunctionConfig(
                "f", duration=DurationModel("exponential", 300), error_rate=0.2
            )
        )
        for i in range(200):
            svc.loop.schedule(i * 37.0, lambda: svc.invoke("f", {}, "Event"))
            svc.loop.schedule(i * 41.0, lambda: svc.invoke("f", {}))
        svc.run()
        return [r.to_json() for r in svc.trace]

    assert run(7) == run(7)
    assert run(7) != run(8)
