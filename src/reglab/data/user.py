"""A user's own data: ``.npz`` (arrays ``X`` and ``y``), ``.csv`` (a label column), or the book's pickle.

Labels may be text (``"setosa"``) or any integers (``1, 2, 3``; ``-1, 1``): they are mapped to the
classes ``0..K-1`` in sorted order, and the mapping is kept (:attr:`Dataset.classes`, written to the run
folder). Features whose scales differ by more than :data:`SCALE_RATIO` get a note suggesting
``--standardize``; :func:`standardize` fits the standardization on the training split only.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from reglab.data.book_pickle import load_book_pickle
from reglab.data.checks import check_arrays, check_split, count_classes, split_arrays
from reglab.data.dataset import Dataset, Split, Standardization
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
    standardize: bool = False,
) -> Dataset:
    """Load a data file, choosing the reader by its name's ending.

    ``.npz``
        Arrays ``X`` (``(N, d)``, or ``(N, ...)``: flattened) and ``y``
        (``(N,)`` integer or text labels). Read with ``allow_pickle=False``.
    ``.csv``
        A header row naming the columns, then one example per line;
        ``target`` names the label column (numbers or text), every other
        column is a feature (numbers).
    ``.pkl.gz`` / ``.pkl``
        The book's ``mnist.pkl.gz`` (see :mod:`reglab.data.book_pickle`); it
        carries its own split, so ``split`` and ``seed`` are not used.

    ``.npz`` and ``.csv`` data are shuffled with ``default_rng(seed)`` and cut
    by ``split = (train, validation, test)`` fractions (see
    :func:`reglab.data.checks.split_arrays`). Labels are mapped to classes by
    :func:`encode_labels`. Unless ``standardize`` (the caller standardizes), a
    :attr:`Dataset.note` warns when the features' scales differ by more than
    :data:`SCALE_RATIO` times.

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
    names: list[str] | None = None
    if suffix == ".npz":
        X, labels = _read_npz(path)
        first_line = None
    else:
        assert target is not None  # checked above: a .csv names its label column
        X, labels, names = _read_csv(path, target)
        first_line = 2
    y, classes = encode_labels(labels, what, first_line=first_line)
    X, y = check_arrays(X, y, what, first_line=first_line, columns=names)
    n_classes = count_classes(y, what)
    train, validation, test = split_arrays(X, y, split, seed, what)
    note = None if standardize else scale_note(train.X, what, names)
    return Dataset(path.name, train, validation, test, n_classes=n_classes, source=what, note=note, classes=classes)


