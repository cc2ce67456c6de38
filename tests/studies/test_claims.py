"""The studies that train networks with reglab's engine: their headline claims, asserted on what quick mode measures.

Every quick measure runs on the real MNIST (``REGLAB_DATA`` pointed at the shared data) for two seeds. A claim
that fails here on some seed is a finding to fix in the study, not a tolerance to loosen.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from reglab.studies import (
    STUDIES,
    adam_vs_adamw,
    decay_equilibrium,
    feature_selection,
    goldilocks_mnist,
    load,
    magnitude_saturation,
)

SEEDS = (0, 1)
PARTS = {
    "feature-selection": feature_selection.PARTS,
    "magnitude-saturation": magnitude_saturation.PARTS,
    "decay-equilibrium": decay_equilibrium.PARTS,
    "adam-vs-adamw": adam_vs_adamw.PARTS,
    "goldilocks": (goldilocks_mnist.PART,),
}


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def measured(request, shared_data_dir):
    """Quick results of every part above on MNIST for one seed: ``{study: {part key: results}}``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REGLAB_DATA", str(shared_data_dir))
        return {name: {p.key: p.measure(True, request.param) for p in parts} for name, parts in PARTS.items()}


# ---------------------------------------------------------------------------- every part


@pytest.mark.parametrize("name", list(PARTS))
def test_results_are_json_and_every_finding_is_rendered(name, measured):
    for part in PARTS[name]:
        r = measured[name][part.key]
        assert json.loads(json.dumps(r, allow_nan=False)) == r
        if "data" in r:
            assert r["data"]["dataset"] == "mnist" and r["data"]["note"] is None
        section = part.section(r)
        assert section.findings and all(any(c.isdigit() for c in s) for s in section.findings)
        assert all(fig.get_suptitle() for fig in section.figures.values())


def test_measure_is_reproducible(measured, request, shared_data_dir, monkeypatch):
    seed = request.node.callspec.params["measured"]
    if seed != SEEDS[0]:
        pytest.skip(f"checked once, on seed {SEEDS[0]}")
    monkeypatch.setenv("REGLAB_DATA", str(shared_data_dir))
    for name, parts in PARTS.items():
        for part in parts:
            assert part.measure(True, seed) == measured[name][part.key], (name, part.key)


def test_registered():
    for name in ("feature-selection", "magnitude-saturation", "decay-equilibrium", "adam-vs-adamw"):
        assert load(name).NAME == name and name in STUDIES
    assert goldilocks_mnist.PART in load("goldilocks").PARTS


def test_without_mnist_the_digits_stand_in_and_the_findings_say_so(tmp_path, monkeypatch):
    monkeypatch.setenv("REGLAB_DATA", str(tmp_path))  # no mnist/ there
    r = feature_selection.measure_mnist(True, 0)
    assert r["data"]["dataset"] == "digits" and r["data"]["side"] == 8 and "MNIST not found" in r["data"]["note"]
    assert r["data"]["n_train"] == 1197 < r["data"]["requested_train"]
    first = feature_selection.findings_mnist(r)[0]
    assert first.startswith("MNIST was not used") and "8×8 digits" in first


# ---------------------------------------------------------------------------- feature-selection


def test_prox_gives_exact_zeros_subgradient_and_l2_do_not(measured):
    r = measured["feature-selection"]["synthetic"]
    d, k = r["d"], r["k"]
    for ds in r["sets"]:
        kinds = ds["kinds"]
        assert all(s["zeros"] == 0 for s in kinds["L2"]["stats"])
        assert all(s["zeros"] == 0 for s in kinds["L1 (subgradient)"]["stats"])
        assert all(s["zeros"] > 0 for s in kinds["L1 (prox)"]["stats"])
        j = feature_selection._headline(ds, k)
        assert kinds["L1 (prox)"]["stats"][j]["zeros_useless"] == d - k  # every useless weight exactly 0
        assert kinds["L1 (prox)"]["stats"][j]["zeros_informative"] < k  # and some informative one kept
        assert kinds["L1 (subgradient)"]["stats"][j]["min_useless"] > 0
        assert kinds["L2"]["stats"][j]["min_useless"] > 0
        # more λ, more zeros under prox
        zeros = [s["zeros"] for s in kinds["L1 (prox)"]["stats"]]
        assert zeros == sorted(zeros)


