"""The status a learner's app reports for the instructor view."""

from __future__ import annotations

import json
from pathlib import Path

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.progress import Progress
from lambdalab.course.session import LabSession
from lambdalab.serve.status import StatusReporter, stuck_reasons


def test_failed_checks_and_hints_are_counted_and_flagged(tmp_path: Path) -> None:
    course = load_course(bundled_lessons_path())
    lesson = course.lesson("sync-vs-async")
    assert lesson is not None
    session = LabSession(lesson, tmp_path / "work", wall_guard_s=2.0)
    progress = Progress("Ada")
    reporter = StatusReporter(tmp_path / "status" / "ada.json", "Ada")
    try:
        assert reporter.observe(progress, lesson, 0, session) is False
        # bad-order makes the handler raise: the step wants a success, so each
        # finished attempt is a failed check.
        for _ in range(3):
            inv = session.invoke("packer", "bad-order")
            session.service.run_until_done(inv)
            assert reporter.observe(progress, lesson, 0, session) is True
        assert reporter.observe(progress, lesson, 0, session) is False
        progress.lesson(lesson.id).hints_used["sync"] = 2
        reporter.observe(progress, lesson, 0, session)
        status = json.loads((tmp_path / "status" / "ada.json").read_text())
        assert status["lesson"] == "sync-vs-async"
        assert status["step"] == 1 and status["steps"] == 3
        assert status["failed_step"] == 3
        assert status["failed_lesson"] == progress.lesson(lesson.id).failed_checks == 3
        assert status["hints_step"] == 2
        from lambdalab.serve.status import LearnerStatus

        reasons = stuck_reasons(LearnerStatus(**status), status["step_since"] + 1)
        assert reasons == ["3 failed checks on this step", "2 hints on this step"]
        # A passing attempt is not a failed check.
        inv = session.invoke("packer", "order")
        session.service.run_until_done(inv)
        assert reporter.observe(progress, lesson, 0, session) is False
        # Moving to another step starts its own count.
        reporter.observe(progress, lesson, 1, session)
        status = json.loads((tmp_path / "status" / "ada.json").read_text())
        assert status["step"] == 2 and status["failed_step"] == 0
        assert status["failed_lesson"] == 3
    finally:
        session.close()


def test_the_course_map_is_reported_without_a_lesson(tmp_path: Path) -> None:
    progress = Progress("Bob")
    progress.lesson("first-invocation").completed = True
    reporter = StatusReporter(tmp_path / "bob.json", "Bob")
    reporter.observe(progress, None, 0, None)
    status = json.loads((tmp_path / "bob.json").read_text())
    assert status["lesson"] is None
    assert status["completed"] == ["first-invocation"]
