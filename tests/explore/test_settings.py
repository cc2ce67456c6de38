"""A request's settings are checked once: types and the playground's limits here, the rest by the CLI's own rules."""

from __future__ import annotations

import pytest

from reglab.config import TrainConfig
from reglab.errors import ReglabError
from reglab.explore.settings import LIMITS, Settings, check_size


def test_the_defaults_make_a_valid_configuration(tmp_path):
    config = Settings.from_json({}).config(tmp_path, tmp_path)
    assert isinstance(config, TrainConfig)
    assert config.models() == [{"lmbda": lam, "eta": 0.5, "seed": 0} for lam in Settings().lmbda]
    assert config.data.endswith(".npz") and config.split == (0.5, 0.25, 0.25)
    assert Settings.from_json(Settings().to_json()) == Settings()


def test_dropout_and_max_norm_are_the_configurations(tmp_path):
    config = Settings.from_json({"dropout": 0.5, "max_norm": 3}).config(tmp_path, tmp_path)
    assert config.dropout == (0.5,) and config.input_dropout == 0.0 and config.max_norm == 3.0
    plain = Settings.from_json({}).config(tmp_path, tmp_path)
    assert plain.dropout == TrainConfig.dropout and plain.max_norm is None


@pytest.mark.parametrize("settings, message", [
    ({"eta": -1.0}, r"eta must be a number in \[0, 1000\], got -1.0"),
    ({"lmbda": [1.0, -2.0]}, r"--lmbda values must be finite numbers ≥ 0, got -2.0"),  # TrainConfig's, as the CLI says it
    ({"activation": "swish"}, r"--activation 'swish' is not one of sigmoid, tanh"),
    ({"reg": "dropconnect"}, r"--reg 'dropconnect' is not one of"),
    ({"batch_size": 0}, r"batch_size must be an integer from 1 to 1000"),
    ({"eta": "fast"}, r"eta must be a number"),
    ({"hidden": [8, "8"]}, r"hidden layer widths must be integers from 1 to 256"),
    ({"hidden": [LIMITS["width"] + 1]}, r"hidden layer widths must be integers from 1 to 256"),
    ({"hidden": [4] * (LIMITS["hidden_layers"] + 1)}, r"hidden must be a list of at most 4 values"),
    ({"lmbda": [0.1] * (LIMITS["models"] + 1)}, r"lmbda must be a list of at most 8 values"),
    ({"lmbda": []}, r"at least one λ value"),
    ({"points": LIMITS["points"] + 1}, r"points must be an integer from 20 to 5000"),
    ({"noise": 0.9}, r"noise must be a number in \[0, 0.5\]"),
    ({"data": "/etc/passwd"}, r"data '/etc/passwd' is not one of circle, xor"),
    ({"data": "file"}, r"choose a file of the data directory"),
    ({"colour": "red"}, r"unknown settings: colour"),
    ({"dropout": 1.0}, r"dropout must be a number in \[0, 0.95\], got 1.0"),
    ({"max_norm": 0}, r"max_norm must be a number in \[0.001, 1000\], got 0"),
    ({"max_norm": "3"}, r"max_norm must be a number"),
    ({"optimizer": "adamw", "reg": "l2"}, None),  # accepted here; refused once the data are known (as the CLI does)
])
def test_bad_values_get_one_line_naming_the_problem(settings, message):
    if message is None:
        Settings.from_json(settings)
        return
    with pytest.raises(ReglabError, match=message):
        Settings.from_json(settings)


def test_not_an_object():
    with pytest.raises(ReglabError, match="must be a JSON object"):
        Settings.from_json([1, 2])


def test_a_file_must_be_in_the_listing_and_mnist_present(tmp_path):
    with pytest.raises(ReglabError, match="is not a .npz or .csv file of the data directory"):
        Settings.from_json({"data": "file", "file": "../secret.npz"}).config(tmp_path, tmp_path)
    with pytest.raises(ReglabError, match="MNIST is not in the data directory"):
        Settings.from_json({"data": "mnist"}).config(tmp_path, tmp_path)


def test_the_parameter_limit():
    check_size([784, 256, 256, 10])
    with pytest.raises(ReglabError, match="parameters per model; the playground's limit is 2,000,000"):
        check_size([100_000, 256, 10])  # a file of 100,000 features
