"""The S3 tab: buckets, their notifications and objects, uploads, and the loop guard."""

from __future__ import annotations

import json

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from lambdalab.course.session import LabSession
from lambdalab.course.triggers import BucketActivity
from lambdalab.errors import LambdaLabError
from lambdalab.triggers.s3 import Bucket
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line, select_keys
from lambdalab.ui.render import elapsed_text

ACTIVITY_STYLE = {
    "put": "",
    "copy": "",
    "delete": "",
    "delivery": "cyan",
    "refused": "bold red",
    "failed": "red",
    "brake": "bold magenta",
}
ACTIVITY_MARK = {
    "put": "↑",
    "copy": "⧉",
    "delete": "✗",
    "delivery": "→",
    "refused": "⛔",
    "failed": "✘",
    "brake": "■",
}


def bucket_view(bucket: Bucket) -> Text:
    """One bucket: loop guard, notification rules, objects."""
    text = Text(f"s3://{bucket.name}", "bold")
    text.append("   loop guard ", "dim")
    text.append(
        "on" if bucket.loop_guard else "off",
        "bold green" if bucket.loop_guard else "dim",
    )
    for config in bucket.notifications:
        text.append(f"\n  ⚑ {config.id}", "yellow")
        text.append(f" {', '.join(config.events)}", "dim")
        filters = []
        if config.prefix:
            filters.append(f"prefix {config.prefix}")
        if config.suffix:
            filters.append(f"suffix {config.suffix}")
        text.append(f" {' '.join(filters) or 'every key'}", "")
        text.append(f" → λ {config.function_name} (async)", "cyan")
    objects = sorted(bucket.objects.values(), key=lambda o: o.key)
    if not objects:
        text.append("\n  (no objects)", "dim")
    for obj in objects[:6]:
        text.append(f"\n  {obj.key}", "")
        text.append(f"  {obj.size} B", "dim")
    if len(objects) > 6:
        text.append(f"\n  … {len(objects) - 6} more", "dim")
    return text


def activity_line(row: BucketActivity) -> Text:
    """One thing that happened to a bucket, coloured by kind."""
    text = Text(f"{elapsed_text(row.time_ms)} ", "dim")
    text.append(
        f"{ACTIVITY_MARK.get(row.kind, '·')} ", ACTIVITY_STYLE.get(row.kind, "")
    )
    text.append(f"{row.bucket}: ", "dim")
    text.append(row.text, ACTIVITY_STYLE.get(row.kind, ""))
    return text


