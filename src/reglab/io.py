"""Atomic file output: a file is either absent or whole, never half-written."""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kw) -> Iterator[IO]:
    """Open a new temporary file beside ``path``; on success it replaces ``path`` in one rename.

    The temporary file is created with ``open(..., "x")`` under a unique name, so the result gets
    the usual permissions (the umask), and a failure or interruption leaves ``path`` as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, mode.replace("w", "x"), **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def nan_to_none(x: float) -> float | None:
    """``float(x)``, or ``None`` where it is NaN (a missing number in a table; infinities are kept)."""
    x = float(x)
    return None if math.isnan(x) else x


def finite_or_none(obj):
    """``obj`` with every NaN or infinity replaced by ``None`` (JSON has no such numbers); numpy arrays and
    numbers become lists and Python numbers."""
    if hasattr(obj, "tolist"):
        obj = obj.tolist()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    return obj


def dumps(obj) -> str:
    """JSON text of ``obj``; non-finite numbers become ``null``."""
    return json.dumps(finite_or_none(obj), indent=2, allow_nan=False, default=_jsonable)


def write_json(path: str | Path, obj) -> None:
    write_text(path, dumps(obj) + "\n")


def _jsonable(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def save_figure(fig, path: str | Path, dpi: int = 110) -> None:
    """Write a matplotlib figure as PNG, atomically."""
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")


def save_npz(path: str | Path, arrays: dict) -> None:
    """Arrays in ``.npz`` (no pickled objects: ``np.load(..., allow_pickle=False)`` reads it)."""
    import numpy as np

    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)
