r"""The batched multilayer perceptron: ``M`` models in one set of tensors.

Layer ``l`` (0-based, ``l = 0 … L−1``) of every model maps ``n_in → n_out``:

.. math::  z^{l} = a^{l} W^{l\,T} + b^{l}, \qquad a^{l+1} = f(z^{l}),

with ``W^l`` shaped ``(M, n_out, n_in)`` and ``b^l`` shaped ``(M, n_out)``. The
last layer's non-linearity belongs to the cost (sigmoid or softmax). The input
``x`` is either shared by all models, ``(B, n_in)`` (common random numbers:
every model sees the same mini-batch), or per model, ``(M, B, n_in)``.

Backpropagation is written out by hand (the hot loop has no autograd, and
writes the gradients into buffers it is given):

.. math::  \delta^{L-1} = \partial \mathrm{fn}/\partial z^{L-1}, \qquad
           \delta^{l-1} = (\delta^{l} W^{l}) \odot f'(z^{l-1}),

.. math::  \partial C_0/\partial W^l = \tfrac1B\,\delta^{l\,T} a^{l}, \qquad
           \partial C_0/\partial b^l = \tfrac1B \textstyle\sum_x \delta^l .

The tests check it against autograd on :meth:`MLP.forward`, which is
differentiable as written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from reglab.engine.nn import Activation, Cost, get_activation, get_cost
from reglab.errors import ReglabError
from reglab.rng import generator

Initializer = Callable[[int, int, torch.Generator], tuple[Tensor, Tensor]]

#: Initializers by name (``--init``), filled by :func:`register_initializer`.
INITIALIZERS: dict[str, Initializer] = {}


def register_initializer(name: str) -> Callable[[Initializer], Initializer]:
    """Decorator: make ``f(n_in, n_out, g) -> (W (n_out, n_in), b (n_out,))`` (float64, drawn from ``g``)
    available by ``name`` (``--init``, ``TrainConfig(init=…)``)."""

    def add(f: Initializer) -> Initializer:
        INITIALIZERS[name] = f
        return f

    return add


F64 = torch.float64


@register_initializer("large")
def large(n_in: int, n_out: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """``W, b ~ N(0, 1)``: the book's ``large_weight_initializer``."""
    return torch.randn(n_out, n_in, generator=g, dtype=F64), torch.randn(n_out, generator=g, dtype=F64)


