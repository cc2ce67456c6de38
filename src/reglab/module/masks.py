"""Which parameters of a module are regularized, and how strongly: masks and per-layer multipliers, as data.

A mask is one of

* ``"weights"`` (the default): weight matrices and convolution kernels; not biases or other 1-D
  parameters, not normalization layers, not embedding tables (what network2, scikit-learn and most
  training recipes decay; PyTorch's ``weight_decay`` decays everything it is given);
* ``"all"``: every parameter;
* a callable ``(module_name, param_name, param) -> bool``;
* a list of globs (``fnmatch``) over the parameter's full name (``"fc2.weight"``) or its module's
  (``"fc2"``): a parameter is regularized where one matches.

:func:`choose` walks a model and returns one :class:`Entry` per parameter, with the decision and the
rule that made it (what :meth:`reglab.module.Regularization.audit` shows). Per-layer multipliers
(``per_layer={"fc2": 0.1, "conv*": 2}``) are globs over the same names; where several match, the
last one given wins. A glob or per-layer name that matches nothing is an error, not a silent no-op.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from reglab.errors import ReglabError

MaskFn = Callable[[str, str, torch.Tensor], bool]
MaskSpec = str | MaskFn | Sequence[str]

#: Module types whose parameters the ``"weights"`` mask never decays, and why.
NORM_LAYERS: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm,
    *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),
)
EMBEDDINGS: tuple[type[nn.Module], ...] = (nn.Embedding, nn.EmbeddingBag)


@dataclass(frozen=True)
class Entry:
    """One parameter of the model: where it sits, whether it is regularized, why, and its multiplier."""

    name: str  # full name, "features.0.weight"
    module_name: str  # "features.0" ("" for the model itself)
    param_name: str  # "weight"
    module_type: str  # "Conv2d"
    param: torch.Tensor
    regularized: bool
    rule: str  # which rule decided
    scale: float = 1.0
    scale_rule: str = ""  # the per-layer glob that set ``scale``

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.param.shape)


def unwrap(model: nn.Module) -> nn.Module:
    """The module a ``torch.compile``d model wraps (its names carry no ``_orig_mod.`` prefix)."""
    inner = getattr(model, "_orig_mod", None)
    return inner if isinstance(inner, nn.Module) else model


def named_parameters(model: nn.Module) -> list[tuple[str, str, nn.Module, torch.Tensor]]:
    """``(module_name, param_name, module, param)`` for every parameter once (a tied parameter where first met)."""
    seen: set[int] = set()
    out = []
    for module_name, module in unwrap(model).named_modules():
        for param_name, p in module.named_parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                out.append((module_name, param_name, module, p))
    return out


def _weights_rule(module: nn.Module, param: torch.Tensor) -> tuple[bool, str]:
    kind = type(module).__name__
    if isinstance(module, EMBEDDINGS):
        return False, f"weights: {kind} (embedding)"
    if isinstance(module, NORM_LAYERS):
        return False, f"weights: {kind} (normalization)"
    if param.dim() < 2:
        return False, "weights: 1-D (bias, scale)"
    what = "kernel" if isinstance(module, nn.modules.conv._ConvNd) else "weight"
    return True, f"weights: {kind} {what}"


def _full(module_name: str, param_name: str) -> str:
    return f"{module_name}.{param_name}" if module_name else param_name


def _matches(pattern: str, module_name: str, param_name: str) -> bool:
    return fnmatch.fnmatchcase(_full(module_name, param_name), pattern) or fnmatch.fnmatchcase(module_name, pattern)


def choose(model: nn.Module, mask: MaskSpec = "weights", per_layer: Mapping[str, float] | None = None) -> list[Entry]:
    """One :class:`Entry` per parameter of ``model``; errors (:class:`ReglabError`) for a mask or
    multiplier that matches nothing, a negative multiplier, a regularized parameter that is not floating
    point, and a mask that selects no parameter."""
    params = named_parameters(model)
    if not params:
        raise ReglabError("the model has no parameters to regularize")
    globs: list[str] | None = None
    if isinstance(mask, str):
        if mask not in ("weights", "all"):
            raise ReglabError(f"mask {mask!r} is not 'weights', 'all', a callable or a list of globs")
    elif callable(mask):
        pass
    else:
        globs = [str(g) for g in mask]
        if not globs:
            raise ReglabError("mask: an empty list of globs selects no parameter")
    scales = dict(per_layer or {})
    for key, value in scales.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ReglabError(f"per_layer[{key!r}] must be a finite number ≥ 0, got {value!r}")
    for pattern in [*(globs or []), *scales]:
        if not any(_matches(pattern, mn, pn) for mn, pn, _, _ in params):
            names = ", ".join(_full(mn, pn) for mn, pn, _, _ in params[:6]) + (", …" if len(params) > 6 else "")
            what = "mask glob" if globs and pattern in globs else "per_layer name"
            raise ReglabError(f"{what} {pattern!r} matches no parameter of the model (it has {names})")

    entries = []
    for module_name, param_name, module, p in params:
        if mask == "weights":
            decided, rule = _weights_rule(module, p)
        elif mask == "all":
            decided, rule = True, "all"
        elif globs is not None:
            hit = next((g for g in globs if _matches(g, module_name, param_name)), None)
            decided, rule = hit is not None, f"glob {hit!r}" if hit else "no glob matched"
        else:
            assert callable(mask)
            decided = bool(mask(module_name, param_name, p))
            rule = f"{getattr(mask, '__name__', type(mask).__name__)}(…) → {decided}"
        scale, scale_rule = 1.0, ""
        for pattern, value in scales.items():
            if _matches(pattern, module_name, param_name):
                scale, scale_rule = float(value), f"per_layer {pattern!r}"
        full = _full(module_name, param_name)
        if decided and not p.is_floating_point():
            raise ReglabError(f"parameter {full} is {p.dtype}, not floating point: it cannot be regularized or "
                              "monitored (leave it out with the mask)")
        entries.append(Entry(full, module_name, param_name, type(module).__name__, p, decided, rule, scale, scale_rule))
    if not any(e.regularized for e in entries):
        raise ReglabError(f"mask {mask!r} selects no parameter of the model")
    return entries
