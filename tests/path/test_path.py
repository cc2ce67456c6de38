"""λ paths: the sequence, λ_max found where the network collapses, the warm path equal to the same steps
trained one by one with the engine, several kinds and seeds in one batch, the cold sweep beside, the CLI."""

import json

import numpy as np
import pytest
import torch

from reglab.cli.main import main
from reglab.config import TrainConfig
from reglab.engine.data import TensorData
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.regularizers import L2, DecoupledDecay, L1Prox, Param
from reglab.errors import ReglabError
from reglab.path import PathSettings, Span, path
from reglab.path.batch import mixed
from reglab.path.collapse import find
from reglab.rng import seed_for
from reglab.runs.assemble import load_data
from reglab.sweep import read_results

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(data="digits", train_size=300, eta=(0.5,), epochs=2)


# -- the sequence ----------------------------------------------------------------------------------
def test_sequence_runs_from_lmbda_max_down_to_eps_in_equal_ratios():
    lam = Span(100.0, 1e-4, 30).sequence()
    assert len(lam) == 30 and lam[0] == 100.0 and lam[-1] == pytest.approx(1e-2)
    np.testing.assert_allclose(np.diff(np.log10(lam)), -4 / 29)
    assert Span.parse("50:0.5:3").sequence().tolist() == [50.0, 5.0, 0.5]
    assert Span(None).sequence(2.0)[0] == 2.0


