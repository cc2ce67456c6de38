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


def make_problem(n: int, d: int, k: int, random_state: int, n_test: int = 0) -> tuple[np.ndarray, ...]:
    """Binary classification with the ``k`` informative features first, standardized by the training rows.

    ``make_classification`` draws ``n + n_test`` examples (sorted by class, as ``shuffle=False`` leaves them);
    a random permutation from ``random_state`` picks the ``n`` training ones.  → X (n, d), y (n,), and with
    ``n_test`` also X_test (n_test, d), y_test (n_test,).
    """
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n + n_test, n_features=d, n_informative=k, n_redundant=0, n_repeated=0,
                               n_classes=2, flip_y=0.05, shuffle=False, random_state=random_state)
    order = np.random.default_rng(random_state).permutation(n + n_test)
    train, test = order[:n], order[n:]
    mean, sd = X[train].mean(axis=0), X[train].std(axis=0)
    X, y = (X - mean) / sd, y.astype(np.int64)
    return (X[train], y[train]) + ((X[test], y[test]) if n_test else ())


def lambda_max(X: np.ndarray, y: np.ndarray) -> float:
    """The smallest λ (book units) at which L1 zeroes every weight: ``max_j |Σ_x (ȳ − y_x) x_xj|``."""
    return float(np.abs(X.T @ (y.mean() - y)).max())


def train_logistic(X: np.ndarray, y: np.ndarray, lambdas: list[float], steps: int) -> tuple[dict, float]:
    """Full-batch logistic regression under every regularizer kind, each (kind, λ) a model of one fit.

    The regularizer is ``L2([λ…, 0…, 0…]) + L1([0…, λ…, 0…]) + L1Prox([0…, 0…, λ…])``: each model gets one kind
    (models are independent; training them together changes none of their numbers).
    → ``{kind: (W (J, d), b (J,))}`` and η.
    """
    n, d = X.shape
    J = len(lambdas)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    data = TensorData(TensorSplit(Xt, yt, yt[:, None].double()), None, None, 2)  # one sigmoid output: Y (n, 1)
    eta = 4 * n / np.linalg.norm(np.hstack([X, np.ones((n, 1))]), 2) ** 2  # 1/L
    regularizers = [cls([lm if k == i else 0.0 for k in range(len(KINDS)) for lm in lambdas])
                    for i, cls in enumerate(KINDS.values())]
    model = MLP.initialize([d, 1], seeds=[0] * (len(KINDS) * J), init="default", cost="cross-entropy",
                           dtype=torch.float64)
    fit(model, data, epochs=steps, batch_size=n, eta=eta, regularizer=sum(regularizers[1:], regularizers[0]),
        monitor=Monitor(splits=(), weights=False, saturation_examples=0), threads=1)
    W = model.weights[0][:, 0, :].numpy().copy()  # (3J, d)
    b = model.biases[0][:, 0].numpy().copy()  # (3J,)
    return {kind: (W[i * J:(i + 1) * J], b[i * J:(i + 1) * J]) for i, kind in enumerate(KINDS)}, float(eta)


