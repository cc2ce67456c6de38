"""Claims: a number a reference reports, the same number measured here, and whether the two agree.

A :class:`Claim` is stated before anything runs: what is measured, on what,
the reference's number (and how the reference words it), and the test the
measurement must pass, with its tolerance. :func:`claim_row` judges the
measured values (one per seed or repeat) against it and gives a
:class:`ClaimRow`, one line of a claims table.

The verdict rules, on the mean ``m`` of the measured values:

============  ========================  ======================================
``check``     passes when               written as (``tolerance_text``)
============  ========================  ======================================
``±``         ``|m − reference| ≤ tol``  ``±0.5 points`` (``%`` → points)
``<``         ``m < tol``                ``< 1 points``
``>``         ``m > tol``                ``> 0 points``
``>=``        ``m ≥ tol``                ``>= 99.95%``
============  ========================  ======================================

A row the caller marks not comparable (measured otherwise than the reference
was, e.g. trained for fewer epochs) is shown with the verdict
``not comparable`` and never judged. A NaN mean (a run that diverged) fails
every test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reglab.experiments.tables import Table

#: The tests a claim can state (see the module docstring).
CHECKS = ("±", "<", ">", ">=")

YES, NO, NOT_COMPARABLE = "yes", "no", "not comparable"

#: Column names of :func:`claims_table` (a ``note`` column follows them).
CLAIM_COLUMNS = ("experiment", "on", "measured", "reference", "mean ± sd", "difference", "tolerance", "within")


@dataclass(frozen=True)
class Claim:
    """A number a reference reports, and the test a measurement of it must pass.

    ``on``: what it is measured on (an arm of an experiment, a setting of a study);
    ``what``: the quantity, in words; ``reading``: how the number is read off the
    results (the framework never looks inside it: reproduce puts a ``Statistic``
    here); ``reference`` and ``reference_text``: the reference's number (``None``
    where it gives none, e.g. "still rising") and its own words; ``check`` and
    ``tol``: the test (see :data:`CHECKS`); ``unit``: ``%``, ``epoch``, ``points``…
    """

    on: str
    what: str
    reading: Any  # whatever the caller reads results with; the framework never looks inside it
    reference: float | None
    reference_text: str
    check: str
    tol: float
    unit: str = "%"
    note: str = ""

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r}; the checks are {', '.join(CHECKS)}")
        if self.check == "±" and self.reference is None:
            raise ValueError(f"claim {self.what!r}: a ± check needs a reference number")


def judge(claim: Claim, value: float) -> bool:
    """Whether ``value`` passes the claim's test (a NaN never does)."""
    if claim.check == "±":
        assert claim.reference is not None  # a ± claim has one (checked when it is made)
        return abs(value - claim.reference) <= claim.tol
    if claim.check == "<":
        return value < claim.tol
    if claim.check == ">":
        return value > claim.tol
    return value >= claim.tol  # ">="


def with_unit(text: str, unit: str) -> str:
    """``"82.10%"``, ``"15.0 epochs"``, ``"0.40 points"``."""
    return f"{text}%" if unit == "%" else f"{text} {unit}s" if unit == "epoch" else f"{text} {unit}"


def tolerance_text(claim: Claim) -> str:
    """The test in words: ``±0.5 points``, ``±10 epochs``, ``< 1 points``, ``>= 99.95%``."""
    if claim.check == "±":
        return f"±{claim.tol:g} " + ("points" if claim.unit == "%" else claim.unit + "s" if claim.unit == "epoch" else claim.unit)
    return f"{claim.check} " + with_unit(f"{claim.tol:g}", claim.unit)


@dataclass(frozen=True)
class ClaimRow:
    """A claim judged: the measured values, their mean and sample standard deviation, the verdict.

    ``difference`` is ``mean − reference`` for a ``±`` claim, ``None`` otherwise;
    ``verdict`` is ``yes``, ``no`` or ``not comparable``.
    """

    experiment: str
    on: str
    what: str
    reference_text: str
    reference: float | None
    values: tuple[float, ...]
    mean: float
    sd: float
    difference: float | None
    tolerance: str
    verdict: str
    unit: str = "%"
    note: str = ""

    def cells(self) -> tuple[str, ...]:
        """The row under :data:`CLAIM_COLUMNS`, then the note; epochs with one decimal, the rest with two."""
        digits = 1 if self.unit == "epoch" else 2
        spread = "" if math.isnan(self.sd) else f" ± {self.sd:.{digits}f}"
        diff = "—" if self.difference is None else f"{self.difference:+.{digits}f}"
        return (self.experiment, self.on, self.what, self.reference_text,
                with_unit(f"{self.mean:.{digits}f}{spread}", self.unit), diff, self.tolerance, self.verdict, self.note)


def claim_row(claim: Claim, values: Sequence[float], *, experiment: str = "", comparable: bool = True,
              note: str | None = None) -> ClaimRow:
    """Judge the measured ``values`` (one per seed or repeat) against ``claim``.

    ``comparable=False`` gives the verdict ``not comparable`` (shown, not judged);
    ``note`` replaces the claim's own note (the caller adds what the measurement
    says, such as diverged runs).
    """
    array = np.asarray(values, dtype=float)
    mean = float(array.mean()) if array.size else math.nan
    sd = float(array.std(ddof=1)) if array.size > 1 else math.nan
    verdict = NOT_COMPARABLE if not comparable else YES if judge(claim, mean) else NO
    difference = mean - claim.reference if claim.check == "±" and claim.reference is not None else None
    return ClaimRow(experiment, claim.on, claim.what, claim.reference_text, claim.reference,
                    tuple(float(v) for v in array), mean, sd, difference, tolerance_text(claim), verdict, claim.unit,
                    claim.note if note is None else note)


def tally(rows: Sequence[ClaimRow]) -> tuple[int, int]:
    """``(within, judged)``: rows whose verdict is ``yes``, and rows that were judged at all."""
    judged = [r for r in rows if r.verdict != NOT_COMPARABLE]
    return sum(r.verdict == YES for r in judged), len(judged)


def claims_table(rows: Sequence[ClaimRow], title: str = "", columns: Sequence[str] = CLAIM_COLUMNS, note: str = "") -> Table:
    """The rows as a :class:`Table` under ``columns`` (eight names, as :data:`CLAIM_COLUMNS`) and ``note``."""
    if len(columns) != len(CLAIM_COLUMNS):
        raise ValueError(f"a claims table has {len(CLAIM_COLUMNS)} columns before its note, not {len(columns)}")
    return Table(title, (*columns, "note"), tuple(r.cells() for r in rows), note)
