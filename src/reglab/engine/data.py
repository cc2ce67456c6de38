"""The data the engine trains on: splits held once on the training device, shared by every model.

A :class:`TensorData` comes from a :class:`reglab.data.Dataset` (numpy arrays)
by :meth:`TensorData.from_dataset`; shapes use the letters of the engine:
``N`` examples, ``d`` inputs, ``K`` classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from reglab.errors import ReglabError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from reglab.data import Dataset, Split


@dataclass(frozen=True)
class TensorSplit:
    """One split on the training device: ``X`` (N, d), ``y`` (N,) int64 labels, ``Y`` (N, K) one-hot."""

    X: Tensor
    y: Tensor
    Y: Tensor

    @classmethod
    def from_arrays(cls, X: ArrayLike, y: ArrayLike, n_classes: int, device: str | torch.device,
                    dtype: torch.dtype) -> TensorSplit:
        Xt = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
        yt = torch.as_tensor(np.asarray(y), dtype=torch.int64, device=device)
        Y = torch.nn.functional.one_hot(yt, n_classes).to(dtype)
        return cls(Xt, yt, Y)

    def __len__(self) -> int:
        return int(self.X.shape[0])


def check_train_size(train_size: int, ds: Dataset) -> None:
    """``train_size`` must pick between 1 and all of the training examples of ``ds``."""
    if not 1 <= train_size <= len(ds.train.y):
        raise ReglabError(f"--train-size {train_size} does not fit the {len(ds.train.y)} training examples of {ds.name}")


@dataclass(frozen=True)
class TensorData:
    """Training, validation and test splits held once on the device, shared by every model."""

    train: TensorSplit
    validation: TensorSplit | None
    test: TensorSplit | None
    n_classes: int

    @classmethod
    def from_dataset(cls, ds: Dataset, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                     train_size: int | None = None) -> TensorData:
        """From a :class:`reglab.data.Dataset`; ``train_size`` keeps the first examples of its training split."""
        X, y = ds.train.X, ds.train.y
        if train_size is not None:
            check_train_size(train_size, ds)
            X, y = X[:train_size], y[:train_size]

        def split(s: Split | None) -> TensorSplit | None:
            return None if s is None or len(s.y) == 0 else TensorSplit.from_arrays(s.X, s.y, ds.n_classes, device, dtype)

        return cls(TensorSplit.from_arrays(X, y, ds.n_classes, device, dtype), split(ds.validation), split(ds.test),
                   ds.n_classes)

    def require(self, name: str) -> TensorSplit:
        """The split ``name`` (``train``, ``validation`` or ``test``), or a one-line error where the data have none."""
        split: TensorSplit | None = getattr(self, name)
        if split is None:
            raise ReglabError(f"this needs a {name} split, and the data have none")
        return split
