"""A lesson: its text, prediction, task and hints beside the live lab."""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any, Self

from rich.console import Group
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    Footer,
    Header,
    Input,
    Markdown,
    RichLog,
    Static,
    TabbedContent,
    TabPane,
)

from lambdalab.course.model import Lesson, Step
from lambdalab.course.progress import LessonProgress
from lambdalab.course.session import LabSession, plural
from lambdalab.engine.model import AWS_SETTING_NAMES
from lambdalab.engine.service import Invocation
from lambdalab.errors import LambdaLabError
from lambdalab.ui import render
from lambdalab.ui.pacing import Pacer
from lambdalab.ui.panels import PANELS, load_panels

if TYPE_CHECKING:
    from lambdalab.ui.app import LambdaLabApp

_NOTHING_SHOWN = object()
REVEAL_MARKER = "<!-- after-prediction -->"
"""In step text, what follows this line is shown only after the learner predicts."""
TICK_S = 0.05
"""20 Hz: smooth to watch; a tick with nothing new only redraws the status line."""
CHECK_EVERY_S = 0.25
"""Checks re-run at most 4 times a second while the lab changes (each scans the trace)."""
WAIT_FOR_CODE_S = 0.05
"""How long one tick may wait for handler code before drawing again."""
MORE_BELOW = "▼ more below: PageDown"
ROUTINE_S = 3.0
"""Seconds a routine notice stays (Textual's default is 5): it sits over the lesson
text, which the learner may be reading. Errors and warnings keep the default."""


SPEED = Binding.Group("Speed", compact=True)
LOG = Binding.Group("Log", compact=True)
"""The footer shows a group's keys once, with one word: ``+- Speed``, ``↑↓ Log``."""


def literal(text: str) -> str:
    """Text to show as it is inside markup: Textual reads ``[INFO]`` as a tag (its
    ``escape`` leaves capitals alone) and the line would lose the word."""
    return text.replace("[", "\\[")


class _LessonFooter(Footer):
    """Textual's footer, rebuilt only when the keys it lists change.

    Textual rebuilds it (a widget per key, each styled) on every focus move and
    binding refresh; in a lesson most of those list the same keys.
    """

    _listed: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        palette = screen.app.COMMAND_PALETTE_BINDING
        listed = tuple(
            (b.key, b.action, b.description, b.key_display, b.group, enabled, tip)
            for key, (_, b, enabled, tip) in screen.active_bindings.items()
            if b.show or key == palette
        )
        if listed == self._listed:
            return
        super().bindings_changed(screen)
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._listed = listed  # Textual rebuilds only in these cases


class _LogStream(RichLog, can_focus=False):
    """The log stream: it follows the newest line unless the learner scrolled up,
    and wraps its lines again when its width changes.

    RichLog wraps a line once, when written: a log that narrows or widens (the
    lesson text beside it or above it) would show lines cut or half empty. The
    lesson's own keys scroll it (focused, its keys would bypass ``following``).
    """

    def __init__(self, *, max_lines: int, **kwargs: Any) -> None:
        super().__init__(max_lines=max_lines, wrap=True, min_width=20, **kwargs)
        self.following = True
        """Keep the newest line in view; False once the learner scrolled up."""
        self._written: deque[Text] = deque(maxlen=max_lines)
        self._wrapped_at = 0

    def add(self, line: Text) -> None:
        """Write one line; the view stays at the end while following."""
        self._written.append(line)
        self._wrapped_at = self.scrollable_content_region.width
        self.write(line, scroll_end=self.following)

    def clear(self) -> Self:
        self._written.clear()
        self.following = True
        return super().clear()

    def on_show(self) -> None:
        screen = self.screen
        if isinstance(screen, LessonScreen):
            self.call_after_refresh(screen.draw_lab)

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if not self._wrapped_at:
            self._wrapped_at = width  # the first lines were held until now
        elif self._written and width != self._wrapped_at:
            self._wrapped_at = width
            top = self.scroll_y
            super().clear()
            for line in self._written:
                self.write(line, scroll_end=False)
            if not self.following:
                self.scroll_to(y=top, animate=False, immediate=True)
        if self.following:
            # A box above grew (a new invocation row): the log got shorter and the
            # newest lines would fall below its edge.
            self.scroll_end(animate=False, immediate=False, x_axis=False)

    def scroll_lines(self, lines: int) -> None:
        """Scroll by ``lines`` (a page is the log's height); at the end, follow."""
        target = max(0, min(self.max_scroll_y, round(self.scroll_y) + lines))
        self.scroll_to(y=target, animate=False, immediate=True)
        self.following = target >= self.max_scroll_y

    def follow(self, end: bool) -> None:
        """Jump to the newest line and follow it (or to the oldest, and stay)."""
        self.following = end
        if end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.scroll_home(animate=False, immediate=True, x_axis=False)

    def on_mouse_scroll_up(self) -> None:
        if self.max_scroll_y:
            self.following = False

    def on_mouse_scroll_down(self) -> None:
        self.call_after_refresh(self._follow_at_end)

    def _follow_at_end(self) -> None:
        self.following = self.scroll_y >= self.max_scroll_y


