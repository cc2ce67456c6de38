"""What the bounded readers cost: reglab's loaders against the unbounded reference read in the same run.

* the book's ``mnist.pkl.gz`` shape (50,000 / 10,000 / 10,000 float32 images of 784 pixels, int64 labels):
  reglab's checked unpickler against ``pickle.load`` of the same gzip stream (no checks, trusts the file);
* MNIST's IDX files (``--data-dir DIR`` holding ``mnist/``): reglab's streamed, header-first reader against
  the whole file decompressed in memory, its sha256 taken and ``numpy.frombuffer`` (what reglab did before).

Each the best of ``--repeat`` runs. Prints seconds and the ratio reglab / reference.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", help="data directory holding mnist/ (the IDX rows are left out without it)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from reglab.data.book_pickle import load_book_pickle
    from reglab.data.idx import _read_idx_cached
    from reglab.data.mnist import MNIST_FILES, find_mnist_file

    rows = []
    rng = np.random.default_rng(0)
    parts = tuple((rng.integers(0, 256, (n, 784)).astype(np.float32) / 256, rng.integers(0, 10, n).astype(np.int64))
                  for n in (50_000, 10_000, 10_000))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mnist.pkl.gz"
        path.write_bytes(gzip.compress(pickle.dumps(parts, protocol=2), compresslevel=1))

        def reference():
            with gzip.open(path, "rb") as f:
                pickle.load(f, encoding="latin1")

        rows.append(("book pickle (220 MB of arrays)", best(lambda: load_book_pickle(path), args.repeat),
                     best(reference, args.repeat)))
    if args.data_dir:
        folder = Path(args.data_dir) / "mnist"
        for name, spec in MNIST_FILES.items():
            file = find_mnist_file(folder, name)
            if file is None:
                continue

            def ours(file=file, spec=spec):
                _read_idx_cached.cache_clear()
                _read_idx_cached(str(file.resolve()), (0, 0, 0), spec)

            def plain(file=file, spec=spec):
                raw = file.read_bytes()
                content = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
                hashlib.sha256(content).hexdigest()
                np.frombuffer(content, np.uint8, offset=4 + 4 * spec.ndim)

            rows.append((f"IDX {name}", best(ours, args.repeat), best(plain, args.repeat)))
    print("| file | reglab (s) | unbounded reference (s) | reglab / reference |")
    print("|---|---|---|---|")
    for what, ours_s, ref_s in rows:
        print(f"| {what} | {ours_s:.3f} | {ref_s:.3f} | {ours_s / ref_s:.2f} |")


if __name__ == "__main__":
    main()
