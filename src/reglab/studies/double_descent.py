r"""double-descent: does an optimally tuned λ remove the peak of test error at the interpolation threshold?

Nakkiran, Venkat, Kakade & Ma (*Optimal Regularization Can Mitigate Double Descent*, ICLR 2021) show that
test error, which can *rise* and fall again as a model grows past the point where it just fits its
training data (the interpolation threshold), follows a monotone curve when the ridge penalty is tuned
for each size. Measured here on a subset of MNIST whose training labels are 20% wrong (each chosen label
replaced by one of the other nine classes at random: ``reglab train --label-noise 0.2 --seed S`` on the
same images, :func:`reglab.data.noise.corrupt_labels`; validation and test labels are clean), against two axes:

* **width**: networks ``[784, h, 10]`` (ReLU, He initialization, softmax and log-likelihood, SGD with
  momentum) trained long enough to fit their training set where they can, at λ = 0 and at every λ of a
  grid — one batch per width; the "tuned" curve takes, for each width, the λ with the best validation
  accuracy (the test set is never used to choose);
* **random-feature ridge regression** beside them, in closed form: features ``φ(x) = ReLU(W x/√d)``
  with ``W`` fixed Gaussian, ``p`` of them, and ``β = argmin ‖Φβ − Y‖² + λ‖β‖²`` on the one-hot noisy
  labels; at λ = 0 the minimum-norm solution. Its interpolation threshold is ``p = n``;
* **training-set size**: the same random features at a fixed ``p`` against ``n`` (the sample-wise
  peak sits at ``n = p``), and the networks of one width against ``n``.

A *peak* is a width (or size) whose test error at λ = 0 exceeds both neighbours' while its training
error on the noisy labels is at most 10% (near where the model comes to fit them: a small network that
failed to train is no interpolation peak); of these, the one standing highest above the lowest error
to its left is reported, with its height above that minimum; the tuned curve is read at the same place.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from reglab.data.noise import corrupt_labels
from reglab.engine.data import TensorData, TensorSplit
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor, evaluate
from reglab.engine.optim import SGD
from reglab.engine.regularizers import L2
from reglab.engine.threads import torch_threads
from reglab.experiments import Part, Table, num
from reglab.rng import generator, seed_for
from reglab.runs.plots import ordered_colors
from reglab.studies import data as study_data

NAME = "double-descent"
QUESTION = "Does test error peak where a network just fits its noisy training labels, and does a tuned λ remove the peak?"

NOISE, BATCH, ETA, MOMENTUM = 0.2, 10, 0.02, 0.9


def settings(quick: bool) -> dict:
    if quick:
        return {"n": 200, "widths": [2, 4, 8, 16, 32], "epochs": 40, "lmbda": [0.0, 0.1, 1.0, 10.0],
                "seeds": 1, "validation": 1000, "test": 2000, "features": 13, "sizes": [50, 100, 200, 400],
                "size_width": 8, "size_epochs": 30, "rf_p": 200}
    return {"n": 1000, "widths": [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128], "epochs": 150,
            "lmbda": [0.0, 1.0, 3.0, 10.0, 30.0], "seeds": 1, "validation": 2000, "test": 10000,
            "features": 21, "sizes": [250, 500, 1000, 2000], "size_width": 16, "size_epochs": 100, "rf_p": 1000}


def _splits(n: int, s: dict, seed: int) -> tuple[TensorData, dict, np.ndarray]:
    data, info = study_data.load(n)
    K = data.n_classes
    y, noise = corrupt_labels(data.train.y.numpy(), NOISE, K, np.random.default_rng(seed_for(seed, "label-noise")))
    changed = np.zeros(len(y), dtype=bool)
    changed[noise.indices] = True
    train = TensorSplit.from_arrays(data.train.X.numpy(), y, K, "cpu", torch.float32)
    v, t = data.require("validation"), data.require("test")
    val = TensorSplit(v.X[: s["validation"]], v.y[: s["validation"]], v.Y[: s["validation"]])
    test = TensorSplit(t.X[: s["test"]], t.y[: s["test"]], t.Y[: s["test"]])
    info["noisy"] = int(changed.sum())
    return TensorData(train, val, test, K), info, changed


def train_width(data: TensorData, width: int, s: dict, seed: int, epochs: int) -> dict:
    """Every λ × seed of one width as one batch; the final train, validation and test errors per model."""
    lam = [float(v) for v in s["lmbda"] for _ in range(s["seeds"])]
    seeds = [seed + k for _ in s["lmbda"] for k in range(s["seeds"])]
    model = MLP.initialize([data.train.X.shape[1], width, data.n_classes], seeds=seeds, init="he", activation="relu",
                           cost="log-likelihood")
    res = fit(model, data, epochs=epochs, batch_size=BATCH, eta=ETA, regularizer=L2(lam), optimizer=SGD(MOMENTUM),
              order_seeds=[seed], monitor=Monitor(splits=("train",), weights=False, saturation_examples=0))
    out: dict = {"width": width}
    for split in ("train", "validation", "test"):
        sp = data.require(split)
        acc = evaluate(res.model, sp.X, sp.y, sp.Y)[1].numpy()
        out[split] = (1.0 - acc).reshape(len(s["lmbda"]), s["seeds"]).mean(axis=1).tolist()  # (λ,) mean over seeds
    out["diverged"] = sum(e is not None for e in res.state.diverged_epoch)
    out["parameters"] = width * (data.train.X.shape[1] + 1) + (width + 1) * data.n_classes
    return out


def tuned(row: dict) -> dict:
    """The λ of the best validation error (ties: the larger λ) and its test error."""
    val = np.array(row["validation"])
    j = int(max(np.flatnonzero(val == val.min())))
    return {"index": j, "test": row["test"][j], "validation": row["validation"][j]}


#: A peak must lie where the model (nearly) fits its noisy training labels: training error at most this.
FITS = 0.10


def peak(x: list, err: list[float], train: list[float]) -> dict | None:
    """The interior local maximum of ``err`` standing highest above the lowest error to its left, among the points
    whose training error is at most :data:`FITS` (a small model that failed to train is no interpolation peak);
    ``None`` if there is none."""
    best = None
    for i in range(1, len(err) - 1):
        if err[i] > err[i - 1] and err[i] > err[i + 1] and train[i] <= FITS:
            left = min(err[:i])
            if best is None or err[i] - left > best["height"]:
                best = {"at": x[i], "index": i, "error": err[i], "left_min": left, "height": err[i] - left}
    return best


def _read(x: list, rows: list[dict]) -> dict:
    """The peak at λ = 0 and what the tuned curve does there (``rows``: each with ``test``, ``train``, ``tuned``)."""
    zero, best = [r["test"][0] for r in rows], [r["tuned"]["test"] for r in rows]
    p = peak(x, zero, [r["train"][0] for r in rows])
    out: dict = {"peak": p, "threshold": next((a for a, r in zip(x, rows) if r["train"][0] <= 0.01), None)}
    if p is not None:
        i = p["index"]
        out["tuned_at_peak"] = best[i]
        out["tuned_height"] = best[i] - min(best[: i + 1])
    out["tuned_peak"] = peak(x, best, [r["train"][r["tuned"]["index"]] for r in rows])
    out["tuned_monotone"] = bool(all(b <= a + 1e-12 for a, b in zip(best, best[1:])))
    return out


def measure_width(quick: bool, seed: int) -> dict:
    """Test error against hidden width at λ = 0 and at the λ chosen on validation."""
    s = settings(quick)
    data, info, _ = _splits(s["n"], s, seed)
    with torch_threads(1):
        rows = [train_width(data, h, s, seed, s["epochs"]) for h in s["widths"]]
    for row in rows:
        row["tuned"] = tuned(row)
    return {"data": info, "settings": s, "noise": NOISE, "eta": ETA, "momentum": MOMENTUM, "batch": BATCH,
            "rows": rows, "reading": _read(s["widths"], rows)}


def rf_features(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``ReLU(X Wᵀ/√d)``: (N, p) random features of ``X`` (N, d) with ``W`` (p, d)."""
    return torch.relu(X @ W.T / np.sqrt(X.shape[1]))


