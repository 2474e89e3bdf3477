"""Lesson 11 completed with the keyboard in step mode, through the Security tab.

Security actions become a learner's keys: ] to the Security tab, the arrows to the
statement, set or key, enter to grant, revoke or apply. Uploads and predictions are
played as in the trigger lessons.
"""

from __future__ import annotations

from conftest import AppFactory
from test_lessons_by_keyboard import settle
from test_trigger_lessons import COURSE, open_tab, text_of, wait
from test_trigger_lessons import play as play_trigger
from textual.pilot import Pilot
from textual.widgets import Static

from lambdalab.course.model import Action
from lambdalab.ui.panels.buckets import BucketPanel
from lambdalab.ui.panels.security import SecurityPanel, security_rows
from lambdalab.ui.screens.lesson import LessonScreen

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _target(screen: LessonScreen, action: Action) -> tuple[str, object]:
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


async def play_security(
    pilot: Pilot[None], screen: LessonScreen, action: Action
) -> None:
    await open_tab(pilot, screen, SecurityPanel)
    panel = screen.query_one(SecurityPanel)
    rows = security_rows(screen.session.security)
    row = _target(screen, action)
    while rows[panel.index % len(rows)] != row:
        await pilot.press("down")
    kind, value = row
    security = screen.session.security
    want = bool(action.params.get("granted", True))
    if kind == "role" and security.role_granted[value] == want:  # type: ignore[index]
        return
    if kind == "invoke" and security.invoke_granted[value] == want:  # type: ignore[index]
        return
    await pilot.press("enter")


async def _cert_refused_with_t57_text(pilot: Pilot[None], screen: LessonScreen) -> None:
    # LAMBDA-FACTS T57: the whole update is refused, with Lambda's own message.
    notes = [n for n in pilot.app._notifications if n.title.startswith("InvalidParam")]
    assert notes and notes[-1].message.startswith(
        "Lambda was unable to configure your environment variables because the "
        "environment variables you have provided exceeded the 4KB limit. String "
        'measured: {"THUMB_WIDTH":"128","PARTNER_CERT":"-----BEGIN CERTIFICATE-----'
    )
    assert screen.session.service.function("thumbnailer").environment == {}


async def _denied_call_shown(pilot: Pilot[None], screen: LessonScreen) -> None:
    await open_tab(pilot, screen, SecurityPanel)
    state = text_of(screen.query_one("#security-state", Static))
    assert (
        "✘ AccessDenied thumbnailer: s3:PutObject arn:aws:s3:::photos/thumbs/cat.jpg"
        in state
    )


async def test_security_lesson_completed_with_the_keyboard(
    app_factory: AppFactory,
) -> None:
    lesson = COURSE.lesson("security")
    assert lesson is not None
    checks = {
        i + 1: _cert_refused_with_t57_text
        for i, a in enumerate(lesson.solution)
        if a.params.get("environment") == "cert"
    }
    first_answer_after_wait = next(
        i for i, a in enumerate(lesson.solution) if a.do == "wait"
    )
    checks[first_answer_after_wait + 1] = _denied_call_shown
    app = app_factory(open_lesson="security")
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen) and screen.lesson.id == "security"
        for index, action in enumerate(lesson.solution):
            if index in checks:
                await checks[index](pilot, screen)
            if action.do == "wait":
                await wait(pilot, screen, float(action.params["seconds"]))
            elif action.do in ("grant", "permission", "environment", "kms"):
                await play_security(pilot, screen, action)
            else:
                await play_trigger(pilot, screen, action)
        await settle(pilot, screen)
        await pilot.pause()
        todo = [
            s.id
            for s in lesson.steps
            if s.checks and s.id not in screen.state.passed_steps
        ]
        assert todo == [], [
            r.detail
            for s in lesson.steps
            if s.id in todo
            for r in screen.session.evaluate(s)
        ]
        assert screen.state.completed
        assert screen.session.security.kms_key("thumbnailer") == KMS_KEY


async def _security_tab(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen)
    await pilot.press("2")
    await open_tab(pilot, screen, SecurityPanel)
    await pilot.press("enter")  # revoke s3:* on *
    await open_tab(pilot, screen, BucketPanel)
    await pilot.press("enter")
    await wait(pilot, screen, 5)
    await open_tab(pilot, screen, SecurityPanel)
    pilot.app.clear_notifications()
    await pilot.pause()


def test_security_tab_after_a_denied_call(
    snap_compare: object, app_factory: AppFactory
) -> None:
    assert snap_compare(  # type: ignore[operator]
        app_factory(open_lesson="security"),
        terminal_size=(110, 32),
        run_before=_security_tab,
    )
