r"""Dropout (Srivastava et al. 2014), inverted, with every mask a pure function of a counter.

While a model trains, the input of each layer ``l`` (the network's input for ``l = 0``, the activations
of hidden layer ``l`` after it) is multiplied unit by unit by

.. math::  \frac{r_j}{1 - p_l}, \qquad r_j \sim \mathrm{Bernoulli}(1 - p_l),

so that its expectation is unchanged and the whole network is used, unscaled, everywhere else:
evaluation, the monitors, :meth:`~reglab.engine.model.MLP.forward` without masks. Back-propagation
multiplies the error of a dropped input by the same mask. The output layer's outputs are never dropped.

The masks' stream
-----------------
A mask bit is not drawn from a sequential generator: it is a hash of where it is used. With ``h`` the
32-bit integer hash *lowbias32* (C. Wellons, hash-prospector; a bijection of the 32-bit integers), all
arithmetic modulo 2³², ``k`` the model's key (32 bits of ``rng.seed_for(seed, "dropout")``), ``t`` the step
(1, 2, … counted across epochs from the first step of the steps object), ``l`` the layer, ``i`` the
example's position in the mini-batch and ``j`` the unit:

.. math::  s = h\bigl(h(k \oplus h(t)) \oplus h(l)\bigr), \qquad
           r = h\bigl(s \oplus h(i)\bigr), \qquad u = h(r + j), \qquad
           \text{keep } j \iff u \ge \operatorname{round}(p_l\, 2^{32}).

So the compiled kernel (:mod:`reglab.engine.kernel`) and the tensor steps (:func:`masks`) compute the same
masks, bit for bit (tested); each model's masks depend only on its own seed, not on which models train
beside it or on how many threads train them; and a step trained again after
:meth:`~reglab.engine.steps.TensorSteps.restore` draws the same masks again. The keep probability is
``1 − round(p 2³²)/2³²``, within 2⁻³³ of ``1 − p``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from reglab.errors import ReglabError
from reglab.rng import seed_for

MASK32 = 0xFFFFFFFF
_C1, _C2 = 0x7FEB352D, 0x846CA68B  # lowbias32's multipliers


def _mul32(x: Tensor, c: int) -> Tensor:
    """``x·c mod 2³²`` for ``x`` holding 32-bit values in int64, without overflowing int64 (``c`` in two halves)."""
    return (x * (c & 0xFFFF) + (((x * (c >> 16)) & 0xFFFF) << 16)) & MASK32


def hash32(x: Tensor) -> Tensor:
    """*lowbias32*, elementwise on an int64 tensor of values in ``[0, 2³²)`` (the kernel's ``_hash32``)."""
    x = x ^ (x >> 16)
    x = _mul32(x, _C1)
    x = x ^ (x >> 15)
    x = _mul32(x, _C2)
    return x ^ (x >> 16)


class Dropout:
    """Inverted dropout on the input of every layer, for the ``M`` models of a batched MLP.

    Parameters
    ----------
    rates : sequence of float, or sequence of sequences
        ``p_l`` for the input of each layer ``l = 0 … L−1`` (the network's input first, then each hidden
        layer's activations): one row for every model, or one row per model ``(M, L)``. 0 leaves a layer
        whole; ``0 ≤ p < 1``.
    seeds : sequence of int
        One seed (every model draws the same masks, as models share one mini-batch order by default) or
        one per model. A model's masks depend only on its seed.

    Examples
    --------
    ``Dropout([0.2, 0.5, 0.5], seeds=[0, 1])``: for two ``[784, 800, 800, 10]`` networks, 20% of the
    pixels and half of each hidden layer's units dropped, as in Srivastava et al.'s MNIST networks.
    """

    def __init__(self, rates: Sequence[float] | Sequence[Sequence[float]] | np.ndarray, seeds: Sequence[int] = (0,)):
        r = np.array(rates, dtype=np.float64)
        if r.ndim == 1:
            r = r[None, :]
        if r.ndim != 2 or r.shape[1] == 0 or r.shape[0] == 0:
            raise ReglabError(f"dropout rates must be one per layer, or one row of them per model; got shape {r.shape}")
        if not np.isfinite(r).all() or (r < 0).any() or (r >= 1).any():
            raise ReglabError(f"dropout rates must lie in [0, 1), got {r.tolist()}")
        if len(seeds) == 0:
            raise ReglabError("dropout needs at least one seed")
        self.rates = r  # (P, L), P = 1 or M
        self.seeds = tuple(int(s) for s in seeds)
        self._cache: dict[tuple[int, torch.device, torch.dtype], tuple[Tensor, Tensor, Tensor]] = {}

    @classmethod
    def per_layer(cls, hidden: Sequence[float], input: float = 0.0, *, layers: int,
                  seeds: Sequence[int] = (0,)) -> Dropout:
        """From a hidden rate for every hidden layer (one value) or one per hidden layer, and the input's rate.

        ``layers`` is the number of weight layers ``L`` (``L − 1`` hidden layers):
        ``Dropout.per_layer([0.5], 0.2, layers=3)`` is ``Dropout([0.2, 0.5, 0.5])``.
        """
        hidden = [float(p) for p in hidden]
        if len(hidden) == 1:
            hidden = hidden * (layers - 1)
        elif len(hidden) != layers - 1:
            raise ReglabError(f"--dropout gives {len(hidden)} rates, but the network has {layers - 1} hidden "
                              f"layer{'s' if layers != 2 else ''}: give one rate, or one per hidden layer")
        return cls([float(input), *hidden], seeds)

    @property
    def active(self) -> bool:
        """Whether any unit of any model is ever dropped."""
        return bool((self.rates > 0).any())

    def check(self, M: int, L: int) -> None:
        """The rates and seeds must fit ``M`` models of ``L`` layers; a one-line error otherwise."""
        if self.rates.shape[1] != L:
            raise ReglabError(f"dropout gives {self.rates.shape[1]} rates per model, but the network has {L} layers "
                              f"(one rate for the input of each: the network's input, then each hidden layer)")
        if self.rates.shape[0] not in (1, M) or len(self.seeds) not in (1, M):
            raise ReglabError(f"dropout has {self.rates.shape[0]} rows of rates and {len(self.seeds)} seeds for {M} "
                              "models: give one of each for all models, or one per model")

    # -- the kernel's arguments ------------------------------------------------------------------
    def keys(self, M: int) -> np.ndarray:
        """``(M,)`` uint32: each model's key ``k``, 32 bits of ``rng.seed_for(seed, "dropout")``."""
        keys = [seed_for(s, "dropout") & MASK32 for s in self.seeds]
        return np.array(np.broadcast_to(np.array(keys, dtype=np.uint32), (M,)), order="C")

    def thresholds(self, M: int) -> np.ndarray:
        """``(M, L)`` uint32: ``round(p_l·2³²)``; a unit is kept when its hash is at least this (0: always)."""
        thr = np.minimum(np.round(self.rates * 2.0**32), MASK32).astype(np.uint32)
        return np.array(np.broadcast_to(thr, (M, self.rates.shape[1])), order="C")  # C order whatever M: one kernel

    def scales(self, M: int) -> np.ndarray:
        """``(M, L)`` float64: ``1/(1 − p_l)``, the factor of a kept unit."""
        return np.array(np.broadcast_to(1.0 / (1.0 - self.rates), (M, self.rates.shape[1])), order="C")

    # -- the tensor steps' masks -----------------------------------------------------------------
    def masks(self, t: int, m: int, widths: Sequence[int], device: torch.device, dtype: torch.dtype) -> list[Tensor | None]:
        """The masks of step ``t`` for a mini-batch of ``m``: per layer ``(M, m, n_l)`` with values ``0`` or
        ``1/(1 − p_l)``, or ``None`` where no model drops any unit of that layer.

        ``widths[l]`` is the width ``n_l`` of layer ``l``'s input; ``M`` is the larger of the rows of rates
        and the seeds (call :meth:`check` first).
        """
        M = max(self.rates.shape[0], len(self.seeds))
        key, thr, scale = self._tensors(M, device, dtype)
        step = hash32(key ^ hash32(torch.tensor(t & MASK32, device=device)))  # (M, 1, 1)
        i = hash32(torch.arange(m, device=device)).view(1, m, 1)
        out: list[Tensor | None] = []
        for l, n in enumerate(widths):
            if not bool((thr[:, l] > 0).any()):
                out.append(None)
                continue
            s = hash32(step ^ hash32(torch.tensor(l, device=device)))  # (M, 1, 1)
            r = hash32(s ^ i)  # (M, m, 1)
            u = hash32((r + torch.arange(n, device=device).view(1, 1, n)) & MASK32)  # (M, m, n)
            keep = u >= thr[:, l].view(M, 1, 1)
            out.append(keep.to(dtype) * scale[:, l].view(M, 1, 1))
        return out

    def _tensors(self, M: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
        """Keys ``(M, 1, 1)``, thresholds ``(M, L)`` (int64) and scales ``(M, L)`` (``dtype``) on ``device``, made once."""
        made = self._cache.get((M, device, dtype))
        if made is None:
            made = (torch.as_tensor(self.keys(M).astype(np.int64), device=device).view(M, 1, 1),
                    torch.as_tensor(self.thresholds(M).astype(np.int64), device=device),
                    torch.as_tensor(self.scales(M), device=device, dtype=dtype))
            self._cache[(M, device, dtype)] = made
        return made

    def __repr__(self) -> str:
        rates = self.rates[0].tolist() if self.rates.shape[0] == 1 else self.rates.tolist()
        return f"Dropout({rates}, seeds={list(self.seeds)})"
