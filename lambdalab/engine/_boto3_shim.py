"""The ``boto3`` a handler imports inside the lab: S3 writes into the lab's buckets.

The worker loads this file as ``boto3`` (with a small ``botocore.exceptions``) before
any handler code runs, so ``import boto3`` always finds it, even where the real boto3 is
installed: the real client would send requests to AWS, while the buckets a lesson
talks about live in the simulation. It imports nothing from lambdalab.

Only ``boto3.client("s3")`` (or ``boto3.Session().client("s3")``) with
``put_object``, ``copy_object`` and ``delete_object`` is simulated. Each call is
checked like botocore checks parameters and recorded as an *effect*; the worker
returns the effects with the invocation's reply and the lab applies them to its
buckets when the invocation ends. Anything else raises ``NotImplementedError`` that
says what the lab supports, so a handler never silently does nothing.

When the lab gives a function an execution role (a JSON file the worker names with
``use_role_file``), each call is first matched against the role's statements: a call
no statement allows raises ``ClientError`` ``AccessDenied`` with IAM's message, at
call time as on AWS, and is recorded as an effect with ``"denied"`` set.
"""

from __future__ import annotations

import base64
import datetime as _dt
import fnmatch
import hashlib
import io
import json
import os
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

__version__ = "lambdalab"

BODY_KEEP_BYTES = 262_144
"""Bodies up to this size travel with the effect, so the lab stores the content."""

EFFECTS: list[dict[str, Any]] = []
"""Effects of the current phase (init or one invocation), in call order."""

_CLOCK: list[Callable[[], float]] = [lambda: 0.0]
"""The environment's virtual clock in epoch ms, set by ``install``."""

_OPEN = open
"""The real ``open``: the worker later maps /tmp paths for handler code."""

_ROLE_FILE: list[str] = [""]
"""The lab's execution-role file (empty: no role is enforced)."""

SUPPORTED = "boto3.client('s3') with put_object, copy_object and delete_object"

_PUT_PARAMS = (
    "Bucket",
    "Key",
    "Body",
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "CacheControl",
    "Metadata",
)
_COPY_PARAMS = (
    "Bucket",
    "Key",
    "CopySource",
    "ContentType",
    "Metadata",
    "MetadataDirective",
)
_DELETE_PARAMS = ("Bucket", "Key")


def take_effects() -> list[dict[str, Any]]:
    """Return the recorded effects and start a new list."""
    taken = list(EFFECTS)
    EFFECTS.clear()
    return taken


class ClientError(Exception):
    """botocore's error for a refused request (kept for ``except ClientError``)."""

    def __init__(self, error_response: dict[str, Any], operation_name: str) -> None:
        error = error_response.get("Error", {})
        super().__init__(
            f"An error occurred ({error.get('Code', 'Unknown')}) when calling the "
            f"{operation_name} operation: {error.get('Message', 'Unknown')}"
        )
        self.response = error_response
        self.operation_name = operation_name


def use_role_file(path: str) -> None:
    """Enforce the execution roles the lab writes to ``path`` (read at each call)."""
    _ROLE_FILE[0] = path


def _role() -> dict[str, object] | None:
    """This function's role: ``{"arn", "allow": [[action, resource], ...]}`` or None.

    Read at each call, so a statement granted or revoked in the lab applies at once.
    """
    if not _ROLE_FILE[0]:
        return None
    try:
        with _OPEN(_ROLE_FILE[0], encoding="utf-8") as file:
            roles = json.load(file)
    except (OSError, ValueError):
        return None
    role = roles.get(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))
    return role if isinstance(role, dict) else None


def _authorize(
    operation: str, needs: list[tuple[str, str]], effect: dict[str, Any]
) -> None:
    """Refuse the call unless the role allows every (action, resource) it needs."""
    role = _role()
    if role is None:
        return
    allow = [tuple(pair) for pair in role.get("allow", [])]  # type: ignore[union-attr,attr-defined]
    for action, resource in needs:
        if any(
            fnmatch.fnmatchcase(action, a) and fnmatch.fnmatchcase(resource, r)
            for a, r in allow
        ):
            continue
        message = (
            f"User: {role.get('session', '?')} is not authorized to perform: {action} "
            f'on resource: "{resource}" because no identity-based policy allows the '
            f"{action} action"
        )
        EFFECTS.append({**effect, "denied": message, "iam_action": action})
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": message}}, operation
        )


class ParamValidationError(Exception):
    """botocore's error for parameters that do not fit the operation."""

    def __init__(self, report: str) -> None:
        super().__init__(f"Parameter validation failed:\n{report}")
        self.kwargs = {"report": report}


class NoCredentialsError(Exception):
    """Present so handlers that catch it import cleanly; the lab never raises it."""


class BotoCoreError(Exception):
    """Present so handlers that catch it import cleanly; the lab never raises it."""


def _unsupported(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"lambdalab's sandbox boto3 does not simulate {what}; the lab supports "
        f"{SUPPORTED} (writes the lab applies to its buckets)."
    )


def _check(params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    problems = [
        f'Unknown parameter in input: "{name}", must be one of: {", ".join(allowed)}'
        for name in params
        if name not in allowed
    ]
    problems += [
        f'Missing required parameter in input: "{name}"'
        for name in ("Bucket", "Key")
        if name not in params
    ]
    for name in ("Bucket", "Key"):
        value = params.get(name)
        if name in params and not isinstance(value, str):
            problems.append(
                f"Invalid type for parameter {name}, value: {value!r}, type: "
                f"{type(value)}, valid types: <class 'str'>"
            )
    if not problems and not params["Key"]:
        problems.append(
            "Invalid length for parameter Key, value: 0, valid min length: 1"
        )
    if problems:
        raise ParamValidationError("\n".join(problems))


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, io.IOBase) or hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise ParamValidationError(
        f"Invalid type for parameter Body, value: {body!r}, type: {type(body)}, "
        "valid types: <class 'bytes'>, <class 'bytearray'>, file-like object"
    )


