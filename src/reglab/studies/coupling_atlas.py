r"""coupling-atlas: where is the good region of (learning rate, λ), and does Adam cancel the penalty's coefficient?

Loshchilov & Hutter (ICLR 2019, Figure 2) drew validation error over the learning rate and the decay
coefficient and found the good region a diagonal for SGD with an L2 penalty (the two must be tuned
together) but aligned with the axes once the decay is decoupled (they can be tuned apart). Here, the
same atlas at CPU scale on MNIST, for five ways to regularize, every (η, λ) cell one model of one
batch per scheme (same initial weights, same mini-batches):

============================  =====================================================  =======================
scheme                        update per step (``u``: SGD's ``g`` or Adam's step)     λ's unit
============================  =====================================================  =======================
SGD + L2                      ``w ← w − η(g + (λ/n) w)``                             the book's λ
SGD + decoupled decay         ``w ← (1 − η₀λ/n)(w − η g)`` (L&H's SGDW)               decay per step η₀λ/n
Adam + L2                     ``g ← g + (λ/n) w``, then Adam                          the book's λ
AdamW, decay follows η        ``w ← (1 − ηλ/n)(w − η u)`` (PyTorch, Optax, Keras)     the book's λ
AdamW, decay free of η        ``w ← (1 − η₀λ/n)(w − η u)`` (L&H's AdamW)              decay per step η₀λ/n
============================  =====================================================  =======================

``η₀`` is the geometric middle of the scheme's η grid, so the lr-free schemes use the same λ numbers
as the others and coincide with them at ``η = η₀``. The shape of the good region is measured by its
ridge (:mod:`reglab.sweep.ridge`): the largest λ within 1 point of the best at each η, and the slope
``b`` of ``log λ* = a + b log η`` with the correlation ``r`` of the two (``b ≈ 0``: aligned with the
axes; ``|b| ≈ 1``: a diagonal).

The diagnostic "does Adam cancel your penalty coefficient?": a weight whose only gradient is the
penalty's — here, the first-layer weights from pixels that are blank in every training image — gets
``g = (λ/n) w`` under Adam + L2, so ``m̂/√v̂`` does not depend on λ (up to ε): scaling λ by 10 leaves
its trajectory unchanged. Under AdamW its decay is ``ηλ/n`` per step, and scaling λ by 10 changes it.
Both are measured, as the largest difference between the trajectories (weights after every epoch)
relative to how far the weights moved.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.optim import SGD, Adam
from reglab.engine.regularizers import L2, DecoupledDecay
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.studies import data as study_data
from reglab.sweep.plots import heatmap_axes
from reglab.sweep.ridge import Grid, reading, ridge

NAME = "coupling-atlas"
QUESTION = ("Is the good region of learning rate × weight decay a diagonal or aligned with the axes, for SGD and Adam "
            "with L2 and with decoupled decay, and does Adam cancel the L2 coefficient?")

HIDDEN, BATCH = 30, 10
#: (key, title, optimizer, coupled L2?, decay free of η?)
SCHEMES = (
    ("sgd-l2", "SGD + L2", "sgd", True, False),
    ("sgdw", "SGD + decoupled decay (free of η)", "sgd", False, True),
    ("adam-l2", "Adam + L2", "adam", True, False),
    ("adamw", "AdamW, decay follows η", "adam", False, False),
    ("adamw-free", "AdamW, decay free of η", "adam", False, True),
)


def grid_of(optimizer: str, quick: bool) -> tuple[np.ndarray, np.ndarray]:
    """The (η, λ) grid of an optimizer: η over 2.5 decades; λ (book units) over 5 decades for SGD, 7 for Adam."""
    k = 4 if quick else 7
    if optimizer == "sgd":
        return np.geomspace(0.01, 3.0, k), np.geomspace(0.01, 1000.0, k + 2)
    return np.geomspace(1e-4, 3e-2, k), np.geomspace(0.01, 1e5, k + 3)


def _lmbdas(eta: np.ndarray, lmbda: np.ndarray, coupled: bool, free: bool) -> tuple[list[float], list[float], list[float]]:
    """Per model (η slowest, λ fastest): its η, the λ of the scheme's axis, and the λ its regularizer gets."""
    eta0 = float(np.exp(np.log(eta).mean()))
    etas = [float(e) for e in eta for _ in lmbda]
    axis = [float(lam) for _ in eta for lam in lmbda]
    given = [lam * eta0 / e if free else lam for e, lam in zip(etas, axis)]  # DecoupledDecay decays η·λ/n per step
    return etas, axis, given


