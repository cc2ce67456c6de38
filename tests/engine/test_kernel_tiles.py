"""The kernel's register tiles change which loads are shared, never a number: each tile equals its narrower form
bit for bit (the same operations in the same order per element), so a model trains to the same weights whatever
the tiles (and the tests of the whole epoch against the tensor steps and against one model at a time hold)."""

import numba as nb
import numpy as np
import pytest

from reglab.engine import kernel as K


@nb.njit(cache=False)
def dense_whole(inp, W, b, out, m):
    K.dense(inp, W, b, out, m)


@nb.njit(cache=False)
def dense_by_pairs(inp, W, b, out, m):
    """Units in pairs, the last of an odd layer alone: the tiles of 2 units × 5 examples only."""
    n_out = W.shape[0]
    for j in range(0, n_out, 2):
        end = min(n_out, j + 2)
        K.dense(inp, W[j:end], b[j:end], out[:, j:end], m)


@nb.njit(cache=False)
def rows_by_four(d, inp, m, j, c, shrink, W):
    K._rows4(d, inp, m, j, c, shrink, W)


@nb.njit(cache=False)
def rows_by_pairs(d, inp, m, j, c, shrink, W):
    K._rows(d, inp, m, j, c, shrink, W[j], W[j + 1])
    K._rows(d, inp, m, j + 2, c, shrink, W[j + 2], W[j + 3])


@nb.njit(cache=False)
def weighted_by_four(c, rows, m, out):
    K._weighted_rows4(c, 0, rows, m, out)


@nb.njit(cache=False)
def weighted_one_by_one(c, rows, m, out):
    for e in range(4):
        K._weighted_rows(c[e], rows, m, out[e])


DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_out", [1, 2, 3, 4, 5, 7, 10, 30, 33])
@pytest.mark.parametrize("m", [3, 10, 12])
def test_dense_in_tiles_of_three_equals_tiles_of_two(dtype, n_out, m):
    rng = np.random.default_rng(n_out * 100 + m)
    n_in = 37  # not a multiple of any vector width: every loop has its remainder
    inp, W, b = (rng.standard_normal(s).astype(dtype) for s in ((m, n_in), (n_out, n_in), n_out))
    whole, pairs = np.zeros((m, n_out), dtype), np.zeros((m, n_out), dtype)
    dense_whole(inp, W, b, whole, m)
    dense_by_pairs(inp, W, b, pairs, m)
    assert np.array_equal(whole, pairs)
    np.testing.assert_allclose(whole, inp @ W.T + b, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 3, 5, 7, 10, 12])
def test_the_books_step_on_four_rows_equals_two_pairs(dtype, m):
    rng = np.random.default_rng(m)
    d, inp = rng.standard_normal((m, 6)).astype(dtype), rng.random((m, 41)).astype(dtype)
    W = rng.standard_normal((6, 41)).astype(dtype)
    c, shrink = dtype(-0.01), dtype(0.999)
    four, pairs = W.copy(), W.copy()
    rows_by_four(d, inp, m, 1, c, shrink, four)
    rows_by_pairs(d, inp, m, 1, c, shrink, pairs)
    assert np.array_equal(four, pairs)
    expected = W[1:5] * shrink + c * d[:, 1:5].T @ inp  # w ← shrink·w + c·δᵀa
    np.testing.assert_allclose(four[1:5], expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    assert np.array_equal(four[[0, 5]], W[[0, 5]])  # the other rows untouched


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 4, 6, 10, 30])
def test_errors_below_four_examples_at_a_time_equal_one_by_one(dtype, m):
    rng = np.random.default_rng(m)
    c, rows = rng.standard_normal((4, m)).astype(dtype), rng.standard_normal((m, 43)).astype(dtype)
    four, one = np.full((4, 43), np.nan, dtype), np.full((4, 43), np.nan, dtype)
    weighted_by_four(c, rows, m, four)
    weighted_one_by_one(c, rows, m, one)
    assert np.array_equal(four, one)
    np.testing.assert_allclose(four, c @ rows, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-5)
