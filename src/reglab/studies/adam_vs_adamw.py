r"""adam-vs-adamw: weight decay is not L2 under Adam.

Adam (:class:`~reglab.optim.Adam`) keeps, per weight, ``m ← β₁m + (1−β₁)g`` and ``v ← β₂v + (1−β₂)g²`` and steps
``w ← w − η m̂/(√v̂ + ε)`` (``m̂, v̂`` bias-corrected). The same λ (book units, ``n`` = training-set size)
enters in one of two places:

* **Adam + L2** (coupled; PyTorch's ``Adam(weight_decay=λ/n)``): the penalty's gradient ``(λ/n)w`` is added to
  ``g`` *before* Adam, so it is divided by ``√v̂ + ε`` like the data gradient. Where ``w`` changes slowly the
  penalty's share of ``m̂`` is ``(λ/n)w``, and the step removes

  .. math::  η\,\frac{λ/n}{\sqrt{\hat v} + ε}\,w, \qquad
             \text{an effective decay rate } r = \frac{ηλ/n}{\sqrt{\hat v}+ε} \text{ per step,}

  which differs from weight to weight: large where the gradients are small (``v̂`` small), small where they
  are large.
* **AdamW** (decoupled; PyTorch's ``AdamW(weight_decay=λ/n)``): Adam steps on the data gradient alone, then
  :class:`~reglab.engine.regularizers.DecoupledDecay` applies ``w ← (1 − ηλ/n)w``: the rate is ``ηλ/n``, the same for
  every weight.

With plain SGD the two are the same update. Here the three networks (Adam with no decay, Adam + L2, AdamW) are
three models of one :func:`~reglab.engine.loop.fit` call — same initial weights, same mini-batches — with the
regularizer ``L2([0, λ, 0]) + DecoupledDecay([0, 0, λ])``. Adam's state is read after every epoch (the
optimizer object keeps a reference to it), giving Adam + L2's rate for every weight; AdamW's rate is measured by
applying its decay step to the final weights in float64, ``r = (w − prox(w))/w``.

Strength: ``λ/n = 0.01``, PyTorch's default ``weight_decay`` of ``AdamW`` (``λ = 0.01·n`` in the book's units).

A weight that the data never pull on (its input pixel is blank in every training image, so its data gradient
is exactly 0) shows the difference at its starkest. Under Adam + L2 its gradient is ``(λ/n)w`` alone, so
``m̂/√v̂ ≈ sign(w)`` and it moves by up to η per step *whatever λ is*, towards 0; once ``|w| < η`` its formal
rate ``η(λ/n)/(√v̂ + ε) ≈ η/|w|`` exceeds 1. Under AdamW it shrinks by the factor ``1 − ηλ/n`` per step; under
Adam without decay it never moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.optim import Adam
from reglab.engine.regularizers import L2, DecoupledDecay, Param
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.studies import data as study_data

NAME = "adam-vs-adamw"
QUESTION = "Is weight decay the same as an L2 penalty when the optimizer is Adam?"

HIDDEN, ETA, BATCH, WEIGHT_DECAY = 30, 1e-3, 10, 0.01
MODELS = ("Adam", "Adam + L2", "AdamW")
PERCENTILES = (1, 10, 50, 90, 99)


@dataclass(frozen=True)
class KeptAdam:
    """:class:`~reglab.optim.Adam` that keeps a reference to its state in ``kept["state"]`` for reading between epochs."""

    adam: Adam = Adam()
    kept: dict = field(default_factory=dict)

    def init(self, params):
        self.kept["state"] = self.adam.init(params)
        return self.kept["state"]

    def step(self, params, grads, eta, state) -> None:
        self.adam.step(params, grads, eta, state)


def coupled_rates(opt: KeptAdam, coef: float, model: int) -> list[np.ndarray]:
    r"""Adam + L2's effective decay rate ``η(λ/n)/(√v̂ + ε)`` of every weight of ``model``, per layer (n_out·n_in,)."""
    state, adam = opt.kept["state"], opt.adam
    bc2 = 1.0 - adam.beta2 ** state["t"]
    v_weights = state["v"][0::2]  # the parameters are W0, b0, W1, b1, …
    return [(ETA * coef / ((v[model].double() / bc2).sqrt() + adam.eps)).flatten().numpy() for v in v_weights]