def test_prox_selects_what_sklearn_selects_at_lambda_equal_one_over_c(measured):
    r = measured["feature-selection"]["synthetic"]
    for ds in r["sets"]:
        assert ds["prox_selected"] == ds["sklearn_selected"]
        assert max(ds["max_abs_difference"]) < 1e-6


def test_l2_pruned_to_l1s_count_is_measured_against_l1(measured):
    r = measured["feature-selection"]["synthetic"]
    k = r["k"]
    for ds in r["sets"]:
        for j, cut in enumerate(ds["l2_pruned"]):
            w2, w1 = np.array(ds["kinds"]["L2"]["w"][j]), np.array(ds["kinds"]["L1 (prox)"]["w"][j])
            assert cut["count"] == np.count_nonzero(w1)
            top = np.argsort(-np.abs(w2), kind="stable")[: cut["count"]]  # the reference: numpy's own ranking
            assert cut["selected"] == sorted(top.tolist())
            assert cut["informative"] == sum(i < k for i in top)
            assert cut["overlap"] == len(set(top.tolist()) & set(np.flatnonzero(w1).tolist()))
        # the report's reading at the headline λ: L2's largest weights hold about as many informative features
        j = feature_selection._headline(ds, k)
        kept = k - ds["kinds"]["L1 (prox)"]["stats"][j]["zeros_informative"]
        assert abs(ds["l2_pruned"][j]["informative"] - kept) <= 1


def test_held_out_accuracy_is_recomputed_from_the_weights(measured):
    r = measured["feature-selection"]["synthetic"]
    for ds in r["sets"]:
        for kind in ("L2", "L1 (prox)"):
            acc = ds["kinds"][kind]["test_accuracy"]
            assert all(0.5 < a <= 1 for a in acc[:2])  # the weaker λ beat chance on held-out data
        assert len(ds["l2_pruned"]) == len(ds["lambdas"])


def test_l1_receptive_fields_are_sparser_and_more_concentrated_than_l2s(measured):
    r = measured["feature-selection"]["mnist"]
    l2, prox = r["models"]
    d = r["pixels"]
    assert l2["unit_nonzero"] == [d] * r["sizes"][1]
    assert max(prox["unit_nonzero"]) < d
    fields = np.array(prox["fields"])
    assert (fields != 0).sum(axis=1).tolist() == prox["unit_nonzero"]  # the figure shows exactly these zeros
    assert sum(prox["unit_nonzero"]) == d * r["sizes"][1] - prox["zero_weights"]
    assert np.median(prox["unit_top_share"]) > np.median(l2["unit_top_share"]) > r["top"]


