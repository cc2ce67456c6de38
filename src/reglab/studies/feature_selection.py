r"""feature-selection: does L1 select features, or would "relatively much smaller" weights do the same?

Synthetic part. ``make_classification`` (``shuffle=False``) gives ``k`` informative features first and
``d − k`` useless ones (pure noise) after them; the inputs are standardized. The model is logistic
regression, a ``[d, 1]`` network of reglab with a sigmoid output and the cross-entropy cost (no hidden
layer), so that scikit-learn's solution is a reference:

.. math::  C(w, b) = \frac1n \sum_x \bigl[\ln(1 + e^{z_x}) − y_x z_x\bigr] + \text{penalty}, \qquad z_x = w·x + b,

with, in the book's units, L2 ``(λ/2n)Σw²``, L1 ``(λ/n)Σ|w|`` by subgradient (:class:`~reglab.engine.regularizers.L1`:
``w ← w − (ηλ/n) sgn(w) − η∂C₀/∂w``) and L1 by proximal step (:class:`~reglab.engine.regularizers.L1Prox`:
``w ← sign(w)·max(|w| − ηλ/n, 0)`` after the gradient step). Training is full-batch (one step per epoch), so
L1-prox is ISTA and converges to the exact minimizer; the step is ``η = 1/L`` with
``L = ‖[X, 1]‖₂²/(4n)`` bounding the curvature of the mean logistic loss.

Matched strength with scikit-learn. ``LogisticRegression(l1_ratio=1, C=C)`` minimizes
``C Σ_x loss_x + ‖w‖₁`` (intercept unpenalized with ``saga``). Dividing by ``nC`` leaves the minimizer
unchanged: ``(1/n) Σ_x loss_x + (1/(nC)) ‖w‖₁``, which is reglab's objective with ``λ/n = 1/(nC)``, so

.. math::  λ = 1/C.

Every weight is exactly zero once ``λ ≥ λ_max = max_j |Σ_x (ȳ − y_x) x_{xj}|`` (the data gradient at
``w = 0`` with the intercept at its optimum); the grid is a set of fractions of ``λ_max``.

MNIST part: a ``[784, 30, 10]`` sigmoid network with L2 and one with L1-prox, trained side by side (same
initial weights and mini-batch order, one :func:`~reglab.engine.loop.fit` call: the regularizer is
``L2([λ₂, 0]) + L1Prox([0, λ₁])``, each model getting its own). For input pixel ``j`` the first layer's column
``W[:, j]`` (30 weights) has norm ``‖W[:, j]‖``; a pixel is dropped when its whole column is exactly zero. The
image's border (the outer ``side // 14`` rows and columns, 2 for MNIST) rarely carries ink.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullFormatter

from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, evaluate
from reglab.engine.regularizers import L1, L2, L1Prox
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.rng import seed_for
from reglab.studies import data as study_data

NAME = "feature-selection"
QUESTION = "Does L1 select features, or would weights that are merely much smaller do the same?"

KINDS = {"L2": L2, "L1 (subgradient)": L1, "L1 (prox)": L1Prox}
SMALL = 1e-3


# ---------------------------------------------------------------------------- synthetic: logistic regression


def make_problem(n: int, d: int, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary classification with the ``k`` informative features first, standardized.  → X (n, d), y (n,)."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=d, n_informative=k, n_redundant=0, n_repeated=0,
                               n_classes=2, flip_y=0.05, shuffle=False, random_state=random_state)
    return (X - X.mean(axis=0)) / X.std(axis=0), y.astype(np.int64)


def lambda_max(X: np.ndarray, y: np.ndarray) -> float:
    """The smallest λ (book units) at which L1 zeroes every weight: ``max_j |Σ_x (ȳ − y_x) x_xj|``."""
    return float(np.abs(X.T @ (y.mean() - y)).max())


def train_logistic(X: np.ndarray, y: np.ndarray, kind: str, lambdas: list[float], steps: int) -> tuple[np.ndarray, float]:
    """Full-batch logistic regression with one regularizer kind, every λ a model of one fit.  → W (J, d), η."""
    n, d = X.shape
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    data = TensorData(TensorSplit(Xt, yt, yt[:, None].double()), None, None, 2)  # one sigmoid output: Y (n, 1)
    eta = 4 * n / np.linalg.norm(np.hstack([X, np.ones((n, 1))]), 2) ** 2  # 1/L
    model = MLP.initialize([d, 1], seeds=[0] * len(lambdas), init="default", cost="cross-entropy", dtype=torch.float64)
    fit(model, data, epochs=steps, batch_size=n, eta=eta, regularizer=KINDS[kind](lambdas),
        monitor=Monitor(splits=(), weights=False, saturation_examples=0))
    return model.weights[0][:, 0, :].numpy().copy(), float(eta)  # (J, d)


def sklearn_l1(X: np.ndarray, y: np.ndarray, lmbda: float, random_state: int) -> np.ndarray:
    """scikit-learn's L1 logistic regression at the matched strength ``C = 1/λ`` (``saga`` shuffles with
    ``random_state``).  → w (d,)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0 / lmbda, l1_ratio=1.0, solver="saga", tol=1e-10, max_iter=100_000,
                             random_state=random_state)
    return clf.fit(X, y).coef_[0]