def ridge_solutions(F: torch.Tensor, Y: torch.Tensor, lmbdas: list[float]) -> list[torch.Tensor]:
    """``β = argmin ‖Fβ − Y‖² + λ‖β‖²`` for every λ, in closed form: ``Fᵀ(FFᵀ + λI)⁻¹Y`` when ``p ≥ n``,
    ``(FᵀF + λI)⁻¹FᵀY`` otherwise (the smaller system); λ = 0: the minimum-norm least-squares solution."""
    n, p = F.shape
    gram = F @ F.T if p >= n else F.T @ F
    eye = torch.eye(gram.shape[0], dtype=F.dtype)
    betas = []
    for lam in lmbdas:
        if lam == 0.0:
            betas.append(torch.linalg.lstsq(F, Y, driver="gelsd").solution)
        elif p >= n:
            betas.append(F.T @ torch.linalg.solve(gram + lam * eye, Y))
        else:
            betas.append(torch.linalg.solve(gram + lam * eye, F.T @ Y))
    return betas


def rf_errors(Xtr, Ytr, evals: dict, W, lmbdas: list[float]) -> dict[str, list[float]]:
    """Random-feature ridge (:func:`ridge_solutions`) for every λ; the error on each split of ``evals``."""
    betas = ridge_solutions(rf_features(Xtr, W), Ytr, lmbdas)
    B = torch.cat(betas, dim=1)  # (p, len(λ)·K)
    K = Ytr.shape[1]
    out: dict[str, list[float]] = {}
    for k, (X, y) in evals.items():
        wrong = torch.zeros(len(lmbdas), dtype=torch.int64)
        for i in range(0, X.shape[0], 2000):  # the features of 2,000 rows at a time, for every λ at once
            scores = (rf_features(X[i : i + 2000], W) @ B).view(-1, len(lmbdas), K)
            wrong += scores.argmax(dim=2).ne(y[i : i + 2000, None]).sum(dim=0)
        out[k] = (wrong.double() / X.shape[0]).tolist()
    return out


