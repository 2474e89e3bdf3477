"""The Queues tab: the lab's DLQs, destination queues and event buses, and redrive."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from lambdalab.course.async_specs import lab_queues
from lambdalab.course.session import LabSession
from lambdalab.errors import LambdaLabError
from lambdalab.ui import render_async
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line, select_keys


@register
class QueuesPanel(KeyPanel):
    """Every message with its attributes or invocation record; R redrives one."""

    TAB_TITLE = "Queues"
    BINDINGS = [
        *select_keys("Message"),
        Binding("R", "redrive", "Redrive"),
    ]
    DEFAULT_CSS = """
    QueuesPanel #queue-list {
        height: auto;
        max-height: 50%;
        border: round $primary 40%;
        overflow-y: auto;
    }
    QueuesPanel #message-scroll {
        height: 1fr;
        min-height: 3;
    }
    QueuesPanel #message-details {
        height: auto;
    }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        return bool(lab_queues(session.lesson.lab))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = 0
        """The selected message, counted over all queues in the order shown."""

    def compose(self) -> ComposeResult:
        yield Static(id="queue-list")
        with VerticalScroll(id="message-scroll", can_focus=False):
            yield Static(id="message-details")
        yield Static(
            keys_line(("↑↓", "select message"), ("R", "redrive it to its function")),
            classes="keys",
        )

    def on_mount(self) -> None:
        self.query_one("#queue-list", Static).border_title = "queues and buses"

    def draw(self) -> None:
        """Redraw when a message arrived, left or was selected; never while hidden."""
        session = self.session
        if session is None or not self.is_on_screen:
            return
        service = session.service
        rows = render_async.message_rows(service)
        self.index = max(0, min(self.index, len(rows) - 1))
        width = max(30, (self.size.width or 80) - 2)
        last = rows[-1][1].message_id if rows else ""
        redriven = sum(q.redriven for q in service.queues.values())
        key = (id(service), len(rows), last, redriven, self.index, width)
        if not self.changed(key):
            return
        self.query_one("#queue-list", Static).update(
            render_async.queue_list(service, width, self.index if rows else None)
        )
        details = self.query_one("#message-details", Static)
        if rows:
            queue, message = rows[self.index]
            details.update(render_async.message_details(queue, message))
        else:
            details.update(
                Text(
                    "No messages yet. A failed async event reaches its DLQ after its "
                    "last attempt; destinations get an invocation record.",
                    "dim",
                )
            )

    # -- keys ------------------------------------------------------------------------

    def action_select(self, step: int) -> None:
        self.index = max(0, self.index + step)
        self.draw()

    def action_redrive(self) -> None:
        session = self.session
        if session is None or self._locked():
            return
        rows = render_async.message_rows(session.service)
        if not rows:
            self.notify("No message to redrive.", title="Redrive")
            return
        queue, message = rows[min(self.index, len(rows) - 1)]
        try:
            [inv] = session.redrive(queue.name, message_ids=[message.message_id])
        except LambdaLabError as exc:
            self.notify(str(exc), title="Redrive refused", severity="error")
            return
        self.notify(
            f"Message {message.message_id[:8]} left {queue.name}: a new asynchronous "
            f"invocation of {inv.function} (request {inv.request_id[:8]}).",
            title="Redrive",
        )
        self._redraw()
