"""What regularize() and wrap() do to a module's parameters, checked against the rules they state."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

import reglab
from reglab.engine.regularizers import L1, L2, DecoupledDecay, ElasticNet, L1Prox, MaxNorm, Regularizer
from tests.module.helpers import batches, image_batches, mlp, net, params

N = 100


def sgd_step(model, reg, opt, x, y, penalty=True):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    (loss + reg.penalty() if penalty else loss).backward()
    opt.step()


def soft_threshold_reference(w: torch.Tensor, t: float) -> torch.Tensor:
    return torch.sign(w) * torch.clamp(w.abs() - t, min=0.0)


def test_l1_prox_is_soft_thresholding_at_lr_lambda_over_n_with_exact_zeros():
    model = net()
    lr, lmbda = 0.5, 40.0
    reg = reglab.regularize(model, L1Prox(lmbda), n=N, per_layer={"fc2": 0.25})
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = image_batches(1)[0]
    sgd_step(model, reg, opt, x, y)
    before = params(model)
    reg.step(opt)
    for name, p in model.named_parameters():
        if name in ("conv1.weight", "conv2.weight", "fc1.weight"):
            assert torch.equal(p, soft_threshold_reference(before[name], lr * lmbda / N)), name
        elif name == "fc2.weight":
            assert torch.equal(p, soft_threshold_reference(before[name], 0.25 * lr * lmbda / N))
        else:  # biases and batch norm: untouched, bit for bit
            assert torch.equal(p, before[name]), name
    zeros = (model.fc1.weight == 0).sum().item()
    assert zeros == (before["fc1.weight"].abs() <= lr * lmbda / N).sum().item() > 0


def test_masked_out_parameters_are_untouched_bit_for_bit_through_a_whole_run():
    """Only the optimizer moves a parameter the mask leaves out: the same run without regularization gives it."""
    data = image_batches(4)
    ours, plain = net(), net()
    reg = reglab.regularize(ours, L2(50.0) + L1Prox(20.0) + DecoupledDecay(30.0), n=N, mask=["conv*.weight", "fc1"])
    decided = {e.name for e in reg.entries if e.regularized}
    assert decided == {"conv1.weight", "conv2.weight", "fc1.weight", "fc1.bias"}
    opt, opt_plain = torch.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(plain.parameters(), lr=0.1)
    # the masked-out parameters' updates must not depend on the regularized ones: freeze those in both
    for (name, p), q in zip(ours.named_parameters(), plain.parameters()):
        if name in decided:
            p.requires_grad_(False)
            q.requires_grad_(False)
    for x, y in data:
        sgd_step(ours, reg, opt, x, y, penalty=False)
        sgd_step(plain, reg, opt_plain, x, y, penalty=False)
    for (name, p), q in zip(ours.named_parameters(), plain.parameters()):
        if name not in decided:
            assert torch.equal(p, q), name


def test_masked_out_parameters_do_not_move_in_reg_step():
    model = net()
    reg = reglab.regularize(model, L2(50.0) + L1Prox(20.0) + DecoupledDecay(30.0), n=N)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = image_batches(1)[0]
    sgd_step(model, reg, opt, x, y)
    before = params(model)
    reg.step(opt)
    for e in reg.entries:
        same = torch.equal(model.get_parameter(e.name), before[e.name])
        assert same != e.regularized, e.name


def test_decoupled_decay_follows_the_param_groups_lr_and_the_per_layer_multiplier():
    model = net()
    lmbda = 30.0
    reg = reglab.regularize(model, DecoupledDecay(lmbda), n=N, per_layer={"fc*": 2.0, "fc2": 0.5})
    groups = [{"params": [p for n, p in model.named_parameters() if n.startswith("conv")], "lr": 0.2},
              {"params": [p for n, p in model.named_parameters() if not n.startswith("conv")], "lr": 0.05}]
    opt = torch.optim.SGD(groups, lr=1.0)
    x, y = image_batches(1)[0]
    sgd_step(model, reg, opt, x, y)
    before = params(model)
    reg.step(opt)
    expected = {"conv1.weight": 1 - 0.2 * lmbda / N, "conv2.weight": 1 - 0.2 * lmbda / N,
                "fc1.weight": 1 - 0.05 * 2.0 * lmbda / N, "fc2.weight": 1 - 0.05 * 0.5 * lmbda / N}
    for name, factor in expected.items():
        assert torch.allclose(model.get_parameter(name), factor * before[name], rtol=1e-14, atol=0), name
    assert reg.audit().row("fc2.weight")["scale_rule"] == "per_layer 'fc2'"  # the last glob that matches wins


def test_lr_free_decay_follows_the_schedule_not_the_learning_rate():
    model = mlp()
    reg = reglab.regularize(model, DecoupledDecay(10.0), n=N, decay="lr-free")
    opt = torch.optim.SGD(model.parameters(), lr=0.4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for k, (x, y) in enumerate(batches(3)):
        sgd_step(model, reg, opt, x, y)
        before = params(model)
        reg.step(opt)
        ratio = 0.5**k  # lr/lr₀: the scheduler halved lr k times
        assert torch.allclose(model[0].weight, (1 - ratio * 10.0 / N) * before["0.weight"], rtol=1e-14, atol=0)
        sched.step()


def _smooth_reference(reg_name, w, lam):
    """The coupled part's penalty, written out: its autograd gradient is what penalty() must give."""
    return {"L2": 0.5 * lam * (w**2).sum(), "L1": lam * w.abs().sum(),
            "ElasticNet": 0.5 * (1 - 0.3) * lam * (w**2).sum()}.get(reg_name, 0.0 * w.sum())