def _rf_curve(data: TensorData, ps: list[int], lmbdas: list[float], seed: int, n: int | None = None) -> list[dict]:
    Xtr, Ytr = data.train.X.double(), data.train.Y.double()
    if n is not None:
        Xtr, Ytr = Xtr[:n], Ytr[:n]
    evals = {k: (data.require(k).X.double(), data.require(k).y) for k in ("train", "validation", "test")}
    evals["train"] = (Xtr, Ytr.argmax(dim=1))  # error on the (noisy) labels it was fitted to
    rows = []
    for p in ps:
        W = torch.randn(p, Xtr.shape[1], generator=generator(seed, "random-features", p), dtype=torch.float64)
        errs = rf_errors(Xtr, Ytr, evals, W, lmbdas)
        row = {"p": p, **errs}
        row["tuned"] = tuned(row)
        rows.append(row)
    return rows


RF_LAMBDA = [0.0, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0]


def measure_random_features(quick: bool, seed: int) -> dict:
    """Random-feature ridge regression against the number of features p, at λ = 0 and tuned."""
    s = settings(quick)
    data, info, _ = _splits(s["n"], s, seed)
    n = s["n"]
    ps = sorted({int(round(v)) for v in np.geomspace(n / 10, 10 * n, s["features"])} | {n})
    with torch_threads(1):
        rows = _rf_curve(data, ps, RF_LAMBDA, seed)
    return {"data": info, "n": n, "lmbda": RF_LAMBDA, "rows": rows, "reading": _read(ps, rows)}


def measure_size(quick: bool, seed: int) -> dict:
    """Test error against training-set size: random features at a fixed p, and networks of one width."""
    s = settings(quick)
    top = max(s["sizes"])
    data, info, _ = _splits(top, s, seed)
    with torch_threads(1):
        rf = []
        for n in s["sizes"]:
            (row,) = _rf_curve(data, [s["rf_p"]], RF_LAMBDA, seed, n=n)
            rf.append({"n": n, **row})
        nets = []
        for n in s["sizes"]:
            sub = TensorData(TensorSplit(data.train.X[:n], data.train.y[:n], data.train.Y[:n]), data.validation, data.test,
                             data.n_classes)
            row = train_width(sub, s["size_width"], s, seed, s["size_epochs"])
            row["n"] = n
            row["tuned"] = tuned(row)
            nets.append(row)
    x = list(s["sizes"])
    return {"data": info, "p": s["rf_p"], "width": s["size_width"], "lmbda": RF_LAMBDA, "net_lmbda": s["lmbda"],
            "random_features": rf, "networks": nets,
            "reading_rf": _read(x, rf), "reading_nets": _read(x, nets)}


