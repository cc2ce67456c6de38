"""Nothing lost: a sweep killed with SIGKILL, or stopped with SIGTERM, part-way through resumes to the same table."""

import os
import signal
import subprocess
import sys
import time

import pytest

from reglab.cli.main import main
from reglab.sweep import read_results

# Four chunks of two models, each long enough (12 epochs) to be caught part-way.
ARGS = ["sweep", "--data", "digits", "--epochs", "12", "--eta", "0.5", "--lmbda", "1e-2:1e2:8", "--max-models", "2",
        "--quiet", "--no-plots"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


pytestmark = pytest.mark.usefixtures("one_thread")


def start_and_wait_for_first_chunk(out):
    """Start ``reglab sweep`` in a subprocess and return it as soon as its first chunk is written."""
    proc = subprocess.Popen([sys.executable, "-m", "reglab", *ARGS, "--out", str(out)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "results.csv").exists():
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before its first chunk was written: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no chunk written within 120 s")
        time.sleep(0.005)
    return proc


def test_sigkill_part_way_then_resume_gives_the_uninterrupted_table(tmp_path, capsys):
    out = tmp_path / "killed"
    proc = start_and_wait_for_first_chunk(out)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    done = len(read_results(out))
    assert 1 <= done < 8, "the sweep was not caught part-way"
    assert main([*ARGS, "--out", str(out)]) == 0
    assert f"{8 - done} cells trained, {done} reused" in capsys.readouterr().out
    assert main([*ARGS, "--out", str(tmp_path / "whole")]) == 0
    assert read_results(out) == read_results(tmp_path / "whole")
    assert not list(out.rglob(".*.tmp"))


def test_sigterm_stops_cleanly_with_a_resume_hint(tmp_path):
    out = tmp_path / "stopped"
    proc = start_and_wait_for_first_chunk(out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted by SIGTERM" in lines[0] and f"--out {out}" in lines[0]
    done = len(read_results(out))
    assert f"{done} of 8 cells done" in lines[0] and 1 <= done < 8