def describe_weights(w: np.ndarray, k: int) -> dict:
    """Zeros, small weights and magnitudes of informative (first ``k``) and useless weights of one ``w`` (d,)."""
    a = np.abs(w)
    useless = a[k:]
    top = np.argsort(-a, kind="stable")[:k]
    return {
        "zeros": int((w == 0).sum()), "small": int((a < SMALL).sum()),
        "zeros_useless": int((useless == 0).sum()), "zeros_informative": int((a[:k] == 0).sum()),
        "mean_informative": float(a[:k].mean()), "mean_useless": float(useless.mean()),
        "max_useless": float(useless.max()), "median_useless": float(np.median(useless)),
        "min_useless": float(useless.min()),
        "min_nonzero_useless": float(useless[useless > 0].min()) if (useless > 0).any() else None,
        "informative_in_top_k": int((top < k).sum()),
    }


def measure_synthetic(quick: bool, seed: int) -> dict:
    """L2, L1 by subgradient and L1 by prox across λ on synthetic data; the prox selection against scikit-learn."""
    if quick:
        n, d, k, sets, steps, fractions = 400, 40, 5, 1, 2000, [0.02, 0.05, 0.1, 0.2, 0.4, 0.7]
    else:
        n, d, k, sets, steps, fractions = 1000, 100, 8, 5, 5000, [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.55, 0.7, 0.85]
    out = []
    with torch_threads(1):
        for s in range(sets):
            random_state = seed_for(seed, "feature-selection", s) % 2**31
            X, y = make_problem(n, d, k, random_state)
            lmax = lambda_max(X, y)
            lambdas = [f * lmax for f in fractions]
            kinds = {}
            for kind in KINDS:
                W, eta = train_logistic(X, y, kind, lambdas, steps)
                kinds[kind] = {"w": W.tolist(), "stats": [describe_weights(w, k) for w in W]}
            reference = np.array([sklearn_l1(X, y, lm, random_state) for lm in lambdas])  # (J, d)
            prox = np.array(kinds["L1 (prox)"]["w"])
            out.append({
                "lambda_max": lmax, "lambdas": lambdas, "eta": eta, "kinds": kinds,
                "sklearn_w": reference.tolist(),
                "sklearn_selected": [np.flatnonzero(w).tolist() for w in reference],
                "prox_selected": [np.flatnonzero(w).tolist() for w in prox],
                "max_abs_difference": np.abs(reference - prox).max(axis=1).tolist(),
            })
    return {"n": n, "d": d, "k": k, "steps": steps, "fractions": fractions, "sets": out}


def _headline(ds: dict, k: int) -> int:
    """The λ shown in sentences: the smallest at which L1-prox zeroed every useless weight, else the largest."""
    stats = ds["kinds"]["L1 (prox)"]["stats"]
    useless = len(ds["kinds"]["L2"]["w"][0]) - k
    return next((j for j, s in enumerate(stats) if s["zeros_useless"] == useless), len(stats) - 1)


