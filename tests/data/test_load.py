"""load_dataset's names, the bundled digits, the data directory, and the containers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reglab.data import Dataset, Split, load_dataset, load_digits, resolve_data_dir
from reglab.errors import ReglabError


def test_digits_split_is_fixed_and_stratified():
    data = load_digits()
    assert (len(data.train), len(data.validation), len(data.test)) == (1197, 300, 300)
    assert (data.name, data.n_classes, data.n_features, data.source) == ("digits", 10, 64, "scikit-learn bundled digits")
    assert data.train.X.dtype == np.float32 and data.train.y.dtype == np.int64
    assert data.train.X.min() == 0 and data.train.X.max() == 1
    for split in (data.validation, data.test):
        assert np.bincount(split.y).min() >= 29  # about 30 of each digit
    again = load_digits()
    np.testing.assert_array_equal(data.test.X, again.test.X)


def test_digits_ignore_the_users_seed():
    np.testing.assert_array_equal(load_dataset("digits", seed=1).train.y, load_dataset("digits", seed=2).train.y)


def test_the_digits_parts_are_disjoint_and_complete():
    from sklearn.datasets import load_digits as sklearn_digits

    data = load_digits()
    rows = np.concatenate([data.train.X, data.validation.X, data.test.X]) * 16
    reference = sklearn_digits().data
    assert sorted(map(bytes, rows.astype(np.uint8))) == sorted(map(bytes, reference.astype(np.uint8)))


def test_the_shipped_digits_are_scikit_learns_split_as_it_splits_them():
    """The shipped file against its source: scikit-learn's load_digits split by train_test_split, bit for bit."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    from reglab.data.digits import DIGITS_SPLIT_SEED, DIGITS_TEST, DIGITS_VALIDATION

    bunch = sklearn_digits()
    X, y = (bunch.data / 16).astype(np.float32), bunch.target.astype(np.int64)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=DIGITS_TEST, stratify=y, random_state=DIGITS_SPLIT_SEED)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=DIGITS_VALIDATION, stratify=y_rest,
                                                      random_state=DIGITS_SPLIT_SEED)
    data = load_digits()
    for split, (X_ref, y_ref) in zip((data.train, data.validation, data.test),
                                     ((X_train, y_train), (X_val, y_val), (X_test, y_test))):
        assert split.X.dtype == X_ref.dtype and np.array_equal(split.X, X_ref) and np.array_equal(split.y, y_ref)


def test_reading_the_digits_imports_no_scikit_learn():
    import subprocess
    import sys

    code = "import sys; from reglab.data import load_digits; load_digits(); print('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_auto_falls_back_to_digits_with_a_note(tmp_path):
    data = load_dataset("auto", tmp_path)
    assert data.name == "digits"
    assert data.note == f"MNIST not found in {tmp_path / 'mnist'}; using the 8x8 digits. Get MNIST with: reglab data fetch mnist"
    assert load_dataset("digits", tmp_path).note is None


def test_mnist_by_name_insists(tmp_path):
    with pytest.raises(ReglabError, match="not found in .*reglab data fetch mnist"):
        load_dataset("mnist", tmp_path)


def test_data_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REGLAB_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert resolve_data_dir() == tmp_path / "home" / ".cache" / "reglab"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert resolve_data_dir() == tmp_path / "home" / ".cache" / "reglab"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert resolve_data_dir() == tmp_path / "cache" / "reglab"
    monkeypatch.setenv("REGLAB_DATA", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir("rel/../here") == tmp_path / "here"
    assert resolve_data_dir("~/x") == tmp_path / "home" / "x"


def test_auto_uses_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("REGLAB_DATA", str(tmp_path))
    assert str(tmp_path) in load_dataset().note


def test_split_insists_on_its_types():
    X, y = np.zeros((3, 2), np.float32), np.zeros(3, np.int64)
    assert len(Split(X, y)) == 3
    with pytest.raises(ValueError, match="float32"):
        Split(X.astype(np.float64), y)
    with pytest.raises(ValueError, match="int64"):
        Split(X, y.astype(np.int32))
    with pytest.raises(ValueError, match="3 rows but Split.y has 2"):
        Split(X, y[:2])


def test_dataset_insists_on_one_width():
    a = Split(np.zeros((3, 2), np.float32), np.zeros(3, np.int64))
    b = Split(np.zeros((3, 4), np.float32), np.zeros(3, np.int64))
    assert Dataset("x", a, a, a, n_classes=2, source="here").n_features == 2
    with pytest.raises(ValueError, match="different feature counts"):
        Dataset("x", a, a, b, n_classes=2, source="here")


def test_paths_are_accepted_as_path_objects(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, X=np.eye(4), y=np.array([0, 1, 0, 1]))
    assert isinstance(path, Path) and load_dataset(path, split=(0.5, 0.25, 0.25)).n_features == 4
