r"""The compiled training step: one epoch of every model in one call, on the CPU.

The same mathematics as the tensor steps of :func:`reglab.train.fit` (and
tested equal to them), compiled with numba so that a step on a mini-batch of 10 costs
a few microseconds of fixed overhead instead of the ~25 framework calls of the
tensor program. For each mini-batch of ``m`` examples and each model:

.. math::  z^{l} = a^{l} W^{l\,T} + b^{l}, \quad a^{l+1} = f(z^{l}); \qquad
           \delta^{l-1} = (\delta^{l} W^{l}) \odot f'(z^{l-1});

.. math::  g = \tfrac1m\,\delta^{l\,T} a^{l} + \lambda_2 w + \lambda_1 \operatorname{sgn} w
           \quad\text{(the data gradient plus the coupled regularizers)},

then the optimizer's step with ``η`` of the model, then the decoupled parts:
``w ← (1 − η d) w`` and ``w ← w − clip(w, −η t, η t)`` (soft-thresholding).
``λ₂, λ₁, d, t`` are the regularizers' elementwise form
(:meth:`reglab.regularizers.Regularizer.elementwise`), per model and parameter.

Models are independent, so the kernel trains them in groups that share each
mini-batch's gathered rows and fit in cache, group after group (and groups on
several threads). Each model's arithmetic is the same whichever models train
beside it, so
``M`` models trained together equal the same ``M`` trained one by one, bit
for bit. Weights, biases and optimizer state are the caller's arrays, updated
in place (numpy views of the model's torch tensors).

Codes (data, not flags): activations ``sigmoid=0, tanh=1, relu=2, linear=3``;
costs ``cross-entropy=0, quadratic=1, log-likelihood=2``; optimizers
``sgd=0, momentum=1, nesterov=2, adam=3``.
"""

from __future__ import annotations

import contextlib
import math

import numba as nb
import numpy as np

#: Floating-point reassociation lets LLVM vectorize the dot products; each model's result
#: still depends only on its own data, so it is deterministic and independent of ``M``.
_FAST = {"reassoc", "contract", "nsz", "arcp"}

ACTIVATION_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2, "linear": 3}
COST_CODES = {"cross-entropy": 0, "quadratic": 1, "log-likelihood": 2}
SGD, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3

#: Bytes of parameters and optimizer state a group of models may fill. The models of a group share
#: each mini-batch's gathered rows; 16 models of [784, 30, 10] (1.5 MB, in L3) were faster per
#: model than 4 (in L2), measured here.
GROUP_BYTES = 1536 * 1024


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
        cause = exc
        while isinstance(cause, SystemError) and (cause.__cause__ or cause.__context__) is not None:
            cause = cause.__cause__ or cause.__context__
        if not isinstance(cause, SystemError):
            raise cause from None
        raise


