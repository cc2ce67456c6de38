"""The compiling process: the callees it compiles are the ones numba types the epoch to call, and it never
costs a run its result."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from numba.core.compiler import run_frontend
from numba.core.typed_passes import type_inference_stage

from reglab import provenance
from reglab.engine import compiling, kernel
from reglab.engine.compiled import KernelProgram
from reglab.engine.compiling import KernelCompiler
from reglab.engine.dropout import Dropout
from reglab.engine.model import MLP
from reglab.engine.optim import make_optimizer
from reglab.engine.regularizers import L1, L2

two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a process beside needs two cores")


def program(dtype, M, monkeypatch, dropout=None, regularizer=None, sizes=(6, 5, 4, 3)):
    """A kernel program that starts no process of its own."""
    monkeypatch.setattr(KernelCompiler, "start", classmethod(lambda cls, dtype: None))
    model = MLP.initialize(list(sizes), seeds=list(range(M)), dtype=dtype)
    eta = np.full(M, 0.5, model.weights[0].numpy().dtype)  # (M,) in the model's dtype, as the steps give it
    return KernelProgram(model, regularizer or L2([1.0] * M), make_optimizer("sgd"), eta, 20, 4, 0, dropout)


def typed_callees(epoch, p):
    """numba's type inference of the kernel function ``epoch`` on program ``p``'s arguments (which compiles or loads
    each callee for the types it calls it with)."""
    nd = p.Ws[0].dtype
    args = p._arguments(np.zeros((1, 6), nd), np.zeros((1, 3), nd), np.zeros((1, 1), np.int64), np.zeros((0, 2)), 0, 1)
    types = tuple(epoch.typeof_pyval(a) for a in args)
    epoch.typingctx.refresh()
    epoch.targetctx.refresh()
    type_inference_stage(epoch.typingctx, epoch.targetctx, run_frontend(epoch.py_func), types, None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("M", [1, 3])
@pytest.mark.parametrize("dropout", [False, True])
def test_the_callees_planned_are_those_numba_types_the_epoch_to_call(dtype, M, dropout, monkeypatch):
    """numba's own type inference of ``train_epoch`` (which compiles or loads each callee for the types it calls
    it with) leaves every planned callee with its planned types: the process compiles what the epoch will load,
    for one model or many, with or without dropout (whose arrays are C-ordered whatever M)."""
    drop = Dropout.per_layer([0.5], 0.0, layers=3, seeds=list(range(M))) if dropout else None
    p = program(dtype, M, monkeypatch, drop)
    typed_callees(kernel.train_epoch, p)
    for function, argtypes in kernel.epoch_callees(p.Ws[0].dtype.name):
        assert argtypes in function.overloads, function.py_func.__name__


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dropout", [False, True])
def test_a_split_epoch_calls_the_planned_callees_with_the_same_types(dtype, dropout, monkeypatch):
    """A lone model's epoch split over the threads (``kernel.train_epoch_split``) calls the planned callees with the
    types ``train_epoch`` calls them with: a first run's processes compile them for either."""
    monkeypatch.setattr(kernel, "SPLIT_MACS", 0)
    monkeypatch.setattr(kernel, "SPLIT_MACS_PER_PART", 1)
    drop = Dropout.per_layer([0.5], 0.0, layers=3, seeds=[0]) if dropout else None
    p = program(dtype, 1, monkeypatch, drop, sizes=(6, 12, 12, 3))
    assert p.split
    planned = kernel.epoch_callees(p.Ws[0].dtype.name)
    before = [set(function.overloads) for function, _ in planned]
    typed_callees(kernel.train_epoch_split, p)
    for (function, argtypes), had in zip(planned, before):
        assert argtypes in function.overloads, function.py_func.__name__
        assert set(function.overloads) - had <= {argtypes}, function.py_func.__name__  # no other types


