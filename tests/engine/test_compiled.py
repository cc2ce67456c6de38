"""The kernel's door: a first run compiles the epoch in a second process, and the numbers do not change."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from reglab.engine.compiled import KernelProgram
from reglab.engine.model import MLP
from reglab.engine.optim import make_optimizer
from reglab.engine.regularizers import L2
from reglab.errors import ReglabError

CODE = """
import sys
import numpy as np, torch
from reglab.engine.compiled import KernelProgram
from reglab.engine.compiling import KernelCompiler
from reglab.engine.model import MLP
from reglab.engine.optim import make_optimizer
from reglab.engine.regularizers import L2

early = KernelCompiler.start("float64") if sys.argv[1] == "early" else None  # as the command line starts one
model = MLP.initialize([6, 5, 3], seeds=[0, 1], dtype=torch.float64)
program = KernelProgram(model, L2([1.0, 2.0]), make_optimizer("sgd"), np.full(2, 0.5), 20, 4, 0, compiler=early)
beside = program._compiling
X = np.random.default_rng(0).random((20, 6))
Y = np.eye(3)[np.arange(20) % 3]
program.train_epoch(X, Y, np.arange(20)[None])
print(beside is not None, beside.process.returncode if beside else None, early is not None and beside is early)
print(np.concatenate([W.ravel() for W in program.Ws]).tobytes().hex())
"""


def run(cache, how="late"):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", CODE, how], env=env, capture_output=True, text=True, check=True).stdout
    return out.split("\n")[:2]


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="compiles beside on two cores or more")
def test_a_first_run_compiles_the_epoch_beside_and_later_runs_load_it_with_the_same_numbers(tmp_path):
    """On an empty numba cache the epoch compiles in another process (started by the program, or early by the
    caller and handed to it), which succeeds; the next run finds it cached (no process) and trains to the same
    weights, bit for bit, as the first runs did."""
    first, weights = run(tmp_path / "late")
    assert first == "True 0 False"
    early, same_early = run(tmp_path / "early", "early")
    assert early == "True 0 True" and same_early == weights
    again, same = run(tmp_path / "late")
    assert again == "False None False" and same == weights


def program(dtype, inputs=None):
    model = MLP.initialize([6, 5, 3], seeds=[0, 1], dtype=dtype)
    eta = np.full(2, 0.5, model.weights[0].numpy().dtype)
    return KernelProgram(model, L2([1.0, 2.0]), make_optimizer("sgd"), eta, 20, 4, 0, inputs=inputs)


NARROW = """
import numpy as np, torch
from reglab.engine.compiled import KernelProgram
from reglab.engine.model import MLP
from reglab.engine.optim import make_optimizer
from reglab.engine.regularizers import L2

X = np.random.default_rng(0).random((20, 6)).astype(np.float32)
Y = np.eye(3)[np.arange(20) % 3]
programs = []
for inputs, data in ((np.float32, X), (None, X.astype(np.float64))):
    model = MLP.initialize([6, 5, 3], seeds=[0, 1], dtype=torch.float64)
    p = KernelProgram(model, L2([1.0, 2.0]), make_optimizer("sgd"), np.full(2, 0.5), 20, 4, 0, inputs=inputs)
    for seed in range(2):
        p.train_epoch(data, Y, np.random.default_rng(seed).permutation(20)[None])
    programs.append(p)
narrow, copied = programs
print(all(np.array_equal(a, b) for a, b in zip(narrow.Ws + narrow.bs, copied.Ws + copied.bs)))
"""


def test_float32_inputs_of_a_float64_model_train_as_their_float64_copy_does_bit_for_bit():
    """In a process of its own: one that has loaded a callee of the kernel on its own (as the tests of the tiles
    do) links later kernels to that copy (see :mod:`reglab.engine.compiling`)."""
    out = subprocess.run([sys.executable, "-c", NARROW], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


def test_inputs_wider_than_the_model_or_targets_of_another_dtype_are_refused():
    p = program(torch.float32)
    X, Y = np.zeros((4, 6)), np.zeros((4, 3), np.float32)
    with pytest.raises(ReglabError, match="are torch.float64 but the network computes in torch.float32"):
        p.train_epoch(X, Y, np.arange(4)[None])
    with pytest.raises(ReglabError, match="the targets of the training data are torch.float32 but the network computes in"):
        program(torch.float64).train_epoch(X.astype(np.float32), Y, np.arange(4)[None])  # float32 targets
