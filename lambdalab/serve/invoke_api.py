"""A local Lambda Invoke API, so the AWS CLI and boto3 can drive the live lab.

``POST /2015-03-31/functions/{name}/invocations`` answers as Lambda does on the wire
(LAMBDA-FACTS 1.1-1.6, 2.3). It runs as an aiohttp application on the app's own asyncio
loop: a synchronous call holds its HTTP connection, awaiting the invocation while the
lesson screen's tick moves virtual time, so the caller waits exactly as long as the
learner watches the lab take.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from lambdalab.course.session import LabSession
from lambdalab.engine.model import ResourceNotFound
from lambdalab.engine.service import Invocation, InvocationType
from lambdalab.errors import LambdaLabError

log = logging.getLogger(__name__)

INVOKE_PATH = "/2015-03-31/functions/{function}/invocations"
LOG_TAIL_BYTES = 4096
"""X-Amz-Log-Result carries the last 4 KB of the invocation's log (LAMBDA-FACTS 1.1)."""
READ_CAP_BYTES = 16 * 1024 * 1024
"""Bodies past this are refused with 413 before being read to the end."""
POLL_S = 0.005
"""How often a held synchronous request looks at its invocation."""
INVOCATION_TYPES: tuple[InvocationType, ...] = ("RequestResponse", "Event", "DryRun")
LOG_TYPES = ("None", "Tail")

_PARTIAL_ARN = re.compile(r"^(?:\d{12}:)?function:([^:]+)(?::(.+))?$")


@dataclass(frozen=True)
class ApiCall:
    """What a client asked for, for the learner to see arrive."""

    function: str
    invocation_type: str
    status_code: int
    request_id: str
    user_agent: str


SessionSource = Callable[[], LabSession | None]
"""Returns the lab the API drives now (the open lesson's), or None."""


def error_response(
    status: int, error_type: str, message: str, **extra: Any
) -> web.Response:
    """An AWS JSON error: the type in ``x-amzn-ErrorType``, ``Type`` and ``message``."""
    body = {"Type": "User", "message": message, **extra}
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; OSError (e.g. port in use) as is."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def check_port(port: int, host: str = "127.0.0.1") -> None:
    """Refuse a port the Invoke API could not listen on, before the app starts."""
    if not 0 <= port <= 65535:
        raise LambdaLabError(f"--api-port {port} is not a TCP port; use 1024-65535.")
    try:
        bind_socket(host, port).close()
    except OSError as exc:
        raise LambdaLabError(
            f"The Invoke API cannot listen on {host}:{port}: {exc.strerror}. Choose "
            "another --api-port."
        ) from None


def split_function_name(
    raw: str, query_qualifier: str | None
) -> tuple[str, str | None]:
    """The function name and qualifier from a name, a partial ARN or a full ARN."""
    qualifier: str | None = None
    name = raw
    if raw.startswith("arn:"):
        parts = raw.split(":")
        if len(parts) in (7, 8) and parts[5] == "function":
            name = parts[6]
            qualifier = parts[7] if len(parts) == 8 else None
    elif match := _PARTIAL_ARN.match(raw):
        name, qualifier = match[1], match[2]
    elif ":" in raw:
        name, _, qualifier = raw.partition(":")
    return name, qualifier or query_qualifier or None


def log_tail(session: LabSession, request_id: str) -> str:
    """Base64 of the last 4 KB of one invocation's log lines, as LogType Tail gives."""
    lines = [
        record.data["message"]
        for record in session.service.trace.of_kind("log")
        if record.request_id == request_id
    ]
    text = "".join(f"{line}\n" for line in lines).encode()
    return base64.b64encode(text[-LOG_TAIL_BYTES:]).decode("ascii")


