"""reglab.lightning.RegularizationCallback: a Lightning Trainer with the callback trains the weights of the plain
loop with reglab.wrap (same initial weights, same batches), and writes the monitor's files."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import reglab
import reglab.lightning
from reglab.engine.regularizers import L2, L1Prox
from tests.module.helpers import batches, mlp

pl = pytest.importorskip("lightning.pytorch", reason="the lightning extra is not installed (pip install 'reglab[lightning]')")


class Module(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.2, momentum=0.5)


def loader():
    data = batches(5)
    X, y = torch.cat([x for x, _ in data]), torch.cat([t for _, t in data])
    return DataLoader(TensorDataset(X, y), batch_size=8, shuffle=False)


def test_the_callback_trains_what_wrap_trains(tmp_path):
    regularizer = L2(20.0) + L1Prox(1.5)
    module = Module()
    callback = reglab.lightning.RegularizationCallback(regularizer, per_layer={"net.2": 0.5}, monitor={"every": 2})
    trainer = pl.Trainer(max_epochs=2, accelerator="cpu", callbacks=[callback], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(module, loader())

    plain = mlp()
    reg = reglab.regularize(plain, regularizer, n=40, per_layer={"2": 0.5})
    opt = reglab.wrap(torch.optim.SGD(plain.parameters(), lr=0.2, momentum=0.5), reg)
    for _ in range(2):
        for x, y in loader():
            opt.zero_grad()
            F.cross_entropy(plain(x), y).backward()
            opt.step()
    for p, q in zip(module.net.parameters(), plain.parameters()):
        assert torch.allclose(p, q, atol=1e-12)
    assert 0 < (module.net[0].weight == 0).sum() < module.net[0].weight.numel()
    assert callback.reg.n == 40 and callback.reg.steps == 10
    assert {r[0] for r in callback.monitor.rows} == {0, 2, 4, 6, 8, 10}
    assert (tmp_path / "weights" / "metrics.csv").exists()
    assert not callback.reg._hooks  # removed at the end of training