@pytest.mark.parametrize("make,message", [
    (lambda: Span(1.0, 1.0, 30), "--eps must lie in (0, 1)"),
    (lambda: Span(1.0, 2.0, 30), "an empty or inverted range"),
    (lambda: Span(1.0, 0.0, 30), "--eps must lie in (0, 1)"),
    (lambda: Span(1.0, 1e-4, 1), "--steps must be an integer ≥ 2"),
    (lambda: Span(-1.0), "--lmbda-max must be a finite number > 0"),
    (lambda: Span.parse("0.01:100:30"), "an inverted path range"),
    (lambda: Span.parse("5:5:30"), "an empty path range"),
    (lambda: Span.parse("5:1"), "a path range is START:STOP:STEPS"),
    (lambda: PathSettings(kinds=("l2", "l2")), "lists a regularizer twice"),
    (lambda: PathSettings(path_epochs=0), "--path-epochs must be a positive integer"),
])
def test_bad_spans(make, message):
    with pytest.raises(ReglabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


# -- one batch of several kinds ---------------------------------------------------------------------
def test_mixed_regularizer_is_each_models_own_kind():
    reg = mixed(["l1-prox", "decay", "l2"], [3.0, 5.0, 7.0], {})
    w = torch.randn(3, 4, 5, dtype=torch.float64)
    p, step = Param(0, "weight", 10), torch.full((3, 1, 1), 0.1, dtype=torch.float64)
    alone = [L1Prox(3.0), DecoupledDecay(5.0), L2(7.0)]
    for m, r in enumerate(alone):
        torch.testing.assert_close(reg.penalty(w, p)[m], r.penalty(w[m : m + 1], p)[0])
        torch.testing.assert_close(reg.prox(w, step, p)[m], r.prox(w[m : m + 1], step[:1], p)[0])
    assert reg.elementwise(p) is not None  # the decay sorted first: the batch still trains compiled


def test_warm_path_is_the_engine_stepping_down_lambda_from_the_previous_weights(tmp_path):
    base = TrainConfig(**SMALL, seeds=2)
    lam = Span(30.0, 1e-2, 3)
    r = path(base, PathSettings(("l2", "l1-prox"), lam, path_epochs=1), out=tmp_path / "p", plot=False)
    ds = load_data(base)
    data = TensorData.from_dataset(ds, train_size=300)
    for kind, Reg in (("l2", L2), ("l1-prox", L1Prox)):
        for seed in (0, 1):
            model = MLP.initialize([64, 30, 10], seeds=[seed])
            for j, value in enumerate(lam.sequence()):
                fit(model, data, epochs=1, batch_size=10, eta=0.5, regularizer=Reg(value),
                    order_seeds=[seed_for(0, "path", j)], monitor=Monitor(saturation_examples=0))
                (row,) = [x for x in r.rows if x["reg"] == kind and x["seed"] == seed and x["step"] == j]
                assert row["lmbda"] == value and row["start"] == "warm"
                assert row["layer0_l2"] == pytest.approx(float(model.weights[0].double().norm()), rel=1e-5)
                assert row["layer1_zeros"] == float((model.weights[1] == 0).sum())
    assert {(c.settings["start"], c.settings["reg"]) for c in r.curves} == {("warm", "l2"), ("warm", "l1-prox")}
    assert all(len(c.replicates) == 2 for c in r.curves)


def test_lmbda_max_is_where_the_network_collapses():
    base = TrainConfig(**SMALL)
    ds = load_data(base)
    found = find(base, ds, ["l1-prox", "l2"], path_epochs=2)
    for f in found.values():
        probes = f.probes
        j = [p["lmbda"] for p in probes].index(pytest.approx(f.lmbda, rel=1e-5))
        assert probes[j]["collapsed"] and not probes[j - 1]["collapsed"]
        assert all(p["collapsed"] or p["diverged"] for p in probes[j:])
    prox = found["l1-prox"]
    assert "every first-layer weight is exactly 0" in prox.how
    at = next(p for p in prox.probes if p["lmbda"] == pytest.approx(prox.lmbda, rel=1e-5))
    assert at["first_layer_zeros"] == 1.0
    assert "validation accuracy is at chance" in found["l2"].how
    # trained alone at the λ_max found, from the same weights, the L1-prox network has no first-layer weight left
    data = TensorData.from_dataset(ds, train_size=300)
    model = MLP.initialize([64, 30, 10], seeds=[0])
    fit(model, data, epochs=2, batch_size=10, eta=0.5, regularizer=L1Prox(prox.lmbda),
        order_seeds=[seed_for(0, "path", 0)], monitor=Monitor(saturation_examples=0))
    assert bool((model.weights[0] == 0).all())


def test_both_starts_with_folds_write_a_sweep_like_folder(tmp_path):
    base = TrainConfig(**SMALL, folds=2)
    r = path(base, PathSettings(("l1-prox",), Span(20.0, 1e-3, 3), path_epochs=1, start="both"), out=tmp_path / "p")
    rows = read_results(tmp_path / "p")
    assert {row["start"] for row in rows} == {"warm", "cold"} and {row["fold"] for row in rows} == {0, 1}
    assert len(rows) == 2 * 3 * 2 and all(row["n"] == 150 for row in rows)
    assert (tmp_path / "p" / "cold" / "l1-prox" / "results.csv").exists()
    assert (tmp_path / "p" / "path_l1-prox.png").stat().st_size > 0
    summary = json.loads((tmp_path / "p" / "path.json").read_text())
    assert summary["status"] == "complete" and summary["lmbda_max"]["l1-prox"]["how"] == "given"
    (c,) = summary["comparison"]
    assert c["kind"] == "l1-prox" and c["cold_seconds"] > 0 and "reached" in c
    header, *lines = (tmp_path / "p" / "epochs.csv").read_text().splitlines()
    assert header == "cell,step,epoch,layer,metric,value" and {line.split(",")[2] for line in lines} >= {"0", "1", "2", "3"}
    for curve in r.curves:
        assert curve.selection.metric == "final_validation_accuracy"


# -- the CLI ----------------------------------------------------------------------------------------
PATH = ["path", "--data", "digits", "--train-size", "300", "--eta", "0.5", "--quiet"]


def test_cli_path(tmp_path, capsys):
    out = tmp_path / "p"
    assert main([*PATH, "--lmbda", "30:0.03:4", "--reg", "l2,l1-prox", "--path-epochs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "λ_max for --reg l2 = 30 (given)" in text and text.count("λ_min = ") == 2 and "λ_1se = " in text
    assert "warm: 1 epoch(s) per λ from the previous λ's weights" in text and "dead units" in text
    for name in ("path.json", "results.csv", "epochs.csv", "path_l2.png", "path_l1-prox.png"):
        assert (out / name).stat().st_size > 0, name


@pytest.mark.parametrize("argv,message", [
    (["--lmbda", "0.01:100:30"], "an inverted path range"),
    (["--lmbda", "3:3:30"], "an empty path range"),
    (["--eps", "1"], "--eps must lie in (0, 1)"),
    (["--eps", "2"], "an empty or inverted range"),
    (["--steps", "1"], "--steps must be an integer ≥ 2"),
    (["--lmbda-max", "0"], "--lmbda-max must be a finite number > 0"),
    (["--lmbda-max", "5", "--lmbda", "5:1:3"], "not both"),
    (["--lmbda-max", "5", "--eta", "0.1", "0.2"], "a path trains one learning rate"),
    (["--lmbda-max", "5", "--reg", "l3"], "--reg 'l3' is not one of"),
    (["--lmbda-max", "5", "--reg", "none"], "--reg none has no λ"),
    (["--lmbda-max", "5", "--folds", "400"], "--folds 400 is more folds than the 300 training examples"),
    (["--cold", "--both"], "not allowed with argument"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, argv, message):
    code = main([*PATH, *argv, "--out", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1  # argparse's errors too: one line, no SystemExit
    assert not (tmp_path / "p").exists()  # refused before the folder is claimed


def test_cli_ctrl_c_says_what_was_kept(tmp_path, capsys, monkeypatch):
    import reglab.path.core as core

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(core, "cold_sweep", stop)
    code = main([*PATH, "--lmbda", "30:0.3:2", "--path-epochs", "1", "--both", "--out", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 130 and "interrupted by Ctrl-C" in err and err.count("\n") == 1
    assert len(read_results(tmp_path / "p")) == 2  # the warm steps that finished
