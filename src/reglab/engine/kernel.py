r"""The compiled training step: one epoch of every model in one call, on the CPU.

The same mathematics as the tensor steps of :func:`reglab.engine.loop.fit` (and
tested equal to them), compiled with numba so that a step on a mini-batch of 10 costs
a few microseconds of fixed overhead instead of the ~25 framework calls of the
tensor program. For each mini-batch of ``m`` examples and each model:

.. math::  z^{l} = a^{l} W^{l\,T} + b^{l}, \quad a^{l+1} = f(z^{l}); \qquad
           \delta^{l-1} = (\delta^{l} W^{l}) \odot f'(z^{l-1});

.. math::  g = \tfrac1m\,\delta^{l\,T} a^{l} + \lambda_2 w + \lambda_1 \operatorname{sgn} w
           \quad\text{(the data gradient plus the coupled regularizers)},

then the optimizer's step with ``η`` of the model, then the decoupled parts:
``w ← (1 − η d) w`` and ``w ← w − clip(w, −η t, η t)`` (soft-thresholding), then the
max-norm constraint: each unit's row ``w_j ← w_j·min(1, c/‖w_j‖)``.
``λ₂, λ₁, d, t`` are the regularizers' elementwise form
(:meth:`reglab.engine.regularizers.Regularizer.elementwise`) and ``c`` their radius
(:meth:`~reglab.engine.regularizers.Regularizer.max_norm`), per model and parameter.
With dropout, each layer's input ``a^l`` is replaced by ``a^l ⊙ r/(1 − p_l)`` in the
forward pass and in the weight gradient, and ``δ^{l−1}`` is multiplied by the same
factors; the masks ``r`` are hashes of (model, step, layer, example, unit), the
stream of :mod:`reglab.engine.dropout`, computed here in 32-bit vector lanes.
Plain SGD without soft-thresholding (the book's step) adds ``−(η/m) δᵀa`` straight
into the shrunk weights instead of forming ``g`` first. Sigmoids and the cost's
exponentials and logarithms are polynomials written so that their loops vectorize
(no library calls), within a few units in the last place.
The steps can also sum each mini-batch's data cost and correct predictions before
its step: the running measure of the training split.

Models are independent, so the kernel trains them in groups that share each
mini-batch's gathered rows and fit in cache, group after group (and groups on
several threads). Each model's arithmetic is the same whichever models train
beside it, so
``M`` models trained together equal the same ``M`` trained one by one, bit
for bit. Weights, biases and optimizer state are the caller's arrays, updated
in place (numpy views of the model's torch tensors).

Codes (data, not flags) are named below (``SIGMOID``, ``CROSS_ENTROPY``,
``ADAM``, …) and the functions branch on those names; the Python side reaches
the kernel only through :mod:`reglab.engine.compiled`, which packs the
arguments.
"""

from __future__ import annotations

import contextlib
import functools
import math
import platform
from collections.abc import Iterator
from typing import Any

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: Floating-point reassociation lets LLVM vectorize the dot products; each model's result
#: still depends only on its own data, so it is deterministic and independent of ``M``.
_FAST = {"reassoc", "contract", "nsz", "arcp"}
#: ``nb.njit`` for a function called only from compiled code: without the wrappers that make it callable from
#: Python, which numba builds for every function it compiles (leaving them out cut a first run's compilation
#: by a tenth, measured here).
_inner: Any = functools.partial(nb.njit, no_cpython_wrapper=True, no_cfunc_wrapper=True)
#: ``nb.njit`` for a function that allocates nothing and returns no array: compiled without numba's reference
#: counting. Its arrays are its caller's, borrowed for the call; numba would otherwise count each reference to an
#: array argument or view up and down with an atomic instruction, though none can be freed meanwhile (183 times
#: per step of one [784, 30, 10] model; 78 with these, and the step 3–4% faster, measured here). numba refuses
#: to compile one that allocates or returns an array, so the flag cannot hide a missing reference.
_borrows: Any = functools.partial(nb.njit, _nrt=False)
#: :data:`_borrows` for a function called only from compiled code (without the wrappers, as :data:`_inner`).
_leaf: Any = functools.partial(_borrows, no_cpython_wrapper=True, no_cfunc_wrapper=True)
#: Without reassociation: the exponential's argument reduction must subtract ``n·ln2`` in two parts.
_EXACT_ORDER = {"contract", "nsz", "arcp"}

# Codes (data, not flags): the integers the compiled functions branch on, named once here, beside
# the branches. An activation, cost or optimizer is compiled when its name has a code (the registries
# in reglab.engine.nn and reglab.engine.optim hold everything else about it).
SIGMOID, TANH, RELU, LINEAR = 0, 1, 2, 3
CROSS_ENTROPY, QUADRATIC, LOG_LIKELIHOOD = 0, 1, 2
SGD, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3
ACTIVATION_CODES = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU, "linear": LINEAR}
COST_CODES = {"cross-entropy": CROSS_ENTROPY, "quadratic": QUADRATIC, "log-likelihood": LOG_LIKELIHOOD}
OPTIMIZER_CODES = {"sgd": SGD, "momentum": MOMENTUM, "nesterov": NESTEROV, "adam": ADAM}

#: Bytes of parameters and optimizer state a group of models may fill. The models of a group share
#: each mini-batch's gathered rows; 16 models of [784, 30, 10] (1.5 MB, in L3) were faster per
#: model than 4 (in L2), measured here.
GROUP_BYTES = 1536 * 1024
#: Units per block when one model's step is split over the threads (:func:`train_epoch_wide`); even, so that
#: the blocks keep :func:`dense`'s and :func:`_rows`'s pairs of units, and fixed, so that the numbers do not
#: depend on the thread count.
WIDE_UNITS = 32

U32 = np.uint32
#: Row 0 as an ``int64``, not the literal ``0``: :func:`train_epoch` then calls :func:`_update_rows` and
#: :func:`_below_rows` with the argument types :func:`train_epoch_split` calls them with (a row of its own), so that
#: both load the same compiled callees (:func:`epoch_callees`) and a first run compiles them once.
FIRST = np.int64(0)


def call(compiled, *args):
    """``compiled(*args)``, re-raising as itself an exception that a signal handler raised meanwhile.

    A compiled function does not stop for signals; Python runs their handlers when it returns, and
    one that raises then (Ctrl-C's ``KeyboardInterrupt``, the sweep's SIGTERM) while numba boxes
    the result reaches the caller as a ``SystemError`` caused by it (sometimes through a second
    ``SystemError`` of numba's own). The caller gets the first cause that is not a ``SystemError``.
    """
    try:
        return compiled(*args)
    except SystemError as exc:
        cause: BaseException = exc
        while isinstance(cause, SystemError) and (inner := cause.__cause__ or cause.__context__) is not None:
            cause = inner
        if not isinstance(cause, SystemError):
            raise cause from None
        raise


