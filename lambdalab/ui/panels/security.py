"""The Security tab: execution role, who may invoke, environment variables, KMS key."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from lambdalab.course.security import AWS_MANAGED_KEY, LabSecurity
from lambdalab.course.session import LabSession
from lambdalab.errors import LambdaLabError
from lambdalab.ui.panels import register
from lambdalab.ui.panels._base import KeyPanel, keys_line, select_keys
from lambdalab.ui.render import elapsed_text

Row = tuple[str, Any]
"""``("role", index)``, ``("invoke", index)``, ``("env", name)``,
``("kms", (function, key_arn))``."""


def security_rows(security: LabSecurity) -> list[Row]:
    """What the learner can choose, in the order the tab lists it."""
    rows: list[Row] = [("role", i) for i in range(len(security.role))]
    rows += [("invoke", i) for i in range(len(security.invoke))]
    rows += [("env", e.name) for e in security.spec.environments]
    functions = list(dict.fromkeys(e.function for e in security.spec.environments))
    if security.spec.kms_keys and not functions:
        functions = list(dict.fromkeys(s.function for s in security.role))
    for function in functions if security.spec.kms_keys else []:
        rows += [("kms", (function, key)) for key in ("", *security.spec.kms_keys)]
    return rows


def _row_function(security: LabSecurity, row: Row) -> str:
    kind, value = row
    if kind == "role":
        return security.role[value].function
    if kind == "invoke":
        return security.invoke[value].function
    if kind == "env":
        return next(e.function for e in security.spec.environments if e.name == value)
    return str(value[0])


def _short_arn(arn: str) -> str:
    """A KMS key ARN without its Region and account, which the tab does not vary."""
    head, _, key = arn.partition(":key/")
    return f"arn:aws:kms:…:key/{key}" if key else head


def _row_text(security: LabSecurity, row: Row) -> str:
    kind, value = row
    if kind == "role":
        s = security.role[value]
        return (
            f"[{'x' if security.role_granted[value] else ' '}] {s.action}  {s.resource}"
        )
    if kind == "invoke":
        p = security.invoke[value]
        source = f"aws:SourceArn {p.source_arn}" if p.source_arn else "any source"
        on = security.invoke_granted[value]
        return f"[{'x' if on else ' '}] {p.principal}  {source}"
    if kind == "env":
        spec = next(e for e in security.spec.environments if e.name == value)
        size = len(json.dumps(spec.variables, separators=(",", ":")).encode())
        return f"{value}: {', '.join(spec.variables)} ({size:,} B)"
    function, key = value
    on = "•" if security.kms_key(function) == (key or AWS_MANAGED_KEY) else " "
    if not key:
        return f"({on}) {AWS_MANAGED_KEY}: AWS managed (default, free)"
    return f"({on}) {_short_arn(key)}: customer managed"


_HEADINGS = {
    "role": "execution role of {f}: what its code may do",
    "invoke": "who may invoke {f} (resource-based policy)",
    "env": "environment of {f}: sets to apply (4 KB in all)",
    "kms": "KMS key for {f}'s variables at rest",
}


def rows_view(session: LabSession, selected: int) -> Text:
    """The choosable statements, sets and keys, grouped, the selection reversed."""
    security = session.security
    text = Text()
    group: tuple[str, str] | None = None
    for i, row in enumerate(security_rows(security)):
        here = (row[0], _row_function(security, row))
        if here != group:
            if group is not None:
                text.append("\n")
            text.append(_HEADINGS[row[0]].format(f=here[1]), "bold")
            group = here
        text.append("\n ")
        text.append(_row_text(security, row), "bold reverse" if i == selected else "")
    return text


def state_view(session: LabSession) -> Text:
    """What the code touched, refused invokes, and each function's variables."""
    security = session.security
    text = Text("calls the code made (as its role)", "bold")
    calls = session.triggers.effects[-8:]
    if not calls:
        text.append("\n none yet", "dim")
    for call in calls:
        ok = call.outcome != "denied"
        text.append(f"\n {elapsed_text(call.time_ms)} ", "dim")
        text.append("✔ " if ok else "✘ AccessDenied ", "green" if ok else "bold red")
        text.append(f"{call.function}: {call.action} {call.resource}")
    for denial in security.denials[-3:]:
        text.append(f"\n {elapsed_text(denial.time_ms)} ", "dim")
        text.append(
            f"✘ invoke denied: {denial.principal} → {denial.function} "
            f"({denial.source_arn})",
            "bold red",
        )
    functions = dict.fromkeys(e.function for e in security.spec.environments)
    for function in functions:
        variables = dict(session.service.function(function).environment or {})
        size = len(json.dumps(variables, separators=(",", ":")).encode())
        text.append(f"\n{function}'s variables ", "bold")
        text.append(f"{size:,} of 4,096 bytes, KMS key {security.kms_key(function)}")
        for key, value in variables.items():
            shown = value if len(value) <= 30 else value[:27] + "..."
            text.append(f"\n {key} = {shown}")
    if security.refusals:
        name, message = security.refusals[-1]
        text.append(f"\nLambda refused {name}: ", "bold red")
        text.append(message[:300] + ("..." if len(message) > 300 else ""), "red")
    return text


