"""What reglab's nn.Module API costs a training step: the example CNN (examples/cnn_l1_prox.py) on MNIST-sized input.

One step (forward, backward, ``optimizer.step()``, and whatever regularizes or monitors) of the CNN
``conv 3×3 (8) → pool → conv 3×3 (16) → pool → linear (10)`` on a mini-batch of 64 images 28×28, in five
variants measured in the same run, rounds interleaved so that every variant sees the same machine load:

* ``torch weight_decay``: ``torch.optim.SGD(momentum=0.9, weight_decay=…)`` (the baseline; it decays
  everything it holds, biases too);
* ``regularize L2``: plain SGD + ``reg.penalty()`` in the loss and ``reg.step(optimizer)``;
* ``wrap L2``: the same through ``reglab.wrap`` (the coupled gradient added in the step hook);
* ``L1-prox + max-norm``: ``reglab.wrap`` with ``L1Prox(…) + MaxNorm(3)`` (soft-thresholding and the
  projection after every step);
* ``monitor``: the baseline plus ``WeightMonitor.step()`` at its default interval (a record every 50 steps).

Reported: the best time per step over rounds of ``--steps`` steps (the round least disturbed by other work)
and each variant's overhead against the baseline; the targets are ≤ 5% for the regularizers and ≤ 5% for
the monitor. Beside the time, a count that does not depend on the machine: the operations each variant adds
to a step, seen by a ``TorchDispatchMode`` over ``--every`` steps (the monitor's interval) on this device:
``launches`` counts the aten operations that launch a kernel on a GPU (views and other metadata-only
operations are free; a ``torch._foreach_*`` operation is one launch when its lists meet CUDA's fast route —
one dtype and device, pairwise equal shapes — and one per tensor otherwise), ``reads`` the values read back
from the device (``aten._local_scalar_dense``: ``.item()``, ``bool()``, each a GPU→CPU wait; a ``.cpu()``
copy, the monitor's one per record, is not seen on the CPU). On a small network on a GPU, where a step is a
few dozen launches of tiny kernels, each launch's fixed cost is the cost. Every
optimizer takes ``foreach=True``, torch's default on a GPU (on the CPU its default is a loop per parameter).
On the CPU the time is the process's CPU time (``time.process_time``; torch on ``--threads 1``),
which a machine shared with other work inflates far less than wall-clock time (``--clock wall``; CUDA always
uses wall-clock time). Run: ``python benchmarks/bench_module.py [--steps 100] [--rounds 9] [--device cuda]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import reglab
from reglab.engine.regularizers import L2, L1Prox, MaxNorm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from cnn_l1_prox import CNN  # noqa: E402  (the example's network)

N = 50_000
FREE = {"detach", "lift_fresh", "empty", "empty_strided", "empty_like", "alias", "promote_types", "_local_scalar_dense"}


class Launches(TorchDispatchMode):
    """Count the aten operations dispatched while active: ``launches`` (those a GPU runs as kernels, a
    ``_foreach_*`` one as one launch on CUDA's fast route and one per tensor off it) and ``reads``
    (``_local_scalar_dense``: a value read back from the device)."""

    def __init__(self) -> None:
        super().__init__()
        self.launches = self.reads = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name == "_local_scalar_dense":
            self.reads += 1
        elif not func.is_view and name not in FREE:
            self.launches += self._kernels(name, args)
        out = func(*args, **(kwargs or {}))
        if name.startswith("_foreach_") and name.endswith("_"):  # under a dispatch mode an in-place _foreach_ op
            for t in args[0]:  # leaves the version counters as they were: bump them, as it does without one
                torch.autograd.graph.increment_version(t)
        return out

    @staticmethod
    def _kernels(name: str, args) -> int:
        if not name.startswith("_foreach_"):
            return 1
        lists = [a for a in args if isinstance(a, (list, tuple)) and a and isinstance(a[0], torch.Tensor)]
        first = lists[0]
        same_kind = len({(t.dtype, t.device) for ts in lists for t in ts}) == 1
        pairwise = all(t.shape == u.shape and t.stride() == u.stride() for ts in lists[1:] for t, u in zip(first, ts))
        return 1 if same_kind and pairwise else len(first)


def variants(device: torch.device):
    """name → (model, optimizer, step function)."""
    out = {}

    def make():
        torch.manual_seed(0)
        return CNN(28).to(device)

    def plain_step(model, opt, x, y, extra=None):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if extra is not None:
            extra()

    m = make()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=5.0 / N, foreach=True)
    out["torch weight_decay"] = (m, opt, lambda x, y, m=m, opt=opt: plain_step(m, opt, x, y))

    m = make()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, foreach=True)
    reg = reglab.regularize(m, L2(5.0), n=N)

    def l2_step(x, y, m=m, opt=opt, reg=reg):
        opt.zero_grad(set_to_none=True)
        (F.cross_entropy(m(x), y) + reg.penalty()).backward()
        opt.step()
        reg.step(opt)

    out["regularize L2"] = (m, opt, l2_step)

    m = make()
    opt = reglab.wrap(torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, foreach=True), reglab.regularize(m, L2(5.0), n=N))
    out["wrap L2"] = (m, opt, lambda x, y, m=m, opt=opt: plain_step(m, opt, x, y))

    m = make()
    opt = reglab.wrap(torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, foreach=True),
                      reglab.regularize(m, L1Prox(60.0) + MaxNorm(3.0), n=N))
    out["L1-prox + max-norm"] = (m, opt, lambda x, y, m=m, opt=opt: plain_step(m, opt, x, y))

    m = make()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=5.0 / N, foreach=True)
    monitor = reglab.WeightMonitor(m)
    out["monitor (every 50 steps)"] = (m, opt, lambda x, y, m=m, opt=opt, mon=monitor: plain_step(m, opt, x, y, mon.step))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per round (a multiple of 50 times the monitor's)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--clock", default="cpu", choices=("cpu", "wall"), help="CPU time of the process, or wall-clock")
    parser.add_argument("--every", type=int, default=50, help="steps over which the operations are counted")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    clock = time.process_time if args.clock == "cpu" and device.type == "cpu" else time.perf_counter
    g = torch.Generator().manual_seed(0)
    batches = [(torch.rand(64, 784, generator=g).to(device), torch.randint(0, 10, (64,), generator=g).to(device))
               for _ in range(args.steps)]
    runs = variants(device)
    counts = {}
    for name, (_, _, step) in runs.items():  # the operations of --every steps, each variant from its own state
        with Launches() as seen:
            for x, y in (batches * (args.every // len(batches) + 1))[:args.every]:
                step(x, y)
        counts[name] = (seen.launches / args.every, seen.reads / args.every)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _, _, step in runs.values():  # warm up
        for x, y in batches[:5]:
            step(x, y)
    for _ in range(args.rounds):
        for name, (_, _, step) in runs.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = clock()
            for x, y in batches:
                step(x, y)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append((clock() - t0) / len(batches))
    base = min(times["torch weight_decay"])
    print(f"CNN [conv 8, conv 16, linear 10] on 64 images 28×28 per step; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), {device}; {'CPU' if clock is time.process_time else 'wall-clock'} time, "
          f"the best of {args.rounds} rounds of {args.steps} steps")
    launches, _ = counts["torch weight_decay"]
    print(f"operations counted over {args.every} steps; the baseline's step: {launches:.1f} launches")
    print("| variant | ms per step | overhead vs torch weight_decay | target | launches added per step | reads per step |")
    print("|---|---|---|---|---|---|")
    for name, ts in times.items():
        t = min(ts)
        target = "" if name == "torch weight_decay" else "≤ 5%"
        ops, reads = counts[name]
        print(f"| {name} | {1000 * t:.2f} | {100 * (t / base - 1):+.1f}% | {target} | {ops - launches:+.1f} | {reads:.2f} |")


if __name__ == "__main__":
    main()
