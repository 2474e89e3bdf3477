"""What a function's code needs on AWS, read from its source without running it.

Two questions the template has to answer: which files make up the function (the
handler and the sibling modules it imports), and which S3 calls it makes (so the
execution role grants them, and a write back into the bucket that triggers it is
caught before it loops on AWS). The reading is deliberately simple: literal
arguments and plain ``name = ...`` assignments; anything computed is "unknown".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

S3_ACTIONS: dict[str, tuple[str, ...]] = {
    "put_object": ("s3:PutObject",),
    "copy_object": ("s3:PutObject", "s3:GetObject"),
    "delete_object": ("s3:DeleteObject",),
    "get_object": ("s3:GetObject",),
}
"""The boto3 S3 client calls we recognise and the IAM actions each needs.

copy_object reads its source (s3:GetObject) and writes the copy (s3:PutObject).
"""
WRITES = {"put_object": "ObjectCreated", "copy_object": "ObjectCreated"}
WRITES_REMOVED = {"delete_object": "ObjectRemoved"}


@dataclass(frozen=True)
class S3Call:
    """One boto3 S3 client call found in a function's source."""

    operation: str
    """``put_object``, ``copy_object``, ``delete_object`` or ``get_object``."""
    file: str
    line: int
    bucket: str | None
    """The literal ``Bucket=`` name, or None when computed (e.g. from the event)."""
    key_head: str = ""
    """The literal start of ``Key=`` ("thumbs/" for f"thumbs/{key}"); "" if unknown."""
    key_complete: bool = False
    """True when the whole key is a literal (``key_head`` is all of it)."""

    @property
    def event_family(self) -> str | None:
        """The S3 notification family this call causes, if any (ObjectCreated...)."""
        return WRITES.get(self.operation) or WRITES_REMOVED.get(self.operation)


def module_files(module: str, files: dict[str, str]) -> list[str]:
    """The code files of ``files`` an absolute import of ``module`` would load."""
    parts = module.split(".")
    found = []
    for i in range(1, len(parts) + 1):
        base = "/".join(parts[:i])
        for name in (base + ".py", base + "/__init__.py"):
            if name in files:
                found.append(name)
    return found


def needed_files(handler_file: str, files: dict[str, str]) -> dict[str, str]:
    """The handler file and the sibling modules it imports, transitively.

    Imports are read from the syntax tree; a file that does not parse is shipped
    alone (the learner will see the SyntaxError in ``sam local invoke``).
    """
    wanted: dict[str, str] = {}
    todo = [handler_file]
    while todo:
        name = todo.pop()
        if name in wanted or name not in files:
            continue
        wanted[name] = files[name]
        try:
            tree = ast.parse(files[name])
        except SyntaxError:
            continue
        package = name.rsplit("/", 1)[0] if "/" in name else ""
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    todo += module_files(alias.name, files)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split("/") if package else []
                    base = (
                        base[: len(base) - (node.level - 1)] if node.level > 1 else base
                    )
                    prefix = ".".join(base)
                    module = ".".join(p for p in (prefix, node.module or "") if p)
                else:
                    module = node.module or ""
                targets = [module] if module else []
                targets += [
                    f"{module}.{a.name}" if module else a.name for a in node.names
                ]
                for target in targets:
                    todo += module_files(target, files)
    return dict(sorted(wanted.items()))


def _literal_head(node: ast.expr | None) -> tuple[str, bool]:
    """The literal start of a string expression, and whether it is all literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, True
    if isinstance(node, ast.JoinedStr):
        head = ""
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                head += part.value
            else:
                return head, False
        return head, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        head, complete = _literal_head(node.left)
        if not complete:
            return head, False
        tail, complete = _literal_head(node.right)
        return head + tail, complete
    return "", False


def s3_calls(source: str, file: str) -> list[S3Call]:
    """The recognised S3 client calls in ``source`` (``x.put_object(...)`` etc.)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    assigned: dict[str, ast.expr | None] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            # Assigned twice: we cannot tell which value reaches the call.
            name = node.targets[0].id
            assigned[name] = None if name in assigned else node.value

    def resolve(value: ast.expr | None) -> ast.expr | None:
        if isinstance(value, ast.Name):
            return assigned.get(value.id)
        return value

    calls = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in S3_ACTIONS
        ):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        bucket_node = resolve(keywords.get("Bucket"))
        bucket, bucket_complete = _literal_head(bucket_node)
        head, complete = _literal_head(resolve(keywords.get("Key")))
        calls.append(
            S3Call(
                operation=node.func.attr,
                file=file,
                line=node.lineno,
                bucket=bucket if bucket_complete and bucket else None,
                key_head=head,
                key_complete=complete,
            )
        )
    return sorted(calls, key=lambda c: (c.file, c.line))
