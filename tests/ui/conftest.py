"""UI fixtures: an app on the bundled course with a private progress folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from players import AppFactory

from lambdalab.course.loader import bundled_lessons_path, load_course
from lambdalab.course.progress import ProgressStore
from lambdalab.ui.app import LambdaLabApp, make_app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAMBDALAB_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def app_factory(home: Path) -> AppFactory:
    course = load_course(
        bundled_lessons_path()
    )  # each test its own: the app may change it

    def build(
        *, live: bool = False, learner: str = "tester", open_lesson: str | None = None
    ) -> LambdaLabApp:
        return make_app(
            course,
            ProgressStore(learner, home=home),
            live=live,
            open_lesson=open_lesson,
        )

    return build