def blank_rms(W: np.ndarray, dead: np.ndarray) -> list[float] | None:
    """RMS per model of the first-layer weights ``W`` (M, n_out, d) from the pixels ``dead`` (d,); ``None`` if none."""
    return np.sqrt(np.mean(W[:, :, dead] ** 2, axis=(1, 2))).tolist() if dead.any() else None


def measure_adam(quick: bool, seed: int) -> dict:
    """Adam, Adam + L2 and AdamW side by side: norms, accuracy and per-weight decay rates by epoch."""
    train_size, epochs, n_val = (5_000, 10, 2_000) if quick else (None, 20, 10_000)
    data, info = study_data.load(train_size)
    n = info["n_train"]
    d = data.train.X.shape[1]
    v = data.require("validation")
    data = TensorData(data.train, TensorSplit(v.X[:n_val], v.y[:n_val], v.Y[:n_val]), None, data.n_classes)
    lmbda = WEIGHT_DECAY * n
    coef = WEIGHT_DECAY  # λ/n: PyTorch's weight_decay
    opt = KeptAdam()
    by_epoch: list[dict] = []

    def record_rates(epoch: int, record: dict, run) -> None:
        rates = np.concatenate(coupled_rates(opt, coef, model=1))
        by_epoch.append({"epoch": epoch, "percentiles": np.percentile(rates, PERCENTILES).tolist()})

    with torch_threads(1):
        model = MLP.initialize([d, HIDDEN, 10], seeds=[seed] * 3, init="default")
        regularizer = L2([0.0, lmbda, 0.0]) + DecoupledDecay([0.0, 0.0, lmbda])
        result = fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, regularizer=regularizer, optimizer=opt,
                     order_seeds=[seed], monitor=Monitor(splits=("validation",), weights=True, saturation_examples=0),
                     callbacks=[record_rates])
    rates = coupled_rates(opt, coef, model=1)  # per layer
    all_rates = np.concatenate(rates)
    decay = DecoupledDecay(lmbda)
    decoupled = []
    for l, W in enumerate(result.model.weights):
        w = W[2:3].double()  # (1, n_out, n_in): the AdamW model
        step = torch.full((1, 1, 1), ETA, dtype=torch.float64)
        nz = w != 0
        decoupled.append(((w - decay.prox(w, step, Param(l, "weight", n))) / w)[nz].numpy())
    decoupled_all = np.concatenate(decoupled)
    dead = ~(data.train.X.numpy() != 0).any(axis=0)  # (d,): pixels blank in every training image
    first = rates[0].reshape(HIDDEN, d)  # (30, d)
    live = np.concatenate([first[:, ~dead].ravel(), *rates[1:]])  # the weights the data pull on
    floor = ETA * coef / opt.adam.eps  # the rate where √v̂ ≪ ε: η(λ/n)/ε
    blank_initial = blank_rms(result.initial["W0"], dead)  # the same for the three models
    blank_final = blank_rms(result.model.weights[0].double().numpy(), dead)
    h = result.history
    return {
        "data": info, "sizes": [d, HIDDEN, 10], "eta": ETA, "batch": BATCH, "epochs": epochs, "n": n,
        "lambda": lmbda, "weight_decay": coef, "validation": n_val,
        "betas": [opt.adam.beta1, opt.adam.beta2], "eps": opt.adam.eps, "models": list(MODELS),
        "accuracy": h.get("validation_accuracy").T.tolist(),  # (3, E+1)
        "l2": [h.get("l2", l).T.tolist() for l in range(2)],  # (L, 3, E+1)
        "coupled_percentiles": np.percentile(all_rates, PERCENTILES).tolist(),
        "live_percentiles": np.percentile(live, PERCENTILES).tolist(), "live_weights": int(len(live)),
        "floor": floor, "at_floor": int((all_rates > floor / 2).sum()),  # √v̂ < ε: the ε floor sets the rate
        "blank_at_floor": int((first[:, dead] > floor / 2).sum()) if dead.any() else 0,
        "coupled_per_layer": [np.percentile(r, PERCENTILES).tolist() for r in rates],
        "coupled_above_decoupled": float((all_rates > ETA * coef).mean()),
        "coupled_histogram": np.histogram(np.log10(all_rates), bins=60)[0].tolist(),
        "coupled_histogram_edges": np.histogram(np.log10(all_rates), bins=60)[1].tolist(),
        "decoupled_rate": ETA * coef,
        "decoupled_min": float(decoupled_all.min()), "decoupled_max": float(decoupled_all.max()),
        "weights": int(len(all_rates)),
        "dead_pixels": int(dead.sum()),
        "blank_rms_initial": None if blank_initial is None else blank_initial[0], "blank_rms_final": blank_final,
        "coupled_above_one": float((all_rates > 1).mean()),
        "dead_median": float(np.median(first[:, dead])) if dead.any() else None,
        "live_median": float(np.median(first[:, ~dead])),
        "by_epoch": by_epoch,
    }


