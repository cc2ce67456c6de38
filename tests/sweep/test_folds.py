"""Cross-validated sweeps: glmnet's rule over folds × seeds worked by hand (ties, the one-replicate case),
every fold a model of the same batch, the held-out folds choosing λ and the test set never."""

import math

import numpy as np
import pytest

from reglab.cli.main import main
from reglab.config import TrainConfig
from reglab.engine.data import kfold
from reglab.errors import ReglabError
from reglab.sweep import one_se_rule, plan, read_results, sweep
from reglab.sweep.grid import cells_of, group_configs, normalize_grid
from reglab.sweep.select import curves, mean_sd_se

pytestmark = pytest.mark.usefixtures("one_thread")


# -- the rule on hand-made tables ------------------------------------------------------------------
def test_one_se_over_folds_and_seeds_by_hand():
    lmbda = np.array([0.1, 1.0, 10.0, 100.0])
    # 2 seeds × 3 folds = 6 replicates per λ
    scores = np.array([[0.80, 0.82, 0.81, 0.79, 0.83, 0.81],   # mean 0.81
                       [0.90, 0.86, 0.88, 0.89, 0.87, 0.88],   # mean 0.88, sd √(0.001/5) = 0.014142, SE 0.0057735
                       [0.875, 0.875, 0.875, 0.875, 0.875, 0.875],  # mean 0.875 ≥ 0.88 − 0.0057735: within one SE
                       [0.70, 0.70, 0.70, 0.70, 0.70, 0.70]])
    s = one_se_rule(lmbda, scores)
    se = math.sqrt(0.001 / 5) / math.sqrt(6)
    assert s.best_lmbda == 1.0 and s.best_mean == pytest.approx(0.88) and s.best_se == pytest.approx(se)
    assert s.one_se_lmbda == 10.0 and s.threshold == pytest.approx(0.88 - se)


def test_ties_exactly_at_the_threshold_count_as_within():
    lmbda = np.array([1.0, 2.0, 4.0])
    best = np.array([0.9, 0.8, 0.9, 0.8])  # mean 0.85, sd 0.057735, SE 0.028868
    mean, _, se = mean_sd_se(best[None])
    at = np.full(4, mean[0] - se[0])  # its mean is the threshold, to the last bit
    s = one_se_rule(lmbda, np.stack([np.full(4, 0.5), best, at]))
    assert s.best_lmbda == 2.0 and s.one_se_lmbda == 4.0


def test_tied_best_means_take_the_largest_lambda():
    lmbda = np.array([0.5, 5.0, 50.0])
    s = one_se_rule(lmbda, np.array([[0.9, 0.8], [0.8, 0.9], [0.1, 0.2]]))
    assert s.best_lmbda == 5.0 and s.best_mean == pytest.approx(0.85)  # 0.5 and 5 tie: the larger λ
    assert s.one_se_lmbda == 5.0


def test_one_fold_one_seed_leaves_the_standard_error_undefined():
    s = one_se_rule(np.array([0.1, 1.0, 10.0]), np.array([[0.7], [0.9], [0.9 - 1e-12]]))
    assert not s.se_defined and s.best_se is None and s.threshold == 0.9
    assert s.best_lmbda == 1.0 and s.one_se_lmbda == 1.0  # SE taken as 0: only λ with mean ≥ the best mean


def test_curves_pair_seeds_and_folds_as_replicates():
    rows = [{"reg": "l2", "lmbda": lam, "seed": seed, "fold": fold, "final_validation_accuracy": acc}
            for lam, base in ((0.1, 0.5), (1.0, 0.9)) for seed in (0, 1) for fold in (0, 1, 2)
            for acc in [base + 0.01 * seed + 0.001 * fold]]
    (c,) = curves(rows)
    assert c.replicates == [(s, f) for s in (0, 1) for f in (0, 1, 2)]
    assert c.values["final_validation_accuracy"].shape == (2, 6) and c.selection.best_lmbda == 1.0
    assert "fold" not in c.settings and "seed" not in c.settings


# -- sweeps with folds -------------------------------------------------------------------------
def test_cells_and_chunks_carry_every_fold(tmp_path):
    base = TrainConfig(data="digits", epochs=1, eta=(0.5,), seeds=2, folds=3)
    (group,) = group_configs(base, normalize_grid(base, {"lmbda": [0.1, 1.0, 10.0]}))
    cells = cells_of(group)
    assert len(cells) == 3 * 2 * 3 and len({c.key for c in cells}) == 18
    assert [c.fold for c in cells[:6]] == [0, 1, 2, 0, 1, 2] and cells[0].settings()["fold"] == 0
    assert set(len(ch) for ch in plan([group], 7)) == {6}  # a λ's 6 runs (2 seeds × 3 folds) are never split
    with pytest.raises(ReglabError, match="cannot be a grid axis"):
        normalize_grid(base, {"folds": [2, 3]})


def test_sweep_with_folds_chooses_on_held_out_rows(tmp_path):
    base = TrainConfig(data="digits", epochs=2, eta=(0.5,), seeds=2, folds=3, train_size=600)
    r = sweep(base, {"lmbda": [0.01, 10.0, 1e3]}, out=tmp_path / "cv", plot=False)
    rows = read_results(tmp_path / "cv")
    assert len(rows) == 3 * 2 * 3 and {row["fold"] for row in rows} == {0, 1, 2}
    assert {row["n"] for row in rows} == {400}  # each model trains on the 400 rows outside its fold
    (curve,) = r.curves
    assert len(curve.replicates) == 6 and curve.selection.se_defined
    assert curve.selection.best_lmbda in (0.01, 10.0) and curve.selection.one_se_lmbda >= curve.selection.best_lmbda
    # the held-out accuracy is on 200 rows: a multiple of 1/200
    acc = np.array([row["final_validation_accuracy"] for row in rows])
    assert np.allclose(np.round(acc * 200), acc * 200)


def test_cli_folds(tmp_path, capsys):
    argv = ["sweep", "--data", "digits", "--epochs", "1", "--eta", "0.5", "--quiet", "--no-plots",
            "--lmbda", "0.1,10", "--folds", "2", "--train-size", "300", "--out", str(tmp_path / "s")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "held-out %" in out and "standard error over seeds × folds" in out and "4 cells trained" in out


@pytest.mark.parametrize("argv,message", [
    (["--folds", "1"], "--folds must be 0 (no cross-validation) or at least 2"),
    (["--folds", "6", "--train-size", "5"], "--folds 6 is more folds than the 5 training examples"),
    (["--folds", "2", "--train-size", "12", "--batch-size", "10"], "--batch-size 10 exceeds the 6 training examples of a fold"),
])
def test_cli_bad_folds_are_one_line(tmp_path, capsys, argv, message):
    code = main(["sweep", "--data", "digits", "--epochs", "1", "--quiet", "--lmbda", "1", *argv, "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_kfold_is_what_the_sweep_uses():
    # the sweep's folds are the engine's kfold over the first train_size rows, seeded by the base seed
    assert [len(f) for f in kfold(600, 3, 0)] == [200, 200, 200]
