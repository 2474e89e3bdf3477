"""The lesson screen as a fresh-eyes tester saw it at 80x24 and 120x40, keyboard only:
each test names the problem it pins down (session 3, lesson polish)."""

from __future__ import annotations

import pytest
from players import AppFactory, press, quick_key, run_invocations, settle, tap
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static
from textual.widgets._toast import Toast

from lambdalab.ui.app import HELP
from lambdalab.ui.screens.lesson import LessonScreen, _LogStream

SIZES = [(80, 24), (120, 40)]


def shown(pilot: Pilot[None], widget: Widget) -> str:
    """The text the screen shows inside the widget's region, line by line."""
    region = widget.region
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join(
        strip.text[region.x : region.right]
        for strip in strips[region.y : region.bottom]
    )


async def opened(pilot: Pilot[None]) -> LessonScreen:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen)
    return screen


async def invoke(pilot: Pilot[None], screen: LessonScreen, key: str = "i") -> None:
    await tap(pilot, key)
    await run_invocations(pilot, screen)


# -- 1. the log's height at 80x24 -------------------------------------------------------


@pytest.mark.parametrize(
    ("lesson_id", "answer", "rows"),
    [("first-invocation", "2", 9), ("retries-dlq", None, 7)],
    ids=["no-tabs", "with-tabs"],
)
async def test_the_log_shows_a_usable_number_of_lines_at_80x24(
    app_factory: AppFactory, lesson_id: str, answer: str | None, rows: int
) -> None:
    # tester: 2-3 lines at 80x24, too few to follow an invocation
    app = app_factory(open_lesson=lesson_id)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        if answer is None:
            await press(pilot, "3", "enter")
        else:
            await tap(pilot, answer)
        await invoke(pilot, screen, "i" if answer else "a")
        log = screen.query_one("#log", _LogStream)
        assert screen.has_class("show-lab")
        assert log.scrollable_content_region.height >= rows
        assert log.scrollable_content_region.width >= 76


async def test_the_log_keeps_its_height_at_120x40(app_factory: AppFactory) -> None:
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await tap(pilot, "2")
        for _ in range(6):  # the invocations box at its tallest
            await invoke(pilot, screen)
        assert (
            screen.query_one("#log", _LogStream).scrollable_content_region.height >= 12
        )


# -- 2. the log follows its end; keys scroll it -----------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_new_lines_keep_the_log_at_its_end_while_the_boxes_above_grow(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    # tester: at 120x40 the log sometimes stopped short of its newest line; each new
    # invocation row made the log shorter after its lines were written
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=size) as pilot:
        screen = await opened(pilot)
        await tap(pilot, "2")
        log = screen.query_one("#log", _LogStream)
        for count in range(1, 8):
            await invoke(pilot, screen)
            assert log.max_scroll_y > 0 or count < 3
            assert log.scroll_y == log.max_scroll_y, count
            assert "REPORT" in shown(pilot, log).split("\n", 1)[-1]


async def test_scrolled_up_the_log_stays_put_until_end(app_factory: AppFactory) -> None:
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await tap(pilot, "2")
        for _ in range(4):
            await invoke(pilot, screen)
        log = screen.query_one("#log", _LogStream)
        bottom = log.scroll_y
        await tap(pilot, "up", "up", "up")
        assert log.scroll_y == bottom - 3 and not log.following
        await tap(pilot, "shift+up")
        page = log.scrollable_content_region.height - 1
        assert log.scroll_y == bottom - 3 - page
        top = log.scroll_y
        await invoke(pilot, screen)  # new lines do not pull the learner down
        assert log.scroll_y == top and log.max_scroll_y > bottom
        await tap(pilot, "down")
        assert log.scroll_y == top + 1
        await tap(pilot, "end")
        assert log.following and log.scroll_y == log.max_scroll_y
        await invoke(pilot, screen)
        assert log.scroll_y == log.max_scroll_y
        await tap(pilot, "home")
        assert log.scroll_y == 0 and not log.following


async def test_log_lines_wrap_again_when_the_terminal_widens(
    app_factory: AppFactory,
) -> None:
    # written at 80 columns, the lines were cut at 120 (the log is narrower there)
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        await tap(pilot, "2")
        await invoke(pilot, screen)
        log = screen.query_one("#log", _LogStream)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await settle(pilot)
        width = log.scrollable_content_region.width
        assert width < 76
        assert max(len(strip.text.rstrip()) for strip in log.lines) <= width
        assert log.max_scroll_x == 0
        assert log.scroll_y == log.max_scroll_y


async def test_the_log_keys_are_in_the_footer_and_the_help(
    app_factory: AppFactory,
) -> None:
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        footer = shown(pilot, screen.query_one("_LessonFooter"))
        assert "↑↓ Log" in footer
    assert "| ↑ ↓ | scroll the log stream" in HELP
    assert "| shift+↑ / shift+↓ |" in HELP and "| home / end |" in HELP


# -- 3. the invocations table -----------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_invocations_table_shows_cold_and_the_function_unsqueezed(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    # tester: 'co…' for cold, and no function column in a lab with two functions
    app = app_factory(open_lesson="throttling")
    async with app.run_test(size=size) as pilot:
        screen = await opened(pilot)
        await press(pilot, "5", "enter")
        await tap(pilot, "f")  # checkout, then reports again
        await invoke(pilot, screen)
        await tap(pilot, "f")
        await invoke(pilot, screen)
        table = shown(pilot, screen.query_one("#invocations", Static))
        assert "…" not in table
        assert "function" in table and "checkout" in table and "reports" in table
        assert table.count(" cold") == 2


