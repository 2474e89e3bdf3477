"""Log lines in the exact text formats Lambda writes to CloudWatch (LAMBDA-FACTS 3.2)."""

from __future__ import annotations

import math
from typing import Any

from lambdalab.engine.profile import BehaviourProfile

_RUNTIME_ARN_HASH = "0b8d3e1f1c5a2b7e9d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b"


def billed_ms(duration_ms: float) -> int:
    """Billed duration: rounded up to the next whole millisecond (LAMBDA-FACTS 3.3, T55)."""
    return max(1, math.ceil(round(duration_ms, 2)))


def init_start(profile: BehaviourProfile, region: str) -> str:
    """The line an environment writes when its init phase begins."""
    return (
        f"INIT_START Runtime Version: {profile.runtime_version}\t"
        f"Runtime Version ARN: arn:aws:lambda:{region}::runtime:{_RUNTIME_ARN_HASH}"
    )


def init_report(init_ms: float, error_type: str) -> str:
    """The line for an init phase that failed."""
    status = "timeout" if error_type == "Sandbox.Timedout" else "error"
    line = f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: {status}"
    if status == "error":
        line += f"\tError Type: {error_type}"
    return line


def start(request_id: str) -> str:
    """START uses spaces, not tabs."""
    return f"START RequestId: {request_id} Version: $LATEST"


def end(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_used_mb: int,
    init_ms: float | None,
    *,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """The REPORT line: tab-separated fields and a trailing tab.

    ``Init Duration`` comes after ``Max Memory Used`` and only on a cold start.
    """
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_ms(duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_used_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:
        fields.append(f"Status: {status}")
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t"


def error_lines(error: dict[str, Any]) -> str:
    """How the Python runtime logs an unhandled error: type, message, then the stack."""
    lines = [
        f"[ERROR] {error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
    ]
    stack = error.get("stackTrace") or []
    if stack:
        lines.append("Traceback (most recent call last):")
        for frame in stack:
            lines.extend(part for part in str(frame).rstrip("\n").split("\n"))
    return "\n".join(lines)
