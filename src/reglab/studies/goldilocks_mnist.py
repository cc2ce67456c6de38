r"""goldilocks, the MNIST half: how much λ is right, measured as a validation curve on 1,000 training images.

The book's small-data setting (its experiments C and E): ``[784, 30, 10]`` sigmoid network, cross-entropy,
large initialization, η = 0.5, mini-batch 10, the first 1,000 MNIST training images, L2 with

.. math::  C = C_0 + \frac{\lambda}{2n}\sum_w w^2, \qquad n = 1000.

Every λ of a log grid is trained with ``S`` seeds (initial weights and mini-batch order), all ``J·S`` models
in one :func:`~reglab.engine.loop.fit` call. For each λ the mean validation accuracy ``ā_j`` over seeds and its
standard error ``SE_j = sd_j/√S`` give

.. math::  j^* = \arg\max_j \bar a_j, \qquad \lambda_\text{1se} = \max\{\lambda_j : \bar a_j \ge \bar a_{j^*} − SE_{j^*}\},

the best λ and the most regularized one whose accuracy the seeds cannot tell apart from the best (the rule of
:func:`reglab.sweep.one_se_rule`). The grid stops below ``λ = n/η`` (here 2,000), where one step would
multiply the weights by ``1 − ηλ/n ≤ 0``; at its top, each step halves the weights and the network is left
with its biases: it predicts one class for every image, the accuracy of chance.

Input sensitivity. The book argues that small weights make a network insensitive to noise in its input. Measured
two ways on the validation images, for every trained model: the mean Frobenius norm of the Jacobian of the
outputs with respect to the input,

.. math::  ‖∂a^L/∂x‖_F, \qquad ∂a^L/∂x = D_L W_L ⋯ D_1 W_1 D_0 W_0,\quad D_l = \operatorname{diag} f'(z_l),

(computed as ``‖R W_0‖_F² = tr(R W_0 W_0ᵀ Rᵀ)`` with ``R = D_L W_L ⋯ D_0``, without forming the 10×784 Jacobian),
and the accuracy on the same images with Gaussian noise of standard deviation ``NOISE`` added to every pixel.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, evaluate
from reglab.engine.nn import ACTIVATIONS
from reglab.engine.regularizers import L2
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.rng import seed_for
from reglab.studies import data as study_data
from reglab.sweep import one_se_rule
from reglab.sweep.select import mean_sd_se

TRAIN_SIZE, HIDDEN, ETA, BATCH = 1_000, 30, 0.5, 10
NOISE = 0.3  # standard deviation of the Gaussian noise added to the pixels (which lie in [0, 1))


@torch.no_grad()
def input_sensitivity(model: MLP, X: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    """Mean over the examples of ``‖∂a^L/∂x‖_F`` per model, (M,); every layer's activation elementwise.  X (B, d)."""
    total = torch.zeros(model.M, dtype=torch.float64)
    G = torch.bmm(model.weights[0], model.weights[0].transpose(1, 2)).double()  # (M, n_1, n_1) = W₀W₀ᵀ
    L = len(model.weights)
    for i in range(0, X.shape[0], chunk):
        zs, _ = model.forward(X[i:i + chunk])
        primes = [ACTIVATIONS[model.layer_activation(l)].prime(z).double() for l, z in enumerate(zs)]  # (M, B, n_l+1)
        R = torch.diag_embed(primes[-1])  # (M, B, K, K)
        for l in range(L - 1, 0, -1):
            R = torch.einsum("mbkj,mji->mbki", R, model.weights[l].double()) * primes[l - 1][:, :, None, :]
        sq = torch.einsum("mbki,mij,mbkj->mb", R, G, R)  # ‖R W₀‖_F² per example
        total += sq.clamp(min=0).sqrt().sum(dim=1)
    return total / X.shape[0]


