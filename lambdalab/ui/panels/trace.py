"""The Trace tab: one request id from its caller to its result, DLQ or destination."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from lambdalab.course.session import LabSession
from lambdalab.ui import render_ops
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line, select_keys
from lambdalab.ui.panels.metrics import _uses

LIST_ROWS = 5


@register
class TracePanel(KeyPanel):
    """A list of request ids (newest selected) and the selected one's path."""

    TAB_TITLE = "Trace"
    BINDINGS = [
        *select_keys("Request"),
    ]
    DEFAULT_CSS = """
    TracePanel #trace-list {
        height: auto;
        border: round $primary 40%;
    }
    TracePanel #trace-scroll {
        height: 1fr;
    }
    TracePanel #trace-path {
        height: auto;
    }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        return _uses(session, ("metric",))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index: int | None = None
        """The selected request; None follows the newest."""

    def compose(self) -> ComposeResult:
        yield Static(id="trace-list")
        with VerticalScroll(id="trace-scroll", can_focus=False):
            yield Static(id="trace-path")
        yield Static(keys_line(("↑↓", "choose a request id")), classes="keys")

    def on_mount(self) -> None:
        self.query_one("#trace-list", Static).border_title = "requests"

    def selected(self, count: int) -> int:
        """The index shown: the chosen one, or the newest."""
        if self.index is None:
            return count - 1
        return max(0, min(self.index, count - 1))

    def draw(self) -> None:
        """Redraw when the trace grew or the choice moved; never while hidden."""
        session = self.session
        if session is None or not self.is_on_screen:
            return
        service = session.service
        key = (id(service), service.trace.count, self.index)
        if not self.changed(key):
            return
        requests = render_ops.traced_requests(session)
        index = self.selected(len(requests))
        self.query_one("#trace-list", Static).update(
            render_ops.request_list(requests, index, LIST_ROWS)
        )
        path = self.query_one("#trace-path", Static)
        if requests:
            path.update(render_ops.trace_path(session, requests[index].request_id))
        else:
            path.update(render_ops.trace_path(session, ""))

    def action_select(self, step: int) -> None:
        session = self.session
        if session is None:
            return
        count = len(render_ops.traced_requests(session))
        self.index = max(0, min(self.selected(count) + step, count - 1))
        self.draw()
