"""The capstone completed with the keyboard, following its reference solution.

No other player knows all of its actions: the HTTP and Schedules keys come from the
trigger lessons' player, R in the Queues tab from the async one. The lab has eight
tabs, more than those players cycle through, so each tab is opened here first.
"""

from __future__ import annotations

from conftest import AppFactory
from test_async_panels import plain, play_async
from test_lessons_by_keyboard import settle
from test_trigger_lessons import COURSE, play
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from lambdalab.ui.panels.http_door import HttpPanel
from lambdalab.ui.panels.metrics import MetricsPanel
from lambdalab.ui.panels.queues import QueuesPanel
from lambdalab.ui.panels.schedules import SchedulePanel
from lambdalab.ui.screens.lesson import LessonScreen

TABS = {"http": HttpPanel, "schedule": SchedulePanel}


async def open_tab(pilot: Pilot[None], screen: LessonScreen, panel: type) -> None:
    """Switch tabs with ] or [, whichever reaches the panel in fewer presses."""
    tabs = screen.query_one("#lab-tabs", TabbedContent)
    order = ["tab-lab"] + [f"tab-{p.id}" for p in screen.panels]
    target = f"tab-{panel.__name__.lower()}"
    ahead = (order.index(target) - order.index(str(tabs.active))) % len(order)
    if ahead <= len(order) // 2:
        await pilot.press(*["right_square_bracket"] * ahead)
    else:
        await pilot.press(*["left_square_bracket"] * (len(order) - ahead))
    await pilot.pause()
    assert tabs.active == target


async def wait(pilot: Pilot[None], screen: LessonScreen, seconds: float) -> None:
    """Press '.' until the current step's task is done, or ``seconds`` went by."""
    service = screen.session.service
    target = service.now_ms + seconds * 1000
    while (
        service.waiting_on_code or screen.step.id not in screen.session.passed_steps()
    ):
        nxt = service.loop.peek()
        if not service.waiting_on_code and (nxt is None or nxt > target):
            break
        await pilot.press("full_stop")


async def test_capstone_completed_with_the_keyboard(app_factory: AppFactory) -> None:
    lesson = COURSE.lesson("capstone")
    assert lesson is not None
    app = app_factory(open_lesson="capstone")
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen) and screen.lesson.id == "capstone"
        for action in lesson.solution:
            if action.do == "redrive":
                await open_tab(pilot, screen, QueuesPanel)
                details = plain(screen.query_one("#message-details", Static).content)
                # the poison event's key, as S3 encoded it (LAMBDA-FACTS 4.2, 7.1)
                assert "ErrorMessage String 'grace+hopper'" in details
                await play_async(pilot, screen, action)
            elif action.do == "wait":
                await wait(pilot, screen, float(action.params["seconds"]))
            else:
                if action.do in TABS:
                    await open_tab(pilot, screen, TABS[action.do])
                await play(pilot, screen, action)
        await settle(pilot, screen)
        assert any(isinstance(p, MetricsPanel) for p in screen.panels)
        todo = [
            s.id
            for s in lesson.steps
            if s.checks and s.id not in screen.state.passed_steps
        ]
        assert todo == [], [
            r.detail
            for s in lesson.steps
            if s.id in todo
            for r in screen.session.evaluate(s)
        ]
        assert screen.state.completed
        bucket = screen.session.triggers.bucket("shop")
        assert {"shipped/1001.json", "shipped/1002.json"} <= set(bucket.objects)
        assert "reports/2025-01-01.txt" in bucket.objects
