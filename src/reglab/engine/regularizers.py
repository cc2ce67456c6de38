r"""Regularizers: small composable objects that the trainer calls, never inspects.

Every regularizer has three parts, and the trainer calls all three for every
parameter, whichever regularizer it holds:

* ``penalty(w, p)`` — its value per model, shape ``(M,)``, added to the
  reported cost (the data cost and the penalty are always reported apart too);
* ``grad(w, p)`` — the gradient the optimizer sees (added to the data
  gradient before the optimizer's step: *coupled*), or ``None``;
  ``add_grad(w, p, g)`` adds it into the gradient buffer ``g`` in place (the
  training loop's form; by default ``g += grad(w, p)``, tested equal);
* ``prox(w, step, p)`` — applied to the parameter after the optimizer's step,
  with ``step = η`` per model (*decoupled*); identity by default.

For the compiled CPU step (:mod:`reglab.engine.kernel`) a regularizer also states its
*elementwise form* ``elementwise(p)``: per model the four numbers
``(λ₂, λ₁, d, t)`` of ``grad = λ₂ w + λ₁ sgn(w)`` and
``prox = soft-threshold at η t ∘ scale by (1 − η d)``, or ``None`` where it has
none (a regularizer of your own: the tensor path trains it). The kernel reads
``compiled_form(p)``: that form and a fifth number, the max-norm radius ``c``
onto which each unit's incoming weights are projected after the step (∞: none).

Whether decay is coupled (L2 through Adam) or decoupled (AdamW) is only where
it sits: :class:`L2` acts in ``grad``, :class:`DecoupledDecay` in ``prox``.
A constraint is a ``prox`` too: :class:`MaxNorm` projects each unit's incoming
weight vector onto a ball (``L2(5) + MaxNorm(3)``: decay, then the projection).

Strength: one unit for all, the book's
-------------------------------------
``λ`` is given in the units of Nielsen's *network2.py*: with ``n`` the size of
the training set,

.. math::  C = C_0 + \frac{\lambda}{2n}\sum_w w^2, \qquad
           w \leftarrow \Bigl(1 - \frac{\eta\lambda}{n}\Bigr) w - \eta\,\partial C_0/\partial w .

So one plain SGD step subtracts ``η·λ_eq·w`` with ``λ_eq = λ/n``. Other systems
(see :mod:`reglab.units` for the conversions as functions):

====================  =====================  ==========================
system                parameter              same strength
====================  =====================  ==========================
PyTorch SGD           ``weight_decay``       ``wd = λ/n``
PyTorch AdamW         ``weight_decay``       ``wd = λ/n`` (× lr per step)
scikit-learn MLP      ``alpha``              ``α = λ·|B|/n``
Keras                 ``L2(c)``              ``c = λ/(2n)``
====================  =====================  ==========================

``lmbda`` may be a number or a sequence with one value per model (the model
axis ``M``); it is held as a tensor of shape ``(M,)`` and broadcast, so a
λ sweep and a single run are one code path.

Masks are data: ``mask(layer, name) -> bool`` with ``name`` in
``{"weight", "bias"}``; the default, :func:`weights_only`, decays weights and
never biases (as network2, scikit-learn and TF Playground do). ``layer_scale``
multiplies the strength of chosen layers (0-based index of the weight matrix).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from reglab.errors import ReglabError


@dataclass(frozen=True)
class Param:
    """Which parameter a regularizer sees: its layer, its kind and ``n``, the training-set size."""

    layer: int
    name: str  # "weight" | "bias"
    n: int


Mask = Callable[[int, str], bool]
R = TypeVar("R", bound="Regularizer")


def weights_only(layer: int, name: str) -> bool:
    """The default mask: weights are regularized, biases are not."""
    return name == "weight"


def all_parameters(layer: int, name: str) -> bool:
    """A mask that regularizes biases too (as PyTorch's ``weight_decay`` does)."""
    return True


def _per_model_sum(x: Tensor) -> Tensor:
    """Sum over every axis but the model axis: ``(M, ...) → (M,)``."""
    return x.reshape(x.shape[0], -1).sum(dim=1)


def soft_threshold(w: Tensor, t: Tensor) -> Tensor:
    r"""``prox`` of ``t‖w‖₁``: ``sign(w)·max(|w| − t, 0)``, exactly 0 where ``|w| ≤ t``.

    Written as ``w − clamp(w, −t, t)``: where ``|w| ≤ t`` this is ``w − w = 0``
    exactly, in any floating-point format.
    """
    return w - torch.clamp(w, min=-t, max=t)


class Regularizer:
    """Base class: holds ``λ`` (book units, shape ``(M,)``), the mask and per-layer scales.

    ``options``: the names of the configuration fields (:class:`~reglab.config.TrainConfig`) the
    constructor takes besides ``lmbda`` (see :func:`register_regularizer`).
    """

    options: tuple[str, ...] = ()

    def __init__(
        self,
        lmbda: float | Sequence[float] | Tensor = 0.0,
        *,
        mask: Mask = weights_only,
        layer_scale: Mapping[int, float] | None = None,
    ):
        lam = torch.as_tensor(lmbda, dtype=torch.float64).reshape(-1)
        if lam.numel() == 0:
            raise ReglabError("a regularizer needs at least one λ value")
        self.check_lmbda(lam)
        self.lmbda = lam  # (M,) or (1,)
        self.mask = mask
        self.layer_scale = dict(layer_scale or {})
        self._coef: dict[tuple[Param, float, torch.device, torch.dtype, int], Tensor] = {}

    @staticmethod
    def check_lmbda(lam: Tensor) -> None:
        """λ must be finite and ≥ 0 (a subclass may admit more, as the book's code does)."""
        if not torch.isfinite(lam).all() or (lam < 0).any():
            raise ReglabError(f"λ must be finite and ≥ 0, got {lam.tolist()}")

    # -- the strength as a tensor broadcastable against w ---------------------------------
    def coef(self, w: Tensor, p: Param, factor: float = 1.0) -> Tensor | None:
        """``factor · λ · scale(layer) / n`` shaped ``(M, 1, …)`` like ``w``, or ``None`` if masked out."""
        if not self.mask(p.layer, p.name):
            return None
        key = (p, factor, w.device, w.dtype, w.dim())
        c = self._coef.get(key)
        if c is None:
            scale = self.layer_scale.get(p.layer, 1.0)
            c = (self.lmbda * (factor * scale / p.n)).to(device=w.device, dtype=w.dtype)
            c = c.reshape((-1,) + (1,) * (w.dim() - 1))
            self._coef[key] = c
        return c

    @property
    def M(self) -> int:
        return int(self.lmbda.numel())

    # -- changing λ or where it acts (schedules, the nn.Module API) ------------------------
    def set_lmbda(self, lmbda: float | Sequence[float] | Tensor) -> None:
        """Set ``λ`` in place (a λ schedule's step; :mod:`reglab.engine.schedules`), checked as in the constructor."""
        lam = torch.as_tensor(lmbda, dtype=torch.float64).reshape(-1)
        self.check_lmbda(lam)
        self.lmbda = lam
        self._forget()

    def at_strength(self, base: Tensor, factor: Tensor) -> Tensor:
        """The ``lmbda`` that is ``factor`` times the strength of ``base`` (a λ schedule's step): ``factor·base``."""
        return base * factor

    def _forget(self) -> None:
        """Drop what was computed from ``lmbda``, the mask or the scales (they changed)."""
        self._coef = {}

    def leaves(self) -> list[Regularizer]:
        """The regularizers this one is made of (itself; a :class:`Sum` its parts)."""
        return [self]

    def placed(self, mask: Mask, layer_scale: Mapping[int, float]) -> Regularizer:
        """A copy of this regularizer (same class, ``λ`` and options) with another ``mask`` and ``layer_scale``.

        How the nn.Module API (:mod:`reglab.module`) points a user's regularizer at the parameters of a
        module, numbered ``0, 1, …`` as its ``Param.layer``, without changing the object the user holds.
        """
        twin = copy.copy(self)
        twin.lmbda = self.lmbda.clone()
        twin.mask = mask
        twin.layer_scale = dict(layer_scale)
        twin._forget()
        return twin

    # -- the interface the trainer calls ---------------------------------------------------
    def penalty(self, w: Tensor, p: Param) -> Tensor:
        """Value of the penalty per model, ``(M,)``."""
        return w.new_zeros(w.shape[0])

    def grad(self, w: Tensor, p: Param) -> Tensor | None:
        """Gradient handed to the optimizer with the data gradient, or ``None``."""
        return None

    def add_grad(self, w: Tensor, p: Param, g: Tensor) -> None:
        """``g += grad(w, p)`` in place (overridden where that can be done without a temporary)."""
        extra = self.grad(w, p)
        if extra is not None:
            g.add_(extra)

    def prox(self, w: Tensor, step: Tensor, p: Param) -> Tensor:
        """Applied after the optimizer step; ``step`` is ``η`` per model, shaped like ``coef``."""
        return w

    def elementwise(self, p: Param) -> np.ndarray | None:
        """``(M, 4)`` float64: ``(λ₂, λ₁, d, t)`` per model (see the module docstring), or ``None``.

        The base class has none: a subclass that overrides ``grad``, ``add_grad`` or ``prox`` trains on
        the tensor path.
        """
        own = [getattr(type(self), name) is not getattr(Regularizer, name) for name in ("grad", "add_grad", "prox")]
        return None if any(own) else np.zeros((self.M, 4))

    def compiled_form(self, p: Param) -> np.ndarray | None:
        """``(M, 5)`` float64: what the compiled steps apply, ``(λ₂, λ₁, d, t, c)``: the elementwise form, then
        the radius ``c`` onto which each unit's incoming weights are projected after the step (:class:`MaxNorm`;
        ∞: none, as here), or ``None`` where the regularizer has neither."""
        form = self.elementwise(p)
        return None if form is None else np.concatenate([form, np.full((form.shape[0], 1), np.inf)], axis=1)

    def _form(self, p: Param, column: int, factor: float = 1.0) -> np.ndarray:
        """The elementwise form with ``factor·λ·scale/n`` in one column (0 where masked out)."""
        out = np.zeros((self.M, 4))
        if self.mask(p.layer, p.name):
            out[:, column] = self.lmbda.numpy() * (factor * self.layer_scale.get(p.layer, 1.0) / p.n)
        return out

    def __add__(self, other: Regularizer) -> Sum:
        return Sum([self, other])

    def _args(self) -> str:
        lam = self.lmbda.tolist()
        s = f"{lam[0]:g}" if len(lam) == 1 else "[" + ", ".join(f"{v:g}" for v in lam) + "]"
        if self.mask is not weights_only:
            s += f", mask={getattr(self.mask, '__name__', repr(self.mask))}"
        if self.layer_scale:
            s += f", layer_scale={self.layer_scale}"
        return s

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args()})"


