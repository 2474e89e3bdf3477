"""Checks on what CloudWatch and the bill would show: the ``metric`` and ``cost`` checks.

They read the lab's ``Metrics`` (LAMBDA-FACTS 2.4, 3.3): CloudWatch's Lambda metrics per
function and virtual minute, timestamped at each invocation's start, and the bill in
requests and GB-seconds, with or without the monthly free tier.
"""

from __future__ import annotations

from typing import Any, Protocol

from lambdalab.engine.metrics import (
    FUNCTION_METRICS,
    FunctionMinute,
    Metrics,
    estimate_cost,
)
from lambdalab.errors import LessonFormatError

CHECK_KEYS: dict[str, tuple[str, ...]] = {
    "metric": ("function", "metric", "statistic", "minute", "min", "max"),
    "cost": (
        "function",
        "min_requests",
        "max_requests",
        "min_gb_seconds",
        "max_gb_seconds",
        "max_dollars",
        "free_tier",
    ),
}
"""Allowed keys of the monitoring and cost check types."""

STATISTICS = (
    "Sum",
    "SampleCount",
    "Average",
    "Minimum",
    "Maximum",
    "p50",
    "p90",
    "p99",
)


def default_statistic(metric: str) -> str:
    """The statistic CloudWatch's Lambda console shows for a metric by default."""
    if metric == "ConcurrentExecutions":
        return "Maximum"
    if metric in ("Duration", "AsyncEventAge"):
        return "Average"
    return "Sum"


class Doc(Protocol):
    """What this module needs from the loader's parsed file."""

    def fail(self, key: str, problem: str) -> LessonFormatError: ...


def validate_check(doc: Doc, kind: str, p: dict[str, Any], where: str) -> None:
    """Refuse a ``metric`` or ``cost`` check that names no metric or has bad numbers."""
    for key in ("min", "max", "minute", "min_requests", "max_requests"):
        value = p.get(key)
        if value is not None and (
            not isinstance(value, int | float) or isinstance(value, bool) or value < 0
        ):
            raise doc.fail(f"{where}.{key}", "must be a number, 0 or more.")
    for key in ("min_gb_seconds", "max_gb_seconds", "max_dollars"):
        value = p.get(key)
        if value is not None and (
            not isinstance(value, int | float) or isinstance(value, bool) or value < 0
        ):
            raise doc.fail(f"{where}.{key}", "must be a number, 0 or more.")
    if kind == "metric":
        if "function" not in p:
            raise doc.fail(f"{where}.function", "missing; name the function.")
        metric = p.get("metric")
        if metric not in FUNCTION_METRICS:
            raise doc.fail(
                f"{where}.metric",
                f"{metric!r} is not a Lambda metric the lab computes; use one of "
                f"{', '.join(FUNCTION_METRICS)}.",
            )
        if "min" not in p and "max" not in p:
            raise doc.fail(where, "give min, max or both: the range the metric needs.")
        statistic = p.get("statistic", default_statistic(str(metric)))
        try:
            FunctionMinute().get(str(metric), str(statistic))
        except KeyError as exc:
            raise doc.fail(f"{where}.statistic", f"{exc.args[0]}.") from None
    elif kind == "cost" and not isinstance(p.get("free_tier", False), bool):
        raise doc.fail(f"{where}.free_tier", "must be true or false.")


def metric_value(
    metrics: Metrics,
    function: str,
    metric: str,
    statistic: str | None = None,
    minute: int | None = None,
) -> float | None:
    """One metric of one function, over the whole lab or in one virtual minute."""
    stat = statistic or default_statistic(metric)
    if minute is None:
        bucket = metrics.total(function)
    else:
        bucket = dict(metrics.minutes(function)).get(minute, FunctionMinute())
    return bucket.get(metric, stat)


def check_metric(metrics: Metrics, p: dict[str, Any]) -> tuple[bool, str]:
    """The ``metric`` check: a CloudWatch metric of a function within a range."""
    function, metric = str(p["function"]), str(p["metric"])
    statistic = str(p.get("statistic", default_statistic(metric)))
    minute = p.get("minute")
    value = metric_value(metrics, function, metric, statistic, minute)
    shown = 0.0 if value is None else float(value)
    low, high = p.get("min"), p.get("max")
    ok = (low is None or shown >= low) and (high is None or shown <= high)
    when = f" in minute {minute}" if minute is not None else ""
    name = f"{metric} ({statistic}) of {function}{when}"
    if ok and value is not None:
        return True, f"{name} is {_number(shown)}."
    if low is not None and high is not None:
        need = f"between {_number(low)} and {_number(high)}"
    elif low is not None:
        need = f"at least {_number(low)}"
    else:
        need = f"at most {_number(high or 0)}"
    got = "no data points yet" if value is None else _number(shown)
    return False, f"{name} needs to be {need}; CloudWatch shows {got}."


def check_cost(metrics: Metrics, p: dict[str, Any]) -> tuple[bool, str]:
    """The ``cost`` check: requests, GB-seconds and dollars of the lab so far."""
    functions = [p["function"]] if p.get("function") else None
    requests = metrics.requests(functions)
    if functions:
        gb_s = metrics.total(str(p["function"])).gb_seconds
    else:
        gb_s = metrics.gb_seconds()
    free = bool(p.get("free_tier", False))
    bill = estimate_cost(requests, gb_s, free_tier=free)
    problems = []
    if "min_requests" in p and requests < p["min_requests"]:
        problems.append(f"needs at least {_number(p['min_requests'])} requests")
    if "max_requests" in p and requests > p["max_requests"]:
        problems.append(f"allows at most {_number(p['max_requests'])} requests")
    if "min_gb_seconds" in p and gb_s < p["min_gb_seconds"]:
        problems.append(f"needs at least {_number(p['min_gb_seconds'])} GB-s")
    if "max_gb_seconds" in p and gb_s > p["max_gb_seconds"]:
        problems.append(f"allows at most {_number(p['max_gb_seconds'])} GB-s")
    if "max_dollars" in p and bill.total > p["max_dollars"]:
        problems.append(f"allows at most ${p['max_dollars']:.2f}")
    scope = f" of {p['function']}" if p.get("function") else ""
    tier = "after" if free else "without"
    seen = (
        f"{requests} billed request{'s' if requests != 1 else ''}{scope}, "
        f"{_number(gb_s)} GB-s, ${bill.total:.6f} {tier} the free tier"
    )
    if problems:
        return False, f"The bill so far: {seen}; the goal " + "; ".join(problems) + "."
    return True, f"The bill so far: {seen}."


def _number(value: float) -> str:
    """A number as CloudWatch's console would print it: no needless decimals."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")
