r"""A second process that compiles the kernel into numba's on-disk cache while this one does other work.

numba compiles on one core, holding Python's lock, and a first run needs two functions compiled:
:func:`~reglab.engine.kernel.evaluate` for epoch 0's record, and the epoch's
:func:`~reglab.engine.kernel.train_epoch`, two thirds of whose compilation is its callees. A
:class:`KernelCompiler` process compiles those callees (:func:`~reglab.engine.kernel.epoch_callees`,
from the first) while this process compiles the evaluation; this process then takes them from the last
(:meth:`KernelCompiler.meanwhile`) until the two meet, and the other process compiles the epoch's
function itself, loading its callees from the cache (their code as numba builds it in one process:
the same numbers). numba's later call here finds the epoch's function in the cache and loads it.

The command line starts one as its first step (before torch loads: :func:`reglab.cli.main.early_compiler`)
and hands it to the run (``fit(..., compiler=…)``); a :class:`~reglab.engine.compiled.KernelProgram`
given none starts its own. On a warm cache the process finds every callee cached and waits for nothing.
Whatever happens to the process, the numbers are the same: at worst this process compiles what it needs.
This module imports neither torch nor numba (the process does).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

#: What the process runs: it reads pickles from its standard input: the paths to import reglab from, the dtype
#: whose callees of the epoch to compile (``None``: none), then the names of kernel functions and the argument
#: types to compile them for, until the input ends.
_SCRIPT = """
import sys
del sys.path[0]  # -c put the working directory there, where a user's own pickle.py would shadow pickle
import pickle
sys.path[:0] = pickle.load(sys.stdin.buffer)
from reglab.engine import compiling, kernel
dtype = pickle.load(sys.stdin.buffer)
for function, types in kernel.epoch_callees(dtype) if dtype is not None else ():
    if not compiling.cached(function, types):
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


class KernelCompiler:
    """The process (see the module's text) for arrays of ``dtype`` (``"float32"``, ``"float64"``; ``None``: no callees,
    only what :meth:`then` names). Use :meth:`start`, which gives ``None`` where there is one core only."""

    def __init__(self, dtype: str | None):
        self.dtype = dtype
        self.sent = False  # whether a function was named (the process then compiles it before it ends)
        self.process = subprocess.Popen([sys.executable, "-c", _SCRIPT], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._send([str(Path(__file__).parents[2])], dtype)

    @classmethod
    def start(cls, dtype: str | None) -> KernelCompiler | None:
        """A new process, or ``None`` on one core (nothing would run beside this process) or where none starts."""
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # macOS: no affinity
        if cores < 2:
            return None
        try:
            return cls(dtype)
        except OSError:  # no process: this one compiles what it needs
            return None

    def _send(self, *items: object) -> None:
        stream = self.process.stdin
        try:
            if stream is not None and not stream.closed:
                for item in items:
                    pickle.dump(item, stream)
                stream.flush()
        except OSError:  # the process has ended: this process compiles what it needs
            pass

    def then(self, function: Any, types: tuple[object, ...]) -> None:
        """Compile the kernel's ``function`` for ``types`` after the callees, and nothing more."""
        self._send((function.py_func.__name__, types))
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

    def meanwhile(self, callees: Sequence[tuple[Any, tuple[object, ...]]]) -> None:
        """Compile ``callees`` (the process's list) here, from the last, until one is in the cache (the process has
        come that far) or the process has ended."""
        for function, types in reversed(callees):
            try:
                if self.process.poll() is not None or cached(function, types):
                    return
            except Exception:
                return
            if types not in function.overloads:
                function.compile(types)

    def wait(self) -> None:
        """Wait for the process to end (what it compiled is then in the cache)."""
        self.done()
        self.process.wait()

    def stop(self) -> None:
        """End the process: at once when it was never given a function (a run that does not use the kernel),
        else when it has compiled it."""
        if not self.sent and self.process.poll() is None:
            self.process.terminate()  # numba writes a cache entry to a new file and renames it: none is left half
        self.wait()

    def __enter__(self) -> KernelCompiler:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