class NoRegularizer(Regularizer):
    """No penalty at all: ``C = C_0`` (a ``lmbda`` given is ignored, so every kind is built alike)."""

    def __init__(self, lmbda: float | Sequence[float] | Tensor = 0.0, **kw: Any):
        super().__init__(0.0)

    def __repr__(self) -> str:
        return "NoRegularizer()"


class L2(Regularizer):
    r"""Weight decay as a penalty (coupled).

    penalty ``(λ/2n) Σ w²``; grad ``(λ/n) w``; no prox. With plain SGD the step is
    the book's ``w ← (1 − ηλ/n) w − η ∂C₀/∂w``; through Adam the gradient
    ``(λ/n) w`` is rescaled per weight like any other (so it is not decay).
    """

    def penalty(self, w: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p, 0.5)
        return w.new_zeros(w.shape[0]) if c is None else _per_model_sum(c * w * w)

    def grad(self, w: Tensor, p: Param) -> Tensor | None:
        c = self.coef(w, p)
        return None if c is None else c * w

    def add_grad(self, w: Tensor, p: Param, g: Tensor) -> None:
        c = self.coef(w, p)
        if c is not None:
            g.addcmul_(w, c)

    def elementwise(self, p: Param) -> np.ndarray | None:
        return self._form(p, 0)


