"""Export: a trained model as nn.Sequential, a state_dict (.pt + .json), safetensors and ONNX, each loaded back
by the library that reads it and run against reglab's own outputs; run records say what produced them."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

import reglab
from reglab.cli.main import main
from reglab.engine.monitors import evaluate
from reglab.runs.export import TOLERANCE, Standardize, export, load_sequential, to_sequential, trained_model
from reglab.runs.folder import write_run

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two digits models (λ 0.5 and 5), standardized inputs, written as a run folder."""
    config = reglab.TrainConfig(data="digits", epochs=2, lmbda=(0.5, 5.0), hidden=(12,), standardize=True)
    result = reglab.train(config)
    return result, write_run(result, tmp_path_factory.mktemp("export") / "run", figures=False)


def reglab_outputs(result, model, X_raw):
    """The trained batched model's outputs on raw inputs, standardized as training saw them."""
    X = torch.from_numpy(result.standardization.apply(X_raw))
    with torch.no_grad():
        return result.fit.model.output(X)[model].numpy()


def test_sequential_computes_what_the_trained_model_computes(run):
    result, folder = run
    raw = reglab.load_dataset("digits")
    for source in (result, folder):  # the Python object and the run folder give the same network
        net = to_sequential(source, model=1)
        assert isinstance(net[0], Standardize) and isinstance(net[1], torch.nn.Linear)
        with torch.no_grad():
            out = net(torch.from_numpy(raw.validation.X)).numpy()
        np.testing.assert_allclose(out, reglab_outputs(result, 1, raw.validation.X), rtol=0, atol=TOLERANCE)
    # and its accuracy on the validation split is the one training recorded (the compiled kernel's evaluation)
    acc = np.mean(out.argmax(1) == raw.validation.y)
    assert acc == pytest.approx(result.fit.history.get("validation_accuracy")[-1, 1], abs=1e-12)


@pytest.mark.parametrize("fmt", ["torch", "safetensors", "onnx"])
def test_each_format_loads_back_and_runs_like_reglab(run, tmp_path, fmt):
    result, folder = run
    if fmt == "safetensors":
        st = pytest.importorskip("safetensors.torch")
    if fmt == "onnx":
        pytest.importorskip("onnx")
        ort = pytest.importorskip("onnxruntime")
    path = tmp_path / {"torch": "m.pt", "safetensors": "m.safetensors", "onnx": "m.onnx"}[fmt]
    done = export(folder, path, fmt, model=0)
    assert done.max_difference is not None and done.max_difference <= TOLERANCE
    X = reglab.load_dataset("digits").test.X
    expected = reglab_outputs(result, 0, X)
    if fmt == "torch":  # plain torch: the state_dict with weights_only, the network from the .json beside it
        state = torch.load(path, weights_only=True)
        description = json.loads(path.with_suffix(".json").read_text())
        assert description["sizes"] == [64, 12, 10] and description["output"] == "sigmoid"
        np.testing.assert_array_equal(state["1.weight"].numpy(), result.fit.model.weights[0][0].numpy())
        got = load_sequential(path)(torch.from_numpy(X)).detach().numpy()
    elif fmt == "safetensors":
        tensors = st.load_file(str(path))
        np.testing.assert_array_equal(tensors["3.bias"].numpy(), result.fit.model.biases[1][0].numpy())
        got = load_sequential(path)(torch.from_numpy(X)).detach().numpy()
    else:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(None, {"input": X})[0]
        meta = json.loads(session.get_modelmeta().custom_metadata_map["reglab"])
        assert meta["standardization"] is not None and meta["versions"]["reglab"] == reglab.__version__
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize(("activation", "cost", "dtype"), [("tanh", "log-likelihood", "float32"),
                                                           ("relu", "cross-entropy", "float64"),
                                                           ("linear", "quadratic", "float32")])
def test_other_activations_costs_and_float64(activation, cost, dtype, tmp_path):
    config = reglab.TrainConfig(data="digits", epochs=1, hidden=(7, 5), activation=activation, cost=cost, dtype=dtype,
                                init="default", eta=(0.05,), engine="tensor")  # no new kernel to compile
    result = reglab.train(config)
    net = to_sequential(result)
    X = torch.as_tensor(reglab.load_dataset("digits").test.X, dtype=result.fit.model.dtype)
    with torch.no_grad():
        np.testing.assert_allclose(net(X).numpy(), result.fit.model.output(X)[0].numpy(), rtol=0, atol=TOLERANCE)
    assert net[0].weight.dtype == result.fit.model.dtype
    if cost == "log-likelihood":
        assert isinstance(net[-1], torch.nn.Softmax)
    if importlib.util.find_spec("onnx") and importlib.util.find_spec("onnxruntime"):
        assert export(result, tmp_path / "m.onnx", "onnx").max_difference <= TOLERANCE


