"""``lambdalab export``: templates that deploy and behave on AWS, not only lint.

Destinations and DLQs as SAM's EventInvokeConfig and DeadLetterQueue take them, S3
permissions for what the code calls, no recursive bucket loop, only the handler's
files, and no fixed physical names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint_file

from lambdalab.cli import main
from lambdalab.engine.model import FunctionConfig
from lambdalab.errors import ConfigError
from lambdalab.export import sam, scan

SUFFIX = {"Suffix": sam.STACK_SUFFIX}


def export(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "out"
    assert main(["export", *args, "--out", str(out)]) == 0
    assert [str(m) for m in lint_file(out / "template.yaml")] == []
    data = yaml.safe_load((out / "template.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAMBDALAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


# -- 1. destinations and dead-letter queues ------------------------------------------


def test_a_bus_destination_is_eventbridge_and_a_function_destination_lambda(
    tmp_path: Path,
) -> None:
    template = export(tmp_path, "destinations-event-age", "--code", "solution")
    resources = template["Resources"]
    resize = resources["ResizeFunction"]["Properties"]["EventInvokeConfig"]
    assert resize["DestinationConfig"] == {
        "OnSuccess": {
            "Type": "EventBridge",
            "Destination": {
                "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:"
                "${AWS::AccountId}:event-bus/default"
            },
        },
        "OnFailure": {
            "Type": "Lambda",
            "Destination": {"Fn::GetAtt": ["AlertsFunction", "Arn"]},
        },
    }
    # The default bus exists in every account: no queue, no bus resource.
    assert {r["Type"] for r in resources.values()} == {"AWS::Serverless::Function"}


def build_one(**settings: Any) -> dict[str, Any]:
    functions = [
        sam.ExportFunction(FunctionConfig("worker", **settings), {}),
        sam.ExportFunction(FunctionConfig("audit"), {}),
    ]
    template = sam.build(functions, description="t").template
    return template


def test_a_custom_bus_becomes_an_event_bus_resource_named_after_the_stack() -> None:
    template = build_one(on_failure="event-bus/orders")
    resources = template["Resources"]
    assert resources["OrdersEventBus"] == {
        "Type": "AWS::Events::EventBus",
        "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-orders"}},
    }
    config = resources["WorkerFunction"]["Properties"]["EventInvokeConfig"]
    assert config["DestinationConfig"] == {
        "OnFailure": {
            "Type": "EventBridge",
            "Destination": {"Fn::GetAtt": ["OrdersEventBus", "Arn"]},
        }
    }


def test_arn_targets_map_to_their_kind() -> None:
    template = build_one(
        on_success="arn:aws:lambda:us-east-1:123456789012:function:audit",
        on_failure="arn:aws:events:us-east-1:123456789012:event-bus/default",
        dead_letter_queue="arn:aws:sqs:us-east-1:123456789012:worker-dlq",
    )
    props = template["Resources"]["WorkerFunction"]["Properties"]
    destinations = props["EventInvokeConfig"]["DestinationConfig"]
    assert destinations["OnSuccess"] == {
        "Type": "Lambda",
        "Destination": {"Fn::GetAtt": ["AuditFunction", "Arn"]},
    }
    assert destinations["OnFailure"]["Type"] == "EventBridge"
    assert props["DeadLetterQueue"] == {
        "Type": "SQS",
        "TargetArn": {"Fn::GetAtt": ["WorkerDlqQueue", "Arn"]},
    }


def test_a_dead_letter_queue_must_be_a_queue() -> None:
    # SAM's DeadLetterQueue takes only SQS or SNS.
    with pytest.raises(ConfigError) as bus:
        build_one(dead_letter_queue="event-bus/default")
    assert str(bus.value) == (
        "The dead-letter queue of worker, event-bus/default, is not a queue: Lambda "
        "sends dead letters only to an SQS queue or an SNS topic; use a destination "
        "(on_failure) for a function or an event bus."
    )
    with pytest.raises(ConfigError, match="dead-letter queue of worker, audit,"):
        build_one(dead_letter_queue="audit")


def test_a_function_arn_outside_the_lab_is_refused() -> None:
    with pytest.raises(ConfigError) as exc:
        build_one(on_success="arn:aws:lambda:us-east-1:123456789012:function:ghost")
    assert "is a function this lab does not have" in str(exc.value)


# -- 2 and 3. S3 permissions and the recursive loop --------------------------------


def photos_arn(path: str) -> dict[str, Any]:
    return {"Fn::Sub": ["arn:${AWS::Partition}:s3:::photos-${Suffix}" + path, SUFFIX]}


def test_s3_uploads_is_refused_because_thumbnailer_would_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["export", "s3-uploads", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "lambdalab: thumbnailer is invoked by s3:ObjectCreated:* in bucket photos "
        "(notification every-photo, with no prefix filter) and writes into that "
        "bucket (put_object in thumbs.py, line 15): on AWS that is a recursive loop, "
        "and the lab's loop guard does not exist there. Export with --s3-prefix "
        "PREFIX (for example --s3-prefix uploads/) so only keys under PREFIX invoke "
        "it and its writes land outside, or make it write to another bucket.\n"
    )
    assert not out.exists()


def test_s3_uploads_with_a_prefix_grants_exactly_the_writes_the_code_makes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = export(tmp_path, "s3-uploads", "--s3-prefix", "uploads/")
    assert capsys.readouterr().err == (
        "lambdalab: warning: The notification every-photo of bucket photos has no "
        "prefix filter in the lab; exported with prefix 'uploads/' so the writes of "
        "thumbnailer do not invoke it again.\n"
    )
    resources = template["Resources"]
    thumbs = resources["ThumbnailerFunction"]["Properties"]
    assert thumbs["Events"]["EveryPhotoS3"]["Properties"]["Filter"] == {
        "S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}
    }
    # thumbs.py: s3.put_object(Bucket=bucket, Key=f"thumbs/{key}")
    assert thumbs["Policies"] == [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject"],
                    "Resource": photos_arn("/thumbs/*"),
                }
            ],
        }
    ]
    # report.py writes summaries/NAME.txt into the inbox that invokes it.
    reporter = resources["ReporterFunction"]["Properties"]["Policies"][0]
    assert reporter["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": {
                "Fn::Sub": [
                    "arn:${AWS::Partition}:s3:::inbox-${Suffix}/summaries/*",
                    SUFFIX,
                ]
            },
        }
    ]
    # The role names the bucket by the stack id, not a Ref: no circular dependency.
    assert resources["PhotosBucket"]["Properties"]["BucketName"] == {
        "Fn::Sub": ["photos-${Suffix}", SUFFIX]
    }
    assert template["Metadata"]["lambdalab"]["Inferred"] == [
        "reporter: S3 permissions inferred from its code (put_object) and the "
        "buckets that invoke it.",
        "thumbnailer: S3 permissions inferred from its code (put_object) and the "
        "buckets that invoke it.",
    ]


def test_the_stack_suffix_is_the_last_group_of_the_stack_uuid() -> None:
    # The function CloudFormation would evaluate, applied to a real-shaped StackId.
    stack_id = (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/my-app/"
        "51af3dc0-da77-11e4-872e-1234567db123"
    )
    select = sam.STACK_SUFFIX["Fn::Select"]
    inner = select[1]["Fn::Split"][1]["Fn::Select"]
    uuid = stack_id.split(inner[1]["Fn::Split"][0])[inner[0]]
    assert uuid.split(select[1]["Fn::Split"][0])[select[0]] == "1234567db123"


def test_a_security_lesson_exports_the_statements_its_solution_leaves_granted(
    tmp_path: Path,
) -> None:
    template = export(tmp_path, "security", "--code", "solution")
    props = template["Resources"]["ThumbnailerFunction"]["Properties"]
    # [lab.security]: s3:* on * is revoked, PutObject on photos/thumbs/* granted.
    assert props["Policies"] == [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject"],
                    "Resource": photos_arn("/thumbs/*"),
                }
            ],
        }
    ]
    assert template["Metadata"]["lambdalab"]["Inferred"] == [
        "thumbnailer: execution role from the lesson's [lab.security] statements "
        "granted at the end of its solution"
    ]


HANDLER = """\
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    bucket = event["Records"][0]["s3"]["bucket"]["name"]
    s3.copy_object(Bucket=bucket, Key="in/copy.csv", CopySource="x")
