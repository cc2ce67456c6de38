"""Where reglab keeps downloaded data."""

from __future__ import annotations

import os
from pathlib import Path


def locate_data_dir(data_dir: str | Path | None = None) -> tuple[Path, str]:
    """Return the data directory and what chose it.

    Parameters
    ----------
    data_dir : str, Path or None
        An explicit directory (``--data-dir``); wins when given.

    Returns
    -------
    (Path, str)
        The directory (``~`` expanded; it need not exist) and its origin:
        ``"--data-dir"``, ``"$REGLAB_DATA"`` or ``"default"``.
    """
    if data_dir is not None and str(data_dir) != "":
        return _absolute(data_dir), "--data-dir"
    if os.environ.get("REGLAB_DATA"):
        return _absolute(os.environ["REGLAB_DATA"]), "$REGLAB_DATA"
    cache = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says to ignore a relative XDG_CACHE_HOME.
    base = Path(cache) if os.path.isabs(cache) else Path.home() / ".cache"
    return base / "reglab", "default"


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """Return the data directory: ``data_dir``, else ``$REGLAB_DATA``, else ``${XDG_CACHE_HOME:-~/.cache}/reglab``.

    MNIST lives in ``<data dir>/mnist/``. The directory need not exist.
    """
    return locate_data_dir(data_dir)[0]


def _absolute(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))
