"""The keyboard player: lessons played to their end with the keys a learner presses.

Every lesson test drives the app through here. Each reference-solution action
becomes keys: digits for a prediction, f and e to pick the function and event,
i/a/b/B to invoke, o and the form for a setting, c and the editor for code, ] and
[ for the lab's tabs, the arrows and enter in a tab, '.' to step virtual time.

Keys go through the app's own key handling (bindings, focus), as a terminal's
would. What differs from ``Pilot.press`` is the wait after each key: instead of
sleeping until the process looks idle (40 ms at least, per key), the player waits
until every queued message was handled and the frame was drawn.
"""

from __future__ import annotations

import asyncio
import io
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from rich.console import Console, RenderableType
from textual import events
from textual.app import App
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent, TextArea

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.model import Action, Lesson
from lambdalab.ui import render_async
from lambdalab.ui.app import LambdaLabApp
from lambdalab.ui.panels.buckets import BucketPanel
from lambdalab.ui.panels.http_door import HttpPanel
from lambdalab.ui.panels.queues import QueuesPanel
from lambdalab.ui.panels.schedules import SchedulePanel
from lambdalab.ui.panels.security import SecurityPanel, security_rows
from lambdalab.ui.panels.timeline import TimelinePanel
from lambdalab.ui.screens.lesson import LessonScreen
from lambdalab.ui.screens.settings import FIELDS

AppFactory = Callable[..., LambdaLabApp]
Hook = Callable[[Pilot[None], LessonScreen], Awaitable[None]]
COURSE = load_course(bundled_lessons_path())


def plain(renderable: RenderableType, width: int = 100) -> str:
    """A renderable as plain text."""
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    return plain(widget.content, 120)


# -- keys -------------------------------------------------------------------------------


def _key_event(key: str) -> events.Key:
    """The Key event a terminal sends for ``key`` (as ``Pilot.press`` builds it)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(
            _get_unicode_name_from_key(REPLACED_KEYS.get(key, key))
        )
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def _unhandled(app: App[None]) -> bool:
    """True while a message waits on the app or a widget of its screen."""
    return any(
        not node._message_queue.empty()
        for node in (app, *app.screen.walk_children(with_self=True))
    )


async def _handled(pilot: Pilot[None]) -> None:
    """Wait until every message posted so far, and those they posted, was handled.

    A key is handled in two hops: the app forwards it to the focused widget, whose
    binding runs the action.
    """
    quiet = 0
    for _ in range(10_000):
        await asyncio.sleep(0)
        quiet = 0 if _unhandled(pilot.app) else quiet + 1
        if quiet == 3:  # a handler that awaits (a mount, a screen) resumes meanwhile
            return
    raise AssertionError("the app kept posting messages")


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the app handled everything and drew it, as a learner would see it.

    The frame is drawn at once (what the screen's update timer would do next), then
    the callbacks that wait for a refresh run: a shown tab's panel takes the focus.
    """
    for _ in range(100):
        await _handled(pilot)
        screen = pilot.app.screen
        if (
            screen._layout_required
            or screen._scroll_required
            or screen._repaint_required
            or screen._dirty_widgets
        ):
            screen._on_timer_update()
        elif screen._callbacks:
            await screen.wait_for_refresh()
        else:
            return
    raise AssertionError("the app never became idle")


def _dirty(app: App[None]) -> bool:
    """True while the screen has a frame to draw or callbacks waiting for one."""
    screen = app.screen
    return bool(
        screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._dirty_widgets
        or screen._callbacks
    )


async def press(pilot: Pilot[None], *keys: str) -> None:
    """Press keys that move the focus or open and close screens.

    Focus moves in several hops (a panel that loses it may take it back after the
    next refresh), so the app is left to handle each key in its own order and time,
    as from a terminal: the player only looks until nothing is queued or due.
    """
    for key in keys:
        pilot.app.post_message(_key_event(key))
        for _ in range(1000):
            await asyncio.sleep(0.002)
            if not _unhandled(pilot.app) and not _dirty(pilot.app):
                break
        await settle(pilot)


