"""Securing functions: execution roles, who may invoke, environment variables, KMS.

``[lab.security]`` lists candidate statements of each function's execution role and
resource-based policy, named sets of environment variables and customer managed KMS
keys (LAMBDA-FACTS 9). ``LabSecurity`` holds what the learner granted: it writes the
roles to ``ROLE_FILE`` in the workspace, where the sandbox's boto3 refuses a call no
statement allows (AccessDenied), and it answers whether a service may invoke a
function. Matching is exact action and ARN pattern with ``*``: no Deny, conditions
other than ``aws:SourceArn``, permission boundaries or KMS key policies.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lambdalab.course.model import (
    Action,
    EnvironmentSpec,
    InvokePermissionSpec,
    LabSpec,
    RoleStatementSpec,
    SecuritySpec,
    Step,
)
from lambdalab.engine.scenario import not_utf8_text
from lambdalab.errors import ConfigError, LessonFormatError

ROLE_FILE = ".lambdalab-iam.json"
"""Beside the code: the worker points the sandbox boto3 at it (``_worker.ROLE_FILE``)."""

AWS_MANAGED_KEY = "aws/lambda"
"""How the lab shows the default key: the AWS managed key of Lambda, free of charge."""

LAB_KEYS = ("security",)
CHECK_KEYS: dict[str, tuple[str, ...]] = {
    "role": ("function",),
    "policy": ("function", "principal", "source_arn", "allowed"),
    "environment": ("function", "variables", "kms_key_arn", "refused"),
}
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "grant": ("function", "action", "resource", "granted"),
    "permission": ("function", "principal", "source_arn", "granted"),
    "environment": ("environment",),
    "kms": ("function", "key_arn"),
}


class Doc(Protocol):
    """What this module needs from the loader's parsed file."""

    def fail(self, key: str, problem: str) -> LessonFormatError: ...

    def only(
        self, table: dict[str, Any], allowed: Iterable[str], where: str
    ) -> None: ...


# -------------------------------------------------------------------------- loading


