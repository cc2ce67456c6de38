"""A lone model's steps split over the threads (``kernel.train_epoch_split``): each part sums its own units and steps
its own rows, and the parts meet at barriers twice per hidden layer and step. The numbers are the unsplit kernel's
bit for bit, on any number of parts, and those of the same model trained beside others.

The split and the unsplit epochs are two kernels, each compared in a process of its own, as runs train: a process
that has compiled a callee on its own (as other tests here do, typing the kernel in-process) links a kernel loaded
later to that copy, whose last bits can differ from the copy inside the kernel (``reglab.engine.compiling``)."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from reglab.engine import compiled
from reglab.engine.compiled import KernelProgram, split_parts
from reglab.engine.dropout import Dropout
from reglab.engine.loop import fit
from reglab.engine.model import MLP
from reglab.engine.monitors import Monitor
from reglab.engine.optim import SGD, Adam
from reglab.engine.regularizers import L1, L2, DecoupledDecay, L1Prox, MaxNorm
from tests.engine.helpers import small_data

F32, F64 = torch.float32, torch.float64


@pytest.fixture
def small_models_split(monkeypatch):
    """Split models of any size (the thresholds are for speed, not for the numbers)."""
    from reglab.engine import kernel

    monkeypatch.setattr(kernel, "SPLIT_MACS", 0)
    monkeypatch.setattr(kernel, "SPLIT_MACS_PER_PART", 1)


#: (sizes, activation, cost, dtype, regularizer, optimizer, dropout rates, mini-batch): odd and even widths with and
#: without tiles of 2 (at least 18 units: three parts), mini-batches that leave examples outside the fours of the
#: errors below and the fives of the tiles, every optimizer.
CASES = {
    "book": ((6, 19, 25, 3), "sigmoid", "cross-entropy", F64, L2(0.3), SGD(), None, 7),
    "relu-momentum-l1-maxnorm-dropout": ((5, 20, 3), "relu", "cross-entropy", F32, L1(0.01) + MaxNorm(0.9),
                                         SGD(momentum=0.9), [0.2, 0.5], 10),
    "tanh-adam-softmax-decay": ((6, 20, 22, 4), "tanh", "log-likelihood", F32, DecoupledDecay(0.1), Adam(), None, 6),
    "quadratic-nesterov-prox": ((4, 18, 21, 26, 2), "sigmoid", "quadratic", F64, L1Prox(0.01) + L2(0.1),
                                SGD(momentum=0.5, nesterov=True), [0.1, 0.3, 0.2, 0.4], 5),
}


def _fit(case, seeds=(3,), threads=1, epochs=3):
    sizes, act, cost, dtype, reg, opt, rates, batch = case
    model = MLP.initialize(sizes, seeds=list(seeds), init="default", activation=act, cost=cost, dtype=dtype)
    dropout = None if rates is None else Dropout(rates, seeds=list(seeds))
    return fit(model, small_data(n=53, d=sizes[0], k=sizes[-1], dtype=dtype), epochs=epochs, batch_size=batch,
               eta=[0.05 if s == 3 else 0.02 for s in seeds], regularizer=reg, optimizer=opt, engine="compiled", threads=threads,
               dropout=dropout, order_seeds=list(seeds), monitor=Monitor(splits=("train", "validation")))


def _params(result):
    return [*result.model.weights, *result.model.biases]


def digest(name, seeds, threads, model):
    """The SHA-256 (16 hex digits) of model ``model``'s trained weights and biases in :func:`_fit` of case ``name``,
    and of the records' values of that model."""
    from reglab.engine import kernel

    kernel.SPLIT_MACS, kernel.SPLIT_MACS_PER_PART = 0, 1  # every model that can be split is
    result = _fit(CASES[name], seeds=seeds, threads=threads)
    h = hashlib.sha256()
    for p in _params(result):
        h.update(p[model].numpy().tobytes())
    h.update(repr([{k: v[model].tolist() for k, v in r.items()} for r in result.history.records]).encode())
    return h.hexdigest()[:16]


def fresh(name, seeds=(3,), threads=1, model=0):
    """:func:`digest` in a new Python process, which compiles no kernel code (numba's cache, or the processes of
    ``reglab.engine.compiling``, supply it): the numbers a run would train to."""
    root = Path(__file__).parents[2]
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); from tests.engine.test_split import digest; "
            f"print(digest({name!r}, {tuple(seeds)!r}, {threads}, {model}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    return out.stdout.split()[-1]


@pytest.mark.parametrize("name", list(CASES))
def test_split_steps_are_the_unsplit_kernels_bit_for_bit_on_two_and_three_threads(name, small_models_split):
    """Weights and every record (the running measure, part 0's, and the validation records) of each case."""
    for threads in (2, 3):
        assert split_parts(list(CASES[name][0]), CASES[name][-1], threads) == threads
    one, two, three = (fresh(name, threads=threads) for threads in (1, 2, 3))
    assert one == two == three


