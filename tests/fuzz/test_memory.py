"""A small file never takes the machine's memory: bombs and oversized declarations, read by ``reglab data show``
and ``reglab data fetch`` in a child process whose address space is capped (``RLIMIT_AS``), so that a regression
fails here instead of swapping the machine."""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import resource
import struct
import subprocess
import sys
import threading
import zipfile
import zlib

import numpy as np
import pytest

from reglab.data.mnist import MNIST_FILES
from tests.fuzz.harness import ENV, ROOT, Outcome, assert_clean_failure
from tests.fuzz.strategies import idx_bytes

#: The child's address space: about 0.4 GB is numpy, rich and reglab's data layer; the rest is all a file may use.
LIMIT = 1 << 30

CHILD = """
import contextlib, io, json, sys
from reglab.cli.main import main
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, err.getvalue()])
print(json.dumps(results))
"""


def run_limited(commands: list[list[str]], limit: int = LIMIT) -> list[Outcome]:
    """Run ``reglab`` commands in one child process limited to ``limit`` bytes of address space."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**ENV, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(commands)], env=env, preexec_fn=cap,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"the child failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return [Outcome(code, "", err) for code, err in json.loads(proc.stdout.splitlines()[-1])]


def gzip_of_zeros(head: bytes, zeros: int, tail: bytes = b"") -> bytes:
    """gzip of ``head``, ``zeros`` zero bytes and ``tail``, compressed as it goes (a bomb: ~1000x)."""
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [z.compress(head)]
    block = bytes(1 << 20)
    for start in range(0, zeros, len(block)):
        out.append(z.compress(block[: min(len(block), zeros - start)]))
    out += [z.compress(tail), z.flush()]
    return b"".join(out)


def pickle_declaring(shape: tuple[int, ...], data: bytes = b"abc") -> bytes:
    """An array pickle (protocol 2) whose state declares ``shape`` of float64 with ``data`` as its bytes."""
    dims = b"".join(b"J" + struct.pack("<i", n) for n in shape)
    return (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
            b"(K\x01(" + dims + b"tcnumpy\ndtype\nX\x02\x00\x00\x00f8K\x00K\x01\x87R\x89C"
            + bytes([len(data)]) + data + b"tb.")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bombs")
    files = {}
    # the case: a pickle of a few hundred bytes declaring an array of 8·10¹² bytes
    files["oversized-shape.pkl.gz"] = (gzip.compress(pickle_declaring((1_000_000, 1_000_000))),
                                       "needs 8 TB, the file gives 3 bytes")
    shape = b"J\x40\x42\x0f\x00J\x40\x42\x0f\x00\x86"  # (10**6, 10**6)
    files["ndarray-called.pkl.gz"] = (gzip.compress(b"\x80\x02cnumpy\nndarray\n" + shape + b"\x85R."),
                                      "refusing to call numpy.ndarray")
    files["reconstruct-shape.pkl.gz"] = (gzip.compress(b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
                                                       + shape + b"C\x01b\x87R."), "a ndarray without its data")
    files["huge-bytes.pkl.gz"] = (gzip.compress(b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"."), "declares 1.1 TB of data")
    files["huge-bytearray.pkl"] = (b"\x80\x05\x96" + struct.pack("<Q", 1 << 40) + b".",
                                   "declares 1.1 TB of data, more than 12 bytes")
    # a gzip bomb: a pickle that would inflate to 700 MB (over the 512 MiB a pickle may take)
    head = b"\x80\x04\x8e" + struct.pack("<Q", 700 << 20)
    files["inflating.pkl.gz"] = (gzip_of_zeros(head, 700 << 20, b"."), "more than reglab reads from such a file")
    # .npz: a member header declaring 8 TB; a member whose directory entry claims 4 GB from a few bytes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
        z.writestr("X.npy", header.getvalue() + bytes(100))
        y = io.BytesIO()
        np.save(y, np.arange(3))
        z.writestr("y.npy", y.getvalue())
    files["shape.npz"] = (buf.getvalue(), "array X.npy declares shape (1000000, 1000000) of float64 (8 TB) but holds")
    forged = bytearray(buf.getvalue())
    at = forged.rfind(b"PK\x01\x02")  # central directory entry of y.npy: its uncompressed size at offset 24
    forged[at + 24: at + 28] = struct.pack("<I", 0xFFFF0000)
    forged_X = forged.find(b"PK\x01\x02")
    forged[forged_X + 24: forged_X + 28] = struct.pack("<I", 0xFFFF0000)
    files["sizes.npz"] = (bytes(forged), "array X.npy declares 4.29 GB, more than its")
    for name, (content, _) in files.items():
        (d / name).write_bytes(content)
    return d, {name: message for name, (_, message) in files.items()}


def test_bombs_and_oversized_declarations_are_refused_in_bounded_memory(bombs):
    folder, expected = bombs
    outcomes = run_limited([["data", "show", str(folder / name)] for name in expected])
    for (name, message), outcome in zip(expected.items(), outcomes):
        error = assert_clean_failure(outcome)
        assert message in error, (name, error)


def idx_bomb(name: str) -> bytes:
    """A canonical-looking MNIST file (its real header) followed by a gigabyte of zeros."""
    spec = MNIST_FILES[name]
    return gzip_of_zeros(idx_bytes(spec.ndim, (spec.count, *spec.item_shape), b""), (1 << 30) + (spec.size or 0))


def test_an_idx_decompression_bomb_is_refused_after_its_header(tmp_path):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(idx_bomb("train-images-idx3-ubyte"))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(1, (10**9,), b"")))
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / f"{name}.gz").write_bytes(gzip.compress(b"junk"))
    [bomb] = run_limited([["data", "show", "mnist", "--data-dir", str(tmp_path / "data")]])
    assert "more than 1048576 bytes after the 47040000 data bytes" in assert_clean_failure(bomb)
    (folder / "train-images-idx3-ubyte.gz").unlink()
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(3, (10**9, 28, 28), b""))  # raw: 16 bytes
    [huge] = run_limited([["data", "show", "mnist", "--data-dir", str(tmp_path / "data")]])
    assert "header says 1000000000 items, expected 60000" in assert_clean_failure(huge)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_data_fetch_from_a_mirror_serving_a_bomb_refuses_it_in_bounded_memory(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in MNIST_FILES:
        (mirror / f"{name}.gz").write_bytes(idx_bomb(name) if "images" in name else gzip.compress(idx_bytes(1, (1,), b"\0")))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(mirror)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setenv("no_proxy", "*")
    try:
        [outcome] = run_limited([["data", "fetch", "mnist", "--quiet", "--data-dir", str(tmp_path / "data"), "--mirror",
                                  f"http://127.0.0.1:{server.server_address[1]}/"]])
    finally:
        server.shutdown()
        server.server_close()
    error = assert_clean_failure(outcome, codes=(1,))  # the input was fine, the download could not be used: 1
    assert "could not fetch train-images-idx3-ubyte.gz" in error and "bytes after the 47040000 data bytes" in error
    assert not list((tmp_path / "data" / "mnist").glob("*.gz"))  # nothing bad written
