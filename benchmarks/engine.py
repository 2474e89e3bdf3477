"""Engine benchmark: one queueing model, three implementations, one run.

The model: Poisson sync arrivals, exponential durations (mean 1 s) and a concurrency
cap; a request that finds the cap reached is throttled (an M/M/c/c loss system).

- lambdalab: a model function with reserved concurrency, fed by a Poisson traffic
  source, with the CloudWatch metrics listener attached (what ``lambdalab simulate``
  does, at its default trace detail). The engine ``make`` installed: compiled with
  mypyc when a C compiler was there, else plain Python; ``--pure`` runs the plain one.
- SimPy: the same model as a ``simpy.Resource`` (ENV-NOTES 6).
- bare heapq: a hand-written event list of (time, sequence, kind) tuples.

Prints invocations per second for each and the ratios lambdalab/SimPy (goal >= 3)
and bare/lambdalab (goal <= 4). The three take turns for ``--rounds`` rounds and each
keeps its best round, so a burst of load from elsewhere on the machine skews no ratio.
Run: ``python benchmarks/engine.py [--n N] [--rounds R] [--pure]``.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import time
from collections.abc import Callable

RATE_PER_S = 55.0
MEAN_S = 1.0
SERVERS = 50


def erlang_b(servers: int, offered: float) -> float:
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return blocking


def run_lambdalab(n: int, seed: int) -> float:
    """Throttled share with the lambdalab engine."""
    from lambdalab.engine.metrics import Metrics
    from lambdalab.engine.model import DurationModel, FunctionConfig
    from lambdalab.engine.service import LambdaService
    from lambdalab.engine.traffic import TrafficSource, TrafficSpec

    service = LambdaService(
        seed=seed, trace_maxlen=0, trace_detail="metrics", keep_finished=False
    )
    metrics = Metrics.attach(service)
    service.create_function(
        FunctionConfig(
            "f",
            duration=DurationModel("exponential", MEAN_S * 1000.0),
            timeout_s=900,
            reserved_concurrency=SERVERS,
        )
    )
    spec = TrafficSpec("f", "sync", "poisson", RATE_PER_S, count=n)
    TrafficSource(service, spec, random.Random(seed)).start()
    service.run()
    total = metrics.total("f")
    assert total.invocations + total.throttles == n
    return total.throttles / n


def run_simpy(n: int, seed: int) -> float:
    """Throttled share with SimPy."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    throttled = 0

    def call(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        with servers.request() as request:
            yield request
            yield env.timeout(rng.expovariate(1.0 / MEAN_S))

    def arrivals(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        nonlocal throttled
        for _ in range(n):
            yield env.timeout(rng.expovariate(RATE_PER_S))
            if servers.count >= SERVERS:
                throttled += 1
            else:
                env.process(call(env))

    env.process(arrivals(env))
    env.run()
    return throttled / n


def run_bare(n: int, seed: int) -> float:
    """Throttled share with a bare event list of (time, sequence, kind) tuples."""
    rng = random.Random(seed)
    expo = rng.expovariate
    push, pop = heapq.heappush, heapq.heappop
    heap = [(expo(RATE_PER_S), 0, 0)]
    seq = 1
    sent = 1
    busy = throttled = 0
    while heap:
        now, _, kind = pop(heap)
        if kind == 0:  # an arrival: schedule the next, then admit or throttle
            if sent < n:
                push(heap, (now + expo(RATE_PER_S), seq, 0))
                seq += 1
                sent += 1
            if busy >= SERVERS:
                throttled += 1
            else:
                busy += 1
                push(heap, (now + expo(1.0 / MEAN_S), seq, 1))
                seq += 1
        else:  # a completion
            busy -= 1
    return throttled / n


def timed(run: Callable[[int, int], float], n: int, seed: int) -> tuple[float, float]:
    started = time.perf_counter()
    share = run(n, seed)
    return n / (time.perf_counter() - started), share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="invocations")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="turns each; best kept")
    parser.add_argument(
        "--pure", action="store_true", help="the plain Python engine, not the compiled"
    )
    args = parser.parse_args()
    if args.pure:  # before lambdalab.engine is first imported, which decides
        os.environ["LAMBDALAB_PURE_PYTHON"] = "1"
    # Imported here, not in the first timed run: import time is no simulation work.
    import simpy  # noqa: F401

    import lambdalab.engine.metrics
    import lambdalab.engine.service as service
    import lambdalab.engine.traffic  # noqa: F401

    expected = erlang_b(SERVERS, RATE_PER_S * MEAN_S)
    print(
        f"M/M/{SERVERS}/{SERVERS}: {args.n:,} sync invocations, {RATE_PER_S:g}/s, "
        f"mean {MEAN_S:g} s; Erlang B = {expected:.4f}"
    )
    runs = {"lambdalab": run_lambdalab, "SimPy": run_simpy, "bare heapq": run_bare}
    results = dict.fromkeys(runs, 0.0)
    shares = dict.fromkeys(runs, 0.0)
    for _ in range(max(1, args.rounds)):
        for name, run in runs.items():
            rate, shares[name] = timed(run, args.n, args.seed)
            results[name] = max(results[name], rate)
    compiled = not service.__file__.endswith(".py")
    print(
        f"  (lambdalab's engine: {'compiled with mypyc' if compiled else 'plain Python'})"
    )
    for name, rate in results.items():
        print(
            f"  {name:<11} {rate:>12,.0f} invocations/s   throttled {shares[name]:.4f}"
        )
    lab_vs_simpy = results["lambdalab"] / results["SimPy"]
    bare_vs_lab = results["bare heapq"] / results["lambdalab"]
    print(f"lambdalab / SimPy      = {lab_vs_simpy:5.2f}  (goal >= 3)")
    print(f"bare heapq / lambdalab = {bare_vs_lab:5.2f}  (goal <= 4)")


if __name__ == "__main__":
    main()
