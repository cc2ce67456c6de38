"""Shared fixtures: where the real MNIST files lie, found the way the CLI finds them.

The tests that need MNIST take the ``shared_data_dir`` fixture. It looks, in order, in ``pytest --data-dir
DIR``, ``$REGLAB_DATA``, the CLI's default data directory (``${XDG_CACHE_HOME:-~/.cache}/reglab``, where
``reglab data fetch mnist`` puts it) and ``../shared/data`` beside the checkout, and takes the first that
holds the four MNIST files; without one, those tests skip and say where they looked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--data-dir", metavar="DIR", default=None,
                     help="reglab: data directory holding mnist/ for the tests that need MNIST "
                          "(default: $REGLAB_DATA, then ~/.cache/reglab, then ../shared/data)")


def data_dir_candidates(option: str | None, environ=os.environ) -> list[tuple[Path, str]]:
    """Where MNIST is looked for, in order, with what named each place (as :func:`reglab.data.dirs.locate_data_dir`
    looks, then beside the checkout)."""
    found: list[tuple[Path, str]] = []
    if option:
        found.append((Path(option).expanduser(), "--data-dir"))
    if environ.get("REGLAB_DATA"):
        found.append((Path(environ["REGLAB_DATA"]).expanduser(), "$REGLAB_DATA"))
    cache = environ.get("XDG_CACHE_HOME", "")
    default = (Path(cache) if os.path.isabs(cache) else Path.home() / ".cache") / "reglab"
    found.append((default, "the default data directory"))
    found.append((SHARED_DATA, "the shared data folder beside the checkout"))
    return found


@pytest.fixture(scope="session")
def shared_data_dir(request) -> Path:
    """The data directory holding ``mnist/``; tests that need it skip, visibly, where none is found."""
    from reglab.data.mnist import mnist_available

    places = data_dir_candidates(request.config.getoption("--data-dir"))
    for path, _ in places:
        if mnist_available(path):
            return path
    looked = "; ".join(f"{path / 'mnist'} ({origin})" for path, origin in places)
    pytest.skip(f"MNIST not found in {looked}: get it with 'reglab data fetch mnist', or give pytest --data-dir DIR")


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a test module: fast on a shared 2-core machine, and bit-for-bit
    repeatable against subprocesses started with ``OMP_NUM_THREADS=1``."""
    from reglab.engine.threads import torch_threads

    with torch_threads(1):
        yield