@contextlib.contextmanager
def threads(n: int):
    """Run the block with ``n`` numba threads (at most the pool numba started); restored after."""
    before = nb.get_num_threads()
    nb.set_num_threads(max(1, min(n, nb.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        nb.set_num_threads(before)


@nb.njit(fastmath=_FAST, cache=True, inline="always")
def _activate(z, code):
    if code == 0:
        return 1.0 / (1.0 + math.exp(-z))
    if code == 1:
        return math.tanh(z)
    if code == 2:
        return z if z > 0.0 else 0.0 * z
    return z


@nb.njit(fastmath=_FAST, cache=True, inline="always")
def _slope(a, code):
    """``f'(z)`` from ``a = f(z)``."""
    if code == 0:
        return a * (1.0 - a)
    if code == 1:
        return 1.0 - a * a
    if code == 2:
        return 1.0 if a > 0.0 else 0.0
    return 1.0


@nb.njit(fastmath=_FAST, cache=True)
def dense(inp, W, b, out, m):
    """``out[:m] = inp[:m] Wᵀ + b``: inp (B, n_in), W (n_out, n_in), b (n_out,), out (B, n_out).

    Tiles of 2 units × 5 examples keep ten running sums in registers (for a mini-batch of 10,
    the fastest tile measured on AVX2; 60–80 GFLOP/s in float32 on one core).
    """
    n_out, n_in = W.shape
    zero = out.dtype.type(0)
    i = 0
    while i + 5 <= m:
        j = 0
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


@nb.njit(fastmath=_FAST, cache=True)
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


@nb.njit(fastmath=_FAST, cache=True)
def _weight_grads(d, inp, m, j, scale, g0, g1):
    """Rows ``j`` and ``j+1`` of ``scale·δᵀa``: ``g0 = scale Σ_i d[i,j] inp[i]``, ``g1`` with ``j+1``.

    Two rows share every load of ``inp``, five examples at a time (the fastest block measured);
    the first block writes the rows, the others add to them.
    """
    n = g0.shape[0]
    i = 0
    while i + 5 <= m:
        a0, a1, a2, a3, a4 = d[i, j] * scale, d[i + 1, j] * scale, d[i + 2, j] * scale, d[i + 3, j] * scale, d[i + 4, j] * scale
        b0, b1, b2, b3, b4 = (d[i, j + 1] * scale, d[i + 1, j + 1] * scale, d[i + 2, j + 1] * scale,
                              d[i + 3, j + 1] * scale, d[i + 4, j + 1] * scale)
        if i == 0:
            for k in range(n):
                x0, x1, x2, x3, x4 = inp[0, k], inp[1, k], inp[2, k], inp[3, k], inp[4, k]
                g0[k] = a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                g1[k] = b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4
        else:
            for k in range(n):
                x0, x1, x2, x3, x4 = inp[i, k], inp[i + 1, k], inp[i + 2, k], inp[i + 3, k], inp[i + 4, k]
                g0[k] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                g1[k] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4
        i += 5
    if m < 5:
        zero = g0.dtype.type(0)
        for k in range(n):
            g0[k] = zero
            g1[k] = zero
    while i < m:
        a0, b0 = d[i, j] * scale, d[i, j + 1] * scale
        for k in range(n):
            g0[k] += a0 * inp[i, k]
            g1[k] += b0 * inp[i, k]
        i += 1


@nb.njit(fastmath=_FAST, cache=True)
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
    if opt == 0 and t == 0:  # the book's w ← (1 − ηλ₂)w − ηg (times 1 − ηd)
        shrink = (one - eta * l2) * keep
        step = eta * keep
        for k in range(n):
            w[k] = shrink * w[k] - step * g[k]
        return
    if opt == 0:
        for k in range(n):
            x = w[k]
            x = (x - eta * (g[k] + l2 * x)) * keep
            w[k] = x - min(max(x, -t), t)
        return
    if opt == 1 or opt == 2:
        mu = hyper[0]
        for k in range(n):
            x = w[k]
            gk = g[k] + l2 * x
            v = mu * s1[k] + gk
            s1[k] = v
            d = gk + mu * v if opt == 2 else v
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


@nb.njit(fastmath=_FAST, cache=True)
def _forward(x, m, Ws, bs, mi, act, cost, acts, zlast):
    """Model ``mi`` on ``x[:m]``: ``acts[l][:m]`` the activations of layer ``l``, ``zlast[:m]`` the
    output layer's pre-activations (the output non-linearity is the cost's: sigmoid or softmax)."""
    L = len(Ws)
    for l in range(L):
        inp = x if l == 0 else acts[l - 1]
        out = acts[l]
        n_out = out.shape[1]
        dense(inp, Ws[l][mi], bs[l][mi], out, m)
        if l < L - 1:
            for i in range(m):
                for j in range(n_out):
                    out[i, j] = _activate(out[i, j], act)
            continue
        zlast[:m] = out[:m]
        for i in range(m):
            if cost == 2:  # softmax
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
            else:
                for j in range(n_out):
                    out[i, j] = _activate(out[i, j], 0)


@nb.njit(fastmath=_FAST, cache=True)
def _train_model(x, Y, rows, m, Ws, bs, S1w, S2w, S1b, S2b, mi, eta, reg_w, reg_b, opt, hyper, bc1, bc2,
                 act, cost, acts, zlast, deltas, grad, cvec):
    """One step of model ``mi`` on the mini-batch ``x[:m]`` whose targets are ``Y[rows[:m]]``."""
    L = len(Ws)
    inv_m = x.dtype.type(1.0 / m)
    _forward(x, m, Ws, bs, mi, act, cost, acts, zlast)
    # output error δ = ∂fn/∂z
    top = acts[L - 1]
    d = deltas[L - 1]
    for i in range(m):
        y = Y[rows[i]]
        for j in range(top.shape[1]):
            a = top[i, j]
            e = a - y[j]
            d[i, j] = e * a * (1.0 - a) if cost == 1 else e
    for l in range(L - 1, -1, -1):
        inp = x if l == 0 else acts[l - 1]
        W = Ws[l][mi]
        n_out, n_in = W.shape
        d = deltas[l]
        if l > 0:  # δ of the layer below, from the weights before their update
            below = deltas[l - 1]
            a_below = acts[l - 1]
            for i in range(m):
                _weighted_rows(d[i], W, n_out, below[i])
                for k in range(n_in):
                    below[i, k] *= _slope(a_below[i, k], act)
        g0, g1 = grad[0, :n_in], grad[1, :n_in]
        for j in range(0, n_out - 1, 2):
            _weight_grads(d, inp, m, j, inv_m, g0, g1)
            _step(W[j], g0, S1w[l][mi][j], S2w[l][mi][j], eta, reg_w[l], opt, hyper, bc1, bc2)
            _step(W[j + 1], g1, S1w[l][mi][j + 1], S2w[l][mi][j + 1], eta, reg_w[l], opt, hyper, bc1, bc2)
        if n_out % 2:
            j = n_out - 1
            for i in range(m):
                cvec[i] = d[i, j] * inv_m
            _weighted_rows(cvec, inp, m, g0)
            _step(W[j], g0, S1w[l][mi][j], S2w[l][mi][j], eta, reg_w[l], opt, hyper, bc1, bc2)
        gb = grad[0, :n_out]
        for j in range(n_out):
            total = 0.0
            for i in range(m):
                total += d[i, j]
            gb[j] = total * inv_m
        _step(bs[l][mi], gb, S1b[l][mi], S2b[l][mi], eta, reg_b[l], opt, hyper, bc1, bc2)


@nb.njit(cache=True, parallel=True)
def train_epoch(X, Y, perms, batch_size, Ws, bs, S1w, S2w, S1b, S2b, eta, reg_w, reg_b, opt, hyper, t0,
                act, cost, group):
    """Train every model for one epoch; returns the optimizer's step count after it.

    X (N, d); Y (N, K) targets (one-hot labels); perms (P, N) with P = 1 (shared order) or M;
    Ws[l] (M, n_out, n_in); bs[l] (M, n_out); S1*/S2* optimizer state shaped like the parameters
    (zero-width last axis where unused); eta (M,); reg_w, reg_b (M, L, 4); hyper (3,): μ or
    (β₁, β₂, ε); t0: Adam's steps so far; group: models per group.
    """
    M = Ws[0].shape[0]
    N = perms.shape[1]
    L = len(Ws)
    widest = X.shape[1]
    for l in range(L):
        widest = max(widest, Ws[l].shape[1])
    n_groups = (M + group - 1) // group
    steps = (N + batch_size - 1) // batch_size
    for gi in nb.prange(n_groups):
        first, last = gi * group, min(M, gi * group + group)
        x = np.empty((batch_size, X.shape[1]), X.dtype)
        acts = [np.empty((batch_size, Ws[l].shape[1]), X.dtype) for l in range(L)]
        deltas = [np.empty((batch_size, Ws[l].shape[1]), X.dtype) for l in range(L)]
        zlast = np.empty((batch_size, Ws[L - 1].shape[1]), X.dtype)
        grad = np.empty((2, widest), X.dtype)
        cvec = np.empty(batch_size, X.dtype)
        for s in range(steps):
            start = s * batch_size
            m = min(batch_size, N - start)
            t = t0 + s + 1
            bc1 = X.dtype.type(1.0 - hyper[0] ** t)
            bc2 = X.dtype.type(1.0 - hyper[1] ** t)
            for mi in range(first, last):
                p = perms[0] if perms.shape[0] == 1 else perms[mi]
                rows = p[start:start + m]
                if mi == first or perms.shape[0] > 1:
                    for i in range(m):
                        x[i] = X[rows[i]]
                _train_model(x, Y, rows, m, Ws, bs, S1w, S2w, S1b, S2b, mi, eta[mi], reg_w[mi], reg_b[mi],
                             opt, hyper, bc1, bc2, act, cost, acts, zlast, deltas, grad, cvec)
    return t0 + steps


@nb.njit(fastmath=_FAST, cache=True)
def _cost_and_hits(out, z, Y, labels, start, m, cost):
    """Summed data cost ``fn`` and correct predictions over rows ``start…start+m`` whose output is ``out``.

    ``z`` holds the output layer's pre-activations; ``out`` its activations (overwritten nowhere).
    Costs as in :mod:`reglab.nn`: cross-entropy ``softplus(z) − y z``, quadratic ``½(a − y)²``,
    log-likelihood ``−Σ y log softmax(z)``.
    """
    total = 0.0
    hits = 0
    K = out.shape[1]
    for i in range(m):
        y = Y[start + i]
        best = 0
        for j in range(K):
            if out[i, j] > out[i, best]:
                best = j
        hits += best == labels[start + i]
        if cost == 0:
            for j in range(K):
                zz = float(z[i, j])
                total += max(zz, 0.0) + math.log1p(math.exp(-abs(zz))) - y[j] * zz
        elif cost == 1:
            for j in range(K):
                e = float(out[i, j]) - y[j]
                total += 0.5 * e * e
        else:
            top = float(z[i, 0])
            for j in range(K):
                top = max(top, float(z[i, j]))
            s = 0.0
            for j in range(K):
                s += math.exp(float(z[i, j]) - top)
            lse = top + math.log(s)
            for j in range(K):
                total -= y[j] * (float(z[i, j]) - lse)
    return total, hits


@nb.njit(cache=True, parallel=True)
def evaluate(X, Y, labels, Ws, bs, act, cost, chunk):
    """Mean data cost ``C₀`` and accuracy of every model on all of ``X``: two (M,) float64 arrays.

    X (N, d), Y (N, K), labels (N,); Ws[l] (M, n_out, n_in), bs[l] (M, n_out). Chunks of ``chunk``
    examples are spread over the threads; partial sums are added in a fixed order.
    """
    M, N, L = Ws[0].shape[0], X.shape[0], len(Ws)
    n_chunks = (N + chunk - 1) // chunk
    costs = np.zeros((M, n_chunks))
    hits = np.zeros((M, n_chunks))
    for job in nb.prange(M * n_chunks):
        mi, c = job // n_chunks, job % n_chunks
        start = c * chunk
        m = min(chunk, N - start)
        acts = [np.empty((chunk, Ws[l].shape[1]), X.dtype) for l in range(L)]
        z = np.empty((chunk, Ws[L - 1].shape[1]), X.dtype)
        _forward(X[start:start + m], m, Ws, bs, mi, act, cost, acts, z)
        costs[mi, c], hits[mi, c] = _cost_and_hits(acts[L - 1], z, Y, labels, start, m, cost)
    n = max(N, 1)
    return costs.sum(axis=1) / n, hits.sum(axis=1) / n
