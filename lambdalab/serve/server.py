"""``lambdalab serve``: the app in learners' browsers, one process per learner.

Built on textual-serve's ``Server`` and ``AppService`` with what a classroom needs on
top: a learner name before the app starts (so progress is never shared between tabs),
a cap on learners with a friendly page when full, pages that ask no outside host for
anything (the package's own fonts), URLs taken from the address the learner typed (so
binding 0.0.0.0 just works), and an instructor view of who is where and who is stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import shlex
import sys
import time
from asyncio.subprocess import Process
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import aiohttp
import jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from lambdalab.course.progress import learner_folder_name
from lambdalab.course.session import plural
from lambdalab.errors import ProgressError
from lambdalab.serve.invoke_api import READ_CAP_BYTES, error_response
from lambdalab.serve.status import (
    STUCK_AFTER_S,
    STUCK_FAILED_CHECKS,
    STUCK_HINTS,
    LearnerStatus,
    read_statuses,
    stuck_reasons,
)

log = logging.getLogger(__name__)
ACCESS_LOG = "lambdalab.serve.access"
"""The logger of one line per HTTP request, at DEBUG (shown with --access-log)."""
ACCESS_LINE = "%(asctime)s %(message)s"
"""An access-log line on the console: the time, then the request; no log level."""
NO_NAME = (
    "No name given: type a name of 1-40 letters, digits, spaces, dots, hyphens or "
    "underscores, starting with a letter or digit, then press Start."
)

TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_MAX_LEARNERS = 30
FULL_RETRY_S = 15
"""The full page tries again this often."""
INSTRUCTOR_REFRESH_S = 5
STOP_GRACE_S = 10.0
"""How long a learner's app may take to quit before it is killed."""

LearnerCommand = Callable[[str, Path, str | None], str]
"""(learner name, status file, the learner's Invoke API URL or None) -> the shell
command that runs that learner's app."""
API_ROUTE = "/{learner}/2015-03-31/functions/{function}/invocations"
"""The classroom's Invoke API: each learner's lab under their own path prefix."""
_FORWARD_REQUEST = (
    "Content-Type",
    "User-Agent",
    "X-Amz-Invocation-Type",
    "X-Amz-Log-Type",
    "X-Amz-Client-Context",
)
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "date", "server"}
MISSING_KEY = (
    "This page needs the instructor key: add ?key=KEY to the address. `lambdalab "
    "serve` printed the whole address on its 'Instructor view' line when it started "
    "(the key is the one given with --instructor-key, or a random one)."
)
WRONG_KEY = (
    "The key in this address is not this classroom's instructor key. Copy the "
    "address from the 'Instructor view' line `lambdalab serve` printed when it "
    "started (keys are case-sensitive; a restarted server has a new random key "
    "unless --instructor-key chose one)."
)
NO_KEY = (
    "This classroom has no instructor view: it was started without an instructor "
    "key. Restart it with `lambdalab serve` (which prints a key) or pass "
    "--instructor-key."
)


def _without_key(path_qs: str) -> str:
    """A request path with any ``key`` value hidden, so no log shows the key."""
    path, sep, query = path_qs.partition("?")
    if not sep or "key" not in query:
        return path_qs
    pairs = parse_qsl(query, keep_blank_values=True)
    hidden = [(k, "***" if k == "key" else v) for k, v in pairs]
    return f"{path}?{urlencode(hidden, safe='*/')}"


def refused_name(raw: str, exc: ProgressError) -> str:
    """Why a learner name was refused, saying so plainly when none was typed."""
    return NO_NAME if not raw.strip() else str(exc)


class ClassroomAccessLogger(AbstractAccessLogger):
    """One DEBUG line per request: who, what (the key hidden), status, size, time."""

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.DEBUG)

    def log(
        self, request: web.BaseRequest, response: web.StreamResponse, time: float
    ) -> None:
        self.logger.debug(
            "%s %s %s %s %dB %.0fms",
            request.remote or "-",
            request.method,
            _without_key(request.path_qs),
            response.status,
            response.body_length,
            time * 1000,
        )


