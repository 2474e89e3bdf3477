"""CloudWatch's Lambda metrics, computed from the trace (LAMBDA-FACTS 2.4, 3.3).

``Metrics`` is a trace listener: it sees every record, even when the trace itself keeps
only the last few, and folds it into per-function, per-minute buckets. Memory is bounded
by functions x minutes, never by invocations: durations go into a log-scale histogram
instead of a list, so percentiles are accurate to about 1%.

As in CloudWatch, a metric's timestamp is the invocation's start, not the moment it
ended or failed: an invocation that starts at 00:59.9 and fails at 01:00.2 counts in
minute 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambdalab.engine.trace import TraceRecord

if TYPE_CHECKING:
    from lambdalab.engine.service import LambdaService

MINUTE_MS = 60_000
"""CloudWatch's standard resolution for Lambda metrics: one minute."""

_GROWTH = 1.02
"""Histogram bucket width: each bucket spans 2%, so its midpoint is within 1%."""
_LOG_GROWTH = math.log(_GROWTH)
_SMALLEST_MS = 0.01
"""Durations below this (Lambda reports two decimals) share bucket zero."""
_log = math.log

FUNCTION_METRICS = (
    "Invocations",
    "Errors",
    "Throttles",
    "Duration",
    "ConcurrentExecutions",
    "ProvisionedConcurrencyInvocations",
    "ProvisionedConcurrencySpilloverInvocations",
    "DeadLetterErrors",
    "DestinationDeliveryFailures",
    "AsyncEventsReceived",
    "AsyncEventAge",
    "AsyncEventsDropped",
    "RecursiveInvocationsDropped",
)
"""The CloudWatch metric names this module computes per function (LAMBDA-FACTS 2.4)."""


