"""The one progress display: bars at a terminal, a flushed line per task start and finish elsewhere."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

from reglab.cli.main import main
from reglab.cli.progress import Progress, accuracy_note


class Flushes(io.StringIO):
    """A pipe-like file that remembers what had been written each time it was flushed."""

    def __init__(self):
        super().__init__()
        self.flushed: list[str] = []

    def flush(self):
        self.flushed.append(self.getvalue())


def pipe() -> tuple[Console, Flushes]:
    out = Flushes()
    return Console(file=out, width=100), out


def test_plain_lines_when_not_a_terminal():
    console, out = pipe()
    with Progress("epochs", console=console) as progress:
        for done in range(4):
            progress("training H=30", done, 3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0] == "training H=30 …"
    assert re.fullmatch(r"training H=30: 3/3 epochs in \d+\.\d s", lines[1])
    assert out.flushed[0] == "training H=30 …\n"  # flushed as soon as it is written


def test_epochs_callback_notes_the_best_accuracy_and_an_early_stop_finishes_at_exit():
    console, out = pipe()
    with Progress(console=console) as progress:
        callback = progress.epochs("training 2 model(s) on digits", 30)
        callback(1, {"validation_accuracy": np.array([0.5, 0.75])}, None)
        callback(2, {"validation_accuracy": np.array([0.6, np.nan])}, None)
    lines = out.getvalue().splitlines()
    assert lines[0] == "training 2 model(s) on digits …"
    assert lines[1].startswith("training 2 model(s) on digits: 2/30 epochs in ") and lines[1].endswith("; validation 60.00%")


def test_accuracy_note():
    assert accuracy_note({"validation_accuracy": np.array([0.1, 0.9])}) == "validation 90.00%"
    assert accuracy_note({"train_accuracy": np.array([0.25])}) == "train 25.00%"
    assert accuracy_note({"validation_accuracy": np.array([np.nan])}) == ""


def test_tasks_without_a_total_and_by_hand():
    console, out = pipe()
    with Progress(console=console) as progress:
        progress.start("study goldilocks (quick, seed 0)")
        progress.finish("study goldilocks (quick, seed 0)")
        progress.start("cells", 4, completed=1, unit="cells")
        progress.update("cells", advance=3)
        progress.say("a message")
    lines = out.getvalue().splitlines()
    assert lines[0] == "study goldilocks (quick, seed 0) …"
    assert re.fullmatch(r"study goldilocks \(quick, seed 0\): done in \d+\.\d s", lines[1])
    assert lines[2] == "cells (1/4 cells done) …" and lines[3].startswith("cells: 4/4 cells in ")
    assert lines[4] == "a message" and len(lines) == 5


def test_bytes_are_written_as_sizes():
    console, out = pipe()
    with Progress("bytes", console=console) as progress:
        progress("t10k-labels-idx1-ubyte.gz", 0, 5_000)
        progress("t10k-labels-idx1-ubyte.gz", 5_000, 5_000)
    assert out.getvalue().splitlines()[1].startswith("t10k-labels-idx1-ubyte.gz: 5.0 kB in ")


def test_nothing_on_an_exception_nor_when_hidden():
    console, out = pipe()
    with pytest.raises(KeyboardInterrupt), Progress(console=console) as progress:
        progress.start("a task", 10)
        raise KeyboardInterrupt
    assert out.getvalue() == "a task …\n"  # no line saying it finished
    for kw in ({"show": False}, {"lines": False}):
        console, out = pipe()
        with Progress(console=console, **kw) as progress:
            progress("x", 0, 1)
            progress("x", 1, 1)
            progress.say("hidden" if kw.get("show") is False else "said")
        assert out.getvalue() == ("" if kw.get("show") is False else "said\n")


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120), out


def test_lines_when_stdout_is_not_a_terminal_though_stderr_is():
    """`reglab study all | tee log`: stderr is the terminal, stdout a pipe; a line per task, not a bar."""
    console, out = terminal()
    with Progress("epochs", console=console, results=pipe()[0]) as progress:
        progress("study goldilocks", 0, 2)
        progress("study goldilocks", 2, 2)
    lines = out.getvalue().splitlines()
    assert lines[0] == "study goldilocks …" and re.fullmatch(r"study goldilocks: 2/2 epochs in \d+\.\d s", lines[1])
    assert "\x1b" not in out.getvalue()  # no bar drawn


def test_lines_when_stderr_is_not_a_terminal_though_stdout_is():
    console, out = pipe()
    with Progress("epochs", console=console, results=terminal()[0]) as progress:
        progress("a task", 0, 1)
        progress("a task", 1, 1)
    assert out.getvalue().splitlines()[0] == "a task …" and "\x1b" not in out.getvalue()


def test_bars_at_a_terminal_show_names_as_text_not_markup():
    console, out = terminal()
    with Progress("epochs", console=console, results=terminal()[0]) as progress:
        progress("[red]data[/red].csv", 0, 2)
        progress("[red]data[/red].csv", 2, 2)
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", out.getvalue())  # without the terminal's colours
    assert "[red]data[/red].csv" in text and "2/2 epochs" in text


def test_study_under_a_pipe_says_what_runs(tmp_path, capsys):
    assert main(["study", "penalty-geometry", "--quick", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "study penalty-geometry (quick, seed 0) …"
    assert re.fullmatch(r"study penalty-geometry \(quick, seed 0\): done in \d+\.\d s", err[1])
