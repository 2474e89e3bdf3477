"""Scenario files: an account, its functions and the traffic that hits them, in TOML.

Every key is checked, and an error names the file, the key (with its table, e.g.
``functions[1].duration_ms.distribution``; arrays count from 0) and what is wrong.
Unknown keys are refused so a typo never silently falls back to a default.
"""

from __future__ import annotations

import json
import random
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, cast

from lambdalab.engine.metrics import Metrics
from lambdalab.engine.model import Account, DurationModel, FunctionConfig, parse_handler
from lambdalab.engine.profile import CURRENT, PROFILES, BehaviourProfile
from lambdalab.engine.service import LambdaService, TraceDetail
from lambdalab.engine.trace import Listener
from lambdalab.engine.traffic import (
    ArrivalKind,
    InvocationKind,
    TrafficSource,
    TrafficSpec,
)
from lambdalab.errors import ConfigError, ScenarioError

_TOP_KEYS = ("seed", "profile", "account", "functions", "traffic")
_ACCOUNT_KEYS = ("concurrency_limit", "unreserved_minimum")
_FUNCTION_KEYS = (
    "name",
    "handler",
    "duration_ms",
    "error_rate",
    "memory_mb",
    "timeout_s",
    "reserved_concurrency",
    "provisioned_concurrency",
    "max_retry_attempts",
    "max_event_age_s",
    "dead_letter_queue",
    "on_success",
    "on_failure",
)
_TRAFFIC_KEYS = (
    "function",
    "invocation",
    "arrival",
    "rate",
    "start_s",
    "stop_s",
    "count",
)
_DISTRIBUTION_KEYS = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "lognormal": ("mean", "sigma"),
}
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$")
"""SQS queue names: 1-80 letters, digits, hyphens, underscores; FIFO ones end .fifo."""


