r"""Processes that compile the kernel into numba's on-disk cache while this one does other work.

numba compiles on one core, holding Python's lock, and a first run needs two functions compiled:
:func:`~reglab.engine.kernel.evaluate` for epoch 0's record, and the epoch's
:func:`~reglab.engine.kernel.train_epoch`, two thirds of whose compilation is its callees. A
:class:`KernelCompiler` is two processes: one compiles those callees
(:func:`~reglab.engine.kernel.epoch_callees`) from the first and then the epoch's function itself, loading
its callees from the cache; the other, started once the run knows the epoch's function is not cached, takes
the callees from the last until it meets the first (a callee in the cache), and ends. This process
meanwhile imports torch and reads the data, and has the evaluation compiled by a third
(:func:`compile_elsewhere`); numba's later calls here find both in the cache and load them.

This process compiles no kernel code itself: numba links a callee's code into each caller, and
a caller loaded later calls the copy of a callee already in the process where there is one (the first
definition of the symbol wins), whose arithmetic can differ in the last bits from the caller's own (LLVM
optimizes the copy again inside its caller, with reassociation allowed). A run that compiled the callees
here would then train to other numbers than the same run on a warm cache (a test checks that it does not).
A process that loads a callee on its own (a test of the tiles) and a kernel after it is not protected.

The command line starts one as its first step (before torch loads: :func:`reglab.cli.main.early_compiler`)
and hands it to the run (``fit(..., compiler=…)``); a :class:`~reglab.engine.compiled.KernelProgram`
given none starts its own. On a warm cache the processes find every callee cached and wait for nothing.
Whatever happens to the processes, the numbers are those of a warm cache; without them (one core) this
process compiles what it needs. This module imports neither torch nor numba (the processes do).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from reglab.provenance import usable_cores

#: What a process runs: it reads pickles from its standard input: the paths to import reglab from; the dtype
#: whose callees of the epoch to compile (``None``: none) and whether from the last (stopping at the first one
#: in the cache: the other process has come that far); then the names of kernel functions and the argument
#: types to compile them for, until the input ends.
_SCRIPT = """
import sys
del sys.path[0]  # -c put the working directory there, where a user's own pickle.py would shadow pickle
import pickle
sys.path[:0] = pickle.load(sys.stdin.buffer)
from reglab.engine import compiling, kernel
dtype, backward = pickle.load(sys.stdin.buffer)
callees = kernel.epoch_callees(dtype) if dtype is not None else []
for function, types in reversed(callees) if backward else callees:
    if compiling.cached(function, types):
        if backward:
            break
    else:
        function.compile(types)
while True:
    try:
        name, types = pickle.load(sys.stdin.buffer)
    except EOFError:
        break
    getattr(kernel, name).compile(types)
"""


def cached(function: Any, types: tuple[object, ...]) -> bool:
    """Whether numba's on-disk cache holds the kernel's ``function`` for ``types``, its index read as numba reads it
    before it compiles (internal API: a change there raises, and the callers then compile here instead)."""
    cache = function._cache
    return cache._index_key(types, function.targetctx.codegen()) in cache._cache_file._load_index()


def missing(function: Any, args: tuple[object, ...]) -> tuple[object, ...] | None:
    """The types of ``args`` where numba has the kernel's ``function`` for them neither in memory nor in its cache
    (compiling is needed), else ``None``; ``None`` too where numba's internals changed (the call compiles it)."""
    try:
        types = tuple(function.typeof_pyval(a) for a in args)
        return None if types in function.overloads or cached(function, types) else types
    except Exception:
        return None


def compile_elsewhere(function: Any, args: tuple[object, ...]) -> None:
    """Have the kernel's ``function`` compiled for the types of ``args`` by another process, into numba's cache, and
    wait for it, unless numba has it (in memory or in the cache): this process then loads it, and links to no callee
    compiled here (see the module's text). On one core, or if no process starts, nothing: the call compiles it."""
    types = missing(function, args)
    if types is None:
        return
    compiler = KernelCompiler.start(None)
    if compiler is not None:
        compiler.then(function, types)
        compiler.wait()


class KernelCompiler:
    """The processes (see the module's text) for arrays of ``dtype`` (``"float32"``, ``"float64"``; ``None``: no
    callees, one process compiling only what :meth:`then` names). Use :meth:`start`, which gives ``None`` where
    there is one core only or no process starts."""

    def __init__(self, dtype: str | None):
        self.dtype = dtype
        self.sent = False  # whether a function was named (the process then compiles it before it ends)
        self.process = self._spawn(False)
        self.helper: subprocess.Popen[bytes] | None = None  # the callees from the last, once a function is named

    def _spawn(self, backward: bool) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-c", _SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        assert process.stdin is not None
        pickle.dump([str(Path(__file__).parents[2])], process.stdin)
        pickle.dump((self.dtype, backward), process.stdin)
        process.stdin.flush()
        return process

    @classmethod
    def start(cls, dtype: str | None) -> KernelCompiler | None:
        """New processes, or ``None`` on one core (nothing would run beside this process) or where none starts."""
        if usable_cores() < 2:
            return None
        try:
            return cls(dtype)
        except OSError:  # no process: this one compiles what it needs
            return None

    def then(self, function: Any, types: tuple[object, ...]) -> None:
        """Compile the kernel's ``function`` for ``types`` after the callees, and nothing more; the second process,
        which takes the callees from the last, starts now (on a warm cache none starts: nothing is named)."""
        stream = self.process.stdin
        try:
            if stream is not None and not stream.closed:
                pickle.dump((function.py_func.__name__, types), stream)
                stream.flush()
            if self.dtype is not None and self.helper is None:
                self.helper = self._spawn(True)
                assert self.helper.stdin is not None
                self.helper.stdin.close()  # it ends by itself
        except OSError:  # a process has ended or none starts: this one compiles what it needs
            pass
        self.sent = True
        self.done()

    def done(self) -> None:
        """Nothing more to compile: the process ends after what it has."""
        stream = self.process.stdin
        if stream is not None and not stream.closed:
            try:
                stream.close()
            except OSError:
                pass

    def wait(self) -> None:
        """Wait for the process that compiles the epoch's function to end (what it compiled is then in the cache)."""
        self.done()
        self.process.wait()

    def stop(self) -> None:
        """End the processes: at once those never given a function (a run that does not use the kernel), else
        when they have compiled it."""
        for process, needed in ((self.process, self.sent), (self.helper, False)):
            if process is not None and not needed and process.poll() is None:
                process.terminate()  # numba writes a cache entry to a new file and renames it: none is left half
        self.wait()
        if self.helper is not None:
            self.helper.wait()

    def __enter__(self) -> KernelCompiler:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
