"""Run configurations: frozen dataclasses, validated in one place, saved with every run.

Each field carries its help text; the CLI's flags are generated from the
fields (:func:`add_arguments`, :func:`from_args`), so a flag and the
configuration it sets cannot drift apart. The names a field accepts are the
engine's registries themselves (``ACTIVATIONS``, ``KINDS``, …): an activation
or regularizer registered there is a valid ``--activation`` / ``--reg`` here.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import numbers
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from reglab.data.augment import Augment
from reglab.engine.model import INITIALIZERS
from reglab.engine.monitors import DEFAULT_TRAIN_MEASURE, TRAIN_MEASURES
from reglab.engine.nn import ACTIVATIONS, COSTS
from reglab.engine.optim import OPTIMIZERS
from reglab.engine.regularizers import KINDS
from reglab.engine.schedules import parse_schedule
from reglab.engine.steps import ENGINES
from reglab.errors import ReglabError
from reglab.rng import check_seed


def _f(default, help: str, flag: str | None = None, aliases: tuple[str, ...] = (), choices=None, **kw):
    meta = {"help": help, "flag": flag, "aliases": aliases, "choices": choices}
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run of one or more models trained together.

    The models of a run are the grid ``lmbda × eta × seeds``; all share the
    architecture and the data set, each has its own strength, learning rate
    and initial weights (seed ``seed + k`` for the ``k``-th seed).
    """

    data: str = _f("auto", "data set: mnist, digits, auto (MNIST if present, else digits) or a PATH (.npz, .csv, mnist.pkl.gz)")
    data_dir: str | None = _f(None, "data directory (default: $REGLAB_DATA, then ~/.cache/reglab)")
    target: str | None = _f(None, "target column of a .csv data file")
    split: tuple[float, ...] = _f((0.8, 0.1, 0.1), "train,validation,test fractions for a user's data file")
    standardize: bool = _f(False, "standardize every feature to mean 0 and standard deviation 1, fitted on the training "
                                  "split only (stored in the run folder, applied to validation, test and exported models)")
    train_size: int | None = _f(None, "use only the first N training examples (n in λ/2n is this size)")
    hidden: tuple[int, ...] = _f((30,), "hidden layer widths, e.g. 30 or 100,30")
    sizes: tuple[int, ...] | None = _f(None, "all layer sizes, e.g. 784,30,10 (overrides --hidden; must fit the data)")
    activation: str = _f("sigmoid", "hidden-layer activation", choices=ACTIVATIONS)
    cost: str = _f("cross-entropy", "cost (fixes the output layer: sigmoid, or softmax for log-likelihood)", choices=COSTS)
    init: str = _f("large", "initializer: large N(0,1); default N(0,1/n_in); he; glorot", choices=INITIALIZERS)
    optimizer: str = _f("sgd", "optimizer (adamw = adam with --reg decay)", choices=OPTIMIZERS)
    momentum: float = _f(0.9, "momentum coefficient for --optimizer momentum")
    eta: tuple[float, ...] = _f((0.1,), "learning rate(s) η; several values train several models at once")
    lmbda: tuple[float, ...] = _f((5.0,), "regularization strength(s) λ in the book's units, C = C0 + (λ/2n)Σw²; "
                                  "several values train several models at once", aliases=("--lambda",))
    reg: str = _f("l2", "regularizer", choices=KINDS)
    l1_ratio: float = _f(0.5, "L1 share of --reg elastic")
    max_norm: float | None = _f(None, "max-norm constraint: after every step each unit's incoming weight vector is "
                                      "projected onto ‖w‖ ≤ C (Srivastava et al. 2014); added to --reg")
    dropout: tuple[float, ...] = _f((0.0,), "dropout rate of the hidden layers' units while training: one rate for "
                                            "every hidden layer, or one per hidden layer (inverted: no rescaling at "
                                            "evaluation)")
    input_dropout: float = _f(0.0, "dropout rate of the input pixels while training")
    expand: bool = _f(False, "train on the book's expanded data: every training image and its shifts by one pixel "
                             "down, up, right and left (5n images; n in λ/2n is 5n)")
    augment: tuple[str, ...] = _f((), "random transformations drawn afresh every epoch: shift:PIXELS (each way), "
                                      "rotate:DEGREES (each way), or both, e.g. shift:1,rotate:15")
    label_noise: float = _f(0.0, "change this fraction of the training labels (⌊p·n + ½⌋ of them) to a random wrong "
                                 "class, fixed by --seed (Zhang et al. 2017's p is p·(K−1)/K here)")
    lmbda_schedule: str = _f("constant", "λ per epoch e: s(e−1)·λ with s = constant, warmup:K[:R] (off for K epochs, then "
                                         "a ramp over R), follow-lr (η/η₀), step:K:GAMMA, cosine[:T[:FINAL]] (T: the "
                                         "epochs)", aliases=("--lambda-schedule",))
    batch_size: int = _f(10, "mini-batch size m")
    epochs: int = _f(30, "number of epochs")
    seed: int = _f(0, "random seed (initial weights of the first seed, mini-batch order)")
    seeds: int = _f(1, "number of initial-weight seeds per (λ, η): models seed, seed+1, …")
    folds: int = _f(0, "k-fold cross-validation over the training split: every model trains k times, once per fold, "
                       "all in one batch, and is validated on the fold it did not train on (0: off; the validation split "
                       "is then not used)")
    per_model_order: bool = _f(False, "give each model its own mini-batch order (default: all share one, common "
                                      "random numbers)")
    device: str = _f("auto", "cpu, cuda, or auto (cuda when present)", choices=("auto", "cpu", "cuda"))
    threads: int = _f(0, "CPU threads of the training steps (0: automatic: the compiled engine spreads groups of models "
                         "over every core, with the same numbers as on one; the tensor engine uses 1)")
    engine: str = _f("auto", "training steps: compiled (one compiled call per epoch, CPU), tensor (torch ops per "
                             "mini-batch, any device), auto (compiled where it applies)", choices=ENGINES)
    dtype: str = _f("float32", "floating-point type", choices=("float32", "float64"))
    early_stop: int = _f(0, "stop a model after N epochs without better validation accuracy (0: off)")
    schedule: int = _f(0, "the book's schedule: halve η after N epochs without progress, stop at η/128 (0: off)")
    monitor: tuple[str, ...] = _f(("train", "validation", "test"), "splits to evaluate every epoch")
    monitor_train: str = _f(DEFAULT_TRAIN_MEASURE, "how the training split is measured: running (the mean over the epoch's "
                                       "mini-batches, each just before its step, as Keras reports it; almost free) or "
                                       "exact (a pass after the epoch with its final weights, as the book's "
                                       "monitor_training_*)", choices=TRAIN_MEASURES)

    def __post_init__(self):
        self.validate()

    # -- validation: the one place ---------------------------------------------------------------
    def validate(self) -> None:
        """Check every field: first its type (from the field's annotation, so a field added later is
        checked too), then its value; one line naming the flag on the first problem.

        Lists become tuples and numpy numbers Python numbers, so that a configuration read from JSON,
        built in Python or parsed from flags is the same value with the same :meth:`digest`.
        """
        for f in dataclasses.fields(self):
            value = _checked(f.name, getattr(self, f.name), _field_types(type(self))[f.name])
            object.__setattr__(self, f.name, value)  # frozen: only normalizing the value just checked
        check_seed(self.seed, "--seed", self.seeds if isinstance(self.seeds, int) else 1)
        def positive_int(name):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ReglabError(f"--{name.replace('_', '-')} must be a positive integer, got {v!r}")

        for name in ("batch_size", "seeds"):
            positive_int(name)
        for name in ("epochs", "early_stop", "schedule", "threads"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ReglabError(f"--{name.replace('_', '-')} must be an integer ≥ 0, got {v!r}")
        if self.train_size is not None:
            positive_int("train_size")
        if isinstance(self.folds, bool) or not isinstance(self.folds, int) or self.folds < 0 or self.folds == 1:
            raise ReglabError(f"--folds must be 0 (no cross-validation) or at least 2, got {self.folds!r}")
        for name, values in (("eta", self.eta), ("lmbda", self.lmbda)):
            if not values:
                raise ReglabError(f"--{name} needs at least one value")
            for v in values:
                if not isinstance(v, (int, float)) or math.isnan(v) or math.isinf(v) or v < 0:
                    raise ReglabError(f"--{name} values must be finite numbers ≥ 0, got {v!r}")
        if any(h < 1 for h in self.hidden):
            raise ReglabError(f"--hidden widths must be positive, got {list(self.hidden)}")
        if self.sizes is not None and (len(self.sizes) < 2 or min(self.sizes) < 1):
            raise ReglabError(f"--sizes needs at least two positive sizes, got {list(self.sizes)}")
        if not 0.0 <= self.l1_ratio <= 1.0:
            raise ReglabError(f"--l1-ratio must lie in [0, 1], got {self.l1_ratio}")
        if not 0.0 <= self.momentum < 1.0:
            raise ReglabError(f"--momentum must lie in [0, 1), got {self.momentum}")
        if self.max_norm is not None and not (isinstance(self.max_norm, (int, float)) and 0 < self.max_norm < math.inf):
            raise ReglabError(f"--max-norm must be a finite number > 0, got {self.max_norm!r}")
        if not self.dropout:
            raise ReglabError("--dropout needs at least one rate")
        for name, rates in (("dropout", self.dropout), ("input_dropout", (self.input_dropout,))):
            if any(not isinstance(p, (int, float)) or not 0.0 <= p < 1.0 for p in rates):
                raise ReglabError(f"--{name.replace('_', '-')} rates must lie in [0, 1), got {list(rates)}")
        if not isinstance(self.label_noise, (int, float)) or not 0.0 <= self.label_noise <= 1.0:
            raise ReglabError(f"--label-noise must lie in [0, 1], got {self.label_noise!r}")
        if self.augment:
            Augment.parse(self.augment, side=28)  # the specs' form; the side is checked against the data later
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                raise ReglabError(f"--{f.name.replace('_', '-')} {getattr(self, f.name)!r} is not one of {', '.join(choices)}")
        bad = set(self.monitor) - {"train", "validation", "test"}
        if bad:
            raise ReglabError(f"--monitor accepts train, validation, test; got {', '.join(sorted(bad))}")
        if self.early_stop and self.schedule:
            raise ReglabError("--early-stop and --schedule both act on plateaus; choose one")
        parse_schedule(self.lmbda_schedule, max(self.epochs, 1))

    # -- the models of the run -------------------------------------------------------------------
    @property
    def n_models(self) -> int:
        """How many models the run trains: ``|lmbda| · |eta| · seeds`` (· ``folds`` with cross-validation), known
        without listing them (``len(self.models())``)."""
        return len(self.lmbda) * len(self.eta) * self.seeds * (self.folds or 1)

    def models(self) -> list[dict[str, float]]:
        """One dict per model: ``lmbda``, ``eta``, ``seed`` (the grid λ × η × seeds, λ slowest), and with
        ``folds`` its ``fold`` (the grid λ × η × seeds × folds)."""
        return [
            {"lmbda": float(lam), "eta": float(eta), "seed": self.seed + k, **({"fold": f} if self.folds else {})}
            for lam in self.lmbda
            for eta in self.eta
            for k in range(self.seeds)
            for f in range(self.folds or 1)
        ]

    # -- persistence -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """The configuration a JSON object describes (``config.json``); every field checked as a flag would be."""
        if not isinstance(d, dict):
            raise ReglabError(f"a configuration is a JSON object of settings such as {{\"epochs\": 30}}, "
                              f"not {_article(type(d).__name__)}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(map(str, d)) - names
        if unknown:
            raise ReglabError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        return cls(**d)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def digest(self) -> str:
        """A short hash of the configuration (names run folders and sweep cells)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:10]


# -- types of the fields ------------------------------------------------------------------------------
_TYPES: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    """The annotations of ``cls``'s fields, resolved once."""
    if cls not in _TYPES:
        _TYPES[cls] = typing.get_type_hints(cls)
    return _TYPES[cls]


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a text"}
_ITEMS = {int: "integers", float: "numbers", str: "names"}


def _checked(name: str, value: Any, hint: Any) -> Any:
    """``value`` of field ``name`` checked against its annotation ``hint``, lists as tuples and numpy
    numbers as Python numbers; a :class:`ReglabError` naming the flag if it does not fit."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional, hint = len(args) < len(typing.get_args(hint)), args[0]
    if value is None and optional:
        return None
    flag = "--" + name.replace("_", "-")
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if isinstance(value, (list, tuple)):
            items = [_scalar(v, item) for v in value]
            if all(v is not _BAD for v in items):
                return tuple(items)
        expected = f"a list of {_ITEMS.get(item, 'values')}" + (" or null" if optional else "")
        raise ReglabError(f"{flag} must be {expected}, got {_brief(value)}")
    one = _scalar(value, hint)
    if one is _BAD:
        raise ReglabError(f"{flag} must be {_KINDS.get(hint, str(hint))}{' or null' if optional else ''}, "
                          f"got {_brief(value)}")
    return one


_BAD = object()


def _scalar(value: Any, kind: Any) -> Any:
    """``value`` as a Python ``kind`` (bool, int, float, str), or ``_BAD``; ``True`` is not a number."""
    if kind is bool:
        return value if isinstance(value, bool) else _BAD
    if isinstance(value, bool):
        return _BAD
    if kind is int:
        return int(value) if isinstance(value, numbers.Integral) else _BAD
    if kind is float:
        return float(value) if isinstance(value, numbers.Real) else _BAD
    if kind is str:
        return value if isinstance(value, str) else _BAD
    return value


def _brief(value: Any) -> str:
    """``repr(value)`` with its type, cut to a readable length."""
    text = repr(value)
    text = text if len(text) <= 60 else text[:45] + "…" + text[-10:]
    return f"{text} ({type(value).__name__})"


def _article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


# -- the CLI built from the fields ---------------------------------------------------------------
#: Fields whose one value is itself a list (``--hidden 100,30`` is one network): one word, commas inside.
#: Every other tuple field takes several values, as words or separated by commas (``--lmbda 0.1 5 50``).
LIST_VALUED = ("hidden", "sizes", "split")


def parse_values(text: str, kind: type = float) -> tuple:
    """Values from ``"0.1,1,10"``, ``"1e-4:1e2:13"`` or a mix such as ``"0,1e-3:1:4"``: the one list syntax
    of every flag that takes several values (``reglab train``, ``run`` and ``sweep`` alike).

    Values are separated by commas or spaces. For numbers, ``A:B:N`` is ``N`` log-spaced values from ``A``
    to ``B``, both included (``A, B > 0``, ``N ≥ 2``): ``A·(B/A)^{k/(N−1)}``, ``k = 0 … N−1``, rounded to 12
    significant digits so that ``1e-2:1e2:5`` gives ``0.01, 0.1, 1, 10, 100``. A range of one value is
    refused (it would drop ``B`` silently): write the value alone.

    Raises
    ------
    ValueError
        On a malformed value or range (argparse turns it into one line).
    """
    import numpy as np

    values: list = []
    for token in text.replace(",", " ").split():
        if ":" not in token or kind is str:
            values.append(kind(token))
            continue
        parts = token.split(":")
        if len(parts) != 3:
            raise ValueError(f"a range is START:STOP:COUNT, got {token!r}")
        a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
        if not (a > 0 and b > 0 and n >= 1 and math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"a log range needs START, STOP > 0 and COUNT ≥ 2, got {token!r}")
        if n == 1:
            raise ValueError(f"the range {token} is a grid of one value; write the value alone, or COUNT ≥ 2")
        values.extend(kind(float(f"{v:.12g}")) for v in np.geomspace(a, b, n))
    if not values:
        raise ValueError("no values given")
    return tuple(values)


def _parse_list(kind):
    def parse(text: str):
        try:
            return parse_values(text, kind)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__} values separated by commas or spaces"
                                             f"{' (or START:STOP:COUNT)' if kind is not str else ''}, got {text!r}"
                                             f" ({exc})") from None

    return parse


def add_arguments(parser: argparse.ArgumentParser, cls: type = TrainConfig, skip: tuple[str, ...] = (),
                  defaults: dict[str, Any] | None = None) -> None:
    """Add one flag per field of ``cls`` (``--batch-size`` for ``batch_size``); defaults come from the class."""
    hints = typing.get_type_hints(cls)
    defaults = defaults or {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        names = [flag, *f.metadata.get("aliases", ())]
        default = defaults.get(f.name, f.default)
        hint = str(hints[f.name])
        kw: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS}
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        help_text = f"{f.metadata['help']} (default: {shown})"
        if hint == "<class 'bool'>":
            parser.add_argument(*names, action="store_true", help=f.metadata["help"], **kw)
            continue
        if "tuple" in hint:
            item = float if "float" in hint else int if "int" in hint else str
            several = f.name not in LIST_VALUED
            kw.update(type=_parse_list(item), nargs="+" if several else None)
            if several:
                kw["metavar"] = "VALUE"
        elif "int" in hint:
            kw["type"] = int
        elif "float" in hint:
            kw["type"] = float
        if f.metadata.get("choices"):
            kw["choices"] = list(f.metadata["choices"])  # a registry's names as they are now
        parser.add_argument(*names, help=help_text, **kw)


def from_args(args: argparse.Namespace, cls=TrainConfig, defaults: dict | None = None):
    """Build ``cls`` from parsed flags; flags not given keep ``defaults`` or the class defaults."""
    values = dict(defaults or {})
    for f in dataclasses.fields(cls):
        if hasattr(args, f.name):
            v = getattr(args, f.name)
            if isinstance(v, list):  # nargs="+" of tuples
                v = tuple(x for part in v for x in part)
            values[f.name] = v
    return cls(**values)
