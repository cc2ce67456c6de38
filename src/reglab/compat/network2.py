r"""The book's ``network2.py``, same API, on reglab's engine.

A script written for chapter 3 of Michael Nielsen's *Neural Networks and Deep
Learning* runs with only its imports changed::

    from reglab.compat import mnist_loader, network2
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    net.SGD(training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)

The mathematics is the book's. With ``n`` the training-set size and a mini-batch
of ``m`` examples (the last of an epoch may be smaller),

.. math::  C = C_0 + \frac{\lambda}{2n}\sum_w w^2, \qquad
           w \leftarrow \Bigl(1-\frac{\eta\lambda}{n}\Bigr) w - \frac{\eta}{m}\sum_x \frac{\partial C_x}{\partial w},
           \qquad b \leftarrow b - \frac{\eta}{m}\sum_x \frac{\partial C_x}{\partial b}.

What is different is where the arithmetic happens: in reglab's engine, through
the same steps as ``reglab train`` (:func:`book_steps`: plain SGD and the L2
term as a gradient, per mini-batch

.. math::  w \leftarrow w - \eta\Bigl(\frac1m\sum_x \frac{\partial C_x}{\partial w} + \frac{\lambda}{n} w\Bigr),

which is the update above rearranged, equal to rounding). With the book's two
costs (``CrossEntropyCost``, ``QuadraticCost``) a whole epoch is one call of
the compiled kernel (on the CPU), walking the epoch's order in slices of ``m``;
any other cost class trains through its own ``delta`` on the engine's tensor
steps (:class:`reglab.engine.model.MLP`, its sigmoid), a mini-batch at a time.
``accuracy`` and ``total_cost`` (and ``SGD``'s monitoring) run on the torch
engine whatever the cost.

State and synchronisation
-------------------------
``weights`` and ``biases`` are plain lists of float64 numpy arrays shaped
``(n_out, n_in)`` and ``(n_out, 1)``, and they are the network between calls:
read them, replace them (``net.weights[0] = …``) or change them in place. Each
call that trains or evaluates copies them into the engine when it starts; a
call that trains writes *new* arrays back when it ends (also when
interrupted), as the original rebinds ``self.weights`` after every mini-batch,
so an array you kept from before training still holds the old values. The
compiled kernel does not look at signals while it runs, so a Ctrl-C during an
epoch of the book's costs takes effect when that epoch's training is done
(a fraction of a second for the script above): the weights written back
are those after the epoch, and the caller's list is in that epoch's order.

Randomness
----------
As in the book, initial weights come from numpy's global generator
(``np.random.randn``) and the mini-batch order from Python's ``random``
module: after ``np.random.seed(s)`` and ``random.seed(r)`` a script gets the
same initial weights and the same mini-batch order as the original would.
(This module only draws from those generators, as the book's API does; it
never seeds them.)

Which behaviour of which version
--------------------------------
reglab follows the original Python 2 network2.py, and adds the one argument of
the widely used Python 3 port that users ask for:

* ``SGD`` shuffles the caller's *list* in place, as ``random.shuffle`` did in the
  original, so a second ``SGD`` call continues from the same order (the port
  copies the list first and leaves the caller's alone). Internally the list is
  read once per call into arrays and an index array is shuffled by the same
  Fisher–Yates steps on the same words of ``random``'s generator
  (:func:`reglab.compat.shuffle.shuffle`: the same permutation and the same
  state of ``random`` afterwards, bit for bit, in a compiled loop); the caller's
  list is put into the resulting order when ``SGD`` returns. Arrays
  (``(X, y)``) are never reordered.
* Any iterable of ``(x, y)`` pairs is accepted (the port's ``zip`` objects too).
* ``total_cost`` adds the penalty ``0.5·(λ/len(data))·Σ‖w‖²`` once, after the
  data term (the port adds it inside its loop, once per example: a bug).
* ``early_stopping_n`` (from the port): with ``monitor_evaluation_accuracy``,
  stop after that many epochs in a row without a higher evaluation accuracy.
* Each epoch prints what the original prints, blank line included; the
  evaluation accuracy is computed once (the original computes it twice).

Data may be the book's lists of ``(x, y)`` pairs (``x`` shaped ``(784, 1)`` or
``(784,)``; ``y`` a one-hot ``(10, 1)`` vector or an integer label) or a pair
of arrays ``(X (N, 784), y)`` with ``y`` integer labels ``(N,)`` or targets
``(N, 10)``, as ``mnist_loader.load_data()`` returns. ``accuracy`` and
``total_cost`` keep the book's ``convert`` flags and say so, instead of
returning nonsense, when a flag does not fit the data.

Precision
---------
The engine runs in float64 by default, like the original's numpy: a mini-batch
update then agrees with a per-example numpy implementation of the equations
above to rounding (the tests check ``1e-6`` relative, after whole epochs).
``Network(sizes, dtype="float32")`` trains in float32 instead — faster, and
enough for learning curves — while ``weights`` and ``biases`` stay float64
arrays. While ``SGD`` runs, torch and the kernel use one thread (restored
afterwards): the products of a 10-example mini-batch are too small to share
between cores, and a second thread only waits.
"""

