"""Bad input: one clear ReglabError naming the problem."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import reglab
from reglab.engine.regularizers import L2, DecoupledDecay, L1Prox, all_parameters
from reglab.errors import ReglabError
from tests.module.helpers import batches, mlp, net


def test_a_mask_glob_that_matches_nothing():
    with pytest.raises(ReglabError, match="mask glob 'fc3' matches no parameter"):
        reglab.regularize(net(), L2(1.0), n=10, mask=["fc1", "fc3"])


def test_a_per_layer_name_that_matches_nothing():
    with pytest.raises(ReglabError, match="per_layer name 'fc9' matches no parameter"):
        reglab.regularize(net(), L2(1.0), n=10, per_layer={"fc9": 0.1})


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_negative_or_non_finite_lambda(bad):
    with pytest.raises(ReglabError, match="λ must be finite and ≥ 0"):
        reglab.regularize(net(), L2(5.0) + L1Prox(bad), n=10)


def test_a_negative_multiplier():
    with pytest.raises(ReglabError, match=r"per_layer\['fc2'\] must be a finite number ≥ 0"):
        reglab.regularize(net(), L2(1.0), n=10, per_layer={"fc2": -0.5})


def test_an_optimizer_that_does_not_hold_every_regularized_parameter():
    model = net()
    reg = reglab.regularize(model, L2(1.0), n=10)
    opt = torch.optim.SGD(model.fc1.parameters(), lr=0.1)
    with pytest.raises(ReglabError, match="do not hold conv1.weight, conv2.weight, fc2.weight"):
        reglab.wrap(opt, reg)


def test_a_parameter_that_is_not_floating_point():
    model = mlp()
    model.register_parameter("count", nn.Parameter(torch.zeros(3, 3, dtype=torch.int64), requires_grad=False))
    with pytest.raises(ReglabError, match="parameter count is torch.int64, not floating point"):
        reglab.regularize(model, L2(1.0), n=10)
    reglab.regularize(model, L2(1.0), n=10, mask=["0.weight"])  # left out by the mask: fine


def test_reg_step_before_optimizer_step():
    model = mlp()
    reg = reglab.regularize(model, DecoupledDecay(1.0), n=10)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ReglabError, match="no regularized parameter has a gradient"):
        reg.step(opt)
    x, y = batches(1)[0]
    F.cross_entropy(model(x), y).backward()
    with pytest.raises(ReglabError, match=r"before optimizer.step\(\): no parameter moved since regularize\(\)"):
        reg.step(opt)
    opt.step()
    reg.step(opt)
    with pytest.raises(ReglabError, match=r"no parameter moved since the last reg.step\(\)"):
        reg.step(opt)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n": 0}, "n .the training-set size. must be a positive integer"),
    ({"n": 10, "decay": "sometimes"}, "decay must be one of"),
    ({"n": 10, "mask": "biases"}, "mask 'biases' is not"),
    ({"n": 10, "mask": []}, "an empty list of globs"),
    ({"n": 10, "mask": lambda m, p, t: False}, "selects no parameter"),
])
def test_other_bad_arguments(kwargs, message):
    with pytest.raises(ReglabError, match=message):
        reglab.regularize(mlp(), L2(1.0), **kwargs)


def test_engine_masks_and_several_lambdas_are_refused():
    with pytest.raises(ReglabError, match="engine mask"):
        reglab.regularize(mlp(), L2(1.0, mask=all_parameters), n=10)
    with pytest.raises(ReglabError, match="2 λ values"):
        reglab.regularize(mlp(), L2([1.0, 2.0]), n=10)
    with pytest.raises(ReglabError, match="takes a reglab regularizer"):
        reglab.regularize(mlp(), 0.1, n=10)


def test_the_lightning_callback_without_lightning_is_one_clear_error():
    """reglab.lightning imports without the extra (the layers test imports every module); using it says what to install."""
    import subprocess
    import sys

    code = ("import sys\n"
            "for name in ('lightning', 'lightning.pytorch', 'pytorch_lightning'):\n"
            "    sys.modules[name] = None\n"
            "import reglab.lightning, reglab\n"
            "try:\n"
            "    reglab.lightning.RegularizationCallback(reglab.L2(1.0))\n"
            "except reglab.ReglabError as e:\n"
            "    print('error:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "needs PyTorch Lightning: pip install 'reglab[lightning]'" in out.stdout
