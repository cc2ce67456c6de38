"""The Ray backend: a local head on this machine, a sweep sent to it as tasks, resumed from a local start.

The head runs on this machine only (Ray names it by the machine's own address, not 127.0.0.1); usage
statistics are off. Ray ≥ 2.5x starts clusters with token authentication; a driver that connects by
address needs ``RAY_AUTH_MODE=token`` (the token is read from ``~/.ray/auth_token``).
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
import torch

from reglab.cli.main import main
from reglab.sweep import read_results

if importlib.util.find_spec("ray") is None:
    pytest.skip("Ray is not installed (pip install 'reglab[ray]'): the Ray backend is not tested", allow_module_level=True)

HEAD = """
import sys, ray
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.readline()
ray.shutdown()
"""
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "OMP_NUM_THREADS": "1"}
ARGS = ["sweep", "--data", "digits", "--epochs", "2", "--eta", "0.5", "--seeds", "2", "--max-models", "4",
        "--quiet", "--no-plots"]


@pytest.fixture(scope="module")
def head():
    """A Ray head with 2 CPUs on this machine (no dashboard, no usage statistics); its address."""
    proc = subprocess.Popen([sys.executable, "-c", HEAD], env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()
    if not address:
        proc.kill()
        pytest.fail("the Ray head did not start")
    yield address
    proc.stdin.close()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_ray_sweep_resumes_a_local_start_and_matches_local(head, tmp_path, capsys):
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # as the Ray tasks (1 CPU each): the tables agree to the last bit
    try:
        out = tmp_path / "s"
        assert main([*ARGS, "--lmbda", "0.01,0.1", "--out", str(out)]) == 0  # the first chunk, trained here
        full = ["--lmbda", "0.01,0.1,1,10", "--reg", "l2,l1-prox"]
        assert main([*ARGS, *full, "--out", str(tmp_path / "local")]) == 0
    finally:
        torch.set_num_threads(n)
    ray_run = subprocess.run([sys.executable, "-m", "reglab", *ARGS, *full, "--backend", "ray", "--address", head,
                              "--out", str(out)], env=ENV, capture_output=True, text=True, timeout=120)
    assert ray_run.returncode == 0, ray_run.stderr
    assert "12 cells trained, 4 reused" in ray_run.stdout
    chunks = [json.loads(p.read_text()) for p in (out / "chunks").glob("*.json")]
    assert len(chunks) == 4 and all(c["train_seconds"] > 0 for c in chunks)
    assert read_results(out) == read_results(tmp_path / "local")