# -- the report ----------------------------------------------------------------------------------------------
def _peak_sentence(what: str, unit: str, reading: dict) -> str:
    p = reading["peak"]
    if p is None:
        return f"{what}: at λ = 0 the test error has no interior peak over the {unit}s measured."
    tuned_peak = reading["tuned_peak"]
    after = ("the tuned curve never rises as the " + unit + " grows" if reading["tuned_monotone"] else
             f"the tuned curve still has a bump of {num(100 * tuned_peak['height'])} points at {unit} {tuned_peak['at']}"
             if tuned_peak else "the tuned curve has no interior peak")
    return (f"{what}: at λ = 0 the test error peaks at {unit} {p['at']}, at {num(100 * p['error'])}%, "
            f"{num(100 * p['height'])} points above the lowest error at smaller {unit}s; with λ tuned on validation the "
            f"error there is {num(100 * reading['tuned_at_peak'])}% ({num(100 * reading['tuned_height'])} points above "
            f"the tuned minimum to its left), and {after}.")


def findings_width(r: dict) -> list[str]:
    s = r["settings"]
    fit_at = r["reading"]["threshold"]
    out = [study_data.describe(r["data"]),
           f"{r['data']['noisy']} of the {s['n']:,} training labels ({num(100 * r['noise'])}%) were replaced by a wrong "
           f"class. Networks [784, h, 10] with h from {s['widths'][0]} to {s['widths'][-1]}, {s['epochs']} epochs of SGD "
           f"(η = {r['eta']}, momentum {r['momentum']}, mini-batch {r['batch']}), λ ∈ {s['lmbda']} (book units), "
           f"{s['seeds']} seed(s) each; test error on {s['test']:,} clean test images.",
           (f"At λ = 0 the networks fit their noisy training labels (≤ 1% training error) from width {fit_at} on."
            if fit_at is not None else "At λ = 0 no width fit its noisy training labels to 1% training error in the "
            "epochs given."),
           _peak_sentence("Against width", "width", r["reading"])]
    gain = [100 * (row["test"][0] - row["tuned"]["test"]) for row in r["rows"]]
    best = min(r["rows"], key=lambda row: row["tuned"]["test"])
    rise = f" (it rose by up to {num(-min(gain))} points at some width)" if min(gain) < 0 else ""
    out.append(f"Tuning λ on validation lowered the test error by {num(max(min(gain), 0.0))} to {num(max(gain))} points "
               f"across the widths{rise}; the lowest tuned test error, {num(100 * best['tuned']['test'])}%, is at width "
               f"{best['width']} with λ = {s['lmbda'][best['tuned']['index']]:g}.")
    stuck = [row["width"] for row in r["rows"] if min(row["train"]) >= 0.8]
    if stuck:
        out.append(f"Width {', '.join(map(str, stuck))}: training error at least 80% at every λ — these networks did not "
                   f"train, and cannot be a peak.")
    return out


def tables_width(r: dict) -> list[Table]:
    lam = r["settings"]["lmbda"]
    rows = tuple((row["width"], row["parameters"], 100 * row["train"][0], 100 * row["test"][0], lam[row["tuned"]["index"]],
                  100 * row["tuned"]["test"]) for row in r["rows"])
    return [Table("Networks against width", ("hidden width", "parameters", "train error % (λ = 0, noisy labels)",
                                             "test error % (λ = 0)", "λ chosen on validation", "test error % (tuned)"),
                  rows)]


def figures_width(r: dict) -> dict[str, Figure]:
    return {"double_descent_width": _curves_figure(
        [row["width"] for row in r["rows"]], r["rows"], r["settings"]["lmbda"], "hidden width h",
        f"networks on {r['settings']['n']:,} MNIST images, {num(100 * r['noise'])}% of labels wrong")}


