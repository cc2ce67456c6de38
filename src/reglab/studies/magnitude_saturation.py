r"""magnitude-saturation: why a network's absolute weight size matters, not only the ratios between weights.

Scaling. Take a trained network and multiply its parameters by ``c > 0``. With linear hidden units the output
layer's input ``z^{L−1}`` is a polynomial in the parameters: scaling layer ``l``'s weights by ``c`` and its
biases by ``c^{l+1}`` multiplies every ``z^l`` by ``c^{l+1}``, so the logits become exactly ``c^L z``
(``L`` = number of weight layers) and ``argmax_k`` is unchanged. (Scaling the biases by ``c`` as well does
*not* give a multiple of ``z``: the bias terms then enter with a different power of ``c``.) The study uses
``c = 2^k``: multiplying by a power of two is exact in floating point (no rounding, barring overflow), so the
scaled network's logits can be compared with ``c^L z`` *bit for bit*, not within a tolerance. The softmax
confidence still changes: ``softmax(c^L z)`` sharpens as ``c`` grows.

With sigmoid or tanh hidden units ``a = f(cz)``: as ``c`` grows the units saturate (``f'(cz) → 0``; a unit
counts as saturated where ``f'(z) < 1%`` of its maximum: ``|z| > 5.99`` for the sigmoid, ``|z| > 2.99`` for
tanh) and the network's function changes; as ``c → 0`` every unit sits at ``f(0)`` and the network forgets its
input. The first layer's gradient ``∂C₀/∂W₀ = (f'(cz) ⊙ c W₁ᵀδ) xᵀ`` carries the factor ``f'``, which falls,
and the factor ``c`` of the layer above, which grows: its *absolute* size need not vanish (here it grows with
``c`` above 1); what shrinks is the gradient *relative to the weights*, ``‖∂C₀/∂W₀‖/‖W₀‖``, the fraction of
its size by which a step of fixed η moves a layer.

One neuron. ``σ(w·x)`` with ``w = [1, 0.1]`` and ``w = [100, 10]``: the same direction, so the same decision
boundary ``w·x = 0``, but the second is saturated almost everywhere and its gradient
``∂σ/∂w = σ'(w·x) x`` vanishes there.

Training from scaled weights. The default initialization ``W ~ N(0, 1/n_in)``, ``b ~ N(0, 1)``, all
multiplied by ``c``; every ``c`` is one model of one :func:`~reglab.engine.loop.fit` call (same draws, same
mini-batches); the study counts the epochs until each reaches a set validation accuracy.

All networks here are ``[d, 30, 10]`` with a softmax output and the log-likelihood cost, so that the
confidence (the largest softmax probability) is a probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.nn import ACTIVATIONS
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.studies import data as study_data

NAME = "magnitude-saturation"
QUESTION = "Why do absolute weight magnitudes matter, and not only the ratios between weights?"

HIDDEN, ETA, BATCH, COST = 30, 0.1, 10, "log-likelihood"
ACTS = ("sigmoid", "tanh", "linear")


def scaled_copies(model: MLP, cs: list[float], bias_power: bool) -> MLP:
    """One model per ``c``: ``W_l·c`` and ``b_l·c^{l+1}`` (``bias_power``) or ``b_l·c``, in float64.  model has M = 1."""
    weights = [torch.cat([c * W.double() for c in cs]) for W in model.weights]  # each (C, n_out, n_in)
    biases = [torch.cat([(c ** (l + 1) if bias_power else c) * b.double() for c in cs]) for l, b in enumerate(model.biases)]
    return MLP(weights, biases, model.activation, model.cost)


def probe(model: MLP, split: TensorSplit) -> dict:
    """Per model (M,): accuracy, saturated fraction and mean f'(z) of the hidden units, ‖∂C₀/∂W‖ (all weight
    layers, and per layer), and the confidence (mean largest softmax probability) on ``split``."""
    X = split.X.double()
    zs, acts = model.forward(X)
    hidden = zs[:-1]
    act = model.activation
    sat = act.saturation_z
    grad_w, _ = model.backward(split.Y.double(), zs, acts)
    return {
        "accuracy": (acts[-1].argmax(dim=-1) == split.y).double().mean(dim=1).tolist(),
        "saturated": (torch.cat([(z.abs() > sat).double() for z in hidden], dim=2).mean(dim=(1, 2)).tolist()
                      if sat is not None else [0.0] * model.M),
        "mean_fprime": torch.cat([act.prime(z) for z in hidden], dim=2).mean(dim=(1, 2)).tolist(),
        "grad_norm": torch.sqrt(torch.stack([(g**2).sum(dim=(1, 2)) for g in grad_w]).sum(dim=0)).tolist(),
        "grad_norm_layers": [g.square().sum(dim=(1, 2)).sqrt().tolist() for g in grad_w],  # (L, M)
        "weight_norm_layers": [W.square().sum(dim=(1, 2)).sqrt().tolist() for W in model.weights],  # (L, M)
        "confidence": acts[-1].max(dim=-1).values.mean(dim=1).tolist(),
    }


def measure_scaling(quick: bool, seed: int) -> dict:
    """Train one network per activation, then scale its parameters by c = 2^k and measure."""
    train_size, epochs, n_probe = (2_000, 5, 2_000) if quick else (10_000, 15, 10_000)
    data, info = study_data.load(train_size)
    d = data.train.X.shape[1]
    v = data.require("validation")
    val = TensorSplit(v.X[:n_probe], v.y[:n_probe], v.Y[:n_probe])
    cs = [2.0**k for k in range(-7, 8)]
    i1 = cs.index(1.0)
    out = {}
    with torch_threads(1):
        for name in ACTS:
            model = MLP.initialize([d, HIDDEN, 10], seeds=[seed], init="default", activation=name, cost=COST)
            fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, order_seeds=[seed],
                monitor=Monitor(splits=(), weights=False, saturation_examples=0))
            entry = probe(scaled_copies(model, cs, bias_power=False), val)
            if name == "linear":
                L = len(model.weights)
                exact = scaled_copies(model, cs, bias_power=True)
                z = exact.forward(val.X.double())[0][-1]  # (C, B, K)
                pred = z.argmax(dim=-1)  # (C, B)
                entry["exact"] = {
                    "layers": L,
                    "bitwise_equal": [bool(torch.equal(z[i], z[i1] * c**L)) for i, c in enumerate(cs)],
                    "max_rel_difference": [float((z[i] - z[i1] * c**L).abs().max() / (z[i1] * c**L).abs().max())
                                           for i, c in enumerate(cs)],
                    "changed_predictions": [int((pred[i] != pred[i1]).sum()) for i in range(len(cs))],
                    "confidence": torch.softmax(z, dim=-1).max(dim=-1).values.mean(dim=1).tolist(),
                }
                uniform = scaled_copies(model, cs, bias_power=False).forward(val.X.double())[0][-1].argmax(dim=-1)
                entry["uniform_changed_predictions"] = [int((uniform[i] != uniform[i1]).sum()) for i in range(len(cs))]
            out[name] = entry
    return {"data": info, "sizes": [d, HIDDEN, 10], "eta": ETA, "epochs": epochs, "probe": n_probe, "c": cs, **out}


def _at(r: dict, name: str, key: str, c: float) -> float:
    return r[name][key][r["c"].index(c)]


def gradient_sentence(r: dict, name: str) -> str:
    """Absolute against relative: the first layer's gradient of the ``name`` network as its parameters scale by c."""
    cs, e = r["c"], r[name]
    lo, hi, i1 = cs[0], cs[-1], cs.index(1.0)
    first, last = e["grad_norm_layers"][0], e["grad_norm_layers"][-1]
    rel = [np.array(g) / np.array(w) for g, w in zip(e["grad_norm_layers"], e["weight_norm_layers"])]
    grows = first[-1] > first[i1]
    return (
        f"{name.capitalize()}, gradients on the same images: the first layer's absolute gradient ‖∂C₀/∂W₀‖ "
        f"{'grows' if grows else 'falls'} with c above 1, from {num(first[i1])} (c = 1) to {num(first[-1])} "
        f"(c = {num(hi)}; {num(first[0])} at c = {num(lo)}), the output layer's goes from {num(last[i1])} to "
        f"{num(last[-1])}; the gradient relative to the weights, ‖∂C₀/∂W₀‖/‖W₀‖, shrinks from "
        f"{num(rel[0][i1])} to {num(rel[0][-1])} ({num(rel[0][0])} at c = {num(lo)}): a step of the same η moves "
        f"the first layer of the c = {num(hi)} network by a {num(rel[0][i1] / rel[0][-1])}× smaller fraction of "
        f"its size than at c = 1"
        + (" — in the absolute gradient the factor c of the layer above outgrows the saturation's f'; divided "
           "by ‖W₀‖, itself ×c, it shrinks." if grows else "."))