class InvokeApi:
    """The Invoke API of whichever lab ``sessions`` returns, on 127.0.0.1 by default."""

    def __init__(
        self,
        sessions: SessionSource,
        *,
        on_call: Callable[[ApiCall], None] | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self._sessions = sessions
        self._on_call = on_call
        self._poll_s = poll_s
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def make_app(self) -> web.Application:
        """The aiohttp application (tests can mount it on their own server)."""
        app = web.Application(client_max_size=READ_CAP_BYTES)
        app.router.add_post(INVOKE_PATH, self.handle_invoke)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0 picks a free port); return the port."""
        sock = bind_socket(host, port)
        runner = web.AppRunner(self.make_app(), access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.port = int(sock.getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening; held requests are closed."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the operation ---------------------------------------------------------------

    async def handle_invoke(self, request: web.Request) -> web.StreamResponse:
        """Invoke: validate like Lambda, run in the lab, answer with its headers."""
        invocation_type = request.headers.get(
            "X-Amz-Invocation-Type", "RequestResponse"
        )
        log_type = request.headers.get("X-Amz-Log-Type", "None")
        for field_name, value, allowed in (
            ("invocationType", invocation_type, INVOCATION_TYPES),
            ("logType", log_type, LOG_TYPES),
        ):
            if value not in allowed:
                return error_response(
                    400,
                    "ValidationException",
                    f"1 validation error detected: Value '{value}' at '{field_name}' "
                    "failed to satisfy constraint: Member must satisfy enum value set: "
                    f"[{', '.join(allowed)}]",
                )
        name, qualifier = split_function_name(
            request.match_info["function"], request.query.get("Qualifier")
        )
        session = self._sessions()
        if session is None:
            return error_response(
                404,
                "ResourceNotFoundException",
                f"Function not found: {name}; no lab is open in lambdalab, so open a "
                "lesson first.",
            )
        service = session.service
        if name not in service.functions or qualifier not in (None, "$LATEST"):
            arn = f"arn:aws:lambda:{service.account.region}:{service.account.account_id}:function:{name}"
            if qualifier:
                arn += f":{qualifier}"
            return error_response(
                404, "ResourceNotFoundException", f"Function not found: {arn}"
            )
        body = await _read_body(request)
        if body is None:
            limit = service.profile.sync_request_limit
            return error_response(
                413,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        text, problem = _decode_payload(body)
        if problem:
            return error_response(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {problem}",
            )
        inv = self._start(session, name, invocation_type, text)  # type: ignore[arg-type]
        while not inv.done:
            if session.service is not service or self._sessions() is not session:
                return error_response(
                    500,
                    "ServiceException",
                    f"The lab was reset or closed while request {inv.request_id} was "
                    "running; invoke again.",
                )
            await asyncio.sleep(self._poll_s)
        response = self._answer(session, inv, log_type == "Tail")
        if self._on_call is not None:
            self._on_call(
                ApiCall(
                    name,
                    invocation_type,
                    response.status,
                    inv.request_id,
                    request.headers.get("User-Agent", "").split(" ")[0],
                )
            )
        return response

    def _start(
        self,
        session: LabSession,
        name: str,
        invocation_type: InvocationType,
        text: str | None,
    ) -> Invocation:
        """Start the invocation in the lab as if the learner had pressed a key."""

        def changed(_inv: Invocation) -> None:
            session.revision += 1

        try:
            inv = session.service.invoke(
                name, None, invocation_type, raw_payload=text, on_done=changed
            )
        except ResourceNotFound:  # deleted between the check and now
            raise web.HTTPNotFound() from None
        session.history.append(inv)
        session.revision += 1
        return inv

    def _answer(
        self, session: LabSession, inv: Invocation, tail: bool
    ) -> web.StreamResponse:
        result = inv.response
        assert result is not None
        headers = dict(result.headers)
        headers["x-amzn-RequestId"] = inv.request_id
        if (
            tail
            and inv.invocation_type == "RequestResponse"
            and result.status_code == 200
        ):
            headers["X-Amz-Log-Result"] = log_tail(session, inv.request_id)
        if result.status_code in (202, 204):
            return web.Response(status=result.status_code, headers=headers)
        return web.Response(
            status=result.status_code,
            body=result.payload.encode(),
            content_type="application/json",
            headers=headers,
        )


async def _read_body(request: web.Request) -> bytes | None:
    """The whole body, or None when it is over the read cap."""
    if request.content_length is not None and request.content_length > READ_CAP_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > READ_CAP_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_payload(body: bytes) -> tuple[str | None, str]:
    """The payload text (None when empty: Lambda then sends ``{}``) or why it is bad."""
    if not body.strip():
        return None, ""
    try:
        text = body.decode("utf-8")
        json.loads(text)
    except UnicodeDecodeError:
        return None, "the payload is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return text, ""
