"""The embedded default: scikit-learn's bundled 8×8 digits, shipped with reglab, always available offline."""

from __future__ import annotations

from importlib import resources

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
    same way. It never depends on a user's ``seed``.

    The images (the UCI optical-digits test set that scikit-learn bundles as
    ``load_digits``, CC BY 4.0) and the three parts' indices, in that split's
    order, are read from ``digits.npz`` beside this module (49 kB): importing
    scikit-learn only to read them took a second. ``tests/data/test_load.py``
    checks them against scikit-learn's own ``load_digits`` and
    ``train_test_split``.
    """
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f, np.load(f) as shipped:
        X = (shipped["images"].reshape(-1, 64) / 16).astype(np.float32)  # (1797, 64)
        y = shipped["labels"].astype(np.int64)  # (1797,)
        parts = {name: shipped[name] for name in ("train", "validation", "test")}  # indices into X, y
    train, validation, test = (Split(X[parts[name]], y[parts[name]]) for name in ("train", "validation", "test"))
    return Dataset(name="digits", train=train, validation=validation, test=test, n_classes=10, source=DIGITS_SOURCE)