def pool_size() -> int:
    """The threads numba started (``NUMBA_NUM_THREADS``): the most a compiled call can use."""
    return int(nb.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]  # set at import, not declared


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` numba threads (at most the pool numba started); restored after."""
    before = nb.get_num_threads()
    nb.set_num_threads(max(1, min(n, pool_size())))
    try:
        yield
    finally:
        nb.set_num_threads(before)


@intrinsic
def _exp2i(typingctx, n):
    """``2ⁿ`` for a float ``n`` holding an integer in the normal exponent range, built from its bits
    (an add, a shift and bit casts, which vectorize where ``math.ldexp`` does not)."""
    if not isinstance(n, types.Float):
        return None

    def codegen(context, builder, signature, args):
        width, mantissa, bias = (32, 23, 127) if n.bitwidth == 32 else (64, 52, 1023)
        ft, it = context.get_value_type(n), ir.IntType(width)
        # n + bias + 2^mantissa holds n + bias in its low mantissa bits (no float-to-int conversion,
        # which AVX2 lacks for float64); shifted up, they are the exponent field of 2ⁿ
        shifted = builder.fadd(args[0], ir.Constant(ft, float(bias + 2 ** mantissa)))
        return builder.bitcast(builder.shl(builder.bitcast(shifted, it), ir.Constant(it, mantissa)), ft)

    return n(n), codegen


_LOG2E = 1.4426950408889634
#: ln 2 in two parts (Cody and Waite): ``n·hi`` is exact for the n that occur, ``lo`` the rest.
_LN2_HI32, _LN2_LO32 = 0.693359375, -2.12194440e-4
_LN2_HI64, _LN2_LO64 = 6.93147180369123816490e-01, 1.90821492927058770002e-10
#: Taylor coefficients 1/k! of e^r; |r| ≤ ln2/2 makes degree 7 exact to float32, 12 to float64.
_C = tuple(1.0 / math.factorial(k) for k in range(13))


@nb.njit(fastmath=_EXACT_ORDER, cache=True, inline="always", error_model="numpy")
def _exp32(t):
    """``eᵗ`` in float32 as in :func:`_sigmoid_all` (degree 7), without a library call: loops of it vectorize."""
    n = np.floor(min(max(t * np.float32(_LOG2E), np.float32(-126.0)), np.float32(126.0)) + np.float32(0.5))
    r = (t - n * np.float32(_LN2_HI32)) - n * np.float32(_LN2_LO32)
    p = np.float32(_C[7])
    p = p * r + np.float32(_C[6])
    p = p * r + np.float32(_C[5])
    p = p * r + np.float32(_C[4])
    p = p * r + np.float32(_C[3])
    p = p * r + np.float32(_C[2])
    p = p * r + np.float32(1.0)
    p = p * r + np.float32(1.0)
    return p * _exp2i(n)  # type: ignore[call-arg]  # an intrinsic: numba supplies its typing context


@nb.njit(fastmath=_EXACT_ORDER, cache=True, inline="always", error_model="numpy")
def _exp64(t):
    """``eᵗ`` in float64 as in :func:`_sigmoid_all` (degree 12), without a library call: loops of it vectorize."""
    n = np.floor(min(max(t * _LOG2E, -1022.0), 1022.0) + 0.5)
    r = (t - n * _LN2_HI64) - n * _LN2_LO64
    p = _C[12]
    p = p * r + _C[11]
    p = p * r + _C[10]
    p = p * r + _C[9]
    p = p * r + _C[8]
    p = p * r + _C[7]
    p = p * r + _C[6]
    p = p * r + _C[5]
    p = p * r + _C[4]
    p = p * r + _C[3]
    p = p * r + _C[2]
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _exp2i(n)  # type: ignore[call-arg]


@nb.njit(fastmath=_EXACT_ORDER, cache=True, inline="always", error_model="numpy")
def _log1p01(u):
    """``ln(1 + u)`` in float64 for ``0 ≤ u ≤ 1``: ``2 atanh s = 2 Σ s²ᵏ⁺¹/(2k+1)``, ``s = u/(2+u) ≤ ⅓``,
    to ``k = 16`` (the first term left out is below 10⁻¹⁷)."""
    s = u / (2.0 + u)
    s2 = s * s
    p = 1.0 / 33.0
    p = p * s2 + 1.0 / 31.0
    p = p * s2 + 1.0 / 29.0
    p = p * s2 + 1.0 / 27.0
    p = p * s2 + 1.0 / 25.0
    p = p * s2 + 1.0 / 23.0
    p = p * s2 + 1.0 / 21.0
    p = p * s2 + 1.0 / 19.0
    p = p * s2 + 1.0 / 17.0
    p = p * s2 + 1.0 / 15.0
    p = p * s2 + 1.0 / 13.0
    p = p * s2 + 1.0 / 11.0
    p = p * s2 + 1.0 / 9.0
    p = p * s2 + 1.0 / 7.0
    p = p * s2 + 1.0 / 5.0
    p = p * s2 + 1.0 / 3.0
    p = p * s2 + 1.0
    return 2.0 * s * p


@nb.njit(fastmath=_EXACT_ORDER, cache=True, inline="always", error_model="numpy")
def _log1p01_32(u):
    """:func:`_log1p01` in float32: the series to ``k = 6`` (the first term left out is below 10⁻⁸)."""
    s = u / (np.float32(2.0) + u)
    s2 = s * s
    p = np.float32(1.0 / 13.0)
    p = p * s2 + np.float32(1.0 / 11.0)
    p = p * s2 + np.float32(1.0 / 9.0)
    p = p * s2 + np.float32(1.0 / 7.0)
    p = p * s2 + np.float32(1.0 / 5.0)
    p = p * s2 + np.float32(1.0 / 3.0)
    p = p * s2 + np.float32(1.0)
    return np.float32(2.0) * s * p


@_leaf(fastmath=_EXACT_ORDER, cache=True, error_model="numpy")
def _sigmoid_all(out, count):
    r"""``σ`` in place on the first ``count`` elements of the contiguous ``out``, vectorized.

    .. math:: e^{-z} = 2^{n} e^{r}, \quad n = \operatorname{round}(-z \log_2 e), \quad
              r = -z - n \ln 2 \in [-\tfrac{\ln 2}{2}, \tfrac{\ln 2}{2}],

    ``eʳ`` by its Taylor polynomial, ``2ⁿ`` from the exponent bits; ``n`` is clamped to the normal
    range, where ``σ`` is 0 or 1 to the type's precision. Within a few units in the last place of
    ``1/(1 + math.exp(-z))``, and about 8 times faster than it on AVX2.
    """
    flat = out.reshape(out.size)
    one = flat.dtype.type(1)
    if flat.itemsize == 4:
        for k in range(count):
            flat[k] = one / (one + _exp32(-flat[k]))
    else:
        for k in range(count):
            flat[k] = one / (one + _exp64(-flat[k]))


@nb.njit(fastmath=_FAST, cache=True, inline="always", error_model="numpy")
def _activate(z, code):
    """``f(z)`` for tanh, relu and linear; sigmoid is :func:`_sigmoid_all`, vectorized."""
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        return z if z > 0.0 else 0.0 * z
    return z


@nb.njit(fastmath=_FAST, cache=True, inline="always", error_model="numpy")
def _slope(a, code):
    """``f'(z)`` from ``a = f(z)``."""
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == TANH:
        return 1.0 - a * a
    if code == RELU:
        return 1.0 if a > 0.0 else 0.0
    return 1.0


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def dense(inp, W, b, out, m):
    """``out[:m] = inp[:m] Wᵀ + b``: inp (B, n_in), W (n_out, n_in), b (n_out,), out (B, n_out).

    Tiles of 3 units × 5 examples keep fifteen running sums in registers (on AVX-512, 10–30% faster than
    2 × 5 for a mini-batch of 10, measured here; 4 × 5 spills registers in float32), then tiles of 2 units
    where two or four are left, and the last unit of an odd ``n_out`` alone. A sum over ``k`` comes out the
    same in a tile of 2 units or 3 on the widths tested (37 and 784 inputs) but not alone (LLVM vectorizes that
    loop otherwise), so exactly the units that tiles of 2 left alone are summed alone. Not on every width: with 8
    inputs in float32 a tile of 3 and one of 2 vectorize their sums differently (found here), so a unit's numbers
    are those of its tile, which :func:`train_epoch_split` keeps.
    """
    n_out, n_in = W.shape
    zero = out.dtype.type(0)
    even = n_out - n_out % 2
    triples = even - 2 * (0, 2, 1)[even % 3]  # the units in tiles of 3; the rest of ``even`` in tiles of 2
    i = 0
    while i + 5 <= m:
        j = 0
        while j + 3 <= triples:
            s00 = s01 = s02 = s03 = s04 = s10 = s11 = s12 = s13 = s14 = s20 = s21 = s22 = s23 = s24 = zero
            for k in range(n_in):
                u0, u1, u2 = W[j, k], W[j + 1, k], W[j + 2, k]
                x0, x1, x2, x3, x4 = inp[i, k], inp[i + 1, k], inp[i + 2, k], inp[i + 3, k], inp[i + 4, k]
                s00 += u0 * x0
                s01 += u0 * x1
                s02 += u0 * x2
                s03 += u0 * x3
                s04 += u0 * x4
                s10 += u1 * x0
                s11 += u1 * x1
                s12 += u1 * x2
                s13 += u1 * x3
                s14 += u1 * x4
                s20 += u2 * x0
                s21 += u2 * x1
                s22 += u2 * x2
                s23 += u2 * x3
                s24 += u2 * x4
            out[i, j], out[i + 1, j], out[i + 2, j], out[i + 3, j], out[i + 4, j] = s00, s01, s02, s03, s04
            out[i, j + 1], out[i + 1, j + 1], out[i + 2, j + 1], out[i + 3, j + 1], out[i + 4, j + 1] = s10, s11, s12, s13, s14
            out[i, j + 2], out[i + 1, j + 2], out[i + 2, j + 2], out[i + 3, j + 2], out[i + 4, j + 2] = s20, s21, s22, s23, s24
            j += 3
        while j + 2 <= n_out:
            s00 = s01 = s02 = s03 = s04 = s10 = s11 = s12 = s13 = s14 = zero
            for k in range(n_in):
                u0, u1 = W[j, k], W[j + 1, k]
                x0, x1, x2, x3, x4 = inp[i, k], inp[i + 1, k], inp[i + 2, k], inp[i + 3, k], inp[i + 4, k]
                s00 += u0 * x0
                s01 += u0 * x1
                s02 += u0 * x2
                s03 += u0 * x3
                s04 += u0 * x4
                s10 += u1 * x0
                s11 += u1 * x1
                s12 += u1 * x2
                s13 += u1 * x3
                s14 += u1 * x4
            out[i, j], out[i + 1, j], out[i + 2, j], out[i + 3, j], out[i + 4, j] = s00, s01, s02, s03, s04
            out[i, j + 1], out[i + 1, j + 1], out[i + 2, j + 1], out[i + 3, j + 1], out[i + 4, j + 1] = s10, s11, s12, s13, s14
            j += 2
        if j < n_out:
            for ii in range(i, i + 5):
                s00 = zero
                for k in range(n_in):
                    s00 += W[j, k] * inp[ii, k]
                out[ii, j] = s00
        i += 5
    for ii in range(i, m):
        for jj in range(n_out):
            s00 = zero
            for k in range(n_in):
                s00 += W[jj, k] * inp[ii, k]
            out[ii, jj] = s00
    for ii in range(m):
        for jj in range(n_out):
            out[ii, jj] += b[jj]


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _weighted_rows(c, rows, m, out):
    """``out = Σ_i c[i]·rows[i]`` over the first ``m`` rows; c (B,), rows (B, n), out (n,)."""
    n = out.shape[0]
    zero = out.dtype.type(0)
    for k in range(n):
        out[k] = zero
    i = 0
    while i + 4 <= m:
        c0, c1, c2, c3 = c[i], c[i + 1], c[i + 2], c[i + 3]
        for k in range(n):
            out[k] += c0 * rows[i, k] + c1 * rows[i + 1, k] + c2 * rows[i + 2, k] + c3 * rows[i + 3, k]
        i += 4
    while i < m:
        c0 = c[i]
        for k in range(n):
            out[k] += c0 * rows[i, k]
        i += 1


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _weighted_rows4(c, e, rows, m, out):
    """:func:`_weighted_rows` of four weightings at once: ``out[e + q] = Σ_i c[e + q, i]·rows[i]`` for ``q < 4``,
    each with the same arithmetic as there; the four share every load of ``rows`` (a wide layer's ``W`` is read
    from the shared cache a quarter as often)."""
    n = out.shape[1]
    zero = out.dtype.type(0)
    o0, o1, o2, o3 = out[e], out[e + 1], out[e + 2], out[e + 3]
    for k in range(n):
        o0[k] = zero
        o1[k] = zero
        o2[k] = zero
        o3[k] = zero
    i = 0
    while i + 4 <= m:
        p0, p1, p2, p3 = c[e, i], c[e, i + 1], c[e, i + 2], c[e, i + 3]
        q0, q1, q2, q3 = c[e + 1, i], c[e + 1, i + 1], c[e + 1, i + 2], c[e + 1, i + 3]
        r0, r1, r2, r3 = c[e + 2, i], c[e + 2, i + 1], c[e + 2, i + 2], c[e + 2, i + 3]
        s0, s1, s2, s3 = c[e + 3, i], c[e + 3, i + 1], c[e + 3, i + 2], c[e + 3, i + 3]
        for k in range(n):
            y0, y1, y2, y3 = rows[i, k], rows[i + 1, k], rows[i + 2, k], rows[i + 3, k]
            o0[k] += p0 * y0 + p1 * y1 + p2 * y2 + p3 * y3
            o1[k] += q0 * y0 + q1 * y1 + q2 * y2 + q3 * y3
            o2[k] += r0 * y0 + r1 * y1 + r2 * y2 + r3 * y3
            o3[k] += s0 * y0 + s1 * y1 + s2 * y2 + s3 * y3
        i += 4
    while i < m:
        p0, q0, r0, s0 = c[e, i], c[e + 1, i], c[e + 2, i], c[e + 3, i]
        for k in range(n):
            y0 = rows[i, k]
            o0[k] += p0 * y0
            o1[k] += q0 * y0
            o2[k] += r0 * y0
            o3[k] += s0 * y0
        i += 1


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _rows(d, inp, m, j, c, shrink, w0, w1):
    """Rows ``j`` (w0) and ``j+1`` (w1) of ``w ← shrink·w + c·δᵀa``: ``w0 ← shrink·w0 + c Σ_i d[i,j] inp[i]``.

    With ``shrink = 0`` it writes the gradient rows ``c·δᵀa`` (w0, w1 need not hold numbers yet);
    with ``c = −η/m`` and ``shrink = 1 − ηλ₂`` it is the book's step, added straight into the weights
    without forming the gradient (one pass less over them; measured 10% faster per epoch).
    Two rows share every load of ``inp``, five examples at a time (the fastest block measured).
    """
    n = w0.shape[0]
    if shrink == 0:
        w0[:] = 0
        w1[:] = 0
        shrink = w0.dtype.type(1)
    i = 0
    while i + 5 <= m:
        a0, a1, a2, a3, a4 = d[i, j] * c, d[i + 1, j] * c, d[i + 2, j] * c, d[i + 3, j] * c, d[i + 4, j] * c
        b0, b1, b2, b3, b4 = (d[i, j + 1] * c, d[i + 1, j + 1] * c, d[i + 2, j + 1] * c,
                              d[i + 3, j + 1] * c, d[i + 4, j + 1] * c)
        if i == 0:
            for k in range(n):
                x0, x1, x2, x3, x4 = inp[0, k], inp[1, k], inp[2, k], inp[3, k], inp[4, k]
                w0[k] = shrink * w0[k] + (a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4)
                w1[k] = shrink * w1[k] + (b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4)
        else:
            for k in range(n):
                x0, x1, x2, x3, x4 = inp[i, k], inp[i + 1, k], inp[i + 2, k], inp[i + 3, k], inp[i + 4, k]
                w0[k] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                w1[k] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4
        i += 5
    if m < 5:
        for k in range(n):
            w0[k] *= shrink
            w1[k] *= shrink
    while i < m:
        a0, b0 = d[i, j] * c, d[i, j + 1] * c
        for k in range(n):
            w0[k] += a0 * inp[i, k]
            w1[k] += b0 * inp[i, k]
        i += 1


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _rows4(d, inp, m, j, c, shrink, W):
    """:func:`_rows`'s step added into rows ``j`` to ``j + 3`` of ``W`` (``shrink`` ≠ 0), each row with the same
    arithmetic as there: four rows share every load of ``inp``, so a pass over the mini-batch loads it half as
    often per row (measured 15–35% faster on the first layer of [784, 30, 10] than two pairs).
    """
    n = W.shape[1]
    w0, w1, w2, w3 = W[j], W[j + 1], W[j + 2], W[j + 3]
    i = 0
    while i + 5 <= m:
        a0, a1, a2, a3, a4 = d[i, j] * c, d[i + 1, j] * c, d[i + 2, j] * c, d[i + 3, j] * c, d[i + 4, j] * c
        b0, b1, b2, b3, b4 = (d[i, j + 1] * c, d[i + 1, j + 1] * c, d[i + 2, j + 1] * c,
                              d[i + 3, j + 1] * c, d[i + 4, j + 1] * c)
        e0, e1, e2, e3, e4 = (d[i, j + 2] * c, d[i + 1, j + 2] * c, d[i + 2, j + 2] * c,
                              d[i + 3, j + 2] * c, d[i + 4, j + 2] * c)
        f0, f1, f2, f3, f4 = (d[i, j + 3] * c, d[i + 1, j + 3] * c, d[i + 2, j + 3] * c,
                              d[i + 3, j + 3] * c, d[i + 4, j + 3] * c)
        if i == 0:
            for k in range(n):
                x0, x1, x2, x3, x4 = inp[0, k], inp[1, k], inp[2, k], inp[3, k], inp[4, k]
                w0[k] = shrink * w0[k] + (a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4)
                w1[k] = shrink * w1[k] + (b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4)
                w2[k] = shrink * w2[k] + (e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3 + e4 * x4)
                w3[k] = shrink * w3[k] + (f0 * x0 + f1 * x1 + f2 * x2 + f3 * x3 + f4 * x4)
        else:
            for k in range(n):
                x0, x1, x2, x3, x4 = inp[i, k], inp[i + 1, k], inp[i + 2, k], inp[i + 3, k], inp[i + 4, k]
                w0[k] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                w1[k] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4
                w2[k] += e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3 + e4 * x4
                w3[k] += f0 * x0 + f1 * x1 + f2 * x2 + f3 * x3 + f4 * x4
        i += 5
    if m < 5:
        for k in range(n):
            w0[k] *= shrink
            w1[k] *= shrink
            w2[k] *= shrink
            w3[k] *= shrink
    while i < m:
        a0, b0, e0, f0 = d[i, j] * c, d[i, j + 1] * c, d[i, j + 2] * c, d[i, j + 3] * c
        for k in range(n):
            x0 = inp[i, k]
            w0[k] += a0 * x0
            w1[k] += b0 * x0
            w2[k] += e0 * x0
            w3[k] += f0 * x0
        i += 1


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _step(w, g, s1, s2, eta, reg, opt, hyper, bc1, bc2):
    """Optimizer step and decoupled regularizers on one row ``w`` (n,) with its gradient ``g`` (n,).

    reg = (λ₂, λ₁, d, t); hyper = (μ or β₁, β₂, ε); s1, s2: the optimizer's state rows.
    """
    l2, l1, dec, thr = reg[0], reg[1], reg[2], reg[3]
    one = w.dtype.type(1)
    keep = one - eta * dec
    t = eta * thr
    n = w.shape[0]
    if l1 != 0:
        for k in range(n):
            x = w[k]
            g[k] += l1 * ((x > 0) * one - (x < 0) * one)
    if opt == SGD and t == 0:  # the book's w ← (1 − ηλ₂)w − ηg (times 1 − ηd)
        shrink = (one - eta * l2) * keep
        step = eta * keep
        for k in range(n):
            w[k] = shrink * w[k] - step * g[k]
        return
    if opt == SGD:
        for k in range(n):
            x = w[k]
            x = (x - eta * (g[k] + l2 * x)) * keep
            w[k] = x - min(max(x, -t), t)
        return
    if opt == MOMENTUM or opt == NESTEROV:
        mu = hyper[0]
        for k in range(n):
            x = w[k]
            gk = g[k] + l2 * x
            v = mu * s1[k] + gk
            s1[k] = v
            d = gk + mu * v if opt == NESTEROV else v
            x = (x - eta * d) * keep
            w[k] = x - min(max(x, -t), t)
        return
    b1, b2, eps = hyper[0], hyper[1], hyper[2]
    step = eta / bc1
    for k in range(n):
        x = w[k]
        gk = g[k] + l2 * x
        mk = s1[k] + (one - b1) * (gk - s1[k])
        vk = b2 * s2[k] + (one - b2) * gk * gk
        s1[k] = mk
        s2[k] = vk
        x = (x - step * mk / (math.sqrt(vk / bc2) + eps)) * keep
        w[k] = x - min(max(x, -t), t)


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _layer(inp, m, W, b, out, last, act, cost, zlast):
    """``out[:m] = f(inp[:m] Wᵀ + b)``; for the output layer (``last``) ``zlast[:m]`` keeps the pre-activations
    and ``f`` is the cost's non-linearity (sigmoid or softmax)."""
    n_out = out.shape[1]
    dense(inp, W, b, out, m)
    if not last:
        if act == SIGMOID:
            _sigmoid_all(out, m * n_out)
        else:
            for i in range(m):
                for j in range(n_out):
                    out[i, j] = _activate(out[i, j], act)
        return
    for i in range(m):  # a loop, not zlast[:m] = out[:m], whose shape check compiles error strings
        for j in range(n_out):
            zlast[i, j] = out[i, j]
    if cost != LOG_LIKELIHOOD:
        _sigmoid_all(out, m * n_out)
        return
    for i in range(m):  # softmax
        top = out[i, 0]
        for j in range(n_out):
            top = max(top, out[i, j])
        total = 0.0
        for j in range(n_out):
            e = math.exp(out[i, j] - top)
            out[i, j] = e
            total += e
        for j in range(n_out):
            out[i, j] /= total


@nb.njit(cache=True, inline="always")
def _hash32(x):
    """*lowbias32* (C. Wellons' hash-prospector) of the 32-bit ``x``: :func:`reglab.engine.dropout.hash32`.

    numba widens unsigned 32-bit arithmetic to 64 bits; each result is cut back to 32 (and LLVM then
    computes in 32-bit lanes)."""
    x = U32(x ^ (x >> 16))
    x = U32(x * U32(0x7FEB352D))
    x = U32(x ^ (x >> 15))
    x = U32(x * U32(0x846CA68B))
    return U32(x ^ (x >> 16))


@nb.njit(cache=True, inline="always")
def _layer_key(key, t, l):
    """``s = h(h(k ⊕ h(t)) ⊕ h(l))``: the dropout stream of a model (key ``k``) at step ``t`` and layer ``l``."""
    return _hash32(U32(_hash32(U32(key ^ _hash32(U32(t & 0xFFFFFFFF)))) ^ _hash32(U32(l))))


@_borrows(fastmath=_FAST, cache=True, error_model="numpy")
def _dropout(inp, m, s, thr, scale, keep, out, store):
    """Inverted dropout of ``inp[:m]`` (B, n) into ``out``, and where ``store`` the factors into ``keep``:
    ``keep[i, j]`` = ``scale`` (kept) or 0 (the network's input needs none: no error goes below it).

    Unit ``j`` of example ``i`` is kept when ``h(h(s ⊕ h(i)) + j) ≥ thr`` (the stream of
    :mod:`reglab.engine.dropout`, ``s`` from :func:`_layer_key`); ``scale = 1/(1 − p)``.
    """
    n = inp.shape[1]
    zero = out.dtype.type(0)
    for i in range(m):
        r = _hash32(U32(s ^ _hash32(U32(i))))
        if store:
            for j in range(n):
                k = scale if _hash32(U32(r + U32(j))) >= thr else zero
                keep[i, j] = k
                out[i, j] = inp[i, j] * k
        else:
            for j in range(n):
                out[i, j] = inp[i, j] * (scale if _hash32(U32(r + U32(j))) >= thr else zero)


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _cap(w, cap):
    """The max-norm projection of one unit's incoming weights ``w`` (n,): ``w ← w·cap/‖w‖`` where ``‖w‖ > cap``."""
    total = w.dtype.type(0)
    for k in range(w.shape[0]):
        total += w[k] * w[k]
    norm = np.sqrt(total)
    if norm > cap:
        f = cap / norm
        for k in range(w.shape[0]):
            w[k] *= f


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _cap_each(b, cap):
    """:func:`_cap` of every element of ``b`` on its own (a unit's bias is its one incoming number)."""
    for j in range(b.shape[0]):
        a = abs(b[j])
        if a > cap:
            b[j] *= cap / a


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _update_pair(j, d, inp, m, W, S1, S2, eta, r, opt, hyper, bc1, bc2, inv_m, g0, g1):
    """Rows ``j`` and ``j + 1`` of ``W``: the optimizer's step from the data gradient ``(1/m) δᵀa`` (for the
    book's SGD step fused into the rows, without forming it), the decoupled parts ``r = (λ₂, λ₁, d, t, c)``,
    then the max-norm projection onto ``c`` (∞: none). ``g0``, ``g1``: gradient rows to work in."""
    one = W.dtype.type(1)
    if opt == SGD and r[1] == 0 and r[3] == 0:  # the book's step, fused with the gradient
        keep = one - eta * r[2]
        _rows(d, inp, m, j, -eta * keep * inv_m, (one - eta * r[0]) * keep, W[j], W[j + 1])
    else:
        _rows(d, inp, m, j, inv_m, W.dtype.type(0), g0, g1)
        _step(W[j], g0, S1[j], S2[j], eta, r, opt, hyper, bc1, bc2)
        _step(W[j + 1], g1, S1[j + 1], S2[j + 1], eta, r, opt, hyper, bc1, bc2)
    if r[4] < np.inf:
        _cap(W[j], r[4])
        _cap(W[j + 1], r[4])


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _update_rows(j0, j1, d, inp, m, W, S1, S2, eta, r, opt, hyper, bc1, bc2, inv_m, g0, g1):
    """:func:`_update_pair` of rows ``j0`` to ``j1 − 1`` (an even count); the book's step four rows at a time
    (:func:`_rows4`), then the pair left over."""
    # for-range loops: their index is an int64 from the start, where a ``while`` loop's starts as the literal a
    # caller passes (0) and numba would compile _rows4 twice (once for that literal)
    pairs = j0
    if opt == SGD and r[1] == 0 and r[3] == 0:
        one = W.dtype.type(1)
        keep = one - eta * r[2]
        c, shrink = -eta * keep * inv_m, (one - eta * r[0]) * keep
        pairs = j1 - (j1 - j0) % 4
        for j in range(j0, pairs, 4):
            _rows4(d, inp, m, j, c, shrink, W)
            if r[4] < np.inf:
                for jj in range(j, j + 4):
                    _cap(W[jj], r[4])
    for j in range(pairs, j1 - 1, 2):
        _update_pair(j, d, inp, m, W, S1, S2, eta, r, opt, hyper, bc1, bc2, inv_m, g0, g1)


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _below_rows(i0, i1, d, W, a_below, act, keep, dropping, below):
    """Examples ``i0`` to ``i1 − 1``'s errors of the layer below: ``δ^{l−1} = (δ^l W) ⊙ f'(z)``, times the dropout
    factors; four examples at a time share every load of ``W`` (:func:`_weighted_rows4`)."""
    n_out, n_in = W.shape
    fours = i1 - (i1 - i0) % 4  # for-range loops, as in _update_rows: one compilation of _weighted_rows4
    for i in range(i0, fours, 4):
        _weighted_rows4(d, i, W, n_out, below)
    for i in range(fours, i1):
        _weighted_rows(d[i], W, n_out, below[i])
    for i in range(i0, i1):
        for k in range(n_in):
            below[i, k] *= _slope(a_below[i, k], act)
        if dropping:
            for k in range(n_in):
                below[i, k] *= keep[i, k]


@_inner(fastmath=_EXACT_ORDER, cache=True, parallel=True, error_model="numpy")
def _hidden_wide(inp, m, W, b, out, act):
    """:func:`_layer` of a hidden layer, its units in blocks of ``WIDE_UNITS`` spread over the threads."""
    n_out = W.shape[0]
    for k in nb.prange((n_out + WIDE_UNITS - 1) // WIDE_UNITS):
        j0 = k * WIDE_UNITS
        j1 = min(n_out, j0 + WIDE_UNITS)
        block = out[:, j0:j1]
        dense(inp, W[j0:j1], b[j0:j1], block, m)
        one = block.dtype.type(1)
        for i in range(m):
            for j in range(j1 - j0):
                z = block[i, j]
                if act == SIGMOID:
                    block[i, j] = one / (one + (_exp32(-z) if block.itemsize == 4 else _exp64(-z)))
                else:
                    block[i, j] = _activate(z, act)


@_inner(fastmath=_FAST, cache=True, parallel=True, error_model="numpy")
def _below_wide(d, W, a_below, act, keep, dropping, below, m):
    """:func:`_below_rows` of every example, the examples spread over the threads in fours."""
    for q in nb.prange((m + 3) // 4):
        _below_rows(4 * q, min(m, 4 * q + 4), d, W, a_below, act, keep, dropping, below)


@_inner(fastmath=_FAST, cache=True, parallel=True, error_model="numpy")
def _update_wide(d, inp, m, W, S1, S2, eta, r, opt, hyper, bc1, bc2, inv_m, gw):
    """:func:`_update_pair` of every pair of rows, in blocks of ``WIDE_UNITS`` rows spread over the threads
    (``gw[k]``: block ``k``'s two gradient rows)."""
    n_in = W.shape[1]
    even = W.shape[0] - W.shape[0] % 2
    for k in nb.prange((even + WIDE_UNITS - 1) // WIDE_UNITS):
        _update_rows(k * WIDE_UNITS, min(even, k * WIDE_UNITS + WIDE_UNITS), d, inp, m, W, S1, S2, eta, r, opt, hyper,
                     bc1, bc2, inv_m, gw[k, 0, :n_in], gw[k, 1, :n_in])


@_inner(fastmath=_FAST, cache=True, error_model="numpy")
def _layer_input(x, acts, dropped, dthr, l):
    """What layer ``l`` reads: the mini-batch or the activations below, or their dropped copy."""
    if dthr[l] != 0:
        return dropped[l]
    return x if l == 0 else acts[l - 1]


@_inner(fastmath=_FAST, cache=True, error_model="numpy")
def _drop(x, acts, m, l, dkey, t, dthr, dscale, keeps, dropped):
    """Layer ``l``'s input at step ``t``, dropped into ``dropped[l]`` with the factors ``keeps[l]`` where the
    model's threshold ``dthr[l]`` is not 0 (:func:`_dropout`, the model's key ``dkey``)."""
    if dthr[l] != 0:
        _dropout(x if l == 0 else acts[l - 1], m, _layer_key(dkey, t, l), dthr[l], dscale[l], keeps[l], dropped[l], l > 0)
    return _layer_input(x, acts, dropped, dthr, l)


@_inner(fastmath=_FAST, cache=True, error_model="numpy")
def _output_error(acts, zlast, deltas, Y, rows, m, cost, seen, mi):
    """The running measure (cost and hits before the step, into ``seen[mi]`` when it has rows), then the output
    error ``δ = ∂fn/∂z`` into ``deltas[L − 1]``."""
    L = len(acts)
    if seen.shape[0]:
        c, h = _cost_and_hits(acts[L - 1], zlast, Y, rows, m, cost)
        seen[mi, 0] += c
        seen[mi, 1] += h
    top = acts[L - 1]
    d = deltas[L - 1]
    for i in range(m):
        y = Y[rows[i]]
        for j in range(top.shape[1]):
            a = top[i, j]
            e = a - y[j]
            d[i, j] = e * a * (1.0 - a) if cost == QUADRATIC else e


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _last_row_and_bias(d, inp, m, W, S1, S2, b, S1b, S2b, eta, r, rb, opt, hyper, bc1, bc2, inv_m, g, cvec):
    """The odd last row of ``W`` (when ``n_out`` is odd) and the biases: step, decoupled parts, max-norm.
    ``g``: a buffer at least as long as a row and as the biases."""
    n_out, n_in = W.shape
    if n_out % 2:
        j = n_out - 1
        for i in range(m):
            cvec[i] = d[i, j] * inv_m
        g0 = g[:n_in]
        _weighted_rows(cvec, inp, m, g0)
        _step(W[j], g0, S1[j], S2[j], eta, r, opt, hyper, bc1, bc2)
        if r[4] < np.inf:
            _cap(W[j], r[4])
    gb = g[:n_out]
    for j in range(n_out):
        total = 0.0
        for i in range(m):
            total += d[i, j]
        gb[j] = total * inv_m
    _step(b, gb, S1b, S2b, eta, rb, opt, hyper, bc1, bc2)
    if rb[4] < np.inf:
        _cap_each(b, rb[4])


@_inner(fastmath=_FAST, cache=True, error_model="numpy")
def _train_model_wide(x, Y, rows, m, Ws, bs, S1w, S2w, S1b, S2b, mi, eta, reg_w, reg_b, opt, hyper, t, bc1, bc2,
                      act, cost, acts, zlast, deltas, grad, cvec, seen, dkey, dthr, dscale, keeps, dropped, gw):
    """:func:`train_epoch`'s step of one model with the hidden layers' products, the errors below and the row updates split over
    the threads in fixed blocks (:func:`_hidden_wide`, :func:`_below_wide`, :func:`_update_wide`; ``gw`` the
    blocks' gradient rows): the same arithmetic per unit, whatever the thread count."""
    L = len(Ws)
    inv_m = x.dtype.type(1.0 / m)
    for l in range(L):
        inp = _drop(x, acts, m, l, dkey, t, dthr, dscale, keeps, dropped)
        if l < L - 1:
            _hidden_wide(inp, m, Ws[l][mi], bs[l][mi], acts[l], act)
        else:
            _layer(inp, m, Ws[l][mi], bs[l][mi], acts[l], True, act, cost, zlast)
    _output_error(acts, zlast, deltas, Y, rows, m, cost, seen, mi)
    for l in range(L - 1, -1, -1):
        inp = _layer_input(x, acts, dropped, dthr, l)
        W, d = Ws[l][mi], deltas[l]
        if l > 0:
            _below_wide(d, W, acts[l - 1], act, keeps[l], dthr[l] != 0, deltas[l - 1], m)
        _update_wide(d, inp, m, W, S1w[l][mi], S2w[l][mi], eta, reg_w[l], opt, hyper, bc1, bc2, inv_m, gw)
        _last_row_and_bias(d, inp, m, W, S1w[l][mi], S2w[l][mi], bs[l][mi], S1b[l][mi], S2b[l][mi], eta, reg_w[l],
                           reg_b[l], opt, hyper, bc1, bc2, inv_m, grad[0], cvec)


@_inner(cache=True, nogil=True, error_model="numpy")
def _step_buffers(X, Ws, batch_size):
    """One trainer's work arrays, in ``X``'s dtype: per layer its activations and errors ``(batch, n_out)``, the
    output layer's ``z``, and per layer the dropout factors and the dropped input ``(batch, n_in)``."""
    L = len(Ws)
    acts = [np.empty((batch_size, Ws[l].shape[1]), X.dtype) for l in range(L)]
    deltas = [np.empty((batch_size, Ws[l].shape[1]), X.dtype) for l in range(L)]
    zlast = np.empty((batch_size, Ws[L - 1].shape[1]), X.dtype)
    keeps = [np.empty((batch_size, Ws[l].shape[2]), X.dtype) for l in range(L)]
    dropped = [np.empty((batch_size, Ws[l].shape[2]), X.dtype) for l in range(L)]
    return acts, deltas, zlast, keeps, dropped


@_leaf(cache=True, nogil=True, error_model="numpy")
def _bias_corrections(X, hyper, t):
    """Adam's ``(1 − β₁ᵗ, 1 − β₂ᵗ)`` at step ``t`` in ``X``'s dtype (unused by the other optimizers)."""
    return X.dtype.type(1.0 - hyper[0] ** t), X.dtype.type(1.0 - hyper[1] ** t)


def epoch_callees(dtype: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    """The functions :func:`train_epoch` calls that take longest to compile, each with the argument types
    ``train_epoch`` (and :func:`train_epoch_split`) calls it with when its arrays hold ``dtype`` (a test checks them
    against numba's typing of both): a first run compiles them in two processes at once into numba's cache, from
    which the epoch's own compilation then loads them (their code as numba would have built it there, so the same
    numbers). In this order, longest first, about 5 of the 9 s of callees a one-thread first compilation of
    ``train_epoch`` spends here. (``_layer`` too, with :func:`dense`'s tiles, took 1.8 s off ``train_epoch``'s own
    compilation but made a first run's epoch line 1–1.7 s later, measured here: not planned.)"""
    f = nb.from_dtype(np.dtype(dtype))
    i64, u32 = types.int64, types.uint32
    a1, a2 = types.Array(f, 1, "C"), types.Array(f, 2, "C")
    stack = types.List(a2, reflected=False)  # _step_buffers' lists of per-layer arrays
    return [
        (_update_rows, (i64, i64, a2, a2, i64, a2, a2, a2, f, a1, i64, a1, f, f, f, a1, a1)),
        (_below_rows, (i64, i64, a2, a2, a2, i64, a2, types.boolean, a2)),
        (_drop, (a2, stack, i64, i64, u32, i64, types.Array(u32, 1, "C"), a1, stack, stack)),
        (_last_row_and_bias, (a2, a2, i64, a2, a2, a2, a1, a1, a1, f, a1, a1, i64, a1, f, f, f, a1, a1)),
        (_output_error, (stack, a2, stack, a2, types.Array(i64, 1, "C"), i64, i64, types.Array(types.float64, 2, "C"),
                         i64)),
    ]


@_leaf(cache=True, nogil=True, error_model="numpy")
def _epoch_shape(X, Ws, perms, batch_size):
    """``(M, N, L, d, widest, steps)`` of an epoch: models, examples, layers, inputs, the widest of the inputs and the
    layers' units, and mini-batches."""
    L = len(Ws)
    widest = X.shape[1]
    for l in range(L):
        widest = max(widest, Ws[l].shape[1])
    N = perms.shape[1]
    return Ws[0].shape[0], N, L, X.shape[1], widest, (N + batch_size - 1) // batch_size


@nb.njit(cache=True, nogil=True, error_model="numpy")
def train_epoch(X, Y, perms, batch_size, Ws, bs, S1w, S2w, S1b, S2b, eta, reg_w, reg_b, opt, hyper, t0,
                act, cost, group, first, end, seen, dkeys, dthr, dscale):
    """Train the models of groups ``first`` to ``end − 1`` for one epoch; returns the step count after it.

    X (N, d), in the weights' dtype or a narrower one (float32 inputs of a float64 network: each mini-batch's
    rows are converted as they are gathered, exactly); Y (N, K) targets (one-hot labels), in the weights' dtype;
    perms (P, N) with P = 1 (shared order) or M; Ws[l] (M, n_out, n_in); bs[l] (M, n_out); S1*/S2* optimizer
    state shaped like the parameters (zero-width last axis where unused); eta (M,); reg_w, reg_b (M, L, 5):
    (λ₂, λ₁, d, t, c), c the max-norm radius (∞: none); hyper (3,): μ or (β₁, β₂, ε); t0: the steps so far (Adam's bias
    correction, the dropout stream); group: models per group (group ``g`` holds models ``g·group`` up
    to ``(g + 1)·group − 1``); seen (M, 2) float64: each model's
    data cost and correct predictions summed over the epoch's mini-batches, each measured just before
    its step (the running measure), added to; (0, 2) to skip it; dkeys (M,) uint32, dthr (M, L) uint32,
    dscale (M, L): each model's dropout key, thresholds and scales (:mod:`reglab.engine.dropout`;
    threshold 0: that layer is not dropped). It does not hold Python's lock: the caller's threads train
    other groups meanwhile (:class:`reglab.engine.compiled.KernelProgram`), and a thread may measure the
    previous epoch's weights (:func:`reglab.engine.loop.fit`).
    """
    M, N, L, d, widest, steps = _epoch_shape(X, Ws, perms, batch_size)
    for gi in range(first, end):
        lo, hi = gi * group, min(M, gi * group + group)
        x = np.empty((batch_size, d), Ws[0].dtype)  # the weights' type: narrower inputs are read exactly
        acts, deltas, zlast, keeps, dropped = _step_buffers(x, Ws, batch_size)
        grad = np.empty((2, widest), x.dtype)
        cvec = np.empty(batch_size, x.dtype)
        for s in range(steps):
            start = s * batch_size
            m = min(batch_size, N - start)
            t = t0 + s + 1
            bc1, bc2 = _bias_corrections(x, hyper, t)
            for mi in range(lo, hi):
                p = perms[0] if perms.shape[0] == 1 else perms[mi]
                rows = p[start:start + m]
                if mi == lo or perms.shape[0] > 1:
                    _gather(X, rows, m, x)
                # step t of model mi (its body here, not a function of its own: one level less to compile)
                eta_i, rw, rb, dkey, dt, ds = eta[mi], reg_w[mi], reg_b[mi], dkeys[mi], dthr[mi], dscale[mi]
                inv_m = x.dtype.type(1.0 / m)
                for l in range(L):
                    inp = _drop(x, acts, m, l, dkey, t, dt, ds, keeps, dropped)
                    _layer(inp, m, Ws[l][mi], bs[l][mi], acts[l], l == L - 1, act, cost, zlast)
                _output_error(acts, zlast, deltas, Y, rows, m, cost, seen, mi)
                for l in range(L - 1, -1, -1):
                    inp = _layer_input(x, acts, dropped, dt, l)
                    W, dl = Ws[l][mi], deltas[l]
                    n_out, n_in = W.shape
                    if l > 0:  # δ of the layer below, from the weights before their update
                        _below_rows(FIRST, m, dl, W, acts[l - 1], act, keeps[l], dt[l] != 0, deltas[l - 1])
                    _update_rows(FIRST, n_out - n_out % 2, dl, inp, m, W, S1w[l][mi], S2w[l][mi], eta_i, rw[l], opt, hyper,
                                 bc1, bc2, inv_m, grad[0, :n_in], grad[1, :n_in])
                    _last_row_and_bias(dl, inp, m, W, S1w[l][mi], S2w[l][mi], bs[l][mi], S1b[l][mi], S2b[l][mi], eta_i,
                                       rw[l], rb[l], opt, hyper, bc1, bc2, inv_m, grad[0], cvec)
    return t0 + steps


@_leaf(cache=True, error_model="numpy")
def _gather(X, rows, m, x):
    """``x[i] = X[rows[i]]`` for the first ``m`` rows (loops: a row assignment's shape check compiles error strings)."""
    for i in range(m):
        r = rows[i]
        for k in range(X.shape[1]):
            x[i, k] = X[r, k]


@_inner(cache=True, nogil=True, error_model="numpy")
def _next_batch(X, p, s, batch_size, t0, hyper, x):
    """Mini-batch ``s`` of the order ``p``: its size ``m``, the step ``t``, Adam's bias corrections at ``t``, its rows,
    and the rows gathered into ``x``."""
    start = s * batch_size
    m = min(batch_size, p.shape[0] - start)
    t = t0 + s + 1
    bc1, bc2 = _bias_corrections(x, hyper, t)
    rows = p[start:start + m]
    _gather(X, rows, m, x)
    return m, t, bc1, bc2, rows


@nb.njit(cache=True, nogil=True, error_model="numpy")
def train_epoch_wide(X, Y, perms, batch_size, Ws, bs, S1w, S2w, S1b, S2b, eta, reg_w, reg_b, opt, hyper, t0,
                     act, cost, seen, dkeys, dthr, dscale):
    """:func:`train_epoch` for models too large to share a core's cache: one model after another, each step's
    hidden-layer products, errors and row updates split over the threads in blocks of ``WIDE_UNITS`` units (or
    by example); the blocks are fixed, so each model's numbers do not depend on the thread count, nor on which
    models train beside it. The arguments are :func:`train_epoch`'s but the group size.
    """
    M = Ws[0].shape[0]
    N = perms.shape[1]
    L = len(Ws)
    widest = X.shape[1]
    blocks = 1
    for l in range(L):
        widest = max(widest, Ws[l].shape[1], Ws[l].shape[2])
        blocks = max(blocks, (Ws[l].shape[1] // 2 + WIDE_UNITS // 2 - 1) // (WIDE_UNITS // 2))
    steps = (N + batch_size - 1) // batch_size
    x = np.empty((batch_size, X.shape[1]), Ws[0].dtype)  # as in train_epoch
    acts, deltas, zlast, keeps, dropped = _step_buffers(x, Ws, batch_size)
    grad = np.empty((2, widest), x.dtype)
    gw = np.empty((blocks, 2, widest), x.dtype)
    cvec = np.empty(batch_size, x.dtype)
    for mi in range(M):
        p = perms[0] if perms.shape[0] == 1 else perms[mi]
        for s in range(steps):
            m, t, bc1, bc2, rows = _next_batch(X, p, s, batch_size, t0, hyper, x)
            _train_model_wide(x, Y, rows, m, Ws, bs, S1w, S2w, S1b, S2b, mi, eta[mi], reg_w[mi], reg_b[mi],
                              opt, hyper, t, bc1, bc2, act, cost, acts, zlast, deltas, grad, cvec, seen,
                              dkeys[mi], dthr[mi], dscale[mi], keeps, dropped, gw)
    return t0 + steps


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _cost_and_hits(out, z, Y, rows, m, cost):
    """Summed data cost ``fn`` and correct predictions of the first ``m`` outputs, whose targets are ``Y[rows]``.

    ``out`` (B, K) the output activations, ``z`` (B, K) their pre-activations; a prediction is correct
    when its largest output is the target's 1 (one-hot). Costs as in :mod:`reglab.engine.nn`, in float64:
    cross-entropy ``softplus(z) − y z``, quadratic ``½(a − y)²``, log-likelihood ``−Σ y log softmax(z)``.
    """
    total = 0.0
    hits = 0
    K = out.shape[1]
    for i in range(m):
        y = Y[rows[i]]
        best = 0
        for j in range(K):
            if out[i, j] > out[i, best]:
                best = j
        hits += y[best] == 1
        if cost == CROSS_ENTROPY:  # the softplus terms are summed below, over the whole block at once
            for j in range(K):
                total -= y[j] * float(z[i, j])
        elif cost == QUADRATIC:
            for j in range(K):
                e = float(out[i, j]) - y[j]
                total += 0.5 * e * e
        else:
            top = float(z[i, 0])
            for j in range(K):
                top = max(top, float(z[i, j]))
            s = 0.0
            for j in range(K):
                s += _exp64(float(z[i, j]) - top)
            lse = top + math.log(s)
            for j in range(K):
                total -= y[j] * (float(z[i, j]) - lse)
    if cost == CROSS_ENTROPY:
        total += _softplus_sum(z, out, m * K)
    return total, hits


@_leaf(fastmath=_FAST, cache=True, error_model="numpy")
def _softplus_sum(z, a, count):
    r"""``Σ softplus(z) = Σ max(z, 0) + ln(1 + u)`` over the first ``count`` elements of the contiguous
    ``z``, with ``u = e^{−|z|} = min(a, 1 − a) / max(a, 1 − a)`` from the activations ``a = σ(z)``
    (no exponential; where ``1 − a`` rounds away, ``u`` is below the type's precision anyway).

    In the arrays' type, one vectorized loop (its summation order is LLVM's, fixed per build):
    float32 is twice as wide a vector as float64 and needs 7 terms of the series, not 17.
    """
    zf, af = z.reshape(z.size), a.reshape(a.size)
    one, zero = zf.dtype.type(1), zf.dtype.type(0)
    total = zero
    if zf.itemsize == 4:
        for k in range(count):
            p, q = af[k], one - af[k]
            total += max(zf[k], zero) + _log1p01_32(min(p, q) / max(p, q))
    else:
        for k in range(count):
            p, q = af[k], one - af[k]
            total += max(zf[k], zero) + _log1p01(min(p, q) / max(p, q))
    return float(total)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def evaluate(X, Y, Ws, bs, act, cost, chunk, first, end, costs, hits):
    """Jobs ``first`` to ``end − 1`` of measuring every model on ``X``: job ``j`` is chunk ``j % n_chunks`` of
    ``chunk`` examples through model ``j // n_chunks``, its summed data cost and correct predictions written
    to ``costs[mi, c]``, ``hits[mi, c]`` ((M, n_chunks) float64).

    X (N, d), Y (N, K) one-hot targets; Ws[l] (M, n_out, n_in), bs[l] (M, n_out). Without Python's lock:
    the caller's threads run other jobs meanwhile (:func:`reglab.engine.compiled.evaluate`).
    """
    L = len(Ws)
    n_chunks = costs.shape[1]
    acts = [np.empty((chunk, Ws[l].shape[1]), X.dtype) for l in range(L)]
    z = np.empty((chunk, Ws[L - 1].shape[1]), X.dtype)
    for job in range(first, end):
        mi, c = job // n_chunks, job % n_chunks
        start = c * chunk
        m = min(chunk, X.shape[0] - start)
        x = X[start:start + m]
        for l in range(L):  # the forward pass (no dropout) here, not in functions of its own: fewer levels to compile
            _layer(x if l == 0 else acts[l - 1], m, Ws[l][mi], bs[l][mi], acts[l], l == L - 1, act, cost, z)
        costs[mi, c], hits[mi, c] = _cost_and_hits(acts[L - 1], z, Y, np.arange(start, start + m), m, cost)


# --------------------------------------------------------------------------------------------
# One model's steps split over the threads (train_epoch_split)
# --------------------------------------------------------------------------------------------
#: First-layer multiply-adds per step (``n_in · n_hidden · m``) from which a lone model's steps are split over the
#: threads (:func:`train_epoch_split`): [784, 30, 10] with mini-batches of 10 has 235,200 and trains 1.3× faster on
#: two threads than on one (measured here); the 8×8 digits' [64, 30, 10] has 19,200, too few to share.
SPLIT_MACS = 100_000
#: The fewest such multiply-adds each thread gets: more threads than that leave each too little to share.
SPLIT_MACS_PER_PART = 50_000
#: Spins with the CPU's pause hint before a waiting thread gives its core away (``sched_yield``) between spins.
SPINS = 4000


def _item_pointer(context, builder, aryty, ary, *idx):
    return cgutils.get_item_pointer(context, builder, aryty, context.make_array(aryty)(context, builder, ary), list(idx))


@intrinsic
def _atomic_add(typingctx, arr, idx, value):
    """``arr[idx] += value`` as one atomic instruction (sequentially consistent); returns the old value."""
    def codegen(context, builder, signature, args):
        return builder.atomic_rmw("add", _item_pointer(context, builder, signature.args[0], args[0], args[1]), args[2],
                                  "seq_cst")

    return types.int64(arr, idx, value), codegen


@intrinsic
def _atomic_load(typingctx, arr, idx):
    """``arr[idx]`` read atomically with acquire ordering: what another thread wrote before its release is seen."""
    def codegen(context, builder, signature, args):
        return builder.load_atomic(_item_pointer(context, builder, signature.args[0], args[0], args[1]), "acquire", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def _spin_hint(typingctx):
    """The CPU's spin-wait hint (x86 ``pause``) where there is one; nothing elsewhere."""
    def codegen(context, builder, signature, args):
        if platform.machine().lower() in ("x86_64", "amd64", "i686", "x86"):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _sched_yield(typingctx):
    """POSIX ``sched_yield()``: this thread gives its core to another thread that is ready to run."""
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        return builder.call(fn, [])

    return types.int32(), codegen


@intrinsic
def _prefetch(typingctx, arr, i, k):
    """A hint that ``arr[i, k]``'s cache line will be read soon (``llvm.prefetch``: a read, kept in every cache
    level): no value changes, and a target without prefetch instructions ignores it."""
    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, signature.args[0], *args)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, i, k), codegen


@_leaf(cache=True, nogil=True, error_model="numpy")
def _prefetch_rows(X, p, start, m):
    """Prefetch ``X``'s rows ``p[start:start + m]`` (those there are), a cache line apart."""
    stride = max(1, 64 // X.itemsize)
    for i in range(start, min(start + m, p.shape[0])):
        r = p[i]
        for k in range(0, X.shape[1], stride):
            _prefetch(X, r, k)  # type: ignore[call-arg]  # an intrinsic: numba supplies its typing context


@nb.njit(cache=True, nogil=True)
def _barrier(sync, target):
    """Wait until ``sync[0]`` (the arrivals so far) reaches ``target`` after adding this thread's; ``False`` if
    ``sync[1]`` (abort) is set meanwhile: a part failed, and the others return instead of waiting for it.

    Threads spin on the counter with the pause hint, then between calls to ``sched_yield`` (a part whose core was
    taken by another process gets it back)."""
    _atomic_add(sync, 0, 1)  # type: ignore[call-arg]  # an intrinsic: numba supplies its typing context
    spins = 0
    while _atomic_load(sync, 0) < target:
        if _atomic_load(sync, 1) != 0:
            return False
        spins += 1
        if spins < SPINS:
            _spin_hint()
        else:
            _sched_yield()
    return True


@nb.njit(cache=True, nogil=True)
def _span(n, part, parts):
    """Units ``[j0, j1)`` of a layer of ``n`` that ``part`` of ``parts`` computes and steps: whole pairs of
    :func:`dense`'s tiles of 3 (:func:`sixes` of them in the layer), so that each unit is summed in the tile it has
    unsplit (a tile of 2 or 3 units can vectorize its sum differently, measured on 8 inputs in float32); spread as
    evenly as they go, the extra to the last parts (the first also steps the output layer and the biases); the
    tiles of 2 and the odd last unit to the last part. A span starts at a multiple of 6: :func:`_update_rows`
    steps its rows in pairs, as unsplit."""
    size, extra = divmod(sixes(n), parts)
    c0 = part * size + max(0, part - (parts - extra))
    c1 = c0 + size + (1 if part >= parts - extra else 0)
    return 6 * c0, n if part == parts - 1 else 6 * c1


@nb.njit(cache=True, nogil=True)
def sixes(n):
    """The pairs of tiles of 3 units that :func:`dense` sums a layer of ``n`` units in (its ``triples`` / 6)."""
    even = n - n % 2
    return (even - 2 * (0, 2, 1)[even % 3]) // 6


@_inner(cache=True, nogil=True, error_model="numpy")
def _part_sums(sums, k, width):
    """``sums[k]`` (B, ≥ width) as a contiguous (B, width) array over its first elements: a part's sums, which
    :func:`dense` writes with the argument types :func:`_layer` gives it (the same compiled function)."""
    z = sums[k]
    return z.reshape(z.size)[:z.shape[0] * width].reshape((z.shape[0], width))


@_inner(fastmath=_FAST, cache=True, error_model="numpy")
def _activation(zs, l, per, parts, b, out, m, act):
    """Layer ``l``'s activations into ``out`` (B, n_out) from the parts' sums ``zs[l·per + q]`` (their units of
    :func:`_span`) plus the biases ``b``: the same arithmetic as :func:`_layer`'s (the sums, then ``+ b``, then
    ``f`` over the first ``m`` rows of the contiguous ``out``, vectorized the same way)."""
    n_out = out.shape[1]
    for q in range(parts):
        j0, j1 = _span(n_out, q, parts)
        z = _part_sums(zs, l * per + q, j1 - j0)
        for i in range(m):
            for j in range(j1 - j0):
                out[i, j0 + j] = z[i, j] + b[j0 + j]
    if act == SIGMOID:
        _sigmoid_all(out, m * n_out)
        return
    for i in range(m):
        for j in range(n_out):
            out[i, j] = _activate(out[i, j], act)


@_inner(cache=True, nogil=True, error_model="numpy")
def _layer_errors(errors, own):
    """Each layer's errors for the even and the odd steps: the hidden layers' ``errors[l]`` and ``errors[L + l]``
    (split by example, shared), the output layer's ``own[L − 1]`` (each part's own)."""
    L = len(own)
    even = [errors[l] if l < L - 1 else own[l] for l in range(L)]
    odd = [errors[L + l] if l < L - 1 else own[l] for l in range(L)]
    return even, odd


@nb.njit(cache=True, nogil=True, error_model="numpy")
def train_epoch_split(X, Y, perms, batch_size, Ws, bs, S1w, S2w, S1b, S2b, eta, reg_w, reg_b, opt, hyper, t0,
                      act, cost, seen, dkeys, dthr, dscale, part, parts, sync, sums, errors):
    r"""Part ``part`` of ``parts`` of :func:`train_epoch`'s epoch, each model's steps split over ``parts`` threads that
    run this together on the same arguments (a lone model, which groups cannot spread over the cores); returns the
    step count after it, or −1 if it stopped because another part failed (``sync[1]`` set).

    Each step, in phases that end at a barrier (:func:`_barrier` on ``sync[0]``, 2(L − 1) per step):

    * every part gathers the mini-batch for itself; a hidden layer's units are split (:func:`_span`): each part
      sums its units into ``sums[l·per + part]`` (as (B, its units): :func:`_part_sums`; ``per`` is
      ``len(sums) / (L − 1)``); after the barrier each part adds the biases and applies ``f`` to the whole
      layer for itself (:func:`_activation`); the output layer, its error and the running measure (part 0's
      ``seen``) each part computes whole. Part 0, whose units are the fewest, prefetches the next mini-batch's
      rows before that barrier, where it would wait: a part that gathers them then finds them in a cache
      instead of memory (a [784, 30, 10] step on MNIST 3–5% faster: medians of six alternated runs, 13.7 → 13.3 µs
      with the rows in memory, 13.1 → 12.5 µs with them in the shared cache);
    * the errors below a layer are split by example in fours (:func:`_below_rows`) into ``errors[(s mod 2)·L + l]``
      (two sets, so a part a step ahead never writes what another still reads); after the barrier each part steps
      its own rows of each hidden layer; part 0 also steps the output layer and the biases of every layer, but
      those of a layer whose unit count is odd, which the last part steps with that layer's odd last row (its
      own unit).

    Every unit, row and example gets :func:`train_epoch`'s arithmetic (the same functions; each unit summed in
    the tile it has there), so the numbers are the same bit for bit on any ``parts`` (tested). No part writes
    what another reads in the same phase: the biases and the output layer are next read after the next step's
    first barrier. The arguments are :func:`train_epoch`'s but the groups.
    """
    M, N, L, d, widest, steps = _epoch_shape(X, Ws, perms, batch_size)
    x = np.empty((batch_size, d), Ws[0].dtype)  # as in train_epoch
    acts, own_errors, zlast, keeps, dropped = _step_buffers(x, Ws, batch_size)
    grad = np.empty((2, widest), x.dtype)
    cvec = np.empty(batch_size, x.dtype)
    nobias = np.zeros(widest, x.dtype)  # a part's sums carry no bias: the biases may be stepping meanwhile
    counted = seen if part == 0 else np.zeros((0, 2))
    even, odd = _layer_errors(errors, own_errors)
    passed = 0  # barriers passed
    per = len(sums) // max(L - 1, 1)  # sums[l·per + q]: part q's of layer l (per ≥ parts: a program may go on with fewer)
    for mi in range(M):
        p = perms[0] if perms.shape[0] == 1 else perms[mi]
        eta_i, rw, rb, dkey, dt, ds = eta[mi], reg_w[mi], reg_b[mi], dkeys[mi], dthr[mi], dscale[mi]
        for s in range(steps):
            m, t, bc1, bc2, rows = _next_batch(X, p, s, batch_size, t0, hyper, x)
            inv_m = x.dtype.type(1.0 / m)
            deltas = even if s % 2 == 0 else odd
            for l in range(L):
                inp = _drop(x, acts, m, l, dkey, t, dt, ds, keeps, dropped)
                W, b = Ws[l][mi], bs[l][mi]
                if l == L - 1:  # (last: the expression, not the literal True, types it as train_epoch does)
                    _layer(inp, m, W, b, acts[l], l == L - 1, act, cost, zlast)
                    break
                j0, j1 = _span(W.shape[0], part, parts)
                dense(inp, W[j0:j1], nobias[j0:j1], _part_sums(sums, l * per + part, j1 - j0), m)
                if l == 0 and part == 0:  # the fewest units: it would wait here; the next mini-batch's rows meanwhile
                    _prefetch_rows(X, p, s * batch_size + batch_size, batch_size)
                passed += 1
                if not _barrier(sync, parts * passed):
                    return -1
                _activation(sums, l, per, parts, b, acts[l], m, act)
            _output_error(acts, zlast, deltas, Y, rows, m, cost, counted, mi)
            for l in range(L - 1, -1, -1):
                inp = _layer_input(x, acts, dropped, dt, l)
                W, dl = Ws[l][mi], deltas[l]
                n_out, n_in = W.shape
                if l > 0:  # the errors below, from the weights before anyone steps them
                    for q in range(parts - 1 - part, (m + 3) // 4, parts):
                        _below_rows(4 * q, min(m, 4 * q + 4), dl, W, acts[l - 1], act, keeps[l], dt[l] != 0,
                                    deltas[l - 1])
                    passed += 1
                    if not _barrier(sync, parts * passed):
                        return -1
                if l == L - 1:
                    j0, j1 = (0, n_out) if part == 0 else (0, 0)
                else:
                    j0, j1 = _span(n_out, part, parts)
                _update_rows(j0, min(j1, n_out - n_out % 2), dl, inp, m, W, S1w[l][mi], S2w[l][mi], eta_i, rw[l], opt,
                             hyper, bc1, bc2, inv_m, grad[0, :n_in], grad[1, :n_in])
                if part == (parts - 1 if n_out % 2 and l < L - 1 else 0):
                    _last_row_and_bias(dl, inp, m, W, S1w[l][mi], S2w[l][mi], bs[l][mi], S1b[l][mi], S2b[l][mi], eta_i,
                                       rw[l], rb[l], opt, hyper, bc1, bc2, inv_m, grad[0], cvec)
    return t0 + steps