@register
class BucketPanel(KeyPanel):
    """S3 in the lab: uploads notify functions, and functions write back."""

    TAB_TITLE = "S3"
    BINDINGS = [
        *select_keys("Upload"),
        Binding("enter", "upload", "Upload"),
        Binding("g", "guard", "Loop guard"),
    ]
    DEFAULT_CSS = """
    BucketPanel #buckets, BucketPanel #uploads { height: auto; }
    BucketPanel #buckets { border: round $primary 40%; max-height: 14; }
    BucketPanel #activity-box {
        height: 1fr;
        min-height: 4;
        border: round $primary 40%;
        scrollbar-size-vertical: 1;
    }
    BucketPanel #record-box {
        height: 1fr;
        min-height: 3;
        border: round $primary 40%;
        scrollbar-size-vertical: 1;
    }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        return bool(session.triggers.buckets)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.index = 0
        self._told = 0
        """Activity rows already checked for refusals to announce."""

    def compose(self) -> ComposeResult:
        yield Static(id="uploads")
        yield Static(id="buckets")
        activity = VerticalScroll(Static(id="activity"), id="activity-box")
        activity.can_focus = False
        activity.border_title = "what S3 did"
        yield activity
        record = VerticalScroll(Static(id="record"), id="record-box")
        record.can_focus = False
        record.border_title = "latest event S3 sent (Records[0])"
        yield record
        yield Static(
            keys_line(("↑↓", "upload"), ("enter", "do it"), ("g", "loop guard")),
            classes="keys",
        )

    def _names(self) -> list[str]:
        return [] if self.session is None else list(self.session.triggers.uploads)

    def _selected(self) -> str | None:
        names = self._names()
        if not names:
            return None
        self.index %= len(names)
        return names[self.index]

    def refresh_lab(self, session: LabSession) -> None:
        if self.session is not session or len(session.triggers.activity) < self._told:
            self._told = 0  # a new session, or the lab was reset
            self.forget()
        super().refresh_lab(session)
        if self.hidden:
            if session.triggers.activity[self._told :]:
                self._announce(session.triggers.activity)  # refusals are told anyway
            return
        triggers = session.triggers
        selected = self._selected()
        self.put(
            "#uploads",
            (selected, tuple(triggers.uploads)),
            lambda: self._uploads_view(session, selected),
        )
        focus = triggers.uploads[selected].bucket if selected else None
        state = tuple(
            (
                b.name,
                b.loop_guard,
                b.notifications,
                tuple(sorted((k, o.size) for k, o in b.objects.items())),
            )
            for b in triggers.buckets.values()
        )
        self.put("#buckets", (focus, state), lambda: self._buckets_view(session, focus))
        activity = triggers.activity
        if self._drawn.get("#activity") != len(activity):
            self.put("#activity", len(activity), lambda: self._activity_view(session))
            self.query_one("#activity-box", VerticalScroll).scroll_end(animate=False)
        latest = next(
            (i for i in range(len(activity) - 1, -1, -1) if activity[i].event), None
        )
        self.put("#record", latest, lambda: self._record_view(session, latest))
        self._announce(activity)

    @staticmethod
    def _uploads_view(session: LabSession, selected: str | None) -> Text:
        listing = Text("uploads ", "dim")
        for name, spec in session.triggers.uploads.items():
            style = "bold reverse" if name == selected else "dim"
            verb = {"put": "PUT", "copy": "COPY", "delete": "DELETE"}[spec.operation]
            listing.append(f" {name}: {verb} {spec.bucket}/{spec.key} ", style)
            listing.append(" ")
        if not session.triggers.uploads:
            listing.append("none in this lesson", "dim")
        return listing

    @staticmethod
    def _buckets_view(session: LabSession, focus: str | None) -> Text:
        buckets = sorted(
            session.triggers.buckets.values(), key=lambda b: b.name != focus
        )
        return Text("\n").join(bucket_view(b) for b in buckets)

    @staticmethod
    def _activity_view(session: LabSession) -> Text:
        rows = session.triggers.activity[-60:]
        if not rows:
            return Text("nothing yet: choose an upload (↑↓) and press enter", "dim")
        return Text("\n").join(activity_line(r) for r in rows)

    @staticmethod
    def _record_view(session: LabSession, index: int | None) -> Group | Text:
        if index is None:
            return Text("–", "dim")
        row = session.triggers.activity[index]
        assert row.event is not None
        return Group(
            Text(f"to λ {row.function} ({row.request_id[:8]})", "cyan"),
            Text(json.dumps(row.event["Records"][0], indent=2)),
        )

    def _announce(self, activity: list[BucketActivity]) -> None:
        """Tell the learner at once when the guard refuses a write or the brake acts."""
        for row in activity[self._told :]:
            if row.kind == "refused":
                self.notify(row.text, title="Loop guard", severity="warning", timeout=8)
            elif row.kind == "brake":
                self.notify(row.text, title="Lab brake", severity="warning", timeout=8)
        self._told = len(activity)

    def action_select(self, step: int) -> None:
        if self.session is None:
            return
        self.index += step
        self.refresh_lab(self.session)

    def action_upload(self) -> None:
        selected = self._selected()
        if selected is None or self.session is None or self._locked():
            return
        try:
            invocations = self.session.triggers.upload(selected)
        except LambdaLabError as exc:
            self.notify(str(exc), title="S3 refused", severity="error")
            return
        spec = self.session.triggers.uploads[selected]
        told = (
            f"{len(invocations)} asynchronous invoke(s)"
            if invocations
            else ("no notification matches, so no function runs")
        )
        self.notify(f"{spec.operation} {spec.bucket}/{spec.key}: {told}", title="S3")
        self._redraw()

    def action_guard(self) -> None:
        selected = self._selected()
        if self.session is None or self._locked():
            return
        triggers = self.session.triggers
        name = (
            triggers.uploads[selected].bucket
            if selected
            else next(iter(triggers.buckets))
        )
        bucket = triggers.bucket(name)
        triggers.set_loop_guard(name, not bucket.loop_guard)
        state = (
            "on: a function's write that would trigger itself is refused"
            if bucket.loop_guard
            else "off"
        )
        self.notify(f"Loop guard of {name} {state}.", title="Loop guard")
        self._redraw()
