"""Paths the CLI writes to: a missing folder or a file in the way is named, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalab.cli import main


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("LAMBDALAB_HOME", str(folder))
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_progress_export_into_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nonexistent" / "dir" / "p.json"
    code, out, err = run(capsys, "progress", "export", str(target))
    assert (code, out) == (2, "")
    assert err == (
        f"lambdalab: Cannot write progress to {target}: the folder {target.parent} "
        "does not exist. Create it first, or name a file in a folder that exists.\n"
    )


def test_progress_reset_when_the_data_folder_cannot_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("LAMBDALAB_HOME", str(blocker))
    code, _, err = run(capsys, "--learner", "ada", "progress", "reset", "--yes")
    assert code == 2
    assert err.startswith(f"lambdalab: Cannot save progress in {blocker / 'learners'}")
    assert "set LAMBDALAB_HOME to one that is." in err


def test_progress_import_when_the_data_folder_cannot_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = tmp_path / "p.json"
    assert run(capsys, "progress", "export", str(exported))[0] == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("LAMBDALAB_HOME", str(blocker))
    code, _, err = run(capsys, "progress", "import", str(exported))
    assert code == 2
    assert err.startswith("lambdalab: Cannot save progress in ")


def test_export_out_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    code, _, err = run(capsys, "export", "first-invocation", "--out", str(afile))
    assert (code, err) == (
        2,
        f"lambdalab: --out {afile} is a file; name a folder (it is created if "
        "missing).\n",
    )
    assert afile.read_text() == "keep me"


def test_export_out_below_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    out = afile / "app"
    code, _, err = run(capsys, "export", "first-invocation", "--out", str(out))
    assert code == 2
    assert err.startswith(f"lambdalab: Cannot write the export to {out}: ")
    assert err.endswith(
        "Choose an --out folder you can write to (missing folders are created).\n"
    )


def test_export_out_whose_folder_cannot_be_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # as `--out /proc/nope/x` on Linux: mkdir answers ENOENT for the parent
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise FileNotFoundError(2, "No such file or directory", str(self.parent))

    monkeypatch.setattr(Path, "mkdir", refuse)
    out = tmp_path / "nope" / "x"
    code, _, err = run(capsys, "export", "first-invocation", "--out", str(out))
    assert (code, err) == (
        2,
        f"lambdalab: Cannot write the export to {out}: No such file or directory at "
        f"{out.parent}. Choose an --out folder you can write to (missing folders are "
        "created).\n",
    )