class _PaneScroll(VerticalScroll, can_focus=False):
    """One of the lesson pane's two scrolling parts: the step's text and, below it,
    the task area. A cue between them shows while either has lines out of sight.

    Not focusable: the arrows are the log's, PageUp and PageDown the pane's, the
    same on every screen of the lesson.
    """

    @property
    def more_below(self) -> bool:
        return self.max_scroll_y - round(self.scroll_y) > 0

    def on_resize(self) -> None:
        self._cue()

    def watch_virtual_size(self) -> None:
        # The content grew or shrank in place (no Resize); the container's own size
        # is set just after this, so look once that is done.
        self.call_later(self._cue)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._cue()

    def _cue(self) -> None:
        if not self.is_mounted or self.parent is None:
            return
        pane = self.parent
        cue = pane.query_one("#text-more", Static)
        more = any(
            part.more_below for part in pane.query_children(_PaneScroll).results()
        )
        # Shown or not, the cue keeps its line: the text's height never changes with
        # it, so no text line slips under it or out of reach.
        if cue.visible != more:
            cue.visible = more


class LessonScreen(Screen[None]):
    """The lesson text on the left, the live lab on the right."""

    CSS_PATH = "lesson.tcss"
    AUTO_FOCUS = ""
    """Nothing has the focus at first: the lesson's keys all work from the start."""

    BINDINGS = [
        Binding("i", "invoke('sync')", "Invoke"),
        Binding("a", "invoke('async')", "Async"),
        Binding("e", "next_event", "Event"),
        Binding("space", "pause", "Pause"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+", group=SPEED),
        Binding("minus", "slower", "Slower", key_display="-", group=SPEED),
        Binding("full_stop", "step_once", "Step", show=False),
        Binding("greater_than_sign", "skip_minute", "Skip 1 min", show=False),
        Binding("h", "hint", "Hint"),
        Binding("n", "next_step", "Next"),
        Binding("p", "previous_step", "Back", show=False),
        Binding("c", "edit_code", "Code"),
        Binding("s", "solution", "Solution", show=False),
        Binding("r", "reset_lab", "Reset lab", show=False),
        Binding("f", "next_function", "Function", show=False),
        Binding("o", "settings", "Config", show=False),
        Binding("b", "burst('sync')", "Burst", show=False),
        Binding("B", "burst('async')", "Async burst", show=False),
        Binding("v", "toggle_view", "Lesson/Lab", show=False),
        Binding("up", "scroll_log(-1)", "Log up", key_display="↑", group=LOG),
        Binding("down", "scroll_log(1)", "Log down", key_display="↓", group=LOG),
        Binding("shift+up", "scroll_log(-1, True)", "Log page up", show=False),
        Binding("shift+down", "scroll_log(1, True)", "Log page down", show=False),
        Binding("home", "log_end(False)", "Log start", show=False),
        Binding("end", "log_end(True)", "Log end", show=False),
        Binding("pagedown", "scroll_text(1)", "Text down", show=False),
        Binding("pageup", "scroll_text(-1)", "Text up", show=False),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False),
        Binding("escape", "leave", "Map", show=False),
        *[Binding(str(n), f"answer({n})", show=False) for n in range(10)],
    ]

    def __init__(
        self, lesson: Lesson, session: LabSession, state: LessonProgress, *, live: bool
    ) -> None:
        super().__init__()
        self.lesson = lesson
        self.session = session
        self.state = state
        self.live = live
        self.pacer = Pacer(speed=lesson.lab.speed)
        self.step_index = min(state.step, len(lesson.steps) - 1)
        self.function_index = 0
        self.event_index = 0
        self._timer: Timer | None = None
        self._last_tick = 0.0
        self._seen_records = 0
        self._drawn_revision = -1
        self._checked_at = 0.0
        self._code_since = 0.0
        self._status_text = ""
        self._status_state = ""
        self._step_text: str | None = None
        self._shown: dict[str, str | Text] = {}
        self._shown_response: object = _NOTHING_SHOWN
        self._status_at = 0.0
        self._logged_records = 0
        load_panels()
        self.panels: list[Widget] = [
            cls(id=cls.__name__.lower())
            for cls in PANELS
            if cls.applies(session)  # type: ignore[attr-defined]
        ]
        self._event_names = {
            render.json_text(v): k for k, v in lesson.lab.events.items()
        }

    # -- layout ----------------------------------------------------------------------

    @property
    def lab_app(self) -> LambdaLabApp:
        from lambdalab.ui.app import LambdaLabApp

        assert isinstance(self.app, LambdaLabApp)
        return self.app

    @property
    def step(self) -> Step:
        return self.lesson.steps[self.step_index]

    @property
    def function(self) -> str:
        return self.lesson.lab.functions[self.function_index].name

    @property
    def event(self) -> str:
        return self.session.event_names[self.event_index]

    def compose(self) -> ComposeResult:
        yield Header(icon="λ")
        with Horizontal(id="body"):
            with Vertical(id="lesson-pane"):
                yield Static(id="step-title")
                with _PaneScroll(id="text-scroll"):
                    yield Markdown(id="step-text")
                yield Static(MORE_BELOW, id="text-more")
                with _PaneScroll(id="task-area"):
                    yield Static(id="predict", classes="box")
                    yield Input(
                        id="predict-input",
                        placeholder="type a number, then enter",
                        type="number",
                        select_on_focus=False,
                        compact=True,
                    )
                    yield Static(id="checks", classes="box")
                    yield Static(id="hints")
            with Vertical(id="lab-pane"):
                yield Static(id="task-line")
                yield Static(id="lab-status")
                with TabbedContent(
                    id="lab-tabs", classes="" if self.panels else "single"
                ):
                    with TabPane("Lab", id="tab-lab"):
                        yield Static(id="function-line")
                        yield Static(id="envs")
                        yield Static(id="numbers")
                        yield Static(id="invocations")
                        yield Static(id="response", classes="box")
                        yield _LogStream(id="log", max_lines=400)
                    for panel in self.panels:
                        with TabPane(type(panel).TAB_TITLE, id=f"tab-{panel.id}"):  # type: ignore[attr-defined]
                            yield panel
        yield _LessonFooter(show_command_palette=False)

    def on_mount(self) -> None:
        # Looked up once: draw_lab runs 20 times a second.
        self._log = self.query_one("#log", _LogStream)
        self._tabs = self.query_one("#lab-tabs", TabbedContent)
        self._text_scroll = self.query_one("#text-scroll", _PaneScroll)
        self._task_area = self.query_one("#task-area", _PaneScroll)
        self._status = self.query_one("#lab-status", Static)
        self._envs = self.query_one("#envs", Static)
        self._invocations = self.query_one("#invocations", Static)
        self._response = self.query_one("#response", Static)
        self.title = self.lesson.title
        self._log.border_title = "log stream"
        self._response.border_title = "latest synchronous response"
        self._invocations.border_title = "invocations"
        self.query_one("#checks", Static).border_title = "task"
        self.query_one("#predict", Static).border_title = "predict, then run"
        self.show_step()
        if self.live:
            self._last_tick = time.monotonic()
            self._timer = self.set_interval(TICK_S, self.tick)
        self.draw_lab()

    def on_resize(self) -> None:
        # The app sets or clears "narrow" on the same resize: look once it has.
        self.call_after_refresh(self._redraw_for_size)

    def _redraw_for_size(self) -> None:
        """What is drawn to fit the width: the step line, the task line, the lab."""
        self.draw_title()
        self._drawn_revision = -1  # the task line says "v" only when narrow
        self.draw_lab(force=True)

    def on_screen_suspend(self) -> None:
        # Textual keeps timers of a hidden screen running (PITFALLS R39).
        if self._timer is not None:
            self._timer.pause()

    def on_screen_resume(self) -> None:
        if self._timer is not None:
            self._last_tick = time.monotonic()
            self._timer.resume()
        self.draw_lab()

    def on_unmount(self) -> None:
        self.session.close()

    # -- time ------------------------------------------------------------------------

    def tick(self) -> None:
        """Move virtual time for the real time that passed, then redraw what changed."""
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        self.run_lab(self.pacer.advance(elapsed), elapsed)
        self.draw_lab()

    def run_lab(self, virtual_ms: float, real_elapsed_s: float = 0.0) -> None:
        """Advance the lab; handler code that loops forever only delays virtual time."""
        service = self.session.service
        waiting = service.waiting_on_code
        try:
            service.run(
                until_ms=service.now_ms + virtual_ms,
                wait_s=WAIT_FOR_CODE_S if waiting else 0.0,
                credit_s=real_elapsed_s if waiting else 0.0,
            )
        except LambdaLabError as exc:
            self.notify(str(exc), title="The lab stopped", severity="error")

    def action_step_once(self) -> None:
        """Run exactly the next thing that happens in the lab."""
        service = self.session.service
        nxt = service.loop.peek()
        if service.waiting_on_code:
            service.run(until_ms=service.now_ms, wait_s=None)
        elif nxt is None:
            self.notify("Nothing is scheduled: the lab is idle.", timeout=ROUTINE_S)
        else:
            service.run(until_ms=nxt)
        self.draw_lab(force=True)

    def action_skip_minute(self) -> None:
        """Jump one virtual minute ahead, running everything that falls due on the way.

        Handler code met on the way is waited for (each call within the wall guard).
        """
        service = self.session.service
        try:
            service.run(until_ms=service.now_ms + 60_000.0, wait_s=None)
        except LambdaLabError as exc:
            self.notify(str(exc), title="The lab stopped", severity="error")
        self.draw_lab(force=True)

    def action_pause(self) -> None:
        if not self.live:
            self._nothing("space", "in step mode the clock stands still; . steps")
            return
        self.pacer.paused = not self.pacer.paused
        if self._timer is not None:
            # A paused lab with no code running has nothing to draw: stop ticking.
            if self.pacer.paused and not self.session.service.waiting_on_code:
                self._timer.pause()
            else:
                self._last_tick = time.monotonic()
                self._timer.resume()
        self.draw_lab(force=True)

    def action_faster(self) -> None:
        before = self.pacer.speed
        if self.pacer.faster() == before:
            self._nothing("+", f"{self.pacer.speed:g}x is the fastest")
        self.draw_lab(force=True)

    def action_slower(self) -> None:
        before = self.pacer.speed
        if self.pacer.slower() == before:
            self._nothing("-", f"{self.pacer.speed:g}x is the slowest")
        self.draw_lab(force=True)

    def _nothing(self, key: str, why: str) -> None:
        """Say briefly why a key did nothing: a silent key looks broken."""
        self.notify(f"[b]{literal(key)}[/b]: {why}.", timeout=ROUTINE_S, markup=True)

    # -- lab actions -----------------------------------------------------------------

    def _prediction_pending(self) -> bool:
        predict = self.step.predict
        if predict is None or self.step.id in self.session.answers:
            return False
        how = (
            f"press 1-{len(predict.choices)} for your choice"
            if predict.choices
            else "type a number and press enter"
        )
        self.notify(f"Commit to a prediction first: {how}.", title="Predict, then run")
        return True

    def action_invoke(self, kind: str) -> None:
        if self._prediction_pending():
            return
        try:
            inv = self.session.invoke(
                self.function, self.event, "async" if kind == "async" else "sync"
            )
        except LambdaLabError as exc:
            self.notify(str(exc), title="Invoke refused", severity="error")
            return
        self.add_class("show-lab")
        if inv.response is not None and inv.response.status_code == 429:
            self.notify(
                f"429 TooManyRequestsException: {inv.throttle_reason}",
                severity="warning",
            )
        self.draw_lab(force=True)

    def _focus_shown_tab(self) -> None:
        """Give the keys back to the tab on show: its panel, or the lesson itself."""
        active = self.query_one("#lab-tabs", TabbedContent).active
        panel = next((p for p in self.panels if f"tab-{p.id}" == active), None)
        if panel is not None:
            panel.focus()
        else:
            self.set_focus(None)

    def action_tab(self, direction: int) -> None:
        """Show the next (or previous) tab of the lab."""
        if not self.panels:
            key = "]" if direction > 0 else "["
            self._nothing(key, "this lab has no other tabs")
            return
        tabs = self._tabs
        ids = ["tab-lab", *[f"tab-{p.id}" for p in self.panels]]
        current = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(current + direction) % len(ids)]

    def action_toggle_view(self) -> None:
        """In a narrow terminal, switch between the lesson text and the lab."""
        if not self.has_class("narrow"):
            self._nothing(
                "v", "the lesson text and the lab are both shown at this width"
            )
            return
        self.toggle_class("show-lab")

    def action_settings(self) -> None:
        """Open the function's configuration (memory, timeout, concurrency, retries)."""
        from lambdalab.ui.screens.settings import SettingsScreen

        def apply(key: str, value: object) -> None:
            self.session.configure(self.function, key, value)
            name = AWS_SETTING_NAMES.get(key, key)  # the dialog's and Lambda's name
            self.notify(
                f"{self.function}: {name} = {value}",
                title="Configuration updated",
                timeout=ROUTINE_S,
            )

        config = self.session.service.function(self.function)
        self.app.push_screen(
            SettingsScreen(config, apply), lambda _: self.draw_lab(force=True)
        )

    def action_burst(self, kind: str) -> None:
        """Fire the lesson's burst of requests at once, to see concurrency and throttling."""
        if self._prediction_pending():
            return
        count = self.lesson.lab.burst
        invs = self.session.burst(
            self.function, self.event, "async" if kind == "async" else "sync", count
        )
        throttled = sum(
            1 for i in invs if i.response is not None and i.response.status_code == 429
        )
        self.add_class("show-lab")
        self.notify(
            f"{count} {'asynchronous' if kind == 'async' else 'synchronous'} requests sent at once"
            + (f"; {throttled} got 429 TooManyRequestsException" if throttled else ""),
            title="Burst",
            timeout=ROUTINE_S,
        )
        self.draw_lab(force=True)

    def action_next_event(self) -> None:
        names = self.session.event_names
        if len(names) == 1:
            self._nothing("e", f"this lab has one event, {names[0]}")
            return
        self.event_index = (self.event_index + 1) % len(names)
        if self.has_class("narrow") and not self.has_class("show-lab"):
            payload = render.json_text(self.lesson.lab.events[self.event])
            self.notify(f"{self.event}: {payload[:60]}", title="Next event", timeout=3)
        self.draw_lab(force=True)

    def action_scroll_text(self, pages: int) -> None:
        """Page the lesson text up or down without leaving the lab; in a narrow
        terminal showing only the lab, page the log."""
        if self.has_class("narrow") and self.has_class("show-lab"):
            self.action_scroll_log(pages, page=True)
            return
        # One pane to page through: the text, then what the task area hides.
        text, task = self._text_scroll, self._task_area
        if pages > 0:
            (text if text.more_below else task).scroll_page_down(animate=False)
        else:
            (task if round(task.scroll_y) > 0 else text).scroll_page_up(animate=False)

    def action_scroll_log(self, lines: int, page: bool = False) -> None:
        """Scroll the log stream by lines or pages; in a narrow terminal showing only
        the lesson text, scroll the text."""
        if self.has_class("narrow") and not self.has_class("show-lab"):
            text = self._text_scroll
            height = text.scrollable_content_region.height
            text.scroll_relative(
                y=lines * (max(1, height - 1) if page else 1), animate=False
            )
            return
        log = self._log
        if self._tabs.active != "tab-lab":
            self._nothing("↑↓" if not page else "shift+↑↓", "the log is on the Lab tab")
            return
        height = log.scrollable_content_region.height
        log.scroll_lines(lines * (max(1, height - 1) if page else 1))

    def action_log_end(self, end: bool) -> None:
        """Jump to the newest log line and follow new ones (or to the oldest)."""
        if self._tabs.active != "tab-lab":
            self._nothing("end" if end else "home", "the log is on the Lab tab")
            return
        self._log.follow(end)

    def action_next_function(self) -> None:
        functions = self.lesson.lab.functions
        if len(functions) == 1:
            self._nothing("f", f"this lab has one function, {functions[0].name}")
            return
        self.function_index = (self.function_index + 1) % len(self.lesson.lab.functions)
        self.draw_lab(force=True)

    def action_reset_lab(self) -> None:
        self.session.reset()
        self._seen_records = 0
        self._logged_records = 0
        self._log.clear()
        self.notify(
            "The lab starts again: no environments, no invocations.", timeout=ROUTINE_S
        )
        self.draw_lab(force=True)

    def action_edit_code(self) -> None:
        function = self.lesson.lab.functions[self.function_index]
        editable = [f for f in self.lesson.lab.functions if f.editable and f.handler]
        if not editable:
            self._nothing("c", "this lesson has no code to edit")
            return
        target = function if function in editable else editable[0]
        assert target.handler is not None
        file = target.handler.split(":")[0]
        from lambdalab.ui.screens.editor import EditorScreen

        try:
            code = self.session.code(file)
        except LambdaLabError as exc:  # not UTF-8, unreadable: the message names it
            self.notify(str(exc), title=f"Cannot open {file}", severity="error")
            return
        self.app.push_screen(EditorScreen(file, code, self._save_code))

    def _save_code(self, file: str, text: str) -> None:
        self.session.save_code(file, text)
        self.notify(
            f"{file} saved. Like a deployment, the next request starts a new execution environment.",
            title="Code updated",
            timeout=ROUTINE_S,
        )

    # -- lesson flow -----------------------------------------------------------------

    def show_step(self) -> None:
        """Draw the current step: text, prediction, task and hints."""
        self.remove_class("show-lab")
        total = len(self.lesson.steps)
        self.state.step = self.step_index
        self.lab_app.save_progress()
        self.sub_title = f"step {self.step_index + 1} of {total}"
        self.draw_title()
        self.query_one("#predict-input", Input).value = ""
        self.draw_text()
        self._text_scroll.scroll_home(animate=False)
        self._task_area.scroll_home(animate=False)
        self.draw_predict()
        self.draw_checks()
        self.draw_hints()

    def draw_title(self) -> None:
        """The step line: where the learner is, tasks done, the keys to move on."""
        total = len(self.lesson.steps)
        tasks = sum(1 for s in self.lesson.steps if s.checks)
        done = sum(
            1 for s in self.lesson.steps if s.checks and s.id in self.state.passed_steps
        )
        progress = f"{done}/{tasks} tasks done · " if tasks else ""
        moves = "n next · p back · " if total > 1 else ""
        if self.has_class("narrow"):
            moves += "v lab · "
        self.query_one("#step-title", Static).update(
            f"[b]Step {self.step_index + 1} of {total}[/b]  "
            f"[dim]{progress}{moves}h hint · F1 help[/dim]"
        )

    def draw_text(self) -> None:
        """The step's Markdown; what follows the reveal marker waits for the prediction."""
        text = self.step.text
        if REVEAL_MARKER in text:
            before, after = text.split(REVEAL_MARKER, 1)
            if (
                self.step.predict is not None
                and self.step.id not in self.session.answers
            ):
                text = (
                    before
                    + "\n*The rest of this step appears once you commit to a prediction.*\n"
                )
            else:
                text = before + after
        if text == self._step_text:
            return  # a Markdown update parses and mounts every block again
        self._step_text = text
        self.query_one("#step-text", Markdown).update(text)

    def draw_predict(self) -> None:
        predict = self.step.predict
        box = self.query_one("#predict", Static)
        field = self.query_one("#predict-input", Input)
        box.display = predict is not None
        field.display = False
        if predict is None:
            return
        answered = self.session.answers.get(self.step.id)
        if (
            answered is not None
            and predict.choices
            and not 0 <= int(answered) < len(predict.choices)
        ):
            # A saved answer from another version of the lesson: ask again.
            self.session.answers.pop(self.step.id, None)
            self.state.predictions.pop(self.step.id, None)
            answered = None
        lines = [f"[b]{predict.question}[/b]"]
        if answered is None:
            if predict.choices:
                box.update(
                    Group(
                        Text.from_markup(lines[0]),
                        render.choice_list(predict.choices),
                        Text.from_markup(
                            "[dim]Press the number of your answer to unlock the "
                            "lab.[/dim]"
                        ),
                    )
                )
                return
            else:
                field.display = True
                lines.append(
                    "[dim]Type your number (digits start the box), then enter.[/dim]"
                )
        else:
            shown = (
                predict.choices[int(answered)] if predict.choices else f"{answered:g}"
            )
            lines.append(f"You predicted: [b]{shown}[/b]")
            if self.step.id in self.state.passed_steps or not self.step.checks:
                verdict = (
                    "[green]Right.[/green]"
                    if predict.is_right(answered)
                    else "[yellow]Not quite.[/yellow]"
                )
                lines.append(f"{verdict} {predict.explain}")
            else:
                lines.append("[dim]Now run the lab and see.[/dim]")
        box.update("\n".join(lines))

    def action_answer(self, number: int) -> None:
        predict = self.step.predict
        if predict is None:
            self._nothing(str(number), "this step asks for no prediction")
            return
        if self.step.id in self.session.answers:
            self._nothing(str(number), "your prediction for this step is in")
            return
        if not predict.choices:
            field = self.query_one("#predict-input", Input)
            if self.focused is field:
                # Typed in one run with the first digit, before the box had the
                # focus: this digit follows it.
                field.insert_text_at_cursor(str(number))
                return
            field.value = str(number)
            field.cursor_position = len(field.value)
            # At once, not after the keys already queued: enter must find the box.
            self.set_focus(field)
            return
        if not 1 <= number <= len(predict.choices):
            self.notify(f"Choose 1 to {len(predict.choices)}.", timeout=ROUTINE_S)
            return
        self._commit(number - 1)

    def on_key(self, event: events.Key) -> None:
        """A number typed in one run with enter: every key reaches the box, in order.

        A terminal hands over a fast run of keys at once; they are all queued for
        the screen before the first digit's binding has shown the box, so the rest
        would run lesson keys (. steps time) instead of being typed. A printable key
        reaching the screen while the box has the focus is such a key (the box
        keeps those it gets itself).
        """
        predict = self.step.predict
        if predict is None or predict.choices or self.step.id in self.session.answers:
            return
        field = self.query_one("#predict-input", Input)
        if self.focused is not field:
            if event.character is not None and event.character.isdigit():
                event.stop()
                event.prevent_default()
                self.action_answer(int(event.character))
        elif event.is_printable and event.character is not None:
            event.stop()
            event.prevent_default()
            field.insert_text_at_cursor(event.character)
        elif event.key == "enter":
            event.stop()
            event.prevent_default()
            self._numeric_answer(field.value)

    @on(Input.Submitted, "#predict-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self._numeric_answer(event.value)

    def _numeric_answer(self, typed: str) -> None:
        try:
            value = float(typed)
        except ValueError:
            self.notify(
                f"{typed!r} is not a number; type digits, e.g. 2.",
                severity="warning",
            )
            return
        self._commit(int(value) if value.is_integer() else value)
        self._focus_shown_tab()

    def _commit(self, value: float | int) -> None:
        self.session.answer(self.step.id, value)
        self.state.predictions[self.step.id] = value
        self.lab_app.save_progress()
        self.draw_text()
        self.draw_predict()
        self.draw_checks()

    def draw_checks(self) -> None:
        """Evaluate the step's task (watch mode) and show each check with its reason."""
        step = self.step
        box = self.query_one("#checks", Static)
        pending = step.predict is not None and step.id not in self.session.answers
        # While the prediction waits, its box says what to do: the task box would
        # only push the end of the lesson text out of sight.
        box.display = not (pending and step.checks)
        if not step.checks:
            box.update("[dim]Nothing to do here: read, then press n.[/dim]")
            self._task_line("[dim]No task in this step: read, then press n[/dim]")
            return
        if pending:
            # The checks' goals would give the prediction away: show them after it.
            self._task_line("[b]Predict first:[/b] the question is in the lesson text")
            self._record_passes()
            return
        results = self.session.evaluate(step)
        if step.id in self.state.passed_steps and not all(r.passed for r in results):
            box.update(
                "[green]✔ You completed this task earlier.[/green] [dim]The lab has started "
                "afresh; do it again if you like, or press n.[/dim]"
            )
            self._task_line("[green]✔ Task done earlier:[/green] press n to go on")
            return
        done = sum(r.passed for r in results)
        first_open = next((r for r in results if not r.passed), None)
        if first_open is None:
            # In place of a toast, which would cover the newest log lines.
            self._task_line("[b]✔ Step done:[/b] press n to go on", done=True)
        else:
            self._task_line(
                f"[b]Task {done}/{len(results)}[/b] [red]✘[/red] "
                f"{literal(first_open.check.goal)}"
            )
        lines = []
        for result in results:
            if result.passed:
                lines.append(f"[green]✔[/green] {literal(result.check.goal)}")
            else:
                lines.append(
                    f"[red]✘[/red] {literal(result.check.goal)}\n"
                    f"  [dim]{literal(result.detail)}[/dim]"
                )
        if all(r.passed for r in results):
            last = self.step_index == len(self.lesson.steps) - 1
            then = "the recap" if last else "the next step"
            lines.append(f"\n[b green]Step done.[/b green] Press [b]n[/b] for {then}.")
        box.update("\n".join(lines))
        self._record_passes()

    def _record_passes(self) -> None:
        newly = sorted(self.session.passed_steps() - set(self.state.passed_steps))
        if not newly:
            return
        self.state.passed_steps.extend(newly)
        self.draw_title()
        if self.step.id in newly:
            self.draw_predict()
        tasks = {s.id for s in self.lesson.steps if s.checks}
        if tasks <= set(self.state.passed_steps) and not self.state.completed:
            self.state.completed = True
            self.notify(
                "Every task is done. On the last step, press n for the recap; escape "
                "there takes you to the next lesson.",
                title=f"Lesson complete: {self.lesson.title}",
            )
        self.lab_app.save_progress()

    def _task_line(self, markup: str, *, done: bool = False) -> None:
        """The step's task in one line above the lab; green once it is done."""
        if self.has_class("narrow"):
            markup += "  [dim](v: lesson text)[/dim]"
        line = self.query_one("#task-line", Static)
        line.set_class(done, "done")
        line.update(markup)

    def draw_hints(self) -> None:
        used = self.state.hints_used.get(self.step.id, 0)
        hints = self.step.hints[:used]
        text = "\n".join(f"[b]Hint {i}:[/b] {h}" for i, h in enumerate(hints, 1))
        remaining = len(self.step.hints) - used
        if remaining > 0:
            text += (
                "\n" if text else ""
            ) + f"[dim]{plural(remaining, 'hint')} left: press h.[/dim]"
        if self.state.completed and self.step_index == len(self.lesson.steps) - 1:
            text += (
                "\n\n"
                + "[b green]Lesson complete.[/b green] Press n for the recap and the next lesson."
            )
        self.query_one("#hints", Static).update(text)
        self.query_one("#hints", Static).display = bool(text)

    def action_hint(self) -> None:
        used = self.state.hints_used.get(self.step.id, 0)
        if used >= len(self.step.hints):
            self.notify(
                "No more hints for this step. The solution is on s.", timeout=ROUTINE_S
            )
            return
        self.state.hints_used[self.step.id] = used + 1
        self.lab_app.save_progress()
        self.draw_hints()
        self.query_one("#hints", Static).scroll_visible()

    def action_next_step(self) -> None:
        if self.step_index < len(self.lesson.steps) - 1:
            self.step_index += 1
            self.show_step()
            return
        if self.state.completed:
            self.lab_app.finish_lesson(self.lesson)
        else:
            todo = [
                s.title
                for s in self.lesson.steps
                if s.checks and s.id not in self.state.passed_steps
            ]
            self.notify("Still to do: " + "; ".join(todo), title="Not finished yet")

    def action_previous_step(self) -> None:
        if self.step_index == 0:
            self._nothing("p", "this is the first step")
            return
        self.step_index -= 1
        self.show_step()

    def action_solution(self) -> None:
        from lambdalab.ui.screens.dialogs import ConfirmScreen, PageScreen

        def show(confirmed: bool | None = True) -> None:
            if confirmed:
                self.state.solution_seen = True
                self.lab_app.save_progress()
                self.app.push_screen(
                    PageScreen("Reference solution", self.lesson.solution_text)
                )

        if self.state.completed or self.state.solution_seen:
            show()
        else:
            self.app.push_screen(
                ConfirmScreen(
                    "Show the reference solution? Working it out teaches more; the hints (h) "
                    "go step by step.",
                    yes="Show it",
                    no="Keep trying",
                ),
                show,
            )

    def action_leave(self) -> None:
        self.app.pop_screen()

    # -- drawing the lab -------------------------------------------------------------

    def draw_lab(self, force: bool = False) -> None:
        """Redraw the lab from the service; cheap when nothing changed."""
        session = self.session
        service = session.service
        records = service.trace.count
        log = self._log
        # Lines are written only once the log is laid out on screen: a hidden log (an
        # other tab, or the lesson text in a narrow terminal) would wrap them at its
        # minimum width. They catch up on the first frame that shows it.
        log_shown = log.region.width > 0 and self._tabs.active == "tab-lab"
        changed = (
            force
            or records != self._seen_records
            or session.revision != self._drawn_revision
            or (log_shown and records != self._logged_records)
        )
        self._draw_status()
        if not changed:
            return
        self._seen_records = records
        if log_shown:
            for record in service.trace.since(self._logged_records):
                if record.kind == "log":
                    log.add(render.log_line(record.time_ms, record.data["message"]))
            self._logged_records = records
        narrow = self.has_class("narrow")
        width = max(20, self._envs.size.width or 60)
        self._put("#function-line", self._function_line(width, narrow))
        self._put(
            "#envs", render.environments(service.environments[self.function], width)
        )
        self._put(
            "#numbers",
            render.numbers(service, session.metrics, self.function, width),
        )
        self._invocations.update(
            render.invocation_rows(
                session.history,
                service,
                self._event_names,
                limit=2 if narrow else 6,
                width=max(20, self._invocations.content_region.width or width),
            )
        )
        latest: Invocation | None = next(
            (
                i
                for i in reversed(session.history)
                if i.invocation_type == "RequestResponse"
            ),
            None,
        )
        shown = None if latest is None else (latest.request_id, latest.response, narrow)
        if shown != self._shown_response:  # a Group cannot be compared
            self._shown_response = shown
            self._response.update(
                render.response_view(latest, max_lines=2 if narrow else 5)
            )
        for panel in self.panels:
            panel.refresh_lab(session)  # type: ignore[attr-defined]
        due = force or time.monotonic() - self._checked_at >= CHECK_EVERY_S
        if session.revision != self._drawn_revision and due:
            self._drawn_revision = session.revision
            self._checked_at = time.monotonic()
            self.draw_checks()

    def _function_line(self, width: int, narrow: bool) -> Text:
        """The function, its settings and the next event: one line when narrow."""
        config = self.session.service.functions[self.function]
        reserved = (
            "none"
            if config.reserved_concurrency is None
            else str(config.reserved_concurrency)
        )
        line = Text.assemble(
            (f"λ {self.function}", "bold"),
            (
                f"  {config.memory_mb} MB · "
                + (
                    f"{config.timeout_s} s"
                    if narrow
                    else f"timeout {config.timeout_s} s"
                )
                + f" · reserved {reserved}",
                "dim",
            ),
            "  " if narrow else "\n",
            ("event " if narrow else "next event ", ""),
            (f" {self.event} ", "bold reverse"),
        )
        hint = " (e)" if narrow else "  (e changes)"
        room = width - len(line.plain.rsplit("\n", 1)[-1]) - len(hint) - 1
        if room <= 0 and narrow:
            return line
        payload = render.json_text(self.lesson.lab.events[self.event])
        if len(payload) > max(room, 0):
            payload = payload[: max(room - 1, 0)] + "…"
        line.append(f" {payload}{hint}", "dim")
        return line

    def _put(self, selector: str, content: str | Text) -> None:
        """Update a Static only when what it shows changed: each update lays out the
        whole screen again, and most redraws change only some of the lab's views."""
        if self._shown.get(selector) == content:
            return
        self._shown[selector] = content
        self.query_one(selector, Static).update(content)

    def _draw_status(self) -> None:
        """The one-line status: the clock's state and speed, virtual time, and the
        virtual wall clock, its date and the note on running code left out first
        when the line would not fit."""
        service = self.session.service
        note = ""
        if not service.waiting_on_code:
            self._code_since = 0.0
        if service.waiting_on_code:
            if not self._code_since:
                self._code_since = time.monotonic()
            waited = time.monotonic() - self._code_since
            state = "[b cyan]⧗ running handler code[/b cyan]"
            if waited >= 0.5:
                note = f" [dim]{waited:.1f} s (an endless loop times out)[/dim]"
        elif self.pacer.paused or not self.live:
            state = (
                "[b yellow]❚❚ paused[/b yellow]"
                if self.live
                else "[b yellow]❚❚ step mode[/b yellow]"
            )
        else:
            state = "[b green]▶ running[/b green]"
        now = time.monotonic()
        # The clock alone changes 20 times a second; drawing it 4 times is enough.
        due = (
            not self.live
            or state != self._status_state
            or now - self._status_at >= 0.25
        )
        if not due:
            return
        speed = f"  [b]{self.pacer.speed:g}x[/b]"
        elapsed = render.elapsed_text(service.now_ms)
        wall = render.clock_text(service)
        width = self._status.content_region.width or 200
        variants = (
            f"{state}{note}{speed}  virtual time {elapsed}  [dim]{wall}[/dim]",
            f"{state}{note}{speed}  virtual time {elapsed}  [dim]{wall[11:]}[/dim]",
            f"{state}{note}{speed}  virtual time {elapsed}",
            f"{state}{speed}  virtual time {elapsed}  [dim]{wall[11:]}[/dim]",
            f"{state}{speed}  virtual time {elapsed}",
            f"{state}{speed}  {elapsed}",
        )
        text = next(
            (v for v in variants if Text.from_markup(v).cell_len <= width),
            variants[-1],
        )
        if text != self._status_text:
            self._status_text = text
            self._status_state = state
            self._status_at = now
            # One line high (lesson.tcss): a new clock needs no layout pass.
            self._status.update(text, layout=False)
