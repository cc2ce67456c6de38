"""The book's own ``mnist.pkl.gz``, read without trusting it.

The file (from Nielsen's repository) is a gzip-compressed pickle of
``((train_X, train_y), (val_X, val_y), (test_X, test_y))``: numpy arrays,
pickled by Python 2 (so it is read with ``encoding="latin1"``). Unpickling
can call any function a file names, and numpy's own array machinery allocates
whatever shape a file declares; :class:`NumpyOnlyUnpickler` trusts neither:

* only what rebuilding numeric arrays needs is admitted (``find_class``);
  every other name is refused before anything runs;
* numpy is never handed the file's state: an array is rebuilt here from its
  bytes (``numpy.frombuffer``), after checking that its shape, its dtype
  (numbers only: bool, integers, floats) and its byte count agree;
* everything read is bounded (:mod:`reglab.data.limits`): the pickle may
  inflate to at most what its file can hold and :data:`~reglab.data.limits.MAX_PICKLE_BYTES`,
  a length it declares beyond that is refused before it is read, and it may
  take at most :data:`MAX_OPS` opcodes (the book's file takes a few dozen).
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np

from reglab.data.checks import check_arrays, count_classes
from reglab.data.dataset import Dataset, Split
from reglab.data.limits import MAX_PICKLE_BYTES, open_bounded, size_text
from reglab.errors import ReglabError

#: (module under numpy's core, name) pairs that rebuild arrays and scalars.
_CORE_ALLOWED = {
    ("multiarray", "_reconstruct"),  # ndarray pickles, protocols 0-4
    ("multiarray", "scalar"),  # numpy scalars
    ("numeric", "_frombuffer"),  # ndarray pickles, protocol 5
}
#: The most opcodes a pickle may take: a pickle of a few arrays takes a few dozen.
MAX_OPS = 10_000
#: The dtypes an array or a scalar may have: booleans, integers and floats of at most 16 bytes.
_KINDS, _ITEMSIZE = "biuf", 16


class RefusedPickle(pickle.UnpicklingError):
    """A pickle named something outside the allowed list, or declared something it cannot hold."""


class _Pending:
    """An array or dtype being rebuilt: created by the file's call, completed by its BUILD, read at the end."""

    def __init__(self, kind: str, value: Any = None):
        self.kind, self.value = kind, value


class _NdarrayClass(_Pending):
    """What ``numpy.ndarray`` resolves to: a marker for ``_reconstruct``. Called (``ndarray(shape)`` would
    allocate any shape), it refuses."""

    def __call__(self, *args: Any, **kw: Any) -> Any:
        raise RefusedPickle("refusing to call numpy.ndarray: arrays are rebuilt from their bytes only")


_NDARRAY = _NdarrayClass("ndarray class")


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """Stand-in for ``_codecs.encode``, which Python 3 protocol-2 pickles use for bytes; latin1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise RefusedPickle(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _dtype(spec: Any, align: Any = False, copy: Any = False) -> _Pending:
    """``numpy.dtype(spec)`` for a numeric type named by a short string, as numpy's pickles do."""
    if not isinstance(spec, str) or len(spec) > 8:
        raise RefusedPickle(f"refusing numpy.dtype({spec!r:.40}): only numeric dtypes named like 'f4' are allowed")
    return _Pending("dtype", _numeric(np.dtype(spec)))


def _numeric(dtype: Any) -> np.dtype:
    if isinstance(dtype, _Pending) and dtype.kind == "dtype":
        dtype = dtype.value
    if not isinstance(dtype, np.dtype) or dtype.kind not in _KINDS or dtype.itemsize > _ITEMSIZE or dtype.hasobject:
        raise RefusedPickle(f"refusing dtype {dtype!r:.40}: only booleans, integers and floats are allowed")
    return dtype


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> _Pending:
    """numpy's ``_reconstruct(ndarray, (0,), b'b')``: an empty array, filled by BUILD."""
    if subtype is not _NDARRAY:
        raise RefusedPickle("refusing _reconstruct of anything but numpy.ndarray")
    return _Pending("ndarray")


def _scalar(dtype: Any, data: Any = b"") -> Any:
    dtype = _numeric(dtype)
    raw = _raw(data)
    if len(raw) != dtype.itemsize:
        raise RefusedPickle(f"a numpy scalar of {dtype} needs {dtype.itemsize} bytes, the file gives {len(raw)}")
    return np.frombuffer(raw, dtype)[0]


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
    """numpy's protocol-5 ``_frombuffer(buffer, dtype, shape, order)``."""
    return _array(_shape(shape), _numeric(dtype), order == "F", buffer)


def _raw(data: Any) -> bytes | bytearray | memoryview:
    if isinstance(data, str):  # a Python 2 str, read as latin1
        return data.encode("latin1")
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, (memoryview, pickle.PickleBuffer)):
        return memoryview(data).cast("B")
    raise RefusedPickle(f"array data must be bytes, got {type(data).__name__}")


def _shape(shape: Any) -> tuple[int, ...]:
    if not (isinstance(shape, tuple) and len(shape) <= 32 and all(isinstance(n, int) and n >= 0 for n in shape)):
        raise RefusedPickle(f"refusing an array shape {shape!r:.60}")
    return shape


def _array(shape: tuple[int, ...], dtype: np.dtype, fortran: bool, data: Any) -> np.ndarray:
    """The array of ``shape`` and ``dtype`` whose bytes are ``data``: checked, then a view of them."""
    raw = _raw(data)
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(raw):
        raise RefusedPickle(f"an array of shape {shape} and dtype {dtype} needs {size_text(count * dtype.itemsize)}, "
                            f"the file gives {size_text(len(raw))}")
    return np.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C")


