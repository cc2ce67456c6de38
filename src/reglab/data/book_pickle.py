"""The book's own ``mnist.pkl.gz``, read without trusting it.

The file (from Nielsen's repository) is a gzip-compressed pickle of
``((train_X, train_y), (val_X, val_y), (test_X, test_y))``: numpy arrays,
pickled by Python 2 (so it is read with ``encoding="latin1"``). Unpickling
can call any function a file names; :class:`NumpyOnlyUnpickler` admits only
what rebuilding numpy arrays needs and refuses everything else before it runs.
"""

from __future__ import annotations

import gzip
import importlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from reglab.data.checks import check_arrays, count_classes
from reglab.data.dataset import Dataset, Split
from reglab.errors import ReglabError

#: (module under numpy's core, name) pairs that rebuild arrays and scalars.
_CORE_ALLOWED = {
    ("multiarray", "_reconstruct"),  # ndarray pickles, protocols 0-4
    ("multiarray", "scalar"),  # numpy scalars
    ("numeric", "_frombuffer"),  # ndarray pickles, protocol 5
}


class RefusedPickle(pickle.UnpicklingError):
    """A pickle named something outside the allowed list."""


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """Stand-in for ``_codecs.encode``, which Python 3 protocol-2 pickles use for bytes; latin1 only."""
    if encoding not in ("latin1", "latin-1"):
        raise RefusedPickle(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays, dtypes and scalars, and nothing else.

    ``find_class`` is where a pickle names the functions it will call; any name
    outside the list raises :class:`RefusedPickle` before anything is called.
    ``numpy.core`` (numpy 1) and ``numpy._core`` (numpy 2) are both accepted
    and resolved to whichever this numpy has.
    """

    def find_class(self, module: str, name: str) -> Any:
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        for core in ("numpy._core.", "numpy.core."):
            sub = module.removeprefix(core)
            if module.startswith(core) and (sub, name) in _CORE_ALLOWED:
                return getattr(_numpy_core_module(sub), name)
        raise RefusedPickle(f"refusing to load {module}.{name}: only numpy arrays are allowed")


def _numpy_core_module(sub: str) -> Any:
    try:
        return importlib.import_module(f"numpy._core.{sub}")
    except ImportError:  # numpy < 2
        return importlib.import_module(f"numpy.core.{sub}")


def load_book_pickle(path: Path) -> Dataset:
    """Load the book's ``mnist.pkl.gz`` (or any pickle of the same shape, gzip-compressed or not).

    The three parts are used as the file splits them; ``split`` and ``seed``
    play no part. Pixels become float32 and labels int64.

    Raises
    ------
    ReglabError
        The file names anything but numpy's array machinery (refused unrun),
        is not a readable pickle, or does not hold three ``(X, y)`` pairs.
    """
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if compressed else path.open("rb")) as f:
            data = NumpyOnlyUnpickler(f, encoding="latin1").load()
    except RefusedPickle as exc:
        raise ReglabError(f"{path}: {exc}") from None
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
