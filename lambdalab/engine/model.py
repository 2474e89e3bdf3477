"""What the service is configured with: the account and its functions.

Validation follows Lambda's own ranges and messages (LAMBDA-FACTS 1.5, 2.1, 4.1, 9).
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

from lambdalab.errors import ConfigError, LambdaLabError

Distribution = Literal["fixed", "uniform", "exponential", "lognormal"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")
RESERVED_ENV_KEYS = frozenset(
    {
        "_HANDLER",
        "AWS_EXECUTION_ENV",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
    }
)


class ResourceNotFound(LambdaLabError, KeyError):
    """No function of that name exists (ResourceNotFoundException, 404).

    Here rather than in ``service``: a compiled module cannot subclass KeyError."""


@dataclass(frozen=True)
class Account:
    """One account in one Region: the concurrency pool every function draws from."""

    concurrency_limit: int = 1_000
    """Regional concurrency quota (default 1,000; LAMBDA-FACTS 2.1)."""
    unreserved_minimum: int = 100
    """Concurrency that reservations must leave to functions without one."""
    account_id: str = "123456789012"
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        if self.concurrency_limit < 1:
            raise ConfigError(
                f"Account concurrency_limit {self.concurrency_limit} must be at least 1."
            )
        if not 0 <= self.unreserved_minimum <= self.concurrency_limit:
            raise ConfigError(
                f"Account unreserved_minimum {self.unreserved_minimum} must be between 0 "
                f"and the concurrency limit {self.concurrency_limit}."
            )


@dataclass(frozen=True)
class DurationModel:
    """How long a model function's handler runs, in virtual milliseconds."""

    distribution: Distribution = "fixed"
    mean_ms: float = 100.0
    low_ms: float = 0.0
    high_ms: float = 0.0
    sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.distribution not in ("fixed", "uniform", "exponential", "lognormal"):
            raise ConfigError(
                f"duration distribution {self.distribution!r} is not one of fixed, "
                "uniform, exponential, lognormal."
            )
        if self.distribution == "uniform" and not 0 <= self.low_ms <= self.high_ms:
            raise ConfigError(
                f"uniform duration needs 0 <= low_ms <= high_ms; got {self.low_ms} and "
                f"{self.high_ms}."
            )
        if self.distribution != "uniform" and self.mean_ms <= 0:
            raise ConfigError(f"duration mean_ms must be positive; got {self.mean_ms}.")

    def sample(self, rng: random.Random) -> float:
        """Draw one duration."""
        if self.distribution == "fixed":
            return self.mean_ms
        if self.distribution == "uniform":
            return rng.uniform(self.low_ms, self.high_ms)
        if self.distribution == "exponential":
            return rng.expovariate(1.0 / self.mean_ms)
        # lognormal parameterised by its mean, so mean_ms means the same for all kinds
        mu = math.log(self.mean_ms) - self.sigma**2 / 2
        return rng.lognormvariate(mu, self.sigma)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """``sample(rng)`` as a function of nothing: the same draws, fewer lookups."""
        if self.distribution == "fixed":
            mean = self.mean_ms
            return lambda: mean
        if self.distribution == "uniform":
            return partial(rng.uniform, self.low_ms, self.high_ms)
        if self.distribution == "exponential":
            # random.expovariate's own formula, so the values are the same bits
            draw, log, rate = rng.random, math.log, 1.0 / self.mean_ms
            return lambda: -log(1.0 - draw()) / rate
        mu = math.log(self.mean_ms) - self.sigma**2 / 2
        return partial(rng.lognormvariate, mu, self.sigma)


AWS_SETTING_NAMES = {
    "memory_mb": "MemorySize",
    "timeout_s": "Timeout",
    "reserved_concurrency": "ReservedConcurrentExecutions",
    "provisioned_concurrency": "ProvisionedConcurrentExecutions",
    "max_retry_attempts": "MaximumRetryAttempts",
    "max_event_age_s": "MaximumEventAgeInSeconds",
}
"""The Lambda API's names for the settings a learner changes, for messages."""


