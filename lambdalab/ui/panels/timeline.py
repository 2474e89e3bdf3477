"""The Timeline tab: every asynchronous event as a row moving through its attempts."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from lambdalab.course.session import LabSession
from lambdalab.engine.service import AsyncEvent
from lambdalab.ui import render_async
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line, select_keys
from lambdalab.ui.render import json_text

DUPLICATE_RATES = (0.0, 0.1, 0.5, 1.0)
"""What d cycles through: off, then ever more duplicate deliveries."""
ASYNC_SETTINGS = (
    "max_retry_attempts",
    "max_event_age_s",
    "dead_letter_queue",
    "on_success",
    "on_failure",
)
AXIS_TICK_S = 0.25
"""While an event is unfinished the axis moves with time: redraw 4 times a second."""


@register
class TimelinePanel(KeyPanel):
    """One row per async event on a shared time axis; the selected one in detail."""

    TAB_TITLE = "Timeline"
    BINDINGS = [
        *select_keys("Event"),
        Binding("d", "duplicates", "Duplicates"),
    ]
    DEFAULT_CSS = """
    TimelinePanel #timeline-summary, TimelinePanel #timeline-legend {
        height: auto;
    }
    TimelinePanel #timeline-rows {
        height: auto;
        border: round $primary 40%;
    }
    TimelinePanel #timeline-scroll {
        height: 1fr;
        min-height: 3;
    }
    TimelinePanel #timeline-details {
        height: auto;
    }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        lab = session.lesson.lab
        configured = any(
            key in function.settings
            for function in lab.functions
            for key in ASYNC_SETTINGS
        )
        sandbox = not any(step.checks for step in session.lesson.steps)
        return configured or lab.duplicates > 0 or sandbox

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.selected: str | None = None
        """The request id of the selected event; None follows the newest."""
        self._details_key: tuple[Any, ...] = ()
        self._timer: Timer | None = None
        self._names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-summary")
        yield Static(render_async.legend(), id="timeline-legend")
        yield Static(id="timeline-rows")
        with VerticalScroll(id="timeline-scroll", can_focus=False):
            yield Static(id="timeline-details")
        yield Static(
            keys_line(("↑↓", "select event"), ("d", "duplicate delivery")),
            classes="keys",
        )

    def on_mount(self) -> None:
        self.query_one("#timeline-rows", Static).border_title = "asynchronous events"
        if getattr(self.screen, "live", True):
            self._timer = self.set_interval(AXIS_TICK_S, self._tick)

    def _tick(self) -> None:
        # A hidden screen's timers keep firing (PITFALLS R39): skip the work then.
        if self.session is not None and self.screen.is_current:
            self.draw()

    def refresh_lab(self, session: LabSession) -> None:
        if session.lesson.lab.events and not self._names:
            self._names = {
                json_text(v): k for k, v in session.lesson.lab.events.items()
            }
        super().refresh_lab(session)

    def _limit(self) -> int:
        return max(3, min(12, (self.size.height or 20) // 2 - 3))

    def draw(self) -> None:
        """Redraw what changed; nothing while the tab is hidden (PITFALLS R41)."""
        session = self.session
        if session is None or not self.is_on_screen:
            return
        service = session.service
        events = render_async.latest_events(service, self._limit())
        rows = self.query_one("#timeline-rows", Static)
        width = max(40, rows.content_size.width or (self.size.width or 80) - 4)
        bar = render_async.bar_width(width)
        window = render_async.window_for(events, service.now_ms, bar)
        moving = any(not e.finished for e in events)
        column = int(service.now_ms / window.ms_per_column) if moving else -1
        selected = self._selected_event(events)
        key = (session.revision, column, width, selected, session.duplicate_rate)
        if not self.changed(key):
            return
        rid = selected.request_id if selected is not None else None
        self.query_one("#timeline-summary", Static).update(
            render_async.async_summary(service, session.duplicate_rate)
        )
        rows.update(render_async.timeline(service, events, width, self._names, rid))
        self._draw_details(selected)

    def _selected_event(self, events: list[AsyncEvent]) -> AsyncEvent | None:
        for event in events:
            if event.request_id == self.selected:
                return event
        return events[-1] if events else None

    def _draw_details(self, event: AsyncEvent | None) -> None:
        if self.session is None:
            return
        service = self.session.service
        if event is None:
            key: tuple[Any, ...] = (None,)
        else:
            key = (
                event.request_id,
                event.state,
                len(event.attempt_log),
                len(event.waits),
                len(event.duplicates),
                service.trace.count if not event.finished else 0,
            )
        if key == self._details_key:
            return
        self._details_key = key
        details = self.query_one("#timeline-details", Static)
        if event is None:
            details.update(
                Text(
                    "Select an event to see its payload, each attempt's error and "
                    "log lines, and where it ended.",
                    "dim",
                )
            )
        else:
            details.update(render_async.event_details(service, event, self._names))

    # -- keys ------------------------------------------------------------------------

    def action_select(self, step: int) -> None:
        if self.session is None:
            return
        events = render_async.latest_events(self.session.service, self._limit())
        if not events:
            return
        current = self._selected_event(events)
        index = events.index(current) if current is not None else len(events) - 1
        index = max(0, min(len(events) - 1, index + step))
        self.selected = events[index].request_id
        self.draw()

    def action_duplicates(self) -> None:
        session = self.session
        if session is None or self._locked():
            return
        rates = DUPLICATE_RATES
        now = session.duplicate_rate
        rate = rates[(rates.index(now) + 1) % len(rates)] if now in rates else 0.0
        session.set_duplicates(rate)
        if rate:
            message = (
                f"{rate:.0%} of async events are delivered twice (at least once "
                "delivery): same event, same request id."
            )
        else:
            message = "Off: each async event is delivered once."
        self.notify(message, title="Duplicate delivery")
        self._redraw()
