"""The Schedules tab: EventBridge rules, their next fires, a calendar, live validation."""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, Static

from lambdalab.course.model import ScheduleSpec
from lambdalab.course.session import LabSession
from lambdalab.course.triggers import LabRule, parse_rule_expression
from lambdalab.errors import LambdaLabError
from lambdalab.triggers.schedule import (
    FIELD_NAMES,
    ScheduleFieldError,
    resolve_timezone,
)
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line, select_keys

FIELD_LABELS = ("min", "hour", "dom", "month", "dow", "year")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ExpressionInput(Input):
    """The expression being typed; escape gives up the edit."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handled: deque[events.Key] = deque(maxlen=64)

    def handled(self, event: events.Key) -> bool:
        """True for a key this input received (its bindings run as it bubbles on)."""
        return any(seen is event for seen in self._handled)

    def on_key(self, event: events.Key) -> None:
        panel = self.parent
        if not isinstance(panel, SchedulePanel):
            return
        if not panel.editing:
            # Typed straight after the edit closed, before the focus went back.
            event.stop()
            event.prevent_default()
            panel._forward_event(retyped(event, self))
        elif event.key in ("enter", "escape"):
            # Acted on now, not once the key bubbled to the app: the keys queued
            # behind it must find the edit closed.
            event.stop()
            event.prevent_default()
            if event.key == "enter":
                panel.save_expression(self.value)
            else:
                panel.stop_editing()
        else:
            self._handled.append(event)

    def action_cancel(self) -> None:
        panel = self.parent
        if isinstance(panel, SchedulePanel):
            panel.stop_editing()


def retyped(event: events.Key, widget: Widget) -> events.Key:
    """The same key as the terminal sent it, to hand to another widget.

    Sent by the app, as keys from the terminal are: a key whose sender is the
    parent of its target would stop there, before the app runs its bindings.
    """
    return events.Key(event.key, event.character).set_sender(widget.app)


def _when(moment: datetime, zone_name: str | None) -> str:
    zone = resolve_timezone(zone_name)
    local = moment.astimezone(zone)
    text = local.strftime("%a %Y-%m-%d %H:%M ") + (zone_name or "UTC")
    if zone_name is not None:
        text += moment.astimezone(UTC).strftime(" = %H:%M UTC")
    return text


def _until(moment: datetime, now: datetime) -> str:
    seconds = int((moment - now).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"in {days}d {hours}h"
    if hours:
        return f"in {hours}h {minutes:02d}m"
    return f"in {minutes}m {secs:02d}s"


def _state(session: LabSession, request_id: str) -> tuple[str, int]:
    """An async event's state and its attempts so far."""
    event = session.service.async_events.get(request_id)
    if event is None:
        return "accepted", 0
    return event.state, event.attempts


def field_view(expression: str, bad: tuple[str, ...] = ()) -> Text:
    """The six cron fields over their names; fields named in ``bad`` in red."""
    body = expression
    if body.startswith("cron(") and body.endswith(")"):
        body = body[5:-1]
    parts = body.split()
    if len(parts) != 6 or expression.startswith(("rate(", "at(")):
        style = "bold red" if bad else "bold"
        return Text(expression, style)
    top, bottom = Text(), Text()
    for part, name, label in zip(parts, FIELD_NAMES, FIELD_LABELS, strict=True):
        width = max(len(part), len(label)) + 2
        style = "bold white on red" if name in bad else "bold"
        top.append(part.ljust(width - 2), style)
        top.append("  ")
        bottom.append(label.ljust(width), "red" if name in bad else "dim")
    return Text("\n").join([top, bottom])


def calendar_strip(rule: LabRule, today: date, days: int) -> Text:
    """Fires per day for the coming days, in the rule's zone; today reversed."""
    counts = rule.day_counts(today, days)
    label = Text(f"fires per day ({rule.zone_label} days)", "b")
    head, dates, fires = Text("      "), Text("      "), Text("fires ")
    for offset, count in enumerate(counts):
        day = today + timedelta(days=offset)
        style = "reverse" if offset == 0 else ""
        head.append(f"{WEEKDAYS[day.weekday()]:<4}", style or "dim")
        dates.append(f"{day.day:<4}", style or "dim")
        shown = "·" if count == 0 else ("99+" if count >= 99 else str(count))
        colour = "dim" if count == 0 else ("green" if rule.enabled else "yellow")
        fires.append(f"{shown:<4}", colour)
    return Text("\n").join([label, head, dates, fires])


