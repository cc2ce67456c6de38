"""Plots of a sweep against λ, as pure functions of its curves (no pyplot, no global figure state).

Where the sweep spans a grid of η × λ (:mod:`~reglab.sweep.ridge`), one heatmap of mean validation
accuracy per setting, with its ridge (the largest good λ per η) drawn on it.

Per curve, one figure: the validation curve (training and validation accuracy,
mean ± sd over seeds, test dashed as reported), the data cost, each layer's
weight norm, and for L1 regularizers the fraction of weights exactly 0. The
chosen ``λ_min`` and ``λ_1se`` are marked; chance accuracy is drawn so that a
λ whose weights collapsed shows as what it is. λ = 0 has no place on a log
axis: its values are drawn as horizontal lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from reglab.sweep.ridge import Grid, reading
from reglab.sweep.select import Curve

L1_KINDS = ("l1", "l1-prox", "elastic")
_SPLITS = (("train", ":", "C0"), ("validation", "-", "C1"), ("test", "--", "0.55"))


def band(ax, curve: Curve, column: str, label: str, style: str, color, scale: float = 1.0) -> None:
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
    ax.axvline(s.best_lmbda, color="C2", lw=1.2, label=f"λ_min = {s.best_lmbda:.3g} ({100 * s.best_mean:.2f}{se}%)")
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
        band(ax_acc, curve, f"final_{split}_accuracy", name, style, color, 100)
        if split != "test":
            band(ax_cost, curve, f"final_{split}_cost", split, style, color)
    if chance is not None:
        ax_acc.axhline(100 * chance, color="k", ls=":", lw=0.8, label=f"chance ({100 * chance:.0f}%)")
    _mark_diverged(ax_acc, curve)
    _mark_choice(ax_acc, curve)
    ax_acc.set(ylabel="accuracy (%)", title="accuracy after training (mean ± sd over seeds)")
    ax_cost.set(ylabel="data cost C₀", title="cost after training", yscale="log")
    for l in curve.layers():
        band(ax_norm, curve, f"layer{l}_l2", f"layer {l}", "-", f"C{l}")
    ax_norm.set(ylabel="‖W‖₂", title="weight norm per layer")
    ax_norm.set_yscale("symlog", linthresh=1e-2)  # collapsed weights (norm 0) stay on the plot
    if l1:
        for l in curve.layers():
            band(axes[3], curve, f"layer{l}_frac_zeros", f"layer {l}", "-", f"C{l}")
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
    """Every curve's validation accuracy (mean ± sd) against λ in one plot, with its λ_min."""
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for curve, label, color in zip(curves, labels, curve_colors(curves)):
        band(ax, curve, "final_validation_accuracy", label, "-", color, 100)
        if curve.selection is not None:
            ax.plot([curve.selection.best_lmbda], [100 * curve.selection.best_mean], "*", color=color, ms=10)
    if chance is not None:
        ax.axhline(100 * chance, color="k", ls=":", lw=0.8, label="chance")
    ax.set(xscale="log", xlabel="λ", ylabel="validation accuracy (%)", title="validation curves (★ = λ_min)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return fig


def heatmap_axes(ax, grid: Grid, chance: float | None = None, cmap: str = "viridis"):
    """Draw ``grid``'s mean validation accuracy (%) over log η × log λ on ``ax``, with its ridge; returns the mesh."""
    def edges(v: np.ndarray) -> np.ndarray:
        lv = np.log10(v)
        mid = (lv[1:] + lv[:-1]) / 2
        return 10 ** np.concatenate([[2 * lv[0] - mid[0]], mid, [2 * lv[-1] - mid[-1]]])

    acc = 100 * grid.accuracy
    low = 100 * chance if chance is not None else np.nanmin(acc)
    mesh = ax.pcolormesh(edges(grid.lmbda), edges(grid.eta), np.ma.masked_invalid(acc), cmap=cmap,
                         vmin=low, vmax=np.nanmax(acc), shading="flat")
    if acc.size <= 150:
        top = np.nanmax(acc)
        for i, e in enumerate(grid.eta):
            for j, lam in enumerate(grid.lmbda):
                if np.isfinite(acc[i, j]):
                    ax.text(lam, e, f"{acc[i, j]:.1f}", ha="center", va="center", fontsize=6,
                            color="k" if acc[i, j] > low + 0.6 * (top - low) else "w")
    r = grid.ridge
    ax.plot(r.lmbda, r.eta, "-o", color="C3", ms=4, lw=1.5, label="ridge: the largest λ within 1 point of each η's best")
    ax.set(xscale="log", yscale="log", xlabel="λ", ylabel="η")
    return mesh


def heatmap_figure(grid: Grid, chance: float | None = None, title: str | None = None) -> Figure:
    """One grid's heatmap with its ridge and, in the title, how the best λ moves with η."""
    fig = Figure(figsize=(7.5, 5.6), layout="constrained")
    ax = fig.subplots()
    mesh = heatmap_axes(ax, grid, chance)
    fig.colorbar(mesh, ax=ax, label="validation accuracy (%), mean over replicates")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(reading(grid.ridge), fontsize=8)
    fig.suptitle(title or "validation accuracy over (η, λ)")
    return fig


def _varying(curves: list[Curve]) -> list[str]:
    keys = list(curves[0].settings) if curves else []
    return [k for k in keys if len({str(c.settings.get(k)) for c in curves}) > 1]


def slug(curve: Curve, vary: list[str]) -> str:
    """A file-name part such as ``reg-l2_eta-0.5`` from the settings that vary between curves."""
    text = "_".join(f"{k}-{curve.settings[k]}" for k in vary) or "all"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text)


def write_all(store, curves: list[Curve], chance: float | None = None, grids: Sequence[Grid] = ()) -> list:
    """``curve_<slug>.png`` per curve, ``heatmap_<slug>.png`` per η × λ grid and, with several curves,
    ``validation_curves.png``; returns the paths."""
    vary = _varying(curves)
    paths = [store.save_figure(f"curve_{slug(c, vary)}", curve_figure(c, chance, c.label(vary) if vary else None))
             for c in curves]
    if len(curves) > 1:
        paths.append(store.save_figure("validation_curves", overview_figure(curves, [c.label(vary) for c in curves], chance)))
    for g in grids:
        rest = [k for k in vary if k != "eta"]
        name = "_".join(f"{k}-{g.settings[k]}" for k in rest) or "all"
        title = " ".join(f"{k}={g.settings[k]}" for k in rest) or None
        paths.append(store.save_figure(f"heatmap_{re.sub(r'[^A-Za-z0-9._-]+', '-', name)}",
                                       heatmap_figure(g, chance, title)))
    return paths
