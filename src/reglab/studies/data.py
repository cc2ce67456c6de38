"""What the studies that train networks train on: MNIST when it is there, else — said aloud — the 8×8 digits.

The data directory is reglab's usual one (``$REGLAB_DATA``, else ``~/.cache/reglab``; see
:func:`reglab.data.resolve_data_dir`); :func:`reglab.data.load_dataset` with ``"auto"`` picks MNIST when its
four files are there and the bundled 8×8 digits otherwise, with a note. A study never falls back silently:
:func:`load` puts the data set's name and that note into the study's results, and :func:`describe` turns them
into the first sentence of its findings.

These studies train with small mini-batches (10 examples) and evaluate on at most 10,000 images: they run
their measurements inside ``reglab.engine.threads.torch_threads(1)``, since torch's second thread costs more in
synchronization than it gains at that size, and far more on a shared machine.
"""

from __future__ import annotations

import math

import torch

from reglab.engine.data import TensorData


def load(train_size: int | None, dtype: torch.dtype = torch.float32) -> tuple[TensorData, dict]:
    """The training data of a study and a JSON description of it.

    Parameters
    ----------
    train_size : int or None
        Keep the first ``train_size`` training examples (all when ``None``); capped at what the data set has
        (the digits have 1,197), and the cap is recorded.
    dtype : torch.dtype
        Of the inputs and one-hot targets.

    Returns
    -------
    (TensorData, dict)
        The splits on the CPU, and ``{"dataset", "side", "n_train", "requested_train", "n_validation",
        "n_test", "note"}``; ``side`` is the image's width in pixels (28 or 8), ``note`` says why MNIST was
        not used (``None`` when it was).
    """
    from reglab.data import load_dataset

    ds = load_dataset("auto")
    n = len(ds.train) if train_size is None else min(int(train_size), len(ds.train))
    data = TensorData.from_dataset(ds, dtype=dtype, train_size=n)
    info = {
        "dataset": ds.name,
        "side": int(round(math.sqrt(ds.n_features))),
        "n_train": n,
        "requested_train": train_size,
        "n_validation": len(ds.validation),
        "n_test": len(ds.test),
        "note": ds.note,
    }
    return data, info


def describe(info: dict) -> str:
    """One sentence: which data the numbers come from (and, when MNIST was missing, that and why)."""
    images = f"{info['n_train']:,} training images, {info['n_validation']:,} validation images"
    if info["dataset"] == "mnist":
        return f"Data: MNIST, the first {images} (the book's split)."
    short = ""
    if info["requested_train"] is not None and info["n_train"] < info["requested_train"]:
        short = f" (all it has; the study asks for {info['requested_train']:,})"
    return (f"MNIST was not used — {info['note'] or 'it was not found'} — so the numbers below are those of the "
            f"{info['side']}×{info['side']} {info['dataset']}: {images}{short}.")

