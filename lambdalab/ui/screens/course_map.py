"""The course map: every lesson, your progress, and where you left off."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.strip import Strip
from textual.visual import RenderOptions
from textual.widget import Widget
from textual.widgets import Footer, Header

from lambdalab.course.model import Lesson
from lambdalab.course.progress import Progress

if TYPE_CHECKING:
    from lambdalab.ui.app import LambdaLabApp

LIST_MIN_WIDTH = 40
"""The lesson list keeps this many columns; the description takes what is left."""
_BOLD = RichStyle(bold=True)
_GAP = 4
"""Columns between the list and the description: a space, the rule, two spaces."""


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


class CourseMapView(Widget, can_focus=True):
    """The map's body: where to continue and the lessons on the left, the highlighted
    lesson's description on the right.

    One widget drawn line by line from prepared text: the map is the first screen a
    learner waits for, and separate list, text and scroll widgets cost several times
    more to mount, style, lay out and draw.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move_to(0)", "First", show=False),
        Binding("end", "move_to(-1)", "Last", show=False),
        Binding("shift+down", "scroll_description(1)", "More", show=False),
        Binding("shift+up", "scroll_description(-1)", "Back", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "course-map--highlight",
        "course-map--rule",
    }

    class Highlighted(Message):
        """The highlight moved to the lesson at ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Selected(Message):
        """The lesson at ``index`` was clicked: open it."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(
        self,
        lessons: Sequence[Text],
        highlighted: int,
        continue_markup: str,
        description_markup: str,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._lessons = list(lessons)
        self._highlighted = max(0, min(highlighted, len(self._lessons) - 1))
        self.continue_markup = continue_markup
        self.description_markup = description_markup
        self._continue = Content.from_markup(continue_markup)
        self._description = _paragraphs(description_markup)
        self._top = 0
        """The lesson on the list's first line: the list scrolls when it is taller."""
        self._description_top = 0
        # Prepared for the current width by _lay_out; drawn by render_line.
        self._laid_out_width = -1
        self._list_width = 0
        self._continue_lines: list[Strip] = []
        self._description_lines: list[Strip] = []
        self._base = self._highlight = RichStyle.null()
        self._rule = Strip([])
        self._height = 0
        self._blank_row: Strip | None = None
        self._drawn: dict[int, tuple[Strip, bool]] = {}
        """Each line as last drawn, and whether it shows the highlight: a frame
        redraws only the lines whose content or colours changed."""

    # -- what the screen sets and reads ----------------------------------------------

    @property
    def highlighted(self) -> int:
        """The index of the highlighted lesson."""
        return self._highlighted

    @highlighted.setter
    def highlighted(self, index: int) -> None:
        index = max(0, min(index, len(self._lessons) - 1))
        if index != self._highlighted:
            self._highlighted = index
            self._show_highlight()
            self._redraw()
            self.post_message(self.Highlighted(index))

    def set_lessons(self, lessons: Sequence[Text]) -> None:
        """New lines for the list (a mark changed); the highlight stays."""
        self._lessons = list(lessons)
        self._highlighted = min(self._highlighted, len(self._lessons) - 1)
        self._show_highlight()
        self._redraw()

    def set_continue(self, markup: str) -> None:
        """A new continue line (content markup)."""
        if markup != self.continue_markup:
            self.continue_markup = markup
            self._continue = Content.from_markup(markup)
            self._laid_out_width = -1
            self._redraw()

    def set_description(self, markup: str) -> None:
        """A new description (content markup), shown from its top."""
        if markup != self.description_markup:
            self.description_markup = markup
            self._description = _paragraphs(markup)
            self._description_top = 0
            self._laid_out_width = -1
            self._redraw()

    # -- drawing ---------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    def _list_rows(self) -> int:
        """Lines left for the list under the continue line and a blank line."""
        height = self.scrollable_content_region.height
        return max(1, height - len(self._continue_lines) - 1)

    def _lay_out(self, width: int) -> None:
        """Wrap the continue line and the description for ``width`` columns."""
        self._laid_out_width = width
        self._list_width = left = max(LIST_MIN_WIDTH, (width - _GAP) // 2)
        right = max(0, width - left - _GAP)
        base = self.rich_style
        style = self.visual_style
        options = RenderOptions(self._get_style, self.styles)

        def wrap(content: Content, width: int) -> list[Strip]:
            if width <= 0:
                return []
            strips = content.render_strips(width, None, style, options)
            return [strip.extend_cell_length(width, base) for strip in strips]

        self._continue_lines = wrap(self._continue, left)
        margin = Strip.blank(2, base)
        mark = Strip([Segment("•", base + _BOLD), Segment(" ", base)], 2)
        hang = Strip.blank(4, base)
        lines: list[Strip] = []
        for content, bullet in self._description:
            if bullet:  # the lines after the first start under the text, not the •
                wrapped = wrap(content, right - 2)
                lines.extend(
                    Strip.join([margin, mark, line] if n == 0 else [hang, line])
                    for n, line in enumerate(wrapped)
                )
            else:
                lines.extend(
                    Strip.join([margin, line]) for line in wrap(content, right)
                )
        self._description_lines = lines

    def _redraw(self) -> None:
        self._drawn.clear()
        self.refresh()

    def _forget(self) -> None:
        """Drop every drawn line: the width or the colours changed."""
        self._drawn.clear()
        self._blank_row = None

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles and wrapping looked up once for all the lines of this frame.
        width = self.scrollable_content_region.width
        if width != self._laid_out_width:
            self._lay_out(width)
            self._forget()
        base = self.rich_style
        highlight = base + self.get_component_rich_style("course-map--highlight")
        if base != self._base:
            self._forget()
        elif highlight != self._highlight:  # the focus came or went
            self._drawn = {y: line for y, line in self._drawn.items() if not line[1]}
        self._base = base
        self._highlight = highlight
        rule = base + self.get_component_rich_style("course-map--rule")
        self._rule = Strip([Segment(" ", base), Segment("│", rule)], 2)
        self._height = self.scrollable_content_region.height
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        drawn = self._drawn.get(y)
        if drawn is not None:
            return drawn[0]
        width = self._laid_out_width
        left = self._list_width
        continued = len(self._continue_lines)
        index = self._top + y - continued - 1
        blank_left = y == continued or (y > continued and index >= len(self._lessons))
        below = y >= len(self._description_lines) - self._description_top
        if blank_left and below and self._blank_row is not None:
            strip = self._blank_row  # most of a tall terminal: the rule alone
        else:
            strip = Strip.join(
                [
                    self._left_line(y, left),
                    self._rule,
                    self._right_line(y, max(0, width - left - 2)),
                ]
            )
            if blank_left and below:
                self._blank_row = strip
        self._drawn[y] = (strip, index == self._highlighted)
        return strip

    def _left_line(self, y: int, width: int) -> Strip:
        continued = len(self._continue_lines)
        if y < continued:
            return self._continue_lines[y]
        index = self._top + y - continued - 1
        if y == continued or index >= len(self._lessons):
            return Strip.blank(width, self._base)
        text = self._lessons[index]
        if text.cell_len > width - 2:
            text = text.copy()
            text.truncate(width - 2, overflow="ellipsis")
        style = self._highlight if index == self._highlighted else self._base
        segments = [Segment(" ", style)]
        segments.extend(Segment.apply_style(text.render(self.app.console), style))
        return Strip(segments).extend_cell_length(width, style)

    def _right_line(self, y: int, width: int) -> Strip:
        lines = self._description_lines
        height = self._height
        index = self._description_top + y
        below = len(lines) - (self._description_top + height)
        if y == height - 1 and below > 0:
            cue = Text(f"  ▼ {below + 1} more lines: shift+↓", style="dim")
            segments = Segment.apply_style(cue.render(self.app.console), self._base)
            return Strip(segments).extend_cell_length(width, self._base)
        if index >= len(lines):
            return Strip.blank(width, self._base)
        return lines[index]

    # -- moving ----------------------------------------------------------------------

    def _show_highlight(self) -> None:
        """Scroll the list just enough for the highlighted line to be on screen."""
        rows = self._list_rows()
        top = min(self._top, self._highlighted)
        top = max(top, self._highlighted - rows + 1)
        self._top = max(0, min(top, len(self._lessons) - rows))

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._laid_out_width:  # the first frame may have laid it out
            self._forget()
            self._lay_out(width)
        self._show_highlight()
        self._scroll_description(0)

    def on_focus(self) -> None:
        self.refresh()  # the highlight's colours differ with and without the focus

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        self.highlighted = self._highlighted + step

    def action_page(self, direction: int) -> None:
        self.highlighted = self._highlighted + direction * max(1, self._list_rows() - 1)

    def action_move_to(self, index: int) -> None:
        self.highlighted = index if index >= 0 else len(self._lessons) - 1

    def action_scroll_description(self, lines: int) -> None:
        self._scroll_description(lines)

    def _scroll_description(self, lines: int) -> None:
        height = self.scrollable_content_region.height
        end = max(0, len(self._description_lines) - height)
        top = max(0, min(self._description_top + lines, end))
        if top != self._description_top:
            self._description_top = top
            self._redraw()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.x >= self._list_width:
            return
        index = self._top + offset.y - len(self._continue_lines) - 1
        if 0 <= index < len(self._lessons) and offset.y > len(self._continue_lines):
            self.highlighted = index
            self.post_message(self.Selected(index))

    def _on_wheel(self, event: events.MouseEvent, lines: int) -> None:
        offset = event.get_content_offset(self)
        event.stop()
        if offset is not None and offset.x >= self._list_width:
            self._scroll_description(lines)
            return
        rows = self._list_rows()
        top = max(0, min(self._top + lines, len(self._lessons) - rows))
        if top != self._top:
            self._top = top
            self._redraw()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._on_wheel(event, 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._on_wheel(event, -1)


class CourseMapScreen(Screen[None]):
    """Choose a lesson; marks show done (✔), in progress (▶) and new (·)."""

    # Default CSS, not CSS_PATH: a screen's CSS_PATH makes Textual re-parse every
    # stylesheet source when the screen is first pushed, and this is the first screen.
    DEFAULT_CSS = Path(__file__).with_name("course_map.tcss").read_text("utf-8")

    BINDINGS = [
        # Not a priority binding: keys run in the order typed ("down enter" opens the
        # next lesson), as the view, which has the focus, takes no enter of its own.
        Binding("enter", "open", "Open lesson", show=True),
        Binding("x", "reset_lesson", "Reset lesson"),
        Binding("X", "reset_all", "Reset all", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._lessons: tuple[Text, ...] = ()
        self._current: str | None = None
        """The lesson the continue line named when the map was last drawn."""

    @property
    def lab_app(self) -> LambdaLabApp:
        from lambdalab.ui.app import LambdaLabApp

        assert isinstance(self.app, LambdaLabApp)
        return self.app

    @property
    def view(self) -> CourseMapView:
        return self.query_one(CourseMapView)

    def compose(self) -> ComposeResult:
        # Everything is filled in here, not on mount: the first frame draws it once,
        # and a key pressed while the map is still mounting finds the list ready.
        app = self.lab_app
        lessons = app.course.lessons
        self._lessons = _lesson_lines(app)
        ids = [lesson.id for lesson in lessons]
        current = self._current = app.progress.current
        highlighted = ids.index(current) if current in ids else 0

        # Set before mounting: no header redraw once it is on screen.
        self.title = "lambdalab"
        self.sub_title = app.course.title
        yield Header(icon="λ")
        yield CourseMapView(
            self._lessons,
            highlighted,
            _continue_text(app),
            _describe(lessons[highlighted], app),
        )
        yield _MapFooter()

    def on_mount(self) -> None:
        self.view.focus()

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        """Redraw the marks, the continue line and the description from the progress."""
        app = self.lab_app
        view = self.view
        lines = _lesson_lines(app)
        if lines != self._lessons:
            view.set_lessons(lines)
            self._lessons = lines
        current = app.progress.current
        if current != self._current:
            # Back from a lesson: enter continues what the continue line names.
            self._current = current
            ids = [lesson.id for lesson in app.course.lessons]
            if current in ids:
                view.highlighted = ids.index(current)
        view.set_continue(_continue_text(app))
        view.set_description(_describe(app.course.lessons[view.highlighted], app))

    def on_course_map_view_highlighted(self, event: CourseMapView.Highlighted) -> None:
        view = self.view
        if event.index == view.highlighted:  # else a later highlight is on its way
            lesson = self.lab_app.course.lessons[event.index]
            view.set_description(_describe(lesson, self.lab_app))

    def on_course_map_view_selected(self, event: CourseMapView.Selected) -> None:
        self.lab_app.open_lesson(self.lab_app.course.lessons[event.index].id)

    def _highlighted_lesson(self) -> Lesson:
        return self.lab_app.course.lessons[self.view.highlighted]

    def action_open(self) -> None:
        self.lab_app.open_lesson(self._highlighted_lesson().id)

    def action_reset_lesson(self) -> None:
        self.lab_app.confirm_reset(self._highlighted_lesson().id)

    def action_reset_all(self) -> None:
        self.lab_app.confirm_reset(None)


_MARKS = {
    "done": ("✔", "green"),
    "started": ("▶", "yellow"),
    "new": ("·", "dim"),
}


def _lesson_lines(app: LambdaLabApp) -> tuple[Text, ...]:
    """Each lesson's line in the list: its mark, number and title."""
    return tuple(
        Text.assemble(_MARKS[_state(app.progress, lesson)], f" {i + 1}. {lesson.title}")
        for i, lesson in enumerate(app.course.lessons)
    )


def _continue_text(app: LambdaLabApp) -> str:
    """The line above the list, as content markup: where to pick up, or that the
    course is done."""
    lesson = app.course.lesson(app.progress.current or "")
    if all(app.progress.lesson(item.id).completed for item in app.course.lessons):
        return (
            "[b $success]✔ You have completed the course.[/] [dim]Any lesson can"
            " be replayed.[/dim]"
        )
    if lesson is None:
        return "[b]Start with lesson 1.[/b] [dim]↑↓ choose · enter opens[/dim]"
    state = app.progress.lesson(lesson.id)
    step = min(state.step, len(lesson.steps) - 1)
    return (
        f"[b]Continue:[/b] {escape(lesson.title)}, step {step + 1} of"
        f" {len(lesson.steps)} [dim](enter)[/dim]"
    )


def _state(progress: Progress, lesson: Lesson) -> str:
    state = progress.lessons.get(lesson.id)
    if state and state.completed:
        return "done"
    if state and (state.passed_steps or state.step):
        return "started"
    return "new"


def _paragraphs(markup: str) -> list[tuple[Content, bool]]:
    """Each line of a description, parsed, and whether it is a bullet ("• ...")."""
    return [
        (Content.from_markup(line[2:]), True)
        if line.startswith("• ")
        else (Content.from_markup(line), False)
        for line in markup.split("\n")
    ]


def _describe(lesson: Lesson, app: LambdaLabApp) -> str:
    """The description of ``lesson`` on the right, as content markup."""
    state = app.progress.lessons.get(lesson.id)
    done = len(state.passed_steps) if state else 0
    tasks = sum(1 for s in lesson.steps if s.checks)
    objectives = "\n".join(f"• {escape(o)}" for o in lesson.objectives)
    status = (
        "[b $success]✔ Completed.[/]"
        if state and state.completed
        else f"{done} of {tasks} tasks done."
    )
    return (
        f"[b $accent]{escape(lesson.title)}[/]\n\n{escape(lesson.summary)}\n\n"
        f"[b]You will learn to[/b]\n{objectives}\n\n{status}"
    )