from __future__ import annotations

import ctypes
import functools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from reglab.compat.shuffle import shuffle
from reglab.engine.data import TensorSplit
from reglab.engine.model import MLP
from reglab.engine.nn import Cost, get_activation, get_cost
from reglab.engine.optim import SGD
from reglab.engine.regularizers import L2
from reglab.engine.steps import CompiledSteps, TensorSteps, make_steps
from reglab.engine.threads import torch_threads
from reglab.errors import ReglabError
from reglab.io import atomic_open

__all__ = [
    "QuadraticCost",
    "CrossEntropyCost",
    "Network",
    "load",
    "vectorized_result",
    "sigmoid",
    "sigmoid_prime",
]


# ---------------------------------------------------------------------------------------------
# The costs, as the book writes them (numpy, per example or per matrix of columns)
# ---------------------------------------------------------------------------------------------
class QuadraticCost:
    """``fn = ½‖a − y‖²``, ``delta = (a − y) σ'(z)``."""

    @staticmethod
    def fn(a, y):
        """The cost of output ``a`` for target ``y`` (summed over every entry)."""
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        """The output layer's error ``∂C_x/∂z``."""
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """``fn = Σ nan_to_num(−y ln a − (1−y) ln(1−a))``, ``delta = a − y``.

    ``nan_to_num`` turns ``0·ln 0`` into 0 where ``a`` and ``y`` are both exactly
    0 or 1, as in the book (and, as there, ``ln 0`` with ``y ≠ a`` into the
    largest float); numpy's warnings about those logarithms are silenced.
    """

    @staticmethod
    def fn(a, y):
        """The cost of output ``a`` for target ``y`` (summed over every entry)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        """The output layer's error ``∂C_x/∂z``; ``z`` is unused, as in the book."""
        return a - y


#: The book's costs and the engine's cost of the same name (same output, same delta).
ENGINE_COSTS: dict[Any, str] = {CrossEntropyCost: "cross-entropy", QuadraticCost: "quadratic"}