def accuracy(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Fraction of ``y`` (n,) that ``w·x + b > 0`` predicts.  X (n, d), w (d,)."""
    return float(((X @ w + b > 0) == (y == 1)).mean())


def prune_to(w: np.ndarray, count: int) -> np.ndarray:
    """``w`` (d,) with all but its ``count`` largest ``|w_j|`` set to 0 (ties broken by index)."""
    keep = np.argsort(-np.abs(w), kind="stable")[:count]
    out = np.zeros_like(w)
    out[keep] = w[keep]
    return out


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
    """L2, L1 by subgradient and L1 by prox across λ on synthetic data; the prox selection against scikit-learn,
    and L2's weights pruned to as many as L1-prox keeps, on held-out examples."""
    if quick:
        n, d, k, sets, steps, fractions = 400, 40, 5, 1, 2000, [0.02, 0.05, 0.1, 0.2, 0.4, 0.7]
    else:
        n, d, k, sets, steps, fractions = 1000, 100, 8, 5, 5000, [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.55, 0.7, 0.85]
    out = []
    with torch_threads(1):
        for s in range(sets):
            random_state = seed_for(seed, "feature-selection", s) % 2**31
            X, y, X_test, y_test = make_problem(n, d, k, random_state, n_test=n)
            lmax = lambda_max(X, y)
            lambdas = [f * lmax for f in fractions]
            trained, eta = train_logistic(X, y, lambdas, steps)
            kinds = {}
            for kind, (W, b) in trained.items():
                kinds[kind] = {"w": W.tolist(), "b": b.tolist(), "stats": [describe_weights(w, k) for w in W],
                               "test_accuracy": [accuracy(X_test, y_test, w, c) for w, c in zip(W, b)]}
            reference = np.array([sklearn_l1(X, y, lm, random_state) for lm in lambdas])  # (J, d)
            prox = np.array(kinds["L1 (prox)"]["w"])
            pruned = []  # L2's weights cut to as many as L1-prox kept at the same λ
            for (w2, b2), w1 in zip(zip(*trained["L2"]), prox):
                count = int((w1 != 0).sum())
                cut = prune_to(w2, count)
                chosen, kept = set(np.flatnonzero(cut).tolist()), set(np.flatnonzero(w1).tolist())
                pruned.append({"count": count, "selected": sorted(chosen), "informative": sum(j < k for j in chosen),
                               "overlap": len(chosen & kept), "test_accuracy": accuracy(X_test, y_test, cut, b2),
                               "threshold": float(np.sort(np.abs(w2))[::-1][count - 1]) if count else None})
            out.append({
                "lambda_max": lmax, "lambdas": lambdas, "eta": eta, "kinds": kinds,
                "sklearn_w": reference.tolist(),
                "sklearn_selected": [np.flatnonzero(w).tolist() for w in reference],
                "prox_selected": [np.flatnonzero(w).tolist() for w in prox],
                "max_abs_difference": np.abs(reference - prox).max(axis=1).tolist(),
                "l2_pruned": pruned,
            })
    return {"n": n, "n_test": n, "d": d, "k": k, "steps": steps, "fractions": fractions, "sets": out}


def _headline(ds: dict, k: int) -> int:
    """The λ shown in sentences: the smallest at which L1-prox zeroed every useless weight, else the largest."""
    stats = ds["kinds"]["L1 (prox)"]["stats"]
    useless = len(ds["kinds"]["L2"]["w"][0]) - k
    return next((j for j, s in enumerate(stats) if s["zeros_useless"] == useless), len(stats) - 1)


def zeros_sentence(r: dict) -> str:
    """The headline: which weights each kind set exactly to 0, at the smallest λ where prox dropped every useless one."""
    d, k = r["d"], r["k"]
    ds = r["sets"][0]
    j = _headline(ds, k)
    l2, sub, prox = (ds["kinds"][kind]["stats"][j] for kind in KINDS)
    return (f"At λ = {num(ds['lambdas'][j])}: L1 by prox set {prox['zeros_useless']} of the {d - k} useless weights "
            f"exactly to 0 and kept {k - prox['zeros_informative']} of the {k} informative ones; L1 by subgradient set "
            f"{sub['zeros']} weights exactly to 0 ({sub['small']} below {SMALL:g}); L2 left {d - l2['zeros']} of {d} "
            f"non-zero, the smallest useless |w| being {num(l2['min_useless'])}.")


def headline(results: dict) -> str:
    """The finding ``index.html`` shows for this study."""
    return zeros_sentence(results["synthetic"])


def findings_synthetic(r: dict) -> list[str]:
    n, d, k = r["n"], r["d"], r["k"]
    ds = r["sets"][0]
    j = _headline(ds, k)
    lm = ds["lambdas"][j]
    l2, sub, prox = (ds["kinds"][kind]["stats"][j] for kind in KINDS)
    step = ds["eta"] * lm / n
    out = [
        f"Synthetic data: n = {n} training examples (and {r['n_test']} held out), d = {d} standardized features of "
        f"which the first {k} are informative and {d - k} useless; logistic regression (a [{d}, 1] network, sigmoid "
        f"output, cross-entropy, no hidden layer), {r['steps']} full-batch steps of η = 1/L = {num(ds['eta'])}; "
        f"λ from {num(ds['lambdas'][0])} to {num(ds['lambdas'][-1])} ({num(r['fractions'][0])} to "
        f"{num(r['fractions'][-1])} of λ_max = {num(ds['lambda_max'])}, where every weight is 0).",
        zeros_sentence(r),
        f"The subgradient run takes a fixed step, w ← w − η(∂C₀/∂w + (λ/n) sgn w): a weight near 0 jumps over it "
        f"by up to ηλ/n = {num(step)} every step, so its useless weights hover at a median |w| of "
        f"{num(sub['median_useless'])} instead of settling. That is a property of the fixed-step subgradient "
        f"method, not of L1: the minimizer of the same L1 objective has exact zeros, which the prox step (and "
        f"scikit-learn, below) reach.",
    ]
    totals = {kind: [s["zeros"] for s in ds["kinds"][kind]["stats"]] for kind in KINDS}
    out.append("Exact zeros over the λ grid: " + "; ".join(
        f"{kind}: {min(z)} to {max(z)} of {d}" for kind, z in totals.items()) + ".")
    cut = ds["l2_pruned"][j]
    acc = {kind: ds["kinds"][kind]["test_accuracy"][j] for kind in KINDS}
    kept = k - prox["zeros_informative"]
    same = "as many as" if cut["informative"] == kept else "more than" if cut["informative"] > kept else "fewer than"
    out.append(
        f"Would much smaller weights do the same? Measured: pruning L2's weights at λ = {num(lm)} to the "
        f"{cut['count']} largest |w| (as many as L1-prox kept; |w| ≥ {num(cut['threshold'])}) keeps "
        f"{cut['informative']} of the {k} informative features, {same} L1-prox ({kept}), and {cut['overlap']} of its "
        f"{cut['count']} features are L1-prox's. On the {r['n_test']} held-out examples: L1-prox "
        f"{num(100 * acc['L1 (prox)'])}%, L2 with every weight {num(100 * acc['L2'])}%, L2 pruned "
        f"{num(100 * cut['test_accuracy'])}%. L2 ranks the features by |w|, and here the ranking is "
        + ("about as good as L1's selection" if abs(cut["informative"] - kept) <= 1 else "a different selection")
        + "; what it does not give is where to cut: the count came from L1, which finds it inside its own optimum "
        "as exact zeros, with no threshold to choose.")
    same_sets = [a == b for s in r["sets"] for a, b in zip(s["prox_selected"], s["sklearn_selected"])]
    diff = max(x for s in r["sets"] for x in s["max_abs_difference"])
    out.append(
        f"scikit-learn's LogisticRegression(l1_ratio=1, solver='saga', C = 1/λ) — it minimizes CΣloss + ‖w‖₁, "
        f"which divided by nC is reglab's (1/n)Σloss + (λ/n)‖w‖₁ with λ = 1/C — selected exactly the features "
        f"L1-prox kept in {sum(same_sets)} of {len(same_sets)} fits"
        + (f" ({len(r['sets'])} data sets × {len(ds['lambdas'])} λ)" if len(r["sets"]) > 1 else "")
        + f"; the largest difference between the two coefficient vectors is {num(diff)}.")
    if len(r["sets"]) > 1:
        heads = [(s, _headline(s, k)) for s in r["sets"]]
        kept_all = [k - s["kinds"]["L1 (prox)"]["stats"][h]["zeros_informative"] for s, h in heads]
        pruned_all = [s["l2_pruned"][h]["informative"] for s, h in heads]
        others = sum(st["zeros"] for s in r["sets"] for kind in ("L2", "L1 (subgradient)") for st in s["kinds"][kind]["stats"])
        out.append(f"Over the {len(r['sets'])} data sets, at the smallest λ that zeroed every useless weight, "
                   f"L1-prox kept {min(kept_all)} to {max(kept_all)} of the {k} informative features and L2 pruned to "
                   f"the same count {min(pruned_all)} to {max(pruned_all)}; subgradient L1 and L2 produced {others} "
                   f"exact zeros in all.")
    return out


def tables_synthetic(r: dict) -> list[Table]:
    ds, k = r["sets"][0], r["k"]
    rows = []
    for j, lm in enumerate(ds["lambdas"]):
        zeros = [ds["kinds"][kind]["stats"][j]["zeros"] for kind in KINDS]
        prox = ds["kinds"]["L1 (prox)"]["stats"][j]
        cut = ds["l2_pruned"][j]
        rows.append((num(lm), *zeros, sum(1 for x in ds["sklearn_w"][j] if x == 0),
                     "yes" if ds["sklearn_selected"][j] == ds["prox_selected"][j] else "no",
                     k - prox["zeros_informative"], cut["informative"],
                     *(100 * ds["kinds"][kind]["test_accuracy"][j] for kind in ("L1 (prox)", "L2")),
                     100 * cut["test_accuracy"]))
    return [Table(f"Weights after training, first data set ({r['d']} features, {k} informative)",
                  ("λ", "zeros L2", "zeros L1 subgradient", "zeros L1 prox", "zeros scikit-learn",
                   "same set as L1 prox", "informative kept by L1 prox", "informative in L2 pruned",
                   "held-out % L1 prox", "held-out % L2", "held-out % L2 pruned"), tuple(rows),
                  note=f"L2 pruned: L2's weights with all but the largest |w| set to 0, as many kept as L1 prox keeps "
                       f"at that λ; held-out: accuracy on {r['n_test']} examples not trained on.")]


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
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=4, frameon=False)
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


