"""The embedded default: scikit-learn's bundled 8×8 digits, always available offline."""

from __future__ import annotations

import numpy as np

from reglab.data.dataset import Dataset, Split

#: The split never depends on the user's seed, so results stay comparable across runs.
DIGITS_SPLIT_SEED = 0
DIGITS_VALIDATION = 300
DIGITS_TEST = 300
DIGITS_SOURCE = "scikit-learn bundled digits"


def load_digits() -> Dataset:
    """scikit-learn's 1,797 8×8 digit images, with a fixed train/validation/test split.

    Pixels are float32 in ``[0, 1]`` (the bundled values 0..16 divided by 16),
    64 features; labels are int64 in ``0..9``.

    The split is 1,197 / 300 / 300, stratified by digit and fixed: the test
    part is ``train_test_split(X, y, test_size=300, stratify=y,
    random_state=0)`` and the validation part is taken from the rest the
    same way. It never depends on a user's ``seed`` (scikit-learn draws it
    with a legacy ``RandomState``, whose stream numpy keeps stable).
    """
    from sklearn.datasets import load_digits as sklearn_digits  # imported here: it takes a second
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    X = (bunch.data / 16).astype(np.float32)  # (1797, 64)
    y = bunch.target.astype(np.int64)  # (1797,)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=DIGITS_TEST, stratify=y, random_state=DIGITS_SPLIT_SEED
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=DIGITS_VALIDATION, stratify=y_rest, random_state=DIGITS_SPLIT_SEED
    )
    return Dataset(
        name="digits",
        train=Split(X_train, y_train),
        validation=Split(X_val, y_val),
        test=Split(X_test, y_test),
        n_classes=10,
        source=DIGITS_SOURCE,
    )
