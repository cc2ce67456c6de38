"""MNIST from LeCun's four IDX files, split as in Nielsen's book.

The files live in ``<data dir>/mnist/`` under their usual names, each either
gzip-compressed (``NAME.gz``, preferred when both exist: it is what
``reglab data fetch mnist`` writes) or raw (``NAME``).

Checks on every load: magic numbers, image sizes (28×28), that the header's
count matches the data (no truncation, no trailing bytes), that images and
labels agree in number, and — with ``verify=True``, the default — the item
counts (60,000 / 10,000) and the sha256 of each file's decompressed content.
The checksum costs about 0.03 s per load next to 0.2 s of gunzipping, so no
verification stamp is written; decoded files are kept per process (see
:func:`reglab.data.idx.read_idx`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reglab.data.dataset import Dataset, Split
from reglab.data.dirs import resolve_data_dir
from reglab.data.idx import IdxSpec, read_idx
from reglab.errors import ReglabError

#: The four files (names without ``.gz``) and what each must hold.
MNIST_FILES: dict[str, IdxSpec] = {
    "train-images-idx3-ubyte": IdxSpec(3, (28, 28), 60_000, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": IdxSpec(1, (), 60_000, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": IdxSpec(3, (28, 28), 10_000, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": IdxSpec(1, (), 10_000, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

FETCH_HINT = "reglab data fetch mnist"


def mnist_dir(data_dir: str | Path | None = None) -> Path:
    """The folder MNIST lives in: ``<data dir>/mnist``."""
    return resolve_data_dir(data_dir) / "mnist"


def find_mnist_file(directory: Path, name: str) -> Path | None:
    """Return ``directory/NAME.gz`` if it exists, else ``directory/NAME`` if it exists, else None."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def mnist_available(data_dir: str | Path | None = None) -> bool:
    """Whether all four MNIST files are present (not whether they are valid: loading checks that)."""
    directory = mnist_dir(data_dir)
    return all(find_mnist_file(directory, name) is not None for name in MNIST_FILES)


@dataclass(frozen=True)
class FileStatus:
    """One MNIST file as ``reglab data info`` reports it.

    Attributes
    ----------
    name : str
        The file's name without ``.gz``.
    path : Path or None
        The file found, None when missing.
    state : str
        ``"OK"``, ``"missing"`` or ``"bad"``.
    detail : str
        What it holds, or what is wrong with it.
    """

    name: str
    path: Path | None
    state: str
    detail: str


def mnist_status(data_dir: str | Path | None = None) -> list[FileStatus]:
    """Check each of the four canonical files fully (sizes, counts, sha256); never raises for a bad file."""
    directory = mnist_dir(data_dir)
    rows = []
    for name, spec in MNIST_FILES.items():
        path = find_mnist_file(directory, name)
        if path is None:
            rows.append(FileStatus(name, None, "missing", f"neither {name}.gz nor {name}"))
            continue
        try:
            array = read_idx(path, spec)
        except ReglabError as exc:
            rows.append(FileStatus(name, path, "bad", str(exc)))
            continue
        what = "images of 28x28" if array.ndim == 3 else "labels"
        rows.append(FileStatus(name, path, "OK", f"{len(array)} {what}, sha256 verified"))
    return rows


def load_mnist(data_dir: str | Path | None = None, *, verify: bool = True) -> Dataset:
    """Load MNIST from ``<data dir>/mnist/`` with the book's split.

    training = the first 50,000 training images, validation = the last
    10,000, test = the 10,000 test images. Pixels are float32 ``byte / 256``
    (values in ``[0, 255/256]``, exactly as in the book's ``mnist.pkl.gz``),
    flattened to 784 features; labels are int64 in ``0..9``.

    Parameters
    ----------
    data_dir : str, Path or None
        See :func:`reglab.data.resolve_data_dir`.
    verify : bool
        True (default): insist on the canonical files (60,000 / 10,000 items
        and the published sha256 of the decompressed content). False: accept
        any well-formed IDX files (for small test files); then validation is
        the last sixth of the training images (``n // 6``, which is 10,000
        for the canonical 60,000).

    Raises
    ------
    ReglabError
        A file is missing, or malformed: the message names the file and what is wrong.
    """
    directory = mnist_dir(data_dir)
    paths: dict[str, Path] = {}
    for name in MNIST_FILES:
        found = find_mnist_file(directory, name)
        if found is None:
            raise ReglabError(f"MNIST file {name}[.gz] not found in {directory}; get MNIST with: {FETCH_HINT}")
        paths[name] = found
    train, test = _pair(paths, "train", verify), _pair(paths, "t10k", verify)
    n_validation = len(train) // 6
    n_train = len(train) - n_validation
    return Dataset(
        name="mnist",
        train=Split(train.X[:n_train], train.y[:n_train]),
        validation=Split(train.X[n_train:], train.y[n_train:]),
        test=test,
        n_classes=10,
        source=str(directory),
    )


def _pair(paths: dict[str, Path], prefix: str, verify: bool) -> Split:
    """Read ``PREFIX-images`` and ``PREFIX-labels`` into a split: fresh float32 pixels ``byte / 256``, int64 labels."""
    images_name, labels_name = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
    images, labels = (
        read_idx(paths[name], MNIST_FILES[name] if verify else MNIST_FILES[name].relaxed())
        for name in (images_name, labels_name)
    )
    if len(images) != len(labels):
        raise ReglabError(f"{paths[images_name]} has {len(images)} images but {paths[labels_name]} has {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ReglabError(f"{paths[labels_name]}: label {labels.max()} is not a digit 0..9")
    X = images.reshape(len(images), -1).astype(np.float32)  # (N, 784), a fresh copy
    X *= np.float32(1 / 256)  # exact: a power of two
    return Split(X, labels.astype(np.int64))