async def tap(pilot: Pilot[None], *keys: str) -> None:
    """Press keys that act on the lesson or the lab: each handled, then drawn."""
    for key in keys:
        pilot.app.post_message(_key_event(key))
        await settle(pilot)


async def quick(pilot: Pilot[None], *keys: str) -> None:
    """Press a quick run of keys (typing, stepping time), as a fast typist would.

    Each key is handled before the next; frames are drawn as the screen's timer
    falls due, and the run ends with everything drawn.
    """
    for key in keys:
        pilot.app.post_message(_key_event(key))
        await _handled(pilot)
    await settle(pilot)


async def quick_key(pilot: Pilot[None], key: str) -> None:
    """One key of a quick run; the caller ends the run with ``settle``."""
    pilot.app.post_message(_key_event(key))
    await _handled(pilot)


# -- moving around a lesson -------------------------------------------------------------


async def open_from_map(pilot: Pilot[None], lesson_id: str) -> LessonScreen:
    """Open a lesson from the course map: down to it, then enter."""
    index = [lesson.id for lesson in COURSE.lessons].index(lesson_id)
    await tap(pilot, *["down"] * index)
    await press(pilot, "enter")
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson_id
    return screen


async def go_to_step(pilot: Pilot[None], screen: LessonScreen, step_id: str) -> None:
    target = [s.id for s in screen.lesson.steps].index(step_id)
    while screen.step_index < target:
        await tap(pilot, "n")
    while screen.step_index > target:
        await tap(pilot, "p")


async def select(
    pilot: Pilot[None], screen: LessonScreen, function: str, event: str | None
) -> None:
    while screen.function != function:
        await tap(pilot, "f")
    while event is not None and screen.event != event:
        await tap(pilot, "e")


async def open_tab(pilot: Pilot[None], screen: LessonScreen, panel: type) -> None:
    """Show a panel's tab with ] or [, whichever reaches it in fewer presses."""
    tabs = screen.query_one("#lab-tabs", TabbedContent)
    order = ["tab-lab"] + [f"tab-{p.id}" for p in screen.panels]
    target = f"tab-{panel.__name__.lower()}"
    ahead = (order.index(target) - order.index(str(tabs.active))) % len(order)
    if ahead <= len(order) // 2:
        await press(pilot, *["right_square_bracket"] * ahead)
    else:
        await press(pilot, *["left_square_bracket"] * (len(order) - ahead))
    await settle(pilot)
    assert tabs.active == target
    assert isinstance(pilot.app.focused, panel), pilot.app.focused


async def choose(
    pilot: Pilot[None], panel: object, names: list[str], name: str
) -> None:
    while names[panel.index % len(names)] != name:  # type: ignore[attr-defined]
        await tap(pilot, "down")


# -- virtual time -----------------------------------------------------------------------


async def step_time(pilot: Pilot[None], screen: LessonScreen, seconds: float) -> None:
    """Press '.' until virtual time has moved ``seconds`` (or nothing is left to run)."""
    service = screen.session.service
    target = service.now_ms + seconds * 1000
    while target - service.now_ms > 60_000 and not service.waiting_on_code:
        await quick_key(
            pilot, "greater_than_sign"
        )  # a minute at a time over long waits
    while service.now_ms < target or service.waiting_on_code:
        nxt = service.loop.peek()
        if not service.waiting_on_code and (nxt is None or nxt > target):
            break
        await quick_key(pilot, "full_stop")
    await settle(pilot)


async def run_invocations(pilot: Pilot[None], screen: LessonScreen) -> None:
    """Press '.' until every invocation sent so far has finished."""
    for _ in range(200):
        pending = [i for i in screen.session.history if not i.done]
        if not pending and not screen.session.service.waiting_on_code:
            break
        await quick_key(pilot, "full_stop")
    await settle(pilot)


