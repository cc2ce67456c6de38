"""reglab against the best ways to train many small models at once in JAX and PyTorch, in one run.

The job: the book's ``[784, 30, 10]`` sigmoid network, cross-entropy, mini-batch
10, η = 0.1, the book's L2 step ``w ← (1 − ηλ/n) w − (η/m) Σ ∂C/∂w``, float32,
on MNIST; a 32-value λ sweep (every model sees the same mini-batches) and one
model. Each peer is written as someone fluent in it would write it:

* JAX: the step ``jax.grad``-ed and ``jax.vmap``-ed over the model axis, an
  epoch one ``jax.jit``-ed ``lax.scan`` over its mini-batches (the gather of the
  epoch's order inside it); on one host device, and with the models split over
  the cores as host devices (``--xla_force_host_platform_device_count``, the
  model axis sharded over a mesh, one XLA thread each). Compilation is done
  before timing. Run in a child process (the flag must precede importing jax).
* PyTorch, hand-batched: the models' weights as ``(M, n_out, n_in)`` tensors,
  the shared mini-batch through one ``addmm`` for the first layer and ``baddbmm``
  for the second, back-propagation written out with ``bmm``/``addmm`` into the
  weights in place, under ``no_grad``; on one thread and on every core.
* PyTorch, ``torch.func``: ``vmap(grad(loss))`` over the stacked parameters, a
  functional step.

Each is timed on one epoch of ``--size`` images (scaled to 50,000), the best of
``--rounds`` rounds alternated between the peers; figures are seconds per
model-epoch, and each peer's validation accuracy after the epoch (model 0)
shows it trained the same thing (JAX: a child process per round, compiled before
its epoch is timed). Each peer's FLOP/s is read against a large float32 matmul on
every core timed in each round, so the table also says what 2× the best peer
would take of that rate. Run from the repository root::

    python benchmarks/bench_peers.py --data-dir ../shared/data [--write benchmarks/RESULTS.md]

JAX is in the ``bench`` extra (``pip install -e '.[bench]'``); without it its rows are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

import reglab  # noqa: F401  (first: every peer then runs under the OpenMP wait policy reglab sets, before torch loads)
from results import flops_per_example, machine, matmul_rate, report

SIZES = [784, 30, 10]
ETA, BATCH, FULL = 0.1, 10, 50_000
LAMBDAS = {32: [float(v) for v in np.logspace(-2, 2, 32)], 1: [5.0]}


def load(data_dir: str | None, size: int):
    """MNIST: the first ``size`` training images (float32), the labels, and the validation split."""
    from reglab.data import load_dataset

    ds = load_dataset("mnist", data_dir)
    return ds.train.X[:size], ds.train.y[:size], ds.validation.X, ds.validation.y


def initial(M: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Every peer starts from the same weights: N(0, 1), the book's large initialization."""
    rng = np.random.default_rng(seed)
    return {"W0": rng.standard_normal((M, 30, 784), dtype=np.float32), "b0": rng.standard_normal((M, 30), dtype=np.float32),
            "W1": rng.standard_normal((M, 10, 30), dtype=np.float32), "b1": rng.standard_normal((M, 10), dtype=np.float32)}


def accuracy(p: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    """Validation accuracy of model 0."""
    a0 = 1 / (1 + np.exp(-(X @ p["W0"][0].T + p["b0"][0])))
    return float(((a0 @ p["W1"][0].T + p["b1"][0]).argmax(1) == y).mean())


# --------------------------------------------------------------------------------------------
# reglab
# --------------------------------------------------------------------------------------------
def reglab_epoch(X, y, M: int, order: np.ndarray) -> tuple[float, dict]:
    import torch

    from reglab.engine.data import TensorSplit
    from reglab.engine.model import MLP
    from reglab.engine.nn import get_activation, get_cost
    from reglab.engine.optim import SGD
    from reglab.engine.regularizers import L2
    from reglab.engine.steps import make_steps

    p = initial(M)  # trained in place: the model's tensors share its memory
    model = MLP([torch.from_numpy(p["W0"]), torch.from_numpy(p["W1"])], [torch.from_numpy(p["b0"]), torch.from_numpy(p["b1"])],
                get_activation("sigmoid"), get_cost("cross-entropy"))
    steps = make_steps("compiled", model, L2(LAMBDAS[M]), SGD(), torch.full((M,), ETA), len(X), BATCH, threads=0)
    split = TensorSplit.from_arrays(X, y, 10, "cpu", torch.float32)
    t0 = time.perf_counter()
    steps.epoch(split, torch.from_numpy(order).reshape(1, -1))
    return time.perf_counter() - t0, p


# --------------------------------------------------------------------------------------------
# PyTorch, hand-batched
# --------------------------------------------------------------------------------------------
def torch_bmm_epoch(X, y, M: int, order: np.ndarray, threads: int) -> tuple[float, dict]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    p = {k: torch.from_numpy(v) for k, v in initial(M).items()}
    W0, b0, W1, b1 = p["W0"], p["b0"], p["W1"], p["b1"]
    Xt, Y = torch.from_numpy(X), torch.nn.functional.one_hot(torch.from_numpy(y), 10).float()
    shrink = (1 - ETA * torch.tensor(LAMBDAS[M]) / len(X)).view(M, 1, 1)
    try:
        with torch.no_grad():
            t0 = time.perf_counter()
            for idx in torch.from_numpy(order).split(BATCH):
                x, t = Xt[idx], Y[idx]  # (m, 784), (m, 10), shared by the models
                m = len(idx)
                a0 = torch.sigmoid(torch.addmm(b0.view(1, -1), x, W0.view(-1, 784).t()).view(m, M, 30).transpose(0, 1))
                a1 = torch.sigmoid(torch.baddbmm(b1.unsqueeze(1), a0, W1.transpose(1, 2)))  # (M, m, 10)
                d1 = a1 - t  # cross-entropy: δ = a − y
                d0 = torch.bmm(d1, W1).mul_(a0 * (1 - a0))  # (M, m, 30), from W1 before its step
                W1.mul_(shrink).baddbmm_(d1.transpose(1, 2), a0, alpha=-ETA / m)
                b1.sub_(d1.sum(1), alpha=ETA / m)
                W0.mul_(shrink).view(-1, 784).addmm_(d0.transpose(1, 2).reshape(-1, m), x, alpha=-ETA / m)
                b0.sub_(d0.sum(1), alpha=ETA / m)
            seconds = time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)
    return seconds, {k: v.numpy() for k, v in p.items()}


