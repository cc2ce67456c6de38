"""Atomic file output: a file is either absent or whole, never half-written.

A file is written to a temporary file beside it, ``.NAME.PID.TOKEN.tmp`` (:func:`temp_path`), and renamed
into place. Writing that fails (no space left on the device, an I/O error, a folder gone read-only) raises
:class:`reglab.errors.OutputError` naming the file and the system's reason; the temporary file is removed and
the file at the final name is as it was. A process killed while writing leaves its temporary file behind;
:func:`orphaned_temp_files` finds such files by their exact pattern, for the owner of the folder to remove.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from reglab.errors import OutputError

#: The temporary files of :func:`atomic_open`: ``.NAME.PID.TOKEN.tmp`` (TOKEN: 32 hex digits).
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.(?P<token>[0-9a-f]{32})\.tmp$", re.DOTALL)
#: Errors of a write itself (as opposed to, say, reading a source file inside the ``with`` block).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def temp_path(path: Path) -> Path:
    """A new temporary name beside ``path`` for this process (see :data:`TEMP_PATTERN`)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def orphaned_temp_files(folder: Path) -> list[Path]:
    """Temporary files of :func:`atomic_open` in ``folder`` left by another process (killed while writing).

    Only names matching :data:`TEMP_PATTERN` exactly, with another process's id, are listed: a file of the
    user's never is. Only the holder of the folder (:func:`reglab.outdir.claim`) may remove them.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    me = os.getpid()
    return [folder / n for n in sorted(names) if (m := TEMP_PATTERN.match(n)) and int(m["pid"]) != me]


def output_error(path: Path | str, exc: OSError) -> OutputError:
    """The one-line error for a failed write of ``path``."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = f"{reason} (the disk is full: free some space, or write elsewhere)"
    return OutputError(f"cannot write {path}: {reason}")


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kw) -> Iterator[IO]:
    """Open a new temporary file beside ``path``; on success it replaces ``path`` in one rename.

    The temporary file is created with ``open(..., "x")`` under a unique name, so the result gets
    the usual permissions (the umask), and a failure or interruption leaves ``path`` as it was.

    Raises
    ------
    OutputError
        The folder cannot be created or written, or the device is full (the write's own errors; an
        error of the ``with`` block's other work passes through as it is).
    """
    path = Path(path)
    tmp, f, body = temp_path(path), None, False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(tmp, mode.replace("w", "x"), **kw)
        body = True
        yield f
        body = False
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(tmp, path)
    except BaseException as exc:
        if f is not None:
            with contextlib.suppress(OSError):
                f.close()  # closes the file even where flushing what is left fails again
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and (not body or exc.errno in _WRITE_ERRNOS):
            raise output_error(path, exc) from None
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
