"""Lesson 11 completed with the keyboard in step mode, through the Security tab.

Security actions become a learner's keys: ] to the Security tab, the arrows to the
statement, set or key, enter to grant, revoke or apply. Uploads and predictions are
played as in the trigger lessons.
"""

from __future__ import annotations

from players import (
    COURSE,
    AppFactory,
    open_tab,
    play_lesson,
    settle,
    tap,
    text_of,
    wait_for_a_task,
)
from textual.pilot import Pilot
from textual.widgets import Static

from lambdalab.ui.panels.buckets import BucketPanel
from lambdalab.ui.panels.security import SecurityPanel
from lambdalab.ui.screens.lesson import LessonScreen

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


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

    async def _kms_key_chosen(pilot: Pilot[None], screen: LessonScreen) -> None:
        assert screen.session.security.kms_key("thumbnailer") == KMS_KEY

    checks[len(lesson.solution)] = _kms_key_chosen
    await play_lesson(app_factory, lesson, hooks=checks)


async def _security_tab(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen)
    await tap(pilot, "2")
    await open_tab(pilot, screen, SecurityPanel)
    await tap(pilot, "enter")  # revoke s3:* on *
    await open_tab(pilot, screen, BucketPanel)
    await tap(pilot, "enter")
    await wait_for_a_task(pilot, screen, 5)
    await open_tab(pilot, screen, SecurityPanel)
    pilot.app.clear_notifications()
    await settle(pilot)


def test_security_tab_after_a_denied_call(
    snap_compare: object, app_factory: AppFactory
) -> None:
    assert snap_compare(  # type: ignore[operator]
        app_factory(open_lesson="security"),
        terminal_size=(110, 32),
        run_before=_security_tab,
    )
