"""The process that hosts one execution environment's handler code.

Run as a script by ``sandbox.HandlerProcess``; it imports nothing from lambdalab, so a
cold start costs one interpreter start. It speaks JSON lines on the file descriptors that
were its stdin and stdout; the handler's own stdin and stdout are redirected, so nothing
the handler does can corrupt the protocol.

Inside, time is virtual: ``time.sleep`` advances the environment's clock instead of
blocking, and every clock the handler can read reports the simulated instant. Paths under
``/tmp`` are mapped to this environment's own folder, which survives a reset as on Lambda.

``import boto3`` gives the lab's stand-in (``_boto3_shim.py``, loaded from this folder
without importing lambdalab). The S3 writes a handler makes are returned with the reply
as ``effects``, a list of ``{"service": "s3", "action": "PutObject", "bucket", "key",
"size", ...}`` in call order, for the lab to apply to its buckets. A call the
function's execution role (``ROLE_FILE`` in the code folder) does not allow raises
AccessDenied in the handler and comes back as an effect marked ``denied``.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import importlib.util
import io
import json
import logging
import os
import sys
import time
import traceback
import types
from typing import Any

_REAL_OPEN = builtins.open
_WORKER_FILE = os.path.abspath(__file__)
_SHIM_FILE = os.path.join(os.path.dirname(_WORKER_FILE), "_boto3_shim.py")
ROLE_FILE = ".lambdalab-iam.json"
"""Execution roles the lab grants, beside the code; absent means no role is enforced."""


class _Deadline(BaseException):
    """Raised inside the handler when virtual time reaches the invocation's deadline."""


class _Clock:
    """The environment's virtual wall clock, in epoch milliseconds."""

    def __init__(self) -> None:
        self.now_ms = 0.0
        self.deadline_ms: float | None = None

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        target = self.now_ms + float(seconds) * 1000.0
        if self.deadline_ms is not None and target >= self.deadline_ms:
            self.now_ms = self.deadline_ms
            raise _Deadline
        self.now_ms = target

    def check(self) -> None:
        if self.deadline_ms is not None and self.now_ms >= self.deadline_ms:
            raise _Deadline


CLOCK = _Clock()


def _install_clock() -> None:
    time.sleep = CLOCK.sleep  # type: ignore[assignment]
    time.time = lambda: CLOCK.now_ms / 1000.0
    time.time_ns = lambda: int(CLOCK.now_ms * 1_000_000)
    time.monotonic = time.perf_counter = lambda: CLOCK.now_ms / 1000.0
    time.monotonic_ns = time.perf_counter_ns = lambda: int(CLOCK.now_ms * 1_000_000)
    real_gmtime, real_localtime = time.gmtime, time.localtime
    time.gmtime = lambda secs=None: real_gmtime(
        CLOCK.now_ms / 1000 if secs is None else secs
    )
    time.localtime = lambda secs=None: real_localtime(
        CLOCK.now_ms / 1000 if secs is None else secs
    )

    class VirtualDateTime(_dt.datetime):
        @classmethod
        def now(cls, tz: _dt.tzinfo | None = None) -> Any:
            utc = _dt.datetime.fromtimestamp(CLOCK.now_ms / 1000, _dt.UTC)
            local = utc if tz is not None else utc.replace(tzinfo=None)
            value = local.astimezone(tz) if tz is not None else local
            return cls.combine(value.date(), value.timetz())

        @classmethod
        def utcnow(cls) -> Any:
            return cls.now(_dt.UTC).replace(tzinfo=None)

        @classmethod
        def today(cls) -> Any:
            return cls.now()

    class VirtualDate(_dt.date):
        @classmethod
        def today(cls) -> Any:
            d = VirtualDateTime.now().date()
            return cls(d.year, d.month, d.day)

    _dt.datetime = VirtualDateTime  # type: ignore[misc]
    _dt.date = VirtualDate  # type: ignore[misc]


