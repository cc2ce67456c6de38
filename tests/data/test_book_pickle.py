"""The book's mnist.pkl.gz: numpy arrays load, anything else is refused before it runs."""

from __future__ import annotations

import builtins
import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from reglab.data import load_dataset
from reglab.errors import ReglabError


def book_parts(rng=None):
    """Three (X, y) pairs shaped like the book's: float32 pixels in [0, 1), int64 labels."""
    rng = rng or np.random.default_rng(0)
    return tuple(
        (rng.integers(0, 256, (n, 784)).astype(np.float32) / 256, np.arange(n, dtype=np.int64) % 10)
        for n in (50, 20, 10)
    )


class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` (BINSTRING), as the book's Python 2 pickle has them."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes_as_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes_as_py2_str


def py2_style(obj) -> bytes:
    import io

    f = io.BytesIO()
    Py2Pickler(f, protocol=2).dump(obj)
    # Python 2's numpy named its module numpy.core, not numpy._core
    return f.getvalue().replace(b"cnumpy._core.", b"cnumpy.core.")


def write(path, payload: bytes, gz: bool = True):
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickles_of_arrays_load_as_split_in_the_file(tmp_path, protocol):
    parts = book_parts()
    path = write(tmp_path / "mnist.pkl.gz", pickle.dumps(parts, protocol=protocol))
    data = load_dataset(str(path), split=(0.5, 0.25, 0.25), seed=9)  # the file's own split wins
    for split, (X, y) in zip((data.train, data.validation, data.test), parts):
        np.testing.assert_array_equal(split.X, X)
        np.testing.assert_array_equal(split.y, y)
    assert (data.name, data.n_classes, data.n_features, data.source) == ("mnist.pkl.gz", 10, 784, str(path))


def test_a_python2_pickle_loads(tmp_path):
    payload = py2_style(book_parts())
    assert b"cnumpy.core.multiarray\n_reconstruct" in payload and b"_codecs" not in payload
    data = load_dataset(write(tmp_path / "mnist.pkl.gz", payload))
    np.testing.assert_array_equal(data.test.X, book_parts()[2][0])


def test_an_uncompressed_pickle_loads(tmp_path):
    data = load_dataset(write(tmp_path / "book.pkl", pickle.dumps(book_parts()), gz=False))
    assert len(data.train) == 50


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Evaluates:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (builtins.eval, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize("evil", [RunsACommand, Evaluates])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_a_malicious_pickle_is_refused_unrun(tmp_path, evil, protocol):
    marker = tmp_path / "pwned"
    ((X, y), val, test) = book_parts()
    payload = pickle.dumps(((X, evil(marker)), val, test), protocol=protocol)
    path = write(tmp_path / "mnist.pkl.gz", payload)
    with pytest.raises(ReglabError, match=r"mnist.pkl.gz: refusing to load "
                                           "(posix.system|builtins.eval|__builtin__.eval): only numpy arrays"):
        load_dataset(path)
    assert not marker.exists()


def test_codecs_encode_is_admitted_for_latin1_only(tmp_path):
    payload = pickle.dumps(book_parts(), protocol=2)  # Python 3 writes bytes as _codecs.encode(text, "latin1")
    assert b"_codecs\nencode" in payload
    forged = payload.replace(b"X\x06\x00\x00\x00latin1", b"X\x05\x00\x00\x00rot13")  # BINUNICODE: length, text
    path = write(tmp_path / "odd.pkl.gz", forged)
    with pytest.raises(ReglabError, match="refusing _codecs.encode with encoding 'rot13'"):
        load_dataset(path)


def test_a_pickle_of_the_wrong_shape(tmp_path):
    path = write(tmp_path / "mnist.pkl.gz", pickle.dumps((np.zeros(3), np.zeros(3))))
    with pytest.raises(ReglabError, match=r"expected \(\(train_X, train_y\), \(val_X, val_y\), \(test_X, test_y\)\)"):
        load_dataset(path)


def test_parts_with_different_widths(tmp_path):
    (train, val, (X, y)) = book_parts()
    path = write(tmp_path / "mnist.pkl.gz", pickle.dumps((train, val, (X[:, :10], y))))
    with pytest.raises(ReglabError, match=r"different numbers of features \[10, 784\]"):
        load_dataset(path)


def test_bad_values_in_a_part_are_named(tmp_path):
    (train, (X, y), test) = book_parts()
    path = write(tmp_path / "mnist.pkl.gz", pickle.dumps((train, (X, y + 0.5), test)))
    with pytest.raises(ReglabError, match=r"\(validation part\): labels must be integers"):
        load_dataset(path)


def test_a_damaged_pickle(tmp_path):
    path = write(tmp_path / "mnist.pkl.gz", pickle.dumps(book_parts())[:500])
    with pytest.raises(ReglabError, match="mnist.pkl.gz: not a readable pickle of numpy arrays"):
        load_dataset(path)
