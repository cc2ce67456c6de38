"""Explicit random streams: every draw in reglab comes from a generator made here, never from global state.

Seeds follow one rule everywhere (``--seed`` of every command, :class:`reglab.config.TrainConfig`, the
split of a user's data file): an integer from 0 to 2**63 − 1 (:func:`check_seed`). Anything else is refused,
never mapped silently onto another seed.
"""

from __future__ import annotations

import numbers
import zlib
from typing import TYPE_CHECKING

import numpy as np

from reglab.errors import ReglabError

if TYPE_CHECKING:
    import torch

#: Seeds are the integers ``0 ≤ seed < SEED_LIMIT``.
SEED_LIMIT = 2**63


def check_seed(seed: object, flag: str = "--seed", count: int = 1) -> int:
    """``seed`` as an ``int`` if it and the ``count - 1`` seeds after it are valid seeds, else a one-line error."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ReglabError(f"{flag} must be an integer from 0 to 2**63-1, got {seed!r}")
    seed = int(seed)
    if seed < 0 or seed + max(count, 1) - 1 >= SEED_LIMIT:
        last = f" (and the {count - 1} seeds after it)" if count > 1 else ""
        raise ReglabError(f"{flag} must be an integer from 0 to 2**63-1{last}, got {seed}")
    return seed


def _stream_key(stream: str | int) -> int:
    return stream if isinstance(stream, int) else zlib.crc32(stream.encode())


def seed_for(seed: int, *stream: str | int) -> int:
    """A 63-bit seed derived from ``seed`` and a stream name, independent across streams."""
    ss = np.random.SeedSequence(entropy=int(seed) & (2**63 - 1), spawn_key=tuple(_stream_key(s) for s in stream))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def generator(seed: int, *stream: str | int) -> torch.Generator:
    """A CPU ``torch.Generator`` for the stream ``(seed, *stream)``."""
    import torch

    g = torch.Generator()
    g.manual_seed(seed_for(seed, *stream))
    return g
