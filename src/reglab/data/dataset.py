"""The two containers every loader returns: :class:`Split` and :class:`Dataset`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Split:
    """One part of a data set: inputs and class labels.

    Attributes
    ----------
    X : np.ndarray
        Inputs, shape ``(N, d)``, float32.
    y : np.ndarray
        Labels, shape ``(N,)``, int64, values in ``0..K-1``.

    Notes
    -----
    ``eq=False``: splits compare by identity (comparing arrays element-wise
    has no single truth value).
    """

    X: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.X.dtype != np.float32:
            raise ValueError(f"Split.X must be a 2-D float32 array, got {self.X.ndim}-D {self.X.dtype}")
        if self.y.ndim != 1 or self.y.dtype != np.int64:
            raise ValueError(f"Split.y must be a 1-D int64 array, got {self.y.ndim}-D {self.y.dtype}")
        if len(self.X) != len(self.y):
            raise ValueError(f"Split.X has {len(self.X)} rows but Split.y has {len(self.y)}")

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set in three parts, with where it came from.

    Attributes
    ----------
    name : str
        ``"mnist"``, ``"digits"``, or the file's name.
    train, validation, test : Split
        The three parts; all have the same number of features.
    n_classes : int
        K: labels take the values ``0..K-1``.
    source : str
        Where the data came from: a path, or ``"scikit-learn bundled digits"``.
    note : str or None
        Something the user should hear about, e.g. that MNIST was not found
        and the 8×8 digits stand in for it. Library code returns it; the CLI
        prints it.
    """

    name: str
    train: Split
    validation: Split
    test: Split
    n_classes: int
    source: str
    note: str | None = None

    def __post_init__(self) -> None:
        widths = {s.X.shape[1] for s in (self.train, self.validation, self.test)}
        if len(widths) != 1:
            raise ValueError(f"Dataset {self.name!r}: the splits have different feature counts {sorted(widths)}")

    @property
    def n_features(self) -> int:
        """d, the number of input features."""
        return self.train.X.shape[1]
