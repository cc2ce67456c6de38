"""Hypothesis strategies for the inputs of every command: flag values, configuration JSON, data files,
path names."""

from __future__ import annotations

import gzip
import io
import pickle
import struct

import numpy as np
from hypothesis import strategies as st

#: Pieces of rich console markup and of terminal trouble, which must print as themselves.
MARKUP = ["[/]", "[bold red]", "[blink]", "[link=http://x]", "[/bold]", "[", "]", "\\[", "[red]x[/red]", "$(touch x)",
          ";", "'", '"', " ", "\t", "é", "λ", "漢", "😀", "\u202e", "\n"]

markup_text = st.lists(st.one_of(st.sampled_from(MARKUP), st.text(min_size=1, max_size=4)), min_size=1,
                       max_size=6).map("".join)

#: A file or folder name (one path component): markup, spaces, unicode and newlines, never "/" or NUL.
path_names = markup_text.map(lambda s: s.replace("/", "_").replace("\0", "_")).filter(
    lambda s: s not in (".", "..") and s.strip() != "" and len(s.encode()) < 200)

#: Numbers at and beyond every edge, written as a user might.
number_words = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["0", "-0", "-1", "1e309", "-1e309", "nan", "inf", "-inf", "1e-320", "2**63", "9223372036854775808",
                     "1e9", "0x10", "1_000", "", " ", "abc", "1,2", "1:2:3", "1e-4:1e2:1000000", "0:1:5", "[/]"]),
)

#: JSON values of every kind.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**66), 2**66) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def config_objects(field_names: list[str]):
    """JSON objects for ``--config``: known fields with values of any type, and unknown keys."""
    keys = st.one_of(st.sampled_from(field_names), st.text(min_size=1, max_size=8))
    return st.dictionaries(keys, json_values, max_size=4)


config_documents = st.one_of(json_values, st.binary(max_size=40))  # any JSON at the top level, or not JSON


# -- data files ------------------------------------------------------------------------------------
def _npz(X, y) -> bytes:
    f = io.BytesIO()
    np.savez(f, X=X, y=y)
    return f.getvalue()


def valid_npz() -> bytes:
    rng = np.random.default_rng(0)
    return _npz(rng.normal(size=(30, 3)), np.arange(30) % 3)


def valid_csv() -> bytes:
    rows = ["a,b,label"] + [f"{i % 7}.5,{i},{i % 2}" for i in range(20)]
    return ("\n".join(rows) + "\n").encode()


def valid_pickle() -> bytes:
    rng = np.random.default_rng(0)
    parts = tuple((rng.random((n, 4)).astype(np.float32), np.arange(n, dtype=np.int64) % 2) for n in (20, 6, 6))
    return gzip.compress(pickle.dumps(parts, protocol=2))


def idx_bytes(ndim: int, shape: tuple[int, ...], data: bytes) -> bytes:
    return bytes([0, 0, 8, ndim]) + b"".join(struct.pack(">I", n) for n in shape) + data


def mutations(valid: bytes):
    """``valid`` cut, extended, or with bytes overwritten: what a damaged or crafted file looks like."""
    def mutate(draw_ops):
        data = bytearray(valid)
        for kind, pos, value in draw_ops:
            pos = pos % (len(data) + 1)
            if kind == "set" and data:
                data[pos % len(data)] = value
            elif kind == "cut":
                data = data[:pos]
            else:
                data[pos:pos] = bytes([value]) * 3
        return bytes(data)

    op = st.tuples(st.sampled_from(["set", "cut", "insert"]), st.integers(0, 1 << 20), st.integers(0, 255))
    return st.lists(op, min_size=1, max_size=4).map(mutate)


def data_files(kind: str):
    """Bytes of a ``kind`` file (``npz``, ``csv``, ``pkl.gz``): damaged valid files and random bytes."""
    valid = {"npz": valid_npz, "csv": valid_csv, "pkl.gz": valid_pickle}[kind]()
    return st.one_of(mutations(valid), st.binary(max_size=300), st.just(valid))


csv_texts = st.lists(st.lists(st.one_of(number_words, markup_text), min_size=1, max_size=4), min_size=1,
                     max_size=5).map(lambda rows: "\n".join(",".join(r) for r in rows) + "\n")
