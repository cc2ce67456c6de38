"""The nn.Module API on CUDA (the device taken from the parameters): the same numbers as on the CPU in float64,
bfloat16 with exact zeros, the monitor, and a torch.compile'd model. Skipped without a GPU."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

import reglab
from reglab.engine.regularizers import L2, DecoupledDecay, L1Prox, MaxNorm
from tests.module.helpers import image_batches, net

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
N = 100
REG = L2(20.0) + L1Prox(20.0) + DecoupledDecay(10.0) + MaxNorm(1.5)


def train(model, device, steps=5, dtype=torch.float64, compiled=False, optimizer=torch.optim.Adam):
    model = model.to(device=device, dtype=dtype)
    run = torch.compile(model) if compiled else model
    reg = reglab.regularize(run, REG, n=N, per_layer={"fc2": 0.5})
    opt = reglab.wrap(optimizer(model.parameters(), lr=0.02), reg)
    monitor = reglab.WeightMonitor(model, every=2)
    for x, y in image_batches(steps):
        opt.zero_grad()
        F.cross_entropy(run(x.to(device, dtype)), y.to(device)).backward()
        opt.step()
        monitor.step()
    return model, monitor


def test_cuda_float64_equals_the_cpu():
    cpu, mon_cpu = train(net(), "cpu")
    gpu, mon_gpu = train(net(), "cuda")
    assert gpu.fc1.weight.device.type == "cuda"
    for p, q in zip(cpu.parameters(), gpu.parameters()):
        assert torch.allclose(p, q.cpu(), atol=1e-10)
    assert (gpu.fc1.weight == 0).sum() == (cpu.fc1.weight == 0).sum() > 0
    for a, b in zip(mon_cpu.rows, mon_gpu.rows):
        tol = 1e-6 if a[4] == "angle" else 1e-10  # degrees: a bias that barely moves turns by rounding alone
        assert a[:5] == b[:5] and b[5] == pytest.approx(a[5], rel=1e-8, abs=tol, nan_ok=True)  # nan: 0/0 angles


def test_cuda_bfloat16_keeps_exact_zeros_and_follows_float32():
    f32, _ = train(net(), "cuda", dtype=torch.float32)
    bf16, _ = train(net(), "cuda", dtype=torch.bfloat16)
    assert bf16.fc1.weight.dtype == torch.bfloat16 and (bf16.fc1.weight == 0).sum() > 0
    for p, q in zip(f32.parameters(), bf16.parameters()):
        assert torch.allclose(p, q.float(), atol=0.1)
    norms = bf16.fc1.weight.float().norm(dim=1)
    assert (norms <= 1.5 * 1.01).all()  # max-norm, to bfloat16's precision


def test_a_compiled_model_on_cuda_trains_as_the_module_itself():
    """Inductor's fused kernels round differently: float64 and plain SGD keep that from growing."""
    eager, _ = train(net(), "cuda", optimizer=torch.optim.SGD)
    compiled, _ = train(net(), "cuda", compiled=True, optimizer=torch.optim.SGD)
    for p, q in zip(eager.parameters(), compiled.parameters()):
        assert torch.allclose(p, q, atol=1e-8)