@register
class SchedulePanel(KeyPanel):
    """EventBridge rules: type an expression, see what it means and when it fires."""

    TAB_TITLE = "Schedules"
    BINDINGS = [
        *select_keys("Rule"),
        Binding("enter", "edit", "Edit"),
        Binding("d", "toggle", "On/off"),
    ]
    DEFAULT_CSS = """
    SchedulePanel #rules, SchedulePanel #calendar, SchedulePanel #recent {
        height: auto;
    }
    SchedulePanel #verdict { height: 7; }
    SchedulePanel #fires { height: 5; }
    SchedulePanel #rules { border: round $primary 40%; }
    SchedulePanel #expression-input { display: none; }
    SchedulePanel.editing #expression-input { display: block; }
    SchedulePanel #calendar { margin: 1 0 0 0; }
    SchedulePanel #recent { margin: 1 0 0 0; }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        return bool(session.triggers.rules)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.index = 0
        self._calendar_key: tuple[object, ...] | None = None
        self._calendar: Text = Text()

    def compose(self) -> ComposeResult:
        yield Static(id="rules")
        yield ExpressionInput(
            id="expression-input",
            placeholder="cron(0 8 * * ? *) or rate(5 minutes)",
            select_on_focus=False,
        )
        yield Static(id="verdict")
        yield Static(id="fires")
        yield Static(id="calendar")
        yield Static(id="recent")
        yield Static(
            keys_line(
                ("↑↓", "rule"),
                ("enter", "edit"),
                ("d", "enable/disable"),
                (".", "next fire"),
            ),
            classes="keys",
        )

    def on_mount(self) -> None:
        self.query_one("#rules", Static).border_title = "EventBridge schedules"

    @property
    def editing(self) -> bool:
        return self.has_class("editing")

    def _rule(self) -> LabRule | None:
        if self.session is None:
            return None
        rules = list(self.session.triggers.rules.values())
        if not rules:
            return None
        self.index %= len(rules)
        return rules[self.index]

    # -- drawing ---------------------------------------------------------------------

    def refresh_lab(self, session: LabSession) -> None:
        super().refresh_lab(session)
        if self.hidden:
            return
        rule = self._rule()
        if rule is None:
            return
        rules = tuple(
            (r.name, r.expression, r.enabled, len(r.fires))
            for r in session.triggers.rules.values()
        )
        self.put("#rules", (self.index, rules), lambda: self._rules_view(session))
        if not self.editing:
            self.put(
                "#verdict",
                (rule.name, rule.expression, rule.enabled),
                lambda: Group(field_view(rule.expression), self._meaning(rule)),
                layout=False,
            )
        now = int(session.triggers.wall_ms() // 1000)
        self.put(
            "#fires",
            (rule.name, rule.expression, rule.created, rule.enabled, now),
            lambda: self._fires_view(session, rule),
            layout=False,
        )
        calendar = self._calendar_view(session, rule)
        self.put("#calendar", self._calendar_key, lambda: calendar)
        states = tuple(_state(session, fire.request_id) for fire in rule.fires[-4:])
        self.put(
            "#recent",
            (rule.name, len(rule.fires), states),
            lambda: self._recent_view(session, rule),
        )

    def _rules_view(self, session: LabSession) -> Table:
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, width=1)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis")
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis")
        for i, rule in enumerate(session.triggers.rules.values()):
            chosen = i == self.index
            target = f"→ {rule.function}" + (
                f" · {rule.timezone}" if rule.scheduler else ""
            )
            table.add_row(
                Text("▶" if chosen else " ", "bold"),
                Text(rule.name, "bold reverse" if chosen else ""),
                Text(rule.expression),
                Text(
                    "on" if rule.enabled else "off", "green" if rule.enabled else "red"
                ),
                Text(f"{target} · fired {len(rule.fires)}", "dim"),
            )
        return table

    def _meaning(self, rule: LabRule) -> Text:
        text = Text("✔ ", "green")
        text.append(rule.describe(), "bold")
        kind = (
            "EventBridge Scheduler schedule, evaluated in "
            if rule.scheduler
            else "EventBridge rule, evaluated in "
        )
        text.append(f"\n  {kind}{rule.zone_label}", "dim")
        if not rule.enabled:
            text.append("\n  disabled: a disabled rule never fires", "red")
        return text

    def _fires_view(self, session: LabSession, rule: LabRule) -> Text:
        now = session.triggers.now()
        text = Text("next fires" + (" (if enabled)" if not rule.enabled else ""), "b")
        for when in rule.next_fires(now, 4):
            text.append(
                f"\n  {_when(when, rule.timezone)}", "" if rule.enabled else "dim"
            )
            text.append(f"  {_until(when, now)}", "dim")
        if not rule.next_fires(now, 1):
            text.append("\n  never again", "dim")
        return text

    def _calendar_view(self, session: LabSession, rule: LabRule) -> Text:
        zone = resolve_timezone(rule.timezone)
        today = session.triggers.now().astimezone(zone).date()
        width = self.size.width or 60
        days = max(7, min(21, (width - 6) // 4))
        key = (rule.name, rule.expression, rule.created, rule.enabled, today, days)
        if key != self._calendar_key:
            self._calendar_key = key
            self._calendar = calendar_strip(rule, today, days)
        return self._calendar

    def _recent_view(self, session: LabSession, rule: LabRule) -> Text:
        text = Text("recent fires (Scheduled Event, asynchronous invoke)", "b")
        if not rule.fires:
            text.append("\n  none yet: press . to run to the next fire", "dim")
        for fire in rule.fires[-4:]:
            state, count = _state(session, fire.request_id)
            attempts = f" ×{count}" if count else ""
            style = {"succeeded": "green", "queued": "cyan", "running": "cyan"}.get(
                state, "yellow" if state == "waiting" else "red"
            )
            text.append(f"\n  {_when(fire.at, rule.timezone)}  ", "")
            text.append(fire.request_id[:8], "dim")
            text.append(f"  {state}{attempts}", style)
        if rule.fires:
            event = session.service.async_events.get(rule.fires[-1].request_id)
            if event is not None:
                text.append("\nthe latest event document\n", "b")
                text.append(json.dumps(json.loads(event.payload), indent=2), "cyan")
        return text

    # -- keys ------------------------------------------------------------------------

    def action_select(self, step: int) -> None:
        if self.editing or self.session is None:
            return
        self.index += step
        self._rule()
        self.refresh_lab(self.session)

    def action_toggle(self) -> None:
        rule = self._rule()
        if rule is None or self.session is None or self._locked():
            return
        self.session.triggers.set_schedule(rule.name, enabled=not rule.enabled)
        state = "enabled" if rule.enabled else "disabled (it will not fire)"
        self.notify(f"Rule {rule.name} is {state}.", title="EventBridge")
        self._redraw()

    def on_key(self, event: events.Key) -> None:
        """Keys typed straight after enter reach the expression, in order.

        A terminal hands over a fast run of keys at once; all of them are queued
        for the panel before enter is acted on, so they would run the lesson's keys
        (r resets the lab) instead of being typed.
        """
        field = self.query_one("#expression-input", ExpressionInput)
        if field.handled(event):
            return  # from the input, on its way to the input's own bindings
        if self.editing:
            event.stop()
            event.prevent_default()
            field._forward_event(retyped(event, self))
        elif event.key == "enter":
            # Acted on here, not as the binding once the key bubbled to the app:
            # the keys queued behind it must find the panel editing.
            event.stop()
            event.prevent_default()
            self.action_edit()

    def action_edit(self) -> None:
        rule = self._rule()
        if rule is None or self._locked():
            return
        self.add_class("editing")
        field = self.query_one("#expression-input", ExpressionInput)
        field.value = rule.expression
        field.cursor_position = len(field.value)
        self.screen.set_focus(field)  # now: Widget.focus waits for the queued keys
        self._validate(field.value)

    def stop_editing(self) -> None:
        self.remove_class("editing")
        self._drawn.pop("#verdict", None)
        self.screen.set_focus(self)
        if self.session is not None:
            self.refresh_lab(self.session)

    @on(Input.Changed, "#expression-input")
    def _changed(self, event: Input.Changed) -> None:
        if self.editing:
            self._validate(event.value)

    def _validate(self, value: str) -> None:
        """Live validation: what AWS would say, the field at fault, or what it means."""
        rule = self._rule()
        if rule is None or self.session is None:
            return
        verdict = self.query_one("#verdict", Static)
        try:
            parse_rule_expression(value, rule.timezone)
        except ScheduleFieldError as exc:
            bad = exc.fields if exc.field in FIELD_NAMES else ("expression",)
            text = Text("✘ Parameter ScheduleExpression is not valid.", "bold red")
            where = exc.field if exc.field in FIELD_NAMES else ""
            text.append(f"\n  {where + ': ' if where else ''}{exc.reason}", "red")
            verdict.update(Group(field_view(value, bad), text), layout=False)
            return
        candidate = LabRule(
            ScheduleSpec(rule.name, value, rule.function, True, rule.timezone),
            self.session.triggers.now(),
        )
        text = Text("✔ ", "green")
        text.append(candidate.describe(), "bold")
        now = self.session.triggers.now()
        for when in candidate.next_fires(now, 3):
            text.append(f"\n  then {_when(when, rule.timezone)}", "green")
        text.append("\n  enter saves (PutRule) · escape cancels", "dim")
        verdict.update(Group(field_view(candidate.expression), text), layout=False)

    @on(Input.Submitted, "#expression-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.save_expression(event.value)

    def save_expression(self, value: str) -> None:
        """PutRule with the typed expression; a refused one keeps the edit open."""
        rule = self._rule()
        if rule is None or self.session is None:
            return
        try:
            changed = self.session.triggers.set_schedule(rule.name, expression=value)
        except LambdaLabError as exc:
            self.notify(str(exc), title="ValidationException", severity="error")
            return
        self.stop_editing()
        self.notify(
            f"{changed.name}: {changed.expression} — {changed.describe()}",
            title="PutRule",
        )
        self._redraw()
