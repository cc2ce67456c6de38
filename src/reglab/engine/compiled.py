r"""The one door into the compiled kernel: when it may run, and its arguments packed in one place.

:mod:`reglab.engine.kernel` holds numba functions that take flat arrays and
integer codes. Everything that calls them goes through this module:

* :func:`unsupported` says why the kernel cannot train a (model, regularizer,
  optimizer), or ``None`` when it can;
* :class:`KernelProgram` packs the kernel's arguments from a (model,
  regularizer, optimizer) once — numpy views of the parameters, the
  regularizers' elementwise form ``(λ₂, λ₁, d, t)`` and max-norm radius ``c`` per
  model and layer, the optimizer's code and state, the activation's and cost's
  codes, each model's dropout key, thresholds and scales — and trains
  an epoch per :meth:`KernelProgram.train_epoch` call. The engine's
  :class:`~reglab.engine.steps.CompiledSteps` and the book's
  :mod:`reglab.compat.network2` both use it;
* :func:`evaluate` measures cost and accuracy through the kernel's forward pass.

A new activation or cost is compiled when the kernel has a branch and a code
for its name (``kernel.ACTIVATION_CODES``, ``kernel.COST_CODES``); a new
regularizer is compiled when it states an elementwise form; an optimizer when
it has ``kernel_form()`` naming one of ``kernel.OPTIMIZER_CODES``.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from reglab.engine.compiling import KernelCompiler, compile_elsewhere, missing
from reglab.engine.dropout import Dropout
from reglab.engine.model import MLP
from reglab.engine.nn import ACTIVATIONS, COSTS
from reglab.engine.regularizers import Param, Regularizer
from reglab.engine.threads import run_spans
from reglab.errors import ReglabError

if TYPE_CHECKING:
    from types import ModuleType

    from reglab.engine.optim import CompiledOptimizer, Optimizer


def _kernel() -> ModuleType:
    """The kernel module (numba is imported on first use, not when reglab is)."""
    from reglab.engine import kernel

    return kernel


def uncompiled(model: MLP) -> str | None:
    """Why the compiled kernel cannot run ``model`` (device, type, activation, cost, numba), or ``None``."""
    if model.device.type != "cpu":
        return f"it runs on the CPU, not on {model.device.type}"
    if model.dtype not in (torch.float32, torch.float64):
        return f"it computes in float32 or float64, not {model.dtype}"
    if ACTIVATIONS.get(model.activation.name) is not model.activation:
        return f"activation {model.activation.name!r} is not a registered one"
    if type(model.cost) is not COSTS.get(model.cost.name):
        return f"cost {model.cost!r} is not a registered one"
    if any(not p.is_contiguous() for p in (*model.weights, *model.biases)):
        return "its parameters are not contiguous tensors"
    try:
        kernel = _kernel()
    except ImportError:
        return "numba is not installed"
    if model.activation.name not in kernel.ACTIVATION_CODES:
        return f"activation {model.activation.name!r} has no compiled form"
    if model.cost.name not in kernel.COST_CODES:
        return f"cost {model.cost.name!r} has no compiled form"
    return None


def unsupported(model: MLP, regularizer: Regularizer, optimizer: Optimizer) -> str | None:
    """Why the kernel cannot train ``model`` with ``regularizer`` and ``optimizer``, or ``None`` when it can."""
    reason = uncompiled(model)
    if reason:
        return reason
    form = getattr(optimizer, "kernel_form", None)
    if form is None or form()[0] not in _kernel().OPTIMIZER_CODES:
        return f"optimizer {optimizer!r} has no compiled form"
    L = len(model.weights)
    if any(regularizer.compiled_form(Param(layer, kind, 1)) is None for layer in range(L) for kind in ("weight", "bias")):
        return f"regularizer {regularizer!r} has no elementwise form"
    return None


def check_shapes(model: MLP, X: Tensor, Y: Tensor, what: str, narrower: bool = False) -> None:
    """The compiled kernel reads without bounds checks: ``X`` (N, sizes[0]) and ``Y`` (N, sizes[-1]) in
    the model's dtype (with ``narrower``, ``X`` may be float32 for a float64 model: the epoch converts each
    mini-batch's rows exactly), or a one-line error naming what does not fit."""
    sizes = model.sizes
    if X.dim() != 2 or X.shape[1] != sizes[0] or Y.shape != (X.shape[0], sizes[-1]):
        raise ReglabError(f"{what} have shape {tuple(X.shape)} with targets {tuple(Y.shape)}, "
                          f"but the network {sizes} needs (N, {sizes[0]}) and (N, {sizes[-1]})")
    narrow = narrower and X.dtype == torch.float32 and model.dtype == torch.float64
    if X.dtype != model.dtype and not narrow:
        raise ReglabError(f"{what} are {X.dtype} but the network computes in {model.dtype}")
    if Y.dtype != model.dtype:
        raise ReglabError(f"the targets of {what} are {Y.dtype} but the network computes in {model.dtype}")


