"""The studies: their headline claims asserted on the numbers their quick mode measures, and the CLI.

A claim that fails here on some seed is a finding to fix in the study, not a tolerance to loosen.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reglab.cli.main import main
from reglab.studies import STUDIES, list_studies, load, measure, run_all, sections
from reglab.studies.penalty_geometry import project_l1

SEEDS = (0, 1)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def measured(request):
    """Quick results of every study for one seed, measured once per module."""
    return {name: measure(name, quick=True, seed=request.param) for name in STUDIES}


# ---------------------------------------------------------------------------- the framework


@pytest.mark.parametrize("name", list(STUDIES))
def test_study_module_follows_the_interface(name):
    module = load(name)
    assert module.NAME == name
    assert module.QUESTION.endswith("?")
    keys = [part.key for part in module.PARTS]
    assert keys and len(keys) == len(set(keys))


@pytest.mark.parametrize("name", list(STUDIES))
def test_results_are_strict_json_and_findings_quote_numbers(name, measured):
    results = measured[name]
    assert json.loads(json.dumps(results, allow_nan=False)) == results
    secs = sections(name, results)
    stems = [stem for s in secs for stem in s.figures]
    assert len(stems) == len(set(stems))
    for section in secs:
        assert section.findings
        for sentence in section.findings:
            assert re.search(r"\d", sentence), f"{name}: a finding without a number: {sentence!r}"


def test_measure_is_reproducible_and_depends_on_the_seed():
    a, b = measure("goldilocks", quick=True, seed=3), measure("goldilocks", quick=True, seed=3)
    c = measure("goldilocks", quick=True, seed=4)
    assert a == b
    assert a != c


# ---------------------------------------------------------------------------- penalty-geometry


def test_penalty_geometry_penalties(measured):
    r = measured["penalty-geometry"]["penalties"]
    by_w = {tuple(row["w"]): row for row in r["vectors"]}
    one, half, small, big = by_w[(1.0, 0.0)], by_w[(0.5, 0.5)], by_w[(1.0, 0.1)], by_w[(100.0, 10.0)]
    assert one["l1"] == half["l1"] == 1.0
    assert half["l2"] == 0.5 * one["l2"]
    assert big["l1"] / small["l1"] == pytest.approx(100) and big["l2"] / small["l2"] == pytest.approx(1e4)
    assert small["pull_l1"] == [1.0, 1.0] and small["pull_l2"] == pytest.approx([1.0, 0.1])
    assert r["segment"]["l2_argmin_w"] == pytest.approx([0.5, 0.5])
    assert min(r["segment"]["l1"]) == pytest.approx(max(r["segment"]["l1"]))


def test_penalty_geometry_l1_lands_on_corners_l2_never(measured):
    r = measured["penalty-geometry"]["constrained"]
    l1, l2 = r["l1"], r["l2"]
    assert 0 < sum(l1["exact_zero"]) < len(l1["budgets"])
    assert sum(l2["exact_zero"]) == 0 and l2["smallest_abs_w"] > 0
    # the corners are exactly the budgets t ≤ a − b that the KKT conditions predict
    assert l1["exact_zero"] == [t <= r["corner_budget_kkt"] for t in l1["budgets"]]
    assert max(l1["max_gap_to_slsqp"], l2["max_gap_to_slsqp"]) < 1e-6
    for t, w in zip(l1["budgets"], l1["w"]):
        assert abs(w[0]) + abs(w[1]) == pytest.approx(t, abs=1e-12)  # the constraint is active


def test_penalty_geometry_duplicated_features(measured):
    r = measured["penalty-geometry"]["duplicated"]
    assert r["ridge_max_abs_difference"] < 1e-6
    assert r["ridge_exact_zeros"] == 0
    assert r["lasso_max_minor_share"] < 1e-12
    assert r["lasso_split_objective_gap"] < 1e-12 < r["ridge_one_column_penalty_gap"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=6), st.floats(0.01, 20))
def test_project_l1_is_the_nearest_point_of_the_ball(v, t):
    v = np.array(v)
    w = project_l1(v, t)
    assert np.abs(w).sum() <= t * (1 + 1e-12)
    if np.abs(v).sum() <= t:
        assert np.array_equal(w, v)
    else:
        # optimality: v − w = θ·sgn(w) on the support, |v − w| ≤ θ off it, θ ≥ 0
        theta = np.max(np.abs(v - w))
        on = w != 0
        assert np.allclose(np.abs(v - w)[on], theta, atol=1e-9)
        assert np.all(np.sign(w[on]) == np.sign(v[on]))


# ---------------------------------------------------------------------------- prior-capacity


def test_ridge_is_the_gaussian_map(measured):
    r = measured["prior-capacity"]["gaussian"]
    assert r["max_map_vs_closed"] < 1e-8
    assert r["max_sklearn_vs_closed"] < 1e-10


def test_lasso_is_the_laplace_map(measured):
    r = measured["prior-capacity"]["laplace"]
    assert r["max_abs_difference"] < 1e-6
    assert r["all_same_zeros"]
    assert all(abs(f["log_posterior_gap"]) < 1e-9 for f in r["fits"])
    assert any(f["zeros_lasso"] > 0 for f in r["fits"])


def test_l2_reduces_capacity(measured):
    r = measured["prior-capacity"]["capacity"]
    df = np.array(r["df"])
    assert df[0] == pytest.approx(r["p"], abs=0.01) and df[-1] < 0.1
    assert np.all(np.diff(df) < 0)
    assert r["df_trace_vs_svd"] < 1e-10
    assert r["train_monotone_in_every_repeat"]
    assert 0 < r["best_index"] < len(r["lambdas"]) - 1  # the test error is U-shaped


def test_capacity_sentences_are_whole_and_meet_the_prior(measured):
    r = measured["prior-capacity"]["capacity"]
    findings = load("prior-capacity").findings_capacity(r)
    assert all(f.endswith(".") for f in findings)
    train = next(f for f in findings if f.startswith("Training error"))
    assert f"{r['repeats']} data sets (mean" in train  # the numbers, in either branch
    assert r["oracle"] == r["sigma"] ** 2 / r["tau"] ** 2
    assert abs(math.log10(r["lambdas"][r["best_index"]] / r["oracle"])) <= 0.5  # within half a decade of σ²/τ²


def test_l2_on_a_network_is_the_gaussian_map(measured):
    r = measured["prior-capacity"]["network"]
    for f in r["fits"]:
        assert f["offset_spread"] < 1e-9  # n·C and −log p(w|D) differ by a constant…
        assert f["offset"] == pytest.approx(f["offset_predicted"], abs=1e-9)  # …the prior's normalizer
        assert f["gradient_max_difference"] < 1e-10
        if f["map_gap"] is not None:
            assert f["grad_posterior"] < 0.01 * f["grad_likelihood"]  # the prior's gradient cancels the likelihood's
            assert f["grad_at_map"] < 1e-4  # L-BFGS found a stationary point of the posterior…
            assert 0 <= f["map_gap"] < 0.05  # …a hair above the trained weights (nats, of about 160)


def test_l2_equalizes_the_weights_on_duplicated_inputs_l1_does_not(measured):
    r = measured["prior-capacity"]["network"]
    n, eta, steps = r["n"], r["eta"], r["steps"]
    *l2, prox = r["gaps"]
    for g, lm in zip(l2, r["lambdas"]):
        predicted = g["initial"] * (1 - eta * lm / n) ** steps
        if predicted > 1e-10:
            assert g["final"] == pytest.approx(predicted, rel=1e-6)  # only the decay acts on the difference
        else:
            assert g["final"] < 1e-12
    assert prox["final"] > 0.1 * prox["initial"]


def test_centred_prior_same_capacity_different_generalization(measured):
    r = measured["prior-capacity"]["centred"]
    assert r["df_max_difference"] < 1e-8
    assert r["near_zero"]["best_prior_zero"] < r["near_zero"]["best_prior_c"]
    assert r["near_c"]["best_prior_c"] < r["near_c"]["best_prior_zero"]


def test_evidence_and_cross_validation_agree(measured):
    r = measured["prior-capacity"]["evidence"]
    for f in r["fits"]:
        assert f["bayes_vs_ridge_coef"] < 1e-8
        assert abs(math.log10(f["lambda_evidence"] / f["lambda_cv"])) < math.log10(3)


# ---------------------------------------------------------------------------- update-rule


def test_one_step_equals_weight_decay(measured):
    r = measured["update-rule"]["one_step"]
    assert r["positive_weights"] > 0 and r["negative_weights"] > 0
    assert max(r["max_diff_positive"], r["max_diff_negative"], r["max_diff_biases"]) < 1e-12


def test_decay_points_to_zero_data_either_way(measured):
    r = measured["update-rule"]["directions"]
    assert r["decay_toward_zero"] == r["weight_steps"]
    assert 0 < r["data_toward_zero"] < r["weight_steps"]
    lo, hi = r["decay_over_w"]
    assert lo == pytest.approx(r["eta"] * r["lambda"] / r["n"]) and hi == pytest.approx(lo)


def test_decay_towards_zero_is_called_what_it_is(measured):
    text = " ".join(load("update-rule").findings_directions(measured["update-rule"]["directions"]))
    assert "by construction" in text and "What is measured is the data term" in text


def test_every_lambda_has_its_own_colour_in_the_paths():
    from reglab.studies.update_rule import paths_figure

    runs = [{"lambda": float(lm), "path_steps": [0, 1], "path": [[0.0, 0.0], [-1.0, 1.0]]} for lm in range(11)]
    ax = paths_figure({"runs": runs, "steps": 1}, (0, 1), "w", "t").axes[0]
    solid = [line for line in ax.get_lines() if line.get_label().startswith("λ =")]  # w₁'s paths, labelled by λ
    colours = [tuple(line.get_color()) for line in solid]
    assert len(colours) == 11 == len(set(colours))  # eleven λ, eleven colours (a 10-colour cycle repeats one)
    brightness = [sum(c[:3]) for c in colours]
    assert brightness == sorted(brightness)  # a sequential map: ordered λ, ordered lightness


def test_negative_slope_stays_negative_and_shrinks(measured):
    runs = measured["update-rule"]["correct"]["runs"]
    assert all(run["diverged_at"] is None and run["w1_first_nonnegative_step"] is None for run in runs)
    w1 = [run["final"][0] for run in runs]
    w2 = [run["final"][1] for run in runs]
    assert all(w < 0 for w in w1) and all(a < b for a, b in zip(w1, w1[1:]))  # |w₁| falls with λ
    assert all(w > 0 for w in w2) and all(a > b for a, b in zip(w2, w2[1:]))
    for run in runs:
        assert run["final"] == pytest.approx(run["closed_form"], abs=1e-8)


def test_mistaken_rule_pushes_weights_up(measured):
    r = measured["update-rule"]["mistaken"]
    assert all(p["mistaken"] > 0 for p in r["push"]["rows"])
    assert all(p["decay"] * p["w"] < 0 for p in r["push"]["rows"])
    runs = {run["lambda"]: run for run in r["runs"]}
    ref = runs[0.0]["final"]
    converged = [run for lm, run in runs.items() if lm > 0 and run["diverged_at"] is None]
    diverged = [run for lm, run in runs.items() if lm > 0 and run["diverged_at"] is not None]
    assert converged and diverged
    for run in converged:
        assert run["final"][0] > ref[0] and run["final"][1] > ref[1]  # both pushed up
    for run in diverged:
        assert run["w1_first_nonnegative_step"] is not None  # the negative weight crossed zero
        assert run["w1_first_nonnegative_step"] < run["diverged_at"]


# ---------------------------------------------------------------------------- goldilocks


def test_ridge_shrinks_each_singular_direction_by_d2_over_d2_plus_lambda(measured):
    r = measured["goldilocks"]["linear"]
    assert r["max_abs_difference"] < 1e-8
    for fit in r["orthonormal"][0]["fits"]:
        assert fit["per_coefficient"] == pytest.approx([1 / (1 + fit["lambda"])] * r["p"], abs=1e-10)
    corr = r["correlated"][0]
    order = np.argsort(corr["d"])
    for fit in corr["fits"]:
        kept = np.array(fit["per_direction"])[order]
        assert np.all(np.diff(kept) > 0)  # the smaller d, the more shrinkage


def test_goldilocks_linear_orthonormal_takes_most_from_the_largest_weight(measured):
    r = measured["goldilocks"]["linear"]
    orth = r["orthonormal"][0]
    for fit in orth["fits"]:
        lost = np.abs(orth["w_ols"]) - np.abs(fit["w"])
        assert np.argmax(lost) == np.argmax(np.abs(orth["w_ols"]))  # the same fraction: most from the largest
    corr = r["correlated"][0]
    shown = corr["fits"][len(r["lambdas"]) // 2]  # the λ the findings quote
    grew = int((np.abs(shown["w"]) > np.abs(corr["w_ols"])).sum())
    text = " ".join(load("goldilocks").findings_linear(r))
    assert f"{grew} of {r['p']} coefficients grew in magnitude" in text
    assert ("L2 can even grow a near-useless weight" in text) == (grew > 0)


def test_input_sensitivity_is_the_jacobian_norm_by_autograd():
    import torch

    from reglab.engine.model import MLP
    from reglab.studies.goldilocks_mnist import input_sensitivity

    model = MLP.initialize([6, 5, 4, 3], seeds=[0, 1], init="large", dtype=torch.float64)
    X = torch.rand(7, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for m in range(2):
        def output(x, m=m):
            return model.forward(x[None])[1][-1][m, 0]

        norms = [torch.autograd.functional.jacobian(output, x).norm() for x in X]
        assert input_sensitivity(model, X, chunk=3)[m] == pytest.approx(float(sum(norms) / len(norms)), rel=1e-12)


def test_norm_drift_is_the_expected_change_of_the_norm_in_one_step():
    import torch

    from reglab.engine.model import MLP
    from reglab.studies.decay_equilibrium import norm_drift

    gen = torch.Generator().manual_seed(0)
    model = MLP.initialize([6, 5, 3], seeds=[0, 1], init="large", dtype=torch.float64)
    X = torch.rand(20, 6, generator=gen, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.randint(3, (20,), generator=gen), 3).double()
    eta, m, decay = 0.3, 5, np.array([0.0, 0.2])
    got = norm_drift(model, X, Y, m, eta, decay)
    for l, W in enumerate(model.weights):
        after = []  # ‖W‖² after one step on each mini-batch, by the update itself
        for b in range(0, 20, m):
            zs, acts = model.forward(X[b:b + m])
            gw, _ = model.backward(Y[b:b + m], zs, acts)
            step = W - eta * (gw[l] + torch.tensor(decay)[:, None, None] * W)
            after.append(step.square().sum(dim=(1, 2)) - W.square().sum(dim=(1, 2)))
        expected = torch.stack(after).mean(dim=0)
        assert np.allclose(np.add(got[l]["drift"], got[l]["noise"]), expected.numpy(), rtol=1e-10, atol=1e-14)
        assert all(v > 0 for v in got[l]["noise"])


# ---------------------------------------------------------------------------- the CLI


def test_cli_writes_a_self_contained_report(tmp_path, capsys):
    assert main(["study", "penalty-geometry", "--quick", "--out", str(tmp_path), "--seed", "2"]) == 0
    folder = tmp_path / "penalty-geometry"
    assert f"wrote {folder / 'report.html'}" in capsys.readouterr().out
    saved = json.loads((folder / "results.json").read_text())
    assert saved["study"] == "penalty-geometry" and saved["params"] == {"quick": True, "seed": 2}
    assert saved["seconds"] > 0 and "torch" in saved["versions"]
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == 2 and all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    html = (folder / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(pngs)
    assert not re.search(r'(src|href)="(?!data:)', html)  # nothing outside the file
    first = sections("penalty-geometry", saved["results"])[1].findings[0]
    assert first.split(" (")[0] in html and re.search(r"\d+ of \d+ budgets", html)
    assert not list(folder.glob(".*.tmp"))


def test_cli_list(capsys):
    assert main(["study", "--list"]) == 0
    out = capsys.readouterr().out
    for name, question in list_studies():
        assert name in out and question in out


@pytest.mark.parametrize("argv, message", [
    (["study", "nonsense"], "unknown study 'nonsense'; the studies are: penalty-geometry"),
    (["study"], "give a study NAME, 'all', or --list"),
    (["study", "goldilocks", "--seed", "-1"], "--seed must be an integer from 0 to 2**63-1, got -1"),
])
def test_cli_errors_are_one_line(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reglab: error: ") and message in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_run_all_writes_an_index(tmp_path):
    index = run_all(tmp_path, quick=True, seed=0, names=["goldilocks"])
    html = index.read_text()
    assert 'href="goldilocks/report.html"' in html and (tmp_path / "goldilocks" / "report.html").exists()
    assert "headline finding" in html


@pytest.mark.parametrize("name", list(STUDIES))
def test_the_index_shows_a_headline_not_the_data_sentence(name, measured):
    from reglab.studies import data as study_data
    from reglab.studies import headline

    results = measured[name]
    line = headline(name, results)
    assert re.search(r"\d", line)
    described = {study_data.describe(r["data"]) for r in results.values() if isinstance(r, dict) and "data" in r}
    assert line not in described and not line.startswith(("Data:", "MNIST was not used", "Synthetic data:"))
    assert any(line in f for s in sections(name, results) for f in s.findings)  # a finding of the report itself
