"""The course map: every lesson, your progress, and where you left off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from lambdalab.course.model import Lesson

if TYPE_CHECKING:
    from lambdalab.ui.app import LambdaLabApp


class CourseMapScreen(Screen[None]):
    """Choose a lesson; marks show done (✔), in progress (▶) and new (·)."""

    CSS_PATH = "course_map.tcss"

    BINDINGS = [
        Binding("enter", "open", "Open lesson", show=True, priority=True),
        Binding("x", "reset_lesson", "Reset lesson"),
        Binding("X", "reset_all", "Reset all", show=False),
    ]

    @property
    def lab_app(self) -> LambdaLabApp:
        from lambdalab.ui.app import LambdaLabApp

        assert isinstance(self.app, LambdaLabApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header(icon="λ")
        with Horizontal(id="map-body"):
            with Vertical(id="map-left"):
                yield Static(id="continue")
                yield OptionList(id="lessons")
            with VerticalScroll(id="map-right"):
                # One Static with a Rich renderable: far cheaper to lay out than a
                # Markdown widget, which the map would rebuild on every highlight.
                yield Static(id="lesson-info")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "lambdalab"
        self.sub_title = self.lab_app.course.title
        self.refresh_list()
        self.query_one("#lessons", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        """Redraw the marks and the continue line from the saved progress."""
        app = self.lab_app
        progress = app.progress
        options = self.query_one("#lessons", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        current_index = 0
        for i, lesson in enumerate(app.course.lessons):
            state = progress.lessons.get(lesson.id)
            if state and state.completed:
                mark = "[green]✔[/green]"
            elif state and (state.passed_steps or state.step):
                mark = "[yellow]▶[/yellow]"
            else:
                mark = "[dim]·[/dim]"
            if lesson.id == progress.current:
                current_index = i
            options.add_option(Option(f"{mark} {i + 1}. {lesson.title}", id=lesson.id))
        options.highlighted = highlighted if highlighted is not None else current_index
        self._show_continue()

    def _show_continue(self) -> None:
        app = self.lab_app
        lesson = app.course.lesson(app.progress.current or "")
        line = self.query_one("#continue", Static)
        if all(app.progress.lesson(item.id).completed for item in app.course.lessons):
            line.update(
                "[b green]✔ You have completed the course.[/b green] [dim]Any lesson can be replayed.[/dim]"
            )
            return
        if lesson is None:
            line.update(
                "[b]Start with lesson 1.[/b] [dim]↑↓ choose · enter opens[/dim]"
            )
            return
        state = app.progress.lesson(lesson.id)
        step = min(state.step, len(lesson.steps) - 1)
        line.update(
            f"[b]Continue:[/b] {lesson.title}, step {step + 1} of {len(lesson.steps)}"
            " [dim](enter)[/dim]"
        )

    def on_option_list_option_highlighted(
        self, event: OptionList.OptionHighlighted
    ) -> None:
        lesson = self.lab_app.course.lesson(event.option.id or "")
        if lesson is not None:
            self.query_one("#lesson-info", Static).update(
                Markdown(_describe(lesson, self.lab_app))
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.lab_app.open_lesson(event.option.id)

    def action_open(self) -> None:
        options = self.query_one("#lessons", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id:
                self.lab_app.open_lesson(option.id)

    def action_reset_lesson(self) -> None:
        options = self.query_one("#lessons", OptionList)
        if options.highlighted is None:
            return
        lesson_id = options.get_option_at_index(options.highlighted).id or ""
        self.lab_app.confirm_reset(lesson_id)

    def action_reset_all(self) -> None:
        self.lab_app.confirm_reset(None)


def _describe(lesson: Lesson, app: LambdaLabApp) -> str:
    state = app.progress.lessons.get(lesson.id)
    done = len(state.passed_steps) if state else 0
    tasks = sum(1 for s in lesson.steps if s.checks)
    objectives = "\n".join(f"- {o}" for o in lesson.objectives)
    status = (
        "**Completed.**"
        if state and state.completed
        else f"{done} of {tasks} tasks done."
    )
    return f"# {lesson.title}\n\n{lesson.summary}\n\n**You will learn to**\n\n{objectives}\n\n{status}"
