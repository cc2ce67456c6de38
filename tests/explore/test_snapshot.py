"""Snapshots are small and say what the weights say: signed bytes with exact zeros kept, boundaries that follow
the network, histograms that count every weight."""

from __future__ import annotations

import base64

import numpy as np
import torch

from reglab.engine.model import MLP
from reglab.engine.nn import get_activation, get_cost
from reglab.explore import snapshot


def decode(text: str, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def test_quantize_keeps_exact_zeros_apart_from_small_weights():
    w = torch.tensor([0.0, 1e-9, -1e-9, 0.5, -1.0, 1.0, float("nan")])
    assert snapshot.quantize(w, 1.0).tolist() == [0, 1, -1, 64, -127, 127, 0]
    assert snapshot.quantize(torch.zeros(3), 0.0).tolist() == [0, 0, 0]


def hand_made(M: int = 2) -> MLP:
    """[2, 2] softmax networks: column m says class 1 where x > 0 (m = 0) or where y > 0 (m = 1)."""
    W = torch.zeros(M, 2, 2)
    W[0, 1, 0], W[0, 0, 0] = 5.0, -5.0
    W[1, 1, 1], W[1, 0, 1] = 5.0, -5.0
    return MLP([W], [torch.zeros(M, 2)], get_activation("sigmoid"), get_cost("log-likelihood"))


def test_the_boundary_follows_the_network():
    b = snapshot.boundary(hand_made(), grid=10)
    G = b["grid"]
    by_x = decode(b["classes"][0], np.uint8).reshape(G, G)
    by_y = decode(b["classes"][1], np.uint8).reshape(G, G)
    assert (by_x[:, :5] == 0).all() and (by_x[:, 5:] == 1).all()
    assert (by_y[:5] == 1).all() and (by_y[5:] == 0).all()  # rows from the top, y = 1, down
    conf = decode(b["confidence"][0], np.uint8).reshape(G, G)
    assert conf[0, 0] > 250 and conf[0, 0] > conf[0, 4]  # sure far from the line, unsure near it


def test_tiles_are_the_first_layers_weights_as_images():
    model = MLP.initialize([64, 5, 10], seeds=[0, 1])
    model.weights[0][1, 2] = 0.0
    t = snapshot.tiles(model)
    assert t["shape"] == [8, 8] and t["units"] == t["of"] == 5
    for m in range(2):
        q = decode(t["data"][m], np.int8).reshape(5, 64)
        W = model.weights[0][m]
        assert t["scale"][m] == W.abs().max().item()
        np.testing.assert_array_equal(q, snapshot.quantize(W, t["scale"][m]))
    assert (decode(t["data"][1], np.int8).reshape(5, 64)[2] == 0).all()
    assert snapshot.tile_shape(784) == (28, 28) and snapshot.tile_shape(10) == (1, 10) and snapshot.tile_shape(2) is None


def test_links_only_for_small_networks_on_one_scale():
    small, wide = MLP.initialize([2, 8, 2], seeds=[0, 1]), MLP.initialize([64, 30, 10], seeds=[0])
    assert snapshot.links(wide) is None
    links = snapshot.links(small)
    scale = max(W.abs().max().item() for W in small.weights)
    assert links["scale"] == scale and links["sizes"] == [2, 8, 2]
    np.testing.assert_array_equal(decode(links["layers"][1][1], np.int8), snapshot.quantize(small.weights[1][1], scale).ravel())


def test_histograms_count_every_weight_in_shared_bins():
    model = MLP.initialize([64, 30, 10], seeds=[0, 1, 2])
    for l, h in enumerate(snapshot.histograms(model)):
        W = model.weights[l]
        assert h["range"] == W.abs().max().item()
        assert [sum(c) for c in h["counts"]] == [W[0].numel()] * 3


def test_weights_that_are_not_finite_are_left_out_of_scales_and_counts():
    model = MLP.initialize([64, 5, 10], seeds=[0, 1])
    W = model.weights[0]
    W[0, 0, :3] = torch.tensor([float("nan"), float("inf"), -float("inf")])
    finite = W[0][torch.isfinite(W[0])]
    assert snapshot.tiles(model)["scale"][0] == finite.abs().max().item()
    h = snapshot.histograms(model)[0]
    assert h["range"] == max(finite.abs().max().item(), W[1].abs().max().item())
    assert [sum(c) for c in h["counts"]] == [W[0].numel() - 3, W[1].numel()]
    model.weights[1][:] = float("nan")
    assert snapshot.histograms(model)[1] == {"range": 1.0, "counts": [[0] * snapshot.BINS] * 2}
