"""Checks on user-supplied arrays, and the seeded train/validation/test split."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from reglab.data.dataset import Split
from reglab.errors import ReglabError

_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


def check_arrays(X: np.ndarray, y: np.ndarray, what: str, *, first_line: int | None = None,
                 columns: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` as float32 ``(N, d)`` and ``y`` as int64 ``(N,)``, or raise a one-line error.

    ``X`` may have more than two dimensions (e.g. ``(N, 28, 28)`` images): it
    is flattened to ``(N, d)``. ``y`` may be ``(N, 1)``. Labels must be
    integer-valued (``3.0`` is fine, ``3.5`` is not) and non-negative. Inputs must be finite, and
    finite in float32 too: a value beyond ±3.4e38 would become an infinity, and is refused, its
    column named.

    Parameters
    ----------
    X, y : np.ndarray
        Inputs and labels as read.
    what : str
        Names the source (a path) in error messages.
    first_line : int or None
        For text files: the line number of row 0, so that errors name lines
        (exact when each row is one line, as in any plain CSV).
    columns : sequence of str or None
        The names of ``X``'s columns (a CSV's header without the label), for errors.
    """
    X, y = np.asarray(X), np.asarray(y)

    def row(r: int) -> str:
        return f"line {r + first_line}" if first_line is not None else f"row {r}"

    if X.dtype.kind not in _NUMERIC_KINDS:
        raise ReglabError(f"{what}: X is not numeric (dtype {X.dtype})")
    if y.dtype.kind not in _NUMERIC_KINDS:
        raise ReglabError(f"{what}: labels y are not numeric (dtype {y.dtype})")
    if X.ndim < 2:
        raise ReglabError(f"{what}: X must have one row per example, got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ReglabError(f"{what}: labels y must be one-dimensional, got shape {y.shape}")
    if len(X) != len(y):
        raise ReglabError(f"{what}: X has {len(X)} rows but y has {len(y)} labels")
    if len(y) == 0:
        raise ReglabError(f"{what}: no examples")
    X = X.reshape(len(X), -1)
    def column(c: int) -> str:
        return f"column {columns[c]!r}" if columns is not None and c < len(columns) else f"feature {c}"

    cells = np.argwhere(~np.isfinite(X))
    if len(cells):
        r, c = cells[0]
        raise ReglabError(f"{what}: X has {len(cells)} NaN or infinite values (the first at {row(r)}, {column(c)})")
    if X.dtype.kind == "f" and X.dtype.itemsize > 4:
        big = np.argwhere(np.abs(X) > np.finfo(np.float32).max)
        if len(big):
            r, c = big[0]
            raise ReglabError(f"{what}: {len(big)} values of X lie beyond float32's range ±3.4e38 and would become "
                              f"infinite (the first, {X[r, c]:g}, at {row(r)}, {column(c)}); rescale that column")
    bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)) | (y < 0))
    if len(bad):
        raise ReglabError(f"{what}: labels must be integers 0..K-1, found {y[bad[0]]} at {row(bad[0])}")
    return X.astype(np.float32), y.astype(np.int64)


def count_classes(y: np.ndarray, what: str) -> int:
    """Return K for labels ``y`` (int64, non-negative), insisting that each of ``0..K-1`` occurs.

    A missing class usually means labels numbered from 1, or a subset of
    classes: the user should renumber them ``0..K-1``.
    """
    present = np.unique(y)  # sorted
    gaps = np.flatnonzero(present != np.arange(len(present)))
    if len(gaps):
        raise ReglabError(
            f"{what}: labels must be the integers 0..K-1 with every class present; "
            f"labels run to {present[-1]} but {gaps[0]} never occurs (renumber them 0..K-1)"
        )
    if len(present) < 2:
        raise ReglabError(f"{what}: every label is 0; a classification task needs at least two classes")
    return len(present)


def check_split(split: tuple[float, float, float], what: str) -> tuple[float, float, float]:
    """Return ``split`` as three floats ``(train, validation, test)``: finite, train > 0, the others >= 0, summing to 1."""
    try:
        parts = tuple(float(p) for p in split)
    except (TypeError, ValueError):
        raise ReglabError(f"{what}: split {split!r} is not three numbers (train, validation, test)") from None
    if len(parts) != 3:
        raise ReglabError(f"{what}: split {split!r} must have three parts (train, validation, test), not {len(parts)}")
    if not all(math.isfinite(p) for p in parts) or parts[0] <= 0 or min(parts) < 0:
        raise ReglabError(f"{what}: split {split!r} needs a positive training part and non-negative validation and test parts")
    if abs(sum(parts) - 1) > 1e-6:
        raise ReglabError(f"{what}: split {split!r} sums to {sum(parts):g}, not 1")
    return parts


def split_arrays(X: np.ndarray, y: np.ndarray, split: tuple[float, float, float], seed: int,
                 what: str) -> tuple[Split, Split, Split]:
    """Shuffle with ``numpy.random.default_rng(seed)`` and cut into train, validation and test.

    The validation and test parts get ``round(N * fraction)`` examples each;
    training gets the rest and must get at least one.
    """
    n = len(y)
    n_val, n_test = round(n * split[1]), round(n * split[2])
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ReglabError(f"{what}: {n} examples leave none for training with split {split}")
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.split(order, [n_train, n_train + n_val])
    return tuple(Split(X[idx], y[idx]) for idx in cuts)  # type: ignore[return-value]
