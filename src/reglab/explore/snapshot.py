"""Compact snapshots of the models for the page: a few kilobytes of JSON, never whole weight tensors.

A snapshot is what one redraw of the page needs, per column (model ``m``):

* ``point``: the numbers of the monitor's record at this moment (costs per
  split, the penalty apart, accuracies, per-layer RMS and count of exact
  zeros), each a list over the columns;
* ``boundary`` (2-D data): the class and the confidence of every cell of a
  ``G × G`` grid over the input square, one byte each;
* ``tiles`` (image data): the first layer's incoming weights of each hidden
  unit as a signed 8-bit image, scaled by the column's ``max |w|``;
* ``links`` (small networks): every weight as a signed byte on one scale
  shared by the columns (a link's width ∝ ``|w|``), with exact zeros kept
  apart from small weights (dead links);
* ``histograms``: each layer's weights in bins shared by the columns.

Bytes travel as base64 strings. :func:`quantize` fixes the one signed-byte
code: ``0`` only for an exact zero, else ``sign(w)·max(1, round(127|w|/scale))``.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from reglab.engine.history import Numbers
from reglab.engine.model import MLP
from reglab.explore.datasets import BOX

#: Cells per side of the decision-boundary grid.
GRID = 48
#: Hidden units shown as first-layer tiles, at most.
MAX_TILES = 64
#: Networks drawn link by link: at most this many units in a layer.
MAX_DRAWN_WIDTH = 16
#: Bins of a weight histogram.
BINS = 30

#: The numbers of a point: metric of the monitor's record → name on the page.
POINT_METRICS = ("penalty", "train_cost", "validation_cost", "test_cost", "train_accuracy", "validation_accuracy",
                 "test_accuracy")


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def quantize(w: Tensor, scale: float) -> np.ndarray:
    """Signed bytes: 0 only where ``w == 0`` exactly, else ``sign(w)·max(1, round(127|w|/scale))`` (≤ 127)."""
    a = w.detach().double().numpy()
    if scale <= 0 or not math.isfinite(scale):
        return np.where(a == 0, 0, np.sign(np.nan_to_num(a))).astype(np.int8)
    q = np.clip(np.rint(np.abs(a) / scale * 127), 1, 127) * np.sign(a)
    return np.where(a == 0, 0, np.nan_to_num(q)).astype(np.int8)


def _finite_abs(t: Tensor) -> Tensor:
    """``|t|``, with 0 where ``t`` is not finite (a mask, not a selection: no copy of the finite values)."""
    return torch.nan_to_num(t.abs(), nan=0.0, posinf=0.0)


def _max_abs(ts: list[Tensor]) -> float:
    """The largest finite ``|w|`` over ``ts`` (0 when there is none)."""
    return max((_finite_abs(t).amax().item() for t in ts if t.numel()), default=0.0)


def point(epoch: float, numbers: Numbers, n_layers: int) -> dict[str, Any]:
    """The numbers of one measured moment: ``{metric: [per column]}``, per-layer RMS and zeros as ``[[per column]]``."""
    out: dict[str, Any] = {"epoch": epoch}
    for key in POINT_METRICS:
        if key in numbers:
            out[key] = numbers[key].tolist()
    out["rms"] = [numbers[("rms", l)].tolist() for l in range(n_layers)]
    out["zeros"] = [numbers[("zeros", l)].tolist() for l in range(n_layers)]
    return out


@torch.no_grad()
def classes(model: MLP, grid: int = GRID) -> tuple[Tensor, Tensor]:
    """Class and confidence per cell of a ``grid × grid`` raster of the box, rows from the top (y = 1) down:
    two ``(M, grid, grid)`` tensors. The confidence is ``(p_max − 1/K)/(1 − 1/K)`` ∈ [0, 1] of the outputs
    normalized to sum to one."""
    ticks = torch.linspace(BOX[0], BOX[1], grid)
    ys, xs = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")
    X = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).to(model.dtype)  # (G², 2)
    out = model.output(X).double()  # (M, G², K)
    K = out.shape[-1]
    p = out / out.sum(dim=-1, keepdim=True).clamp_min(1e-300)
    top, cls = p.max(dim=-1)
    conf = ((top - 1.0 / K) / (1.0 - 1.0 / K)).nan_to_num(0.0).clamp(0, 1)
    return cls.reshape(-1, grid, grid), conf.reshape(-1, grid, grid)


def boundary(model: MLP, grid: int = GRID) -> dict[str, Any]:
    """:func:`classes` as bytes: the class, and the confidence times 255."""
    cls, conf = classes(model, grid)
    return {
        "grid": grid,
        "box": list(BOX),
        "classes": [b64(c.numpy().astype(np.uint8)) for c in cls],
        "confidence": [b64((255 * c).round().numpy().astype(np.uint8)) for c in conf],
    }


def tile_shape(n_in: int) -> tuple[int, int] | None:
    """Rows and columns of a first-layer tile: a square image, else one row (``None`` for 2-D inputs)."""
    if n_in <= 2:
        return None
    side = math.isqrt(n_in)
    return (side, side) if side * side == n_in else (1, n_in)


def tiles(model: MLP) -> dict[str, Any] | None:
    """The first :data:`MAX_TILES` hidden units' incoming weights per column, each column on its own scale."""
    W = model.weights[0]  # (M, n_out, n_in)
    shape = tile_shape(W.shape[2])
    if shape is None or len(model.weights) < 2:
        return None
    shown = W[:, :MAX_TILES]
    scales = _finite_abs(shown).amax(dim=(1, 2)).tolist()  # (M,)
    return {"shape": list(shape), "units": int(shown.shape[1]), "of": int(W.shape[1]), "scale": scales,
            "data": [b64(quantize(w, s)) for w, s in zip(shown, scales)]}


def links(model: MLP) -> dict[str, Any] | None:
    """Every weight of a small network as a signed byte on one scale for all columns, or ``None`` (too large)."""
    if max(model.sizes) > MAX_DRAWN_WIDTH:
        return None
    scale = _max_abs(model.weights)
    return {"sizes": model.sizes, "scale": scale,
            "layers": [[b64(quantize(W[m], scale)) for m in range(model.M)] for W in model.weights]}


def histograms(model: MLP, bins: int = BINS) -> list[dict[str, Any]]:
    """Per layer: the bin range ``±max |w|`` over every column, and each column's counts."""
    out = []
    for W in model.weights:
        a = _max_abs([W]) or 1.0
        counts = [np.histogram(w[np.isfinite(w)], bins=bins, range=(-a, a))[0].tolist()
                  for w in W.reshape(W.shape[0], -1).double().numpy()]
        out.append({"range": a, "counts": counts})
    return out


def visuals(model: MLP, planar: bool) -> dict[str, Any]:
    """What a redraw shows besides the numbers: the boundary (2-D data) or the tiles, links, histograms."""
    return {
        "boundary": boundary(model) if planar else None,
        "tiles": None if planar else tiles(model),
        "links": links(model),
        "histograms": histograms(model),
    }
