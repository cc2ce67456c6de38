"""The package's layout holds: every module imports on its own, imports point down the layers, no cycles.

The layers and the no-cycle rule are import-linter contracts in ``pyproject.toml`` (``lint-imports``
checks them in CI too); here they run through its API so that the test command checks them as well.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import reglab

ROOT = Path(__file__).resolve().parents[1]


def all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(reglab.__path__, "reglab.") if not m.name.endswith("__main__"))


def test_every_module_imports_first_in_a_fresh_interpreter():
    """A module that only imports when another was imported first hides a cycle: each one is imported
    first, in a child forked before any reglab module was loaded (the heavy libraries preloaded)."""
    code = (
        "import os, sys, importlib\n"
        "import numpy, torch, numba, matplotlib, sklearn, rich  # noqa: F401  (shared, not under test)\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except BaseException as exc:\n"
        "            print(f'{name}: {type(exc).__name__}: {exc}', flush=True)\n"
        "            os._exit(1)\n"
        "        os._exit(0)\n"
        "    if os.waitpid(pid, 0)[1] != 0:\n"
        "        failed.append(name)\n"
        "print('FAILED', ' '.join(failed))\n"
    )
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    out = subprocess.run([sys.executable, "-c", code, *all_modules()], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("FAILED"), out.stdout


def test_imports_point_down_the_layers_and_no_package_has_a_cycle():
    """import-linter's contracts of ``pyproject.toml``, checked by its command (``lint-imports``) in a child."""
    code = ("import sys\n"
            "from importlinter.cli import lint_imports_command\n"
            "lint_imports_command(['--no-cache', '--no-logo'])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in out.stdout
