"""Every bundled lesson: its start fails its checks, its reference solution passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.session import LabSession, replay_problems

COURSE = load_course(bundled_lessons_path())


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.id)
def test_start_fails_and_solution_passes(lesson: object, tmp_path: Path) -> None:
    assert replay_problems(lesson, tmp_path) == []  # type: ignore[arg-type]


def test_failed_check_explains_in_lambda_terms(tmp_path: Path) -> None:
    lesson = COURSE.lesson("first-invocation")
    assert lesson is not None
    session = LabSession(lesson, tmp_path, wall_guard_s=1.0)
    try:
        [first] = session.evaluate(lesson.steps[0])
        assert not first.passed
        assert (
            first.detail
            == "Needs at least 1 cold successful invocation of hello; the lab shows 0. So far: nothing yet."
        )
        session.service.run_until_done(session.invoke("hello", "no-name"))
        [first] = session.evaluate(lesson.steps[0])
        assert (
            first.detail
            == "Needs at least 1 cold successful invocation of hello; the lab shows 0. So far: error (cold) ×1."
        )
        error_step = lesson.steps[2]
        results = session.evaluate(error_step)
        assert [r.passed for r in results] == [True, True]
    finally:
        session.close()


def test_saved_code_runs_in_a_new_environment(tmp_path: Path) -> None:
    lesson = COURSE.lesson("first-invocation")
    assert lesson is not None
    session = LabSession(lesson, tmp_path, wall_guard_s=1.0)
    try:
        first = session.service.run_until_done(session.invoke("hello", "ada"))
        session.save_code(
            "handler.py", session.code("handler.py").replace("Hello", "Howdy")
        )
        second = session.service.run_until_done(session.invoke("hello", "ada"))
        assert second.cold and second.env_id != first.env_id
        assert second.response is not None and "Howdy, Ada!" in second.response.payload
        assert (tmp_path / "handler.py").read_text().count("Howdy") == 1
    finally:
        session.close()


def test_a_setting_check_speaks_the_lambda_api(tmp_path: Path) -> None:
    lesson = COURSE.lesson("throttling")
    assert lesson is not None
    step = next(s for s in lesson.steps if any(c.type == "config" for c in s.checks))
    session = LabSession(lesson, tmp_path, wall_guard_s=1.0)
    try:
        config = next(
            r
            for r in session.evaluate(step)
            if "ReservedConcurrentExecutions" in r.detail
        )
        assert not config.passed
        assert config.detail == (
            "checkout's ReservedConcurrentExecutions is not set; the goal is 3."
        )
        session.service.put_function_concurrency("checkout", 3)
        config = next(
            r
            for r in session.evaluate(step)
            if "ReservedConcurrentExecutions" in r.detail
        )
        assert config.passed
        assert config.detail == "checkout's ReservedConcurrentExecutions is 3."
    finally:
        session.close()