def _form(regularizer: Regularizer, p: Param, M: int) -> np.ndarray:
    """``(M, 5)``: the compiled form ``(λ₂, λ₁, d, t, c)`` of ``regularizer`` on ``p`` (:func:`unsupported` has
    checked it exists): its elementwise form and the max-norm radius ``c`` (∞: none)."""
    form = regularizer.compiled_form(p)
    if form is None:
        raise ReglabError(f"regularizer {regularizer!r} has no elementwise form")
    return np.broadcast_to(form, (M, 5))


#: A split epoch (:meth:`KernelProgram._train_split`) longer than this (seconds) whose parts had less than this
#: share of their cores' time was contended: the program goes on with one thread.
CONTENDED_AFTER, CONTENDED_SHARE = 0.02, 0.75


def _started(part: Any, q: int) -> threading.Thread:
    """A thread running ``part(q)``, started (``RuntimeError`` where none can be)."""
    thread = threading.Thread(target=part, args=(q,), name=f"reglab-part-{q}", daemon=True)
    thread.start()
    return thread


def split_parts(sizes: list[int], batch_size: int, threads: int) -> int:
    """How many threads share a lone model's steps (:func:`~reglab.engine.kernel.train_epoch_split`): 1 where it has
    no hidden layer, the first layer has fewer than ``SPLIT_MACS`` multiply-adds per step, or the system has no
    ``sched_yield`` (Windows); else up to ``threads``, with at least ``SPLIT_MACS_PER_PART`` of them and six units
    of every hidden layer each (two of :func:`~reglab.engine.kernel.dense`'s tiles of 3)."""
    kernel = _kernel()
    if len(sizes) < 3 or threads < 2 or sys.platform == "win32":
        return 1
    macs = sizes[0] * sizes[1] * batch_size
    if macs < kernel.SPLIT_MACS:
        return 1
    return int(max(1, min(threads, macs // kernel.SPLIT_MACS_PER_PART, min(kernel.sixes(n) for n in sizes[1:-1]))))


class KernelProgram:
    """One (model, regularizer, optimizer) as the compiled kernel's arguments, packed once.

    The parameters and the optimizer's state are numpy arrays that the kernel updates in place; the
    parameters are views of ``model``'s tensors, so ``model`` holds the latest weights after every
    call. ``eta`` (M,) is read at every call (a view: changes to it show). Models train in groups
    that fit in a core's cache, the groups spread over ``threads`` cores (0: every core numba sees;
    never more than there are groups); a model too large for a group (``wide``) trains alone, each step
    split over the threads; a lone model with enough work per step (``split``, :func:`split_parts`) has its
    steps split over ``parts`` threads (:meth:`_train_split`). Each model's numbers are the same whatever the
    thread count.

    Parameters
    ----------
    model : MLP
        ``M`` models on the CPU, float32 or float64, contiguous.
    regularizer : Regularizer
        Any regularizer with an elementwise form (``unsupported`` says which are not).
    optimizer : Optimizer
        One with ``kernel_form()``.
    eta : np.ndarray
        (M,) learning rates, in the model's dtype.
    n : int
        The training-set size (the regularizers' ``n``).
    batch_size : int
        Mini-batch size ``m``.
    threads : int or None
        CPU threads (0: every core; ``None``: one).
    dropout : Dropout or None
        The dropout rates and seeds of the models (:mod:`reglab.engine.dropout`), or ``None``.
    compiler : KernelCompiler or None
        A process to compile the epoch's function in on a first run (:mod:`reglab.engine.compiling`), handed on
        (told what to compile, or that nothing is needed); ``None``: one is started here when needed.
    inputs : np.dtype or None
        The training inputs' dtype, when narrower than the model's (float32 inputs of a float64 model, read
        exactly: no float64 copy of them); ``None``: the model's.
    """

    def __init__(self, model: MLP, regularizer: Regularizer, optimizer: CompiledOptimizer, eta: np.ndarray, n: int,
                 batch_size: int, threads: int | None, dropout: Dropout | None = None,
                 compiler: KernelCompiler | None = None, inputs: np.dtype | None = None):
        kernel = _kernel()
        self.kernel, self.model = kernel, model
        M, L = model.M, len(model.weights)
        self.Ws = tuple(W.numpy() for W in model.weights)  # Ws[l] (M, n_out, n_in), views
        self.bs = tuple(b.numpy() for b in model.biases)  # bs[l] (M, n_out), views
        dt = self.Ws[0].dtype
        self.eta = eta
        self.reg_w, self.reg_b = (np.zeros((M, L, 5), dtype=dt) for _ in range(2))  # (M, L, 5): (λ₂, λ₁, d, t, c)
        self.pack_regularizer(regularizer, n)
        drop = dropout if dropout is not None else Dropout([0.0] * L)
        drop.check(M, L)
        self.dkeys, self.dthr, self.dscale = drop.keys(M), drop.thresholds(M), drop.scales(M).astype(dt)
        name, hyper = optimizer.kernel_form()
        self.opt = kernel.OPTIMIZER_CODES[name]
        self.hyper = np.asarray(hyper, dtype=dt)  # (3,): μ or (β₁, β₂, ε)
        stateful = self.opt != kernel.SGD
        two = self.opt == kernel.ADAM

        def state(p: np.ndarray, used: bool) -> np.ndarray:
            return np.zeros_like(p) if used else np.zeros(p.shape[:-1] + (0,), dt)  # zero width: never read

        self.S1w = tuple(state(W, stateful) for W in self.Ws)
        self.S2w = tuple(state(W, two) for W in self.Ws)
        self.S1b = tuple(state(b, stateful) for b in self.bs)
        self.S2b = tuple(state(b, two) for b in self.bs)
        self.t = 0  # the steps so far (Adam's bias correction, the dropout stream)
        self.act = kernel.ACTIVATION_CODES[model.activation.name]
        self.cost = kernel.COST_CODES[model.cost.name]
        per_model = sum(W[0].nbytes + b[0].nbytes for W, b in zip(self.Ws, self.bs)) * (1 + stateful + two)
        wanted = max(1, kernel.pool_size() if threads == 0 else threads or 1)
        # a model larger than a group trains alone, its steps split over every thread (decided by its size
        # only: a model's numbers never depend on M or on the threads)
        self.wide = per_model > kernel.GROUP_BYTES
        # as many models per group as fit GROUP_BYTES, but at least one group per thread
        self.group = int(max(1, min(M, kernel.GROUP_BYTES // max(per_model, 1), -(-M // wanted))))
        self.batch_size, self.threads = batch_size, wanted if self.wide else min(wanted, -(-M // self.group))
        # a lone model large enough to share: its steps split over the threads (the same numbers on any count)
        self.parts = 1 if self.wide or M > 1 else split_parts(model.sizes, batch_size, wanted)
        self.split = self.parts > 1
        if self.split:
            self.threads = self.parts
            sizes = model.sizes
            # each part's sums of each hidden layer (B, n_out), and the hidden layers' errors for even and odd steps
            self.sums = tuple(np.empty((batch_size, n), dt) for n in sizes[1:-1] for _ in range(self.parts))
            self.errors = tuple(np.empty((batch_size, n), dt) for _ in range(2) for n in sizes[1:])
        self._checked: np.ndarray | None = None  # the training inputs last checked against the model
        self.inputs = np.dtype(dt if inputs is None else inputs)
        # unwrapped: a wrapper made with functools.wraps (a test's counter) compiles beside as the kernel would
        epoch = inspect.unwrap(kernel.train_epoch_wide if self.wide else kernel.train_epoch_split if self.split
                               else kernel.train_epoch,
                               stop=lambda f: hasattr(f, "typeof_pyval"))  # numba's dispatcher (itself a wrapper)
        self._compiling = self._compile_beside(epoch, compiler)

    def _compile_beside(self, epoch: Any, compiler: KernelCompiler | None) -> KernelCompiler | None:
        """A first run compiles the epoch's function in another process while this one measures epoch 0
        (:mod:`reglab.engine.compiling`): in ``compiler``, or in a process started here; ``None`` when numba has it
        already (in memory or in its cache), or there is one core only."""
        dt, sizes = self.Ws[0].dtype, self.model.sizes
        X, Y = np.zeros((1, sizes[0]), self.inputs), np.zeros((1, sizes[-1]), dt)
        types = missing(epoch, self._arguments(X, Y, np.zeros((1, 1), np.int64), np.zeros((0, 2)), 0, 1))
        if compiler is not None and types is None:
            compiler.done()  # it ends once it has what it is compiling
        elif compiler is not None and (compiler.sent or not self.wide and compiler.dtype != dt.name):
            compiler.stop()  # used already, or compiling callees of another dtype
            compiler = None
        if types is None:
            return None
        if compiler is None:
            compiler = KernelCompiler.start(None if self.wide else dt.name)
        if compiler is not None:
            compiler.then(epoch, types)
        return compiler

    def _arguments(self, X: np.ndarray, Y: np.ndarray, perms: np.ndarray, seen: np.ndarray, first: int,
                   end: int, part: int = 0, parts: int = 1, sync: np.ndarray | None = None) -> tuple[object, ...]:
        """The kernel's arguments for an epoch over ``X``, ``Y`` in the orders ``perms``, groups ``first`` to
        ``end − 1`` (:func:`~reglab.engine.kernel.train_epoch`, or all of :func:`~reglab.engine.kernel.train_epoch_wide`)."""
        head = (X, Y, perms, self.batch_size, self.Ws, self.bs, self.S1w, self.S2w, self.S1b, self.S2b,
                self.eta, self.reg_w, self.reg_b, self.opt, self.hyper, self.t, self.act, self.cost)
        if self.split:  # part ``part`` of ``parts`` meeting on ``sync`` (by default part 0 of one, this thread alone)
            sync = np.zeros(2, np.int64) if sync is None else sync
            return (*head, seen, self.dkeys, self.dthr, self.dscale, part, parts, sync, self.sums, self.errors)
        groups = () if self.wide else (self.group, first, end)
        return (*head, *groups, seen, self.dkeys, self.dthr, self.dscale)

    def pack_regularizer(self, regularizer: Regularizer, n: int) -> None:
        """Write ``regularizer``'s elementwise form into the kernel's arguments (in place: after a λ schedule's
        step, :meth:`~reglab.engine.steps.CompiledSteps.regularizer_changed`, the next epoch trains with it)."""
        L = len(self.Ws)
        for kind, packed in (("weight", self.reg_w), ("bias", self.reg_b)):
            forms = np.stack([_form(regularizer, Param(layer, kind, n), packed.shape[0]) for layer in range(L)], axis=1)
            np.copyto(packed, np.broadcast_to(forms, packed.shape))

    def train_epoch(self, X: np.ndarray, Y: np.ndarray, perms: np.ndarray, seen: np.ndarray | None = None) -> None:
        """One epoch of every model over ``X`` (N, d), ``Y`` (N, K) in the orders ``perms`` (P, N), P = 1 or M.

        ``seen`` (M, 2) float64, when given, gains each model's data cost and correct predictions summed
        over the epoch's mini-batches, each measured just before its step (the running measure).
        """
        kernel = self.kernel
        if self._checked is not X:
            check_shapes(self.model, torch.from_numpy(X), torch.from_numpy(Y), "the training data", narrower=True)
            self._checked = X
        counted = np.zeros((0, 2)) if seen is None else seen
        if self._compiling is not None:  # loaded from numba's cache once the other process has written it
            self._compiling.wait()
            self._compiling = None
        if self.wide:
            with kernel.threads(self.threads):
                self.t = kernel.call(kernel.train_epoch_wide, *self._arguments(X, Y, perms, counted, 0, 0))
            return
        if self.split:
            self.t = self._train_split(X, Y, perms, counted)
            return

        def groups(first: int, end: int) -> int:
            return int(kernel.call(kernel.train_epoch, *self._arguments(X, Y, perms, counted, first, end)))

        self.t = run_spans(groups, -(-self.model.M // self.group), self.threads)[0]

    def _train_split(self, X: np.ndarray, Y: np.ndarray, perms: np.ndarray, counted: np.ndarray) -> int:
        """One epoch of :func:`~reglab.engine.kernel.train_epoch_split` on ``self.parts`` threads: part 0 on this one,
        the others on threads of their own (they must all run at once: each step waits for every part); returns the
        step count. A part that fails sets the abort flag, the others then return, and its exception is raised here
        (before any part has stepped a weight if it failed at the start). Where the parts got much less CPU time
        than the wall-clock time (another process held the cores and the parts waited for each other), the
        program's later epochs run on one thread: the same numbers, without the waiting."""
        kernel, parts = self.kernel, self.parts
        sync = np.zeros(2, np.int64)  # (arrivals at the barriers, abort)
        failures: list[BaseException] = []

        def part(q: int) -> int:
            try:
                return int(kernel.call(kernel.train_epoch_split, *self._arguments(X, Y, perms, counted, 0, 0, q, parts, sync)))
            except BaseException as exc:  # noqa: BLE001  (raised again below, on the calling thread)
                sync[1] = 1
                failures.append(exc)
                return -1

        wall, cpu = time.perf_counter(), time.process_time()
        others: list[threading.Thread] = []
        try:
            for q in range(1, parts):
                others.append(_started(part, q))
        except RuntimeError:  # no thread to be had: the started parts stop at their first barrier
            sync[1] = 1
            for thread in others:
                thread.join()
            self.parts = 1
            return self._train_split(X, Y, perms, counted)
        steps = part(0)
        for thread in others:
            thread.join()
        if failures:
            raise failures[0]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall > CONTENDED_AFTER and cpu < CONTENDED_SHARE * parts * wall:
            self.parts = 1
        return steps

    def save_state(self) -> tuple[tuple[np.ndarray, ...], int]:
        """Copies of the optimizer's state and step count (the parameters are the model's)."""
        return tuple(a.copy() for a in (*self.S1w, *self.S2w, *self.S1b, *self.S2b)), self.t

    def restore_state(self, state: tuple[tuple[np.ndarray, ...], int]) -> None:
        """Put back what :meth:`save_state` returned (in place)."""
        arrays, self.t = state
        for a, b in zip((*self.S1w, *self.S2w, *self.S1b, *self.S2b), arrays):
            np.copyto(a, b)


#: Examples per chunk of the compiled evaluation.
EVALUATION_CHUNK = 256


def evaluate(model: MLP, X: Tensor, Y: Tensor, one_thread: bool = False) -> tuple[Tensor, Tensor]:
    """Mean data cost ``C₀`` and accuracy of every model on ``X`` (N, d) with one-hot ``Y`` (N, K): two (M,)
    float64 tensors, from the kernel's forward pass (chunks spread over every core, or on the calling
    thread alone with ``one_thread``; summed in a fixed order, the same numbers either way)."""
    kernel = _kernel()
    check_shapes(model, X, Y, "the data to evaluate")
    N = X.shape[0]
    n_chunks = -(-N // EVALUATION_CHUNK)
    costs, hits = np.zeros((model.M, n_chunks)), np.zeros((model.M, n_chunks))
    head = (X.numpy(), Y.numpy(), tuple(W.numpy() for W in model.weights), tuple(b.numpy() for b in model.biases),
            kernel.ACTIVATION_CODES[model.activation.name], kernel.COST_CODES[model.cost.name], EVALUATION_CHUNK)

    def jobs(first: int, end: int) -> None:
        kernel.call(kernel.evaluate, *head, first, end, costs, hits)

    compile_elsewhere(kernel.evaluate, (*head, 0, 0, costs, hits))  # a first run: compiled by another process
    run_spans(jobs, model.M * n_chunks, 1 if one_thread else kernel.pool_size())
    cost, acc = np.zeros(model.M), np.zeros(model.M)
    for c in range(n_chunks):  # chunk after chunk, whatever thread measured them
        cost += costs[:, c]
        acc += hits[:, c]
    n = max(N, 1)
    return torch.from_numpy(cost / n), torch.from_numpy(acc / n)
