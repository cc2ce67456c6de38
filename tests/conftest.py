"""Shared fixtures: where the real MNIST files lie (``../shared/data`` beside the checkout)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The data directory holding ``mnist/``; tests that need it skip, visibly, where it is absent."""
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"MNIST not found at {SHARED_DATA / 'mnist'} (the shared data folder beside the checkout)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a test module: fast on a shared 2-core machine, and bit-for-bit
    repeatable against subprocesses started with ``OMP_NUM_THREADS=1``."""
    from reglab.engine.threads import torch_threads

    with torch_threads(1):
        yield
