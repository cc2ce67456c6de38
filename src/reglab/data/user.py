"""A user's own data: ``.npz`` (arrays ``X`` and ``y``), ``.csv`` (a label column), or the book's pickle."""

from __future__ import annotations

import csv
import warnings
import zipfile
from pathlib import Path

import numpy as np

from reglab.data.book_pickle import load_book_pickle
from reglab.data.checks import check_arrays, check_split, count_classes, split_arrays
from reglab.data.dataset import Dataset
from reglab.data.limits import check_npz_member
from reglab.errors import ReglabError
from reglab.rng import check_seed

SUFFIXES = (".npz", ".csv", ".pkl.gz", ".pkl")


def load_file(
    path: str | Path,
    *,
    target: str | None = None,
    split: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> Dataset:
    """Load a data file, choosing the reader by its name's ending.

    ``.npz``
        Arrays ``X`` (``(N, d)``, or ``(N, ...)``: flattened) and ``y``
        (``(N,)`` integers ``0..K-1``). Read with ``allow_pickle=False``.
    ``.csv``
        A header row naming the columns, then one example per line, all
        values numeric; ``target`` names the label column, every other
        column is a feature.
    ``.pkl.gz`` / ``.pkl``
        The book's ``mnist.pkl.gz`` (see :mod:`reglab.data.book_pickle`); it
        carries its own split, so ``split`` and ``seed`` are not used.

    ``.npz`` and ``.csv`` data are shuffled with ``default_rng(seed)`` and cut
    by ``split = (train, validation, test)`` fractions (see
    :func:`reglab.data.checks.split_arrays`). ``K`` is the largest label plus
    one; every class ``0..K-1`` must occur.

    Raises
    ------
    ReglabError
        One line naming the file and the problem.
    """
    path = Path(path)
    what = str(path)
    suffix = next((s for s in SUFFIXES if path.name.lower().endswith(s)), None)
    if suffix is None:
        raise ReglabError(f"{what}: unknown data set (names: auto, mnist, digits; files end in {', '.join(SUFFIXES)})")
    if target is not None and suffix != ".csv":
        raise ReglabError(f"{what}: target={target!r} applies only to .csv files")
    if suffix == ".csv" and target is None:
        raise ReglabError(f"{what}: a .csv file needs target=COLUMN naming its label column (--target)")
    split = check_split(split, what)
    seed = check_seed(seed)
    if not path.is_file():
        raise ReglabError(f"{what}: no such file")
    if suffix in (".pkl.gz", ".pkl"):
        return load_book_pickle(path)
    if suffix == ".npz":
        X, y = check_arrays(*_read_npz(path), what)
    else:
        assert target is not None  # checked above: a .csv names its label column
        X, y, columns = _read_csv(path, target)
        X, y = check_arrays(X, y, what, first_line=2, columns=columns)
    n_classes = count_classes(y, what)
    train, validation, test = split_arrays(X, y, split, seed, what)
    return Dataset(path.name, train, validation, test, n_classes=n_classes, source=what)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ReglabError(f"{path}: a single array, not an .npz archive of arrays X and y")
        with archive:
            missing = [key for key in ("X", "y") if key not in archive.files]
            if missing:
                held = ", ".join(archive.files) or "nothing"
                raise ReglabError(f"{path}: no array named {' or '.join(missing)} (it holds {held}); "
                                  "an .npz needs arrays X and y")
            members = archive.zip
            assert members is not None  # an NpzFile opened from a path holds its zip file
            names = members.namelist()
            for key in ("X", "y"):  # sizes checked before numpy allocates the arrays
                check_npz_member(members, f"{key}.npy" if f"{key}.npy" in names else key, str(path))
            return archive["X"], archive["y"]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ReglabError(f"{path}: not a readable .npz file ({exc})") from None


def _read_csv(path: Path, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    header = _read_header(path)
    if target not in header:
        if all(_is_number(field) for field in header):
            raise ReglabError(f"{path}: the first line looks like data; a header row naming the columns is required")
        raise ReglabError(f"{path}: no column {target!r} in the header (columns: {', '.join(header)})")
    if header.count(target) > 1:
        raise ReglabError(f"{path}: the header names column {target!r} more than once")
    if len(header) < 2:
        raise ReglabError(f"{path}: no feature columns besides {target!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            values = np.loadtxt(path, delimiter=",", skiprows=1, quotechar='"', ndmin=2, encoding="utf-8")
    except ValueError as exc:
        raise ReglabError(f"{path}: {_first_bad_value(path, header) or exc}") from None
    if values.size == 0:
        raise ReglabError(f"{path}: no data rows after the header")
    if values.shape[1] != len(header):
        raise ReglabError(f"{path}: the rows have {values.shape[1]} fields but the header names {len(header)} columns")
    column = header.index(target)
    return np.delete(values, column, axis=1), values[:, column], [h for k, h in enumerate(header) if k != column]


def _read_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReglabError(f"{path}: cannot read as CSV text ({exc})") from None
    if not header:
        raise ReglabError(f"{path}: empty file; expected a header row naming the columns")
    return [field.strip() for field in header]


def _first_bad_value(path: Path, header: list[str]) -> str | None:
    """Find the first line that is not all numbers, for an error message worth reading."""
    with path.open(newline="", encoding="utf-8") as f:
        for line, fields in enumerate(csv.reader(f), start=1):
            if line == 1 or not fields:
                continue
            if len(fields) != len(header):
                return f"line {line} has {len(fields)} fields but the header names {len(header)} columns"
            for name, field in zip(header, fields):
                if not _is_number(field):
                    return f"line {line}, column {name!r}: {field!r} is not a number"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
