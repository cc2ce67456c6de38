"""The book's ``mnist_loader.py``, reading MNIST through reglab's data directory.

The book unpickles ``../data/mnist.pkl.gz``; here the same numbers come from
LeCun's IDX files via :func:`reglab.data.load_mnist` (training = the first
50,000 training images, validation = the last 10,000, test = the 10,000 test
images; pixels ``byte/256`` as float32, exactly the pickle's values). The data
directory is ``data_dir`` if given, else ``$REGLAB_DATA``, else
``~/.cache/reglab`` (``reglab data fetch mnist`` fills it).

The structures are the book's; the lists are real lists (not ``zip`` objects,
as in the Python 3 port), so ``training_data[:1000]`` works.
"""

from __future__ import annotations

import numpy as np

from reglab.compat.network2 import vectorized_result
from reglab.data import load_mnist

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]


def load_data(data_dir=None):
    """``(training_data, validation_data, test_data)``, each a pair ``(X (N, 784) float32, y (N,) int64)``.

    N is 50,000 for training and 10,000 for validation and test.
    """
    ds = load_mnist(data_dir)
    return tuple((split.X, split.y) for split in (ds.train, ds.validation, ds.test))


def load_data_wrapper(data_dir=None):
    """The book's lists: training ``[(x (784, 1), one-hot y (10, 1))]``, validation and test ``[(x (784, 1), label)]``.

    Each ``x`` is a view of one row of the loaded array (no per-image copy); the
    labels are numpy ``int64`` scalars, as in the book.
    """
    tr_d, va_d, te_d = load_data(data_dir)
    return as_book_pairs(*tr_d, one_hot=True), as_book_pairs(*va_d, one_hot=False), as_book_pairs(*te_d, one_hot=False)


def as_book_pairs(X: np.ndarray, y: np.ndarray, one_hot: bool) -> list:
    """``[(x (d, 1), y)]`` from arrays: ``y`` as ``(10, 1)`` one-hot vectors (``one_hot``) or as the labels."""
    if one_hot:
        return [(x.reshape(-1, 1), vectorized_result(label)) for x, label in zip(X, y)]
    return [(x.reshape(-1, 1), label) for x, label in zip(X, y)]
