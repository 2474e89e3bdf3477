"""A SAM template and the handler code for the functions of a lab or a scenario.

Every setting the simulator honours maps to the property AWS reads: memory, timeout,
reserved and provisioned concurrency (through an alias, as Lambda only provisions
versions, LAMBDA-FACTS 2.1), the event-invoke config, the DLQ, destinations (queues,
functions, EventBridge buses), and Schedule, Api and S3 events. Names are left to
CloudFormation so one account can hold several stacks. Each function ships only the
files its handler imports, and its role grants the S3 calls its code makes; a
function that would invoke itself through its own bucket is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lambdalab.course.model import Action, LabSpec, Lesson
from lambdalab.engine.model import DurationModel, FunctionConfig, parse_handler
from lambdalab.engine.scenario import Scenario, not_utf8_text
from lambdalab.engine.service import BUS_PREFIX, parse_target
from lambdalab.errors import ConfigError
from lambdalab.export import scan

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
    warnings: list[str] = field(default_factory=list)
    """Where the template departs from the lab (the CLI prints them)."""


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
                files[name] = _read_code(path, f"your {name} for {lesson.id}")
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
            files[file_name] = _read_code(path, f"the handler of {config.name}")
        out.append(ExportFunction(config, files))
    return out


def _read_code(path: Path, what: str) -> str:
    """A handler file's text; an unreadable or non-UTF-8 file is named with the fix."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {what}, {path}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"Cannot read {what}: {not_utf8_text(path, exc)}") from None


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
    solution: tuple[Action, ...] = (),
) -> Export:
    """The SAM template (as a dict) and the code of each function.

    ``solution`` is the lesson's reference solution: its ``grant`` moves decide which
    ``[lab.security]`` role statements the exported execution roles keep.
    Raises ConfigError for what would not deploy or would loop on AWS.
    """
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
    inferred: list[str] = []
    export = Export({}, events=dict(events or {}))
    for item in functions:
        config = item.config
        if config.handler is None:
            export.code[config.name] = {MODEL_HANDLER: model_stand_in(config)}
        else:
            handler_file, _ = parse_handler(config.handler)
            export.code[config.name] = scan.needed_files(handler_file, item.files)
    calls = {
        name: [c for file, text in code.items() for c in scan.s3_calls(text, file)]
        for name, code in export.code.items()
    }
    lab_buckets = {bucket.name for bucket in lab.buckets} if lab else set()
    s3_triggers = _s3_triggers(lab, triggers, target)
    _break_loops(s3_triggers, calls, triggers.s3_prefix, export)
    lab_events = _lab_events(lab, s3_triggers, resources, outputs, notes) if lab else {}
    role = _role_statements(lab, solution, names)
    if lab is not None and lab.security is not None:
        if lab.security.environments or lab.security.kms_keys:
            notes.append(
                "The lesson's environment sets and KMS keys ([lab.security]): set "
                "Environment and KmsKeyArn yourself (the lab's key ARNs are examples)."
            )
        if lab.security.invoke:
            notes.append(
                "The lesson's invoke permissions ([lab.security]): SAM adds the "
                "permission each event source needs (S3: this account only)."
            )
    for item in functions:
        config = item.config
        handler = (
            "model_handler.handler"
            if config.handler is None
            else sam_handler(config.handler)
        )
        fid = logical_id(config.name, "Function")
        # No FunctionName: CloudFormation names it after the stack, so two stacks of
        # the same export can live in one account.
        props: dict[str, Any] = {
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
                destinations[key] = _destination(
                    target_name, config.name, names, resources
                )
        if destinations:
            invoke_config["DestinationConfig"] = destinations
        props["EventInvokeConfig"] = invoke_config
        if config.dead_letter_queue:
            props["DeadLetterQueue"] = _dead_letter_queue(
                config.dead_letter_queue, config.name, names, resources
            )
        event_sources = dict(lab_events.get(config.name, {}))
        if config.name == target:
            event_sources.update(
                _events(triggers, config.name, s3_triggers, resources, outputs)
            )
        if event_sources:
            props["Events"] = event_sources
        if config.name in role:
            statements = role[config.name]
            inferred.append(
                f"{config.name}: execution role from the lesson's [lab.security] "
                "statements granted at the end of its solution"
                + ("" if statements else " (none: only the basic logging policy)")
            )
        else:
            statements = _s3_statements(
                config.name, calls[config.name], s3_triggers, lab_buckets, inferred
            )
        if statements:
            props["Policies"] = [{"Version": "2012-10-17", "Statement": statements}]
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
    metadata: dict[str, Any] = {}
    if inferred:
        metadata["Inferred"] = inferred
    if export.warnings:
        metadata["ChangedFromTheLab"] = list(export.warnings)
    if notes:
        metadata["NotExported"] = notes
    if metadata:
        template["Metadata"] = {"lambdalab": metadata}
    export.template = template
    return export


# -- queues, buses and destinations --------------------------------------------------


def _queue(name: str, resources: dict[str, Any]) -> str:
    """The SQS queue standing in for a lab queue (created once, named by CFN)."""
    qid = logical_id(name, "Queue")
    # No QueueName: queue names are unique per account and Region, so a fixed name
    # would stop a second stack; the tag keeps the lab's name.
    props: dict[str, Any] = {"Tags": [{"Key": "lambdalab-queue", "Value": name}]}
    if name.endswith(".fifo"):
        props["FifoQueue"] = True
    resources.setdefault(qid, {"Type": "AWS::SQS::Queue", "Properties": props})
    return qid


def bus_arn(name: str, resources: dict[str, Any]) -> dict[str, Any]:
    """The ARN of the EventBridge bus ``name``; a custom bus becomes a resource."""
    if name == "default":  # every account and Region has it
        return {
            "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:"
            "${AWS::AccountId}:event-bus/default"
        }
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "bus"
    bid = logical_id(name, "EventBus")
    resources.setdefault(
        bid,
        {
            "Type": "AWS::Events::EventBus",
            "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-" + safe}},
        },
    )
    return {"Fn::GetAtt": [bid, "Arn"]}