class BookCost(Cost):
    """The engine's view of any other cost class with the book's static ``delta(z, a, y)``.

    The engine's tensors are ``(…, B, K)`` rows; the book's cost sees columns,
    ``(K, B)`` numpy arrays, which an element-wise ``delta`` (every cost in the
    book) treats exactly as one column at a time.
    """

    name = "book"
    output_activation = "sigmoid"

    def __init__(self, book_cost: Any):
        self.book_cost = book_cost  # a class with the book's static fn(a, y) and delta(z, a, y)

    def output(self, z: Tensor) -> Tensor:
        return torch.sigmoid(z)

    def delta(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        K = z.shape[-1]
        cols = [t.reshape(-1, K).T.numpy() for t in (z, a, y)]  # (K, B·M)
        d = np.asarray(self.book_cost.delta(*cols), dtype=np.float64).T
        return torch.as_tensor(d, dtype=z.dtype).reshape(z.shape)

    def fn(self, z: Tensor, a: Tensor, y: Tensor) -> Tensor:
        per_model = [self.book_cost.fn(am.T.numpy(), ym.T.numpy()) for am, ym in zip(a, y)]
        return torch.as_tensor(per_model, dtype=torch.float64)

    def __repr__(self) -> str:
        return f"BookCost({self.book_cost.__name__})"


def engine_cost(cost: Any) -> Cost:
    """The engine's cost for a book cost class: the engine's own for the book's two, else :class:`BookCost`."""
    name = ENGINE_COSTS.get(cost)
    return get_cost(name) if name is not None else BookCost(cost)


# ---------------------------------------------------------------------------------------------
# Data in the book's forms, as arrays
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Examples:
    """A data set as arrays: inputs ``X`` (N, d), targets ``T`` (N, K), ``labels`` (N,).

    ``vectors`` says how the targets were given: one-hot vectors (the book's
    training data) or integer labels (its validation and test data). With
    ``rows`` (N,), example ``i``'s input is ``X[rows[i]]`` and ``X`` (N₀, d) is
    the array the book's pairs are views of (:func:`reading_rows`), not a copy.
    """

    X: np.ndarray
    T: np.ndarray
    labels: np.ndarray
    vectors: bool
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def inputs(self) -> np.ndarray:
        """The inputs ``(N, d)`` in the examples' order."""
        return self.X if self.rows is None else self.X[self.rows]


def _is_array(a) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype")


def _data_pointers(xs: list) -> np.ndarray:
    """The address of each array's first element. In CPython an array's address is its ``id`` and the
    pointer to its data comes right after the object header (numpy's ``PyArrayObject_fields.data``):
    read there, 8 times faster than through ``__array_interface__``, once that agrees on two arrays."""
    interface = [x.__array_interface__["data"][0] for x in (xs[0], xs[-1])]
    if sys.implementation.name == "cpython":
        at = ctypes.c_void_p.from_address
        header = object.__basicsize__
        if [at(id(x) + header).value for x in (xs[0], xs[-1])] == interface:
            return np.fromiter((at(id(x) + header).value or 0 for x in xs), dtype=np.int64, count=len(xs))
    return np.fromiter((x.__array_interface__["data"][0] for x in xs), dtype=np.int64, count=len(xs))


def reading_rows(xs: list) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(X, rows)`` with ``xs[i]`` the whole row ``X[rows[i]]`` of one C-contiguous float array, when each
    ``x`` is such a row as a column ``(d, 1)`` or a row (as ``mnist_loader`` gives them: views, no copies);
    ``rows`` is ``None`` where they are ``X``'s rows in order. Else ``None``.

    Where the rows lie in memory says which they are: reading that takes a fraction of copying 50,000
    images (and of converting them, for a float64 network, into 300 MB).
    """
    base = getattr(xs[0], "base", None)
    if type(base) is not np.ndarray or base.ndim != 2 or not base.flags.c_contiguous or base.dtype.kind != "f":
        return None
    d, dtype = base.shape[1], base.dtype
    if not all(type(x) is np.ndarray and x.base is base and x.dtype is dtype and x.size == d and x.flags.c_contiguous
               for x in xs):
        return None
    rows, partial = np.divmod(_data_pointers(xs) - base.__array_interface__["data"][0], base.strides[0])
    if partial.any():
        return None  # not where a row starts
    if (np.diff(rows) == 1).all():  # consecutive rows: a view of them
        return base[rows[0] : rows[0] + len(rows)], None
    return base, rows


def as_examples(data, n_outputs: int) -> Examples:
    """Read ``data`` in any of the book's forms (see the module's docstring) into :class:`Examples`."""
    if isinstance(data, tuple) and len(data) == 2 and _is_array(data[0]) and _is_array(data[1]):
        X, y = np.asarray(data[0]), np.asarray(data[1])
        if X.ndim == 2 and len(y) == len(X) and y.ndim in (1, 2, 3):  # (X (N, d), y (N,) | (N, K) | (N, K, 1))
            return _targets(X, y.reshape(len(y), -1) if y.ndim > 1 else y, n_outputs)
    pairs = data if isinstance(data, (list, tuple)) else list(data)
    if len(pairs) == 0:
        return Examples(np.zeros((0, 0)), np.zeros((0, n_outputs)), np.zeros(0, dtype=np.int64), False)
    try:
        xs = [x for x, _ in pairs]
        ys = [y for _, y in pairs]
        viewed = reading_rows(xs)
        X, rows = viewed if viewed is not None else (np.stack(xs).reshape(len(pairs), -1), None)
        y = np.array(ys, dtype=np.int64) if np.ndim(ys[0]) == 0 else np.stack(ys)
    except (TypeError, ValueError) as exc:
        raise ReglabError(f"data must be a list of (x, y) pairs or a pair of arrays (X, y): {exc}") from None
    return _targets(X, y.reshape(len(pairs), -1) if y.ndim > 1 else y, n_outputs, rows)


def _targets(X: np.ndarray, y: np.ndarray, n_outputs: int, rows: np.ndarray | None = None) -> Examples:
    if y.ndim == 1:
        labels = y.astype(np.int64)
        if len(labels) and (labels.min() < 0 or labels.max() >= n_outputs):
            raise ReglabError(f"labels must lie in 0..{n_outputs - 1}, got {labels.min()}..{labels.max()}")
        T = np.zeros((len(labels), n_outputs))
        T[np.arange(len(labels)), labels] = 1.0
        return Examples(X, T, labels, vectors=False, rows=rows)
    if y.shape[1] != n_outputs:
        raise ReglabError(f"target vectors have {y.shape[1]} entries but the network has {n_outputs} outputs")
    return Examples(X, y, y.argmax(axis=1).astype(np.int64), vectors=True, rows=rows)


def _check_convert(data: Examples, vectors_expected: bool, call: str) -> None:
    """The book's ``convert`` flags say how ``y`` is given; say so when the data disagree."""
    if len(data) and data.vectors != vectors_expected:
        given = "one-hot vectors (training data)" if data.vectors else "integer labels (validation/test data)"
        raise ReglabError(f"{call} expects {'one-hot vectors' if vectors_expected else 'integer labels'} as y, "
                          f"but this data has {given}: flip convert")