@dataclass(frozen=True)
class ScenarioRun:
    """A built scenario: the service, and the traffic sources that feed it."""

    service: LambdaService
    sources: tuple[TrafficSource, ...]
    expected_end_ms: float
    """When the last arrival is expected (the run itself may go on: retries, tails)."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file."""

    path: Path
    seed: int
    profile: BehaviourProfile
    account: Account
    functions: tuple[FunctionConfig, ...]
    traffic: tuple[TrafficSpec, ...]

    def build(
        self,
        *,
        seed: int | None = None,
        listeners: Sequence[Listener] = (),
        metrics: Metrics | None = None,
        trace_detail: TraceDetail = "full",
        keep_finished: bool = True,
        trace_maxlen: int | None = None,
    ) -> ScenarioRun:
        """Create the service, its functions and the traffic, ready to ``run``.

        ``listeners`` subscribe before anything happens, so they see every record;
        so does ``metrics``, which also counts what trace detail ``metrics`` does not
        record.
        """
        seed = self.seed if seed is None else seed
        service = LambdaService(
            self.account,
            profile=self.profile,
            seed=seed,
            trace_maxlen=trace_maxlen,
            trace_detail=trace_detail,
            keep_finished=keep_finished,
        )
        if metrics is not None:
            metrics.attach_to(service)
        for listener in listeners:
            service.trace.subscribe(listener)
        for config in self.functions:
            service.create_function(replace(config))
        sources = []
        for index, spec in enumerate(self.traffic):
            # One generator per stream: adding a stream leaves the others unchanged.
            source = TrafficSource(
                service, spec, random.Random(f"{seed}/traffic/{index}")
            )
            source.start()
            sources.append(source)
        end_s = max((spec.expected_end_s() for spec in self.traffic), default=0.0)
        return ScenarioRun(service, tuple(sources), end_s * 1000.0)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (UTF-8; a UTF-8 byte-order mark is dropped)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError(f"Cannot read scenario {path}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(not_utf8_text(path, exc)) from None
    return parse_scenario(text, path)


def not_utf8_text(path: object, exc: UnicodeDecodeError) -> str:
    """Why a file is not UTF-8 text (its first bad byte) and what to do about it."""
    data = exc.object
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        reason = "it starts with a UTF-16 byte-order mark, so it was saved as UTF-16"
    else:
        line = data.count(b"\n", 0, exc.start) + 1
        reason = f"byte 0x{data[exc.start]:02x} on line {line} is not valid UTF-8"
    return f"{path}: not UTF-8 text ({reason}). Save it as UTF-8 and try again."


def parse_scenario(text: str, path: Path) -> Scenario:
    """Validate scenario TOML; ``path`` names it in errors and anchors handlers."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}.") from None
    return _Reader(path).scenario(doc)


class _Reader:
    """Walks the parsed TOML, checking each key; errors name the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ScenarioError(f"{self.path}: {key}: {problem}")

    def only(self, table: dict[str, Any], allowed: Sequence[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(
                    f"{prefix}{key}",
                    f"unknown key; use one of {', '.join(allowed)}.",
                )

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"must be a table, not {_shown(value)}.")
        return value

    def integer(
        self,
        table: dict[str, Any],
        name: str,
        prefix: str,
        default: int | None,
        *,
        low: int | None = None,
        high: int | None = None,
    ) -> int | None:
        key = f"{prefix}{name}"
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {_shown(value)}.")
        self.check_range(key, value, low, high)
        return value

    def number(
        self,
        table: dict[str, Any],
        name: str,
        prefix: str,
        default: float | None,
        *,
        low: float | None = None,
        high: float | None = None,
        above: float | None = None,
    ) -> float | None:
        key = f"{prefix}{name}"
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"must be a number, not {_shown(value)}.")
        if above is not None and not value > above:
            self.fail(key, f"{value} must be greater than {above:g}.")
        self.check_range(key, value, low, high)
        return float(value)

    def check_range(
        self, key: str, value: float, low: float | None, high: float | None
    ) -> None:
        if low is not None and high is not None and not low <= value <= high:
            self.fail(key, f"{value} is out of range {low:g}-{high:g}.")
        if low is not None and value < low:
            self.fail(key, f"{value} must be at least {low:g}.")
        if high is not None and value > high:
            self.fail(key, f"{value} must be at most {high:g}.")

    def string(
        self, table: dict[str, Any], name: str, prefix: str, default: str | None
    ) -> str | None:
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, str):
            self.fail(f"{prefix}{name}", f"must be a string, not {_shown(value)}.")
        return value

    def choice(
        self,
        table: dict[str, Any],
        name: str,
        prefix: str,
        options: Sequence[str],
        default: str,
    ) -> str:
        value = self.string(table, name, prefix, default)
        if value is None or value not in options:
            self.fail(
                f"{prefix}{name}", f"{value!r} is not one of {', '.join(options)}."
            )
        return value

    # -- the document ----------------------------------------------------------------

    def scenario(self, doc: dict[str, Any]) -> Scenario:
        self.only(doc, _TOP_KEYS, "")
        seed = self.integer(doc, "seed", "", 0)
        assert seed is not None
        profile = PROFILES[
            self.choice(doc, "profile", "", tuple(PROFILES), CURRENT.name)
        ]
        account = self.account(self.table(doc.get("account", {}), "account"))
        raw_functions = doc.get("functions")
        if raw_functions is None:
            self.fail(
                "functions", "no [[functions]] table; a scenario needs at least one."
            )
        if not isinstance(raw_functions, list) or not raw_functions:
            self.fail("functions", "must be an array of tables: write [[functions]].")
        functions: list[FunctionConfig] = []
        for index, raw in enumerate(raw_functions):
            functions.append(self.function(raw, index, functions))
        self.check_reservations(account, functions)
        raw_traffic = doc.get("traffic", [])
        if not isinstance(raw_traffic, list):
            self.fail("traffic", "must be an array of tables: write [[traffic]].")
        names = {f.name for f in functions}
        traffic = tuple(
            self.traffic(raw, index, names) for index, raw in enumerate(raw_traffic)
        )
        return Scenario(self.path, seed, profile, account, tuple(functions), traffic)

    def account(self, table: dict[str, Any]) -> Account:
        self.only(table, _ACCOUNT_KEYS, "account.")
        limit = self.integer(table, "concurrency_limit", "account.", 1_000, low=1)
        assert limit is not None
        # Small accounts keep all of their concurrency unreserved (LAMBDA-FACTS 2.1).
        minimum = self.integer(
            table, "unreserved_minimum", "account.", min(100, limit), low=0, high=limit
        )
        assert minimum is not None
        return Account(concurrency_limit=limit, unreserved_minimum=minimum)

    def function(
        self, raw: Any, index: int, earlier: list[FunctionConfig]
    ) -> FunctionConfig:
        prefix = f"functions[{index}]."
        table = self.table(raw, f"functions[{index}]")
        self.only(table, _FUNCTION_KEYS, prefix)
        name = self.string(table, "name", prefix, None)
        if name is None:
            self.fail(f"functions[{index}]", "has no name.")
        if not _FUNCTION_NAME.match(name):
            self.fail(
                f"{prefix}name",
                f"{name!r} is not a function name: use 1-64 letters, digits, "
                "hyphens or underscores.",
            )
        if any(f.name == name for f in earlier):
            self.fail(
                f"{prefix}name", f"{name!r} is already defined; names must be unique."
            )
        settings: dict[str, Any] = {}
        handler = self.string(table, "handler", prefix, None)
        if handler is not None:
            for model_key in ("duration_ms", "error_rate"):
                if model_key in table:
                    self.fail(
                        f"{prefix}{model_key}",
                        "only for model functions; a function with a handler runs "
                        "its own code. Remove one of handler and "
                        f"{model_key}.",
                    )
            settings.update(self.handler(handler, f"{prefix}handler"))
        else:
            if "duration_ms" not in table:
                self.fail(
                    f"functions[{index}]",
                    'needs either handler = "file.py:function" or a model '
                    "(duration_ms, error_rate).",
                )
            settings["duration"] = self.duration(table["duration_ms"], prefix)
            settings["error_rate"] = self.number(
                table, "error_rate", prefix, 0.0, low=0.0, high=1.0
            )
        settings["memory_mb"] = self.integer(
            table, "memory_mb", prefix, 128, low=128, high=10_240
        )
        settings["timeout_s"] = self.integer(
            table, "timeout_s", prefix, 3, low=1, high=900
        )
        reserved = self.integer(table, "reserved_concurrency", prefix, None, low=0)
        provisioned = self.integer(table, "provisioned_concurrency", prefix, 0, low=0)
        assert provisioned is not None
        if reserved is not None and provisioned > reserved:
            # AWS's own words (LAMBDA-FACTS 2.1), leading and double space included.
            self.fail(
                f"{prefix}provisioned_concurrency",
                f"ReservedConcurrentExecutions  {reserved} should not be lower than "
                f"function's total provisioned concurrency [{provisioned}].",
            )
        settings["reserved_concurrency"] = reserved
        settings["provisioned_concurrency"] = provisioned
        settings["max_retry_attempts"] = self.integer(
            table, "max_retry_attempts", prefix, 2, low=0, high=2
        )
        settings["max_event_age_s"] = self.integer(
            table, "max_event_age_s", prefix, 21_600, low=60, high=21_600
        )
        for target in ("dead_letter_queue", "on_success", "on_failure"):
            queue = self.string(table, target, prefix, None)
            if queue is not None and not _QUEUE_NAME.match(queue):
                self.fail(
                    f"{prefix}{target}",
                    f"{queue!r} is not a queue name: use 1-80 letters, digits, "
                    "hyphens or underscores (FIFO queues end in .fifo).",
                )
            settings[target] = queue
        try:
            return FunctionConfig(name, **settings)
        except ConfigError as exc:
            self.fail(f"functions[{index}]", str(exc))

    def handler(self, handler: str, key: str) -> dict[str, Any]:
        try:
            file, function = parse_handler(handler)
        except ConfigError as exc:
            self.fail(key, str(exc))
        source = (self.path.parent / file).resolve()
        if not source.is_file():
            self.fail(
                key,
                f"handler file {file} not found next to the scenario (looked for "
                f"{source}).",
            )
        return {"handler": f"{source.name}:{function}", "code_dir": source.parent}

    def duration(self, value: Any, prefix: str) -> DurationModel:
        key = f"{prefix}duration_ms"
        if isinstance(value, bool) or not isinstance(value, int | float | dict):
            self.fail(
                key,
                f"must be milliseconds or a table like {{distribution = "
                f'"exponential", mean = 200}}, not {_shown(value)}.',
            )
        if not isinstance(value, dict):
            if value <= 0:
                self.fail(key, f"{value} must be greater than 0.")
            return DurationModel("fixed", float(value))
        sub = f"{key}."
        if "distribution" not in value:
            self.fail(
                f"{sub}distribution",
                "missing; use one of " + ", ".join(_DISTRIBUTION_KEYS) + ".",
            )
        kind = self.choice(value, "distribution", sub, tuple(_DISTRIBUTION_KEYS), "")
        allowed = ("distribution", *_DISTRIBUTION_KEYS[kind])
        self.only(value, allowed, sub)
        for param in _DISTRIBUTION_KEYS[kind]:
            if param not in value and not (kind == "lognormal" and param == "sigma"):
                self.fail(f"{sub}{param}", f"missing; a {kind} duration needs it.")
        if kind == "uniform":
            low = self.number(value, "low", sub, None, low=0.0)
            high = self.number(value, "high", sub, None, low=0.0)
            assert low is not None and high is not None
            if high < low:
                self.fail(f"{sub}high", f"{high:g} is below low ({low:g}).")
            return DurationModel("uniform", low_ms=low, high_ms=high)
        mean_key = "value" if kind == "fixed" else "mean"
        mean = self.number(value, mean_key, sub, None, above=0.0)
        sigma = self.number(value, "sigma", sub, 0.5, above=0.0)
        assert mean is not None and sigma is not None
        return DurationModel(kind, mean, sigma=sigma)  # type: ignore[arg-type]

    def check_reservations(
        self, account: Account, functions: list[FunctionConfig]
    ) -> None:
        reserved = 0
        for index, config in enumerate(functions):
            if config.reserved_concurrency is None:
                continue
            reserved += config.reserved_concurrency
            if account.concurrency_limit - reserved < account.unreserved_minimum:
                # AWS's own words (LAMBDA-FACTS 2.1, T31).
                self.fail(
                    f"functions[{index}].reserved_concurrency",
                    "Specified ReservedConcurrentExecutions for function decreases "
                    "account's UnreservedConcurrentExecution below its minimum value "
                    f"of [{account.unreserved_minimum}]. (account.concurrency_limit is "
                    f"{account.concurrency_limit}; reservations so far total {reserved}.)",
                )

    def traffic(self, raw: Any, index: int, names: set[str]) -> TrafficSpec:
        prefix = f"traffic[{index}]."
        table = self.table(raw, f"traffic[{index}]")
        self.only(table, _TRAFFIC_KEYS, prefix)
        function = self.string(table, "function", prefix, None)
        if function is None:
            self.fail(f"traffic[{index}]", "has no function.")
        if function not in names:
            self.fail(
                f"{prefix}function",
                f"{function!r} is not a function of this scenario; define it in "
                "[[functions]] (known: " + ", ".join(sorted(names)) + ").",
            )
        invocation = cast(
            InvocationKind,
            self.choice(table, "invocation", prefix, ("sync", "async"), "sync"),
        )
        arrival = cast(
            ArrivalKind,
            self.choice(
                table, "arrival", prefix, ("poisson", "uniform", "burst"), "poisson"
            ),
        )
        start_s = self.number(table, "start_s", prefix, 0.0, low=0.0)
        assert start_s is not None
        count = self.integer(table, "count", prefix, None, low=1)
        if arrival == "burst":
            for key in ("rate", "stop_s"):
                if key in table:
                    self.fail(
                        f"{prefix}{key}",
                        "a burst sends count requests at start_s all at once; "
                        f"remove {key}.",
                    )
            if count is None:
                self.fail(
                    f"{prefix}count", "missing; a burst needs the number of requests."
                )
            return TrafficSpec(
                function, invocation, "burst", None, start_s, None, count
            )
        if "rate" not in table:
            self.fail(
                f"{prefix}rate",
                f"missing; {arrival} arrivals need requests per second.",
            )
        rate = self.number(table, "rate", prefix, None, above=0.0)
        stop_s = self.number(table, "stop_s", prefix, None, low=0.0)
        if stop_s is not None and stop_s <= start_s:
            self.fail(
                f"{prefix}stop_s", f"{stop_s:g} must be after start_s ({start_s:g})."
            )
        if stop_s is None and count is None:
            self.fail(
                f"traffic[{index}]",
                "never stops: give stop_s (seconds) or count (requests).",
            )
        return TrafficSpec(function, invocation, arrival, rate, start_s, stop_s, count)


def _shown(value: Any) -> str:
    """A value as the error message shows it: its TOML type and TOML spelling."""
    kind = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "table",
    }.get(type(value), type(value).__name__)
    if isinstance(value, dict | list):
        return kind
    return f"{kind} {json.dumps(value, default=str)}"
