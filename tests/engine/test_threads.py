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


def test_spans_split_a_range_evenly_and_in_order_whatever_the_parts():
    """The split depends on the count and the parts only: contiguous, covering, the first spans the longer."""
    from reglab.engine.threads import spans

    assert spans(5, 2) == [(0, 3), (3, 5)]
    assert spans(2, 8) == [(0, 1), (1, 2)]  # never an empty span
    assert spans(7, 1) == [(0, 7)]
    for n in range(1, 20):
        for parts in range(1, 6):
            got = spans(n, parts)
            assert got[0][0] == 0 and got[-1][1] == n and all(a[1] == b[0] for a, b in zip(got, got[1:]))
            assert max(e - f for f, e in got) - min(e - f for f, e in got) <= 1


def test_run_spans_runs_every_span_at_once_and_waits_for_all_before_raising():
    """The spans run on different threads at the same time (each waits for the other here); an exception of the
    calling thread's span propagates only once the others have finished."""
    import threading
    import time

    import pytest

    from reglab.engine.threads import run_spans

    barrier = threading.Barrier(2, timeout=10)

    def meet(first, end):
        barrier.wait()
        return first, end, threading.get_ident()

    (a, b) = run_spans(meet, 4, 2)
    assert a[:2] == (0, 2) and b[:2] == (2, 4) and a[2] == threading.get_ident() != b[2]

    finished = []

    def fail_first(first, end):
        if first == 0:
            raise KeyboardInterrupt
        time.sleep(0.2)
        finished.append(first)

    with pytest.raises(KeyboardInterrupt):
        run_spans(fail_first, 2, 2)
    assert finished == [1]
