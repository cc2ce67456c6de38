"""RegularizationPathCV: every λ × fold is one model of one batched run of the engine (its k-fold folds), and
each of those models is the estimator fitted alone on its fold's training rows; the folds are the splitter's,
disjoint and covering; λ_best and λ_1se by glmnet's rule; a cross-validated λ on the digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit, StratifiedKFold

import reglab.sklearn as rs
from reglab.data import load_digits
from reglab.sweep.select import one_se_rule


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def batched_runs(monkeypatch) -> list:
    """The results of every call of reglab.train by the estimators, in order."""
    results, train = [], rs.train

    def spy(config, ds, **kw):
        results.append(train(config, ds, **kw))
        return results[-1]

    monkeypatch.setattr(rs, "train", spy)
    return results


def test_every_lmbda_and_fold_is_one_batched_run_of_the_estimators_separate_fits(digits, monkeypatch):
    """One run of J × k models (fold fastest), then the refit; model (λ_j, f) has the weights of
    MLPClassifier(lmbda=λ_j) fitted alone on fold f's training rows (same initial weights, same mini-batch
    orders: the folds have one size), and the scores are those of the separate fits."""
    X, y = digits.train.X[:600], digits.train.y[:600]  # 3 stratified folds of 200
    grid, cv = [0.1, 30.0], StratifiedKFold(3)
    runs = batched_runs(monkeypatch)
    est = rs.MLPClassifier(epochs=2, eta=0.5)
    path = rs.RegularizationPathCV(est, lmbdas=grid, cv=cv).fit(X, y)
    assert [len(r.models) for r in runs] == [6, 1]
    batch = runs[0].fit.model
    for f, (tr, va) in enumerate(cv.split(X, y)):
        for j, lam in enumerate(grid):
            alone = rs.MLPClassifier(epochs=2, eta=0.5, lmbda=lam).fit(X[tr], y[tr])
            for W, W_alone in zip(batch.weights, alone.model_.weights):
                torch.testing.assert_close(W[j * 3 + f], W_alone[0], rtol=0, atol=1e-6)
            assert path.scores_[f, j] == alone.score(X[va], y[va])


def test_the_scores_are_grid_search_cvs(digits):
    """GridSearchCV over the single estimator (a fit per λ and fold) scores every (fold, λ) the same."""
    X, y = digits.train.X[:600], digits.train.y[:600]
    grid, cv = [0.01, 1.0, 30.0, 300.0], StratifiedKFold(3)
    path = rs.RegularizationPathCV(rs.MLPClassifier(epochs=3, eta=0.5), lmbdas=grid, cv=cv).fit(X, y)
    search = GridSearchCV(rs.MLPClassifier(epochs=3, eta=0.5), {"lmbda": grid}, cv=cv).fit(X, y)
    for k in range(3):
        np.testing.assert_array_equal(path.cv_results_[f"split{k}_test_score"], search.cv_results_[f"split{k}_test_score"])
    np.testing.assert_array_equal(path.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"])


def test_the_regressors_batch_equals_its_separate_fits():
    """The regressor (tensor steps, float64): each fold's R² of each λ equals the separate fit's to 1e-9."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 3))
    y = X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.1 * rng.normal(size=90)
    grid, cv = [0.01, 1.0, 100.0], KFold(3, shuffle=True, random_state=0)
    est = rs.MLPRegressor(hidden=(8,), eta=0.05, batch_size=10, epochs=5, init="default", dtype="float64")
    path = rs.RegularizationPathCV(est, lmbdas=grid, cv=cv).fit(X, y)
    for f, (tr, va) in enumerate(cv.split(X, y)):
        for j, lam in enumerate(grid):
            alone = rs.MLPRegressor(**{**est.get_params(), "lmbda": lam}).fit(X[tr], y[tr])
            assert path.scores_[f, j] == pytest.approx(alone.score(X[va], y[va]), rel=0, abs=1e-9)


