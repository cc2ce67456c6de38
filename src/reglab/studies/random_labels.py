r"""random-labels: Zhang et al. 2017's randomization test on MNIST — can the network fit random labels, and does
explicit regularization make it generalize?

Zhang, Bengio, Hardt, Recht and Vinyals, *Understanding deep learning requires rethinking generalization*
(ICLR 2017): networks that generalize well on the true labels also fit labels replaced by random ones, reaching
100% training accuracy; regularizers (weight decay, dropout, data augmentation) "are neither necessary nor by
themselves sufficient" for generalization.

Here a ReLU network is trained on the first ``n`` MNIST images whose labels are corrupted at Zhang et al.'s rate
``p_Z`` ∈ {0, 0.2, 0.5, 0.8, 1}: each label replaced, with probability ``p_Z``, by a class drawn uniformly from all
ten. That is reglab's ``--label-noise p`` (exactly ``⌊p·n + ½⌋`` labels changed, each to a wrong class) at
``p = p_Z·9/10`` (:mod:`reglab.data.noise`); ``p_Z = 1`` is random labels. Five arms: none, L2, dropout, L2 +
dropout, and the book's expansion by one-pixel shifts (the copies keep their image's noisy label). Training
accuracy is measured on the noisy labels the network was given, with the whole network (no dropout); test
accuracy on the true test labels. Every arm and noise level trains with the same number of presentations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from reglab.data.augment import expand_shifts, image_side
from reglab.data.noise import corrupt_labels
from reglab.engine.data import TensorSplit
from reglab.experiments import Claim, ClaimRow, Part, Table, claim_row, num
from reglab.rng import seed_for
from reglab.studies import data as study_data
from reglab.studies.training import Arm, Recipe, train_arms

NAME = "random-labels"
QUESTION = ("Can a network fit MNIST with random labels, and is explicit regularization (L2, dropout, more data) "
            "what makes it generalize on the true ones?")

@dataclass(frozen=True)
class Settings:
    """Training images, hidden width, Zhang et al.'s corruption levels, epochs and seeds."""

    train: int
    hidden: int
    levels: tuple[float, ...]
    epochs: int
    seeds: int


QUICK = Settings(train=500, hidden=128, levels=(0.0, 0.5, 1.0), epochs=60, seeds=1)
FULL = Settings(train=2000, hidden=512, levels=(0.0, 0.2, 0.5, 0.8, 1.0), epochs=80, seeds=2)
ETA, MOMENTUM, BATCH = 0.02, 0.9, 10
L2_OVER_N, RATES = 5e-4, (0.2, 0.5)  # λ/n of the L2 arms; dropout of the input and of the hidden layer
ARMS = ("none", "L2", "dropout", "L2 + dropout", "expanded")


def measure_fit(quick: bool, seed: int) -> dict:
    """Training accuracy on the noisy labels and test accuracy, per noise level, arm and seed."""
    s = QUICK if quick else FULL
    data, info = study_data.load(s.train)
    n, d, K = len(data.train), data.train.X.shape[1], data.n_classes
    seeds = [seed_for(seed, NAME, k) for k in range(s.seeds)]
    recipe = Recipe((d, s.hidden, K), "relu", "log-likelihood", "he", ETA, MOMENTUM, BATCH, s.epochs)
    lmbda = L2_OVER_N * n
    arms = [Arm("none"), Arm("L2", l2=lmbda), Arm("dropout", dropout=RATES), Arm("L2 + dropout", l2=lmbda, dropout=RATES)]
    X, y = data.train.X.numpy(), data.train.y.numpy()
    levels = []
    for k, p_z in enumerate(s.levels):
        noisy, record = corrupt_labels(y, p_z * (K - 1) / K, K, np.random.default_rng(seed_for(seed, NAME, "labels", k)))
        train = TensorSplit.from_arrays(X, noisy, K, "cpu", data.train.X.dtype)
        score = {"train": train, "test": data.require("test")}
        scored = train_arms(train, score, K, recipe, arms, seeds)
        X5, y5 = expand_shifts(X, noisy, image_side(d))
        recipe5 = Recipe(recipe.sizes, recipe.activation, recipe.cost, recipe.init, ETA, MOMENTUM, BATCH,
                         max(1, math.ceil(s.epochs / 5)))
        expanded = train_arms(TensorSplit.from_arrays(X5, y5, K, "cpu", data.train.X.dtype), score, K, recipe5,
                              [Arm("expanded")], seeds)
        levels.append({"p_zhang": p_z, "label_noise": p_z * (K - 1) / K, "changed": len(record.indices), **{
            split: {**{a.name: scored[split][i].tolist() for i, a in enumerate(arms)}, "expanded": expanded[split][0].tolist()}
            for split in ("train", "test")}})
    return {"data": info, "network": list(recipe.sizes), "epochs": recipe.epochs, "eta": ETA, "momentum": MOMENTUM,
            "batch": BATCH, "lmbda": lmbda, "dropout": list(RATES), "seeds": len(seeds), "levels": levels,
            "chance": 1.0 / K}


def _pct(level: dict, split: str, arm: str) -> float:
    return 100 * float(np.mean(level[split][arm]))


