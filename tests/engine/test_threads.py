"""How the engine's threads are chosen and how they wait."""

import os
import subprocess
import sys


def test_importing_reglab_makes_idle_openmp_threads_sleep_unless_told_otherwise():
    """OMP_WAIT_POLICY=PASSIVE before torch starts its OpenMP runtime (reglab.engine.threads says why); a user's own
    setting stands."""
    code = "import os, sys, reglab; print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.split() == ["PASSIVE", "False"]
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.split() == ["ACTIVE", "False"]
