"""Plots of a sweep against λ, as pure functions of its curves (no pyplot, no global figure state).

Per curve, one figure: the validation curve (training and validation accuracy,
mean ± sd over seeds, test dashed as reported), the data cost, each layer's
weight norm, and for L1 regularizers the fraction of weights exactly 0. The
chosen ``λ_best`` and ``λ_1se`` are marked; chance accuracy is drawn so that a
λ whose weights collapsed shows as what it is. λ = 0 has no place on a log
axis: its values are drawn as horizontal lines.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from reglab.sweep.select import Curve

L1_KINDS = ("l1", "l1-prox", "elastic")
_SPLITS = (("train", ":", "C0"), ("validation", "-", "C1"), ("test", "--", "0.55"))


def _band(ax, curve: Curve, column: str, label: str, style: str, color, scale: float = 1.0) -> None:
    """Mean ± sd of ``column`` against the positive λ; λ = 0 as a horizontal line."""
    mean, sd, _ = curve.stats(column)
    if not np.isfinite(mean).any():
        return
    pos = curve.lmbda > 0
    ax.plot(curve.lmbda[pos], scale * mean[pos], style, color=color, marker="o", ms=3, label=label)
    ax.fill_between(curve.lmbda[pos], scale * (mean - sd)[pos], scale * (mean + sd)[pos], color=color, alpha=0.15, lw=0)
    for j in np.flatnonzero(~pos):
        ax.axhline(scale * mean[j], color=color, ls=style, lw=0.8, alpha=0.6, label=f"{label}, λ = 0")


def _mark_diverged(ax, curve: Curve) -> None:
    """An ✕ on the validation curve at every λ where some seed diverged."""
    diverged = np.nansum(curve.values.get("diverged", np.zeros((len(curve.lmbda), 1))), axis=1) > 0
    mean, _, _ = curve.stats("final_validation_accuracy")
    hit = diverged & (curve.lmbda > 0) & np.isfinite(mean)
    if hit.any():
        ax.plot(curve.lmbda[hit], 100 * mean[hit], "x", color="k", ms=8, mew=1.5, label="diverged (some seeds)")


def _mark_choice(ax, curve: Curve) -> None:
    s = curve.selection
    if s is None:
        return
    se = f" ± {100 * s.best_se:.2f}" if s.se_defined and s.best_se is not None else ""
    ax.axvline(s.best_lmbda, color="C2", lw=1.2, label=f"λ_best = {s.best_lmbda:.3g} ({100 * s.best_mean:.2f}{se}%)")
    note = "" if s.se_defined else " (1 seed: SE undefined, taken as 0)"
    ax.axvline(s.one_se_lmbda, color="C3", ls="--", lw=1.2, label=f"λ_1se = {s.one_se_lmbda:.3g}{note}")


def curve_figure(curve: Curve, chance: float | None = None, title: str | None = None) -> Figure:
    """The validation curve, cost, weight norms and (L1) zeros of one curve against λ."""
    l1 = curve.settings.get("reg") in L1_KINDS
    panels = 4 if l1 else 3
    fig = Figure(figsize=(4.6 * panels, 4.8), layout="constrained")
    axes = fig.subplots(1, panels)
    ax_acc, ax_cost, ax_norm = axes[:3]
    for split, style, color in _SPLITS:
        name = f"{split} (reported, not used)" if split == "test" else split
        _band(ax_acc, curve, f"final_{split}_accuracy", name, style, color, 100)
        if split != "test":
            _band(ax_cost, curve, f"final_{split}_cost", split, style, color)
    if chance is not None:
        ax_acc.axhline(100 * chance, color="k", ls=":", lw=0.8, label=f"chance ({100 * chance:.0f}%)")
    _mark_diverged(ax_acc, curve)
    _mark_choice(ax_acc, curve)
    ax_acc.set(ylabel="accuracy (%)", title="accuracy after training (mean ± sd over seeds)")
    ax_cost.set(ylabel="data cost C₀", title="cost after training", yscale="log")
    for l in curve.layers():
        _band(ax_norm, curve, f"layer{l}_l2", f"layer {l}", "-", f"C{l}")
    ax_norm.set(ylabel="‖W‖₂", title="weight norm per layer")
    ax_norm.set_yscale("symlog", linthresh=1e-2)  # collapsed weights (norm 0) stay on the plot
    if l1:
        for l in curve.layers():
            _band(axes[3], curve, f"layer{l}_frac_zeros", f"layer {l}", "-", f"C{l}")
        axes[3].set(ylabel="fraction of weights = 0", title="exact zeros per layer", ylim=(-0.02, 1.02))
    for ax in axes:
        ax.set(xscale="log", xlabel="λ")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.suptitle(title or curve.label())
    return fig


def curve_colors(curves: list[Curve]) -> list:
    """One colour per curve: from a sequential map (in the order of the values) where every setting that varies
    between the curves is a number (η, training-set size: ordered), else matplotlib's categorical cycle."""
    vary = _varying(curves)
    numeric = bool(vary) and all(isinstance(c.settings.get(k), (int, float)) and not isinstance(c.settings.get(k), bool)
                                 for c in curves for k in vary)
    if not numeric:
        return [f"C{k % 10}" for k in range(len(curves))]
    order = sorted(range(len(curves)), key=lambda i: [curves[i].settings[k] for k in vary])
    shades = colormaps["viridis"](np.linspace(0, 0.85, len(curves)))
    colors: list = [None] * len(curves)
    for rank, i in enumerate(order):
        colors[i] = shades[rank]
    return colors


def overview_figure(curves: list[Curve], labels: list[str], chance: float | None = None) -> Figure:
    """Every curve's validation accuracy (mean ± sd) against λ in one plot, with its λ_best."""
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for curve, label, color in zip(curves, labels, curve_colors(curves)):
        _band(ax, curve, "final_validation_accuracy", label, "-", color, 100)
        if curve.selection is not None:
            ax.plot([curve.selection.best_lmbda], [100 * curve.selection.best_mean], "*", color=color, ms=10)
    if chance is not None:
        ax.axhline(100 * chance, color="k", ls=":", lw=0.8, label="chance")
    ax.set(xscale="log", xlabel="λ", ylabel="validation accuracy (%)", title="validation curves (★ = λ_best)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return fig


def _varying(curves: list[Curve]) -> list[str]:
    keys = list(curves[0].settings) if curves else []
    return [k for k in keys if len({str(c.settings.get(k)) for c in curves}) > 1]


def slug(curve: Curve, vary: list[str]) -> str:
    """A file-name part such as ``reg-l2_eta-0.5`` from the settings that vary between curves."""
    text = "_".join(f"{k}-{curve.settings[k]}" for k in vary) or "all"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text)


def write_all(store, curves: list[Curve], chance: float | None = None) -> list:
    """``curve_<slug>.png`` per curve and, with several curves, ``validation_curves.png``; returns the paths."""
    vary = _varying(curves)
    paths = [store.save_figure(f"curve_{slug(c, vary)}", curve_figure(c, chance, c.label(vary) if vary else None))
             for c in curves]
    if len(curves) > 1:
        paths.append(store.save_figure("validation_curves", overview_figure(curves, [c.label(vary) for c in curves], chance)))
    return paths
