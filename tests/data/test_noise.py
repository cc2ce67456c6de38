"""Label noise: exactly ⌊p·n + ½⌋ labels change, each to a wrong class drawn uniformly, fixed by the seed."""

import numpy as np
import pytest

from reglab.data.noise import corrupt_labels, noisy_count
from reglab.errors import ReglabError


@pytest.mark.parametrize("p", [0.0, 0.1, 0.25, 0.5, 0.8, 1.0])
def test_exactly_round_p_n_labels_change_each_to_another_class(p):
    y = np.random.default_rng(0).integers(0, 10, 1001)
    noisy, record = corrupt_labels(y, p, 10, np.random.default_rng(1))
    changed = np.flatnonzero(noisy != y)
    assert len(changed) == noisy_count(p, 1001) == int(np.floor(p * 1001 + 0.5))
    assert np.array_equal(changed, record.indices)
    assert np.array_equal(record.original, y[changed]) and np.array_equal(record.noisy, noisy[changed])
    assert y.tolist() != noisy.tolist() or p == 0.0  # the input is not changed in place
    assert record.rows() == [(int(i), int(y[i]), int(noisy[i])) for i in changed]


def test_the_new_classes_are_uniform_over_the_wrong_ones_and_the_seed_fixes_them():
    y = np.zeros(90_000, dtype=np.int64)
    noisy, _ = corrupt_labels(y, 1.0, 10, np.random.default_rng(2))
    counts = np.bincount(noisy, minlength=10)
    assert counts[0] == 0
    expected = 10_000
    chi2 = float(((counts[1:] - expected) ** 2 / expected).sum())
    assert chi2 < 27.9  # χ²(8) at p = 0.0005
    again, _ = corrupt_labels(y, 1.0, 10, np.random.default_rng(2))
    other, _ = corrupt_labels(y, 1.0, 10, np.random.default_rng(3))
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)


def test_halves_round_up_and_bad_fractions_are_refused():
    assert noisy_count(0.5, 3) == 2 and noisy_count(0.25, 10) == 3 and noisy_count(0.0, 10) == 0
    with pytest.raises(ReglabError, match=r"--label-noise must lie in \[0, 1\]"):
        corrupt_labels(np.zeros(3, dtype=np.int64), 1.5, 10, np.random.default_rng(0))