def test_a_split_model_equals_the_same_model_trained_beside_another():
    name = "relu-momentum-l1-maxnorm-dropout"
    assert fresh(name, seeds=(3,), threads=2) == fresh(name, seeds=(5, 3), threads=2, model=1)


def test_split_steps_equal_the_tensor_steps(small_models_split):
    sizes, act, cost, dtype, reg, opt, rates, batch = CASES["book"]
    results = []
    for engine in ("compiled", "tensor"):
        model = MLP.initialize(sizes, seeds=[3], init="default", activation=act, cost=cost, dtype=dtype)
        results.append(fit(model, small_data(n=53, d=sizes[0], k=sizes[-1]), epochs=2, batch_size=batch, eta=0.05,
                           regularizer=reg, optimizer=opt, engine=engine, threads=2, order_seeds=[3]))
    for p, q in zip(_params(results[0]), _params(results[1])):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-9, atol=1e-12)


def _program(sizes, M=1, threads=2, batch=10):
    model = MLP.initialize(sizes, seeds=list(range(M)))
    return KernelProgram(model, L2(1.0), SGD(), np.ones(M, np.float32), 100, batch, threads)


def test_which_models_are_split_and_over_how_many_threads(monkeypatch):
    assert split_parts([784, 30, 10], 10, 2) == 2  # 235,200 multiply-adds per step
    assert split_parts([784, 30, 10], 10, 16) == 4  # at least kernel.SPLIT_MACS_PER_PART each
    assert split_parts([784, 30, 10], 10, 1) == 1
    assert split_parts([64, 30, 10], 10, 2) == 1  # the digits: too little to share
    assert split_parts([784, 10], 100, 2) == 1  # no hidden layer
    assert split_parts([784, 100, 10], 100, 16) == 16
    assert split_parts([784, 10, 10], 100, 4) == 1  # one of dense's pairs of tiles of 3 (kernel.sixes)
    monkeypatch.setattr(compiled.sys, "platform", "win32")
    assert split_parts([784, 30, 10], 10, 2) == 1  # no sched_yield


def test_a_split_program_uses_its_threads_and_leaves_none_to_measure_beside(small_models_split):
    lone, pair = _program((6, 12, 3)), _program((6, 12, 3), M=2)
    assert lone.split and lone.threads == lone.parts == 2
    assert not pair.split and pair.threads == 2  # two groups of one model
    result = _fit(CASES["book"], threads=2, epochs=1)
    assert result.meta["monitor_beside"] is False


def test_a_failing_part_stops_the_others_and_its_error_is_raised(small_models_split, monkeypatch):
    monkeypatch.setattr(compiled, "CONTENDED_SHARE", 0.0)  # never judged contended: two parts throughout
    program = _program((6, 12, 3))
    X, Y = np.random.default_rng(0).random((20, 6)).astype(np.float32), np.eye(3, dtype=np.float32)[[0, 1] * 10]
    program.train_epoch(X, Y, np.arange(20).reshape(1, -1))  # compiled and loaded
    call = program.kernel.call

    def failing(function, *args):
        if args[-5] == 1:  # part 1 (then: parts, sync, sums, errors)
            raise MemoryError("part 1 failed")
        return call(function, *args)

    monkeypatch.setattr(program.kernel, "call", failing)
    with pytest.raises(MemoryError, match="part 1 failed"):
        program.train_epoch(X, Y, np.arange(20).reshape(1, -1))
    assert program.parts == 2


def test_without_a_thread_to_start_the_epoch_trains_on_one(small_models_split, monkeypatch):
    want = _fit(CASES["book"], threads=2)

    def refuse(part, q):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(compiled, "_started", refuse)
    got = _fit(CASES["book"], threads=2)
    assert all(torch.equal(p, q) for p, q in zip(_params(want), _params(got)))


def test_a_contended_split_goes_on_on_one_thread_with_the_same_numbers(small_models_split, monkeypatch):
    want = _fit(CASES["book"], threads=2)  # two parts throughout (the split kernel: compared in this process)
    monkeypatch.setattr(compiled, "CONTENDED_AFTER", 0.0)
    monkeypatch.setattr(compiled, "CONTENDED_SHARE", float("inf"))  # whatever the CPU time, it counts as contended
    parts = []
    original = KernelProgram._train_split

    def spy(self, *args):
        parts.append(self.parts)
        return original(self, *args)

    monkeypatch.setattr(KernelProgram, "_train_split", spy)
    got = _fit(CASES["book"], threads=2)
    assert parts[0] == 2 and set(parts[1:]) == {1}
    assert all(torch.equal(p, q) for p, q in zip(_params(want), _params(got)))
