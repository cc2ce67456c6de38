"""``reglab.compat.shuffle.shuffle`` against CPython's own ``random.shuffle``: the same permutation, and
``random`` left in the same state, bit for bit."""

from __future__ import annotations

import random

import numpy as np
import pytest

from reglab.compat import shuffle as shuffle_module
from reglab.compat.shuffle import shuffle


def _reference(n: int, seed: int) -> tuple[list[int], tuple, float]:
    """``random.shuffle(list(range(n)))`` after ``random.seed(seed)``; the state after it, and the next draw."""
    random.seed(seed)
    order = list(range(n))
    random.shuffle(order)
    return order, random.getstate(), random.random()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 31, 32, 33, 1000, 4097, 50_000])
def test_the_permutation_and_the_state_after_are_random_shuffles(n):
    for seed in (0, 1, 12345):
        order, state, following = _reference(n, seed)
        random.seed(seed)
        x = np.arange(n)
        shuffle(x)
        assert x.tolist() == order
        assert random.getstate() == state and random.random() == following


def test_epoch_after_epoch_as_the_books_sgd_shuffles():
    random.seed(7)
    book = list(range(1000))
    for _ in range(5):
        random.shuffle(book)
    random.seed(7)
    x = np.arange(1000)
    for _ in range(5):
        shuffle(x)
    assert x.tolist() == book


def test_words_drawn_in_several_blocks(monkeypatch):
    """When a block of words runs out mid-shuffle (even within a step's rejections), the next block continues it."""
    monkeypatch.setattr(shuffle_module, "_SLACK", 0.0)  # 64 words per block
    order, state, _ = _reference(3000, 3)
    random.seed(3)
    x = np.arange(3000)
    shuffle(x)
    assert x.tolist() == order and random.getstate() == state


def test_other_generators_use_their_own_shuffle(monkeypatch):
    class Counted(random.Random):
        def random(self):
            return super().random()

    gen = Counted(5)
    expected = list(range(100))
    Counted(5).shuffle(expected)
    x = np.arange(100)
    shuffle(x, gen.shuffle)
    assert x.tolist() == expected

    calls = []
    monkeypatch.setattr(random, "shuffle", lambda seq: calls.append(len(seq)) or seq.reverse())
    x = np.arange(4)
    shuffle(x)  # a replaced random.shuffle is the one called
    assert calls == [4] and x.tolist() == [3, 2, 1, 0]