def measure_mnist(quick: bool, seed: int) -> dict:
    """Validation accuracy and final per-layer weight RMS for every (λ, seed); the best and the 1-SE λ."""
    if quick:
        lambdas, S, epochs = [1e-3, 1e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0], 3, 30
    else:
        lambdas, S, epochs = [float(x) for x in np.round(np.logspace(-3, 3, 13), 6)], 5, 150
    data, info = study_data.load(TRAIN_SIZE)
    d = data.train.X.shape[1]
    seeds = [seed_for(seed, "goldilocks", s) for s in range(S)]
    per_model_lambda = [lm for lm in lambdas for _ in seeds]  # model j·S + s
    per_model_seed = [s for _ in lambdas for s in seeds]
    with torch_threads(1):
        model = MLP.initialize([d, HIDDEN, 10], seeds=per_model_seed, init="large")
        result = fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, regularizer=L2(per_model_lambda),
                     order_seeds=per_model_seed, monitor=Monitor(splits=(), weights=True, saturation_examples=0))
        accuracy = {}
        for split in ("train", "validation"):
            s = getattr(data, split)
            accuracy[split] = evaluate(result.model, s.X, s.y, s.Y)[1].numpy().reshape(len(lambdas), S)  # (J, S)
        v = data.require("validation")
        noise = torch.randn(v.X.shape, generator=torch.Generator().manual_seed(seed), dtype=v.X.dtype)
        noisy = evaluate(result.model, v.X + NOISE * noise, v.y, v.Y)[1].numpy().reshape(len(lambdas), S)
        sensitivity = input_sensitivity(result.model, v.X).numpy().reshape(len(lambdas), S)
    val = accuracy["validation"]
    selection = one_se_rule(np.array(lambdas), val)
    assert selection is not None  # every λ has a validation accuracy
    mean, sd, se = mean_sd_se(val)
    labels = data.require("validation").y.numpy()
    return {
        "data": info, "sizes": [d, HIDDEN, 10], "eta": ETA, "batch": BATCH, "epochs": epochs, "seeds": S,
        "lambdas": lambdas,
        "validation_accuracy": val.tolist(), "train_accuracy": accuracy["train"].tolist(),
        "noise": NOISE, "noisy_accuracy": noisy.tolist(), "sensitivity": sensitivity.tolist(),
        "validation_mean": mean.tolist(), "validation_se": se.tolist(),
        "best_lambda": selection.best_lmbda, "best_mean": selection.best_mean, "best_se": selection.best_se,
        "one_se_lambda": selection.one_se_lmbda, "threshold": selection.threshold,
        "rms": [result.history.get("rms", l)[-1].reshape(len(lambdas), S).mean(axis=1).tolist() for l in range(2)],
        "initial_rms": [float(result.history.get("rms", l)[0].mean()) for l in range(2)],
        "chance": 1.0 / data.n_classes,
        "majority": float(np.bincount(labels, minlength=data.n_classes).max() / len(labels)),
    }


def findings_mnist(r: dict) -> list[str]:
    lams, mean = r["lambdas"], r["validation_mean"]
    j_best = lams.index(r["best_lambda"])
    j_1se = lams.index(r["one_se_lambda"])
    train = np.mean(r["train_accuracy"], axis=1)
    interior = 0 < j_best < len(lams) - 1
    out = [
        study_data.describe(r["data"]),
        f"Validation accuracy against λ ({len(lams)} values from {num(lams[0])} to {num(lams[-1])}, mean of "
        f"{r['seeds']} seeds, {r['epochs']} epochs, [{', '.join(map(str, r['sizes']))}], η = {num(r['eta'])}): "
        f"{num(100 * mean[0])}% at λ = {num(lams[0])}, {num(100 * mean[j_best])}% at λ = {num(lams[j_best])}, "
        f"{num(100 * mean[-1])}% at λ = {num(lams[-1])}"
        + (": too little and too much regularization both lose accuracy." if interior else
           f": the best λ lies at the {'lower' if j_best == 0 else 'upper'} end of the grid, so this run shows "
           "only one side of the curve."),
        f"Best λ = {num(lams[j_best])} ({num(100 * mean[j_best])}% ± {num(100 * (r['best_se'] or 0))}% SE over "
        f"{r['seeds']} seeds); the largest λ within one SE of it (≥ {num(100 * r['threshold'])}%) is "
        f"λ = {num(lams[j_1se])} ({num(100 * mean[j_1se])}%)"
        + (", the best λ itself: no larger λ is within one SE." if j_1se == j_best else "."),
        f"Over-fitting at the small end: at λ = {num(lams[0])} the networks fit {num(100 * train[0])}% of their "
        f"training images and {num(100 * mean[0])}% of the validation images; at the best λ, "
        f"{num(100 * train[j_best])}% and {num(100 * mean[j_best])}%.",
        f"At λ = {num(lams[-1])} the weights collapsed: the RMS of the two layers ended at "
        f"{num(r['rms'][0][-1])} and {num(r['rms'][1][-1])} (from {num(r['initial_rms'][0])} and "
        f"{num(r['initial_rms'][1])} at the start; {num(r['rms'][0][0])} and {num(r['rms'][1][0])} at "
        f"λ = {num(lams[0])}), and the validation accuracy fell to {num(100 * mean[-1])}%: chance is "
        f"{num(100 * r['chance'])}%, always answering the most frequent digit scores {num(100 * r['majority'])}%.",
    ]
    sens = np.mean(r["sensitivity"], axis=1)
    noisy = np.mean(r["noisy_accuracy"], axis=1)
    drop = 100 * (np.array(mean) - noisy)
    falling = bool(np.all(np.diff(sens) < 0))
    out.append(
        f"Small weights and noisy inputs, the book's argument measured: the mean Jacobian norm ‖∂a^L/∂x‖ over the "
        f"validation images {'fell at every step of λ' if falling else 'did not fall at every step of λ'}, from "
        f"{num(sens[0])} at λ = {num(lams[0])} to {num(sens[j_best])} at the best λ and {num(sens[-1])} at "
        f"λ = {num(lams[-1])}. With Gaussian noise of sd {num(r['noise'])} added to every pixel, the accuracy fell by "
        f"{num(drop[0])} points at λ = {num(lams[0])} ({num(100 * mean[0])}% → {num(100 * noisy[0])}%) and by "
        f"{num(drop[j_best])} at the best λ ({num(100 * mean[j_best])}% → {num(100 * noisy[j_best])}%); the most "
        f"accurate λ under noise is {num(lams[int(np.argmax(noisy))])} ({num(100 * noisy.max())}%).")
    return out


