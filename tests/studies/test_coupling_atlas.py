"""coupling-atlas: the lr-free decay's parametrization, and Adam cancelling the L2 coefficient where the penalty is
the only gradient (measured in quick mode), while AdamW's decay follows it."""

import numpy as np
import pytest

from reglab.studies import measure
from reglab.studies.coupling_atlas import SCHEMES, _lmbdas, grid_of


@pytest.fixture(scope="module")
def quick():
    return measure("coupling-atlas", quick=True, seed=0)


def test_decay_free_of_eta_shrinks_by_the_same_factor_at_every_eta():
    eta, lmbda = grid_of("adam", quick=True)
    etas, axis, given = _lmbdas(eta, lmbda, coupled=False, free=True)
    eta0 = float(np.exp(np.log(eta).mean()))
    # DecoupledDecay(λ) decays η·λ/n per step: given·η must be η₀·λ whatever η is
    np.testing.assert_allclose(np.array(given) * np.array(etas), eta0 * np.array(axis), rtol=1e-12)
    _, _, same = _lmbdas(eta, lmbda, coupled=False, free=False)
    assert same == axis


def test_adam_cancels_the_coefficient_only_where_the_penalty_is_the_only_gradient(quick):
    r = quick["cancel"]
    assert r["blank_pixels"] > 0
    assert r["adam_l2_blank"]["relative"] < 1e-3  # λ → 10λ: the same trajectory, up to ε
    assert r["adamw_blank"]["relative"] > 0.5  # AdamW: the decay scales with λ
    assert r["adam_l2_data"]["relative"] > 0.01  # weights with a data gradient do feel λ under Adam + L2


def test_every_scheme_has_a_heatmap_and_a_ridge(quick):
    r = quick["atlas"]
    assert [s["key"] for s in r["schemes"]] == [k for k, *_ in SCHEMES]
    for s in r["schemes"]:
        acc = np.array([[np.nan if v is None else v for v in row] for row in s["accuracy"]])
        assert acc.shape == (len(s["eta"]), len(s["lmbda"])) and np.nanmax(acc) == s["best"] > 0.5
        assert len(s["ridge"]["lmbda"]) == np.isfinite(acc).any(axis=1).sum()
        assert s["reading"].startswith("good λ ∝ η^")