def learner_app_command(lessons: Path | None = None) -> LearnerCommand:
    """The command for one learner's app: this Python, ``lambdalab.serve.learner_app``."""

    def build(learner: str, status_file: Path, api_url: str | None) -> str:
        argv = [
            sys.executable,
            "-m",
            "lambdalab.serve.learner_app",
            "--learner",
            learner,
            "--status-file",
            str(status_file),
        ]
        if lessons is not None:
            argv += ["--lessons", str(lessons)]
        if api_url is not None:
            argv += ["--api-port", "0", "--api-url", api_url]
        # exec: the app replaces the shell textual-serve starts, one process fewer.
        return "exec " + shlex.join(argv)

    return build


@dataclass
class Seat:
    """A learner with an open session."""

    name: str
    folder: str
    since: float
    service: AppService | None = field(default=None, repr=False)


class LearnerAppService(AppService):
    """textual-serve's per-tab process, with a bounded stop."""

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        # A session of its own: Ctrl+C in the instructor's terminal reaches only the
        # server, which then tells each app to quit (and counts them), rather than
        # every app at once behind its back.
        self._process = process = await asyncio.create_subprocess_shell(
            self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(super().stop(), STOP_GRACE_S)
        except (TimeoutError, ConnectionError):
            pass
        process = self._process
        if process is None:
            return
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_S / 3)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            log.warning(
                "a learner's app did not quit within %.0f s and was killed (its "
                "progress is saved as it changes, so only an unsaved edit is lost)",
                STOP_GRACE_S * 4 / 3,
            )
        # asyncio leaves the pipes' transport open until garbage collection, which may
        # come after the loop has closed; close it while the loop still runs.
        transport = getattr(process, "_transport", None)
        if transport is not None:
            transport.close()

    @property
    def pid(self) -> int | None:
        """The learner's app process id (for memory measurements)."""
        return self._process.pid if self._process is not None else None


