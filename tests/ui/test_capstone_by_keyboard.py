"""The capstone completed with the keyboard, following its reference solution.

It uses every player: the HTTP and Schedules keys of the trigger lessons, R in the
Queues tab of the async ones. The lab has eight tabs; the player reaches each with
] or [, whichever is shorter.
"""

from __future__ import annotations

from players import COURSE, AppFactory, open_tab, plain, play_lesson
from textual.pilot import Pilot
from textual.widgets import Static

from lambdalab.ui.panels.metrics import MetricsPanel
from lambdalab.ui.panels.queues import QueuesPanel
from lambdalab.ui.screens.lesson import LessonScreen


async def _poison_order_in_the_dlq(pilot: Pilot[None], screen: LessonScreen) -> None:
    await open_tab(pilot, screen, QueuesPanel)
    details = plain(screen.query_one("#message-details", Static).content)
    # the poison event's key, as S3 encoded it (LAMBDA-FACTS 4.2, 7.1)
    assert "ErrorMessage String 'grace+hopper'" in details


async def _orders_shipped_and_reported(
    pilot: Pilot[None], screen: LessonScreen
) -> None:
    assert any(isinstance(p, MetricsPanel) for p in screen.panels)
    bucket = screen.session.triggers.bucket("shop")
    assert {"shipped/1001.json", "shipped/1002.json"} <= set(bucket.objects)
    assert "reports/2025-01-01.txt" in bucket.objects


async def test_capstone_completed_with_the_keyboard(app_factory: AppFactory) -> None:
    lesson = COURSE.lesson("capstone")
    assert lesson is not None
    hooks = {
        i: _poison_order_in_the_dlq
        for i, a in enumerate(lesson.solution)
        if a.do == "redrive"
    }
    hooks[len(lesson.solution)] = _orders_shipped_and_reported
    await play_lesson(app_factory, lesson, wait="this-task", hooks=hooks)
