"""``--out`` for every command that writes a folder: checked before any work (creatable, writable, reglab's own
or new), refused in one line (exit 2) with nothing written anywhere; a folder of the user's files left byte for
byte as it was; a full disk answered in one line (exit 74) with no half-written file."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

import reglab.io
from tests.fuzz.harness import TINY, TRAINERS, assert_clean_failure, assert_no_partial_files, cli, snapshot

#: Each command that writes a folder, as it runs cheaply (a study: the quickest; reproduce: where no MNIST is,
#: so that it never trains — the folder is checked before MNIST is looked for).
WRITERS = {
    **TRAINERS,
    "study": ["study", "update-rule", "--quick"],
    "study all": ["study", "all", "--quick"],
    "reproduce": ["reproduce", "nielsen-ch3", "--only", "C", "--max-epochs", "1", "--seeds", "1", "--data-dir", "nowhere"],
}


def user_folder(where: Path) -> Path:
    """A folder of the user's own files, some with the names reglab writes, hidden temporary files among them."""
    folder = where / "mine"
    (folder / "chunks").mkdir(parents=True)
    for name, text in {"results.csv": "my results\n", "sweep.json": "{}", "config.json": '{"mine": 1}',
                       ".draft.tmp": "draft", ".results.csv.tmp": "x", "chunks/.a.tmp": "y", "report.html": "<p>",
                       "summary.json": "[]", "index.html": "mine", "reproduce.md": "# notes"}.items():
        (folder / name).write_text(text)
    return folder


def a_file(where: Path) -> Path:
    (where / "file.txt").write_text("keep")
    return where / "file.txt"


BAD_OUT = {
    "an existing file": (a_file, "is a file"),
    "under a file": (lambda w: a_file(w) / "sub", "a part of the path is a file"),
    "in /proc": (lambda w: Path("/proc/reglab-out"), "cannot write there"),
    "too long": (lambda w: w / ("x" * 300), "the name is too long"),
    "the user's folder": (user_folder, "is not empty and reglab did not write it"),
}


@pytest.mark.parametrize("case", list(BAD_OUT))
@pytest.mark.parametrize("command", list(WRITERS))
def test_a_bad_out_is_one_line_before_any_work_and_nothing_is_written(command, case, tmp_path):
    where = tmp_path / "cwd"
    where.mkdir()
    make, message = BAD_OUT[case]
    out = make(tmp_path)
    before, before_cwd = snapshot(tmp_path), snapshot(where)
    error = assert_clean_failure(cli([*WRITERS[command], "--out", out], where))
    assert message in error and "--out" in error
    assert snapshot(tmp_path) == before and snapshot(where) == before_cwd == {}


@pytest.mark.parametrize("command", ["train", "sweep", "path", "study", "reproduce"])
def test_the_folder_of_another_command_is_refused(command, tmp_path):
    other = "sweep" if command != "sweep" else "train"
    out = tmp_path / "out"
    out.mkdir()
    (out / ".reglab.json").write_text(json.dumps({"tool": "reglab", "command": other, "config": "x"}))
    before = snapshot(tmp_path)
    error = assert_clean_failure(cli([*WRITERS[command], "--out", out], tmp_path))
    assert f"holds the output of reglab {other}, not of reglab {command}" in error
    assert snapshot(tmp_path) == before


def test_a_run_folder_is_written_again_by_the_same_command_and_other_files_are_kept(tmp_path):
    out = tmp_path / "run"
    assert cli(["train", *TINY, "--out", out], tmp_path).code == 0
    (out / "notes.txt").write_text("mine")
    first = json.loads((out / "summary.json").read_text())
    again = cli(["train", *TINY, "--lmbda", "3", "--out", out], tmp_path)
    assert again.code == 0, again.err
    assert json.loads((out / "summary.json").read_text())["models"][0]["lmbda"] == 3 != first["models"][0]["lmbda"]
    assert (out / "notes.txt").read_text() == "mine"
    assert_no_partial_files(out)