# ---------------------------------------------------------------------------------------------
# The engine's side
# ---------------------------------------------------------------------------------------------
DTYPES = {"float64": torch.float64, "float32": torch.float32}


class BookL2(L2):
    """The book's L2 term for whatever ``lmbda`` a script passes: network2.py accepts any number,
    a negative one included, where :class:`~reglab.engine.regularizers.L2` refuses it."""

    @staticmethod
    def check_lmbda(lam: Tensor) -> None:
        return None


def book_steps(model: MLP, eta: float, lmbda: float, n: int, batch_size: int,
               inputs: np.dtype | None = None) -> TensorSteps | CompiledSteps:
    r"""The engine's steps for the book's update on the one model of ``model``, on one CPU thread.

    Plain SGD with :class:`BookL2` (``λ/n`` in the elementwise form ``(λ₂, λ₁, d, t) = (λ/n, 0, 0, 0)`` on
    the weights, nothing on the biases): per mini-batch ``B`` of ``m`` examples

    .. math::  w \leftarrow w - \eta\,\Bigl(\frac1m \sum_{x \in B} \frac{\partial C_x}{\partial w} + \frac{\lambda}{n} w\Bigr),

    the book's update rearranged. With the book's two costs these are the compiled steps (an epoch
    per kernel call; ``inputs``: the training inputs' dtype, where narrower than the model's); with any
    other cost class the tensor steps, which call its ``delta``.
    """
    eta_t = torch.full((1,), float(eta), dtype=model.dtype)
    return make_steps("auto", model, BookL2(float(lmbda)), SGD(), eta_t, n, batch_size, threads=1, inputs=inputs)


class Passes:
    """Passes of the engine's steps over examples ``i`` with inputs ``X[rows[i]]`` (``X`` (N₀, d); ``rows``
    ``None``: ``X[i]``) and targets ``T[i]`` (T (N, K)), a given order at a time. ``X`` may be float32 for a
    float64 model: the compiled steps read it exactly, and only the tensor steps need a float64 copy."""

    def __init__(self, model: MLP, X: np.ndarray, T: np.ndarray, eta: float, lmbda: float, n: int, batch_size: int,
                 rows: np.ndarray | None = None):
        self.steps = book_steps(model, eta, lmbda, n, batch_size, inputs=X.dtype)
        if not isinstance(self.steps, CompiledSteps):
            X = X.astype(T.dtype)  # T holds the model's dtype
        if rows is not None:  # the targets laid out as the inputs are: row rows[i] holds T[i]
            T_rows = np.zeros((len(X), T.shape[1]), T.dtype)
            T_rows[rows] = T
            T = T_rows
        self.rows = rows
        Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
        self.split = TensorSplit(Xt, Tt.argmax(dim=1), Tt)  # the same memory

    def __call__(self, order: Sequence[int]) -> None:
        """The book's update on each consecutive slice of ``batch_size`` indices of ``order``, in turn."""
        at = np.asarray(order, dtype=np.int64)
        self.steps.epoch(self.split, torch.from_numpy(at if self.rows is None else self.rows[at]).reshape(1, -1))