TOP = 0.1  # the share of a unit's pixels whose |w| is counted in its concentration


def top_share(W: np.ndarray, top: float) -> np.ndarray:
    """Per hidden unit, the share of its Σ|w| that lies on its ``top`` fraction of pixels with the largest |w|.

    W (units, d) → (units,); 1 for a unit that looks at few pixels, ``top`` for weights spread evenly.
    """
    a = np.sort(np.abs(W), axis=1)[:, ::-1]
    k = max(1, int(round(top * W.shape[1])))
    total = a.sum(axis=1)
    return np.divide(a[:, :k].sum(axis=1), total, out=np.zeros(len(W)), where=total > 0)


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
            "unit_nonzero": (W[m] != 0).sum(axis=1).tolist(),  # (30,): input weights of each hidden unit not 0
            "unit_top_share": top_share(W[m], TOP).tolist(),  # (30,)
            "fields": [[float(f"{w:.3g}") for w in unit] for unit in W[m]],  # (30, d): 3 digits, zeros kept exact
        })
    return {
        "data": info, "sizes": [d, HIDDEN, 10], "eta": ETA, "batch": BATCH, "epochs": epochs,
        "pixels": d, "border": int(border.sum()), "border_width": max(1, info["side"] // 14), "dead": int(dead.sum()),
        "dead_in_border": int((dead & border).sum()), "top": TOP, "models": models,
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
        f"Receptive fields of the {r['sizes'][1]} hidden units (figure below): under L1-prox a unit takes input "
        f"from a median of {num(float(np.median(prox['unit_nonzero'])))} pixels (from {min(prox['unit_nonzero'])} to "
        f"{max(prox['unit_nonzero'])}), under L2 from {num(float(np.median(l2['unit_nonzero'])))}; the "
        f"{num(100 * r['top'])}% of a unit's pixels with the largest |w| carry a median "
        f"{num(100 * float(np.median(prox['unit_top_share'])))}% of its Σ|w| under L1-prox against "
        f"{num(100 * float(np.median(l2['unit_top_share'])))}% under L2"
        + (": L1 concentrates each unit on part of the image, L2 spreads it over the whole digit area."
           if np.median(prox["unit_top_share"]) > np.median(l2["unit_top_share"]) else "."),
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
    return {"pixel_weight_norms": fig, "receptive_fields": receptive_fields_figure(r)}


def receptive_fields_figure(r: dict) -> Figure:
    """Each hidden unit's input weights as an image, L2 beside L1-prox; one symmetric colour scale per model."""
    side, units = r["data"]["side"], r["sizes"][1]
    cols = 6
    rows = -(-units // cols)
    fig = Figure(figsize=(12, 1.0 * rows + 1.0), layout="constrained")
    grid = fig.add_gridspec(1, len(r["models"]), wspace=0.04)
    for i, m in enumerate(r["models"]):
        half = fig.add_subfigure(grid[0, i])
        W = np.array(m["fields"])  # (units, d)
        top = float(np.abs(W).max()) or 1.0
        axes = half.subplots(rows, cols)
        for u, ax in enumerate(axes.ravel()):
            ax.set_xticks([])
            ax.set_yticks([])
            if u >= units:
                ax.set_axis_off()
                continue
            im = ax.imshow(np.ma.masked_equal(W[u].reshape(side, side), 0.0), vmin=-top, vmax=top,
                           cmap=colormaps["RdBu_r"].with_extremes(bad="white"))
            ax.set_title(f"{m['unit_nonzero'][u]} px", fontsize=7, pad=2)
        half.colorbar(im, ax=axes, shrink=0.8, label="input weight w (white: exactly 0)")
        half.suptitle(f"{m['name']}, λ = {num(m['lambda'])}", fontsize=10)
    fig.suptitle("Receptive fields: each hidden unit's first-layer weights as an image (title: pixels with w ≠ 0)")
    return fig


PARTS = (
    Part("synthetic", "Synthetic features: exact zeros under L2, L1 by subgradient and L1 by prox", measure_synthetic,
         findings_synthetic, tables_synthetic, figures_synthetic),
    Part("mnist", "MNIST: which input pixels the first layer keeps", measure_mnist, findings_mnist,
         figures=figures_mnist),
)