def _orders(p: list[float]) -> float:
    """Orders of magnitude between the 1st and the 99th percentile."""
    return float(np.log10(p[-1] / p[0]))


def spread_sentence(r: dict) -> str:
    """The headline: how far Adam + L2's decay rates spread over the weights the data pull on."""
    lp = r["live_percentiles"]
    return (
        f"Adam + L2's effective rate η(λ/n)/(√v̂ + ε), from Adam's second-moment state after epoch {r['epochs']}, "
        f"over the {r['live_weights']:,} weights the data pull on (all but those on blank pixels): it spreads over "
        f"{num(_orders(lp), 2)} orders of magnitude between its 1st and 99th percentile ({num(lp[0])} to "
        f"{num(lp[-1])}, median {num(lp[2])}), where AdamW's is ηλ/n = {num(r['decoupled_rate'])} for every weight; "
        f"{num(100 * r['coupled_above_decoupled'])}% of all weights decay faster than under AdamW at the same λ.")


def headline(results: dict) -> str:
    """The finding ``index.html`` shows for this study."""
    return spread_sentence(results["adam"])


def findings_adam(r: dict) -> list[str]:
    p = r["coupled_percentiles"]
    dec = r["decoupled_rate"]
    acc = [a[-1] for a in r["accuracy"]]
    E = r["epochs"]
    out = [
        study_data.describe(r["data"]),
        f"A [{', '.join(map(str, r['sizes']))}] sigmoid network trained {E} epochs with Adam (η = {num(r['eta'])}, "
        f"β = {r['betas']}, ε = {num(r['eps'])}, mini-batch {r['batch']}) three ways from the same weights: no decay, "
        f"Adam + L2 and AdamW, both with λ = {num(r['lambda'])} (λ/n = {num(r['weight_decay'])}, PyTorch's "
        f"weight_decay, AdamW's default there).",
        f"AdamW's decay rate per step is ηλ/n = {num(dec)} for every one of the {r['weights']:,} weights: measured "
        f"from its decay step on the final weights, all lie within a relative "
        f"{num((r['decoupled_max'] - r['decoupled_min']) / dec, 2)} of that one value.",
        spread_sentence(r),
        f"The ε floor, separately: where √v̂ ≪ ε the rate is η(λ/n)/ε = {num(r['floor'])}, whatever the weight; "
        f"{r['at_floor']:,} weights are there (√v̂ < ε), {r['blank_at_floor']:,} of them on the blank pixels, whose "
        f"only gradient is the penalty's own. Over all {r['weights']:,} weights, blank pixels included, the 1st to "
        f"99th percentile spans {num(_orders(p), 2)} orders of magnitude, up to {num(p[-1])}"
        + (": the 99th percentile is the floor, set by ε, not by the data." if p[-1] > r["floor"] / 2 else "."),
    ]
    if r["dead_median"] is not None:
        b = r["blank_rms_final"]
        out.append(
            f"The weights Adam + L2 decays fastest are those the data do not pull on: for the {r['dead_pixels']} "
            f"input pixels blank in every training image (no data gradient) the median rate of their first-layer "
            f"weights is {num(r['dead_median'])}, against {num(r['live_median'])} for the other pixels' "
            f"({num(r['dead_median'] / r['live_median'])}×). Their RMS went from {num(r['blank_rms_initial'])} to "
            f"{num(b[1])} under Adam + L2 (η = {num(r['eta'])}), {num(b[2])} under AdamW and {num(b[0])} under Adam "
            f"without decay.")
    if r["coupled_above_one"] > 0:
        out.append(f"{num(100 * r['coupled_above_one'])}% of Adam + L2's formal rates exceed 1: for those weights the "
                   f"penalty's normalized step is larger than |w| itself; they have been driven to about 0.")
    first, last = r["by_epoch"][0]["percentiles"], r["by_epoch"][-1]["percentiles"]
    out.append(f"Over training the spread of all Adam + L2's rates went from {num(_orders(first), 2)} orders of magnitude "
               f"after epoch 1 to {num(_orders(last), 2)} after epoch {E}.")
    out.append("Weight norms after training: " + "; ".join(
        f"{name}: ‖W₀‖ = {num(r['l2'][0][i][-1])}, ‖W₁‖ = {num(r['l2'][1][i][-1])}" for i, name in enumerate(r["models"]))
        + f" (from {num(r['l2'][0][0][0])} and {num(r['l2'][1][0][0])}).")
    out.append(f"Validation accuracy after {E} epochs ({r['validation']:,} images): " + "; ".join(
        f"{name} {num(100 * a)}%" for name, a in zip(r["models"], acc)) + ". One λ for both methods compares "
        "mechanisms at a strength that suits one of them more than the other; the next part tunes λ per method.")
    return out


