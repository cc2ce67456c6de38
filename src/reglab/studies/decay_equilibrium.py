r"""decay-equilibrium: how fast L2 shrinks weights from a large start, where it stops, and why layers differ.

The book's rule for a mini-batch of size ``m`` out of ``n`` training images (:class:`~reglab.engine.regularizers.L2`)::

    w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w.

While the data term is small next to the decay term (weights far larger than the data want, as after the
large initialization N(0, 1)), each step multiplies a weight by ``1 − ηλ/n``, and an epoch of ``⌈n/m⌉`` steps by

.. math::  (1 − ηλ/n)^{⌈n/m⌉} \approx e^{−ηλ/m},

whatever ``n`` is: the logarithm of a layer's RMS falls by ``ηλ/m`` per epoch (0.05 for the book's η = 0.1,
λ = 5, m = 10). The decay stops when the data gradient balances it: the book's exercise argues that this happens
near ``w ≈ 1/√N`` (``N`` the number of weights); ``1/√n_in`` (a unit's fan-in), the scale at which a sigmoid
unit's input stops saturating, is the other natural candidate. The study measures where it happens, for
several λ trained together (one model each, same initial weights and mini-batch order).

Measured: per layer, the RMS, Σw, Σ|w|, the variance and Σw² after every epoch; the slope of ln RMS fitted by
least squares over the decay-dominated phase; the epoch and RMS at which the decay slowed to half its
predicted rate. The decay-dominated phase is epochs 0 … K, with K the last epoch at which the RMS is still at
least 3 times its final value, and at most ⌈m/(ηλ)⌉ (the prediction's first factor e). Why 3: if the
squared RMS relaxes as ``RMS² = RMS_∞² + (RMS₀² − RMS_∞²) e^{−2kt}``, its log-slope is
``−k (1 − RMS_∞²/RMS²)``, within 1/9 of ``−k`` while ``RMS ≥ 3 RMS_∞``.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, evaluate
from reglab.engine.regularizers import L2
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.studies import data as study_data

NAME = "decay-equilibrium"
QUESTION = "How fast does L2 shrink large weights, where does the shrinking stop, and why can one layer grow meanwhile?"

HIDDEN, ETA, BATCH, MAIN_LAMBDA = 30, 0.1, 10, 5.0
LAMBDAS = (0.0, 5.0, 25.0, 100.0)
STATS = ("rms", "l2", "sum", "l1", "var")
FAR = 3.0  # the decay dominates while a layer's RMS is at least this many times its final value


def fit_window(eta: float, lmbda: float, m: int, rms: np.ndarray) -> int:
    """Last epoch of the decay-dominated phase of one layer's ``rms`` (E+1,): at most the prediction's first
    factor e, ``⌈m/(ηλ)⌉`` epochs, and only while the RMS is at least ``FAR`` times its final value (≥ 1)."""
    far = np.flatnonzero(rms >= FAR * rms[-1])
    last_far = int(far[-1]) if len(far) else 0
    return max(1, min(len(rms) - 1, math.ceil(m / (eta * lmbda)), last_far))


def log_slope(values: np.ndarray, last: int) -> float:
    """Least-squares slope of ``ln values[t]`` against ``t = 0 … last``.  values (E+1,)."""
    t = np.arange(last + 1)
    return float(np.polyfit(t, np.log(values[: last + 1]), 1)[0])


def tail_off(values: np.ndarray, predicted: float) -> int | None:
    """First epoch whose one-epoch change of ``ln values`` is less than half the predicted (negative) slope."""
    slopes = np.diff(np.log(values))  # (E,)
    slow = np.flatnonzero(slopes > predicted / 2)
    return int(slow[0]) + 1 if len(slow) else None


def measure_equilibrium(quick: bool, seed: int) -> dict:
    """Train one [d, 30, 10] network per λ from the same large initialization; the weight statistics by epoch."""
    train_size, epochs = (5_000, 30) if quick else (None, 100)
    data, info = study_data.load(train_size)
    n = info["n_train"]
    d = data.train.X.shape[1]
    sizes = [d, HIDDEN, 10]
    lambdas = list(LAMBDAS)
    M = len(lambdas)
    with torch_threads(1):
        model = MLP.initialize(sizes, seeds=[seed] * M, init="large")  # the same weights for every λ
        result = fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, regularizer=L2(lambdas),
                     order_seeds=[seed], monitor=Monitor(splits=(), weights=True, saturation_examples=0))
        v = data.require("validation")
        _, accuracy = evaluate(result.model, v.X, v.y, v.Y)  # (M,)
    h = result.history
    L = len(sizes) - 1
    layers = []
    for l in range(L):
        stats = {s: h.get(s, l).T.tolist() for s in STATS}  # each (M, E+1)
        layers.append({"n_in": sizes[l], "n_out": sizes[l + 1], "weights": sizes[l] * sizes[l + 1], **stats})
    steps = math.ceil(n / BATCH)
    fits = []
    for i, lm in enumerate(lambdas):
        if lm == 0:
            continue
        predicted = -ETA * lm / BATCH
        for l, layer in enumerate(layers):
            rms = np.array(layer["rms"][i])
            last = fit_window(ETA, lm, BATCH, rms)
            tail = tail_off(rms, predicted)
            fits.append({
                "lambda": lm, "layer": l, "window": last, "fitted": log_slope(rms, last), "predicted": predicted,
                "exact": steps * math.log1p(-ETA * lm / n),
                "tail_epoch": tail, "tail_rms": None if tail is None else float(rms[tail]),
                "final_rms": float(rms[-1]),
            })
    N = sum(layer["weights"] for layer in layers)
    return {
        "data": info, "sizes": sizes, "eta": ETA, "batch": BATCH, "epochs": epochs, "n": n, "lambdas": lambdas,
        "main_lambda": MAIN_LAMBDA, "seed": seed, "N": N, "layers": layers, "fits": fits,
        "validation_accuracy": accuracy.tolist(),
    }


# ---------------------------------------------------------------------------- reading the results


def _fit(r: dict, lmbda: float, layer: int) -> dict:
    return next(f for f in r["fits"] if f["lambda"] == lmbda and f["layer"] == layer)


def _sum_sq(r: dict, model: int, epoch: int) -> float:
    """Σw² over every layer of model ``model`` after ``epoch`` (−1: the last)."""
    return float(sum(layer["l2"][model][epoch] ** 2 for layer in r["layers"]))


def _layer_name(r: dict, l: int) -> str:
    layer = r["layers"][l]
    return f"layer {l} ({layer['n_in']}→{layer['n_out']})"


def findings_equilibrium(r: dict) -> list[str]:
    lams, E, n = r["lambdas"], r["epochs"], r["n"]
    i5 = lams.index(r["main_lambda"])
    i0 = lams.index(0.0)
    out = [study_data.describe(r["data"])]
    if n < 50_000:
        out.append(
            f"This run keeps η = {num(r['eta'])}, λ and m = {r['batch']} of the book's exercise, so the predicted "
            f"decay per epoch, exp(−ηλ/m), is the full run's; with n = {n:,} instead of 50,000 images each step "
            f"decays by ηλ/n = {num(r['eta'] * r['main_lambda'] / n)} (not {num(r['eta'] * r['main_lambda'] / 50_000)}) "
            f"and the data's pull is weaker next to the penalty, so the level where the decay stops is that of a "
            f"{num(50_000 / n)}× larger λ on the full set; {E} epochs instead of 100.")
    f0 = _fit(r, r["main_lambda"], 0)
    pred = f0["predicted"]
    out.append(
        f"From the large initialization with λ = {num(r['main_lambda'])}, the RMS of {_layer_name(r, 0)} fell by "
        f"a fitted {num(math.exp(f0['fitted']), 4)} per epoch over epochs 0–{f0['window']}, while it was at "
        f"least {num(FAR)}× its final size (slope of ln RMS "
        f"{num(f0['fitted'], 4)}); predicted exp(−ηλ/m) = {num(math.exp(pred), 4)} (slope {num(pred, 4)}, exactly "
        f"(1 − ηλ/n)^⌈n/m⌉ gives {num(f0['exact'], 4)}): {num(100 * abs(f0['fitted'] / pred - 1), 2)}% apart.")
    others = [_fit(r, lm, 0) for lm in lams if lm not in (0.0, r["main_lambda"])]
    if others:
        out.append("For the other λ, the first layer's fitted slope against −ηλ/m: " + "; ".join(
            f"λ = {num(f['lambda'])}: {num(f['fitted'], 4)} vs {num(f['predicted'], 4)} "
            f"(epochs 0–{f['window']})" for f in others) + ".")
    inv_N, inv_in = 1 / math.sqrt(r["N"]), 1 / math.sqrt(r["layers"][0]["n_in"])
    tails = [_fit(r, lm, 0) for lm in lams if lm > 0]
    reached = [f for f in tails if f["tail_epoch"] is not None]
    missed = [f for f in tails if f["tail_epoch"] is None]
    if reached:
        out.append(
            "Where the decay tailed off (the first layer's decay per epoch fell below half the prediction): "
            + "; ".join(f"λ = {num(f['lambda'])} at epoch {f['tail_epoch']}, RMS {num(f['tail_rms'])}, settling at "
                        f"{num(f['final_rms'])} by epoch {E}" for f in reached)
            + f". Against 1/√N = {num(inv_N)} (N = {r['N']:,} weights) and 1/√n_in = {num(inv_in)} "
              f"(n_in = {r['layers'][0]['n_in']}): the final RMS is "
            + ", ".join(f"{num(f['final_rms'] / inv_N)}× 1/√N and {num(f['final_rms'] / inv_in)}× 1/√n_in "
                        f"at λ = {num(f['lambda'])}" for f in reached) + ".")
    if missed:
        out.append("Not yet tailed off by epoch " + f"{E}: " + "; ".join(
            f"λ = {num(f['lambda'])}, RMS still {num(f['final_rms'])} ({num(f['final_rms'] / inv_N)}× 1/√N)"
            for f in missed) + ".")
    if len(reached) >= 2:
        lo, hi = reached[0], reached[-1]
        power = math.log(hi["final_rms"] / lo["final_rms"]) / math.log(hi["lambda"] / lo["lambda"])
        out.append(f"The level moves with λ: from λ = {num(lo['lambda'])} to {num(hi['lambda'])} the first layer's "
                   f"final RMS went from {num(lo['final_rms'])} to {num(hi['final_rms'])}, as λ^{num(power, 2)}.")
    l0 = r["layers"][0]
    out.append(
        f"A signed sum is not a magnitude: with λ = {num(r['main_lambda'])}, Σw of {_layer_name(r, 0)} went from "
        f"{num(l0['sum'][i5][0])} to {num(l0['sum'][i5][-1])} while Σ|w| fell from {num(l0['l1'][i5][0])} to "
        f"{num(l0['l1'][i5][-1])} and the variance from {num(l0['var'][i5][0])} to {num(l0['var'][i5][-1])}.")
    before, after = _sum_sq(r, i5, 0), _sum_sq(r, i5, -1)
    for l, layer in enumerate(r["layers"]):
        a, b = layer["l2"][i5][0], layer["l2"][i5][-1]
        if b > a and after < before:
            out.append(f"{_layer_name(r, l).capitalize()} grew while the penalized total fell: with "
                       f"λ = {num(r['main_lambda'])} its ‖W‖ went from {num(a)} to {num(b)} while Σw² over all "
                       f"layers fell from {num(before)} to {num(after)}: the penalty bounds the total, not each layer.")
    if not any(layer["l2"][i5][-1] > layer["l2"][i5][0] for layer in r["layers"]):
        out.append(f"No layer's norm grew with λ = {num(r['main_lambda'])} in this run.")
    acc = r["validation_accuracy"]
    out.append(f"Final Σw² after {E} epochs: " + "; ".join(
        f"λ = {num(lm)}: {num(_sum_sq(r, i, -1))} (validation accuracy {num(100 * acc[i])}%)"
        for i, lm in enumerate(lams)) + f"; with λ = {num(r['main_lambda'])} it is "
        f"{num(_sum_sq(r, i5, -1) / _sum_sq(r, i0, -1))} of the unregularized network's.")
    return out


def tables_equilibrium(r: dict) -> list[Table]:
    fits = tuple(
        (num(f["lambda"]), _layer_name(r, f["layer"]), f"0–{f['window']}", f["fitted"], f["predicted"], f["exact"],
         "—" if f["tail_epoch"] is None else f["tail_epoch"], f["final_rms"])
        for f in r["fits"])
    i5 = r["lambdas"].index(r["main_lambda"])
    i0 = r["lambdas"].index(0.0)
    stats = tuple(
        (_layer_name(r, l), stat, layer[stat][i5][0], layer[stat][i5][-1], layer[stat][i0][-1])
        for l, layer in enumerate(r["layers"]) for stat in ("sum", "l1", "l2", "var", "rms"))
    return [
        Table("Slope of ln RMS per epoch: fitted over the decay-dominated phase vs predicted",
              ("λ", "layer", "epochs fitted", "fitted", "−ηλ/m", "⌈n/m⌉·ln(1 − ηλ/n)", "tail-off epoch", "final RMS"),
              fits, note="tail-off: the first epoch whose decay is less than half the predicted rate."),
        Table(f"Per-layer statistics before and after {r['epochs']} epochs",
              ("layer", "statistic", "initial", f"final, λ = {num(r['main_lambda'])}", "final, λ = 0"), stats,
              note="sum = Σw (signed), l1 = Σ|w|, l2 = √Σw², var = variance of the weights, rms = √(Σw²/N_l)."),
    ]


def figures_equilibrium(r: dict) -> dict[str, Figure]:
    E = r["epochs"]
    t = np.arange(E + 1)
    L = len(r["layers"])
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, L)
    inv_N = 1 / math.sqrt(r["N"])
    for l, ax in enumerate(axes):
        layer = r["layers"][l]
        for i, lm in enumerate(r["lambdas"]):
            rms = np.array(layer["rms"][i])
            ax.plot(t, rms, color=f"C{i}", lw=1.4, label=f"λ = {num(lm)}")
            if lm > 0 and l == 0:
                predicted = _fit(r, lm, l)["predicted"]
                ts = np.linspace(0, min(E, 2 / -predicted), 50)  # the prediction's first two factors e
                ax.plot(ts, rms[0] * np.exp(predicted * ts), color=f"C{i}", ls="--", lw=1)
        ax.axhline(inv_N, color="0.4", ls=":", lw=1)
        ax.text(E, inv_N, " 1/√N", va="bottom", ha="right", fontsize=8, color="0.3")
        inv_in = 1 / math.sqrt(layer["n_in"])
        ax.axhline(inv_in, color="0.4", ls="-.", lw=1)
        ax.text(E, inv_in, " 1/√n_in", va="bottom", ha="right", fontsize=8, color="0.3")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("RMS of the weights")
        ax.set_title(_layer_name(r, l) + (": dashed = exp(−ηλt/m)" if l == 0 else ""), fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Per-layer RMS by epoch (η = {num(r['eta'])}, m = {r['batch']}, n = {r['n']:,}, large init)")

    i5 = r["lambdas"].index(r["main_lambda"])
    fig2 = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig2.subplots()
    total = sum(np.array(layer["l2"][i5]) ** 2 for layer in r["layers"])
    ax.plot(t, total, color="k", lw=2, label="all layers (the penalized Σw²)")
    for l, layer in enumerate(r["layers"]):
        ax.plot(t, np.array(layer["l2"][i5]) ** 2, lw=1.4, label=_layer_name(r, l))
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Σw²")
    ax.legend(fontsize=8)
    fig2.suptitle(f"Σw² by layer with λ = {num(r['main_lambda'])}: the total falls, a layer may grow")
    return {"rms_by_epoch": fig, "sum_of_squares_by_layer": fig2}


PARTS = (
    Part("equilibrium", "Decay from the large initialization and where it stops", measure_equilibrium,
         findings_equilibrium, tables_equilibrium, figures_equilibrium),
)
