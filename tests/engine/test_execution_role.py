"""The sandbox boto3 under an execution role: a call the role does not allow is refused.

The lab writes the role to ``.lambdalab-iam.json`` beside the code; the worker points
the stand-in at it and reads it at every call, as IAM evaluates every request.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdalab.engine._worker import ROLE_FILE
from lambdalab.engine.sandbox import HandlerProcess, child_environ

SESSION = "arn:aws:sts::123456789012:assumed-role/writer-role/writer"

HANDLER = """
import boto3
from botocore.exceptions import ClientError

s3 = boto3.client("s3")

def handler(event, context):
    s3.put_object(Bucket="photos", Key="thumbs/a.jpg", Body=b"tiny")
    try:
        s3.delete_object(Bucket="photos", Key="uploads/a.jpg")
    except ClientError as exc:
        return [exc.response["Error"]["Code"], str(exc)]
    return "deleted"
"""


def _allow(folder: Path, *pairs: tuple[str, str]) -> None:
    role = {"writer": {"session": SESSION, "allow": [list(p) for p in pairs]}}
    (folder / ROLE_FILE).write_text(json.dumps(role))


@pytest.fixture
def invoke(tmp_path: Path) -> Iterator[Any]:
    (tmp_path / "handler.py").write_text(textwrap.dedent(HANDLER))
    (tmp_path / "tmp").mkdir()
    process = HandlerProcess(tmp_path)

    def call(message: dict[str, Any]) -> dict[str, Any]:
        process.send(message)
        reply = process.poll(10.0)
        assert reply is not None
        return reply

    environ = child_environ(
        {"AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "writer"}
    )
    init = call(
        {
            "op": "init",
            "environ": environ,
            "tmp_dir": str(tmp_path / "tmp"),
            "code_dir": str(tmp_path),
            "file": "handler.py",
            "function": "handler",
            "start_ms": 0.0,
            "deadline_ms": 10_000.0,
        }
    )
    assert init["status"] == "ok"

    def run() -> dict[str, Any]:
        context = {
            "function_name": "writer",
            "function_version": "$LATEST",
            "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:writer",
            "memory_limit_in_mb": "128",
            "aws_request_id": "req-1",
            "log_group_name": "/aws/lambda/writer",
            "log_stream_name": "stream",
            "deadline_ms": 13_000.0,
        }
        return call(
            {"op": "invoke", "event": "{}", "start_ms": 10_000.0, "context": context}
        )

    yield run
    process.kill()


def test_a_call_the_role_does_not_allow_raises_access_denied(
    invoke: Any, tmp_path: Path
) -> None:
    _allow(tmp_path, ("s3:PutObject", "arn:aws:s3:::photos/thumbs/*"))
    reply = invoke()
    message = (
        f"User: {SESSION} is not authorized to perform: s3:DeleteObject on resource: "
        '"arn:aws:s3:::photos/uploads/a.jpg" because no identity-based policy allows '
        "the s3:DeleteObject action"
    )
    assert json.loads(reply["payload"]) == [
        "AccessDenied",
        f"An error occurred (AccessDenied) when calling the DeleteObject operation: "
        f"{message}",
    ]
    assert [e["action"] for e in reply["effects"]] == ["PutObject", "DeleteObject"]
    assert "denied" not in reply["effects"][0]
    assert reply["effects"][1]["denied"] == message


def test_the_role_is_read_at_each_call_and_absent_means_not_enforced(
    invoke: Any, tmp_path: Path
) -> None:
    _allow(tmp_path, ("s3:*", "arn:aws:s3:::photos/*"))
    assert invoke()["payload"] == '"deleted"'
    _allow(tmp_path, ("s3:PutObject", "arn:aws:s3:::photos/*"))
    assert json.loads(invoke()["payload"])[0] == "AccessDenied"
    (tmp_path / ROLE_FILE).unlink()
    assert invoke()["payload"] == '"deleted"'
