"""How many CPU threads the engine's torch operations use, chosen in one place and restored after."""

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
