"""Every lesson completed in the app with the keyboard alone, following its reference solution.

Each solution action becomes the keys a learner would press (see ``players``); code
is typed key by key here, line by line where only some lines change.
"""

from __future__ import annotations

import pytest
from players import COURSE, AppFactory, play_lesson

from lambdalab.course.model import Lesson

KEYED_ACTIONS = {"answer", "invoke", "burst", "set", "wait", "write"}
# Lesson 1 has its own, stricter keyboard test (tests/ui/test_lesson_play.py).
PLAYABLE = [
    lesson
    for lesson in COURSE.lessons
    if {a.do for a in lesson.solution} <= KEYED_ACTIONS
    and lesson.id != "first-invocation"
]


@pytest.mark.parametrize("lesson", PLAYABLE, ids=lambda lesson: lesson.id)
async def test_lesson_completed_with_the_keyboard(
    app_factory: AppFactory, lesson: Lesson
) -> None:
    await play_lesson(
        app_factory, lesson, from_map=True, typed=True, wait="time", run_out_s=600
    )


def test_the_keyboard_player_covers_the_first_lessons() -> None:
    played = {lesson.id for lesson in PLAYABLE}
    assert {
        "sync-vs-async",
        "cold-starts",
        "throttling",
        "monitoring",
        "cost",
    } <= played
