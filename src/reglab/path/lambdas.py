r"""The λ sequence of a path, as glmnet lays it out: from ``λ_max`` down to ``λ_max·ε`` in ``k`` log-spaced steps.

.. math::  \lambda_j = \lambda_\max\,\varepsilon^{\,j/(k-1)}, \qquad j = 0 \dots k-1,

``k = 30`` and ``ε = 10⁻⁴`` by default (glmnet's are 100 and 10⁻⁴ for ``n > p``). The values are
rounded to 12 significant digits, so that a sweep over the same λ names the same cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reglab.errors import ReglabError

STEPS, EPS = 30, 1e-4


@dataclass(frozen=True)
class Span:
    """Where a path runs: ``lmbda_max`` (``None``: found by :mod:`~reglab.path.collapse`), ``eps`` and ``steps``."""

    lmbda_max: float | None = None
    eps: float = EPS
    steps: int = STEPS

    def __post_init__(self) -> None:
        if not (isinstance(self.eps, (int, float)) and 0 < self.eps < 1):
            raise ReglabError(f"--eps must lie in (0, 1): the path runs from λ_max down to λ_max·ε; got {self.eps}"
                              + (" (an empty or inverted range)" if isinstance(self.eps, (int, float)) and self.eps >= 1 else ""))
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 2:
            raise ReglabError(f"--steps must be an integer ≥ 2 (a path needs two λ at least), got {self.steps!r}")
        if self.lmbda_max is not None and not (0 < self.lmbda_max < math.inf):
            raise ReglabError(f"--lmbda-max must be a finite number > 0, got {self.lmbda_max}")

    @classmethod
    def parse(cls, text: str) -> Span:
        """``START:STOP:K``: a path from ``λ_max = START`` down to ``STOP`` in ``K`` steps (``START > STOP > 0``)."""
        parts = text.split(":")
        try:
            start, stop, steps = float(parts[0]), float(parts[1]), int(parts[2])
        except (ValueError, IndexError):
            raise ReglabError(f"--lmbda {text}: a path range is START:STOP:STEPS, from λ_max down, e.g. 100:0.01:30") from None
        if len(parts) != 3:
            raise ReglabError(f"--lmbda {text}: a path range is START:STOP:STEPS, from λ_max down, e.g. 100:0.01:30")
        if not (start > 0 and stop > 0 and math.isfinite(start) and math.isfinite(stop)):
            raise ReglabError(f"--lmbda {text}: START and STOP must be finite numbers > 0")
        if start == stop:
            raise ReglabError(f"--lmbda {text}: an empty path range (START = STOP)")
        if start < stop:
            raise ReglabError(f"--lmbda {text}: an inverted path range: it runs from λ_max down, so START > STOP")
        return cls(start, stop / start, steps)

    def sequence(self, lmbda_max: float | None = None) -> np.ndarray:
        """The ``k`` values, descending, from ``lmbda_max`` (or the span's own)."""
        top = self.lmbda_max if lmbda_max is None else lmbda_max
        if top is None:
            raise ReglabError("the path's λ_max is not known yet")
        j = np.arange(self.steps)
        return np.array([float(f"{v:.12g}") for v in top * self.eps ** (j / (self.steps - 1))])
