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


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    assert lines.count(text) == 1
    return lines.index(text) + 1


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('id = "warm-start"', "id = 5", "steps[1].id: must be text, not 5."),
        (
            'goal = "Read the answer: status 200 with X-Amz-Function-Error: Unhandled."',
            "goal = 5",
            "steps[2].checks[1].goal: must be text, not 5.",
        ),
        (
            "answer = 2\n",
            'answer = "two"\n',
            "steps[1].predict.answer: must be a number",
        ),
    ],
)
def test_a_key_in_an_array_of_tables_is_found_in_its_own_entry(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    # id, goal and answer appear in many [[steps]] tables (and id at the top): the line
    # is the one in the entry named by the index, not the first line with that key.
    lesson = _copy_lesson(tmp_path)
    manifest = lesson / "lesson.toml"
    _edit(manifest, old, new)
    with pytest.raises(LessonFormatError) as err:
        load_course(lesson)
    line = _line_of(manifest, new.strip())
    assert str(err.value).startswith(f"{manifest}:{line}: {key}")


def test_a_missing_key_points_at_its_table(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    manifest = lesson / "lesson.toml"
    _edit(manifest, 'goal = "Invoke hello with no-name and get', "# (no goal) ")
    with pytest.raises(LessonFormatError) as err:
        load_course(lesson)
    lines = manifest.read_text().splitlines()
    # the fix step's only check is the file's last [[steps.checks]]
    header = len(lines) - lines[::-1].index("[[steps.checks]]")
    assert str(err.value) == (
        f"{manifest}:{header}: steps[3].checks[0].goal: missing; add it."
    )


def test_the_locator_skips_multi_line_strings(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    manifest = lesson / "lesson.toml"
    text = manifest.read_text()
    summary = next(line for line in text.splitlines() if line.startswith("summary ="))
    manifest.write_text(
        text.replace(summary, 'summary = """\n[[steps]]\nid = 1\noutcome = 2\n"""')
    )
    _edit(manifest, 'outcome = "error"', "outcome = 7")
    with pytest.raises(LessonFormatError) as err:
        load_course(lesson)
    # the [[steps]] inside the summary is text, not a table: steps[2] is the third one
    line = _line_of(manifest, "outcome = 7")
    assert str(err.value).startswith(f"{manifest}:{line}: steps[2].checks[0].outcome")


UTF16_REASON = (
    "not UTF-8 text (it starts with a UTF-16 byte-order mark, so it was saved as "
    "UTF-16). Save it as UTF-8 and try again."
)


@pytest.mark.parametrize(
    "name", ["lesson.toml", "steps/2-warm-start.md", "recap.md", "handler.py"]
)
def test_a_lesson_file_saved_as_utf16_is_named(tmp_path: Path, name: str) -> None:
    lesson = _copy_lesson(tmp_path)
    path = lesson / name
    path.write_text(path.read_text(), encoding="utf-16")
    with pytest.raises(LessonFormatError) as err:
        load_course(lesson)
    assert str(err.value) == f"{path}: {UTF16_REASON}"


def test_a_course_toml_saved_as_utf16_is_named(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(LESSONS / "01-first-invocation", course / "one")
    (course / "course.toml").write_text(
        'format_version = 1\ntitle = "x"\nlessons = ["one"]\n', encoding="utf-16"
    )
    with pytest.raises(LessonFormatError) as err:
        load_course(course)
    assert str(err.value) == f"{course / 'course.toml'}: {UTF16_REASON}"


def test_a_latin1_step_names_the_byte_and_its_line(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    (lesson / "steps" / "1-cold-start.md").write_bytes(b"# Caf\xe9\n")
    with pytest.raises(
        LessonFormatError,
        match=r"1-cold-start.md: not UTF-8 text \(byte 0xe9 on line 1 is not valid",
    ):
        load_course(lesson)


def test_manifests_and_markdown_with_a_utf8_byte_order_mark_load(
    tmp_path: Path,
) -> None:
    course = tmp_path / "course"
    lesson = course / "one"
    shutil.copytree(LESSONS / "01-first-invocation", lesson)
    (course / "course.toml").write_text(
        'format_version = 1\ntitle = "BOM"\nlessons = ["one"]\n', encoding="utf-8-sig"
    )
    for name in ("lesson.toml", "recap.md"):
        (lesson / name).write_text((lesson / name).read_text(), encoding="utf-8-sig")
    loaded = load_course(course)
    assert loaded.title == "BOM"
    assert loaded.lessons[0].id == "first-invocation"
    assert not loaded.lessons[0].recap.startswith("\ufeff")


def test_an_empty_folder_says_what_a_course_or_lesson_needs(tmp_path: Path) -> None:
    with pytest.raises(LessonFormatError) as err:
        load_course(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: has neither course.toml nor lesson.toml. A course folder needs "
        "course.toml (its title and lesson folders, in order); a single lesson folder "
        "needs lesson.toml. Add one, or point at the folder that has it."
    )


def test_a_file_instead_of_a_folder_is_named(tmp_path: Path) -> None:
    lesson = _copy_lesson(tmp_path)
    with pytest.raises(LessonFormatError, match="is a file; point at the folder"):
        load_course(lesson / "lesson.toml")


def test_an_environment_variable_file_that_is_not_utf8_is_named(
    tmp_path: Path,
) -> None:
    lesson = tmp_path / "security"
    shutil.copytree(LESSONS / "11-security", lesson)
    pem = lesson / "partner-cert.pem"
    pem.write_text(pem.read_text(), encoding="utf-16")
    with pytest.raises(LessonFormatError) as err:
        load_course(lesson)
    assert str(err.value) == f"{pem}: {UTF16_REASON}"