def findings_synthetic(r: dict) -> list[str]:
    n, d, k = r["n"], r["d"], r["k"]
    ds = r["sets"][0]
    j = _headline(ds, k)
    lm = ds["lambdas"][j]
    l2, sub, prox = (ds["kinds"][kind]["stats"][j] for kind in KINDS)
    step = ds["eta"] * lm / n
    out = [
        f"Synthetic data: n = {n} examples, d = {d} standardized features of which the first {k} are informative "
        f"and {d - k} useless; logistic regression (a [{d}, 1] network, sigmoid output, cross-entropy, no hidden "
        f"layer), {r['steps']} full-batch steps of η = 1/L = {num(ds['eta'])}; λ from {num(ds['lambdas'][0])} to "
        f"{num(ds['lambdas'][-1])} ({num(r['fractions'][0])} to {num(r['fractions'][-1])} of λ_max = "
        f"{num(ds['lambda_max'])}, where every weight is 0).",
        f"At λ = {num(lm)}: L1 by prox set {prox['zeros_useless']} of the {d - k} useless weights exactly to 0 and "
        f"kept {k - prox['zeros_informative']} of the {k} informative ones; L1 by subgradient set "
        f"{sub['zeros']} weights exactly to 0 ({sub['small']} below {SMALL:g}; its useless weights hover at a "
        f"median |w| of {num(sub['median_useless'])}, next to the step ηλ/n = {num(step)}); L2 left "
        f"{d - l2['zeros']} of {d} non-zero, the smallest useless |w| being {num(l2['min_useless'])}.",
    ]
    totals = {kind: [s["zeros"] for s in ds["kinds"][kind]["stats"]] for kind in KINDS}
    out.append("Exact zeros over the λ grid: " + "; ".join(
        f"{kind}: {min(z)} to {max(z)} of {d}" for kind, z in totals.items()) + ".")
    out.append(
        f"'Relatively much smaller' is not selection: under L2 at λ = {num(lm)} the useless weights' mean |w| is "
        f"{num(l2['mean_useless'] / l2['mean_informative'])} of the informative ones' (largest useless "
        f"{num(l2['max_useless'])}), and the {k} largest |w| include {l2['informative_in_top_k']} of the {k} "
        f"informative features — a ranking, but every weight stays in the model and no threshold comes with it.")
    same = [a == b for s in r["sets"] for a, b in zip(s["prox_selected"], s["sklearn_selected"])]
    diff = max(x for s in r["sets"] for x in s["max_abs_difference"])
    out.append(
        f"scikit-learn's LogisticRegression(l1_ratio=1, solver='saga', C = 1/λ) — it minimizes CΣloss + ‖w‖₁, "
        f"which divided by nC is reglab's (1/n)Σloss + (λ/n)‖w‖₁ with λ = 1/C — selected exactly the features "
        f"L1-prox kept in {sum(same)} of {len(same)} fits"
        + (f" ({len(r['sets'])} data sets × {len(ds['lambdas'])} λ)" if len(r["sets"]) > 1 else "")
        + f"; the largest difference between the two coefficient vectors is {num(diff)}.")
    if len(r["sets"]) > 1:
        heads = [(s, _headline(s, k)) for s in r["sets"]]
        kept = [k - s["kinds"]["L1 (prox)"]["stats"][h]["zeros_informative"] for s, h in heads]
        others = sum(st["zeros"] for s in r["sets"] for kind in ("L2", "L1 (subgradient)") for st in s["kinds"][kind]["stats"])
        out.append(f"Over the {len(r['sets'])} data sets, at the smallest λ that zeroed every useless weight, "
                   f"L1-prox kept {min(kept)} to {max(kept)} of the {k} informative features; subgradient L1 and "
                   f"L2 produced {others} exact zeros in all.")
    return out


def tables_synthetic(r: dict) -> list[Table]:
    ds, k = r["sets"][0], r["k"]
    rows = []
    for j, lm in enumerate(ds["lambdas"]):
        for kind in KINDS:
            s = ds["kinds"][kind]["stats"][j]
            rows.append((num(lm), kind, s["zeros"], s["small"], s["mean_informative"], s["mean_useless"],
                         s["max_useless"], s["informative_in_top_k"]))
        rows.append((num(lm), "scikit-learn L1", sum(1 for x in ds["sklearn_w"][j] if x == 0), "", "", "", "",
                     "the same set as L1 (prox)" if ds["sklearn_selected"][j] == ds["prox_selected"][j]
                     else "a different set from L1 (prox)"))
    return [Table(f"Weights after training, first data set ({r['d']} features, {k} informative)",
                  ("λ", "regularizer", "exact zeros", f"|w| < {SMALL:g}", "mean |w| informative", "mean |w| useless",
                   "max |w| useless", f"informative among top {k}"), tuple(rows))]


