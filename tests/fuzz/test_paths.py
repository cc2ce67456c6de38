"""Names from the user — folders, files, data directories — with console markup, spaces, unicode and newlines
print as themselves in every command: rich never reads them as markup, and errors stay one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from tests.fuzz.harness import assert_clean_failure, cli, fuzz
from tests.fuzz.strategies import path_names

TINY = ["--data", "digits", "--epochs", "1", "--train-size", "60", "--hidden", "4", "--quiet"]
HOSTILE = ["a[/]b", "x[blink]y", "[bold red]z", "sp ace", "λ漢😀", "new\nline", "[link=https:e]l[/link]", "tab\there"]
#: All of them in one name, for the commands that run (and take seconds).
EVERYTHING = "".join(HOSTILE)


@fuzz
@given(name=path_names)
def test_an_output_folder_of_any_name_prints_as_itself(name, tmp_path_factory):
    where = tmp_path_factory.mktemp("cwd")
    out = where / f"sweep-{name}"
    outcome = cli(["sweep", *TINY, "--lmbda", "1", "--no-plots", "--out", out], where)
    assert outcome.code == 0, outcome.err
    assert f"results: {out / 'results.csv'}" in outcome.out and (out / ".reglab.json").is_file()


def paths(tmp_path, name):
    """A data file and an output folder whose paths hold ``name`` (a ``/`` in it is a folder on the way: the
    path still reads ``a[/]b``)."""
    data = Path(f"{tmp_path}/{name}.npz")
    data.parent.mkdir(parents=True, exist_ok=True)
    np.savez(data, X=np.random.default_rng(0).normal(size=(40, 3)), y=np.arange(40) % 2)
    return data, Path(f"{tmp_path}/out {name}")


def test_every_command_that_runs_prints_user_text_as_itself(tmp_path):
    data, folder = paths(tmp_path, EVERYTHING)
    checks = [  # argv, what stdout must show
        (["train", "--data", data, "--epochs", "1", "--quiet", "--out", folder / "t"], f"run folder: {folder / 't'}"),
        (["run", "--data", data, "--epochs", "1", "--quiet", "--out", folder / "r"], f"run folder: {folder / 'r'}"),
        (["sweep", "--data", data, "--epochs", "1", "--lmbda", "1", "--quiet", "--out", folder / "s"],
         f"results: {folder / 's' / 'results.csv'}"),
        (["path", "--data", data, "--epochs", "1", "--lmbda-max", "1", "--steps", "2", "--path-epochs", "1", "--quiet",
          "--no-plots", "--out", folder / "p"], f"results: {folder / 'p' / 'results.csv'}"),
        (["study", "update-rule", "--quick", "--out", folder / "st"], f"wrote {folder / 'st' / 'update-rule' / 'report.html'}"),
        (["data", "show", data], f"source      {data}"),
        (["data", "info", "--data-dir", folder / "d"], f"data dir  {folder / 'd'}"),
    ]
    for argv, shown in checks:
        outcome = cli(argv, tmp_path)
        assert "MarkupError" not in outcome.err + outcome.out
        assert outcome.code == 0, (argv, outcome.err)
        assert shown in outcome.out, (argv, outcome.out)


@pytest.mark.parametrize("name", HOSTILE)
def test_every_command_that_fails_names_user_text_as_itself_in_one_line(name, tmp_path):
    data, folder = paths(tmp_path, name)
    checks = [  # argv, whether the one line must show the name
        (["train", "--data-dir", folder, "--data", "mnist"], True),
        (["train", "--data", f"{tmp_path}/none {name}.npz"], True),
        (["sweep", "--data", data, "--target", "y", "--out", folder / "s"], True),
        (["path", "--data", data, "--target", "y", "--out", folder / "p"], True),
        (["export", folder / "no-run"], True),
        (["reproduce", "nielsen-ch3", "--only", "C", "--data-dir", folder / "d", "--out", folder / "rp"], True),
        (["data", "fetch", "mnist", "--data-dir", folder / "f", "--mirror", "http://127.0.0.1:9/", "--timeout", "2"], False),
        (["study", name], True),
        (["train", "--config", f"{tmp_path}/{name}.json"], True),
    ]
    for argv, names_it in checks:
        outcome = cli(argv, tmp_path)
        assert "MarkupError" not in outcome.err + outcome.out
        error = assert_clean_failure(outcome, codes=(1,) if argv[1] == "fetch" else (2,))  # a download failed: 1
        shown = name.replace("\n", "\\n").replace("\t", "\\t")
        assert not names_it or shown in error, (argv, error)
