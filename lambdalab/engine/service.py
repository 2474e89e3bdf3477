"""The simulated Lambda service: functions, execution environments and invocations.

One ``LambdaService`` is one account in one Region. Time is the event loop's virtual
milliseconds; nothing here reads a wall clock. Handler code runs for real in a
``HandlerProcess`` per execution environment; while the service waits for it, virtual
time stands still, so the trace is the same however fast the machine is.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from lambdalab.engine import logs
from lambdalab.engine.loop import EventLoop
from lambdalab.engine.model import Account, FunctionConfig, parse_handler
from lambdalab.engine.profile import CURRENT, BehaviourProfile
from lambdalab.engine.sandbox import HandlerProcess, ProcessGone, child_environ
from lambdalab.engine.trace import Trace, TraceRecord
from lambdalab.errors import ConfigError, LambdaLabError

InvocationType = Literal["RequestResponse", "Event", "DryRun"]
EnvState = Literal["initialising", "busy", "idle", "reset"]
Outcome = Literal["pending", "success", "error", "timeout", "exit", "throttled"]

EPOCH_MS = datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000
"""Default virtual start: 2025-01-01T00:00:00Z, a Wednesday (LAMBDA-FACTS 12, R)."""

RETRY_DELAYS_MS = (60_000, 120_000)
"""Async retries wait about 1 minute, then 2 minutes (LAMBDA-FACTS 4.1)."""
THROTTLE_BACKOFF_MAX_MS = 300_000
"""Throttled async events back off from 1 s, doubling, to at most 5 minutes (2.3)."""
POLLER_DELAY_MS = 25.0
"""Queue-to-invoke latency of the internal async poller; AWS does not publish it."""


class ResourceNotFound(LambdaLabError, KeyError):
    """No function of that name exists (ResourceNotFoundException, 404)."""


@dataclass
class InvokeResponse:
    """What the Invoke API answers: status, headers and the payload bytes as text."""

    status_code: int
    payload: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def function_error(self) -> str | None:
        """``Unhandled`` when the function failed, else None (LAMBDA-FACTS 1.2)."""
        return self.headers.get("X-Amz-Function-Error")

    def json(self) -> Any:
        """The payload decoded, or None when it is empty."""
        return json.loads(self.payload) if self.payload else None


@dataclass
class Invocation:
    """One attempt to run a function for one request."""

    request_id: str
    function: str
    invocation_type: InvocationType
    payload: str
    received_ms: float
    attempt: int = 1
    outcome: Outcome = "pending"
    response: InvokeResponse | None = None
    env_id: str = ""
    cold: bool = False
    init_ms: float | None = None
    duration_ms: float = 0.0
    billed_ms: int = 0
    error_type: str | None = None
    error_message: str | None = None
    throttle_reason: str | None = None
    started_ms: float | None = None
    ended_ms: float | None = None
    on_done: Callable[[Invocation], None] | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        """True once the outcome is known."""
        return self.outcome != "pending"


@dataclass
class ExecutionEnvironment:
    """An isolated runtime for one function; it serves one request at a time."""

    env_id: str
    function: str
    log_stream: str
    created_ms: float
    provisioned: bool = False
    state: EnvState = "initialising"
    initialised: bool = False
    last_used_ms: float = 0.0
    invocations: int = 0
    memory_used_mb: int = 40
    code_version: int = 0
    """The function's configuration version this environment was built from."""
    process: HandlerProcess | None = field(default=None, repr=False)
    tmp_dir: Path | None = None
    current: Invocation | None = field(default=None, repr=False)


@dataclass
class AsyncEvent:
    """An accepted Event invocation waiting in, or moving through, the internal queue."""

    request_id: str
    function: str
    payload: str
    received_ms: float
    attempts: int = 0
    throttles: int = 0
    state: str = "queued"
    """``queued``, ``running``, ``waiting`` (retry or backoff), or its final state."""
    last_error: dict[str, Any] | None = None
    attempt_log: list[Invocation] = field(default_factory=list)


@dataclass
class QueueMessage:
    """A message in a lab queue (standing in for SQS)."""

    message_id: str
    body: str
    attributes: dict[str, dict[str, str]]
    sent_ms: float


@dataclass
class Queue:
    """A standard SQS queue in the lab: a DLQ or a destination."""

    name: str
    messages: list[QueueMessage] = field(default_factory=list)


@dataclass
class _Pending:
    env: ExecutionEnvironment
    guard_s: float
    on_reply: Callable[[dict[str, Any]], None]


