"""The append-only record of everything the service does.

Metrics, log streams, lesson checks and the UI are all views of the trace. Listeners see
every record as it is appended, so a bounded trace (a ring buffer) still feeds complete
metrics.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TraceRecord:
    """One state change, at a virtual instant. Treat it as read-only.

    Not frozen: a frozen dataclass costs about five times as much to build, and the
    service builds one per state change on its hot path.
    """

    time_ms: float
    kind: str
    """What happened, e.g. ``invoke.start``, ``env.state``, ``log``, ``async.dead_letter``."""
    function: str = ""
    request_id: str = ""
    env_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON lines."""
        out: dict[str, Any] = {"t": round(self.time_ms, 3), "kind": self.kind}
        if self.function:
            out["function"] = self.function
        if self.request_id:
            out["request_id"] = self.request_id
        if self.env_id:
            out["env"] = self.env_id
        if self.data:
            out.update(self.data)
        return out


Listener = Callable[[TraceRecord], None]


class Trace:
    """Records in order; keeps the last ``maxlen`` (all when None)."""

    def __init__(self, maxlen: int | None = None) -> None:
        self._records: deque[TraceRecord] = deque(maxlen=maxlen)
        self._listeners: list[Listener] = []
        self.count = 0
        """How many records were ever appended, kept or not."""

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every record appended from now on."""
        self._listeners.append(listener)

    def append(self, record: TraceRecord) -> None:
        """Add a record and tell the listeners."""
        self._records.append(record)
        self.count += 1
        for listener in self._listeners:
            listener(record)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def of_kind(self, *kinds: str) -> list[TraceRecord]:
        """The kept records of the given kinds, in order."""
        return [r for r in self._records if r.kind in kinds]

    def since(self, count: int) -> list[TraceRecord]:
        """Records appended after the first ``count`` (as far as they are still kept)."""
        missing = self.count - count
        if missing <= 0:
            return []
        kept = list(self._records)
        return kept[-missing:] if missing < len(kept) else kept
