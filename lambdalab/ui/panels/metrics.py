"""The Metrics tab: CloudWatch's Lambda metrics per function and minute, and the bill."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from lambdalab.course.session import LabSession
from lambdalab.ui import render_ops
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line

OPS_CHECKS = ("metric", "cost")


def _uses(session: LabSession, types: tuple[str, ...]) -> bool:
    return any(
        check.type in types for step in session.lesson.steps for check in step.checks
    )


@register
class MetricsPanel(KeyPanel):
    """Metrics per virtual minute with a sparkline, then requests, GB-s and cost."""

    TAB_TITLE = "Metrics"
    DEFAULT_CSS = """
    MetricsPanel #metrics-scroll {
        height: 1fr;
    }
    MetricsPanel #metrics-view {
        height: auto;
    }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        return _uses(session, OPS_CHECKS)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="metrics-scroll", can_focus=False):
            yield Static(id="metrics-view")
        yield Static(
            keys_line(("one column", "a virtual minute"), ("now", "this minute")),
            classes="keys",
        )

    def draw(self) -> None:
        """Redraw when a metric or the minute changed; never while hidden."""
        session = self.session
        if session is None or not self.is_on_screen:
            return
        service = session.service
        metrics = session.metrics
        minute = int(service.now_ms // 60_000)
        key = (id(service), service.trace.count, minute)
        if not self.changed(key):
            return
        self.query_one("#metrics-view", Static).update(
            render_ops.metrics_view(metrics, service.now_ms)
        )
