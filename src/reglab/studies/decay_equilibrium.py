r"""decay-equilibrium: how fast L2 shrinks weights from a large start, where it stops, and why layers differ.

The book's rule for a mini-batch of size ``m`` out of ``n`` training images (:class:`~reglab.engine.regularizers.L2`)::

    w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w.

While the data term is small next to the decay term (weights far larger than the data want, as after the
large initialization N(0, 1)), each step multiplies a weight by ``1 − ηλ/n``, and an epoch of ``⌈n/m⌉`` steps by

.. math::  (1 − ηλ/n)^{⌈n/m⌉} \approx e^{−ηλ/m},

whatever ``n`` is: the logarithm of a layer's RMS falls by ``ηλ/m`` per epoch (0.05 for the book's η = 0.1,
λ = 5, m = 10). Per *step* the decay does not depend on ``m``; per *epoch* it does, since an epoch has
``⌈n/m⌉`` steps: at fixed η and λ, a larger mini-batch decays less per epoch (the part ``batch``).

Where the decay stops. L2 is separable: every weight of every layer is multiplied by the same ``1 − ηλ/n``
each step, and a layer's ``‖W‖²`` changes, to first order in η, by ``−2η(⟨W, ∇C₀⟩ + (λ/n)‖W‖²)``: it grows
while the data push ``−⟨W, ∇C₀⟩`` exceeds the decay ``(λ/n)‖W‖²``, whatever the other layers do. The decay
stops where the data gradient balances it. The book's exercise suggests ``w ≈ 1/√N`` (``N`` weights in all:
then ``Σw² ≈ 1``); ``1/√n_in`` is where a sigmoid unit's input stops saturating *if the inputs had unit
variance* — MNIST's images do not (their mean ‖x‖ is about 9.4, not √784 = 28). The study measures the level,
how it moves with λ, the spread of the hidden units' weighted inputs and their saturation, and per layer the
data gradient against the decay, for several λ trained together (one model each, same initial weights and
mini-batch order), and beside λ = 5 a model whose biases are decayed too.

Measured: per layer, the RMS, Σw, Σ|w|, the variance and Σw² after every epoch; on a fixed probe of training
images the full-batch data gradient (mean ``|∂C₀/∂w|`` and ``⟨W, ∇C₀⟩``); on 1,000 validation images the
standard deviation of each unit's weighted input ``z`` and the saturated share of (image, unit) pairs; the slope
of ln RMS fitted by least squares over the decay-dominated phase; the epoch and RMS at which the decay slowed to
half its predicted rate. The decay-dominated phase is epochs 0 … K, with K the last epoch at which the RMS is
still at least 3 times its final value, and at most ⌈m/(ηλ)⌉ (the prediction's first factor e). Why 3: if the
squared RMS relaxes as ``RMS² = RMS_∞² + (RMS₀² − RMS_∞²) e^{−2kt}``, its log-slope is
``−k (1 − RMS_∞²/RMS²)``, within 1/9 of ``−k`` while ``RMS ≥ 3 RMS_∞``. A layer that grows has no such phase:
its row of the slope table is marked not applicable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure

from reglab.engine.data import TensorData
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, Record, evaluate
from reglab.engine.regularizers import L2, Param, Regularizer, all_parameters
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.studies import data as study_data

NAME = "decay-equilibrium"
QUESTION = "How fast does L2 shrink large weights, where does the shrinking stop, and why can one layer grow meanwhile?"

HIDDEN, ETA, BATCH, MAIN_LAMBDA = 30, 0.1, 10, 5.0
LAMBDAS = (0.0, 5.0, 25.0, 100.0)
STATS = ("rms", "l2", "sum", "l1", "var")
PROBES = ("saturation", "z_sd", "grad_abs", "grad_dot", "drift", "noise")
FAR = 3.0  # the decay dominates while a layer's RMS is at least this many times its final value
PROBE = 10_000  # training images of the full-batch data gradient (the quick run: 2,000)


@dataclass(frozen=True)
class GradientMonitor(Monitor):
    """The usual record, plus per layer on a fixed probe: the full-batch data gradient, the change of ‖W‖² that
    one SGD step is expected to make, and the weighted inputs.

    ``("grad_abs", l)``: mean ``|∂C₀/∂w|`` over the layer's weights, ``C₀`` the mean cost over the first ``probe``
    training images; ``("grad_dot", l)``: ``⟨W, ∇C₀⟩``; ``("drift", l)`` and ``("noise", l)``: the first- and
    second-order terms of :func:`norm_drift` for SGD with step ``eta`` on mini-batches of ``batch`` probe images;
    ``("z_sd", l)``: the mean over the layer's units of the standard deviation of its weighted input ``z`` over
    the saturation probe (validation images).
    """

    probe: int = PROBE
    eta: float = ETA
    batch: int = BATCH

    @torch.no_grad()
    def __call__(self, model: MLP, data: TensorData, regularizer: Regularizer, n: int, seen=None,
                 one_thread: bool = False) -> Record:
        record = super().__call__(model, data, regularizer, n, seen, one_thread)
        X, Y = data.train.X[: self.probe], data.train.Y[: self.probe]
        zs, acts = model.forward(X)
        gw, _ = model.backward(Y, zs, acts)
        decay = []
        for l, (W, g) in enumerate(zip(model.weights, gw)):
            record[("grad_abs", l)] = g.abs().double().mean(dim=(1, 2))
            record[("grad_dot", l)] = (g.double() * W.double()).sum(dim=(1, 2))
            form = regularizer.elementwise(Param(l, "weight", n))
            decay.append(np.zeros(model.M) if form is None else form[:, 0])  # λ₂ = λ/n of the gradient λ₂w
        for l, terms in enumerate(norm_drift(model, X, Y, self.batch, self.eta, decay)):
            record[("drift", l)] = torch.tensor(terms["drift"], dtype=torch.float64)
            record[("noise", l)] = torch.tensor(terms["noise"], dtype=torch.float64)
        sat = data.validation if data.validation is not None else data.train
        for l, z in enumerate(model.forward(sat.X[: self.saturation_examples])[0]):
            record[("z_sd", l)] = z.double().std(dim=1).mean(dim=1)
        return record

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


@torch.no_grad()
def norm_drift(model: MLP, X: torch.Tensor, Y: torch.Tensor, m: int, eta: float, decay) -> list[dict]:
    r"""Per layer, the expected change of ``‖W‖²`` in one SGD step (exact: the norm is quadratic), per model.

    A step is ``W ← W − η(g_b + cW)`` with ``g_b`` the mean data gradient of a mini-batch ``b`` and ``c = λ/n``
    (``decay``: per model (M,), or a list of those per layer), so ``‖W‖²`` changes by
    ``−2η⟨W, g_b + cW⟩ + η²‖g_b + cW‖²``. Averaged over the mini-batches of ``m`` consecutive examples of
    ``X`` (B, d): the first-order *drift* ``−2η(⟨W, ∇C₀⟩ + c‖W‖²)`` (∇C₀ the mean over the batches) and the
    second-order *noise* ``η² mean_b ‖g_b + cW‖²``. ``‖g_b‖² = (1/m²) Σ_{x,x'∈b} (δ_x·δ_x')(a_x·a_x')`` from
    per-example errors δ and inputs a of the layer, without forming any per-batch gradient.
    → ``[{"drift": (M,), "noise": (M,)}, …]`` per layer.
    """
    nb = X.shape[0] // m
    X, Y = X[: nb * m], Y[: nb * m]
    zs, acts = model.forward(X)
    delta = model.cost.delta(zs[-1], acts[-1], Y)  # (M, B, n_L)
    per_layer = decay if isinstance(decay, list) else [decay] * len(model.weights)
    out: list[dict] = []
    for l in range(len(model.weights) - 1, -1, -1):
        c = torch.as_tensor(np.asarray(per_layer[l], dtype=float), dtype=torch.float64)  # (M,)
        W = model.weights[l].double()  # (M, n_out, n_in)
        a = acts[l].double()
        a = a.expand(model.M, *a.shape) if a.dim() == 2 else a  # (M, B, n_in)
        d = delta.double()
        Wa = torch.bmm(a, W.transpose(1, 2))  # (M, B, n_out): W a_x
        dot = (d * Wa).sum(dim=2).reshape(model.M, nb, m).mean(dim=2)  # ⟨g_b, W⟩ (M, nb)
        D = torch.einsum("Mbio,Mbjo->Mbij", d.reshape(model.M, nb, m, -1), d.reshape(model.M, nb, m, -1))
        A = torch.einsum("Mbid,Mbjd->Mbij", a.reshape(model.M, nb, m, -1), a.reshape(model.M, nb, m, -1))
        g2 = (D * A).sum(dim=(2, 3)) / m**2  # ‖g_b‖² (M, nb)
        w2 = W.square().sum(dim=(1, 2))  # (M,)
        step2 = g2 + 2 * c[:, None] * dot + (c**2 * w2)[:, None]  # ‖g_b + cW‖²
        out.insert(0, {"drift": (-2 * eta * (dot.mean(dim=1) + c * w2)).tolist(),
                       "noise": (eta**2 * step2.mean(dim=1)).tolist()})
        if l > 0:
            delta = model.activation.backward(torch.bmm(delta, model.weights[l]), zs[l - 1], acts[l])
    return out


def blank_pixels(data: TensorData) -> np.ndarray:
    """``True`` for the input pixels that are 0 in every training image (no data gradient on their weights).  → (d,)"""
    return ~(data.train.X.numpy() != 0).any(axis=0)


def measure_equilibrium(quick: bool, seed: int) -> dict:
    """Train one [d, 30, 10] network per λ from the same large initialization (and, beside λ = 5, one whose
    biases decay too); the weight statistics, data gradients and weighted inputs by epoch."""
    train_size, epochs, probe = (5_000, 30, 2_000) if quick else (None, 100, PROBE)
    data, info = study_data.load(train_size)
    n = info["n_train"]
    d = data.train.X.shape[1]
    sizes = [d, HIDDEN, 10]
    lambdas = list(LAMBDAS)
    M = len(lambdas) + 1  # the last model: λ = MAIN_LAMBDA on the biases too
    regularizer = L2(lambdas + [0.0]) + L2([0.0] * len(lambdas) + [MAIN_LAMBDA], mask=all_parameters)
    with torch_threads(1):
        model = MLP.initialize(sizes, seeds=[seed] * M, init="large")  # the same weights for every model
        result = fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, regularizer=regularizer,
                     order_seeds=[seed], monitor=GradientMonitor(splits=(), weights=True, saturation_examples=1000,
                                                                 probe=probe, eta=ETA, batch=BATCH))
        v = data.require("validation")
        _, accuracy = evaluate(result.model, v.X, v.y, v.Y)  # (M,)
    h = result.history
    L = len(sizes) - 1
    layers = []
    for l in range(L):
        stats = {s: h.get(s, l).T.tolist() for s in (*STATS, *PROBES)}  # each (M, E+1)
        layers.append({"n_in": sizes[l], "n_out": sizes[l + 1], "weights": sizes[l] * sizes[l + 1], **stats})
    steps = math.ceil(n / BATCH)
    fits = []
    for i, lm in enumerate(lambdas):
        if lm == 0:
            continue
        predicted = -ETA * lm / BATCH
        for l, layer in enumerate(layers):
            rms = np.array(layer["rms"][i])
            grew = bool(rms[-1] > rms[0])
            last = fit_window(ETA, lm, BATCH, rms)
            slope = log_slope(rms, last)
            # no decay-dominated phase: the layer grew, or it shrank at under half the predicted rate from the start
            status = "grew" if grew else "data" if slope > predicted / 2 else "decay"
            ok = status == "decay"
            tail = tail_off(rms, predicted)
            fits.append({
                "lambda": lm, "layer": l, "status": status, "grew": grew, "window": last if ok else None,
                "fitted": slope if ok else None, "predicted": predicted,
                "exact": steps * math.log1p(-ETA * lm / n),
                "tail_epoch": tail if ok else None, "tail_rms": float(rms[tail]) if ok and tail is not None else None,
                "final_rms": float(rms[-1]),
            })
    i5 = lambdas.index(MAIN_LAMBDA)
    dead = blank_pixels(data)
    W0 = [result.initial["W0"], result.model.weights[0].double().numpy()]  # (M, 30, d) before, after
    biases = [[float(np.sqrt(np.mean(params[f"b{l}"][m] ** 2))) for l in range(L)]
              for params in (result.initial, result.model.numpy_params()) for m in (i5, M - 1)]
    N = sum(layer["weights"] for layer in layers)
    return {
        "data": info, "sizes": sizes, "eta": ETA, "batch": BATCH, "epochs": epochs, "n": n, "lambdas": lambdas,
        "main_lambda": MAIN_LAMBDA, "seed": seed, "N": N, "layers": layers, "fits": fits, "probe": min(probe, n),
        "steps": steps,
        "saturation_probe": min(1000, info["n_validation"]),
        "validation_accuracy": accuracy.tolist()[: len(lambdas)],
        "input_norm": float(data.train.X.double().norm(dim=1).mean()),
        "blank": {"pixels": int(dead.sum()), "weights": int(dead.sum()) * HIDDEN,
                  "rms": [float(np.sqrt(np.mean(W[i5][:, dead] ** 2))) if dead.any() else None for W in W0],
                  "predicted_factor": (1 - ETA * MAIN_LAMBDA / n) ** (steps * epochs)},
        "biases_decayed": {
            "validation_accuracy": [float(accuracy[i5]), float(accuracy[M - 1])],  # biases not decayed, decayed
            "bias_rms_initial": biases[0], "bias_rms": [biases[2], biases[3]],
            "weight_rms": [[float(np.sqrt(np.mean(result.model.weights[l][m].double().numpy() ** 2))) for l in range(L)]
                           for m in (i5, M - 1)],
        },
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


def balance(r: dict, model: int, l: int) -> dict[str, np.ndarray]:
    """Per epoch (E+1,), for layer ``l`` of ``model``: the data gradient's mean |∂C₀/∂w| and the decay's
    (λ/n)·mean|w|, and the data push −⟨W, ∇C₀⟩ against the decay (λ/n)‖W‖² on ``‖W‖²``."""
    layer = r["layers"][l]
    lm, n = r["lambdas"][model], r["n"]
    mean_abs = np.array(layer["l1"][model]) / layer["weights"]
    return {
        "grad": np.array(layer["grad_abs"][model]), "decay": lm / n * mean_abs,
        "push": -np.array(layer["grad_dot"][model]), "pull": lm / n * np.array(layer["l2"][model]) ** 2,
    }


def slope_sentence(r: dict) -> str:
    """The headline: the first layer's fitted decay per epoch against exp(−ηλ/m)."""
    f0 = _fit(r, r["main_lambda"], 0)
    pred = f0["predicted"]
    if f0["fitted"] is None:
        return (f"From the large initialization with λ = {num(r['main_lambda'])}, {_layer_name(r, 0)} had no "
                f"decay-dominated phase ({NOT_APPLICABLE[f0['status']]}); predicted exp(−ηλ/m) = "
                f"{num(math.exp(pred), 4)} per epoch.")
    return (
        f"From the large initialization with λ = {num(r['main_lambda'])}, the RMS of {_layer_name(r, 0)} fell by "
        f"a fitted {num(math.exp(f0['fitted']), 4)} per epoch over epochs 0–{f0['window']}"
        f"{' (two points only)' if f0['window'] == 1 else ''}, while it was at "
        f"least {num(FAR)}× its final size (slope of ln RMS "
        f"{num(f0['fitted'], 4)}); predicted exp(−ηλ/m) = {num(math.exp(pred), 4)} (slope {num(pred, 4)}, exactly "
        f"(1 − ηλ/n)^⌈n/m⌉ gives {num(f0['exact'], 4)}): {num(100 * abs(f0['fitted'] / pred - 1), 2)}% apart.")


def saturation_at_stop(r: dict, reached: list[dict]) -> str:
    """The end of the 'level moves with λ' sentence: the first layer's saturated share where each λ's decay
    stopped: no common threshold where the shares differ by 2 points or more; else said as they are."""
    sat = r["layers"][0]["saturation"]
    shares = [100 * sat[r["lambdas"].index(f["lambda"])][-1] for f in reached]
    each = ", ".join(f"{num(s)}% at λ = {num(f['lambda'])}" for s, f in zip(shares, reached))
    if max(shares) - min(shares) >= 2:
        return f"and the saturated share where it stopped is no common threshold: {each}."
    if max(shares) < 2:
        return (f"and where it stopped hardly any unit was saturated ({each}): the decay went on well past the "
                "point where saturation ended, to a level set by λ.")
    return (f"while the saturated share where it stopped was about the same at every λ ({each}): in this run the "
            "saturation alone does not tell the two readings apart; the level's dependence on λ does.")


def headline(results: dict) -> str:
    """The finding ``index.html`` shows for this study."""
    return slope_sentence(results["equilibrium"])


def findings_equilibrium(r: dict) -> list[str]:
    lams, E, n = r["lambdas"], r["epochs"], r["n"]
    i5, i0 = lams.index(r["main_lambda"]), lams.index(0.0)
    lm5 = num(r["main_lambda"])
    out = [study_data.describe(r["data"])]
    if n < 50_000:
        out.append(
            f"This run keeps η = {num(r['eta'])}, λ and m = {r['batch']} of the book's exercise, so the predicted "
            f"decay per epoch, exp(−ηλ/m), is the full run's; with n = {n:,} instead of 50,000 images each step "
            f"decays by ηλ/n = {num(r['eta'] * r['main_lambda'] / n)} (not {num(r['eta'] * r['main_lambda'] / 50_000)}) "
            f"and the data's pull is weaker next to the penalty, so the level where the decay stops is that of a "
            f"{num(50_000 / n)}× larger λ on the full set; {E} epochs instead of 100.")
    total = _sum_sq(r, i5, -1)
    N = r["N"]
    inv_N = 1 / math.sqrt(N)
    whole = math.sqrt(total / N)
    l0 = r["layers"][0]
    rms0, mean0 = l0["rms"][i5][-1], l0["l1"][i5][-1] / l0["weights"]
    out.append(
        f"Against the book's 1/√N, what does not depend on which magnitude one picks: weights of size 1/√N mean "
        f"Σw² ≈ 1 over the network (N = {N:,} weights, N·(1/√N)² = 1); after {E} epochs with λ = {lm5} the "
        f"measured Σw² is {num(total)}. Which magnitude is then compared with 1/√N = {num(inv_N)} changes the "
        f"factor: the whole network's RMS √(Σw²/N) = {num(whole)} ({num(whole / inv_N)}×), {_layer_name(r, 0)}'s "
        f"RMS {num(rms0)} ({num(rms0 / inv_N)}×), its mean |w| {num(mean0)} ({num(mean0 / inv_N)}×).")
    out.append(slope_sentence(r))
    others = [f for f in (_fit(r, lm, 0) for lm in lams if lm not in (0.0, r["main_lambda"])) if f["fitted"] is not None]
    if others:
        out.append("For the other λ, the first layer's fitted slope against −ηλ/m: " + "; ".join(
            f"λ = {num(f['lambda'])}: {num(f['fitted'], 4)} vs {num(f['predicted'], 4)} (epochs 0–{f['window']}"
            + (", two points only: the prediction's first factor e takes one epoch" if f["window"] == 1 else "")
            + ")" for f in others) + ".")
    inv_in = 1 / math.sqrt(r["layers"][0]["n_in"])
    tails = [f for f in (_fit(r, lm, 0) for lm in lams if lm > 0) if f["status"] == "decay"]
    reached = [f for f in tails if f["tail_epoch"] is not None]
    missed = [f for f in tails if f["tail_epoch"] is None]
    if reached:
        out.append(
            "Where the decay tailed off (the first layer's decay per epoch fell below half the prediction): "
            + "; ".join(f"λ = {num(f['lambda'])} at epoch {f['tail_epoch']}, RMS {num(f['tail_rms'])}, settling at "
                        f"{num(f['final_rms'])} by epoch {E} ({num(f['final_rms'] / inv_in)}× 1/√n_in)"
                        for f in reached) + ".")
    if missed:
        out.append("Not yet tailed off by epoch " + f"{E}: " + "; ".join(
            f"λ = {num(f['lambda'])}, RMS still {num(f['final_rms'])}" for f in missed) + ".")
    sd, sat = l0["z_sd"], l0["saturation"]
    out.append(
        f"1/√n_in = {num(inv_in)} is where a sigmoid unit's input would stop saturating if the inputs had unit "
        f"variance (‖x‖ ≈ √{l0['n_in']} = {num(math.sqrt(l0['n_in']))}); MNIST's images have a mean ‖x‖ of "
        f"{num(r['input_norm'])}. Measured on {r['saturation_probe']:,} validation images with λ = {lm5}: the standard "
        f"deviation of a hidden unit's weighted input went from {num(sd[i5][0])} to {num(sd[i5][-1])} and the "
        f"saturated share of (image, unit) pairs from {num(100 * sat[i5][0])}% to {num(100 * sat[i5][-1])}%; at the "
        f"end " + ", ".join(f"{num(100 * sat[i][-1])}% (λ = {num(lm)})" for i, lm in enumerate(lams)) + ".")
    if len(reached) >= 2:
        lo, hi = reached[0], reached[-1]
        power = math.log(hi["final_rms"] / lo["final_rms"]) / math.log(hi["lambda"] / lo["lambda"])
        out.append(f"So the decay does not stop at a saturation threshold: it stops where the data gradient balances "
                   f"it, at a level that moves with λ — from λ = {num(lo['lambda'])} to {num(hi['lambda'])} the first "
                   f"layer's final RMS went from {num(lo['final_rms'])} to {num(hi['final_rms'])}, as "
                   f"λ^{num(power, 2)}, " + saturation_at_stop(r, reached))
    growing = [l for l, layer in enumerate(r["layers"]) if layer["l2"][i5][-1] > layer["l2"][i5][0]]
    bal = [balance(r, i5, l) for l in range(len(r["layers"]))]
    out.append(
        f"Per weight, with λ = {lm5}, the full-batch data gradient on {r['probe']:,} training images against the "
        "decay: " + "; ".join(
            f"{_layer_name(r, l)}: mean |∂C₀/∂w| {num(b['grad'][0])} against (λ/n)·mean|w| = {num(b['decay'][0])} at "
            f"the start ({num(b['grad'][0] / b['decay'][0])}×), {num(b['grad'][-1])} against {num(b['decay'][-1])} at "
            f"the end" for l, b in enumerate(bal)) + ".")
    parts = []
    for l, b in enumerate(bal):
        up = np.flatnonzero(b["push"] > b["pull"])
        parts.append(f"in {_layer_name(r, l)} at {len(up)} of the {E + 1} epochs measured"
                     + (f" (the first epoch {up[0]}, the last {up[-1]})" if len(up) > 1
                        else f" (epoch {up[0]})" if len(up) else "")
                     + f", and it {'grew' if l in growing else 'shrank'} (‖W‖ {num(r['layers'][l]['l2'][i5][0])} → "
                     f"{num(r['layers'][l]['l2'][i5][-1])})")
    out.append(
        "The sizes alone do not say which way a layer goes; the data gradient's component along W does: to first "
        "order in η a step changes ‖W‖² by −2η(⟨W, ∇C₀⟩ + (λ/n)‖W‖²), so a layer grows while the data push "
        "−⟨W, ∇C₀⟩ exceeds the decay (λ/n)‖W‖². The push exceeded the decay " + "; ".join(parts) + ".")
    K = max(2, E // 4)  # the last quarter of the epochs: near the end, averaged over K measurements
    terms, closes = [], True
    for l, layer in enumerate(r["layers"]):
        first, second = (float(np.mean(layer[key][i5][-K:])) for key in ("drift", "noise"))
        l2 = np.array(layer["l2"][i5])
        measured = (l2[-1] ** 2 - l2[-1 - K] ** 2) / (K * r["steps"])
        closes &= abs(first + second - measured) <= 0.1 * abs(first)
        terms.append(f"{_layer_name(r, l)}: {num(first)} + {num(second)} = {num(first + second)} (the second "
                     f"{num(100 * second / abs(first))}% of the first's size), measured {num(measured)}")
    out.append(
        "The full-batch push leaves out the mini-batch noise: a step of SGD changes ‖W‖² by "
        "−2η(⟨W, g_b⟩ + (λ/n)‖W‖²) + η²‖g_b + (λ/n)W‖², g_b the gradient of a mini-batch of "
        f"{r['batch']}, and the second term is always positive. Per step, averaged over the last {K} epochs "
        f"(mini-batches of the {r['probe']:,} probe images), first-order plus second-order term against the change "
        f"measured over those epochs: " + "; ".join(terms) + ". The data gradient that balances the decay is the "
        "mini-batch one, noise included"
        + ("." if closes else "; these estimates, taken at the ends of epochs on the probe's mini-batches, do not "
           "close exactly to the measured change."))
    if growing:
        before, after = _sum_sq(r, i5, 0), _sum_sq(r, i5, -1)
        out.append(
            f"L2 is separable: every weight of every layer is multiplied by the same 1 − ηλ/n = "
            f"{num(1 - r['eta'] * r['main_lambda'] / n, 6)} each step, and the penalty does not trade one layer "
            f"against another. {', '.join(_layer_name(r, l).capitalize() for l in growing)} grew while Σw² over all "
            f"layers fell from {num(before)} to {num(after)} because its own data gradient outweighed its own decay.")
    else:
        out.append(f"No layer's norm grew with λ = {lm5} in this run.")
    bl = r["blank"]
    if bl["pixels"]:
        out.append(
            f"The {bl['weights']:,} first-layer weights on the {bl['pixels']} pixels blank in every training image get "
            f"no data gradient: they decay as exp(−ηλt/m) = exp(−{num(r['eta'] * r['main_lambda'] / r['batch'])}·t) "
            f"for ever — RMS {num(bl['rms'][0])} → {num(bl['rms'][1])} after {E} epochs, (1 − ηλ/n)^(⌈n/m⌉·{E}) "
            f"predicts {num(bl['rms'][0] * bl['predicted_factor'])}.")
    l0d = r["layers"][0]
    out.append(
        f"A signed sum is not a magnitude: with λ = {lm5}, Σw of {_layer_name(r, 0)} went from "
        f"{num(l0d['sum'][i5][0])} to {num(l0d['sum'][i5][-1])} while Σ|w| fell from {num(l0d['l1'][i5][0])} to "
        f"{num(l0d['l1'][i5][-1])} and the variance from {num(l0d['var'][i5][0])} to {num(l0d['var'][i5][-1])}.")
    bd = r["biases_decayed"]
    out.append(
        f"Decaying the biases too (λ = {lm5} on every parameter, as PyTorch's weight_decay does; the book decays "
        f"weights only): the biases' RMS ended at " + ", ".join(
            f"{num(a)} (layer {l})" for l, a in enumerate(bd["bias_rms"][1])) + " against " + ", ".join(
            f"{num(a)}" for a in bd["bias_rms"][0]) + " undecayed (from " + ", ".join(
            num(a) for a in bd["bias_rms_initial"]) + "); the weights' RMS " + ", ".join(
            num(a) for a in bd["weight_rms"][1]) + " against " + ", ".join(num(a) for a in bd["weight_rms"][0])
        + f"; validation accuracy {num(100 * bd['validation_accuracy'][1])}% against "
          f"{num(100 * bd['validation_accuracy'][0])}%.")
    acc = r["validation_accuracy"]
    out.append(f"Final Σw² after {E} epochs: " + "; ".join(
        f"λ = {num(lm)}: {num(_sum_sq(r, i, -1))} (validation accuracy {num(100 * acc[i])}%)"
        for i, lm in enumerate(lams)) + f"; with λ = {lm5} it is "
        f"{num(_sum_sq(r, i5, -1) / _sum_sq(r, i0, -1))} of the unregularized network's.")
    return out


NOT_APPLICABLE = {"grew": "n/a: the layer grew",
                  "data": "n/a: shrank at under half the predicted rate (the data gradient matters from the start)"}


def tables_equilibrium(r: dict) -> list[Table]:
    fits = tuple(
        (num(f["lambda"]), _layer_name(r, f["layer"]),
         *((NOT_APPLICABLE[f["status"]], "—", f["predicted"], f["exact"], "—") if f["status"] != "decay" else
           (f"0–{f['window']}" + (" (2 points)" if f["window"] == 1 else ""), f["fitted"], f["predicted"], f["exact"],
            "—" if f["tail_epoch"] is None else f["tail_epoch"])),
         f["final_rms"])
        for f in r["fits"])
    i5 = r["lambdas"].index(r["main_lambda"])
    i0 = r["lambdas"].index(0.0)
    stats = tuple(
        (_layer_name(r, l), stat, layer[stat][i5][0], layer[stat][i5][-1], layer[stat][i0][-1])
        for l, layer in enumerate(r["layers"]) for stat in ("sum", "l1", "l2", "var", "rms"))
    E = r["epochs"]
    marks = sorted({0, 1, min(5, E), min(10, E), E})
    rows = []
    for l in range(len(r["layers"])):
        b = balance(r, i5, l)
        layer = r["layers"][l]
        for t in marks:
            rows.append((_layer_name(r, l), t, b["grad"][t], b["decay"][t], b["push"][t] / b["pull"][t],
                         layer["rms"][i5][t], layer["z_sd"][i5][t], 100 * layer["saturation"][i5][t]))
    return [
        Table("Slope of ln RMS per epoch: fitted over the decay-dominated phase vs predicted",
              ("λ", "layer", "epochs fitted", "fitted", "−ηλ/m", "⌈n/m⌉·ln(1 − ηλ/n)", "tail-off epoch", "final RMS"),
              fits, note="tail-off: the first epoch whose decay is less than half the predicted rate. A layer that "
                         "grew, or shrank from the start at under half the predicted rate, has no decay-dominated "
                         "phase to fit: its row is marked n/a."),
        Table(f"Data gradient against decay, by layer and epoch (λ = {num(r['main_lambda'])})",
              ("layer", "epoch", "mean |∂C₀/∂w|", "(λ/n)·mean |w|", "−⟨W, ∇C₀⟩ / ((λ/n)‖W‖²)", "RMS", "sd of z",
               "saturated %"), tuple(rows),
              note=f"∇C₀: the full-batch data gradient on {r['probe']:,} training images; a ratio above 1: the "
                   f"layer's ‖W‖² grows. z: a unit's weighted input on {r['saturation_probe']:,} validation images."),
        Table(f"Per-layer statistics before and after {r['epochs']} epochs",
              ("layer", "statistic", "initial", f"final, λ = {num(r['main_lambda'])}", "final, λ = 0"), stats,
              note="sum = Σw (signed), l1 = Σ|w|, l2 = √Σw², var = variance of the weights, rms = √(Σw²/N_l)."),
    ]


def _lambda_colors(lambdas: list[float]) -> np.ndarray:
    """λ is ordered: one colour per λ from a sequential map, dark for the smallest."""
    return colormaps["viridis"](np.linspace(0, 0.85, len(lambdas)))


def figures_equilibrium(r: dict) -> dict[str, Figure]:
    E = r["epochs"]
    t = np.arange(E + 1)
    L = len(r["layers"])
    colors = _lambda_colors(r["lambdas"])
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, L)
    inv_N = 1 / math.sqrt(r["N"])
    for l, ax in enumerate(axes):
        layer = r["layers"][l]
        for i, lm in enumerate(r["lambdas"]):
            rms = np.array(layer["rms"][i])
            ax.plot(t, rms, color=colors[i], lw=1.4, label=f"λ = {num(lm)}")
            if lm > 0 and l == 0:
                predicted = _fit(r, lm, l)["predicted"]
                ts = np.linspace(0, min(E, 2 / -predicted), 50)  # the prediction's first two factors e
                ax.plot(ts, rms[0] * np.exp(predicted * ts), color=colors[i], ls="--", lw=1)
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

    fig3 = Figure(figsize=(12, 4), layout="constrained")
    axes3 = fig3.subplots(1, 3)
    for l in range(L):
        b = balance(r, i5, l)
        axes3[0].plot(t, b["grad"], color=f"C{l}", lw=1.4, label=f"{_layer_name(r, l)}: mean |∂C₀/∂w|")
        axes3[0].plot(t, b["decay"], color=f"C{l}", lw=1.4, ls="--", label=f"{_layer_name(r, l)}: (λ/n)·mean |w|")
    axes3[0].set_yscale("log")
    axes3[0].set_xlabel("epoch")
    axes3[0].set_ylabel("per weight")
    axes3[0].set_title(f"data gradient (solid) and decay (dashed), λ = {num(r['main_lambda'])}", fontsize=10)
    axes3[0].legend(fontsize=7)
    layer0 = r["layers"][0]
    for i, lm in enumerate(r["lambdas"]):
        axes3[1].plot(t, layer0["z_sd"][i], color=colors[i], lw=1.4, label=f"λ = {num(lm)}")
        axes3[2].plot(t, 100 * np.array(layer0["saturation"][i]), color=colors[i], lw=1.4, label=f"λ = {num(lm)}")
    axes3[1].set_yscale("log")
    axes3[1].set_xlabel("epoch")
    axes3[1].set_ylabel("sd of a hidden unit's weighted input z")
    axes3[1].set_title("spread of the hidden units' inputs", fontsize=10)
    axes3[1].legend(fontsize=8)
    axes3[2].set_xlabel("epoch")
    axes3[2].set_ylabel("saturated (image, unit) pairs (%)")
    axes3[2].set_title("saturated hidden units (σ' < 1% of its maximum)", fontsize=9)
    axes3[2].set_ylim(0, 100)
    axes3[2].legend(fontsize=8)
    fig3.suptitle("Why the decay stops: the data gradient against the decay, and the hidden units' inputs")
    return {"rms_by_epoch": fig, "sum_of_squares_by_layer": fig2, "gradient_against_decay": fig3}


# ---------------------------------------------------------------------------- the batch size

BATCHES, BATCH_LAMBDA = (10, 20, 50), 25.0


def measure_batch(quick: bool, seed: int) -> dict:
    """The per-epoch decay of the first layer for several mini-batch sizes at the same η and λ (one fit each)."""
    train_size, epochs = (5_000, 10) if quick else (None, 20)
    data, info = study_data.load(train_size)
    n = info["n_train"]
    d = data.train.X.shape[1]
    dead = blank_pixels(data)
    runs = []
    with torch_threads(1):
        for m in BATCHES:
            model = MLP.initialize([d, HIDDEN, 10], seeds=[seed], init="large")
            result = fit(model, data, epochs=epochs, batch_size=m, eta=ETA, regularizer=L2(BATCH_LAMBDA),
                         order_seeds=[seed], monitor=Monitor(splits=(), weights=True, saturation_examples=0))
            rms = result.history.get("rms", 0)[:, 0]  # (E+1,)
            last = min(epochs, math.ceil(m / (ETA * BATCH_LAMBDA)))  # the prediction's first factor e
            W = [result.initial["W0"][0], result.model.weights[0][0].double().numpy()]
            blank = [float(np.sqrt(np.mean(w[:, dead] ** 2))) for w in W] if dead.any() else None
            runs.append({
                "batch": m, "steps_per_epoch": math.ceil(n / m), "rms": rms.tolist(), "window": last,
                "fitted": log_slope(rms, last), "predicted": -ETA * BATCH_LAMBDA / m,
                "exact": math.ceil(n / m) * math.log1p(-ETA * BATCH_LAMBDA / n),
                "blank_slope": None if blank is None else math.log(blank[1] / blank[0]) / epochs,
            })
    return {"data": info, "eta": ETA, "lambda": BATCH_LAMBDA, "n": n, "epochs": epochs, "blank_pixels": int(dead.sum()),
            "runs": runs}


def findings_batch(r: dict) -> list[str]:
    runs = r["runs"]
    lo, hi = runs[0], runs[-1]
    out = [
        study_data.describe(r["data"]),
        f"The same η = {num(r['eta'])} and λ = {num(r['lambda'])}, mini-batches of "
        f"{', '.join(str(run['batch']) for run in runs)}: per step every weight is multiplied by 1 − ηλ/n = "
        f"{num(1 - r['eta'] * r['lambda'] / r['n'], 6)} whatever m is, but an epoch has ⌈n/m⌉ steps, so the decay per "
        f"epoch is exp(−ηλ/m). Fitted slope of the first layer's ln RMS over the prediction's first factor e: "
        + "; ".join(f"m = {run['batch']}: {num(run['fitted'], 4)} vs −ηλ/m = {num(run['predicted'], 4)} "
                    f"(epochs 0–{run['window']})" for run in runs) + ".",
        f"Going from m = {lo['batch']} to {hi['batch']} slows the decay per epoch {num(lo['fitted'] / hi['fitted'])}-fold "
        f"(predicted {num(hi['batch'] / lo['batch'])}): at a fixed λ a larger mini-batch regularizes less per epoch, "
        f"and per step just as much.",
    ]
    if runs[0]["blank_slope"] is not None:
        out.append(f"The first-layer weights on the {r['blank_pixels']} always-blank pixels, which only the decay "
                   "moves, give the per-epoch slope exactly: " + "; ".join(
                       f"m = {run['batch']}: {num(run['blank_slope'], 6)} against ⌈n/m⌉·ln(1 − ηλ/n) = "
                       f"{num(run['exact'], 6)}" for run in runs) + ".")
    return out


def figures_batch(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.subplots()
    colors = colormaps["viridis"](np.linspace(0, 0.85, len(r["runs"])))  # m is ordered
    for run, color in zip(r["runs"], colors):
        t = np.arange(len(run["rms"]))
        ax.plot(t, run["rms"], color=color, lw=1.4, label=f"m = {run['batch']}")
        ax.plot(t, run["rms"][0] * np.exp(run["predicted"] * t), color=color, ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("RMS of the first layer's weights")
    ax.legend(fontsize=8)
    fig.suptitle(f"The mini-batch size and the decay per epoch (λ = {num(r['lambda'])}, η = {num(r['eta'])}; "
                 "dashed: exp(−ηλt/m))")
    return {"decay_by_batch_size": fig}


PARTS = (
    Part("equilibrium", "Decay from the large initialization and where it stops", measure_equilibrium,
         findings_equilibrium, tables_equilibrium, figures_equilibrium),
    Part("batch", "The mini-batch size and the decay per epoch", measure_batch, findings_batch,
         figures=figures_batch),
)
