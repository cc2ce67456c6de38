"""The rest of chapter 3 from a configuration and from the CLI: dropout, max-norm, expanded data, augmentation
and label noise wired from TrainConfig's fields to fit, the run folder and the summary."""

import csv
import json

import numpy as np
import pytest
import torch

from reglab.cli.main import main
from reglab.config import TrainConfig
from reglab.data import load_dataset
from reglab.data.noise import noisy_count
from reglab.errors import ReglabError
from reglab.runs.assemble import train

FAST = dict(data="digits", epochs=1, hidden=(12,), monitor=("validation",))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_max_norm_and_dropout_reach_the_engine(digits):
    r = train(TrainConfig(**FAST, lmbda=(1.0, 2.0), max_norm=0.5, dropout=(0.5,), input_dropout=0.2, seeds=2), digits)
    assert r.fit.meta["engine"] == "CompiledSteps"
    assert r.fit.meta["regularizer"] == "L2([1, 1, 2, 2]) + MaxNorm(0.5)"
    assert r.fit.meta["dropout"] == "Dropout([0.2, 0.5], seeds=[0, 1, 0, 1])"  # the models' own seeds
    for W in r.fit.model.weights:
        assert bool((torch.linalg.vector_norm(W, dim=2) <= 0.5 * (1 + 1e-6)).all())
    plain = train(TrainConfig(**FAST, lmbda=(1.0, 2.0), max_norm=0.5, seeds=2), digits)
    assert not torch.equal(plain.fit.model.weights[0], r.fit.model.weights[0])


def test_label_noise_changes_exactly_that_many_labels_and_the_run_folder_lists_them(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "digits", "--epochs", "1", "--quiet", "--train-size", "500", "--label-noise", "0.3",
                 "--seed", "4", "--json", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    with open(out / "label_noise.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["index", "label", "noisy_label"]
    changed = [(int(i), int(a), int(b)) for i, a, b in rows[1:]]
    assert len(changed) == noisy_count(0.3, 500) == 150 == summary["labels_changed"]
    y = load_dataset("digits").train.y
    assert all(y[i] == a != b and 0 <= i < 500 for i, a, b in changed)
    again = train(TrainConfig(data="digits", epochs=0, train_size=500, label_noise=0.3, seed=4))
    assert again.label_noise is not None and again.label_noise.rows() == changed  # fixed by the seed


def test_expanded_data_is_five_times_the_training_set_and_n_follows(digits):
    r = train(TrainConfig(**FAST, train_size=300, expand=True, label_noise=0.1), digits)
    assert r.fit.n == 1500
    assert r.label_noise is not None and len(r.label_noise.indices) == 30


def test_augmentation_trains_and_is_refused_with_per_model_orders(digits):
    r = train(TrainConfig(**FAST, augment=("shift:1", "rotate:10")), digits)
    assert np.isfinite(r.fit.history.get("validation_accuracy")).all()
    with pytest.raises(ReglabError, match="cannot be combined with --per-model-order"):
        train(TrainConfig(**FAST, augment=("shift:1",), per_model_order=True, seeds=2), digits)


@pytest.mark.parametrize("changes,message", [
    ({"dropout": (1.0,)}, r"--dropout rates must lie in \[0, 1\)"),
    ({"input_dropout": -0.1}, r"--input-dropout rates must lie in \[0, 1\)"),
    ({"max_norm": 0.0}, "--max-norm must be a finite number > 0"),
    ({"label_noise": 1.5}, r"--label-noise must lie in \[0, 1\]"),
    ({"augment": ("blur:2",)}, "--augment 'blur:2'"),
])
def test_bad_values_are_refused_with_the_flag_named(changes, message):
    with pytest.raises(ReglabError, match=message):
        TrainConfig(**changes)


def test_the_cli_names_a_dropout_list_that_does_not_fit_the_network(capsys):
    assert main(["train", "--data", "digits", "--epochs", "1", "--quiet", "--dropout", "0.2,0.5"]) == 2
    assert "--dropout gives 2 rates, but the network has 1 hidden layer" in capsys.readouterr().err



def test_the_cli_trains_per_layer_dropout_with_max_norm(tmp_path, capsys):
    assert main(["train", "--data", "digits", "--epochs", "1", "--quiet", "--hidden", "20,20", "--dropout", "0.2,0.5",
                 "--input-dropout", "0.1", "--max-norm", "2", "--activation", "relu", "--out", str(tmp_path / "r")]) == 0
    assert "L2(5) + MaxNorm(2) · Dropout([0.1, 0.2, 0.5], seeds=[0])" in capsys.readouterr().out


def test_max_norm_follows_a_lambda_schedule_and_dropout_trains_in_folds_on_both_steps(digits):
    """Main's λ schedules and folds with this issue's options: warm-up leaves max-norm off for its epoch (the
    radius is ∞, packed again into the kernel when it changes), then every row is on its ball; the compiled steps
    train what the tensor steps train, with each fold's model dropping its own units."""
    base = dict(data="digits", epochs=2, dtype="float64", hidden=(16,), activation="relu", monitor=("validation",),
                lmbda=(0.0,), eta=(0.5,), max_norm=0.3, dropout=(0.5,), input_dropout=0.1)
    runs = {}
    for engine in ("compiled", "tensor"):
        runs[engine] = train(TrainConfig(**base, engine=engine, lmbda_schedule="warmup:1", folds=2), digits).fit
    a, b = runs["compiled"], runs["tensor"]
    assert a.meta["engine"] == "CompiledSteps" and b.meta["engine"] == "TensorSteps" and a.model.M == 2
    for W, V in zip((*a.model.weights, *a.model.biases), (*b.model.weights, *b.model.biases)):
        np.testing.assert_allclose(W.numpy(), V.numpy(), rtol=1e-9, atol=1e-9)
    for W in a.model.weights:
        assert bool((torch.linalg.vector_norm(W, dim=2) <= 0.3 * (1 + 1e-9)).all())
    first = train(TrainConfig(**{**base, "epochs": 1}, lmbda_schedule="warmup:1", folds=2), digits).fit
    assert float(torch.linalg.vector_norm(first.model.weights[0], dim=2).max()) > 0.3  # off during the warm-up


def test_expand_is_refused_with_folds():
    with pytest.raises(ReglabError, match="--expand with --folds"):
        train(TrainConfig(**FAST, expand=True, folds=2))
