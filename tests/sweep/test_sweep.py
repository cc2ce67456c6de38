"""Sweeps: grid parsing, chunk plans, the 1-SE rule worked by hand, the API end to end, the CLI, Ctrl-C and resume."""

import json
import math

import numpy as np
import pytest

from reglab.cli.main import main
from reglab.config import TrainConfig
from reglab.errors import ReglabError
from reglab.sweep import SweepInterrupted, SweepProgress, one_se_rule, parse_values, plan, read_results, sweep
from reglab.sweep.grid import cells_of, group_configs, normalize_grid
from reglab.sweep.memory import CAP, available_memory, bytes_per_model, models_per_chunk

FAST = dict(data="digits", epochs=2, eta=(0.5,))


pytestmark = pytest.mark.usefixtures("one_thread")


# -- grid ----------------------------------------------------------------------------------------
def test_parse_values_lists_and_log_ranges():
    assert parse_values("1e-2:1e2:5") == (0.01, 0.1, 1.0, 10.0, 100.0)
    thirteen = parse_values("1e-4:1e2:13")
    assert len(thirteen) == 13 and thirteen[0] == 1e-4 and thirteen[-1] == 100.0
    assert np.allclose(np.diff(np.log10(thirteen)), 0.5)
    assert parse_values("0, 1e-3:1:4") == (0.0, 0.001, 0.01, 0.1, 1.0)
    assert parse_values("100,30", int) == (100, 30)
    for bad in ("1:2", "0:1:3", "1:10:0", "1:10:1", "a", ""):
        with pytest.raises(ValueError):
            parse_values(bad)


def test_grid_rejects_fixed_unknown_and_repeated_axes():
    base = TrainConfig(**FAST)
    for grid, message in [({"seed": [0, 1]}, "cannot be a grid axis"), ({"colour": [1]}, "not a training setting"),
                          ({"lmbda": [1, 1]}, "lists 1 twice"), ({"reg": []}, "at least one value")]:
        with pytest.raises(ReglabError, match=message):
            normalize_grid(base, grid)
    with pytest.raises(ReglabError, match="never on the test set"):
        sweep(base, {"lmbda": [1.0]}, metric="final_test_accuracy")
    numpy_grid = normalize_grid(base, {"lmbda": np.logspace(-1, 1, 3), "train_size": np.array([100]), "hidden": [[100, 30]]})
    assert numpy_grid == {"lmbda": (0.1, 1.0, 10.0), "eta": (0.5,), "train_size": (100,), "hidden": ((100, 30),)}


def test_cell_keys_name_settings_not_chunks():
    base = TrainConfig(**FAST, seeds=2)
    (group,) = group_configs(base, normalize_grid(base, {"lmbda": [0.1, 1.0, 10.0]}))
    whole = {c.key: c for c in cells_of(group)}
    parts = [c for part in (group.replace(lmbda=(0.1,)), group.replace(lmbda=(1.0, 10.0))) for c in cells_of(part)]
    assert [c.key for c in parts] == list(whole) and len(whole) == 6
    assert cells_of(group.replace(reg="l1-prox"))[0].key not in whole


# -- chunk plans ---------------------------------------------------------------------------------
def _check_plan(groups, chunks, max_models):
    for ch in chunks:
        assert [c.key for c in ch.cells] == [c.key for c in cells_of(ch.config)]  # a chunk's models are its cells
    planned = [c.key for ch in chunks for c in ch.cells]
    assert sorted(planned) == sorted(c.key for g in groups for c in cells_of(g))  # every cell once
    return [len(ch) for ch in chunks]


def test_plan_cuts_lambda_first_then_eta_and_never_seeds():
    base = TrainConfig(**FAST, seeds=3)
    groups = group_configs(base, normalize_grid(base, {"lmbda": parse_values("1e-4:1e2:13")}))
    assert _check_plan(groups, plan(groups, 12), 12) == [12, 9, 9, 9]  # 13 λ in balanced blocks of ≤ 4
    groups = group_configs(base, normalize_grid(base, {"lmbda": [1.0, 2.0], "eta": [0.1, 0.2, 0.3, 0.4, 0.5]}))
    sizes = _check_plan(groups, plan(groups, 6), 6)
    assert max(sizes) <= 6 and len(sizes) == 2 * 3  # η cut too: one λ alone is 15 models
    assert set(_check_plan(groups, plan(groups, 2), 2)) == {3}  # seeds stay together


def test_plan_reg_groups_and_one_chunk_for_32_lambdas():
    base = TrainConfig(**FAST)
    groups = group_configs(base, normalize_grid(base, {"lmbda": parse_values("1e-3:1e2:32"), "reg": ["l2", "l1-prox"]}))
    chunks = plan(groups, 32)
    assert [(len(c), c.config.reg) for c in chunks] == [(32, "l2"), (32, "l1-prox")]


