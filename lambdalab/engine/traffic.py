"""Request arrivals that drive a service: Poisson, evenly spaced, or one burst.

Arrivals are generated lazily: each one schedules the next when it fires, so a million
requests never sit in the event heap at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from math import log as _log
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from lambdalab.engine.service import InvocationType, LambdaService

ArrivalKind = Literal["poisson", "uniform", "burst"]
InvocationKind = Literal["sync", "async"]

INVOCATION_TYPES: dict[str, InvocationType] = {
    "sync": "RequestResponse",
    "async": "Event",
}


@dataclass(frozen=True)
class TrafficSpec:
    """One stream of requests to one function."""

    function: str
    invocation: InvocationKind = "sync"
    arrival: ArrivalKind = "poisson"
    rate: float | None = None
    """Requests per second (poisson and uniform)."""
    start_s: float = 0.0
    stop_s: float | None = None
    """No arrival at or after this virtual second."""
    count: int | None = None
    """At most this many arrivals (the burst size for ``burst``)."""

    def expected_count(self) -> float:
        """How many requests the stream sends, on average."""
        if self.arrival == "burst":
            return float(self.count or 0)
        by_time = (
            (self.stop_s - self.start_s) * (self.rate or 0.0)
            if self.stop_s is not None
            else float("inf")
        )
        return min(by_time, float(self.count) if self.count is not None else by_time)

    def expected_end_s(self) -> float:
        """When the last arrival is expected, in virtual seconds."""
        if self.arrival == "burst" or not self.rate:
            return self.start_s
        if self.stop_s is not None:
            by_count = (
                self.start_s + self.count / self.rate
                if self.count is not None
                else self.stop_s
            )
            return min(self.stop_s, by_count)
        return self.start_s + (self.count or 0) / self.rate


class TrafficSource:
    """Feeds one ``TrafficSpec`` into a service, one arrival at a time."""

    def __init__(
        self, service: LambdaService, spec: TrafficSpec, rng: random.Random
    ) -> None:
        self.service = service
        self.spec = spec
        self.rng = rng
        self.sent = 0
        """Requests sent so far."""
        self._type: InvocationType = INVOCATION_TYPES[spec.invocation]
        self._limit = spec.count if spec.count is not None else -1
        self._start_ms = spec.start_s * 1000.0
        self._stop_ms = spec.stop_s * 1000.0 if spec.stop_s is not None else None
        self._per_ms = (spec.rate or 0.0) / 1000.0
        self._random = rng.random
        self._fire_next = self._fire_poisson
        if spec.arrival == "uniform":
            self._fire_next = self._fire_uniform

    def start(self) -> None:
        """Schedule the first arrival (relative to virtual time 0)."""
        loop = self.service.loop
        start = self._start_ms - loop.now
        if self.spec.arrival == "burst":
            loop.schedule(start, self._fire_burst)
        elif self.spec.arrival == "uniform":
            loop.schedule(start, self._fire_uniform)
        else:
            self._schedule_at(self._start_ms + self.rng.expovariate(self._per_ms))

    def _schedule_at(self, time_ms: float) -> None:
        if self._stop_ms is not None and time_ms >= self._stop_ms:
            return
        loop = self.service.loop
        loop.schedule(time_ms - loop.now, self._fire_next)

    def _send(self) -> bool:
        """Invoke once; False when the stream has sent its count."""
        self.service.send(self.spec.function, self._type)
        self.sent += 1
        return self.sent != self._limit

    def _fire_poisson(self) -> None:
        service = self.service
        service.send(self.spec.function, self._type)
        self.sent += 1
        if self.sent != self._limit:  # _send and _schedule_at inlined: the hot path
            loop = service.loop
            # rng.expovariate(self._per_ms), its formula inlined: the same draws
            delay = -_log(1.0 - self._random()) / self._per_ms
            if self._stop_ms is None or loop.now + delay < self._stop_ms:
                loop.call_later(delay, self._fire_next)

    def _fire_uniform(self) -> None:
        if self._send():
            # From the start each time, so float steps do not drift.
            self._schedule_at(self._start_ms + self.sent / self._per_ms)

    def _fire_burst(self) -> None:
        for _ in range(self.spec.count or 0):
            self._send()