def test_an_empty_folder_is_taken_and_left_empty_when_the_command_fails(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_clean_failure(cli(["train", "--data", tmp_path / "missing.npz", "--out", tmp_path / "empty"], tmp_path))
    error = assert_clean_failure(cli(["train", *TINY, "--batch-size", "1000", "--out", tmp_path / "empty"], tmp_path))
    assert "exceeds" in error and list((tmp_path / "empty").iterdir()) == []


@pytest.mark.parametrize("case", [c for c in BAD_OUT if c != "an existing file"])
def test_export_checks_its_file_before_any_work(case, tmp_path):
    run = tmp_path / "run"
    assert cli([*TRAINERS["train"], "--no-plots", "--out", run], tmp_path).code == 0
    make, message = BAD_OUT[case]
    out = make(tmp_path)
    before = snapshot(tmp_path)
    error = assert_clean_failure(cli(["export", run, "--out", out], tmp_path))
    assert ("is a folder; give a file name" if case == "the user's folder" else message) in error and "--out" in error
    assert snapshot(tmp_path) == before


# -- read-only and full file systems -------------------------------------------------------------
@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str):
    """A tmpfs at ``where`` (root can mount one); skip where that is not possible."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip() or 'not root'}); the fake full disk "
                    "below covers the same code")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.mark.parametrize("command", ["train", "sweep", "study"])
def test_a_read_only_file_system_is_one_line_before_any_work(command, tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "ro,size=64k") as ro:
        error = assert_clean_failure(cli([*WRITERS[command], "--out", ro / "out"], tmp_path))
        assert "the file system is read-only" in error


def fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    (folder / "filler").write_bytes(bytes(max(0, free - leave)))


@pytest.mark.parametrize("command", ["train", "sweep", "study"])
def test_a_full_disk_is_one_line_exit_74_and_no_half_written_file(command, tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=256k") as disk:
        fill(disk, 24 << 10)
        outcome = cli([*WRITERS[command], "--out", disk / "out"], tmp_path)
        error = assert_clean_failure(outcome, codes=(74,), only_line=False)
        assert "No space left on device" in error and "the disk is full" in error
        assert_no_partial_files(disk)


class FullDisk:
    """``open`` for reglab.io whose files take ``room`` bytes in all, then fail as a full device does."""

    def __init__(self, room: int):
        self.room = room

    def __call__(self, path, mode="r", **kw):
        f = open(path, mode, **kw)
        disk = self
        write = f.write

        def limited(data):
            disk.room -= len(data.encode() if isinstance(data, str) else data)
            if disk.room < 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return write(data)

        f.write = limited
        return f


_written: dict[str, int] = {}


def bytes_written(command: str, where: Path, monkeypatch) -> int:
    """What ``command`` writes through reglab.io, measured once."""
    if command not in _written:
        disk = FullDisk(1 << 60)
        monkeypatch.setattr(reglab.io, "open", disk, raising=False)
        assert cli([*WRITERS[command], "--out", where / "whole"], where).code == 0
        _written[command] = (1 << 60) - disk.room
    return _written[command]


@pytest.mark.parametrize("share", [0.0, 0.5])
@pytest.mark.parametrize("command", ["train", "sweep", "study"])
def test_a_fake_full_disk_is_one_line_exit_74_and_no_half_written_file(command, share, tmp_path, monkeypatch):
    """The disk fills after ``share`` of what the command writes."""
    room = int(share * bytes_written(command, tmp_path, monkeypatch))
    monkeypatch.setattr(reglab.io, "open", FullDisk(room), raising=False)
    outcome = cli([*WRITERS[command], "--out", tmp_path / "out"], tmp_path)
    if share == 0:  # the marker cannot be written: the folder is unusable before any work
        assert "cannot write there" in assert_clean_failure(outcome)
        assert not (tmp_path / "out").exists()
        return
    error = assert_clean_failure(outcome, codes=(74,), only_line=False)
    assert "No space left on device" in error
    assert_no_partial_files(tmp_path / "out")
