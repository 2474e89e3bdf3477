"""A SAM template and the handler code for the functions of a lab or a scenario.

Every setting the simulator honours maps to the property AWS reads: memory, timeout,
reserved and provisioned concurrency (through an alias, as Lambda only provisions
versions, LAMBDA-FACTS 2.1), the event-invoke config, the DLQ, destinations, and
Schedule, Api and S3 events. Lab queues become SQS queues.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lambdalab.course.model import LabSpec, Lesson
from lambdalab.engine.model import DurationModel, FunctionConfig, parse_handler
from lambdalab.engine.scenario import Scenario
from lambdalab.errors import ConfigError

RUNTIME = "python3.13"
"""The runtime the simulator presents (AWS_EXECUTION_ENV=AWS_Lambda_python3.13)."""
TRANSFORM = "AWS::Serverless-2016-10-31"
ALIAS = "live"
"""Provisioned concurrency needs a published version; SAM publishes one behind this."""
MODEL_HANDLER = "model_handler.py"
CodeChoice = Literal["mine", "start", "solution"]


@dataclass(frozen=True)
class ExportFunction:
    """A function to export: its settings and the files of its code folder."""

    config: FunctionConfig
    files: dict[str, str]
    """File name -> text; a model function gets a generated stand-in."""


@dataclass(frozen=True)
class Triggers:
    """Event sources to attach to one function (the lab drives them by hand)."""

    function: str | None = None
    """Which function gets them; None: the first."""
    schedule: str | None = None
    api: Literal["rest", "http"] | None = None
    api_path: str = "/"
    api_method: str = "get"
    s3: bool = False
    s3_events: str = "s3:ObjectCreated:*"
    s3_prefix: str = ""
    s3_suffix: str = ""


@dataclass
class Export:
    """What ``write`` puts on disk: the template and each function's code."""

    template: dict[str, Any]
    code: dict[str, dict[str, str]] = field(default_factory=dict)
    """Function name -> file name -> text."""
    events: dict[str, Any] = field(default_factory=dict)
    """Sample events for ``sam local invoke -e``."""


# -- sources -----------------------------------------------------------------------


def function_config(
    name: str, handler: str | None, settings: dict[str, Any]
) -> FunctionConfig:
    """A lab function's settings as the engine reads them (validated the same way)."""
    values = dict(settings)
    duration = values.pop("duration_ms", None)
    if duration is not None:
        values["duration"] = (
            DurationModel("fixed", float(duration))
            if isinstance(duration, int | float)
            else DurationModel(**duration)
        )
    return FunctionConfig(name, handler=handler, **values)


def from_lesson(
    lesson: Lesson, workspace: Path | None = None, code: CodeChoice = "mine"
) -> list[ExportFunction]:
    """The lesson's lab functions, with the learner's code (or the start or solution)."""
    files = dict(lesson.files)
    if code == "solution":
        files.update(lesson.solution_files)
    elif code == "mine" and workspace is not None:
        for name in files:
            path = workspace / name
            if path.is_file():
                files[name] = path.read_text(encoding="utf-8")
    out = []
    for function in lesson.lab.functions:
        config = function_config(function.name, function.handler, function.settings)
        out.append(ExportFunction(config, files if function.handler else {}))
    return out


def from_scenario(scenario: Scenario) -> list[ExportFunction]:
    """The scenario's functions; handler files are read from beside the scenario."""
    out = []
    for config in scenario.functions:
        files: dict[str, str] = {}
        if config.handler is not None:
            file_name, _ = parse_handler(config.handler)
            folder = config.code_dir or scenario.path.parent
            path = folder / file_name
            try:
                files[file_name] = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"Cannot read the handler of {config.name}, {path}: {exc.strerror}."
                ) from None
        out.append(ExportFunction(config, files))
    return out


# -- the template ------------------------------------------------------------------