def _regularization_share(r: dict) -> list[float]:
    """Per seed, at p = 0: 100 · (best regularized test accuracy − none's) / (none's − chance)."""
    first = r["levels"][0]
    none = np.array(first["test"]["none"])
    best = np.max([first["test"][a] for a in ARMS[1:]], axis=0)
    return (100 * (best - none) / (none - r["chance"])).tolist()


def claims_fit(r: dict) -> list[ClaimRow]:
    first, last = r["levels"][0], r["levels"][-1]
    return [
        claim_row(Claim(f"p = {num(last['p_zhang'])}, none", "training accuracy on random labels", None, 100.0,
                        "100% (Fig. 1a)", ">=", 95.0), [100 * v for v in last["train"]["none"]], experiment="Zhang et al."),
        claim_row(Claim(f"p = {num(last['p_zhang'])}, none", "test accuracy", None, 100 * r["chance"],
                        "chance: 10%", "±", 5.0), [100 * v for v in last["test"]["none"]], experiment="Zhang et al."),
        claim_row(Claim(f"p = {num(first['p_zhang'])}", "best regularized arm's test accuracy gain over none, as a share "
                        "of none's own gain over chance", None, None,
                        "not necessary for generalization (Table 1: Inception on CIFAR-10, 85.75% without, 89.05% with "
                        "both: 4.4%)", "<", 15.0), _regularization_share(r), experiment="Zhang et al.",
                  note="most of the generalization happens without explicit regularization"),
    ]


def findings_fit(r: dict) -> list[str]:
    first, last = r["levels"][0], r["levels"][-1]
    gaps = {a: _pct(first, "train", a) - _pct(first, "test", a) for a in ARMS}
    out = [
        study_data.describe(r["data"]),
        f"[{', '.join(map(str, r['network']))}] ReLU, softmax, {r['epochs']} epochs (the expanded arm: the same "
        f"presentations), SGD η = {num(r['eta'])}, momentum {num(r['momentum'])}, mini-batch {r['batch']}; L2 λ = "
        f"{num(r['lmbda'])}, dropout {r['dropout'][0]} of the pixels and {r['dropout'][1]} of the hidden units; "
        f"{r['seeds']} seed(s).",
        f"Random labels (p = {num(last['p_zhang'])}, {last['changed']:,} of {r['data']['n_train']:,} labels wrong): "
        "training accuracy on them " + ", ".join(f"{a} {num(_pct(last, 'train', a))}%" for a in ARMS)
        + f"; test accuracy {num(_pct(last, 'test', 'none'))}% without regularization (chance {num(100 * r['chance'])}%).",
        "True labels (p = 0): test accuracy " + ", ".join(f"{a} {num(_pct(first, 'test', a))}%" for a in ARMS)
        + "; the gap between training and test accuracy " + ", ".join(f"{a} {num(gaps[a])}" for a in ARMS) + " points.",
    ]
    best = max(ARMS[1:], key=lambda a: _pct(first, "test", a))
    gain = _pct(first, "test", best) - _pct(first, "test", "none")
    share = float(np.mean(_regularization_share(r)))
    out.append(f"Without any explicit regularization the network reaches {num(_pct(first, 'test', 'none'))}% on the true "
               f"test labels (chance {num(100 * r['chance'])}%); the best regularizer ({best}) adds {num(gain)} points, "
               f"{num(share)}% of what the network gains over chance by itself: "
               + ("regularization helps, but was not necessary for generalization." if share < 15 else
                  "here regularization accounts for much of the generalization."))
    return out


def tables_fit(r: dict) -> list[Table]:
    rows = tuple((num(level["p_zhang"]), num(level["label_noise"]), level["changed"],
                  *(f"{num(_pct(level, 'train', a))} / {num(_pct(level, 'test', a))}" for a in ARMS))
                 for level in r["levels"])
    return [Table("Training accuracy on the noisy labels / test accuracy (%), per arm",
                  ("Zhang et al.'s p", "--label-noise", "labels changed", *ARMS), rows,
                  note="Training accuracy is measured on the labels the network was trained on, without dropout.")]


def figures_fit(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ps = [level["p_zhang"] for level in r["levels"]]
    for k, arm in enumerate(ARMS):
        ax1.plot(ps, [_pct(level, "train", arm) for level in r["levels"]], "o-", color=f"C{k}", label=arm)
        ax2.plot(ps, [_pct(level, "test", arm) for level in r["levels"]], "o-", color=f"C{k}", label=arm)
    ax1.set_ylabel("training accuracy on the noisy labels (%)")
    ax2.set_ylabel("test accuracy (%)")
    ax2.axhline(100 * r["chance"], color="0.6", ls=":", lw=1)
    for ax in (ax1, ax2):
        ax.set_xlabel("label corruption p (Zhang et al.)")
        ax.legend(fontsize=8)
    fig.suptitle("Fitting random labels: training and test accuracy against label noise")
    return {"random_labels": fig}


PARTS = (
    Part("fit", "Training and test accuracy against label noise, with and without regularization", measure_fit,
         findings_fit, tables_fit, figures_fit, claims_fit),
)