class L1(Regularizer):
    r"""L1 by subgradient, the book's rule.

    penalty ``(λ/n) Σ |w|``; grad ``(λ/n) sgn(w)`` with ``sgn(0) = 0``; so
    ``w ← w − (ηλ/n) sgn(w) − η ∂C₀/∂w``. The weights oscillate around 0 but
    almost never land on it: use :class:`L1Prox` for exact zeros.
    """

    def penalty(self, w: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p)
        return w.new_zeros(w.shape[0]) if c is None else _per_model_sum(c * w.abs())

    def grad(self, w: Tensor, p: Param) -> Tensor | None:
        c = self.coef(w, p)
        return None if c is None else c * torch.sign(w)

    def elementwise(self, p: Param) -> np.ndarray | None:
        return self._form(p, 1)


class L1Prox(Regularizer):
    r"""L1 by proximal step (ISTA): exact zeros.

    penalty ``(λ/n) Σ |w|``; no gradient; after the optimizer step
    ``w ← sign(w) · max(|w| − ηλ/n, 0)`` (soft-thresholding), which sets every
    weight with ``|w| ≤ ηλ/n`` to exactly 0.
    """

    def penalty(self, w: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p)
        return w.new_zeros(w.shape[0]) if c is None else _per_model_sum(c * w.abs())

    def prox(self, w: Tensor, step: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p)
        return w if c is None else soft_threshold(w, step * c)

    def elementwise(self, p: Param) -> np.ndarray | None:
        return self._form(p, 3)


