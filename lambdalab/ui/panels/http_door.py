"""The HTTP tab: one request through API Gateway or an ALB, from wire to wire.

Four views side by side: the request on the wire, the event the handler got, what the
handler returned, and the bytes the client receives, with every header value the
front door merged or dropped highlighted (``HttpResponse.notes``).
"""

from __future__ import annotations

import json

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Static

from lambdalab.course.session import LabSession
from lambdalab.course.triggers import (
    FRONT_DOORS,
    HttpExchange,
    build_request,
    front_door_name,
)
from lambdalab.errors import LambdaLabError
from lambdalab.triggers.http import FunctionErrorResult, HttpRequest, raw_http
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line, select_keys

NOTE_STYLE = {
    "dropped": "bold red",
    "merged": "bold yellow",
    "converted": "cyan",
    "inferred": "blue",
    "body": "magenta",
}
SHORT_DOOR = {
    ("rest", False): "REST v1",
    ("http", False): "HTTP v2",
    ("alb", False): "ALB",
    ("alb", True): "ALB multi",
}


def wire_request(request: HttpRequest) -> Text:
    """The request as HTTP/1.1 text; repeated headers stay separate lines."""
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    text = Text(f"{request.method} {target} {request.protocol}", "bold")
    for name, value in request.headers:
        text.append(f"\n{name}: ", "cyan")
        text.append(value)
    if request.body:
        body = request.body if isinstance(request.body, str) else repr(request.body)
        text.append(f"\n\n{body}")
    return text


