"""Data files of every kind, damaged or crafted: ``reglab data show`` and ``reglab train`` load them or refuse
them in one line naming the file; the book-pickle corpus that runs code is refused unrun."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reglab.data.mnist import MNIST_FILES
from tests.data.test_book_pickle import Evaluates, RunsACommand  # the malicious-pickle corpus
from tests.fuzz.harness import assert_clean_failure, assert_ok_or_clean_failure, cli, fuzz
from tests.fuzz.strategies import csv_texts, data_files, idx_bytes, mutations


@fuzz
@given(kind=st.sampled_from(["npz", "csv", "pkl.gz"]), data=st.data())
def test_any_data_file_loads_or_is_refused_naming_it(kind, data, tmp_path_factory):
    where = tmp_path_factory.mktemp("data")
    path = where / f"d.{kind}"
    path.write_bytes(data.draw(data_files(kind), label="bytes"))
    outcome = cli(["data", "show", path, *(["--target", "label"] if kind == "csv" else [])], where)
    assert_ok_or_clean_failure(outcome)
    if outcome.code:
        assert str(path) in outcome.err


@fuzz
@given(text=csv_texts)
def test_any_csv_text_loads_or_is_refused(text, tmp_path_factory):
    where = tmp_path_factory.mktemp("csv")
    (where / "t.csv").write_text("a,label\n" + text, encoding="utf-8")
    assert_ok_or_clean_failure(cli(["data", "show", where / "t.csv", "--target", "label"], where))


def mnist_folder(where, images: bytes, labels: bytes):
    folder = where / "mnist"
    folder.mkdir()
    for name in MNIST_FILES:
        (folder / name).write_bytes(images if "images" in name else labels)
    return where


@fuzz
@given(images=mutations(idx_bytes(3, (2, 28, 28), bytes(2 * 784))), labels=mutations(idx_bytes(1, (2,), b"\x00\x01")))
def test_any_idx_file_is_refused_in_one_line(images, labels, tmp_path_factory):
    where = mnist_folder(tmp_path_factory.mktemp("idx"), images, labels)
    outcome = cli(["data", "show", "mnist", "--data-dir", where], where)
    assert_clean_failure(outcome)  # never the canonical files: always refused


@pytest.mark.parametrize("evil", [RunsACommand, Evaluates])
@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_the_malicious_pickle_corpus_is_refused_unrun_through_the_cli(tmp_path, evil, protocol):
    marker = tmp_path / "pwned"
    X, y = np.zeros((4, 2), np.float32), np.arange(4) % 2
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(pickle.dumps(((X, evil(marker)), (X, y), (X, y)), protocol=protocol))
    for argv in (["data", "show", path], ["train", "--data", path, "--epochs", "1", "--out", tmp_path / "run"]):
        error = assert_clean_failure(cli(argv, tmp_path))
        assert "refusing to load" in error and "only numpy arrays" in error
    assert not marker.exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("seed", ["-1", str(2**63), "1.5"])
def test_one_rule_for_seeds_for_every_data_set(tmp_path, seed):
    np.savez(tmp_path / "x.npz", X=np.zeros((20, 2)), y=np.arange(20) % 2)
    for argv in (["train", "--data", tmp_path / "x.npz", "--seed", seed], ["train", "--data", "digits", "--seed", seed],
                 ["data", "show", tmp_path / "x.npz", "--seed", seed], ["data", "show", "digits", "--seed", seed],
                 ["study", "update-rule", "--seed", seed]):
        error = assert_clean_failure(cli(argv, tmp_path))
        assert "--seed" in error
