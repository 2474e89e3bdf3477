"""AWS behaviour that changed over time, in one versioned place.

Each profile names the date of the documentation it follows. The simulator uses
``CURRENT`` unless a lesson or scenario asks for ``CLASSIC`` to show how things were.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BehaviourProfile:
    """The numbers and message formats that depend on when AWS was observed."""

    name: str
    """Short name used in scenario files: ``current`` or ``classic``."""
    docs_date: str
    """Date of the AWS documentation or recordings this profile follows."""
    runtime_version: str
    """Shown in INIT_START lines (LAMBDA-FACTS 3.2)."""
    timeout_format: str
    """``sandbox`` (Sandbox.Timedout document, late 2025) or ``legacy`` (plain message)."""
    timeout_log_line: bool
    """Whether a ``Task timed out after`` line is logged (reported absent in 2026)."""
    report_status_field: bool
    """Whether REPORT lines end with ``Status: timeout`` / ``Status: error``."""
    async_payload_limit: int
    """Largest Event-invocation payload in bytes (1 MB now, 256 KB before)."""
    sync_request_limit: int = 6_291_456
    sync_response_limit: int = 6_291_556
    scaling_envs_per_window: int = 1_000
    """New execution environments per function per scaling window (Nov 2023 rule)."""
    scaling_window_ms: int = 10_000
    init_limit_ms: int = 10_000
    """Init phase limit for on-demand environments (LAMBDA-FACTS 3.1)."""
    idle_reap_ms: int = 15 * 60_000
    """How long an idle environment is kept; AWS does not publish it, minutes are typical."""
    billing_granularity_ms: int = 1


CURRENT = BehaviourProfile(
    name="current",
    docs_date="2025-11",
    runtime_version="python:3.13.v14",
    timeout_format="sandbox",
    timeout_log_line=False,
    report_status_field=True,
    async_payload_limit=1_048_576,
)

CLASSIC = BehaviourProfile(
    name="classic",
    docs_date="2024-04",
    runtime_version="python:3.12.v18",
    timeout_format="legacy",
    timeout_log_line=True,
    report_status_field=False,
    async_payload_limit=262_144,
)

PROFILES = {p.name: p for p in (CURRENT, CLASSIC)}