def _whole_penalty(reg_name, w, lam):
    """Ω(w), the value penalty() reports: the engine's ``penalty`` of each regularizer, written out."""
    l1, l2 = lam * w.abs().sum(), 0.5 * lam * (w**2).sum()
    return {"L2": l2, "L1": l1, "L1Prox": l1, "ElasticNet": 0.3 * l1 + 0.7 * l2, "DecoupledDecay": l2}[reg_name]


@pytest.mark.parametrize("regularizer", [L2(3.0), L1(3.0), L1Prox(3.0), ElasticNet(3.0, l1_ratio=0.3), DecoupledDecay(3.0)],
                         ids=repr)
def test_penalty_gradient_is_the_coupled_part_by_autograd(regularizer):
    model = mlp()
    reg = reglab.regularize(model, regularizer, n=N, per_layer={"2": 4.0})
    value = reg.penalty()
    value.backward()
    expected_value = 0.0
    for name, p in model.named_parameters():
        if not name.endswith("weight"):
            assert p.grad is None, name
            continue
        lam = (4.0 if name.startswith("2.") else 1.0) * 3.0 / N
        w = p.detach().clone().requires_grad_()
        (auto,) = torch.autograd.grad(_smooth_reference(type(regularizer).__name__, w, lam), w)
        got = p.grad if p.grad is not None else torch.zeros_like(w)
        assert torch.allclose(got, auto, atol=1e-15), name
        expected_value += _whole_penalty(type(regularizer).__name__, w.detach(), lam).item()
    assert value.item() == pytest.approx(expected_value, rel=1e-12)


@pytest.mark.parametrize("regularizer", [L2(3.0), L1(3.0), L2(2.0) + L1(5.0)], ids=repr)
def test_penalty_gradient_matches_finite_differences(regularizer):
    model = mlp()
    reg = reglab.regularize(model, regularizer, n=N)
    reg.penalty().backward()
    W = model[2].weight
    h = 1e-6
    for idx in [(0, 0), (3, 5), (4, 7)]:
        with torch.no_grad():
            W[idx] += h
            up = reg.value().item()
            W[idx] -= 2 * h
            down = reg.value().item()
            W[idx] += h
        assert math.isclose((up - down) / (2 * h), W.grad[idx].item(), rel_tol=1e-6, abs_tol=1e-10)


