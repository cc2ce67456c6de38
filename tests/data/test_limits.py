"""data/limits: a stream yields no more than its file can hold; a declared size beyond it is refused before any
read or allocation."""

from __future__ import annotations

import gzip
import io
import zlib

import numpy as np
import pytest

from reglab.data.limits import DEFLATE_RATIO, BoundedReader, bounded_bytes, check_npz_member, open_bounded
from reglab.errors import ReglabError


class Counting(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.asked = []

    def read(self, n=-1):
        self.asked.append(n)
        return super().read(n)


def test_deflate_never_inflates_beyond_the_ratio():
    for data in (bytes(1 << 22), b"ab" * (1 << 20)):
        assert len(data) <= DEFLATE_RATIO * len(zlib.compress(data, 9))


def test_a_strict_reader_refuses_a_declared_size_before_reading_it():
    f = Counting(bytes(100))
    reader = BoundedReader(f, 50, "x.pkl", "what the file can hold")
    assert reader.read(30) == bytes(30)
    with pytest.raises(ReglabError, match=r"x.pkl: declares 1.03 kB of data, more than what the file can hold \(50 bytes\)"):
        reader.read(1000)
    assert f.asked == [30]  # the large read never reached the file


def test_a_lenient_reader_stops_at_its_bound():
    reader = BoundedReader(io.BytesIO(bytes(100)), 50, "x", "y", strict=False)
    assert len(reader.read(80)) == 50 and reader.read(10) == b""


def test_the_bound_is_the_file_size_or_the_deflate_ratio_and_the_cap(tmp_path):
    raw = tmp_path / "raw"
    raw.write_bytes(bytes(1000))
    handle, reader, bound = open_bounded(raw, 1 << 20)
    handle.close()
    assert (bound, reader.exact) == (1000, True)
    packed = tmp_path / "packed"
    packed.write_bytes(gzip.compress(bytes(1000)))
    handle, reader, bound = open_bounded(packed, 1 << 30)
    handle.close()
    assert bound == DEFLATE_RATIO * packed.stat().st_size and not reader.exact
    assert bounded_bytes(gzip.compress(bytes(10**6)), 1000, "x")[1] == 1000  # the cap


def test_an_npz_member_declaring_more_than_it_holds_is_refused(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.arange(3))
    with np.load(path) as archive:
        check_npz_member(archive.zip, "X.npy", str(path))
        with pytest.raises(ReglabError, match="reglab reads"):
            check_npz_member(archive.zip, "X.npy", str(path), cap=10)
