"""The defects the hardening issue reproduced, each with its one-line command: now a clean refusal (or a clean
run), and the classes they stand for."""

from __future__ import annotations

import json
import time
import warnings

import pytest

from tests.fuzz.harness import assert_clean_failure, cli

TINY = ["--data", "digits", "--epochs", "2", "--quiet"]


@pytest.mark.parametrize("argv,mentions", [
    # absurd sizes: refused at once, with the size named and the flag to raise the limit
    (["train", "--hidden", str(2**63), "--data", "digits"], "layer sizes [64, 9223372036854775808, 10]"),
    (["train", "--hidden", "10000000000", "--data", "digits"], "TB to train, and"),
    (["train", "--seeds", "100000000", "--data", "digits"], "100,000,000 models (1 λ × 1 η × 100000000 seeds) are more "
                                                             "than the limit of 10,000; raise it with --limit 100000000"),
    (["train", "--seeds", "2000", "--folds", "10", "--data", "digits"],
     "20,000 models (1 λ × 1 η × 2000 seeds × 10 folds) are more than the limit"),
    (["train", "--epochs", str(10**12), "--data", "digits"], "--epochs 1,000,000,000,000: the per-epoch records"),
    (["sweep", "--lmbda", "1e-4:1e2:100000", "--data", "digits"], "100,000 values (--lmbda 1e-4:1e2:100000)"),
    (["sweep", "--lmbda", "1e-4:1e2:1000000000", "--data", "digits"], "1,000,000,000 values"),
    (["sweep", "--lmbda", "1e-4:1e2:100", "--folds", "1000", "--data", "mnist", "--data-dir", "nowhere"],
     "100,000 cells (100 λ × 1 η × 1 seeds × 1000 folds)"),
    (["sweep", "--lmbda", "1e-4:1e2:100", "--seeds", "1000", "--data", "digits"], "100,000 cells (100 λ × 1 η × 1000 seeds)"),
    (["path", "--steps", "1000000000", "--data", "digits"], "1,000,000,000 λ steps (--steps) are more than the limit"),
    (["path", "--lmbda", "1:1e-9:1000000000", "--data", "digits"], "λ steps (--lmbda 1:1e-9:1000000000)"),
    (["path", "--seeds", "100000000", "--data", "digits"], "100,000,000 models (1 regularizer(s) × 100000000 seeds)"),
    (["path", "--reg", "l2,l1", "--steps", "100", "--seeds", "60", "--cold", "--data", "digits"],
     "12,000 cells (2 regularizer(s) × 60 seeds × 100 λ steps, cold)"),
    (["path", "--hidden", "1000000000", "--data", "digits"], "one model of 75,000,000,010 weights would need about"),
    (["reproduce", "nielsen-ch3", "--seeds", "1000000"], "19,000,000 models (19 arms × 1000000 seeds) are more than the limit"),
    (["reproduce", "nielsen-ch3", "--only", ""], "--only needs experiment ids such as C,E,F (A–K), got ''"),
    (["reproduce", "nielsen-ch3", "--only", " , "], "--only needs experiment ids"),
    # seeds: one rule
    (["train", "--seed", "-1", *TINY], "--seed must be an integer from 0 to 2**63-1, got -1"),
    (["train", "--seed", str(2**63 - 1), "--seeds", "2", *TINY], "(and the 1 seeds after it)"),
    (["study", "update-rule", "--seed", "-1"], "--seed must be an integer from 0 to 2**63-1"),
    # a cluster that is not there: fails in seconds, not minutes
    (["sweep", "--backend", "ray", "--address", "127.0.0.1:1", *TINY], "no Ray cluster at --address 127.0.0.1:1"),
    (["sweep", "--backend", "ray", "--address", "nowhere", *TINY], "--address 'nowhere' is not HOST:PORT"),
])
def test_the_issue_s_commands_are_refused_in_one_line_at_once(argv, mentions, tmp_path):
    t0 = time.monotonic()
    error = assert_clean_failure(cli([*argv, "--out", tmp_path / "out"] if argv[0] != "study" else argv, tmp_path))
    assert mentions in error
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "out").exists()


def test_an_update_that_overflows_is_diverged_and_its_warnings_are_recorded_not_printed(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning that escaped would fail here
        outcome = cli(["train", *TINY, "--lmbda", "1e308", "0.1", "--eta", "1e308", "0.1", "--json", "--out",
                       tmp_path / "run"], tmp_path)
    assert outcome.code == 0, outcome.err
    summary = json.loads(outcome.out)
    assert [m["diverged"] for m in summary["models"]] == [True, True, True, False]
    assert all(m["diverged_epoch"] == 1 for m in summary["models"][:3])
    assert "overflow" in " ".join(summary["warnings"])  # λ = 1e308 does not fit float32: recorded
    assert "RuntimeWarning" not in outcome.err and "Traceback" not in outcome.err
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["warnings"] == summary["warnings"]


def test_a_library_warning_outside_training_is_one_note_line(tmp_path, monkeypatch):
    import reglab.cli.convert as convert

    def noisy(*args, **kw):
        warnings.warn("something odd\nover two lines", UserWarning, stacklevel=1)
        return real(*args, **kw)

    real = convert.units.table
    monkeypatch.setattr(convert.units, "table", noisy)
    outcome = cli(["convert", "--lmbda", "5", "--n", "100"], tmp_path)
    assert outcome.code == 0
    assert outcome.err.splitlines() == ["note: UserWarning: something odd over two lines"]
