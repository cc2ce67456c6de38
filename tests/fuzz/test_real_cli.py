"""A sample of the suite through the real command line, as a user runs it: a fresh ``python -m reglab``."""

from __future__ import annotations

import pytest

from tests.fuzz.harness import assert_clean_failure, real_cli, snapshot


@pytest.mark.slow
def test_a_sample_of_hostile_input_through_the_real_cli(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "results.csv").write_text("mine")
    (tmp_path / "c.json").write_text('{"hidden": 30}')
    before = snapshot(tmp_path)
    cases = [
        (["sweep", "--data", "digits", "--out", tmp_path / "mine"], "is not empty and reglab did not write it"),
        (["train", "--config", tmp_path / "c.json"], "--hidden must be a list of integers, got 30 (int)"),
        (["train", "--data-dir", "a[/]b", "--data", "mnist"], "not found in"),
        (["train", "--hidden", "1e9"], "reglab train: error: argument --hidden"),
    ]
    for argv, mentions in cases:
        outcome = real_cli(argv, tmp_path)
        assert mentions in assert_clean_failure(outcome), argv
    assert snapshot(tmp_path) == before
