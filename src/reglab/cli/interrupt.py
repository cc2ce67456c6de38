"""Stopping a long command cleanly: SIGTERM handled as Ctrl-C, and the exit codes that say which it was.

``sweep``, ``study all`` and ``reproduce`` keep what finished when they are interrupted, and the same
command resumes. They exit :data:`EXIT_INTERRUPTED` (130) on Ctrl-C and :data:`EXIT_TERMINATED` (143) on
SIGTERM, the shell's codes for the two signals.
"""

from __future__ import annotations

import contextlib
import signal

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interruption so that a command stops as cleanly as on Ctrl-C."""


@contextlib.contextmanager
def sigterm_as_interrupt():
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
