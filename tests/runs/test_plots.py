"""The run folder's plots: every weight is drawn, the axes say what they count."""

from __future__ import annotations

import numpy as np
import pytest

from reglab.runs.plots import histogram_bins, model_colors, ordered_colors, weight_histograms


def weights(seed: int = 0) -> tuple[dict, dict]:
    """The main job's shapes: N(0, 1) before; after, a narrow first layer and an output layer with a far outlier."""
    rng = np.random.default_rng(seed)
    initial = {"W0": rng.standard_normal((1, 30, 784)), "W1": rng.standard_normal((1, 10, 30))}
    final = {"W0": 0.28 * rng.standard_normal((1, 30, 784)), "W1": 1.9 * rng.standard_normal((1, 10, 30))}
    final["W1"][0, 0, 0] = 9.25  # an outlier far beyond a percentile range
    return initial, final


def test_every_weight_is_counted_in_the_histograms():
    initial, final = weights()
    fig = weight_histograms(initial, final)
    axes = fig.axes
    assert len(axes) == 2
    for ax, key in zip(axes, ("W0", "W1")):
        w0, w1 = initial[key].ravel(), final[key].ravel()
        edges = histogram_bins(w0, w1)
        for w, outline in zip((w0, w1), ax.patches):  # one filled outline per set
            counts, _ = np.histogram(w, bins=edges)
            assert counts.sum() == w.size  # the bins run from the smallest weight to the largest: none left out
            xy = outline.get_path().vertices
            assert xy[:, 0].min() == pytest.approx(min(w0.min(), w1.min()))
            assert xy[:, 0].max() == pytest.approx(max(w0.max(), w1.max()))
            assert xy[:, 1].max() == counts.max()  # the outline is these counts
        assert ax.get_ylabel() == "number of weights (log scale)" and ax.get_xlabel() == "w"
        assert ax.get_yscale() == "log"
    assert "9.25" in axes[1].get_legend().get_texts()[1].get_text()  # the largest |w| is named


def test_bins_resolve_the_narrowest_distribution():
    rng = np.random.default_rng(1)
    wide, narrow = rng.standard_normal(20_000), 0.05 * rng.standard_normal(20_000)
    edges = histogram_bins(wide, narrow)
    assert edges[0] == wide.min() or edges[0] == narrow.min()
    assert edges[-1] == pytest.approx(max(wide.max(), narrow.max()))
    width = edges[1] - edges[0]
    assert width <= narrow.std() / 5 or len(edges) == 401  # five bins per sd of the narrow one, or the cap


def test_bins_of_degenerate_input():
    assert len(histogram_bins(np.array([np.nan]))) == 41
    edges = histogram_bins(np.zeros(10))
    assert edges[0] < 0 < edges[-1]


def test_models_that_differ_in_lambda_alone_are_coloured_in_its_order():
    models = [{"lmbda": lm, "eta": 0.1, "seed": 0} for lm in (5.0, 0.1, 50.0, 1.0)]
    colors = model_colors(models)
    by_lambda = [tuple(colors[i]) for i in np.argsort([m["lmbda"] for m in models])]
    assert len(set(by_lambda)) == 4 and [sum(c[:3]) for c in by_lambda] == sorted(sum(c[:3]) for c in by_lambda)
    mixed = [{"lmbda": 5.0, "eta": eta, "seed": 0} for eta in (0.1, 0.5)]
    assert model_colors(mixed) == ["C0", "C1"]  # not ordered by one λ: the categorical cycle


def test_ordered_values_follow_viridis_in_their_order_and_repeats_fall_back_to_the_cycle():
    from matplotlib import colormaps

    values = [1.0, 0.0, 100.0, 10.0]
    shades = colormaps["viridis"](np.linspace(0, 0.85, 4))
    assert [tuple(c) for c in ordered_colors(values)] == [tuple(shades[i]) for i in (1, 0, 3, 2)]
    assert ordered_colors([5.0, 5.0]) == ["C0", "C1"]  # equal values: nothing to order
    assert ordered_colors([3.0]) == ["C0"]
