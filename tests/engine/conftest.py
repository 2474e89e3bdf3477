"""Fixtures for engine tests: a service and handler files written on the fly."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdalab.engine.model import Account, FunctionConfig
from lambdalab.engine.service import LambdaService

MakeFunction = Callable[..., FunctionConfig]


@pytest.fixture
def service() -> Iterator[LambdaService]:
    svc = LambdaService(wall_guard_s=0.5)
    yield svc
    svc.close()


@pytest.fixture
def small_account_service() -> Iterator[LambdaService]:
    svc = LambdaService(
        Account(concurrency_limit=10, unreserved_minimum=0), wall_guard_s=0.5
    )
    yield svc
    svc.close()


@pytest.fixture
def make_function(tmp_path: Path, service: LambdaService) -> MakeFunction:
    """Write ``code`` to handler.py and create a function running it."""
    counter = iter(range(1000))

    def make(
        code: str, name: str = "demo-fn", svc: LambdaService | None = None, **kw: Any
    ) -> FunctionConfig:
        folder = tmp_path / f"code{next(counter)}"
        folder.mkdir()
        (folder / "handler.py").write_text(textwrap.dedent(code))
        config = FunctionConfig(
            name, handler="handler.py:handler", code_dir=folder, **kw
        )
        return (svc or service).create_function(config)

    return make


def logs_of(svc: LambdaService, request_id: str | None = None) -> list[str]:
    """Log messages, optionally only those of one request."""
    return [
        r.data["message"]
        for r in svc.trace.of_kind("log")
        if request_id is None or r.request_id == request_id
    ]
