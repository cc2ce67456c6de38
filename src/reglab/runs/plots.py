"""Plots as pure functions of results: each returns a :class:`matplotlib.figure.Figure`.

Figures are built without pyplot (no global figure state); :func:`reglab.io.save_figure` writes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from reglab.engine.history import History


def _label(models: list[dict], m: int) -> str:
    s = models[m]
    return f"λ={s['lmbda']:g}, η={s['eta']:g}, seed {s['seed']}"


def accuracy_and_cost(history: History, models: list[dict], train_measure: str = "exact") -> Figure:
    """Accuracy and cost (data cost and data + penalty) per epoch, per model and split; the training
    split's label says how it was measured (``running`` or ``exact``, see :class:`~reglab.engine.monitors.Monitor`)."""
    fig = Figure(figsize=(11, 4.2))
    ax_acc, ax_cost = fig.subplots(1, 2)
    epochs = np.array(history.epochs)
    styles = {"train": ":", "validation": "-", "test": "--"}
    for m in range(len(models)):
        color = f"C{m % 10}"
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


def weight_histograms(initial: dict[str, np.ndarray], final: dict[str, np.ndarray], model: int = 0) -> Figure:
    """Histograms of each layer's weights, initial versus final, for one model."""
    keys = sorted((k for k in final if k.startswith("W")), key=lambda k: int(k[1:]))
    return histograms([(f"layer {k[1:]} weights", initial[k][model], final[k][model]) for k in keys])


def histograms(pairs: Sequence[tuple[str, ArrayLike, ArrayLike]]) -> Figure:
    """One panel per ``(title, initial, final)``: the two sets of weights' histograms (log counts)."""
    fig = Figure(figsize=(4.5 * len(pairs), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(pairs)))
    for ax, (title, initial, final) in zip(axes, pairs):
        w0, w1 = np.asarray(initial).ravel(), np.asarray(final).ravel()
        both = np.concatenate([w0, w1])
        both = both[np.isfinite(both)]
        lo, hi = (np.percentile(both, [0.5, 99.5]) if both.size else (-1, 1))
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 60)
        ax.hist(w0[np.isfinite(w0)], bins=bins, alpha=0.5, label="initial", histtype="stepfilled")  # one patch, not 60
        ax.hist(w1[np.isfinite(w1)], bins=bins, alpha=0.5, label="final", histtype="stepfilled")
        ax.set(title=title, xlabel="w", yscale="log")
        ax.legend(fontsize=8)
    return fig
