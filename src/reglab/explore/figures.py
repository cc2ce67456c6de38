"""The export's figures: pure functions of what a session measured, built without pyplot.

The colours are the page's: class 0 orange and class 1 blue (Playground's), a
signed map from blue (negative) through white to red (positive) for weights,
and one colour per column (matplotlib's ``C0``, ``C1``, …).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from reglab.engine.history import History
from reglab.runs.plots import ordered_colors

#: Class colours of the 2-D sets (Playground's orange and blue), then matplotlib's for more classes.
CLASS_COLOURS = ("#f59322", "#0877bd", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9")
#: Weights: negative blue, zero white, positive red.
SIGNED = "RdBu_r"


def _title(lmbda: float) -> str:
    return f"λ = {lmbda:g}"


def boundaries(cls: np.ndarray, conf: np.ndarray, box: tuple[float, float], points: tuple[np.ndarray, np.ndarray],
               lambdas: Sequence[float]) -> Figure:
    """Per column the decision regions (``cls``, ``conf``: (M, G, G), rows from the top) under the training points."""
    M = len(lambdas)
    fig = Figure(figsize=(2.6 * M + 0.4, 2.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, M))
    X, y = points
    for m, ax in enumerate(axes):
        rgb = np.array([to_rgb(CLASS_COLOURS[c % len(CLASS_COLOURS)]) for c in range(int(cls.max()) + 1)])
        colours = rgb[cls[m]]  # (G, G, 3)
        shade = 0.15 + 0.6 * conf[m][..., None]
        ax.imshow(1 - shade * (1 - colours), extent=(box[0], box[1], box[0], box[1]), interpolation="bilinear")
        ax.scatter(X[:, 0], X[:, 1], c=[CLASS_COLOURS[int(c) % len(CLASS_COLOURS)] for c in y], s=6,
                   edgecolors="white", linewidths=0.4)
        ax.set(xlim=box, ylim=box, xticks=[], yticks=[], title=_title(lambdas[m]))
    fig.suptitle("decision regions over the training points, one column per λ")
    return fig


def first_layer(W0: np.ndarray, shape: tuple[int, int], lambdas: Sequence[float], units: int = 16) -> Figure:
    """The first ``units`` hidden units' incoming weights as images (W0: (M, H, d)), each column on its own
    signed scale ``±max |w|``: one row per λ."""
    M, H = W0.shape[:2]
    k = min(units, H)
    fig = Figure(figsize=(1.0 * k + 1.2, 1.1 * M + 0.6), layout="constrained")
    axes = np.array(fig.subplots(M, k, squeeze=False))
    for m in range(M):
        a = float(np.abs(W0[m]).max()) or 1.0
        for j in range(k):
            ax = axes[m, j]
            ax.imshow(W0[m, j].reshape(shape), cmap=SIGNED, vmin=-a, vmax=a, interpolation="nearest")
            ax.set(xticks=[], yticks=[])
        axes[m, 0].set_ylabel(_title(lambdas[m]), fontsize=8)
    fig.suptitle(f"first-layer weights of {k} of {H} hidden units (blue negative, red positive; one scale per row)")
    return fig


def curves(history: History, lambdas: Sequence[float], events: Sequence[tuple[float, str]]) -> Figure:
    """Accuracy, data cost and penalty per epoch, the penalty apart from the data cost; changes as grey lines."""
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    ax_acc, ax_cost, ax_pen = fig.subplots(1, 3)
    epochs = np.asarray(history.epochs, dtype=float)
    colours = ordered_colors(lambdas)  # λ is ordered: a sequential map where the sides differ in λ
    for m, lam in enumerate(lambdas):
        colour = colours[m]
        for split, ls in (("train", ":"), ("test", "-")):
            ax_acc.plot(epochs, 100 * history.get(f"{split}_accuracy")[:, m], ls, color=colour,
                        label=f"{_title(lam)}" if split == "test" else None)
            ax_cost.plot(epochs, history.get(f"{split}_cost")[:, m], ls, color=colour)
        ax_pen.plot(epochs, history.get("penalty")[:, m], color=colour)
    for ax in (ax_acc, ax_cost, ax_pen):
        for epoch, _ in events:
            ax.axvline(epoch, color="0.5", lw=0.8, ls="--")
        ax.grid(alpha=0.3)
        ax.set_xlabel("epoch")
    ax_acc.set(ylabel="accuracy (%)", title="accuracy")
    ax_cost.set(ylabel="data cost C₀", title="data cost C₀", yscale="log")
    ax_pen.set(ylabel="penalty", title="penalty, apart from C₀")
    if any(np.nanmax(history.get("penalty")[:, m], initial=0) > 0 for m in range(len(lambdas))):
        ax_pen.set_yscale("symlog", linthresh=1e-4)
    ax_acc.legend(fontsize=7)
    fig.suptitle("training curves: test solid, train dotted (running mean)"
                 + ("; dashed grey: changes made while training" if events else ""))
    return fig


def lambda_curve(lambdas: Sequence[float], validation: Sequence[float], train: Sequence[float]) -> Figure:
    """Validation (and running training) accuracy against λ across the columns, λ = 0 drawn at the left edge."""
    lam = np.asarray(lambdas, dtype=float)
    positive = lam[lam > 0]
    zero_at = positive.min() / 10 if positive.size else 1.0
    x = np.where(lam > 0, lam, zero_at)
    order = np.argsort(x)
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(x[order], 100 * np.asarray(validation)[order], "o-", color="C0", label="validation")
    ax.plot(x[order], 100 * np.asarray(train)[order], "s:", color="C1", label="train (running)")
    ax.set(xscale="log", xlabel="λ (λ = 0 drawn at the left)" if (lam == 0).any() else "λ", ylabel="accuracy (%)",
           title="")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle("the λ-curve: accuracy against λ at the export")
    return fig