def _data(quick: bool, seed: int) -> tuple[TensorData, dict]:
    train, val = (1_000, 1_000) if quick else (10_000, 10_000)
    data, info = study_data.load(train)
    v = data.require("validation")
    return TensorData(data.train, TensorSplit(v.X[:val], v.y[:val], v.Y[:val]), None, data.n_classes), info


def measure_atlas(quick: bool, seed: int) -> dict:
    """Validation accuracy over the (η, λ) grid of every scheme, and each grid's ridge."""
    data, info = _data(quick, seed)
    epochs = 3 if quick else 10
    d = data.train.X.shape[1]
    out = []
    with torch_threads(1):
        for key, title, opt, coupled, free in SCHEMES:
            eta, lmbda = grid_of(opt, quick)
            etas, axis, given = _lmbdas(eta, lmbda, coupled, free)
            model = MLP.initialize([d, HIDDEN, 10], seeds=[seed] * len(etas), init="default")
            reg = L2(given) if coupled else DecoupledDecay(given)
            res = fit(model, data, epochs=epochs, batch_size=BATCH, eta=etas, regularizer=reg,
                      optimizer=SGD() if opt == "sgd" else Adam(), order_seeds=[seed],
                      monitor=Monitor(splits=("validation",), weights=False, saturation_examples=0))
            diverged = np.array([e is not None for e in res.state.diverged_epoch]).reshape(len(eta), len(lmbda))
            acc = np.where(diverged, np.nan, res.history.get("validation_accuracy")[-1].reshape(len(eta), len(lmbda)))
            r = ridge(eta, lmbda, acc)
            out.append({"key": key, "title": title, "optimizer": opt, "coupled": coupled, "free": free,
                        "eta0": float(np.exp(np.log(eta).mean())), "eta": eta.tolist(), "lmbda": lmbda.tolist(),
                        "accuracy": [[None if not np.isfinite(v) else float(v) for v in row] for row in acc],
                        "ridge": r.summary(), "reading": reading(r), "seconds": res.train_seconds,
                        "best": float(np.nanmax(acc)) if np.isfinite(acc).any() else None})
    return {"data": info, "epochs": epochs, "sizes": [d, HIDDEN, 10], "batch": BATCH, "n": info["n_train"],
            "validation": len(data.require("validation")), "schemes": out}


def _grid(s: dict) -> Grid:
    acc = np.array([[np.nan if v is None else v for v in row] for row in s["accuracy"]])
    eta, lmbda = np.array(s["eta"]), np.array(s["lmbda"])
    return Grid({"scheme": s["key"]}, eta, lmbda, acc, ridge(eta, lmbda, acc))


def findings_atlas(r: dict) -> list[str]:
    s0 = r["schemes"][0]
    out = [study_data.describe(r["data"]),
           f"Each scheme is one batch of {len(s0['eta'])} η × {len(s0['lmbda'])} λ models [{', '.join(map(str, r['sizes']))}] "
           f"(sigmoid, cross-entropy, N(0, 1/n_in) weights, mini-batch {r['batch']}), {r['epochs']} epochs from the same "
           f"initial weights in the same order; validation accuracy on {r['validation']:,} images after the last epoch; a "
           f"diverged model counts as missing. The ridge at each η is the largest λ within 1 point of that "
           f"η's best accuracy."]
    for s in r["schemes"]:
        out.append(f"{s['title']}: best validation accuracy {num(100 * s['best'])}%; {s['reading']}.")
    by = {s["key"]: s["ridge"]["slope"] for s in r["schemes"]}
    if all(v is not None for v in by.values()):
        follow = np.mean([by["sgd-l2"], by["adam-l2"], by["adamw"]])
        free = np.mean([by["sgdw"], by["adamw-free"]])
        out.append(f"Were the decay per step (ηλ/n, or η₀λ/n) all that mattered, the ridges of the schemes whose decay "
                   f"follows η would have slope −1 and those whose decay is free of η slope 0. Measured: SGD + L2 "
                   f"{num(by['sgd-l2'], 2)}, Adam + L2 {num(by['adam-l2'], 2)}, AdamW following η {num(by['adamw'], 2)} "
                   f"(mean {num(follow, 2)}); SGD with the decay free of η {num(by['sgdw'], 2)}, AdamW free of η "
                   f"{num(by['adamw-free'], 2)} (mean {num(free, 2)}). Decoupling the decay from η turned the ridge "
                   f"{'towards the axes' if abs(free) < abs(follow) else 'no closer to the axes'}: |slope| "
                   f"{num(abs(follow), 2)} → {num(abs(free), 2)}.")
    return out


