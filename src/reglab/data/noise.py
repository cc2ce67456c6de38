r"""Label noise: a fixed number of training labels replaced by wrong classes, the knob of Zhang et al. 2017.

:func:`corrupt_labels` picks exactly ``k = ⌊p·n + ½⌋`` of the ``n`` labels, without replacement, and gives
each a class drawn uniformly from the ``K − 1`` others: exactly ``k`` labels change, each to a wrong class
("symmetric" noise at rate ``p``). Zhang et al.'s corruption ``p_Z`` draws the new label uniformly from all
``K`` classes, so that a fraction ``1/K`` of the corrupted labels stay right: it is this noise at rate
``p = p_Z (K − 1)/K`` (their "random labels", ``p_Z = 1``, is ``p = 0.9`` for ten classes). The draw comes
from its own generator, so the same seed corrupts the same labels; :class:`LabelNoise` records which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reglab.errors import ReglabError


@dataclass(frozen=True, eq=False)
class LabelNoise:
    """Which labels changed: ``indices`` (k,) ascending, their ``original`` and ``noisy`` classes (k,)."""

    fraction: float
    n: int
    indices: np.ndarray
    original: np.ndarray
    noisy: np.ndarray

    def rows(self) -> list[tuple[int, int, int]]:
        """``(index, label, noisy label)`` per changed label (the run folder's ``label_noise.csv``)."""
        return list(zip(self.indices.tolist(), self.original.tolist(), self.noisy.tolist()))


def noisy_count(fraction: float, n: int) -> int:
    """``⌊p·n + ½⌋``: how many of ``n`` labels a fraction ``p`` changes (halves round up)."""
    return int(np.floor(fraction * n + 0.5))


def corrupt_labels(y: np.ndarray, fraction: float, n_classes: int, g: np.random.Generator) -> tuple[np.ndarray, LabelNoise]:
    """``y`` with exactly ``⌊p·n + ½⌋`` labels changed to a class drawn uniformly from the other ``K − 1``.

    Parameters
    ----------
    y : np.ndarray
        ``(n,)`` int64 labels in ``0..K−1`` (not changed: the result is a copy).
    fraction : float
        ``p`` in ``[0, 1]``.
    n_classes : int
        ``K ≥ 2``.
    g : np.random.Generator
        Where the choice of labels and their new classes come from.

    Returns
    -------
    (np.ndarray, LabelNoise)
        The noisy labels ``(n,)`` and the record of what changed.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ReglabError(f"--label-noise must lie in [0, 1], got {fraction}")
    if n_classes < 2 and fraction > 0:
        raise ReglabError("--label-noise needs at least two classes to make a label wrong")
    n = len(y)
    k = noisy_count(fraction, n)
    indices = np.sort(g.choice(n, size=k, replace=False)).astype(np.int64)
    original = y[indices].copy()
    offsets = g.integers(1, n_classes, size=k) if k else np.zeros(0, dtype=np.int64)
    noisy = (original + offsets) % n_classes  # uniform over the K − 1 others
    out = y.copy()
    out[indices] = noisy
    return out, LabelNoise(float(fraction), n, indices, original, noisy.astype(np.int64))