FLOOR = 1e-8  # where exact zeros are drawn on a log axis


def figures_synthetic(r: dict) -> dict[str, Figure]:
    ds, k, d = r["sets"][0], r["k"], r["d"]
    j = _headline(ds, k)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.4, 1])
    idx = np.arange(d)
    ax1.axvspan(-0.5, k - 0.5, color="0.92", label="informative")
    for c, (kind, marker) in enumerate(zip(KINDS, "os^")):
        a = np.abs(np.array(ds["kinds"][kind]["w"][j]))
        ax1.plot(idx, np.maximum(a, FLOOR), marker, color=f"C{c}", ms=4, label=kind, alpha=0.85)
    ax1.axhline(FLOOR, color="0.5", lw=0.6)
    ax1.text(d - 1, FLOOR * 1.6, "exactly 0 drawn here", ha="right", fontsize=8, color="0.3")
    ax1.set_yscale("log")
    ax1.set_xlabel("feature j")
    ax1.set_ylabel("|w_j|")
    ax1.set_title(f"|w| per feature at λ = {num(ds['lambdas'][j])}", fontsize=10)
    ax1.legend(fontsize=8, loc="upper right")
    lams = np.array(ds["lambdas"])
    for c, (kind, style) in enumerate(zip(KINDS, ("o-", "s--", "^-"))):
        ax2.plot(lams, [s["zeros"] for s in ds["kinds"][kind]["stats"]], style, color=f"C{c}", ms=8 - 2 * c,
                 mfc="none" if c == 0 else None, label=kind)
    ax2.plot(lams, [sum(1 for x in w if x == 0) for w in ds["sklearn_w"]], "k+", ms=10, label="scikit-learn L1")
    ax2.axhline(d - k, color="0.5", ls=":", lw=1)
    ax2.text(lams[0], d - k, "useless features", va="bottom", fontsize=8, color="0.3")
    ax2.set_xscale("log")
    ax2.xaxis.set_minor_formatter(NullFormatter())
    ax2.set_xlabel("λ")
    ax2.set_ylabel("weights exactly 0")
    ax2.legend(fontsize=8)
    ax2.set_title("exact zeros against λ", fontsize=10)
    fig.suptitle("Logistic regression on synthetic data: which weights reach exactly 0")
    return {"synthetic_weights": fig}


# ---------------------------------------------------------------------------- MNIST: which pixels survive

L2_LAMBDA, PROX_LAMBDA, ETA, BATCH, HIDDEN = 5.0, 1.0, 0.5, 10, 30


