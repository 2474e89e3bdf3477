"""Status files: a bad one is named once and skipped; a failed write never stops a lab."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from lambdalab.course.progress import Progress
from lambdalab.serve.status import StatusReporter, read_statuses, write_status


def test_a_status_file_in_another_encoding_is_named_once_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_status(tmp_path / "ada.json", {"learner": "Ada"})
    (tmp_path / "bob.json").write_bytes('{"learner": "B\u00f6b"}'.encode("latin-1"))
    (tmp_path / "cy.json").write_text('{"learner": ', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="lambdalab.serve.status"):
        for _ in range(3):  # the instructor page refreshes: one warning per file
            statuses = read_statuses(tmp_path)
    assert sorted(statuses) == ["ada"]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    bob, cy = sorted(warnings)
    assert str(tmp_path / "bob.json") in bob and "not UTF-8 text" in bob
    assert str(tmp_path / "cy.json") in cy and "not valid JSON" in cy


def test_a_status_file_with_wrong_types_is_skipped(tmp_path: Path) -> None:
    write_status(tmp_path / "ada.json", {"learner": "Ada", "step_since": "soon"})
    write_status(tmp_path / "bob.json", {"learner": "Bob", "step": True})
    write_status(tmp_path / "cy.json", {"learner": "Cy", "step": 2, "steps": 3})
    assert sorted(read_statuses(tmp_path)) == ["cy"]


def test_a_status_file_that_cannot_be_written_does_not_stop_the_app(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "status"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    reporter = StatusReporter(blocker / "ada.json", "Ada")
    progress = Progress("Ada")
    with caplog.at_level(logging.WARNING, logger="lambdalab.serve.status"):
        assert reporter.observe(progress, None, 0, None) is False
        assert reporter.observe(progress, None, 0, None) is False
    assert len(caplog.records) == 1  # said once, not every second
    assert str(blocker / "ada.json") in caplog.records[0].getMessage()
    # Once the folder can be made, the next look writes the file.
    blocker.unlink()
    reporter.observe(progress, None, 0, None)
    assert json.loads((blocker / "ada.json").read_text())["learner"] == "Ada"


def test_the_instructor_view_lists_the_good_statuses_beside_bad_ones(
    tmp_path: Path,
) -> None:
    from lambdalab.serve.server import ClassroomServer

    write_status(tmp_path / "ada.json", {"learner": "Ada", "step_since": "soon"})
    (tmp_path / "bob.json").write_bytes(b"\xff\xfe{")
    write_status(tmp_path / "cy.json", {"learner": "Cy", "lesson": "x", "step": 1})
    server = ClassroomServer(status_dir=tmp_path, instructor_key="k")
    data = server.classroom(now=1000.0)
    assert [row["name"] for row in data["learners"]] == ["Cy"]
