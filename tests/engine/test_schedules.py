"""λ schedules: each factor is what its formula says; in the engine λ changes between epochs, on the compiled steps
as on the tensor steps, and an epoch trained at λ_e equals a plain run at λ_e from the same state."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from reglab.cli.main import main
from reglab.config import TrainConfig
from reglab.engine.regularizers import L2, L1Prox, MaxNorm, Param
from reglab.engine.schedules import Constant, Cosine, FollowLR, ScheduledLmbda, StepDecay, Warmup, parse_schedule
from reglab.errors import ReglabError
from reglab.runs.assemble import load_data, train


def test_each_schedules_factor_at_each_step():
    assert [Constant().factor(t) for t in range(3)] == [1.0, 1.0, 1.0]
    assert [Warmup(2).factor(t) for t in range(4)] == [0.0, 0.0, 1.0, 1.0]
    assert [Warmup(1, ramp=4).factor(t) for t in range(7)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert FollowLR().factor(5, 0.125) == 0.125
    assert np.array_equal(FollowLR().factor(5, np.array([1.0, 0.5])), [1.0, 0.5])
    assert [StepDecay(2, 0.5).factor(t) for t in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    c = Cosine(4, final=0.2)
    assert [c.factor(t) for t in range(6)] == pytest.approx(
        [0.2 + 0.8 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)] + [0.2, 0.2])


@pytest.mark.parametrize("schedule", [Constant(), Warmup(3), Warmup(2, 5), FollowLR(), StepDecay(3, 0.5), Cosine(10),
                                      Cosine(10, 0.1)], ids=repr)
def test_spec_round_trips(schedule):
    assert parse_schedule(schedule.spec) == schedule


@pytest.mark.parametrize("text", ["warmup", "warmup:x", "step:3", "cosine:0", "linear", "warmup:-1", "step:2:-1"])
def test_bad_specs_are_one_clear_error(text):
    with pytest.raises(ReglabError):
        parse_schedule(text, 10)


def test_cosine_without_its_length_spans_the_run():
    assert parse_schedule("cosine", 30) == Cosine(30)


def test_scheduled_lambda_scales_every_part_and_restores():
    reg = L2(4.0) + L1Prox([1.0, 2.0])
    scheduled = ScheduledLmbda(reg, FollowLR())
    assert scheduled.apply(0, np.array([0.5, 0.25]))
    assert reg.parts[0].lmbda.tolist() == [2.0, 1.0] and reg.parts[1].lmbda.tolist() == [0.5, 0.5]
    assert not scheduled.apply(1, np.array([0.5, 0.25]))  # unchanged: nothing to re-pack
    scheduled.restore()
    assert reg.parts[0].lmbda.tolist() == [4.0] and reg.parts[1].lmbda.tolist() == [1.0, 2.0]


@pytest.fixture(scope="module")
def digits():
    return load_data(TrainConfig(data="digits"))


@pytest.mark.parametrize("spec", ["warmup:1", "step:1:0.1", "follow-lr"])
def test_compiled_steps_follow_the_schedule_as_the_tensor_steps_do(digits, spec):
    runs = {}
    for engine in ("compiled", "tensor"):
        config = TrainConfig(data="digits", epochs=3, dtype="float64", lmbda=(40.0, 5.0), reg="l1-prox", engine=engine,
                             lmbda_schedule=spec, schedule=1 if spec == "follow-lr" else 0, monitor=("validation",))
        runs[engine] = train(config, digits).fit
    a, b = runs["compiled"], runs["tensor"]
    assert a.meta["engine"] == "CompiledSteps" and b.meta["engine"] == "TensorSteps"
    for W, V in zip(a.model.weights, b.model.weights):
        assert torch.allclose(W, V, atol=1e-10)
    assert np.allclose(a.history.get("penalty"), b.history.get("penalty"), atol=1e-10)


def test_warmup_epochs_train_without_the_regularizer(digits):
    """Warm-up for one epoch: epoch 1 is the unregularized epoch 1; the penalty is 0 in its record."""
    base = dict(data="digits", epochs=1, dtype="float64", reg="l1-prox", lmbda=(40.0,), monitor=("validation",))
    off = train(TrainConfig(**base, lmbda_schedule="warmup:1"), digits).fit
    none = train(TrainConfig(**{**base, "lmbda": (0.0,)}), digits).fit
    assert torch.equal(off.model.weights[0], none.model.weights[0])
    assert off.history.get("penalty")[:, 0].tolist() == [0.0, 0.0]
    on = train(TrainConfig(**{**base, "epochs": 2}, lmbda_schedule="warmup:1"), digits).fit
    assert on.history.get("penalty")[2, 0] > 0 and (on.model.weights[0] == 0).sum() > 0


def test_cli_lmbda_schedule_and_its_bad_input(tmp_path, capsys):
    assert main(["train", "--data", "digits", "--epochs", "2", "--quiet", "--lmbda-schedule", "warmup:1",
                 "--out", str(tmp_path / "r")]) == 0
    assert '"lmbda_schedule": "warmup:1"' in (tmp_path / "r" / "config.json").read_text()
    capsys.readouterr()
    assert main(["train", "--data", "digits", "--lmbda-schedule", "sometimes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lmbda-schedule 'sometimes' is not one of" in err[0]


def test_a_constraints_strength_is_one_over_its_radius():
    reg = L2(4.0) + MaxNorm(2.0)
    scheduled = ScheduledLmbda(reg, Warmup(1, ramp=2))
    scheduled.apply(0)
    assert reg.parts[0].lmbda.tolist() == [0.0] and reg.parts[1].c.tolist() == [math.inf]  # both off
    scheduled.apply(1)
    assert reg.parts[0].lmbda.tolist() == [2.0] and reg.parts[1].c.tolist() == [4.0]  # half the strength
    w = torch.full((1, 3, 5), 1.0, dtype=torch.float64)  # each row's norm √5 ≈ 2.24 < 4: inside
    assert torch.equal(reg.parts[1].prox(w, torch.ones(1, 1, 1), Param(0, "weight", 10)), w)
    scheduled.apply(2)
    assert reg.parts[1].c.tolist() == [2.0]
    out = reg.parts[1].prox(w, torch.ones(1, 1, 1), Param(0, "weight", 10))  # a fresh radius, not a cached one
    assert torch.allclose(out.norm(dim=2), torch.full((1, 3), 2.0, dtype=torch.float64))
