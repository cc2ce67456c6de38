r"""Validation curves and the choice of λ: the best one (glmnet's ``lambda.min``) and the largest within one
standard error (``lambda.1se``).

A *curve* is the cells that differ only in ``λ`` and their replicate: the seed, and with k-fold
cross-validation (``folds``) the fold, so ``S`` = seeds × folds replicates per λ. For each ``λ_j`` with
validation accuracies ``a_{j1} … a_{jS}``:

.. math::

    \bar a_j = \frac1S \sum_s a_{js}, \qquad
    \mathrm{SE}_j = \frac{1}{\sqrt S}\sqrt{\frac{1}{S-1}\sum_s (a_{js} - \bar a_j)^2},

    j^* = \arg\max_j \bar a_j, \qquad
    \lambda_\text{1se} = \max\,\{\lambda_j : \bar a_j \ge \bar a_{j^*} - \mathrm{SE}_{j^*}\}.

``λ_min = λ_{j*}`` (among ties the largest λ) is the λ of the best mean; ``λ_1se`` is glmnet's rule:
the most regularized model whose accuracy cannot be told apart from the best one's by the spread
between replicates. With folds (``cv.glmnet``'s setting) the accuracies are those of each fold's
held-out rows, and the standard error is glmnet's ``cvsd`` (over folds × seeds); with seeds alone it
measures the spread between initializations on one validation split, not the sampling noise of a
finite validation set.

With one replicate (one seed, no folds) the standard error is undefined: ``se_defined`` is
``False``, the rule is applied with ``SE = 0`` (so ``λ_1se = λ_min``, or a larger λ tied with it)
and reports say so. Only validation numbers choose; test accuracy is carried along to be reported,
never compared.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from reglab.sweep.grid import SETTINGS

#: The column that chooses λ by default.
METRIC = "final_validation_accuracy"
_NOT_METRICS = {"cell", "sizes", "n"}
#: The columns that name a replicate of a curve's λ rather than a setting.
REPLICATE = ("lmbda", "seed", "fold")


@dataclass(frozen=True)
class Selection:
    """The λ chosen on one curve by :func:`one_se_rule`.

    Attributes
    ----------
    metric : str
        The column compared (higher is better).
    best_lmbda, best_mean, best_se : float
        ``λ_min`` (the λ of the best mean), its mean over replicates and standard error (``None`` when undefined).
    one_se_lmbda : float
        ``λ_1se``.
    threshold : float
        ``mean − SE`` at ``λ_min``: every λ at or above it is within one SE.
    se_defined : bool
        ``False`` with one replicate: ``SE`` taken as 0.
    """

    metric: str
    best_lmbda: float
    best_mean: float
    best_se: float | None
    one_se_lmbda: float
    threshold: float
    se_defined: bool


def mean_sd_se(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``values`` (J, S), ignoring NaN: mean, sample sd (ddof 1) and SE = sd/√S (NaN for S < 2)."""
    ok = np.isfinite(values)
    count = ok.sum(axis=1)
    filled = np.where(ok, values, 0.0)
    mean = np.where(count > 0, filled.sum(axis=1) / np.maximum(count, 1), np.nan)
    dev = np.where(ok, values - mean[:, None], 0.0)
    sd = np.where(count > 1, np.sqrt((dev**2).sum(axis=1) / np.maximum(count - 1, 1)), np.nan)
    return mean, sd, sd / np.sqrt(np.maximum(count, 1))


def one_se_rule(lmbda: np.ndarray, scores: np.ndarray, metric: str = METRIC) -> Selection | None:
    """``λ_min`` and ``λ_1se`` (module docstring) from ``scores`` (J, S) at ``lmbda`` (J,); ``None`` if no score is finite."""
    mean, _, se = mean_sd_se(scores)
    if not np.isfinite(mean).any():
        return None
    top = np.nanmax(mean)
    best = max(np.flatnonzero(mean == top), key=lambda j: lmbda[j])
    se_defined = bool(np.isfinite(se[best]))
    threshold = top - (se[best] if se_defined else 0.0)
    one_se = max(lmbda[j] for j in np.flatnonzero(mean >= threshold))
    return Selection(metric, float(lmbda[best]), float(top), float(se[best]) if se_defined else None,
                     float(one_se), float(threshold), se_defined)