def logical_id(name: str, suffix: str) -> str:
    """A CloudFormation logical id (alphanumeric) from a lab name."""
    words = re.split(r"[^A-Za-z0-9]+", name)
    base = "".join(w[:1].upper() + w[1:] for w in words if w) or "Lab"
    if base[0].isdigit():
        base = "L" + base
    return base + suffix


def sam_handler(handler: str) -> str:
    """``pkg/file.py:function`` -> ``pkg.file.function``, as the Python runtime reads it."""
    path, function = parse_handler(handler)
    return path.removesuffix(".py").replace("/", ".") + "." + function


def model_stand_in(config: FunctionConfig) -> str:
    """Code for a model function: it runs about as long and fails about as often."""
    seconds = config.duration.mean_ms / 1000.0
    return (
        f'"""Stand-in for the lab\'s model function {config.name}: about '
        f"{config.duration.mean_ms:g} ms per\nrun ({config.duration.distribution} in the "
        f'lab) and a {config.error_rate:g} chance of failing."""\n\n'
        "import random\nimport time\n\n\n"
        "def handler(event, context):\n"
        f"    time.sleep({seconds!r})\n"
        f"    if random.random() < {config.error_rate!r}:\n"
        '        raise RuntimeError("simulated failure")\n'
        '    return {"ok": True}\n'
    )


def build(
    functions: list[ExportFunction],
    triggers: Triggers | None = None,
    *,
    description: str,
    events: dict[str, Any] | None = None,
    lab: LabSpec | None = None,
) -> Export:
    """The SAM template (as a dict) and the code of each function."""
    if not functions:
        raise ConfigError("Nothing to export: the lab has no functions.")
    triggers = triggers or Triggers()
    names = [f.config.name for f in functions]
    target = triggers.function or names[0]
    if target not in names:
        raise ConfigError(
            f"--function {target!r} is not in this lab; choose one of {', '.join(names)}."
        )
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    notes: list[str] = []
    lab_events = _lab_events(lab, resources, outputs, notes) if lab else {}
    export = Export({}, events=dict(events or {}))
    for item in functions:
        config = item.config
        if config.handler is None:
            handler = "model_handler.handler"
            export.code[config.name] = {MODEL_HANDLER: model_stand_in(config)}
        else:
            handler = sam_handler(config.handler)
            export.code[config.name] = dict(item.files)
        fid = logical_id(config.name, "Function")
        props: dict[str, Any] = {
            "FunctionName": config.name,
            "Runtime": RUNTIME,
            "Handler": handler,
            "CodeUri": f"src/{config.name}/",
            "MemorySize": config.memory_mb,
            "Timeout": config.timeout_s,
        }
        if config.environment:
            props["Environment"] = {"Variables": dict(config.environment)}
        if config.reserved_concurrency is not None:
            props["ReservedConcurrentExecutions"] = config.reserved_concurrency
        if config.provisioned_concurrency:
            props["AutoPublishAlias"] = ALIAS
            props["ProvisionedConcurrencyConfig"] = {
                "ProvisionedConcurrentExecutions": config.provisioned_concurrency
            }
        invoke_config: dict[str, Any] = {
            "MaximumRetryAttempts": config.max_retry_attempts,
            "MaximumEventAgeInSeconds": config.max_event_age_s,
        }
        destinations = {}
        for key, target_name in (
            ("OnSuccess", config.on_success),
            ("OnFailure", config.on_failure),
        ):
            if target_name:
                destinations[key] = _destination(target_name, names, resources)
        if destinations:
            invoke_config["DestinationConfig"] = destinations
        props["EventInvokeConfig"] = invoke_config
        if config.dead_letter_queue:
            qid = _queue(config.dead_letter_queue, resources)
            props["DeadLetterQueue"] = {
                "Type": "SQS",
                "TargetArn": {"Fn::GetAtt": [qid, "Arn"]},
            }
        event_sources = dict(lab_events.get(config.name, {}))
        if config.name == target:
            event_sources.update(_events(triggers, config.name, resources, outputs))
        if event_sources:
            props["Events"] = event_sources
        resources[fid] = {"Type": "AWS::Serverless::Function", "Properties": props}
        outputs[logical_id(config.name, "FunctionArn")] = {
            "Description": f"ARN of {config.name}",
            "Value": {"Fn::GetAtt": [fid, "Arn"]},
        }
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": TRANSFORM,
        "Description": description,
        "Resources": dict(sorted(resources.items())),
    }
    if outputs:
        template["Outputs"] = outputs
    if notes:
        template["Metadata"] = {"lambdalab": {"NotExported": notes}}
    export.template = template
    return export