def test_memory_estimate():
    small, wide = TrainConfig(hidden=(30,)), TrainConfig(hidden=(300,))
    assert bytes_per_model(wide, 784, 10) > 5 * bytes_per_model(small, 784, 10)
    assert bytes_per_model(small.replace(optimizer="adam"), 784, 10) > bytes_per_model(small, 784, 10)
    assert models_per_chunk(small, 784, 10, budget=2 << 30) == CAP["cpu"]  # [784, 30, 10] × 64 fits in 1 GiB
    assert models_per_chunk(wide, 784, 10, budget=10 << 20) == 1  # never 0
    assert available_memory("cpu") > 0


# -- the 1-SE rule, worked by hand ---------------------------------------------------------------
def test_one_se_rule_by_hand():
    lmbda = np.array([0.01, 0.1, 1.0, 10.0])
    scores = np.array([[0.90, 0.91, 0.89],   # mean 0.90
                       [0.93, 0.91, 0.92],   # mean 0.92, sd 0.01, SE 0.01/√3 = 0.005774
                       [0.916, 0.915, 0.917],  # mean 0.916 ≥ 0.92 − 0.005774 = 0.914226: within one SE
                       [0.80, 0.81, 0.79]])
    s = one_se_rule(lmbda, scores)
    assert s.best_lmbda == 0.1 and s.best_mean == pytest.approx(0.92)
    assert s.best_se == pytest.approx(0.01 / math.sqrt(3)) and s.threshold == pytest.approx(0.92 - 0.01 / math.sqrt(3))
    assert s.one_se_lmbda == 1.0 and s.se_defined


def test_one_se_rule_ties_one_seed_and_nan():
    lmbda = np.array([0.1, 1.0, 10.0])
    tie = one_se_rule(lmbda, np.array([[0.9], [0.9], [0.5]]))
    assert tie.best_lmbda == 1.0 and tie.one_se_lmbda == 1.0  # ties go to the larger λ
    assert not tie.se_defined and tie.best_se is None  # one seed: SE undefined, taken as 0
    partial = one_se_rule(lmbda, np.array([[0.9, np.nan], [0.95, 0.93], [np.nan, np.nan]]))
    assert partial.best_lmbda == 1.0 and partial.se_defined
    assert one_se_rule(lmbda, np.full((3, 2), np.nan)) is None


# -- the API end to end --------------------------------------------------------------------------
def test_sweep_over_regularizers_widths_and_sizes(tmp_path):
    base = TrainConfig(**FAST, seeds=2)
    grid = {"lmbda": [0.01, 1.0, 1e4], "reg": ["l2", "l1-prox"], "hidden": [(30,), (20, 10)], "train_size": [600, 1197]}
    r = sweep(base, grid, out=tmp_path / "s", plot=False)
    assert len(r.rows) == 3 * 2 * 2 * 2 * 2 and r.trained == len(r.rows) and r.reused == 0
    assert len(r.curves) == 8 and all(c.selection is not None for c in r.curves)
    rows = read_results(tmp_path / "s")
    assert [row["cell"] for row in rows] == [row["cell"] for row in r.rows]
    for key in ("reg", "init", "hidden", "train_size", "eta", "lmbda", "seed", "final_train_accuracy",
                "best_validation_accuracy", "final_test_cost", "best_train_cost", "best_epoch", "diverged", "diverged_epoch",
                "layer0_l2", "layer1_frac_zeros"):
        assert key in rows[0], key
    assert {row["n"] for row in rows} == {600, 1197} and {row["sizes"] for row in rows} == {"64,30,10", "64,20,10,10"}
    l2_huge = [row for row in rows if row["reg"] == "l2" and row["lmbda"] == 1e4]
    assert all(row["diverged"] and row["diverged_epoch"] == 1 for row in l2_huge)  # ηλ/n > 2: recorded, the sweep goes on
    prox_huge = [row for row in rows if row["reg"] == "l1-prox" and row["lmbda"] == 1e4]
    assert all(not row["diverged"] and row["layer0_frac_zeros"] == 1.0 for row in prox_huge)  # collapsed, kept
    assert all(row["final_validation_accuracy"] < 0.2 for row in prox_huge)  # chance level, shown as such
    summary = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert summary["status"] == "complete" and summary["cells"] == 48 and len(summary["curves"]) == 8
    assert summary["curves"][0]["selection"]["metric"] == "final_validation_accuracy"
    header, *lines = (tmp_path / "s" / "epochs.csv").read_text().splitlines()
    assert header == "cell,epoch,layer,metric,value" and len({line.split(",")[0] for line in lines}) == 48


