"""TrainConfig: validated in one place, saved and read back unchanged, its models the grid λ × η × seeds."""

import json

import pytest

from reglab.config import TrainConfig
from reglab.errors import ReglabError


def test_the_models_are_the_grid_with_lambda_slowest():
    c = TrainConfig(lmbda=(0.1, 5.0), eta=(0.5, 0.1), seeds=2, seed=7)
    assert [(m["lmbda"], m["eta"], m["seed"]) for m in c.models()] == [
        (0.1, 0.5, 7), (0.1, 0.5, 8), (0.1, 0.1, 7), (0.1, 0.1, 8),
        (5.0, 0.5, 7), (5.0, 0.5, 8), (5.0, 0.1, 7), (5.0, 0.1, 8)]


@pytest.mark.parametrize("changes", [{}, {"lmbda": (0.1, 1.0, 10.0), "eta": (0.5, 3.0), "seeds": 2},
                                     {"lmbda": (0.1, 1.0), "seeds": 3, "folds": 4}, {"folds": 2}])
def test_the_count_of_models_is_the_models_listed_folds_included(changes):
    config = TrainConfig(**changes)
    assert config.n_models == len(config.models())


def test_saved_and_read_back_unchanged_with_a_stable_digest():
    c = TrainConfig(hidden=(100, 30), lmbda=(1.0, 2.0), reg="elastic", l1_ratio=0.3)
    again = TrainConfig.from_dict(json.loads(json.dumps(c.to_dict())))
    assert again == c and again.digest() == c.digest()
    assert c.replace(epochs=3).digest() != c.digest()


@pytest.mark.parametrize("changes,message", [
    ({"eta": (-1.0,)}, "--eta values must be finite numbers ≥ 0"),
    ({"lmbda": ()}, "--lmbda needs at least one value"),
    ({"batch_size": 0}, "--batch-size must be a positive integer"),
    ({"activation": "swish"}, "--activation 'swish' is not one of sigmoid, tanh, relu, linear"),
    ({"reg": "l3"}, "--reg 'l3' is not one of none, l2, l1, l1-prox, elastic, decay"),
    ({"monitor": ("train", "dev")}, "--monitor accepts train, validation, test; got dev"),
    ({"early_stop": 3, "schedule": 3}, "--early-stop and --schedule both act on plateaus"),
])
def test_bad_values_are_refused_with_the_flag_named(changes, message):
    with pytest.raises(ReglabError, match=message):
        TrainConfig(**changes)


def test_unknown_keys_are_named():
    with pytest.raises(ReglabError, match="unknown configuration keys: hiden"):
        TrainConfig.from_dict({"hiden": [30]})


@pytest.mark.parametrize("changes,message", [
    ({"hidden": 30}, r"--hidden must be a list of integers, got 30 \(int\)"),
    ({"hidden": (30.5,)}, r"--hidden must be a list of integers"),
    ({"epochs": True}, r"--epochs must be an integer, got True \(bool\)"),
    ({"eta": ("0.1",)}, r"--eta must be a list of numbers"),
    ({"target": 3}, r"--target must be a text or null, got 3 \(int\)"),
    ({"per_model_order": 1}, r"--per-model-order must be true or false"),
    ({"seed": -1}, r"--seed must be an integer from 0 to 2\*\*63-1, got -1"),
    ({"seed": 2**63 - 2, "seeds": 3}, r"\(and the 2 seeds after it\)"),
])
def test_types_are_checked_from_the_annotations_before_values(changes, message):
    with pytest.raises(ReglabError, match=message):
        TrainConfig(**changes)


def test_lists_and_numpy_numbers_become_the_same_configuration():
    import numpy as np

    c = TrainConfig(hidden=[np.int64(30)], lmbda=[np.float64(0.5), 1], seed=np.int64(3))
    assert c == TrainConfig(hidden=(30,), lmbda=(0.5, 1.0), seed=3) and c.digest() == TrainConfig(
        hidden=(30,), lmbda=(0.5, 1.0), seed=3).digest()
    assert type(c.seed) is int and type(c.lmbda[1]) is float


def test_a_configuration_is_an_object():
    with pytest.raises(ReglabError, match="a configuration is a JSON object of settings .* not a list"):
        TrainConfig.from_dict([1, 2])