def test_the_folds_are_the_splitters_disjoint_and_covering(digits):
    X, y = digits.train.X[:301], digits.train.y[:301]  # held-out sizes 101, 100, 100
    path = rs.RegularizationPathCV(rs.MLPClassifier(epochs=1), lmbdas=2, cv=3, refit=False).fit(X, y)
    rows = np.concatenate(path.held_out_)
    assert len(rows) == len(y) and np.array_equal(np.sort(rows), np.arange(len(y)))
    for mine, (_, theirs) in zip(path.held_out_, StratifiedKFold(3).split(X, y)):
        np.testing.assert_array_equal(mine, theirs)
    assert path.scores_.shape == (3, 2) and np.all((0 <= path.scores_) & (path.scores_ <= 1))
    for cv, why in [(ShuffleSplit(3, random_state=0), "disjoint, that together are the 301 training rows"),
                    ([(np.arange(100, 200), np.arange(100)), (np.arange(100), np.arange(100, 301))],
                     "each split must train on all the rows outside its test rows")]:
        with pytest.raises(ValueError, match=f"RegularizationPathCV needs folds .*{why}"):
            rs.RegularizationPathCV(rs.MLPClassifier(epochs=1), lmbdas=2, cv=cv).fit(X, y)


def test_lmbda_best_and_1se_are_the_sweeps_rule(digits):
    """λ_best and λ_1se are reglab.sweep.select.one_se_rule's over the folds' scores (the same as sweep and path)."""
    X, y = digits.train.X[:300], digits.train.y[:300]
    path = rs.RegularizationPathCV(rs.MLPClassifier(epochs=2, eta=0.5), lmbdas=[0.1, 3.0, 100.0], cv=3,
                                   refit=False).fit(X, y)
    rule = one_se_rule(path.lmbdas_, path.scores_.T, metric="accuracy")
    assert (path.lmbda_best_, path.lmbda_1se_) == (rule.best_lmbda, rule.one_se_lmbda) and path.lmbda_ == rule.one_se_lmbda
    res = path.cv_results_
    np.testing.assert_allclose(res["se_test_score"], path.scores_.std(axis=0, ddof=1) / np.sqrt(3))
    assert res["rank_test_score"][np.argmax(res["mean_test_score"])] == 1


def test_cross_validated_lmbda_on_digits(digits):
    """On the digits (1,197 training images, 10 epochs) the 1-SE rule picks a λ no smaller than the best one's,
    the chosen model scores near the best mean, and λ = 100 (weights crushed) is never chosen."""
    path = rs.RegularizationPathCV(rs.MLPClassifier(epochs=10, eta=0.5), lmbdas=[0.01, 0.1, 1.0, 10.0, 100.0], cv=3)
    path.fit(digits.train.X, digits.train.y)
    res = path.cv_results_
    assert path.lmbda_1se_ >= path.lmbda_best_ and path.lmbda_ == path.lmbda_1se_
    best = res["mean_test_score"].max()
    assert res["mean_test_score"][list(path.lmbdas_).index(path.lmbda_1se_)] >= best - res["se_test_score"].max()
    assert path.lmbda_1se_ < 100.0 and best > 0.9
    assert path.score(digits.test.X, digits.test.y) > 0.85
    assert path.scores_.shape == (3, 5)


def test_early_stopping_inside_the_batch_stops_on_each_folds_held_out_rows(digits, monkeypatch):
    X, y = digits.train.X[:300], digits.train.y[:300]
    runs = batched_runs(monkeypatch)
    rs.RegularizationPathCV(rs.MLPClassifier(epochs=40, eta=0.5, early_stop=1), lmbdas=[0.1, 1000.0], cv=3,
                            refit=False).fit(X, y)
    (run,) = runs
    assert run.fit.history.has("validation_accuracy") and len(run.fit.history.epochs) < 41  # every model stopped
