"""``reglab run``'s tables: Σ|w| beside numpy's ord=1 norm, and decay alone beside the measured RMS."""

from __future__ import annotations

import json
import math

import numpy as np

from reglab.cli.main import main


def test_run_shows_numpys_ord_1_the_decay_prediction_and_saturation(tmp_path, capsys):
    out_dir = tmp_path / "r"
    assert main(["run", "--data", "digits", "--epochs", "2", "--quiet", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((out_dir / "summary.json").read_text())
    m = summary["models"][0]
    with np.load(out_dir / "weights_initial.npz") as w0, np.load(out_dir / "weights_final.npz") as w1:
        for l in range(2):
            before, after = (np.linalg.norm(w[f"W{l}"][0].astype(np.float64), ord=1) for w in (w0, w1))
            assert f"{before:.1f} → {after:.1f}" in out  # numpy's own number, as the seed computed it
    captions = " ".join(out.split())  # rich wraps captions at the console's width
    assert "numpy.linalg.norm(W, ord=1) is the matrix norm max_j Σ_i |w_ij|, the largest column sum" in captions
    ratio = m["layers_initial"][0]["l1"] / m["layers_initial"][0]["max_column_l1"]
    assert f"it is {ratio:.0f}× smaller before training" in captions
    factor = math.exp(-0.1 * 5.0 * 2 / 10)  # exp(−ηλ·epochs/m) with the seed experiment's η, λ and m
    assert f"RMS₀·exp(−ηλ·epochs/m) = RMS₀·{factor:.4f}" in captions
    for before, after in zip(m["layers_initial"], m["layers"]):
        assert f"{before['rms'] * factor:.4f}" in out
        assert f"{100 * before['saturation']:.2f}% → {100 * after['saturation']:.2f}%" in out
