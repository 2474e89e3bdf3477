"""``lambdalab export``: SAM templates that cfn-lint accepts and that say what the lab did."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint_file

from lambdalab.cli import main
from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.engine.scenario import load_scenario
from lambdalab.export import sam

COURSE = load_course(bundled_lessons_path())

SCENARIO = """\
seed = 3

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
on_success = "api"
on_failure = "failed"

[[functions]]
name = "code"
handler = "handlers/hello.py:handler"
"""


class SamLoader(yaml.SafeLoader):
    """Reads templates with !Ref-style tags too (ours use none, but be fair)."""


def load(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(), Loader=SamLoader)  # noqa: S506 - safe subclass
    assert isinstance(data, dict)
    return data


def cfn_lint(template: Path) -> None:
    matches = lint_file(template)
    assert [str(m) for m in matches] == []


def test_cfn_lint_is_awake() -> None:
    """The linter really reads SAM: a bad memory size and a typo are caught."""
    bad = sam.to_yaml(
        {
            "Transform": sam.TRANSFORM,
            "Resources": {
                "F": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "Runtime": "python3.13",
                        "Handler": "a.b",
                        "CodeUri": "src/",
                        "MemorySize": 64,
                        "Timout": 3,
                    },
                }
            },
        }
    )
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.yaml"
        path.write_text(bad)
        rules = sorted(m.rule.id for m in lint_file(path))
    assert rules == ["E3002", "E3034"]


LOOP_BREAKERS = {"s3-uploads": ["--s3-prefix", "uploads/"]}
"""Lessons that teach a recursive S3 loop export only with a prefix filter."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAMBDALAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("lesson", [lesson.id for lesson in COURSE.lessons])
def test_every_bundled_lesson_exports_a_template_cfn_lint_accepts(
    lesson: str, tmp_path: Path, home: Path
) -> None:
    # The template does not depend on --code; the solution's files are checked here.
    out = tmp_path / "out"
    args = ["export", lesson, "--out", str(out), "--code", "solution"]
    assert main(args + LOOP_BREAKERS.get(lesson, [])) == 0
    cfn_lint(out / "template.yaml")
    template = load(out / "template.yaml")
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    source = COURSE.lesson(lesson)
    assert source is not None
    for function in source.lab.functions:
        resource = template["Resources"][sam.logical_id(function.name, "Function")]
        props = resource["Properties"]
        assert resource["Type"] == "AWS::Serverless::Function"
        assert props["Runtime"] == "python3.13"
        assert props["MemorySize"] == function.settings.get("memory_mb", 128)
        assert props["Timeout"] == function.settings.get("timeout_s", 3)
        if function.handler is None:  # a model function gets a stand-in
            assert props["Handler"] == "model_handler.handler"
        else:
            assert props["Handler"] == sam.sam_handler(function.handler)
        module = props["Handler"].rsplit(".", 1)[0]
        code_file = out / props["CodeUri"] / f"{module.replace('.', '/')}.py"
        ast.parse(code_file.read_text())  # the handler code is there and is Python
    for name in source.lab.events:
        assert (out / "events" / f"{name}.json").is_file()
    # No fixed physical names: a second stack of the same export must not clash.
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        assert "FunctionName" not in props and "QueueName" not in props
        for event in props.get("Events", {}).values():
            assert "Name" not in event.get("Properties", {})
        if "BucketName" in props:  # unique per stack: the stack id's last group
            assert props["BucketName"]["Fn::Sub"][1] == {"Suffix": sam.STACK_SUFFIX}


def test_every_option_together_passes_cfn_lint(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "out"
    args = ["export", "sync-vs-async", "--out", str(out)]
    args += [
        "--schedule",
        "cron(0 8 * * ? *)",
        "--api",
        "rest",
        "--api-path",
        "/orders",
    ]
    args += [
        "--api-method",
        "POST",
        "--s3",
        "--s3-prefix",
        "in/",
        "--s3-suffix",
        ".csv",
    ]
    assert main(args) == 0
    cfn_lint(out / "template.yaml")
    events = load(out / "template.yaml")["Resources"]["PackerFunction"]["Properties"][
        "Events"
    ]
    assert events["Schedule"] == {
        "Type": "Schedule",
        "Properties": {"Schedule": "cron(0 8 * * ? *)"},
    }
    assert events["Api"]["Properties"] == {"Path": "/orders", "Method": "post"}
    assert events["S3"]["Properties"]["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": "in/"},
        {"Name": "suffix", "Value": ".csv"},
    ]


