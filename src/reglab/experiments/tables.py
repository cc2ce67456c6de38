"""Tables of a report, and how a measured number is written in a sentence or a cell.

A :class:`Table` holds raw cells: numbers stay numbers until a writer formats
them with :func:`num`, strings are plain text (a writer escapes them), and a
:class:`Link` is a cell that points at another file.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TypeGuard


def num(x: float, digits: int = 3) -> str:
    """Format a measured number for a sentence: ``digits`` significant digits, no trailing noise.

    Integers are written whole; NaN and infinities as Python writes them.

    >>> num(0.000312), num(12.0), num(1234567.0), num(-2.0), num(7), num(float("nan"))
    ('0.000312', '12', '1.23e+06', '-2', '7', 'nan')
    """
    if isinstance(x, numbers.Integral):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


@dataclass(frozen=True)
class Link:
    """A cell that links to another file of the report folder (a relative ``href``)."""

    text: str
    href: str


@dataclass(frozen=True)
class Table:
    """A table of a report: ``rows`` of cells under ``columns``; numbers are shown with :func:`num`.

    ``title`` is its caption and ``note`` a sentence under it (either may be empty).
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    note: str = ""


def is_number(cell: object) -> TypeGuard[float]:
    """Whether a cell is a number (written with :func:`num` and aligned right); ``bool`` is not one."""
    return isinstance(cell, numbers.Real) and not isinstance(cell, bool)


def cell_text(cell: object) -> str:
    """The text of a cell, before any escaping: numbers through :func:`num`, a :class:`Link` as its text."""
    if is_number(cell):
        return num(cell)
    if isinstance(cell, Link):
        return cell.text
    return str(cell)
