"""The sandbox boto3: S3 writes come back as effects; anything else fails loudly."""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdalab.engine import _boto3_shim as shim
from lambdalab.engine.sandbox import HandlerProcess, child_environ


class Worker:
    """One worker process driven by hand: init once, then invoke."""

    def __init__(self, folder: Path, code: str) -> None:
        (folder / "handler.py").write_text(textwrap.dedent(code))
        (folder / "tmp").mkdir()
        self.process = HandlerProcess(folder)
        self.folder = folder
        self.init = self._call(
            {
                "op": "init",
                "environ": child_environ({"AWS_REGION": "us-east-1"}),
                "tmp_dir": str(folder / "tmp"),
                "code_dir": str(folder),
                "file": "handler.py",
                "function": "handler",
                "start_ms": 1_735_689_600_000.0,
                "deadline_ms": 1_735_689_610_000.0,
            }
        )

    def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        self.process.send(message)
        reply = self.process.poll(10.0)
        assert reply is not None
        return reply

    def invoke(self, event: object) -> dict[str, Any]:
        start = 1_735_689_700_000.0
        return self._call(
            {
                "op": "invoke",
                "event": json.dumps(event),
                "start_ms": start,
                "context": {
                    "function_name": "writer",
                    "function_version": "$LATEST",
                    "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:writer",
                    "memory_limit_in_mb": "128",
                    "aws_request_id": "req-1",
                    "log_group_name": "/aws/lambda/writer",
                    "log_stream_name": "stream",
                    "deadline_ms": start + 3000,
                },
            }
        )


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Any]:
    made: list[Worker] = []

    def make(code: str) -> Worker:
        w = Worker(tmp_path, code)
        made.append(w)
        return w

    yield make
    for w in made:
        w.process.kill()


WRITER = """
import boto3

s3 = boto3.client("s3")

def handler(event, context):
    s3.put_object(Bucket="photos", Key="thumbs/" + event["key"], Body=b"tiny")
    s3.copy_object(
        Bucket="archive", Key="a.jpg", CopySource={"Bucket": "photos", "Key": "a.jpg"}
    )
    s3.delete_object(Bucket="photos", Key="old.jpg")
    if event.get("fail"):
        raise ValueError("after writing")
    return "done"
"""


def test_writes_come_back_as_effects_in_call_order(worker: Any) -> None:
    reply = worker(WRITER).invoke({"key": "a.jpg"})
    assert reply["status"] == "ok"
    assert reply["effects"] == [
        {
            "service": "s3",
            "action": "PutObject",
            "bucket": "photos",
            "key": "thumbs/a.jpg",
            "size": 4,
            "body_b64": base64.b64encode(b"tiny").decode(),
        },
        {
            "service": "s3",
            "action": "CopyObject",
            "bucket": "archive",
            "key": "a.jpg",
            "source_bucket": "photos",
            "source_key": "a.jpg",
        },
        {
            "service": "s3",
            "action": "DeleteObject",
            "bucket": "photos",
            "key": "old.jpg",
        },
    ]


def test_writes_made_before_an_exception_still_happened(worker: Any) -> None:
    w = worker(WRITER)
    reply = w.invoke({"key": "b.jpg", "fail": True})
    assert reply["status"] == "error"
    assert [e["action"] for e in reply["effects"]] == [
        "PutObject",
        "CopyObject",
        "DeleteObject",
    ]
    # each invocation reports only its own effects
    assert len(w.invoke({"key": "c.jpg"})["effects"]) == 3


def test_no_effects_key_when_nothing_was_written(worker: Any) -> None:
    reply = worker("def handler(event, context):\n    return 1\n").invoke({})
    assert reply["status"] == "ok" and "effects" not in reply


def test_shim_wins_over_the_real_boto3_and_offers_botocore_exceptions(
    worker: Any,
) -> None:
    code = """
    import boto3
    from botocore.exceptions import ClientError

    def handler(event, context):
        return [boto3.__version__, ClientError.__module__, boto3.client("s3").meta.region_name]
    """
    reply = worker(code).invoke({})
    assert json.loads(reply["payload"]) == ["lambdalab", "boto3", "us-east-1"]


@pytest.mark.parametrize(
    ("call", "error_type", "fragment"),
    [
        (
            'boto3.client("s3").get_object(Bucket="b", Key="k")',
            "NotImplementedError",
            "does not simulate s3.get_object",
        ),
        (
            'boto3.client("dynamodb")',
            "NotImplementedError",
            "does not simulate the 'dynamodb' client",
        ),
        ('boto3.resource("s3")', "NotImplementedError", "boto3.resource('s3')"),
        (
            'boto3.client("s3").put_object(Bucket="b", Body=b"x")',
            "ParamValidationError",
            'Missing required parameter in input: "Key"',
        ),
        (
            'boto3.client("s3").put_object(Bucket="b", Key="k", ACL="public-read")',
            "ParamValidationError",
            'Unknown parameter in input: "ACL"',
        ),
    ],
)
def test_unsupported_calls_fail_loudly(
    worker: Any, call: str, error_type: str, fragment: str
) -> None:
    code = f"import boto3\n\ndef handler(event, context):\n    {call}\n"
    reply = worker(code).invoke({})
    assert reply["status"] == "error"
    assert reply["error"]["errorType"] == error_type
    assert fragment in reply["error"]["errorMessage"]
    assert "effects" not in reply


def test_init_phase_writes_are_reported_with_the_init_reply(worker: Any) -> None:
    code = """
    import boto3
    boto3.client("s3").put_object(Bucket="b", Key="boot.txt", Body="hi")

    def handler(event, context):
        return 1
    """
    w = worker(code)
    assert w.init["status"] == "ok"
    assert [(e["key"], e["size"]) for e in w.init["effects"]] == [("boot.txt", 2)]


def test_shim_in_process_parameter_messages_match_botocore() -> None:
    client = shim.client("s3")
    with pytest.raises(shim.ParamValidationError) as err:
        client.put_object(Bucket=3, Key="k")
    assert str(err.value) == (
        "Parameter validation failed:\nInvalid type for parameter Bucket, value: 3, "
        "type: <class 'int'>, valid types: <class 'str'>"
    )
    shim.take_effects()
    client.copy_object(Bucket="b", Key="k", CopySource="src/dir/a%20b.txt")
    assert shim.take_effects()[0]["source_key"] == "dir/a b.txt"


def test_copy_result_time_is_the_environments_virtual_clock(worker: Any) -> None:
    code = """
    import boto3

    def handler(event, context):
        result = boto3.client("s3").copy_object(
            Bucket="b", Key="k", CopySource={"Bucket": "b", "Key": "src"}
        )
        return result["CopyObjectResult"]["LastModified"].isoformat()
    """
    reply = worker(code).invoke({})
    # the invoke starts at 1_735_689_700_000 ms: 2025-01-01T00:01:40Z
    assert json.loads(reply["payload"]) == "2025-01-01T00:01:40+00:00"