class ElasticNet(Regularizer):
    r"""Elastic net with mixing ``ρ = l1_ratio``: L2 part by gradient, L1 part by prox.

    penalty ``(λ/n)[ρ Σ|w| + ((1−ρ)/2) Σ w²]``; grad ``(λ/n)(1−ρ) w``;
    prox soft-threshold at ``ηρλ/n``. ``ρ = 1`` is :class:`L1Prox`, ``ρ = 0`` is :class:`L2`.
    """

    options = ("l1_ratio",)

    def __init__(self, lmbda: float | Sequence[float] | Tensor = 0.0, l1_ratio: float = 0.5, **kw: Any):
        super().__init__(lmbda, **kw)
        if not 0.0 <= l1_ratio <= 1.0:
            raise ReglabError(f"l1_ratio must lie in [0, 1], got {l1_ratio}")
        self.l1_ratio = float(l1_ratio)

    def penalty(self, w: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p)
        if c is None:
            return w.new_zeros(w.shape[0])
        rho = self.l1_ratio
        return _per_model_sum(c * (rho * w.abs() + 0.5 * (1.0 - rho) * w * w))

    def grad(self, w: Tensor, p: Param) -> Tensor | None:
        c = self.coef(w, p, 1.0 - self.l1_ratio)
        return None if c is None else c * w

    def add_grad(self, w: Tensor, p: Param, g: Tensor) -> None:
        c = self.coef(w, p, 1.0 - self.l1_ratio)
        if c is not None:
            g.addcmul_(w, c)

    def prox(self, w: Tensor, step: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p, self.l1_ratio)
        return w if c is None else soft_threshold(w, step * c)

    def elementwise(self, p: Param) -> np.ndarray | None:
        form: np.ndarray = self._form(p, 0, 1.0 - self.l1_ratio) + self._form(p, 3, self.l1_ratio)
        return form

    def _args(self) -> str:
        return super()._args() + f", l1_ratio={self.l1_ratio:g}"


class DecoupledDecay(Regularizer):
    r"""Decoupled weight decay (AdamW's), outside the optimizer's scaling.

    After the optimizer's step: ``w ← (1 − ηλ/n) w``. With plain SGD this is
    exactly :class:`L2`; with Adam it is AdamW with ``weight_decay = λ/n``
    (PyTorch multiplies it by the learning rate too). There is no objective
    term under Adam; ``penalty`` reports the L2-equivalent ``(λ/2n) Σ w²``.
    """

    def penalty(self, w: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p, 0.5)
        return w.new_zeros(w.shape[0]) if c is None else _per_model_sum(c * w * w)

    def prox(self, w: Tensor, step: Tensor, p: Param) -> Tensor:
        c = self.coef(w, p)
        return w if c is None else w * (1.0 - step * c)

    def elementwise(self, p: Param) -> np.ndarray | None:
        return self._form(p, 2)


