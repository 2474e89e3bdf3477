"""Helpers shared by the subcommands: reading handler paths and JSON files."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from lambdalab.engine.scenario import not_utf8_text
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


def read_text_file(path_text: str, what: str) -> str:
    """A file's UTF-8 text (``-`` for stdin); a UTF-8 byte-order mark is dropped.

    A file that is missing, unreadable or not UTF-8 is named with what to do.
    """
    try:
        if path_text == "-":
            buffer = getattr(sys.stdin, "buffer", None)
            if buffer is None:  # a text stream with no bytes under it
                return str(sys.stdin.read()).removeprefix("\ufeff")
            return bytes(buffer.read()).decode("utf-8-sig")
        return Path(path_text).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LambdaLabError(
            f"Cannot read {what} {path_text}: {exc.strerror}. Check the path."
        ) from None
    except UnicodeDecodeError as exc:
        name = "standard input" if path_text == "-" else path_text
        raise LambdaLabError(
            f"{what.capitalize()} {not_utf8_text(name, exc)}"
        ) from None


def read_json_file(path_text: str, what: str) -> Any:
    """Read JSON from a file (or ``-`` for stdin) with a message naming the file."""
    text = read_text_file(path_text, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LambdaLabError(
            f"{what.capitalize()} {path_text} is not valid JSON: {exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}."
        ) from None
