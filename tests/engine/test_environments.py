"""Execution environments: cold starts, reuse, timeouts, crashes (LAMBDA-FACTS 1.4, 3, 8)."""

from __future__ import annotations

import re

from conftest import MakeFunction, logs_of

from lambdalab.engine import logs
from lambdalab.engine.profile import CLASSIC
from lambdalab.engine.service import LambdaService

COUNTER = """
import time
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return COUNT
"""


def test_cold_then_warm_init_duration_only_first_t60(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T60: INIT_START and Init Duration only on the cold start; globals kept.
    make_function(COUNTER)
    first = service.run_until_done(service.invoke("demo-fn", {}))
    second = service.run_until_done(service.invoke("demo-fn", {}))
    assert (first.cold, second.cold) == (True, False)
    assert first.env_id == second.env_id
    assert second.response is not None and second.response.payload == "2"
    first_logs, second_logs = (
        logs_of(service, first.request_id),
        logs_of(service, second.request_id),
    )
    all_logs = logs_of(service)
    assert (
        sum(
            m.startswith("INIT_START Runtime Version: python:3.13.v14\t")
            for m in all_logs
        )
        == 1
    )
    assert "Init Duration:" in next(m for m in first_logs if m.startswith("REPORT"))
    assert "Init Duration:" not in next(
        m for m in second_logs if m.startswith("REPORT")
    )


def test_log_line_formats_are_exact_3_2(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function(COUNTER)
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    lines = logs_of(service, inv.request_id)
    rid = inv.request_id
    assert f"START RequestId: {rid} Version: $LATEST" in lines
    assert f"END RequestId: {rid}" in lines
    report = next(m for m in lines if m.startswith("REPORT"))
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t",
        report,
    )


def test_report_line_billing_rounds_up_to_1_ms_t55() -> None:
    # LAMBDA-FACTS T55 / PITFALLS R34.
    assert [logs.billed_ms(d) for d in (79.67, 15.74, 2.75, 0.99)] == [80, 16, 3, 1]
    line = logs.report("id-1", 255.59, 128, 56, 150.0)
    assert line == (
        "REPORT RequestId: id-1\tDuration: 255.59 ms\tBilled Duration: 256 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 150.00 ms\t"
    )


def test_sleep_is_virtual_and_sets_duration(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function(COUNTER)
    service.run_until_done(service.invoke("demo-fn", {}))
    inv = service.run_until_done(service.invoke("demo-fn", {"sleep": 1.5}))
    assert 1500 <= inv.duration_ms < 1505
    assert inv.billed_ms == -(-inv.duration_ms // 1)


def test_timeout_sandbox_format_t24(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T24 / PITFALLS R33: timeout 1 s, handler sleeps 2 s.
    make_function(COUNTER, timeout_s=1)
    inv = service.run_until_done(service.invoke("demo-fn", {"sleep": 2}))
    assert inv.response is not None
    assert inv.response.status_code == 200
    assert inv.response.function_error == "Unhandled"
    assert inv.response.payload == (
        '{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: '
        f'{inv.request_id} Error: Task timed out after 1.00 seconds"}}'
    )
    report = next(m for m in logs_of(service, inv.request_id) if m.startswith("REPORT"))
    assert "\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\t" in report
    assert report.endswith("\tStatus: timeout\t")
    # The current profile writes no "Task timed out" line (LAMBDA-FACTS 1.4, azul#8140).
    assert not any("Task timed out" in m for m in logs_of(service, inv.request_id))


def test_timeout_classic_profile_message_and_log_line(
    make_function: MakeFunction,
) -> None:
    # LAMBDA-FACTS 1.4, the "up to ~2024" column; PITFALLS R33's log line.
    svc = LambdaService(profile=CLASSIC, wall_guard_s=0.5)
    try:
        make_function(COUNTER, svc=svc, timeout_s=2)
        inv = svc.run_until_done(svc.invoke("demo-fn", {"sleep": 3}))
        assert inv.response is not None
        doc = inv.response.json()
        assert list(doc) == ["errorMessage"]
        assert re.fullmatch(
            rf"2025-01-01T00:00:0\d\.\d{{3}}Z {inv.request_id} Task timed out after 2.00 seconds",
            doc["errorMessage"],
        )
        assert any(
            m.endswith(f"{inv.request_id} Task timed out after 2.00 seconds")
            for m in logs_of(svc)
        )
    finally:
        svc.close()


def test_timeout_resets_globals_but_keeps_tmp_t25(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T25: global 42 reads back 0 after a timeout; the /tmp file survives.
    make_function(
        """
        import os, time
        VALUE = 0
        def handler(event, context):
            global VALUE
            if event["op"] == "set":
                VALUE = 42
                with open("/tmp/marker.txt", "w") as f:
                    f.write("still here")
            if event["op"] == "sleep":
                time.sleep(10)
            exists = os.path.exists("/tmp/marker.txt")
            return {"value": VALUE, "tmp": open("/tmp/marker.txt").read() if exists else None}
        """
    )
    set_ = service.run_until_done(service.invoke("demo-fn", {"op": "set"}))
    read = service.run_until_done(service.invoke("demo-fn", {"op": "read"}))
    slept = service.run_until_done(service.invoke("demo-fn", {"op": "sleep"}))
    after = service.run_until_done(service.invoke("demo-fn", {"op": "read"}))
    assert read.response is not None and read.response.json() == {
        "value": 42,
        "tmp": "still here",
    }
    assert slept.outcome == "timeout"
    assert after.response is not None and after.response.json() == {
        "value": 0,
        "tmp": "still here",
    }
    assert after.cold and after.env_id == set_.env_id  # same sandbox, re-initialised


def test_infinite_loop_becomes_a_timeout(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function(
        "def handler(event, context):\n    while True:\n        pass\n", timeout_s=5
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.outcome == "timeout"
    assert inv.duration_ms == 5000.0
    assert (
        inv.response is not None
        and inv.response.json()["errorType"] == "Sandbox.Timedout"
    )
    # the environment was reset and serves the next request after a fresh init
    nxt = service.run_until_done(service.invoke("demo-fn", {}))
    assert nxt.cold


def test_blocking_call_becomes_a_timeout(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function(
        "import threading\ndef handler(event, context):\n    threading.Event().wait()\n"
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.outcome == "timeout"
    assert inv.duration_ms == 3000.0  # the default timeout (LAMBDA-FACTS 1.5)


def test_sys_exit_is_runtime_exit_error_1_4(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS 1.4: Runtime.ExitError, REPORT ends with its Status and Error Type.
    # A failing status is named, as AWS does (RIC issue #94: "exit status 1").
    make_function(
        "import sys\ndef handler(event, context):\n    sys.exit(event['code'])\n"
    )
    inv = service.run_until_done(service.invoke("demo-fn", {"code": 1}))
    assert inv.response is not None
    assert inv.response.json() == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited with error: exit status 1",
    }
    report = next(m for m in logs_of(service, inv.request_id) if m.startswith("REPORT"))
    assert report.endswith("\tStatus: error\tError Type: Runtime.ExitError\t")
    clean = service.run_until_done(service.invoke("demo-fn", {"code": 0}))
    assert clean.response is not None
    assert clean.response.json()["errorMessage"] == (
        f"RequestId: {clean.request_id} Error: Runtime exited without providing a reason"
    )


def test_hard_process_exit_is_runtime_exit_error(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function("import os\ndef handler(event, context):\n    os._exit(3)\n")
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.outcome == "exit"
    assert inv.response is not None
    assert inv.response.json()["errorMessage"].endswith(
        "Error: Runtime exited with error: exit status 3"
    )


def test_module_exception_has_empty_request_id_1_3(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS 1.3: failure during init -> requestId "".
    make_function(
        'raise Exception("Runtime startup fails")\ndef handler(event, context):\n    pass\n'
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    doc = inv.response.json()
    assert (doc["errorMessage"], doc["errorType"], doc["requestId"]) == (
        "Runtime startup fails",
        "Exception",
        "",
    )
    assert any(
        m.startswith("INIT_REPORT Init Duration: ")
        and m.endswith("Phase: init\tStatus: error\tError Type: Exception")
        for m in logs_of(service)
    )


def test_runtime_fault_messages_1_3(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function("def other(event, context):\n    pass\n", name="no-handler")
    make_function("def handler(event, context)\n    pass\n", name="bad-syntax")
    make_function(
        "import not_a_module_anywhere\ndef handler(e, c):\n    pass\n",
        name="bad-import",
    )
    docs = {}
    for name in ("no-handler", "bad-syntax", "bad-import"):
        inv = service.run_until_done(service.invoke(name, {}))
        assert inv.response is not None
        docs[name] = inv.response.json()
    assert docs["no-handler"] == {
        "errorMessage": "Handler 'handler' missing on module 'handler'",
        "errorType": "Runtime.HandlerNotFound",
        "stackTrace": [],
    }
    assert docs["bad-syntax"]["errorType"] == "Runtime.UserCodeSyntaxError"
    assert docs["bad-syntax"]["errorMessage"].startswith(
        "Syntax error in module 'handler': "
    )
    assert docs["bad-import"]["errorMessage"] == (
        "Unable to import module 'handler': No module named 'not_a_module_anywhere'"
    )


def test_remaining_time_counts_down_from_timeout_r30_r31_r32(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # PITFALLS R30-R32 / LAMBDA-FACTS 8: starts at the timeout, decreases, never negative.
    make_function(
        """
        import time
        def handler(event, context):
            seen = [context.get_remaining_time_in_millis()]
            for _ in range(10):
                time.sleep(0.1)
                seen.append(context.get_remaining_time_in_millis())
            return seen
        """,
        timeout_s=10,
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    seen = inv.response.json()
    assert seen[0] == 10000
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert seen[-1] == 9000


def test_context_object_fields_8(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function(
        """
        import os
        def handler(event, context):
            return {
                "name": context.function_name, "version": context.function_version,
                "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
                "id": context.aws_request_id, "group": context.log_group_name,
                "stream": context.log_stream_name,
                "init_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
                "region": os.environ["AWS_REGION"],
            }
        """,
        memory_mb=512,
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    ctx = inv.response.json()
    assert ctx["name"] == "demo-fn" and ctx["version"] == "$LATEST"
    assert ctx["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:demo-fn"
    assert ctx["memory"] == "512"  # a string in the Python runtime
    assert ctx["id"] == inv.request_id
    assert ctx["group"] == "/aws/lambda/demo-fn"
    assert re.fullmatch(r"2025/01/01/\[\$LATEST\][0-9a-f]{32}", ctx["stream"])
    assert (ctx["init_type"], ctx["region"]) == ("on-demand", "us-east-1")


def test_handler_clock_reads_virtual_time(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function(
        "import time, datetime\n"
        "def handler(event, context):\n"
        "    return [time.time(), datetime.datetime.now(datetime.timezone.utc).isoformat()]\n"
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    epoch_s, iso = inv.response.json()
    assert (
        1735689600 <= epoch_s < 1735689601
    )  # 2025-01-01T00:00:00Z plus the init phase
    assert iso.startswith("2025-01-01T00:00:00")


def test_updating_code_retires_warm_environments(
    service: LambdaService, make_function: MakeFunction
) -> None:
    config = make_function("def handler(event, context):\n    return 'v1'\n")
    service.run_until_done(service.invoke("demo-fn", {}))
    assert config.code_dir is not None
    (config.code_dir / "handler.py").write_text(
        "def handler(event, context):\n    return 'v2'\n"
    )
    service.update_function("demo-fn", timeout_s=5)
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.cold
    assert inv.response is not None and inv.response.payload == '"v2"'
    assert service.functions["demo-fn"].timeout_s == 5


def test_real_time_spent_elsewhere_counts_toward_the_wall_guard(
    make_function: MakeFunction,
) -> None:
    # The UI polls briefly (wait 0) and credits the real time between its ticks.
    svc = LambdaService(wall_guard_s=2.0)
    try:
        make_function(
            "def handler(event, context):\n    while True:\n        pass\n", svc=svc
        )
        inv = svc.invoke("demo-fn", {})
        while not any(e.state == "busy" for e in svc.environments["demo-fn"]):
            svc.run(until_ms=svc.now_ms + 1000, wait_s=0.2)  # through the init phase
        assert (
            svc.waiting_on_code
        )  # the handler is looping; at most 0.2 s waited so far
        assert svc.run(until_ms=svc.now_ms + 100, wait_s=0.0, credit_s=0.6) is False
        assert svc.run(until_ms=svc.now_ms + 100, wait_s=0.0, credit_s=0.6) is False
        svc.run(until_ms=svc.now_ms + 5000, wait_s=0.0, credit_s=0.6)
        assert inv.outcome == "timeout"
        assert inv.duration_ms == 3000.0
    finally:
        svc.close()


def test_effects_reach_the_effect_handler_when_the_invocation_ends(
    service: LambdaService, make_function: MakeFunction
) -> None:
    seen: list[tuple[str, str, list[dict[str, object]], float]] = []
    service.effect_handler = lambda fn, rid, effects: seen.append(
        (fn, rid, effects, service.now_ms)
    )
    make_function("def handler(event, context):\n    return 1\n")
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert seen == []  # no effects recorded, no call
    assert inv.ended_ms is not None


def test_calls_made_by_module_code_reach_the_effect_handler(
    service: LambdaService, make_function: MakeFunction
) -> None:
    seen: list[tuple[str, str, list[dict[str, object]]]] = []
    service.effect_handler = lambda fn, rid, effects: seen.append((fn, rid, effects))
    make_function(
        "import boto3\n"
        "boto3.client('s3').put_object(Bucket='example-bucket', Key='boot.txt', Body=b'hi')\n"
        "def handler(event, context):\n    return 1\n"
    )
    service.run_until_done(service.invoke("demo-fn", {}))
    assert [(fn, rid) for fn, rid, _ in seen] == [("demo-fn", "")]
    assert seen[0][2][0]["action"] == "PutObject"
    assert seen[0][2][0]["key"] == "boot.txt"
