"""wrap() works with every torch.optim optimizer: its step equals the manual form (penalty in the loss, then
``reg.step``), closures (LBFGS) included, and LR schedulers and GradScaler see an ordinary optimizer."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch.nn import functional as F

import reglab
from reglab.engine.regularizers import L2, DecoupledDecay, L1Prox
from tests.module.helpers import batches, mlp

N = 100
SKIP = {"Optimizer", "SparseAdam"}  # the base class; SparseAdam takes sparse gradients only (reglab's are dense)


def every_optimizer():
    return sorted(name for name, cls in vars(torch.optim).items()
                  if inspect.isclass(cls) and issubclass(cls, torch.optim.Optimizer) and name not in SKIP)


@pytest.mark.parametrize("name", every_optimizer())
def test_wrapped_step_equals_penalty_in_the_loss_and_reg_step(name):
    cls = getattr(torch.optim, name)
    data = batches(3)
    manual, wrapped = mlp(), mlp()
    regularizer = L2(20.0) + L1Prox(5.0) + DecoupledDecay(5.0)
    reg_m, reg_w = (reglab.regularize(m, regularizer, n=N) for m in (manual, wrapped))
    lr = {"LBFGS": 0.5, "Adadelta": 1.0}.get(name, 0.05)

    def trained(m):  # Muon takes matrices only
        return [p for p in m.parameters() if p.ndim == 2] if name == "Muon" else m.parameters()

    opt_m = cls(trained(manual), lr=lr)
    opt_w = reglab.wrap(cls(trained(wrapped), lr=lr), reg_w)
    for x, y in data:
        if name == "LBFGS":
            def closure_m(x=x, y=y):
                opt_m.zero_grad()
                loss = F.cross_entropy(manual(x), y) + reg_m.penalty()
                loss.backward()
                return loss

            def closure_w(x=x, y=y):
                opt_w.zero_grad()
                loss = F.cross_entropy(wrapped(x), y)
                loss.backward()
                return loss

            opt_m.step(closure_m)
            reg_m.step(opt_m)
            opt_w.step(closure_w)
        else:
            opt_m.zero_grad()
            (F.cross_entropy(manual(x), y) + reg_m.penalty()).backward()
            opt_m.step()
            reg_m.step(opt_m)
            opt_w.zero_grad()
            F.cross_entropy(wrapped(x), y).backward()
            opt_w.step()
    moved = False
    for p, q, p0 in zip(manual.parameters(), wrapped.parameters(), mlp().parameters()):
        assert torch.allclose(p, q, atol=1e-12, rtol=1e-10), name
        moved |= not torch.equal(p, p0)
    assert moved
    assert reg_w.steps == reg_m.steps == len(data)


def test_a_step_that_grad_scaler_skips_skips_the_regularizer_too():
    model = mlp(dtype=torch.float32)
    reg = reglab.regularize(model, DecoupledDecay(50.0), n=N)
    opt = reglab.wrap(torch.optim.SGD(model.parameters(), lr=0.1), reg)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    x, y = batches(1, dtype=torch.float32)[0]
    before = [p.detach().clone() for p in model.parameters()]
    opt.zero_grad()
    scaler.scale(F.cross_entropy(model(x), y) * float("inf")).backward()
    scaler.step(opt)  # non-finite gradients: no step
    scaler.update()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))
    assert reg.steps == 0
    opt.zero_grad()
    scaler.scale(F.cross_entropy(model(x), y)).backward()
    scaler.step(opt)
    assert reg.steps == 1


def test_state_dict_and_schedulers_see_the_optimizer_itself():
    model = mlp()
    reg = reglab.regularize(model, L2(1.0), n=N)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.0)
    assert reglab.wrap(opt, reg) is opt
    torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)  # accepts it
    assert "param_groups" in opt.state_dict()
