"""Lesson security: the loader's located errors, the role, policy and environment checks."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdalab.course.loader import bundled_lessons_path, load_lesson
from lambdalab.course.model import Lesson, ScheduleSpec
from lambdalab.course.security import CallRecord, LabSecurity
from lambdalab.course.session import LabSession
from lambdalab.errors import LessonFormatError

LESSON = bundled_lessons_path() / "11-security"
PHOTOS_THUMBS = "arn:aws:s3:::photos/thumbs/*"


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "lesson"
    shutil.copytree(LESSON, folder)
    path = folder / "lesson.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return folder


def test_a_role_statement_without_service_prefix_is_refused(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path, 'action = "s3:DeleteObject"', 'action = "DeleteObject"')
    with pytest.raises(LessonFormatError) as caught:
        load_lesson(folder)
    where, _, problem = str(caught.value).partition(": ")
    assert re.fullmatch(rf"{re.escape(str(folder / 'lesson.toml'))}:\d+", where)
    assert problem == (
        "lab.security.role[3].action: 'DeleteObject' must be service:Action, e.g. "
        "s3:PutObject."
    )


def test_a_solution_naming_an_unknown_environment_set_is_refused(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path, 'environment = "small"', 'environment = "huge"')
    with pytest.raises(LessonFormatError) as caught:
        load_lesson(folder)
    assert str(caught.value).endswith(
        "solution[13].environment: 'huge' is not one of lab.security.environments "
        "(small, cert)."
    )


def test_a_variables_file_that_is_not_utf8_is_named_with_its_fix(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path, "THUMB_WIDTH", "THUMB_WIDTH")
    pem = folder / "partner-cert.pem"
    pem.write_bytes(b"-----BEGIN CERTIFICATE-----\nMI\xe9\n")
    with pytest.raises(LessonFormatError) as caught:
        load_lesson(folder)
    assert str(caught.value).endswith(
        f"{pem}: not UTF-8 text (byte 0xe9 on line 2 is not valid UTF-8). Save it as "
        "UTF-8 and try again."
    )


@pytest.fixture
def session(tmp_path: Path) -> Iterator[LabSession]:
    lab = LabSession(load_lesson(LESSON), tmp_path / "work", wall_guard_s=2.0)
    yield lab
    lab.close()


def test_environment_over_4kb_is_refused_with_lambdas_text(
    session: LabSession,
) -> None:
    # LAMBDA-FACTS T57: the JSON of all variables over 4,096 bytes; nothing changes.
    refused = session.security.apply_environment("cert")
    assert refused is not None
    assert refused.startswith(
        "Lambda was unable to configure your environment variables because the "
        "environment variables you have provided exceeded the 4KB limit. String "
        'measured: {"THUMB_WIDTH":"128","PARTNER_CERT":"-----BEGIN CERTIFICATE-----\\n'
    )
    assert session.service.function("thumbnailer").environment == {}
    assert session.security.apply_environment("small") is None
    step = next(s for s in session.lesson.steps if s.id == "variables")
    assert [session.check(c).passed for c in step.checks] == [True, True]
    passed, detail = session.security.check_environment(
        {"function": "thumbnailer", "kms_key_arn": ""}, {"THUMB_WIDTH": "128"}
    )
    assert (passed, detail) == (
        True,
        "thumbnailer has 1 variable(s), 21 of 4096 bytes, encrypted with aws/lambda.",
    )


def _security(folder: Path, role_granted: list[bool]) -> LabSecurity:
    lesson: Lesson = load_lesson(LESSON)
    security = LabSecurity(
        lesson.lab.security,
        folder,
        account_id="123456789012",
        now_ms=lambda: 0.0,
        configure=lambda *_: None,
    )
    security.role_granted = role_granted
    return security


def _put(key: str, outcome: str = "applied") -> CallRecord:
    return CallRecord(
        1.0, "thumbnailer", "s3:PutObject", f"arn:aws:s3:::photos/{key}", outcome
    )


def test_role_check_explains_denied_unused_and_broader_grants(tmp_path: Path) -> None:
    check = {"function": "thumbnailer"}
    calls = [_put("thumbs/cat.jpg")]
    denied = [_put("thumbs/cat.jpg", "denied")]
    assert _security(tmp_path, [False, False, False, False]).check_role(
        check, denied
    ) == (
        False,
        "thumbnailer's execution role does not allow s3:PutObject on "
        "arn:aws:s3:::photos/thumbs/cat.jpg: the call failed with AccessDenied. "
        "Grant a statement that covers it.",
    )
    assert _security(tmp_path, [False, False, True, True]).check_role(check, calls) == (
        False,
        "s3:DeleteObject on arn:aws:s3:::photos/uploads/* is granted but thumbnailer "
        "never used it; least privilege: revoke it.",
    )
    assert _security(tmp_path, [True, False, False, False]).check_role(
        check, calls
    ) == (
        False,
        "s3:* on * is broader than the calls need: s3:PutObject on "
        "arn:aws:s3:::photos/* covers all of them. Grant the narrower statement "
        "instead.",
    )
    assert _security(tmp_path, [False, False, True, False]).check_role(
        check, calls
    ) == (
        True,
        "thumbnailer's role allows exactly what it used (1 call(s)): s3:PutObject on "
        f"{PHOTOS_THUMBS}.",
    )


def test_s3_delivery_outside_the_resource_policy_is_denied(
    session: LabSession,
) -> None:
    session.security.permission("thumbnailer", "s3.amazonaws.com", "", False)
    assert session.triggers.upload("cat") == []
    row = session.triggers.activity[-1]
    assert (row.kind, row.text) == (
        "denied",
        "AccessDenied: the resource-based policy of thumbnailer has no statement "
        "allowing s3.amazonaws.com to call lambda:InvokeFunction for "
        "arn:aws:s3:::photos; the event was not delivered.",
    )
    session.security.permission(
        "thumbnailer", "s3.amazonaws.com", "arn:aws:s3:::photos", True
    )
    assert len(session.triggers.upload("cat")) == 1
    assert session.security.check_policy(
        {
            "function": "thumbnailer",
            "principal": "s3.amazonaws.com",
            "source_arn": "arn:aws:s3:::other",
            "allowed": False,
        }
    ) == (
        True,
        "thumbnailer's resource-based policy does not allow s3.amazonaws.com to "
        "invoke it for arn:aws:s3:::other.",
    )


def test_a_classic_rule_needs_events_in_the_policy_but_scheduler_does_not(
    tmp_path: Path,
) -> None:
    lesson = load_lesson(LESSON)
    lab = lesson.lab
    rules = (
        ScheduleSpec("tick", "rate(1 minute)", "thumbnailer"),
        ScheduleSpec("zoned", "rate(1 minute)", "thumbnailer", timezone="UTC"),
    )
    lesson = Lesson(
        **{**lesson.__dict__, "lab": type(lab)(**{**lab.__dict__, "schedules": rules})}
    )
    session = LabSession(lesson, tmp_path / "w", wall_guard_s=2.0)
    try:
        session.advance(61)
        assert [len(r.fires) for r in session.triggers.rules.values()] == [0, 2]
        assert session.security.denials[0].source_arn == (
            "arn:aws:events:us-east-1:123456789012:rule/tick"
        )
    finally:
        session.close()