async def wait_for_a_task(
    pilot: Pilot[None], screen: LessonScreen, seconds: float
) -> None:
    """Press '.' until another task is done or ``seconds`` of virtual time passed."""
    service = screen.session.service
    target = service.now_ms + seconds * 1000
    done = set(screen.state.passed_steps)
    while service.waiting_on_code or set(screen.state.passed_steps) == done:
        nxt = service.loop.peek()
        if not service.waiting_on_code and (nxt is None or nxt > target):
            break
        await quick_key(pilot, "full_stop")
    await settle(pilot)


async def wait_for_this_task(
    pilot: Pilot[None], screen: LessonScreen, seconds: float
) -> None:
    """Press '.' until the current step's task is done, or ``seconds`` went by."""
    service = screen.session.service
    target = service.now_ms + seconds * 1000
    while (
        service.waiting_on_code or screen.step.id not in screen.session.passed_steps()
    ):
        nxt = service.loop.peek()
        if not service.waiting_on_code and (nxt is None or nxt > target):
            break
        await quick_key(pilot, "full_stop")
    await settle(pilot)


# -- solution actions -------------------------------------------------------------------


async def answer(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    await go_to_step(pilot, screen, p["step"])
    predict = screen.step.predict
    assert predict is not None
    if predict.choices:
        await tap(pilot, str(int(p["value"]) + 1))
    else:
        await press(pilot, *str(p["value"]), "enter")
    assert screen.step.id in screen.session.answers


async def invoke(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    await select(pilot, screen, p["function"], p.get("event"))
    kind = p.get("type", "sync")
    if action.do == "burst":
        assert p.get("count", screen.lesson.lab.burst) == screen.lesson.lab.burst
        await tap(pilot, "b" if kind == "sync" else "B")
        return
    for _ in range(int(p.get("times", 1))):
        await tap(pilot, "i" if kind == "sync" else "a")
        if kind == "sync":
            await run_invocations(pilot, screen)


async def configure(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    await select(pilot, screen, p["function"], None)
    await press(pilot, "o")
    index = [key for key, _, _ in FIELDS].index(p["key"])
    await press(pilot, *["tab"] * index)
    field = pilot.app.screen.query_one(f"#set-{p['key']}", Input)
    assert pilot.app.focused is field
    await quick(pilot, *str(p["value"]))  # focusing a field selects its text
    await press(pilot, "enter")
    assert pilot.app.screen is screen, "the setting was refused"


async def _open_editor(pilot: Pilot[None], screen: LessonScreen, file: str) -> None:
    function = next(
        f.name
        for f in screen.lesson.lab.functions
        if f.handler and f.handler.startswith(file)
    )
    await select(pilot, screen, function, None)
    await press(pilot, "c")
    assert isinstance(pilot.app.focused, TextArea)


async def type_code(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    """Write the solution's file in the editor key by key, then save and go back."""
    file = action.params["file"]
    await _open_editor(pilot, screen, file)
    editor = pilot.app.screen.query_one(TextArea)
    text = screen.lesson.solution_files[file]
    old, new = editor.text.split("\n"), text.split("\n")
    if len(old) == len(new):
        # Retype only the lines that differ, as a learner fixing a line would.
        for number, (before, after) in enumerate(zip(old, new, strict=True)):
            if before == after:
                continue
            # home lands after the indentation (the editor's smart home)
            indent = len(before) - len(before.lstrip())
            await tap(pilot, "ctrl+home", *["down"] * number, "home", "shift+end")
            if after[:indent] != before[:indent]:
                await tap(pilot, "home", "shift+end")
                indent = 0
            rest = after[indent:]
            await quick(pilot, *rest) if rest else await tap(pilot, "delete")
    else:
        editor.select_all()
        for number, line in enumerate(new):
            if number:
                await tap(pilot, "enter")
                if editor.cursor_location[1]:
                    await tap(pilot, "shift+home", "delete")
            if line:
                await quick(pilot, *line)
    await press(pilot, "ctrl+s", "escape")
    assert pilot.app.screen is screen
    assert screen.session.code(file) == text


async def paste_code(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    """Paste the solution's file into the editor (typing it is tested elsewhere)."""
    file = action.params["file"]
    await _open_editor(pilot, screen, file)
    pilot.app.copy_to_clipboard(screen.lesson.solution_files[file])
    await tap(pilot, "f7", "ctrl+v")
    await press(pilot, "ctrl+s", "escape")
    assert pilot.app.screen is screen
    assert screen.session.code(file) == screen.lesson.solution_files[file]


async def schedule(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    triggers = screen.session.triggers
    await open_tab(pilot, screen, SchedulePanel)
    panel = screen.query_one(SchedulePanel)
    await choose(pilot, panel, list(triggers.rules), p["schedule"])
    if "expression" in p:
        await press(pilot, "enter")
        assert isinstance(pilot.app.focused, Input)
        pilot.app.copy_to_clipboard(p["expression"])
        await tap(pilot, "end", "ctrl+u", "ctrl+v")
        await press(pilot, "enter")
        assert triggers.rule(p["schedule"]).expression == p["expression"]
    if "enabled" in p and triggers.rule(p["schedule"]).enabled != p["enabled"]:
        await tap(pilot, "d")
    assert pilot.app.focused is panel


async def http(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    triggers = screen.session.triggers
    await open_tab(pilot, screen, HttpPanel)
    panel = screen.query_one(HttpPanel)
    if "api" in p:
        want = (p["api"], bool(p.get("multi_value", False)))
        for _ in range(4):
            if (triggers.api, triggers.multi_value and triggers.api == "alb") == want:
                break
            await tap(pilot, "d")
    await choose(pilot, panel, list(triggers.requests), p["request"])
    await tap(pilot, "enter")
    await run_invocations(pilot, screen)
    assert triggers.exchanges[-1].response is not None


async def upload(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    triggers = screen.session.triggers
    await open_tab(pilot, screen, BucketPanel)
    panel = screen.query_one(BucketPanel)
    await choose(pilot, panel, list(triggers.uploads), p["upload"])
    await tap(pilot, *["enter"] * int(p.get("times", 1)))


async def bucket(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    p = action.params
    triggers = screen.session.triggers
    await open_tab(pilot, screen, BucketPanel)
    panel = screen.query_one(BucketPanel)
    name = next(u.name for u in triggers.uploads.values() if u.bucket == p["bucket"])
    await choose(pilot, panel, list(triggers.uploads), name)
    if triggers.bucket(p["bucket"]).loop_guard != p["loop_guard"]:
        await tap(pilot, "g")
    assert triggers.bucket(p["bucket"]).loop_guard == p["loop_guard"]


async def redrive(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    """R in the Queues tab on the queue's message, until the queue is empty."""
    await open_tab(pilot, screen, QueuesPanel)
    panel = screen.query_one(QueuesPanel)
    service = screen.session.service
    name = service.queue(action.params["queue"]).name
    rows = render_async.message_rows(service)
    target = [q.name for q, _ in rows].index(name)
    while panel.index > target:
        await tap(pilot, "up")
    while panel.index < target:
        await tap(pilot, "down")
    while service.queue(name).messages:
        await tap(pilot, "R")


async def duplicates(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    """d in the Timeline tab until duplicate delivery is at the wanted rate."""
    await open_tab(pilot, screen, TimelinePanel)
    for _ in range(5):
        if screen.session.duplicate_rate == action.params["rate"]:
            break
        await tap(pilot, "d")
    assert screen.session.duplicate_rate == action.params["rate"]


def _security_row(screen: LessonScreen, action: Action) -> tuple[str, object]:
    """The Security tab row an action is about."""
    p = action.params
    security = screen.session.security
    if action.do == "grant":
        index = next(
            i
            for i, s in enumerate(security.role)
            if (s.function, s.action, s.resource)
            == (p["function"], p["action"], p["resource"])
        )
        return "role", index
    if action.do == "permission":
        index = next(
            i
            for i, s in enumerate(security.invoke)
            if (s.function, s.principal, s.source_arn)
            == (p["function"], p["principal"], p.get("source_arn", ""))
        )
        return "invoke", index
    if action.do == "environment":
        return "env", p["environment"]
    return "kms", (p["function"], p.get("key_arn", ""))


async def secure(pilot: Pilot[None], screen: LessonScreen, action: Action) -> None:
    """In the Security tab: the arrows to the row, enter to grant, revoke or apply."""
    await open_tab(pilot, screen, SecurityPanel)
    panel = screen.query_one(SecurityPanel)
    rows = security_rows(screen.session.security)
    row = _security_row(screen, action)
    while rows[panel.index % len(rows)] != row:
        await tap(pilot, "down")
    kind, value = row
    security = screen.session.security
    want = bool(action.params.get("granted", True))
    if kind == "role" and security.role_granted[value] == want:  # type: ignore[index]
        return
    if kind == "invoke" and security.invoke_granted[value] == want:  # type: ignore[index]
        return
    await tap(pilot, "enter")


Player = Callable[[Pilot[None], LessonScreen, Action], Awaitable[None]]
PLAYERS: dict[str, Player] = {
    "answer": answer,
    "invoke": invoke,
    "burst": invoke,
    "set": configure,
    "write": paste_code,
    "schedule": schedule,
    "http": http,
    "upload": upload,
    "bucket": bucket,
    "redrive": redrive,
    "duplicates": duplicates,
    "grant": secure,
    "permission": secure,
    "environment": secure,
    "kms": secure,
}
Wait = Literal["time", "any-task", "this-task"]
WAITS = {
    "time": step_time,
    "any-task": wait_for_a_task,
    "this-task": wait_for_this_task,
}


async def play(
    pilot: Pilot[None],
    screen: LessonScreen,
    action: Action,
    *,
    typed: bool = False,
    wait: Wait = "time",
) -> None:
    """Play one solution action with its keys.

    ``typed`` writes code key by key instead of pasting it; ``wait`` says how a
    wait action steps time: its full length, until any task is done, or until the
    current step's task is done.
    """
    if action.do == "wait":
        await WAITS[wait](pilot, screen, float(action.params["seconds"]))
    elif action.do == "write" and typed:
        await type_code(pilot, screen, action)
    else:
        player = PLAYERS.get(action.do)
        assert player is not None, f"no keys for {action.do}"
        await player(pilot, screen, action)


def assert_completed(screen: LessonScreen) -> None:
    """Every task of the lesson done, with the failing checks' reasons if not."""
    lesson = screen.lesson
    todo = [
        s.id for s in lesson.steps if s.checks and s.id not in screen.state.passed_steps
    ]
    assert todo == [], [
        r.detail
        for s in lesson.steps
        if s.id in todo
        for r in screen.session.evaluate(s)
    ]
    assert screen.state.completed


async def play_lesson(
    app_factory: AppFactory,
    lesson: Lesson,
    *,
    from_map: bool = False,
    size: tuple[int, int] = (110, 32),
    typed: bool = False,
    wait: Wait = "any-task",
    run_out_s: float = 0.0,
    hooks: Mapping[int, Hook] | None = None,
) -> None:
    """Open a lesson, play its whole solution by keyboard, and require every task done.

    ``hooks[i]`` runs before action ``i``; ``hooks[len(solution)]`` after the lesson
    is complete. ``run_out_s`` more seconds of virtual time are stepped at the end.
    """
    hooks = hooks or {}
    app = app_factory(open_lesson=None if from_map else lesson.id)
    async with app.run_test(size=size) as pilot:
        if from_map:
            screen = await open_from_map(pilot, lesson.id)
        else:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson.id
        for index, action in enumerate(lesson.solution):
            if index in hooks:
                await hooks[index](pilot, screen)
            await play(pilot, screen, action, typed=typed, wait=wait)
        await run_invocations(pilot, screen)
        if run_out_s:
            await step_time(pilot, screen, run_out_s)
        assert_completed(screen)
        if len(lesson.solution) in hooks:
            await hooks[len(lesson.solution)](pilot, screen)
