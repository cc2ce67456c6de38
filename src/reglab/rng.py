"""Explicit random streams: every draw in reglab comes from a generator made here, never from global state."""

from __future__ import annotations

import zlib

import numpy as np
import torch


def _stream_key(stream: str | int) -> int:
    return stream if isinstance(stream, int) else zlib.crc32(stream.encode())


def seed_for(seed: int, *stream: str | int) -> int:
    """A 63-bit seed derived from ``seed`` and a stream name, independent across streams."""
    ss = np.random.SeedSequence(entropy=int(seed) & (2**63 - 1), spawn_key=tuple(_stream_key(s) for s in stream))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def generator(seed: int, *stream: str | int) -> torch.Generator:
    """A CPU ``torch.Generator`` for the stream ``(seed, *stream)``."""
    g = torch.Generator()
    g.manual_seed(seed_for(seed, *stream))
    return g
