r"""The grid of a sweep: its axes, its groups, its cells, and the name of a cell.

A sweep varies fields of a :class:`~reglab.config.TrainConfig`. Two kinds of
axes:

* **model axes**, ``lmbda`` and ``eta`` (and the ``seeds`` of the base): they
  vary *inside* one training run, where the models ``λ × η × seeds`` train
  together as one batched run;
* **group axes**, every other field (``reg``, ``init``, ``hidden``,
  ``train_size``, ``optimizer``, …): each combination is a *group*, one
  :class:`TrainConfig` holding the whole ``λ × η`` grid.

A **cell** is one model: one group, one ``λ``, one ``η``, one seed (and with
``folds``, one fold of the k-fold cross-validation). Its key is a hash of its
settings (:func:`cell_key`), so a finished cell is recognised whatever chunk
trained it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from reglab.config import TrainConfig
from reglab.config import parse_values as parse_values  # the one list syntax of every flag, re-exported here
from reglab.errors import ReglabError

#: Axes that vary inside one training run.
MODEL_AXES = ("lmbda", "eta")
#: Fields that cannot vary within a sweep: the data set is loaded once, seeds is the run's own axis.
FIXED = ("data", "data_dir", "target", "split", "standardize", "seed", "seeds", "folds", "device", "monitor")
#: Settings every row of the results table carries, besides the other axes of the grid.
SETTINGS = ("reg", "init", "hidden", "train_size", "eta", "lmbda", "seed")


def normalize_grid(base: TrainConfig, grid: Mapping[str, Iterable] | None) -> dict[str, tuple]:
    """The grid's axes as tuples, with ``lmbda`` and ``eta`` first (from ``base`` where not given).

    Raises
    ------
    ReglabError
        For an unknown or fixed field, an empty axis, or a value listed twice.
    """
    names = {f.name for f in fields(TrainConfig)}
    grid = dict(grid or {})
    out: dict[str, tuple] = {"lmbda": _plain(grid.pop("lmbda", base.lmbda)), "eta": _plain(grid.pop("eta", base.eta))}
    for name, values in grid.items():
        if name not in names:
            raise ReglabError(f"the sweep grid names {name!r}, which is not a training setting")
        if name in FIXED:
            raise ReglabError(f"--{name.replace('_', '-')} is one value for a whole sweep; it cannot be a grid axis")
        out[name] = _plain(values)
    for name, values in out.items():
        flag = "--" + name.replace("_", "-")
        if not values:
            raise ReglabError(f"{flag} needs at least one value")
        seen: set = set()
        for v in values:
            if v in seen:
                raise ReglabError(f"{flag} lists {show(v)} twice")
            seen.add(v)
    if base.sizes is not None and "hidden" in out:
        raise ReglabError("--hidden cannot vary when --sizes fixes every layer")
    return out


def _plain(values: Iterable) -> tuple:
    """Values as plain Python: numpy scalars to numbers, lists and arrays (``hidden``) to tuples."""
    def plain(v):
        if isinstance(v, (list, tuple, np.ndarray)):
            return tuple(plain(x) for x in v)
        return v.item() if isinstance(v, np.generic) else v

    return tuple(plain(v) for v in values)


def group_configs(base: TrainConfig, grid: Mapping[str, tuple]) -> list[TrainConfig]:
    """One configuration per combination of the group axes (first axis slowest), each with the whole λ × η grid."""
    axes = [name for name in grid if name not in MODEL_AXES]
    common = {"lmbda": grid["lmbda"], "eta": grid["eta"]}
    return [base.replace(**common, **dict(zip(axes, combo))) for combo in itertools.product(*(grid[a] for a in axes))]


def cell_key(config: TrainConfig, model_seed: int, fold: int | None = None) -> str:
    """The hash naming a cell: its configuration (one λ, one η, ``seeds = 1``), its model's seed and fold.

    The configuration's ``seed`` stays the base seed: it fixes the shared
    mini-batch order (and the folds), while ``model_seed`` fixes the initial weights.
    """
    extra = {} if fold is None else {"fold": int(fold)}
    text = json.dumps({**config.to_dict(), "model_seed": int(model_seed), **extra}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Cell:
    """One model of the sweep.

    Attributes
    ----------
    config : TrainConfig
        Its group's configuration with ``lmbda = (λ,)``, ``eta = (η,)``, ``seeds = 1``.
    model_seed : int
        The seed of its initial weights (``seed + k`` for the ``k``-th seed).
    key : str
        :func:`cell_key` of the settings.
    fold : int or None
        Its fold, when the sweep cross-validates (``folds``).
    """

    config: TrainConfig
    model_seed: int
    key: str
    fold: int | None = None

    def settings(self, axes: Iterable[str] = ()) -> dict[str, Any]:
        """Its settings for the results table: :data:`SETTINGS` (and ``fold``) and the extra ``axes``, as plain values."""
        c = self.config
        out: dict[str, Any] = {}
        names = (*SETTINGS, *(("fold",) if self.fold is not None else ()), *(a for a in axes if a not in SETTINGS))
        for name in names:
            value = {"lmbda": c.lmbda[0], "eta": c.eta[0], "seed": self.model_seed, "fold": self.fold}.get(
                name, getattr(c, name, None))
            out[name] = show(value) if isinstance(value, tuple) else value
        return out


def cells_of(config: TrainConfig) -> list[Cell]:
    """The cells of a (group or chunk) configuration, in the order of ``config.models()``."""
    out = []
    for m in config.models():
        one = config.replace(lmbda=(m["lmbda"],), eta=(m["eta"],), seeds=1)
        seed, fold = int(m["seed"]), m.get("fold")
        fold = None if fold is None else int(fold)
        out.append(Cell(one, seed, cell_key(one, seed, fold), fold))
    return out


def show(value) -> str:
    """A setting as the CLI writes it: ``(100, 30)`` → ``"100,30"``."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