class MaxNorm(Regularizer):
    r"""The max-norm constraint (Srivastava et al. 2014, §5.1): after every step, each unit's incoming weight
    vector is projected onto the ball ``‖w‖₂ ≤ c``.

    .. math::  w_j \leftarrow w_j \cdot \min\Bigl(1, \frac{c}{\lVert w_j \rVert_2}\Bigr)

    It is a projection, not a shrinkage: it does not depend on ``η`` or ``n``, leaves a vector inside the ball
    exactly as it was (bit for bit: its factor is exactly 1) and puts one outside on the sphere, the nearest
    point of the ball. The factor is applied to every vector without asking which are outside, so on a GPU
    ``prox`` queues its kernels and never waits for the device. No
    gradient; ``penalty`` is 0 (the constraint's indicator, 0 on the ball, where ``prox`` leaves every vector).

    Shape convention: a parameter is ``(M, U, …)``: the model axis, then one entry per unit, then that unit's
    incoming weights (any number of axes, flattened). A dense layer's weight ``(M, n_out, n_in)`` is projected
    row by row; a convolution kernel ``(M, out_ch, in_ch, kh, kw)`` per output channel; a bias ``(M, n_out)``
    (only under a mask that admits biases) element by element, ``|b_j| ≤ c``.

    Parameters
    ----------
    c : float, sequence of float or Tensor
        The radius, ``> 0``; one value or one per model (the model axis ``M``, as ``λ`` elsewhere); ``inf``
        leaves that model unconstrained. Held as the base class's ``lmbda`` (its model axis), read as ``c``.
    mask : callable, optional
        ``mask(layer, name) -> bool``; by default every weight matrix (the units of every layer, the output
        layer's too, as Keras's ``max_norm`` on each ``Dense`` layer), never the biases.
    layer_scale : mapping, optional
        ``{layer: s}``: the radius of that layer is ``s·c``.
    """

    def __init__(self, c: float | Sequence[float] | Tensor, *, mask: Mask = weights_only,
                 layer_scale: Mapping[int, float] | None = None):
        super().__init__(c, mask=mask, layer_scale=layer_scale)
        self._radii: dict[tuple[int, torch.device, torch.dtype], Tensor] = {}

    @staticmethod
    def check_lmbda(lam: Tensor) -> None:
        """The radius must be a number ``> 0`` (``inf``: unconstrained)."""
        if torch.isnan(lam).any() or (lam <= 0).any():
            raise ReglabError(f"the max-norm radius c must be > 0 (inf: no constraint), got {lam.tolist()}")

    @property
    def c(self) -> Tensor:
        """The radius per model, ``(M,)`` (or ``(1,)``), float64."""
        return self.lmbda

    def at_strength(self, base: Tensor, factor: Tensor) -> Tensor:
        """A constraint's strength is ``1/c``: the radius ``c/factor`` (factor 0: unconstrained, ``c = inf``)."""
        return torch.where(factor > 0, base / factor, torch.full_like(base * factor, math.inf))

    def _forget(self) -> None:
        super()._forget()
        self._radii = {}

    def radius(self, w: Tensor, p: Param) -> Tensor | None:
        """``c · scale(layer)`` shaped ``(M, 1, 1)`` in ``w``'s dtype and device, or ``None`` where masked out."""
        if not self.mask(p.layer, p.name):
            return None
        key = (p.layer, w.device, w.dtype)
        r = self._radii.get(key)
        if r is None:
            r = (self.lmbda * self.layer_scale.get(p.layer, 1.0)).to(device=w.device, dtype=w.dtype).view(-1, 1, 1)
            self._radii[key] = r
        return r

    def prox(self, w: Tensor, step: Tensor, p: Param) -> Tensor:
        r = self.radius(w, p)
        if r is None:
            return w
        M = w.shape[0]
        units = w.reshape(M, w.shape[1] if w.dim() > 1 else 1, -1)  # (M, U, incoming)
        norm = torch.linalg.vector_norm(units, dim=2, keepdim=True)  # (M, U, 1)
        # min(1, c/‖w‖), applied to every vector: exactly 1 inside the ball (0/0 never occurs: c > 0), so those
        # stay bit for bit; no branch on the data, hence no wait for a GPU to say whether any vector is outside
        scale = torch.clamp(r / norm, max=1.0)
        return (units * scale).view_as(w)

    def compiled_form(self, p: Param) -> np.ndarray | None:
        """No elementwise part (a projection is not one: ``elementwise`` is ``None``, so a fused path elsewhere
        calls ``prox``); the compiled steps project onto the radius ``c·scale`` (∞ where masked out)."""
        out = np.zeros((self.M, 5))
        out[:, 4] = self.lmbda.numpy() * self.layer_scale.get(p.layer, 1.0) if self.mask(p.layer, p.name) else np.inf
        return out


def _combine(forms: list[np.ndarray]) -> np.ndarray | None:
    """Compiled forms ``(M, 5)`` applied in order as one, or ``None`` where they do not commute into one."""
    M = max(f.shape[0] for f in forms)
    total = np.zeros((M, 4))
    radius = np.full(M, np.inf)
    for f in forms:
        decays, thresholds = (f[:, 2] != 0).any(), (f[:, 3] != 0).any()
        if np.isfinite(radius).any() and (decays or thresholds):
            return None
        if decays and ((total[:, 2] != 0).any() or (total[:, 3] != 0).any()):
            return None
        total = total + f[:, :4]
        radius = np.minimum(radius, f[:, 4])
    return np.concatenate([total, radius[:, None]], axis=1)


