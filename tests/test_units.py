"""λ conversions between systems, checked against each system's own update."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reglab import units
from reglab.errors import ReglabError


def test_reference_values():
    # REFERENCE.md §3: λ_eq = λ/n; torch wd = λ_eq; sklearn α = λ_eq·|B|; keras c = λ_eq/2
    assert units.lmbda_to_torch_weight_decay(5.0, 50_000) == pytest.approx(1e-4)
    assert units.lmbda_to_sklearn_alpha(5.0, 50_000, 10) == pytest.approx(1e-3)
    assert units.lmbda_to_keras_l2(5.0, 50_000) == pytest.approx(5e-5)
    assert units.convert(5.0, "book", "playground", n=50_000) == pytest.approx(1e-4)


@given(
    lam=st.floats(0, 1e4, allow_nan=False),
    n=st.integers(1, 10**6),
    b=st.integers(1, 1000),
    system=st.sampled_from(units.SYSTEMS),
)
def test_round_trips(lam, n, b, system):
    there = units.convert(lam, "book", system, n=n, batch_size=b)
    assert units.convert(there, system, "book", n=n, batch_size=b) == pytest.approx(lam, rel=1e-12, abs=1e-300)


def test_torch_sgd_weight_decay_step_equals_the_books_step():
    """One torch.optim.SGD step with weight_decay = λ/n is the book's (1 − ηλ/n)w − η g."""
    lam, n, eta = 5.0, 50_000, 0.5
    w = torch.tensor([0.3, -2.0], dtype=torch.float64, requires_grad=True)
    g = torch.tensor([0.1, 0.2], dtype=torch.float64)
    opt = torch.optim.SGD([w], lr=eta, weight_decay=units.lmbda_to_torch_weight_decay(lam, n))
    w.grad = g.clone()
    before = w.detach().clone()
    opt.step()
    assert torch.allclose(w.detach(), (1 - eta * lam / n) * before - eta * g)


def test_errors():
    with pytest.raises(ReglabError, match="needs a positive --n"):
        units.convert(1.0, "book", "torch")
    with pytest.raises(ReglabError, match="unknown system"):
        units.convert(1.0, "book", "caffe", n=1)
    with pytest.raises(ReglabError, match="finite number ≥ 0"):
        units.convert(-1.0, "torch", "book", n=1)
