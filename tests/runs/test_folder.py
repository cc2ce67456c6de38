"""A run's folder: every file whole, plain arrays, the summary last and pointing back at its folder."""

import csv
import json

import numpy as np

import reglab
from reglab.runs.folder import write_run

FILES = {"config.json", "data.json", "metrics.csv", "summary.json", "weights_initial.npz", "weights_final.npz",
         "accuracy_cost.png", "layer_rms.png", "weight_histograms.png", ".reglab.json"}


def test_a_run_folder_holds_what_reruns_reads_and_plots_the_run(tmp_path):
    config = reglab.TrainConfig(data="digits", epochs=2, lmbda=(0.5, 5.0), hidden=(8,))
    result = reglab.train(config)
    out = write_run(result, tmp_path / "run")
    assert {p.name for p in out.iterdir()} == FILES  # no temporary file left, no lock held
    marker = json.loads((out / ".reglab.json").read_text())
    assert (marker["tool"], marker["command"], marker["config"]) == ("reglab", "train", config.digest())
    assert reglab.TrainConfig.from_dict(json.loads((out / "config.json").read_text())) == config
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run_dir"] == str(out) and len(summary["models"]) == 2
    with np.load(out / "weights_final.npz", allow_pickle=False) as w:
        assert w["W0"].shape == (2, 8, 64) and w["b1"].shape == (2, 10)
        np.testing.assert_array_equal(w["W1"], result.fit.model.numpy_params()["W1"])
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"epoch", "model", "layer", "metric", "value"}
    val = [float(r["value"]) for r in rows if r["metric"] == "validation_accuracy" and r["model"] == "1"]
    np.testing.assert_array_equal(val, result.fit.history.get("validation_accuracy")[:, 1])
