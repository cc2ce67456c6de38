"""How many CPU threads the engine's torch operations use, chosen in one place and restored after; how
idle threads wait; and the threads that run the compiled kernel's spans of work (:func:`run_spans`).

Waiting: importing reglab sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is set
already (``reglab/__init__.py``), before torch is imported. Torch's OpenMP
runtime, which the kernel's steps split over the threads run on (a model too
large to share a core's cache, ``train_epoch_wide``), reads it once when it
starts: threads waiting for work then sleep at once instead of spinning for
a while. On an idle machine nothing changes that can be measured. On a busy one it is the difference
between sharing the cores and fighting over them: with another process busy on
every core, a 16-model run on the digits took 2.2–2.5 s on reglab's default
threads with passive waiting, 3.4–4.0 s on one thread, and 7.7–14.5 s on the
default threads spinning, 2.5–3.9 s of CPU burnt for 1.0 of work (measured
here; ``benchmarks/bench_contention.py``). Set ``OMP_WAIT_POLICY=ACTIVE``
yourself, or import torch before reglab, and threads spin again.

The kernel's other work (groups of models, chunks of an evaluation) runs on
Python threads (:func:`run_spans`): the compiled functions release Python's
lock, and a thread waiting for work waits on a lock, never spinning. numba's
own parallel loops compiled ten times slower than the serial kernel they run
(their lowering was about half of a first run's compilation).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

import torch

T = TypeVar("T")


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


_pool: tuple[int, ThreadPoolExecutor] | None = None  # (the process that started it, the pool)


def _executor() -> ThreadPoolExecutor:
    """The engine's threads, started once per process (a forked child starts its own: its parent's are not in it)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="reglab-kernel"))
    return _pool[1]


def spans(n: int, parts: int) -> list[tuple[int, int]]:
    """``range(n)`` in ``parts`` contiguous ``(first, end)`` spans (at most ``n``), as even as can be, the first ones
    the longer: e.g. 5 in 2 is ``[(0, 3), (3, 5)]``."""
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    bounds = [k * size + min(k, extra) for k in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def run_spans(work: Callable[[int, int], T], n: int, parts: int) -> list[T]:
    """``work(first, end)`` on each of :func:`spans` ``(n, parts)``: the first span on the calling thread, the others on
    the engine's threads at the same time; their results in order.

    ``work`` is a compiled function that does not hold Python's lock (numba's ``nogil``), so the spans run on
    as many cores. Every span is waited for before this returns or raises (the first exception raised, the
    calling thread's first: a Ctrl-C reaches it, and the others have finished writing when it propagates).
    The split depends only on ``n`` and ``parts``, never on the machine.
    """
    jobs = spans(n, parts)
    futures: list[Future[T]] = [_executor().submit(work, *span) for span in jobs[1:]]
    try:
        first = work(*jobs[0])
    finally:
        wait(futures)
    return [first, *(f.result() for f in futures)]
