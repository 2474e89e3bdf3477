"""botocore against the Invoke API of a running lab (LAMBDA-FACTS 1.1-1.6, 2.3).

The app runs headless with its live 10 Hz tick; botocore calls from a thread, exactly as
``lambdalab lab FILE.py:handler --api-port PORT`` is driven by the AWS CLI or boto3.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import pytest_asyncio
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdalab.course.freeplay import free_play_course
from lambdalab.course.progress import ProgressStore
from lambdalab.course.session import LabSession
from lambdalab.ui.app import LambdaLabApp, make_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

HANDLER = """\
import time

def handler(event, context):
    print("got", event)
    if event.get("fail"):
        raise ValueError("bad")
    time.sleep(event.get("sleep", 0))
    return {"hello": event.get("name", "world")}
"""


def lambda_client(port: int) -> Any:
    session = botocore.session.get_session()
    return session.create_client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}, read_timeout=30),
    )


class Lab:
    """The running app, its lab session and a botocore client bound to its API."""

    def __init__(self, app: LambdaLabApp, client: Any) -> None:
        self.app = app
        self.client = client

    @property
    def session(self) -> LabSession:
        screen = self.app.lesson_screen()
        assert screen is not None
        return screen.session

    async def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, **kwargs)

    async def invoke(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("FunctionName", "shop")
        result = await self.call(self.client.invoke, **kwargs)
        result["Body"] = result["Payload"].read()
        return dict(result)

    async def error(self, **kwargs: Any) -> ClientError:
        with pytest.raises(ClientError) as caught:
            await self.invoke(**kwargs)
        return caught.value


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """One app for the module (starting one costs about a second)."""
    folder = tmp_path_factory.mktemp("api")
    handler = folder / "shop.py"
    handler.write_text(HANDLER)
    course = free_play_course(f"{handler}:handler", [], None)
    store = ProgressStore("api-tester", home=folder / "home")
    app = make_app(course, store, open_lesson="free-play", api_port=0)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            if app.invoke_api is not None:
                break
            await pilot.pause(0.02)
        assert app.invoke_api is not None and app.invoke_api.port
        yield Lab(app, lambda_client(app.invoke_api.port))
        await app.action_quit()


@pytest_asyncio.fixture(loop_scope="module")
async def lab(running: Lab) -> Lab:
    """The running lab, reset: the starting code, no history, default settings."""
    screen = running.app.lesson_screen()
    assert screen is not None
    screen.pacer.paused = False
    running.session.reset_code()
    return running


async def test_request_response_200_payload_version_and_request_id(lab: Lab) -> None:
    # LAMBDA-FACTS 1.1: 200 with the payload and X-Amz-Executed-Version
    result = await lab.invoke(Payload=json.dumps({"name": "Ada"}))
    assert result["StatusCode"] == 200
    assert json.loads(result["Body"]) == {"hello": "Ada"}
    assert result["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in result
    request_id = result["ResponseMetadata"]["RequestId"]
    assert [i.request_id for i in lab.session.history] == [request_id]


async def test_log_type_tail_is_base64_of_this_invocations_log(lab: Lab) -> None:
    # LAMBDA-FACTS 1.1: X-Amz-Log-Result, base64 of the last 4 KB, sync + Tail only
    result = await lab.invoke(Payload=b'{"name": "Ada"}', LogType="Tail")
    request_id = result["ResponseMetadata"]["RequestId"]
    tail = base64.b64decode(result["LogResult"]).decode()
    lines = tail.splitlines()
    assert lines[0].startswith("INIT_START ")
    assert f"START RequestId: {request_id} Version: $LATEST" in lines
    assert f"END RequestId: {request_id}" in lines
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}")
    assert any("got {'name': 'Ada'}" in line for line in lines)
    plain = await lab.invoke(Payload=b"{}")
    assert "LogResult" not in plain


async def test_log_tail_keeps_only_the_last_4096_bytes(lab: Lab) -> None:
    noisy = Path(lab.session.workspace / "shop.py")
    noisy.write_text(
        "def handler(event, context):\n"
        "    for n in range(400):\n"
        "        print(f'line {n:04d} ' + 'x' * 20)\n"
        "    return 1\n"
    )
    lab.session.save_code("shop.py", noisy.read_text())
    result = await lab.invoke(LogType="Tail")
    raw = base64.b64decode(result["LogResult"])
    assert len(raw) == 4096  # LAMBDA-FACTS 1.1
    assert raw.rstrip().splitlines()[-1].startswith(b"REPORT RequestId:")


async def test_function_error_is_200_with_unhandled(lab: Lab) -> None:
    # LAMBDA-FACTS 1.2 / PITFALLS R24
    result = await lab.invoke(Payload=b'{"fail": true}')
    assert result["StatusCode"] == 200
    assert result["FunctionError"] == "Unhandled"
    body = json.loads(result["Body"])
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad"
    assert body["requestId"] == result["ResponseMetadata"]["RequestId"]


async def test_event_202_and_dry_run_204(lab: Lab) -> None:
    # LAMBDA-FACTS 1.1, T26 / PITFALLS R20
    event = await lab.invoke(InvocationType="Event", Payload=b'{"sleep": 5}')
    assert event["StatusCode"] == 202
    assert event["Body"] == b""
    dry = await lab.invoke(InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    assert dry["Body"] == b""
    kinds = [i.invocation_type for i in lab.session.history]
    assert kinds == ["Event", "DryRun"]


async def test_unknown_function_is_404_resource_not_found(lab: Lab) -> None:
    # LAMBDA-FACTS 1.6
    err = await lab.error(FunctionName="nope")
    assert err.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
    )
    versioned = await lab.error(FunctionName="shop", Qualifier="7")
    assert versioned.response["ResponseMetadata"]["HTTPStatusCode"] == 404


async def test_arn_and_partial_arn_name_the_function(lab: Lab) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:shop"
    assert (await lab.invoke(FunctionName=arn))["StatusCode"] == 200
    assert (await lab.invoke(FunctionName="shop:$LATEST"))["StatusCode"] == 200
    partial = "123456789012:function:shop"
    assert (await lab.invoke(FunctionName=partial))["StatusCode"] == 200


async def test_throttle_is_429_with_its_reason(lab: Lab) -> None:
    # LAMBDA-FACTS 2.3, T29: reserved concurrency 0 throttles every call
    lab.session.configure("shop", "reserved_concurrency", 0)
    err = await lab.error(Payload=b"{}")
    assert err.response["Error"]["Code"] == "TooManyRequestsException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert err.response["Type"] == "User"
    assert err.response["Error"]["Message"] == "Rate Exceeded."


async def test_request_over_6_mb_is_413(lab: Lab) -> None:
    # LAMBDA-FACTS 1.5, T58: 6,291,457 bytes is one too many
    body = b'"' + b"x" * (6_291_457 - 2) + b'"'
    assert len(body) == 6_291_457
    err = await lab.error(Payload=body)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert err.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err.response["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


async def test_body_that_is_not_json_is_400(lab: Lab) -> None:
    # LAMBDA-FACTS 1.6: InvalidRequestContentException 400
    err = await lab.error(Payload=b"not json")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.response["Error"]["Code"] == "InvalidRequestContentException"
    assert lab.session.history == []


async def test_sync_call_is_held_until_virtual_time_delivers(lab: Lab) -> None:
    """The caller waits on the lab's clock: paused lab, held connection."""
    screen = lab.app.lesson_screen()
    assert screen is not None
    screen.pacer.paused = True
    done = threading.Event()

    def call() -> None:
        lab.client.invoke(FunctionName="shop", Payload=b'{"sleep": 1}')
        done.set()

    task = asyncio.create_task(asyncio.to_thread(call))
    await asyncio.sleep(1.0)
    assert not done.is_set()
    assert len(lab.session.history) == 1
    assert lab.session.history[0].response is None  # the lab shows it waiting
    screen.pacer.paused = False
    await asyncio.wait_for(task, timeout=20)
    assert lab.session.history[0].response is not None
    assert lab.session.history[0].response.status_code == 200
