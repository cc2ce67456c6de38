"""Stopping a long command cleanly: SIGTERM handled as Ctrl-C, and the exit codes that say which it was.

Every command runs with SIGTERM raising :class:`reglab.errors.Terminated` (a ``KeyboardInterrupt``), so
that it unwinds as on Ctrl-C: temporary files are removed, finished files stay whole, and a folder claimed
but left without a result is given back. ``sweep``, ``study all`` and ``reproduce`` keep what finished when
they are interrupted, and the same command resumes. Commands exit :data:`EXIT_INTERRUPTED` (130) on Ctrl-C
and :data:`EXIT_TERMINATED` (143) on SIGTERM, the shell's codes for the two signals.

A signal that arrives while the main thread runs Python code called back from C (numba's compiler asks such
callbacks for its cached objects) raises there, and C cannot pass the exception on: Python reports it as
"ignored" and the command would go on as if it had not been signalled. Within :func:`sigterm_as_interrupt` such
an interruption is delivered again a moment later (``_thread.interrupt_main`` from another thread), until it
lands in code that can pass it on.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading

from reglab.errors import EXIT_SIGINT as EXIT_INTERRUPTED
from reglab.errors import EXIT_SIGTERM as EXIT_TERMINATED
from reglab.errors import Terminated

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "Terminated", "interrupted", "sigterm_as_interrupt"]

#: Seconds after which an interruption that a callback from C dropped is delivered again (again, if it lands in
#: another such callback).
AGAIN_AFTER = 0.01


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM raises :class:`reglab.errors.Terminated` (in the main thread; elsewhere, where no
    handler can be set, nothing changes). ``reglab`` itself runs every command inside it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    def unraisable(report) -> None:
        if isinstance(report.exc_value, KeyboardInterrupt):  # raised in a callback from C, which dropped it
            # the signal again in a moment, from another thread: now it would be raised here, in this hook
            again = threading.Timer(AGAIN_AFTER, _thread.interrupt_main,
                                    (signal.SIGTERM if isinstance(report.exc_value, Terminated) else signal.SIGINT,))
            again.daemon = True
            again.start()
        else:
            hook(report)

    previous, hook = signal.signal(signal.SIGTERM, handler), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        sys.unraisablehook = hook
        signal.signal(signal.SIGTERM, previous)


def interrupted(cause: BaseException, what: str) -> int:
    """Say that the command was interrupted (by Ctrl-C or SIGTERM) and what was kept; return the exit code."""
    from reglab.cli.console import stderr

    name = "SIGTERM" if isinstance(cause, Terminated) else "Ctrl-C"
    stderr.print(f"reglab: interrupted by {name}: {what}", soft_wrap=True, markup=False)
    return EXIT_TERMINATED if name == "SIGTERM" else EXIT_INTERRUPTED