def tables_atlas(r: dict) -> list[Table]:
    rows = tuple((s["title"], s["best"], s["ridge"]["slope"], s["ridge"]["correlation"],
                  f"{sum(s['ridge']['at_edge'])} of {len(s['ridge']['at_edge'])}") for s in r["schemes"])
    columns = ("scheme", "best validation accuracy", "slope d log λ*/d log η", "correlation",
               "η where even the largest λ is good")
    tables = [Table("The ridge of each atlas: the largest good λ per η", columns, rows,
                    note="slope ≈ 0: aligned with the axes (η and λ tuned apart); |slope| ≈ 1: a diagonal.")]
    for s in r["schemes"]:
        tables.append(Table(f"{s['title']}: validation accuracy (%) over η (rows) × λ (columns)",
                            ("η \\ λ", *(num(v, 2) for v in s["lmbda"])),
                            tuple((num(e, 2), *("—" if v is None else round(100 * v, 2) for v in row))
                                  for e, row in zip(s["eta"], s["accuracy"])),
                            note="λ in the book's units" + (f"; decay per step η₀λ/n with η₀ = {num(s['eta0'], 2)}"
                                                           if s["free"] else "")))
    return tables


def figures_atlas(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(20, 4.4), layout="constrained")
    axes = fig.subplots(1, len(r["schemes"]))
    for ax, s in zip(axes, r["schemes"]):
        mesh = heatmap_axes(ax, _grid(s), chance=0.1)
        ax.set_title(f"{s['title']}\nridge slope {num(s['ridge']['slope'], 2)}", fontsize=9)
        if s["free"]:
            ax.set_xlabel(f"λ (decay η₀λ/n per step, η₀ = {num(s['eta0'], 2)})")
    fig.colorbar(mesh, ax=axes, label="validation accuracy (%)", shrink=0.9)
    fig.suptitle("validation accuracy over (η, λ), with the largest good λ per η (red)")
    return {"coupling_atlas": fig}


# -- does Adam cancel the penalty's coefficient? ------------------------------------------------------------
def measure_cancel(quick: bool, seed: int) -> dict:
    """Adam + L2 and AdamW at λ and 10λ from the same weights: the trajectories of the blank-pixel weights."""
    data, info = _data(quick, seed)
    data = TensorData(data.train, None, None, data.n_classes)
    epochs, eta = (3, 1e-3) if quick else (8, 1e-3)
    n, d = info["n_train"], data.train.X.shape[1]
    lam = 0.01 * n  # λ/n = 0.01, AdamW's default weight_decay in PyTorch
    blank = ~(data.train.X.numpy() != 0).any(axis=0)  # (d,) pixels blank in every training image
    X64 = TensorData(TensorSplit(data.train.X.double(), data.train.y, data.train.Y.double()), None, None, data.n_classes)
    model = MLP.initialize([d, HIDDEN, 10], seeds=[seed] * 4, init="default", dtype=torch.float64)
    traj: list[np.ndarray] = [model.weights[0].numpy().copy()]

    def keep(epoch, record, state):
        traj.append(model.weights[0].numpy().copy())

    reg = L2([lam, 10 * lam, 0.0, 0.0]) + DecoupledDecay([0.0, 0.0, lam, 10 * lam])
    with torch_threads(1):
        fit(model, X64, epochs=epochs, batch_size=BATCH, eta=eta, regularizer=reg, optimizer=Adam(), order_seeds=[seed],
            monitor=Monitor(splits=(), weights=False, saturation_examples=0), callbacks=[keep], beside=False)
    W = np.stack(traj)  # (E+1, 4, n_out, d)
    out = {"data": info, "epochs": epochs, "eta": eta, "lambda": lam, "blank_pixels": int(blank.sum()), "n": n}
    for name, (a, b) in (("adam_l2", (0, 1)), ("adamw", (2, 3))):
        for part, cols in (("blank", blank), ("data", ~blank)):
            if not cols.any():
                out[f"{name}_{part}"] = None
                continue
            wa, wb = W[:, a][:, :, cols], W[:, b][:, :, cols]
            moved = float(max(np.abs(wa - wa[0]).max(), np.abs(wb - wb[0]).max()))  # the farther of the two
            out[f"{name}_{part}"] = {"difference": float(np.abs(wa - wb).max()), "moved": moved,
                                     "relative": float(np.abs(wa - wb).max() / moved) if moved else None,
                                     "rms_final": [float(np.sqrt((wa[-1] ** 2).mean())), float(np.sqrt((wb[-1] ** 2).mean()))]}
    return out