# -- 4. the lesson text under the prediction box ----------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_text_hidden_below_the_prediction_box_has_a_cue_and_a_key(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    # tester: the prediction box hid the end of the text, with no sign of more
    app = app_factory(open_lesson="retries-dlq")
    async with app.run_test(size=size) as pilot:
        screen = await opened(pilot)
        await press(pilot, "3", "enter")  # the task box joins the prediction's
        text = screen.query_one("#text-scroll")
        cue = screen.query_one("#text-more", Static)
        assert text.max_scroll_y > 0, "the test needs text that does not fit"
        assert cue.visible and "more below: PageDown" in shown(pilot, cue)
        for _ in range(10):
            await tap(pilot, "pagedown")
        assert text.scroll_y == text.max_scroll_y
        assert not cue.visible and not shown(pilot, cue).strip()
        await tap(pilot, "pageup")
        assert cue.visible


async def test_the_task_box_waits_out_of_the_way_while_the_prediction_does(
    app_factory: AppFactory,
) -> None:
    app = app_factory(open_lesson="retries-dlq")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        assert not screen.query_one("#checks").display
        await press(pilot, "3", "enter")
        assert screen.query_one("#checks").display


# -- 5. the status line and the footer fit ----------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_status_line_fits(
    app_factory: AppFactory, size: tuple[int, int]
) -> None:
    # tester: cut at 120 columns ('❚❚ step mode  100x ... 00:00:00.000' and no UTC)
    app = app_factory(open_lesson="retries-dlq")
    async with app.run_test(size=size) as pilot:
        screen = await opened(pilot)
        await press(pilot, "3", "enter")
        await tap(pilot, "a")
        status = screen.query_one("#lab-status", Static)
        line = shown(pilot, status).rstrip()
        assert len(line) < status.content_region.width
        assert line.endswith(("UTC", "UTC …")) or "virtual time" in line
        assert "step mode" in line and "100x" in line


@pytest.mark.parametrize(
    ("lesson_id", "answer"),
    [
        ("retries-dlq", ("3", "enter")),
        ("cron-eventbridge", ("2",)),
        ("s3-uploads", ()),
        ("multi-header-responses", ()),
        ("capstone", ()),
    ],
)
async def test_the_footer_of_every_tab_fits_at_120_columns(
    app_factory: AppFactory, lesson_id: str, answer: tuple[str, ...]
) -> None:
    # tester: the Queues tab's footer was cut at 120 columns
    app = app_factory(open_lesson=lesson_id)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        if answer:
            await press(pilot, *answer)
        footer = screen.query_one("_LessonFooter")
        for _ in screen.panels:
            await press(pilot, "right_square_bracket")
            text = shown(pilot, footer).rstrip()
            assert text.endswith("f1 Help"), text


# -- 6. step completion does not cover the log ------------------------------------------


async def test_step_done_shows_above_the_lab_and_toasts_keep_off_the_log(
    app_factory: AppFactory,
) -> None:
    # tester: the 'Step done!' toast covered the newest log lines
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await opened(pilot)
        await tap(pilot, "2")
        await invoke(pilot, screen)
        assert "cold-start" in screen.state.passed_steps
        assert not [n for n in app._notifications if "Step done" in n.message]
        line = screen.query_one("#task-line", Static)
        assert line.has_class("done") and "Step done" in shown(pilot, line)
        await tap(pilot, "f")  # any toast: where does it go?
        await pilot.pause(0.3)  # toasts are mounted after a refresh
        await settle(pilot)
        log = screen.query_one("#log", _LogStream)
        toasts = list(screen.query(Toast))
        assert toasts
        for toast in toasts:
            assert not toast.region.overlaps(log.region), (toast.region, log.region)


# -- 7. keys that can do nothing say why ------------------------------------------------


@pytest.mark.parametrize(
    ("lesson_id", "size", "keys", "said"),
    [
        ("first-invocation", (120, 40), ("f",), "f: this lab has one function, hello."),
        ("first-invocation", (120, 40), ("p",), "p: this is the first step."),
        (
            "first-invocation",
            (120, 40),
            ("right_square_bracket",),
            "]: this lab has no",
        ),
        ("first-invocation", (120, 40), ("v",), "v: the lesson text and the lab are"),
        ("first-invocation", (120, 40), ("2", "5"), "5: your prediction for this step"),
        ("cron-eventbridge", (80, 24), ("2", "e"), "e: this lab has one event"),
        ("first-invocation", (80, 24), ("space",), "space: in step mode the clock"),
    ],
)
async def test_a_key_that_can_do_nothing_says_why(
    app_factory: AppFactory,
    lesson_id: str,
    size: tuple[int, int],
    keys: tuple[str, ...],
    said: str,
) -> None:
    app = app_factory(open_lesson=lesson_id)
    async with app.run_test(size=size) as pilot:
        await opened(pilot)
        await tap(pilot, *keys)
        messages = [
            n.message.replace("[b]", "").replace("[/b]", "") for n in app._notifications
        ]
        assert any(m.startswith(said) for m in messages), messages


async def test_plus_at_the_top_speed_says_so(app_factory: AppFactory) -> None:
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        for _ in range(12):
            await quick_key(pilot, "plus")
        await settle(pilot)
        assert screen.pacer.speed == 1000
        assert any("1000x is the fastest" in n.message for n in app._notifications)


# -- 9. the 20 Hz redraw looks nothing up -----------------------------------------------


async def test_an_idle_redraw_queries_no_widget(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_factory(open_lesson="first-invocation")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        queries: list[object] = []
        original = screen.query_one

        def counting(*args: object, **kwargs: object) -> object:
            queries.append(args)
            return original(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(screen, "query_one", counting)
        for _ in range(20):
            screen.draw_lab()
        assert queries == []