def _destination(
    target: str, owner: str, functions: list[str], resources: dict[str, Any]
) -> dict[str, Any]:
    """An on-success or on-failure destination as SAM's DestinationConfig takes it.

    SAM adds the permission each type needs to the function's generated role
    (sqs:SendMessage, sns:Publish, lambda:InvokeFunction, events:PutEvents).
    """
    kind, name = parse_target(target)
    if kind == "eventbridge":
        bus = name.removeprefix(BUS_PREFIX)
        return {"Type": "EventBridge", "Destination": bus_arn(bus, resources)}
    if kind == "function" or (kind is None and name in functions):
        if name not in functions:
            raise ConfigError(
                f"The destination of {owner}, {target}, is a function this lab does "
                f"not have; point it at one of {', '.join(functions)} or a queue."
            )
        fid = logical_id(name, "Function")
        return {"Type": "Lambda", "Destination": {"Fn::GetAtt": [fid, "Arn"]}}
    qid = _queue(name, resources)
    return {"Type": "SQS", "Destination": {"Fn::GetAtt": [qid, "Arn"]}}


def _dead_letter_queue(
    target: str, owner: str, functions: list[str], resources: dict[str, Any]
) -> dict[str, Any]:
    """SAM's DeadLetterQueue: an SQS queue (SAM adds sqs:SendMessage to the role)."""
    kind, name = parse_target(target)
    if kind in ("eventbridge", "function") or (kind is None and name in functions):
        raise ConfigError(
            f"The dead-letter queue of {owner}, {target}, is not a queue: Lambda sends "
            "dead letters only to an SQS queue or an SNS topic; use a destination "
            "(on_failure) for a function or an event bus."
        )
    qid = _queue(name, resources)
    return {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [qid, "Arn"]}}


# -- buckets, their notifications and the role ---------------------------------------

STACK_SUFFIX: dict[str, Any] = {
    "Fn::Select": [
        4,
        {
            "Fn::Split": [
                "-",
                {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]},
            ]
        },
    ]
}
"""The last 12 hex digits of the stack's id: lower case, and unique to the stack."""


def _bucket_base(name: str) -> str:
    safe = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return safe[:50].strip("-") or "bucket"


def bucket_name(name: str) -> dict[str, Any]:
    """The deployed name of the lab bucket ``name``: ``name-<stack id suffix>``.

    A name built from the stack id (not a Ref to the bucket) lets the role grant
    access to the bucket whose notifications invoke the function: a Ref there makes
    bucket -> function -> role -> bucket, a circular dependency CloudFormation
    refuses.
    """
    return {"Fn::Sub": [_bucket_base(name) + "-${Suffix}", {"Suffix": STACK_SUFFIX}]}


def bucket_arn(name: str, path: str = "") -> dict[str, Any]:
    """The ARN of the exported bucket ``name``, with ``/key-pattern`` if given."""
    text = "arn:${AWS::Partition}:s3:::" + _bucket_base(name) + "-${Suffix}" + path
    return {"Fn::Sub": [text, {"Suffix": STACK_SUFFIX}]}


@dataclass
class _S3Trigger:
    """One S3 notification that invokes a function, lab-defined or from --s3."""

    function: str
    bucket: str
    """The lab bucket's name (for --s3: the function's name)."""
    events: tuple[str, ...]
    prefix: str
    suffix: str
    source: str
    """How to name it in a message: ``notification csv-uploads`` or ``--s3``."""
    notification_id: str = ""


