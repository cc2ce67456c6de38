"""CLI smoke tests in tmp_path: train, run, convert; bad input gives one line and exit code 2."""

import json

import numpy as np
import pytest

from reglab.cli.main import main

FAST = ["--data", "digits", "--epochs", "2", "--quiet"]


def test_train_writes_a_complete_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *FAST, "--lmbda", "0.1", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "L2([0.1, 5])" in text and "run folder" in text
    for name in ("config.json", "metrics.csv", "summary.json", "weights_initial.npz", "weights_final.npz",
                 "accuracy_cost.png", "layer_rms.png", "weight_histograms.png"):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*.tmp"))
    w = np.load(out / "weights_final.npz", allow_pickle=False)
    assert w["W0"].shape == (2, 30, 64) and w["b1"].shape == (2, 10)
    header = (out / "metrics.csv").read_text().splitlines()[0]
    assert header == "epoch,model,layer,metric,value"


def test_train_json_summary(tmp_path, capsys):
    assert main(["train", *FAST, "--lambda", "0", "1000", "--json", "--out", str(tmp_path / "r")]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["train_seconds"] > 0 and len(s["models"]) == 2
    m0, m1 = s["models"]
    for key in ("lmbda", "final_validation_accuracy", "best_validation_accuracy", "final_test_accuracy", "diverged", "layers"):
        assert key in m0
    assert 0 <= m0["final_validation_accuracy"] <= 1
    assert {"sum", "mean", "l1", "l2", "rms", "var", "max_abs", "frac_small", "zeros"} <= set(m0["layers"][0])
    assert m1["layers"][0]["l2"] < m0["layers"][0]["l2"]  # λ = 1000 shrinks the first layer


def test_config_json_reruns_the_same_run(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["train", *FAST, "--json", "--out", str(a)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["train", "--config", str(a / "config.json"), "--quiet", "--json", "--out", str(b)]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first["models"][0]["layers"] == second["models"][0]["layers"]


def test_run_prints_epochs_and_before_after_table(tmp_path, capsys):
    assert main(["run", "--data", "digits", "--epochs", "2", "--quiet", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "epoch   1/2  validation accuracy" in out and "epoch   2/2" in out
    assert "weights before → after" in out and "1/√n_in" in out and "1/√N" in out


def test_convert_table(capsys):
    assert main(["convert", "--lmbda", "5", "--n", "50000", "--batch-size", "10", "--json"]) == 0
    rows = {r["system"]: r["value"] for r in json.loads(capsys.readouterr().out)}
    assert rows["torch"] == pytest.approx(1e-4) and rows["sklearn"] == pytest.approx(1e-3)
    assert rows["keras"] == pytest.approx(5e-5) and rows["book"] == pytest.approx(5.0)
    assert main(["convert", "--from", "sklearn", "--value", "0.001", "--n", "50000", "--batch-size", "10", "--json"]) == 0
    rows = {r["system"]: r["value"] for r in json.loads(capsys.readouterr().out)}
    assert rows["book"] == pytest.approx(5.0)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--eta", "-1"], "--eta values must be finite numbers ≥ 0"),
        (["train", "--lmbda", "nan"], "--lmbda values must be finite numbers ≥ 0"),
        (["train", "--batch-size", "0"], "--batch-size must be a positive integer"),
        (["train", "--sizes", "784,30,10"], "--sizes 784,30,10 does not fit the data: it has 64 inputs and 10 classes"),
        (["train", "--train-size", "100000"], "--train-size 100000 does not fit"),
        (["train", "--batch-size", "5000"], "--batch-size 5000 exceeds"),
        (["train", "--config", "/nonexistent/config.json"], "config file /nonexistent/config.json does not exist"),
        (["train", "--optimizer", "adamw"], "--optimizer adamw is Adam with decoupled decay"),
        (["train", "--early-stop", "2", "--schedule", "2"], "choose one"),
        (["train", "--data", "/nonexistent/file.npz"], "nonexistent"),
        (["convert", "--n", "10"], "give either --lmbda"),
        (["convert", "--lmbda", "-3", "--n", "10"], "must be a finite number ≥ 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    if argv[0] == "train":
        argv = [*argv, "--data" if "--data" not in argv else "--quiet", *(["digits"] if "--data" not in argv else []),
                "--quiet", "--epochs", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reglab: error: ") and message in err[0], err


def test_unknown_choice_is_one_argparse_line_naming_the_command(capsys):
    assert main(["train", "--reg", "l3"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("reglab train: error: argument --reg: invalid choice: 'l3'"), err
    assert err[0].endswith("(see reglab train --help)")


def test_bad_config_file(tmp_path, capsys):
    f = tmp_path / "c.json"
    f.write_text('{"epochs": 2, "colour": "red"}')
    assert main(["train", "--config", str(f), "--quiet"]) == 2
    assert "unknown configuration keys: colour" in capsys.readouterr().err
    f.write_text("{not json")
    assert main(["train", "--config", str(f), "--quiet"]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_debug_shows_the_traceback():
    from reglab.errors import ReglabError

    with pytest.raises(ReglabError):
        main(["train", "--eta", "-1", "--debug"])


def test_diverging_model_is_marked_and_others_go_on(tmp_path, capsys):
    assert main(["train", "--data", "digits", "--epochs", "3", "--activation", "relu", "--init", "he", "--cost", "quadratic",
                 "--eta", "0.1", "1e30", "--lmbda", "0", "--quiet", "--json", "--out", str(tmp_path / "r")]) == 0
    s = json.loads(capsys.readouterr().out)
    ok, bad = s["models"]
    assert not ok["diverged"] and bad["diverged"] and bad["diverged_epoch"] == 1
    assert ok["final_validation_accuracy"] > 0.5


def test_monitor_train_running_or_exact_measures_without_changing_the_training(tmp_path, capsys):
    runs = {}
    for how in ("running", "exact"):
        out = tmp_path / how
        assert main(["train", *FAST, "--monitor-train", how, "--json", "--out", str(out)]) == 0
        capsys.readouterr()
        assert json.loads((out / "config.json").read_text())["monitor_train"] == how
        rows = [r.split(",") for r in (out / "metrics.csv").read_text().splitlines()[1:]]
        runs[how] = {(int(e), metric): float(v) for e, m, layer, metric, v in rows if layer == ""}
    running, exact = runs["running"], runs["exact"]
    assert running[(2, "validation_accuracy")] == exact[(2, "validation_accuracy")]  # the same weights
    assert running[(0, "train_cost")] == exact[(0, "train_cost")]  # epoch 0 is measured exactly
    assert running[(2, "train_cost")] != exact[(2, "train_cost")]  # epoch 2: during the epoch, or after it
    assert 0 < running[(2, "train_accuracy")] <= 1


def test_train_folds_shows_each_models_fold_and_the_mean_over_folds(tmp_path, capsys):
    """--folds 3: the models' table has a fold column; a λ table gives the mean ± sd over the folds and the
    choice line λ_min ± standard error, as `reglab sweep --folds`; --json has each model's fold and, per λ,
    mean, sd and standard error over the folds (checked against numpy) and the 1-SE choice."""
    argv = ["train", *FAST, "--lmbda", "0.1", "5", "--folds", "3", "--no-plots"]
    assert main([*argv, "--json", "--out", str(tmp_path / "a")]) == 0
    s = json.loads(capsys.readouterr().out)
    assert [(m["lmbda"], m["fold"]) for m in s["models"]] == [(lam, f) for lam in (0.1, 5.0) for f in range(3)]
    (curve,) = s["curves"]
    for point in curve["lambda"]:
        acc = np.array([m["final_validation_accuracy"] for m in s["models"] if m["lmbda"] == point["lmbda"]])
        got = point["final_validation_accuracy"]
        assert got["mean"] == pytest.approx(acc.mean()) and got["sd"] == pytest.approx(acc.std(ddof=1))
        assert got["se"] == pytest.approx(acc.std(ddof=1) / np.sqrt(3))
    means = {p["lmbda"]: p["final_validation_accuracy"]["mean"] for p in curve["lambda"]}
    assert curve["selection"]["best_lmbda"] == max(means, key=lambda lam: (means[lam], lam))

    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    text = capsys.readouterr().out
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines() if line.startswith("│")]
    header = next(line for line in text.splitlines() if "model" in line and "fold" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]][4] == "fold"
    assert [r[4] for r in rows[:6]] == ["0", "1", "2", "0", "1", "2"]
    per_lmbda = {float(r[0]): r[3] for r in rows[6:]}  # held-out %: mean ± sd over the folds
    for p in curve["lambda"]:
        stats = p["final_validation_accuracy"]
        assert per_lmbda[p["lmbda"]] == f"{100 * stats['mean']:.2f} ± {100 * stats['sd']:.2f}"
    best = curve["selection"]
    assert f"λ_min = {best['best_lmbda']:.4g} (held-out folds {100 * best['best_mean']:.2f}% ± " \
           f"{100 * best['best_se']:.2f}% standard error over seeds × folds)" in text