"""


def scenario(tmp_path: Path) -> Path:
    (tmp_path / "copier.py").write_text(HANDLER)
    path = tmp_path / "s.toml"
    path.write_text('[[functions]]\nname = "copier"\nhandler = "copier.py:handler"\n')
    return path


def test_an_s3_trigger_from_the_command_line_is_checked_for_loops_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path)
    out = tmp_path / "a"
    assert main(["export", str(path), "--out", str(out), "--s3"]) == 2
    assert "copier is invoked by s3:ObjectCreated:* in bucket copier (--s3, with " in (
        capsys.readouterr().err
    )
    # Its key in/copy.csv lands under the prefix in/: still a loop.
    args = ["export", str(path), "--out", str(out), "--s3", "--s3-prefix", "in/"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "(--s3, under prefix 'in/')" in err
    assert "Make its writes land outside 'in/'" in err
    template = export(tmp_path, str(path), "--s3", "--s3-prefix", "uploads/")
    statements = template["Resources"]["CopierFunction"]["Properties"]["Policies"][0]
    copier = "arn:${AWS::Partition}:s3:::copier-${Suffix}"
    assert statements["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": {"Fn::Sub": [copier + "/*", SUFFIX]},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": {"Fn::Sub": [copier + "/in/copy.csv", SUFFIX]},
        },
    ]


# -- 4. only the files a handler needs ----------------------------------------------


def test_each_function_gets_only_its_handler_file(tmp_path: Path) -> None:
    export(tmp_path, "s3-uploads", "--s3-prefix", "uploads/")
    src = tmp_path / "out" / "src"
    files = sorted(str(p.relative_to(src)) for p in src.rglob("*") if p.is_file())
    assert files == ["reporter/report.py", "thumbnailer/thumbs.py"]


def test_sibling_modules_the_handler_imports_come_along() -> None:
    files = {
        "app.py": "import helpers\nfrom lib import fmt\n",
        "helpers.py": "from . import ignored\nimport json\n",
        "lib/__init__.py": "",
        "lib/fmt.py": "from .util import x\n",
        "lib/util.py": "x = 1\n",
        "other.py": "import helpers\n",
        "broken.py": "def (",
    }
    assert list(scan.needed_files("app.py", files)) == [
        "app.py",
        "helpers.py",
        "lib/__init__.py",
        "lib/fmt.py",
        "lib/util.py",
    ]
    assert list(scan.needed_files("broken.py", files)) == ["broken.py"]


def test_s3_calls_read_literal_buckets_and_key_heads() -> None:
    source = (
        "def h(e, c):\n"
        "    key = f'orders/{e}.json'\n"
        "    s3.put_object(Bucket='shop', Key=key)\n"
        "    s3.delete_object(Bucket=b, Key='a/' + e)\n"
        "    s3.get_object(Bucket=b, Key=e)\n"
        "    s3.list_objects_v2(Bucket=b)\n"
    )
    assert scan.s3_calls(source, "x.py") == [
        scan.S3Call("put_object", "x.py", 3, "shop", "orders/", False),
        scan.S3Call("delete_object", "x.py", 4, None, "a/", False),
        scan.S3Call("get_object", "x.py", 5, None, "", False),
    ]
