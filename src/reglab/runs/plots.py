"""Plots as pure functions of results: each returns a :class:`matplotlib.figure.Figure`.

Figures are built without pyplot (no global figure state); :func:`reglab.io.save_figure` writes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from reglab.engine.history import History


def _label(models: list[dict], m: int) -> str:
    s = models[m]
    return f"λ={s['lmbda']:g}, η={s['eta']:g}, seed {s['seed']}"


def model_colors(models: list[dict]) -> list:
    """One colour per model: where the models differ in λ alone (one η), a sequential map in the order of λ
    (λ is ordered); otherwise matplotlib's categorical cycle."""
    if len({m["eta"] for m in models}) == 1:
        return ordered_colors([m["lmbda"] for m in models])
    return [f"C{m % 10}" for m in range(len(models))]


def ordered_colors(values: Sequence[float]) -> list:
    """One colour per value: a sequential map (viridis) in the order of the values where they are distinct
    (an ordered setting such as λ), otherwise matplotlib's categorical cycle."""
    if len(values) > 1 and len(set(values)) == len(values):
        shades = colormaps["viridis"](np.linspace(0, 0.85, len(values)))
        return [shades[r] for r in np.argsort(np.argsort(values))]
    return [f"C{m % 10}" for m in range(len(values))]


def accuracy_and_cost(history: History, models: list[dict], train_measure: str = "exact") -> Figure:
    """Accuracy and cost (data cost and data + penalty) per epoch, per model and split; the training
    split's label says how it was measured (``running`` or ``exact``, see :class:`~reglab.engine.monitors.Monitor`)."""
    fig = Figure(figsize=(11, 4.2))
    ax_acc, ax_cost = fig.subplots(1, 2)
    epochs = np.array(history.epochs)
    styles = {"train": ":", "validation": "-", "test": "--"}
    for m, color in enumerate(model_colors(models)):
        for split, ls in styles.items():
            if history.has(f"{split}_accuracy"):
                name = f"train ({train_measure})" if split == "train" else split
                ax_acc.plot(epochs, 100 * history.get(f"{split}_accuracy")[:, m], ls, color=color,
                            label=f"{name} · {_label(models, m)}" if len(models) <= 6 else (name if m == 0 else None))
                ax_cost.plot(epochs, history.get(f"{split}_cost")[:, m], ls, color=color)
                ax_cost.plot(epochs, history.get(f"{split}_total_cost")[:, m], ls, color=color, alpha=0.35)
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    ax_cost.set(xlabel="epoch", ylabel="cost", title="cost: data C₀ (dark), C₀ + penalty (light)", yscale="log")
    ax_acc.legend(fontsize=7)
    ax_acc.grid(alpha=0.3)
    ax_cost.grid(alpha=0.3)
    return fig


def layer_rms(history: History, models: list[dict], sizes: list[int]) -> Figure:
    """Per-layer RMS of the weights per epoch (log scale), with 1/√n_in and 1/√N reference lines."""
    N = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    series = [(f"layer {l} ({sizes[l]}→{sizes[l + 1]})", history.get("rms", l), sizes[l]) for l in history.layers()]
    return rms_lines(np.array(history.epochs), series, N, "epoch")


def rms_lines(x: np.ndarray, series: list[tuple[str, np.ndarray, int]], N: int, xlabel: str) -> Figure:
    """RMS curves ``(label, values (T,) or (T, M), fan_in)`` against ``x`` (T,), log scale, each with its
    1/√fan_in line, and 1/√N for ``N`` weights in all (the run folder's and the nn.Module monitor's plot)."""
    fig = Figure(figsize=(5.5 * max(1, len(series)) ** 0.5 + 3, 4.2))
    ax = fig.subplots()
    for i, (label, values, fan_in) in enumerate(series):
        rms = np.asarray(values).reshape(len(x), -1)
        color = f"C{i % 10}"
        for m in range(rms.shape[1]):
            ax.plot(x, rms[:, m], color=color, alpha=0.9 if m == 0 else 0.4, label=label if m == 0 else None)
        ax.axhline(1 / math.sqrt(fan_in), color=color, ls="--", lw=1, label=f"1/√n_in = {1 / math.sqrt(fan_in):.3g}")
    ax.axhline(1 / math.sqrt(N), color="k", ls=":", lw=1, label=f"1/√N = {1 / math.sqrt(N):.3g} (N = {N:,} weights)")
    ax.set(yscale="log", xlabel=xlabel, ylabel="RMS of weights", title="per-layer weight RMS")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return fig


def histogram_bins(*samples: np.ndarray, per_sd: int = 5, most: int = 400) -> np.ndarray:
    """Bin edges from the smallest to the largest value of all ``samples``, every value inside.

    The bin width is a fifth (``1/per_sd``) of the smallest standard deviation among the samples, so that the
    narrowest distribution still shows its shape, with at most ``most`` bins; empty input gives ``[−1, 1]``.
    """
    values = [s[np.isfinite(s)] for s in samples]
    values = [v for v in values if v.size]
    if not values:
        return np.linspace(-1.0, 1.0, 41)
    lo, hi = min(float(v.min()) for v in values), max(float(v.max()) for v in values)
    if hi <= lo:
        return np.linspace(lo - 0.5, lo + 0.5, 41)
    spread = [float(v.std()) for v in values if v.std() > 0]
    width = min(spread) / per_sd if spread else (hi - lo) / 40
    bins = int(np.clip(np.ceil((hi - lo) / width), 40, most))
    return np.linspace(lo, hi, bins + 1)


def weight_histograms(initial: dict[str, np.ndarray], final: dict[str, np.ndarray], model: int = 0) -> Figure:
    """Histograms of each layer's weights, initial versus final, for one model: every weight is counted.

    The bins run from the smallest to the largest weight of either (see :func:`histogram_bins`); the y axis
    is the number of weights per bin, on a log scale so that the few largest weights stay visible.
    """
    keys = sorted((k for k in final if k.startswith("W")), key=lambda k: int(k[1:]))
    return histograms([(f"layer {k[1:]}", initial[k][model], final[k][model]) for k in keys])


def histograms(pairs: Sequence[tuple[str, ArrayLike, ArrayLike]]) -> Figure:
    """One panel per ``(title, initial, final)``: the two sets of weights' histograms, every weight counted.

    The bins run from the smallest to the largest weight of either set (:func:`histogram_bins`), so none is
    left out; the y axis is the number of weights per bin on a log scale, so that the few largest stay
    visible, and each legend entry gives its set's largest |w|.
    """
    fig = Figure(figsize=(4.5 * len(pairs), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(pairs)))
    for ax, (title, initial, final) in zip(axes, pairs):
        w0, w1 = np.asarray(initial, dtype=float).ravel(), np.asarray(final, dtype=float).ravel()
        bins = histogram_bins(w0, w1)
        for w, label in ((w0, "initial"), (w1, "final")):
            ok = w[np.isfinite(w)]
            extent = f", |w| ≤ {np.abs(ok).max():.3g}" if ok.size else ""
            ax.hist(ok, bins=bins, alpha=0.5, label=f"{label}{extent}", histtype="stepfilled")  # one patch, not 100s
        ax.set(title=f"{title}: all {w0.size:,} weights", xlabel="w", ylabel="number of weights (log scale)",
               yscale="log")
        ax.legend(fontsize=8, loc="upper right")  # a fixed place: "best" searches the whole outline
    fig.suptitle("Weights before and after training (every weight in range; bins span min to max)")
    return fig