def test_a_program_hands_a_compiler_on_or_tells_it_nothing_is_needed(monkeypatch):
    """Given a process, a program whose epoch numba has already tells it so (it ends); one for another dtype is
    stopped, and the program starts its own."""
    calls = []

    class Fake:
        def __init__(self, dtype, sent=False):
            self.dtype, self.sent = dtype, sent

        def done(self):
            calls.append(("done", self.dtype))

        def stop(self):
            calls.append(("stop", self.dtype))

        def then(self, function, types):
            calls.append(("then", self.dtype, function.py_func.__name__))
            self.sent = True

    p = program(torch.float64, 1, monkeypatch)
    p.train_epoch(np.zeros((4, 6)), np.eye(3)[[0, 1, 2, 0]], np.arange(4)[None])  # numba has the epoch now
    model = MLP.initialize([6, 5, 4, 3], seeds=[0], dtype=torch.float64)
    KernelProgram(model, L2([1.0]), make_optimizer("sgd"), np.full(1, 0.5), 20, 4, 0, compiler=Fake("float64"))
    assert calls == [("done", "float64")]
    calls.clear()
    monkeypatch.setattr(compiling, "cached", lambda function, types: False)  # as on a first run
    monkeypatch.setattr(kernel.train_epoch, "overloads", {})
    monkeypatch.setattr(KernelCompiler, "start", classmethod(lambda cls, dtype: Fake(dtype)))
    KernelProgram(model, L2([1.0]), make_optimizer("sgd"), np.full(1, 0.5), 20, 4, 0, compiler=Fake("float32"))
    assert calls == [("stop", "float32"), ("then", "float64", "train_epoch")]
    calls.clear()
    KernelProgram(model, L2([1.0]), make_optimizer("sgd"), np.full(1, 0.5), 20, 4, 0, compiler=Fake("float64"))
    assert calls == [("then", "float64", "train_epoch")]


@two_cores
def test_stopping_ends_a_process_never_told_what_to_compile(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = ("import time; from reglab.engine.compiling import KernelCompiler; c = KernelCompiler.start('float64'); "
            "time.sleep(1); t = time.perf_counter(); c.stop(); "
            "print(c.process.returncode != 0, c.helper is None, time.perf_counter() - t < 5)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True"]  # terminated, not left compiling the callees (and no second)


@two_cores
def test_a_process_that_died_costs_nothing_but_time(tmp_path, monkeypatch):
    """Telling a dead process what to compile raises nothing; the program then compiles the epoch itself."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    compiler = KernelCompiler.start("float64")
    compiler.process.kill()
    compiler.process.wait()
    time.sleep(0.1)
    compiler.then(kernel.train_epoch, ())
    compiler.stop()
    assert compiler.sent and compiler.process.returncode != 0


def test_another_regularizer_form_is_the_same_epoch(monkeypatch):
    """The kernel's arguments hold the regularizers' forms as data: L1 trains through the same compiled epoch as L2."""
    a, b = program(torch.float64, 2, monkeypatch), program(torch.float64, 2, monkeypatch, regularizer=L1([1e-3] * 2))
    nd = np.float64
    shapes = (np.zeros((1, 6), nd), np.zeros((1, 3), nd), np.zeros((1, 1), np.int64), np.zeros((0, 2)), 0, 1)
    assert [kernel.train_epoch.typeof_pyval(x) for x in a._arguments(*shapes)] == \
        [kernel.train_epoch.typeof_pyval(x) for x in b._arguments(*shapes)]


def test_no_process_on_one_core_or_where_none_starts(monkeypatch):
    """``start`` gives ``None`` where nothing could run beside (one core, also without affinity as on macOS) or the
    process cannot start; the caller then compiles what it needs itself."""
    monkeypatch.setattr(provenance.os, "sched_getaffinity", lambda pid: {0})
    assert KernelCompiler.start("float64") is None
    monkeypatch.delattr(provenance.os, "sched_getaffinity")
    monkeypatch.setattr(provenance.os, "cpu_count", lambda: 1)
    assert KernelCompiler.start("float64") is None
    monkeypatch.setattr(provenance.os, "cpu_count", lambda: 4)

    def refused(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(compiling.subprocess, "Popen", refused)
    assert KernelCompiler.start("float64") is None


FIRST_RUN = """
import hashlib, sys
from reglab.config import TrainConfig
from reglab.runs.assemble import train
res = train(TrainConfig(data="digits", hidden=[5, 4], epochs=2, batch_size=8, dtype=sys.argv[1]))
m, h = res.fit.model, res.fit.history
numbers = [w.numpy().tobytes() for w in m.weights + m.biases] + [repr(list(h.rows())).encode()]  # repr: exact
print(hashlib.sha256(b"".join(numbers)).hexdigest())
"""


@pytest.mark.slow
@two_cores
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_first_run_gets_the_numbers_of_a_warm_cache_bit_for_bit(dtype, tmp_path):
    """A run on an empty cache (compiling in other processes, the evaluation included) and the same run on the cache
    it left: the same weights and records, bit for bit (a network of two hidden layers: errors back-propagated
    through a hidden layer, whose callee's copies differ in the last bits)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    first, again = (subprocess.run([sys.executable, "-c", FIRST_RUN, dtype], env=env, capture_output=True, text=True,
                                   check=True).stdout for _ in range(2))
    assert first == again and len(first.strip()) == 64
