"""A deterministic discrete-event loop over virtual milliseconds."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

Action = Callable[[], None]


@dataclass(order=True)
class _Entry:
    time_ms: float
    seq: int
    action: Action = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timer:
    """A handle to a scheduled action; cancelling it is O(1)."""

    __slots__ = ("_entry",)

    def __init__(self, entry: _Entry) -> None:
        self._entry = entry

    @property
    def due_ms(self) -> float:
        """When the action runs, in virtual milliseconds."""
        return self._entry.time_ms

    def cancel(self) -> None:
        """Stop the action from running."""
        self._entry.cancelled = True


class EventLoop:
    """A heap of (time, sequence, action) and a virtual clock that only moves forward.

    Ties at the same instant run in the order they were scheduled, so the same inputs
    always give the same trace.
    """

    def __init__(self, start_ms: float = 0.0) -> None:
        self._now = float(start_ms)
        self._heap: list[_Entry] = []
        self._seq = itertools.count()

    @property
    def now(self) -> float:
        """The current virtual time in milliseconds."""
        return self._now

    def schedule(self, delay_ms: float, action: Action) -> Timer:
        """Run ``action`` ``delay_ms`` from now (never in the past)."""
        entry = _Entry(self._now + max(0.0, delay_ms), next(self._seq), action)
        heapq.heappush(self._heap, entry)
        return Timer(entry)

    def peek(self) -> float | None:
        """The time of the next live action, or None when nothing is scheduled."""
        heap = self._heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)
        return heap[0].time_ms if heap else None

    def step(self) -> bool:
        """Run the next action; return False when nothing is left."""
        if self.peek() is None:
            return False
        entry = heapq.heappop(self._heap)
        self._now = entry.time_ms
        entry.action()
        return True

    def advance_to(self, time_ms: float) -> None:
        """Move the clock to ``time_ms`` without running anything (nothing is due before)."""
        nxt = self.peek()
        if nxt is not None and nxt < time_ms:
            raise ValueError("advance_to would skip a scheduled action")
        self._now = max(self._now, time_ms)

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e.cancelled)
