"""From a :class:`~reglab.config.TrainConfig` to trained models.

:func:`train` builds the pieces a configuration names (data on the device, with
its labels corrupted and its images expanded where asked, the batched MLP, the
regularizer and max-norm, dropout, augmentation, the optimizer, callbacks) and calls the one
loop, :func:`reglab.engine.loop.fit` (:func:`fit_config` does the part after the
data is on the device, for data of your own); :func:`check` checks a configuration
against the data first. :mod:`reglab.runs.summary` turns the result into the
JSON-ready summary, :mod:`reglab.runs.folder` writes the run folder.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import numpy as np
import torch

from reglab.config import TrainConfig
from reglab.data.augment import Augment, expand_shifts, image_side
from reglab.data.dataset import Standardization
from reglab.data.noise import LabelNoise, corrupt_labels
from reglab.data.user import standardize
from reglab.engine.compiling import KernelCompiler
from reglab.engine.data import Folds, TensorData, TensorSplit, check_train_size, kfold
from reglab.engine.dropout import Dropout
from reglab.engine.loop import Callback, EarlyStopping, FitResult, HalvingSchedule, fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.nn import Cost
from reglab.engine.optim import make_optimizer
from reglab.engine.regularizers import MaxNorm, NoRegularizer, Regularizer, make_regularizer
from reglab.engine.schedules import Constant, parse_schedule
from reglab.errors import ReglabError
from reglab.rng import seed_for
from reglab.runs.budget import check_memory

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ReglabError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def layer_sizes(config: TrainConfig, n_features: int, n_classes: int) -> list[int]:
    """``--sizes`` checked against the data, or ``[n_features, *hidden, n_classes]``."""
    if config.sizes is None:
        return [n_features, *config.hidden, n_classes]
    sizes = list(config.sizes)
    if sizes[0] != n_features or sizes[-1] != n_classes:
        raise ReglabError(
            f"--sizes {','.join(map(str, sizes))} does not fit the data: it has {n_features} inputs and {n_classes} classes"
        )
    return sizes


def check(config: TrainConfig, ds) -> list[int]:
    """Check ``config`` against the data set before anything trains; return the layer sizes."""
    if config.train_size is not None:
        check_train_size(config.train_size, ds)
    n = config.train_size or len(ds.train.y)
    if config.folds:
        kfold(n, config.folds, config.seed)  # more folds than examples: the error is here
        n -= -(-n // config.folds)  # each model trains on the rows outside its fold (the smallest such set)
    if config.batch_size > n:
        raise ReglabError(f"--batch-size {config.batch_size} exceeds the {n} training examples"
                          + (" of a fold" if config.folds else ""))
    if (config.early_stop or config.schedule) and len(ds.validation.y) == 0 and not config.folds:
        raise ReglabError("--early-stop and --schedule need a validation split")
    if config.optimizer == "adamw" and config.reg != "decay":
        raise ReglabError("--optimizer adamw is Adam with decoupled decay: use it with --reg decay (or --optimizer adam)")
    if config.expand:
        image_side(ds.n_features, "--expand")
        if config.folds:
            raise ReglabError("--expand with --folds would train on the shifted copies of each fold's held-out images: "
                              "use --augment shift:1, which shifts every epoch's images afresh")
    if config.augment:
        Augment.parse(config.augment, image_side(ds.n_features, "--augment"))
        if config.per_model_order and len(config.models()) > 1:
            raise ReglabError("--augment draws one transformation of the data per epoch for all the models of a run: "
                              "it cannot be combined with --per-model-order")
    sizes = layer_sizes(config, ds.n_features, ds.n_classes)
    Dropout.per_layer(config.dropout, config.input_dropout, layers=len(sizes) - 1)  # one rate, or one per hidden layer
    return sizes


def load_data(config: TrainConfig):
    """The :class:`reglab.data.Dataset` a configuration names."""
    from reglab.data import load_dataset

    split = cast(tuple[float, float, float], tuple(config.split))  # load_dataset checks it has three parts
    return load_dataset(config.data, config.data_dir, target=config.target, split=split, seed=config.seed,
                        standardize=config.standardize)


def training_data(config: TrainConfig, ds, device: torch.device, dtype: torch.dtype) -> tuple[TensorData, LabelNoise | None]:
    """The splits a configuration trains on, and which labels ``--label-noise`` changed (``None`` without it).

    The training split: its first ``--train-size`` examples, then ``⌊p·n + ½⌋`` of their labels changed to a
    random wrong class (:func:`reglab.data.noise.corrupt_labels`, drawn from the stream ``(seed, "label-noise")``),
    then with ``--expand`` each image and its four one-pixel shifts, the copies keeping their image's (possibly
    changed) label (:func:`reglab.data.augment.expand_shifts`: one array, written once). Validation and test
    as they are.
    """
    data = TensorData.from_dataset(ds, device, dtype, config.train_size)
    if not config.label_noise and not config.expand:
        return data, None
    n = len(data.train)
    X, y = ds.train.X[:n], ds.train.y[:n]
    noise = None
    if config.label_noise:
        g = np.random.default_rng(seed_for(config.seed, "label-noise"))
        y, noise = corrupt_labels(y, config.label_noise, ds.n_classes, g)
    if config.expand:
        X, y = expand_shifts(X, y, image_side(ds.n_features), dtype=np.float64 if dtype == torch.float64 else np.float32)
    return replace(data, train=TensorSplit.from_arrays(X, y, ds.n_classes, device, dtype)), noise


@dataclass
class TrainResult:
    """A finished run: its configuration, the data set's name and sizes, the fit, and what the inputs and
    outputs mean: the original label of each class (``None``: the classes are ``0..K-1``) and the
    standardization the inputs went through (``None``: raw); the labels ``--label-noise`` changed."""

    config: TrainConfig
    dataset_name: str
    sizes: list[int]
    models: list[dict]
    fit: FitResult
    note: str | None = None
    classes: tuple | None = None
    standardization: Standardization | None = None
    label_noise: LabelNoise | None = None


def train(config: TrainConfig, dataset=None, callbacks: Sequence[Callback] = (), monitor: Monitor | None = None,
          held_out: Sequence[ArrayLike] | None = None, compiler: KernelCompiler | None = None) -> TrainResult:
    """Train the models of ``config`` together; ``dataset`` defaults to the one it names (a ``dataset`` given
    is standardized here when ``config.standardize`` asks for it and it is not yet); ``monitor`` replaces the
    one ``config.monitor`` describes; ``held_out`` the folds' rows (:func:`fit_config`); ``compiler`` a process for a
    first run's compilation of the kernel (:class:`~reglab.engine.compiling.KernelCompiler`, started early).

    Sizes whose weights would not fit in memory are refused before anything is allocated
    (:func:`reglab.runs.budget.check_memory`). Warnings raised while training (numpy's "overflow
    encountered", say, from a λ beyond float32's range) are not printed: they are recorded, once each, in
    ``result.fit.meta["warnings"]`` and the summary, beside the models they made diverge.
    """
    ds = dataset if dataset is not None else load_data(config)
    if config.standardize and ds.standardization is None:
        ds = standardize(ds)
    sizes = check(config, ds)
    check_memory(config, sizes, config.n_models)
    device = resolve_device(config.device)
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data, noise = training_data(config, ds, device, dtype)
        result = fit_config(config, data, sizes, monitor=monitor, callbacks=callbacks, held_out=held_out,
                            compiler=compiler)
    result.meta["warnings"] = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return TrainResult(config, ds.name, sizes, config.models(), result, getattr(ds, "note", None),
                       getattr(ds, "classes", None), getattr(ds, "standardization", None), noise)


def regularization(config: TrainConfig, layers: int) -> tuple[Regularizer, Dropout]:
    """The regularizer of ``--reg`` at each model's λ, with ``--max-norm`` after it (the kernel projects last), and
    the dropout of ``--dropout`` and ``--input-dropout`` for a network of ``layers`` layers, with the models' seeds."""
    models = config.models()
    reg = make_regularizer(config.reg, [m["lmbda"] for m in models], config.to_dict())
    if config.max_norm is not None:
        reg = MaxNorm(config.max_norm) if isinstance(reg, NoRegularizer) else reg + MaxNorm(config.max_norm)
    dropout = Dropout.per_layer(config.dropout, config.input_dropout, layers=layers, seeds=[int(m["seed"]) for m in models])
    return reg, dropout


def fit_config(config: TrainConfig, data: TensorData, sizes: Sequence[int], *, cost: Cost | None = None,
               monitor: Monitor | None = None, callbacks: Sequence[Callback] = (),
               held_out: Sequence[ArrayLike] | None = None, compiler: KernelCompiler | None = None) -> FitResult:
    """Initialize the models of ``config`` (``sizes``, on ``data``'s device and dtype) and :func:`fit` them on
    ``data``. ``cost`` (an instance) replaces ``config.cost``: a cost of your own, e.g. the regression cost
    of :mod:`reglab.sklearn`; ``monitor`` replaces the one ``config.monitor`` describes. With ``config.folds``,
    ``held_out`` gives the rows of each fold (e.g. a scikit-learn splitter's test sets; :meth:`Folds.of`)
    instead of :func:`~reglab.engine.data.kfold`'s from ``config.seed``."""
    models = config.models()
    model = MLP.initialize(
        sizes,
        seeds=[int(m["seed"]) for m in models],
        init=config.init,
        activation=config.activation,
        cost=config.cost if cost is None else cost,
        device=data.train.X.device,
        dtype=data.train.X.dtype,
    )
    reg, dropout = regularization(config, layers=len(sizes) - 1)
    lmbda_schedule = parse_schedule(config.lmbda_schedule, config.epochs)
    plateau: list[Callback] = []
    needs_validation = config.early_stop or config.schedule
    monitor_splits = tuple(config.monitor)
    if needs_validation and "validation" not in monitor_splits:
        monitor_splits += ("validation",)
    if config.early_stop:
        plateau.append(EarlyStopping(config.early_stop))
    if config.schedule:
        plateau.append(HalvingSchedule(config.schedule))
    result = fit(
        model,
        data,
        epochs=config.epochs,
        batch_size=config.batch_size,
        eta=[m["eta"] for m in models],
        regularizer=reg,
        optimizer=make_optimizer(config.optimizer, momentum=config.momentum),
        order_seeds=[int(m["seed"]) for m in models] if config.per_model_order else [config.seed],
        monitor=monitor or Monitor(splits=monitor_splits, train=config.monitor_train),
        callbacks=[*plateau, *callbacks],
        threads=config.threads,
        engine=config.engine,
        dropout=dropout if dropout.active else None,
        augment=Augment.parse(config.augment, image_side(sizes[0], "--augment")) if config.augment else None,
        lmbda_schedule=None if lmbda_schedule == Constant() else lmbda_schedule,
        folds=_folds(config, len(data.train), [int(m["fold"]) for m in models], held_out) if config.folds else None,
        compiler=compiler,
    )
    result.meta["regularizer"] = repr(reg)
    result.meta["dropout"] = repr(dropout) if dropout.active else None
    return result


def _folds(config: TrainConfig, N: int, fold: list[int], held_out: Sequence[ArrayLike] | None) -> Folds:
    """The folds of ``config``'s models: ``held_out``'s rows, or :func:`kfold`'s from ``config.seed``."""
    if held_out is None:
        return Folds.split(N, config.folds, config.seed, fold)
    if len(held_out) != config.folds:
        raise ReglabError(f"{len(held_out)} folds of held-out rows given for --folds {config.folds}")
    return Folds.of(held_out, fold, N)