@dataclass
class Curve:
    """The cells of one setting of everything but λ and the replicate (seed, fold).

    Attributes
    ----------
    settings : dict
        The shared settings (regularizer, η, …).
    lmbda : np.ndarray
        ``(J,)`` ascending.
    replicates : list of (int, int or None)
        ``(seed, fold)`` of each column of the values (``fold`` None without cross-validation).
    values : dict of str to np.ndarray
        Every numeric result column as ``(J, S)``; NaN where a cell is missing or has no value.
    selection : Selection or None
    """

    settings: dict
    lmbda: np.ndarray
    replicates: list[tuple[int, int | None]]
    values: dict[str, np.ndarray]
    selection: Selection | None = None

    def stats(self, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``mean, sd, se`` over replicates of ``column`` per λ (NaN arrays when the column is absent)."""
        nan = np.full((len(self.lmbda), max(1, len(self.replicates))), np.nan)
        return mean_sd_se(self.values.get(column, nan))

    def layers(self) -> list[int]:
        return sorted({int(k[5:].split("_")[0]) for k in self.values if k.startswith("layer") and k.endswith("_l2")})

    def label(self, vary: list[str] | None = None) -> str:
        """``reg=l2 η=0.5 …`` over the settings in ``vary`` (all when ``None``)."""
        names = [k for k in self.settings if vary is None or k in vary]
        shown = {None: "all"}  # train_size None: the whole training split
        words = (f"{'η' if k == 'eta' else k}={shown.get(self.settings[k], self.settings[k])}" for k in names)
        return " ".join(words) or "all cells"

    def summary(self) -> dict[str, Any]:
        """JSON-ready: settings, the selection, and per λ the means (test reported beside, not used)."""
        points: list[dict[str, Any]] = []
        out = {"settings": self.settings, "selection": asdict(self.selection) if self.selection else None, "lambda": points}
        for j, lam in enumerate(self.lmbda):
            point: dict[str, Any] = {"lmbda": float(lam)}
            for col in ("final_train_accuracy", "final_validation_accuracy", "final_test_accuracy"):
                mean, sd, se = self.stats(col)
                point[col] = {"mean": mean[j], "sd": sd[j], "se": se[j]}
            point["diverged"] = int(np.nansum(self.values.get("diverged", np.zeros((1, 1)))[j]))
            points.append(point)
        return out


def _number(v) -> float:
    if v is None or isinstance(v, str):
        return math.nan
    return float(v)


def curves(rows: list[dict], axes: tuple[str, ...] = (), metric: str = METRIC) -> list[Curve]:
    """Group result rows into curves (in order of first appearance) and choose λ on each by ``metric``."""
    shared = [k for k in (*SETTINGS, *axes) if k not in REPLICATE]
    shared = list(dict.fromkeys(shared))
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in shared), []).append(row)
    out = []
    for key, members in groups.items():
        lmbda = np.array(sorted({float(r["lmbda"]) for r in members}))
        replicate = [(int(r["seed"]), None if r.get("fold") is None else int(r["fold"])) for r in members]
        replicates = sorted(set(replicate), key=lambda sf: (sf[0], -1 if sf[1] is None else sf[1]))
        columns = [k for r in members for k in r if k not in _NOT_METRICS and k not in shared and k not in REPLICATE]
        values = {k: np.full((len(lmbda), len(replicates)), np.nan) for k in dict.fromkeys(columns)}
        for r, rep in zip(members, replicate):
            j, s = int(np.searchsorted(lmbda, float(r["lmbda"]))), replicates.index(rep)
            for k in values:
                values[k][j, s] = _number(r.get(k))
        curve = Curve(dict(zip(shared, key)), lmbda, replicates, values)
        curve.selection = one_se_rule(lmbda, values[metric], metric) if metric in values else None
        out.append(curve)
    return out
