"""LeCun's IDX format (the files MNIST ships in), read and checked.

An IDX file is a 4-byte magic number ``0x00 0x00 T D`` (``T = 0x08``: unsigned
bytes; ``D``: the number of dimensions), then ``D`` big-endian uint32 sizes,
then the bytes of the array in C order. The file may be gzip-compressed;
compression is recognised by its content (``1f 8b``), not by the file's name.

Files are read as streams with a bound (:mod:`reglab.data.limits`): the header first, checked against the
format and, for MNIST's canonical files, their known sizes; then exactly the bytes it declares, which the
file must be able to hold. A decompression bomb is refused after its header, not after inflating it.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reglab.data.limits import MAX_IDX_BYTES, BoundedReader, bounded_bytes, open_bounded, size_text
from reglab.errors import ReglabError

_UBYTE = 0x08
_CHUNK = 1 << 20


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

    @property
    def size(self) -> int | None:
        """Bytes of the whole (uncompressed) file where the count is fixed: header and data."""
        if self.count is None:
            return None
        items = 1
        for n in self.item_shape:
            items *= n
        return 4 + 4 * self.ndim + self.count * items

    def relaxed(self) -> IdxSpec:
        """The same layout with any count and no checksum (for files other than the canonical ones)."""
        return IdxSpec(self.ndim, self.item_shape)


def decode_idx(raw: bytes, spec: IdxSpec, what: str) -> np.ndarray:
    """Decode the IDX content ``raw`` (gzip or not; a download in memory) and check it against ``spec``.

    As :func:`read_stream`, reading at most what ``raw`` can hold and :data:`~reglab.data.limits.MAX_IDX_BYTES`.
    """
    f, _ = bounded_bytes(raw, MAX_IDX_BYTES, what, strict=False)
    return read_stream(f, spec, what)


def read_stream(f: BoundedReader, spec: IdxSpec, what: str) -> np.ndarray:
    """Read IDX content from ``f`` and check it against ``spec``, the header before any data.

    The header is read and checked first (magic number, item shape, the count where ``spec`` fixes it, as
    for MNIST's canonical files); only then is the array allocated, of the size the header declares, which
    ``f`` refuses if the file cannot hold it. The data is read into it, and one more byte is asked for: a
    file with bytes after the data is refused without inflating the rest.

    Parameters
    ----------
    f : BoundedReader
        The (decompressed) content, bounded (:mod:`reglab.data.limits`).
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
        number, wrong sizes or count, a size the file cannot hold, truncated or
        overlong data, sha256 mismatch.
    """
    try:
        return _read(f, spec, what)
    except (OSError, EOFError, zlib.error) as exc:  # gzip's own errors: corrupt or truncated compressed data
        raise ReglabError(f"{what}: corrupt or truncated gzip data ({exc})") from None


def _read(f: BoundedReader, spec: IdxSpec, what: str) -> np.ndarray:
    header_len = 4 + 4 * spec.ndim
    digest = hashlib.sha256()
    head = _read_exactly(f, 4, digest)
    if len(head) < 4:
        raise ReglabError(f"{what}: truncated: {len(head)} bytes, shorter than the {header_len}-byte IDX header")
    magic = int.from_bytes(head, "big")
    if magic != spec.magic:
        raise ReglabError(f"{what}: bad magic number 0x{magic:08x}, expected 0x{spec.magic:08x} (not an IDX file of "
                          f"{spec.ndim}-D unsigned bytes)")
    dims = _read_exactly(f, 4 * spec.ndim, digest)
    if len(dims) < 4 * spec.ndim:
        raise ReglabError(f"{what}: truncated: {4 + len(dims)} bytes, shorter than the {header_len}-byte IDX header")
    shape = tuple(int.from_bytes(dims[4 * k: 4 * k + 4], "big") for k in range(spec.ndim))
    if shape[1:] != spec.item_shape:
        raise ReglabError(f"{what}: items of shape {shape[1:]}, expected {spec.item_shape}")
    if spec.count is not None and shape[0] != spec.count:
        raise ReglabError(f"{what}: header says {shape[0]} items, expected {spec.count}")
    expected = int(np.prod(shape, dtype=object))
    if expected > f.left and f.exact:
        raise ReglabError(f"{what}: truncated: header promises {expected} data bytes, file has {f.left}")
    if expected > f.left:
        raise ReglabError(f"{what}: header declares {size_text(expected)} of data, more than {f.why} "
                          f"({size_text(f.bound)})")
    data = np.empty(expected, np.uint8)
    got = 0
    while got < expected:
        chunk = f.read(min(_CHUNK, expected - got))
        if not chunk:
            break
        data[got: got + len(chunk)] = np.frombuffer(chunk, np.uint8)
        digest.update(chunk)
        got += len(chunk)
    if got < expected:
        raise ReglabError(f"{what}: truncated: header promises {expected} data bytes, file has {got}")
    extra = len(f.f.read(_CHUNK + 1))  # past the bound too, but never more than a chunk
    if extra:
        more = f"{extra}" if extra <= _CHUNK else f"more than {_CHUNK}"
        raise ReglabError(f"{what}: {more} bytes after the {expected} data bytes the header promises")
    if spec.sha256 is not None and digest.hexdigest() != spec.sha256:
        raise ReglabError(f"{what}: sha256 of the decompressed content is {digest.hexdigest()}, expected {spec.sha256} "
                          "(corrupt, or not the canonical file)")
    data.flags.writeable = False
    return data.reshape(shape)


def _read_exactly(f: BoundedReader, n: int, digest) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the file), added to ``digest``."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    data = b"".join(parts)
    digest.update(data)
    return data


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
        raw, f, _ = open_bounded(Path(resolved), MAX_IDX_BYTES, strict=False)
    except OSError as exc:
        raise ReglabError(f"{resolved}: cannot read ({exc.strerror})") from None
    with raw:
        return read_stream(f, spec, resolved)
