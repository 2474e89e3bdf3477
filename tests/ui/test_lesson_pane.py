"""The lesson pane as a fresh-eyes tester saw it in tmux at 120x40 and 80x24
(session 3, lesson-pane polish): scrollbars, the 'more below' cue, the prediction's
choices, where toasts go, and how REPORT lines read."""

from __future__ import annotations

import pytest
from players import AppFactory, press, run_invocations, settle, tap
from rich.console import Console
from rich.style import Style
from rich.text import Text
from test_lesson_layout import shown
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Markdown, Static
from textual.widgets._toast import Toast

from lambdalab.ui import render
from lambdalab.ui.screens.lesson import LessonScreen

SIZES = [(80, 24), (120, 40)]
IDS = ["80x24", "120x40"]


async def retries_answered(pilot: Pilot[None]) -> LessonScreen:
    """The retries lesson's first step, predicted: long text, prediction and task box."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen)
    await press(pilot, "3", "enter")
    return screen


# -- 1. one scrollbar in the pane -------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_the_lesson_pane_shows_one_scrollbar_and_pages_through_both_parts(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    # tester: the text's scrollbar and the task area's stacked into one double bar
    app = app_factory(open_lesson="retries-dlq")
    async with app.run_test(size=size) as pilot:
        screen = await retries_answered(pilot)
        text = screen.query_one("#text-scroll", VerticalScroll)
        task = screen.query_one("#task-area", VerticalScroll)
        cue = screen.query_one("#text-more", Static)
        assert text.max_scroll_y > 0 and task.max_scroll_y > 0, "needs both to overflow"
        assert text.scrollbar_size_vertical > 0
        assert task.scrollbar_size_vertical == 0
        for _ in range(12):
            if not cue.visible:
                break
            await tap(pilot, "pagedown")
        # PageDown took the text to its end, then the task area to its end.
        assert text.scroll_y == text.max_scroll_y
        assert task.scroll_y == task.max_scroll_y
        assert not cue.visible
        await tap(pilot, "pageup")  # the task area first, back towards its top
        assert task.scroll_y < task.max_scroll_y and text.scroll_y == text.max_scroll_y
        assert cue.visible


# -- 2. the cue takes a line of its own -------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_the_cue_hides_no_text_line_and_page_down_reaches_the_last(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    app = app_factory(open_lesson="retries-dlq")
    async with app.run_test(size=size) as pilot:
        screen = await retries_answered(pilot)
        text = screen.query_one("#text-scroll", VerticalScroll)
        cue = screen.query_one("#text-more", Static)
        last = screen.query_one("#step-text", Markdown).children[-1]
        seen: set[int] = set()
        height = text.scrollable_content_region.height
        for _ in range(8):
            # The cue has its own line under the text, shown or not: the text's
            # height never changes with it.
            assert cue.region.y == text.region.bottom and cue.region.height == 1
            assert text.scrollable_content_region.height == height
            top = round(text.scroll_y)
            seen.update(range(top, top + height))
            if text.scroll_y >= text.max_scroll_y:
                break
            await tap(pilot, "pagedown")
        assert seen >= set(range(text.virtual_size.height))
        final = shown(pilot, text).rstrip().splitlines()[-1].strip()
        assert final and final.endswith(str(last.content).split()[-1]), final


# -- 3. wrapped choices hang under their text -------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_a_wrapped_choice_continues_under_its_text(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    # tester: "straight away" started at the box edge, under the number
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        box = pilot.app.screen.query_one("#predict", Static)
        lines = shown(pilot, box).splitlines()
        starts = [i for i, line in enumerate(lines) if line.lstrip("│ ")[:2] == "2)"]
        assert starts, lines
        choice = lines[starts[0]]
        indent = choice.index("2)") + 3  # the column the choice's text starts at
        continuation = lines[starts[0] + 1]
        assert continuation[1:indent].strip() == "", (choice, continuation)
        assert continuation[indent : indent + 1].strip(), (choice, continuation)


def test_choice_list_indents_continuation_lines() -> None:
    from players import plain

    out = plain(
        render.choice_list(["Nothing: Lambda runs the handler straight away"]), 24
    )
    first, second, *_ = out.splitlines()
    assert first.startswith(" 1) Nothing")
    assert second.startswith("    ") and second[4] != " "


# -- 4. toasts cover neither the log nor the task and status lines ----------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_toasts_keep_off_the_log_the_task_status_and_environment_rows(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    # tester: toasts at the top right covered the task and status lines for 5 s, and
    # the environment row at 80x24
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, LessonScreen)
        await tap(pilot, "2", "i")
        await run_invocations(pilot, screen)
        line = screen.query_one("#task-line", Static)
        assert "Step done" in shown(pilot, line)  # the step's own feedback stays here
        await tap(pilot, "r", "f")  # routine notices: a short stay
        assert [n.timeout for n in app._notifications] == [3, 3]
        await pilot.pause(0.3)  # toasts are mounted after a refresh
        await settle(pilot)
        toasts = list(screen.query(Toast))
        assert len(toasts) == 2
        wide = size[0] >= 120  # the lesson text beside the lab: toasts stay over it
        covered = ("#lab-pane", "#predict") if wide else ()
        for selector in ("#log", "#task-line", "#lab-status", "#envs", *covered):
            region = screen.query_one(selector).region
            for toast in toasts:
                assert not toast.region.overlaps(region), (selector, toast.region)


# -- 5. REPORT's durations are readable -------------------------------------------------


REPORT = (
    "REPORT RequestId: cd613e30-d8f1-4adf-91b7-584a2265b1f5\tDuration: 1.93 ms\t"
    "Billed Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t"
    "Init Duration: 204.14 ms\t"
)


def styles_of(line: Text) -> list[tuple[str, Style]]:
    """Each character of a rendered line with the style it is drawn in."""
    console = Console(width=400, color_system="truecolor")
    return [
        (char, segment.style or Style())
        for segment in line.render(console)
        for char in segment.text
    ]


def test_report_durations_are_not_dim_and_the_text_is_unchanged() -> None:
    # LAMBDA-FACTS 3.2: the REPORT text stays exact; only its colours change
    line = render.log_line(206.0, REPORT)
    assert line.plain == "00:00.206 " + "  ".join(REPORT.rstrip("\t").split("\t"))
    drawn = styles_of(line)
    assert "".join(c for c, _ in drawn) == line.plain
    grey = Style.parse("bright_black").color
    for field in ("Duration: 1.93 ms", "Billed Duration: 2 ms"):
        start = line.plain.index(field)
        for _, style in drawn[start : start + len(field)]:
            assert not style.dim and style.color != grey, (field, style)
    value = line.plain.index("1.93 ms")
    assert drawn[value][1].bold
    assert drawn[0][1].dim  # the time stays quiet
