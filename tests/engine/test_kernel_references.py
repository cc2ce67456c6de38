"""The kernel's arithmetic borrows its arrays: the functions a step spends its time in (``kernel._leaf``) are compiled
without numba's reference counting, so a step counts references (an atomic instruction each way) only where
``train_epoch`` takes a view or a list's item. Counted from numba's own trace of every reference taken
(``NUMBA_DEBUG_NRT``), in a process of its own."""

import os
import subprocess
import sys
from pathlib import Path

#: One epoch of ``steps`` mini-batches of 10 of a lone [784, 30, 10] model on one thread, between two markers.
SCRIPT = """
import os, sys
import numpy as np, torch
from reglab.engine.data import TensorSplit
from reglab.engine.model import MLP
from reglab.engine.optim import SGD
from reglab.engine.regularizers import L2
from reglab.engine.steps import make_steps
steps = int(sys.argv[1])
rng = np.random.default_rng(0)
X, y = rng.random((10 * steps, 784), dtype=np.float32), rng.integers(0, 10, 10 * steps)
split = TensorSplit.from_arrays(X, y, 10, "cpu", torch.float32)
model = MLP.initialize([784, 30, 10], seeds=[0], init="default", activation="sigmoid", cost="cross-entropy",
                       dtype=torch.float32)
program = make_steps("compiled", model, L2(5.0), SGD(), torch.full((1,), 0.1), len(X), 10, threads=1)
order = torch.arange(len(X)).reshape(1, -1)
program.epoch(split, order)  # loaded (or compiled) before counting
os.write(1, b"START\\n")
program.epoch(split, order)
os.write(1, b"END\\n")
"""


def _references(steps: int) -> int:
    """References taken (``NRT_incref``) in one epoch of ``steps`` mini-batches."""
    env = {**os.environ, "NUMBA_DEBUG_NRT": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(steps)], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2]).stdout
    counted = out[out.index("START\n"):out.index("END\n")]
    return counted.count("NRT_Incref")


def test_a_step_of_the_books_network_counts_references_only_outside_its_arithmetic():
    per_step = (_references(20) - _references(10)) / 10
    # 78 here (train_epoch's views and list items); 183 when the arithmetic counted references to its arguments
    assert 0 < per_step <= 100, per_step