@dataclass
class FunctionConfig:
    """A Lambda function: code or a model of it, and its settings."""

    name: str
    handler: str | None = None
    """``file.py:function`` relative to ``code_dir``; None for a model function."""
    code_dir: Path | None = None
    memory_mb: int = 128
    timeout_s: int = 3
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    environment: dict[str, str] = field(default_factory=dict)
    duration: DurationModel = field(default_factory=DurationModel)
    """Model functions only: the handler's run time."""
    error_rate: float = 0.0
    """Model functions only: the chance an invocation raises."""
    init_ms: float = 180.0
    """Model functions only: the init phase of a cold start."""
    max_retry_attempts: int = 2
    max_event_age_s: int = 21_600
    dead_letter_queue: str | None = None
    on_success: str | None = None
    on_failure: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    @property
    def is_model(self) -> bool:
        """True when the function has no code and runs from its duration model."""
        return self.handler is None

    def validate(self) -> None:
        """Refuse values that Lambda's API would refuse, naming the setting."""
        if not _NAME.match(self.name):
            raise ConfigError(
                f"Function name {self.name!r} is not valid: use 1-64 letters, digits, "
                "hyphens or underscores."
            )
        if not 128 <= self.memory_mb <= 10_240:
            raise ConfigError(
                f"MemorySize {self.memory_mb} for {self.name} is out of range 128-10240 MB."
            )
        if not 1 <= self.timeout_s <= 900:
            raise ConfigError(
                f"Timeout {self.timeout_s} s for {self.name} is out of range 1-900 seconds."
            )
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            raise ConfigError(
                f"ReservedConcurrentExecutions {self.reserved_concurrency} for "
                f"{self.name} must be 0 or more."
            )
        if self.provisioned_concurrency < 0:
            raise ConfigError(
                f"ProvisionedConcurrentExecutions {self.provisioned_concurrency} for "
                f"{self.name} must be 0 or more."
            )
        if (
            self.reserved_concurrency is not None
            and self.provisioned_concurrency > self.reserved_concurrency
        ):
            # Exact text recorded on AWS, leading and double space included (LAMBDA-FACTS 2.1).
            raise ConfigError(
                f"ReservedConcurrentExecutions  {self.reserved_concurrency} should not be "
                "lower than function's total provisioned concurrency "
                f"[{self.provisioned_concurrency}]."
            )
        if not 0 <= self.max_retry_attempts <= 2:
            raise ConfigError(
                f"MaximumRetryAttempts {self.max_retry_attempts} for {self.name} is out of "
                "range 0-2."
            )
        if not 60 <= self.max_event_age_s <= 21_600:
            raise ConfigError(
                f"MaximumEventAgeInSeconds {self.max_event_age_s} for {self.name} is out "
                "of range 60-21600."
            )
        if not 0.0 <= self.error_rate <= 1.0:
            raise ConfigError(
                f"error_rate {self.error_rate} for {self.name} must be between 0 and 1."
            )
        validate_environment(self.environment)
        if self.handler is not None:
            parse_handler(self.handler)

    def environment_size(self) -> int:
        """Bytes of the variables map as Lambda measures it: its compact JSON."""
        return len(json.dumps(self.environment, separators=(",", ":")).encode())


def validate_environment(variables: dict[str, str]) -> None:
    """Apply Lambda's key rules and the 4 KB total (LAMBDA-FACTS 9, T57)."""
    for key in variables:
        if key in RESERVED_ENV_KEYS:
            raise ConfigError(
                f"Environment variable {key} is reserved by Lambda; choose another name."
            )
        if not _ENV_KEY.match(key):
            raise ConfigError(
                f"Environment variable name {key!r} is not valid: start with a letter, "
                "use at least 2 letters, digits or underscores."
            )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > 4096:
        raise ConfigError(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. "
            f"String measured: {measured}"
        )


def parse_handler(handler: str) -> tuple[str, str]:
    """Split ``file.py:function`` (or ``module.function``) into a file path and a name."""
    if ":" in handler:
        path, _, func = handler.rpartition(":")
    elif "." in handler:
        path, _, func = handler.rpartition(".")
        path = path.replace(".", "/") + ".py"
    else:
        path, func = "", ""
    if not path or not func or not func.isidentifier():
        raise ConfigError(
            f"Handler {handler!r} is not valid: write FILE.py:function, for example "
            "handler.py:lambda_handler."
        )
    if not path.endswith(".py"):
        path += ".py"
    return path, func
