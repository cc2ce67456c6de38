r"""reglab as scikit-learn estimators: :class:`MLPClassifier`, :class:`MLPRegressor` and :class:`RegularizationPathCV`.

They follow scikit-learn's conventions (the constructor stores its arguments;
``fit``/``predict``/``predict_proba``/``score``; fitted attributes end in ``_``;
``get_params``/``set_params``, so ``GridSearchCV``, ``Pipeline`` and ``clone``
work) and train on reglab's engine. The parameters are the fields of
:class:`reglab.TrainConfig` (the flags of ``reglab train``), so
``MLPClassifier(hidden=(30,), lmbda=5.0, eta=0.1, epochs=30)`` trains exactly
what ``reglab train --hidden 30 --lmbda 5 --eta 0.1 --epochs 30`` trains on the
same training rows. scikit-learn's names map as ``hidden_layer_sizes`` →
``hidden``, ``learning_rate_init`` → ``eta``, ``max_iter`` → ``epochs``;
``random_state`` is the seed of the initial weights and of the mini-batch order.

The strength of L2 (and of the other penalties)
-------------------------------------------------
``lmbda`` is the book's λ: the cost is ``C = C₀ + (λ/2n) Σ w²`` with ``n`` the
number of training examples (``C₀`` the mean cost per example). ``alpha`` is the
same strength in scikit-learn's ``MLPClassifier`` units, whose penalty is
``0.5·α‖W‖²/|B|`` per mini-batch of size ``|B|``; the two are converted exactly
(:mod:`reglab.units`):

.. math::  \lambda = \alpha\, n / |B| .

Give one of them (both ``None``: λ = 5, the book's). ``lmbda_`` and ``alpha_``
hold the fitted strength in both units.

Regression
----------
:class:`MLPRegressor` trains real-valued targets ``y`` ``(N,)`` or ``(N, K)`` with
linear outputs and the quadratic cost ``C₀ = (1/n) Σ_x ½‖a_x − y_x‖²``
(:class:`RegressionCost`, ``δ = a − y``). The kernel has no code for it, so it
trains on the engine's tensor steps (any regularizer, optimizer and
initializer; no early stopping, which reglab measures by accuracy).

Cross-validated λ in one batched run
------------------------------------
:class:`RegularizationPathCV` fits every λ of a grid on every fold as *one*
batched run of ``len(lmbdas) × n_folds`` models: the engine's k-fold
cross-validation (:class:`reglab.engine.data.Folds`, as ``reglab sweep
--folds`` and ``reglab path --folds``), with the folds of a scikit-learn
splitter. Model ``(λ_j, fold f)`` trains on the rows outside fold ``f`` in its
own order and is scored on fold ``f``'s rows; ``lmbda_best_`` is the best mean
score and ``lmbda_1se_`` glmnet's rule (the largest λ whose mean is within one
standard error of the best, over folds; :func:`reglab.sweep.select.one_se_rule`).
Where the folds have one size this is, model for model, what fitting the
estimator on each fold's training rows trains (``GridSearchCV``'s fits);
where their sizes differ by one, each epoch every model trains on ``L`` rows,
the size of the smallest training set (a model of a larger one leaves out a
different row each epoch), and ``n`` in ``λ/2n`` is ``L``.
"""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from reglab.config import TrainConfig
from reglab.data.dataset import Dataset, Split
from reglab.engine.data import Folds, TensorData, TensorSplit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.nn import Cost, get_activation
from reglab.errors import ReglabError
from reglab.runs.assemble import fit_config, train
from reglab.runs.export import TrainedModel, from_mlp
from reglab.sweep.select import one_se_rule
from reglab.units import convert

#: λ when neither ``lmbda`` nor ``alpha`` is given: the book's.
DEFAULT_LMBDA = 5.0


