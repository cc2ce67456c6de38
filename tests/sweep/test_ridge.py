"""The η × λ heatmap and its ridge: closed-form surfaces whose best λ moves as a known power of η, and the CLI."""

import json
import math

import numpy as np
import pytest

from reglab.cli.main import main
from reglab.sweep.ridge import grids, reading, ridge
from reglab.sweep.select import curves

ETA = np.geomspace(0.01, 1.0, 5)
LMBDA = np.geomspace(1e-3, 1e3, 25)


def surface(center: np.ndarray) -> np.ndarray:
    """Accuracy peaking at log λ = center[i] on row i, 1 point lower one decade away."""
    return 0.9 - 0.01 * (np.log10(LMBDA)[None, :] - center[:, None]) ** 2


@pytest.mark.parametrize("power", [-1.0, 0.0, 1.0, -0.5])
def test_ridge_follows_a_known_power_of_eta(power):
    center = power * (np.log10(ETA) + 1)  # best λ = (10η)^power, between grid points
    r = ridge(ETA, LMBDA, surface(center))
    # the largest λ within 1 point of the row's best: one decade above its peak, to a grid step
    np.testing.assert_allclose(np.log10(r.lmbda), center + 1, atol=0.26)
    assert r.slope == pytest.approx(power, abs=0.1)
    if power == 0.0:
        assert abs(r.slope) < 1e-12 and math.isnan(r.correlation) and "aligned with the axes" in reading(r)
    else:
        assert r.correlation == pytest.approx(math.copysign(1.0, power), abs=0.02)
        assert "a diagonal" in reading(r)
    assert not r.at_edge.any()


def test_a_plateau_is_read_by_its_upper_edge_not_its_noise():
    acc = np.full((2, 25), 0.5)
    acc[:, 8:13] = 0.95  # a plateau of 5 cells, 1 decade wide
    acc[0, 8] += 0.004  # noise within the tolerance picks another best cell on each row
    acc[1, 12] += 0.004
    r = ridge(ETA[:2], LMBDA, acc)
    assert r.lmbda[0] == r.lmbda[1] == LMBDA[12] and r.slope == pytest.approx(0.0, abs=1e-12)


def test_edges_are_flagged_and_missing_rows_skipped():
    acc = surface(np.array([5.0, 0.0, 0.0, 0.0, 0.0]))  # row 0 peaks beyond the grid's largest λ
    acc[4] = np.nan  # a learning rate whose every model diverged
    r = ridge(ETA, LMBDA, acc)
    assert len(r.eta) == 4 and r.at_edge.tolist() == [True, False, False, False]
    assert "even the grid's largest λ is good" in reading(r)


def test_grids_gather_curves_that_differ_only_in_eta():
    rows = [{"reg": reg, "eta": e, "lmbda": lam, "seed": s, "final_validation_accuracy": 0.5 + 0.1 * s}
            for reg in ("l2", "decay") for e in (0.1, 1.0) for lam in (0.0, 1.0, 10.0) for s in (0, 1)]
    found = grids(curves(rows))
    assert [g.settings["reg"] for g in found] == ["l2", "decay"]
    g = found[0]
    assert g.eta.tolist() == [0.1, 1.0] and g.lmbda.tolist() == [1.0, 10.0]  # λ = 0 has no place on a log axis
    np.testing.assert_allclose(g.accuracy, 0.55)
    assert grids(curves([r for r in rows if r["eta"] == 0.1])) == []  # one η: no heatmap


SWEEP = ["sweep", "--data", "digits", "--epochs", "1", "--quiet", "--train-size", "300"]


def test_cli_heatmap(tmp_path, capsys):
    out = tmp_path / "h"
    assert main([*SWEEP, "--eta", "0.1:1:2", "--lmbda", "0.1:10:3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "η \\ λ" in text and text.count("★") >= 2 and "ridge: good λ ∝ η^" in text
    assert (out / "heatmap_all.png").stat().st_size > 0
    summary = json.loads((out / "sweep.json").read_text())
    (heat,) = summary["heatmaps"]
    assert heat["eta"] == [0.1, 1.0] and len(heat["accuracy"]) == 2 and len(heat["accuracy"][0]) == 3


@pytest.mark.parametrize("argv,message", [
    (["--eta", "0.1:1:1"], "--eta 0.1:1:1: the range 0.1:1:1 is a grid of one value"),
    (["--lmbda", "1:10:1"], "--lmbda 1:10:1: the range 1:10:1 is a grid of one value"),
])
def test_cli_grid_of_one_value_is_one_line(tmp_path, capsys, argv, message):
    assert main([*SWEEP, *argv, "--out", str(tmp_path / "h")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