class _Histogram:
    """Counts of values in geometric buckets; merges by adding counts."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def add(self, value_ms: float) -> None:
        key = (
            int(math.log(value_ms / _SMALLEST_MS) / _LOG_GROWTH) + 1
            if value_ms > _SMALLEST_MS
            else 0
        )
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1

    def merge(self, other: _Histogram) -> None:
        counts = self.counts
        for key, n in other.counts.items():
            counts[key] = counts.get(key, 0) + n

    def percentile(self, q: float, low: float, high: float) -> float | None:
        """The ``q``-th percentile (0-100), clamped to the observed range."""
        total = sum(self.counts.values())
        if total == 0:
            return None
        rank = max(1, math.ceil(q / 100.0 * total))
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                if key == 0:
                    value = _SMALLEST_MS / 2
                else:
                    # geometric midpoint of [s*g^(k-1), s*g^k)
                    value = _SMALLEST_MS * _GROWTH ** (key - 0.5)
                return min(max(value, low), high)
        return high  # pragma: no cover - the loop always reaches the rank


@dataclass(slots=True)
class Stat:
    """Sum, count, minimum and maximum of one metric in one bucket (CloudWatch's
    statistics)."""

    sum: float = 0.0
    count: int = 0
    minimum: float = math.inf
    maximum: float = 0.0

    def add(self, value: float) -> None:
        self.sum += value
        self.count += 1
        if value > self.maximum:
            self.maximum = value
        if value < self.minimum:
            self.minimum = value

    def merge(self, other: Stat) -> None:
        self.sum += other.sum
        self.count += other.count
        self.maximum = max(self.maximum, other.maximum)
        self.minimum = min(self.minimum, other.minimum)

    @property
    def average(self) -> float | None:
        """Sum / SampleCount, or None with no samples."""
        return self.sum / self.count if self.count else None


@dataclass(slots=True)
class FunctionMinute:
    """One function's metrics for one minute (or, merged, for a whole run)."""

    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    duration: Stat = field(default_factory=Stat)
    duration_histogram: _Histogram = field(default_factory=_Histogram, repr=False)
    concurrent_executions: int = 0
    """Maximum requests in flight seen at any start in the minute."""
    provisioned_invocations: int = 0
    spillover_invocations: int = 0
    dead_letter_errors: int = 0
    destination_delivery_failures: int = 0
    async_events_received: int = 0
    async_event_age: Stat = field(default_factory=Stat)
    async_events_dropped: int = 0
    recursive_invocations_dropped: int = 0
    cold_starts: int = 0
    billed_mb_ms: int = 0
    """Billed milliseconds x memory MB, summed; exact, turned into GB-s on demand."""
    init_billed_mb_ms: int = 0
    """The same for the init phase of cold starts (billed since 2025-08, 3.3)."""

    def count_end(self, failed: bool, duration_ms: float, billed_mb_ms: int) -> None:
        """Count an invocation that started in this minute and has ended."""
        self.invocations += 1
        if failed:
            self.errors += 1
        # Stat.add and _Histogram.add inlined: this runs once per invocation.
        stat = self.duration
        stat.sum += duration_ms
        stat.count += 1
        if duration_ms > stat.maximum:
            stat.maximum = duration_ms
        if duration_ms < stat.minimum:
            stat.minimum = duration_ms
        key = (
            int(_log(duration_ms / _SMALLEST_MS) / _LOG_GROWTH) + 1
            if duration_ms > _SMALLEST_MS
            else 0
        )
        counts = self.duration_histogram.counts
        counts[key] = counts.get(key, 0) + 1
        self.billed_mb_ms += billed_mb_ms

    def merge(self, other: FunctionMinute) -> None:
        """Add ``other``'s counts into this bucket."""
        self.invocations += other.invocations
        self.errors += other.errors
        self.throttles += other.throttles
        self.duration.merge(other.duration)
        self.duration_histogram.merge(other.duration_histogram)
        self.concurrent_executions = max(
            self.concurrent_executions, other.concurrent_executions
        )
        self.provisioned_invocations += other.provisioned_invocations
        self.spillover_invocations += other.spillover_invocations
        self.dead_letter_errors += other.dead_letter_errors
        self.destination_delivery_failures += other.destination_delivery_failures
        self.async_events_received += other.async_events_received
        self.async_event_age.merge(other.async_event_age)
        self.async_events_dropped += other.async_events_dropped
        self.recursive_invocations_dropped += other.recursive_invocations_dropped
        self.cold_starts += other.cold_starts
        self.billed_mb_ms += other.billed_mb_ms
        self.init_billed_mb_ms += other.init_billed_mb_ms

    @property
    def gb_seconds(self) -> float:
        """Billed compute: memory in GB x billed duration in seconds (3.3)."""
        return self.billed_mb_ms / 1_024_000

    @property
    def init_gb_seconds(self) -> float:
        """Billed compute of on-demand init phases."""
        return self.init_billed_mb_ms / 1_024_000

    def duration_percentile(self, q: float) -> float | None:
        """Duration ``pq`` in ms (about 1% accurate), or None with no invocations."""
        if not self.duration.count:
            return None
        return self.duration_histogram.percentile(
            q, self.duration.minimum, self.duration.maximum
        )

    def get(self, metric: str, statistic: str = "Sum") -> float | None:
        """One CloudWatch metric by its name and statistic (``Sum``, ``Maximum``,
        ``Minimum``, ``Average``, ``SampleCount`` or ``pNN``)."""
        counters = {
            "Invocations": self.invocations,
            "Errors": self.errors,
            "Throttles": self.throttles,
            "ProvisionedConcurrencyInvocations": self.provisioned_invocations,
            "ProvisionedConcurrencySpilloverInvocations": self.spillover_invocations,
            "DeadLetterErrors": self.dead_letter_errors,
            "DestinationDeliveryFailures": self.destination_delivery_failures,
            "AsyncEventsReceived": self.async_events_received,
            "AsyncEventsDropped": self.async_events_dropped,
        }
        if metric in counters:
            if statistic not in ("Sum", "SampleCount"):
                raise KeyError(f"{metric} is reported as Sum, not {statistic}")
            return counters[metric]
        if metric == "ConcurrentExecutions":
            if statistic != "Maximum":
                raise KeyError(
                    f"ConcurrentExecutions is reported as Maximum, not {statistic}"
                )
            return self.concurrent_executions
        stat = {"Duration": self.duration, "AsyncEventAge": self.async_event_age}.get(
            metric
        )
        if stat is None:
            raise KeyError(f"{metric} is not a metric this lab computes")
        if statistic == "Average":
            return stat.average
        if statistic == "Maximum":
            return stat.maximum if stat.count else None
        if statistic == "Minimum":
            return stat.minimum if stat.count else None
        if statistic == "Sum":
            return stat.sum
        if statistic == "SampleCount":
            return stat.count
        if statistic.startswith("p") and metric == "Duration":
            return self.duration_percentile(float(statistic[1:]))
        raise KeyError(f"{metric} has no statistic {statistic}")


@dataclass(frozen=True)
class Pricing:
    """Lambda list prices for one architecture and Region (LAMBDA-FACTS 3.3)."""

    requests_per_million: float
    gb_second_tiers: tuple[tuple[float, float], ...]
    """(GB-seconds in the tier, price per GB-s); the last tier is unbounded."""
    free_requests: int = 1_000_000
    free_gb_seconds: float = 400_000.0
    """The monthly free tier: 1M requests and 400,000 GB-s."""


X86_US_EAST_1 = Pricing(
    requests_per_million=0.20,
    gb_second_tiers=(
        (6_000_000_000.0, 0.0000166667),
        (9_000_000_000.0, 0.000015),
        (math.inf, 0.0000133334),
    ),
)
"""x86 in us-east-1: $0.20 per 1M requests; $0.0000166667 per GB-s for the first 6 B."""


