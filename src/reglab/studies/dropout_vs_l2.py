r"""dropout-vs-l2: when L2, when dropout? Srivastava et al. 2014's comparison of regularizers, measured again.

Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov, *Dropout: a simple way to prevent neural networks
from overfitting* (JMLR 15, 2014), Table 9: one network (784-1024-1024-2048-10, ReLU) trained on MNIST with
each regularizer, test errors L2 1.62%, L2 + L1 1.60%, max-norm 1.35%, dropout + L2 1.25%, dropout + max-norm
1.05%; and their Figure 10: dropout's gain against the size of the training set (100 … 50,000 images), none
at the smallest sizes.

Here (part ``table9``) a ReLU network with a softmax output is trained on MNIST with eight arms: nothing, L2,
L1, L2 + L1, max-norm, dropout, dropout + L2, dropout + max-norm (dropout: 20% of the pixels, 50% of each hidden
layer's units, as theirs). The strengths (λ of L2 and L1 in the book's units, ``C = C_0 + (λ₂/2n)Σw² +
(λ₁/n)Σ|w|``, and the radius ``c`` of max-norm) are chosen per arm on the validation set from a small grid;
the test error of each arm at its chosen strength is reported as mean ± sd over seeds. All the models of a
seed (every arm and strength) start from the same weights and see the same mini-batches and the same dropout
masks. Part ``size`` trains no regularization and dropout on the first 100, 500, … training images with the
same number of example presentations at every size. The network, its epochs and the grids are smaller than
theirs (the report says by how much), so the numbers cannot match theirs: the question is whether the
*ordering* does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from matplotlib.figure import Figure

from reglab.experiments import Claim, ClaimRow, Part, Table, claim_row, num
from reglab.rng import seed_for
from reglab.studies import data as study_data
from reglab.studies.training import Arm, Recipe, mean_sd, train_arms

NAME = "dropout-vs-l2"
QUESTION = ("When should I use L2 and when dropout: does Srivastava et al.'s ordering of L2, max-norm and dropout "
            "hold, and how does dropout's gain change with the size of the training set?")

#: Srivastava et al. 2014, Table 9: test error (%) on MNIST of 784-1024-1024-2048-10 ReLU networks.
TABLE9 = {"L2": 1.62, "L2 + L1": 1.60, "max-norm": 1.35, "dropout + L2": 1.25, "dropout + max-norm": 1.05}
THEIR_NETWORK = "784-1024-1024-2048-10"
INPUT_RATE, HIDDEN_RATE = 0.2, 0.5

@dataclass(frozen=True)
class Settings:
    """The size of a run: data, network, optimizer, budget, seeds, the grids (λ as λ/n) and part ``size``'s sizes."""

    train: int
    hidden: tuple[int, ...]
    epochs: int
    batch: int
    eta: float
    momentum: float
    seeds: int
    l2: tuple[float, ...]
    l1: tuple[float, ...]
    max_norm: tuple[float, ...]
    sizes: tuple[int, ...]
    presentations: int


QUICK = Settings(train=1000, hidden=(100, 100), epochs=20, batch=10, eta=0.05, momentum=0.0, seeds=2, l2=(2e-3,),
                 l1=(1e-4,), max_norm=(1.5,), sizes=(100, 1000), presentations=20_000)  # one strength each
FULL = Settings(train=10_000, hidden=(800, 800), epochs=20, batch=100, eta=0.1, momentum=0.5, seeds=2, l2=(1e-4, 1e-3),
                l1=(1e-5,), max_norm=(2.0, 3.0), sizes=(100, 500, 1000, 5000, 10_000), presentations=200_000)
#: What FULL leaves out of their protocol to fit a 2-core machine: 50,000 images (FULL uses the first 10,000), their
#: 784-1024-1024-2048-10 network, training to convergence with a decaying learning rate and momentum 0.95.


def _dropout(sizes: tuple[int, ...]) -> tuple[float, ...]:
    return (INPUT_RATE,) + (HIDDEN_RATE,) * (len(sizes) - 2)


