"""Cross-validating λ: reglab's RegularizationPathCV against GridSearchCV, in one run.

The task: choose λ for the book's network (hidden 30, sigmoid, cross-entropy, large initialization,
η = 0.5, mini-batch 10) on the 8×8 digits' training images by k-fold cross-validation over a log grid
of λ (the first rows, a multiple of k of the 1,197, so that the folds have one size). Three ways, each
timed whole (folds and the final refit):

* ``RegularizationPathCV(MLPClassifier(...), lmbdas=grid, cv=k)``: every λ × fold trained together,
  one batched run of ``len(grid) × k`` models (the engine's folds);
* ``GridSearchCV(MLPClassifier(...), {"lmbda": grid}, cv=k)``: the same estimator fitted once per
  (fold, λ), as scikit-learn does for any estimator;
* the peer: ``GridSearchCV`` over scikit-learn's own ``MLPClassifier`` with the same network, solver
  (plain SGD, no momentum), rate, mini-batch and epochs, its ``alpha`` converted from the same λ grid
  (``reglab.units``; scikit-learn's ``max_iter`` counts epochs).

Both reglab searches score the same folds with the same models (a model of the batch trained on its fold
equals the estimator fitted alone on the fold's rows, where the folds have one size), so every (fold, λ)
score must agree; the script checks it (their λ_best may still differ where
scores tie: GridSearchCV takes the first, RegularizationPathCV the largest λ). Rounds alternate between the three and medians
are reported. Run: ``python benchmarks/bench_sklearn.py [--lmbdas 13] [--folds 5] [--epochs 30] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier as SklearnMLP

import reglab
from reglab.data import load_digits
from reglab.sklearn import MLPClassifier, RegularizationPathCV
from reglab.units import convert


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lmbdas", type=int, default=13, help="λ values, log-spaced from 1e-3 to 1e2 (default 13)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--epochs", type=int, default=30, help="epochs per fit (default 30)")
    p.add_argument("--rounds", type=int, default=3, help="alternated rounds; medians are reported (default 3)")
    p.add_argument("--no-peer", action="store_true", help="leave out scikit-learn's MLPClassifier")
    args = p.parse_args()

    ds = load_digits()
    rows = len(ds.train.y) - len(ds.train.y) % args.folds  # folds of one size: the batch equals the separate fits
    X, y = ds.train.X[:rows], ds.train.y[:rows]
    grid = [float(f"{v:.12g}") for v in np.geomspace(1e-3, 1e2, args.lmbdas)]
    cv = StratifiedKFold(args.folds)
    est = MLPClassifier(hidden=(30,), eta=0.5, batch_size=10, epochs=args.epochs)
    n_fold = len(y) - len(y) // args.folds  # the training rows of a fold
    alphas = [convert(lam, "book", "sklearn", n=n_fold, batch_size=10) for lam in grid]
    peer = SklearnMLP(hidden_layer_sizes=(30,), activation="logistic", solver="sgd", learning_rate_init=0.5,
                      momentum=0.0, nesterovs_momentum=False, batch_size=10, max_iter=args.epochs, tol=0.0,
                      n_iter_no_change=args.epochs + 1, shuffle=True, random_state=0)

    def path():
        return RegularizationPathCV(est, lmbdas=grid, cv=cv, select="best").fit(X, y)

    def search():
        return GridSearchCV(est, {"lmbda": grid}, cv=cv).fit(X, y)

    def sklearn_search():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GridSearchCV(peer, {"alpha": alphas}, cv=cv).fit(X, y)

    runs = {"reglab RegularizationPathCV": path, "GridSearchCV(reglab MLPClassifier)": search}
    if not args.no_peer:
        runs["GridSearchCV(scikit-learn MLPClassifier)"] = sklearn_search
    path()  # compiles the kernel's specializations once, outside the timing
    times: dict[str, list[float]] = {name: [] for name in runs}
    results = {}
    for _ in range(args.rounds):
        for name, run in runs.items():
            t0 = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - t0)

    fits = args.folds * args.lmbdas
    print(f"choosing λ on the 8x8 digits ({len(y)} of {len(ds.train.y)} training images), "
          f"{args.lmbdas} λ values x {args.folds} folds, "
          f"{args.epochs} epochs, hidden 30; {platform.node()}, reglab {reglab.__version__}; "
          f"median of {args.rounds} alternated rounds")
    print("| method | trainings | seconds | vs RegularizationPathCV | λ_best | best mean accuracy |")
    print("|---|---|---|---|---|---|")
    base = statistics.median(times["reglab RegularizationPathCV"])
    for name in runs:
        t = statistics.median(times[name])
        r = results[name]
        if name.startswith("reglab"):
            trainings, lam, acc = f"1 batched run of {fits} + refit", r.lmbda_best_, \
                r.cv_results_["mean_test_score"].max()
        else:
            trainings = f"{fits} fits + refit"
            key = "lmbda" if "reglab" in name else "alpha"
            lam = r.best_params_[key] if key == "lmbda" else grid[alphas.index(r.best_params_["alpha"])]
            acc = r.best_score_
        print(f"| {name} | {trainings} | {t:.2f} | {t / base:.1f}x | {lam:.4g} | {100 * acc:.2f}% |")
    a, b = results["reglab RegularizationPathCV"], results["GridSearchCV(reglab MLPClassifier)"]
    same = np.array_equal(a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"])
    print(f"RegularizationPathCV and GridSearchCV over reglab's estimator score every (fold, λ) the same: {same}")
    if not same:
        raise SystemExit("the batched fits differ from the separate ones")


if __name__ == "__main__":
    main()
