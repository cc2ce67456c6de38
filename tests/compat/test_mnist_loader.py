"""``reglab.compat.mnist_loader`` on the real MNIST files: the book's structures and numbers."""

from __future__ import annotations

import numpy as np
import pytest

from reglab.compat import mnist_loader


@pytest.fixture(scope="module")
def book_data(shared_data_dir):
    return mnist_loader.load_data(shared_data_dir), mnist_loader.load_data_wrapper(shared_data_dir)


def test_load_data_gives_the_books_arrays(book_data):
    (tr, va, te), _ = book_data
    for (X, y), N in zip((tr, va, te), (50_000, 10_000, 10_000)):
        assert X.shape == (N, 784) and X.dtype == np.float32
        assert y.shape == (N,) and y.dtype == np.int64
        assert 0.0 <= X.min() and X.max() == np.float32(255 / 256)
    assert tr[1][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the first MNIST training labels
    assert te[1][:5].tolist() == [7, 2, 1, 0, 4]


def test_load_data_wrapper_gives_the_books_lists(book_data):
    (tr, va, te), (training_data, validation_data, test_data) = book_data
    assert isinstance(training_data, list) and len(training_data) == 50_000
    assert len(validation_data) == 10_000 and len(test_data) == 10_000
    x, y = training_data[0]
    assert x.shape == (784, 1) and y.shape == (10, 1) and y[5, 0] == 1.0 and y.sum() == 1.0
    np.testing.assert_array_equal(x[:, 0], tr[0][0])
    x, label = validation_data[3]
    assert x.shape == (784, 1) and isinstance(label, np.integer) and label == va[1][3]
    assert [int(j) for _, j in test_data[:5]] == [7, 2, 1, 0, 4]
    head = training_data[:1000]  # a list, not a zip object
    assert len(head) == 1000 and head[999][0].shape == (784, 1)


def test_data_dir_comes_from_reglab_data(shared_data_dir, monkeypatch):
    monkeypatch.setenv("REGLAB_DATA", str(shared_data_dir))
    (X, y), _, _ = mnist_loader.load_data()
    assert X.shape == (50_000, 784)
