"""The consoles every command prints through: results on ``stdout``, progress and notes on ``stderr``.

Text that came from the user or the file system (paths, data set names) is
escaped before rich reads it as markup: a file named ``[red]x.csv`` prints as such.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reglab.io import dumps


def _console(**kw) -> Console:
    """A console that, when not writing to a terminal, is wide enough for the tables instead of 80 columns."""
    c = Console(highlight=False, **kw)
    return c if c.is_terminal else Console(highlight=False, width=max(c.width, 130), **kw)


stdout = _console()
stderr = _console(stderr=True)


def pct(x) -> str:
    """A fraction as a percentage with two decimals; ``—`` for a missing one (``None`` or NaN)."""
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.2f}%"


def table(title: str, columns: Sequence[str], *, left: Sequence[str] = (), caption: str | None = None) -> Table:
    """An empty rich table: every column right-aligned except those named in ``left``; ``title`` and ``caption`` escaped."""
    t = Table(title=escape(title), caption=None if caption is None else escape(caption))
    for col in columns:
        t.add_column(col, justify="left" if col in left else "right")
    return t


def note(text: str) -> None:
    """A note on stderr (``note: …``), e.g. that MNIST was missing and the 8×8 digits are used."""
    stderr.print(f"[yellow]note:[/] {escape(text)}")


def say(text: str) -> None:
    """A line on stderr exactly as it is (not markup, tabs not expanded): plans and notes with the user's text."""
    stderr.file.write(text + "\n")
    stderr.file.flush()


def line(text: str) -> None:
    """A line on stdout exactly as it is (not markup, tabs not expanded), e.g. ``run folder: PATH``."""
    stdout.file.write(text + "\n")


def print_json(obj) -> None:
    """``obj`` as JSON on stdout (non-finite numbers as ``null``)."""
    sys.stdout.write(dumps(obj) + "\n")