def findings_cancel(r: dict) -> list[str]:
    if r["adam_l2_blank"] is None:
        return [study_data.describe(r["data"]), f"No pixel is blank in all {r['n']:,} training images: no weight has "
                "the penalty as its only gradient here, so the diagnostic could not be measured."]
    a, w = r["adam_l2_blank"], r["adamw_blank"]
    ad, wd = r["adam_l2_data"], r["adamw_data"]
    out = [
        study_data.describe(r["data"]),
        f"Four models from the same weights, trained {r['epochs']} epochs with Adam (η = {num(r['eta'])}) in the same "
        f"order: Adam + L2 at λ = {num(r['lambda'])} and at 10λ, AdamW at λ and at 10λ (λ/n = 0.01). "
        f"{r['blank_pixels']} pixels are blank in every training image: their first-layer weights have the penalty "
        f"as their only gradient.",
        f"Adam + L2: the blank-pixel weights at λ and at 10λ differ by at most {num(a['difference'])} after any epoch, "
        f"{num(a['relative'])} of the up to {num(a['moved'])} they moved: scaling λ by 10 left their trajectory unchanged "
        f"(up to Adam's ε). Their RMS ended at {num(a['rms_final'][0])} and {num(a['rms_final'][1])}.",
        f"AdamW: the same weights at λ and at 10λ differ by up to {num(w['difference'])}, {num(w['relative'])} of the "
        f"up to {num(w['moved'])} they moved; their RMS ended at {num(w['rms_final'][0])} and {num(w['rms_final'][1])}: "
        f"the coefficient sets the decay.",
        f"Weights that do get a data gradient are not immune under Adam + L2: at λ and 10λ they differ by "
        f"{num(ad['relative'])} of how far they moved (AdamW: {num(wd['relative'])}). Adam cancels the coefficient only "
        f"where the penalty dominates the gradient.",
    ]
    return out


def tables_cancel(r: dict) -> list[Table]:
    if r["adam_l2_blank"] is None:
        return []
    rows = tuple((label, part, r[f"{key}_{p}"]["difference"], r[f"{key}_{p}"]["moved"], r[f"{key}_{p}"]["relative"])
                 for key, label in (("adam_l2", "Adam + L2"), ("adamw", "AdamW"))
                 for p, part in (("blank", "blank pixels (penalty only)"), ("data", "other weights")))
    return [Table("λ against 10λ: the largest difference of the first-layer weights over the trajectory",
                  ("scheme", "weights", "max |w(λ) − w(10λ)|", "max |w − w₀|, either", "relative"), rows)]


PARTS = (
    Part("atlas", "The atlas: validation accuracy over (η, λ) for five schemes", measure_atlas, findings_atlas,
         tables_atlas, figures_atlas),
    Part("cancel", "Does Adam cancel your penalty coefficient?", measure_cancel, findings_cancel, tables_cancel),
)