# --------------------------------------------------------------------------------------------
# PyTorch, torch.func
# --------------------------------------------------------------------------------------------
def torch_func_epoch(X, y, M: int, order: np.ndarray) -> tuple[float, dict]:
    import torch
    from torch.func import grad, vmap

    p = {k: torch.from_numpy(v) for k, v in initial(M).items()}
    Xt, Y = torch.from_numpy(X), torch.nn.functional.one_hot(torch.from_numpy(y), 10).float()
    shrink = 1 - ETA * torch.tensor(LAMBDAS[M]) / len(X)  # (M,)

    def loss(q, x, t):
        z1 = torch.sigmoid(x @ q["W0"].T + q["b0"]) @ q["W1"].T + q["b1"]
        return torch.nn.functional.binary_cross_entropy_with_logits(z1, t, reduction="sum") / len(x)

    gradients = vmap(grad(loss), in_dims=(0, None, None))
    t0 = time.perf_counter()
    for idx in torch.from_numpy(order).split(BATCH):
        g = gradients(p, Xt[idx], Y[idx])
        with torch.no_grad():
            for k in ("W0", "W1"):
                p[k].mul_(shrink.view(M, 1, 1)).sub_(g[k], alpha=ETA)
            for k in ("b0", "b1"):
                p[k].sub_(g[k], alpha=ETA)
    return time.perf_counter() - t0, {k: v.numpy() for k, v in p.items()}