def outputs(model: MLP, X: Tensor, chunk: int = 1_000) -> Tensor:
    """The network's outputs ``(N, K)`` for inputs ``X`` (N, d), ``chunk`` rows at a time.

    Blocks of 1,000 rows: the validation accuracy of ``[784, 30, 10]`` (10,000 images, float64,
    one thread) takes 28 ms this way and 40 ms as one 10,000-row product (measured here).
    """
    return torch.cat([model.output(X[i : i + chunk])[0] for i in range(0, X.shape[0], chunk)]) if len(X) else X[:, :0]


# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------
class Network:
    """A sigmoid network with the book's API; see the module's docstring.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first: ``[784, 30, 10]``.
    cost : class or instance
        ``CrossEntropyCost`` (default), ``QuadraticCost``, or any class with the
        book's static ``fn(a, y)`` and ``delta(z, a, y)``.
    dtype : {"float64", "float32"}
        Precision of the engine's arithmetic (not of ``weights``, always float64).
    """

    def __init__(self, sizes, cost=CrossEntropyCost, *, dtype: str = "float64"):
        if dtype not in DTYPES:
            raise ReglabError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.dtype = dtype
        self.default_weight_initializer()
        self.cost: Any = cost if isinstance(cost, type) else type(cost)  # the book's cost class

    # -- initialization (numpy's global generator, as in the book) -------------------------
    def default_weight_initializer(self):
        """Weights ``N(0, 1/n_in)``, biases ``N(0, 1)``: a neuron's input ``z`` starts with variance about 1.5,
        not about ``n_in``, so the sigmoid does not start saturated."""
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def large_weight_initializer(self):
        """Weights and biases ``N(0, 1)``, as in chapter 1: kept for comparison with the default."""
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    # -- numpy arrays <-> engine --------------------------------------------------------------
    def _engine(self) -> MLP:
        """A one-model engine holding copies of ``weights`` and ``biases``."""
        dtype = DTYPES[self.dtype]
        weights: list[Tensor] = []
        biases: list[Tensor] = []
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            n_in = self.sizes[l] if l == 0 else weights[-1].shape[1]
            if w.ndim != 2 or w.shape[1] != n_in or b.size != w.shape[0]:
                raise ReglabError(f"weights[{l}] is {w.shape} and biases[{l}] is {b.shape}; "
                                  f"expected ({w.shape[0] if w.ndim == 2 else 'n_out'}, {n_in}) and (n_out, 1)")
            weights.append(torch.tensor(w, dtype=dtype).unsqueeze(0))  # (1, n_out, n_in)
            biases.append(torch.tensor(b.reshape(1, -1), dtype=dtype))  # (1, n_out)
        return MLP(weights, biases, get_activation("sigmoid"), engine_cost(self.cost))

    def _store(self, model: MLP) -> None:
        """New float64 arrays from the engine (the original rebinds new arrays after every update)."""
        self.weights = [W[0].double().numpy().copy() for W in model.weights]
        self.biases = [b[0].double().numpy().reshape(-1, 1).copy() for b in model.biases]

    def _arrays(self, data: Examples, rows: bool = False, narrow: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(X, T)`` as C-contiguous arrays of the engine's dtype (not copied where they already are); the
        inputs in the examples' order, or with ``rows`` as ``data.X`` holds them (see :class:`Examples`). With
        ``narrow``, float32 inputs stay float32 for a float64 engine (:class:`Passes` reads them so: the
        book's 50,000 images are not copied into 300 MB of float64)."""
        dtype = np.dtype(self.dtype)
        X = data.X if rows else data.inputs()
        keep = narrow and X.dtype == np.float32 and dtype == np.float64
        return np.ascontiguousarray(X, dtype=X.dtype if keep else dtype), np.ascontiguousarray(data.T, dtype=dtype)

    def _tensors(self, data: Examples) -> tuple[Tensor, Tensor]:
        X, T = self._arrays(data)
        return torch.as_tensor(X), torch.as_tensor(T)

    def _examples(self, data) -> Examples:
        examples = data if isinstance(data, Examples) else as_examples(data, int(self.sizes[-1]))
        if len(examples) and examples.X.shape[1] != self.sizes[0]:
            raise ReglabError(f"inputs have {examples.X.shape[1]} entries but the network has {self.sizes[0]} inputs")
        return examples

    def _passes(self, model: MLP, data: Examples, eta: float, lmbda: float, n: int, batch_size: int) -> Passes:
        """What trains ``model`` on ``data``: the engine's steps (compiled for the book's two costs), on the
        array the inputs are rows of, unless they are a few of its rows or one of them twice."""
        rows = data.rows
        if rows is not None and (2 * len(rows) < len(data.X) or np.bincount(rows, minlength=len(data.X)).max() > 1):
            rows = None
        X, T = self._arrays(data, rows=rows is not None, narrow=True)
        return Passes(model, X, T, eta, lmbda, n, batch_size, rows)

    # -- the book's methods ---------------------------------------------------------------------
    def feedforward(self, a):
        """The network's output for input ``a`` (a column ``(784, 1)``, or several columns ``(784, B)``)."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def SGD(
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        lmbda=0.0,
        evaluation_data=None,
        monitor_evaluation_cost=False,
        monitor_evaluation_accuracy=False,
        monitor_training_cost=False,
        monitor_training_accuracy=False,
        early_stopping_n=0,
    ):
        """Train by mini-batch SGD with L2 regularization; print and return what is monitored.

        Returns ``(evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)``,
        one entry per epoch for each monitored quantity (accuracies are counts of correct
        answers), measured after the epoch's last update.
        """
        train = self._examples(training_data)
        evaluation = self._examples(evaluation_data) if evaluation_data is not None else None
        if evaluation is not None and len(evaluation) == 0:
            evaluation = None
        if (monitor_evaluation_cost or monitor_evaluation_accuracy) and evaluation is None:
            raise ReglabError("monitoring evaluation cost or accuracy needs evaluation_data")
        if int(mini_batch_size) < 1:
            raise ReglabError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
        n = len(train)
        if n == 0:
            raise ReglabError("SGD needs at least one training example")
        model = self._engine()
        train_on = self._passes(model, train, eta, lmbda, n, min(int(mini_batch_size), n))
        X_evaluation = self._tensors(evaluation)[0] if evaluation is not None else None
        # the training inputs in the examples' order, converted once if they are monitored
        X_train = functools.cache(lambda: train_on.split.X if train.rows is None and train_on.split.X.dtype == model.dtype
                                  else self._tensors(train)[0])
        order = np.arange(n)  # the indices random.shuffle permutes in the original's list
        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = [], [], [], []
        monitors = (
            (monitor_training_cost, training_cost, lambda: self._total_cost(model, train, lmbda, X_train()),
             "Cost on training data: {}"),
            (monitor_training_accuracy, training_accuracy, lambda: self._accuracy(model, train, X_train()),
             "Accuracy on training data: {} / %d" % n),
            (monitor_evaluation_cost, evaluation_cost, lambda: self._total_cost(model, evaluation, lmbda, X_evaluation),
             "Cost on evaluation data: {}"),
            (monitor_evaluation_accuracy, evaluation_accuracy, lambda: self._accuracy(model, evaluation, X_evaluation),
             "Accuracy on evaluation data: {} / %d" % (len(evaluation) if evaluation else 0)),
        )
        best_accuracy, no_accuracy_change = 0, 0
        try:
            with torch_threads(1), torch.no_grad():
                for j in range(epochs):
                    shuffle(order)  # random.shuffle's permutation, bit for bit
                    train_on(order)  # its consecutive slices of mini_batch_size
                    print("Epoch %s training complete" % j)
                    for on, values, measure, line in monitors:  # the book's order and wording
                        if on:
                            values.append(measure())
                            print(line.format(values[-1]))
                    print()
                    if monitor_evaluation_accuracy and early_stopping_n > 0:
                        if evaluation_accuracy[-1] > best_accuracy:
                            best_accuracy, no_accuracy_change = evaluation_accuracy[-1], 0
                        else:
                            no_accuracy_change += 1
                        if no_accuracy_change == early_stopping_n:
                            break
        finally:
            self._store(model)
            if isinstance(training_data, list) and len(training_data) == n:
                training_data[:] = [training_data[i] for i in order.tolist()]
        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """Apply the book's update for one mini-batch (a list of ``(x, y)``); ``n`` is the training-set size."""
        batch = self._examples(mini_batch)
        if len(batch) == 0:
            raise ReglabError("update_mini_batch needs at least one example")
        model = self._engine()
        with torch.no_grad():
            self._passes(model, batch, eta, lmbda, n, len(batch))(range(len(batch)))
        self._store(model)

    def backprop(self, x, y):
        """``(nabla_b, nabla_w)``: the gradient of ``C_x`` for one example, layer by layer, like ``biases``/``weights``."""
        example = self._examples([(x, y)])
        model = self._engine()
        xt, t = self._tensors(example)
        with torch.no_grad():
            zs, acts = model.forward(xt)
            grad_w, grad_b = model.backward(t, zs, acts)  # the mean over one example
        return ([g[0].double().numpy().reshape(-1, 1) for g in grad_b], [g[0].double().numpy() for g in grad_w])

    def accuracy(self, data, convert=False):
        """The number of examples of ``data`` classified correctly (the output's largest activation).

        ``convert=False``: ``y`` are integer labels (validation, test data); ``True``: one-hot vectors (training data).
        """
        examples = self._examples(data)
        _check_convert(examples, bool(convert), f"accuracy(convert={bool(convert)})")
        with torch.no_grad():
            return self._accuracy(self._engine(), examples)

    def total_cost(self, data, lmbda, convert=False):
        """The mean cost over ``data`` plus the penalty ``0.5·(λ/len(data))·Σ‖w‖²``, added once.

        ``convert=False``: ``y`` are one-hot vectors (training data); ``True``: integer labels
        (validation, test data) — the opposite of :meth:`accuracy`, as in the book.
        """
        examples = self._examples(data)
        _check_convert(examples, not convert, f"total_cost(convert={bool(convert)})")
        if len(examples) == 0:
            raise ReglabError("total_cost of an empty data set")
        with torch.no_grad():
            return self._total_cost(self._engine(), examples, lmbda)

    def _accuracy(self, model: MLP, data: Examples, X: Tensor | None = None) -> int:
        """``X``: ``data.X`` already on the engine (SGD converts once per call, not per epoch)."""
        A = outputs(model, self._tensors(data)[0] if X is None else X)  # (N, K)
        return int((A.argmax(dim=1) == torch.as_tensor(data.labels)).sum())

    def _total_cost(self, model: MLP, data: Examples, lmbda: float, X: Tensor | None = None) -> float:
        """The book's ``fn`` on all outputs at once (its costs sum over every entry: the per-example sum)."""
        A = outputs(model, self._tensors(data)[0] if X is None else X).double().numpy()  # (N, K)
        cost = float(self.cost.fn(A.T, data.T.T)) / len(data)
        weights_sq = sum(float((W.double() ** 2).sum()) for W in model.weights)
        return cost + 0.5 * (lmbda / len(data)) * weights_sq

    def save(self, filename):
        """Write the network to ``filename`` as the book's JSON: ``sizes``, ``weights``, ``biases``, ``cost``."""
        data = {
            "sizes": [int(s) for s in self.sizes],
            "weights": [np.asarray(w, dtype=np.float64).tolist() for w in self.weights],
            "biases": [np.asarray(b, dtype=np.float64).tolist() for b in self.biases],
            "cost": str(self.cost.__name__),
        }
        with atomic_open(filename, "w") as f:  # a file either whole or absent
            json.dump(data, f)


def load(filename):
    """Read a network saved by :meth:`Network.save` or by the book's network2.py."""
    try:
        with open(filename) as f:
            data = json.load(f)
        sizes, weights, biases, cost_name = data["sizes"], data["weights"], data["biases"], data["cost"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReglabError(f"{filename}: not a network2 JSON file ({type(exc).__name__}: {exc})") from None
    cost = getattr(sys.modules[__name__], str(cost_name), None)
    if cost not in ENGINE_COSTS:
        raise ReglabError(f"{filename}: unknown cost {cost_name!r}; known: {', '.join(c.__name__ for c in ENGINE_COSTS)}")
    net = Network(sizes, cost=cost)  # draws initial weights first, as the book's load() does
    net.weights = [np.array(w) for w in weights]
    net.biases = [np.array(b) for b in biases]
    return net


# ---------------------------------------------------------------------------------------------
# Miscellaneous functions
# ---------------------------------------------------------------------------------------------
def vectorized_result(j):
    """A ``(10, 1)`` unit vector with 1.0 at index ``j``: a digit as the network's target output."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def sigmoid(z):
    """``σ(z) = 1 / (1 + e^{−z})``."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """``σ'(z) = σ(z)(1 − σ(z))``."""
    return sigmoid(z) * (1 - sigmoid(z))