def tables_adam(r: dict) -> list[Table]:
    rows = tuple((f"Adam + L2, layer {l}", *pl) for l, pl in enumerate(r["coupled_per_layer"]))
    rows += (("Adam + L2, weights with data gradient", *r["live_percentiles"]),
             ("Adam + L2, all weights (ε floor included)", *r["coupled_percentiles"]),
             ("AdamW, all weights", *([r["decoupled_rate"]] * len(PERCENTILES))))
    return [Table(f"Effective decay rate per step after {r['epochs']} epochs: percentiles over the weights",
                  ("", *(f"{q}%" for q in PERCENTILES)), rows,
                  note="Adam + L2: η(λ/n)/(√v̂ + ε) from Adam's state; AdamW: ηλ/n.")]


def figures_adam(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(12, 4), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    edges = np.array(r["coupled_histogram_edges"])
    ax1.stairs(r["coupled_histogram"], 10**edges, fill=True, alpha=0.6, label="Adam + L2: η(λ/n)/(√v̂+ε)")
    ax1.axvline(r["decoupled_rate"], color="C3", lw=2, label=f"AdamW: ηλ/n = {num(r['decoupled_rate'])}")
    ax1.set_xscale("log")
    ax1.set_xlabel("decay rate per step")
    ax1.set_ylabel("number of weights")
    ax1.legend(fontsize=8)
    ax1.set_title(f"per-weight decay rate after epoch {r['epochs']}", fontsize=10)
    t = np.arange(r["epochs"] + 1)
    for i, name in enumerate(r["models"]):
        for l, style in ((0, "-"), (1, "--")):
            ax2.plot(t, r["l2"][l][i], style, color=f"C{i}", label=f"{name}, ‖W{l}‖")
        ax3.plot(t, 100 * np.array(r["accuracy"][i]), color=f"C{i}", label=name)
    ax2.set_yscale("log")
    ax2.yaxis.set_minor_formatter(NullFormatter())
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("‖W‖ of the layer")
    ax2.legend(fontsize=7, ncols=2)
    ax2.set_title("weight norms (solid: layer 0, dashed: layer 1)", fontsize=10)
    ax3.set_xlabel("epoch")
    ax3.set_ylabel("validation accuracy (%)")
    ax3.legend(fontsize=8)
    ax3.set_title("accuracy", fontsize=10)
    fig.suptitle(f"Adam + L2 against AdamW at the same λ = {num(r['lambda'])}")
    return {"adam_vs_adamw": fig}


# ---------------------------------------------------------------------------- each method at its own best λ

#: λ/n (PyTorch's weight_decay) tried for each method; λ = 0 (plain Adam) trains once beside them.
GRID = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def measure_tuned(quick: bool, seed: int) -> dict:
    """Adam + L2 and AdamW over a grid of λ/n, one fit; each method's λ chosen on validation, compared on test."""
    train_size, epochs, n_eval, grid = (5_000, 10, 2_000, list(GRID[1:])) if quick else (None, 15, 10_000, list(GRID))
    data, info = study_data.load(train_size)
    n = info["n_train"]
    d = data.train.X.shape[1]
    v, t = data.require("validation"), data.require("test")
    data = TensorData(data.train, TensorSplit(v.X[:n_eval], v.y[:n_eval], v.Y[:n_eval]),
                      TensorSplit(t.X[:n_eval], t.y[:n_eval], t.Y[:n_eval]), data.n_classes)
    J = len(grid)
    coupled = [0.0] + [g * n for g in grid] + [0.0] * J  # model 0: Adam; 1…J: Adam + L2; J+1…2J: AdamW
    decoupled = [0.0] + [0.0] * J + [g * n for g in grid]
    with torch_threads(1):
        model = MLP.initialize([d, HIDDEN, 10], seeds=[seed] * (2 * J + 1), init="default")
        result = fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, regularizer=L2(coupled) + DecoupledDecay(decoupled),
                     optimizer=Adam(), order_seeds=[seed],
                     monitor=Monitor(splits=("validation", "test"), weights=False, saturation_examples=0))
    h = result.history
    val, test = h.get("validation_accuracy")[-1], h.get("test_accuracy")[-1]  # (2J+1,) after the last epoch
    methods = {}
    for name, cols in (("Adam + L2", list(range(1, J + 1))), ("AdamW", list(range(J + 1, 2 * J + 1)))):
        best = cols[int(np.argmax(val[cols]))]  # the smallest λ among equals
        methods[name] = {"validation": val[cols].tolist(), "test": test[cols].tolist(),
                         "best": grid[cols.index(best)], "best_validation": float(val[best]),
                         "best_test": float(test[best]),
                         "tied": [g for g, c in zip(grid, cols) if c != best and val[c] == val[best]]}
    return {"data": info, "sizes": [d, HIDDEN, 10], "eta": ETA, "batch": BATCH, "epochs": epochs, "n": n,
            "evaluated": n_eval, "grid": grid, "adam_validation": float(val[0]), "adam_test": float(test[0]),
            "methods": methods}


