"""Asynchronous invocation to the millisecond: the worked examples T34, T35, T38, T39
and the peer bugs PITFALLS R18-R23 (LAMBDA-FACTS 2.3 and 4).

Timelines are built from the trace and compared whole with what the documented rules
give: the poller takes an event 25 ms after it is queued, retries wait 60 s and
120 s from the end of the failed attempt, throttles back off 1 s doubling to 5 min.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import MakeFunction, logs_of

from lambdalab.engine.metrics import Metrics
from lambdalab.engine.model import DurationModel, FunctionConfig
from lambdalab.engine.service import (
    POLLER_DELAY_MS,
    RETRY_DELAYS_MS,
    THROTTLE_BACKOFF_MAX_MS,
    AsyncWait,
    Delivery,
    LambdaService,
    parse_target,
)
from lambdalab.errors import ConfigError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}:$LATEST"
BUS_ARN = "arn:aws:events:us-east-1:123456789012:event-bus/default"
UUID4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
TIMELINE_KINDS = (
    "async.received",
    "invoke.start",
    "invoke.end",
    "invoke.throttled",
    "async.wait",
    "async.dead_letter",
    "async.destination",
    "async.succeeded",
    "async.dropped",
)


def model(name: str, ms: float = 100.0, **kw: Any) -> FunctionConfig:
    return FunctionConfig(name, duration=DurationModel("fixed", ms), **kw)


def timeline(svc: LambdaService, request_id: str) -> list[tuple[float, str, Any]]:
    """(time, kind, the detail that matters) of one event, in trace order."""
    rows: list[tuple[float, str, Any]] = []
    for r in svc.trace:
        if r.request_id != request_id or r.kind not in TIMELINE_KINDS:
            continue
        detail: Any = {
            "invoke.start": lambda d: d["attempt"],
            "invoke.end": lambda d: d["outcome"],
            "async.wait": lambda d: (d["why"], d["delay_ms"]),
            "async.dead_letter": lambda d: (d["queue"], d["delivered"]),
            "async.destination": lambda d: (d["target"], d["condition"]),
            "async.dropped": lambda d: (d["condition"], d["attempts"]),
            "async.succeeded": lambda d: d["attempts"],
        }.get(r.kind, lambda d: None)(r.data)
        rows.append((r.time_ms, r.kind, detail))
    return rows


def ends(svc: LambdaService, request_id: str) -> list[float]:
    return [
        r.time_ms for r in svc.trace.of_kind("invoke.end") if r.request_id == request_id
    ]


def record_of(svc: LambdaService, queue: str) -> dict[str, Any]:
    [message] = svc.queue(queue).messages
    body: dict[str, Any] = json.loads(message.body)
    return body


def failing_error(request_id: str) -> dict[str, Any]:
    return {
        "errorMessage": "Simulated failure (error_rate)",
        "errorType": "Exception",
        "requestId": request_id,
        "stackTrace": [],
    }


# -- T34, T35: retries and the record --------------------------------------------------


def test_t34_always_failing_default_config_exact_timeline_and_record(
    service: LambdaService,
) -> None:
    # LAMBDA-FACTS T34: attempts at ~t0, ~t0+60 s, ~t0+180 s plus run times, same
    # request id; RetriesExhausted, approximateInvokeCount 3, DLQ and on-failure.
    service.create_function(
        model("f", error_rate=1.0, dead_letter_queue="dlq", on_failure="failures")
    )
    rid = service.invoke("f", {"raise_error": 1}, "Event").request_id
    service.run()
    e1 = ends(service, rid)[0]
    e2, e3 = e1 + 60_000 + 100, e1 + 60_000 + 100 + 120_000 + 100
    assert timeline(service, rid) == [
        (0.0, "async.received", None),
        (POLLER_DELAY_MS, "invoke.start", 1),
        (e1, "invoke.end", "error"),
        (e1, "async.wait", ("retry", 60_000)),
        (e1 + 60_000, "invoke.start", 2),
        (e2, "invoke.end", "error"),
        (e2, "async.wait", ("retry", 120_000)),
        (e2 + 120_000, "invoke.start", 3),
        (e3, "invoke.end", "error"),
        (e3, "async.dead_letter", ("dlq", True)),
        (e3, "async.destination", ("failures", "RetriesExhausted")),
        (e3, "async.dropped", ("RetriesExhausted", 3)),
    ]
    # the first attempt is a cold start: 100 ms plus an init of about 180 ms
    assert 100 + 0.85 * 180 + POLLER_DELAY_MS <= e1 <= 100 + 1.15 * 180 + 25
    [message] = service.queue("dlq").messages
    assert message.body == '{"raise_error": 1}'
    assert message.attributes == {
        "RequestID": {"DataType": "String", "StringValue": rid},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {
            "DataType": "String",
            "StringValue": "Simulated failure (error_rate)",
        },
    }
    assert record_of(service, "failures") == {
        "version": "1.0",
        "timestamp": service.iso(e3),
        "requestContext": {
            "requestId": rid,
            "functionArn": ARN.format("f"),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"raise_error": 1},
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": failing_error(rid),
    }
    event = service.async_events[rid]
    assert event.waits == [
        AsyncWait(e1, 60_000, "retry"),
        AsyncWait(e2, 120_000, "retry"),
    ]
    assert event.deliveries == [
        Delivery("dlq", "dead_letter_queue", True, e3),
        Delivery("failures", "on_failure", True, e3),
    ]
    assert (event.state, event.ended_ms, event.attempts) == ("RetriesExhausted", e3, 3)


def test_t35_zero_retries_one_attempt_then_retries_exhausted(
    service: LambdaService,
) -> None:
    # LAMBDA-FACTS T35 / 4.3: MaximumRetryAttempts 0 -> one attempt, count 1.
    service.create_function(
        model("f", error_rate=1.0, max_retry_attempts=0, on_failure="q")
    )
    rid = service.invoke("f", {"n": 1}, "Event").request_id
    service.run()
    [e1] = ends(service, rid)
    assert timeline(service, rid) == [
        (0.0, "async.received", None),
        (POLLER_DELAY_MS, "invoke.start", 1),
        (e1, "invoke.end", "error"),
        (e1, "async.destination", ("q", "RetriesExhausted")),
        (e1, "async.dropped", ("RetriesExhausted", 1)),
    ]
    context = record_of(service, "q")["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"]) == (
        "RetriesExhausted",
        1,
    )


def test_retry_delays_are_one_then_two_minutes() -> None:
    # LAMBDA-FACTS 4.1: about 1 min after attempt 1, about 2 min after attempt 2.
    assert RETRY_DELAYS_MS == (60_000, 120_000)


# -- T38, R21: EventBridge destinations ------------------------------------------------


def test_t38_success_on_event_bus(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T38 / 4.3: source lambda, detail-type "... - Success" (ASCII
    # hyphen), detail = the record, resources = [bus ARN, function ARN:$LATEST].
    make_function(
        "def handler(event, context):\n    return {'status': 'ok'}\n",
        on_success="event-bus/default",
    )
    rid = service.invoke("demo-fn", {"hello": "world"}, "Event").request_id
    service.run()
    bus = service.queue("event-bus/default")
    assert bus.kind == "eventbridge"
    [message] = bus.messages
    event = json.loads(message.body)
    assert UUID4.match(event["id"])
    sent = service.iso(message.sent_ms)
    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Lambda Function Invocation Result - Success",
        "source": "lambda",
        "account": "123456789012",
        "time": sent[:19] + "Z",
        "region": "us-east-1",
        "resources": [BUS_ARN, ARN.format("demo-fn")],
        "detail": {
            "version": "1.0",
            "timestamp": sent,
            "requestContext": {
                "requestId": rid,
                "functionArn": ARN.format("demo-fn"),
                "condition": "Success",
                "approximateInvokeCount": 1,
            },
            "requestPayload": {"hello": "world"},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": {"status": "ok"},
        },
    }
    # the key order of the AWS-recorded event
    assert list(event) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]
    assert message.sent_ms == service.async_events[rid].ended_ms


def test_r21_bus_event_is_built_by_lambda_not_taken_from_the_payload(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R21: a peer put the raw return value on the bus and took source and
    # detail-type from it. The bus gets Lambda's event; the return value is only
    # detail.responsePayload. Failures say "- Failure" with their condition.
    make_function(
        "def handler(event, context):\n"
        "    if event.get('fail'):\n"
        "        raise ValueError('bad order')\n"
        "    return {'source': 'my.app', 'detail-type': 'Custom', 'status': 'ok'}\n",
        on_success=BUS_ARN,
        on_failure="arn:aws:events:us-east-1:123456789012:event-bus/failures",
        max_retry_attempts=0,
    )
    ok = service.invoke("demo-fn", {"hello": "world"}, "Event").request_id
    bad = service.invoke("demo-fn", {"fail": True}, "Event").request_id
    service.run()
    [success] = [json.loads(m.body) for m in service.queue(BUS_ARN).messages]
    assert (success["source"], success["detail-type"]) == (
        "lambda",
        "Lambda Function Invocation Result - Success",
    )
    assert success["detail"]["requestContext"]["requestId"] == ok
    assert success["detail"]["responsePayload"] == {
        "source": "my.app",
        "detail-type": "Custom",
        "status": "ok",
    }
    [failure] = [
        json.loads(m.body) for m in service.queue("event-bus/failures").messages
    ]
    assert failure["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert failure["resources"] == [
        "arn:aws:events:us-east-1:123456789012:event-bus/failures",
        ARN.format("demo-fn"),
    ]
    detail = failure["detail"]
    assert detail["requestContext"] == {
        "requestId": bad,
        "functionArn": ARN.format("demo-fn"),
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 1,
    }
    assert detail["requestPayload"] == {"fail": True}
    assert detail["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert detail["responsePayload"]["errorType"] == "ValueError"
    assert detail["responsePayload"]["errorMessage"] == "bad order"


def test_function_destination_gets_the_record_as_its_event(
    service: LambdaService,
) -> None:
    # LAMBDA-FACTS 4.3: for a Lambda target the record is the payload (async).
    service.create_function(model("f", error_rate=1.0, max_retry_attempts=0))
    service.create_function(model("audit"))
    service.update_function("f", on_failure="audit")
    assert "audit" not in service.queues  # a function, not a queue
    rid = service.invoke("f", {"n": 1}, "Event").request_id
    service.run()
    [received] = [e for e in service.async_events.values() if e.function == "audit"]
    record = json.loads(received.payload)
    assert record["requestContext"]["requestId"] == rid
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert received.state == "succeeded"


def test_a_destination_created_before_its_function_is_not_a_queue() -> None:
    svc = LambdaService()
    svc.create_function(model("f", on_failure="alerts"))
    assert "alerts" in svc.queues  # unknown so far: taken for a queue
    svc.create_function(model("alerts"))
    assert "alerts" not in svc.queues


def test_targets_by_name_or_arn() -> None:
    assert parse_target("orders-dlq") == (None, "orders-dlq")
    assert parse_target("arn:aws:sqs:us-east-1:123456789012:orders-dlq") == (
        "sqs",
        "orders-dlq",
    )
    assert parse_target("event-bus/default") == ("eventbridge", "event-bus/default")
    assert parse_target(BUS_ARN) == ("eventbridge", "event-bus/default")
    assert parse_target(
        "arn:aws:lambda:us-east-1:123456789012:function:audit:$LATEST"
    ) == ("function", "audit")


# -- T39 and 2.3: throttles back off and use no attempts -------------------------------


def _backoff_polls(first_ms: float, until_ms: float) -> list[float]:
    """Poll times of a throttled event: 1 s doubling, capped at 5 min (2.3)."""
    polls, delay = [first_ms], 1000.0
    while polls[-1] <= until_ms:
        polls.append(polls[-1] + delay)
        delay = min(delay * 2, THROTTLE_BACKOFF_MAX_MS)
    return polls


def test_t39_event_throttled_for_three_hours_runs_once_capacity_frees() -> None:
    # LAMBDA-FACTS T39: reserved concurrency 1 held by back-to-back 10-minute
    # requests for 3 h; the event waits 1 s, 2 s, 4 s ... 5 min, 5 min ... within the
    # default 6 h age and runs on the first poll after capacity frees, attempt 1.
    svc = LambdaService(wall_guard_s=0.5)
    svc.create_function(
        model("f", 600_000, timeout_s=900, reserved_concurrency=1, on_success="ok")
    )
    three_hours = 3 * 3600 * 1000

    def block(_inv: object = None) -> None:
        if svc.now_ms < three_hours:
            svc.invoke("f", {"blocker": True}, on_done=block)

    block()
    rid = svc.invoke("f", {"n": 1}, "Event").request_id
    svc.run()
    blockers = [r for r in svc.trace.of_kind("invoke.end") if r.request_id != rid]
    freed = blockers[-1].time_ms
    assert len(blockers) == 18 and three_hours < freed < three_hours + 300
    polls = _backoff_polls(POLLER_DELAY_MS, freed)
    starts = [r for r in svc.trace.of_kind("invoke.start") if r.request_id == rid]
    assert [(r.time_ms, r.data["attempt"]) for r in starts] == [(polls[-1], 1)]
    assert starts[0].data["age_ms"] == polls[-1]  # AsyncEventAge: 3 h and more
    event = svc.async_events[rid]
    assert [(w.start_ms, w.delay_ms, w.why) for w in event.waits] == [
        (start, end - start, "throttle")
        for start, end in zip(polls, polls[1:], strict=False)
    ]
    assert [w.delay_ms for w in event.waits[:10]] == [
        1000.0 * 2**n for n in range(9)
    ] + [300_000.0]
    throttled = [
        r for r in svc.trace.of_kind("invoke.throttled") if r.request_id == rid
    ]
    assert len(throttled) == len(polls) - 1 == event.throttles
    assert {r.data["reason"] for r in throttled} == {
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    }
    assert (event.state, event.attempts) == ("succeeded", 1)
    context = record_of(svc, "ok")["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"]) == ("Success", 1)
    svc.close()


def test_throttles_do_not_use_up_retry_attempts() -> None:
    # LAMBDA-FACTS 2.3: a throttled event that then fails still gets all 3 attempts.
    svc = LambdaService()
    svc.create_function(
        model("f", 5_000, error_rate=1.0, reserved_concurrency=1, on_failure="q")
    )
    svc.invoke("f", {"blocker": True})
    rid = svc.invoke("f", {"n": 1}, "Event").request_id
    svc.run()
    event = svc.async_events[rid]
    assert event.throttles >= 3
    assert [w.why for w in event.waits].count("retry") == 2
    context = record_of(svc, "q")["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"]) == (
        "RetriesExhausted",
        3,
    )


# -- 4.1: event age lookahead; 2.3: reserved concurrency 0 -----------------------------


def test_event_age_60_fails_after_one_attempt_without_waiting(
    service: LambdaService,
) -> None:
    # LAMBDA-FACTS 4.1 (recorded on AWS): age 60 s, retries 2, always failing ->
    # one attempt, EventAgeExceeded, count 1, sent without waiting the 60 s.
    service.create_function(
        model("f", error_rate=1.0, max_event_age_s=60, on_failure="q")
    )
    rid = service.invoke("f", {}, "Event").request_id
    service.run()
    [e1] = ends(service, rid)
    assert timeline(service, rid)[-3:] == [
        (e1, "invoke.end", "error"),
        (e1, "async.destination", ("q", "EventAgeExceeded")),
        (e1, "async.dropped", ("EventAgeExceeded", 1)),
    ]
    context = record_of(service, "q")["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"]) == (
        "EventAgeExceeded",
        1,
    )


def test_event_age_90_gives_two_attempts_then_event_age_exceeded(
    service: LambdaService,
) -> None:
    # LAMBDA-FACTS 4.1: age 90 s -> attempts at t0 and ~t0+60 s, then the 2-minute
    # retry could not start in time: EventAgeExceeded at once, count 2.
    service.create_function(
        model("f", error_rate=1.0, max_event_age_s=90, on_failure="q")
    )
    rid = service.invoke("f", {}, "Event").request_id
    service.run()
    e1, e2 = ends(service, rid)
    assert e2 == e1 + 60_000 + 100
    assert timeline(service, rid)[3:] == [
        (e1, "async.wait", ("retry", 60_000)),
        (e1 + 60_000, "invoke.start", 2),
        (e2, "invoke.end", "error"),
        (e2, "async.destination", ("q", "EventAgeExceeded")),
        (e2, "async.dropped", ("EventAgeExceeded", 2)),
    ]


def test_reserved_zero_goes_to_failure_handling_with_no_attempt(
    service: LambdaService,
) -> None:
    # LAMBDA-FACTS 1.1, 2.3: still 202; then ZeroReservedConcurrency, count 0, no
    # responseContext or responsePayload, without any retry.
    service.create_function(
        model("f", reserved_concurrency=0, on_failure="q", dead_letter_queue="dlq")
    )
    inv = service.invoke("f", {"a": 1}, "Event")
    assert inv.response is not None and inv.response.status_code == 202
    service.run()
    assert timeline(service, inv.request_id) == [
        (0.0, "async.received", None),
        (POLLER_DELAY_MS, "async.dead_letter", ("dlq", True)),
        (POLLER_DELAY_MS, "async.destination", ("q", "ZeroReservedConcurrency")),
        (POLLER_DELAY_MS, "async.dropped", ("ZeroReservedConcurrency", 0)),
    ]
    assert record_of(service, "q") == {
        "version": "1.0",
        "timestamp": service.iso(POLLER_DELAY_MS),
        "requestContext": {
            "requestId": inv.request_id,
            "functionArn": ARN.format("f"),
            "condition": "ZeroReservedConcurrency",
            "approximateInvokeCount": 0,
        },
        "requestPayload": {"a": 1},
    }


# -- PITFALLS R18-R23 -----------------------------------------------------------------


def test_r18_dead_letter_queue_receives_after_three_attempts(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R18: a peer never filled the DLQ and ran failing events once.
    make_function(
        'def handler(event, context):\n    raise Exception("Test exception")\n',
        dead_letter_queue="arn:aws:sqs:us-east-1:123456789012:demo-dlq",
    )
    rid = service.invoke("demo-fn", {"n": 1}, "Event").request_id
    service.run()
    starts = [r for r in service.trace.of_kind("invoke.start") if r.request_id == rid]
    e1, e2, _ = ends(service, rid)
    assert [(r.data["attempt"], r.time_ms) for r in starts] == [
        (1, POLLER_DELAY_MS),
        (2, e1 + 60_000),
        (3, e2 + 120_000),
    ]
    [message] = service.queue("demo-dlq").messages
    assert message.body == '{"n": 1}'
    assert message.attributes == {
        "RequestID": {"DataType": "String", "StringValue": rid},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "Test exception"},
    }


def test_r19_destination_only_still_retries_twice(service: LambdaService) -> None:
    # PITFALLS R19: with only a DestinationConfig, unset retries mean 2 and unset
    # age means 21,600 s: 3 attempts, then exactly one OnFailure record.
    config = service.create_function(model("f", error_rate=1.0, on_failure="q"))
    assert (config.max_retry_attempts, config.max_event_age_s) == (2, 21_600)
    rid = service.invoke("f", {}, "Event").request_id
    service.run()
    assert [
        r.data["attempt"]
        for r in service.trace.of_kind("invoke.start")
        if r.request_id == rid
    ] == [1, 2, 3]
    assert record_of(service, "q")["requestContext"]["approximateInvokeCount"] == 3


def test_r20_status_codes_and_who_waits(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R20: RequestResponse 200 with the payload only; Event 202 at once with
    # an empty payload; DryRun 204 without running.
    make_function(
        "import time\ndef handler(event, context):\n"
        "    print('working')\n    time.sleep(5)\n    return 'ok'\n",
        timeout_s=10,
    )
    sync = service.invoke("demo-fn", {})
    event = service.invoke("demo-fn", {}, "Event")
    dry = service.invoke("demo-fn", {}, "DryRun")
    assert sync.response is None  # the caller waits for the handler
    assert event.response is not None and dry.response is not None
    assert (event.response.status_code, event.response.payload) == (202, "")
    assert (dry.response.status_code, dry.response.payload) == (204, "")
    assert service.now_ms == 0.0
    service.run()
    assert sync.response is not None
    assert (sync.response.status_code, sync.response.payload) == (200, '"ok"')
    assert sync.ended_ms is not None and sync.ended_ms > 5000
    started = {r.request_id for r in service.trace.of_kind("invoke.start")}
    assert started == {sync.request_id, event.request_id}


def test_r22_lambda_never_retries_sync_and_refuses_five_retries(
    service: LambdaService,
) -> None:
    # PITFALLS R22: async retries come from the event-invoke config only (0-2);
    # a failing synchronous call runs once and the caller sees the error.
    with pytest.raises(ConfigError) as err:
        model("f", max_retry_attempts=5)
    assert str(err.value) == "MaximumRetryAttempts 5 for f is out of range 0-2."
    with pytest.raises(ConfigError, match="MaximumRetryAttempts -1"):
        service.create_function(model("g", max_retry_attempts=-1))
    service.create_function(model("f", error_rate=1.0))
    with pytest.raises(ConfigError, match="out of range 0-2"):
        service.update_function("f", max_retry_attempts=3)
    sync = service.invoke("f", {})
    service.run()
    assert sync.response is not None and sync.response.function_error == "Unhandled"
    assert len(service.trace.of_kind("invoke.start")) == 1
    service.update_function("f", max_retry_attempts=0)
    rid = service.invoke("f", {}, "Event").request_id
    service.run()
    assert [r.request_id for r in service.trace.of_kind("invoke.start")][1:] == [rid]


def test_r23_default_retries_repeat_side_effects(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R23: a handler that writes, then fails, writes three times.
    make_function(
        "def handler(event, context):\n"
        "    with open('/tmp/export.txt', 'a') as f:\n"
        "        f.write(context.aws_request_id + '\\n')\n"
        "    print('export written')\n"
        "    raise RuntimeError('failed after writing')\n"
    )
    rid = service.invoke("demo-fn", {}, "Event").request_id
    service.run(until_ms=200_000)  # all attempts, before idle environments go
    assert logs_of(service, rid).count("export written") == 3
    written = [
        line
        for env in service.environments["demo-fn"]
        if env.tmp_dir is not None and (env.tmp_dir / "export.txt").exists()
        for line in (env.tmp_dir / "export.txt").read_text().splitlines()
    ]
    assert written == [rid] * 3


def test_r23_duplicate_delivery_is_off_by_default_and_runs_twice_when_on(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R23 / LAMBDA-FACTS 4.1: delivery is at least once. Off by default,
    # the knob makes the queue deliver a successful event a second time, same
    # request id; the event still ends once, with one record, count 1.
    make_function(
        "def handler(event, context):\n    print('charged card')\n    return 'ok'\n",
        on_success="done",
    )
    assert service.duplicate_rate == 0.0
    once = service.invoke("demo-fn", {"order": 1}, "Event").request_id
    service.run()
    assert logs_of(service, once).count("charged card") == 1
    service.set_duplicate_delivery(1.0)
    twice = service.invoke("demo-fn", {"order": 2}, "Event").request_id
    service.run()
    assert logs_of(service, twice).count("charged card") == 2
    starts = [r for r in service.trace.of_kind("invoke.start") if r.request_id == twice]
    assert [r.data.get("duplicate", False) for r in starts] == [False, True]
    assert [r.data["attempt"] for r in starts] == [1, 1]
    event = service.async_events[twice]
    assert len(event.duplicates) == 1 and event.duplicates[0].outcome == "success"
    assert (event.state, event.attempts) == ("succeeded", 1)
    assert [r.request_id for r in service.trace.of_kind("async.succeeded")] == [
        once,
        twice,
    ]
    records = [json.loads(m.body) for m in service.queue("done").messages]
    assert [r["requestContext"]["approximateInvokeCount"] for r in records] == [1, 1]
    metrics_svc = LambdaService()
    metrics = Metrics.attach(metrics_svc)
    metrics_svc.create_function(model("m"))
    metrics_svc.set_duplicate_delivery(1.0)
    metrics_svc.invoke("m", {}, "Event")
    metrics_svc.run()
    assert metrics.total("m").invocations == 2  # both deliveries run and are billed
    with pytest.raises(ConfigError, match="between 0 \\(off\\) and 1"):
        service.set_duplicate_delivery(1.5)


# -- redrive ---------------------------------------------------------------------------


def test_redrive_a_dlq_message_after_fixing_the_handler(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # The DLQ body is the original event (4.2): redriving invokes the function with
    # it again, asynchronously, as a new request.
    make_function(
        "def handler(event, context):\n    return event['quantity'] * 2\n",
        dead_letter_queue="dlq",
        max_retry_attempts=0,
    )
    first = service.invoke("demo-fn", {"qty": 2}, "Event").request_id
    service.run()
    [message] = service.queue("dlq").messages
    assert message.source_function == "demo-fn"
    assert message.attributes["ErrorMessage"]["StringValue"] == "'quantity'"
    folder = service.functions["demo-fn"].code_dir
    assert folder is not None
    (folder / "handler.py").write_text(
        "def handler(event, context):\n"
        "    return event.get('quantity', event.get('qty')) * 2\n"
    )
    service.update_function("demo-fn")
    [again] = service.redrive("dlq")
    assert again.response is not None and again.response.status_code == 202
    assert again.request_id != first and again.payload == '{"qty": 2}'
    service.run()
    event = service.async_events[again.request_id]
    assert (event.state, event.redriven_from) == ("succeeded", "dlq")
    assert service.queue("dlq").messages == [] and service.queue("dlq").redriven == 1
    [moved] = service.trace.of_kind("queue.redriven")
    assert moved.data == {"queue": "dlq", "message_id": message.message_id}


def test_redrive_from_a_destination_uses_the_request_payload_a_bus_keeps_nothing(
    service: LambdaService,
) -> None:
    service.create_function(
        model("f", error_rate=1.0, max_retry_attempts=0, on_failure="failed")
    )
    service.create_function(
        model("g", error_rate=1.0, max_retry_attempts=0, on_failure="event-bus/ops")
    )
    service.invoke("f", {"n": 1}, "Event")
    service.invoke("g", {"n": 2}, "Event")
    service.run()
    [from_queue] = service.redrive("failed")
    assert (from_queue.function, from_queue.payload) == ("f", '{"n": 1}')
    # EventBridge stores no events: a bus destination has nothing to redrive.
    with pytest.raises(ConfigError, match="is an EventBridge bus: it stores no events"):
        service.redrive(
            "arn:aws:events:us-east-1:123456789012:event-bus/ops", function="f"
        )


def test_redrive_refuses_what_it_cannot_do(service: LambdaService) -> None:
    service.create_function(model("f", error_rate=1.0, dead_letter_queue="dlq"))
    with pytest.raises(ConfigError, match="There is no queue nope in the lab"):
        service.redrive("nope")
    with pytest.raises(ConfigError, match="Queue dlq has no message m-1"):
        service.redrive("dlq", ["m-1"])
    service.queue("dlq").messages.clear()
    assert service.redrive("dlq") == []
