"""What the page asks for, checked: JSON from a request → :class:`Settings` → a :class:`~reglab.config.TrainConfig`.

Every value a request carries is checked here, once: its type and the
playground's limits (:data:`LIMITS`: how many models, layers, units,
points and epochs, so that no request can exhaust the machine's memory), and
then by :class:`~reglab.config.TrainConfig`'s own validation, the one the CLI
uses, whose one-line message the page shows as it is.

The λ values are the playground's columns, one model each; every column
shares the network, η, the initial weights (one seed: common random numbers)
and the mini-batch order, so columns differ in λ alone.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reglab.config import TrainConfig
from reglab.data.mnist import mnist_available
from reglab.errors import ReglabError
from reglab.explore.datasets import PLANAR, data_file, planar_file

#: The playground's limits; a request beyond them gets a one-line message.
LIMITS: dict[str, int] = {
    "models": 8,  # λ columns
    "hidden_layers": 4,
    "width": 256,  # units of a hidden layer
    "points": 5000,  # examples of a 2-D set
    "batch_size": 1000,
    "epochs": 10_000,  # the worker pauses there
    "parameters": 2_000_000,  # per model: weights and biases
}

#: The named data sets besides the 2-D ones: ``file`` is one of the data directory's files.
NAMED = ("digits", "mnist", "file")


def _shown(v: Any) -> str:
    """A value as the page sent it (JSON: ``null``, ``"fast"``, ``-1``)."""
    try:
        return json.dumps(v, allow_nan=False)[:60]
    except (TypeError, ValueError):
        return repr(v)[:60]


def _number(d: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    v = d.get(key, default)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or not lo <= v <= hi:
        raise ReglabError(f"{key} must be a number in [{lo:g}, {hi:g}], got {_shown(v)}")
    return float(v)


def _integer(d: Mapping[str, Any], key: str, default: int | None, lo: int, hi: int) -> int:
    v = d.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ReglabError(f"{key} must be an integer from {lo} to {hi}, got {_shown(v)}")
    return v


def _text(d: Mapping[str, Any], key: str, default: str | None) -> str | None:
    v = d.get(key, default)
    if v is not None and (not isinstance(v, str) or len(v) > 200):
        raise ReglabError(f"{key} must be a short text, got {v!r}")
    return v


def _list(d: Mapping[str, Any], key: str, default: tuple, longest: int) -> tuple:
    v = d.get(key, default)
    if not isinstance(v, (list, tuple)) or len(v) > longest:
        raise ReglabError(f"{key} must be a list of at most {longest} values, got {v!r}")
    return tuple(v)


@dataclass(frozen=True)
class Settings:
    """One playground run: the data, the network, the optimizer and the λ of each column.

    ``data`` is a 2-D set (:data:`~reglab.explore.datasets.PLANAR`), ``digits``, ``mnist``
    or ``file`` (then ``file`` names one of the data directory's files, ``target`` the
    label column of a ``.csv``). ``noise`` and ``points`` shape a 2-D set; ``train_ratio``
    is the training share of a 2-D set or a file (the rest is halved into validation and
    test). ``dropout`` is the rate of every hidden layer's units, ``max_norm`` the radius c (``None``: no
    constraint), both for every column. The other fields mean what :class:`~reglab.config.TrainConfig`'s do.
    """

    data: str = "circle"
    file: str | None = None
    target: str | None = None
    noise: float = 0.1
    points: int = 500
    train_ratio: float = 0.5
    train_size: int | None = None
    hidden: tuple[int, ...] = (8, 8)
    activation: str = "tanh"
    init: str = "default"
    cost: str = "cross-entropy"
    optimizer: str = "sgd"
    momentum: float = 0.9
    eta: float = 0.5
    batch_size: int = 10
    reg: str = "l2"
    l1_ratio: float = 0.5
    lmbda: tuple[float, ...] = (0.0, 0.3, 3.0, 30.0)
    dropout: float = 0.0
    max_norm: float | None = None
    seed: int = 0

    @classmethod
    def from_json(cls, d: Any) -> Settings:
        """Settings from a request's JSON object; missing keys keep their defaults, unknown keys are an error."""
        if not isinstance(d, Mapping):
            raise ReglabError("the settings must be a JSON object")
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ReglabError(f"unknown settings: {', '.join(sorted(map(str, unknown)))}")
        base = cls()
        data = _text(d, "data", base.data)
        if data not in (*PLANAR, *NAMED):
            raise ReglabError(f"data {data!r} is not one of {', '.join((*PLANAR, *NAMED))}")
        hidden = _list(d, "hidden", base.hidden, LIMITS["hidden_layers"])
        if not all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= LIMITS["width"] for h in hidden):
            raise ReglabError(f"hidden layer widths must be integers from 1 to {LIMITS['width']}, got {list(hidden)}")
        lmbda = _list(d, "lmbda", base.lmbda, LIMITS["models"])
        if not lmbda:
            raise ReglabError("give at least one λ value (a column)")
        train_size, max_norm = d.get("train_size"), d.get("max_norm")
        settings = cls(
            data=str(data),
            file=_text(d, "file", None),
            target=_text(d, "target", None),
            noise=_number(d, "noise", base.noise, 0.0, 0.5),
            points=_integer(d, "points", base.points, 20, LIMITS["points"]),
            train_ratio=_number(d, "train_ratio", base.train_ratio, 0.1, 0.9),
            train_size=None if train_size is None else _integer(d, "train_size", None, 1, 10**7),
            hidden=hidden,
            activation=str(_text(d, "activation", base.activation)),
            init=str(_text(d, "init", base.init)),
            cost=str(_text(d, "cost", base.cost)),
            optimizer=str(_text(d, "optimizer", base.optimizer)),
            momentum=_number(d, "momentum", base.momentum, 0.0, 0.999),
            eta=_number(d, "eta", base.eta, 0.0, 1e3),
            batch_size=_integer(d, "batch_size", base.batch_size, 1, LIMITS["batch_size"]),
            reg=str(_text(d, "reg", base.reg)),
            l1_ratio=_number(d, "l1_ratio", base.l1_ratio, 0.0, 1.0),
            lmbda=lmbda,
            dropout=_number(d, "dropout", base.dropout, 0.0, 0.95),
            max_norm=None if max_norm is None else _number(d, "max_norm", 1.0, 1e-3, 1e3),
            seed=_integer(d, "seed", base.seed, 0, 2**31 - 1),
        )
        settings.config(Path("."), Path("."), load=False)  # TrainConfig's own rules, before anything is read
        return settings

    def to_json(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in dataclasses.fields(self)}

    def config(self, data_dir: Path, scratch: Path, *, epochs: int = 1, load: bool = True) -> TrainConfig:
        """The :class:`TrainConfig` of these settings (its validation is the CLI's).

        A 2-D set is written to ``scratch`` (see :func:`~reglab.explore.datasets.planar_file`) and a
        user's file looked up in ``data_dir``'s listing; ``load=False`` checks the values only.
        """
        rest = (1.0 - self.train_ratio) / 2
        split = (1.0 - 2 * rest, rest, rest)
        if self.data in PLANAR:
            data = str(planar_file(self.data, self.points, self.noise, self.seed, scratch)) if load else "planar.npz"
        elif self.data == "file":
            if not self.file:
                raise ReglabError("choose a file of the data directory")
            data = str(data_file(data_dir, self.file)) if load else self.file
        elif self.data == "mnist" and load and not mnist_available(data_dir):
            raise ReglabError(f"MNIST is not in the data directory {data_dir} (reglab data fetch mnist)")
        else:
            data = self.data
        return TrainConfig(
            data=data, data_dir=str(data_dir), target=self.target if self.data == "file" else None,
            split=split if self.data in (*PLANAR, "file") else TrainConfig.split, train_size=self.train_size,
            hidden=self.hidden, activation=self.activation, cost=self.cost, init=self.init, optimizer=self.optimizer,
            momentum=self.momentum, eta=(self.eta,), lmbda=self.lmbda, reg=self.reg, l1_ratio=self.l1_ratio,
            batch_size=self.batch_size, dropout=(self.dropout,), max_norm=self.max_norm, epochs=epochs, seed=self.seed,
            device="cpu", monitor_train="running",
        )


def check_size(sizes: list[int]) -> None:
    """The network fits the playground's limit of parameters per model."""
    count = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if count > LIMITS["parameters"]:
        raise ReglabError(f"the network {sizes} has {count:,} parameters per model; the playground's limit is "
                          f"{LIMITS['parameters']:,}")