def test_text_classes_travel_with_the_model(tmp_path):
    rng = np.random.default_rng(0)
    y = np.array(["cat", "dog", "owl"])[rng.integers(0, 3, 90)]
    X = rng.normal(size=(90, 4)) + (y == "dog")[:, None]
    np.savez(tmp_path / "pets.npz", X=X, y=y)
    result = reglab.train(reglab.TrainConfig(data=str(tmp_path / "pets.npz"), epochs=1, hidden=(4,)))
    assert trained_model(result).classes == ["cat", "dog", "owl"]
    export(result, tmp_path / "pets.pt")
    assert json.loads((tmp_path / "pets.json").read_text())["classes"] == ["cat", "dog", "owl"]
    out = write_run(result, tmp_path / "run", figures=False)
    assert json.loads((out / "data.json").read_text())["classes"] == ["cat", "dog", "owl"]
    assert json.loads((out / "summary.json").read_text())["classes"] == ["cat", "dog", "owl"]


def test_a_sweep_cell_exports_the_model_a_run_of_that_cell_trains(tmp_path, capsys):
    """A cell's weights (trained in a chunk of three) are those of the same model trained alone."""
    from reglab.sweep import read_results

    out = tmp_path / "sweep"
    assert main(["sweep", "--data", "digits", "--epochs", "2", "--hidden", "6", "--lmbda", "0.1", "1", "10",
                 "--quiet", "--no-plots", "--out", str(out)]) == 0
    capsys.readouterr()
    row = next(r for r in read_results(out) if r["lmbda"] == 1.0)
    assert main(["export", str(out), "--cell", row["cell"], "--to", "torch", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["max_difference"] <= TOLERANCE and written["paths"][0].endswith(f"cell-{row['cell']}.pt")
    alone = reglab.train(reglab.TrainConfig(data="digits", epochs=2, hidden=(6,), lmbda=(1.0,)))
    state = torch.load(written["paths"][0], weights_only=True)
    np.testing.assert_array_equal(state["0.weight"].numpy(), alone.fit.model.weights[0][0].numpy())


def test_cli_export_of_a_run_and_its_errors(run, capsys):
    _, folder = run
    assert main(["export", str(folder), "--model", "1", "--to", "torch"]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"wrote {folder / 'export' / 'model-1.pt'}, {folder / 'export' / 'model-1.json'}")
    assert (folder / "export" / "model-1.pt").is_file()
    assert main(["export", str(folder), "--model", "2"]) == 2
    assert "--model 2 is not one of the 2 model(s)" in capsys.readouterr().err
    assert main(["export", str(folder), "--cell", "abc"]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err
    assert main(["export", str(folder / "nothing")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_run_records_say_what_produced_them(run):
    _, folder = run
    summary = json.loads((folder / "summary.json").read_text())
    versions, machine = summary["versions"], summary["machine"]
    assert versions["reglab"] == reglab.__version__ and versions["torch"] == torch.__version__
    assert versions["numpy"] == np.__version__ and machine["cores"] >= 1 and machine["system"]
    assert summary["standardized"] is True and summary["classes"] is None
    data = json.loads((folder / "data.json").read_text())
    assert len(data["standardization"]["mean"]) == 64


def test_evaluation_of_a_standardized_run_uses_the_training_splits_statistics(run):
    """Validation is measured on inputs standardized by the training split's mean and sd (not its own)."""
    result, _ = run
    raw = reglab.load_dataset("digits")
    X = torch.from_numpy(result.standardization.apply(raw.validation.X))
    Y = torch.nn.functional.one_hot(torch.from_numpy(raw.validation.y), 10).float()
    _, acc = evaluate(result.fit.model, X, torch.from_numpy(raw.validation.y), Y)
    np.testing.assert_array_equal(acc.numpy(), result.fit.history.get("validation_accuracy")[-1])