def _curves_figure(x: list, rows: list[dict], lmbda: list[float], xlabel: str, title: str) -> Figure:
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax, ax_train = fig.subplots(1, 2)
    colors = ordered_colors(lmbda)  # λ is ordered: a sequential map
    for j, lam in enumerate(lmbda):
        ax.plot(x, [100 * r["test"][j] for r in rows], "-", color=colors[j], alpha=0.45, lw=1, label=f"λ = {lam:g}")
        ax_train.plot(x, [100 * r["train"][j] for r in rows], "-", color=colors[j], alpha=0.6, lw=1, label=f"λ = {lam:g}")
    ax.plot(x, [100 * r["test"][0] for r in rows], "o-", color=colors[0], lw=2, label="λ = 0")
    ax.plot(x, [100 * r["tuned"]["test"] for r in rows], "s-", color="k", lw=2, label="λ tuned on validation")
    ax.set(xscale="log", xlabel=xlabel, ylabel="test error (%)", title="test error (clean labels)")
    ax_train.set(xscale="log", xlabel=xlabel, ylabel="training error (%)", title="training error (on the noisy labels)")
    for a in (ax, ax_train):
        a.grid(alpha=0.3, which="both")
        a.legend(fontsize=7, ncol=2)
    fig.suptitle(title)
    return fig


def findings_random_features(r: dict) -> list[str]:
    n = r["n"]
    return [f"Random features ReLU(Wx/√d), W fixed Gaussian, ridge in closed form on the same {n:,} noisy labels "
            f"(λ = 0: minimum norm), p from {r['rows'][0]['p']} to {r['rows'][-1]['p']}; λ chosen on validation from "
            f"{r['lmbda']}. The interpolation threshold is p = n = {n:,}.",
            _peak_sentence("Against the number of features", "p", r["reading"])]


def tables_random_features(r: dict) -> list[Table]:
    rows = tuple((row["p"], 100 * row["train"][0], 100 * row["test"][0], r["lmbda"][row["tuned"]["index"]],
                  100 * row["tuned"]["test"]) for row in r["rows"])
    return [Table("Random-feature ridge regression against p", ("features p", "train error % (λ = 0)",
                                                                 "test error % (λ = 0)", "λ chosen on validation",
                                                                 "test error % (tuned)"), rows)]


def figures_random_features(r: dict) -> dict[str, Figure]:
    return {"double_descent_random_features": _curves_figure(
        [row["p"] for row in r["rows"]], r["rows"], r["lmbda"], "random features p",
        f"random-feature ridge on {r['n']:,} images (threshold p = n)")}


def findings_size(r: dict) -> list[str]:
    return [f"Against the training-set size, the same noisy labels (the first n of them): random-feature ridge at "
            f"p = {r['p']:,} (its threshold is n = p) and networks of width {r['width']}.",
            _peak_sentence("Random features against n", "n", r["reading_rf"]),
            _peak_sentence("Networks against n", "n", r["reading_nets"])]


def tables_size(r: dict) -> list[Table]:
    rows = tuple((a["n"], 100 * a["test"][0], 100 * a["tuned"]["test"], 100 * b["test"][0], 100 * b["tuned"]["test"])
                 for a, b in zip(r["random_features"], r["networks"]))
    return [Table("Test error (%) against the training-set size", ("n", f"random features p = {r['p']}, λ = 0",
                                                                   "random features, tuned", f"width {r['width']}, λ = 0",
                                                                   f"width {r['width']}, tuned"), rows)]


def figures_size(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    a, b = fig.subplots(1, 2)
    for ax, rows, title in ((a, r["random_features"], f"random features, p = {r['p']}"),
                            (b, r["networks"], f"networks, width {r['width']}")):
        x = [row["n"] for row in rows]
        ax.plot(x, [100 * row["test"][0] for row in rows], "o-", label="λ = 0")
        ax.plot(x, [100 * row["tuned"]["test"] for row in rows], "s-", color="k", label="λ tuned on validation")
        ax.set(xscale="log", xlabel="training-set size n", ylabel="test error (%)", title=title)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("sample-wise: test error against the training-set size")
    return {"double_descent_size": fig}


PARTS = (
    Part("width", "Networks against width", measure_width, findings_width, tables_width, figures_width),
    Part("random_features", "Random-feature ridge regression against the number of features", measure_random_features,
         findings_random_features, tables_random_features, figures_random_features),
    Part("size", "Against the training-set size", measure_size, findings_size, tables_size, figures_size),
)