def _build(pending: _Pending, state: Any) -> None:
    """BUILD, for the objects made here: the array's ``(version, shape, dtype, fortran, data)``, the dtype's
    ``(version, byteorder, …)``; nothing else may have its state set."""
    if pending.kind == "ndarray" and pending.value is None and isinstance(state, tuple) and len(state) in (4, 5):
        shape, dtype, fortran, data = state[-4:]
        pending.value = _array(_shape(shape), _numeric(dtype), bool(fortran), data)
    elif pending.kind == "dtype" and isinstance(state, tuple) and len(state) >= 2 and state[1] in ("<", ">", "|", "="):
        order = state[1]
        pending.value = pending.value.newbyteorder(order) if order in "<>" else pending.value
    else:
        raise RefusedPickle(f"refusing to set the state of {pending.kind}")


def _resolve(obj: Any, depth: int = 0) -> Any:
    """The loaded structure with every rebuilt array in place of its :class:`_Pending`."""
    if depth > 8:
        raise RefusedPickle("nested more deeply than ((X, y), (X, y), (X, y))")
    if isinstance(obj, _Pending):
        if obj.value is None or obj is _NDARRAY:
            raise RefusedPickle(f"a {obj.kind} without its data")
        return obj.value
    if isinstance(obj, (tuple, list)):
        return type(obj)(_resolve(x, depth + 1) for x in obj)
    return obj


class NumpyOnlyUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """An unpickler that can rebuild numeric numpy arrays, dtypes and scalars, and nothing else.

    ``find_class`` is where a pickle names the functions it will call; any name outside the list raises
    :class:`RefusedPickle` before anything is called, and the names admitted resolve to the checked
    stand-ins above, never to numpy's own constructors. ``numpy.core`` (numpy 1) and ``numpy._core``
    (numpy 2) are both accepted. It is Python's own unpickler (``pickle._Unpickler``) with each opcode
    counted (at most :data:`MAX_OPS`) and BUILD limited to the arrays and dtypes made here.
    """

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]
    # set by Python's unpickler as it loads (its stub does not declare them)
    stack: list[Any]
    read: Any
    append: Any

    def __init__(self, file, **kw):
        super().__init__(file, **kw)
        self.ops = 0

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("numpy", "ndarray"):
            return _NDARRAY
        if (module, name) == ("numpy", "dtype"):
            return _dtype
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        for core in ("numpy._core.", "numpy.core."):
            sub = module.removeprefix(core)
            if module.startswith(core) and (sub, name) in _CORE_ALLOWED:
                return {"_reconstruct": _reconstruct, "scalar": _scalar, "_frombuffer": _frombuffer}[name]
        raise RefusedPickle(f"refusing to load {module}.{name}: only numpy arrays are allowed")

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedPickle("refusing a persistent id: only numpy arrays are allowed")

    def load_build(self) -> None:
        state = self.stack.pop()
        target = self.stack[-1]
        if not isinstance(target, _Pending) or target is _NDARRAY:
            raise RefusedPickle(f"refusing to set the state of a {type(target).__name__}")
        _build(target, state)

    def load_bytearray8(self) -> None:
        """As Python's, but reading the bytes (bounded) before allocating the array, not after."""
        (n,) = struct.unpack("<Q", self.read(8))
        self.append(bytearray(self.read(n)))

    def load(self) -> Any:
        return _resolve(super().load())


def _counted(op):
    def run(self):
        self.ops += 1
        if self.ops > MAX_OPS:
            raise RefusedPickle(f"more than {MAX_OPS:,} pickle operations: not a pickle of a few arrays")
        op(self)

    return run


NumpyOnlyUnpickler.dispatch = {code: _counted(op) for code, op in NumpyOnlyUnpickler.dispatch.items()}
NumpyOnlyUnpickler.dispatch[pickle.BUILD[0]] = _counted(NumpyOnlyUnpickler.load_build)
NumpyOnlyUnpickler.dispatch[pickle.BYTEARRAY8[0]] = _counted(NumpyOnlyUnpickler.load_bytearray8)


def load_book_pickle(path: Path) -> Dataset:
    """Load the book's ``mnist.pkl.gz`` (or any pickle of the same shape, gzip-compressed or not).

    The three parts are used as the file splits them; ``split`` and ``seed``
    play no part. Pixels become float32 and labels int64.

    Raises
    ------
    ReglabError
        The file names anything but numpy's array machinery (refused unrun),
        declares more data than it holds or than reglab reads, is not a
        readable pickle, or does not hold three ``(X, y)`` pairs.
    """
    try:
        raw, f, _ = open_bounded(path, MAX_PICKLE_BYTES)
        with raw:
            data = NumpyOnlyUnpickler(f, encoding="latin1").load()
    except RefusedPickle as exc:
        raise ReglabError(f"{path}: {exc}") from None
    except ReglabError:
        raise
    except Exception as exc:  # a damaged pickle can fail in many ways
        raise ReglabError(f"{path}: not a readable pickle of numpy arrays ({type(exc).__name__}: {exc})") from None
    pairs = isinstance(data, (tuple, list)) and len(data) == 3
    if not (pairs and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in data)):
        raise ReglabError(f"{path}: expected ((train_X, train_y), (val_X, val_y), (test_X, test_y)), found {type(data).__name__}")
    parts = [
        Split(*check_arrays(X, y, f"{path} ({part} part)"))
        for part, (X, y) in zip(("training", "validation", "test"), data)
    ]
    widths = {p.X.shape[1] for p in parts}
    if len(widths) != 1:
        raise ReglabError(f"{path}: the three parts have different numbers of features {sorted(widths)}")
    n_classes = count_classes(np.concatenate([p.y for p in parts]), str(path))
    train, validation, test = parts
    return Dataset(path.name, train, validation, test, n_classes=n_classes, source=str(path))