@register_initializer("default")
def default(n_in: int, n_out: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """``W ~ N(0, 1/n_in)``, ``b ~ N(0, 1)``: the book's default."""
    w = torch.randn(n_out, n_in, generator=g, dtype=F64) / math.sqrt(n_in)
    return w, torch.randn(n_out, generator=g, dtype=F64)


@register_initializer("he")
def he(n_in: int, n_out: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """``W ~ N(0, 2/n_in)``, ``b = 0``."""
    return torch.randn(n_out, n_in, generator=g, dtype=F64) * math.sqrt(2.0 / n_in), torch.zeros(n_out, dtype=F64)


@register_initializer("glorot")
def glorot(n_in: int, n_out: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """``W ~ U(±√(6/(n_in+n_out)))``, ``b = 0``."""
    limit = math.sqrt(6.0 / (n_in + n_out))
    w = (torch.rand(n_out, n_in, generator=g, dtype=F64) * 2.0 - 1.0) * limit
    return w, torch.zeros(n_out, dtype=F64)


def init_layer(init: str, n_in: int, n_out: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """One layer's ``(W (n_out, n_in), b (n_out,))`` in float64, drawn from ``g`` by the initializer ``init``."""
    try:
        initializer = INITIALIZERS[init]
    except KeyError:
        raise ReglabError(f"unknown initializer {init!r}; choose one of {', '.join(INITIALIZERS)}") from None
    return initializer(n_in, n_out, g)


def _affine(a: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """``z = a Wᵀ + b`` for every model: ``a`` (B, n_in) shared or (M, B, n_in) → (M, B, n_out)."""
    M, n_out, n_in = W.shape
    if a.dim() == 2:  # one GEMM for all models: (B, n_in) @ (n_in, M·n_out)
        z = torch.addmm(b.reshape(1, M * n_out), a, W.reshape(M * n_out, n_in).t())  # (B, M·n_out)
        return z.view(a.shape[0], M, n_out).transpose(0, 1)
    return torch.baddbmm(b.unsqueeze(1), a, W.transpose(1, 2))


def _grads_into(gw: Tensor, gb: Tensor, delta: Tensor, a: Tensor) -> None:
    """``gw ← (1/B) δᵀa`` and ``gb ← (1/B) Σ_x δ`` in place.

    δ (M, B, n_out); a (B, n_in) shared or (M, B, n_in); gw (M, n_out, n_in); gb (M, n_out).
    """
    M, B, n_out = delta.shape
    if a.dim() == 2:  # one GEMM for all models, from a contiguous (M·n_out, B) copy of δ
        dT = delta.transpose(1, 2).reshape(M * n_out, B)
        gw.view(M * n_out, -1).addmm_(dT, a, beta=0.0, alpha=1.0 / B)
        torch.mv(dT, dT.new_full((B,), 1.0 / B), out=gb.view(-1))  # a GEMV: cheaper than torch.mean here
    else:
        gw.baddbmm_(delta.transpose(1, 2), a, beta=0.0, alpha=1.0 / B)
        torch.sum(delta, dim=1, out=gb).mul_(1.0 / B)


def _dropped(a: Tensor, masks: Sequence[Tensor | None] | None, l: int) -> Tensor:
    """Layer ``l``'s input ``a`` times its dropout mask ``masks[l]`` (M, B, n_in), or ``a`` where it has none."""
    mask = None if masks is None else masks[l]
    return a if mask is None else a * mask


@dataclass
class MLP:
    """``M`` multilayer perceptrons of the same shape, held as batched tensors.

    Parameters
    ----------
    weights : list of Tensor
        ``weights[l]`` shaped ``(M, n_out, n_in)``.
    biases : list of Tensor
        ``biases[l]`` shaped ``(M, n_out)``.
    activation : Activation
        Hidden-layer non-linearity.
    cost : Cost
        The cost, which fixes the output non-linearity.
    """

    weights: list[Tensor]
    biases: list[Tensor]
    activation: Activation
    cost: Cost

    @classmethod
    def initialize(
        cls,
        sizes: Sequence[int],
        *,
        seeds: Sequence[int] = (0,),
        init: str = "large",
        activation: str = "sigmoid",
        cost: str | Cost = "cross-entropy",
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> MLP:
        """Draw ``M = len(seeds)`` models; model ``i`` draws from its own generator seeded by ``seeds[i]``,
        so it gets the same weights whichever other models train beside it."""
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ReglabError(f"sizes must list at least an input and an output layer of positive width, got {sizes}")
        per_model = []
        for s in seeds:
            g = generator(int(s), "init")
            per_model.append([init_layer(init, n_in, n_out, g) for n_in, n_out in zip(sizes[:-1], sizes[1:])])
        weights = [torch.stack([m[l][0] for m in per_model]).to(device=device, dtype=dtype) for l in range(len(sizes) - 1)]
        biases = [torch.stack([m[l][1] for m in per_model]).to(device=device, dtype=dtype) for l in range(len(sizes) - 1)]
        return cls(weights, biases, get_activation(activation), get_cost(cost))

    # -- shape -------------------------------------------------------------------------------
    @property
    def M(self) -> int:
        return self.weights[0].shape[0]

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[2]] + [w.shape[1] for w in self.weights]

    @property
    def device(self) -> torch.device:
        return self.weights[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.weights[0].dtype

    def layer_activation(self, l: int) -> str:
        """Name of the non-linearity applied after layer ``l``."""
        return self.cost.output_activation if l == len(self.weights) - 1 else self.activation.name

    # -- forward and backward ----------------------------------------------------------------
    def forward(self, x: Tensor, masks: Sequence[Tensor | None] | None = None) -> tuple[list[Tensor], list[Tensor]]:
        """``(zs, activations)``: ``zs[l]`` (M, B, n_out) and ``activations[0] = x``, ``activations[l+1] = f(zs[l])``.

        ``masks`` (dropout while training; :mod:`reglab.engine.dropout`): ``masks[l]`` (M, B, n_in) or ``None``
        multiplies layer ``l``'s input, ``z^l = (a^l ⊙ mask^l) W^{lT} + b^l``; the activations returned are the
        layers' own, before their masks.
        """
        zs, acts = [], [x]
        last = len(self.weights) - 1
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = _affine(_dropped(acts[-1], masks, l), W, b)
            zs.append(z)
            acts.append(self.cost.output(z) if l == last else self.activation.forward(z))
        return zs, acts

    def backward(
        self,
        y: Tensor,
        zs: list[Tensor],
        acts: list[Tensor],
        grad_w: Sequence[Tensor] | None = None,
        grad_b: Sequence[Tensor] | None = None,
        masks: Sequence[Tensor | None] | None = None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Mean gradients of ``C_0`` over the mini-batch, written into ``grad_w``/``grad_b`` (allocated where ``None``).

        ``y`` is one-hot, (B, K) or (M, B, K); ``masks`` as given to :meth:`forward` (the gradient of layer
        ``l`` is taken at its dropped input, and the error below it is multiplied by the same mask:
        ``δ^{l-1} = ((δ^l W^l) ⊙ f'(z^{l-1})) ⊙ mask^l``). Returns ``(grad_w, grad_b)`` shaped like the
        parameters. The training loop passes the same buffers every step: no allocation of parameter-sized tensors.
        """
        L = len(self.weights)
        gw = list(grad_w) if grad_w is not None else [torch.empty_like(W) for W in self.weights]
        gb = list(grad_b) if grad_b is not None else [torch.empty_like(b) for b in self.biases]
        delta = self.cost.delta(zs[-1], acts[-1], y)  # (M, B, n_L)
        for l in range(L - 1, -1, -1):
            _grads_into(gw[l], gb[l], delta, _dropped(acts[l], masks, l))
            if l > 0:
                delta = self.activation.backward(torch.bmm(delta, self.weights[l]), zs[l - 1], acts[l])  # (M, B, n_in)
                mask = None if masks is None else masks[l]
                if mask is not None:
                    delta = delta * mask
        return gw, gb

    def output(self, x: Tensor) -> Tensor:
        """The network's output ``(M, B, K)``."""
        return self.forward(x)[1][-1]

    # -- copies --------------------------------------------------------------------------------
    def numpy_params(self) -> dict[str, np.ndarray]:
        """``{"W0": (M, n_out, n_in), "b0": (M, n_out), …}`` as float64 numpy arrays (a copy)."""
        out = {}
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            out[f"W{l}"] = W.detach().cpu().double().numpy().copy()
            out[f"b{l}"] = b.detach().cpu().double().numpy().copy()
        return out
