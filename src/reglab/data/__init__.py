"""Data sets for reglab: MNIST, the bundled 8×8 digits, and a user's own files.

Every loader returns a :class:`Dataset` of three :class:`Split` parts with
float32 inputs ``(N, d)`` and int64 labels ``(N,)`` in ``0..K-1``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reglab.data.checks import check_split
from reglab.data.dataset import Dataset, Split, Standardization
from reglab.data.digits import load_digits
from reglab.data.dirs import resolve_data_dir
from reglab.data.fetch import fetch_mnist
from reglab.data.mnist import FETCH_HINT, load_mnist, mnist_available, mnist_dir
from reglab.data.user import load_file
from reglab.data.user import standardize as standardize_dataset
from reglab.errors import ReglabError
from reglab.rng import check_seed

__all__ = [
    "Split",
    "Dataset",
    "Standardization",
    "standardize_dataset",
    "load_dataset",
    "resolve_data_dir",
    "load_mnist",
    "load_digits",
    "mnist_available",
    "fetch_mnist",
]


def load_dataset(
    spec: str | Path = "auto",
    data_dir: str | Path | None = None,
    *,
    target: str | None = None,
    split: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    standardize: bool = False,
) -> Dataset:
    """Load a data set by name or path.

    Parameters
    ----------
    spec : str
        ``"auto"``: MNIST if its four files are in the data directory (if
        they are damaged, an error: no silent fallback), else the 8×8
        digits with a :attr:`Dataset.note` saying so. ``"mnist"``:
        MNIST (an error if missing). ``"digits"``: the bundled 8×8 digits.
        Anything else is a path to a ``.npz``, ``.csv`` or the book's
        ``mnist.pkl.gz`` (see :func:`reglab.data.user.load_file`); the three
        names win over files of the same name (write ``./digits`` for those).
    data_dir : str, Path or None
        Where MNIST is looked for (see :func:`resolve_data_dir`).
    target : str or None
        The label column of a ``.csv`` file; only for ``.csv``.
    split : (float, float, float)
        Train, validation and test fractions for ``.npz`` and ``.csv`` data;
        MNIST, the digits and the book's pickle come with fixed splits.
    seed : int
        Seeds the shuffle before a ``.npz`` or ``.csv`` file is split.
    standardize : bool
        Standardize every feature by the mean and standard deviation of the
        training split (:func:`reglab.data.user.standardize`; kept as
        :attr:`Dataset.standardization`).

    Raises
    ------
    ReglabError
        A missing or unusable file, or arguments that do not fit the data.
    """
    check_seed(seed)  # one rule for seeds, whichever data set it would shuffle
    if spec in ("auto", "mnist", "digits"):
        check_split(split, spec)  # unused here, but a wrong value is still wrong
        if target is not None:
            raise ReglabError(f"{spec}: target={target!r} applies only to .csv files")
    if spec == "mnist" or (spec == "auto" and mnist_available(data_dir)):
        ds = load_mnist(data_dir)
    elif spec == "digits":
        ds = load_digits()
    elif spec == "auto":
        note = f"MNIST not found in {mnist_dir(data_dir)}; using the 8x8 digits. Get MNIST with: {FETCH_HINT}"
        ds = replace(load_digits(), note=note)
    else:
        ds = load_file(spec, target=target, split=split, seed=seed, standardize=standardize)
    return standardize_dataset(ds) if standardize else ds