def _text(doc: Doc, table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise doc.fail(f"{where}.{key}", f"must be text, not {value!r}; add it.")
    return value


def _function(doc: Doc, table: dict[str, Any], where: str, functions: set[str]) -> str:
    name = _text(doc, table, "function", where)
    if name not in functions:
        raise doc.fail(
            f"{where}.function",
            f"{name!r} is not a function of this lab ({', '.join(sorted(functions))}).",
        )
    return name


def _granted(doc: Doc, table: dict[str, Any], where: str) -> bool:
    value = table.get("granted", False)
    if not isinstance(value, bool):
        raise doc.fail(f"{where}.granted", "must be true or false.")
    return value


def _action_pattern(doc: Doc, value: Any, key: str) -> str:
    if not isinstance(value, str) or not (value == "*" or ":" in value):
        raise doc.fail(key, f"{value!r} must be service:Action, e.g. s3:PutObject.")
    return value


def _arn_pattern(doc: Doc, value: Any, key: str) -> str:
    if not isinstance(value, str) or not (value == "*" or value.startswith("arn:")):
        raise doc.fail(
            key,
            f"{value!r} must be an ARN (with * allowed) or *, e.g. arn:aws:s3:::b/*.",
        )
    return value


def load_lab_security(
    doc: Doc, raw: dict[str, Any], functions: set[str], folder: Path
) -> dict[str, Any]:
    """Read ``[lab.security]``: keyword arguments for ``LabSpec``."""
    if "security" not in raw:
        return {}
    table = raw["security"]
    if not isinstance(table, dict):
        raise doc.fail("lab.security", "must be a table.")
    doc.only(table, ("role", "invoke", "environments", "kms_keys"), "lab.security")
    role = []
    for i, item in enumerate(table.get("role", [])):
        where = f"lab.security.role[{i}]"
        if not isinstance(item, dict):
            raise doc.fail(where, "must be a table.")
        doc.only(item, ("function", "action", "resource", "granted"), where)
        role.append(
            RoleStatementSpec(
                _function(doc, item, where, functions),
                _action_pattern(doc, item.get("action"), f"{where}.action"),
                _arn_pattern(doc, item.get("resource"), f"{where}.resource"),
                _granted(doc, item, where),
            )
        )
    invoke = []
    for i, item in enumerate(table.get("invoke", [])):
        where = f"lab.security.invoke[{i}]"
        if not isinstance(item, dict):
            raise doc.fail(where, "must be a table.")
        doc.only(item, ("function", "principal", "source_arn", "granted"), where)
        source = item.get("source_arn", "")
        if source:
            _arn_pattern(doc, source, f"{where}.source_arn")
        invoke.append(
            InvokePermissionSpec(
                _function(doc, item, where, functions),
                _text(doc, item, "principal", where),
                source,
                _granted(doc, item, where),
            )
        )
    environments = []
    named = table.get("environments", {})
    if not isinstance(named, dict):
        raise doc.fail("lab.security.environments", "must be a table of named sets.")
    for name, item in named.items():
        where = f"lab.security.environments.{name}"
        if not isinstance(item, dict):
            raise doc.fail(where, "must be a table with function and variables.")
        doc.only(item, ("function", "variables"), where)
        variables = item.get("variables")
        if not isinstance(variables, dict):
            raise doc.fail(f"{where}.variables", "must be a table of NAME = value.")
        values: dict[str, str] = {}
        for key, value in variables.items():
            if isinstance(value, dict) and set(value) == {"file"}:
                path = folder / str(value["file"])
                if not path.is_file():
                    raise doc.fail(
                        f"{where}.variables.{key}",
                        f"file {value['file']} does not exist in {folder}.",
                    )
                try:
                    value = path.read_text(encoding="utf-8")
                except UnicodeDecodeError as exc:
                    raise doc.fail(
                        f"{where}.variables.{key}", not_utf8_text(path, exc)
                    ) from None
                except OSError as exc:
                    raise doc.fail(
                        f"{where}.variables.{key}",
                        f"cannot read {path} ({exc.strerror}). Make it a readable "
                        "file.",
                    ) from None
            if not isinstance(value, str):
                raise doc.fail(
                    f"{where}.variables.{key}",
                    f'must be text or {{ file = "name" }}, not {value!r}.',
                )
            values[key] = value
        environments.append(
            EnvironmentSpec(name, _function(doc, item, where, functions), values)
        )
    keys = table.get("kms_keys", [])
    if not isinstance(keys, list) or not all(
        isinstance(k, str) and k.startswith("arn:aws:kms:") for k in keys
    ):
        raise doc.fail(
            "lab.security.kms_keys",
            "must be a list of KMS key ARNs (arn:aws:kms:REGION:ACCOUNT:key/ID).",
        )
    spec = SecuritySpec(tuple(role), tuple(invoke), tuple(environments), tuple(keys))
    return {"security": spec}


def check_security_references(
    doc: Doc, lab: LabSpec, steps: Sequence[Step], solution: Sequence[Action]
) -> None:
    """Refuse security checks and actions that name what the lab does not have."""
    spec = lab.security or SecuritySpec()
    functions = {f.name for f in lab.functions}
    for i, step in enumerate(steps):
        for j, check in enumerate(step.checks):
            where = f"steps[{i}].checks[{j}]"
            p = check.params
            if check.type in CHECK_KEYS and "function" not in p:
                raise doc.fail(f"{where}.function", "missing; name the function.")
            if check.type == "role" and not any(
                s.function == p["function"] for s in spec.role
            ):
                raise doc.fail(
                    f"{where}.function",
                    f"{p['function']!r} has no [[lab.security.role]] statements.",
                )
            if check.type == "policy":
                _text(doc, p, "principal", where)
                if "allowed" in p and not isinstance(p["allowed"], bool):
                    raise doc.fail(f"{where}.allowed", "must be true or false.")
            if check.type == "environment":
                if "variables" in p and not isinstance(p["variables"], dict):
                    raise doc.fail(f"{where}.variables", "must be a table.")
                refused = p.get("refused")
                if refused is not None and (
                    not isinstance(refused, int) or isinstance(refused, bool)
                ):
                    raise doc.fail(f"{where}.refused", "must be a whole number.")
    names = [e.name for e in spec.environments]
    for i, action in enumerate(solution):
        where = f"solution[{i}]"
        p = action.params
        if action.do in ("grant", "permission", "kms"):
            _function(doc, p, where, functions)
        if action.do == "grant" and not any(
            (s.function, s.action, s.resource)
            == (p["function"], p.get("action"), p.get("resource"))
            for s in spec.role
        ):
            raise doc.fail(
                where,
                f"{p.get('action')!r} on {p.get('resource')!r} is not a "
                f"[[lab.security.role]] statement of {p['function']}.",
            )
        if action.do == "permission" and not any(
            (s.function, s.principal, s.source_arn)
            == (p["function"], p.get("principal"), p.get("source_arn", ""))
            for s in spec.invoke
        ):
            raise doc.fail(
                where,
                f"{p.get('principal')!r} with source_arn {p.get('source_arn', '')!r} "
                f"is not a [[lab.security.invoke]] statement of {p['function']}.",
            )
        if action.do == "environment" and p.get("environment") not in names:
            raise doc.fail(
                f"{where}.environment",
                f"{p.get('environment')!r} is not one of lab.security.environments "
                f"({', '.join(names) or 'none'}).",
            )
        if action.do == "kms" and p.get("key_arn", "") not in ("", *spec.kms_keys):
            raise doc.fail(
                f"{where}.key_arn",
                f"{p.get('key_arn')!r} is not in lab.security.kms_keys; use one of "
                "them, or empty text for the AWS managed key.",
            )


# -------------------------------------------------------------------------- the lab


def covers(action: str, resource: str, pair: tuple[str, str]) -> bool:
    """Whether a statement (action and resource patterns) allows one call."""
    return fnmatch.fnmatchcase(pair[0], action) and fnmatch.fnmatchcase(
        pair[1], resource
    )


def _breadth(statement: RoleStatementSpec) -> int:
    """Fewer literal characters, broader statement (``s3:*`` before ``s3:PutObject``)."""
    return -len((statement.action + statement.resource).replace("*", ""))


def iam_pair(action: str, resource: str) -> tuple[str, str]:
    """The (IAM action, resource) a recorded call needed; a copy writes with PutObject."""
    return ("s3:PutObject" if action == "s3:CopyObject" else action, resource)


@dataclass(frozen=True)
class Denial:
    """An invoke the resource-based policy refused."""

    time_ms: float
    function: str
    principal: str
    source_arn: str
    message: str


@dataclass(frozen=True)
class CallRecord:
    """What the role check needs from one recorded AWS call (an ``EffectRecord``)."""

    time_ms: float
    function: str
    action: str
    resource: str
    outcome: str
    detail: str = ""


class LabSecurity:
    """What the learner granted: roles, invoke permissions, variables and keys."""

    def __init__(
        self,
        spec: SecuritySpec | None,
        workspace: Path,
        *,
        account_id: str,
        now_ms: Callable[[], float],
        configure: Callable[[str, str, Any], None],
        calls_so_far: Callable[[], int] = lambda: 0,
    ) -> None:
        self.spec = spec or SecuritySpec()
        self.workspace = workspace
        self.account_id = account_id
        self._now = now_ms
        self._configure = configure
        self._calls_so_far = calls_so_far
        self.role = list(self.spec.role)
        self.role_granted = [s.granted for s in self.role]
        self.invoke = list(self.spec.invoke)
        self.invoke_granted = [s.granted for s in self.invoke]
        self.kms: dict[str, str] = {}
        """Function -> customer managed key ARN; absent: the AWS managed key."""
        self.role_changed_at: dict[str, int] = {}
        """Function -> how many calls the lab had recorded when its role changed."""
        self.refusals: list[tuple[str, str]] = []
        """(environment set, Lambda's message) for every refused update."""
        self.denials: list[Denial] = []
        self.revision = 0
        self.write_roles()

    @property
    def active(self) -> bool:
        """True when the lesson declares anything about security."""
        return self.spec != SecuritySpec()

    # -- execution roles ---------------------------------------------------------------

    def role_session(self, function: str) -> str:
        """The assumed-role ARN a function's calls are made as."""
        return f"arn:aws:sts::{self.account_id}:assumed-role/{function}-role/{function}"

    def write_roles(self) -> None:
        """Write the granted statements where the sandbox boto3 reads them."""
        roles: dict[str, Any] = {}
        for statement, granted in zip(self.role, self.role_granted, strict=True):
            role = roles.setdefault(
                statement.function,
                {"session": self.role_session(statement.function), "allow": []},
            )
            if granted:
                role["allow"].append([statement.action, statement.resource])
        path = self.workspace / ROLE_FILE
        if roles:
            path.write_text(json.dumps(roles, indent=1), encoding="utf-8")
        elif path.exists():
            path.unlink()

    def set_role(self, index: int, granted: bool) -> None:
        """Grant or revoke one candidate statement; it applies to the next call."""
        self.role_granted[index] = granted
        self.role_changed_at[self.role[index].function] = self._calls_so_far()
        self.write_roles()
        self.revision += 1

    def grant(self, function: str, action: str, resource: str, granted: bool) -> None:
        """``set_role`` by the statement's content (the ``grant`` solution action)."""
        index = next(
            i
            for i, s in enumerate(self.role)
            if (s.function, s.action, s.resource) == (function, action, resource)
        )
        self.set_role(index, granted)

    # -- resource-based policy ---------------------------------------------------------

    def set_permission(self, index: int, granted: bool) -> None:
        """Add or remove one statement of a function's resource-based policy."""
        self.invoke_granted[index] = granted
        self.revision += 1

    def permission(
        self, function: str, principal: str, source_arn: str, granted: bool
    ) -> None:
        """``set_permission`` by the statement's content (the solution action)."""
        index = next(
            i
            for i, s in enumerate(self.invoke)
            if (s.function, s.principal, s.source_arn)
            == (function, principal, source_arn)
        )
        self.set_permission(index, granted)

    def allows(self, function: str, principal: str, source_arn: str) -> bool | None:
        """Whether the policy lets the principal invoke; None: the lab has no policy."""
        statements = [
            (s, g)
            for s, g in zip(self.invoke, self.invoke_granted, strict=True)
            if s.function == function
        ]
        if not statements:
            return None
        return any(
            g
            and s.principal == principal
            and (not s.source_arn or fnmatch.fnmatchcase(source_arn, s.source_arn))
            for s, g in statements
        )

    def authorize(self, function: str, principal: str, source_arn: str) -> str | None:
        """None when the invoke may go ahead; else why not (and it is recorded)."""
        if self.allows(function, principal, source_arn) is not False:
            return None
        message = (
            f"AccessDenied: the resource-based policy of {function} has no statement "
            f"allowing {principal} to call lambda:InvokeFunction for {source_arn}; "
            "the event was not delivered."
        )
        self.denials.append(
            Denial(self._now(), function, principal, source_arn, message)
        )
        self.revision += 1
        return message

    # -- environment variables and KMS -------------------------------------------------

    def apply_environment(self, name: str) -> str | None:
        """UpdateFunctionConfiguration with a named set; Lambda's message if refused."""
        spec = next(e for e in self.spec.environments if e.name == name)
        self.revision += 1
        try:
            self._configure(spec.function, "environment", dict(spec.variables))
        except ConfigError as exc:
            self.refusals.append((name, str(exc)))
            return str(exc)
        return None

    def set_kms(self, function: str, key_arn: str) -> None:
        """Encrypt the function's variables with a customer managed key ("" = AWS's)."""
        if key_arn:
            self.kms[function] = key_arn
        else:
            self.kms.pop(function, None)
        self.revision += 1

    def kms_key(self, function: str) -> str:
        """The key the variables are encrypted with at rest."""
        return self.kms.get(function, AWS_MANAGED_KEY)

    def replay(self, do: str, p: dict[str, Any]) -> None:
        """The security actions of a reference solution."""
        if do == "grant":
            self.grant(
                p["function"], p["action"], p["resource"], bool(p.get("granted", True))
            )
        elif do == "permission":
            self.permission(
                p["function"],
                p["principal"],
                p.get("source_arn", ""),
                bool(p.get("granted", True)),
            )
        elif do == "environment":
            self.apply_environment(p["environment"])
        elif do == "kms":
            self.set_kms(p["function"], p.get("key_arn", ""))

    # -- checks ------------------------------------------------------------------------

    def check_role(
        self, p: dict[str, Any], calls: Sequence[CallRecord]
    ) -> tuple[bool, str]:
        """Least privilege: every call allowed, every grant used, none too broad.

        ``calls`` are all the lab recorded, in order; only those made since the
        function's role last changed count.
        """
        function = str(p["function"])
        since = self.role_changed_at.get(function, 0)
        recent = [c for c in calls[since:] if c.function == function]
        if not recent:
            return False, (
                f"{function} has made no AWS call since its role last changed; "
                "invoke it so the lab sees what the code touches."
            )
        denied = [c for c in recent if c.outcome == "denied"]
        if denied:
            c = denied[-1]
            return False, (
                f"{function}'s execution role does not allow {c.action} on "
                f"{c.resource}: the call failed with AccessDenied. Grant a statement "
                "that covers it."
            )
        pairs = {iam_pair(c.action, c.resource) for c in recent}
        granted = [s for s, g in zip(self.role, self.role_granted, strict=True) if g]
        granted = [s for s in granted if s.function == function]
        for s in granted:
            if not any(covers(s.action, s.resource, pair) for pair in pairs):
                return False, (
                    f"{s.action} on {s.resource} is granted but {function} never "
                    "used it; least privilege: revoke it."
                )
        for s in granted:
            used = [pair for pair in pairs if covers(s.action, s.resource, pair)]
            for narrower in self.role:
                if (
                    narrower.function == function
                    and _breadth(narrower) < _breadth(s)
                    and all(
                        covers(narrower.action, narrower.resource, pair)
                        for pair in used
                    )
                ):
                    return False, (
                        f"{s.action} on {s.resource} is broader than the calls "
                        f"need: {narrower.action} on {narrower.resource} covers all of them. "
                        "Grant the narrower statement instead."
                    )
        allowed = "; ".join(f"{s.action} on {s.resource}" for s in granted)
        return True, (
            f"{function}'s role allows exactly what it used ({len(recent)} "
            f"call(s)): {allowed}."
        )

    def check_policy(self, p: dict[str, Any]) -> tuple[bool, str]:
        """Who may invoke: the resource-based policy allows (or refuses) a caller."""
        function, principal = str(p["function"]), str(p["principal"])
        source = str(p.get("source_arn", ""))
        want = bool(p.get("allowed", True))
        allows = bool(self.allows(function, principal, source or "*"))
        where = f" for {source}" if source else ""
        if allows == want:
            verb = "allows" if allows else "does not allow"
            return True, (
                f"{function}'s resource-based policy {verb} {principal} to invoke "
                f"it{where}."
            )
        if want:
            return False, (
                f"{function}'s resource-based policy does not allow {principal} to "
                f"call lambda:InvokeFunction{where}; add a statement for it."
            )
        return False, (
            f"{function}'s resource-based policy still allows {principal} to invoke "
            f"it{where}: a statement without aws:SourceArn lets any {principal} "
            "resource, in any account, invoke the function. Scope it with a "
            "SourceArn."
        )

    def check_environment(
        self, p: dict[str, Any], variables: dict[str, str]
    ) -> tuple[bool, str]:
        """The function's variables, their KMS key, and refused updates."""
        function = str(p["function"])
        problems = []
        if "refused" in p and len(self.refusals) < int(p["refused"]):
            problems.append(
                f"Lambda has refused {len(self.refusals)} environment update(s), "
                f"not {p['refused']}: apply a set over the 4 KB limit"
            )
        for key, value in dict(p.get("variables", {})).items():
            if variables.get(key) != value:
                got = variables.get(key)
                problems.append(
                    f"{function} has {key} = {got!r}, not {value!r}"
                    if got is not None
                    else f"{function} has no variable {key}"
                )
        if "kms_key_arn" in p:
            want = str(p["kms_key_arn"]) or AWS_MANAGED_KEY
            if self.kms_key(function) != want:
                problems.append(
                    f"{function}'s variables are encrypted with "
                    f"{self.kms_key(function)}, not {want}"
                )
        if problems:
            return False, "; ".join(problems) + "."
        size = len(json.dumps(variables, separators=(",", ":")).encode())
        return True, (
            f"{function} has {len(variables)} variable(s), {size} of 4096 bytes, "
            f"encrypted with {self.kms_key(function)}."
        )
