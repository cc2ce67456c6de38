"""Download MNIST's four files from public mirrors, checked before anything is written.

Each file is downloaded whole into memory (about 10 MB; a mirror that
declares or sends more than the uncompressed file's size is refused as it
arrives), its content read with a bound (the header first: a decompression
bomb is refused after it) and checked against the canonical sizes and sha256
(:data:`reglab.data.mnist.MNIST_FILES`), and only then written: to a temporary
file in the same directory, moved into place with :func:`os.replace`. An
interrupted or corrupt download therefore leaves no file under a name that the
loader reads. Files already present and valid are left alone, and the network
is not touched for them.
"""

from __future__ import annotations

import gzip
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reglab.data.idx import IdxSpec, decode_idx
from reglab.data.limits import MAX_IDX_BYTES
from reglab.data.mnist import MNIST_FILES, mnist_dir, mnist_status
from reglab.errors import ReglabError, RunFailure
from reglab.io import write_bytes

#: Tried in this order; each holds ``NAME.gz`` for the four names.
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: ``progress(file_name, bytes_done, bytes_total_or_None)``, called as bytes arrive.
ProgressHook = Callable[[str, int, int | None], None]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_mnist` did with one file.

    Attributes
    ----------
    file : str
        The file's name in the MNIST folder.
    status : str
        ``"present"`` (valid already, skipped), ``"downloaded"``, or
        ``"replaced"`` (a bad file was there; the download now takes its place).
    source : str
        The path found, or the URL downloaded.
    """

    file: str
    status: str
    source: str


def fetch_mnist(
    data_dir: str | Path | None = None,
    mirrors: Sequence[str] | None = None,
    *,
    progress: ProgressHook | None = None,
    timeout: float = 30.0,
) -> list[FetchResult]:
    """Make sure ``<data dir>/mnist/`` holds the four valid MNIST files.

    Parameters
    ----------
    data_dir : str, Path or None
        See :func:`reglab.data.resolve_data_dir`.
    mirrors : sequence of str or None
        Base URLs tried in order for each file, *instead of*
        :data:`DEFAULT_MIRRORS` when given.
    progress : ProgressHook or None
        Told about each download's bytes; the library itself shows nothing.
    timeout : float
        Seconds to wait on a silent connection before trying the next mirror.

    Raises
    ------
    ReglabError
        The folder cannot be written, or (a :class:`~reglab.errors.RunFailure`) no
        mirror served a valid copy of a file (the message lists what each mirror did).
    """
    directory = mnist_dir(data_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReglabError(f"cannot create {directory} ({exc.strerror})") from None
    results = []
    for status in mnist_status(data_dir):
        if status.state == "OK" and status.path is not None:
            results.append(FetchResult(status.path.name, "present", str(status.path)))
            continue
        content, url = _download_verified(status.name, MNIST_FILES[status.name], mirrors or DEFAULT_MIRRORS, progress,
                                          timeout)
        target = directory / f"{status.name}.gz"
        _write_atomically(target, content)
        results.append(FetchResult(target.name, "replaced" if status.state == "bad" else "downloaded", url))
    return results


def _download_verified(
    name: str, spec: IdxSpec, mirrors: Sequence[str], progress: ProgressHook | None, timeout: float
) -> tuple[bytes, str]:
    """Return gzip-compressed content of ``NAME`` that passed the checks, and the URL it came from."""
    failures = []
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{name}.gz"
        try:
            raw = _download(url, f"{name}.gz", progress, timeout, _most_bytes(spec))
            decode_idx(raw, spec, url)
        except ReglabError as exc:
            failures.append(str(exc))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f"{url}: {_reason(exc)}")
        else:
            return (raw if raw.startswith(b"\x1f\x8b") else gzip.compress(raw)), url
    raise RunFailure(f"could not fetch {name}.gz from any mirror: {'; '.join(failures)}")


def _most_bytes(spec: IdxSpec) -> int:
    """The most bytes a mirror may send for a file of ``spec``: the file uncompressed, and a little (gzip's
    header, and data that does not compress); its content is then read with a bound (:func:`decode_idx`)."""
    return (spec.size or MAX_IDX_BYTES) + (1 << 16)


def _download(url: str, label: str, progress: ProgressHook | None, timeout: float, most: int) -> bytes:
    """The body at ``url``; refused (``ValueError``) once it passes ``most`` bytes, or declares more."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > most:
            raise ValueError(f"it declares {total:,} bytes, more than the file can take ({most:,})")
        data = bytearray()
        if progress is not None:
            progress(label, 0, total)
        while chunk := response.read(_CHUNK):
            data += chunk
            if len(data) > most:
                raise ValueError(f"it sent more than {most:,} bytes, more than the file can take")
            if progress is not None:
                progress(label, len(data), total)
    if total is not None and len(data) != total:
        raise ConnectionError(f"connection closed after {len(data)} of {total} bytes")
    return bytes(data)


def _reason(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return f"{type(exc).__name__}: {exc}"


def _write_atomically(target: Path, content: bytes) -> None:
    """Write ``content`` to a temporary file beside ``target``, then rename it into place."""
    try:
        write_bytes(target, content)
    except OSError as exc:
        raise ReglabError(f"{target}: cannot write ({exc.strerror})") from None