def _s3_triggers(
    lab: LabSpec | None, triggers: Triggers, target: str
) -> list[_S3Trigger]:
    found = []
    for bucket in lab.buckets if lab else ():
        for n in bucket.notifications:
            found.append(
                _S3Trigger(
                    n.function,
                    bucket.name,
                    tuple(n.events),
                    n.prefix,
                    n.suffix,
                    f"notification {n.id}",
                    n.id,
                )
            )
    if triggers.s3:
        found.append(
            _S3Trigger(
                target,
                target,
                (triggers.s3_events,),
                triggers.s3_prefix,
                triggers.s3_suffix,
                "--s3",
            )
        )
    return found


def _loops(trigger: _S3Trigger, call: scan.S3Call) -> bool:
    """Whether ``call`` writes an object that fires ``trigger`` again."""
    family = call.event_family
    if family is None or not any(family in e for e in trigger.events):
        return False
    if call.bucket is not None and call.bucket != trigger.bucket:
        return False
    if not trigger.prefix:
        return True
    if not call.key_head.startswith(trigger.prefix):
        return False
    return not (call.key_complete and not call.key_head.endswith(trigger.suffix))


def _break_loops(
    s3_triggers: list[_S3Trigger],
    calls: dict[str, list[scan.S3Call]],
    prefix: str,
    export: Export,
) -> None:
    """Refuse a function that writes into the bucket that invokes it (AWS has no
    loop guard), unless --s3-prefix gives the notification a filter that breaks it."""
    for trigger in s3_triggers:
        for call in calls.get(trigger.function, []):
            if not _loops(trigger, call):
                continue
            if prefix and not trigger.prefix and trigger.source != "--s3":
                trigger.prefix = prefix
                if not _loops(trigger, call):
                    export.warnings.append(
                        f"The {trigger.source} of bucket {trigger.bucket} has no "
                        f"prefix filter in the lab; exported with prefix {prefix!r} "
                        f"so the writes of {trigger.function} do not invoke it again."
                    )
                    continue
            where = f"{call.operation} in {call.file}, line {call.line}"
            if trigger.prefix:
                scope = f"under prefix {trigger.prefix!r}"
                advice = (
                    f"Make its writes land outside {trigger.prefix!r} (change the "
                    "key it writes or the notification's prefix), or write to "
                    "another bucket."
                )
            else:
                scope = "with no prefix filter"
                advice = (
                    "Export with --s3-prefix PREFIX (for example --s3-prefix "
                    "uploads/) so only keys under PREFIX invoke it and its writes "
                    "land outside, or make it write to another bucket."
                )
            raise ConfigError(
                f"{trigger.function} is invoked by {', '.join(trigger.events)} in "
                f"bucket {trigger.bucket} ({trigger.source}, {scope}) and writes into "
                f"that bucket ({where}): on AWS that is a recursive loop, and the "
                f"lab's loop guard does not exist there. {advice}"
            )


def _s3_statements(
    function: str,
    calls: list[scan.S3Call],
    s3_triggers: list[_S3Trigger],
    lab_buckets: set[str],
    inferred: list[str],
) -> list[dict[str, Any]]:
    """Least-privilege S3 statements for the calls found in the function's code."""
    own = sorted({t.bucket for t in s3_triggers if t.function == function})
    grants: dict[str, tuple[Any, set[str]]] = {}
    for call in calls:
        if call.bucket is not None:
            buckets = [call.bucket]
        elif own:
            buckets = own  # the bucket name comes from the event: its trigger buckets
        else:
            inferred.append(
                f"{function}: {call.operation} in {call.file}, line {call.line}, "
                "names no bucket we can tell; add an S3 statement to its Policies."
            )
            continue
        if call.key_complete:
            path = "/" + call.key_head
        elif "/" in call.key_head:
            path = "/" + call.key_head.rsplit("/", 1)[0] + "/*"
        else:
            path = "/*"
        for bucket in buckets:
            for action in scan.S3_ACTIONS[call.operation]:
                # copy_object reads a source we cannot see: any key of the bucket.
                key = (
                    "/*"
                    if action == "s3:GetObject" and call.operation == "copy_object"
                    else path
                )
                if bucket in lab_buckets or bucket in own:
                    arn: Any = bucket_arn(bucket, key)
                else:
                    arn = {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + bucket + key}
                    inferred.append(
                        f"{function}: {call.file}, line {call.line}, names bucket "
                        f"{bucket!r}, which this template does not create."
                    )
                label = f"{bucket}{key}"
                grants.setdefault(label, (arn, set()))[1].add(action)
        if call.bucket is not None and call.bucket in lab_buckets:
            inferred.append(
                f"{function}: {call.file}, line {call.line}, names the lab bucket "
                f"{call.bucket!r} literally; the deployed bucket is called "
                f"{_bucket_base(call.bucket)}-<stack id suffix> (output "
                f"{logical_id(call.bucket, 'BucketName')}): read the name from an "
                "environment variable before deploying."
            )
    if grants:
        found = sorted({c.operation for c in calls})
        inferred.append(
            f"{function}: S3 permissions inferred from its code "
            f"({', '.join(found)}) and the buckets that invoke it."
        )
    return [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": arn}
        for _, (arn, actions) in sorted(grants.items())
    ]


