"""The scikit-learn estimators: scikit-learn's own checks, the same fit as ``reglab train``, λ and α in their
units, GridSearchCV, the regressor's step against autograd (RegularizationPathCV: test_path_cv.py)."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import reglab.sklearn as rs
from reglab.cli.main import main
from reglab.data import load_digits
from reglab.engine.model import MLP
from reglab.runs.export import to_sequential


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@parametrize_with_checks([rs.MLPClassifier(), rs.MLPRegressor(),
                          rs.RegularizationPathCV(rs.MLPClassifier(epochs=3), lmbdas=2, cv=2)])
def test_scikit_learn_estimator_checks(estimator, check):
    """Every check of sklearn.utils.estimator_checks passes; none is skipped by us (pandas and the
    array API are skipped by scikit-learn itself where they are not installed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # batch_size clipped to tiny check data sets
        check(estimator)


def test_the_same_fit_as_reglab_train(tmp_path, digits, capsys):
    """MLPClassifier on the digits' training split trains what `reglab train --data digits` trains: the same
    weights (to 1e-6; in fact bit for bit) and the same probabilities as the run's exported network."""
    out = tmp_path / "run"
    assert main(["train", "--data", "digits", "--epochs", "3", "--lmbda", "5", "--quiet", "--no-plots",
                 "--out", str(out)]) == 0
    est = rs.MLPClassifier(hidden=(30,), lmbda=5.0, eta=0.1, epochs=3).fit(digits.train.X, digits.train.y)
    with np.load(out / "weights_final.npz") as w:
        for l in range(2):
            np.testing.assert_allclose(est.model_.weights[l][0].double().numpy(), w[f"W{l}"][0], rtol=0, atol=1e-6)
            np.testing.assert_allclose(est.model_.biases[l][0].double().numpy(), w[f"b{l}"][0], rtol=0, atol=1e-6)
    with torch.no_grad():
        run_out = to_sequential(out)(torch.from_numpy(digits.test.X)).double().numpy()
    np.testing.assert_allclose(est.predict_proba(digits.test.X), run_out / run_out.sum(1, keepdims=True), atol=1e-6)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["models"][0]["final_test_accuracy"] is not None
    assert np.mean(est.predict(digits.test.X) == digits.test.y) == pytest.approx(
        np.mean(run_out.argmax(1) == digits.test.y))


def test_alpha_is_lmbda_in_scikit_learns_units(digits):
    """alpha = λ·|B|/n exactly (scikit-learn's MLP divides α by the mini-batch size): the two fits are the same."""
    X, y = digits.train.X, digits.train.y
    n, B, alpha = len(y), 20, 0.05
    by_alpha = rs.MLPClassifier(alpha=alpha, batch_size=B, epochs=2).fit(X, y)
    by_lmbda = rs.MLPClassifier(lmbda=alpha * n / B, batch_size=B, epochs=2).fit(X, y)
    assert by_alpha.lmbda_ == pytest.approx(alpha * n / B, rel=1e-15)
    assert by_lmbda.alpha_ == pytest.approx(alpha, rel=1e-15)
    for a, b in zip(by_alpha.model_.weights, by_lmbda.model_.weights):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="not both"):
        rs.MLPClassifier(lmbda=1.0, alpha=1e-3).fit(X, y)


def test_parameters_are_reglabs_choices(digits):
    X, y = digits.train.X[:300], digits.train.y[:300]
    est = rs.MLPClassifier(hidden=(16,), reg="l1-prox", lmbda=30.0, optimizer="adam", eta=1e-3, init="he",
                           activation="relu", cost="log-likelihood", epochs=2).fit(X, y)
    assert est.model_.sizes == [64, 16, 10] and est.model_.activation.name == "relu"
    assert (est.model_.weights[0] == 0).any()  # the proximal L1 step gives exact zeros
    assert np.allclose(est.predict_proba(X).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="reg 'ridge' is not one of"):
        rs.MLPClassifier(reg="ridge").fit(X, y)


def test_text_labels_and_early_stopping(digits):
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    X, y = digits.train.X, names[digits.train.y]
    est = rs.MLPClassifier(epochs=40, early_stop=2, eta=0.5).fit(X, y)
    assert list(est.classes_) == sorted(names) and set(est.predict(X[:20])) <= set(names)
    assert est.history_.has("validation_accuracy") and 1 <= est.n_iter_ <= 40
    assert est.score(digits.test.X, names[digits.test.y]) > 0.8


def test_grid_search_over_lmbda_in_a_pipeline(digits):
    search = GridSearchCV(make_pipeline(StandardScaler(), rs.MLPClassifier(epochs=2)),
                          {"mlpclassifier__lmbda": [0.1, 1000.0]}, cv=2)
    search.fit(digits.train.X, digits.train.y)
    assert search.best_params_ == {"mlpclassifier__lmbda": 0.1}  # λ = 1000 on 600 rows crushes the weights
    assert search.cv_results_["mean_test_score"][0] > search.cv_results_["mean_test_score"][1]


def test_the_regressors_step_is_the_gradient_step_of_its_cost():
    """One full-batch step of MLPRegressor equals w − η(∇C₀ + (λ/n)w) by autograd on C₀ = (1/n)Σ½‖a − y‖²."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.column_stack([X[:, 0] - X[:, 1] ** 2, np.sin(X[:, 2])])
    eta, lam = 0.3, 2.0
    est = rs.MLPRegressor(hidden=(5,), lmbda=lam, eta=eta, batch_size=40, epochs=1, dtype="float64").fit(X, y)
    start = MLP.initialize([3, 5, 2], seeds=[0], init="large", dtype=torch.float64)
    params = [t[0].clone().requires_grad_(True) for pair in zip(start.weights, start.biases) for t in pair]
    W0, b0, W1, b1 = params
    a = torch.sigmoid(torch.from_numpy(X) @ W0.T + b0) @ W1.T + b1
    cost = 0.5 * ((a - torch.from_numpy(y)) ** 2).sum() / 40
    cost.backward()
    expect = [p - eta * (p.grad + (lam / 40 if p.dim() == 2 else 0.0) * p) for p in params]
    got = [t[0] for pair in zip(est.model_.weights, est.model_.biases) for t in pair]
    for g, e in zip(got, expect):
        torch.testing.assert_close(g, e.detach(), rtol=0, atol=1e-10)


def test_the_regressor_learns_and_exports():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(600, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    est = rs.MLPRegressor(hidden=(20,), lmbda=0.01, eta=0.05, epochs=150, init="default").fit(X[:500], y[:500])
    assert est.score(X[500:], y[500:]) > 0.9 and est.predict(X[:3]).shape == (3,)
    assert not any(isinstance(k, str) and k.endswith("accuracy") for k in est.history_.records[-1])
    with torch.no_grad():
        out = to_sequential(est)(torch.from_numpy(X[500:].astype(np.float32))).double().numpy()[:, 0]
    np.testing.assert_allclose(out, est.predict(X[500:]), atol=1e-5)  # float32 network against float64 predict


def test_estimators_pickle_with_their_network(digits):
    est = rs.MLPClassifier(epochs=1).fit(digits.train.X, digits.train.y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(digits.test.X), est.predict_proba(digits.test.X))