def test_wrap_adds_the_coupled_gradient_before_and_the_rest_after_the_step():
    data = batches(5)
    manual, wrapped = mlp(), mlp()
    reg_m = reglab.regularize(manual, L2(20.0) + L1Prox(10.0), n=N)
    reg_w = reglab.regularize(wrapped, L2(20.0) + L1Prox(10.0), n=N)
    opt_m = torch.optim.Adam(manual.parameters(), lr=0.05)
    opt_w = reglab.wrap(torch.optim.Adam(wrapped.parameters(), lr=0.05), reg_w)
    for x, y in data:
        sgd_step(manual, reg_m, opt_m, x, y)
        reg_m.step(opt_m)
        opt_w.zero_grad()
        F.cross_entropy(wrapped(x), y).backward()  # no penalty in the loss: the wrapped step adds its gradient
        opt_w.step()
    for p, q in zip(manual.parameters(), wrapped.parameters()):
        assert torch.allclose(p, q, atol=1e-14)
    assert (wrapped[0].weight == 0).any()
    with pytest.raises(reglab.ReglabError, match="wrapped"):
        reg_w.penalty()
    reg_w.detach()
    reg_w.penalty()  # unwrapped again


def test_max_norm_leaves_every_unit_within_c():
    model = net()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(20)
    reg = reglab.regularize(model, MaxNorm(0.7), n=N)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = image_batches(1)[0]
    sgd_step(model, reg, opt, x, y)
    reg.step(opt)
    for name in ("conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"):
        w = model.get_parameter(name)
        norms = w.reshape(w.shape[0], -1).norm(dim=1)  # per output unit / channel
        assert (norms <= 0.7 * (1 + 1e-12)).all(), name
        assert torch.allclose(norms, torch.full_like(norms, 0.7))  # all were outside the ball


def test_schedule_sets_lambda_at_each_step():
    model = mlp()
    reg = reglab.regularize(model, DecoupledDecay(10.0), n=N, schedule=reglab.Warmup(2, ramp=2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    factors = []
    for x, y in batches(6):
        sgd_step(model, reg, opt, x, y, penalty=False)
        before = model[0].weight.detach().clone()
        reg.step(opt)
        factors.append(((1 - model[0].weight / before) / (0.1 * 10.0 / N)).mean().item())
    assert factors == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0, 1.0], abs=1e-9)