def _metadata(status: int) -> dict[str, Any]:
    return {
        "RequestId": "LAMBDALAB0000000",
        "HTTPStatusCode": status,
        "HTTPHeaders": {},
        "RetryAttempts": 0,
    }


def _copy_source(source: Any) -> tuple[str, str]:
    if isinstance(source, dict):
        bucket, key = source.get("Bucket"), source.get("Key")
        if isinstance(bucket, str) and isinstance(key, str) and bucket and key:
            return bucket, key
    elif isinstance(source, str):
        bucket, _, key = source.lstrip("/").partition("/")
        if bucket and key:
            return bucket, unquote(key)
    raise ParamValidationError(
        f"Invalid value for parameter CopySource, value: {source!r}: use "
        '{"Bucket": "name", "Key": "key"} or "name/key"'
    )


def _arn(params: dict[str, Any]) -> str:
    return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"


class _Meta:
    def __init__(self, region_name: str) -> None:
        self.region_name = region_name
        self.service_model = types.SimpleNamespace(service_name="s3")


class S3Client:
    """The slice of botocore's S3 client the lab simulates."""

    def __init__(self, region_name: str) -> None:
        self.meta = _Meta(region_name)

    def put_object(self, **params: Any) -> dict[str, Any]:
        """PutObject: stored in the lab's bucket when the invocation ends."""
        _check(params, _PUT_PARAMS)
        data = _body_bytes(params.get("Body"))
        effect: dict[str, Any] = {
            "service": "s3",
            "action": "PutObject",
            "bucket": params["Bucket"],
            "key": params["Key"],
            "size": len(data),
        }
        _authorize("PutObject", [("s3:PutObject", _arn(params))], effect)
        if len(data) <= BODY_KEEP_BYTES:
            effect["body_b64"] = base64.b64encode(data).decode("ascii")
        EFFECTS.append(effect)
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return {"ResponseMetadata": _metadata(200), "ETag": f'"{digest}"'}

    def copy_object(self, **params: Any) -> dict[str, Any]:
        """CopyObject: copied in the lab when the invocation ends."""
        if "CopySource" not in params:
            raise ParamValidationError(
                'Missing required parameter in input: "CopySource"'
            )
        _check(params, _COPY_PARAMS)
        source_bucket, source_key = _copy_source(params["CopySource"])
        effect = {
            "service": "s3",
            "action": "CopyObject",
            "bucket": params["Bucket"],
            "key": params["Key"],
            "source_bucket": source_bucket,
            "source_key": source_key,
        }
        needs = [
            ("s3:GetObject", f"arn:aws:s3:::{source_bucket}/{source_key}"),
            ("s3:PutObject", _arn(params)),
        ]
        _authorize("CopyObject", needs, effect)
        EFFECTS.append(effect)
        return {
            "ResponseMetadata": _metadata(200),
            "CopyObjectResult": {
                "LastModified": _dt.datetime.fromtimestamp(_CLOCK[0]() / 1000, _dt.UTC)
            },
        }

    def delete_object(self, **params: Any) -> dict[str, Any]:
        """DeleteObject: removed in the lab when the invocation ends."""
        _check(params, _DELETE_PARAMS)
        effect = {
            "service": "s3",
            "action": "DeleteObject",
            "bucket": params["Bucket"],
            "key": params["Key"],
        }
        _authorize("DeleteObject", [("s3:DeleteObject", _arn(params))], effect)
        EFFECTS.append(effect)
        return {"ResponseMetadata": _metadata(204)}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise _unsupported(f"s3.{name}")


def client(service_name: str, region_name: str | None = None, **_: Any) -> S3Client:
    """``boto3.client``: only ``"s3"`` exists in the lab."""
    if service_name != "s3":
        raise _unsupported(f"the {service_name!r} client")
    return S3Client(region_name or os.environ.get("AWS_REGION", "us-east-1"))


def resource(service_name: str, *_: Any, **__: Any) -> Any:
    """``boto3.resource`` is not simulated; the message says what is."""
    raise _unsupported(f"boto3.resource({service_name!r})")


class Session:
    """``boto3.Session``: hands out the same clients as ``boto3.client``."""

    def __init__(self, region_name: str | None = None, **_: Any) -> None:
        self.region_name = region_name

    def client(
        self, service_name: str, region_name: str | None = None, **kw: Any
    ) -> Any:
        return client(service_name, region_name or self.region_name, **kw)

    def resource(self, service_name: str, *args: Any, **kw: Any) -> Any:
        return resource(service_name, *args, **kw)


session = types.SimpleNamespace(Session=Session)


def install(
    modules: dict[str, types.ModuleType],
    shim: types.ModuleType,
    clock_ms: Callable[[], float],
) -> None:
    """Register ``shim`` as ``boto3`` and a matching ``botocore.exceptions``.

    ``clock_ms`` is the environment's virtual clock (epoch ms) for response times.
    """
    _CLOCK[0] = clock_ms
    botocore = types.ModuleType("botocore")
    exceptions = types.ModuleType("botocore.exceptions")
    for name in (
        "ClientError",
        "ParamValidationError",
        "NoCredentialsError",
        "BotoCoreError",
    ):
        setattr(exceptions, name, getattr(shim, name))
    botocore.exceptions = exceptions  # type: ignore[attr-defined]
    botocore.__path__ = []  # a package, so `import botocore.exceptions` works
    modules["boto3"] = shim
    modules["botocore"] = botocore
    modules["botocore.exceptions"] = exceptions
