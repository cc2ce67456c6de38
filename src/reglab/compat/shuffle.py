r"""``random.shuffle`` of an index array, bit for bit, in a compiled loop.

The book's ``SGD`` calls ``random.shuffle(training_data)`` once per epoch; a
script that seeds ``random`` expects the same mini-batches as the original, and
the same state of ``random`` afterwards. CPython's shuffle is Fisher–Yates
driven by the Mersenne Twister,

.. math::  \text{for } i = N-1, \dots, 1:\quad j = \mathrm{randbelow}(i + 1), \quad x_i \leftrightarrow x_j,

where ``randbelow(b)`` takes the top ``k = b.bit_length()`` bits of the next
32-bit output until they are below ``b`` (one 32-bit word per try, for any
``b < 2³²``). :func:`shuffle` does the same steps on the same words: it copies
the generator's state into numpy's ``MT19937`` (the same generator, the same
state layout), draws the words in bulk, runs the loop compiled, and leaves
``random`` exactly where ``random.shuffle`` would have: about 2 ms for 50,000
indices where ``random.shuffle`` takes 30–120 ms. Where the words do not come
from ``random``'s own Mersenne Twister (a subclass, a replaced ``shuffle``),
it calls that ``shuffle`` instead.
"""

from __future__ import annotations

import random

import numba as nb
import numpy as np

#: 32-bit words per draw: the expected need is about 1.39·N (rejections), so one draw nearly always suffices.
_SLACK = 1.5


@nb.njit(cache=True, nogil=True)
def _fisher_yates(x, words, i):
    """Steps ``i, i−1, …, 1`` of the shuffle of ``x`` from ``words``; returns ``(next step, words used)``
    (``next step > 0``: the words ran out; the rejected words of the unfinished step count as used)."""
    p = 0
    k = 0
    while (1 << k) <= i + 1:  # k = (i + 1).bit_length()
        k += 1
    while i > 0:
        b = i + 1
        if b < (1 << (k - 1)):
            k -= 1
        r = b
        while r >= b:
            if p == words.shape[0]:
                return i, p
            r = words[p] >> (32 - k)
            p += 1
        x[i], x[r] = x[r], x[i]
        i -= 1
    return i, p


def _generator(state: tuple) -> np.random.MT19937:
    """numpy's Mersenne Twister in the state of ``random.getstate()[1]`` (624 words, then the position)."""
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": np.array(state[:624], dtype=np.uint32), "pos": state[624]}}
    return bg


def _native(shuffle) -> random.Random | None:
    """The ``random.Random`` whose own ``shuffle`` ``shuffle`` is, when its words come from its Mersenne Twister."""
    inst = getattr(shuffle, "__self__", None)
    if type(inst) is not random.Random or getattr(shuffle, "__func__", None) is not random.Random.shuffle:
        return None
    return inst


def shuffle(x: np.ndarray, using=None) -> None:
    """``using(x)`` (default: the module's ``random.shuffle``) on a 1-D array ``x`` in place: the same
    permutation, and the generator left in the same state, as that call on ``list(x)``."""
    using = using or random.shuffle
    inst = _native(using)
    if inst is None or len(x) >= 2**31:
        as_list = x.tolist()
        using(as_list)
        x[:] = as_list
        return
    version, state, gauss = inst.getstate()
    bg = _generator(state)
    step, used = len(x) - 1, 0
    while step > 0:
        words = bg.random_raw(int(_SLACK * step) + 64).view(np.int64)  # 32-bit values
        step, n = _fisher_yates(x, words, step)
        used += n
    bg = _generator(state)
    bg.random_raw(used)  # advance the same generator by exactly the words the shuffle used
    after = bg.state["state"]
    inst.setstate((version, (*after["key"].tolist(), int(after["pos"])), gauss))