class LambdaService:
    """A deterministic Lambda service for one account: invoke, run, inspect."""

    def __init__(
        self,
        account: Account | None = None,
        *,
        profile: BehaviourProfile = CURRENT,
        seed: int = 0,
        epoch_ms: float = EPOCH_MS,
        trace_maxlen: int | None = None,
        wall_guard_s: float = 3.0,
    ) -> None:
        self.account = account or Account()
        self.profile = profile
        self.epoch_ms = epoch_ms
        self.loop = EventLoop()
        self.trace = Trace(trace_maxlen)
        self.rng = random.Random(seed)
        self.wall_guard_s = wall_guard_s
        self.functions: dict[str, FunctionConfig] = {}
        self.environments: dict[str, list[ExecutionEnvironment]] = {}
        self.in_flight: dict[str, int] = {}
        self.async_queue: dict[str, deque[AsyncEvent]] = {}
        self.async_events: dict[str, AsyncEvent] = {}
        self.queues: dict[str, Queue] = {}
        self._pending: deque[_Pending] = deque()
        """Handler calls sent and not yet answered, oldest first; time waits for them."""
        self._env_counter = 0
        self.code_versions: dict[str, int] = {}
        """Bumped by every code or configuration update; older environments retire."""
        self._tmp_root: Path | None = None
        self.invocations: dict[str, Invocation] = {}
        """The latest attempt per request id."""

    # -- configuration ---------------------------------------------------------------

    def create_function(self, config: FunctionConfig) -> FunctionConfig:
        """Add a function; its reservation must leave the unreserved minimum."""
        if config.name in self.functions:
            raise ConfigError(f"Function {config.name} already exists.")
        if config.handler is not None and config.code_dir is None:
            raise ConfigError(
                f"Function {config.name} has a handler but no code folder."
            )
        if config.reserved_concurrency is not None:
            self._check_reservation(config.name, config.reserved_concurrency)
        self.functions[config.name] = config
        self.environments[config.name] = []
        self.in_flight[config.name] = 0
        self.code_versions[config.name] = 0
        self.async_queue[config.name] = deque()
        for target in (config.dead_letter_queue, config.on_success, config.on_failure):
            if target and target not in self.functions:
                self.queues.setdefault(target, Queue(target))
        self._record(
            "function.created", config.name, data={"memory_mb": config.memory_mb}
        )
        for _ in range(config.provisioned_concurrency):
            self._provision(config)
        return config

    def function(self, name: str) -> FunctionConfig:
        """The function called ``name``, or ResourceNotFoundException."""
        try:
            return self.functions[name]
        except KeyError:
            raise ResourceNotFound(
                f"Function not found: arn:aws:lambda:{self.account.region}:"
                f"{self.account.account_id}:function:{name}"
            ) from None

    def update_function(self, name: str, **changes: Any) -> FunctionConfig:
        """Change code or settings; like UpdateFunctionCode, new requests get new environments."""
        config = self.function(name)
        reserved = changes.pop("reserved_concurrency", config.reserved_concurrency)
        candidate = FunctionConfig(**{**config.__dict__, **changes})
        if reserved != config.reserved_concurrency:
            self.put_function_concurrency(name, reserved)
            candidate.reserved_concurrency = reserved
        self.functions[name] = candidate
        self.code_versions[name] += 1
        for env in list(self.environments[name]):
            if env.current is None and env.state in ("idle", "reset"):
                self._reap(env)
        self._record("function.updated", name, data={"changes": sorted(changes)})
        return candidate

    def put_function_concurrency(self, name: str, reserved: int | None) -> None:
        """Set (or with None, remove) a function's reserved concurrency."""
        config = self.function(name)
        if reserved is not None:
            if reserved < 0:
                raise ConfigError(
                    f"ReservedConcurrentExecutions {reserved} must be 0 or more."
                )
            self._check_reservation(name, reserved)
            if config.provisioned_concurrency > reserved:
                raise ConfigError(
                    f"ReservedConcurrentExecutions  {reserved} should not be lower than "
                    "function's total provisioned concurrency "
                    f"[{config.provisioned_concurrency}]."
                )
        config.reserved_concurrency = reserved
        self._record("function.concurrency", name, data={"reserved": reserved})

    def _check_reservation(self, name: str, reserved: int) -> None:
        others = sum(
            f.reserved_concurrency or 0
            for f in self.functions.values()
            if f.name != name and f.reserved_concurrency is not None
        )
        unreserved = self.account.concurrency_limit - others - reserved
        if unreserved < self.account.unreserved_minimum:
            # Exact text recorded on AWS (LAMBDA-FACTS 2.1, T31).
            raise ConfigError(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                "UnreservedConcurrentExecution below its minimum value of "
                f"[{self.account.unreserved_minimum}]."
            )

    def unreserved_capacity(self) -> int:
        """Concurrency left to functions without a reservation."""
        reserved = sum(
            f.reserved_concurrency or 0
            for f in self.functions.values()
            if f.reserved_concurrency is not None
        )
        return self.account.concurrency_limit - reserved

    def queue(self, name: str) -> Queue:
        """The lab queue called ``name``, created on first use."""
        return self.queues.setdefault(name, Queue(name))

    # -- time ------------------------------------------------------------------------

    @property
    def now_ms(self) -> float:
        """Virtual milliseconds since the simulation started."""
        return self.loop.now

    def wall_ms(self, time_ms: float | None = None) -> float:
        """The simulated epoch milliseconds of a virtual instant."""
        return self.epoch_ms + (self.loop.now if time_ms is None else time_ms)

    def iso(self, time_ms: float | None = None) -> str:
        """ISO-8601 UTC with milliseconds, as Lambda prints it."""
        stamp = datetime.fromtimestamp(self.wall_ms(time_ms) / 1000, UTC)
        return (
            stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
        )

    @property
    def waiting_on_code(self) -> bool:
        """True while virtual time is held for a handler that has not answered yet."""
        return bool(self._pending)

    def run(
        self, until_ms: float | None = None, *, wait_s: float | None = None
    ) -> bool:
        """Process events up to ``until_ms`` (all of them when None).

        ``wait_s`` bounds how long to wait for running handler code before returning
        False ("still waiting"); None waits as long as the wall guard allows.
        """
        loop = self.loop
        while True:
            while self._pending:
                if not self._resolve(wait_s):
                    return False
            nxt = loop.peek()
            if nxt is None or (until_ms is not None and nxt > until_ms):
                if until_ms is not None and until_ms > loop.now:
                    loop.advance_to(until_ms)
                return True
            loop.step()

    def run_until_done(self, invocation: Invocation) -> Invocation:
        """Run just far enough for ``invocation`` to have its outcome."""
        while not invocation.done:
            if self._pending:
                self._resolve(None)
            elif not self.loop.step():
                raise LambdaLabError(
                    f"Invocation {invocation.request_id} never finished."
                )
        return invocation

    def _resolve(self, wait_s: float | None) -> bool:
        pending = self._pending[0]
        process = pending.env.process
        assert process is not None
        while True:
            remaining = pending.guard_s - process.waited_s
            timeout = remaining if wait_s is None else min(wait_s, remaining)
            try:
                reply = process.poll(max(timeout, 0.0))
            except ProcessGone:
                reply = {"status": "gone"}
            if reply is None and process.waited_s >= pending.guard_s:
                process.kill()
                reply = {"status": "guard"}
            if reply is not None:
                self._pending.popleft()
                pending.on_reply(reply)
                return True
            if wait_s is not None:
                return False

    def close(self) -> None:
        """End every handler process and remove the environments' /tmp folders."""
        for envs in self.environments.values():
            for env in envs:
                if env.process is not None:
                    env.process.kill()
                    env.process = None
        self._pending.clear()
        if self._tmp_root is not None:
            shutil.rmtree(self._tmp_root, ignore_errors=True)
            self._tmp_root = None

    # -- invoke ----------------------------------------------------------------------

    def invoke(
        self,
        name: str,
        payload: Any = None,
        invocation_type: InvocationType = "RequestResponse",
        *,
        raw_payload: str | None = None,
        on_done: Callable[[Invocation], None] | None = None,
    ) -> Invocation:
        """Call the Invoke API now; the result arrives as virtual time runs."""
        config = self.function(name)
        body = (
            raw_payload
            if raw_payload is not None
            else json.dumps({} if payload is None else payload)
        )
        inv = Invocation(
            request_id=self._request_id(),
            function=name,
            invocation_type=invocation_type,
            payload=body,
            received_ms=self.now_ms,
            on_done=on_done,
        )
        if invocation_type == "DryRun":
            self._complete(
                inv, "success", InvokeResponse(204, "", self._version_header())
            )
            return inv
        size = len(body.encode())
        if (
            invocation_type == "RequestResponse"
            and size > self.profile.sync_request_limit
        ):
            return self._reject_too_large(inv, size, self.profile.sync_request_limit)
        if invocation_type == "Event":
            if size > self.profile.async_payload_limit:
                return self._reject_too_large(
                    inv, size, self.profile.async_payload_limit
                )
            self._accept_event(inv, config)
            return inv
        self.invocations[inv.request_id] = inv
        self._record("invoke.received", name, inv.request_id, data={"type": "sync"})
        self._dispatch(inv)
        return inv

    def _reject_too_large(self, inv: Invocation, size: int, limit: int) -> Invocation:
        if inv.invocation_type == "Event":
            message = (
                f"{size} byte payload is too large for the Event invocation type "
                f"(limit {limit} bytes)"
            )
        else:
            message = f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
        body = json.dumps({"Type": "User", "message": message})
        headers = {"x-amzn-ErrorType": "RequestEntityTooLargeException"}
        self._record(
            "invoke.rejected", inv.function, inv.request_id, data={"status": 413}
        )
        self._complete(inv, "error", InvokeResponse(413, body, headers))
        return inv

    def _accept_event(self, inv: Invocation, config: FunctionConfig) -> None:
        event = AsyncEvent(inv.request_id, config.name, inv.payload, self.now_ms)
        self.async_events[event.request_id] = event
        self.async_queue[config.name].append(event)
        self._record(
            "async.received",
            config.name,
            event.request_id,
            data={"size": len(inv.payload)},
        )
        # The caller only learns that the event was queued (LAMBDA-FACTS 1.1, T26).
        self._complete(inv, "success", InvokeResponse(202, "", self._version_header()))
        self.loop.schedule(POLLER_DELAY_MS, lambda: self._poll_async(event))

    def _version_header(self) -> dict[str, str]:
        return {"X-Amz-Executed-Version": "$LATEST"}

    # -- concurrency -----------------------------------------------------------------

    def _throttle_reason(self, config: FunctionConfig) -> str | None:
        """Why a new request would be throttled now, or None if it may run."""
        if config.reserved_concurrency is not None:
            if self.in_flight[config.name] >= config.reserved_concurrency:
                return "ReservedFunctionConcurrentInvocationLimitExceeded"
            return None
        unreserved_in_flight = sum(
            n
            for fname, n in self.in_flight.items()
            if self.functions[fname].reserved_concurrency is None
        )
        if unreserved_in_flight >= self.unreserved_capacity():
            return "ConcurrentInvocationLimitExceeded"
        return None

    def _acquire_environment(self, config: FunctionConfig) -> ExecutionEnvironment:
        envs = self.environments[config.name]
        version = self.code_versions[config.name]
        idle = [
            e
            for e in envs
            if e.state in ("idle", "reset") and e.code_version == version
        ]
        if idle:
            # Provisioned environments first, then the most recently used.
            idle.sort(key=lambda e: (not e.provisioned, -e.last_used_ms))
            env = idle[0]
        else:
            env = self._new_environment(config, provisioned=False)
            if config.provisioned_concurrency:
                self._record("invoke.spillover", config.name, env_id=env.env_id)
        self.in_flight[config.name] += 1
        self._record(
            "concurrency", config.name, data={"in_flight": self.in_flight[config.name]}
        )
        return env

    def _release_environment(self, env: ExecutionEnvironment) -> None:
        self.in_flight[env.function] -= 1
        self._record(
            "concurrency",
            env.function,
            data={"in_flight": self.in_flight[env.function]},
        )

    def _new_environment(
        self, config: FunctionConfig, *, provisioned: bool
    ) -> ExecutionEnvironment:
        self._env_counter += 1
        day = datetime.fromtimestamp(self.wall_ms() / 1000, UTC).strftime("%Y/%m/%d")
        stream = f"{day}/[$LATEST]{self.rng.getrandbits(128):032x}"
        env = ExecutionEnvironment(
            env_id=f"env-{self._env_counter}",
            function=config.name,
            log_stream=stream,
            created_ms=self.now_ms,
            provisioned=provisioned,
            memory_used_mb=min(config.memory_mb, 38 + self.rng.randint(0, 6)),
            code_version=self.code_versions[config.name],
        )
        self.environments[config.name].append(env)
        self._record(
            "env.created",
            config.name,
            env_id=env.env_id,
            data={"provisioned": provisioned},
        )
        return env

    def _provision(self, config: FunctionConfig) -> None:
        env = self._new_environment(config, provisioned=True)
        self._set_state(env, "initialising")
        self._init(
            env,
            None,
            lambda failed: self._set_state(env, "reset" if failed else "idle"),
        )

    def _set_state(self, env: ExecutionEnvironment, state: EnvState) -> None:
        env.state = state
        self._record(
            "env.state", env.function, env_id=env.env_id, data={"state": state}
        )

    # -- the invocation lifecycle ----------------------------------------------------

    def _dispatch(self, inv: Invocation) -> bool:
        """Start ``inv`` now in an environment, or throttle it. True if it started."""
        config = self.functions[inv.function]
        reason = self._throttle_reason(config)
        if reason is not None:
            inv.throttle_reason = reason
            self._record(
                "invoke.throttled",
                inv.function,
                inv.request_id,
                data={"reason": reason},
            )
            if inv.invocation_type == "RequestResponse":
                body = json.dumps(
                    {"Reason": reason, "Type": "User", "message": "Rate Exceeded."}
                )
                headers = {"x-amzn-ErrorType": "TooManyRequestsException"}
                self._complete(inv, "throttled", InvokeResponse(429, body, headers))
            return False
        env = self._acquire_environment(config)
        env.current = inv
        inv.env_id = env.env_id
        inv.started_ms = self.now_ms
        env.last_used_ms = self.now_ms
        self._record(
            "invoke.start",
            inv.function,
            inv.request_id,
            env.env_id,
            {"attempt": inv.attempt},
        )
        if env.initialised:
            self._set_state(env, "busy")
            self._run_handler(env, inv)
        else:
            inv.cold = True
            self._set_state(env, "initialising")
            self._init(env, inv, lambda failed: self._after_init(env, inv, failed))
        return True

    def _init(
        self,
        env: ExecutionEnvironment,
        inv: Invocation | None,
        then: Callable[[bool], None],
    ) -> None:
        """Run the init phase, then call ``then(failed)`` when it ends in virtual time."""
        config = self.functions[env.function]
        self._log(env, logs.init_start(self.profile, self.account.region))
        if config.is_model:
            init_ms = config.init_ms * self.rng.uniform(0.85, 1.15)
            self.loop.schedule(
                init_ms, lambda: self._init_done(env, inv, init_ms, None, then)
            )
            return
        base_ms = self.rng.uniform(90.0, 240.0)  # runtime start-up before module code
        process = self._start_process(env, config)
        deadline = self.wall_ms() + self.profile.init_limit_ms
        file, function = parse_handler(config.handler or "")
        process.send(
            {
                "op": "init",
                "environ": child_environ(self._lambda_environ(config, env)),
                "tmp_dir": str(env.tmp_dir),
                "code_dir": str(config.code_dir),
                "file": file,
                "function": function,
                "start_ms": self.wall_ms() + base_ms,
                "deadline_ms": deadline,
            }
        )

        def on_reply(reply: dict[str, Any]) -> None:
            status = reply.get("status")
            init_ms = base_ms + float(reply.get("elapsed_ms", 0.0))
            self._schedule_output(env, reply.get("output", []), "", base_ms)
            error: dict[str, Any] | None = None
            if status == "ok":
                pass
            elif status == "error":
                error = reply["error"]
            elif status in ("timeout", "guard"):
                init_ms = float(self.profile.init_limit_ms)
                error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": "Init phase timed out",
                }
            else:
                error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": "Runtime exited without providing a reason",
                }
            self.loop.schedule(
                init_ms, lambda: self._init_done(env, inv, init_ms, error, then)
            )

        self._pending.append(_Pending(env, self.wall_guard_s, on_reply))

    def _init_done(
        self,
        env: ExecutionEnvironment,
        inv: Invocation | None,
        init_ms: float,
        error: dict[str, Any] | None,
        then: Callable[[bool], None],
    ) -> None:
        if inv is not None:
            inv.init_ms = init_ms
        if error is None:
            env.initialised = True
            then(False)
            return
        self._log(env, logs.init_report(init_ms, error["errorType"]))
        self._reset(env)
        if inv is not None:
            self._fail_init(env, inv, init_ms, error)
        then(True)

    def _after_init(
        self, env: ExecutionEnvironment, inv: Invocation, failed: bool
    ) -> None:
        if not failed:
            self._set_state(env, "busy")
            self._run_handler(env, inv)

    def _fail_init(
        self,
        env: ExecutionEnvironment,
        inv: Invocation,
        init_ms: float,
        error: dict[str, Any],
    ) -> None:
        """An init failure fails the invocation that caused it (LAMBDA-FACTS 1.3)."""
        self._log(env, logs.start(inv.request_id))
        self._log(env, logs.error_lines(error))
        self._log(env, logs.end(inv.request_id))
        config = self.functions[env.function]
        self._log(
            env,
            logs.report(
                inv.request_id, 0.0, config.memory_mb, env.memory_used_mb, init_ms,
                status="error" if self.profile.report_status_field else None,
                error_type=error["errorType"] if self.profile.report_status_field else None,
            ),
        )  # fmt: skip
        inv.error_type = error["errorType"]
        inv.error_message = error["errorMessage"]
        response = InvokeResponse(200, json.dumps(error), self._error_headers())
        self._end_invocation(env, inv, "error", response, 0.0)

    def _run_handler(self, env: ExecutionEnvironment, inv: Invocation) -> None:
        config = self.functions[env.function]
        self._log(env, logs.start(inv.request_id))
        timeout_ms = config.timeout_s * 1000.0
        if config.is_model:
            duration = config.duration.sample(self.rng)
            if duration >= timeout_ms:
                self.loop.schedule(
                    timeout_ms,
                    lambda: self._finish(env, inv, {"status": "timeout"}, timeout_ms),
                )
                return
            failed = config.error_rate > 0 and self.rng.random() < config.error_rate
            reply: dict[str, Any] = (
                {"status": "error", "error": self._model_error(inv)}
                if failed
                else {"status": "ok", "payload": "null"}
            )
            self.loop.schedule(
                duration, lambda: self._finish(env, inv, reply, duration)
            )
            return
        base_ms = self.rng.uniform(
            0.8, 3.2
        )  # the handler's own run time outside sleeps
        start = self.wall_ms()
        deadline = start + timeout_ms
        assert env.process is not None
        env.process.send(
            {
                "op": "invoke",
                "event": inv.payload,
                "start_ms": start,
                "context": self._context_fields(config, env, inv, deadline),
            }
        )

        def on_reply(reply: dict[str, Any]) -> None:
            status = reply.get("status")
            if status in ("timeout", "guard"):
                duration = timeout_ms
            else:
                duration = min(
                    base_ms + float(reply.get("elapsed_ms", 0.0)), timeout_ms
                )
            self._schedule_output(env, reply.get("output", []), inv.request_id, 0.0)
            self.loop.schedule(
                duration, lambda: self._finish(env, inv, reply, duration)
            )

        guard = min(self.wall_guard_s, config.timeout_s)
        self._pending.append(_Pending(env, guard, on_reply))

    def _model_error(self, inv: Invocation) -> dict[str, Any]:
        return {
            "errorMessage": "Simulated failure (error_rate)",
            "errorType": "Exception",
            "requestId": inv.request_id,
            "stackTrace": [],
        }

    def _finish(
        self,
        env: ExecutionEnvironment,
        inv: Invocation,
        reply: dict[str, Any],
        duration_ms: float,
    ) -> None:
        """The handler returned, raised, timed out or exited: log, bill, answer."""
        config = self.functions[env.function]
        status = reply.get("status")
        report_status: str | None = None
        error_type: str | None = None
        if status == "ok":
            payload = reply["payload"]
            size = len(payload.encode())
            if (
                size > self.profile.sync_response_limit
                and inv.invocation_type == "RequestResponse"
            ):
                error = {
                    "errorMessage": (
                        f"Response payload size ({size} bytes) exceeded maximum allowed "
                        f"payload size ({self.profile.sync_response_limit} bytes)."
                    ),
                    "errorType": "Function.ResponseSizeTooLarge",
                }
                outcome: Outcome = "error"
                response = InvokeResponse(200, json.dumps(error), self._error_headers())
                inv.error_type, inv.error_message = (
                    error["errorType"],
                    error["errorMessage"],
                )
            else:
                outcome = "success"
                response = InvokeResponse(200, payload, self._version_header())
        elif status == "error":
            error = reply["error"]
            self._log(env, logs.error_lines(error))
            outcome = "error"
            inv.error_type, inv.error_message = (
                error["errorType"],
                error["errorMessage"],
            )
            response = InvokeResponse(200, json.dumps(error), self._error_headers())
        elif status in ("timeout", "guard"):
            outcome = "timeout"
            seconds = config.timeout_s
            if self.profile.timeout_format == "sandbox":
                error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {inv.request_id} Error: Task timed out after {seconds:.2f} seconds",
                }
            else:
                error = {
                    "errorMessage": f"{self.iso()} {inv.request_id} Task timed out after {seconds:.2f} seconds"
                }
            if self.profile.timeout_log_line:
                self._log(
                    env,
                    f"{self.iso()} {inv.request_id} Task timed out after {seconds:.2f} seconds",
                )
            inv.error_type = error.get("errorType", "Timeout")
            inv.error_message = error["errorMessage"]
            response = InvokeResponse(200, json.dumps(error), self._error_headers())
            report_status = "timeout"
        else:  # the process exited or died
            outcome = "exit"
            error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited without providing a reason",
            }
            inv.error_type, inv.error_message = (
                error["errorType"],
                error["errorMessage"],
            )
            response = InvokeResponse(200, json.dumps(error), self._error_headers())
            report_status, error_type = "error", "Runtime.ExitError"
        self._log(env, logs.end(inv.request_id))
        show_status = self.profile.report_status_field
        self._log(
            env,
            logs.report(
                inv.request_id, duration_ms, config.memory_mb, env.memory_used_mb,
                inv.init_ms if inv.cold else None,
                status=report_status if show_status else None,
                error_type=error_type if show_status else None,
            ),
        )  # fmt: skip
        if outcome in ("timeout", "exit"):
            self._reset(env)
        self._end_invocation(env, inv, outcome, response, duration_ms)

    def _end_invocation(
        self,
        env: ExecutionEnvironment,
        inv: Invocation,
        outcome: Outcome,
        response: InvokeResponse,
        duration_ms: float,
    ) -> None:
        inv.duration_ms = round(duration_ms, 2)
        inv.billed_ms = logs.billed_ms(duration_ms)
        inv.ended_ms = self.now_ms
        env.current = None
        env.invocations += 1
        env.last_used_ms = self.now_ms
        if env.state != "reset":
            self._set_state(env, "idle")
        self._release_environment(env)
        config = self.functions[env.function]
        self._record(
            "invoke.end",
            inv.function,
            inv.request_id,
            env.env_id,
            {
                "outcome": outcome,
                "duration_ms": inv.duration_ms,
                "billed_ms": inv.billed_ms,
                "memory_mb": config.memory_mb,
                "cold": inv.cold,
                "init_ms": round(inv.init_ms, 2) if inv.cold and inv.init_ms else None,
                "started_ms": inv.started_ms,
                "error_type": inv.error_type,
                "type": "async" if inv.invocation_type == "Event" else "sync",
            },
        )
        self._complete(inv, outcome, response)
        if env.code_version != self.code_versions[env.function]:
            self._reap(env)  # built from code that has since been replaced
        else:
            self._reap_later(env)

    def _complete(
        self, inv: Invocation, outcome: Outcome, response: InvokeResponse
    ) -> None:
        inv.outcome = outcome
        inv.response = response
        if inv.on_done is not None:
            inv.on_done(inv)

    def _error_headers(self) -> dict[str, str]:
        return {"X-Amz-Function-Error": "Unhandled", **self._version_header()}

    def _reset(self, env: ExecutionEnvironment) -> None:
        """Shut the runtime down; module state is lost, /tmp is kept (LAMBDA-FACTS 1.4)."""
        if env.process is not None:
            env.process.kill()
            env.process = None
        env.initialised = False
        self._set_state(env, "reset")

    def _reap_later(self, env: ExecutionEnvironment) -> None:
        used = env.last_used_ms

        def reap() -> None:
            if env.current is None and env.last_used_ms == used and not env.provisioned:
                self._reap(env)

        self.loop.schedule(self.profile.idle_reap_ms, reap)

    def _reap(self, env: ExecutionEnvironment) -> None:
        if env.process is not None:
            env.process.kill()
            env.process = None
        if env.tmp_dir is not None:
            shutil.rmtree(env.tmp_dir, ignore_errors=True)
        if env in self.environments[env.function]:
            self.environments[env.function].remove(env)
        self._record("env.reaped", env.function, env_id=env.env_id)

    # -- asynchronous invocation -----------------------------------------------------

    def _poll_async(self, event: AsyncEvent) -> None:
        """The internal poller takes ``event`` and tries to run it."""
        config = self.functions[event.function]
        if event.state not in ("queued", "waiting"):
            return
        if config.reserved_concurrency == 0:
            # Straight to failure handling, no attempt (LAMBDA-FACTS 2.3).
            self._remove_from_queue(event)
            self._async_failed(event, "ZeroReservedConcurrency", response=None)
            return
        event.attempts += 1
        inv = Invocation(
            request_id=event.request_id,
            function=event.function,
            invocation_type="Event",
            payload=event.payload,
            received_ms=event.received_ms,
            attempt=event.attempts,
            on_done=lambda done: self._async_attempt_done(event, done),
        )
        self.invocations[inv.request_id] = inv
        if not self._dispatch(inv):
            # A throttle is not a failed attempt: back off and try again (2.3).
            event.attempts -= 1
            event.throttles += 1
            delay = min(1000.0 * 2 ** (event.throttles - 1), THROTTLE_BACKOFF_MAX_MS)
            self._wait_or_expire(event, delay, "throttle")
            return
        self._remove_from_queue(event)
        event.state = "running"
        event.attempt_log.append(inv)

    def _remove_from_queue(self, event: AsyncEvent) -> None:
        queue = self.async_queue[event.function]
        if event in queue:
            queue.remove(event)

    def _wait_or_expire(self, event: AsyncEvent, delay_ms: float, why: str) -> None:
        """Schedule the next try, or give up now if it could not start in time."""
        config = self.functions[event.function]
        age_limit_ms = config.max_event_age_s * 1000.0
        if self.now_ms + delay_ms - event.received_ms > age_limit_ms:
            self._remove_from_queue(event)
            self._async_failed(
                event, "EventAgeExceeded", response=self._last_response(event)
            )
            return
        event.state = "waiting"
        self._record(
            "async.wait", event.function, event.request_id,
            data={"why": why, "delay_ms": delay_ms, "attempts": event.attempts},
        )  # fmt: skip
        self.loop.schedule(delay_ms, lambda: self._poll_async(event))

    def _last_response(self, event: AsyncEvent) -> Invocation | None:
        return event.attempt_log[-1] if event.attempt_log else None

    def _async_attempt_done(self, event: AsyncEvent, inv: Invocation) -> None:
        if inv.outcome == "throttled":
            return
        config = self.functions[event.function]
        if inv.outcome == "success":
            event.state = "succeeded"
            self._record(
                "async.succeeded",
                event.function,
                event.request_id,
                data={"attempts": event.attempts},
            )
            if config.on_success:
                self._deliver_record(event, config.on_success, "Success", inv)
            return
        retries_used = event.attempts - 1
        if retries_used >= config.max_retry_attempts:
            self._async_failed(event, "RetriesExhausted", response=inv)
            return
        self._wait_or_expire(event, RETRY_DELAYS_MS[retries_used], "retry")

    def _async_failed(
        self, event: AsyncEvent, condition: str, *, response: Invocation | None
    ) -> None:
        """Send a failed event to its DLQ and on-failure destination, then drop it."""
        config = self.functions[event.function]
        event.state = condition
        sent: list[str] = []
        if config.dead_letter_queue:
            self._dead_letter(event, config.dead_letter_queue, response)
            sent.append(config.dead_letter_queue)
        if config.on_failure:
            self._deliver_record(event, config.on_failure, condition, response)
            sent.append(config.on_failure)
        self._record(
            "async.dropped", event.function, event.request_id,
            data={"condition": condition, "attempts": event.attempts, "sent_to": sent},
        )  # fmt: skip

    def _dead_letter(
        self, event: AsyncEvent, queue_name: str, inv: Invocation | None
    ) -> None:
        message = (inv.error_message or "") if inv else ""
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": message[:1024]},
        }
        self._send(queue_name, event.payload, attributes)
        self._record(
            "async.dead_letter",
            event.function,
            event.request_id,
            data={"queue": queue_name},
        )

    def _deliver_record(
        self, event: AsyncEvent, target: str, condition: str, inv: Invocation | None
    ) -> None:
        """Send the invocation record of LAMBDA-FACTS 4.3 to a destination."""
        config = self.functions[event.function]
        arn = (
            f"arn:aws:lambda:{self.account.region}:{self.account.account_id}:"
            f"function:{config.name}:$LATEST"
        )
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": self.iso(),
            "requestContext": {
                "requestId": event.request_id,
                "functionArn": arn,
                "condition": condition,
                "approximateInvokeCount": event.attempts,
            },
            "requestPayload": json.loads(event.payload),
        }
        if inv is not None and inv.response is not None:
            context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
            if inv.outcome != "success":
                context["functionError"] = "Unhandled"
            record["responseContext"] = context
            record["responsePayload"] = inv.response.json()
        body = json.dumps(record)
        if target in self.functions:
            self.invoke(target, raw_payload=body, invocation_type="Event")
        else:
            self._send(target, body, {})
        self._record(
            "async.destination", event.function, event.request_id,
            data={"target": target, "condition": condition},
        )  # fmt: skip

    def _send(
        self, queue_name: str, body: str, attributes: dict[str, dict[str, str]]
    ) -> None:
        message_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.queue(queue_name).messages.append(
            QueueMessage(message_id, body, attributes, self.now_ms)
        )
        self._record("queue.sent", data={"queue": queue_name, "message_id": message_id})

    # -- handler process plumbing ----------------------------------------------------

    def _start_process(
        self, env: ExecutionEnvironment, config: FunctionConfig
    ) -> HandlerProcess:
        if env.tmp_dir is None:
            if self._tmp_root is None:
                self._tmp_root = Path(tempfile.mkdtemp(prefix="lambdalab-"))
            env.tmp_dir = self._tmp_root / env.env_id
            env.tmp_dir.mkdir()
        assert config.code_dir is not None
        env.process = HandlerProcess(config.code_dir)
        return env.process

    def _lambda_environ(
        self, config: FunctionConfig, env: ExecutionEnvironment
    ) -> dict[str, str]:
        region = self.account.region
        values = dict(config.environment)
        values.update(
            {
                "_HANDLER": config.handler or "",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "AWS_LAMBDA_FUNCTION_NAME": config.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_INITIALIZATION_TYPE": (
                    "provisioned-concurrency" if env.provisioned else "on-demand"
                ),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": env.log_stream,
                "LAMBDA_TASK_ROOT": "/var/task",
                "TZ": ":UTC",
            }
        )
        return values

    def _context_fields(
        self,
        config: FunctionConfig,
        env: ExecutionEnvironment,
        inv: Invocation,
        deadline_ms: float,
    ) -> dict[str, Any]:
        return {
            "function_name": config.name,
            "function_version": "$LATEST",
            "invoked_function_arn": (
                f"arn:aws:lambda:{self.account.region}:{self.account.account_id}:"
                f"function:{config.name}"
            ),
            "memory_limit_in_mb": str(config.memory_mb),
            "aws_request_id": inv.request_id,
            "log_group_name": f"/aws/lambda/{config.name}",
            "log_stream_name": env.log_stream,
            "deadline_ms": deadline_ms,
        }

    def _schedule_output(
        self,
        env: ExecutionEnvironment,
        output: list[list[Any]],
        request_id: str,
        offset_ms: float,
    ) -> None:
        """Log what the handler printed at the virtual instant it printed it."""
        for after_ms, line in output:
            delay = offset_ms + max(0.0, float(after_ms))
            self.loop.schedule(delay, partial(self._log, env, str(line), request_id))

    # -- trace -----------------------------------------------------------------------

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _record(
        self,
        kind: str,
        function: str = "",
        request_id: str = "",
        env_id: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        self.trace.append(
            TraceRecord(self.loop.now, kind, function, request_id, env_id, data or {})
        )

    def _log(
        self, env: ExecutionEnvironment, message: str, request_id: str = ""
    ) -> None:
        self._record(
            "log",
            env.function,
            request_id or (env.current.request_id if env.current else ""),
            env.env_id,
            {"stream": env.log_stream, "message": message},
        )
