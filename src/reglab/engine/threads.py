"""How many CPU threads the engine's torch operations use, chosen in one place and restored after; and how
idle threads wait.

Waiting: importing reglab sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is set
already (``reglab/__init__.py``), before torch is imported. Torch's OpenMP
runtime, which numba's parallel kernels also run on, reads it once when it
starts: threads waiting for work then sleep at once instead of spinning for
a while. On an idle machine nothing changes that can be measured (a kernel
call is one parallel region per epoch). On a busy one it is the difference
between sharing the cores and fighting over them: with another process busy on
every core, a 16-model run on the digits took 2.2–2.5 s on reglab's default
threads with passive waiting, 3.4–4.0 s on one thread, and 7.7–14.5 s on the
default threads spinning, 2.5–3.9 s of CPU burnt for 1.0 of work (measured
here; ``benchmarks/bench_contention.py``). Set ``OMP_WAIT_POLICY=ACTIVE``
yourself, or import torch before reglab, and threads spin again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (``None`` or 0: as they are); the setting is restored after."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def auto_threads(device: torch.device) -> int | None:
    """Torch threads of the tensor steps when none are asked for: 1 on the CPU, else ``None``.

    A mini-batch of 10 through ``[784, 30, 10]`` is 2·10⁵ multiply-adds per model: too little to
    share between cores. Even 64 models' products gain at most about 1.5× from a second thread on
    a quiet machine, while on a busy one the threads' spin-waiting made steps 10–180× slower
    (measured here). ``--threads N`` asks for more.
    """
    return 1 if device.type == "cpu" else None