def encode_labels(y, what: str, *, first_line: int | None = None) -> tuple[np.ndarray, tuple | None]:
    """Labels as classes ``0..K-1``, and the original label of each class (``None`` if they were ``0..K-1``).

    Text labels and integer labels other than ``0..K-1`` (from 1, with gaps, negative) are mapped to
    their rank among the distinct labels (``sorted``: ``["setosa", "versicolor", "virginica"]``,
    ``[-1, 1]``). Labels that are neither text nor integer-valued numbers are returned as they are, for
    :func:`reglab.data.checks.check_arrays` to refuse with the row that is wrong.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) == 0:
        return y, None
    if y.dtype.kind in "US":
        labels = np.char.strip(y.astype(str))
        empty = np.flatnonzero(labels == "")
        if len(empty):
            row = f"line {empty[0] + first_line}" if first_line is not None else f"row {empty[0]}"
            raise ReglabError(f"{what}: an empty label at {row}")
        classes, codes = np.unique(labels, return_inverse=True)
        return codes.astype(np.int64), tuple(str(c) for c in classes)
    if y.dtype.kind not in "biuf" or not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
        return y, None
    classes, codes = np.unique(y.astype(np.int64), return_inverse=True)
    if np.array_equal(classes, np.arange(len(classes))):
        return y, None
    return codes.astype(np.int64), tuple(int(c) for c in classes)


#: Features whose standard deviations differ by more than this factor get a note suggesting ``--standardize``.
SCALE_RATIO = 100.0


def scale_note(X: np.ndarray, what: str, names: list[str] | None = None) -> str | None:
    """A note when the standard deviations of the non-constant features of ``X`` (N, d) differ by more
    than :data:`SCALE_RATIO` times: sigmoid units saturate on the large ones and learn little from the small."""
    sd = np.asarray(X, dtype=np.float64).std(axis=0)
    varying = np.flatnonzero(sd > 0)
    if len(varying) < 2:
        return None
    hi, lo = varying[np.argmax(sd[varying])], varying[np.argmin(sd[varying])]
    ratio = sd[hi] / sd[lo]
    if ratio <= SCALE_RATIO:
        return None

    def name(j: int) -> str:
        return repr(names[j]) if names is not None else str(j)

    return (f"{what}: the features' scales differ by {ratio:,.0f}× (standard deviation {sd[hi]:.3g} for feature "
            f"{name(hi)}, {sd[lo]:.3g} for feature {name(lo)}); the network learns poorly from such data: "
            "add --standardize (fitted on the training split)")


def standardize(ds: Dataset) -> Dataset:
    """``ds`` with every split standardized by the mean and standard deviation of its training split
    (:class:`~reglab.data.dataset.Standardization`, kept as :attr:`Dataset.standardization`)."""
    if ds.standardization is not None:
        return ds
    s = Standardization.fit(ds.train.X)

    def apply(split: Split) -> Split:
        return Split(s.apply(split.X), split.y)

    return replace(ds, train=apply(ds.train), validation=apply(ds.validation), test=apply(ds.test), standardization=s)


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
    """Features (numbers), the label column (numbers where all are, else text) and the feature names."""
    header = _read_header(path)
    if target not in header:
        if all(_is_number(field) for field in header):
            raise ReglabError(f"{path}: the first line looks like data; a header row naming the columns is required")
        raise ReglabError(f"{path}: no column {target!r} in the header (columns: {', '.join(header)})")
    if header.count(target) > 1:
        raise ReglabError(f"{path}: the header names column {target!r} more than once")
    if len(header) < 2:
        raise ReglabError(f"{path}: no feature columns besides {target!r}")
    column = header.index(target)
    features = [j for j in range(len(header)) if j != column]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            values = np.loadtxt(path, delimiter=",", skiprows=1, quotechar='"', ndmin=2, encoding="utf-8",
                                usecols=features)
    except ValueError as exc:
        raise ReglabError(f"{path}: {_first_bad_value(path, header, column) or exc}") from None
    if values.size == 0:
        raise ReglabError(f"{path}: no data rows after the header")
    labels = _read_column(path, column, len(header))
    if len(labels) != len(values):
        raise ReglabError(f"{path}: {_first_bad_value(path, header, column) or 'rows of unequal length'}")
    numbers = [_number(v) for v in labels]
    y = np.array(numbers) if all(v is not None for v in numbers) else np.array(labels)
    return values, y, [header[j] for j in features]


def _read_column(path: Path, column: int, width: int) -> list[str]:
    """Column ``column`` of every data row, as text (rows of another length are an error, named by line)."""
    out = []
    with path.open(newline="", encoding="utf-8") as f:
        for line, fields in enumerate(csv.reader(f), start=1):
            if line == 1 or not fields:
                continue
            if len(fields) != width:
                raise ReglabError(f"{path}: line {line} has {len(fields)} fields but the header names {width} columns")
            out.append(fields[column])
    return out


def _read_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReglabError(f"{path}: cannot read as CSV text ({exc})") from None
    if not header:
        raise ReglabError(f"{path}: empty file; expected a header row naming the columns")
    return [field.strip() for field in header]


def _first_bad_value(path: Path, header: list[str], target: int) -> str | None:
    """Find the first line whose features are not all numbers, for an error message worth reading."""
    with path.open(newline="", encoding="utf-8") as f:
        for line, fields in enumerate(csv.reader(f), start=1):
            if line == 1 or not fields:
                continue
            if len(fields) != len(header):
                return f"line {line} has {len(fields)} fields but the header names {len(header)} columns"
            for j, (name, field) in enumerate(zip(header, fields)):
                if j != target and not _is_number(field):
                    return f"line {line}, column {name!r}: {field!r} is not a number"
    return None


def _is_number(text: str) -> bool:
    return _number(text) is not None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
