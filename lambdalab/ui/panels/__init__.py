"""Extra lab views (queues, schedules, HTTP wire view, buckets) shown as tabs beside the lab.

A panel is a widget that says whether a lab needs it (``applies``) and redraws itself
from the lab session (``refresh_lab``). Register a panel class in ``PANELS``; the lesson
screen adds a tab for each one that applies, in this order.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from textual.widget import Widget

from lambdalab.course.session import LabSession


class LabPanel(Protocol):
    """What the lesson screen needs from a panel widget."""

    TAB_TITLE: ClassVar[str]

    @classmethod
    def applies(cls, session: LabSession) -> bool:
        """Whether this lab has anything for the panel to show."""
        ...

    def refresh_lab(self, session: LabSession) -> None:
        """Redraw from the session; called when the lab changed."""
        ...


PANELS: list[type[Widget]] = []
"""Panel classes, in tab order. Each is a Widget that also follows ``LabPanel``."""


def register(panel: type[Widget]) -> type[Widget]:
    """Class decorator adding a panel to ``PANELS``."""
    PANELS.append(panel)
    return panel


def load_panels() -> None:
    """Import the panel modules so they register themselves."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
