"""The 2-D sets are Playground's, drawn reproducibly; the data directory's listing is the only way to a user's file."""

from __future__ import annotations

import numpy as np
import pytest

from reglab.data import load_dataset
from reglab.errors import ReglabError
from reglab.explore.datasets import PLANAR, SCALE, data_file, data_files, planar, planar_file


@pytest.mark.parametrize("name", list(PLANAR))
def test_each_set_has_two_balanced_classes_in_the_square(name):
    X, y = planar(name, 400, 0.0, seed=3)
    assert X.shape == (400, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert 0.3 < y.mean() < 0.7
    assert np.abs(X).max() <= 6 * SCALE * 1.1  # Playground's [-6, 6]² (xor's padding reaches 5.3)


def test_the_labels_follow_playgrounds_rules_without_noise():
    X, y = planar("circle", 500, 0.0, seed=1)
    r = np.hypot(*(X / SCALE).T)
    assert np.array_equal(y, (r < 2.5).astype(np.int64))
    assert not ((r > 2.5 + 1e-4) & (r < 3.5 - 1e-4)).any()  # a ring of no points between the classes
    X, y = planar("xor", 500, 0.0, seed=1)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(np.int64))
    assert np.abs(X / SCALE).min() >= 0.3 - 1e-5  # pushed away from the axes
    X, y = planar("gauss", 500, 0.0, seed=1)
    assert np.allclose(X[y == 1].mean(axis=0) / SCALE, [2, 2], atol=0.2)
    assert np.allclose(X[y == 0].mean(axis=0) / SCALE, [-2, -2], atol=0.2)


def test_noise_moves_points_and_a_seed_fixes_them():
    a, _ = planar("spiral", 200, 0.0, seed=0)
    b, _ = planar("spiral", 200, 0.3, seed=0)
    c, _ = planar("spiral", 200, 0.3, seed=0)
    assert np.array_equal(b, c) and not np.array_equal(a, b)
    with pytest.raises(ReglabError, match="unknown 2-D data set"):
        planar("moons", 10, 0.0, 0)


def test_a_set_is_written_once_and_read_back_like_any_users_file(tmp_path):
    path = planar_file("xor", 300, 0.2, 7, tmp_path)
    stamp = path.stat().st_mtime_ns
    assert planar_file("xor", 300, 0.2, 7, tmp_path) == path and path.stat().st_mtime_ns == stamp
    X, y = planar("xor", 300, 0.2, 7)
    ds = load_dataset(str(path), split=(0.5, 0.25, 0.25), seed=7)
    assert len(ds.train) + len(ds.validation) + len(ds.test) == 300
    assert np.array_equal(np.sort(np.concatenate([ds.train.X, ds.validation.X, ds.test.X]), axis=0), np.sort(X, axis=0))
    assert ds.n_classes == 2 and int(y.sum()) == sum(int(s.y.sum()) for s in (ds.train, ds.validation, ds.test))


def test_only_a_listed_file_of_the_data_directory_is_reachable(tmp_path):
    np.savez(tmp_path / "mine.npz", X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    (tmp_path / "table.csv").write_text("a,b\n1,0\n")
    (tmp_path / "notes.txt").write_text("not data")
    (tmp_path / "sub").mkdir()
    np.savez(tmp_path / "sub" / "deep.npz", X=np.zeros((2, 2)), y=np.array([0, 1]))
    assert data_files(tmp_path) == ["mine.npz", "table.csv"]
    assert data_file(tmp_path, "mine.npz") == tmp_path / "mine.npz"
    for name in ("notes.txt", "sub/deep.npz", "../mine.npz", str(tmp_path / "mine.npz"), "MINE.npz"):
        with pytest.raises(ReglabError, match="is not a .npz or .csv file of the data directory"):
            data_file(tmp_path, name)
    assert data_files(tmp_path / "absent") == []


def test_a_file_too_large_to_read_whole_is_refused(tmp_path, monkeypatch):
    from reglab.explore import datasets

    np.savez(tmp_path / "big.npz", X=np.zeros((100, 2)), y=np.zeros(100))
    monkeypatch.setattr(datasets, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ReglabError, match="the playground reads files of at most 0 MB"):
        data_file(tmp_path, "big.npz")
