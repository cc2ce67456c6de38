r"""The learning-rate × λ grid of a sweep: mean validation accuracy over ``(η, λ)`` and the ridge of its best λ.

Where a sweep varies both ``η`` and ``λ`` (``reglab sweep --eta A:B:N --lmbda C:D:M``), the curves that
differ only in ``η`` form a :class:`Grid`: ``accuracy[i, j]``, the mean over replicates (seeds, folds)
of the validation accuracy at ``(η_i, λ_j)``. Its *ridge* is the best λ at each η,

.. math::  \lambda^*(\eta_i) = \arg\max_j \bar a_{ij},

refined between grid points by the vertex of the parabola in ``log λ`` through the best point and
its two neighbours (the grid point itself at an edge of the grid, flagged). How the ridge moves is
measured by the least-squares slope ``b`` of ``log λ* = a + b log η`` and the correlation ``r`` of
``log η`` and ``log λ*`` over the rows: ``b ≈ 0`` means the good region is aligned with the axes
(the best λ does not depend on η: the two are decoupled), ``b ≈ −1`` a diagonal along which ``ηλ``
is constant (coupled, as when only the decay per step ``ηλ/n`` matters), ``b ≈ +1`` one along which
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
    lmbda: np.ndarray  # (I,) λ*(η), refined between grid points
    at_edge: np.ndarray  # (I,) bool: the best λ is the grid's smallest or largest
    slope: float  # d log λ* / d log η (NaN with fewer than 2 rows)
    correlation: float  # of log η and log λ* (NaN when λ* is constant)

    def summary(self) -> dict:
        return {"eta": self.eta.tolist(), "lmbda": self.lmbda.tolist(), "at_edge": self.at_edge.tolist(),
                "slope": self.slope, "correlation": self.correlation}


def _vertex(x: np.ndarray, y: np.ndarray, j: int) -> float:
    """The abscissa of the parabola's vertex through ``(x, y)[j−1 : j+2]``, kept within ``x[j−1] … x[j+1]``."""
    x0, x1, x2 = x[j - 1 : j + 2]
    y0, y1, y2 = y[j - 1 : j + 2]
    denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom
    if not a < 0:  # flat or not a maximum: the grid point
        return float(x1)
    return float(np.clip(-b / (2 * a), x0, x2))


def ridge(eta: np.ndarray, lmbda: np.ndarray, accuracy: np.ndarray) -> Ridge:
    """The ridge of ``accuracy`` (I, J) over ``eta`` (I,) × ``lmbda`` (J,), both positive and ascending."""
    log_l = np.log10(lmbda)
    rows, best, edge = [], [], []
    for i, row in enumerate(accuracy):
        ok = np.isfinite(row)
        if not ok.any():
            continue
        top = np.nanmax(row)
        j = int(max(np.flatnonzero(row == top)))  # ties: the larger λ, as the 1-SE rule does
        inside = 0 < j < len(lmbda) - 1 and ok[j - 1] and ok[j + 1]
        rows.append(i)
        best.append(10 ** _vertex(log_l, row, j) if inside else float(lmbda[j]))
        edge.append(not inside and (j == 0 or j == len(lmbda) - 1))
    e, l = np.asarray(eta, dtype=float)[rows], np.array(best)
    slope = correlation = math.nan
    if len(rows) >= 2:
        x, y = np.log10(e), np.log10(l)
        slope = float(np.polyfit(x, y, 1)[0])
        if np.ptp(y) > 0:
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
    """The ridge in words: how the best λ moves with η."""
    if not math.isfinite(r.slope):
        return "too few learning rates with a finite accuracy to measure the ridge"
    corr = "r undefined: the best λ is the same at every η" if not math.isfinite(r.correlation) else f"r = {r.correlation:.2f}"
    if abs(r.slope) < 0.25:
        shape = "aligned with the axes: the best λ hardly moves with η (decoupled)"
    elif r.slope < 0:
        shape = "a diagonal: the best λ falls as η rises (coupled; ηλ constant at slope −1)"
    else:
        shape = "a diagonal: the best λ rises with η (λ/η constant at slope +1)"
    edge = f"; at {int(r.at_edge.sum())} of {len(r.at_edge)} η the best λ is at the grid's edge" if r.at_edge.any() else ""
    return f"best λ ∝ η^{r.slope:.2f} ({corr}): {shape}{edge}"