def json_view(value: object) -> Text:
    """Indented JSON, keys in colour."""
    try:
        shown = json.dumps(value, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return Text(shown)


def client_view(exchange: HttpExchange) -> Group | Text:
    """The client's bytes with the lines the front door touched highlighted."""
    response = exchange.response
    if response is None:
        return Text("waiting for the function…", "cyan")
    touched: dict[str, str] = {}
    for note in response.notes:
        if note.header:
            touched.setdefault(note.header.lower(), NOTE_STYLE.get(note.kind, "yellow"))
    text = Text()
    head, _, body = raw_http(response).partition("\r\n\r\n")
    for i, line in enumerate(head.split("\r\n")):
        if i:
            text.append("\n")
        if i == 0:
            text.append(line, "bold green" if response.status < 400 else "bold red")
            continue
        name = line.split(":", 1)[0].lower()
        text.append(line, touched.get(name, ""))
    text.append("\n\n")
    text.append(body or "(empty body)", "" if body else "dim")
    notes = Text()
    for note in response.notes:
        notes.append("\n⚠ ", NOTE_STYLE.get(note.kind, "yellow"))
        notes.append(str(note), NOTE_STYLE.get(note.kind, "yellow"))
    if response.problem:
        notes.append(f"\n✘ {response.problem}", "bold red")
    for line in response.log_lines:
        notes.append(f"\nAPI Gateway log: {line}", "dim")
    return Group(text, notes) if notes else text


def compare_view(exchanges: list[HttpExchange], request_name: str, header: str) -> Text:
    """The latest answer of each front door to one request, side by side."""
    text = Text(f"{header} lines per front door:", "bold")
    for door in FRONT_DOORS:
        latest = next(
            (
                x
                for x in reversed(exchanges)
                if x.request_name == request_name
                and (x.api, x.multi_value if x.api == "alb" else False) == door
                and x.response is not None
            ),
            None,
        )
        text.append(f"  {SHORT_DOOR[door]} ", "dim")
        if latest is None or latest.response is None:
            text.append("–", "dim")
            continue
        count = len(latest.response.header_values(header))
        style = "green" if latest.response.status < 400 else "red"
        text.append(str(count), "bold")
        text.append(f" ({latest.response.status})", style)
    return text


@register
class HttpPanel(KeyPanel):
    """The front door: send the lesson's requests and compare REST, HTTP API and ALB."""

    TAB_TITLE = "HTTP"
    BINDINGS = [
        *select_keys("Request"),
        Binding("enter", "send", "Send"),
        Binding("d", "door", "Front door"),
    ]
    DEFAULT_CSS = """
    HttpPanel #door, HttpPanel #requests, HttpPanel #compare { height: auto; }
    HttpPanel #wire {
        grid-size: 2 2;
        grid-gutter: 0 1;
        height: 1fr;
        min-height: 8;
    }
    HttpPanel #wire VerticalScroll {
        border: round $primary 40%;
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        return session.lesson.lab.http is not None

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Static(id="door")
        yield Static(id="requests")
        with Grid(id="wire"):
            for pane, title in (
                ("wire-request", "1 request on the wire"),
                ("wire-event", "2 event the handler got"),
                ("wire-result", "3 what the handler returned"),
                ("wire-client", "4 what the client receives"),
            ):
                box = VerticalScroll(Static(id=pane), id=f"{pane}-box")
                box.can_focus = False
                box.border_title = title
                yield box
        yield Static(id="compare")
        yield Static(
            keys_line(("↑↓", "request"), ("enter", "send"), ("d", "front door")),
            classes="keys",
        )

    def _names(self) -> list[str]:
        if self.session is None:
            return []
        return list(self.session.triggers.requests)

    def _selected(self) -> str | None:
        names = self._names()
        if not names:
            return None
        self.index %= len(names)
        return names[self.index]

    def refresh_lab(self, session: LabSession) -> None:
        super().refresh_lab(session)
        if self.hidden:
            return
        triggers = session.triggers
        http = session.lesson.lab.http
        if http is None:
            return
        door_key = (triggers.api, triggers.multi_value)
        self.put("#door", door_key, lambda: self._door_view(session, http.function))
        selected = self._selected()
        self.put(
            "#requests",
            (selected, tuple(triggers.requests)),
            lambda: self._requests_view(session, selected),
        )
        latest = next(
            (x for x in reversed(triggers.exchanges) if x.request_name == selected),
            None,
        )
        key = (
            selected,
            latest.number if latest else None,
            latest is not None and latest.response is not None,
        )
        if self._drawn.get("wire") != key:
            self._drawn["wire"] = key
            self._draw_wire(session, selected, latest)
        answered = sum(1 for x in triggers.exchanges if x.response is not None)
        if selected is not None:
            self.put(
                "#compare",
                (selected, len(triggers.exchanges), answered),
                lambda: compare_view(triggers.exchanges, selected, "set-cookie"),
            )

    @staticmethod
    def _door_view(session: LabSession, function: str) -> Text:
        triggers = session.triggers
        door = Text("front door ", "dim")
        door.append(front_door_name(triggers.api, triggers.multi_value), "bold reverse")
        door.append(f"  → λ {function}", "bold")
        return door

    @staticmethod
    def _requests_view(session: LabSession, selected: str | None) -> Text:
        listing = Text()
        for i, (name, spec) in enumerate(session.triggers.requests.items()):
            if i:
                listing.append("   ")
            style = "bold reverse" if name == selected else "dim"
            target = spec.path + (f"?{spec.query}" if spec.query else "")
            listing.append(f" {name}: {spec.method} {target} ", style)
        return listing

    def _draw_wire(
        self, session: LabSession, selected: str | None, latest: HttpExchange | None
    ) -> None:
        if latest is None:
            if selected is not None:
                request = build_request(session.triggers.requests[selected])
                self._show(
                    wire_request(request), Text("not sent yet: press enter", "dim")
                )
            return
        result: object = latest.result
        if isinstance(result, FunctionErrorResult):
            shown: Text = Text(
                f"function error ({result.function_error}): {result.error_type} "
                f"{result.error_message}",
                "bold red",
            )
        elif latest.response is None:
            shown = Text("running…", "cyan")
        else:
            shown = json_view(result)
        self._show(
            wire_request(latest.request),
            json_view(latest.event),
            shown,
            client_view(latest),
            title=latest.door,
        )

    def _show(
        self,
        request: Text,
        event: Text,
        result: Text | None = None,
        client: Group | Text | None = None,
        *,
        title: str = "",
    ) -> None:
        empty = Text("–", "dim")
        self.query_one("#wire-request", Static).update(request)
        self.query_one("#wire-event", Static).update(event)
        self.query_one("#wire-result", Static).update(result or empty)
        self.query_one("#wire-client", Static).update(client or empty)
        self.query_one("#wire-event-box").border_subtitle = title

    def action_select(self, step: int) -> None:
        if self.session is None:
            return
        self.index += step
        self.refresh_lab(self.session)

    def action_door(self) -> None:
        if self.session is None:
            return
        name = self.session.triggers.next_front_door()
        self.notify(f"Requests now go through the {name}.", title="Front door")
        self._redraw()

    def action_send(self) -> None:
        selected = self._selected()
        if selected is None or self.session is None or self._locked():
            return
        try:
            exchange = self.session.triggers.send(selected)
        except LambdaLabError as exc:
            self.notify(str(exc), title="Request refused", severity="error")
            return
        self.notify(
            f"{exchange.request.method} {exchange.request.path} through the "
            f"{exchange.door}",
            title=f"Request {selected}",
        )
        self._redraw()