class ClassroomServer(Server):
    """Serve lambdalab to a classroom: names, a cap, offline pages, an instructor view."""

    def __init__(
        self,
        *,
        status_dir: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        public_url: str | None = None,
        max_learners: int = DEFAULT_MAX_LEARNERS,
        instructor_key: str = "",
        learner_command: LearnerCommand | None = None,
        title: str = "lambdalab classroom",
        api_port: int | None = None,
        access_log: bool = False,
    ) -> None:
        super().__init__(
            "lambdalab",
            host=host,
            port=port,
            title=title,
            public_url=public_url,
            templates_path=TEMPLATES,
        )
        self.fixed_url = public_url.rstrip("/") if public_url else None
        """Where learners reach us, when given; else the address each browser used."""
        self.max_learners = max_learners
        self.instructor_key = instructor_key
        self.status_dir = status_dir
        self.learner_command = learner_command or learner_app_command()
        self.api_port = api_port
        """Also answer each learner's Invoke API on host:api_port under /<learner>/."""
        self.access_log = access_log
        """Show one line per request on the console (else they go to DEBUG only)."""
        self._api_runner: web.AppRunner | None = None
        self.seats: dict[str, Seat] = {}
        """Open sessions by learner folder name: one per learner, never two."""
        self._stopping: set[asyncio.Future[None]] = set()
        self.ended_at_stop = 0
        """How many learners' apps the server ended when it was stopped."""
        self._stop_began: float | None = None
        self._pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
        )

    def initialize_logging(self) -> None:
        """The console an instructor reads: start-up, learners coming and going, errors.

        Request lines go to ``ACCESS_LOG`` at DEBUG; ``access_log`` shows them as
        plain lines (time, then the request), since a level label means nothing there.
        """
        from rich.logging import RichHandler

        logging.basicConfig(
            level=logging.DEBUG if self.debug else logging.INFO,
            format="%(message)s",
            datefmt="[%X]",
            handlers=[RichHandler(console=self.console, show_path=False)],
        )
        if self.access_log:
            access = logging.getLogger(ACCESS_LOG)
            access.setLevel(logging.DEBUG)
            handler = logging.StreamHandler(self.console.file)
            handler.setFormatter(logging.Formatter(ACCESS_LINE, "%H:%M:%S"))
            access.addHandler(handler)
            access.propagate = False

    def access_log_options(self) -> dict[str, Any]:
        """The aiohttp runner options that send each request to ``ACCESS_LOG``."""
        return {
            "access_log": logging.getLogger(ACCESS_LOG),
            "access_log_class": ClassroomAccessLogger,
        }

    def serve(self, debug: bool = False) -> None:
        """Listen until Ctrl+C or SIGTERM; every learner's app is stopped on the way out."""
        self.debug = debug
        self.initialize_logging()
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            print=None,
            handle_signals=True,
            **self.access_log_options(),
        )
        if self._stop_began is not None:
            ended = self.ended_at_stop
            log.info(
                "Classroom stopped: %s ended, in %.1f s.",
                plural(ended, "learner app"),
                time.monotonic() - self._stop_began,
            )

    @property
    def full(self) -> bool:
        """True when every place is taken."""
        return len(self.seats) >= self.max_learners

    async def _make_app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws/{learner}", self.handle_learner_socket, name="ws"),
                web.get("/instructor", self.handle_instructor),
                web.get("/instructor.json", self.handle_instructor_json),
                web.get("/download/{key}", self.handle_download),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def on_shutdown(self, app: web.Application) -> None:
        """Wait for every learner's app to quit (their progress is saved by then)."""
        self._stop_began = time.monotonic()
        open_apps = [s.service for s in self.seats.values() if s.service is not None]
        if open_apps:
            log.info(
                "Stopping the classroom: ending %s; their progress is kept.",
                plural(len(open_apps), "learner app"),
            )
        else:
            log.info("Stopping the classroom (no learner apps open).")
        if self._api_runner is not None:
            await self._api_runner.cleanup()
            self._api_runner = None
        for service in open_apps:
            self._stopping.add(asyncio.ensure_future(service.stop()))
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)
        self.ended_at_stop = len(open_apps)

    async def on_startup(self, app: web.Application) -> None:
        log.info("lambdalab classroom listening on %s:%s", self.host, self.port)
        if self.api_port is not None:
            runner = web.AppRunner(self.make_api_app(), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, self.host, self.api_port).start()
            self._api_runner = runner

    # -- pages -----------------------------------------------------------------------

    def _base_url(self, request: web.Request) -> str:
        """The URL prefix learners use: the public URL, or the Host they typed."""
        return self.fixed_url or f"{request.scheme}://{request.host}"

    def _page(self, template: str, status: int = 200, **context: Any) -> web.Response:
        context.setdefault("title", self.title)
        context.setdefault("main_class", "")
        text = self._pages.get_template(template).render(**context)
        return web.Response(status=status, text=text, content_type="text/html")

    async def handle_index(self, request: web.Request) -> web.Response:
        """The name page; with ``?learner=NAME``, that learner's app (or why not)."""
        base = self._base_url(request)
        common: dict[str, Any] = {
            "base_url": base,
            "static_url": f"{base}/static/",
            "taken": len(self.seats),
            "capacity": self.max_learners,
        }
        raw = request.query.get("learner")
        if raw is None:
            return self._page("name.html", learner="", error="", **common)
        try:
            folder = learner_folder_name(raw)
        except ProgressError as exc:
            error = refused_name(raw, exc)
            return self._page("name.html", 400, learner=raw, error=error, **common)
        name = raw.strip()
        if folder in self.seats:
            error = (
                f"The name {name!r} is already open in another tab or browser. Close "
                "it there, or choose another name."
            )
            return self._page("name.html", 409, learner=name, error=error, **common)
        if self.full:
            response = self._page(
                "full.html", 503, learner=name, refresh=FULL_RETRY_S, **common
            )
            response.headers["Retry-After"] = str(FULL_RETRY_S)
            return response
        socket_base = (
            ("wss" + base[5:]) if base.startswith("https") else "ws" + base[4:]
        )
        return self._page(
            "app.html",
            learner=name,
            websocket_url=f"{socket_base}/ws/{quote(name, safe='')}",
            restart_url=f"{base}/?learner={quote(name)}",
            font_size=to_int(request.query.get("fontsize", "16"), 16),
            **common,
        )

    # -- sessions --------------------------------------------------------------------

    async def handle_learner_socket(
        self, request: web.Request
    ) -> web.WebSocketResponse:
        """One learner's app: checked again here, because the page may be stale."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        try:
            folder = learner_folder_name(request.match_info["learner"])
        except ProgressError:
            await websocket.close(code=4400, message=b"learner name refused")
            return websocket
        if folder in self.seats or self.full:
            await websocket.close(code=4409, message=b"name open or classroom full")
            return websocket
        # No await between the checks above and taking the seat: no race.
        seat = Seat(request.match_info["learner"].strip(), folder, time.time())
        self.seats[folder] = seat
        status_file = self.status_dir / f"{folder}.json"
        api_url = None
        if self.api_port is not None:
            where = urlsplit(self.fixed_url).hostname if self.fixed_url else None
            hostname = where or request.url.host or "127.0.0.1"
            shown = f"[{hostname}]" if ":" in hostname else hostname
            api_url = f"http://{shown}:{self.api_port}/{folder}"

        async def close_socket() -> None:
            await websocket.close()

        service = LearnerAppService(
            self.learner_command(seat.name, status_file, api_url),
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close_socket,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        seat.service = service
        log.info(
            "learner %r joined (%d/%d)", seat.name, len(self.seats), self.max_learners
        )
        try:
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("session of learner %r failed", seat.name)
        finally:
            self.seats.pop(folder, None)
            log.info("learner %r left", seat.name)
            # aiohttp may cancel this handler once the socket is gone: the app must
            # still be told to quit (and killed if it will not).
            stopping = asyncio.ensure_future(service.stop())
            self._stopping.add(stopping)
            stopping.add_done_callback(self._stopping.discard)
            await asyncio.shield(stopping)
        return websocket

    # -- the classroom's Invoke API ---------------------------------------------------

    def make_api_app(self) -> web.Application:
        """Each learner's Invoke API, forwarded to the API their own app serves."""
        app = web.Application(client_max_size=READ_CAP_BYTES)
        app.router.add_post(API_ROUTE, self.handle_api)
        return app

    async def handle_api(self, request: web.Request) -> web.StreamResponse:
        """Forward one Invoke call to that learner's app, unchanged both ways."""
        learner = request.match_info["learner"]
        function = request.match_info["function"]
        port = None
        try:
            folder = learner_folder_name(learner)
        except ProgressError:
            folder = ""
        if folder in self.seats:
            status = read_statuses(self.status_dir).get(folder)
            port = status.api_port if status is not None else None
        if port is None:
            return error_response(
                404,
                "ResourceNotFoundException",
                f"Function not found: {function}; learner {learner!r} has no lab "
                "open in this classroom (use the name shown in your lab).",
            )
        headers = {
            k: request.headers[k] for k in _FORWARD_REQUEST if k in request.headers
        }
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/{quote(function, safe='')}/invocations"
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as client,
                client.post(
                    url,
                    params=request.query,
                    data=request.content.iter_chunked(65536),
                    headers=headers,
                ) as answer,
            ):
                body = await answer.read()
                kept = {
                    k: v
                    for k, v in answer.headers.items()
                    if k.lower() not in _HOP_BY_HOP
                }
        except aiohttp.ClientError:
            return error_response(
                500,
                "ServiceException",
                f"The lab of learner {learner!r} closed while answering; invoke again.",
            )
        return web.Response(status=answer.status, body=body, headers=kept)

    # -- instructor ------------------------------------------------------------------

    def _check_key(self, request: web.Request) -> None:
        """Let the instructor in, or say whether the key is missing or wrong."""
        given = request.query.get("key", "")
        if not self.instructor_key:
            raise web.HTTPForbidden(text=NO_KEY)
        if not given:
            raise web.HTTPForbidden(text=MISSING_KEY)
        if not hmac.compare_digest(given.encode(), self.instructor_key.encode()):
            log.warning(
                "wrong instructor key from %s for %s", request.remote, request.path
            )
            raise web.HTTPForbidden(text=WRONG_KEY)

    def classroom(self, now: float | None = None) -> dict[str, Any]:
        """Everyone who joined since the server started, the stuck first."""
        now = time.time() if now is None else now
        statuses = read_statuses(self.status_dir)
        folders = sorted(set(statuses) | set(self.seats))
        learners = []
        for folder in folders:
            status = statuses.get(folder) or LearnerStatus(self.seats[folder].name)
            seat = self.seats.get(folder)
            # One name per row: the status file's "learner" becomes "name" (the seat's
            # spelling while connected; both come from the name the learner typed).
            row = status.to_json()
            del row["learner"]
            learners.append(
                {
                    **row,
                    "name": seat.name if seat else status.learner,
                    "connected": seat is not None,
                    "stuck": stuck_reasons(status, now),
                    "on_step_s": round(now - status.step_since)
                    if status.step_since
                    else 0,
                }
            )
        learners.sort(
            key=lambda row: (not row["stuck"], not row["connected"], row["name"])
        )
        return {
            "connected": len(self.seats),
            "capacity": self.max_learners,
            "learners": learners,
        }

    async def handle_instructor_json(self, request: web.Request) -> web.Response:
        """The classroom as JSON (the key printed at start is required)."""
        self._check_key(request)
        return web.json_response(self.classroom())

    async def handle_instructor(self, request: web.Request) -> web.Response:
        """The classroom as a page that refreshes itself."""
        self._check_key(request)
        data = self.classroom()
        rows = []
        for item in data["learners"]:
            on_lesson = item["lesson"] is not None
            rows.append(
                {
                    "name": item["name"],
                    "connected": item["connected"],
                    "lesson": item["lesson_title"] if on_lesson else "course map",
                    "step": (
                        f"{item['step']}/{item['steps']} {item['step_title']}"
                        + (" ✔" if item["task_done"] else "")
                    )
                    if on_lesson
                    else "",
                    "hints": f"{item['hints_step']} (lesson {item['hints_lesson']})",
                    "failed": f"{item['failed_step']} (lesson {item['failed_lesson']})",
                    "on_step": f"{item['on_step_s'] // 60} min" if on_lesson else "",
                    "reasons": item["stuck"],
                }
            )
        rules = (
            f"{STUCK_FAILED_CHECKS} failed checks or {STUCK_HINTS} hints on one step, "
            f"opened a solution, or spent {int(STUCK_AFTER_S // 60)} minutes on a task"
        )
        base = self._base_url(request)
        return self._page(
            "instructor.html",
            title="Instructor view",
            main_class="wide",
            static_url=f"{base}/static/",
            rows=rows,
            connected=data["connected"],
            capacity=data["capacity"],
            rules=rules,
            refresh=INSTRUCTOR_REFRESH_S,
        )


