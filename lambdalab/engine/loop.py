"""A deterministic discrete-event loop over virtual milliseconds."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Sized
from typing import Any

Action = Callable[[], None]

# A heap entry is a list [time_ms, seq, action, cancelled]: lists compare item by
# item and seq is unique, so ordering never reaches the action, and a plain list
# costs far less to build and compare than a dataclass on the loop's hot path.
_TIME, _SEQ, _ACTION, _CANCELLED = range(4)


class Timer:
    """A handle to a scheduled action; cancelling it is O(1)."""

    __slots__ = ("_entry",)

    def __init__(self, entry: list[Any]) -> None:
        self._entry = entry

    @property
    def due_ms(self) -> float:
        """When the action runs, in virtual milliseconds."""
        return float(self._entry[_TIME])

    def cancel(self) -> None:
        """Stop the action from running."""
        self._entry[_CANCELLED] = True


class EventLoop:
    """A heap of (time, sequence, action) and a virtual clock that only moves forward.

    Ties at the same instant run in the order they were scheduled, so the same inputs
    always give the same trace.
    """

    __slots__ = ("now", "_heap", "_seq")

    def __init__(self, start_ms: float = 0.0) -> None:
        self.now = float(start_ms)
        """The current virtual time in milliseconds. Read it; only the loop moves it.

        A plain attribute, not a property: it is read several times per event."""
        self._heap: list[list[Any]] = []
        self._seq = itertools.count()

    def schedule(self, delay_ms: float, action: Action) -> Timer:
        """Run ``action`` ``delay_ms`` from now (never in the past)."""
        entry = [
            self.now + (delay_ms if delay_ms > 0 else 0.0),
            next(self._seq),
            action,
            False,
        ]
        heapq.heappush(self._heap, entry)
        return Timer(entry)

    def call_later(self, delay_ms: float, action: Action) -> None:
        """``schedule`` for actions nobody cancels, ``delay_ms`` >= 0: no ``Timer``."""
        heapq.heappush(
            self._heap, [self.now + delay_ms, next(self._seq), action, False]
        )

    def peek(self) -> float | None:
        """The time of the next live action, or None when nothing is scheduled."""
        heap = self._heap
        while heap and heap[0][_CANCELLED]:
            heapq.heappop(heap)
        return float(heap[0][_TIME]) if heap else None

    def step(self) -> bool:
        """Run the next action; return False when nothing is left."""
        heap = self._heap
        while heap:
            entry = heapq.heappop(heap)
            if entry[_CANCELLED]:
                continue
            self.now = entry[_TIME]
            entry[_ACTION]()
            return True
        return False

    def run(self, until_ms: float | None = None, hold: Sized = ()) -> bool:
        """Run actions in order up to ``until_ms`` (all when None).

        Returns False as soon as ``hold`` is non-empty after an action (the caller has
        something to wait for before time may move on), True when nothing is due.
        """
        heap = self._heap
        pop = heapq.heappop
        limit = math.inf if until_ms is None else until_ms
        # step() and peek() inlined: this loop runs once per event of a whole run.
        while heap:
            entry = heap[0]
            if entry[_CANCELLED]:
                pop(heap)
                continue
            time_ms = entry[_TIME]
            if time_ms > limit:
                return True
            pop(heap)
            self.now = time_ms
            entry[_ACTION]()
            if hold:
                return False
        return True

    def advance_to(self, time_ms: float) -> None:
        """Move the clock to ``time_ms`` without running anything (nothing is due before)."""
        nxt = self.peek()
        if nxt is not None and nxt < time_ms:
            raise ValueError("advance_to would skip a scheduled action")
        self.now = max(self.now, time_ms)

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e[_CANCELLED])
