"""Scenario files: every key checked, errors name file and key; lazy traffic."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lambdalab.engine.profile import CLASSIC
from lambdalab.engine.scenario import load_scenario, parse_scenario
from lambdalab.errors import ScenarioError

FULL = """
seed = 7
profile = "classic"

[account]
concurrency_limit = 200
unreserved_minimum = 50

[[functions]]
name = "api"
duration_ms = 120
memory_mb = 512
timeout_s = 10
reserved_concurrency = 20
provisioned_concurrency = 5

[[functions]]
name = "worker"
duration_ms = {distribution = "lognormal", mean = 300, sigma = 0.8}
error_rate = 0.1
max_retry_attempts = 1
max_event_age_s = 600
dead_letter_queue = "worker-dlq"
on_success = "done"
on_failure = "failed"

[[functions]]
name = "code"
handler = "handlers/hello.py:handler"

[[traffic]]
function = "api"
rate = 50
stop_s = 10

[[traffic]]
function = "worker"
invocation = "async"
arrival = "uniform"
rate = 2
start_s = 1
count = 10

[[traffic]]
function = "api"
arrival = "burst"
count = 30
start_s = 5
"""


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def handler_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "handlers"
    folder.mkdir()
    (folder / "hello.py").write_text("def handler(event, context):\n    return 'hi'\n")
    return folder


def test_every_key_is_read(tmp_path: Path, handler_dir: Path) -> None:
    scenario = load_scenario(write(tmp_path, FULL))
    assert scenario.seed == 7 and scenario.profile is CLASSIC
    assert (
        scenario.account.concurrency_limit,
        scenario.account.unreserved_minimum,
    ) == (
        200,
        50,
    )
    api, worker, code = scenario.functions
    assert (api.duration.distribution, api.duration.mean_ms) == ("fixed", 120.0)
    assert (api.memory_mb, api.timeout_s) == (512, 10)
    assert (api.reserved_concurrency, api.provisioned_concurrency) == (20, 5)
    assert (worker.duration.distribution, worker.duration.sigma) == ("lognormal", 0.8)
    assert (worker.error_rate, worker.max_retry_attempts) == (0.1, 1)
    assert (worker.dead_letter_queue, worker.on_success, worker.on_failure) == (
        "worker-dlq",
        "done",
        "failed",
    )
    # the handler path is relative to the scenario file
    assert code.handler == "hello.py:handler" and code.code_dir == handler_dir
    steady, uniform, burst = scenario.traffic
    assert (steady.arrival, steady.rate, steady.stop_s) == ("poisson", 50.0, 10.0)
    assert (uniform.invocation, uniform.count, uniform.start_s) == ("async", 10, 1.0)
    assert (burst.arrival, burst.count, burst.rate) == ("burst", 30, None)


def test_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(tmp_path, '[[functions]]\nname = "f"\nduration_ms = 10\n')
    )
    assert scenario.seed == 0 and scenario.profile.name == "current"
    assert scenario.account.concurrency_limit == 1000  # LAMBDA-FACTS 2.1
    assert scenario.account.unreserved_minimum == 100
    [f] = scenario.functions
    assert (f.memory_mb, f.timeout_s, f.max_retry_attempts, f.max_event_age_s) == (
        128,
        3,
        2,
        21_600,
    )
    assert scenario.traffic == ()


def test_small_account_keeps_everything_unreserved_by_default(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(
            tmp_path,
            '[account]\nconcurrency_limit = 10\n[[functions]]\nname = "f"\nduration_ms = 1\n',
        )
    )
    assert scenario.account.unreserved_minimum == 10


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        (
            'colour = "red"\n[[functions]]\nname = "f"\nduration_ms = 1\n',
            "colour",
            "unknown key; use one of seed, profile, account, functions, traffic.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\nmemory = 256\n',
            "functions[0].memory",
            "unknown key; use one of name, handler, duration_ms, error_rate, "
            "memory_mb, timeout_s, reserved_concurrency, provisioned_concurrency, "
            "max_retry_attempts, max_event_age_s, dead_letter_queue, on_success, "
            "on_failure.",
        ),
        (
            '[[functions]]\nname = "a"\nduration_ms = 1\n'
            '[[functions]]\nname = "b"\nduration_ms = {distribution = "normal", mean = 5}\n',
            "functions[1].duration_ms.distribution",
            "'normal' is not one of fixed, uniform, exponential, lognormal.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = {distribution = "uniform", low = 5}\n',
            "functions[0].duration_ms.high",
            "missing; a uniform duration needs it.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = {distribution = "exponential", mean = 5, sigma = 1}\n',
            "functions[0].duration_ms.sigma",
            "unknown key; use one of distribution, mean.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = -3\n',
            "functions[0].duration_ms",
            "-3 must be greater than 0.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = "fast"\n',
            "functions[0].duration_ms",
            'must be milliseconds or a table like {distribution = "exponential", '
            'mean = 200}, not string "fast".',
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\nerror_rate = 1.5\n',
            "functions[0].error_rate",
            "1.5 is out of range 0-1.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\nmemory_mb = "512"\n',
            "functions[0].memory_mb",
            'must be a whole number, not string "512".',
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\nmemory_mb = 64\n',
            "functions[0].memory_mb",
            "64 is out of range 128-10240.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\nmax_retry_attempts = 3\n',
            "functions[0].max_retry_attempts",
            "3 is out of range 0-2.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\nmax_event_age_s = 59\n',
            "functions[0].max_event_age_s",
            "59 is out of range 60-21600.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\ndead_letter_queue = "my queue"\n',
            "functions[0].dead_letter_queue",
            "'my queue' is not a queue name: use 1-80 letters, digits, hyphens or "
            "underscores (FIFO queues end in .fifo).",
        ),
        (
            '[[functions]]\nname = "f"\n',
            "functions[0]",
            'needs either handler = "file.py:function" or a model (duration_ms, '
            "error_rate).",
        ),
        (
            "[[functions]]\nduration_ms = 1\n",
            "functions[0]",
            "has no name.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[functions]]\nname = "f"\nduration_ms = 1\n',
            "functions[1].name",
            "'f' is already defined; names must be unique.",
        ),
        (
            '[[functions]]\nname = "f"\nhandler = "h.py:handler"\nerror_rate = 0.5\n',
            "functions[0].error_rate",
            "only for model functions; a function with a handler runs its own code. "
            "Remove one of handler and error_rate.",
        ),
        (
            '[[functions]]\nname = "f"\nhandler = "handler"\n',
            "functions[0].handler",
            "Handler 'handler' is not valid: write FILE.py:function, for example "
            "handler.py:lambda_handler.",
        ),
        (
            "seed = 1\n",
            "functions",
            "no [[functions]] table; a scenario needs at least one.",
        ),
        (
            '[account]\nconcurrency_limit = 0\n[[functions]]\nname = "f"\nduration_ms = 1\n',
            "account.concurrency_limit",
            "0 must be at least 1.",
        ),
        (
            "[account]\nconcurrency_limit = 100\nunreserved_minimum = 101\n"
            '[[functions]]\nname = "f"\nduration_ms = 1\n',
            "account.unreserved_minimum",
            "101 is out of range 0-100.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "g"\nrate = 1\ncount = 1\n',
            "traffic[0].function",
            "'g' is not a function of this scenario; define it in [[functions]] "
            "(known: f).",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "f"\nrate = 1\n',
            "traffic[0]",
            "never stops: give stop_s (seconds) or count (requests).",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "f"\n'
            'arrival = "burst"\ncount = 5\nrate = 3\n',
            "traffic[0].rate",
            "a burst sends count requests at start_s all at once; remove rate.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "f"\n'
            'arrival = "burst"\n',
            "traffic[0].count",
            "missing; a burst needs the number of requests.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "f"\n'
            'arrival = "steady"\nrate = 1\ncount = 1\n',
            "traffic[0].arrival",
            "'steady' is not one of poisson, uniform, burst.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "f"\n'
            'invocation = "Event"\nrate = 1\ncount = 1\n',
            "traffic[0].invocation",
            "'Event' is not one of sync, async.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "f"\n'
            "rate = 0\ncount = 1\n",
            "traffic[0].rate",
            "0 must be greater than 0.",
        ),
        (
            '[[functions]]\nname = "f"\nduration_ms = 1\n[[traffic]]\nfunction = "f"\n'
            "rate = 1\nstart_s = 10\nstop_s = 5\n",
            "traffic[0].stop_s",
            "5 must be after start_s (10).",
        ),
    ],
)
def test_errors_name_file_key_and_problem(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == f"{path}: {key}: {problem}"


def test_missing_handler_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, '[[functions]]\nname = "f"\nhandler = "nope.py:handler"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (
        f"{path}: functions[0].handler: handler file nope.py not found next to the "
        f"scenario (looked for {tmp_path.resolve() / 'nope.py'})."
    )


def test_reservations_must_leave_the_unreserved_minimum_t31(tmp_path: Path) -> None:
    # LAMBDA-FACTS T31's message, with the key that broke the rule.
    path = write(
        tmp_path,
        """
        [[functions]]
        name = "a"
        duration_ms = 1
        reserved_concurrency = 850
        [[functions]]
        name = "b"
        duration_ms = 1
        reserved_concurrency = 100
        """,
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(
        f"{path}: functions[1].reserved_concurrency: Specified "
        "ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )


def test_provisioned_above_reserved_is_refused_r28(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[functions]]\nname = "f"\nduration_ms = 1\nreserved_concurrency = 1\n'
        "provisioned_concurrency = 2\n",
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (
        f"{path}: functions[0].provisioned_concurrency: ReservedConcurrentExecutions  1 "
        "should not be lower than function's total provisioned concurrency [2]."
    )


def test_invalid_toml_and_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[[functions]\nname = 1\n")
    with pytest.raises(ScenarioError, match=rf"^{path}: not valid TOML: "):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="Cannot read scenario .*missing.toml"):
        load_scenario(tmp_path / "missing.toml")


def traffic_scenario(extra: str) -> str:
    return (
        '[[functions]]\nname = "f"\nduration_ms = 5\n'
        '[[functions]]\nname = "g"\nduration_ms = 5\n' + extra
    )


def test_uniform_and_burst_traffic(tmp_path: Path) -> None:
    scenario = parse_scenario(
        traffic_scenario(
            '[[traffic]]\nfunction = "f"\narrival = "uniform"\nrate = 4\nstart_s = 2\n'
            "count = 10\n"
            '[[traffic]]\nfunction = "g"\narrival = "burst"\ncount = 25\nstart_s = 3\n'
        ),
        tmp_path / "t.toml",
    )
    run = scenario.build()
    run.service.run()
    starts = [r for r in run.service.trace if r.kind == "invoke.received"]
    f_times = [r.time_ms for r in starts if r.function == "f"]
    assert f_times == [2000.0 + 250.0 * i for i in range(10)]
    g_times = {r.time_ms for r in starts if r.function == "g"}
    assert g_times == {3000.0} and sum(r.function == "g" for r in starts) == 25
    assert [s.sent for s in run.sources] == [10, 25]
    assert run.expected_end_ms == 4500.0


def test_poisson_traffic_rate_and_stop(tmp_path: Path) -> None:
    scenario = parse_scenario(
        traffic_scenario(
            '[[traffic]]\nfunction = "f"\nrate = 200\nstart_s = 1\nstop_s = 51\n'
        ),
        tmp_path / "t.toml",
    )
    starts: list[float] = []
    run = scenario.build(
        trace_detail="invocations",
        trace_maxlen=0,
        listeners=[
            lambda r: starts.append(r.time_ms) if r.kind == "invoke.start" else None
        ],
    )
    run.service.run()
    [source] = run.sources
    # 10,000 expected; the Poisson count's standard deviation is 100.
    assert abs(source.sent - 10_000) < 400
    assert len(starts) == source.sent
    assert 1000 < min(starts) and max(starts) < 51_000


def test_traffic_is_generated_lazily(tmp_path: Path) -> None:
    # A million requests are declared; only the next arrival of each stream is queued.
    scenario = parse_scenario(
        traffic_scenario(
            '[[traffic]]\nfunction = "f"\nrate = 1000\ncount = 1000000\n'
            '[[traffic]]\nfunction = "g"\narrival = "uniform"\nrate = 1000\n'
            "count = 1000000\n"
        ),
        tmp_path / "t.toml",
    )
    run = scenario.build(trace_detail="invocations", trace_maxlen=0)
    assert len(run.service.loop) == 2
    svc = run.service
    svc.run(until_ms=1000)
    # The heap holds the two next arrivals, one timer per request in flight and at most
    # one idle-reaper timer per environment: nothing per future request.
    environments = sum(len(envs) for envs in svc.environments.values())
    assert len(svc.loop) <= 2 + sum(svc.in_flight.values()) + environments
    assert environments < 1000
    assert 900 < run.sources[0].sent < 1100 and run.sources[1].sent == 1001


def test_same_seed_same_trace_and_seed_override(tmp_path: Path) -> None:
    text = traffic_scenario(
        '[[traffic]]\nfunction = "f"\nrate = 30\nstop_s = 20\n'
        '[[traffic]]\nfunction = "g"\ninvocation = "async"\nrate = 10\nstop_s = 20\n'
    )

    def trace(seed: int | None) -> list[dict[str, object]]:
        run = parse_scenario(text, tmp_path / "t.toml").build(seed=seed)
        run.service.run()
        return [r.to_json() for r in run.service.trace]

    assert trace(None) == trace(None)
    assert trace(None) == trace(0)  # the file's seed defaults to 0
    assert trace(5) != trace(0)


def test_build_gives_each_run_fresh_function_configs(tmp_path: Path) -> None:
    scenario = parse_scenario(traffic_scenario(""), tmp_path / "t.toml")
    run = scenario.build()
    run.service.put_function_concurrency("f", 3)
    assert scenario.functions[0].reserved_concurrency is None


def test_utf16_scenario_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "utf16.toml"
    path.write_text("seed = 1\n", encoding="utf-16")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (
        f"{path}: not UTF-8 text (it starts with a UTF-16 byte-order mark, so it was "
        "saved as UTF-16). Save it as UTF-8 and try again."
    )


def test_latin1_scenario_names_the_byte_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"seed = 1\n# caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"byte 0xe9 on line 2 is not valid UTF-8"):
        load_scenario(path)


def test_scenario_with_a_utf8_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_text(traffic_scenario(""), encoding="utf-8-sig")
    assert load_scenario(path).functions[0].name == "f"
