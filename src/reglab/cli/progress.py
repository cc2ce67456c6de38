"""One progress display for every command: rich bars on stderr at a terminal, a plain line per task elsewhere.

A task has a name (what the user reads), an optional total and unit (``epochs``,
``cells``, ``bytes``) and a note (the best validation accuracy so far). When
both stdout and stderr are a terminal each task is a bar; when either is a pipe
or a file (``reglab study all | tee log``, ``> log``, a CI job), a task prints
one line on stderr when it starts and one when it finishes, flushed at once, so
that what runs shows up as it runs, and a live bar does not fight with results
piped back to the same terminal (``2>&1 | tee log`` puts the lines in the log).

The same object serves every command:

- ``progress.epochs(name, total)`` is a callback of :func:`reglab.engine.loop.fit`
  (``reglab train`` and ``run``);
- ``progress(name, done, total)`` starts, advances and finishes a named task:
  the hook of :func:`reglab.reproduce.reproduce` (batched runs),
  :func:`reglab.studies.run_all` (studies) and :func:`reglab.data.fetch.fetch_mnist`
  (downloads);
- ``start``, ``update`` and ``finish`` do it by hand (the cells and chunks of a sweep).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.filesize import decimal
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as Bars
from rich.text import Text

from reglab.cli.console import stderr, stdout


def accuracy_note(record: dict) -> str:
    """``validation 97.12%``: the best model's accuracy after an epoch (the training split's without validation)."""
    key = "validation_accuracy" if "validation_accuracy" in record else "train_accuracy"
    acc = record.get(key)
    if acc is None or not np.isfinite(acc).any():
        return ""
    return f"{key.split('_')[0]} {100 * np.nanmax(acc):.2f}%"


def _count(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class _Amount(ProgressColumn):
    """``3/30 epochs``; bytes as ``1.2/9.9 MB 3.4 MB/s``; nothing for a task without a unit or a total."""

    def __init__(self) -> None:
        super().__init__()
        self.count, self.size, self.speed = MofNCompleteColumn(), DownloadColumn(), TransferSpeedColumn()

    def render(self, task) -> Text:
        unit = task.fields["unit"]
        if unit == "bytes":
            return Text.assemble(self.size.render(task), " ", self.speed.render(task))
        if not unit or task.total is None:
            return Text("")
        return Text.assemble(self.count.render(task), f" {unit}")


@dataclass
class _Task:
    bar: TaskID | None  # rich's task id; None without bars
    total: float | None
    completed: float
    unit: str
    note: str
    started: float
    finished: bool = False

    def amount(self) -> str:
        if self.unit == "bytes":
            return decimal(int(self.completed))
        if not self.unit or self.total is None:
            return ""
        return f"{_count(self.completed)}/{_count(self.total)} {self.unit}"


class Progress:
    """Named tasks shown on ``console`` (stderr): bars when it and ``results`` (stdout) are terminals, else a line
    as each starts and finishes.

    Parameters
    ----------
    unit : str
        Unit of the tasks that do not name their own: ``epochs``, ``cells``, ``bytes``, or ``""`` (none).
    console : rich Console
        Where to draw; ``reglab.cli.console.stderr`` by default.
    results : rich Console
        Where the command prints its results; ``reglab.cli.console.stdout`` by default. Bars only when both
        it and ``console`` are terminals.
    show : bool
        ``False``: nothing is shown (``--quiet``, ``--json``); the calls cost next to nothing.
    lines : bool
        ``False``: no plain lines when the console is not a terminal (bars only).

    Use it as a context manager: leaving it finishes the tasks still open (their line says how far
    they got) and stops the bars; leaving it on an exception only stops the bars.
    """

    def __init__(self, unit: str = "", *, console: Console = stderr, results: Console = stdout, show: bool = True,
                 lines: bool = True):
        self.unit, self.console, self.show = unit, console, show
        live = show and console.is_terminal and results.is_terminal
        self.lines = show and lines and not live
        self.bars = Bars(
            TextColumn("[bold]{task.description}"), BarColumn(), _Amount(), TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        ) if live else None
        self.tasks: dict[str, _Task] = {}

    def __enter__(self) -> Progress:
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            for name in list(self.tasks):
                self.finish(name)
        if self.bars is not None:
            self.bars.stop()

    def say(self, text: str) -> None:
        """One line of text (printed as it is, not as markup) above the bars, or among the lines."""
        if self.show:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def start(self, name: str, total: float | None = None, *, completed: float = 0, unit: str | None = None,
              note: str = "") -> None:
        """Start task ``name`` (a task of that name already there starts again); ``total=None``: no end known."""
        unit = self.unit if unit is None else unit
        old = self.tasks.pop(name, None)
        bar = None
        if self.bars is not None:
            if old is not None and old.bar is not None:
                self.bars.remove_task(old.bar)
            bar = self.bars.add_task(escape(name), total=total, completed=int(completed), unit=unit, note=escape(note))
        task = self.tasks[name] = _Task(bar, total, completed, unit, note, time.monotonic())
        done = f" ({task.amount()} done)" if completed and task.amount() else ""
        self._line(f"{name}{done} …")
        if total is not None and completed >= total:
            self.finish(name)

    def update(self, name: str, completed: float | None = None, *, total: float | None = None, advance: float = 0,
               note: str | None = None) -> None:
        """Move task ``name`` to ``completed`` (or on by ``advance``); it finishes when it reaches its total."""
        task = self.tasks[name]
        task.total = task.total if total is None else total
        task.completed = (task.completed if completed is None else completed) + advance
        task.note = task.note if note is None else note
        if self.bars is not None and task.bar is not None:
            self.bars.update(task.bar, total=task.total, completed=task.completed, note=escape(task.note))
        if task.total is not None and task.completed >= task.total:
            self.finish(name)

    def finish(self, name: str, *, remove: bool = False) -> None:
        """Task ``name`` is done (where it got to); ``remove`` also takes its bar away."""
        task = self.tasks[name]
        if not task.finished:
            task.finished = True
            if self.bars is not None and task.bar is not None and task.total is None:
                self.bars.update(task.bar, total=1, completed=1)
            amount = task.amount() or "done"
            note = f"; {task.note}" if task.note else ""
            self._line(f"{name}: {amount} in {time.monotonic() - task.started:.1f} s{note}")
        if remove:
            if self.bars is not None and task.bar is not None:
                self.bars.remove_task(task.bar)
            del self.tasks[name]

    def __call__(self, name: str, done: float, total: float | None) -> None:
        """The hook of reproduce, studies and downloads: task ``name`` is at ``done`` of ``total``."""
        task = self.tasks.get(name)
        if task is None or (task.finished and (total is None or done < total)):
            self.start(name, total, completed=done)
        else:
            self.update(name, done, total=total)

    def epochs(self, name: str, total: int) -> Callable[[int, dict, object], None]:
        """Start task ``name`` of ``total`` epochs; return the :func:`~reglab.engine.loop.fit` callback that moves it."""
        self.start(name, total, unit="epochs")

        def callback(epoch: int, record: dict, state: object = None) -> None:
            self.update(name, epoch, note=accuracy_note(record))

        return callback

    def _line(self, text: str) -> None:
        if self.lines:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)
            self.console.file.flush()
