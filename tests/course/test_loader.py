"""Lesson loading: the bundled course loads, and malformed lessons are named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.errors import LessonFormatError

LESSONS = bundled_lessons_path()


def test_bundled_course_loads_in_order() -> None:
    course = load_course(LESSONS)
    assert [lesson.id for lesson in course.lessons][:2] == [
        "first-invocation",
        "sync-vs-async",
    ]
    for lesson in course.lessons:
        assert lesson.objectives and lesson.steps and lesson.solution and lesson.recap
        assert any(step.checks for step in lesson.steps)
        assert all(step.hints for step in lesson.steps if step.checks)


def _copy_lesson(tmp_path: Path) -> Path:
    target = tmp_path / "lesson"
    shutil.copytree(LESSONS / "01-first-invocation", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_unknown_key_names_file_line_and_choices(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    _edit(lesson / "lesson.toml", "timeout_s = 3", "timeout_s = 3\ntimout = 4")
    with pytest.raises(LessonFormatError) as err:
        load_course(lesson)
    message = str(err.value)
    assert message.startswith(f"{lesson / 'lesson.toml'}:")
    assert "lab.functions[0].timout: unknown key; use one of name, handler" in message


def test_missing_markdown_file_is_named(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    (lesson / "steps" / "2-warm-start.md").unlink()
    with pytest.raises(
        LessonFormatError,
        match=r"steps\[1\]\.text: file steps/2-warm-start.md does not exist",
    ):
        load_course(lesson)


def test_bad_reference_to_a_function(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    _edit(
        lesson / "lesson.toml",
        'function = "hello"\noutcome = "success"\ncold = true',
        'function = "helo"\noutcome = "success"\ncold = true',
    )
    with pytest.raises(
        LessonFormatError, match=r"'helo' is not a function of this lab \(hello\)"
    ):
        load_course(lesson)


def test_invalid_toml_reports_the_line(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    _edit(lesson / "lesson.toml", "seed = 1", "seed = = 1")
    with pytest.raises(LessonFormatError, match=r"not valid TOML: .*line \d+"):
        load_course(lesson)


def test_unknown_solution_event(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    _edit(lesson / "lesson.toml", 'event = "grace"', 'event = "grase"')
    with pytest.raises(
        LessonFormatError,
        match=r"'grase' is not one of the lab's events \(ada, grace, no-name\)",
    ):
        load_course(lesson)


def test_wrong_format_version(tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "course.toml").write_text(
        'format_version = 9\ntitle = "x"\nlessons = ["a"]\n'
    )
    with pytest.raises(
        LessonFormatError,
        match="format_version: is 9; this lambdalab reads format_version = 1",
    ):
        load_course(course)


def test_lessons_check_reports_code_that_does_not_compile(tmp_path: Path) -> None:
    from lambdalab.course.session import replay_problems

    lesson = _copy_lesson(tmp_path)
    (lesson / "handler.py").write_text("def handler(event, context)\n    return 1\n")
    problems = replay_problems(load_course(lesson).lessons[0], tmp_path / "work")
    assert problems[0] == (
        f"first-invocation: {lesson / 'handler.py'}, line 1: expected ':'; fix it so Lambda can import it."
    )
