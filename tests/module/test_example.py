"""examples/cnn_l1_prox.py: the small CNN's claim (L1-prox zeros with accuracy kept) holds on the 8×8 digits; on
CUDA where a GPU is present."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import cnn_l1_prox  # noqa: E402


def test_cnn_l1_prox_claim_holds_on_digits(capsys, tmp_path):
    code = cnn_l1_prox.main(["--data", "digits", "--epochs", "12", "--lmbda", "20", "--target-sparsity", "0.3",
                             "--within", "5", "--out", str(tmp_path / "weights")])
    out = capsys.readouterr().out
    assert "claim:" in out and "holds" in out, out
    assert code == 0, out
    assert (tmp_path / "weights" / "metrics.csv").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the GPU run of the example needs one")
def test_cnn_l1_prox_on_cuda(capsys):
    code = cnn_l1_prox.main(["--data", "digits", "--device", "cuda", "--epochs", "12", "--lmbda", "20",
                             "--target-sparsity", "0.3", "--within", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "cuda" in out
