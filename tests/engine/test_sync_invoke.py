"""Synchronous invocation: status codes, payloads and error documents (LAMBDA-FACTS 1)."""

from __future__ import annotations

import json
import re

from conftest import MakeFunction, logs_of

from lambdalab.engine.service import LambdaService

UUID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def test_success_is_200_with_the_handlers_json(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS 1.1: RequestResponse succeeds with 200 and the payload.
    make_function("def handler(event, context):\n    return {'echo': event['x']}\n")
    inv = service.run_until_done(service.invoke("demo-fn", {"x": 7}))
    assert inv.response is not None
    assert inv.response.status_code == 200
    assert inv.response.payload == '{"echo": 7}'
    assert inv.response.function_error is None
    assert inv.response.headers["X-Amz-Executed-Version"] == "$LATEST"
    assert UUID.match(inv.request_id)


def test_raised_exception_error_document_t22(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T22 and 1.3: 200, Unhandled, keys in the runtime's order.
    make_function(
        'def handler(event, context):\n    raise Exception("Handler fails")\n'
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    assert inv.response.status_code == 200
    assert inv.response.function_error == "Unhandled"
    doc = json.loads(inv.response.payload)
    assert list(doc) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert doc["errorMessage"] == "Handler fails"
    assert doc["errorType"] == "Exception"
    assert doc["requestId"] == inv.request_id
    assert doc["stackTrace"] == [
        '  File "/var/task/handler.py", line 2, in handler\n    raise Exception("Handler fails")\n'
    ]


def test_key_error_message_is_the_quoted_key_t23(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T23 / PITFALLS R24: errorMessage "'action'", errorType KeyError.
    make_function("def handler(event, context):\n    return event['action']\n")
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    doc = inv.response.json()
    assert (doc["errorMessage"], doc["errorType"]) == ("'action'", "KeyError")
    assert inv.response.status_code == 200


def test_error_is_logged_as_the_python_runtime_does(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS 1.3: "[ERROR] Exception: Handler fails" then the traceback.
    make_function('def handler(event, context):\n    raise ValueError("bad")\n')
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    lines = logs_of(service, inv.request_id)
    error = next(line for line in lines if line.startswith("[ERROR]"))
    assert error.split("\n")[:2] == [
        "[ERROR] ValueError: bad",
        "Traceback (most recent call last):",
    ]


def test_dry_run_is_204_and_event_is_202_t26(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T26: Event -> 202 with an empty body; DryRun -> 204, function not run.
    make_function("def handler(event, context):\n    return 1\n")
    dry = service.invoke("demo-fn", {}, "DryRun")
    event = service.invoke("demo-fn", {}, "Event")
    assert dry.response is not None and dry.response.status_code == 204
    assert event.response is not None and event.response.status_code == 202
    assert event.response.payload == ""
    assert not service.trace.of_kind("invoke.start")  # neither ran yet
    service.run()
    starts = service.trace.of_kind("invoke.start")
    assert [r.request_id for r in starts] == [event.request_id]


def test_print_output_is_the_handlers_own(
    service: LambdaService, make_function: MakeFunction
) -> None:
    make_function(
        "def handler(event, context):\n    print('hello', event['n'])\n    return None\n"
    )
    inv = service.run_until_done(service.invoke("demo-fn", {"n": 3}))
    assert "hello 3" in logs_of(service, inv.request_id)
    assert inv.response is not None and inv.response.payload == "null"


def test_logging_line_format(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS 3.2: [LEVEL]\t<ISO ms Z>\t<request id>\t<message>
    make_function(
        """
        import logging
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        def handler(event, context):
            logger.info("my message")
        """
    )
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    line = next(m for m in logs_of(service, inv.request_id) if m.startswith("[INFO]"))
    level, stamp, request_id, message = line.split("\t")
    assert level == "[INFO]"
    assert re.fullmatch(r"2025-01-01T00:00:00\.\d{3}Z", stamp)
    assert (request_id, message) == (inv.request_id, "my message")


def test_marshal_error_for_unserialisable_result(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS 1.3: Runtime.MarshalError text.
    make_function("def handler(event, context):\n    return {1, 2}\n")
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    doc = inv.response.json()
    assert doc["errorType"] == "Runtime.MarshalError"
    assert (
        doc["errorMessage"]
        == "Unable to marshal response: Object of type set is not JSON serializable"
    )


def test_request_over_6_mb_is_413_t58(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T58: 6,291,457 bytes is one too many.
    make_function("def handler(event, context):\n    return 1\n")
    inv = service.invoke("demo-fn", raw_payload='"' + "x" * 6_291_455 + '"')
    assert inv.response is not None
    assert inv.response.status_code == 413
    assert inv.response.headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert inv.response.json()["message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_response_over_limit_t59(
    service: LambdaService, make_function: MakeFunction
) -> None:
    # LAMBDA-FACTS T59: a 7,000,000-byte JSON response.
    make_function("def handler(event, context):\n    return 'x' * 6999998\n")
    inv = service.run_until_done(service.invoke("demo-fn", {}))
    assert inv.response is not None
    assert inv.response.status_code == 200
    assert inv.response.function_error == "Unhandled"
    assert inv.response.json() == {
        "errorMessage": "Response payload size (7000000 bytes) exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


def test_unknown_function_is_resource_not_found(service: LambdaService) -> None:
    import pytest

    from lambdalab.engine.service import ResourceNotFound

    with pytest.raises(
        ResourceNotFound,
        match="Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope",
    ):
        service.invoke("nope", {})
