"""The course map: every lesson, your progress, and where you left off."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from lambdalab.course.model import Lesson
from lambdalab.course.progress import Progress

if TYPE_CHECKING:
    from lambdalab.ui.app import LambdaLabApp


class _MapFooter(Footer):
    """Textual's footer, which also lists the keys when the app starts unfocused.

    A browser page (``lambdalab serve``) starts blurred, and Textual's footer lists
    keys only on a binding change while focused: the map would show no keys until
    the learner clicked the page.
    """

    _listed = False

    def bindings_changed(self, screen: Screen[object]) -> None:
        super().bindings_changed(screen)
        if self._listed or not self.is_attached or screen is not self.screen:
            return
        self._listed = True
        if not self.app.app_focus:
            self.call_after_refresh(self.recompose)  # Textual skipped it while blurred


class CourseMapScreen(Screen[None]):
    """Choose a lesson; marks show done (✔), in progress (▶) and new (·)."""

    # Default CSS, not CSS_PATH: a screen's CSS_PATH makes Textual re-parse every
    # stylesheet source when the screen is first pushed, and this is the first screen.
    DEFAULT_CSS = Path(__file__).with_name("course_map.tcss").read_text("utf-8")

    BINDINGS = [
        Binding("enter", "open", "Open lesson", show=True, priority=True),
        Binding("x", "reset_lesson", "Reset lesson"),
        Binding("X", "reset_all", "Reset all", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._prompts: tuple[str, ...] = ()
        self._continue = ""
        self._info = ""
        self._current: str | None = None
        """The lesson the continue line named when the map was last drawn."""

    @property
    def lab_app(self) -> LambdaLabApp:
        from lambdalab.ui.app import LambdaLabApp

        assert isinstance(self.app, LambdaLabApp)
        return self.app

    def compose(self) -> ComposeResult:
        # Everything is filled in here, not on mount: the first frame draws it once,
        # and a key pressed while the map is still mounting finds the list ready.
        app = self.lab_app
        lessons = app.course.lessons
        self._prompts = _prompts(app)
        self._continue = _continue_text(app)
        options = OptionList(id="lessons")
        options.add_options(
            Option(prompt, id=lesson.id)
            for prompt, lesson in zip(self._prompts, lessons, strict=True)
        )
        ids = [lesson.id for lesson in lessons]
        current = self._current = app.progress.current
        options.highlighted = ids.index(current) if current in ids else 0
        self._info = _describe(lessons[options.highlighted], app)

        yield Header(icon="λ")
        # The screen itself lays the two panes side by side (header and footer are
        # docked): one container fewer to mount, style, lay out and draw.
        with Vertical(id="map-left"):
            yield Static(self._continue, id="continue")
            yield options
        with VerticalScroll(id="map-right"):
            # One Static with a Rich renderable: far cheaper to lay out than a
            # Markdown widget, which the map would rebuild on every highlight.
            yield Static(Markdown(self._info), id="lesson-info")
        yield _MapFooter()

    def on_mount(self) -> None:
        self.title = "lambdalab"
        self.sub_title = self.lab_app.course.title
        self.query_one("#lessons", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        """Redraw the marks, the continue line and the description from the progress.

        Only what changed is redrawn: rebuilding the list re-highlights, and each
        highlight would lay out and draw the description again.
        """
        app = self.lab_app
        options = self.query_one("#lessons", OptionList)
        prompts = _prompts(app)
        if prompts != self._prompts:
            highlighted = options.highlighted
            options.set_options(
                Option(prompt, id=lesson.id)
                for prompt, lesson in zip(prompts, app.course.lessons, strict=True)
            )
            self._prompts = prompts
            options.highlighted = highlighted or 0
        current = app.progress.current
        if current != self._current:
            # Back from a lesson: enter continues what the continue line names.
            self._current = current
            ids = [lesson.id for lesson in app.course.lessons]
            if current in ids:
                options.highlighted = ids.index(current)
        text = _continue_text(app)
        if text != self._continue:
            self._continue = text
            self.query_one("#continue", Static).update(text)
        if options.highlighted is not None:
            self._show_info(app.course.lessons[options.highlighted])

    def on_option_list_option_highlighted(
        self, event: OptionList.OptionHighlighted
    ) -> None:
        if event.option_index != event.option_list.highlighted:
            return  # a later highlight is on its way
        lesson = self.lab_app.course.lesson(event.option.id or "")
        if lesson is not None:
            self._show_info(lesson)

    def _show_info(self, lesson: Lesson) -> None:
        """Describe the lesson on the right, unless that text is already shown."""
        text = _describe(lesson, self.lab_app)
        if text != self._info:
            self._info = text
            self.query_one("#lesson-info", Static).update(Markdown(text))

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


def _prompts(app: LambdaLabApp) -> tuple[str, ...]:
    """Each lesson's line in the list: its mark, number and title."""
    return tuple(
        f"{_mark(app.progress, lesson)} {i + 1}. {lesson.title}"
        for i, lesson in enumerate(app.course.lessons)
    )


def _continue_text(app: LambdaLabApp) -> str:
    """The line above the list: where to pick up, or that the course is done."""
    lesson = app.course.lesson(app.progress.current or "")
    if all(app.progress.lesson(item.id).completed for item in app.course.lessons):
        return (
            "[b green]✔ You have completed the course.[/b green] [dim]Any lesson can"
            " be replayed.[/dim]"
        )
    if lesson is None:
        return "[b]Start with lesson 1.[/b] [dim]↑↓ choose · enter opens[/dim]"
    state = app.progress.lesson(lesson.id)
    step = min(state.step, len(lesson.steps) - 1)
    return (
        f"[b]Continue:[/b] {lesson.title}, step {step + 1} of {len(lesson.steps)}"
        " [dim](enter)[/dim]"
    )


def _mark(progress: Progress, lesson: Lesson) -> str:
    state = progress.lessons.get(lesson.id)
    if state and state.completed:
        return "[green]✔[/green]"
    if state and (state.passed_steps or state.step):
        return "[yellow]▶[/yellow]"
    return "[dim]·[/dim]"


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