def border_mask(side: int) -> np.ndarray:
    """``True`` on the outer ``max(1, side // 14)`` rows and columns of a side×side image.  → (side²,)."""
    width = max(1, side // 14)
    img = np.zeros((side, side), dtype=bool)
    img[:width], img[-width:], img[:, :width], img[:, -width:] = True, True, True, True
    return img.ravel()


def measure_mnist(quick: bool, seed: int) -> dict:
    """First-layer column norms per input pixel under L2 and under L1-prox, and which columns are exactly 0."""
    train_size, epochs = (5_000, 10) if quick else (None, 30)
    data, info = study_data.load(train_size)
    d = data.train.X.shape[1]
    regularizer = L2([L2_LAMBDA, 0.0]) + L1Prox([0.0, PROX_LAMBDA])  # model 0: L2, model 1: L1-prox
    with torch_threads(1):
        model = MLP.initialize([d, HIDDEN, 10], seeds=[seed, seed], init="default")
        result = fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, regularizer=regularizer,
                     order_seeds=[seed], monitor=Monitor(splits=(), weights=True, saturation_examples=0))
        v = data.require("validation")
        accuracy = evaluate(result.model, v.X, v.y, v.Y)[1].tolist()
    W = result.model.weights[0].double().numpy()  # (2, 30, d)
    norms = np.linalg.norm(W, axis=1)  # (2, d)
    zero = (W == 0).all(axis=1)  # (2, d): the whole column is 0
    border = border_mask(info["side"])
    dead = ~(data.train.X.numpy() != 0).any(axis=0)  # (d,): pixels 0 in every training image
    models = []
    for m, (name, lm) in enumerate((("L2", L2_LAMBDA), ("L1 (prox)", PROX_LAMBDA))):
        models.append({
            "name": name, "lambda": lm, "validation_accuracy": accuracy[m], "column_norm": norms[m].tolist(),
            "zero_columns": int(zero[m].sum()), "zero_border": int(zero[m][border].sum()),
            "zero_interior": int(zero[m][~border].sum()), "zero_dead": int(zero[m][dead].sum()),
            "zero_weights": int((W[m] == 0).sum()),
            "min_border_norm": float(norms[m][border].min()),
            "min_dead_norm": float(norms[m][dead].min()) if dead.any() else None,
        })
    return {
        "data": info, "sizes": [d, HIDDEN, 10], "eta": ETA, "batch": BATCH, "epochs": epochs,
        "pixels": d, "border": int(border.sum()), "border_width": max(1, info["side"] // 14), "dead": int(dead.sum()),
        "dead_in_border": int((dead & border).sum()), "models": models,
    }


def findings_mnist(r: dict) -> list[str]:
    l2, prox = r["models"]
    B, D, P = r["border"], r["dead"], r["pixels"]
    side = r["data"]["side"]

    def pct(a: int, b: int) -> str:
        return f"{num(100 * a / b) if b else '—'}%"

    return [
        study_data.describe(r["data"]),
        f"A [{', '.join(map(str, r['sizes']))}] sigmoid network, η = {num(r['eta'])}, mini-batch {r['batch']}, "
        f"{r['epochs']} epochs, trained twice from the same weights: L2 with λ = {num(l2['lambda'])} reached "
        f"{num(100 * l2['validation_accuracy'])}% validation accuracy, L1-prox with λ = {num(prox['lambda'])} "
        f"{num(100 * prox['validation_accuracy'])}%.",
        f"Border pixels (the outer {r['border_width']} rows and columns, {B} of {P}): L1-prox set the whole "
        f"first-layer column of {prox['zero_border']} of them exactly to 0 ({pct(prox['zero_border'], B)}); L2 "
        f"{l2['zero_border']} ({pct(l2['zero_border'], B)}), its smallest border column norm being "
        f"{num(l2['min_border_norm'])}.",
        f"Of the {D} pixels that are 0 in every training image (their data gradient is exactly 0, so only the "
        f"penalty moves their weights; {r['dead_in_border']} of them on the border), L1-prox zeroed "
        f"{prox['zero_dead']}, L2 {l2['zero_dead']}"
        + (f" (they shrank geometrically, to a smallest column norm of {num(l2['min_dead_norm'])}, but never to 0)"
           if l2["zero_dead"] == 0 and l2["min_dead_norm"] is not None else "") + ".",
        f"In all, L1-prox dropped {prox['zero_columns']} of the {P} pixels of the {side}×{side} image "
        f"({prox['zero_interior']} of them interior pixels) and {pct(prox['zero_weights'], P * r['sizes'][1])} "
        f"of the first layer's weights; L2 dropped {l2['zero_columns']} pixels and "
        f"{pct(l2['zero_weights'], P * r['sizes'][1])} of the weights.",
    ]


def figures_mnist(r: dict) -> dict[str, Figure]:
    side = r["data"]["side"]
    fig = Figure(figsize=(10, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    positive = [x for m in r["models"] for x in m["column_norm"] if x > 0]
    norm = LogNorm(vmin=max(min(positive), 1e-4), vmax=max(positive))
    for ax, m in zip(axes, r["models"]):
        img = np.ma.masked_equal(np.array(m["column_norm"]).reshape(side, side), 0.0)
        im = ax.imshow(img, norm=norm, cmap=colormaps["viridis"].with_extremes(bad="white"))
        w = r["border_width"]
        ax.add_patch(Rectangle((w - 0.5, w - 0.5), side - 2 * w, side - 2 * w, fill=False, ec="red", lw=1, ls="--"))
        ax.set_title(f"{m['name']}, λ = {num(m['lambda'])}: {m['zero_columns']} pixels exactly 0 (white)", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, label="‖W[:, pixel]‖ of the first layer", shrink=0.85)
    fig.suptitle("First-layer weight norm per input pixel (dashed: inside the border)")
    return {"pixel_weight_norms": fig}


PARTS = (
    Part("synthetic", "Synthetic features: exact zeros under L2, L1 by subgradient and L1 by prox", measure_synthetic,
         findings_synthetic, tables_synthetic, figures_synthetic),
    Part("mnist", "MNIST: which input pixels the first layer keeps", measure_mnist, findings_mnist,
         figures=figures_mnist),
)