def _queue(name: str, resources: dict[str, Any]) -> str:
    """The SQS queue standing in for a lab queue (created once)."""
    qid = logical_id(name, "Queue")
    props: dict[str, Any] = {"QueueName": name}
    if name.endswith(".fifo"):
        props["FifoQueue"] = True
    resources.setdefault(qid, {"Type": "AWS::SQS::Queue", "Properties": props})
    return qid


def _destination(
    target: str, functions: list[str], resources: dict[str, Any]
) -> dict[str, Any]:
    if target in functions:
        fid = logical_id(target, "Function")
        return {"Type": "Lambda", "Destination": {"Fn::GetAtt": [fid, "Arn"]}}
    qid = _queue(target, resources)
    return {"Type": "SQS", "Destination": {"Fn::GetAtt": [qid, "Arn"]}}


def _lab_events(
    lab: LabSpec,
    resources: dict[str, Any],
    outputs: dict[str, Any],
    notes: list[str],
) -> dict[str, dict[str, Any]]:
    """The lesson's own schedules, front door and bucket notifications, per function."""
    events: dict[str, dict[str, Any]] = {}
    for rule in lab.schedules:
        state = "ENABLED" if rule.enabled else "DISABLED"
        if rule.timezone:  # an EventBridge Scheduler schedule, in that zone
            event = {
                "Type": "ScheduleV2",
                "Properties": {
                    "ScheduleExpression": rule.expression,
                    "ScheduleExpressionTimezone": rule.timezone,
                    "State": state,
                },
            }
        else:
            event = {
                "Type": "Schedule",
                "Properties": {
                    "Schedule": rule.expression,
                    "Name": rule.name,
                    "State": state,
                },
            }
        events.setdefault(rule.function, {})[logical_id(rule.name, "Schedule")] = event
    if lab.http is not None:
        front = lab.http
        if front.api == "rest":
            routes = events.setdefault(front.function, {})
            for eid, path in (("ApiRoot", "/"), ("ApiProxy", "/{proxy+}")):
                routes[eid] = {
                    "Type": "Api",
                    "Properties": {"Path": path, "Method": "any"},
                }
            url = "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"
            outputs["LabApiUrl"] = {
                "Description": "The REST API",
                "Value": {"Fn::Sub": url},
            }
        elif front.api == "http":
            # No path or method: the HTTP API's $default route sends everything.
            events.setdefault(front.function, {})["HttpApi"] = {"Type": "HttpApi"}
            url = (
                "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com/"
            )
            outputs["LabApiUrl"] = {
                "Description": "The HTTP API",
                "Value": {"Fn::Sub": url},
            }
        else:
            notes.append(
                f"The lab's Application Load Balancer in front of {front.function}: an "
                "ALB needs a VPC and subnets, so add it to the template yourself."
            )
    for bucket in lab.buckets:
        if not bucket.notifications:
            continue
        bid = logical_id(bucket.name, "Bucket")
        resources[bid] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {"Tags": [{"Key": "lambdalab-bucket", "Value": bucket.name}]},
        }
        outputs[logical_id(bucket.name, "BucketName")] = {
            "Description": f"The bucket standing for the lab's {bucket.name}",
            "Value": {"Ref": bid},
        }
        for notification in bucket.notifications:
            props: dict[str, Any] = {
                "Bucket": {"Ref": bid},
                "Events": list(notification.events),
            }
            rules = [
                {"Name": name, "Value": value}
                for name, value in (
                    ("prefix", notification.prefix),
                    ("suffix", notification.suffix),
                )
                if value
            ]
            if rules:
                props["Filter"] = {"S3Key": {"Rules": rules}}
            eid = logical_id(notification.id, "S3")
            events.setdefault(notification.function, {})[eid] = {
                "Type": "S3",
                "Properties": props,
            }
    return events


