"""The containers every loader returns: :class:`Split` and :class:`Dataset` (and :class:`Standardization`,
what ``--standardize`` applied to it)."""

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
class Standardization:
    r"""Per-feature standardization ``x ↦ (x − mean) / scale``, fitted on a training split.

    ``mean`` and ``scale`` are float32 ``(d,)``; the arithmetic is float32 as well, so that a model
    exported with this step in front (:mod:`reglab.runs.export`) computes bit for bit what training saw.
    ``scale`` is the standard deviation (``ddof = 0``), or 1 for a constant feature (as scikit-learn's
    ``StandardScaler``).
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardization:
        """Mean and standard deviation of each column of ``X`` (N, d), computed in float64."""
        X64 = np.asarray(X, dtype=np.float64)
        sd = X64.std(axis=0)
        scale = np.where(sd > 0, sd, 1.0)
        return cls(X64.mean(axis=0).astype(np.float32), scale.astype(np.float32))

    def apply(self, X: np.ndarray) -> np.ndarray:
        """``(X − mean) / scale`` as float32 ``(N, d)``."""
        return (np.asarray(X, dtype=np.float32) - self.mean) / self.scale

    def to_dict(self) -> dict[str, list[float]]:
        """JSON data (float32 values written exactly: they pass through float64 unchanged)."""
        return {"mean": [float(v) for v in self.mean], "scale": [float(v) for v in self.scale]}

    @classmethod
    def from_dict(cls, d: dict) -> Standardization:
        return cls(np.asarray(d["mean"], dtype=np.float32), np.asarray(d["scale"], dtype=np.float32))


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
    classes : tuple or None
        The original label of each class, ``classes[k]`` for label ``k``, where the file's labels
        were text or integers other than ``0..K-1`` (``("setosa", "versicolor", "virginica")``);
        ``None`` where the labels are the classes themselves.
    standardization : Standardization or None
        The standardization already applied to all three splits (fitted on the training split), or ``None``.

    Examples
    --------
    Arrays in memory make a data set directly (inputs float32 ``(N, d)``, labels int64 ``0..K-1``)::

        import numpy as np, reglab
        from reglab.data import Dataset, Split
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(600, 5)).astype(np.float32), rng.integers(0, 3, 600)
        ds = Dataset("mine", Split(X[:400], y[:400]), Split(X[400:500], y[400:500]),
                     Split(X[500:], y[500:]), n_classes=3, source="memory")
        reglab.train(reglab.TrainConfig(epochs=5), dataset=ds)
    """

    name: str
    train: Split
    validation: Split
    test: Split
    n_classes: int
    source: str
    note: str | None = None
    classes: tuple | None = None
    standardization: Standardization | None = None

    def __post_init__(self) -> None:
        widths = {s.X.shape[1] for s in (self.train, self.validation, self.test)}
        if len(widths) != 1:
            raise ValueError(f"Dataset {self.name!r}: the splits have different feature counts {sorted(widths)}")
        if self.classes is not None and len(self.classes) != self.n_classes:
            raise ValueError(f"Dataset {self.name!r}: {len(self.classes)} class names for {self.n_classes} classes")

    @property
    def n_features(self) -> int:
        """d, the number of input features."""
        return self.train.X.shape[1]
