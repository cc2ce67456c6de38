"""Within ``sigterm_as_interrupt`` SIGTERM raises ``Terminated`` and Ctrl-C ``KeyboardInterrupt``, also when the signal
arrives while Python code runs as a callback from C (as numba's compiler calls back for its cached objects), where
the exception cannot propagate: it is raised again once the callback has returned. (The commands' exit codes and
files on SIGTERM and Ctrl-C: ``tests/fuzz/test_interrupt.py``.)"""

import ctypes
import os
import signal
import sys
import time

import pytest

from reglab.cli.interrupt import sigterm_as_interrupt
from reglab.errors import Terminated


def _signalled_in_a_callback_from_c(sig: signal.Signals) -> None:
    def callback() -> None:
        os.kill(os.getpid(), sig)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # the handler runs here, inside the callback, and raises
            pass

    ctypes.CFUNCTYPE(None)(callback)()  # called through C: an exception in the callback ends at its edge
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # where the interruption must arrive now
        pass


def test_sigterm_raises_terminated():
    with pytest.raises(Terminated), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(2.0)


@pytest.mark.parametrize("sig,raised", [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)])
def test_a_signal_during_a_callback_from_c_still_interrupts(sig, raised):
    with pytest.raises(raised), sigterm_as_interrupt():
        _signalled_in_a_callback_from_c(sig)


def test_the_previous_handlers_come_back():
    before_handler, before_hook = signal.getsignal(signal.SIGTERM), sys.unraisablehook
    with sigterm_as_interrupt():
        pass
    assert signal.getsignal(signal.SIGTERM) is before_handler and sys.unraisablehook is before_hook
