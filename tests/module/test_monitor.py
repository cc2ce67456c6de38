"""WeightMonitor: tidy rows whose values are the stated statistics (checked against numpy), at the stated steps, and
the run folder's files."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import reglab
from reglab.errors import ReglabError
from tests.module.helpers import image_batches, net


def train_steps(model, monitor, steps, lr=0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    data = image_batches(steps)
    for x, y in data:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        monitor.step()


def value(monitor, step, parameter, metric):
    layer, name = parameter.rsplit(".", 1)
    hits = [r[5] for r in monitor.rows if r[0] == step and r[2] == layer and r[3] == name and r[4] == metric]
    assert len(hits) == 1, (step, parameter, metric)
    return hits[0]


def test_rows_hold_the_stated_statistics():
    model = net()
    with torch.no_grad():
        model.fc1.weight[:5] = 0.0  # five dead units
        model.fc1.weight[6, :3] = 1e-4  # small, not zero
    monitor = reglab.WeightMonitor(model, every=3)
    snapshots = {0: model.fc1.weight.detach().numpy().copy()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for k, (x, y) in enumerate(image_batches(6), start=1):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            model.fc1.weight.grad[:5] = 0.0  # keep the dead units dead
        opt.step()
        snapshots[k] = model.fc1.weight.detach().numpy().copy()
        monitor.step()
    assert sorted({r[0] for r in monitor.rows}) == [0, 3, 6]
    for step in (0, 3, 6):
        w = snapshots[step].ravel()
        expected = {"sum": w.sum(), "mean": w.mean(), "l1": np.abs(w).sum(), "l2": np.sqrt((w**2).sum()),
                    "rms": np.sqrt((w**2).mean()), "var": w.var(), "max_abs": np.abs(w).max(),
                    "frac_small": (np.abs(w) < 1e-3).mean(), "zeros": (w == 0).sum(), "frac_zero": (w == 0).mean(),
                    "dead_units": (snapshots[step] == 0).all(axis=1).sum()}
        for metric, v in expected.items():
            assert value(monitor, step, "fc1.weight", metric) == pytest.approx(v, rel=1e-12, abs=1e-15), (step, metric)
    assert value(monitor, 6, "fc1.weight", "dead_units") == 5
    # the update ratio is over the one step before the record; the angle between successive records
    w5, w6, w3 = snapshots[5], snapshots[6], snapshots[3]
    assert value(monitor, 6, "fc1.weight", "update_ratio") == pytest.approx(
        np.linalg.norm(w6 - w5) / np.linalg.norm(w5), rel=1e-10)
    cos = (w6 * w3).sum() / (np.linalg.norm(w6) * np.linalg.norm(w3))
    assert value(monitor, 6, "fc1.weight", "angle") == pytest.approx(math.degrees(math.acos(min(cos, 1.0))), rel=1e-6)
    assert not [r for r in monitor.rows if r[0] == 0 and r[4] in ("update_ratio", "angle")]  # nothing to compare yet
    assert not [r for r in monitor.rows if r[3] == "bias" and r[4] == "dead_units"]  # only for matrices and kernels


def test_epoch_unit_and_the_files_of_a_run_folder(tmp_path):
    model = net()
    out = tmp_path / "cnn"
    with reglab.WeightMonitor(model, out=out, unit="epoch", mask="weights") as monitor:
        for _ in range(2):
            train_steps(model, monitor, 2)
            monitor.epoch()
    assert {r[1] for r in monitor.rows} == {0, 1, 2}
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "epoch", "layer", "parameter", "metric", "value"]
    assert {(r[2], r[3]) for r in rows[1:]} == {("conv1", "weight"), ("conv2", "weight"), ("fc1", "weight"), ("fc2", "weight")}
    assert float(rows[1][5]) == monitor.rows[0][5]  # written exactly
    for name in ("layer_rms.png", "weight_histograms.png"):
        assert (out / name).stat().st_size > 0
    assert not list(out.glob(".*.tmp"))


def test_a_summary_writer_gets_every_value():
    class Writer:
        def __init__(self):
            self.scalars, self.histograms = [], []

        def add_scalar(self, tag, value, step):
            self.scalars.append((tag, value, step))

        def add_histogram(self, tag, values, step):
            self.histograms.append((tag, tuple(values.shape), step))

        def flush(self):
            pass

    writer = Writer()
    model = net()
    monitor = reglab.WeightMonitor(model, every=2, writer=writer)
    train_steps(model, monitor, 2)
    monitor.close()
    assert len(writer.scalars) == len(monitor.rows)
    assert ("fc1.weight/rms", value(monitor, 2, "fc1.weight", "rms"), 2) in writer.scalars
    assert ("conv1.weight", (4, 1, 3, 3), 2) in writer.histograms


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed (pip install 'reglab[tensorboard]')")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = net()
    monitor = reglab.WeightMonitor(model, out=tmp_path, every=1, writer=True)
    train_steps(model, monitor, 2)
    monitor.close()
    monitor.writer.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    rms = [e.value for e in events.Scalars("fc2.weight/rms")]
    assert rms == pytest.approx(list(monitor.get("rms", "fc2.weight")[1]), rel=1e-6)


def test_bfloat16_parameters_are_measured_in_float32():
    model = nn.Linear(300, 4).to(torch.bfloat16)
    monitor = reglab.WeightMonitor(model)
    w = model.weight.detach().float().numpy().ravel()
    l2 = [r[5] for r in monitor.rows if r[3] == "weight" and r[4] == "l2"][0]
    assert l2 == pytest.approx(np.sqrt((w.astype(np.float64) ** 2).sum()), rel=1e-6)


@pytest.mark.parametrize(("kwargs", "message"), [({"every": 0}, "every must be a positive integer"),
                                                 ({"unit": "batch"}, "unit must be one of"),
                                                 ({"writer": True}, "give out=")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ReglabError, match=message):
        reglab.WeightMonitor(net(), **kwargs)
