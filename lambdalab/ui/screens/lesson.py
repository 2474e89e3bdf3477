"""A lesson: its text, prediction, task and hints beside the live lab."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.text import Text
from textual import on
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


class _LogStream(RichLog):
    """The log stream; when it comes into view, the lab writes the lines it held back."""

    def on_show(self) -> None:
        screen = self.screen
        if isinstance(screen, LessonScreen):
            self.call_after_refresh(screen.draw_lab)


class LessonScreen(Screen[None]):
    """The lesson text on the left, the live lab on the right."""

    CSS_PATH = "lesson.tcss"

    BINDINGS = [
        Binding("i", "invoke('sync')", "Invoke"),
        Binding("a", "invoke('async')", "Async"),
        Binding("e", "next_event", "Event"),
        Binding("space", "pause", "Pause"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
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
                with VerticalScroll(id="text-scroll"):
                    yield Markdown(id="step-text")
                with VerticalScroll(id="task-area"):
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
                        yield _LogStream(
                            id="log", max_lines=400, wrap=True, min_width=20
                        )
                    for panel in self.panels:
                        with TabPane(type(panel).TAB_TITLE, id=f"tab-{panel.id}"):  # type: ignore[attr-defined]
                            yield panel
        yield _LessonFooter()

    def on_mount(self) -> None:
        self.title = self.lesson.title
        self.query_one("#log", RichLog).border_title = "log stream"
        self.query_one("#response", Static).border_title = "latest synchronous response"
        self.query_one("#invocations", Static).border_title = "invocations"
        self.query_one("#checks", Static).border_title = "task"
        self.query_one("#predict", Static).border_title = "predict, then run"
        self.show_step()
        if self.live:
            self._last_tick = time.monotonic()
            self._timer = self.set_interval(TICK_S, self.tick)
        self.draw_lab()

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
            self.notify("Nothing is scheduled: the lab is idle.")
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
        self.pacer.faster()
        self.draw_lab(force=True)

    def action_slower(self) -> None:
        self.pacer.slower()
        self.draw_lab(force=True)

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
        tabs = self.query_one("#lab-tabs", TabbedContent)
        ids = ["tab-lab", *[f"tab-{p.id}" for p in self.panels]]
        current = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(current + direction) % len(ids)]

    def action_toggle_view(self) -> None:
        """In a narrow terminal, switch between the lesson text and the lab."""
        self.toggle_class("show-lab")

    def action_settings(self) -> None:
        """Open the function's configuration (memory, timeout, concurrency, retries)."""
        from lambdalab.ui.screens.settings import SettingsScreen

        def apply(key: str, value: object) -> None:
            self.session.configure(self.function, key, value)
            self.notify(
                f"{self.function}: {key} = {value}", title="Configuration updated"
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
        )
        self.draw_lab(force=True)

    def action_next_event(self) -> None:
        self.event_index = (self.event_index + 1) % len(self.session.event_names)
        if self.has_class("narrow") and not self.has_class("show-lab"):
            payload = render.json_text(self.lesson.lab.events[self.event])
            self.notify(f"{self.event}: {payload[:60]}", title="Next event", timeout=3)
        self.draw_lab(force=True)

    def action_scroll_text(self, pages: int) -> None:
        """Page the lesson text up or down without leaving the lab."""
        scroll = self.query_one("#text-scroll", VerticalScroll)
        if pages > 0:
            scroll.scroll_page_down()
        else:
            scroll.scroll_page_up()

    def action_next_function(self) -> None:
        self.function_index = (self.function_index + 1) % len(self.lesson.lab.functions)
        self.draw_lab(force=True)

    def action_reset_lab(self) -> None:
        self.session.reset()
        self._seen_records = 0
        self._logged_records = 0
        self.query_one("#log", RichLog).clear()
        self.notify("The lab starts again: no environments, no invocations.")
        self.draw_lab(force=True)

    def action_edit_code(self) -> None:
        function = self.lesson.lab.functions[self.function_index]
        editable = [f for f in self.lesson.lab.functions if f.editable and f.handler]
        if not editable:
            self.notify("This lesson has no code to edit.")
            return
        target = function if function in editable else editable[0]
        assert target.handler is not None
        file = target.handler.split(":")[0]
        from lambdalab.ui.screens.editor import EditorScreen

        self.app.push_screen(
            EditorScreen(file, self.session.code(file), self._save_code)
        )

    def _save_code(self, file: str, text: str) -> None:
        self.session.save_code(file, text)
        self.notify(
            f"{file} saved. Like a deployment, the next request starts a new execution environment.",
            title="Code updated",
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
        self.query_one("#text-scroll", VerticalScroll).scroll_home(animate=False)
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
                lines.extend(
                    f" {n}) {choice}" for n, choice in enumerate(predict.choices, 1)
                )
                lines.append(
                    "[dim]Press the number of your answer to unlock the lab.[/dim]"
                )
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
        if predict is None or self.step.id in self.session.answers:
            return
        if not predict.choices:
            field = self.query_one("#predict-input", Input)
            field.value = str(number)
            field.focus()
            field.cursor_position = len(field.value)
            return
        if not 1 <= number <= len(predict.choices):
            self.notify(f"Choose 1 to {len(predict.choices)}.")
            return
        self._commit(number - 1)

    @on(Input.Submitted, "#predict-input")
    def _numeric_answer(self, event: Input.Submitted) -> None:
        try:
            value = float(event.value)
        except ValueError:
            self.notify(
                f"{event.value!r} is not a number; type digits, e.g. 2.",
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
        if not step.checks:
            box.update("[dim]Nothing to do here: read, then press n.[/dim]")
            self.query_one("#task-line", Static).update(
                "[dim]No task in this step (v: lesson text)[/dim]"
            )
            return
        if step.predict is not None and step.id not in self.session.answers:
            # The checks' goals would give the prediction away: show them after it.
            box.update(
                "[dim]Commit to your prediction first; the task appears here.[/dim]"
            )
            self.query_one("#task-line", Static).update(
                "[b]Predict first:[/b] the question is with the lesson text (v)"
            )
            self._record_passes()
            return
        results = self.session.evaluate(step)
        if step.id in self.state.passed_steps and not all(r.passed for r in results):
            box.update(
                "[green]✔ You completed this task earlier.[/green] [dim]The lab has started "
                "afresh; do it again if you like, or press n.[/dim]"
            )
            self.query_one("#task-line", Static).update(
                "[green]✔ task done earlier: press n[/green]  [dim](v: lesson text)[/dim]"
            )
            return
        done = sum(r.passed for r in results)
        first_open = next((r for r in results if not r.passed), None)
        summary = (
            "[green]✔ task done: press n[/green]"
            if first_open is None
            else f"[red]✘[/red] {first_open.check.goal}"
        )
        self.query_one("#task-line", Static).update(
            f"[b]Task {done}/{len(results)}[/b] {summary}  [dim](v: lesson text)[/dim]"
        )
        lines = []
        for result in results:
            if result.passed:
                lines.append(f"[green]✔[/green] {result.check.goal}")
            else:
                lines.append(
                    f"[red]✘[/red] {result.check.goal}\n  [dim]{result.detail}[/dim]"
                )
        if all(r.passed for r in results):
            lines.append(
                "\n[b green]Step done.[/b green] Press [b]n[/b] for the next step."
            )
        box.update("\n".join(lines))
        self._record_passes()

    def _record_passes(self) -> None:
        newly = sorted(self.session.passed_steps() - set(self.state.passed_steps))
        if not newly:
            return
        self.state.passed_steps.extend(newly)
        self.draw_title()
        if self.step.id in newly:
            self.notify(
                "Step done! Press n to go on.", title="✔ " + self.step.title, timeout=4
            )
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
            self.notify("No more hints for this step. The solution is on s.")
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
        if self.step_index > 0:
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
        log = self.query_one("#log", RichLog)
        # Lines are written only once the log is laid out on screen: a hidden log (an
        # other tab, or the lesson text in a narrow terminal) would wrap them at its
        # minimum width for good. They catch up on the first frame that shows it.
        log_shown = (
            log.region.width > 0
            and self.query_one("#lab-tabs", TabbedContent).active == "tab-lab"
        )
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
                    log.write(render.log_line(record.time_ms, record.data["message"]))
            self._logged_records = records
        width = max(20, self.query_one("#envs", Static).size.width or 60)
        config = service.functions[self.function]
        reserved = (
            "none"
            if config.reserved_concurrency is None
            else str(config.reserved_concurrency)
        )
        self._put(
            "#function-line",
            f"[b]λ {self.function}[/b]  [dim]{config.memory_mb} MB · timeout "
            f"{config.timeout_s} s · reserved {reserved}[/dim]\n"
            f"next event [b reverse] {self.event} [/b reverse] "
            f"[dim]{escape(render.json_text(self.lesson.lab.events[self.event])[:40])}  (e changes)[/dim]",
        )
        self._put(
            "#envs", render.environments(service.environments[self.function], width)
        )
        self._put("#numbers", render.numbers(service, session.metrics, self.function))
        self.query_one("#invocations", Static).update(
            render.invocation_rows(
                session.history,
                service,
                self._event_names,
                limit=3 if self.has_class("narrow") else 6,
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
        shown = None if latest is None else (latest.request_id, latest.response)
        if shown != self._shown_response:  # a Group cannot be compared
            self._shown_response = shown
            self.query_one("#response", Static).update(render.response_view(latest))
        for panel in self.panels:
            panel.refresh_lab(session)  # type: ignore[attr-defined]
        due = force or time.monotonic() - self._checked_at >= CHECK_EVERY_S
        if session.revision != self._drawn_revision and due:
            self._drawn_revision = session.revision
            self._checked_at = time.monotonic()
            self.draw_checks()

    def _put(self, selector: str, content: str | Text) -> None:
        """Update a Static only when what it shows changed: each update lays out the
        whole screen again, and most redraws change only some of the lab's views."""
        if self._shown.get(selector) == content:
            return
        self._shown[selector] = content
        self.query_one(selector, Static).update(content)

    def _draw_status(self) -> None:
        service = self.session.service
        if not service.waiting_on_code:
            self._code_since = 0.0
        if service.waiting_on_code:
            if not self._code_since:
                self._code_since = time.monotonic()
            waited = time.monotonic() - self._code_since
            state = "[b cyan]⧗ running handler code[/b cyan]"
            if waited >= 0.5:
                state += f" [dim]{waited:.1f} s: a loop that never ends times out[/dim]"
        elif self.pacer.paused or not self.live:
            state = (
                "[b yellow]❚❚ paused[/b yellow]"
                if self.live
                else "[b yellow]❚❚ step mode[/b yellow]"
            )
        else:
            state = "[b green]▶ running[/b green]"
        text = (
            f"{state}  [b]{self.pacer.speed:g}x[/b]  virtual time "
            f"{render.elapsed_text(service.now_ms)}  [dim]{render.clock_text(service)}[/dim]"
        )
        now = time.monotonic()
        state_changed = text.split("  ", 1)[0] != self._status_text.split("  ", 1)[0]
        # The clock alone changes 20 times a second; drawing it 4 times is enough.
        due = not self.live or state_changed or now - self._status_at >= 0.25
        if text != self._status_text and due:
            self._status_text = text
            self._status_at = now
            # One line high (lesson.tcss): a new clock needs no layout pass.
            self.query_one("#lab-status", Static).update(text, layout=False)