# --------------------------------------------------------------------------------------------
# JAX (in a child process: the host-device flag must be set before jax is imported)
# --------------------------------------------------------------------------------------------
def jax_worker(data_dir, size: int, M: int, devices: int, rounds: int) -> None:
    """Print JSON: the best epoch's seconds over ``rounds`` epochs, and the accuracy after the first."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    X, y, Xv, yv = load(data_dir, size)
    n = len(X)

    def loss(q, x, t):
        z1 = jax.nn.sigmoid(x @ q["W0"].T + q["b0"]) @ q["W1"].T + q["b1"]
        return jnp.sum(jax.nn.softplus(z1) - t * z1) / x.shape[0]  # cross-entropy from the logits

    def step(q, shrink, x, t):
        g = jax.grad(loss)(q, x, t)
        return {k: (q[k] * shrink if k[0] == "W" else q[k]) - ETA * g[k] for k in q}

    models_step = jax.vmap(step, in_axes=(0, 0, None, None))

    @jax.jit
    def epoch(q, shrink, Xd, Yd, order):
        xs = Xd[order].reshape(-1, BATCH, Xd.shape[1])
        ts = Yd[order].reshape(-1, BATCH, Yd.shape[1])
        return jax.lax.scan(lambda c, b: (models_step(c, shrink, *b), None), q, (xs, ts))[0]

    q = {k: jnp.asarray(v) for k, v in initial(M).items()}
    shrink = jnp.asarray(1 - ETA * np.array(LAMBDAS[M], np.float32) / n)
    Xd, Yd = jnp.asarray(X), jnp.asarray(np.eye(10, dtype=np.float32)[y])
    if devices > 1:
        mesh = jax.make_mesh((devices,), ("m",))
        q = jax.device_put(q, NamedSharding(mesh, P("m")))
        shrink = jax.device_put(shrink, NamedSharding(mesh, P("m")))
        Xd, Yd = jax.device_put((Xd, Yd), NamedSharding(mesh, P()))
    orders = [np.random.default_rng(r).permutation(n) for r in range(rounds + 1)]
    jax.block_until_ready(epoch(q, shrink, Xd, Yd, orders[-1]))  # compiled here, not timed
    best, trained = float("inf"), None
    for r in range(rounds):
        t0 = time.perf_counter()
        out = jax.block_until_ready(epoch(q, shrink, Xd, Yd, orders[r]))
        best = min(best, time.perf_counter() - t0)
        trained = trained or {k: np.asarray(v) for k, v in out.items()}
    print(json.dumps({"seconds": best, "accuracy": accuracy(trained, Xv, yv)}))


def jax_epoch(data_dir, size: int, M: int, devices: int, rounds: int) -> tuple[float, float] | None:
    """``(seconds, accuracy)`` from a child process, or ``None`` where jax is not installed."""
    flags = f"--xla_force_host_platform_device_count={devices}"
    if devices > 1:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    env = {**os.environ, "XLA_FLAGS": flags}
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); import bench_peers; "
            f"bench_peers.jax_worker({data_dir!r}, {size}, {M}, {devices}, {rounds})")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        if "No module named 'jax'" in out.stderr:
            return None
        raise SystemExit(f"the JAX peer failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], result["accuracy"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", help="data directory holding mnist/ (default: reglab's lookup)")
    ap.add_argument("--size", type=int, default=10_000, help="training images of the timed epoch (default: 10,000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternated rounds; the best is reported (default: 3)")
    ap.add_argument("--write", metavar="FILE", help="also write the figures as a section of FILE (Markdown)")
    args = ap.parse_args(argv)

    import torch

    X, y, Xv, yv = load(args.data_dir, args.size)
    scale = FULL / len(X)
    cores = os.cpu_count() or 1
    peers = {
        "reglab (default threads)": lambda M, order: reglab_epoch(X, y, M, order),
        "PyTorch bmm, hand-written backward, 1 thread": lambda M, order: torch_bmm_epoch(X, y, M, order, 1),
        f"PyTorch bmm, hand-written backward, {cores} threads": lambda M, order: torch_bmm_epoch(X, y, M, order, cores),
        "PyTorch torch.func vmap(grad)": lambda M, order: torch_func_epoch(X, y, M, order),
    }
    rows: dict[tuple[str, int], tuple[float, float]] = {}
    peak = 0.0  # a large float32 matmul on every core, timed in each round: the rate the peers' FLOP/s are read against
    for M in (32, 1):
        reglab_epoch(X[:1000], y[:1000], M, np.arange(1000))  # the kernels loaded before timing
        for r in range(args.rounds):
            order = np.random.default_rng(r).permutation(len(X))
            for name, run in peers.items():
                seconds, trained = run(M, order)
                best, acc = rows.get((name, M), (float("inf"), accuracy(trained, Xv, yv)))  # acc: the first round's
                rows[name, M] = (min(best, seconds), acc)
            for devices in sorted({1, cores if M > 1 else 1}):  # a child process per round: alternated with the rest
                got = jax_epoch(args.data_dir, args.size, M, devices, 1)
                if got is not None:
                    where = f", models over {devices} host devices" if devices > 1 else ", 1 device"
                    name = "JAX jit + vmap + lax.scan" + where
                    rows[name, M] = min(got, rows.get((name, M), got))
            before = torch.get_num_threads()
            torch.set_num_threads(cores)
            peak = max(peak, matmul_rate())
            torch.set_num_threads(before)
    flops = len(X) * flops_per_example(SIZES)  # per model-epoch of the timed images
    lines = [f"machine: {machine()}; torch {torch.__version__}; one epoch of {len(X):,} images timed, scaled to 50,000; "
             f"the best of {args.rounds} alternated rounds; a large float32 matmul on {cores} threads, timed in each "
             f"round: {peak / 1e9:.1f} GFLOP/s (the best)", "",
             "| peer | M | seconds per model-epoch | reglab faster by | FLOP/s | of the matmul's | validation accuracy after "
             "the epoch (model 0) |",
             "|---|---|---|---|---|---|---|"]
    for M in (32, 1):
        ours = rows["reglab (default threads)", M][0]
        for (name, m), (seconds, acc) in sorted(((k, v) for k, v in rows.items() if k[1] == M), key=lambda kv: kv[1][0]):
            rate = m * flops / seconds
            lines.append(f"| {name} | {m} | {seconds * scale / m:.3f} | "
                         f"{'—' if name.startswith('reglab') else f'{seconds / ours:.2f}×'} | {rate / 1e9:.1f} G | "
                         f"{rate / peak:.0%} | {acc:.2%} |")
        best_peer = min(v[0] for k, v in rows.items() if k[1] == M and not k[0].startswith("reglab"))
        lines.append(f"| **reglab against the best peer** | {M} | | **{best_peer / ours:.2f}×** | | | |")
        lines.append(f"| 2× the best peer would take | {M} | {best_peer * scale / M / 2:.3f} | | "
                     f"{2 * M * flops / best_peer / 1e9:.1f} G | {2 * M * flops / best_peer / peak:.0%} | |")
    report(lines, args.write, "bench_peers", "python benchmarks/bench_peers.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
