"""Small modal screens: confirmations, Markdown pages, help, a too-small terminal."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, ScreenResultType
from textual.widgets import Button, Markdown, Static


class DialogScreen(ModalScreen[ScreenResultType]):
    """A box in the middle of the dimmed screen below."""

    # Default CSS, read with this module when a dialog is first needed: the rules of
    # every dialog would otherwise be parsed before the course map's first frame.
    DEFAULT_CSS = Path(__file__).with_name("dialogs.tcss").read_text("utf-8")


class ConfirmScreen(DialogScreen[bool]):
    """Ask a yes/no question; y/enter confirm, n/escape cancel."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="question")
            with Horizontal(id="buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class PageScreen(DialogScreen[None]):
    """A scrollable Markdown page (help, a solution, a recap); escape closes it."""

    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close")]

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__()
        self.page_title = title
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical(id="page"):
            yield Static(
                f"[b]{self.page_title}[/b]   [dim](escape closes)[/dim]",
                id="page-title",
            )
            with VerticalScroll():
                yield Markdown(self.markdown)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class TooSmallScreen(DialogScreen[None]):
    """Shown while the terminal is smaller than the app can draw."""

    BINDINGS = [Binding("q,ctrl+q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static(id="too-small")

    def show(self, width: int, height: int, need: tuple[int, int]) -> None:
        """Say how big the terminal is and how big it must be."""
        self.query_one("#too-small", Static).update(
            f"[b]The terminal is too small for lambdalab.[/b]\n\n"
            f"It is {width}x{height}; lambdalab needs at least {need[0]}x{need[1]}.\n"
            "Enlarge the window or make the font smaller; the lesson is waiting.\n\n"
            "[dim]q quits[/dim]"
        )
