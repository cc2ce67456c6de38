"""Stopping a long command cleanly: SIGTERM handled as Ctrl-C, and the exit codes that say which it was.

Every command runs with SIGTERM raising :class:`reglab.errors.Terminated` (a ``KeyboardInterrupt``), so
that it unwinds as on Ctrl-C: temporary files are removed, finished files stay whole, and a folder claimed
but left without a result is given back. ``sweep``, ``study all`` and ``reproduce`` keep what finished when
they are interrupted, and the same command resumes. Commands exit :data:`EXIT_INTERRUPTED` (130) on Ctrl-C
and :data:`EXIT_TERMINATED` (143) on SIGTERM, the shell's codes for the two signals.
"""

from __future__ import annotations

import contextlib
import signal
import threading

from reglab.errors import EXIT_SIGINT as EXIT_INTERRUPTED
from reglab.errors import EXIT_SIGTERM as EXIT_TERMINATED
from reglab.errors import Terminated

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "Terminated", "interrupted", "sigterm_as_interrupt"]


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM raises :class:`reglab.errors.Terminated` (in the main thread; elsewhere, where no
    handler can be set, nothing changes). ``reglab`` itself runs every command inside it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted(cause: BaseException, what: str) -> int:
    """Say that the command was interrupted (by Ctrl-C or SIGTERM) and what was kept; return the exit code."""
    from reglab.cli.console import stderr

    name = "SIGTERM" if isinstance(cause, Terminated) else "Ctrl-C"
    stderr.print(f"reglab: interrupted by {name}: {what}", soft_wrap=True, markup=False)
    return EXIT_TERMINATED if name == "SIGTERM" else EXIT_INTERRUPTED