def _arms(s: Settings, n: int, sizes: tuple[int, ...]) -> list[tuple[str, Arm]]:
    """(arm name, one setting) for every arm and every strength of its grid (λ grids are given as λ/n)."""
    drop = _dropout(sizes)
    out: list[tuple[str, Arm]] = [("none", Arm("none")), ("dropout", Arm("dropout", dropout=drop))]
    for wd in s.l2:
        out.append(("L2", Arm(f"L2 λ={num(wd * n)}", l2=wd * n)))
        out.append(("dropout + L2", Arm(f"dropout + L2 λ={num(wd * n)}", l2=wd * n, dropout=drop)))
    for wd in s.l1:
        out.append(("L1", Arm(f"L1 λ={num(wd * n)}", l1=wd * n)))
        for wd2 in s.l2:
            out.append(("L2 + L1", Arm(f"L2 λ={num(wd2 * n)} + L1 λ={num(wd * n)}", l2=wd2 * n, l1=wd * n)))
    for c in s.max_norm:
        out.append(("max-norm", Arm(f"max-norm c={num(c)}", max_norm=c)))
        out.append(("dropout + max-norm", Arm(f"dropout + max-norm c={num(c)}", max_norm=c, dropout=drop)))
    return out


ARM_ORDER = ("none", "L2", "L1", "L2 + L1", "max-norm", "dropout", "dropout + L2", "dropout + max-norm")


def _recipe(s: Settings, d: int, epochs: int) -> Recipe:
    return Recipe((d, *s.hidden, 10), "relu", "log-likelihood", "he", s.eta, s.momentum, s.batch, epochs)


def measure_table9(quick: bool, seed: int) -> dict:
    """Every arm at every strength of its grid, for every seed; per arm the strength with the best validation accuracy."""
    s = QUICK if quick else FULL
    data, info = study_data.load(s.train)
    n, d = len(data.train), data.train.X.shape[1]
    recipe = _recipe(s, d, s.epochs)
    settings = _arms(s, n, recipe.sizes)
    seeds = [seed_for(seed, NAME, k) for k in range(s.seeds)]
    scored = train_arms(data.train, {"train": data.train, "validation": data.require("validation"),
                                     "test": data.require("test")}, data.n_classes, recipe, [a for _, a in settings], seeds)
    arms = {}
    for name in ARM_ORDER:
        rows = [i for i, (kind, _) in enumerate(settings) if kind == name]
        best = max(rows, key=lambda i: float(scored["validation"][i].mean()))
        arms[name] = {
            "chosen": settings[best][1].name,
            "grid": [{"setting": settings[i][1].name, "validation": scored["validation"][i].tolist(),
                      "test_error": (100 * (1 - scored["test"][i])).tolist()} for i in rows],
            "train_accuracy": scored["train"][best].tolist(),
            "validation_accuracy": scored["validation"][best].tolist(),
            "test_error": (100 * (1 - scored["test"][best])).tolist(),
            "max_unit_norm": scored["max_unit_norm"][best].tolist(),
            "max_norm": settings[best][1].max_norm if math.isfinite(settings[best][1].max_norm) else None,
        }
    return {"data": info, "sizes": list(recipe.sizes), "epochs": recipe.epochs, "batch": recipe.batch_size,
            "eta": recipe.eta, "momentum": recipe.momentum, "seeds": len(seeds), "dropout": list(_dropout(recipe.sizes)),
            "arms": arms, "models": len(settings) * len(seeds)}


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's τ between two orderings of the same items (+1: the same order, −1: reversed)."""
    pairs = list(combinations(range(len(a)), 2))
    score = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i, j in pairs)
    return float(score / len(pairs))


def _error(r: dict, arm: str) -> np.ndarray:
    return np.array(r["arms"][arm]["test_error"])