def _role_statements(
    lab: LabSpec | None, solution: tuple[Action, ...], functions: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """``[lab.security]`` role statements granted once the solution's grants ran."""
    if lab is None or lab.security is None or not lab.security.role:
        return {}
    granted = {(s.function, s.action, s.resource): s.granted for s in lab.security.role}
    for move in solution:
        if move.do == "grant":
            p = move.params
            key = (p["function"], p["action"], p["resource"])
            if key in granted:
                granted[key] = bool(p.get("granted", True))
    buckets = {bucket.name for bucket in lab.buckets}
    out: dict[str, list[dict[str, Any]]] = {
        s.function: [] for s in lab.security.role if s.function in functions
    }
    for (function, action, resource), on in granted.items():
        if on and function in out:
            out[function].append(
                {
                    "Effect": "Allow",
                    "Action": [action],
                    "Resource": _role_resource(resource, buckets),
                }
            )
    return out


def _role_resource(resource: str, buckets: set[str]) -> Any:
    """A lab ARN pattern, with the lab's bucket names swapped for the deployed ones."""
    match = re.fullmatch(r"arn:aws:s3:::([^/]+)(/.*)?", resource)
    if match and match.group(1) in buckets:
        return bucket_arn(match.group(1), match.group(2) or "")
    return resource


def _lab_events(
    lab: LabSpec,
    s3_triggers: list[_S3Trigger],
    resources: dict[str, Any],
    outputs: dict[str, Any],
    notes: list[str],
) -> dict[str, dict[str, Any]]:
    """The lesson's own schedules, front door and bucket notifications, per function."""
    events: dict[str, dict[str, Any]] = {}
    for rule in lab.schedules:
        state = "ENABLED" if rule.enabled else "DISABLED"
        # No rule Name: rule names are unique per bus and Region, like functions.
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
                "Properties": {"Schedule": rule.expression, "State": state},
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
        bid = logical_id(bucket.name, "Bucket")
        resources[bid] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": bucket_name(bucket.name),
                "Tags": [{"Key": "lambdalab-bucket", "Value": bucket.name}],
            },
        }
        outputs[logical_id(bucket.name, "BucketName")] = {
            "Description": f"The bucket standing for the lab's {bucket.name}",
            "Value": {"Ref": bid},
        }
    for trigger in s3_triggers:
        if trigger.source == "--s3":
            continue
        props: dict[str, Any] = {
            "Bucket": {"Ref": logical_id(trigger.bucket, "Bucket")},
            "Events": list(trigger.events),
        }
        rules = _filter_rules(trigger.prefix, trigger.suffix)
        if rules:
            props["Filter"] = {"S3Key": {"Rules": rules}}
        eid = logical_id(trigger.notification_id, "S3")
        events.setdefault(trigger.function, {})[eid] = {
            "Type": "S3",
            "Properties": props,
        }
    return events


def _filter_rules(prefix: str, suffix: str) -> list[dict[str, str]]:
    return [
        {"Name": name, "Value": value}
        for name, value in (("prefix", prefix), ("suffix", suffix))
        if value
    ]


def _events(
    triggers: Triggers,
    function: str,
    s3_triggers: list[_S3Trigger],
    resources: dict[str, Any],
    outputs: dict[str, Any],
) -> dict[str, Any]:
    events: dict[str, Any] = {}
    if triggers.schedule:
        from lambdalab.triggers.schedule import parse_schedule

        # Refuses what EventBridge would refuse; six bare fields (as the Lambda
        # console takes them) come back as cron(...), which the template needs.
        schedule = parse_schedule(triggers.schedule)
        if triggers.schedule.strip().startswith("at("):
            raise ConfigError(
                f"Schedule {triggers.schedule!r} is a one-time at() schedule, which "
                "EventBridge rules do not take; use cron() or rate()."
            )
        events["Schedule"] = {
            "Type": "Schedule",
            "Properties": {"Schedule": schedule.expression},
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
    for trigger in s3_triggers:
        if trigger.source != "--s3":
            continue
        bid = logical_id(function, "Bucket")
        resources[bid] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": bucket_name(function)},
        }
        s3: dict[str, Any] = {"Bucket": {"Ref": bid}, "Events": triggers.s3_events}
        rules = _filter_rules(trigger.prefix, trigger.suffix)
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