def test_ctrl_c_keeps_finished_chunks_and_resume_equals_uninterrupted(tmp_path):
    base = TrainConfig(**FAST, seeds=2)
    grid = {"lmbda": [0.01, 0.1, 1.0, 10.0]}

    class StopAfterFirstChunk(SweepProgress):
        def chunk_finished(self, chunk, output):
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        sweep(base, grid, out=tmp_path / "cut", max_models=4, progress=StopAfterFirstChunk(), plot=False)
    assert (info.value.done, info.value.total) == (4, 8)
    assert len(read_results(tmp_path / "cut")) == 4
    assert json.loads((tmp_path / "cut" / "sweep.json").read_text())["status"] == "interrupted"
    (tmp_path / "cut" / "chunks" / "junk.json").write_text("{not json")  # ignored
    left = tmp_path / "cut" / f".results.csv.{2**22 + 1}.{'0' * 32}.tmp"  # what a kill mid-write leaves: removed
    left.write_text("cell,")
    (tmp_path / "cut" / "chunks" / ".notes.tmp").write_text("mine")  # a name reglab never writes: kept
    resumed = sweep(base, grid, out=tmp_path / "cut", max_models=4, plot=False)
    assert (resumed.trained, resumed.reused) == (4, 4)
    whole = sweep(base, grid, out=tmp_path / "whole", max_models=4, plot=False)
    assert read_results(tmp_path / "cut") == read_results(tmp_path / "whole") and resumed.rows == whole.rows
    assert not left.exists() and (tmp_path / "cut" / "chunks" / ".notes.tmp").read_text() == "mine"


def test_a_32_value_lambda_sweep_is_one_chunk(tmp_path):
    r = sweep(TrainConfig(**{**FAST, "epochs": 1}), {"lmbda": parse_values("1e-3:1e2:32")}, out=tmp_path / "b",
              max_models=32, plot=False)
    assert [c["models"] for c in r.chunks] == [32] and r.chunks[0]["train_seconds"] > 0


# -- the CLI -------------------------------------------------------------------------------------
SWEEP = ["sweep", "--data", "digits", "--epochs", "2", "--eta", "0.5", "--quiet"]


def test_cli_sweep_tables_plots_and_rerun(tmp_path, capsys):
    out = tmp_path / "s"
    argv = [*SWEEP, "--lmbda", "1e-2:1e2:3", "--reg", "l2,l1-prox", "--seeds", "2", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.count("★ min") == 2 and text.count("λ_min = ") == 2 and "λ_1se = " in text
    assert "test is reported, never used" in text and "zeros" in text and "12 cells trained, 0 reused" in text
    for name in ("results.csv", "epochs.csv", "sweep.json", "curve_reg-l2.png", "curve_reg-l1-prox.png", "validation_curves.png"):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.rglob(".*.tmp"))
    before = (out / "results.csv").read_text()
    assert main(argv) == 0
    assert "0 cells trained, 12 reused" in capsys.readouterr().out
    assert (out / "results.csv").read_text() == before


def test_cli_one_seed_says_the_se_is_undefined(tmp_path, capsys):
    assert main([*SWEEP, "--lmbda", "0.1,1", "--no-plots", "--out", str(tmp_path / "s")]) == 0
    assert "standard error is undefined with 1 seed" in capsys.readouterr().out
    assert not list((tmp_path / "s").glob("*.png"))


def test_cli_json(tmp_path, capsys):
    assert main([*SWEEP, "--lmbda", "0.1,1", "--seeds", "2", "--no-plots", "--json", "--out", str(tmp_path / "s")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["grid"]["lmbda"] == [0.1, 1.0] and summary["curves"][0]["selection"]["se_defined"] is True
    chunks = summary["chunk_times"]  # the training time, in all and per chunk, as `reglab train --json` has it
    assert sum(c["models"] for c in chunks) == 4 and not any(c["reused"] for c in chunks)
    assert summary["train_seconds"] == sum(c["train_seconds"] for c in chunks) > 0
    assert all(c["seconds"] >= c["train_seconds"] for c in chunks)
    assert main([*SWEEP, "--lmbda", "0.1,1", "--seeds", "2", "--no-plots", "--json", "--out", str(tmp_path / "s")]) == 0
    again = json.loads(capsys.readouterr().out)  # resumed: every chunk reused, with the time it took then
    assert again["chunk_times"] == [{**c, "reused": True} for c in chunks] and again["train_seconds"] == summary["train_seconds"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--lmbda", "1:2:x"], "--lmbda 1:2:x: invalid literal"),
        (["--lmbda", "0:1:3"], "a log range needs START, STOP > 0"),
        (["--reg", "l3"], "--reg 'l3' is not one of"),
        (["--train-size", "100000"], "--train-size 100000 does not fit"),
        (["--max-models", "0"], "--max-models must be a positive integer"),
        (["--address", "auto"], "use it with --backend ray"),
        (["--hidden", "30", "30"], "--hidden lists 30 twice"),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path, capsys, argv, message):
    code = main([*SWEEP, *argv, "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert not (tmp_path / "s" / "results.csv").exists()  # nothing trained before the error


def test_dead_units_by_hand():
    from reglab.sweep.chunks import dead_units

    W0 = np.array([[[0.0, 0.0], [1.0, 0.0], [2.0, 3.0]],   # model 0: unit 0 gets nothing in
                   [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]])  # model 1: every unit alive
    W1 = np.array([[[1.0, 1.0, 0.0], [1.0, 2.0, 0.0]],     # model 0: unit 2 sends nothing out
                   [[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]]])    # model 1: unit 1 sends nothing out
    (dead,) = dead_units([W0, W1])
    assert dead.tolist() == [2, 1]
