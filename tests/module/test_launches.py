"""What a regularized step costs a device: it reads no value back, and the regularizers' operations do not grow
with the number of parameters (on a GPU each operation is a kernel launch: for a small network, the cost)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import reglab
from reglab.engine.regularizers import L1, L2, DecoupledDecay, ElasticNet, L1Prox, MaxNorm
from tests.module.helpers import image_batches, net

N = 100
REGULARIZERS = [L2(3.0) + L1Prox(2.0) + MaxNorm(1.0), L1(2.0) + DecoupledDecay(3.0), ElasticNet(4.0, l1_ratio=0.3)]


class Operations(TorchDispatchMode):
    """The aten operations run while active, by name; a value read back (``aten._local_scalar_dense``: ``.item()``,
    ``bool()``, ``.tolist()``) fails at once."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name == "_local_scalar_dense":
            raise AssertionError("a regularized step read a value back from the device")
        if not func.is_view and name not in ("detach", "promote_types"):
            self.names.append(name)
        return func(*args, **(kwargs or {}))


def train(model, reg, opt, data, wrapped, device="cpu"):
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
        (loss if wrapped else loss + reg.penalty()).backward()
        opt.step()
        if not wrapped:
            reg.step(opt)


@pytest.mark.parametrize("wrapped", [True, False], ids=["wrap", "regularize"])
@pytest.mark.parametrize("regularizer", REGULARIZERS, ids=repr)
def test_a_step_reads_no_value_back(regularizer, wrapped):
    model = net()
    reg = reglab.regularize(model, regularizer, n=N, per_layer={"fc2": 0.5})
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    if wrapped:
        opt = reglab.wrap(opt, reg)
    data = image_batches(3)
    train(model, reg, opt, data[:1], wrapped)  # the optimizer's state made: the steps below are the steady ones
    with Operations():
        train(model, reg, opt, data[1:], wrapped)


@pytest.mark.parametrize("wrapped", [True, False], ids=["wrap", "regularize"])
def test_a_scheduled_run_goes_through_on_the_meta_device_where_no_value_can_be_read(wrapped):
    """λ changing every step (a warm-up ramp) is set from the CPU: the device is never asked for a number."""
    model = net().to("meta")
    reg = reglab.regularize(model, REGULARIZERS[0], n=N, per_layer={"fc2": 0.5}, schedule=reglab.Warmup(1, ramp=2))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    if wrapped:
        opt = reglab.wrap(opt, reg)
    train(model, reg, opt, image_batches(4), wrapped, device="meta")
    assert reg.steps == 4 and model.fc1.weight.device.type == "meta"


def deep(layers: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(*(nn.Linear(6, 6) for _ in range(layers))).double()


def regularization_operations(layers: int, regularizer) -> tuple[list[str], list[str]]:
    """The operations of ``reg.value()`` and of a wrapped step's regularization (the step's minus plain SGD's)."""
    model = deep(layers)
    reg = reglab.regularize(model, regularizer, n=N)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, foreach=True)
    x = torch.randn(4, 6, dtype=torch.float64)
    model(x).sum().backward()
    reg.value()  # the first call makes the coefficients' tensors, once
    with Operations() as value:
        reg.value()
    with Operations() as plain:
        opt.step()
    reglab.wrap(opt, reg)
    opt.step()
    with Operations() as regularized:
        opt.step()
    extra = list(regularized.names)
    for name in plain.names:
        extra.remove(name)
    return value.names, extra


@pytest.mark.parametrize("regularizer", [L2(3.0), L2(3.0) + L1Prox(2.0), ElasticNet(4.0), L1(1.0) + MaxNorm(1.0)],
                         ids=repr)
def test_the_regularizers_operations_do_not_grow_with_the_number_of_parameters(regularizer):
    """Penalty, gradient, decay, soft-threshold and max-norm's norms run fused over all parameters (max-norm: over all
    parameters whose units have one length, their rows together); only max-norm's factors are one launch each on a
    GPU (one ``_foreach_mul_`` of per-row factors, off CUDA's fast route), not an operation of their own here."""
    few, many = regularization_operations(2, regularizer), regularization_operations(12, regularizer)
    assert few == many
    assert len(few[0]) <= 8 and len(few[1]) <= 8