@register
class SecurityPanel(KeyPanel):
    """Grant and revoke statements, apply variables, choose the KMS key."""

    TAB_TITLE = "Security"
    BINDINGS = [
        *select_keys("Row"),
        Binding("enter", "toggle", "Grant/revoke"),
    ]
    DEFAULT_CSS = """
    SecurityPanel #security-rows {
        height: auto;
        max-height: 17;
        border: round $primary 40%;
    }
    SecurityPanel #security-state-box {
        height: 1fr;
        min-height: 4;
        border: round $primary 40%;
        scrollbar-size-vertical: 1;
    }
    """

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        return session.security.active

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.index = 0

    def compose(self) -> ComposeResult:
        yield Static(id="security-rows")
        state = VerticalScroll(Static(id="security-state"), id="security-state-box")
        state.can_focus = False
        state.border_title = "what happened"
        yield state
        yield Static(
            keys_line(("↑↓", "choose"), ("enter", "grant / revoke / apply")),
            classes="keys",
        )

    def _rows(self) -> list[Row]:
        return [] if self.session is None else security_rows(self.session.security)

    def refresh_lab(self, session: LabSession) -> None:
        if self.session is not session:
            self.forget()
        super().refresh_lab(session)
        if self.hidden:
            return
        security = session.security
        rows = self._rows()
        self.index %= max(1, len(rows))
        self.put(
            "#security-rows",
            (self.index, security.revision),
            lambda: rows_view(session, self.index),
        )
        self.put(
            "#security-state",
            (len(session.triggers.effects), security.revision, id(session.service)),
            lambda: state_view(session),
        )

    def action_select(self, step: int) -> None:
        if self.session is None:
            return
        self.index += step
        self.refresh_lab(self.session)

    def action_toggle(self) -> None:
        rows = self._rows()
        if not rows or self.session is None or self._locked():
            return
        security = self.session.security
        kind, value = rows[self.index % len(rows)]
        try:
            if kind == "role":
                security.set_role(value, not security.role_granted[value])
                s = security.role[value]
                verb = "granted" if security.role_granted[value] else "revoked"
                self.notify(f"{s.action} on {s.resource} {verb}.", title="Role")
            elif kind == "invoke":
                security.set_permission(value, not security.invoke_granted[value])
                verb = "added" if security.invoke_granted[value] else "removed"
                self.notify(f"Statement {verb}.", title="Resource-based policy")
            elif kind == "env":
                refused = security.apply_environment(value)
                if refused:
                    self.notify(
                        refused[:400],
                        title="InvalidParameterValueException (400)",
                        severity="error",
                        timeout=10,
                    )
                else:
                    self.notify(f"Variables set from {value}.", title="Environment")
            else:
                function, key = value
                security.set_kms(function, key)
                self.notify(
                    f"{function}: variables encrypted with {key or AWS_MANAGED_KEY}.",
                    title="KMS",
                )
        except LambdaLabError as exc:
            self.notify(str(exc), title="Refused", severity="error")
        self.session.revision += 1
        self._redraw()
