"""double-descent: label noise, ridge regression in closed form against a peer (scikit-learn), the peak at the
interpolation threshold p = n of random features and a tuned λ flattening it (quick mode)."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from reglab.config import TrainConfig
from reglab.data import load_dataset
from reglab.runs.assemble import training_data
from reglab.studies import measure
from reglab.studies.double_descent import NOISE, _splits, peak, ridge_solutions


@pytest.fixture(scope="module")
def quick():
    return measure("double-descent", quick=True, seed=0)


def test_the_noisy_labels_are_those_of_label_noise_in_a_run():
    """The study's corruption is ``reglab train --label-noise 0.2 --seed S`` on the same images: a fifth of the
    labels, each changed to another class."""
    data, _, changed = _splits(300, {"validation": 10, "test": 10}, seed=3)
    ds = load_dataset("auto")
    run, noise = training_data(TrainConfig(train_size=300, label_noise=NOISE, seed=3), ds, torch.device("cpu"),
                               torch.float32)
    assert torch.equal(data.train.y, run.train.y) and noise is not None
    clean = torch.as_tensor(ds.train.y[:300])
    assert changed.sum() == 60 and np.flatnonzero(changed).tolist() == noise.indices.tolist()
    assert bool((data.train.y[changed] != clean[changed]).all()) and torch.equal(data.train.y[~changed], clean[~changed])
    assert not np.array_equal(changed, _splits(300, {"validation": 10, "test": 10}, seed=4)[2])


@pytest.mark.parametrize("n,p", [(30, 12), (12, 30)])  # the primal and the dual form
def test_ridge_solutions_are_scikit_learns(n, p):
    g = torch.Generator().manual_seed(0)
    F, Y = torch.randn(n, p, generator=g, dtype=torch.float64), torch.randn(n, 3, generator=g, dtype=torch.float64)
    zero, lam = ridge_solutions(F, Y, [0.0, 0.7])
    ref = Ridge(alpha=0.7, fit_intercept=False, solver="cholesky").fit(F.numpy(), Y.numpy()).coef_.T
    np.testing.assert_allclose(lam.numpy(), ref, rtol=1e-9)
    np.testing.assert_allclose(zero.numpy(), np.linalg.pinv(F.numpy()) @ Y.numpy(), rtol=1e-7, atol=1e-9)  # minimum norm


def test_peak_by_hand():
    x = [1, 2, 3, 4, 5, 6]
    err = [0.9, 0.95, 0.5, 0.7, 0.4, 0.45]
    train = [0.8, 0.8, 0.2, 0.05, 0.0, 0.0]
    p = peak(x, err, train)
    assert p["at"] == 4 and p["height"] == pytest.approx(0.2)  # 2 is higher but did not fit its training set
    assert peak(x, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], train) is None


def test_random_features_peak_at_p_equals_n_and_a_tuned_lambda_flattens_it(quick):
    r = quick["random_features"]
    n = r["n"]
    by_p = {row["p"]: row for row in r["rows"]}
    assert by_p[max(by_p)]["train"][0] == 0.0  # p > n at λ = 0: interpolates the noisy labels
    reading = r["reading"]
    assert reading["peak"]["at"] == n and reading["peak"]["height"] > 0.1
    assert reading["tuned_at_peak"] < reading["peak"]["error"] - 0.2


def test_networks_fit_their_noisy_labels_and_tuning_never_hurts_validation(quick):
    rows = quick["width"]["rows"]
    widest = rows[-1]["train"]  # training error on the noisy labels, per λ
    assert widest[0] < NOISE  # at λ = 0 the widest fits some of the wrong labels too
    assert widest[-1] > widest[0]  # the largest λ keeps it from fitting them
    for row in rows:
        assert row["tuned"]["validation"] <= row["validation"][0] + 1e-12  # chosen on validation: never worse there
