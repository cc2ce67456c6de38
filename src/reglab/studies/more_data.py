r"""more-data-vs-regularization: the book's question — when does more training data beat any choice of λ?

Chapter 3 of Nielsen's book trains its ``[784, 30, 10]`` sigmoid network on 1,000 and on 50,000 MNIST images and
concludes that "more training data can sometimes compensate for differences in the machine learning algorithm";
it then expands the training data by shifting each image one pixel up, down, left and right.

Here, for each training-set size ``n`` (the first ``n`` MNIST images), four arms train with the same number of
presentations of an image (the book's experiment K keeps this fixed too): no regularization; L2 with ``λ``
chosen on the validation set from a grid (``λ/n`` fixed across sizes, as the book keeps ``ηλ/n``); the book's
expanded data (the ``n`` images and their four one-pixel shifts, :func:`reglab.data.augment.expand_shifts`, ``5n``
images) without regularization; and the expanded data with L2 (``λ`` chosen again, ``n`` in ``λ/2n`` being ``5n``).
The test accuracy of each arm at each size answers: at which size does an unregularized network on more real
images beat the best λ on fewer, and how much of that do five shifted copies recover?
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from reglab.data.augment import expand_shifts, image_side
from reglab.engine.data import TensorSplit
from reglab.experiments import Claim, ClaimRow, Part, Table, claim_row, num
from reglab.rng import seed_for
from reglab.studies import data as study_data
from reglab.studies.training import Arm, Recipe, mean_sd, train_arms

NAME = "more-data-vs-regularization"
QUESTION = "When does more training data beat any choice of λ, and how much of it do shifted copies of the images give?"

@dataclass(frozen=True)
class Settings:
    """Training-set sizes, presentations of an image per arm, seeds, and the λ grid as λ/n."""

    sizes: tuple[int, ...]
    presentations: int
    seeds: int
    l2: tuple[float, ...]


QUICK = Settings(sizes=(1000, 5000), presentations=100_000, seeds=1, l2=(1e-4, 5e-4))
FULL = Settings(sizes=(1000, 5000, 10_000, 50_000), presentations=1_500_000, seeds=2, l2=(2e-5, 1e-4, 5e-4))
HIDDEN, ETA, BATCH = 30, 0.5, 10
ARMS = ("none", "L2", "expanded", "expanded + L2")


def _grid(n: int, s: Settings) -> list[Arm]:
    return [Arm("none")] + [Arm(f"L2 λ={num(wd * n)}", l2=wd * n) for wd in s.l2]


def _choose(scored: dict, arms: list[Arm]) -> dict:
    """The unregularized arm, and the λ with the best mean validation accuracy."""
    best = 1 + int(np.argmax(scored["validation"][1:].mean(axis=1)))
    pick = {"none": 0, "L2": best}
    return {name: {"setting": arms[i].name, "lmbda": arms[i].l2, "test": scored["test"][i].tolist(),
                   "validation": scored["validation"][i].tolist(), "train": scored["train"][i].tolist()}
            for name, i in pick.items()}


def measure_sizes(quick: bool, seed: int) -> dict:
    """Test accuracy of the four arms at every size, each with the same number of presentations."""
    s = QUICK if quick else FULL
    seeds = [seed_for(seed, NAME, k) for k in range(s.seeds)]
    runs = []
    info: dict = {}
    d = 0
    for n in s.sizes:
        data, info = study_data.load(n)
        n_real, d = len(data.train), data.train.X.shape[1]
        score = {"train": data.train, "validation": data.require("validation"), "test": data.require("test")}
        plain = Recipe((d, HIDDEN, 10), "sigmoid", "cross-entropy", "large", ETA, 0.0, BATCH,
                       max(1, math.ceil(s.presentations / n_real)))
        arms = _grid(n_real, s)
        chosen = _choose(train_arms(data.train, score, data.n_classes, plain, arms, seeds), arms)
        X5, y5 = expand_shifts(data.train.X.numpy(), data.train.y.numpy(), image_side(d))
        expanded = TensorSplit.from_arrays(X5, y5, data.n_classes, "cpu", data.train.X.dtype)
        recipe5 = Recipe(plain.sizes, plain.activation, plain.cost, plain.init, ETA, 0.0, BATCH,
                         max(1, math.ceil(s.presentations / (5 * n_real))))
        arms5 = _grid(5 * n_real, s)
        chosen5 = _choose(train_arms(expanded, score, data.n_classes, recipe5, arms5, seeds), arms5)
        runs.append({"n": n_real, "epochs": plain.epochs, "epochs_expanded": recipe5.epochs,
                     "arms": {"none": chosen["none"], "L2": chosen["L2"], "expanded": chosen5["none"],
                              "expanded + L2": chosen5["L2"]}})
    return {"data": info, "sizes": [r["n"] for r in runs], "runs": runs, "presentations": s.presentations,
            "seeds": len(seeds), "network": [d, HIDDEN, 10], "eta": ETA,
            "batch": BATCH, "l2_over_n": list(s.l2)}


def _acc(run: dict, arm: str) -> float:
    return 100 * float(np.mean(run["arms"][arm]["test"]))


def crossings(r: dict) -> list[dict]:
    """For each pair of sizes ``n < m``: the unregularized network on ``m`` images against the best λ on ``n``."""
    out = []
    runs = r["runs"]
    for i, small in enumerate(runs):
        for big in runs[i + 1:]:
            out.append({"n": small["n"], "m": big["n"], "best_l2_small": _acc(small, "L2"), "none_big": _acc(big, "none"),
                        "expanded_small": _acc(small, "expanded")})
    return out


def claims_sizes(r: dict) -> list[ClaimRow]:
    first, second = r["runs"][0], r["runs"][1]
    gain_data = [100 * (a - b) for a, b in zip(second["arms"]["none"]["test"], first["arms"]["L2"]["test"])]
    gain_expand = [100 * (a - b) for a, b in zip(first["arms"]["expanded"]["test"], first["arms"]["none"]["test"])]
    return [
        claim_row(Claim(f"{second['n']:,} vs {first['n']:,} images",
                        f"test accuracy, no regularization on {second['n']:,} minus the best λ on {first['n']:,}", None,
                        None, "more training data can compensate for the algorithm (ch. 3)", ">", 0.0, unit="points"),
                  gain_data, experiment="book"),
        claim_row(Claim(f"{first['n']:,} images", "test accuracy, expanded minus not expanded (no regularization)", None,
                        None, "expanding the data by shifts helps (ch. 3)", ">", 0.0, unit="points"),
                  gain_expand, experiment="book"),
    ]


def findings_sizes(r: dict) -> list[str]:
    out = [study_data.describe(r["data"]),
           f"[{', '.join(map(str, r['network']))}] sigmoid, cross-entropy, η = {num(r['eta'])}, mini-batch {r['batch']}, "
           f"{r['presentations']:,} presentations of an image at every size, {r['seeds']} seed(s); λ chosen on the "
           f"validation set from λ/n ∈ {{{', '.join(num(x) for x in r['l2_over_n'])}}}."]
    for run in r["runs"]:
        out.append(f"n = {run['n']:,}: test accuracy {num(_acc(run, 'none'))}% without regularization, "
                   f"{num(_acc(run, 'L2'))}% with the best λ ({run['arms']['L2']['setting']}), "
                   f"{num(_acc(run, 'expanded'))}% on the expanded {5 * run['n']:,} images, "
                   f"{num(_acc(run, 'expanded + L2'))}% expanded with L2.")
    beaten = [c for c in crossings(r) if c["none_big"] > c["best_l2_small"]]
    if beaten:
        c = min(beaten, key=lambda c: (c["n"], c["m"]))
        out.append(f"More data beats any λ: without regularization, {c['m']:,} images give {num(c['none_big'])}%, more "
                   f"than the best λ on {c['n']:,} images ({num(c['best_l2_small'])}%); the expanded {c['n']:,} images "
                   f"give {num(c['expanded_small'])}%.")
    else:
        c = crossings(r)[-1]
        out.append(f"At no pair of sizes measured did the unregularized network on more images beat the best λ on fewer: "
                   f"{c['m']:,} images without regularization give {num(c['none_big'])}%, the best λ on {c['n']:,} "
                   f"images {num(c['best_l2_small'])}%.")
    return out


def tables_sizes(r: dict) -> list[Table]:
    rows = tuple((f"{run['n']:,}", run["epochs"], *(f"{num(m)} ± {num(sd)}" for m, sd in
                                                    (mean_sd(100 * np.array(run["arms"][a]["test"])) for a in ARMS)),
                  run["arms"]["L2"]["setting"], run["arms"]["expanded + L2"]["setting"]) for run in r["runs"])
    return [Table("Test accuracy (%) against the size of the training set",
                  ("training images", "epochs", *ARMS, "λ chosen", "λ chosen (expanded)"), rows,
                  note="The expanded arms train on 5n images for a fifth of the epochs: the same presentations.")]


def figures_sizes(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for k, arm in enumerate(ARMS):
        ax.plot(r["sizes"], [_acc(run, arm) for run in r["runs"]], "o-" if "expanded" not in arm else "s--",
                color=f"C{k}", label=arm)
    ax.set_xscale("log")
    ax.set_xlabel("training images (before expansion)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)
    fig.suptitle("More data against regularization: [784, 30, 10] on MNIST")
    return {"more_data": fig}


PARTS = (
    Part("sizes", "Test accuracy against the training-set size: no regularization, best λ, expanded data",
         measure_sizes, findings_sizes, tables_sizes, figures_sizes, claims_sizes),
)