def headline(results: dict) -> str:
    """The finding ``index.html`` shows for this study."""
    return gradient_sentence(results["scaling"], "sigmoid")


def findings_scaling(r: dict) -> list[str]:
    cs = r["c"]
    lo, hi = cs[0], cs[-1]
    lin = r["linear"]
    ex = lin["exact"]
    out = [
        study_data.describe(r["data"]),
        f"Three [{', '.join(map(str, r['sizes']))}] networks (sigmoid, tanh and linear hidden units, softmax "
        f"output) trained for {r['epochs']} epochs, then every parameter scaled by c = 2^k from {num(lo)} to "
        f"{num(hi)} and evaluated on {r['probe']:,} validation images.",
        f"Linear hidden units, weights ×c and biases of layer l ×c^(l+1): the logits equal c^{ex['layers']} times "
        f"the unscaled ones bit for bit at {sum(ex['bitwise_equal'])} of {len(cs)} values of c "
        f"(largest relative difference {num(max(ex['max_rel_difference']))}), and "
        f"{sum(ex['changed_predictions'])} predictions changed in all; yet the mean confidence went from "
        f"{num(ex['confidence'][0])} at c = {num(lo)} to {num(ex['confidence'][-1])} at c = {num(hi)}.",
        f"Linear hidden units with the biases ×c like the weights (not a multiple of the logits): up to "
        f"{max(lin['uniform_changed_predictions'])} of {r['probe']:,} predictions changed.",
    ]
    for name in ("sigmoid", "tanh"):
        e = r[name]
        out.append(
            f"{name.capitalize()}: accuracy {num(100 * _at(r, name, 'accuracy', 1.0))}% at c = 1, "
            f"{num(100 * e['accuracy'][0])}% at c = {num(lo)} and {num(100 * e['accuracy'][-1])}% at c = {num(hi)}; "
            f"the saturated fraction of hidden units was {num(100 * e['saturated'][0])}% at c = {num(lo)}, "
            f"{num(100 * _at(r, name, 'saturated', 1.0))}% at c = 1 and {num(100 * e['saturated'][-1])}% at "
            f"c = {num(hi)}; from c = {num(lo)} to {num(hi)} the mean f'(z) fell from {num(e['mean_fprime'][0])} to "
            f"{num(e['mean_fprime'][-1])} and the confidence rose from {num(e['confidence'][0])} to "
            f"{num(e['confidence'][-1])}.")
        out.append(gradient_sentence(r, name))
    sig = r["sigmoid"]
    kept, base = _at(r, "sigmoid", "accuracy", hi), _at(r, "sigmoid", "accuracy", 1.0)
    out.append(
        f"Scaling a trained network's weights up changes its predictions less than one might expect: at c = {num(hi)} "
        f"the sigmoid network, {num(100 * sig['saturated'][-1])}% of its hidden units saturated, still classifies "
        f"{num(100 * kept)}% of the images correctly ({num(100 * base)}% at c = 1)"
        + (": large weights mostly slow learning here (next parts), rather than wreck what was learnt."
           if base - kept < 0.05 else "."))
    return out


