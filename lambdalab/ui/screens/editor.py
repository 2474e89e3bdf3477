"""Edit the learner's handler code inside the app."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TextArea

from lambdalab.errors import LambdaLabError
from lambdalab.ui.screens.dialogs import ConfirmScreen


class EditorScreen(Screen[None]):
    """A Python editor for one file; ctrl+s saves (a deployment), escape returns."""

    CSS_PATH = "editor.tcss"

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "close", "Back to the lab", priority=True),
    ]

    def __init__(
        self, file: str, text: str, on_save: Callable[[str, str], None]
    ) -> None:
        super().__init__()
        self.file = file
        self.saved_text = text
        self.on_save = on_save

    def compose(self) -> ComposeResult:
        yield Header(icon="λ")
        yield Static(
            f"[b]{self.file}[/b]  [dim]ctrl+s saves and deploys · escape goes back to the lab[/dim]",
            id="editor-title",
        )
        yield TextArea.code_editor(self.saved_text, language="python", id="code")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Editing {self.file}"
        self.query_one("#code", TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one("#code", TextArea).text

    def action_save(self) -> None:
        text = self.text
        try:
            compile(text, self.file, "exec")
        except SyntaxError as exc:
            # Saved anyway, as Lambda deploys it anyway: the lab will show the
            # Runtime.UserCodeSyntaxError a real deployment gives.
            self.notify(
                f"Line {exc.lineno}: {exc.msg}. Saved as it is.",
                title="Syntax error",
                severity="warning",
            )
        try:
            self.on_save(self.file, text)
        except LambdaLabError as exc:  # e.g. the disk is full: the edits stay here
            self.notify(
                f"{exc} Your edits are still in the editor.",
                title="Not saved",
                severity="error",
                timeout=10,
            )
            return
        self.saved_text = text

    def action_close(self) -> None:
        if self.text == self.saved_text:
            self.app.pop_screen()
            return

        def decide(discard: bool | None) -> None:
            if discard:
                self.app.pop_screen()

        self.app.push_screen(
            ConfirmScreen(
                "You have unsaved changes. Leave without saving?",
                yes="Discard",
                no="Stay",
            ),
            decide,
        )
