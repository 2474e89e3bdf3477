"""What the trigger panels share: keys that work while their tab is shown."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import NoScreen, Widget
from textual.widgets import Static

from lambdalab.course.session import LabSession


class KeyPanel(Vertical, can_focus=True):
    """A panel that takes the focus while its tab is shown, so its keys work.

    The lesson screen sometimes focuses a widget of the Lab tab (after a typed
    prediction); a panel that is on screen takes the focus back from a hidden widget.
    """

    DEFAULT_CSS = """
    KeyPanel {
        height: 1fr;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
    }
    KeyPanel:focus {
        background-tint: $primary 4%;
    }
    KeyPanel .keys {
        height: auto;
        color: $text-muted;
        dock: bottom;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session: LabSession | None = None
        self._drawn: dict[str, Hashable] = {}

    def put(
        self,
        selector: str,
        key: Hashable,
        build: Callable[[], RenderableType],
        *,
        layout: bool = True,
    ) -> None:
        """Update one Static only when what it shows (``key``) changed.

        Every update costs the screen a layout pass; the lab redraws many times a
        second, mostly with nothing new for a given view.
        """
        if self._drawn.get(selector) == key:
            return
        self._drawn[selector] = key
        self.query_one(selector, Static).update(build(), layout=layout)

    def forget(self) -> None:
        """Draw every view again on the next refresh."""
        self._drawn.clear()

    def on_show(self) -> None:
        self.focus()
        self.call_after_refresh(self._catch_up)
        self.forget()
        self.draw()

    def _catch_up(self) -> None:
        """Draw what happened while another tab was shown."""
        if self.session is not None:
            self.refresh_lab(self.session)

    def on_blur(self) -> None:
        self.call_after_refresh(self._reclaim_focus)

    def _reclaim_focus(self) -> None:
        # Runs after a refresh: the lesson may have closed in between.
        if not self.is_attached:
            return
        try:
            focused = self.screen.focused
        except NoScreen:
            return
        if focused is not None and (focused is self or self in focused.ancestors):
            return  # the panel's own input: shown by a layout that may not have run
        if displayed(self) and (focused is None or not displayed(focused)):
            self.focus()

    def refresh_lab(self, session: LabSession) -> None:
        """Remember the session and redraw (only while shown: see ``hidden``)."""
        self.session = session
        self.draw()

    def draw(self) -> None:
        """Redraw from ``session``: panels that draw nothing else override it."""

    def changed(self, key: Hashable) -> bool:
        """True, once, when ``key`` (what the whole panel shows) differs from the last
        drawn; ``forget`` and showing the panel make the next call True."""
        if self._drawn.get("") == key:
            return False
        self._drawn[""] = key
        return True

    @property
    def hidden(self) -> bool:
        """True while another tab is shown: redrawing now would only cost layouts."""
        return not self.is_on_screen

    def _locked(self) -> bool:
        """True while the step waits for a prediction (the lab is locked until then)."""
        pending = getattr(self.screen, "_prediction_pending", None)
        return bool(pending and pending())

    def _redraw(self) -> None:
        draw = getattr(self.screen, "draw_lab", None)
        if draw is not None:
            draw(force=True)
        self.screen.add_class("show-lab")


def displayed(widget: Widget) -> bool:
    """True when neither the widget nor a container of it is set not to display.

    Unlike ``is_on_screen`` this needs no layout pass: a widget shown a moment ago
    counts at once.
    """
    return all(node.display for node in widget.ancestors_with_self if node.parent)


def select_keys(noun: str) -> list[Binding]:
    """Up and down choose a row; the footer shows them once, e.g. ``↑↓ Message``."""
    group = Binding.Group(noun, compact=True)
    return [
        Binding(
            "up", "select(-1)", f"Previous {noun.lower()}", key_display="↑", group=group
        ),
        Binding(
            "down", "select(1)", f"Next {noun.lower()}", key_display="↓", group=group
        ),
    ]


def keys_line(*pairs: tuple[str, str]) -> Text:
    """The panel's key help, e.g. ``enter send · d front door``."""
    text = Text()
    for i, (key, what) in enumerate(pairs):
        if i:
            text.append(" · ", "dim")
        text.append(key, "bold")
        text.append(f" {what}", "dim")
    return text
