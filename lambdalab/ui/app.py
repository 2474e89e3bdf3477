"""The lambdalab Textual app and its factory."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.events import Resize
from textual.screen import Screen

from lambdalab.course.model import Course, Lesson
from lambdalab.course.progress import Progress, ProgressStore
from lambdalab.course.session import LabSession
from lambdalab.engine import sandbox
from lambdalab.errors import LambdaLabError
from lambdalab.ui.screens.course_map import CourseMapScreen

# The lesson screen (and its panels) and the dialogs are imported when first shown:
# the course map needs neither, and importing them would delay its first frame.
if TYPE_CHECKING:
    from lambdalab.serve.invoke_api import ApiCall, InvokeApi
    from lambdalab.serve.status import StatusReporter
    from lambdalab.ui.screens.dialogs import TooSmallScreen
    from lambdalab.ui.screens.lesson import LessonScreen

_LESSON_MODULE = "lambdalab.ui.screens.lesson"

MIN_SIZE = (80, 24)
CODE_GUARD_S = 1.5
"""Real seconds a handler may compute before the lab calls it a timeout; lesson code
is tiny, and a learner should not wait long for a loop that never ends."""
NARROW_BELOW = 110
"""Below this width the lesson text sits above the lab instead of beside it."""
HELP = (Path(__file__).with_name("help.md")).read_text(encoding="utf-8")


class LambdaLabApp(App[None]):
    """The course map, the lessons and their live labs."""

    CSS_PATH = "app.tcss"
    TITLE = "lambdalab"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("q", "quit", "Quit", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        course: Course,
        store: ProgressStore,
        *,
        live: bool = True,
        open_lesson: str | None = None,
        api_port: int | None = None,
        status_file: Path | None = None,
        theme: str | None = None,
        api_url: str | None = None,
    ) -> None:
        super().__init__()
        self._theme_override = theme
        self.course = course
        self.store = store
        self.progress: Progress = store.load()
        self.live = live
        self._open_first = open_lesson
        self._too_small: TooSmallScreen | None = None
        self._lab_ready = False
        self.api_port = api_port
        """Serve the Invoke API on 127.0.0.1 at this port (0: any free one)."""
        self.invoke_api: InvokeApi | None = None
        self.api_url = api_url
        """The endpoint URL learners give their clients, when not 127.0.0.1:port."""
        self._status_file = status_file
        self._status: StatusReporter | None = None

    def get_default_screen(self) -> Screen[None]:
        # The map is the bottom of the stack: no blank default screen to build, lay
        # out and swap away from before the first frame.
        return CourseMapScreen()

    def on_mount(self) -> None:
        theme = self._theme_override or self.progress.theme
        if theme:
            if theme in self.available_themes:
                self.theme = theme
            else:
                names = ", ".join(sorted(self.available_themes))
                self.notify(
                    f"No theme called {theme!r}; try one of: {names}.",
                    severity="warning",
                )
        if self.progress.notice:
            self.notify(
                self.progress.notice,
                title="Progress set aside",
                severity="warning",
                timeout=12,
            )
        if self._open_first:
            self.open_lesson(self._open_first)
        self._classroom_mount()

    def on_ready(self) -> None:
        self._lab_ready = True
        self._check_size(self.size.width, self.size.height)

    # -- lessons ---------------------------------------------------------------------

    def open_lesson(self, lesson_id: str) -> None:
        """Open a lesson at the step the learner reached."""
        from lambdalab.ui.screens.lesson import LessonScreen

        lesson = self.course.lesson(lesson_id)
        if lesson is None:
            self.notify(
                f"No lesson called {lesson_id!r} in this course.", severity="error"
            )
            return
        state = self.progress.lesson(lesson.id)
        try:
            session = LabSession(
                lesson,
                self.store.workspace(lesson.id),
                answers=state.predictions,
                wall_guard_s=CODE_GUARD_S,
            )
        except LambdaLabError as exc:  # e.g. the lesson's code folder cannot be made
            self.notify(str(exc), title=f"Cannot open {lesson.title}", severity="error")
            return
        self.progress.current = lesson.id
        self.save_progress()
        screen = LessonScreen(lesson, session, state, live=self.live)
        self.push_screen(screen)
        self._apply_layout(screen, self.size.width)

    def finish_lesson(self, lesson: Lesson) -> None:
        """Show the recap, then go on to the next lesson or back to the map."""
        from lambdalab.ui.screens.dialogs import PageScreen

        index = self.course.lessons.index(lesson)
        following = (
            self.course.lessons[index + 1]
            if index + 1 < len(self.course.lessons)
            else None
        )

        def after_recap(_: None = None) -> None:
            self.pop_screen()
            if following is not None:
                self.open_lesson(following.id)
            else:
                self.notify(
                    "You finished the course. Well done!", title="🎉 Course complete"
                )

        tail = (
            f"\n\n---\n\nNext: **{following.title}**. Press escape to go on."
            if following
            else ""
        )
        self.push_screen(
            PageScreen(f"Recap: {lesson.title}", lesson.recap + tail), after_recap
        )

    def save_progress(self) -> None:
        """Save now; a failure is told, never fatal."""
        try:
            self.store.save(self.progress)
        except OSError as exc:
            self.notify(
                f"Could not save progress to {self.store.path}: {exc.strerror}.",
                severity="error",
            )

    def confirm_reset(self, lesson_id: str | None) -> None:
        """Reset one lesson (or all) after a confirmation."""
        from lambdalab.ui.screens.dialogs import ConfirmScreen

        lesson = self.course.lesson(lesson_id) if lesson_id else None
        what = f"lesson '{lesson.title}'" if lesson else "ALL lessons"

        def reset(yes: bool | None) -> None:
            if not yes:
                return
            lessons = self.course.lessons if lesson is None else (lesson,)
            try:  # the code first: progress is kept if a file cannot be reset
                for item in lessons:
                    LabSession(item, self.store.workspace(item.id)).reset_code()
            except LambdaLabError as exc:
                self.notify(
                    f"{exc} The progress of {what} is kept.",
                    title="Reset stopped",
                    severity="error",
                )
                return
            if lesson is None:
                self.progress.lessons.clear()
                self.progress.current = None
            else:
                self.progress.lessons.pop(lesson.id, None)
            self.save_progress()
            self.notify(f"Progress of {what} reset; its code is back to the start.")
            if isinstance(self.screen, CourseMapScreen):
                self.screen.refresh_list()

        self.push_screen(
            ConfirmScreen(
                f"Reset the progress and code of {what}? This cannot be undone.",
                yes="Reset",
                no="Keep",
            ),
            reset,
        )

    # -- comfort ---------------------------------------------------------------------

    def action_help(self) -> None:
        from lambdalab.ui.screens.dialogs import PageScreen

        if not isinstance(self.screen, PageScreen):
            # On the map, the course's welcome (course.toml's `welcome`) comes first;
            # in a lesson the keys do.
            welcome = self.course.welcome
            on_map = isinstance(self.screen, CourseMapScreen)
            page = f"{welcome}\n\n---\n\n{HELP}" if welcome and on_map else HELP
            self.push_screen(PageScreen("Help", page))

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        # In the folder lambdalab was started from (Textual's default, the Downloads
        # folder, may not exist); the notice names the file. A browser downloads it.
        return super().deliver_screenshot(filename, path or os.getcwd(), time_format)

    def on_resize(self, event: Resize) -> None:
        self._check_size(event.size.width, event.size.height)
        for screen in self._lesson_screens():
            self._apply_layout(screen, event.size.width)

    def _apply_layout(self, screen: Screen[None], width: int) -> None:
        screen.set_class(width < NARROW_BELOW, "narrow")

    def _check_size(self, width: int, height: int) -> None:
        if not self._lab_ready:
            return  # the first screens are not pushed yet; on_ready checks again
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        if small and self._too_small is None:
            from lambdalab.ui.screens.dialogs import TooSmallScreen

            self._too_small = TooSmallScreen()
            self.push_screen(self._too_small)
        if self._too_small is not None:
            if small:
                self.call_after_refresh(self._too_small.show, width, height, MIN_SIZE)
            else:
                if self.screen is self._too_small:
                    self.pop_screen()
                self._too_small = None

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from lambdalab.ui.screens.lesson import LessonScreen

        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Help", "Every key and what the lab shows", self.action_help
        )
        for lesson in self.course.lessons:
            yield SystemCommand(
                f"Open lesson: {lesson.title}",
                lesson.summary,
                lambda lid=lesson.id: self.open_lesson(lid),
            )
        if isinstance(screen, LessonScreen):
            lab = [
                (
                    "Invoke synchronously",
                    "RequestResponse: wait for the answer",
                    lambda: screen.action_invoke("sync"),
                ),
                (
                    "Invoke asynchronously",
                    "Event: 202 and the queue",
                    lambda: screen.action_invoke("async"),
                ),
                ("Next event", "Choose the event to send", screen.action_next_event),
                (
                    "Pause or resume",
                    "Stop or restart virtual time",
                    screen.action_pause,
                ),
                ("Faster", "Speed virtual time up", screen.action_faster),
                ("Slower", "Slow virtual time down", screen.action_slower),
                (
                    "Reset the lab",
                    "No environments, no invocations; your code stays",
                    screen.action_reset_lab,
                ),
                ("Edit the handler code", "Open the editor", screen.action_edit_code),
                ("Show a hint", "The next hint of this step", screen.action_hint),
                ("Show the solution", "The reference solution", screen.action_solution),
                ("Next step", "Go on in the lesson", screen.action_next_step),
                ("Previous step", "Go back in the lesson", screen.action_previous_step),
            ]
            for title, help_text, callback in lab:
                yield SystemCommand(title, help_text, callback)

    def watch_theme(self, theme: str) -> None:
        progress = getattr(self, "progress", None)
        if progress is not None and theme != progress.theme:
            progress.theme = theme
            self.save_progress()

    async def action_quit(self) -> None:
        self.save_progress()
        await self._classroom_stop()
        sandbox.kill_all()
        self.exit()

    # -- Invoke API and classroom status (lambdalab serve, issue 7) -------------------

    def lesson_screen(self) -> LessonScreen | None:
        """The open lesson (the top one when several are stacked), or None."""
        screens = self._lesson_screens()
        return screens[-1] if screens else None

    def _lesson_screens(self) -> list[LessonScreen]:
        """Open lessons, bottom first; none before any lesson was opened."""
        module = sys.modules.get(_LESSON_MODULE)
        if module is None:  # not imported yet, so no lesson screen exists
            return []
        return [s for s in self.screen_stack if isinstance(s, module.LessonScreen)]

    def _classroom_mount(self) -> None:
        if self.api_port is not None:
            self.run_worker(self._start_invoke_api(), group="invoke-api")
        if self._status_file is not None:
            from lambdalab.serve.status import STATUS_EVERY_S, StatusReporter

            self._status = StatusReporter(self._status_file, self.store.learner)
            self._report_status()
            self.set_interval(STATUS_EVERY_S, self._report_status)

    async def _start_invoke_api(self) -> None:
        from lambdalab.serve.invoke_api import InvokeApi

        def session() -> LabSession | None:
            screen = self.lesson_screen()
            return screen.session if screen is not None else None

        api = InvokeApi(session, on_call=self._api_called)
        try:
            port = await api.start("127.0.0.1", self.api_port or 0)
        except OSError as exc:
            self.notify(
                f"The Invoke API cannot listen on 127.0.0.1:{self.api_port}: "
                f"{exc.strerror}. Choose another --api-port.",
                severity="error",
                timeout=15,
            )
            return
        self.invoke_api = api
        endpoint = self.api_url or f"http://127.0.0.1:{port}"
        if self._status is not None:
            self._status.api_port = port
            self._report_status()
        self.notify(
            f"Invoke API on {endpoint}: aws lambda invoke "
            f"--endpoint-url {endpoint} --function-name NAME out.json",
            title="Real AWS clients welcome",
            timeout=12,
        )

    def _api_called(self, call: ApiCall) -> None:
        self.notify(
            f"{call.invocation_type} {call.function} -> {call.status_code} "
            f"({call.request_id[:8]}, {call.user_agent or 'a client'})",
            title="Invoke API",
            timeout=4,
        )

    def _report_status(self) -> None:
        if self._status is None:
            return
        screen = self.lesson_screen()
        if screen is None:
            changed = self._status.observe(self.progress, None, 0, None)
        else:
            changed = self._status.observe(
                self.progress, screen.lesson, screen.step_index, screen.session
            )
        if changed:
            self.save_progress()

    async def _classroom_stop(self) -> None:
        if self.invoke_api is not None:
            api, self.invoke_api = self.invoke_api, None
            await api.stop()

    async def on_unmount(self) -> None:
        await self._classroom_stop()


def make_app(
    course: Course,
    store: ProgressStore,
    *,
    live: bool = True,
    open_lesson: str | None = None,
    api_port: int | None = None,
    status_file: Path | None = None,
    theme: str | None = None,
    api_url: str | None = None,
) -> LambdaLabApp:
    """Build the app; the CLI and every UI test use this one factory."""
    return LambdaLabApp(
        course,
        store,
        live=live,
        open_lesson=open_lesson,
        api_port=api_port,
        status_file=status_file,
        theme=theme,
        api_url=api_url,
    )