class Sum(Regularizer):
    """A sum of regularizers: penalties and gradients add, proxes apply in order."""

    def __init__(self, parts: Iterable[Regularizer]):
        flat: list[Regularizer] = []
        for r in parts:
            flat.extend(r.parts if isinstance(r, Sum) else [r])
        self.parts: list[Regularizer] = flat
        self.lmbda = max((r.lmbda for r in flat), key=lambda t: t.numel())
        self.mask = all_parameters
        self.layer_scale = {}

    def leaves(self) -> list[Regularizer]:
        return list(self.parts)

    def set_lmbda(self, lmbda: float | Sequence[float] | Tensor) -> None:
        raise ReglabError(f"{self!r} is a sum: set the λ of each of its parts (leaves())")

    def placed(self, mask: Mask, layer_scale: Mapping[int, float]) -> Regularizer:
        return Sum(r.placed(mask, layer_scale) for r in self.parts)

    def penalty(self, w: Tensor, p: Param) -> Tensor:
        return sum((r.penalty(w, p) for r in self.parts), w.new_zeros(w.shape[0]))

    def grad(self, w: Tensor, p: Param) -> Tensor | None:
        grads = [g for g in (r.grad(w, p) for r in self.parts) if g is not None]
        return sum(grads[1:], grads[0]) if grads else None

    def add_grad(self, w: Tensor, p: Param, g: Tensor) -> None:
        for r in self.parts:
            r.add_grad(w, p, g)

    def prox(self, w: Tensor, step: Tensor, p: Param) -> Tensor:
        for r in self.parts:
            w = r.prox(w, step, p)
        return w

    def elementwise(self, p: Param) -> np.ndarray | None:
        """Gradients add and thresholds add (two soft-thresholds in a row are one); a sum has no elementwise
        form if a part has none, or it decays twice or thresholds before it decays (those do not commute)."""
        forms = [r.elementwise(p) for r in self.parts]
        if any(f is None for f in forms):
            return None
        total = _combine([np.concatenate([f, np.full((f.shape[0], 1), np.inf)], axis=1) for f in forms if f is not None])
        return None if total is None else total[:, :4]

    def compiled_form(self, p: Param) -> np.ndarray | None:
        """:meth:`elementwise`'s rule, and projections (max-norm) last: one after another they are one, onto the
        smallest radius; a decay or threshold after a projection has no compiled form (the kernel decays,
        thresholds, then projects)."""
        forms = [r.compiled_form(p) for r in self.parts]
        return None if any(f is None for f in forms) else _combine([f for f in forms if f is not None])

    def __repr__(self) -> str:
        return " + ".join(repr(r) for r in self.parts)


#: The regularizers by name (the CLI's ``--reg``), filled by :func:`register_regularizer`.
KINDS: dict[str, type[Regularizer]] = {}


def register_regularizer(name: str) -> Callable[[type[R]], type[R]]:
    """Class decorator: make a regularizer available by ``name`` (``--reg name``, ``TrainConfig(reg=name)``).

    The class is built as ``cls(lmbda, **options)`` with the configuration fields it names in
    ``options`` (e.g. ``ElasticNet.options = ("l1_ratio",)``); one with an elementwise form trains on
    the compiled steps with no other change anywhere.
    """

    def add(cls: type[R]) -> type[R]:
        KINDS[name] = cls
        return cls

    return add


for _name, _cls in (("none", NoRegularizer), ("l2", L2), ("l1", L1), ("l1-prox", L1Prox), ("elastic", ElasticNet),
                    ("decay", DecoupledDecay)):
    register_regularizer(_name)(_cls)


def make_regularizer(kind: str, lmbda: float | Sequence[float], options: Mapping[str, Any] | None = None) -> Regularizer:
    """The regularizer named ``kind`` with strength ``lmbda``; of ``options`` (e.g. a configuration's fields),
    those the class names in its ``options`` are passed on: ``make_regularizer("elastic", 5.0, {"l1_ratio": 0.3})``."""
    try:
        cls = KINDS[kind]
    except KeyError:
        raise ReglabError(f"unknown regularizer {kind!r}; choose one of {', '.join(KINDS)}") from None
    return cls(lmbda, **{k: v for k, v in (options or {}).items() if k in cls.options})
