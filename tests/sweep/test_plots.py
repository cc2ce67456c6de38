"""The sweep's overview plot: ordered settings get ordered colours, kinds get distinct ones."""

from __future__ import annotations

import numpy as np

from reglab.sweep.plots import curve_colors, overview_figure
from reglab.sweep.select import Curve


def curve(**settings) -> Curve:
    lmbda = np.array([0.1, 1.0, 10.0])
    acc = np.array([[0.8, 0.82], [0.85, 0.86], [0.5, 0.52]])
    return Curve({"reg": "l2", "eta": 0.5, **settings}, lmbda, [0, 1], {"final_validation_accuracy": acc})


def test_an_ordered_setting_gets_a_sequential_map_in_its_order():
    etas = [0.5, 0.05, 5.0, 0.1, 1.0, 2.0, 0.2, 0.3, 3.0, 0.01, 4.0]  # eleven: more than a 10-colour cycle
    colors = curve_colors([curve(eta=e) for e in etas])
    assert len({tuple(c) for c in colors}) == len(etas)  # no two η share a colour
    by_eta = [tuple(colors[i]) for i in np.argsort(etas)]
    lightness = [sum(c[:3]) for c in by_eta]
    assert lightness == sorted(lightness)  # dark for the smallest η, light for the largest


def test_kinds_keep_the_categorical_cycle():
    colors = curve_colors([curve(reg=r) for r in ("l2", "l1-prox", "decay")])
    assert colors == ["C0", "C1", "C2"]


def test_overview_draws_each_curve_in_its_colour():
    curves = [curve(eta=e) for e in (0.1, 1.0)]
    fig = overview_figure(curves, ["η=0.1", "η=1"])
    lines = [line for line in fig.axes[0].get_lines() if line.get_label() in ("η=0.1", "η=1")]
    assert [tuple(np.asarray(line.get_color())) for line in lines] == [tuple(c) for c in curve_colors(curves)]
