r"""More training data from the data: the book's expansion by one-pixel shifts, and random shifts and rotations.

Images are the rows of an ``(N, d)`` array, ``d = side²`` pixels in row-major order (one channel: MNIST's
28×28, the 8×8 digits). Pixels moved in from outside the image are 0 (MNIST's background).

* :func:`shift` moves every image by ``(dy, dx)`` pixels (down and right positive): exact copies of pixels.
* :func:`expand_shifts` is the expansion of chapter 3 of Nielsen's book (his ``expand_mnist.py``): each
  training image and its four shifts by one pixel (down, up, right, left), ``5N`` images from ``N``, written
  into one array allocated once.
* :class:`Augment` draws a fresh random transformation of every image each epoch from a generator
  (``shift:k``: an integer shift uniform in ``{−k … k}²``; ``rotate:θ``: a rotation about the image's centre
  by an angle uniform in ``[−θ°, θ°]``, bilinear; both: the rotation, then the shift), into a buffer the
  training steps read: the augmented set exists once, overwritten every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from reglab.errors import ReglabError

#: The book's four shifts by one pixel, in the order of its expand_mnist.py: down, up, right, left.
BOOK_SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def image_side(d: int, what: str = "--expand") -> int:
    """The side of square images of ``d`` pixels, or a one-line error where ``d`` is not a square."""
    side = math.isqrt(d)
    if side * side != d:
        raise ReglabError(f"{what} moves the pixels of square images, but the inputs have {d} features (not a square)")
    return side


def shift_into(X: np.ndarray | Tensor, side: int, dy: int, dx: int, out: np.ndarray | Tensor) -> None:
    """``out ← X`` with every image moved by ``dy`` rows (down positive) and ``dx`` columns (right positive).

    ``X`` and ``out``: ``(N, side²)``, numpy or torch alike, not overlapping; the pixels moved in are 0.
    """
    src = X.reshape(-1, side, side)
    dst = out.reshape(-1, side, side)
    dst[:] = 0
    rows_to, rows_from = slice(max(dy, 0), side + min(dy, 0)), slice(max(-dy, 0), side + min(-dy, 0))
    cols_to, cols_from = slice(max(dx, 0), side + min(dx, 0)), slice(max(-dx, 0), side + min(-dx, 0))
    dst[:, rows_to, cols_to] = src[:, rows_from, cols_from]  # type: ignore[assignment]  # numpy or torch alike


def shift(X: np.ndarray, side: int, dy: int, dx: int) -> np.ndarray:
    """:func:`shift_into` into a new array: ``(N, side²)``."""
    out = np.empty_like(X)
    shift_into(X, side, dy, dx, out)
    return out


def expand_shifts(X: np.ndarray, y: np.ndarray, side: int, dtype: np.dtype | type = np.float32,
                  shifts: Sequence[tuple[int, int]] = BOOK_SHIFTS) -> tuple[np.ndarray, np.ndarray]:
    """The book's expanded training set: ``X`` followed by each of its shifts, ``(1 + len(shifts))·N`` images.

    Returns ``(X5 (5N, d), y5 (5N,))``: the originals first, then all images shifted down by one pixel,
    then up, right and left (the book interleaves them image by image; the training steps shuffle
    anyway). ``X5`` is allocated once, in ``dtype``, and each block written straight into it.
    """
    N, d = X.shape
    out = np.empty(((1 + len(shifts)) * N, d), dtype=dtype)
    out[:N] = X
    for k, (dy, dx) in enumerate(shifts, start=1):
        shift_into(X, side, dy, dx, out[k * N:(k + 1) * N])
    return out, np.tile(y, 1 + len(shifts))


def rotate_into(X: Tensor, side: int, degrees: Tensor, out: Tensor, dy: Tensor | None = None,
                dx: Tensor | None = None, chunk: int = 4096) -> None:
    r"""``out ← X`` with image ``i`` rotated by ``degrees[i]`` counter-clockwise (as displayed, row 0 on top;
    90° is ``np.rot90``) about its centre, then moved by ``(dy[i], dx[i])`` pixels; bilinear, 0 outside.

    Output pixel ``p = (r, c)`` takes the input at ``R(−θ)(p − (d_y, d_x) − o) + o``, ``o`` the centre
    ``((side − 1)/2, (side − 1)/2)`` and ``R(−θ)(r, c) = (r cos θ + c sin θ, −r sin θ + c cos θ)`` the
    inverse of the counter-clockwise turn on the screen. In float64, ``chunk`` images at a time.
    ``X``, ``out``: ``(N, side²)`` tensors.
    """
    o = (side - 1) / 2
    device = X.device
    grid = torch.arange(side, dtype=torch.float64, device=device) - o
    zero = torch.zeros((), dtype=torch.float64, device=device)
    for start in range(0, X.shape[0], chunk):
        part = slice(start, start + chunk)
        images = X[part]
        N = images.shape[0]
        theta = torch.deg2rad(degrees[part].to(device, torch.float64)).view(N, 1, 1)
        cos, sin = torch.cos(theta), torch.sin(theta)
        r = grid.view(1, side, 1) - (0 if dy is None else dy[part].to(device, torch.float64).view(N, 1, 1))
        c = grid.view(1, 1, side) - (0 if dx is None else dx[part].to(device, torch.float64).view(N, 1, 1))
        src_r, src_c = cos * r + sin * c + o, -sin * r + cos * c + o  # (N, side, side)
        r0, c0 = torch.floor(src_r), torch.floor(src_c)
        fr, fc = src_r - r0, src_c - c0
        total = torch.zeros(N, side, side, dtype=torch.float64, device=device)
        for dr, dc, w in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
            rr, cc = r0 + dr, c0 + dc
            inside = (rr >= 0) & (rr < side) & (cc >= 0) & (cc < side)
            index = (rr.clamp(0, side - 1) * side + cc.clamp(0, side - 1)).long().view(N, -1)
            values = torch.gather(images, 1, index).view(N, side, side).to(torch.float64)
            total += torch.where(inside, w * values, zero)
        out[part] = total.view(N, side * side).to(out.dtype)


@dataclass(frozen=True)
class Augment:
    """Random transformations drawn afresh every epoch: ``shift`` pixels (integer, each way) and ``rotate``
    degrees (each way); either may be 0.

    ``Augment.parse(["shift:1", "rotate:15"], side=28)`` is the CLI's ``--augment shift:1,rotate:15``.
    """

    side: int
    shift: int = 0
    rotate: float = 0.0

    @classmethod
    def parse(cls, specs: Sequence[str], side: int) -> Augment:
        """From ``kind:amount`` specs (``shift:1``, ``rotate:15``); a one-line error names a bad one."""
        amounts: dict[str, float] = {}
        for spec in specs:
            kind, _, amount = spec.partition(":")
            try:
                value = float(amount)
            except ValueError:
                value = math.nan
            if kind not in ("shift", "rotate") or not math.isfinite(value) or value < 0 or kind in amounts:
                raise ReglabError(f"--augment {spec!r}: expected shift:PIXELS (an integer) or rotate:DEGREES, each "
                                  "at most once, with amounts ≥ 0")
            if kind == "shift" and (value != int(value) or value >= side):
                raise ReglabError(f"--augment {spec!r}: the shift is a whole number of pixels below the side, {side}")
            amounts[kind] = value
        return cls(side, int(amounts.get("shift", 0)), amounts.get("rotate", 0.0))

    def __bool__(self) -> bool:
        return bool(self.shift or self.rotate)

    def specs(self) -> list[str]:
        """The CLI's spelling: ``["shift:1", "rotate:15"]``."""
        return [s for s, on in ((f"shift:{self.shift}", self.shift), (f"rotate:{self.rotate:g}", self.rotate)) if on]

    def __call__(self, X: Tensor, g: torch.Generator, out: Tensor) -> None:
        """``out ← X`` transformed, each image by its own draw from ``g``: the angle, then the shift."""
        N = X.shape[0]
        k = self.shift
        dy = torch.randint(-k, k + 1, (N,), generator=g) if k else None
        dx = torch.randint(-k, k + 1, (N,), generator=g) if k else None
        if self.rotate:
            degrees = (torch.rand(N, generator=g, dtype=torch.float64) * 2 - 1) * self.rotate
            rotate_into(X, self.side, degrees, out, dy, dx)
            return
        if dy is None or dx is None:
            out.copy_(X)
            return
        code = ((dy + k) * (2 * k + 1) + (dx + k)).to(X.device)  # exact integer shifts, a slice copy per (dy, dx)
        for value in torch.unique(code).tolist():
            rows = torch.nonzero(code == value).view(-1)
            moved = torch.empty((len(rows), X.shape[1]), dtype=X.dtype, device=X.device)
            shift_into(X[rows], self.side, value // (2 * k + 1) - k, value % (2 * k + 1) - k, moved)
            out[rows] = moved
