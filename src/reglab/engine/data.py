"""The data the engine trains on: splits held once on the training device, shared by every model.

A :class:`TensorData` comes from a :class:`reglab.data.Dataset` (numpy arrays)
by :meth:`TensorData.from_dataset`; shapes use the letters of the engine:
``N`` examples, ``d`` inputs, ``K`` classes. :class:`Folds` splits the training
split for k-fold cross-validation inside one batch of models: each model
trains on its own rows and is validated on the rows it did not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from reglab.errors import ReglabError
from reglab.rng import generator

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


def kfold(N: int, k: int, seed: int) -> list[np.ndarray]:
    """The held-out rows of ``k`` folds over ``N`` examples: a random partition (drawn from ``seed``) into
    ``k`` parts whose sizes differ by at most one, each part sorted. Disjoint, and together every row."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ReglabError(f"--folds needs at least 2 folds, got {k!r}")
    if k > N:
        raise ReglabError(f"--folds {k} is more folds than the {N} training examples")
    perm = torch.randperm(N, generator=generator(seed, "folds")).numpy()
    return [np.sort(part) for part in np.array_split(perm, k)]


@dataclass(frozen=True)
class Folds:
    """k-fold cross-validation inside one batch of ``M`` models.

    Model ``m`` trains on the rows of the training split outside fold ``fold[m]`` and is validated on the
    rows inside it (:func:`kfold`). Each epoch its mini-batch order is a random permutation of its own
    training rows, drawn from its own generator; the orders of all models have one length ``L`` (the
    compiled steps take them as one ``(M, L)`` array), the size of the smallest fold's complement: where
    the folds differ in size by one, a model of a smaller held-out fold leaves out one of its training
    rows, a different one each epoch. ``L`` is also the regularizers' ``n`` (the training-set size in
    ``λ/2n``).
    """

    held_out: tuple[Tensor, ...]  # held_out[f]: the rows of fold f, int64
    fold: tuple[int, ...]  # (M,): each model's fold
    rows: int  # N, the size of the training split

    @classmethod
    def split(cls, N: int, k: int, seed: int, fold: Sequence[int]) -> Folds:
        """``k`` folds over ``N`` rows (:func:`kfold`) and the fold of each model."""
        return cls.of(kfold(N, k, seed), fold, N)

    @classmethod
    def of(cls, held_out: Sequence[ArrayLike], fold: Sequence[int], N: int) -> Folds:
        """Folds whose held-out rows are given (e.g. a scikit-learn splitter's test sets), and the fold of each
        model: at least two non-empty parts, disjoint, that together are every one of the ``N`` rows."""
        parts = [np.asarray(h, dtype=np.int64).reshape(-1) for h in held_out]
        every = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
        if len(parts) < 2 or min(map(len, parts)) == 0 or not np.array_equal(every, np.arange(N)):
            raise ReglabError(f"the folds' held-out rows must be at least two non-empty parts, disjoint, that "
                              f"together are the {N} training rows")
        k = len(parts)
        if any(not 0 <= f < k for f in fold):
            raise ReglabError(f"a model's fold must lie in 0…{k - 1}, got {sorted(set(fold))}")
        return cls(tuple(torch.from_numpy(np.sort(h)) for h in parts), tuple(int(f) for f in fold), N)

    @property
    def k(self) -> int:
        return len(self.held_out)

    @property
    def size(self) -> int:
        """``L``: the rows each model trains on per epoch (the regularizers' ``n``)."""
        return self.rows - max(len(h) for h in self.held_out)

    def models(self, f: int) -> Tensor:
        """The models of fold ``f`` (int64 indices)."""
        return torch.tensor([m for m, g in enumerate(self.fold) if g == f], dtype=torch.int64)

    def train_rows(self, f: int) -> Tensor:
        """The rows fold ``f``'s models train on: all but its held-out ones."""
        keep = torch.ones(self.rows, dtype=torch.bool)
        keep[self.held_out[f]] = False
        return torch.nonzero(keep).flatten()

    def orders(self, gens: list[torch.Generator]) -> Tensor:
        """One epoch's orders ``(M, L)``: model ``m``'s a permutation of its fold's training rows from ``gens[m]``."""
        own = [self.train_rows(f) for f in range(self.k)]
        L = self.size
        return torch.stack([own[f][torch.randperm(len(own[f]), generator=g)[:L]] for f, g in zip(self.fold, gens)])