def test_top_share_against_hand_computed_values():
    W = np.array([[4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # all weight on one pixel
                  [1.0] * 10,  # spread evenly
                  [0.0] * 10])  # no weight at all
    np.testing.assert_allclose(feature_selection.top_share(W, 0.1), [1.0, 0.1, 0.0])


def test_prox_drops_blank_border_pixels_l2_drops_none(measured):
    r = measured["feature-selection"]["mnist"]
    l2, prox = r["models"]
    assert l2["zero_columns"] == 0 and l2["zero_weights"] == 0 and l2["min_dead_norm"] > 0
    assert prox["zero_dead"] == r["dead"] > 0  # no data gradient: prox lands on 0
    assert prox["zero_border"] > 0.5 * r["border"]
    assert min(l2["validation_accuracy"], prox["validation_accuracy"]) > 0.85


# ---------------------------------------------------------------------------- magnitude-saturation


def test_linear_network_predictions_unchanged_under_exact_scaling(measured):
    r = measured["magnitude-saturation"]["scaling"]
    ex = r["linear"]["exact"]
    assert all(ex["bitwise_equal"]) and max(ex["max_rel_difference"]) == 0.0
    assert sum(ex["changed_predictions"]) == 0
    assert ex["confidence"][0] < ex["confidence"][-1]  # the argmax stays, the confidence does not
    assert max(r["linear"]["uniform_changed_predictions"]) > 0  # biases ×c is not a multiple of the logits


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_scaling_saturates_sigmoid_and_tanh(measured, act):
    r = measured["magnitude-saturation"]["scaling"]
    e, cs = r[act], r["c"]
    i1 = cs.index(1.0)
    assert e["saturated"][0] == 0.0 and e["saturated"][-1] > 0.9
    assert np.all(np.diff(e["saturated"]) >= 0)
    assert e["mean_fprime"][-1] < 0.02 * e["mean_fprime"][0]
    assert e["accuracy"][0] < 0.5 * e["accuracy"][i1] and e["accuracy"][i1] > 0.8  # c → 0: f(cz) → f(0), input lost
    rel = np.array(e["grad_norm_layers"][0]) / np.array(e["weight_norm_layers"][0])
    assert rel[-1] < rel[i1] / 10


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_absolute_gradient_grows_above_c_1_relative_gradient_shrinks(measured, act):
    r = measured["magnitude-saturation"]["scaling"]
    e, i1 = r[act], r["c"].index(1.0)
    first, norm = np.array(e["grad_norm_layers"][0]), np.array(e["weight_norm_layers"][0])
    assert np.all(np.diff(first[i1:]) > 0)  # absolute: grows with every doubling of c above 1
    rel = first / norm
    assert np.all(np.diff(rel[i1:]) < 0)  # relative to ‖W₀‖: shrinks with every doubling
    assert any("absolute gradient ‖∂C₀/∂W₀‖ grows" in s for s in magnitude_saturation.findings_scaling(r))


def test_scaled_up_sigmoid_network_keeps_most_of_its_accuracy(measured):
    r = measured["magnitude-saturation"]["scaling"]
    acc = r["sigmoid"]["accuracy"]
    assert r["sigmoid"]["saturated"][-1] > 0.9
    assert acc[r["c"].index(1.0)] - acc[-1] < 0.05  # c = 128: most units saturated, most predictions kept


def test_fastest_scales_are_reported_with_their_ties():
    r = {"c": [0.1, 1.0, 3.0, 10.0], "epochs_to_target": [2, 2, 3, None], "accuracy": [[0.5, 0.9]] * 4,
         "epochs": 5, "target": 0.85, "eta": 0.5, "validation": 100, "data": {"n_train": 100},
         "saturation": [[0.0, 0.0]] * 4}
    last = magnitude_saturation.findings_training(r)[-1]
    assert last.startswith("Fastest: a 2-way tie, c = 0.1, 1 (2 epochs each); 1 of 4 scales did not reach 85%")
    r["epochs_to_target"] = [3, 2, 3, None]
    assert magnitude_saturation.findings_training(r)[-1].startswith("Fastest: c = 1 (2 epochs); 1 of 4")


def test_one_neuron_same_boundary_different_saturation(measured):
    r = measured["magnitude-saturation"]["neuron"]
    assert r["same_side"] == r["points"] - r["on_boundary"]
    assert r["small"]["saturated"] == 0.0 and r["large"]["saturated"] > 0.9
    assert r["large"]["mean_grad"] < r["small"]["mean_grad"] / 10


def test_training_from_saturated_weights_is_slow(measured):
    r = measured["magnitude-saturation"]["training"]
    reached = dict(zip(r["c"], r["epochs_to_target"]))
    assert reached[1.0] is not None
    assert reached[100.0] is None or reached[100.0] > reached[1.0]
    assert r["saturation"][r["c"].index(100.0)][0] > 0.9


# ---------------------------------------------------------------------------- decay-equilibrium


def test_decay_slope_matches_exp_minus_eta_lambda_over_m(measured):
    r = measured["decay-equilibrium"]["equilibrium"]
    for f in (f for f in r["fits"] if f["layer"] == 0):
        assert f["fitted"] == pytest.approx(f["predicted"], rel=0.03), f
        # ⌈n/m⌉·ln(1 − ηλ/n) = −(ηλ/m)(1 + ηλ/2n + …): the exponential is the first-order term
        assert f["exact"] == pytest.approx(f["predicted"], rel=r["eta"] * f["lambda"] / r["n"])


def test_decay_stops_at_a_level_that_falls_with_lambda(measured):
    r = measured["decay-equilibrium"]["equilibrium"]
    tails = [f for f in r["fits"] if f["layer"] == 0 and f["tail_epoch"] is not None]
    assert len(tails) >= 2
    levels = [f["final_rms"] for f in tails]
    assert levels == sorted(levels, reverse=True)  # larger λ, lower level
    # the level lies between 1/√N and ten times 1/√n_in
    assert all(1 / math.sqrt(r["N"]) < x < 10 / math.sqrt(r["sizes"][0]) for x in levels)


def test_total_sum_of_squares_falls_while_the_output_layer_grows(measured):
    r = measured["decay-equilibrium"]["equilibrium"]
    i0, i5 = r["lambdas"].index(0.0), r["lambdas"].index(r["main_lambda"])
    total = [decay_equilibrium._sum_sq(r, i, -1) for i in range(len(r["lambdas"]))]
    assert total[i5] < 0.2 * total[i0]
    assert total == sorted(total, reverse=True)
    out = r["layers"][-1]["l2"]
    assert out[i0][-1] > out[i0][0]  # unpenalized: the output layer grows
    assert decay_equilibrium._sum_sq(r, i5, -1) < decay_equilibrium._sum_sq(r, i5, 0)


def test_a_layer_that_grows_gets_no_fitted_slope(measured):
    r = measured["decay-equilibrium"]["equilibrium"]
    for f in r["fits"]:
        rms = r["layers"][f["layer"]]["rms"][r["lambdas"].index(f["lambda"])]
        assert f["grew"] == (rms[-1] > rms[0]) and (f["status"] == "grew") == f["grew"]
        assert (f["fitted"] is None) == (f["window"] is None) == (f["status"] != "decay")
        if f["status"] == "decay":
            assert f["fitted"] < f["predicted"] / 2  # a fitted row: at least half the predicted decay
    rows = decay_equilibrium.tables_equilibrium(r)[0].rows
    assert all(row[2].startswith("n/a") for row, f in zip(rows, r["fits"]) if f["status"] != "decay")
    assert any(f["grew"] for f in r["fits"])  # the output layer grows at λ = 5
    assert all(f["status"] == "decay" for f in r["fits"] if f["layer"] == 0)  # the first layer is fitted at every λ


def test_a_layer_grows_exactly_while_its_data_push_exceeds_its_decay(measured):
    r = measured["decay-equilibrium"]["equilibrium"]
    i5 = r["lambdas"].index(r["main_lambda"])
    out0 = decay_equilibrium.balance(r, i5, 0)
    assert np.all(out0["push"] < out0["pull"])  # the first layer: decay wins every epoch, and it shrinks
    assert r["layers"][0]["l2"][i5][-1] < r["layers"][0]["l2"][i5][0]
    out1 = decay_equilibrium.balance(r, i5, 1)
    assert np.mean(out1["push"] > out1["pull"]) > 0.5  # the output layer: the data push wins most epochs…
    assert r["layers"][1]["l2"][i5][-1] > r["layers"][1]["l2"][i5][0]  # …and it grows
    # both layers' data gradients are larger than their decay per weight at the start: size alone does not decide
    assert out0["grad"][0] > out0["decay"][0] and out1["grad"][0] > out1["decay"][0]


def test_the_first_layer_shrinks_as_first_and_second_order_terms_say(measured):
    r = measured["decay-equilibrium"]["equilibrium"]
    i5 = r["lambdas"].index(r["main_lambda"])
    layer = r["layers"][0]
    assert all(x > 0 for layer_ in r["layers"] for row in layer_["noise"] for x in row)  # η²‖·‖² ≥ 0
    K = max(2, r["epochs"] // 4)
    first, second = np.mean(layer["drift"][i5][-K:]), np.mean(layer["noise"][i5][-K:])
    l2 = np.array(layer["l2"][i5])
    measured = (l2[-1] ** 2 - l2[-1 - K] ** 2) / (K * r["steps"])
    assert first < 0 < second < -first  # the decay dominates the quick run's first layer…
    assert first + second == pytest.approx(measured, rel=0.25)  # …and the expected change is what happened


def test_the_level_is_no_saturation_threshold(measured):
    r = measured["decay-equilibrium"]["equilibrium"]
    sat = [s[-1] for s in r["layers"][0]["saturation"][: len(r["lambdas"])]]
    assert sat == sorted(sat, reverse=True) and sat[-1] < 0.1 * sat[1]  # larger λ, fewer saturated units at the end
    sd = r["layers"][0]["z_sd"][r["lambdas"].index(r["main_lambda"])]
    assert sd[-1] < sd[0] and sd[-1] > 1  # the weighted inputs still spread far beyond a unit scale
    assert 8 < r["input_norm"] < 11  # MNIST's mean ‖x‖, far from √784 = 28
    # the report reads the shares where each λ's decay stopped as they are
    stopped = [f for f in r["fits"] if f["layer"] == 0 and f["tail_epoch"] is not None]
    shares = [100 * r["layers"][0]["saturation"][r["lambdas"].index(f["lambda"])][-1] for f in stopped]
    text = " ".join(decay_equilibrium.findings_equilibrium(r))
    assert ("no common threshold" in text) == (max(shares) - min(shares) >= 2)
    assert ("hardly any unit was saturated" in text) == (max(shares) - min(shares) < 2 and max(shares) < 2)


@pytest.mark.parametrize(("shares", "says"), [
    ((31.5, 18.6, 6.4), "no common threshold: 31.5% at λ = 5, 18.6% at λ = 25, 6.4% at λ = 100."),
    ((0.9, 0.01, 0.0), "hardly any unit was saturated (0.9% at λ = 5, 0.01% at λ = 25, 0% at λ = 100)"),
    ((30.0, 31.0, 30.5), "about the same at every λ (30% at λ = 5, 31% at λ = 25, 30.5% at λ = 100)"),
])
def test_the_saturated_share_where_the_decay_stopped_is_read_as_measured(shares, says):
    r = {"lambdas": [0.0, 5.0, 25.0, 100.0],
         "layers": [{"saturation": [[0.5, 0.6]] + [[0.5, s / 100] for s in shares]}]}
    reached = [{"lambda": lm} for lm in (5.0, 25.0, 100.0)]
    assert says in decay_equilibrium.saturation_at_stop(r, reached)


def test_blank_pixel_weights_decay_as_the_rule_says(measured):
    bl = measured["decay-equilibrium"]["equilibrium"]["blank"]
    assert bl["pixels"] > 0 and bl["weights"] == 30 * bl["pixels"]
    assert bl["rms"][1] == pytest.approx(bl["rms"][0] * bl["predicted_factor"], rel=1e-3)


def test_decaying_the_biases_shrinks_them_and_leaves_the_weights(measured):
    bd = measured["decay-equilibrium"]["equilibrium"]["biases_decayed"]
    undecayed, decayed = bd["bias_rms"]
    assert all(a < b for a, b in zip(decayed, undecayed))
    for a, b in zip(*bd["weight_rms"]):
        assert a == pytest.approx(b, rel=0.1)


def test_larger_mini_batches_decay_less_per_epoch(measured):
    r = measured["decay-equilibrium"]["batch"]
    for run in r["runs"]:
        assert run["fitted"] == pytest.approx(run["predicted"], rel=0.03)  # exp(−ηλ/m) per epoch, for every m
        assert run["blank_slope"] == pytest.approx(run["exact"], rel=1e-3)  # exactly so without a data gradient
    fitted = [run["fitted"] for run in r["runs"]]
    assert fitted == sorted(fitted)  # larger m, slower decay per epoch


# ---------------------------------------------------------------------------- goldilocks (MNIST)


def test_goldilocks_curve_best_one_se_and_collapse(measured):
    r = measured["goldilocks"]["mnist"]
    lams, mean = r["lambdas"], r["validation_mean"]
    j = lams.index(r["best_lambda"])
    assert 0 < j < len(lams) - 1 and mean[j] > mean[0] + 0.02  # a peak inside the grid: U-shaped
    assert r["one_se_lambda"] >= r["best_lambda"]
    assert mean[lams.index(r["one_se_lambda"])] >= r["threshold"]
    assert mean[-1] < 0.15  # chance is 10%
    assert r["rms"][0][-1] < 1e-2 * r["rms"][0][0] and r["rms"][1][-1] < 1e-1 * r["rms"][1][0]


def test_small_weights_make_the_outputs_insensitive_to_the_input(measured):
    r = measured["goldilocks"]["mnist"]
    lams = r["lambdas"]
    j = lams.index(r["best_lambda"])
    sens = np.mean(r["sensitivity"], axis=1)
    assert sens[j] < 0.5 * sens[0] and sens[-1] < 1e-2 * sens[0]
    clean, noisy = np.array(r["validation_mean"]), np.mean(r["noisy_accuracy"], axis=1)
    assert clean[0] - noisy[0] > 2 * (clean[j] - noisy[j]) > 0  # noise costs the small-λ networks far more


def test_best_and_one_se_lines_are_both_drawn(measured):
    r = measured["goldilocks"]["mnist"]
    ax = goldilocks_mnist.figures_mnist(r)["mnist_validation_curve"].axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert any(t.startswith("best λ =") for t in labels) and any(t.startswith("1-SE λ =") for t in labels)
    vertical = [line for line in ax.get_lines() if len(set(line.get_xdata())) == 1]
    widths = sorted(line.get_linewidth() for line in vertical)
    assert len(vertical) == 2 and widths[0] < widths[1]  # a thin dashed line over a wide one: both visible


# ---------------------------------------------------------------------------- adam-vs-adamw


def test_adam_l2_rates_spread_adamw_rate_is_one_value(measured):
    r = measured["adam-vs-adamw"]["adam"]
    p = r["coupled_percentiles"]
    assert p[-1] / p[0] > 100  # over two orders of magnitude between the 1st and 99th percentile
    dec = r["decoupled_rate"]
    assert dec == pytest.approx(r["eta"] * r["weight_decay"], rel=1e-12)
    assert (r["decoupled_max"] - r["decoupled_min"]) / dec < 1e-9


def test_headline_spread_leaves_out_the_epsilon_floor(measured):
    r = measured["adam-vs-adamw"]["adam"]
    assert r["live_weights"] == r["weights"] - r["sizes"][1] * r["dead_pixels"]  # blank pixels' weights left out
    assert r["floor"] == pytest.approx(r["eta"] * r["weight_decay"] / r["eps"])
    assert r["blank_at_floor"] <= r["at_floor"]
    assert r["live_percentiles"][-1] <= r["coupled_percentiles"][-1]  # the floor only adds at the top
    assert r["live_percentiles"][-1] / r["live_percentiles"][0] > 100  # still orders of magnitude among live weights
    text = " ".join(adam_vs_adamw.findings_adam(r))
    assert "weights the data pull on" in text and "The ε floor, separately" in text


def test_each_method_at_its_own_best_lambda(measured):
    r = measured["adam-vs-adamw"]["tuned"]
    for m in r["methods"].values():
        val = np.array(m["validation"])
        assert m["best"] == r["grid"][int(np.argmax(val))] and m["best_validation"] == val.max()
        assert m["best_test"] == m["test"][r["grid"].index(m["best"])]
    # the same λ/n is a different strength in the two places: at the top of the grid L2 through Adam collapses
    assert r["methods"]["Adam + L2"]["validation"][-1] < 0.3 < 0.8 < r["methods"]["AdamW"]["validation"][-1]


def test_equal_test_accuracies_are_said_equal(measured):
    r = copy.deepcopy(measured["adam-vs-adamw"]["tuned"])
    w, c = r["methods"]["AdamW"], r["methods"]["Adam + L2"]
    w["best_test"] = c["best_test"]
    text = " ".join(adam_vs_adamw.findings_tuned(r))
    assert "AdamW's test accuracy is equal to Adam + L2's" in text and " 0 points" not in text
    w["best_test"] = c["best_test"] + 0.001  # two images of 2,000
    assert "AdamW's test accuracy is 0.1 points above Adam + L2's" in " ".join(adam_vs_adamw.findings_tuned(r))


def test_weights_without_data_gradient(measured):
    r = measured["adam-vs-adamw"]["adam"]
    adam, coupled, decoupled = r["blank_rms_final"]
    assert adam == r["blank_rms_initial"]  # no gradient, no decay: Adam never moves them
    assert coupled < 0.01 * r["blank_rms_initial"]
    assert decoupled > 0.5 * r["blank_rms_initial"]
    assert r["dead_median"] > 100 * r["live_median"]