def tables_mnist(r: dict) -> list[Table]:
    rows = tuple(
        (num(lm), 100 * r["validation_mean"][j], 100 * r["validation_se"][j], 100 * float(np.mean(r["train_accuracy"][j])),
         100 * float(np.mean(r["noisy_accuracy"][j])), float(np.mean(r["sensitivity"][j])),
         r["rms"][0][j], r["rms"][1][j], _choice(r, lm))
        for j, lm in enumerate(r["lambdas"]))
    return [Table(f"Validation curve on {r['data']['n_train']:,} training images ({r['seeds']} seeds per λ)",
                  ("λ", "validation accuracy %", "SE %", "training accuracy %", f"validation %, noise sd {num(r['noise'])}",
                   "‖∂a/∂x‖", "RMS layer 0", "RMS layer 1", ""), rows,
                  note="‖∂a/∂x‖: mean Frobenius norm of the outputs' Jacobian with respect to the input image.")]


def _choice(r: dict, lm: float) -> str:
    """``best``, ``1-SE``, both, or nothing: what the selection rules made of ``lm``."""
    marks = [name for name, chosen in (("best", r["best_lambda"]), ("1-SE", r["one_se_lambda"])) if lm == chosen]
    return " and ".join(marks)


def figures_mnist(r: dict) -> dict[str, Figure]:
    lams = np.array(r["lambdas"])
    mean, se = 100 * np.array(r["validation_mean"]), 100 * np.array(r["validation_se"])
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for s in range(r["seeds"]):
        ax1.plot(lams, 100 * np.array(r["validation_accuracy"])[:, s], ".", color="C0", alpha=0.4, ms=5)
    ax1.errorbar(lams, mean, yerr=se, color="C0", marker="o", ms=4, capsize=3, label="validation (mean ± SE)")
    ax1.plot(lams, 100 * np.mean(r["train_accuracy"], axis=1), "--", color="C1", label="training")
    ax1.plot(lams, 100 * np.mean(r["noisy_accuracy"], axis=1), "-.", color="C4",
             label=f"validation, noise sd {num(r['noise'])}")
    ax1.axhline(100 * r["chance"], color="0.5", ls=":", lw=1, label="chance")
    same = r["best_lambda"] == r["one_se_lambda"]
    # a wide pale line under a dashed one: both visible where the two λ coincide
    ax1.axvline(r["best_lambda"], color="C2", lw=5, alpha=0.35, label=f"best λ = {num(r['best_lambda'])}")
    ax1.axvline(r["one_se_lambda"], color="C3", lw=1.2, ls="--",
                label=f"1-SE λ = {num(r['one_se_lambda'])}" + (" (the same λ)" if same else ""))
    ax1.set_xscale("log")
    ax1.set_xlabel("λ")
    ax1.set_ylabel("accuracy (%)")
    ax1.legend(fontsize=7, loc="lower left")
    ax1.set_title("accuracy after training", fontsize=10)
    for l in range(2):
        ax2.plot(lams, r["rms"][l], "o-", ms=4, label=f"layer {l}")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("λ")
    ax2.set_ylabel("RMS of the weights after training")
    ax2.legend(fontsize=8)
    ax2.set_title("weights collapse as λ grows", fontsize=10)
    sens = np.array(r["sensitivity"])
    for s in range(r["seeds"]):
        ax3.plot(lams, sens[:, s], ".", color="C4", alpha=0.4, ms=5)
    ax3.plot(lams, sens.mean(axis=1), "o-", color="C4", ms=4, label="mean over seeds")
    ax3.set_xscale("log")
    ax3.set_yscale("symlog", linthresh=1e-2)  # the collapsed networks' ≈ 0 stays on the plot
    ax3.set_ylim(bottom=0)
    ax3.set_xlabel("λ")
    ax3.set_ylabel("mean ‖∂a^L/∂x‖ on validation images")
    ax3.legend(fontsize=8)
    ax3.set_title("sensitivity of the outputs to the input", fontsize=10)
    fig.suptitle(f"MNIST, {r['data']['n_train']:,} training images: validation accuracy, weight size and input "
                 "sensitivity against λ")
    return {"mnist_validation_curve": fig}


#: The part that :mod:`reglab.studies.goldilocks` lists after its linear one.
PART = Part("mnist", "MNIST: validation accuracy against λ, the best and the one-standard-error λ", measure_mnist,
            findings_mnist, tables_mnist, figures_mnist)
