r"""The learning-rate × λ grid of a sweep: mean validation accuracy over ``(η, λ)`` and the ridge of its good λ.

Where a sweep varies both ``η`` and ``λ`` (``reglab sweep --eta A:B:N --lmbda C:D:M``), the curves that
differ only in ``η`` form a :class:`Grid`: ``accuracy[i, j]``, the mean over replicates (seeds, folds)
of the validation accuracy at ``(η_i, λ_j)``. Its *ridge* is, at each η, the largest λ whose accuracy
is within ``tolerance`` (1 point) of the row's best,

.. math::  \lambda^*(\eta_i) = \max\,\{\lambda_j : \bar a_{ij} \ge \max_k \bar a_{ik} - \delta\},

glmnet's 1-SE idea with a fixed tolerance: the most regularization that does not cost accuracy. It is
read at the upper edge of the good region rather than at its best cell, because near the optimum
accuracy is flat (which cell of a plateau wins is noise) and a short training often leaves every small
λ equally good (the region then ends at the grid's smallest λ, and only its upper edge moves). A row
whose λ* is the grid's largest is flagged: its good region may extend beyond the grid. How the ridge
moves is measured by the least-squares slope ``b`` of ``log λ* = a + b log η`` and the correlation
``r`` of ``log η`` and ``log λ*`` over the rows: ``b ≈ 0`` means the good region is aligned with the
axes (the best λ does not depend on η: the two can be tuned apart), ``b ≈ −1`` a diagonal along which
``ηλ`` is constant (as when only the decay per step ``ηλ/n`` matters), ``b ≈ +1`` one along which
``λ/η`` is constant. ``r`` is undefined (NaN) when λ* is the same at every η.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reglab.sweep.select import METRIC, Curve


@dataclass(frozen=True)
class Ridge:
    """The best λ per η and how it moves (module docstring)."""

    eta: np.ndarray  # (I,) the rows with a finite accuracy
    lmbda: np.ndarray  # (I,) λ*(η): the largest λ within the tolerance of the row's best
    at_edge: np.ndarray  # (I,) bool: λ* is the grid's largest (the good region may go on beyond it)
    slope: float  # d log λ* / d log η (NaN with fewer than 2 rows)
    correlation: float  # of log η and log λ* (NaN when λ* is constant)

    def summary(self) -> dict:
        return {"eta": self.eta.tolist(), "lmbda": self.lmbda.tolist(), "at_edge": self.at_edge.tolist(),
                "slope": self.slope, "correlation": self.correlation}


#: How far below a row's best accuracy a λ still counts as good (a fraction: 1 point).
TOLERANCE = 0.01


def ridge(eta: np.ndarray, lmbda: np.ndarray, accuracy: np.ndarray, tolerance: float = TOLERANCE) -> Ridge:
    """The ridge of ``accuracy`` (I, J) over ``eta`` (I,) × ``lmbda`` (J,), both positive and ascending."""
    rows, upper, edge = [], [], []
    for i, row in enumerate(accuracy):
        ok = np.isfinite(row)
        if not ok.any():
            continue
        good = ok & (np.where(ok, row, -np.inf) >= np.nanmax(row) - tolerance)
        j = int(np.flatnonzero(good)[-1])
        rows.append(i)
        upper.append(float(lmbda[j]))
        edge.append(j == len(lmbda) - 1)
    e, l = np.asarray(eta, dtype=float)[rows], np.array(upper)
    slope = correlation = math.nan
    if len(rows) >= 2:
        x, y = np.log10(e), np.log10(l)
        slope = float(np.polyfit(x, y, 1)[0])
        if np.ptp(y) > 1e-12:
            correlation = float(np.corrcoef(x, y)[0, 1])
    return Ridge(e, l, np.array(edge, dtype=bool), slope, correlation)


@dataclass(frozen=True)
class Grid:
    """The curves of one setting that differ only in η, as a heatmap of mean validation accuracy."""

    settings: dict  # the shared settings, η excluded
    eta: np.ndarray  # (I,) ascending
    lmbda: np.ndarray  # (J,) ascending, positive
    accuracy: np.ndarray  # (I, J) mean over replicates; NaN where missing
    ridge: Ridge

    def summary(self) -> dict:
        return {"settings": self.settings, "eta": self.eta.tolist(), "lmbda": self.lmbda.tolist(),
                "accuracy": [[None if not np.isfinite(v) else float(v) for v in row] for row in self.accuracy],
                "ridge": self.ridge.summary()}


def grids(curves: list[Curve], metric: str = METRIC) -> list[Grid]:
    """A :class:`Grid` for every setting whose curves span at least two η and two positive λ."""
    groups: dict[tuple, list[Curve]] = {}
    for c in curves:
        key = tuple((k, str(v)) for k, v in c.settings.items() if k != "eta")
        groups.setdefault(key, []).append(c)
    out = []
    for members in groups.values():
        etas = sorted({float(c.settings["eta"]) for c in members if "eta" in c.settings})
        lmbda = np.array(sorted({float(v) for c in members for v in c.lmbda if v > 0}))
        if len(etas) < 2 or len(lmbda) < 2:
            continue
        acc = np.full((len(etas), len(lmbda)), np.nan)
        for c in members:
            mean = c.stats(metric)[0]
            i = etas.index(float(c.settings["eta"]))
            for lam, value in zip(c.lmbda, mean):
                if lam > 0:
                    acc[i, int(np.searchsorted(lmbda, lam))] = value
        settings = {k: v for k, v in members[0].settings.items() if k != "eta"}
        out.append(Grid(settings, np.array(etas), lmbda, acc, ridge(np.array(etas), lmbda, acc)))
    return out


def reading(r: Ridge) -> str:
    """The ridge in words: how the good λ move with η, as measured."""
    if not math.isfinite(r.slope):
        return "too few learning rates with a finite accuracy to measure the ridge"
    corr = ("r undefined, the same good λ at every η" if not math.isfinite(r.correlation)
            else f"correlation of log η and log λ* {r.correlation:.2f}")
    if abs(r.slope) < 0.25:
        shape = "aligned with the axes, the good λ hardly move with η"
    elif r.slope < 0:
        shape = "a diagonal, the good λ fall as η rises"
    else:
        shape = "a diagonal, the good λ rise with η"
    edge = (f"; at {int(r.at_edge.sum())} of {len(r.at_edge)} η even the grid's largest λ is good"
            if r.at_edge.any() else "")
    return f"good λ ∝ η^{r.slope:.2f} ({corr}): {shape}{edge}"
