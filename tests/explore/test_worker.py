"""The worker's schedule: snapshots in turn take at most ``budget`` of the time, and none starts sooner than
``1/max_rate`` after the previous one started."""

from __future__ import annotations

import time

import pytest

from reglab.explore.settings import Settings
from reglab.explore.worker import MAX_WAIT, Worker


@pytest.fixture
def worker(tmp_path):
    w = Worker(lambda *message: None, tmp_path, tmp_path, exporter=lambda s: {}, max_rate=10.0, budget=0.2)
    yield w
    w.close()


def test_a_snapshot_in_turn_starts_cost_over_budget_after_the_previous_one_started(worker):
    worker._last_snapshot, worker._snapshot_cost = 100.0, 0.05
    assert worker._due(beside=False) == pytest.approx(100.25)  # 0.05 s of every 0.25 s: the budget, 20%


@pytest.mark.parametrize("cost, gap", [(0.001, 0.1), (60.0, MAX_WAIT)], ids=["cheap: max_rate", "slow: MAX_WAIT"])
def test_snapshots_in_turn_are_bounded_by_the_rate_and_the_longest_wait(worker, cost, gap):
    worker._last_snapshot, worker._snapshot_cost = 100.0, cost
    assert worker._due(beside=False) == pytest.approx(100.0 + gap)


def test_beside_training_only_the_rate_bounds_snapshots(worker):
    worker._last_snapshot, worker._snapshot_cost = 100.0, 0.05  # measured on the idle core: training does not wait
    assert worker._due(beside=True) == pytest.approx(100.1)


def test_the_pace_is_set_by_snapshots_of_training_not_by_the_first_point(worker):
    """Epoch 0's point passes over the training split as well (no running measure yet): not what the next
    snapshots cost, so it does not space them; nor do the last session's snapshots."""
    worker._costs, worker._snapshot_cost = [5.0], 5.0
    worker.submit("start", settings=Settings.from_json({"data": "circle", "lmbda": [0.0, 1.0]}), play=False).result()
    assert worker.snapshots == 1 and worker._costs == [] and worker._snapshot_cost == 0.0
    worker.submit("step").result()
    end = time.monotonic() + 60
    while worker.submit("status").result()["playing"] and time.monotonic() < end:
        time.sleep(0.01)
    assert worker.snapshots >= 2 and len(worker._costs) == min(3, worker.snapshots - 1)  # the last three
    assert worker._snapshot_cost == min(worker._costs) > 0