@dataclass(frozen=True)
class CostEstimate:
    """What a month with this usage would cost, in US dollars."""

    requests: int
    gb_seconds: float
    request_cost: float
    compute_cost: float
    free_tier: bool

    @property
    def total(self) -> float:
        """Requests plus compute."""
        return self.request_cost + self.compute_cost


def estimate_cost(
    requests: int,
    gb_seconds: float,
    *,
    free_tier: bool = False,
    pricing: Pricing = X86_US_EAST_1,
) -> CostEstimate:
    """Price ``requests`` and ``gb_seconds``, optionally after the free tier (T56)."""
    billable_requests = requests
    billable_gb_s = gb_seconds
    if free_tier:
        billable_requests = max(0, requests - pricing.free_requests)
        billable_gb_s = max(0.0, gb_seconds - pricing.free_gb_seconds)
    request_cost = billable_requests / 1_000_000 * pricing.requests_per_million
    compute_cost = 0.0
    left = billable_gb_s
    for size, price in pricing.gb_second_tiers:
        used = min(left, size)
        compute_cost += used * price
        left -= used
        if left <= 0:
            break
    return CostEstimate(requests, gb_seconds, request_cost, compute_cost, free_tier)


class _FunctionSeries:
    """Per-minute buckets of one function, with the current minute cached."""

    __slots__ = ("minutes", "last_key", "last")

    def __init__(self) -> None:
        self.minutes: dict[int, FunctionMinute] = {}
        self.last_key = -1
        self.last = FunctionMinute()

    def at(self, time_ms: float) -> FunctionMinute:
        key = int(time_ms // MINUTE_MS)
        if key == self.last_key:
            return self.last
        bucket = self.minutes.get(key)
        if bucket is None:
            bucket = self.minutes[key] = FunctionMinute()
        self.last_key, self.last = key, bucket
        return bucket


class Metrics:
    """A trace listener that keeps CloudWatch's Lambda metrics per function and minute.

    Attach it before the first invocation: ``metrics = Metrics.attach(service)``.
    """

    def __init__(self) -> None:
        self._series: dict[str, _FunctionSeries] = {}
        self._unreserved: dict[int, int] = {}
        """UnreservedConcurrentExecutions (Maximum) per minute, Region-wide."""

    @classmethod
    def attach(cls, service: LambdaService) -> Metrics:
        """Create a collector, subscribe it to ``service``'s trace and let the service
        count into it the requests it does not record (trace detail ``metrics``)."""
        metrics = cls()
        metrics.attach_to(service)
        return metrics

    def attach_to(self, service: LambdaService) -> None:
        """Subscribe to ``service``'s trace and count what it does not record."""
        service.trace.subscribe(self)
        service.count_with(self)

    def _at(self, function: str, time_ms: float) -> FunctionMinute:
        series = self._series.get(function) or self._new_series(function)
        return series.at(time_ms)

    def _new_series(self, function: str) -> _FunctionSeries:
        series = self._series[function] = _FunctionSeries()
        return series

    def __call__(self, record: TraceRecord) -> None:
        kind = record.kind
        if kind == "invoke.end":
            data = record.data
            started = data["started_ms"]
            bucket = self._at(
                record.function, record.time_ms if started is None else started
            )
            memory = data["memory_mb"]
            bucket.count_end(
                data["outcome"] != "success",
                data["duration_ms"],
                data["billed_ms"] * memory,
            )
            if data["cold"]:
                bucket.cold_starts += 1
                init_ms = data["init_ms"]
                if init_ms:
                    bucket.init_billed_mb_ms += math.ceil(init_ms) * memory
        elif kind == "invoke.start":
            data = record.data
            self.count_start(
                record.function,
                record.time_ms,
                data.get("in_flight", 0),
                data.get("provisioned", False),
                data.get("unreserved_in_flight", 0),
                data.get("age_ms"),
            )
        elif kind == "invoke.throttled":
            self.count_throttle(record.function, record.time_ms)
        elif kind == "invoke.spillover":
            self.count_spillover(record.function, record.time_ms)
        elif kind == "async.received":
            self._at(record.function, record.time_ms).async_events_received += 1
        elif kind == "async.dropped":
            self._at(record.function, record.time_ms).async_events_dropped += 1
        elif kind == "async.recursion_stopped":
            bucket = self._at(record.function, record.time_ms)
            bucket.recursive_invocations_dropped += 1
        elif kind == "async.dead_letter":
            if not record.data.get("delivered", True):
                self._at(record.function, record.time_ms).dead_letter_errors += 1
        elif kind == "async.destination":
            if not record.data.get("delivered", True):
                bucket = self._at(record.function, record.time_ms)
                bucket.destination_delivery_failures += 1

    # -- counting: from records, or directly from the service's counted path ----------

    def count_start(
        self,
        function: str,
        time_ms: float,
        in_flight: int,
        provisioned: bool,
        unreserved_in_flight: int,
        age_ms: float | None = None,
    ) -> FunctionMinute:
        """An invocation started with ``in_flight`` requests of its function running.

        Returns the minute it counts in, where ``count_end`` will count its end."""
        series = self._series.get(function) or self._new_series(function)
        key = int(time_ms // MINUTE_MS)
        bucket = series.last if key == series.last_key else series.at(time_ms)
        if in_flight > bucket.concurrent_executions:
            bucket.concurrent_executions = in_flight
        if provisioned:
            bucket.provisioned_invocations += 1
        if age_ms is not None:
            bucket.async_event_age.add(age_ms)
        if unreserved_in_flight > self._unreserved.get(key, 0):
            self._unreserved[key] = unreserved_in_flight
        return bucket

    def count_throttle(self, function: str, time_ms: float) -> None:
        """A request was throttled (Throttles; it is not an Invocation)."""
        self._at(function, time_ms).throttles += 1

    def count_spillover(self, function: str, time_ms: float) -> None:
        """A request ran on-demand while provisioned concurrency was configured."""
        self._at(function, time_ms).spillover_invocations += 1

    # -- reading ---------------------------------------------------------------------

    @property
    def functions(self) -> list[str]:
        """Names of the functions seen so far, in order of first appearance."""
        return list(self._series)

    def minutes(self, function: str) -> Iterator[tuple[int, FunctionMinute]]:
        """(minute index, bucket) pairs in time order; minute 0 starts at virtual 0."""
        series = self._series.get(function)
        if series is None:
            return iter(())
        return iter(sorted(series.minutes.items()))

    def total(self, function: str) -> FunctionMinute:
        """All of ``function``'s minutes merged (an empty bucket if it never ran)."""
        merged = FunctionMinute()
        for _, bucket in self.minutes(function):
            merged.merge(bucket)
        return merged

    def unreserved_concurrent_executions(self, minute: int | None = None) -> int:
        """UnreservedConcurrentExecutions (Maximum) in one minute, or over the run."""
        if minute is not None:
            return self._unreserved.get(minute, 0)
        return max(self._unreserved.values(), default=0)

    def requests(self, functions: Iterable[str] | None = None) -> int:
        """Billed requests: the Invocations metric summed (throttles are free)."""
        names = self.functions if functions is None else functions
        return sum(self.total(name).invocations for name in names)

    def gb_seconds(self, *, include_init: bool = False) -> float:
        """Billed GB-seconds of every function, optionally with init phases."""
        total = 0.0
        for name in self.functions:
            bucket = self.total(name)
            total += bucket.gb_seconds
            if include_init:
                total += bucket.init_gb_seconds
        return total

    def cost(
        self,
        *,
        free_tier: bool = False,
        include_init: bool = False,
        pricing: Pricing = X86_US_EAST_1,
    ) -> CostEstimate:
        """The bill for this run's requests and compute (LAMBDA-FACTS 3.3, T56)."""
        return estimate_cost(
            self.requests(),
            self.gb_seconds(include_init=include_init),
            free_tier=free_tier,
            pricing=pricing,
        )

    def summary(self, function: str) -> dict[str, Any]:
        """The whole run's metrics for one function under CloudWatch names."""
        total = self.total(function)
        return {
            "Invocations": total.invocations,
            "Errors": total.errors,
            "Throttles": total.throttles,
            "Duration": total.duration.average,
            "DurationMaximum": total.duration.maximum if total.duration.count else None,
            "DurationP50": total.duration_percentile(50),
            "DurationP90": total.duration_percentile(90),
            "DurationP99": total.duration_percentile(99),
            "ConcurrentExecutions": total.concurrent_executions,
            "ProvisionedConcurrencyInvocations": total.provisioned_invocations,
            "ProvisionedConcurrencySpilloverInvocations": total.spillover_invocations,
            "DeadLetterErrors": total.dead_letter_errors,
            "DestinationDeliveryFailures": total.destination_delivery_failures,
            "AsyncEventsReceived": total.async_events_received,
            "AsyncEventAge": total.async_event_age.average,
            "AsyncEventAgeMaximum": (
                total.async_event_age.maximum if total.async_event_age.count else None
            ),
            "AsyncEventsDropped": total.async_events_dropped,
            "RecursiveInvocationsDropped": total.recursive_invocations_dropped,
            "ColdStarts": total.cold_starts,
            "GBSeconds": total.gb_seconds,
        }