class RegressionCost(Cost):
    """Linear outputs, ``fn = ½‖a − y‖²`` summed over the examples, ``delta = a − y`` (``a = z``)."""

    name = "quadratic-linear"
    output_activation = "linear"

    def output(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def fn(self, z: torch.Tensor, a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((a - y) ** 2).sum(dim=(-2, -1))

    def delta(self, z: torch.Tensor, a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return a - y


class _ReglabMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, the configuration, the batched fit."""

    # what a regressor does not take (the classifier's parameters): the shared code reads these
    cost = "quadratic"
    early_stop = 0
    validation_fraction = 0.0

    def __init__(self, hidden=(30,), *, lmbda=None, alpha=None, reg="l2", l1_ratio=0.5, activation="sigmoid",
                 init="large", optimizer="sgd", momentum=0.9, eta=0.1, batch_size=10, epochs=30, monitor=None,
                 random_state=0, dtype="float32", engine="auto", threads=0):
        self.hidden = hidden
        self.lmbda = lmbda
        self.alpha = alpha
        self.reg = reg
        self.l1_ratio = l1_ratio
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.momentum = momentum
        self.eta = eta
        self.batch_size = batch_size
        self.epochs = epochs
        self.monitor = monitor
        self.random_state = random_state
        self.dtype = dtype
        self.engine = engine
        self.threads = threads

    # -- the configuration ---------------------------------------------------------------------------
    def _seed(self) -> int:
        if self.random_state is None:
            return int(np.random.default_rng().integers(2**31))
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        if isinstance(self.random_state, np.random.RandomState):
            return int(self.random_state.randint(2**31))
        raise ValueError(f"random_state must be an int, None or a numpy RandomState, got {self.random_state!r}")

    def _lmbdas(self, n: int, batch_size: int, lmbdas=None) -> tuple[float, ...]:
        """λ in the book's units (``lmbdas`` given: those), from ``lmbda`` or ``alpha``."""
        if lmbdas is not None:
            return tuple(float(v) for v in lmbdas)
        if self.lmbda is not None and self.alpha is not None:
            raise ValueError("give lmbda (the book's units) or alpha (scikit-learn's), not both")
        if self.alpha is not None:
            if not isinstance(self.alpha, Real):
                raise ValueError(f"alpha must be a number ≥ 0, got {self.alpha!r}")
            return (convert(float(self.alpha), "sklearn", "book", n=n, batch_size=batch_size),)
        value = DEFAULT_LMBDA if self.lmbda is None else self.lmbda
        if not isinstance(value, Real):
            raise ValueError(f"lmbda must be a number ≥ 0, got {value!r}")
        return (float(value),)

    def _config(self, n: int, lmbdas=None, validation: bool = False, folds: int = 0) -> TrainConfig:
        hidden = (self.hidden,) if isinstance(self.hidden, Integral) else tuple(self.hidden)
        batch_size = self.batch_size
        if isinstance(batch_size, Integral) and int(batch_size) > n:
            warnings.warn(f"batch_size {batch_size} exceeds the {n} training examples; using {n}", UserWarning,
                          stacklevel=3)  # as scikit-learn's MLP does
            batch_size = n
        try:
            return TrainConfig(
                hidden=hidden, lmbda=self._lmbdas(n, batch_size, lmbdas), reg=self.reg, l1_ratio=self.l1_ratio,
                activation=self.activation, cost=self.cost, init=self.init,
                optimizer=self.optimizer, momentum=self.momentum, eta=(self.eta,), batch_size=batch_size,
                epochs=self.epochs, early_stop=self.early_stop, seed=self._seed(), dtype=self.dtype, folds=folds,
                engine=self.engine, threads=self.threads, device="cpu",
                monitor=("train", "validation") if validation else ("train",),
            )
        except (ReglabError, TypeError) as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None

    @property
    def _np_dtype(self) -> type:
        return np.float64 if self.dtype == "float64" else np.float32

    def _validation_split(self, X, y, stratify) -> tuple:
        """``(X_train, y_train, X_val, y_val)``: a held-out part for early stopping (the last rows after a
        seeded shuffle, stratified for a classifier, as scikit-learn's MLP), or none."""
        if not self.early_stop:
            return X, y, X[:0], y[:0]
        from sklearn.model_selection import train_test_split

        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must lie in (0, 1), got {self.validation_fraction}")
        X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=self.validation_fraction, stratify=stratify,
                                                  random_state=self._seed())
        return X_tr, y_tr, X_va, y_va

    def _finish(self, result_model: MLP, history, n: int, config: TrainConfig) -> None:
        self.model_ = result_model
        self.history_ = history
        self.n_iter_ = int(history.epochs[-1])
        self.lmbda_ = config.lmbda[0]
        self.alpha_ = convert(self.lmbda_, "book", "sklearn", n=n, batch_size=config.batch_size)
        self.loss_ = float(history.get("train_cost")[-1, 0]) if history.has("train_cost") else float("nan")

    def _outputs(self, X, model: MLP | None = None, models: list[int] | None = None) -> np.ndarray:
        """The outputs ``(M, N, K)`` of the network's models (``models``: those only) on ``X`` (already validated),
        computed in float64 from the trained weights: a row's prediction does not depend on the rows beside it
        (float32 products would, in the last bit)."""
        model = self.model_ if model is None else model
        pick = slice(None) if models is None else models
        wide = MLP([W[pick].double() for W in model.weights], [b[pick].double() for b in model.biases],
                   model.activation, model.cost)
        with torch.no_grad():
            return wide.output(torch.as_tensor(np.asarray(X, dtype=np.float64))).numpy()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the trained network as arrays and names (its activation functions are not picklable)."""
        state = dict(self.__dict__)
        model = state.pop("model_", None)
        if model is not None:
            state["_model_arrays"] = ([W.numpy() for W in model.weights], [b.numpy() for b in model.biases],
                                      model.activation.name, model.cost)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        arrays = state.pop("_model_arrays", None)
        self.__dict__.update(state)
        if arrays is not None:
            weights, biases, activation, cost = arrays
            self.model_ = MLP([torch.from_numpy(W) for W in weights], [torch.from_numpy(b) for b in biases],
                              get_activation(activation), cost)

    def trained_model(self, model: int = 0) -> TrainedModel:
        """The fitted network for :mod:`reglab.runs.export` (``reglab.runs.export.to_sequential(estimator)``)."""
        check_is_fitted(self)
        classes = getattr(self, "classes_", None)
        return from_mlp(self.model_, model, classes=None if classes is None else classes.tolist(),
                        source=f"{type(self).__name__}(lmbda={self.lmbda_:g})")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class MLPClassifier(ClassifierMixin, _ReglabMLP):
    """A multilayer perceptron classifier trained by reglab (the parameters: the module docstring).

    Attributes
    ----------
    classes_ : np.ndarray
        The class labels, in the order of the outputs.
    model_ : reglab.MLP
        The trained network (one model).
    history_ : reglab.History
        The per-epoch record of ``monitor`` (default: the training split's cost and accuracy as it trains,
        the validation split's with ``early_stop``, and the per-layer weight statistics).
    lmbda_, alpha_ : float
        The strength it trained with, in the book's units and in scikit-learn's.
    n_iter_ : int
        Epochs trained (fewer than ``epochs`` when early stopping stopped it).
    loss_ : float
        The last epoch's data cost on the training rows.
    n_features_in_ : int
    """

    def __init__(self, hidden=(30,), *, lmbda=None, alpha=None, reg="l2", l1_ratio=0.5, activation="sigmoid",
                 cost="cross-entropy", init="large", optimizer="sgd", momentum=0.9, eta=0.1, batch_size=10, epochs=30,
                 early_stop=0, validation_fraction=0.1, monitor=None, random_state=0, dtype="float32", engine="auto",
                 threads=0):
        super().__init__(hidden, lmbda=lmbda, alpha=alpha, reg=reg, l1_ratio=l1_ratio, activation=activation, init=init,
                         optimizer=optimizer, momentum=momentum, eta=eta, batch_size=batch_size, epochs=epochs,
                         monitor=monitor, random_state=random_state, dtype=dtype, engine=engine, threads=threads)
        self.cost = cost
        self.early_stop = early_stop
        self.validation_fraction = validation_fraction

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), y_numeric=False)
        check_classification_targets(y)
        self.classes_ = unique_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes in y, got only one class "
                             f"({self.classes_[0]!r})")
        codes = np.searchsorted(self.classes_, y)
        model, history, n, config = self._fit_models(X, codes, len(self.classes_))
        self._finish(model, history, n, config)
        return self

    def _fit_models(self, X, codes, n_classes: int, lmbdas=None, held_out=None):
        """Train one model per λ (``lmbdas``, else the estimator's) on ``X`` with classes ``codes`` (0..K-1) as one
        batched run of :func:`reglab.train`; return ``(MLP, History, n, TrainConfig)``. ``held_out``: the rows of
        each fold; then one model per λ × fold (fold fastest), each early-stopped, if at all, on its fold."""
        if held_out is None:
            X_tr, y_tr, X_va, y_va = self._validation_split(X, codes, codes)
        else:
            X_tr, y_tr, X_va, y_va = X, codes, X[:0], codes[:0]
        n = _rows_per_model(len(y_tr), held_out)
        config = self._config(n, lmbdas, validation=len(y_va) > 0 or bool(held_out and self.early_stop),
                              folds=len(held_out or ()))
        ds = Dataset("arrays", _split(X_tr, y_tr), _split(X_va, y_va), _split(X_va[:0], y_va[:0]), n_classes, "fit")
        try:
            result = train(config, ds, monitor=self.monitor or Monitor(splits=config.monitor, saturation_examples=0),
                           held_out=held_out)
        except ReglabError as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None
        return result.fit.model, result.fit.history, n, config

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(N, K)``: the softmax outputs, or the sigmoid outputs normalized to sum to 1."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        a = self._outputs(X)[0].astype(np.float64)
        return a / a.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The class of the largest output, as its label in ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self.classes_[self._outputs(X)[0].argmax(axis=1)]

    def _scores(self, outputs: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Accuracy of each model ``(M,)`` from outputs ``(M, N, K)`` against classes ``codes``."""
        return (outputs.argmax(axis=2) == codes[None]).mean(axis=1)


class MLPRegressor(RegressorMixin, _ReglabMLP):
    """A multilayer perceptron regressor trained by reglab: linear outputs, the quadratic cost (module docstring).

    Attributes
    ----------
    model_, history_, lmbda_, alpha_, n_iter_, loss_, n_features_in_
        As for :class:`MLPClassifier` (``loss_`` is ``½‖a − y‖²`` averaged over the training rows).
    n_outputs_ : int
        The number of targets.
    """

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), y_numeric=True, multi_output=True)
        self._y_1d = y.ndim == 1
        model, history, n, config = self._fit_models(X, y)
        self.n_outputs_ = model.sizes[-1]
        self._finish(model, history, n, config)
        return self

    def _fit_models(self, X, y, lmbdas=None, held_out=None):
        """Train one model per λ on real targets ``y`` (N,) or (N, K) as one batched run (tensor steps); with
        ``held_out`` (the rows of each fold) one model per λ × fold (fold fastest)."""
        Y = np.asarray(y, dtype=self._np_dtype).reshape(len(y), -1)
        n = _rows_per_model(len(Y), held_out)
        config = self._config(n, lmbdas, folds=len(held_out or ()))
        dtype = torch.float64 if config.dtype == "float64" else torch.float32
        Xt = torch.as_tensor(np.asarray(X), dtype=dtype)
        split = TensorSplit(Xt, torch.zeros(len(Y), dtype=torch.int64), torch.as_tensor(Y, dtype=dtype))
        data = TensorData(split, None, None, Y.shape[1])
        sizes = [X.shape[1], *config.hidden, Y.shape[1]]
        monitor = self.monitor or Monitor(splits=("train",), saturation_examples=0, train="exact")
        try:
            result = fit_config(config, data, sizes, cost=RegressionCost(), monitor=monitor, held_out=held_out)
        except ReglabError as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None
        for record in result.history.records:  # accuracy means nothing for real targets
            for key in [k for k in record if isinstance(k, str) and k.endswith("_accuracy")]:
                del record[key]
        return result.model, result.history, n, config

    def predict(self, X) -> np.ndarray:
        """The network's outputs, ``(N,)`` for a one-target fit, else ``(N, K)``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        out = self._outputs(X)[0].astype(np.float64)
        return out[:, 0] if self._y_1d else out

    def _scores(self, outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
        """R² of each model ``(M,)`` (averaged over targets, as ``r2_score``) from outputs ``(M, N, K)``."""
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        ss_res = ((outputs - Y[None]) ** 2).sum(axis=1)  # (M, K)
        ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)  # (K,)
        r2 = 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, np.nan)
        return np.nanmean(np.where(np.isfinite(r2), r2, np.where(ss_res > 0, 0.0, 1.0)), axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _split(X, y) -> Split:
    return Split(np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64))


def _rows_per_model(N: int, held_out) -> int:
    """The rows each model trains on: all ``N``, or with folds ``L`` (the smallest fold's complement)."""
    return N if not held_out else N - max(len(h) for h in held_out)


class RegularizationPathCV(BaseEstimator):
    """Choose λ by cross-validation, every λ × fold trained together as one batched run (module docstring).

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor, optional
        The model whose λ is chosen (its other parameters are kept); default ``MLPClassifier()``. With
        ``early_stop`` each model stops on its fold's held-out rows (as ``reglab sweep --folds --early-stop``),
        the rows it is then scored on.
    lmbdas : int or sequence of float
        The λ grid in the book's units; an int ``J`` is ``J`` log-spaced values from ``1e-3`` to ``1e2``.
    cv : int, cross-validation generator or iterable
        As for scikit-learn's ``cross_val_score`` (an int: stratified folds for a classifier), with one condition:
        the test sets are disjoint and cover the rows, and each split trains on all the rows outside its test set
        (``KFold``, ``StratifiedKFold``, ``GroupKFold``; not ``ShuffleSplit``), since every model of the batch is
        one fold's.
    select : {"1se", "best"}
        Which λ ``lmbda_`` is and the refit uses: glmnet's ``lambda.1se`` (the default: the most regularized
        model that the folds cannot tell from the best) or the best mean score.
    refit : bool
        Train the estimator with ``lmbda_`` on all of ``X`` (``best_estimator_``; ``predict`` uses it).

    Attributes
    ----------
    lmbdas_ : np.ndarray
        The grid, ascending.
    scores_ : np.ndarray
        ``(n_folds, n_lmbdas)``: accuracy (a classifier) or R² (a regressor) on each fold's held-out rows.
    cv_results_ : dict of np.ndarray
        As ``GridSearchCV``'s: ``param_lmbda``, ``params``, ``split{k}_test_score``, ``mean_test_score``,
        ``std_test_score``, ``se_test_score``, ``rank_test_score``, ``mean_fit_time`` (the batched run
        divided among its models).
    lmbda_best_, lmbda_1se_, lmbda_ : float
        The best mean score's λ (the largest among ties), the largest λ within one standard error of it,
        and the one ``select`` names.
    held_out_ : list of np.ndarray
        The rows of each fold (its test set), sorted.
    best_estimator_ : estimator
        Refit with ``lmbda_`` on all the data (``refit=True``).
    fit_seconds_ : float
        Time spent on the batched run of every λ × fold (not the refit).
    """

    def __init__(self, estimator=None, *, lmbdas=13, cv=5, select="1se", refit=True):
        self.estimator = estimator
        self.lmbdas = lmbdas
        self.cv = cv
        self.select = select
        self.refit = refit

    def _grid(self) -> np.ndarray:
        if isinstance(self.lmbdas, Integral):
            if self.lmbdas < 1:
                raise ValueError(f"lmbdas must be a positive count or a sequence of values, got {self.lmbdas}")
            return np.array([float(f"{v:.12g}") for v in np.geomspace(1e-3, 1e2, int(self.lmbdas))])
        grid = np.unique(np.asarray(self.lmbdas, dtype=np.float64))
        if grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() < 0:
            raise ValueError(f"lmbdas must be finite numbers ≥ 0, got {self.lmbdas!r}")
        return grid

    def fit(self, X, y):
        if self.select not in ("1se", "best"):
            raise ValueError(f"select must be '1se' or 'best', got {self.select!r}")
        base = clone(self.estimator) if self.estimator is not None else MLPClassifier()
        base.set_params(lmbda=None, alpha=None)
        classifier = is_classifier(base)
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), multi_output=not classifier)
        grid = self._grid()
        if classifier:
            check_classification_targets(y)
            self.classes_ = unique_labels(y)
            target = np.searchsorted(self.classes_, y)
        else:
            target = y
        held_out = _held_out(check_cv(self.cv, y, classifier=classifier).split(X, y), len(y))
        k, J = len(held_out), len(grid)
        t0 = time.perf_counter()
        args = (X, target, len(self.classes_)) if classifier else (X, target)
        model, *_ = base._fit_models(*args, lmbdas=grid, held_out=held_out)  # one batched run of J × k models
        seconds = time.perf_counter() - t0
        scores = np.empty((k, J))
        for f, rows in enumerate(held_out):  # model j·k + f: λ_j on fold f
            outputs = base._outputs(X[rows], model, models=[j * k + f for j in range(J)])
            scores[f] = base._scores(outputs.astype(np.float64), target[rows])
        selection = one_se_rule(grid, scores.T, metric="accuracy" if classifier else "r2")
        if selection is None:
            raise ValueError("no λ of the grid gave a finite score on any fold")
        self.lmbdas_, self.scores_, self.fit_seconds_, self.held_out_ = grid, scores, seconds, held_out
        self.lmbda_best_, self.lmbda_1se_ = selection.best_lmbda, selection.one_se_lmbda
        self.lmbda_ = self.lmbda_1se_ if self.select == "1se" else self.lmbda_best_
        self.cv_results_ = _cv_results(grid, scores, seconds / (k * J))
        if self.refit:
            self.best_estimator_ = clone(base).set_params(lmbda=self.lmbda_).fit(X, y)
        return self

    def predict(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def score(self, X, y):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.score(X, y)

    def trained_model(self, model: int = 0) -> TrainedModel:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.trained_model(model)  # type: ignore[no-any-return]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self.estimator if self.estimator is not None else MLPClassifier()
        inner = base.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags, tags.regressor_tags = inner.classifier_tags, inner.regressor_tags
        tags.target_tags = inner.target_tags
        return tags


def _held_out(splits, N: int) -> list[np.ndarray]:
    """The test rows of each split, sorted: the engine's folds (:meth:`Folds.of`), so the test sets must be
    disjoint and cover the ``N`` rows, and each split must train on all the rows outside its test rows."""
    held_out = []
    for train_rows, test_rows in splits:
        train_rows, test_rows = np.asarray(train_rows), np.asarray(test_rows)
        if not np.array_equal(np.sort(np.concatenate([train_rows, test_rows])), np.arange(N)):
            raise ValueError("RegularizationPathCV needs folds (a KFold-like cv): each split must train on all the "
                             "rows outside its test rows; use GridSearchCV for other splitters")
        held_out.append(np.sort(test_rows))
    try:
        Folds.of(held_out, (), N)
    except ReglabError as exc:
        raise ValueError(f"RegularizationPathCV needs folds (a KFold-like cv): {exc}; use GridSearchCV for other "
                         "splitters") from None
    return held_out


def _cv_results(grid: np.ndarray, scores: np.ndarray, fit_time: float) -> dict[str, Any]:
    """``GridSearchCV``-style results from ``scores`` (folds, J)."""
    folds = scores.shape[0]
    mean, std = scores.mean(axis=0), scores.std(axis=0)
    se = scores.std(axis=0, ddof=1) / np.sqrt(folds) if folds > 1 else np.full(len(grid), np.nan)
    order = np.argsort(-mean, kind="stable")
    rank = np.empty(len(grid), dtype=np.int32)
    rank[order] = np.arange(1, len(grid) + 1)
    out: dict[str, Any] = {"param_lmbda": grid.copy(), "params": [{"lmbda": float(v)} for v in grid]}
    for k in range(folds):
        out[f"split{k}_test_score"] = scores[k].copy()
    out.update(mean_test_score=mean, std_test_score=std, se_test_score=se, rank_test_score=rank,
               mean_fit_time=np.full(len(grid), fit_time))
    return out