def learner_processes(server: ClassroomServer) -> dict[str, int]:
    """Learner name -> app process id, for the sessions open now."""
    out = {}
    for seat in server.seats.values():
        service = seat.service
        if isinstance(service, LearnerAppService) and service.pid is not None:
            out[seat.name] = service.pid
    return out


WILDCARDS = ("0.0.0.0", "::", "")
LOOPBACKS = ("127.0.0.1", "localhost", "::1")


def interface_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (Linux; empty elsewhere).

    Read from the interfaces themselves: nothing is sent anywhere to learn them.
    """
    try:
        import fcntl
        import socket
        import struct
    except ImportError:  # pragma: no cover - not Linux
        return []
    found: list[str] = []
    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(probe.fileno(), siocgifaddr, request)
            except OSError:
                continue  # no IPv4 address on this interface
            address = socket.inet_ntoa(reply[20:24])
            if not address.startswith("127.") and address not in found:
                found.append(address)
    return found


def learner_urls(
    host: str,
    port: int,
    public_url: str | None,
    addresses: Callable[[], list[str]] = interface_addresses,
) -> tuple[list[str], list[str]]:
    """The addresses to give learners, and warnings about the ones that will not work.

    The trap: a server bound to 0.0.0.0 is reached at the machine's LAN address, never
    at ``http://0.0.0.0``; and a public URL naming localhost only works on this machine.
    """
    warnings: list[str] = []
    if public_url:
        from urllib.parse import urlsplit

        named = urlsplit(public_url).hostname or ""
        if named in WILDCARDS:
            warnings.append(
                f"--public-url {public_url} names 0.0.0.0, which no browser can open; "
                "give this machine's LAN address or name."
            )
        elif named in LOOPBACKS and host not in LOOPBACKS:
            warnings.append(
                f"--public-url {public_url} names this machine's loopback: it only "
                "works in a browser on this machine, not on learners' machines."
            )
        return [public_url.rstrip("/") + "/"], warnings
    if host in WILDCARDS:
        found = addresses()
        if not found:
            warnings.append(
                "No LAN address found: learners open http://<this machine's address>:"
                f"{port}/ (see `ip -4 addr`); never http://0.0.0.0:{port}/."
            )
        return [f"http://{a}:{port}/" for a in found], warnings
    shown = f"[{host}]" if ":" in host else host
    if host in LOOPBACKS:
        warnings.append(
            "Serving this machine only; pass --host 0.0.0.0 to let learners on the "
            "LAN in."
        )
    return [f"http://{shown}:{port}/"], warnings
