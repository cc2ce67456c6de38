"""What every command shares: long commands keep what finished and resume, one list syntax, --json on every
command that produces results, --no-plots, and exit codes that tell a usage error (2) from a failure (1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reglab import studies
from reglab.cli.interrupt import Terminated
from reglab.cli.main import main
from reglab.config import parse_values

FAST = ["--data", "digits", "--epochs", "1", "--quiet"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_studies(monkeypatch):
    """`study all` over two quick studies (about a second each), so that the whole command is testable."""
    monkeypatch.setattr(studies, "STUDIES", {k: studies.STUDIES[k] for k in ("decay-equilibrium", "adam-vs-adamw")})
    return list(studies.STUDIES)


def test_study_all_keeps_what_finished_and_resumes(tmp_path, capsys, monkeypatch, two_studies):
    run, ran = studies._run, {}

    def interrupted_in_the_second(study, *args):
        if study == two_studies[1]:
            raise KeyboardInterrupt
        ran[study] = run(study, *args)
        return ran[study]

    monkeypatch.setattr(studies, "_run", interrupted_in_the_second)
    assert main(["study", "all", "--quick", "--out", str(tmp_path)]) == 130
    captured = capsys.readouterr()
    assert "study decay-equilibrium (quick, seed 0) …" in captured.err.splitlines()  # a line per step, not at a terminal
    assert f"reglab: interrupted by Ctrl-C: 1 of 2 studies finished in {tmp_path}; run the same command" in captured.err
    first = tmp_path / two_studies[0] / "report.html"
    stamp = first.stat().st_mtime_ns
    monkeypatch.setattr(studies, "_run", run)
    assert main(["study", "all", "--quick", "--out", str(tmp_path)]) == 0  # the same command resumes
    captured = capsys.readouterr()
    assert "study decay-equilibrium, kept from an earlier run (quick, seed 0) …" in captured.err.splitlines()
    assert any(line.startswith("study adam-vs-adamw (quick, seed 0): done in ") for line in captured.err.splitlines())
    assert "1 of 2 studies kept from an earlier run; --fresh runs them again" in captured.out
    assert first.stat().st_mtime_ns == stamp and (tmp_path / "index.html").is_file()
    assert main(["study", "all", "--quick", "--out", str(tmp_path), "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["kept"]) for s in done["studies"]] == [(name, True) for name in two_studies]
    assert studies.finished(tmp_path, two_studies[0], True, 0) is not None
    assert studies.finished(tmp_path, two_studies[0], True, 1) is None  # other settings: other results
    assert studies.finished(tmp_path, two_studies[0], False, 0) is None
    # --fresh runs every study again (measured here by what it asks to run)
    asked = []
    monkeypatch.setattr(studies, "_run", lambda study, *args: asked.append(study) or ran.get(study) or run(study, *args))
    assert main(["study", "all", "--quick", "--fresh", "--out", str(tmp_path), "--json"]) == 0
    assert asked == two_studies and not any(s["kept"] for s in json.loads(capsys.readouterr().out)["studies"])


def test_study_all_stopped_by_sigterm_exits_143(tmp_path, capsys, monkeypatch, two_studies):
    def terminated(*args):
        raise Terminated

    monkeypatch.setattr(studies, "_run", terminated)
    assert main(["study", "all", "--out", str(tmp_path)]) == 143
    assert f"reglab: interrupted by SIGTERM: 0 of 2 studies finished in {tmp_path}" in capsys.readouterr().err
    assert main(["study", "goldilocks", "--fresh"]) == 2
    assert "--fresh applies to 'all'" in capsys.readouterr().err


# -- one list syntax --------------------------------------------------------------------------------
def test_one_list_syntax():
    assert parse_values("0.1 5 50") == parse_values("0.1,5,50") == parse_values("0.1, 5 ,50") == (0.1, 5.0, 50.0)
    assert parse_values("1e-2:1e2:5,0") == (0.01, 0.1, 1.0, 10.0, 100.0, 0.0)
    assert parse_values("1000:100000:3", int) == (1000, 10000, 100000)
    assert parse_values("l2,l1-prox decay", str) == ("l2", "l1-prox", "decay")
    for bad in ("1:2", "0:1:3", "1:2:0", "x", ""):
        with pytest.raises(ValueError):
            parse_values(bad)


def test_train_and_sweep_take_the_same_lists(tmp_path, capsys):
    assert main(["train", *FAST, "--lmbda", "1e-2:1e2:3,0", "--eta", "0.1", "0.5", "--json", "--no-plots",
                 "--out", str(tmp_path / "t")]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    assert [(m["lmbda"], m["eta"]) for m in models] == [(lam, eta) for lam in (0.01, 1.0, 100.0, 0.0) for eta in (0.1, 0.5)]
    assert main(["train", *FAST, "--monitor", "validation", "test", "--json", "--no-plots",
                 "--out", str(tmp_path / "m")]) == 0
    assert "final_train_accuracy" not in json.loads(capsys.readouterr().out)["models"][0]
    for words in (["--reg", "l2", "l1-prox", "--lmbda", "0.1", "1"], ["--reg", "l2,l1-prox", "--lmbda", "0.1,1"]):
        assert main(["sweep", *FAST, "--hidden", "5", *words, "--json", "--no-plots", "--out",
                     str(tmp_path / words[2])]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["grid"]["reg"] == ["l2", "l1-prox"] and summary["grid"]["lmbda"] == [0.1, 1.0]


def test_a_bad_list_is_a_usage_error(capsys):
    assert main(["train", "--lmbda", "1:x:3"]) == 2
    err = capsys.readouterr().err
    assert "--lmbda/--lambda: expected float values separated by commas or spaces (or START:STOP:COUNT)" in err
    assert err.startswith("reglab train: error: ") and err.count("\n") == 1


# -- --json, --no-plots, exit codes -----------------------------------------------------------------
def test_every_command_that_produces_results_prints_json(tmp_path, capsys):
    run = tmp_path / "run"
    np_file = tmp_path / "d.npz"
    import numpy as np

    np.savez(np_file, X=np.arange(40.0).reshape(20, 2), y=np.array(["a", "b"] * 10))
    commands = {
        "train": ["train", *FAST, "--json", "--no-plots", "--out", str(run)],
        "run": ["run", *FAST, "--json", "--no-plots", "--out", str(tmp_path / "r")],
        "convert": ["convert", "--lmbda", "5", "--n", "50000", "--json"],
        "data info": ["data", "info", "--data-dir", str(tmp_path), "--json"],
        "data show": ["data", "show", str(np_file), "--standardize", "--json"],
        "study": ["study", "decay-equilibrium", "--quick", "--out", str(tmp_path / "s"), "--json"],
        "study --list": ["study", "--list", "--json"],
        "export": ["export", str(run), "--json"],
    }
    for name, argv in commands.items():
        assert main(argv) == 0, name
        json.loads(capsys.readouterr().out)  # nothing but JSON on stdout
    shown = json.loads((main(commands["data show"]), capsys.readouterr().out)[1])
    assert shown["labels"] == ["a", "b"] and shown["standardized"] is True
    assert not list(run.glob("*.png")) and (run / "summary.json").is_file()  # --no-plots


def test_exit_codes(tmp_path, capsys, monkeypatch):
    assert main(["train", "--eta", "-1"]) == 2  # bad input: a usage error
    assert capsys.readouterr().err.startswith("reglab: error: --eta values")

    def broken(args):
        raise RuntimeError("disk on fire")

    import reglab.cli.convert as convert

    monkeypatch.setattr(convert, "run", broken)
    assert main(["convert", "--lmbda", "5", "--n", "10"]) == 1  # an unexpected failure: one line, exit 1
    assert "reglab: internal error: RuntimeError: disk on fire" in capsys.readouterr().err


def test_the_example_script_without_mnist_ends_in_one_line(tmp_path):
    env = {**os.environ, "REGLAB_DATA": str(tmp_path), "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "user_weight_stats.py")], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("user_weight_stats.py: MNIST file ")
    assert "reglab data fetch mnist" in out.stderr


def test_a_study_without_its_extra_says_which_to_install(tmp_path):
    """scipy is an extra (reglab[studies]): without it, the two studies that use it end in one line."""
    code = ("import sys; sys.modules['scipy'] = None\n"
            "from reglab.cli.main import main\n"
            f"sys.exit(main(['study', 'penalty-geometry', '--quick', '--out', {str(tmp_path)!r}]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 2, out.stderr
    assert out.stderr.splitlines()[-1] == "reglab: error: study penalty-geometry needs scipy: pip install 'reglab[studies]'"
