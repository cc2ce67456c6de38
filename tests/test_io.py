"""reglab.io: a file is absent or whole; a failed write is one OutputError (exit 74) that leaves it as it was."""

from __future__ import annotations

import errno
import os

import pytest

import reglab.io
from reglab.errors import EXIT_IOERR, OutputError
from reglab.io import TEMP_PATTERN, atomic_open, orphaned_temp_files, temp_path, write_text


class NoSpace:
    """``open`` whose files fail as a full device does after ``room`` bytes."""

    def __init__(self, room: int):
        self.room = room

    def __call__(self, path, mode="r", **kw):
        f = open(path, mode, **kw)
        write = f.write

        def limited(data):
            self.room -= len(data)
            if self.room < 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return write(data)

        f.write = limited
        return f


@pytest.mark.parametrize("room", [0, 5])
def test_a_full_disk_is_an_output_error_and_the_file_is_as_it_was(tmp_path, monkeypatch, room):
    path = tmp_path / "results.csv"
    path.write_text("old, whole")
    monkeypatch.setattr(reglab.io, "open", NoSpace(room), raising=False)
    with pytest.raises(OutputError, match=r"cannot write .*results.csv: No space left on device \(the disk is full") as e:
        write_text(path, "new content, longer than the room left")
    assert e.value.exit_code == EXIT_IOERR == 74
    assert path.read_text() == "old, whole" and os.listdir(tmp_path) == ["results.csv"]


def test_other_errors_of_the_block_pass_through_and_leave_no_temporary_file(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_open(tmp_path / "out.csv") as f:
        f.write("header\n")
        open(tmp_path / "missing-source.csv")  # reading a source: not a failure to write
    assert os.listdir(tmp_path) == []


def test_a_folder_that_cannot_be_made_is_an_output_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot write .*file.out.txt: File exists"):  # mkdir of the folder: a file
        write_text(tmp_path / "file" / "out.txt", "x")


def test_temporary_names_are_recognized_by_their_exact_pattern(tmp_path):
    mine = temp_path(tmp_path / "sweep.json")
    assert TEMP_PATTERN.match(mine.name)["name"] == "sweep.json"
    others = tmp_path / f".sweep.json.{os.getpid() + 1}.{'f' * 32}.tmp"
    for p in (mine, others, tmp_path / ".sweep.json.tmp", tmp_path / ".x.12.short.tmp", tmp_path / "a.1.tmp"):
        p.write_text("")
    assert orphaned_temp_files(tmp_path) == [others]