def _install_tmp(tmp_dir: str, keep: list[str]) -> None:
    """Map ``/tmp`` paths to this environment's folder (its own ephemeral storage).

    Paths under ``keep`` (the code, Python itself) are real even when they live in /tmp.
    """
    keep_prefixes = tuple(os.path.join(k, "") for k in keep + [tmp_dir] if k)
    keep_bytes = tuple(os.fsencode(k) for k in keep_prefixes)

    def remap(path: Any) -> Any:
        if isinstance(path, int):
            return path
        try:
            text = os.fspath(path)
        except TypeError:
            return path
        if isinstance(text, bytes):
            if text.startswith(keep_bytes):
                return text
            if text == b"/tmp" or text.startswith(b"/tmp/"):
                return os.fsencode(tmp_dir) + text[4:]
            return text
        if text.startswith(keep_prefixes):
            return text
        if text == "/tmp" or text.startswith("/tmp/"):
            return tmp_dir + text[4:]
        return path

    def wrap1(fn: Any) -> Any:
        def wrapped(path: Any, *args: Any, **kwargs: Any) -> Any:
            return fn(remap(path), *args, **kwargs)

        return wrapped

    def wrap2(fn: Any) -> Any:
        def wrapped(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
            return fn(remap(src), remap(dst), *args, **kwargs)

        return wrapped

    builtins.open = io.open = wrap1(_REAL_OPEN)  # type: ignore[assignment]
    for name in (
        "open", "stat", "lstat", "listdir", "scandir", "remove", "unlink", "mkdir",
        "makedirs", "rmdir", "access", "chmod",
    ):  # fmt: skip
        setattr(os, name, wrap1(getattr(os, name)))
    for name in ("rename", "replace"):
        setattr(os, name, wrap2(getattr(os, name)))
    os.environ["TMPDIR"] = tmp_dir


class _Capture(io.TextIOBase):
    """Collects everything the handler prints or logs, in order."""

    def __init__(self) -> None:
        self.parts: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        self.parts.append((CLOCK.now_ms, text))
        return len(text)

    def writable(self) -> bool:
        return True

    def take(self, origin_ms: float) -> list[tuple[float, str]]:
        """Return what was written as (ms after ``origin_ms``, line) pairs."""
        lines: list[tuple[float, str]] = []
        pending = ""
        stamp = 0.0
        for when, text in self.parts:
            if not pending:
                stamp = when
            pending += text
            while "\n" in pending:
                line, pending = pending.split("\n", 1)
                lines.append((stamp - origin_ms, line))
                stamp = when
        if pending:
            lines.append((stamp - origin_ms, pending))
        self.parts.clear()
        return lines


CAPTURE = _Capture()
REQUEST_ID = [""]


class _LambdaLogHandler(logging.Handler):
    """Python's root log handler on Lambda: tab-separated, UTC, with the request id."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stamp = _dt.datetime.fromtimestamp(record.created, _dt.UTC)
            when = (
                stamp.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{stamp.microsecond // 1000:03d}Z"
            )
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            CAPTURE.write(f"[{record.levelname}]\t{when}\t{REQUEST_ID[0]}\t{message}\n")
        except Exception:  # a broken log call must not break the invocation
            self.handleError(record)


class _Context:
    """The Python context object of LAMBDA-FACTS section 8."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = fields["function_version"]
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: str = fields["memory_limit_in_mb"]
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = fields["log_group_name"]
        self.log_stream_name: str = fields["log_stream_name"]
        self.identity = _Identity()
        self.client_context = None
        self._deadline_ms: float = fields["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_ms - CLOCK.now_ms), 0)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _Identity:
    cognito_identity_id = None
    cognito_identity_pool_id = None


class _State:
    handler: Any = None
    module_name = ""
    code_dir = ""
    shim: Any = None


def _install_boto3_shim() -> None:
    """Make ``import boto3`` inside handler code find the lab's stand-in.

    It always wins over a real boto3: that one would talk to AWS, not to the lab.
    """
    spec = importlib.util.spec_from_file_location("boto3", _SHIM_FILE)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with us
        return
    shim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shim)
    shim.install(sys.modules, shim, lambda: CLOCK.now_ms)
    _State.shim = shim


def _take_effects(reply: dict[str, Any]) -> None:
    """Attach what the code asked S3 to do in this phase (kept even if it then failed)."""
    if _State.shim is not None:
        effects = _State.shim.take_effects()
        if effects:
            reply["effects"] = effects


def _frames(exc: BaseException) -> list[str]:
    """The stack as Lambda prints it: user frames only, paths under /var/task."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) in (_WORKER_FILE, _SHIM_FILE):
            continue  # the lab's own frames (the sandbox boto3 stands in for botocore)
        if frame.filename.startswith(_State.code_dir + os.sep):
            frame.filename = "/var/task/" + frame.filename[len(_State.code_dir) + 1 :]
        frames.append(frame)
    return traceback.format_list(traceback.StackSummary.from_list(frames))


def _error(
    error_type: str, message: str, request_id: str | None, stack: list[str]
) -> dict[str, Any]:
    doc: dict[str, Any] = {"errorMessage": message, "errorType": error_type}
    if request_id is not None:
        doc["requestId"] = request_id
    doc["stackTrace"] = stack
    return doc


def _do_init(msg: dict[str, Any]) -> dict[str, Any]:
    CLOCK.now_ms = float(msg["start_ms"])
    CLOCK.deadline_ms = float(msg["deadline_ms"])
    start = CLOCK.now_ms
    code_dir = os.path.abspath(msg["code_dir"])
    _State.code_dir = code_dir
    if _State.shim is not None:
        # The lab's execution roles, if it has any (course layer, LabSecurity).
        _State.shim.use_role_file(os.path.join(code_dir, ROLE_FILE))
    rel_path, func_name = msg["file"], msg["function"]
    module_name = rel_path[:-3].replace("/", ".")
    _State.module_name = module_name
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    path = os.path.join(code_dir, rel_path)
    status: dict[str, Any] = {"status": "ok"}
    try:
        if not os.path.isfile(path):
            raise ModuleNotFoundError(f"No module named '{module_name}'")
        # Compiled from source every time: a cached .pyc can outlive an edit made
        # within the same second, and the learner must always run what they saved.
        with _REAL_OPEN(path, "rb") as source:
            code = compile(source.read(), path, "exec")
        module = types.ModuleType(module_name)
        module.__file__ = path
        sys.modules[module_name] = module
        exec(code, module.__dict__)
        handler = getattr(module, func_name, None)
        if handler is None:
            status = {
                "status": "error",
                "error": _error(
                    "Runtime.HandlerNotFound",
                    f"Handler '{func_name}' missing on module '{module_name}'",
                    None,
                    [],
                ),
            }
        else:
            _State.handler = handler
    except _Deadline:
        status = {"status": "timeout"}
    except SyntaxError as exc:
        status = {
            "status": "error",
            "error": _error(
                "Runtime.UserCodeSyntaxError",
                f"Syntax error in module '{module_name}': {exc}",
                None,
                [],
            ),
        }
    except ImportError as exc:
        status = {
            "status": "error",
            "error": _error(
                "Runtime.ImportModuleError",
                f"Unable to import module '{module_name}': {exc}",
                None,
                [],
            ),
        }
    except SystemExit as exc:
        status = {"status": "exit", "code": _exit_code(exc)}
    except BaseException as exc:
        # An exception in module code is reported as itself, with an empty requestId.
        status = {
            "status": "error",
            "error": _error(type(exc).__name__, str(exc), "", _frames(exc)),
        }
    status["elapsed_ms"] = CLOCK.now_ms - start
    status["output"] = CAPTURE.take(start)
    _take_effects(status)
    return status


def _do_invoke(msg: dict[str, Any]) -> dict[str, Any]:
    context_fields = msg["context"]
    request_id = context_fields["aws_request_id"]
    REQUEST_ID[0] = request_id
    CLOCK.now_ms = float(msg["start_ms"])
    CLOCK.deadline_ms = float(context_fields["deadline_ms"])
    start = CLOCK.now_ms
    reply: dict[str, Any]
    try:
        event = json.loads(msg["event"])
        result = _State.handler(event, _Context(context_fields))
        CLOCK.check()
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            reply = {
                "status": "error",
                "error": _error(
                    "Runtime.MarshalError",
                    f"Unable to marshal response: {exc}",
                    request_id,
                    [],
                ),
            }
        else:
            reply = {"status": "ok", "payload": payload}
    except _Deadline:
        reply = {"status": "timeout"}
    except SystemExit as exc:
        reply = {"status": "exit", "code": _exit_code(exc)}
    except BaseException as exc:
        if CLOCK.deadline_ms is not None and CLOCK.now_ms >= CLOCK.deadline_ms:
            reply = {"status": "timeout"}
        else:
            error = _error(type(exc).__name__, str(exc), request_id, _frames(exc))
            reply = {"status": "error", "error": error}
    reply["elapsed_ms"] = CLOCK.now_ms - start
    reply["output"] = CAPTURE.take(start)
    _take_effects(reply)
    return reply


def _exit_code(exc: SystemExit) -> int:
    """The status sys.exit would give the process: None is 0, text is 1."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def _die_with_parent() -> None:
    """Ask Linux to end this process if lambdalab itself goes away."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except Exception:
        pass


def main() -> None:
    _die_with_parent()
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = _REAL_OPEN(os.devnull, encoding="utf-8")
    sys.stdout = sys.stderr = CAPTURE
    root = logging.getLogger()
    root.handlers[:] = [_LambdaLogHandler()]
    _install_boto3_shim()
    _install_clock()
    for line in proto_in:
        msg = json.loads(line)
        if msg["op"] == "init":
            os.environ.clear()
            os.environ.update(msg["environ"])
            keep = [os.path.abspath(msg["code_dir"]), sys.prefix, sys.base_prefix]
            _install_tmp(msg["tmp_dir"], keep + [p for p in sys.path if p])
            reply: dict[str, Any] = _do_init(msg)
        else:
            reply = _do_invoke(msg)
        proto_out.write(json.dumps(reply) + "\n")
        proto_out.flush()
        if reply.get("status") == "exit":
            os._exit(0)


if __name__ == "__main__":
    main()
