r"""``λ_max``, found: the smallest λ at which the network collapses.

glmnet computes its ``λ_max`` in closed form (the smallest λ whose solution is all zeros). A network
has no closed form, so it is measured: candidates two per decade from ``10⁻²`` up to ``1.9·n/η``
(beyond ``2n/η`` plain SGD with L2 diverges: ``|1 − ηλ/n| > 1``) train together as one batch, each
from the initial weights of the path's first seed for the path's ``--path-epochs``, in the order of
the path's first step (exactly what that step does at ``λ_max``); then eight more between the last
candidate that did not collapse and the first that did (steps of 14% in λ). A model has *collapsed*

* for a regularizer that thresholds (L1 by prox, the L1 part of elastic net): when every weight of
  the first layer is exactly 0 — the network ignores its input;
* otherwise: when its validation accuracy is at chance — at most the share of the most frequent class
  in the validation labels (what a constant prediction scores) plus one point.

``λ_max`` is the smallest candidate that collapsed (and did not diverge) above which every candidate
collapsed or diverged. With ``--folds`` the probes train on fold 0 and are validated on its held-out rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from reglab.config import TrainConfig
from reglab.engine.monitors import Monitor
from reglab.engine.regularizers import Param, make_regularizer
from reglab.errors import ReglabError
from reglab.path.batch import Batch, Run
from reglab.rng import seed_for

PER_DECADE, LOWEST, REFINE, MARGIN = 2, 1e-2, 8, 0.01


@dataclass(frozen=True)
class Found:
    """The ``λ_max`` of one regularizer kind: its value, how it was obtained, and the probes that found it."""

    kind: str
    lmbda: float
    how: str
    probes: list[dict] = field(default_factory=list)  # {lmbda, accuracy, first_layer_zeros, diverged, collapsed}
    seconds: float = 0.0

    def summary(self) -> dict:
        return {"kind": self.kind, "lmbda_max": self.lmbda, "how": self.how, "seconds": self.seconds, "probes": self.probes}


def thresholds(kind: str, options: dict) -> bool:
    """Whether ``kind`` sets weights exactly to 0 (a soft-threshold in its elementwise form)."""
    form = make_regularizer(kind, 1.0, options).elementwise(Param(0, "weight", 1))
    return form is not None and bool((form[:, 3] != 0).any())


def candidates(n: int, eta: float) -> np.ndarray:
    """``PER_DECADE`` per decade from ``LOWEST`` to ``1.9·n/η``."""
    top = 1.9 * n / eta
    count = max(2, int(np.ceil(PER_DECADE * np.log10(top / LOWEST))) + 1)
    return np.array([float(f"{v:.12g}") for v in np.geomspace(LOWEST, top, count)])


def _probe(base: TrainConfig, ds, kinds: list[str], lams: dict[str, np.ndarray], epochs: int) -> dict[str, list[dict]]:
    runs = [Run(kind, base.seed, 0 if base.folds else None) for kind in kinds for _ in lams[kind]]
    batch = Batch(base, ds, runs)
    if batch.folds is None and batch.data.validation is None:
        raise ReglabError("finding λ_max needs a validation split (or --folds); give --lmbda-max")
    flat = [float(v) for kind in kinds for v in lams[kind]]
    res = batch.train(flat, epochs, seed_for(base.seed, "path", 0), Monitor(splits=("validation",), saturation_examples=0))
    h = res.history
    acc, zeros = h.get("validation_accuracy")[-1], h.get("zeros", 0)[-1]
    size = batch.model.weights[0][0].numel()
    out: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for m, (r, lam) in enumerate(zip(runs, flat)):
        out[r.kind].append({"lmbda": lam, "accuracy": float(acc[m]), "first_layer_zeros": float(zeros[m]) / size,
                            "diverged": res.state.diverged_epoch[m] is not None})
    return out


def _smallest_collapsed(probes: list[dict]) -> int | None:
    """Index of the smallest λ that collapsed with every larger one collapsed or diverged (probes ascending)."""
    gone = [p["collapsed"] or p["diverged"] for p in probes]
    best = None
    for j in range(len(probes) - 1, -1, -1):
        if not gone[j]:
            break
        if probes[j]["collapsed"]:
            best = j
    return best


def find(base: TrainConfig, ds, kinds: list[str], path_epochs: int) -> dict[str, Found]:
    """``λ_max`` of every kind in ``kinds`` (module docstring), from two batches of probes."""
    t0 = time.perf_counter()
    n = base.train_size or len(ds.train.y)
    if base.folds:
        n -= -(-n // base.folds)
    eta = float(base.eta[0])
    chance = _chance(ds, base)
    prox = {kind: thresholds(kind, base.to_dict()) for kind in kinds}

    def judge(found: dict[str, list[dict]]) -> None:
        for kind, probes in found.items():
            for p in probes:
                p["collapsed"] = (not p["diverged"]) and (
                    p["first_layer_zeros"] == 1.0 if prox[kind] else p["accuracy"] <= chance + MARGIN)

    first = _probe(base, ds, kinds, {kind: candidates(n, eta) for kind in kinds}, path_epochs)
    judge(first)
    between: dict[str, np.ndarray] = {}
    for kind in kinds:
        j = _smallest_collapsed(first[kind])
        if j is None:
            raise ReglabError(f"no λ up to {first[kind][-1]['lmbda']:.3g} collapses the network with --reg {kind} in "
                              f"{path_epochs} epoch(s); give --lmbda-max")
        if j == 0:
            raise ReglabError(f"--reg {kind} collapses the network even at λ = {LOWEST:g}; give --lmbda-max")
        lo, hi = first[kind][j - 1]["lmbda"], first[kind][j]["lmbda"]
        between[kind] = np.geomspace(lo, hi, REFINE + 2)[1:-1]
    second = _probe(base, ds, kinds, between, path_epochs)
    judge(second)
    out = {}
    for kind in kinds:
        probes = sorted(first[kind] + second[kind], key=lambda p: p["lmbda"])
        j = _smallest_collapsed(probes)
        assert j is not None  # the first round's collapsed candidate is among them
        rule = ("every first-layer weight is exactly 0" if prox[kind] else
                f"validation accuracy is at chance (≤ {100 * (chance + MARGIN):.2f}%: the largest class's share, "
                f"{100 * chance:.2f}%, plus 1 point)")
        how = (f"found: the smallest of {len(probes)} λ probed (up to {probes[-1]['lmbda']:.3g}) at which, after "
               f"{path_epochs} epoch(s) from the initial weights, {rule}")
        out[kind] = Found(kind, float(f"{probes[j]['lmbda']:.6g}"), how, probes, 0.0)
    seconds = time.perf_counter() - t0
    return {k: Found(f.kind, f.lmbda, f.how, f.probes, seconds) for k, f in out.items()}


def _chance(ds, base: TrainConfig) -> float:
    """The share of the most frequent class among the labels that validate (the validation split's, else training's)."""
    y = ds.validation.y if len(ds.validation.y) and not base.folds else ds.train.y[: base.train_size or len(ds.train.y)]
    counts = torch.bincount(torch.as_tensor(np.asarray(y), dtype=torch.int64))
    return float(counts.max()) / float(counts.sum())
