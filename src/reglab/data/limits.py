r"""Bounds on what a data file may make reglab allocate, checked before allocating.

A small file must not take the machine's memory: a 207-byte pickle declaring an array of 10¹² numbers, a
3 MB gzip that inflates to gigabytes, an ``.npz`` member whose header promises more than the archive holds.
Every reader of untrusted bytes (:mod:`~reglab.data.book_pickle`, :mod:`~reglab.data.idx`, the ``.npz``
reader of :mod:`~reglab.data.user`, downloads in :mod:`~reglab.data.fetch`) goes through this module:

* **what the file can hold**: an uncompressed stream holds at most its size; a gzip (DEFLATE) stream
  at most :data:`DEFLATE_RATIO` times its compressed size (DEFLATE's best case is 258 bytes from a
  2-bit code, 1032:1). A size declared beyond that is a lie, refused before anything is allocated;
* **a cap** per kind of file (:data:`MAX_PICKLE_BYTES`, :data:`MAX_IDX_BYTES`, :data:`MAX_NPZ_BYTES`),
  well above the real data sets (the book's ``mnist.pkl.gz`` inflates to 220 MB, MNIST's largest IDX
  file to 47 MB), so that even a consistent file cannot ask for more;
* **streaming with a bound** (:class:`BoundedReader`): decompressed bytes are read as they are needed and
  counted, and a read that would pass the bound is refused before it happens.
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path
from typing import IO, cast

import numpy as np

from reglab.errors import ReglabError

#: DEFLATE's largest expansion: a compressed byte yields at most 1032 bytes.
DEFLATE_RATIO = 1032
#: The most bytes a pickle (the book's ``mnist.pkl.gz`` and its like) may inflate to: 512 MiB.
MAX_PICKLE_BYTES = 1 << 29
#: The most bytes an IDX file's array may hold: 1 GiB.
MAX_IDX_BYTES = 1 << 30
#: The most bytes an array of an ``.npz`` may hold: 4 GiB.
MAX_NPZ_BYTES = 1 << 32
_GZIP_MAGIC = b"\x1f\x8b"


def size_text(n: float) -> str:
    """``1.2 GB``: a byte count for a message."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover


class BoundedReader(io.RawIOBase):
    """A read-only stream over ``f`` that delivers at most ``bound`` bytes in all.

    ``strict`` (for readers that read what the file declares, such as a pickle's lengths): a read of ``n``
    bytes that would pass the bound raises :class:`ReglabError` before reading: the file declares more than
    it can hold (``why``) and nothing that large is allocated. Otherwise a read stops at the bound, as at the
    end of a file, and the caller checks the sizes it was told against :attr:`left` itself.
    """

    def __init__(self, f: IO[bytes], bound: int, what: str, why: str, strict: bool = True):
        super().__init__()
        self.f, self.left, self.what, self.why, self.strict = f, bound, what, why, strict
        self.bound = bound
        self.exact = False  # whether the bound is the exact size of an uncompressed stream

    def readable(self) -> bool:
        return True

    def _refuse(self, n: int) -> ReglabError:
        return ReglabError(f"{self.what}: declares {size_text(self.bound - self.left + n)} of data, more than {self.why} "
                           f"({size_text(self.bound)})")

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            data = self.f.read(self.left + 1)
            if len(data) > self.left:
                raise self._refuse(len(data))
        else:
            if n > self.left and self.strict:
                raise self._refuse(n)
            data = self.f.read(min(n, self.left))
        self.left -= len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = self.left + 1 if size is None or size < 0 else min(size, self.left + 1)
        line = self.f.readline(limit)
        if len(line) > self.left:
            raise self._refuse(len(line))
        self.left -= len(line)
        return line


def open_bounded(path: Path, cap: int, what: str | None = None, strict: bool = True
                 ) -> tuple[IO[bytes], BoundedReader, int]:
    """Open ``path`` (gzip or not, by its content) as a :class:`BoundedReader` of at most ``min(cap, what the
    file can hold)`` bytes; return the raw file (close it), the reader and that bound."""
    what = what or str(path)
    raw = path.open("rb")
    try:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        holds = DEFLATE_RATIO * size if compressed else size
        bound = min(cap, holds)
        why = ("reglab reads from such a file" if cap <= holds else
               f"{size_text(size)} of {'gzip ' if compressed else ''}file can hold")
        f = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw)
        reader = BoundedReader(f, bound, what, why, strict)
        reader.exact = not compressed and size <= cap
        return raw, reader, bound
    except BaseException:
        raw.close()
        raise


def bounded_bytes(data: bytes, cap: int, what: str, strict: bool = True) -> tuple[BoundedReader, int]:
    """:func:`open_bounded` for bytes in memory (a download)."""
    compressed = data.startswith(_GZIP_MAGIC)
    holds = DEFLATE_RATIO * len(data) if compressed else len(data)
    bound = min(cap, holds)
    why = "reglab reads from such a file" if cap <= holds else f"{size_text(len(data))} of data can hold"
    f = cast(IO[bytes], gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") if compressed else io.BytesIO(data))
    reader = BoundedReader(f, bound, what, why, strict)
    reader.exact = not compressed and len(data) <= cap
    return reader, bound


def check_npz_member(archive: zipfile.ZipFile, name: str, what: str, cap: int = MAX_NPZ_BYTES) -> None:
    """Check that array ``name`` (``X.npy``) of an ``.npz`` can hold what its header declares, within ``cap``,
    before numpy allocates it."""
    info = archive.getinfo(name)
    if info.compress_type == zipfile.ZIP_STORED:
        holds = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        holds = DEFLATE_RATIO * info.compress_size
    else:
        raise ReglabError(f"{what}: array {name} is compressed with method {info.compress_type}; "
                          ".npz files use none or DEFLATE (numpy.savez, numpy.savez_compressed)")
    if info.file_size > min(holds, cap):
        raise ReglabError(f"{what}: array {name} declares {size_text(info.file_size)}, more than "
                          + (f"reglab reads ({size_text(cap)})" if cap < holds else
                             f"its {size_text(info.compress_size)} in the archive can hold"))
    with archive.open(name) as f:
        try:
            version = np.lib.format.read_magic(f)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0)
            shape, _, dtype = header(f)
        except (ValueError, OSError, EOFError) as exc:
            raise ReglabError(f"{what}: array {name} is not a readable .npy ({exc})") from None
    count = 1
    for n in shape:
        count *= int(n)
    declared = count * dtype.itemsize
    if declared > info.file_size:
        raise ReglabError(f"{what}: array {name} declares shape {tuple(shape)} of {dtype} ({size_text(declared)}) but "
                          f"holds {size_text(info.file_size)}")
