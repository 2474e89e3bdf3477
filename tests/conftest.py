"""Suite-wide: the longest tests start first, so every worker stays busy to the end.

With ``--maxschedchunk 1`` (pyproject) xdist hands the next test to whichever worker
is free, in this order: the long keyboard players spread over the workers at the
start and the many short tests fill in around them. A slow test left at the end
runs alone while the other workers wait.
"""

from __future__ import annotations

import pytest

LONGEST_FIRST = (
    # Measured with --durations on two cores; the longest group first. Tests that
    # match no entry keep their collection order, after these.
    "tests/ui/test_log_stream.py",  # live mode: seconds of real pauses
    "tests/ui/test_capstone_by_keyboard.py",
    "tests/ui/test_lessons_by_keyboard.py",
    "tests/ui/test_async_panels.py::test_async_lesson_completed_with_the_keyboard",
    "tests/ui/test_security_lesson.py",
    "tests/ui/test_trigger_lessons.py",
    "tests/ui/test_lesson_play.py",
    "tests/serve/test_browser.py",
    "tests/serve/test_classroom_api.py",
    "tests/ui/",
    "tests/serve/",
    "tests/export/",
)


def _rank(item: pytest.Item) -> int:
    return next(
        (i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
        len(LONGEST_FIRST),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: each group keeps its own order
