"""The run summary's weight statistics, against numpy and against the decay rule worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import reglab
from reglab.runs.summary import summarize


def test_max_column_l1_is_numpys_ord_1_and_l1_the_sum_of_every_weight():
    result = reglab.train(reglab.TrainConfig(data="digits", epochs=1, hidden=(8,)))
    m = summarize(result)["models"][0]
    final = result.fit.model.numpy_params()
    for l, (before, after) in enumerate(zip(m["layers_initial"], m["layers"])):
        for row, params in ((before, result.fit.initial), (after, final)):
            W = params[f"W{l}"][0].astype(np.float64)
            assert row["max_column_l1"] == pytest.approx(np.linalg.norm(W, ord=1), rel=1e-6)
            assert row["l1"] == pytest.approx(np.abs(W).sum(), rel=1e-5)
    # the two differ by about the number of columns: the reason the seed's "L1 norm" was ~500× smaller
    first = m["layers_initial"][0]
    assert 0.5 * 64 < first["l1"] / first["max_column_l1"] < 64


def test_saturation_before_and_after_is_the_monitors():
    result = reglab.train(reglab.TrainConfig(data="digits", epochs=2, hidden=(8,)))
    m = summarize(result)["models"][0]
    h = result.fit.history
    for l in range(2):
        assert m["layers_initial"][l]["saturation"] == h.get("saturation", l)[0, 0]
        assert m["layers"][l]["saturation"] == h.get("saturation", l)[-1, 0]


def test_decay_alone_is_what_weights_without_data_gradient_do(tmp_path):
    # every input 0: the first layer's data gradient is exactly 0, so only the decay moves its weights
    rng = np.random.default_rng(0)
    path = tmp_path / "blank.npz"
    np.savez(path, X=np.zeros((200, 5), dtype=np.float32), y=rng.integers(0, 3, 200))
    eta, lmbda, m, epochs = 0.5, 4.0, 10, 6
    config = reglab.TrainConfig(data=str(path), hidden=(4,), eta=(eta,), lmbda=(lmbda,), batch_size=m, epochs=epochs,
                                dtype="float64")
    result = reglab.train(config)
    s = summarize(result)
    model = s["models"][0]
    n = s["n"]
    assert n % m == 0  # so that ⌈n/m⌉ = n/m and the exponential is the first-order term of the product
    exact = (1 - eta * lmbda / n) ** (n // m * epochs)
    assert model["decay_alone"] == pytest.approx(math.exp(-eta * lmbda * epochs / m), rel=1e-15)
    before, after = model["layers_initial"][0]["rms"], model["layers"][0]["rms"]
    assert after == pytest.approx(before * exact, rel=1e-12)
    # the exponential differs from the product at second order, (ηλ)²E/(2nm)
    assert after == pytest.approx(before * model["decay_alone"], rel=2 * (eta * lmbda) ** 2 * epochs / (n * m))


@pytest.mark.parametrize("change", [dict(optimizer="adam"), dict(reg="l1"), dict(schedule=2)])
def test_decay_alone_is_not_predicted_where_the_rule_does_not_hold(change):
    result = reglab.train(reglab.TrainConfig(data="digits", epochs=1, hidden=(8,), **change))
    assert summarize(result)["models"][0]["decay_alone"] is None