def _gap(r: dict, arm: str) -> np.ndarray:
    """Training minus test accuracy, in points, per seed."""
    a = r["arms"][arm]
    return 100 * np.array(a["train_accuracy"]) - (100 - np.array(a["test_error"]))


#: (better arm, worse arm) pairs of Table 9, the better one's error lower in their measurement.
PAIRS = (("dropout + max-norm", "L2"), ("max-norm", "L2"), ("dropout + L2", "L2"), ("dropout + max-norm", "dropout + L2"),
         ("dropout + max-norm", "max-norm"))


def claims_table9(r: dict) -> list[ClaimRow]:
    protocol = (f"their {THEIR_NETWORK} network trained far longer; here [{', '.join(map(str, r['sizes']))}], "
                f"{r['epochs']} epochs on {r['data']['n_train']:,} images")
    rows = []
    for arm, ref in TABLE9.items():
        claim = Claim(arm, "test error", None, ref, f"{ref}%", "±", 0.25, note=protocol)
        rows.append(claim_row(claim, _error(r, arm).tolist(), experiment="Table 9", comparable=False))
    for better, worse in PAIRS:
        ref = TABLE9[worse] - TABLE9[better]
        claim = Claim(f"{better} vs {worse}", f"test error of {worse} minus {better}", None, ref,
                      f"{better} better by {ref:.2f} points", ">", 0.0, unit="points")
        # errors are counts of images in percent: round away the float noise of their difference, so that
        # two arms that misclassify as many images tie (0, not 9e-16 judged "better")
        rows.append(claim_row(claim, np.round(_error(r, worse) - _error(r, better), 9).tolist(), experiment="Table 9"))
    names = list(TABLE9)
    taus = [kendall_tau([TABLE9[a] for a in names], [r["arms"][a]["test_error"][k] for a in names]) for k in range(r["seeds"])]
    rows.append(claim_row(Claim("the five arms of Table 9", "Kendall τ of the test errors' order with theirs", None, 1.0,
                                "the order L2, L2 + L1, max-norm, dropout + L2, dropout + max-norm", ">", 0.0, unit=""),
                          taus, experiment="Table 9", note="τ = 1: the same order; 0: unrelated"))
    rows.append(claim_row(Claim("dropout vs none", "training − test accuracy of none minus that of dropout", None, None,
                                "dropout reduces overfitting (§1)", ">", 0.0, unit="points"),
                          (_gap(r, "none") - _gap(r, "dropout")).tolist(), experiment="§1"))
    return rows


def findings_table9(r: dict) -> list[str]:
    errors = {a: mean_sd(_error(r, a)) for a in ARM_ORDER}
    ranked = sorted(ARM_ORDER, key=lambda a: errors[a][0])
    names = list(TABLE9)
    ours = sorted(names, key=lambda a: errors[a][0])
    theirs = sorted(names, key=lambda a: TABLE9[a])
    tau = kendall_tau([TABLE9[a] for a in names], [errors[a][0] for a in names])
    mn = r["arms"]["max-norm"]
    out = [
        study_data.describe(r["data"]),
        f"[{', '.join(map(str, r['sizes']))}] ReLU, softmax, {r['epochs']} epochs, mini-batch {r['batch']}, η = "
        f"{num(r['eta'])}, momentum {num(r['momentum'])}, {r['seeds']} seeds, {r['models']} models trained together; "
        f"test error from best to worst: " + "; ".join(f"{a} {num(errors[a][0])}% ± {num(errors[a][1])}" for a in ranked) + ".",
        f"Of the five arms of Srivastava et al.'s Table 9, the order here is {', '.join(ours)} (best first); theirs is "
        f"{', '.join(theirs)}: Kendall's τ between the two orders = {num(tau)} on the mean errors"
        + (" — the same order." if tau == 1 else "."),
        f"The protocol is not theirs: Table 9 comes from a {THEIR_NETWORK} network trained on the whole training set "
        f"for far more epochs, with its hyper-parameters tuned; here [{', '.join(map(str, r['sizes']))}] on "
        f"{r['data']['n_train']:,} images for {r['epochs']} epochs, each strength chosen from a grid of at most "
        f"{max(len(a['grid']) for a in r['arms'].values())} on the validation set. The errors cannot match; the order may.",
        f"Dropout against no regularization: the gap between training and test accuracy is "
        f"{num(float(np.mean(_gap(r, 'none'))))} points without it and {num(float(np.mean(_gap(r, 'dropout'))))} with it.",
        f"Max-norm (chosen: {mn['chosen']}) kept every unit's incoming weights within the radius: the largest norm at the "
        f"end is {num(max(mn['max_unit_norm']))}.",
    ]
    return out


