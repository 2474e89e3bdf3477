"""``lambdalab simulate``: byte-stable JSON, the trace file, errors, the examples."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lambdalab.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SCENARIO = """
seed = 11

[account]
concurrency_limit = 30
unreserved_minimum = 10

[[functions]]
name = "api"
duration_ms = { distribution = "exponential", mean = 400 }
error_rate = 0.05

[[functions]]
name = "worker"
duration_ms = 250
error_rate = 0.5
reserved_concurrency = 3
dead_letter_queue = "worker-dlq"
on_success = "worker-done"

[[traffic]]
function = "api"
rate = 80
stop_s = 30

[[traffic]]
function = "worker"
invocation = "async"
rate = 8
stop_s = 30
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(textwrap.dedent(SCENARIO))
    return path


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_metrics_per_function_and_the_queues(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = simulate(capsys, str(scenario), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    api, worker = report["functions"]["api"], report["functions"]["worker"]
    for metrics in (api, worker):
        for key in (
            "Invocations",
            "Errors",
            "Throttles",
            "ConcurrentExecutions",
            "Duration",
            "DeadLetterErrors",
            "AsyncEventsReceived",
            "AsyncEventsDropped",
            "ProvisionedConcurrencySpilloverInvocations",
        ):
            assert key in metrics
    # 80/s x 0.4 s = 32 Erlangs on 30 - 3 = 27 unreserved: the pool throttles.
    assert api["Throttles"] > 0 and api["ConcurrentExecutions"] == 27
    assert api["Errors"] > 0 and api["AsyncEventsReceived"] == 0
    assert worker["ConcurrentExecutions"] <= 3
    assert worker["AsyncEventsReceived"] > 200
    queues = report["queues"]
    assert set(queues) == {"worker-dlq", "worker-done"}
    # every accepted event either succeeded (record to worker-done) or was dropped
    # to the DLQ: none lost
    assert (
        queues["worker-done"]["messages"] + queues["worker-dlq"]["messages"]
        == worker["AsyncEventsReceived"]
    )
    assert worker["AsyncEventsDropped"] == queues["worker-dlq"]["messages"]
    assert report["cost"]["requests"] == api["Invocations"] + worker["Invocations"]


def test_same_seed_same_json_bytes(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = simulate(capsys, str(scenario), "--json")[1]
    second = simulate(capsys, str(scenario), "--json")[1]
    assert first == second
    other = simulate(capsys, str(scenario), "--json", "--seed", "12")[1]
    assert other != first
    assert json.loads(other)["seed"] == 12


def test_trace_file_has_every_record_and_changes_no_number(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = simulate(capsys, str(scenario), "--json")[1]
    trace = tmp_path / "trace.jsonl"
    traced = simulate(capsys, str(scenario), "--json", "--trace", str(trace))[1]
    assert traced == plain
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    kinds = {r["kind"] for r in records}
    assert {
        "function.created",
        "invoke.received",
        "invoke.start",
        "invoke.end",
    } <= kinds
    assert {"concurrency", "env.state", "log", "async.received"} <= kinds
    report = json.loads(plain)
    ends = [r for r in records if r["kind"] == "invoke.end" and r["function"] == "api"]
    assert len(ends) == report["functions"]["api"]["Invocations"]
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)


def test_until_stops_virtual_time(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json.loads(simulate(capsys, str(scenario), "--json", "--until", "5")[1])
    assert report["virtual_seconds"] <= 5.0
    api = report["functions"]["api"]
    # about 80/s for 5 s, less those still in flight at the stop
    assert 300 < api["Invocations"] + api["Throttles"] < 450


def test_bad_scenario_names_file_key_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[functions]]\nname = "a"\nduration_ms = 1\n'
        '[[functions]]\nname = "b"\nduration_ms = {distribution = "normal", mean = 5}\n'
    )
    code, out, err = simulate(capsys, str(path), "--json")
    assert (code, out) == (2, "")
    assert err == (
        f"lambdalab: {path}: functions[1].duration_ms.distribution: 'normal' is not "
        "one of fixed, uniform, exponential, lognormal.\n"
    )


def test_missing_file_and_bad_until(
    tmp_path: Path, scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = simulate(capsys, str(tmp_path / "none.toml"))
    assert code == 2 and "Cannot read scenario" in err and "none.toml" in err
    code, _, err = simulate(capsys, str(scenario), "--until", "0")
    assert (code, err) == (2, "lambdalab: --until 0 must be positive.\n")


def test_rich_report_shows_each_function_queues_and_cost(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = simulate(capsys, str(scenario))
    assert code == 0
    for text in (
        "function api",
        "function worker",
        "Throttles (Sum)",
        "ConcurrentExecutions (Maximum)",
        "worker-dlq",
        "cost (x86, us-east-1)",
    ):
        assert text in out


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_examples_run(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = simulate(capsys, str(EXAMPLES / name), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert sum(f["Invocations"] for f in report["functions"].values()) > 0


def test_there_are_the_four_kinds_of_example() -> None:
    names = {p.name for p in EXAMPLES.glob("*.toml")}
    assert {
        "throttling.toml",
        "reserved_provisioned.toml",
        "async_retries_dlq.toml",
        "real_handler.toml",
    } <= names