def _events(
    triggers: Triggers,
    function: str,
    resources: dict[str, Any],
    outputs: dict[str, Any],
) -> dict[str, Any]:
    events: dict[str, Any] = {}
    if triggers.schedule:
        from lambdalab.triggers.schedule import parse_schedule

        parse_schedule(triggers.schedule)  # refuses what EventBridge would refuse
        if triggers.schedule.strip().startswith("at("):
            raise ConfigError(
                f"Schedule {triggers.schedule!r} is a one-time at() schedule, which "
                "EventBridge rules do not take; use cron() or rate()."
            )
        events["Schedule"] = {
            "Type": "Schedule",
            "Properties": {"Schedule": triggers.schedule.strip()},
        }
    if triggers.api:
        if not triggers.api_path.startswith("/"):
            raise ConfigError(
                f"--api-path {triggers.api_path!r} must start with '/', e.g. /orders."
            )
        kind = "Api" if triggers.api == "rest" else "HttpApi"
        events[kind] = {
            "Type": kind,
            "Properties": {
                "Path": triggers.api_path,
                "Method": triggers.api_method.lower(),
            },
        }
        if triggers.api == "rest":
            url = "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod"
        else:
            url = (
                "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com"
            )
        outputs["ApiUrl"] = {
            "Description": f"The {kind} front door of {function}",
            "Value": {"Fn::Sub": url + triggers.api_path},
        }
    if triggers.s3:
        bid = logical_id(function, "Bucket")
        resources[bid] = {"Type": "AWS::S3::Bucket"}
        s3: dict[str, Any] = {"Bucket": {"Ref": bid}, "Events": triggers.s3_events}
        rules = [
            {"Name": name, "Value": value}
            for name, value in (
                ("prefix", triggers.s3_prefix),
                ("suffix", triggers.s3_suffix),
            )
            if value
        ]
        if rules:
            s3["Filter"] = {"S3Key": {"Rules": rules}}
        events["S3"] = {"Type": "S3", "Properties": s3}
        outputs["BucketName"] = {
            "Description": f"The bucket whose uploads invoke {function}",
            "Value": {"Ref": bid},
        }
    return events


# -- writing -----------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_/$][A-Za-z0-9_./$-]*$")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)  # a JSON string is a valid double-quoted YAML scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars (enough for a template)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{_scalar(key)}:\n{to_yaml(item, indent + 1)}")
            else:
                empty = "{}" if isinstance(item, dict) else "[]"
                shown = empty if isinstance(item, dict | list) else _scalar(item)
                lines.append(f"{pad}{_scalar(key)}: {shown}\n")
        return "".join(lines)
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                body = to_yaml(item, indent + 1)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {_scalar(item)}\n")
        return "".join(lines)
    return pad + _scalar(value) + "\n"


def write(export: Export, out: Path) -> list[Path]:
    """Write template.yaml, src/<function>/ and events/; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    template = out / "template.yaml"
    template.write_text(
        "# Written by lambdalab export. Deploy: sam build && sam deploy --guided\n"
        + to_yaml(export.template),
        encoding="utf-8",
    )
    written.append(template)
    for function, files in export.code.items():
        folder = out / "src" / function
        for name, text in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for name, event in export.events.items():
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "event"
        path = out / "events" / f"{safe}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
