"""runs/budget: counts, memory and time known before training, against the models themselves."""

from __future__ import annotations

import pytest

from reglab.config import TrainConfig
from reglab.engine.model import MLP
from reglab.errors import ReglabError
from reglab.runs.budget import (
    DEFAULT_LIMIT,
    Estimate,
    bytes_needed,
    check_count,
    check_memory,
    duration,
    epoch_flops,
    estimate,
    weights,
)


def test_the_weights_counted_are_the_model_s_parameters():
    sizes = [64, 30, 20, 10]
    params = MLP.initialize(sizes, seeds=[0]).numpy_params()
    assert weights(sizes) == sum(a.size for a in params.values())


def test_memory_is_at_least_the_parameters_and_refused_beyond_what_is_available():
    config = TrainConfig(hidden=(30,), optimizer="adam")
    sizes = [784, 30, 10]
    assert bytes_needed(config, sizes, 3) >= 3 * weights(sizes) * 4 * (5 + 2)  # W, grads, copies, two Adam moments
    check_memory(config, sizes, 3, available=10**9)
    with pytest.raises(ReglabError, match=r"layer sizes \[784, 30, 10\]: 1,000 models of 23,860 weights each would need "
                                          r"about 673 MB to train, and 100 MB of memory are available"):
        check_memory(config, sizes, 1000, available=10**8)
    with pytest.raises(ReglabError, match="--epochs 1,000,000,000: the per-epoch records"):
        check_memory(config.replace(epochs=10**9), sizes, 1, available=10**10)


def test_counts_beyond_the_limit_are_refused_naming_the_flag_that_raises_it():
    check_count(DEFAULT_LIMIT, "models", None)
    with pytest.raises(ReglabError, match=r"10,001 models \(a × b\) are more than the limit of 10,000; raise it with "
                                          r"--limit 10001"):
        check_count(DEFAULT_LIMIT + 1, "models", None, "a × b")
    check_count(10**6, "cells", 10**6)


def test_the_estimate_is_the_book_s_arithmetic_over_a_rate():
    config = TrainConfig(hidden=(30,), lmbda=(1.0, 2.0), epochs=30)
    W = 784 * 30 + 30 * 10
    assert epoch_flops([784, 30, 10], 50_000, 20_000) == 6 * W * 50_000 + 2 * W * 20_000
    e = estimate(config, [784, 30, 10], 50_000, 20_000)
    assert (e.count, e.model_epochs, e.flops) == (2, 60, 60 * epoch_flops([784, 30, 10], 50_000, 20_000))
    assert e.line() == ("plan: 2 models, 60 model-epochs, 4.9e+11 floating-point operations; at 30 GFLOP/s on "
                        f"{e.cores} core(s): {duration(e.flops / (3e10 * e.cores))}")
    total = e + Estimate(1, "models", 5, 1e9, 1)
    assert (total.count, total.model_epochs) == (3, 65)


@pytest.mark.parametrize("seconds,text", [(0.2, "under a second"), (40, "40 s"), (600, "10 min"), (4 * 3600, "4 h"),
                                          (5 * 86400, "5 days"), (3e9, "95 years"), (float("inf"), "forever")])
def test_durations_read_as_a_person_says_them(seconds, text):
    assert duration(seconds) == text
