"""The log stream keeps the width it is shown at, whatever was on screen when the
lines arrived (tester: at 80x24 a REPORT line wrapped at 20 columns for good)."""

from __future__ import annotations

from players import AppFactory
from textual.widgets import RichLog

from lambdalab.ui.screens.lesson import LessonScreen


async def test_lines_logged_while_the_lab_is_hidden_wrap_at_the_shown_width(
    app_factory: AppFactory,
) -> None:
    app = app_factory(live=True, open_lesson="first-invocation")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen) and screen.has_class("narrow")
        await pilot.press("2")  # step 1: predict, invoke (the lab shows), read
        await pilot.pause(0.3)
        await pilot.press("i")
        await pilot.pause(1.0)
        await pilot.press("v")  # back to the text, on to step 2
        await pilot.pause(0.3)
        await pilot.press("n")
        await pilot.pause(0.3)
        await pilot.press("2", "enter")
        await pilot.pause(0.3)
        await pilot.press("i")  # its lines arrive as the lab comes into view
        await pilot.pause(1.5)
        log = screen.query_one("#log", RichLog)
        assert screen.has_class("show-lab") and log.size.width > 60
        reports = [strip.text for strip in log.lines if "Billed Duration" in strip.text]
        assert reports, "the REPORT line was not logged"
        # wrapped at the log's width (not 20 columns), billing and memory share a line
        assert all("Memory Size: 128 MB" in text for text in reports)
        assert max(len(strip.text) for strip in log.lines) > 60
