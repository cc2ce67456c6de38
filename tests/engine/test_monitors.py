"""Weight statistics worked by hand."""


import numpy as np
import pytest
import torch

from reglab.engine.monitors import weight_stats
from tests.engine.helpers import F64


def test_weight_stats_by_hand():
    W = torch.tensor([[[1.0, -3.0], [0.0, 0.0005]]], dtype=F64)
    s = {k: v.item() for k, v in weight_stats(W).items()}
    assert s["sum"] == pytest.approx(-1.9995) and s["l1"] == pytest.approx(4.0005)
    assert s["l2"] == pytest.approx(np.sqrt(10.00000025)) and s["rms"] == pytest.approx(np.sqrt(10.00000025 / 4))
    assert s["var"] == pytest.approx(np.var([1, -3, 0, 0.0005])) and s["max_abs"] == 3.0
    assert s["frac_small"] == 0.5 and s["zeros"] == 1.0
