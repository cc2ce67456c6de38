"""LeCun's IDX format (the files MNIST ships in), read and checked.

An IDX file is a 4-byte magic number ``0x00 0x00 T D`` (``T = 0x08``: unsigned
bytes; ``D``: the number of dimensions), then ``D`` big-endian uint32 sizes,
then the bytes of the array in C order. The file may be gzip-compressed;
compression is recognised by its content (``1f 8b``), not by the file's name.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reglab.errors import ReglabError

_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class IdxSpec:
    """What an IDX file must hold.

    Attributes
    ----------
    ndim : int
        Number of dimensions (3 for images, 1 for labels); fixes the magic
        number ``0x0000080D``.
    item_shape : tuple of int
        Sizes after the first (``(28, 28)`` for MNIST images, ``()`` for labels).
    count : int or None
        The number of items the first size must equal; None accepts any.
    sha256 : str or None
        sha256 of the decompressed content; None skips the check.
    """

    ndim: int
    item_shape: tuple[int, ...] = ()
    count: int | None = None
    sha256: str | None = None

    @property
    def magic(self) -> int:
        return (_UBYTE << 8) | self.ndim

    def relaxed(self) -> IdxSpec:
        """The same layout with any count and no checksum (for files other than the canonical ones)."""
        return IdxSpec(self.ndim, self.item_shape)


def decompress(raw: bytes, what: str) -> bytes:
    """Return ``raw`` gunzipped if it is gzip data, else unchanged; ``what`` names it in errors."""
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ReglabError(f"{what}: corrupt or truncated gzip data ({exc})") from None


def decode_idx(raw: bytes, spec: IdxSpec, what: str) -> np.ndarray:
    """Decode the IDX content ``raw`` (gzip or not) and check it against ``spec``.

    Parameters
    ----------
    raw : bytes
        The file's bytes.
    spec : IdxSpec
        Magic number, sizes, count and checksum to insist on.
    what : str
        Names the file (a path or URL) in error messages.

    Returns
    -------
    np.ndarray
        uint8, read-only, shape ``(count, *item_shape)``.

    Raises
    ------
    ReglabError
        One line naming ``what`` and the problem: corrupt gzip, bad magic
        number, wrong sizes or count, truncated or overlong data, sha256
        mismatch.
    """
    content = decompress(raw, what)
    header_len = 4 + 4 * spec.ndim
    if len(content) < header_len:
        raise ReglabError(f"{what}: truncated: {len(content)} bytes, shorter than the {header_len}-byte IDX header")
    magic = int.from_bytes(content[:4], "big")
    if magic != spec.magic:
        raise ReglabError(f"{what}: bad magic number 0x{magic:08x}, expected 0x{spec.magic:08x} (not an IDX file of "
                          f"{spec.ndim}-D unsigned bytes)")
    shape = tuple(int(s) for s in np.frombuffer(content, ">u4", spec.ndim, offset=4))
    if shape[1:] != spec.item_shape:
        raise ReglabError(f"{what}: items of shape {shape[1:]}, expected {spec.item_shape}")
    if spec.count is not None and shape[0] != spec.count:
        raise ReglabError(f"{what}: header says {shape[0]} items, expected {spec.count}")
    expected, actual = int(np.prod(shape)), len(content) - header_len
    if actual < expected:
        raise ReglabError(f"{what}: truncated: header promises {expected} data bytes, file has {actual}")
    if actual > expected:
        raise ReglabError(f"{what}: {actual - expected} bytes after the {expected} data bytes the header promises")
    if spec.sha256 is not None:
        digest = hashlib.sha256(content).hexdigest()
        if digest != spec.sha256:
            raise ReglabError(f"{what}: sha256 of the decompressed content is {digest}, expected {spec.sha256} "
                              "(corrupt, or not the canonical file)")
    return np.frombuffer(content, np.uint8, offset=header_len).reshape(shape)


def read_idx(path: Path, spec: IdxSpec) -> np.ndarray:
    """Read and check the IDX file at ``path`` (see :func:`decode_idx`).

    Decoded arrays are kept per process, keyed by the resolved path, size,
    modification time and inode: a changed file is read and checked again.
    The arrays are read-only, so no caller can change what another one gets.
    """
    try:
        st = path.stat()
    except OSError as exc:
        raise ReglabError(f"{path}: cannot read ({exc.strerror})") from None
    return _read_idx_cached(str(path.resolve()), (st.st_size, st.st_mtime_ns, st.st_ino), spec)


@functools.lru_cache(maxsize=8)
def _read_idx_cached(resolved: str, stamp: tuple[int, int, int], spec: IdxSpec) -> np.ndarray:
    try:
        raw = Path(resolved).read_bytes()
    except OSError as exc:
        raise ReglabError(f"{resolved}: cannot read ({exc.strerror})") from None
    return decode_idx(raw, spec, resolved)
