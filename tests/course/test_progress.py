"""Progress: atomic, per learner, corrupt files set aside, export and import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdalab.course.progress import Progress, ProgressStore, learner_folder_name
from lambdalab.errors import ProgressError


def test_round_trip(tmp_path: Path) -> None:
    store = ProgressStore("Ada", home=tmp_path)
    progress = Progress("Ada", current="first-invocation")
    progress.lesson("first-invocation").step = 2
    progress.lesson("first-invocation").passed_steps.append("cold-start")
    store.save(progress)
    again = store.load()
    assert again.current == "first-invocation"
    assert again.lesson("first-invocation").step == 2
    assert again.lesson("first-invocation").passed_steps == ["cold-start"]
    assert list(store.folder.iterdir()) == [store.path]  # no temp files left


def test_corrupt_file_is_set_aside_not_fatal(tmp_path: Path) -> None:
    store = ProgressStore("ada", home=tmp_path)
    store.folder.mkdir(parents=True)
    store.path.write_text("{not json")
    fresh = store.load()
    assert fresh.lessons == {}
    aside = store.folder / "progress.corrupt-1.json"
    assert aside.read_text() == "{not json"
    assert "could not be read (not valid JSON at line 1)" in fresh.notice
    assert "progress.corrupt-1.json" in fresh.notice


def test_foreign_file_is_set_aside(tmp_path: Path) -> None:
    store = ProgressStore("ada", home=tmp_path)
    store.folder.mkdir(parents=True)
    store.path.write_text(json.dumps({"hello": "world"}))
    assert "is not a lambdalab progress file" in store.load().notice


def test_learners_never_share_and_names_cannot_escape(tmp_path: Path) -> None:
    a, b = ProgressStore("ada", home=tmp_path), ProgressStore("bob", home=tmp_path)
    assert a.path != b.path
    for bad in ("../evil", "a/b", "..", "", ".hidden", "x" * 41):
        with pytest.raises(ProgressError, match="is not usable"):
            learner_folder_name(bad)


def test_export_import(tmp_path: Path) -> None:
    store = ProgressStore("ada", home=tmp_path)
    progress = Progress("ada", current="sync-vs-async")
    progress.lesson("sync-vs-async").completed = True
    store.save(progress)
    exported = tmp_path / "out.json"
    store.export(exported)
    other = ProgressStore("ada-laptop", home=tmp_path)
    imported = other.import_(exported)
    assert imported.lesson("sync-vs-async").completed
    assert other.load().current == "sync-vs-async"
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ProgressError, match="is not a lambdalab progress file"):
        other.import_(tmp_path / "bad.json")


@pytest.mark.parametrize(
    ("lesson", "message"),
    [
        ({"step": "abc"}, "step is 'abc'; it must be a whole number, 0 or more"),
        ({"step": -5}, "step is -5; it must be a whole number, 0 or more"),
        (
            {"predictions": {"warm-start": "x"}},
            "predictions is {'warm-start': 'x'}; it must be an object of step id to a number",
        ),
        ({"completed": "yes"}, "completed is 'yes'; it must be true or false"),
    ],
)
def test_hand_edited_fields_are_refused_by_name(
    tmp_path: Path, lesson: dict[str, object], message: str
) -> None:
    store = ProgressStore("ada", home=tmp_path)
    store.folder.mkdir(parents=True)
    doc = {
        "format": "lambdalab-progress",
        "version": 1,
        "lessons": {"first-invocation": lesson},
    }
    store.path.write_text(json.dumps(doc))
    loaded = store.load()
    assert loaded.lessons == {}
    assert message in loaded.notice
    bad = tmp_path / "import.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(
        ProgressError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("{", r"\{")
        .replace("}", r"\}"),
    ):
        store.import_(bad)


def test_export_to_a_folder_that_does_not_exist_says_so(tmp_path: Path) -> None:
    store = ProgressStore("ada", home=tmp_path / "home")
    target = tmp_path / "missing" / "p.json"
    with pytest.raises(ProgressError) as err:
        store.export(target)
    assert str(err.value) == (
        f"Cannot write progress to {target}: the folder {target.parent} does not "
        "exist. Create it first, or name a file in a folder that exists."
    )


def test_export_onto_a_folder_names_a_file_to_use(tmp_path: Path) -> None:
    store = ProgressStore("ada", home=tmp_path / "home")
    with pytest.raises(ProgressError) as err:
        store.export(tmp_path)
    assert str(err.value) == (
        f"Cannot write progress to {tmp_path}: it is a folder. Name a file, e.g. "
        f"{tmp_path / 'progress.json'}."
    )


def test_export_below_a_file_says_the_parent_is_a_file(tmp_path: Path) -> None:
    store = ProgressStore("ada", home=tmp_path / "home")
    (tmp_path / "notes").write_text("")
    with pytest.raises(ProgressError, match=r"notes is a file, not a folder"):
        store.export(tmp_path / "notes" / "p.json")
