"""Helpers shared by the subcommands: reading handler paths and JSON files."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from lambdalab.errors import HandlerError, LambdaLabError


def split_handler(spec: str) -> tuple[Path, str]:
    """Turn ``path/to/file.py:function`` into (code folder, ``file.py:function``)."""
    path_text, sep, function = spec.rpartition(":")
    if not sep or not path_text.endswith(".py") or not function.isidentifier():
        raise HandlerError(
            f"Handler {spec!r} is not FILE.py:function; for example handler.py:lambda_handler."
        )
    path = Path(path_text).expanduser()
    if path.is_dir():
        raise HandlerError(
            f"Handler file {path} is a folder; name the .py file inside it."
        )
    if not path.is_file():
        raise HandlerError(f"Handler file {path} does not exist; check the path.")
    return path.resolve().parent, f"{path.name}:{function}"


def function_name_for(path: Path) -> str:
    """A valid function name from a file stem (``my handler.py`` -> ``my-handler``)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-") or "function"
    return name[:64]


def read_json_file(path_text: str, what: str) -> Any:
    """Read JSON from a file (or ``-`` for stdin) with a message naming the file."""
    try:
        text = sys.stdin.read() if path_text == "-" else Path(path_text).read_text()
    except OSError as exc:
        raise LambdaLabError(
            f"Cannot read {what} {path_text}: {exc.strerror}."
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LambdaLabError(
            f"{what.capitalize()} {path_text} is not valid JSON: {exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}."
        ) from None