def test_http_api_event(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "out"
    assert main(["export", "first-invocation", "--out", str(out), "--api", "http"]) == 0
    cfn_lint(out / "template.yaml")
    template = load(out / "template.yaml")
    (function,) = template["Resources"].values()
    assert function["Properties"]["Events"]["HttpApi"]["Type"] == "HttpApi"
    assert "ServerlessHttpApi" in template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]


def test_a_scenario_exports_concurrency_dlq_and_destinations(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "hello.py").write_text(
        "def handler(event, context):\n    return 'hi'\n"
    )
    path = tmp_path / "load.toml"
    path.write_text(SCENARIO)
    out = tmp_path / "out"
    assert main(["export", str(path), "--out", str(out)]) == 0
    cfn_lint(out / "template.yaml")
    resources = load(out / "template.yaml")["Resources"]
    api = resources["ApiFunction"]["Properties"]
    assert api["ReservedConcurrentExecutions"] == 20
    # LAMBDA-FACTS 2.1: provisioned concurrency only on a version or alias
    assert api["AutoPublishAlias"] == "live"
    assert api["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 5}
    worker = resources["WorkerFunction"]["Properties"]
    assert worker["EventInvokeConfig"] == {
        "MaximumRetryAttempts": 1,
        "MaximumEventAgeInSeconds": 600,
        "DestinationConfig": {
            "OnSuccess": {
                "Type": "Lambda",
                "Destination": {"Fn::GetAtt": ["ApiFunction", "Arn"]},
            },
            "OnFailure": {
                "Type": "SQS",
                "Destination": {"Fn::GetAtt": ["FailedQueue", "Arn"]},
            },
        },
    }
    assert worker["DeadLetterQueue"] == {
        "Type": "SQS",
        "TargetArn": {"Fn::GetAtt": ["WorkerDlqQueue", "Arn"]},
    }
    # Named by CloudFormation (a second stack must not clash); the tag keeps the name.
    assert resources["WorkerDlqQueue"]["Properties"] == {
        "Tags": [{"Key": "lambdalab-queue", "Value": "worker-dlq"}]
    }
    assert worker["Handler"] == "model_handler.handler"
    stand_in = (out / "src" / "worker" / "model_handler.py").read_text()
    assert "time.sleep(0.3)" in stand_in and "< 0.1" in stand_in
    code = resources["CodeFunction"]["Properties"]
    assert code["Handler"] == "hello.handler"
    assert (out / "src" / "code" / "hello.py").read_text().startswith("def")


def test_the_learners_own_code_is_exported_by_default(
    tmp_path: Path, home: Path
) -> None:
    from lambdalab.course.progress import ProgressStore

    lesson = COURSE.lesson("sync-vs-async")
    assert lesson is not None
    workspace = ProgressStore("ada", home=home).workspace(lesson.id)
    workspace.mkdir(parents=True)
    (workspace / "worker.py").write_text(
        "def handler(event, context):\n    return 42\n"
    )
    mine, start = tmp_path / "mine", tmp_path / "start"
    assert main(["--learner", "ada", "export", lesson.id, "--out", str(mine)]) == 0
    assert (
        main(
            ["--learner", "ada", "export", lesson.id, "--out", str(start)]
            + ["--code", "start"]
        )
        == 0
    )
    assert "return 42" in (mine / "src" / "packer" / "worker.py").read_text()
    assert (start / "src" / "packer" / "worker.py").read_text() == lesson.files[
        "worker.py"
    ]


def test_refusals_name_the_problem(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(*args: str) -> str:
        assert main(["export", *args]) == 2
        return capsys.readouterr().err

    bad_cron = refused(
        "sync-vs-async", "--out", str(tmp_path / "a"), "--schedule", "cron(0 8 * * *)"
    )
    assert "cron needs 6 fields" in bad_cron
    assert "not in this lab" in refused(
        "sync-vs-async", "--out", str(tmp_path / "b"), "--function", "nope"
    )
    assert "No lesson or scenario called 'no-such-lesson'" in refused(
        "no-such-lesson", "--out", str(tmp_path / "c")
    )
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("keep me")
    assert "is not empty" in refused("sync-vs-async", "--out", str(full))
    assert (full / "x").read_text() == "keep me"


def test_yaml_scalars_that_need_quotes_are_quoted() -> None:
    text = sam.to_yaml(
        {"a": "yes", "b": "s3:ObjectCreated:*", "c": "*x", "d": "12", "e": 12}
    )
    assert yaml.safe_load(text) == {
        "a": "yes",
        "b": "s3:ObjectCreated:*",
        "c": "*x",
        "d": "12",
        "e": 12,
    }
    assert load_scenario is not None


TRIGGER_LESSON = """\
id = "triggers"
title = "Triggers"
summary = "Schedules, a front door and a bucket."
objectives = ["See triggers exported."]
recap = "recap.md"
solution_text = "solution.md"

[lab]
seed = 3

[[lab.functions]]
name = "report"
handler = "report.py:handler"

[[lab.functions]]
name = "web"
handler = "report.py:handler"

[lab.events]
empty = {}

[[lab.schedules]]
name = "daily-report"
expression = "cron(0 8 * * ? *)"
function = "report"

[[lab.schedules]]
name = "la-morning"
expression = "cron(0 4 * * ? *)"
function = "report"
enabled = false
timezone = "America/Los_Angeles"

[lab.http]
api = "API"
function = "web"

[[lab.http.requests]]
name = "home"
path = "/"

[[lab.buckets]]
name = "inbox"

[[lab.buckets.notifications]]
id = "csv"
function = "report"
events = ["s3:ObjectCreated:*"]
prefix = "uploads/"
suffix = ".csv"

[[steps]]
id = "only"
title = "Only"
text = "step.md"
hints = ["Invoke it."]
[[steps.checks]]
type = "invocations"
function = "report"
goal = "Invoke report."

[[solution]]
do = "invoke"
function = "report"
event = "empty"
"""


@pytest.mark.parametrize("api", ["rest", "http", "alb"])
def test_a_lessons_own_schedules_front_door_and_buckets_are_exported(
    api: str, tmp_path: Path, home: Path
) -> None:
    folder = tmp_path / "lesson"
    folder.mkdir()
    (folder / "lesson.toml").write_text(TRIGGER_LESSON.replace("API", api))
    (folder / "report.py").write_text("def handler(event, context):\n    return 1\n")
    for name in ("recap.md", "solution.md", "step.md"):
        (folder / name).write_text("# text\n")
    out = tmp_path / "out"
    assert main(["export", str(folder), "--out", str(out)]) == 0
    cfn_lint(out / "template.yaml")
    template = load(out / "template.yaml")
    resources = template["Resources"]
    report = resources["ReportFunction"]["Properties"]["Events"]
    assert report["DailyReportSchedule"] == {
        "Type": "Schedule",
        "Properties": {"Schedule": "cron(0 8 * * ? *)", "State": "ENABLED"},
    }
    assert report["LaMorningSchedule"]["Type"] == "ScheduleV2"
    assert report["LaMorningSchedule"]["Properties"] == {
        "ScheduleExpression": "cron(0 4 * * ? *)",
        "ScheduleExpressionTimezone": "America/Los_Angeles",
        "State": "DISABLED",
    }
    assert report["CsvS3"]["Properties"] == {
        "Bucket": {"Ref": "InboxBucket"},
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {
            "S3Key": {
                "Rules": [
                    {"Name": "prefix", "Value": "uploads/"},
                    {"Name": "suffix", "Value": ".csv"},
                ]
            }
        },
    }
    web = resources["WebFunction"]["Properties"].get("Events", {})
    if api == "rest":
        assert web["ApiProxy"]["Properties"] == {"Path": "/{proxy+}", "Method": "any"}
    elif api == "http":
        assert web == {"HttpApi": {"Type": "HttpApi"}}
    else:
        assert web == {}
        assert (
            "Application Load Balancer"
            in template["Metadata"]["lambdalab"]["NotExported"][0]
        )


def test_bare_schedule_fields_are_written_as_cron(tmp_path: Path, home: Path) -> None:
    # The Lambda console takes six bare fields (LAMBDA-FACTS 5.2); a template's
    # Schedule is an EventBridge ScheduleExpression, which needs cron(...) (5.1).
    out = tmp_path / "out"
    args = ["export", "sync-vs-async", "--out", str(out), "--schedule", "0 8 * * ? *"]
    assert main(args) == 0
    resources = load(out / "template.yaml")["Resources"]
    events = resources["PackerFunction"]["Properties"]["Events"]
    assert events["Schedule"]["Properties"] == {"Schedule": "cron(0 8 * * ? *)"}
