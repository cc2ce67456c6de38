"""What produced a result: the versions of reglab and the libraries its numbers depend on, and the machine.

Run folders (``summary.json``), sweeps and reports carry :func:`provenance`, so
a number read months later still says what computed it. Versions are read from
the installed packages' metadata, without importing them (an optional library
that is absent is simply not listed).
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

#: The libraries listed, by their distribution names; torch and numpy always (``None`` if absent), the others if installed.
LIBRARIES = ("torch", "numpy", "numba", "scikit-learn", "scipy", "matplotlib")
_ALWAYS = ("torch", "numpy")


def versions() -> dict[str, str | None]:
    """``{"reglab": "0.1.0", "python": "3.11.7", "torch": "2.13.0+cpu", "numpy": …}`` (reglab's version is
    the running code's, ``reglab.__version__``; the others come from the installed packages' metadata)."""
    from reglab import __version__

    out: dict[str, str | None] = {"reglab": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name in _ALWAYS:
                out[name] = None
    return out


def _cpu_name() -> str:
    """The CPU's model name (Linux: ``/proc/cpuinfo``), else what :mod:`platform` says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """The cores this process may run on (its affinity; where there is none, as on macOS, the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def machine() -> dict[str, object]:
    """The machine: host name, operating system, CPU, cores usable by this process, and the CUDA device
    torch sees (only if torch is already imported: this module imports nothing heavy)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    out: dict[str, object] = {
        "host": platform.node(),
        "system": platform.platform(),
        "cpu": _cpu_name(),
        "cores": cores,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        out["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return out


def provenance() -> dict[str, dict]:
    """``{"versions": versions(), "machine": machine()}``."""
    return {"versions": versions(), "machine": machine()}
