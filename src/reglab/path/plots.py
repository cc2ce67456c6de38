"""The coefficient path of a network, as pure functions of a path's curves (no pyplot, no global state).

glmnet draws each coefficient against λ; a network has too many, so per regularizer kind one figure of
four panels against λ (log axis), the warm path solid and the cold sweep dashed where both ran:
validation (or held-out) accuracy with λ_min and λ_1se marked, each layer's ‖W‖, each layer's
fraction of weights exactly 0, and the hidden units that pass nothing on (all incoming or all outgoing
weights exactly 0). Each is the mean over the replicates (seeds, folds), ± sd shaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from reglab.sweep.plots import band, slug
from reglab.sweep.select import Curve

STYLE = {"warm": "-", "cold": "--"}


def _mark(ax, curve: Curve, color: str) -> None:
    s = curve.selection
    if s is None:
        return
    start = curve.settings.get("start", "")
    ax.axvline(s.best_lmbda, color=color, ls=STYLE.get(start, "-"), lw=1.0, alpha=0.8,
               label=f"{start} λ_min = {s.best_lmbda:.3g} ({100 * s.best_mean:.2f}%)")
    ax.axvline(s.one_se_lmbda, color=color, ls=":", lw=1.4, label=f"{start} λ_1se = {s.one_se_lmbda:.3g}")


def path_figure(curves: Sequence[Curve], chance: float | None = None, title: str | None = None) -> Figure:
    """Accuracy, ‖W‖, exact zeros and dead units against λ for the curves (warm and/or cold) of one kind."""
    fig = Figure(figsize=(18, 4.8), layout="constrained")
    ax_acc, ax_norm, ax_zero, ax_dead = fig.subplots(1, 4)
    for curve in curves:
        start = curve.settings.get("start", "")
        style = STYLE.get(start, "-")
        held = any(fold is not None for _, fold in curve.replicates)
        band(ax_acc, curve, "final_validation_accuracy", f"{start}: {'held-out' if held else 'validation'}", style, "C1", 100)
        band(ax_acc, curve, "final_test_accuracy", f"{start}: test (reported, not used)", style, "0.55", 100)
        _mark(ax_acc, curve, "C2" if start != "cold" else "C3")
        for l in curve.layers():
            band(ax_norm, curve, f"layer{l}_l2", f"{start}: layer {l}", style, f"C{l}")
            band(ax_zero, curve, f"layer{l}_frac_zeros", f"{start}: layer {l}", style, f"C{l}")
            if f"layer{l}_dead_units" in curve.values:
                band(ax_dead, curve, f"layer{l}_dead_units", f"{start}: hidden layer {l}", style, f"C{l}")
    if chance is not None:
        ax_acc.axhline(100 * chance, color="k", ls=":", lw=0.8, label=f"chance ({100 * chance:.0f}%)")
    ax_acc.set(ylabel="accuracy (%)", title="accuracy at the end of each λ's training")
    ax_norm.set(ylabel="‖W‖₂", title="weight norm per layer")
    ax_norm.set_yscale("symlog", linthresh=1e-2)
    ax_zero.set(ylabel="fraction of weights = 0", title="exact zeros per layer", ylim=(-0.02, 1.02))
    ax_dead.set(ylabel="units", title="dead hidden units (all in- or out-weights 0)")
    for ax in (ax_acc, ax_norm, ax_zero, ax_dead):
        ax.set(xscale="log", xlabel="λ")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.suptitle(title or "coefficient path")
    return fig


def write_all(store, curves: Sequence[Curve], kinds: Sequence[str], chance: float | None = None) -> list:
    """``path_<reg>.png`` per regularizer kind; returns the paths."""
    paths = []
    for kind in kinds:
        mine = [c for c in curves if c.settings.get("reg") == kind]
        if mine:
            name = slug(mine[0], ["reg"])
            paths.append(store.save_figure(f"path_{name[4:]}", path_figure(mine, chance, f"λ path, --reg {kind}")))
    return paths
