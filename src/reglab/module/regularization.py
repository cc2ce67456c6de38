r"""reglab's regularizers on any ``torch.nn.Module``: :func:`regularize` and :func:`wrap`.

The regularizer objects are the engine's (:mod:`reglab.engine.regularizers`), in the engine's units:
with ``n`` the training-set size, ``L2(λ)`` is ``C = C₀ + (λ/2n) Σw²``, so one SGD step subtracts
``lr·(λ/n)·w`` (PyTorch ``weight_decay = λ/n``; :meth:`Regularization.audit` prints every
parameter's strength in PyTorch's, Keras's and scikit-learn's units). Each regularizer acts in two
places, as in the engine's training steps:

* **coupled**, through the gradient: :meth:`Regularization.penalty` is a scalar to add to the loss
  whose value is the regularizers' penalty ``Ω(w)`` (all of it, for reporting ``C₀ + Ω``) and whose
  gradient is each regularizer's ``grad`` (L2 ``(λ/n)w``, L1 by subgradient ``(λ/n)sgn w``, elastic
  net's L2 share) — not the parts that act after the step;
* **after the optimizer's step**: :meth:`Regularization.step` applies each regularizer's ``prox``
  with the step size read from the optimizer's param groups at that moment (so LR schedulers work):
  L1-prox soft-thresholds at ``lr·λ/n`` (exact zeros), decoupled decay is ``w ← (1 − lr·λ/n) w``,
  max-norm projects each unit's incoming weights onto ``‖w‖ ≤ c``. With ``decay="lr-free"`` the step
  size is ``lr/lr₀`` instead (the schedule's shape without the learning rate's magnitude, as in
  Loshchilov & Hutter's AdamW and MosaicML's ``DecoupledAdamW``: ``w ← (1 − (lr/lr₀)·λ/n) w``).

Both at once: :func:`wrap` (``optimizer = reglab.wrap(optimizer, reg)``) gives the optimizer step
hooks, so its ``step()`` adds the coupled gradient to ``.grad`` first (as ``weight_decay`` does; the
loss then needs no penalty) and applies the rest after — with any ``torch.optim`` optimizer, LR
schedulers, ``GradScaler`` (a skipped step skips the regularizer too) and closures (LBFGS).

A parameter is the engine's batched tensor with one model: the regularizers see ``w[None]``, shaped
``(1, n_out, …)``, and ``Param(k, param_name, n)`` with ``k`` its index among the regularized
parameters; masks and multipliers are the handle's (:mod:`reglab.module.masks`), not the
regularizer's. As in the engine's compiled steps, consecutive parts that state a compiled form
``(λ₂, λ₁, d, t, c)`` (L2, L1, L1-prox, elastic net, decoupled decay, max-norm) run fused over all parameters
at once, a few ``torch._foreach_*`` operations whatever their number (``g += λ₂w + λ₁ sgn w``; ``w ← (1 − ηd)w``,
then ``w ← w − clip(w, ±ηt)``, then each unit onto ``‖w_j‖ ≤ c``: the units' norms once per group of
parameters whose units have one length, the factors ``min(1, c/‖w_j‖)`` of all units at once); the penalty's
value likewise, ``Σ_k a_k‖w_k‖² + b_k‖w_k‖₁`` by ``torch._foreach_norm``, one stack and one dot. The others (a
regularizer of your own) run through their ``penalty``, ``grad`` and ``prox``, parameter by parameter; the two
paths are tested equal. λ, the coefficients and the step sizes come from the CPU (Python numbers, or tensors
made on the device once per change of λ): a step never waits for the device to say a number.
A parameter whose ``.grad`` is ``None`` (frozen, or unused this step) is left alone by
``step``, as PyTorch's optimizers leave it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn

from reglab.engine.regularizers import Param, Regularizer, Sum, all_parameters, weights_only
from reglab.engine.schedules import Constant, Schedule, ScheduledLmbda
from reglab.errors import ReglabError
from reglab.module.audit import Audit
from reglab.module.masks import Entry, MaskSpec, choose

DECAY_MODES = ("lr", "lr-free")
LOW_PRECISION = (torch.float16, torch.bfloat16)


class _Penalty(torch.autograd.Function):
    """The penalty's value ``Ω(w)`` forward, each regularizer's ``grad`` backward (one node for all parameters)."""

    @staticmethod
    def forward(ctx: Any, handle: Regularization, *params: Tensor) -> Tensor:
        ctx.handle = handle
        return handle._total(params)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:
        return (None, *ctx.handle._coupled_grads(g))


class Regularization:
    r"""A regularizer bound to a model's parameters (what :func:`regularize` returns).

    Parameters
    ----------
    model : nn.Module
        Any module (a ``torch.compile``\ d one too: names are the original module's).
    regularizer : Regularizer
        ``L2(5.0) + L1Prox(1e-4)`` and the like, one λ each, in the engine's units (``λ/n`` per example).
    n : int
        The training-set size ``n`` of ``λ/2n``.
    mask : "weights", "all", callable or list of globs
        Which parameters (see :mod:`reglab.module.masks`); default: weight matrices and conv kernels.
    per_layer : dict of glob → float
        λ multipliers by module or parameter name (``{"fc2": 0.1}``); the last matching glob wins.
    schedule : Schedule
        λ per step, ``λ_t = s(t, lr_t/lr₀)·λ`` (:mod:`reglab.engine.schedules`), ``t`` counting
        :meth:`step`\ s; default constant.
    decay : "lr" or "lr-free"
        The step size of the parts applied after the optimizer's step: ``lr`` (default) or ``lr/lr₀``.
    """

    def __init__(self, model: nn.Module, regularizer: Regularizer, n: int, *, mask: MaskSpec = "weights",
                 per_layer: Mapping[str, float] | None = None, schedule: Schedule | None = None, decay: str = "lr"):
        if not isinstance(regularizer, Regularizer):
            raise ReglabError(f"regularize() takes a reglab regularizer (L2(5.0), L1Prox(1e-4), …), got {regularizer!r}")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ReglabError(f"n (the training-set size) must be a positive integer, got {n!r}")
        if decay not in DECAY_MODES:
            raise ReglabError(f"decay must be one of {', '.join(map(repr, DECAY_MODES))}, got {decay!r}")
        for leaf in regularizer.leaves():
            if leaf.M != 1:
                raise ReglabError(f"{leaf!r} has {leaf.M} λ values; a module is one model: give one λ")
            if leaf.mask is not weights_only or leaf.layer_scale:
                raise ReglabError(f"{leaf!r} carries an engine mask or layer_scale (MLP layer numbers); for a module, "
                                  "give mask= and per_layer= to regularize()")
        self.model, self.source, self.n, self.decay = model, regularizer, n, decay
        self.entries: list[Entry] = choose(model, mask, per_layer)
        self.mask = mask
        chosen = [e for e in self.entries if e.regularized]
        self.names = [e.name for e in chosen]
        self.params: list[Tensor] = [e.param for e in chosen]
        self.infos = [Param(k, e.param_name, n) for k, e in enumerate(chosen)]
        self.regularizer = regularizer.placed(all_parameters, {k: e.scale for k, e in enumerate(chosen) if e.scale != 1.0})
        self._segments: list[tuple[Regularizer, np.ndarray | None]] = []  # parts in order, with their fused form
        self.schedule = schedule if schedule is not None else Constant()
        self._scheduled = ScheduledLmbda(self.regularizer, self.schedule)
        self.steps = 0  # the steps applied so far: t of the schedule
        self._optimizer: torch.optim.Optimizer | None = None
        self._groups: tuple[tuple[int, ...], list[int]] | None = None  # (the optimizer's layout, group of each param)
        self._lr0: dict[int, float] = {}  # lr₀ of each param group (its initial_lr, else the lr at our first step)
        self._sizes: dict[tuple[float, torch.dtype, torch.device], Tensor] = {}
        self._versions = self._read_versions()
        self._hooks: list[tuple[torch.optim.Optimizer, Any, Any]] = []
        self._sync()
        self._segment()

    def _segment(self) -> None:
        """Group consecutive parts with a compiled form into fused segments (their forms ``(K, 5)``: ``(λ₂, λ₁, d, t, c)``
        per parameter, as the engine's compiled steps apply them), and split the penalty into its fused form ``(K, 2)``
        (``a Σw² + b Σ|w|`` per parameter) and the parts that compute their own."""
        def forms(parts: list[Regularizer]) -> np.ndarray | None:
            together = parts[0] if len(parts) == 1 else Sum(parts)
            rows = [together.compiled_form(info) for info in self.infos]
            return None if any(r is None for r in rows) else np.stack([r[0] for r in rows])  # type: ignore[index]

        segments: list[list[Regularizer]] = []
        for leaf in self.regularizer.leaves():
            if segments and forms(segments[-1]) is not None and forms([*segments[-1], leaf]) is not None:
                segments[-1].append(leaf)
            else:
                segments.append([leaf])
        self._segments = [(parts[0] if len(parts) == 1 else Sum(parts), forms(parts)) for parts in segments]
        self._penalty_form = np.zeros((len(self.params), 2))
        self._penalty_rest: list[Regularizer] = []
        for leaf in self.regularizer.leaves():
            form = _penalty_form(leaf, self.infos)
            if form is None:
                self._penalty_rest.append(leaf)
            else:
                self._penalty_form += form
        self._plans: dict[Any, Any] = {}  # device tensors and groupings made from these forms, by layout

    # -- the coupled part ---------------------------------------------------------------------
    def penalty(self) -> Tensor:
        """``Ω(w)`` as a scalar to add to the loss; its gradient is the coupled part only (see the module docstring)."""
        if self._hooks:
            raise ReglabError("this regularization is wrapped into the optimizer, whose step adds the penalty's gradient: "
                              "do not add penalty() to the loss too (value() reports it)")
        self._sync()
        out: Tensor = _Penalty.apply(self, *self.params)
        return out

    @torch.no_grad()
    def value(self) -> Tensor:
        """``Ω(w)`` without a gradient (for logging)."""
        self._sync()
        return self._total(self.params)

    def _total(self, params: tuple[Tensor, ...] | list[Tensor]) -> Tensor:
        """``Σ_k a_k‖w_k‖² + b_k‖w_k‖₁`` in a few fused operations per device (``torch._foreach_norm``, one stack, one
        dot with the coefficients), plus the penalty of each part that has no such form, parameter by parameter."""
        dtype = torch.float32
        for p in params:
            dtype = torch.promote_types(dtype, p.dtype)
        device = params[0].device
        total: Tensor | None = None
        with torch.no_grad():
            for ks, a, b in self._penalty_plan(params, dtype):
                ws = [params[k].detach() for k in ks]
                part = None
                if a is not None:
                    norms = torch.stack(torch._foreach_norm(ws, 2, dtype=dtype))  # (K,)
                    part = torch.dot(norms * norms, a)
                if b is not None:
                    l1 = torch.dot(torch.stack(torch._foreach_norm(ws, 1, dtype=dtype)), b)
                    part = l1 if part is None else part + l1
                if part is not None:
                    part = part.to(device)
                    total = part if total is None else total + part
            for leaf in self._penalty_rest:
                for p, info in zip(params, self.infos):
                    w = p.detach().unsqueeze(0)
                    if w.dtype in LOW_PRECISION:  # a sum of squares in bfloat16 keeps 3 digits
                        w = w.float()
                    part = leaf.penalty(w, info)[0].to(device=device, dtype=dtype)
                    total = part if total is None else total + part
        return torch.zeros((), dtype=dtype, device=device) if total is None else total

    def _penalty_plan(self, params: tuple[Tensor, ...] | list[Tensor],
                      dtype: torch.dtype) -> list[tuple[list[int], Tensor | None, Tensor | None]]:
        """Per device: its parameters and their coefficients ``a`` and ``b`` as tensors there (``None`` where all 0),
        made once per layout of the parameters and λ."""
        key = ("penalty", dtype, tuple(p.device for p in params))
        plan = self._plans.get(key)
        if plan is None:
            plan = []
            for where, ks in _by_device(params).items():
                a, b = (self._penalty_form[ks, j] for j in (0, 1))
                plan.append((ks, *(torch.tensor(c, dtype=dtype, device=where) if c.any() else None for c in (a, b))))
            self._plans[key] = plan
        return plan

    def _coupled_grads(self, g: Tensor) -> list[Tensor | None]:
        out: list[Tensor | None] = [None] * len(self.params)
        with torch.no_grad():
            for reg, form in self._segments:
                if form is not None:
                    grads = self._fused_grads([p.detach() for p in self.params], form)
                else:
                    grads = [None if (gr := reg.grad(p.detach().unsqueeze(0), info)) is None else gr[0]
                             for p, info in zip(self.params, self.infos)]
                for k, gr in enumerate(grads):
                    if gr is not None:
                        out[k] = gr if out[k] is None else out[k] + gr  # type: ignore[operator]
            have = [k for k, gr in enumerate(out) if gr is not None]
            for ks in _by_kind([self.params[k] for k in have]).values():
                scaled = [cast(Tensor, out[have[i]]) for i in ks]
                torch._foreach_mul_(scaled, g.to(device=scaled[0].device, dtype=scaled[0].dtype))
        return out

    @staticmethod
    def _fused_grads(ws: list[Tensor], form: np.ndarray) -> list[Tensor | None]:
        """``λ₂w + λ₁ sgn w`` for every parameter at once (``None`` where both are 0)."""
        l2, l1 = form[:, 0].tolist(), form[:, 1].tolist()
        if not any(l2) and not any(l1):
            return [None] * len(ws)
        grads = torch._foreach_mul(ws, l2)
        if any(l1):
            torch._foreach_add_(grads, torch._foreach_mul(torch._foreach_sign(ws), l1))
        return list(grads)

    @torch.no_grad()
    def add_grads(self) -> None:
        """Add the coupled gradient into each parameter's ``.grad`` (what :func:`wrap` does before the step)."""
        self._sync()
        have = [k for k, p in enumerate(self.params) if p.grad is not None]
        for k in have:
            if self.params[k].grad.is_sparse:  # type: ignore[union-attr]
                raise ReglabError(f"{self.names[k]} has a sparse gradient; reglab's regularizers need dense ones")
        if not have:
            return
        for reg, form in self._segments:
            if form is not None:
                ws, gs = [self.params[k].detach() for k in have], [cast(Tensor, self.params[k].grad) for k in have]
                l2, l1 = form[have, 0], form[have, 1]
                if l2.any():
                    _add_scaled(gs, ws, l2)
                if l1.any():
                    _add_scaled(gs, list(torch._foreach_sign(ws)), l1)
                continue
            for k in have:
                p = self.params[k]
                reg.add_grad(p.detach().unsqueeze(0), self.infos[k], p.grad.unsqueeze(0))  # type: ignore[union-attr]

    # -- the part after the optimizer's step ----------------------------------------------------
    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """Apply the proximal, decoupled and constraint parts; call it right after ``optimizer.step()``.

        The step size of each parameter is its param group's ``lr`` now (``lr/lr₀`` with
        ``decay="lr-free"``). Raises :class:`ReglabError` if the optimizer has not stepped since the
        last call (or since :func:`regularize`), or does not hold every regularized parameter.
        """
        moved = [p for p, v in zip(self.params, self._versions) if p.grad is not None and p._version != v]
        if not any(p.grad is not None for p in self.params):
            raise ReglabError("reg.step(optimizer): no regularized parameter has a gradient; call loss.backward() and "
                              "optimizer.step() first")
        if not moved:
            since = "regularize()" if self.steps == 0 else "the last reg.step()"
            raise ReglabError(f"reg.step(optimizer) was called before optimizer.step(): no parameter moved since {since} "
                              "(or let reglab.wrap(optimizer, reg) do both)")
        self._after_step(optimizer)

    @torch.no_grad()
    def _after_step(self, optimizer: torch.optim.Optimizer) -> None:
        where = self._where(optimizer)
        self._optimizer = optimizer
        self._sync()
        groups = optimizer.param_groups
        have = [k for k, p in enumerate(self.params) if p.grad is not None]
        for reg, form in self._segments:
            if form is not None and have:
                self._fused_prox(have, form, [self._eta(groups[where[k]], where[k]) for k in have])
                if np.isfinite(form[:, 4]).any():
                    self._project(have, form[:, 4])
                continue
            for k in have:
                p = self.params[k]
                w = p.detach().unsqueeze(0)
                new = reg.prox(w, self._step_size(groups[where[k]], where[k], p), self.infos[k])
                if new is not w:
                    w.copy_(new)
        self.steps += 1
        self._versions = self._read_versions()

    def _fused_prox(self, have: list[int], form: np.ndarray, etas: list[float]) -> None:
        """``w ← (1 − ηd) w``, then ``w ← w − clip(w, −ηt, ηt)``, for every parameter at once (the engine's order)."""
        ws = [self.params[k].detach() for k in have]
        d, t = form[have, 2], form[have, 3]
        if d.any():
            torch._foreach_mul_(ws, [1.0 - eta * dk for eta, dk in zip(etas, d.tolist())])
        if t.any():
            thresholds = [eta * tk for eta, tk in zip(etas, t.tolist())]
            clipped = torch._foreach_clamp_max(ws, thresholds)
            torch._foreach_clamp_min_(clipped, [-x for x in thresholds])
            torch._foreach_sub_(ws, clipped)

    def _project(self, have: list[int], radius: np.ndarray) -> None:
        r"""Each unit's incoming weights onto the ball of its parameter's radius ``c`` (∞: none), as
        :meth:`MaxNorm.prox <reglab.engine.regularizers.MaxNorm.prox>`: :math:`w_j \leftarrow w_j \min(1, c/\lVert w_j
        \rVert)`. The units' norms are taken once per group of parameters whose units have the same length (their rows
        concatenated), the factors ``min(1, c/‖w_j‖)`` for all units of a dtype and device at once, and applied by one
        ``torch._foreach_mul_``."""
        for order, rows, sizes, shapes, radii in self._projection_plan(have, radius):
            ws = [self.params[k].detach() for k in order]
            units = [w.reshape(size, -1) for w, size in zip(ws, sizes)]  # (U, incoming)
            norms, start = [], 0
            for count in rows:
                together = units[start] if count == 1 else torch.cat(units[start:start + count])
                norms.append(torch.linalg.vector_norm(together, dim=1))
                start += count
            scale = torch.clamp(radii / (norms[0] if len(norms) == 1 else torch.cat(norms)), max=1.0)  # (units,)
            torch._foreach_mul_(ws, [f.view(shape) for f, shape in zip(scale.split(sizes), shapes)])

    def _projection_plan(self, have: list[int], radius: np.ndarray) -> list[tuple[list[int], list[int], list[int],
                                                                              list[tuple[int, ...]], Tensor]]:
        """Per dtype and device: its parameters with a finite radius, ordered by the length of their units, the number of
        parameters of each length, each one's number of units and the shape of its factors (``(U, 1, …)``), and each
        unit's radius (in that order) as a tensor there; made once per layout and λ."""
        key = ("projection", tuple(have), tuple((p.device, p.dtype, p.shape) for p in self.params))
        plan = self._plans.get(key)
        if plan is not None:
            return cast(list[tuple[list[int], list[int], list[int], list[tuple[int, ...]], Tensor]], plan)
        plan = []
        ks = [k for k in have if math.isfinite(radius[k])]
        for members in _by_kind([self.params[k] for k in ks]).values():
            rows: dict[int, list[int]] = {}
            for k in (ks[i] for i in members):
                p = self.params[k]
                rows.setdefault(math.prod(p.shape[1:]) if p.dim() else 1, []).append(k)
            order = [k for row in rows.values() for k in row]
            sizes = [self.params[k].shape[0] if self.params[k].dim() else 1 for k in order]
            shapes = [tuple(self.params[k].shape[:1]) + (1,) * (self.params[k].dim() - 1) for k in order]
            radii = np.concatenate([np.full(size, radius[k]) for k, size in zip(order, sizes)])
            p0 = self.params[order[0]]
            plan.append((order, [len(row) for row in rows.values()], sizes, shapes,
                         torch.tensor(radii, dtype=p0.dtype, device=p0.device)))
        self._plans[key] = plan
        return plan

    def _eta(self, group: dict[str, Any], g: int) -> float:
        """The step size of the parts after the optimizer's step: ``lr``, or ``lr/lr₀`` with ``decay="lr-free"``."""
        lr = self._lr(group)
        if self.decay == "lr-free":
            lr0 = self._lr0[g]
            lr = lr / lr0 if lr0 else 0.0
        return lr

    def _step_size(self, group: dict[str, Any], g: int, p: Tensor) -> Tensor:
        lr = self._eta(group, g)
        key = (lr, p.dtype, p.device)
        size = self._sizes.get(key)
        if size is None:
            if len(self._sizes) > 64:
                self._sizes.clear()
            size = self._sizes[key] = torch.tensor(lr, dtype=p.dtype, device=p.device)
        return size

    @staticmethod
    def _lr(group: dict[str, Any]) -> float:
        if "lr" not in group:
            raise ReglabError("the optimizer's param groups have no 'lr': reglab reads the step size from it")
        return float(group["lr"])

    def _where(self, optimizer: torch.optim.Optimizer) -> list[int]:
        """The param group of each regularized parameter (checked once per layout of the optimizer)."""
        layout = (id(optimizer), *(len(group["params"]) for group in optimizer.param_groups))
        if self._groups is not None and self._groups[0] == layout:
            return self._groups[1]
        index = {id(p): g for g, group in enumerate(optimizer.param_groups) for p in group["params"]}
        missing = [name for name, p in zip(self.names, self.params) if id(p) not in index and p.requires_grad]
        if missing:
            more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
            raise ReglabError(f"the optimizer's param groups do not hold {', '.join(missing[:3])}{more}, which "
                              "regularize() was given: build the optimizer from the same model's parameters")
        where = [index.get(id(p), -1) for p in self.params]
        for g in set(where) - {-1}:
            group = optimizer.param_groups[g]
            self._lr0.setdefault(g, float(group.get("initial_lr", self._lr(group))))
        self._groups = (layout, where)
        return where

    # -- the schedule ---------------------------------------------------------------------------
    def _sync(self) -> None:
        """Set λ of step ``self.steps`` (with the learning rates' ratios to their initial values)."""
        ratio = 1.0
        if self._optimizer is not None and self._groups is not None:
            groups = self._optimizer.param_groups
            ratios = {self._lr(groups[g]) / self._lr0[g] if self._lr0[g] else 1.0 for g in set(self._groups[1]) - {-1}}
            factors = {float(self.schedule.factor(self.steps, r)) for r in ratios}
            if len(factors) > 1:
                raise ReglabError(f"{self.schedule!r} gives the param groups different factors ({sorted(factors)}): their "
                                  "learning rates have different ratios to their initial values")
            ratio = next(iter(ratios), 1.0)
        if self._scheduled.apply(self.steps, ratio) and self._segments:
            self._segment()  # λ changed: the fused forms with it

    # -- wrapping into the optimizer ------------------------------------------------------------
    def attach(self, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Hook this regularization into ``optimizer.step()`` (see :func:`wrap`); returns ``optimizer``."""
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ReglabError(f"wrap() takes a torch.optim optimizer, got {type(optimizer).__name__}")
        if any(o is optimizer for o, _, _ in self._hooks):
            raise ReglabError("this regularization is already wrapped into that optimizer")
        self._where(optimizer)  # the coverage check, now rather than at the first step
        pre = optimizer.register_step_pre_hook(self._pre_hook)
        post = optimizer.register_step_post_hook(lambda opt, args, kwargs: self._after_step(opt))
        self._hooks.append((optimizer, pre, post))
        self._optimizer = optimizer
        return optimizer

    def detach(self) -> None:
        """Remove the hooks :meth:`attach` added."""
        for _, pre, post in self._hooks:
            pre.remove()
            post.remove()
        self._hooks.clear()

    def _pre_hook(self, optimizer: torch.optim.Optimizer, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        # args are step()'s own: (optimizer, closure?) — the bound method's self comes first
        closure: Callable[[], Any] | None = kwargs.get("closure", args[1] if len(args) > 1 else None)
        if closure is None:
            self.add_grads()
            return None

        def regularized() -> Any:  # the closure recomputes the gradients: add ours after it
            loss = closure()
            self.add_grads()
            return loss if loss is None else loss + self.value().to(loss.dtype)

        if "closure" in kwargs:
            return args, {**kwargs, "closure": regularized}
        return (args[0], regularized, *args[2:]), kwargs

    # -- reading ------------------------------------------------------------------------------
    def audit(self, batch_size: int | None = None) -> Audit:
        """Every parameter: regularized or not and which rule decided, its multiplier, and each regularizer's
        strength in reglab's units (λ, λ/n) and in PyTorch's, Keras's and scikit-learn's (``batch_size``:
        the mini-batch size scikit-learn's MLP ``alpha`` depends on)."""
        return Audit(self.entries, self.source, self.n, batch_size, self.decay, self.schedule)

    def _read_versions(self) -> list[int]:
        return [p._version for p in self.params]

    def _name(self, p: Tensor) -> str:
        return next(name for name, q in zip(self.names, self.params) if q is p)

    def __repr__(self) -> str:
        extra = "" if isinstance(self.schedule, Constant) else f", schedule={self.schedule!r}"
        extra += "" if self.decay == "lr" else f", decay={self.decay!r}"
        return (f"Regularization({self.source!r}, n={self.n}, {len(self.params)} of {len(self.entries)} parameters"
                f"{extra})")


def _penalty_form(leaf: Regularizer, infos: list[Param]) -> np.ndarray | None:
    """``(K, 2)``: ``(a, b)`` per parameter with ``leaf.penalty = a Σw² + b Σ|w|``, read from its compiled form
    ``(λ₂, λ₁, d, t, c)``: ``a = (λ₂ + d)/2``, ``b = λ₁ + t`` (a projection adds nothing) — or ``None`` where the form
    does not say the penalty: no form, or a ``penalty`` of its own below the class that states the form (a penalty
    the base class gives, 0, only where the form has no λ₂, λ₁, d or t)."""
    forms = [leaf.compiled_form(info) for info in infos]
    if any(f is None for f in forms):
        return None
    form = np.stack([f[0] for f in forms])  # type: ignore[index]
    penalty = _owner(type(leaf), "penalty")
    stated = {_owner(type(leaf), name) for name in ("elementwise", "compiled_form")}
    if penalty not in stated and not (penalty is Regularizer and not form[:, :4].any()):
        return None
    return np.stack([(form[:, 0] + form[:, 2]) / 2, form[:, 1] + form[:, 3]], axis=1)


def _owner(cls: type, name: str) -> type:
    """The class whose own ``name`` an instance of ``cls`` uses."""
    return next(c for c in cls.__mro__ if name in c.__dict__)


def _add_scaled(gs: list[Tensor], xs: list[Tensor], coefs: np.ndarray) -> None:
    """``g_k += c_k x_k`` for every k: one operation where all ``c_k`` are equal (as ``weight_decay``'s), else two."""
    if (coefs == coefs[0]).all():
        torch._foreach_add_(gs, xs, alpha=float(coefs[0]))
    else:
        torch._foreach_add_(gs, torch._foreach_mul(xs, coefs.tolist()))


def _by_device(params: tuple[Tensor, ...] | list[Tensor]) -> dict[torch.device, list[int]]:
    out: dict[torch.device, list[int]] = {}
    for k, p in enumerate(params):
        out.setdefault(p.device, []).append(k)
    return out


def _by_kind(params: list[Tensor]) -> dict[tuple[torch.device, torch.dtype], list[int]]:
    """Positions of ``params`` by device and dtype (what one ``torch._foreach_*`` call can take together)."""
    out: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for k, p in enumerate(params):
        out.setdefault((p.device, p.dtype), []).append(k)
    return out


def regularize(model: nn.Module, regularizer: Regularizer, n: int, *, mask: MaskSpec = "weights",
               per_layer: Mapping[str, float] | None = None, schedule: Schedule | None = None,
               decay: str = "lr") -> Regularization:
    """Bind ``regularizer`` to ``model``'s parameters: ``loss + reg.penalty()``, then ``reg.step(optimizer)``
    after ``optimizer.step()`` (see :class:`Regularization` for the parameters)."""
    return Regularization(model, regularizer, n, mask=mask, per_layer=per_layer, schedule=schedule, decay=decay)


def wrap(optimizer: torch.optim.Optimizer, regularization: Regularization) -> torch.optim.Optimizer:
    """``optimizer`` itself, whose ``step()`` now also regularizes: before it, the coupled gradient is added to
    each parameter's ``.grad`` (so the loss needs no penalty); after it, :meth:`Regularization.step`.

    Step hooks rather than a wrapper class: LR schedulers, ``GradScaler``, ``state_dict`` and Lightning
    see the optimizer they know. ``regularization.detach()`` removes them.
    """
    if not isinstance(regularization, Regularization):
        raise ReglabError(f"wrap(optimizer, reg) takes what reglab.regularize() returns, got {type(regularization).__name__}")
    return regularization.attach(optimizer)