def tables_table9(r: dict) -> list[Table]:
    rows = []
    for a in ARM_ORDER:
        arm = r["arms"][a]
        err, sd = mean_sd(arm["test_error"])
        rows.append((a, arm["chosen"], 100 * float(np.mean(arm["train_accuracy"])),
                     100 * float(np.mean(arm["validation_accuracy"])), f"{num(err)} ± {num(sd)}",
                     f"{TABLE9[a]}" if a in TABLE9 else "—"))
    grid = tuple((a, g["setting"], 100 * float(np.mean(g["validation"])), float(np.mean(g["test_error"])))
                 for a in ARM_ORDER for g in r["arms"][a]["grid"])
    return [Table("Each arm at the strength chosen on the validation set (mean over seeds)",
                  ("arm", "chosen", "training accuracy %", "validation accuracy %", "test error % (± sd)",
                   f"Table 9 ({THEIR_NETWORK})"), tuple(rows)),
            Table("Every strength tried", ("arm", "setting", "validation accuracy %", "test error %"), grid)]


def figures_table9(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(ARM_ORDER))
    means = [mean_sd(_error(r, a)) for a in ARM_ORDER]
    ax.bar(x - 0.2, [m for m, _ in means], 0.4, yerr=[s for _, s in means], capsize=3, label="measured here")
    ax.bar(x + 0.2, [TABLE9.get(a, np.nan) for a in ARM_ORDER], 0.4, label=f"Table 9 ({THEIR_NETWORK})")
    ax.set_xticks(x, ARM_ORDER, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("test error (%)")
    ax.legend(fontsize=8)
    fig.suptitle("Test error of each regularizer, beside Srivastava et al.'s Table 9")
    return {"table9_errors": fig}


def measure_size(quick: bool, seed: int) -> dict:
    """No regularization and dropout on the first n training images, the same number of presentations for every n."""
    s = QUICK if quick else FULL
    seeds = [seed_for(seed, NAME, "size", k) for k in range(s.seeds)]
    out = []
    info: dict = {}
    d = 0
    for n in s.sizes:
        data, info = study_data.load(n)
        n_real = len(data.train)
        d = data.train.X.shape[1]
        recipe = _recipe(s, d, max(1, math.ceil(s.presentations / n_real)))
        arms = [Arm("none"), Arm("dropout", dropout=_dropout(recipe.sizes))]
        scored = train_arms(data.train, {"train": data.train, "test": data.require("test")}, data.n_classes, recipe, arms, seeds)
        out.append({"n": n_real, "epochs": recipe.epochs, "test_error": (100 * (1 - scored["test"])).tolist(),
                    "train_accuracy": scored["train"].tolist()})
    return {"data": info, "sizes": [r["n"] for r in out], "runs": out, "presentations": s.presentations,
            "network": [d, *s.hidden, 10], "seeds": len(seeds)}


def _gains(r: dict) -> np.ndarray:
    """Dropout's gain (test error without minus with), points, per size and seed: (sizes, S)."""
    return np.array([np.array(run["test_error"][0]) - np.array(run["test_error"][1]) for run in r["runs"]])


def claims_size(r: dict) -> list[ClaimRow]:
    """Fig. 10: no gain at the smallest size; more gain at the largest than there; with three sizes or more, the
    gain peaks between them (it grows with the data, then declines), judged per seed at the seeds' mean peak."""
    gains = _gains(r)  # (sizes, seeds)
    rows = [
        claim_row(Claim(f"n = {r['sizes'][0]:,}", "dropout's gain in test error at the smallest size", None, None,
                        "no improvement for extremely small data sets (Fig. 10)", "<", 1.0, unit="points"),
                  gains[0].tolist(), experiment="Fig. 10"),
        claim_row(Claim(f"n = {r['sizes'][-1]:,} vs {r['sizes'][0]:,}", "dropout's gain at the largest size minus at the "
                        "smallest", None, None, "dropout helps more with more data (Fig. 10)", ">", 0.0,
                        unit="points"), (gains[-1] - gains[0]).tolist(), experiment="Fig. 10"),
    ]
    peak = int(np.argmax(gains.mean(axis=1)))
    if len(gains) >= 3:
        rows.append(claim_row(Claim(f"n = {r['sizes'][peak]:,} (the largest mean gain)", "its gain minus the larger of the "
                                    "gains at the smallest and largest sizes", None, None,
                                    "the gain grows with the data, then declines (Fig. 10)", ">", 0.0, unit="points"),
                              (gains[peak] - np.maximum(gains[0], gains[-1])).tolist(), experiment="Fig. 10"))
    return rows


def findings_size(r: dict) -> list[str]:
    gains = _gains(r).mean(axis=1)
    best = int(np.argmax(gains))
    errors = [(np.mean(run["test_error"][0]), np.mean(run["test_error"][1])) for run in r["runs"]]
    return [
        f"{r['presentations']:,} presentations of an image at every size ({', '.join(f'{x:,}' for x in r['sizes'])} "
        f"training images), {r['seeds']} seeds, network [{', '.join(map(str, r['network']))}].",
        "Test error without and with dropout: " + "; ".join(f"n = {n:,}: {num(a)}% and {num(b)}%"
                                                           for n, (a, b) in zip(r["sizes"], errors)) + ".",
        f"Dropout's gain is {num(gains[0])} points at {r['sizes'][0]:,} images"
        + (", its largest" if best == 0 else f" and largest, {num(gains[best])} points, at {r['sizes'][best]:,}")
        + (f"; at {r['sizes'][-1]:,} it is {num(gains[-1])}." if best != len(gains) - 1 else "."),
    ]


def tables_size(r: dict) -> list[Table]:
    rows = tuple((f"{run['n']:,}", run["epochs"], *(f"{num(m)} ± {num(s)}" for m, s in
                                                    (mean_sd(run["test_error"][0]), mean_sd(run["test_error"][1]))),
                  float(np.mean(_gains(r)[k]))) for k, run in enumerate(r["runs"]))
    return [Table("Test error against the size of the training set", ("training images", "epochs", "none %", "dropout %",
                                                                    "dropout's gain (points)"), rows)]


def figures_size(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for arm, label in ((0, "no regularization"), (1, "dropout")):
        ax1.plot(r["sizes"], [np.mean(run["test_error"][arm]) for run in r["runs"]], "o-", label=label)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("training images")
    ax1.set_ylabel("test error (%)")
    ax1.legend(fontsize=8)
    ax2.plot(r["sizes"], _gains(r).mean(axis=1), "o-", color="C2")
    ax2.axhline(0, color="0.6", lw=0.8)
    ax2.set_xscale("log")
    ax2.set_xlabel("training images")
    ax2.set_ylabel("dropout's gain (points of test error)")
    fig.suptitle("Dropout against the size of the training set (cf. Srivastava et al.'s Fig. 10)")
    return {"size_effect": fig}


PARTS = (
    Part("table9", "Eight regularizers on one network, beside Srivastava et al.'s Table 9", measure_table9,
         findings_table9, tables_table9, figures_table9, claims_table9),
    Part("size", "Dropout's gain against the size of the training set (their Fig. 10)", measure_size, findings_size,
         tables_size, figures_size, claims_size),
)
