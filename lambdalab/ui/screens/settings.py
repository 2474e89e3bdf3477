"""Change a function's configuration, validated as Lambda's API validates it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from lambdalab.engine.model import FunctionConfig
from lambdalab.errors import LambdaLabError
from lambdalab.ui.screens.dialogs import DialogScreen

# (setting, label with the AWS name, allows "none")
FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("memory_mb", "MemorySize (MB, 128-10240)", False),
    ("timeout_s", "Timeout (s, 1-900)", False),
    ("reserved_concurrency", "ReservedConcurrentExecutions (none or 0+)", True),
    ("provisioned_concurrency", "ProvisionedConcurrentExecutions (0+)", False),
    ("max_retry_attempts", "MaximumRetryAttempts (0-2)", False),
    ("max_event_age_s", "MaximumEventAgeInSeconds (60-21600)", False),
)


class SettingsScreen(DialogScreen[None]):
    """A form of the function's settings; enter applies, escape closes."""

    CSS_PATH = "settings.tcss"

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+s", "apply", "Apply", priority=True),
    ]

    def __init__(
        self, config: FunctionConfig, apply: Callable[[str, Any], None]
    ) -> None:
        super().__init__()
        self.config = config
        self.apply = apply

    def compose(self) -> ComposeResult:
        with Vertical(id="settings"):
            yield Static(
                f"[b]Configuration of λ {self.config.name}[/b]  [dim]enter applies · escape closes[/dim]"
            )
            with Grid(id="settings-grid"):
                for key, label, _ in FIELDS:
                    value = getattr(self.config, key)
                    yield Label(label)
                    yield Input(
                        "none" if value is None else str(value), id=f"set-{key}"
                    )
            yield Static(id="settings-error")
            with Horizontal(id="buttons"):
                yield Button("Apply (enter)", variant="primary", id="apply")
                yield Button("Close (escape)", id="close")

    def on_mount(self) -> None:
        self.query_one(f"#set-{FIELDS[0][0]}", Input).focus()

    def on_input_submitted(self) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_close()

    def action_apply(self) -> None:
        """Apply every changed setting; stop at the first one Lambda would refuse."""
        error = self.query_one("#settings-error", Static)
        for key, label, allows_none in FIELDS:
            text = self.query_one(f"#set-{key}", Input).value.strip()
            current = getattr(self.config, key)
            if allows_none and text.lower() in ("", "none"):
                value: int | None = None
            else:
                try:
                    value = int(text)
                except ValueError:
                    error.update(
                        f"[red]{label.split(' (')[0]}: {text!r} is not a whole number.[/red]"
                    )
                    return
            if value == current:
                continue
            try:
                self.apply(key, value)
            except LambdaLabError as exc:
                error.update(f"[red]{exc}[/red]")
                return
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