def tables_scaling(r: dict) -> list[Table]:
    rows = tuple(
        (num(c), *(100 * r[name]["accuracy"][i] for name in ACTS),
         *(100 * r[name]["saturated"][i] for name in ("sigmoid", "tanh")),
         *(r[name]["grad_norm_layers"][0][i] for name in ("sigmoid", "tanh")),
         r["linear"]["exact"]["changed_predictions"][i], str(r["linear"]["exact"]["bitwise_equal"][i]))
        for i, c in enumerate(r["c"]))
    return [Table("The trained networks with every parameter scaled by c",
                  ("c", "accuracy % sigmoid", "accuracy % tanh", "accuracy % linear", "saturated % sigmoid",
                   "saturated % tanh", "‖∂C₀/∂W₀‖ sigmoid", "‖∂C₀/∂W₀‖ tanh", "linear, exact scaling: changed predictions",
                   "logits = c^L z bit for bit"), rows)]


def figures_scaling(r: dict) -> dict[str, Figure]:
    cs = np.array(r["c"])
    fig = Figure(figsize=(12, 6.5), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    panels = (("accuracy", "accuracy"), ("saturated", "fraction of hidden units saturated"),
              ("mean_fprime", "mean f'(z) of hidden units"), ("grad_norm", "‖∂C₀/∂W₀‖ (solid), ‖∂C₀/∂W₁‖ (dotted)"),
              ("confidence", "mean largest softmax probability"))
    for ax, (key, label) in zip(axes, panels):
        for k, name in enumerate(ACTS):
            values = r[name]["grad_norm_layers"][0] if key == "grad_norm" else r[name][key]
            ax.plot(cs, values, "o-", ms=3, color=f"C{k}", label=name + (" (biases ×c)" if name == "linear" else ""))
            if key == "grad_norm":
                ax.plot(cs, r[name]["grad_norm_layers"][-1], ":", color=f"C{k}")
        if key == "confidence":
            ax.plot(cs, r["linear"]["exact"]["confidence"], "s--", ms=3, color="C2", mfc="none",
                    label="linear (biases ×c^(l+1))")
        if key == "grad_norm":
            ax.set_yscale("log")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("scale c")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    ax = axes[-1]
    ex = r["linear"]["exact"]
    ax.plot(cs, r["linear"]["uniform_changed_predictions"], "o-", ms=3, color="C2", label="biases ×c")
    ax.plot(cs, ex["changed_predictions"], "s--", ms=4, color="k", mfc="none", label="biases ×c^(l+1) (exact)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("scale c")
    ax.set_ylabel(f"predictions changed (of {r['probe']:,})")
    ax.set_title("linear hidden units", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle("A trained network with its parameters scaled by c")
    return {"scaled_network": fig}


# ---------------------------------------------------------------------------- one neuron

SMALL_W, LARGE_W = (1.0, 0.1), (100.0, 10.0)


def measure_neuron(quick: bool, seed: int) -> dict:
    """σ(w·x) and σ'(w·x) of w = [1, 0.1] and [100, 10] over a grid of x ∈ [−1, 1]²."""
    k = 101 if quick else 401
    g = np.linspace(-1.0, 1.0, k)
    X = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)  # (k², 2)
    threshold = ACTIVATIONS["sigmoid"].saturation_z
    assert threshold is not None  # the sigmoid saturates
    out: dict[str, Any] = {"grid": k, "threshold": threshold}
    sides = []
    for key, w in (("small", SMALL_W), ("large", LARGE_W)):
        z = X @ np.array(w)  # (k²,)
        s = 1.0 / (1.0 + np.exp(-z))
        sp = s * (1.0 - s)
        grad = sp * np.linalg.norm(X, axis=1)  # ‖∂σ/∂w‖ = σ'(z)‖x‖
        out[key] = {"w": list(w), "saturated": float((np.abs(z) > out["threshold"]).mean()),
                    "mean_sprime": float(sp.mean()), "mean_grad": float(grad.mean()),
                    "confident": float(((s > 0.99) | (s < 0.01)).mean())}
        sides.append(np.sign(z))
    on_line = np.abs(X @ np.array(SMALL_W)) < 1e-9  # w·x = 0 up to rounding: on the boundary itself
    out["on_boundary"] = int(on_line.sum())
    out["points"] = int(len(X))
    out["same_side"] = int((sides[0] == sides[1])[~on_line].sum())
    return out


def findings_neuron(r: dict) -> list[str]:
    s, L = r["small"], r["large"]
    return [
        f"Over a {r['grid']}×{r['grid']} grid of x ∈ [−1, 1]², σ(w·x) with w = {s['w']} and w = {L['w']} put "
        f"{r['same_side']} of the {r['points'] - r['on_boundary']} points off the line w·x = 0 on the same side of "
        f"0.5 ({r['on_boundary']} grid points lie on the line): the same direction, the same decision boundary.",
        f"Saturated (|w·x| > {num(r['threshold'])}, σ' below 1% of its maximum): {num(100 * s['saturated'])}% of the "
        f"grid for the small weights, {num(100 * L['saturated'])}% for the large ones; outputs beyond 0.01/0.99: "
        f"{num(100 * s['confident'])}% against {num(100 * L['confident'])}%.",
        f"Mean σ'(w·x): {num(s['mean_sprime'])} against {num(L['mean_sprime'])}; the mean gradient ‖∂σ/∂w‖ = "
        f"σ'(w·x)‖x‖: {num(s['mean_grad'])} against {num(L['mean_grad'])} "
        f"({num(s['mean_grad'] / L['mean_grad'])}× smaller for the large weights): the large neuron learns slowly "
        f"wherever it is sure.",
    ]


def figures_neuron(r: dict) -> dict[str, Figure]:
    k = 201
    g = np.linspace(-1.0, 1.0, k)
    X1, X2 = np.meshgrid(g, g)
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, key in zip(axes[:2], ("small", "large")):
        w = r[key]["w"]
        s = 1.0 / (1.0 + np.exp(-(w[0] * X1 + w[1] * X2)))
        im = ax.imshow(s, extent=(-1, 1, -1, 1), origin="lower", vmin=0, vmax=1, cmap="coolwarm")
        ax.contour(X1, X2, s, levels=[0.5], colors="k", linewidths=1)
        ax.set_title(f"σ(w·x), w = {w}: {num(100 * r[key]['saturated'])}% saturated", fontsize=10)
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
    fig.colorbar(im, ax=axes[:2], shrink=0.85, label="σ(w·x), the neuron's output")
    t = np.linspace(-1.0, 1.0, 401)  # x = t·w/‖w‖: along the common direction
    for key, color in (("small", "C0"), ("large", "C3")):
        w = np.array(r[key]["w"])
        z = t * np.linalg.norm(w)
        s = 1.0 / (1.0 + np.exp(-z))
        axes[2].plot(t, s * (1 - s), color=color, label=f"w = {r[key]['w']}")
    axes[2].set_xlabel("position along w/‖w‖")
    axes[2].set_ylabel("σ'(w·x)")
    axes[2].legend(fontsize=8)
    axes[2].set_title("the slope that gradients carry", fontsize=10)
    fig.suptitle("Two neurons with the same direction and different magnitudes")
    return {"neuron": fig}


# ---------------------------------------------------------------------------- training from scaled weights


def measure_training(quick: bool, seed: int) -> dict:
    """Epochs to a target validation accuracy for the default initialization scaled by c, all c in one fit."""
    train_size, epochs, target, n_val = (2_000, 15, 0.85, 2_000) if quick else (10_000, 30, 0.92, 10_000)
    cs = [0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
    data, info = study_data.load(train_size)
    d = data.train.X.shape[1]
    v = data.require("validation")
    small = TensorData(data.train, TensorSplit(v.X[:n_val], v.y[:n_val], v.Y[:n_val]), None, data.n_classes)
    with torch_threads(1):
        model = MLP.initialize([d, HIDDEN, 10], seeds=[seed] * len(cs), init="default", activation="sigmoid", cost=COST)
        for l in range(len(model.weights)):
            scale = torch.tensor(cs, dtype=model.dtype)
            model.weights[l].mul_(scale[:, None, None])
            model.biases[l].mul_(scale[:, None])
        result = fit(model, small, epochs=epochs, batch_size=BATCH, eta=ETA * 5, order_seeds=[seed],
                     monitor=Monitor(splits=("validation",), weights=False, saturation_examples=1000))
    acc = result.history.get("validation_accuracy")  # (E+1, C)
    sat = result.history.get("saturation", 0)  # (E+1, C)
    reached = [next((e for e in range(epochs + 1) if acc[e, i] >= target), None) for i in range(len(cs))]
    return {"data": info, "c": cs, "epochs": epochs, "target": target, "eta": ETA * 5, "validation": n_val,
            "accuracy": acc.T.tolist(), "saturation": sat.T.tolist(), "epochs_to_target": reached}


def findings_training(r: dict) -> list[str]:
    cs, reached = r["c"], r["epochs_to_target"]
    acc = r["accuracy"]
    parts = [f"c = {num(c)}: " + (f"epoch {e}" if e is not None else f"not within {r['epochs']} epochs "
                                  f"(best {num(100 * max(acc[i]))}%)") for i, (c, e) in enumerate(zip(cs, reached))]
    ok = [(e, c) for c, e in zip(cs, reached) if e is not None]
    out = [
        f"Training a sigmoid network from the default initialization with every parameter scaled by c (η = "
        f"{num(r['eta'])}, {r['data']['n_train']:,} training images, accuracy on {r['validation']:,} validation "
        f"images), the epochs to reach {num(100 * r['target'])}%: " + "; ".join(parts) + ".",
        "At the start, the saturated fraction of hidden units was " + ", ".join(
            f"{num(100 * r['saturation'][i][0])}% (c = {num(c)})" for i, c in enumerate(cs)) + "; after the last "
        "epoch " + ", ".join(f"{num(100 * r['saturation'][i][-1])}%" for i in range(len(cs))) + ".",
    ]
    if ok:
        best = min(e for e, _ in ok)
        tied = [c for e, c in ok if e == best]
        who = "c = " + num(tied[0]) if len(tied) == 1 else f"a {len(tied)}-way tie, c = " + ", ".join(map(num, tied))
        out.append(f"Fastest: {who} ({best} epoch{'s' if best != 1 else ''}"
                   + (" each" if len(tied) > 1 else "") + f"); {len(cs) - len(ok)} of {len(cs)} scales "
                   f"did not reach {num(100 * r['target'])}% within {r['epochs']} epochs.")
    return out


def figures_training(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    cmap = colormaps["viridis"]
    for i, c in enumerate(r["c"]):
        ax.plot(np.arange(r["epochs"] + 1), 100 * np.array(r["accuracy"][i]), color=cmap(i / (len(r["c"]) - 1)),
                label=f"c = {num(c)}")
    ax.axhline(100 * r["target"], color="0.5", ls=":", lw=1, label=f"target {num(100 * r['target'])}%")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.legend(fontsize=8, ncols=2)
    fig.suptitle("Training from the default initialization scaled by c")
    return {"training_from_scaled_weights": fig}


PARTS = (
    Part("scaling", "A trained network, every parameter scaled by c", measure_scaling, findings_scaling,
         tables_scaling, figures_scaling),
    Part("neuron", "One neuron: [1, 0.1] against [100, 10]", measure_neuron, findings_neuron, figures=figures_neuron),
    Part("training", "Training from weights scaled by c", measure_training, findings_training, figures=figures_training),
)
