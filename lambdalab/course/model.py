"""The lesson model: what a lesson folder declares, after validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECK_TYPES = (
    "invocations",
    "response",
    "log",
    "queue",
    "config",
    "prediction",
    "schedule",
    "http",
    "bucket",
    "effects",
    "async",
    "metric",
    "cost",
    "role",
    "policy",
    "environment",
)
OUTCOMES = ("success", "error", "timeout", "exit", "throttled", "accepted")


@dataclass(frozen=True)
class Prediction:
    """A predict-then-run question: the learner commits before the lab shows the answer."""

    question: str
    choices: tuple[str, ...] = ()
    """Multiple choice; empty for a numeric answer."""
    answer: float | int = 0
    """The index of the right choice, or the right number."""
    tolerance: float = 0.0
    explain: str = ""

    def is_right(self, value: float | int) -> bool:
        """Whether ``value`` is the right answer (within the tolerance for numbers)."""
        if self.choices:
            return int(value) == int(self.answer)
        return abs(float(value) - float(self.answer)) <= self.tolerance


@dataclass(frozen=True)
class Check:
    """A goal about the lab's trace or state, explained in Lambda's terms when unmet."""

    type: str
    goal: str
    """What the learner must make happen, shown before and after a failure."""
    params: dict[str, Any] = field(default_factory=dict)
    explain: str = ""
    """Optional author text added to the automatic explanation of a failure."""


@dataclass(frozen=True)
class Step:
    """One stage of a lesson: text, an optional prediction, a task with checks, hints."""

    id: str
    title: str
    text: str
    """Markdown."""
    checks: tuple[Check, ...] = ()
    hints: tuple[str, ...] = ()
    predict: Prediction | None = None


@dataclass(frozen=True)
class LabFunction:
    """A function the lesson's lab starts with."""

    name: str
    handler: str | None = None
    """``file.py:function`` relative to the lesson folder (copied to the workspace)."""
    editable: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    """FunctionConfig fields: memory_mb, timeout_s, reserved_concurrency, ..."""


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge rule that invokes a function asynchronously on a schedule.

    With a ``timezone`` it stands for an EventBridge Scheduler schedule, evaluated in
    that IANA zone; without one it is a classic rule, always in UTC (LAMBDA-FACTS 5).
    """

    name: str
    expression: str
    function: str
    enabled: bool = True
    timezone: str | None = None


@dataclass(frozen=True)
class HttpRequestSpec:
    """A request the learner can send through the front door, duplicates kept."""

    name: str
    method: str = "GET"
    path: str = "/"
    query: str = ""
    """The raw query string as the client sends it, without the ``?``."""
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


@dataclass(frozen=True)
class HttpSpec:
    """The lab's HTTP front door: REST API (``rest``), HTTP API (``http``) or ALB."""

    api: str
    function: str
    multi_value: bool = False
    """ALB's ``lambda.multi_value_headers.enabled`` (ignored by the two APIs)."""
    requests: tuple[HttpRequestSpec, ...] = ()


@dataclass(frozen=True)
class NotificationSpec:
    """One S3 event notification of a bucket to a function (LAMBDA-FACTS 7)."""

    id: str
    function: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket in the lab, with its notification configurations."""

    name: str
    loop_guard: bool = False
    notifications: tuple[NotificationSpec, ...] = ()


@dataclass(frozen=True)
class UploadSpec:
    """A named S3 operation the learner can perform: put, copy or delete one key."""

    name: str
    bucket: str
    key: str
    operation: str = "put"
    body: str | None = None
    size: int | None = None
    """Object size in bytes when there is no ``body``."""
    source: str | None = None
    """For ``copy``: the key to copy from, in the same bucket."""


@dataclass(frozen=True)
class RoleStatementSpec:
    """A candidate statement of a function's execution role (identity-based policy)."""

    function: str
    action: str
    """``service:Action``, ``*`` allowed (``s3:*``)."""
    resource: str
    """An ARN pattern, ``*`` allowed (``arn:aws:s3:::photos/thumbs/*``)."""
    granted: bool = False


@dataclass(frozen=True)
class InvokePermissionSpec:
    """A candidate statement of a function's resource-based policy (who may invoke)."""

    function: str
    principal: str
    """A service principal such as ``s3.amazonaws.com``."""
    source_arn: str = ""
    """The ``aws:SourceArn`` condition; empty allows any source of that service."""
    granted: bool = False


@dataclass(frozen=True)
class EnvironmentSpec:
    """A named set of environment variables the learner can apply to a function."""

    name: str
    function: str
    variables: dict[str, str]


@dataclass(frozen=True)
class SecuritySpec:
    """``[lab.security]``: execution roles, resource policies, variables and keys."""

    role: tuple[RoleStatementSpec, ...] = ()
    invoke: tuple[InvokePermissionSpec, ...] = ()
    environments: tuple[EnvironmentSpec, ...] = ()
    kms_keys: tuple[str, ...] = ()
    """Customer managed key ARNs the learner can choose (``KMSKeyArn``)."""


@dataclass(frozen=True)
class LabSpec:
    """The lab a lesson opens with."""

    functions: tuple[LabFunction, ...]
    events: dict[str, Any]
    """Named events the learner can send, in order."""
    seed: int = 1
    speed: float = 10.0
    account: dict[str, Any] = field(default_factory=dict)
    burst: int = 20
    """How many requests the burst keys (b, B) send at once."""
    schedules: tuple[ScheduleSpec, ...] = ()
    http: HttpSpec | None = None
    buckets: tuple[BucketSpec, ...] = ()
    uploads: tuple[UploadSpec, ...] = ()
    """Named S3 operations, in the lesson's order."""
    duplicates: float = 0.0
    """The duplicate-delivery knob: the chance the async queue delivers twice."""
    security: SecuritySpec | None = None
    """Execution roles, invoke permissions, environment sets and KMS keys."""


@dataclass(frozen=True)
class Action:
    """One move of the reference solution, replayed by ``lessons check``."""

    do: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Lesson:
    """A lesson folder, loaded and validated."""

    id: str
    title: str
    summary: str
    objectives: tuple[str, ...]
    steps: tuple[Step, ...]
    lab: LabSpec
    solution: tuple[Action, ...]
    solution_text: str
    recap: str
    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    """Starting code: workspace file name -> text."""
    solution_files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Course:
    """The ordered lessons of a course (the bundled one or a third-party pack)."""

    title: str
    lessons: tuple[Lesson, ...]
    root: Path
    welcome: str = ""

    def lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson with that id, or None."""
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)
