"""``reglab reproduce nielsen-ch3``: the plan, the statistics, and small runs of the whole machinery."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from reglab import reproduce as rp
from reglab.cli.main import main
from reglab.data.dataset import Dataset, Split
from reglab.errors import ReglabError
from reglab.experiments import judge, tolerance_text
from reglab.reproduce import report as rr

pytestmark = pytest.mark.usefixtures("one_thread")


def synthetic(n_train=1200, n_eval=300, seed=0) -> Dataset:
    """784 features, 10 classes, learnable (a class shifts its own block of pixels)."""
    rng = np.random.default_rng(seed)

    def split(n):
        y = rng.integers(0, 10, n)
        X = rng.random((n, 784), dtype=np.float32) * 0.3
        for k in range(10):
            X[y == k, k * 78 : (k + 1) * 78] += 0.7
        return Split(X.astype(np.float32), y.astype(np.int64))

    return Dataset("synthetic", split(n_train), split(n_eval), split(n_eval), 10, "test")


def test_every_experiment_of_the_reference_is_defined():
    experiments = rp.nielsen_ch3()
    assert [e.id for e in experiments] == list("ABCDEFGHIJK")
    for e in experiments:
        labels = {label for label, _ in e.arms}
        assert e.claims and all(c.on in labels for c in e.claims)
    k = rp.select(experiments, ["K"])[0]
    assert [a.epochs for _, a in k.arms] == [15000, 7500, 3000, 1500, 750, 300, 150, 75, 30]
    assert k.arm("1,000").lmbda == pytest.approx(0.1)


def test_plan_trains_shared_arms_once_and_groups_by_shape():
    groups = rp.plan(rp.select(rp.nielsen_ch3(), ["A", "D", "F", "I", "K"]))
    arms = [a for g in groups for a in g.arms]
    assert len(arms) == len(set(arms))  # A = D and F = K's 50k point: trained once
    h30 = next(g for g in groups if (g.hidden, g.train_size, g.epochs) == (30, None, 30))
    assert len(h30.arms) == 4  # A/D, F/K-50k, I large, I default
    assert h30.curve_splits == ("train", "validation", "test")
    k100 = next(g for g in groups if g.train_size == 100)
    assert k100.curve_splits == () and k100.epochs == 15000  # K reads only the end: no per-epoch evaluation


def test_seeds_by_default_are_each_experiments_own_and_shared_arms_take_the_most():
    experiments = rp.select(rp.nielsen_ch3(), ["A", "C", "D", "F", "G", "I", "K"])
    wanted = {e.id: e.seeds for e in experiments}
    assert wanted["A"] == wanted["F"] == wanted["G"] == 5 and wanted["C"] == wanted["I"] == 3
    groups = rp.plan(experiments)
    h30 = next(g for g in groups if (g.hidden, g.train_size, g.epochs) == (30, None, 30))
    assert h30.seeds == 5  # A/D and F/K-50k need 5; I's arms train beside them with as many
    c = next(g for g in groups if g.train_size == 1000 and g.epochs == 400)
    assert c.seeds == 3
    assert {g.seeds for g in rp.plan(experiments, seeds=2)} == {2}  # --seeds N overrides every experiment
    k = {g.train_size: g.seeds for g in groups if g.hidden == 30 and g.train_size not in (None, 1000)}
    assert k[10_000] == 5 and k[2_000] == k[20_000] == 3  # K's 10,000-image point alone needs 5


def test_book_values_of_i_are_the_books_own_per_arm():
    i = rp.select(rp.nielsen_ch3(), ["I"])[0]
    at30 = {c.on: (c.reference, c.reference_text) for c in i.claims if c.reading.kind == "final"}
    # the book's fig/weight_initialization_30.json: 9637 and 9650 of 10,000 after epoch 30
    assert at30 == {"large": (96.37, "96.37%"), "default": (96.50, "96.50%")}
    assert "training images" in rr.COLUMNS_NOTE


def test_statistics_read_the_curves_as_stated():
    curve = np.array([[0.1, 0.2], [0.5, 0.6], [0.9, 0.7], [0.8, 0.8]])  # (E+1, S), row 0 before training
    cost = np.array([[3.0, 3.0], [2.0, 1.0], [1.0, 2.0], [1.5, 2.5]])
    r = rp.ArmResult(rp.Arm(30, 0.5, 0.0, 3), (0, 1), {"test_accuracy": curve, "test_cost": cost},
                     {"test_accuracy": np.array([0.8, 0.8]), "train_accuracy": np.array([0.85, 0.9])})
    np.testing.assert_allclose(rp.measure(rp.Statistic("best", "test_accuracy"), r), [90, 80])
    np.testing.assert_allclose(rp.measure(rp.Statistic("at", "test_accuracy", 1), r), [50, 60])
    np.testing.assert_allclose(rp.measure(rp.Statistic("final", "test_accuracy"), r), [80, 80])
    np.testing.assert_allclose(rp.measure(rp.Statistic("argmin", "test_cost"), r), [2, 1])
    np.testing.assert_allclose(rp.measure(rp.Statistic("gap", "train_accuracy", other="test_accuracy"), r), [5, 10])
    assert np.isnan(rp.measure(rp.Statistic("rise", "test_accuracy", 20), r)).all()  # too short to say


def test_judging_and_tolerances():
    c = rp.Claim("a", "x", rp.Statistic("final", "test_accuracy"), 95.0, "95%", "±", 0.5)
    assert judge(c, 95.4) and not judge(c, 95.6)
    assert tolerance_text(c) == "±0.5 points"
    below = rp.Claim("a", "gap", rp.Statistic("gap", "train_accuracy", other="test_accuracy"), None, "under 1", "<", 1.0,
                     unit="points")
    assert judge(below, 0.9) and not judge(below, 1.1) and tolerance_text(below) == "< 1 points"


def test_unknown_experiment_is_a_user_error():
    with pytest.raises(ReglabError, match="unknown experiment"):
        rp.select(rp.nielsen_ch3(), ["C", "Z"])


@pytest.fixture(scope="module")
def small_report():
    experiments = rp.select(rp.nielsen_ch3(), ["C", "E", "I"])
    return rp.reproduce(synthetic(), experiments, seeds=2, max_epochs=3)


def test_small_run_gives_rows_for_every_claim(small_report):
    rows = small_report.rows
    claims = [c for e in small_report.experiments for c in e.claims]
    assert len(rows) == len(claims) == 9
    assert all(len(r.values) == 2 and np.isfinite(r.mean) or r.what.startswith("test accuracy rise") for r in rows)
    by_what = {(r.experiment, r.what): r for r in rows}
    # shortened arms are shown but not judged; the epoch-1 numbers of I are comparable
    assert by_what[("C", "test accuracy, best epoch")].verdict == "not comparable"
    assert "trained 3 of the book's 400 epochs" in by_what[("C", "test accuracy, best epoch")].note
    assert by_what[("I", "validation accuracy after epoch 1, large init")].verdict in ("yes", "no")
    curves = small_report.results["I"]["large"].curves["validation_accuracy"]
    assert curves.shape == (4, 2)


def test_an_arm_does_not_depend_on_the_arms_beside_it(small_report):
    alone = rp.reproduce(synthetic(), rp.select(rp.nielsen_ch3(), ["C"]), seeds=2, max_epochs=3)
    np.testing.assert_allclose(alone.results["C"]["λ=0"].curves["test_accuracy"],
                               small_report.results["C"]["λ=0"].curves["test_accuracy"], atol=2e-3)


def test_report_renders_table_json_and_figures(small_report):
    md = rr.to_markdown(small_report, command="reglab reproduce nielsen-ch3 --only C,E,I")
    header = "| " + " | ".join(rr.TABLE_COLUMNS) + " | note |"
    assert header in md and md.count("\n| C |") == 3
    data = json.loads(json.dumps(rr.to_json(small_report), allow_nan=False))
    assert data["columns"] == list(rr.TABLE_COLUMNS) and len(data["rows"]) == 9
    assert {"experiment", "book", "mean", "sd", "difference", "tolerance", "verdict"} <= set(data["rows"][0])
    assert set(rr.figures(small_report)) == {"c_vs_e.png", "i_init.png"}


def test_cli_writes_the_files(shared_data_dir, tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(["reproduce", "nielsen-ch3", "--only", "I", "--max-epochs", "1", "--seeds", "1",
                 "--out", str(out), "--data-dir", str(shared_data_dir)])
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"reproduce.md", "reproduce.json", "report.html", "i_init.png", "runs",
                                               ".reglab.json"}
    printed = capsys.readouterr().out
    assert "| I | large | validation accuracy after epoch 1, large init | 86.43% |" in printed
    rows = json.loads((out / "reproduce.json").read_text())["rows"]
    assert [r["verdict"] for r in rows][2:] == ["not comparable"] * 2
    # the same command again keeps the finished run (resume); --json prints what reproduce.json holds
    args = ["reproduce", "nielsen-ch3", "--only", "I", "--max-epochs", "1", "--seeds", "1", "--out", str(out),
            "--data-dir", str(shared_data_dir)]
    assert main(args) == 0
    assert "kept from an earlier run" in capsys.readouterr().err
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == rows == json.loads((out / "reproduce.json").read_text())["rows"]


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    assert main(["reproduce", "nielsen-ch3", "--only", "Z", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reglab: error: unknown experiment")


def test_an_interrupted_reproduction_resumes_where_it_stopped(tmp_path):
    """Runs finished before an interruption are kept in DIR/runs and read back, not trained again: the
    resumed reproduction trains only the rest and judges exactly as an uninterrupted one."""
    from reglab.reproduce.store import RunStore

    data, experiments = synthetic(n_train=1200, n_eval=100), rp.select(rp.nielsen_ch3(), ["C", "I"])
    store = RunStore(tmp_path, data)
    trained = []

    def stop_in_the_second_run(task, done, total):
        trained.append(task)
        if len(set(trained)) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rp.reproduce(data, experiments, seeds=1, max_epochs=2, progress=stop_in_the_second_run, store=store)
    groups = rp.plan(rp.cap_epochs(experiments, 2), 1)
    assert sum(store.has(g, (0,), torch.float32) for g in groups) == 1
    tasks = []
    resumed = rp.reproduce(data, experiments, seeds=1, max_epochs=2, store=store,
                           progress=lambda task, done, total: tasks.append(task))
    assert sum("kept from an earlier run" in t for t in set(tasks)) == 1
    fresh = rp.reproduce(data, experiments, seeds=1, max_epochs=2)
    assert [r.values for r in resumed.rows] == [r.values for r in fresh.rows]