def findings_tuned(r: dict) -> list[str]:
    grid, methods = r["grid"], r["methods"]
    c, w = methods["Adam + L2"], methods["AdamW"]
    edge = [name for name, m in methods.items() if m["best"] in (grid[0], grid[-1]) and not m["tied"]]
    diff = 100 * (w["best_test"] - c["best_test"])

    se = 100 * math.sqrt(c["best_test"] * (1 - c["best_test"]) / r["evaluated"])

    def ties(m: dict) -> str:
        return f", tied on validation with {', '.join(num(g) for g in m['tied'])}" if m["tied"] else ""

    return [
        study_data.describe(r["data"]),
        f"Each method tried λ/n = {', '.join(num(g) for g in grid)} (PyTorch's weight_decay; η = {num(r['eta'])}, "
        f"{r['epochs']} epochs, the same initial weights and mini-batches), λ chosen by validation accuracy on "
        f"{r['evaluated']:,} images, compared on {r['evaluated']:,} test images.",
        f"Adam + L2 was best at λ/n = {num(c['best'])}{ties(c)} (validation {num(100 * c['best_validation'])}%, test "
        f"{num(100 * c['best_test'])}%); AdamW at λ/n = {num(w['best'])}{ties(w)} (validation "
        f"{num(100 * w['best_validation'])}%, test {num(100 * w['best_test'])}%); Adam without decay "
        f"{num(100 * r['adam_validation'])}% on validation, {num(100 * r['adam_test'])}% on test."
        + (f" Their best λ differ by a factor of {num(w['best'] / c['best'])}: the same number is a different "
           "strength in the two places." if w["best"] != c["best"] and not (w["tied"] or c["tied"]) else ""),
        "At each method's own best λ, AdamW's test accuracy is "
        + (f"{num(abs(diff), 2)} points {'above' if diff > 0 else 'below'}" if diff else "equal to")
        + " Adam + L2's; one standard error of an "
        f"accuracy near {num(100 * c['best_test'])}% on {r['evaluated']:,} images is {num(se, 2)} points"
        + (f" (the best λ of {' and '.join(edge)} lies at the end of the grid: a wider grid could move it)."
           if edge else "."),
    ]


def tables_tuned(r: dict) -> list[Table]:
    rows = tuple((num(g), *(100 * r["methods"][name][split][j] for name in ("Adam + L2", "AdamW")
                            for split in ("validation", "test")),
                  " and ".join(name for name in r["methods"] if r["methods"][name]["best"] == g))
                 for j, g in enumerate(r["grid"]))
    return [Table("Accuracy after training for each λ/n (%)",
                  ("λ/n", "Adam + L2 validation", "Adam + L2 test", "AdamW validation", "AdamW test", "best on validation"),
                  rows, note=f"Adam without decay: validation {num(100 * r['adam_validation'])}%, "
                             f"test {num(100 * r['adam_test'])}%.")]


PARTS = (
    Part("adam", "Adam + L2 against AdamW at the same strength", measure_adam, findings_adam, tables_adam, figures_adam),
    Part("tuned", "Each method at its own best λ", measure_tuned, findings_tuned, tables_tuned),
)