def test_follow_lr_schedule_reads_the_scheduler():
    model = mlp()
    reg = reglab.regularize(model, L2(10.0), n=N, schedule=reglab.FollowLR())
    opt = reglab.wrap(torch.optim.SGD(model.parameters(), lr=0.4), reg)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for x, y in batches(5):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        seen.append(reg.regularizer.lmbda.item())  # the λ this step used: λ·lr/lr₀
        sched.step()
    assert seen == pytest.approx([10.0, 10.0, 1.0, 1.0, 0.1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtypes_follow_float64_and_keep_exact_zeros(dtype):
    data = batches(4)
    ref, model = mlp(dtype=torch.float64), mlp(dtype=torch.float64).to(dtype)
    results = []
    for m in (ref, model):
        reg = reglab.regularize(m, L2(5.0) + L1Prox(30.0) + DecoupledDecay(5.0), n=N)
        opt = reglab.wrap(torch.optim.SGD(m.parameters(), lr=0.2), reg)
        for x, y in data:
            opt.zero_grad()
            F.cross_entropy(m(x.to(m[0].weight.dtype)), y).backward()
            opt.step()
        results.append(m)
    tol = {torch.float64: 1e-14, torch.float32: 1e-5, torch.bfloat16: 3e-2}[dtype]
    for p, q in zip(ref.parameters(), model.parameters()):
        assert q.dtype == dtype
        assert torch.allclose(p, q.double(), atol=tol)
    assert (model[0].weight == 0).sum() > 0


def test_a_torch_compiled_model_trains_as_the_module_itself():
    data = batches(3)
    plain, inner = mlp(), mlp()
    compiled = torch.compile(inner, backend="eager")
    for m in (plain, compiled):
        reg = reglab.regularize(m, L2(5.0) + L1Prox(30.0), n=N, per_layer={"2": 0.5})
        assert reg.names == ["0.weight", "2.weight"]  # the original module's names
        opt = reglab.wrap(torch.optim.SGD(m.parameters(), lr=0.2), reg)
        for x, y in data:
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()
    for p, q in zip(plain.parameters(), inner.parameters()):
        assert torch.allclose(p, q, atol=1e-14)


def test_max_norm_per_layer_and_schedule_and_the_users_object_untouched():
    """A multiplier scales the radius; a warm-up leaves the constraint off (c = inf), then on; the MaxNorm the user
    holds keeps its own radius (the handle works on a copy)."""
    model = net()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(20)
    mine = MaxNorm(0.7)
    reg = reglab.regularize(model, mine, n=N, per_layer={"fc2": 0.5}, schedule=reglab.Warmup(1))
    opt = reglab.wrap(torch.optim.SGD(model.parameters(), lr=0.1), reg)
    x, y = image_batches(1)[0]
    for step in range(2):
        before = params(model)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        norms = {n: model.get_parameter(n).reshape(model.get_parameter(n).shape[0], -1).norm(dim=1)
                 for n in ("fc1.weight", "fc2.weight")}
        if step == 0:  # off: the optimizer's step alone
            assert (norms["fc1.weight"] > 0.7).all() and not torch.equal(model.fc1.weight, before["fc1.weight"])
        else:
            assert torch.allclose(norms["fc1.weight"], torch.full_like(norms["fc1.weight"], 0.7))
            assert torch.allclose(norms["fc2.weight"], torch.full_like(norms["fc2.weight"], 0.35))
    assert mine.c.tolist() == [0.7] and mine.layer_scale == {}
    audit = reg.audit()
    assert audit.unit("fc2.weight", "MaxNorm", "keras").values == {"max_value": 0.35}
    assert audit.row("fc2.weight")["lmbda_eq"] is None


@pytest.mark.parametrize("regularizer", [L2(20.0) + DecoupledDecay(10.0) + L1Prox(20.0), ElasticNet(30.0, l1_ratio=0.4),
                                         L1(10.0) + L2(5.0), L1Prox(20.0) + MaxNorm(0.5) + L2(3.0)], ids=repr)
def test_the_fused_path_equals_each_parts_grad_and_prox(regularizer):
    """The parts with an elementwise form run fused (torch._foreach_*); the same run through every part's own
    grad and prox, parameter by parameter, gives the same weights."""
    data = image_batches(3)
    runs = []
    for fused in (True, False):
        model = net()
        reg = reglab.regularize(model, regularizer, n=N, per_layer={"fc2": 0.5}, schedule=reglab.Warmup(1, ramp=2))
        assert any(form is not None for _, form in reg._segments)
        if not fused:
            reg._segment = lambda reg=reg: setattr(reg, "_segments", [(r, None) for r in reg.regularizer.leaves()])
            reg._segment()
        opt = reglab.wrap(torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.5), reg)
        for x, y in data:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        runs.append(model)
    for p, q in zip(runs[0].parameters(), runs[1].parameters()):
        assert torch.allclose(p, q, atol=1e-14, rtol=0)
    assert (runs[0].fc1.weight == 0).sum() == (runs[1].fc1.weight == 0).sum()


class Quartic(Regularizer):
    """A regularizer of one's own that states only a penalty, ``(λ/n) Σ w⁴``."""

    def penalty(self, w, p):
        c = self.coef(w, p)
        return w.new_zeros(w.shape[0]) if c is None else (c * w**4).reshape(w.shape[0], -1).sum(dim=1)


class HalfL2(L2):
    """L2's gradient, with a penalty of its own that reports half of L2's."""

    def penalty(self, w, p):
        return 0.5 * super().penalty(w, p)


@pytest.mark.parametrize("regularizer", [Quartic(3.0), HalfL2(3.0) + L1Prox(2.0), L2(3.0) + MaxNorm(0.5) + L1(1.0)],
                         ids=repr)
def test_the_value_is_each_parts_own_penalty(regularizer):
    """The value runs fused where a part's penalty is the one its form states (L2's ``(λ/2n)Σw²``, L1's ``(λ/n)Σ|w|``,
    a projection's 0); a part with a ``penalty`` of its own below that form is asked for it."""
    model = net()
    reg = reglab.regularize(model, regularizer, n=N, per_layer={"fc2": 0.5})
    expected = sum(leaf.penalty(p.detach()[None], info)[0] for leaf in reg.regularizer.leaves()
                   for p, info in zip(reg.params, reg.infos))
    assert reg.value().item() == pytest.approx(expected.item(), rel=1e-12)
