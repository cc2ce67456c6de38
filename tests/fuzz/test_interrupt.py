"""Interruptions: SIGKILL at seeded points of a sweep, then resume, gives the uninterrupted table; two sweeps on
one folder never interleave (the second is refused, naming the first); SIGTERM and Ctrl-C during train and
study exit 143 and 130 with one line and leave no partial file."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from reglab.outdir import LOCK
from reglab.sweep import read_results
from tests.fuzz.harness import ENV, ROOT, assert_clean_failure, assert_no_partial_files, cli, real_cli

# Four chunks of two models, long enough (8 epochs each) to be caught part-way.
SWEEP = ["sweep", "--data", "digits", "--epochs", "8", "--eta", "0.5", "--lmbda", "1e-2:1e2:8", "--max-models", "2",
         "--quiet", "--no-plots"]
PY_ENV = {**ENV, "PYTHONPATH": str(ROOT / "src")}


def start(argv, where, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reglab", *map(str, argv)], cwd=where, env=PY_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for(path, proc, seconds=120.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, f"it ended first: {proc.communicate()}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)


def values(rows: list[dict]) -> list[dict]:
    """The rows without the columns that time the run."""
    return [{k: v for k, v in r.items() if "seconds" not in k and k != "host"} for r in rows]


@pytest.mark.slow
def test_sigkill_at_five_seeded_points_then_resume_gives_the_uninterrupted_table(tmp_path):
    t0 = time.monotonic()
    whole = real_cli([*SWEEP, "--out", tmp_path / "whole"], tmp_path)
    assert whole.code == 0, whole.err
    span = time.monotonic() - t0
    out = tmp_path / "killed"
    rng = random.Random(18)
    for delay in (rng.uniform(0.25, 0.95) * span for _ in range(5)):
        proc = start([*SWEEP, "--out", out], tmp_path)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    resumed = real_cli([*SWEEP, "--out", out], tmp_path)
    assert resumed.code == 0, resumed.err
    assert values(read_results(out)) == values(read_results(tmp_path / "whole"))
    assert_no_partial_files(out)
    assert not (out / LOCK).exists()


@pytest.mark.slow
def test_two_sweeps_on_one_folder_the_second_is_refused_and_no_row_is_lost(tmp_path):
    out = tmp_path / "shared"
    first = start([*SWEEP, "--out", out], tmp_path)
    wait_for(out / LOCK, first)
    second = cli([*SWEEP, "--lmbda", "0.5,5", "--out", out], tmp_path)
    error = assert_clean_failure(second)
    assert f"is in use by reglab sweep (process {first.pid})" in error
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert len(read_results(out)) == 8
    # once the first has finished, a grid that would drop its rows is refused; one that keeps them extends it
    error = assert_clean_failure(cli([*SWEEP, "--lmbda", "0.5,5", "--out", out], tmp_path))
    assert "holds 8 finished cell(s) of another grid" in error and len(read_results(out)) == 8


@pytest.mark.slow
@pytest.mark.parametrize("sig,code,line", [(signal.SIGTERM, 143, "reglab: interrupted by SIGTERM"),
                                           (signal.SIGINT, 130, "reglab: interrupted by Ctrl-C")])
@pytest.mark.parametrize("argv", [["train", "--data", "digits", "--epochs", "100000", "--quiet"],
                                  ["study", "feature-selection", "--quick"]], ids=["train", "study"])
def test_sigterm_and_ctrl_c_leave_no_partial_file(tmp_path, argv, sig, code, line):
    out = tmp_path / "out"
    proc = start([*argv, "--out", out], tmp_path)
    wait_for(out, proc)
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.splitlines()[-1] == line and "Traceback" not in err
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]  # nothing was finished: nothing left
