"""The optimizers against PyTorch's own, step by step, with a learning rate per model."""

import pytest
import torch

from reglab.engine.optim import SGD, Adam, make_optimizer
from reglab.errors import ReglabError


def _run(ours, theirs_cls, theirs_kw, steps=20):
    """Apply ``ours`` to a batch of two models (η 0.1 and 0.03) and torch's optimizer to each model alone."""
    g = torch.Generator().manual_seed(0)
    w0 = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    grads = [torch.randn(2, 3, 4, generator=g, dtype=torch.float64) for _ in range(steps)]
    etas = torch.tensor([0.1, 0.03], dtype=torch.float64)
    w = w0.clone()
    state = ours.init([w])
    for gr in grads:
        ours.step([w], [gr.clone()], [etas.view(2, 1, 1)], state)
    for m in range(2):
        p = torch.nn.Parameter(w0[m].clone())
        opt = theirs_cls([p], lr=float(etas[m]), **theirs_kw)
        for gr in grads:
            p.grad = gr[m].clone()
            opt.step()
        torch.testing.assert_close(w[m], p.detach(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ours,kw", [(SGD(), {}), (SGD(momentum=0.9), {"momentum": 0.9}),
                                     (SGD(momentum=0.5, nesterov=True), {"momentum": 0.5, "nesterov": True})],
                         ids=["sgd", "momentum", "nesterov"])
def test_sgd_is_torchs_sgd(ours, kw):
    _run(ours, torch.optim.SGD, kw)


def test_adam_is_torchs_adam():
    _run(Adam(0.8, 0.99, 1e-6), torch.optim.Adam, {"betas": (0.8, 0.99), "eps": 1e-6})


def test_names_and_bad_momentum():
    assert make_optimizer("momentum", momentum=0.5) == SGD(momentum=0.5)
    assert make_optimizer("adamw") == Adam()
    with pytest.raises(ReglabError, match=r"momentum must lie in \[0, 1\)"):
        make_optimizer("momentum", momentum=1.0)
    with pytest.raises(ReglabError, match="unknown optimizer 'rmsprop'"):
        make_optimizer("rmsprop")
