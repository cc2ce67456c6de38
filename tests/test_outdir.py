"""reglab.outdir: where a command may write — new, empty or its own folders; one holder at a time; the user's
files never touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reglab.errors import ReglabError
from reglab.outdir import LOCK, MARKER, check_file, claim
from tests.fuzz.harness import ROOT, snapshot


def test_a_new_folder_is_created_marked_and_released(tmp_path):
    out = tmp_path / "a" / "b"
    with claim(out, "sweep", "abc123") as held:
        marker = json.loads((out / MARKER).read_text())
        assert (marker["tool"], marker["command"], marker["config"]) == ("reglab", "sweep", "abc123")
        assert (out / LOCK).read_text().split() == [str(os.getpid()), "sweep"]
        assert held.created == tmp_path / "a" and held.previous is None
    assert sorted(p.name for p in out.iterdir()) == [MARKER]  # the lock goes with its holder


def test_a_failure_before_any_result_gives_back_what_was_created(tmp_path):
    with pytest.raises(RuntimeError), claim(tmp_path / "a" / "b", "train"):
        raise RuntimeError("training failed")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeyboardInterrupt), claim(tmp_path / "empty", "train"):
        raise KeyboardInterrupt
    assert list((tmp_path / "empty").iterdir()) == []
    with pytest.raises(RuntimeError), claim(tmp_path / "kept", "train"):
        (tmp_path / "kept" / "config.json").write_text("{}")
        raise RuntimeError("after a result: the folder stays, with its marker")
    assert {p.name for p in (tmp_path / "kept").iterdir()} == {"config.json", MARKER}


def user_files(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    for name in ("results.csv", "sweep.json", ".draft.tmp", f".results.csv.{os.getpid() + 1}.{'a' * 32}.tmp", "sub/x"):
        (folder / name).write_bytes(os.urandom(64))
    return folder


@pytest.mark.parametrize("command", ["train", "sweep", "study", "reproduce"])
def test_a_folder_of_the_user_is_refused_and_left_byte_for_byte(tmp_path, command):
    folder = user_files(tmp_path / "mine")
    before = snapshot(tmp_path)
    with pytest.raises(ReglabError, match="is not empty and reglab did not write it"):
        claim(folder, command)
    assert snapshot(tmp_path) == before


def test_the_same_command_takes_its_folder_again_another_is_refused(tmp_path):
    with claim(tmp_path / "s", "sweep", "one"):
        pass
    with claim(tmp_path / "s", "sweep", "two") as again:
        assert again.previous["config"] == "one"
    with pytest.raises(ReglabError, match="holds the output of reglab sweep, not of reglab train"):
        claim(tmp_path / "s", "train")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / MARKER).write_text('{"tool": "other", "command": "train"}')
    with pytest.raises(ReglabError, match="reglab did not write it"):
        claim(tmp_path / "fake", "train")


def test_folders_of_one_command_inside_and_around_each_other(tmp_path):
    for name in ("a", "b"):
        with claim(tmp_path / "studies" / name, "study"):
            pass
    with claim(tmp_path / "studies", "study"):  # every entry one of study's folders
        (tmp_path / "studies" / "c").mkdir()
        (tmp_path / "studies" / "c" / "report.html").write_text("<p>")  # written by `study all`, unmarked
    with claim(tmp_path / "studies" / "c", "study"):  # inside a folder of study's
        pass


def test_a_folder_held_in_this_process_is_claimed_again_at_once(tmp_path):
    with claim(tmp_path / "r", "train") as outer:
        with claim(tmp_path / "r", "train") as inner:
            assert inner is outer
        assert (tmp_path / "r" / LOCK).exists()  # still held by the outer claim
        with pytest.raises(ReglabError, match="in use by reglab train in this process"):
            claim(tmp_path / "r", "sweep")
    assert not (tmp_path / "r" / LOCK).exists()


HOLD = """
import sys, time
from reglab.outdir import claim
held = claim(sys.argv[1], "sweep")
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_process_is_refused_naming_the_holder_and_a_dead_holder_is_stale(tmp_path):
    out = tmp_path / "s"
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(ReglabError, match=rf"is in use by reglab sweep \(process {child.pid}\); wait for it"):
            claim(out, "sweep")
        orphan = out / f".results.csv.{child.pid}.{'0' * 32}.tmp"
        orphan.write_text("half")  # what it was writing when it died
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert (out / LOCK).exists()  # left behind by the killed holder: stale
    mine = out / ".notes.tmp"
    mine.write_text("mine")
    with claim(out, "sweep") as held:  # the dead holder's temporary file goes with the claim; the user's stays
        assert held.stale_pid == child.pid
        assert not orphan.exists() and mine.read_text() == "mine"


@pytest.mark.parametrize("make,message", [
    (lambda t: t / "file", "is a file; give a folder"),
    (lambda t: t / "file" / "x", "a part of the path is a file"),
    (lambda t: t / ("n" * 300), "the name is too long"),
    (lambda t: t / "new" / ("n" * 300) / "x", "the name is too long"),  # "new" made on the way, removed again
    (lambda t: Path("/proc/reglab-x"), "cannot write there"),
    (lambda t: "", "needs a folder name"),
    (lambda t: "a\0b", "cannot contain a NUL"),
])
def test_unusable_paths_are_one_line(tmp_path, make, message):
    (tmp_path / "file").write_text("keep")
    with pytest.raises(ReglabError, match=message) as info:
        claim(make(tmp_path), "train")
    assert "\n" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_newline_in_a_name_stays_one_line_in_a_message(tmp_path):
    (tmp_path / "a\nb").write_text("x")
    with pytest.raises(ReglabError) as info:
        claim(tmp_path / "a\nb", "train")
    assert "a\\nb is a file" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("make,message", [
    (lambda t: t, "is a folder; give a file name"),
    (lambda t: t / "file" / "x.pt", "a part of the path is a file"),
    (lambda t: t / "file" / "deeper" / "x.pt", "a part of the path is a file"),
    (lambda t: t / ("n" * 300 + ".pt"), "the name is too long"),
    (lambda t: t / ("n" * 230 + ".pt"), "the name is too long"),  # fits, but its temporary file beside it would not
    (lambda t: t / "new" / ("n" * 300) / "x.pt", "the name is too long"),
    (lambda t: Path("/proc/reglab-x.pt"), "cannot write there"),
    (lambda t: " ", "needs a file name"),
])
def test_a_file_that_cannot_be_written_is_one_line_and_nothing_is_left(tmp_path, make, message):
    (tmp_path / "file").write_text("keep")
    with pytest.raises(ReglabError, match=message) as info:
        check_file(make(tmp_path))
    assert "\n" not in str(info.value)
    assert snapshot(tmp_path) == {"file": b"keep"}


def test_a_file_that_can_be_written_leaves_nothing_behind_and_a_named_file_is_kept_until_written(tmp_path):
    assert check_file(tmp_path / "a" / "b" / "m.pt") == tmp_path / "a" / "b" / "m.pt"
    assert list(tmp_path.iterdir()) == []  # the folders made to try it are gone again
    (tmp_path / "m.pt").write_text("old")
    check_file(tmp_path / "m.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"] and (tmp_path / "m.pt").read_text() == "old"
