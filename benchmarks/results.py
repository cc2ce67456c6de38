"""What the benchmarks share: a header line about the machine, best-of timing, and RESULTS.md written by section.

``benchmarks/RESULTS.md`` holds one section per benchmark script, each between
``<!-- name -->`` and ``<!-- /name -->``; a script run with ``--write FILE``
replaces its own section and leaves the others as they are.
"""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

TITLE = "# Benchmark results\n\nEach section is written by the script it names (`--write benchmarks/RESULTS.md`).\n"


def machine() -> str:
    """The CPU's model, its cores and the load average now (a shared machine is noisy: the reader should know)."""
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}; {os.cpu_count()} CPUs; load average {load:.2f}"


def seconds(f: Callable[[], object]) -> float:
    """Wall-clock seconds of ``f()``."""
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def flops_per_example(sizes: list[int]) -> int:
    """Floating-point operations of one example's training step through ``sizes``: forward ``2·Σ n_in·n_out``,
    weight gradients the same, back-propagated deltas ``2·Σ_{l>0} n_in·n_out``."""
    macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])


def matmul_rate(device="cpu", size: int = 2048, repeat: int = 10, clock=time.perf_counter) -> float:
    """FLOP/s of a large float32 matmul on ``device`` (torch's threads as they are set): the rate a kernel is
    measured against. ``clock=time.process_time`` on the CPU: FLOP per CPU second, the rate of the work on one
    thread whatever else runs."""
    import torch

    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    a @ b
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    t0 = clock()
    for _ in range(repeat):
        a @ b
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return 2 * size**3 * repeat / (clock() - t0)


def write_section(path: str | Path, name: str, lines: list[str], command: str) -> None:
    """Replace section ``name`` of ``path`` (created if needed) with ``lines``, stamped with ``command`` and the date."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE
    body = "\n".join([f"<!-- {name} -->", f"## {name}", "",
                      f"Written by `{command}` on {time.strftime('%Y-%m-%d')}.", "", *lines, f"<!-- /{name} -->"])
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: body, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + body
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def report(lines: list[str], path: str | Path | None, name: str, command: str) -> None:
    """Print ``lines``; with ``path``, also write them as section ``name`` of that file (see :func:`write_section`)."""
    print("\n".join(lines))
    if path:
        write_section(path, name, lines, command)
