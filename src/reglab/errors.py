"""The exceptions that reglab shows to users as a one-line message, and the exit codes they give.

==========  =========================================================================
exit code   meaning
==========  =========================================================================
0           done
1           the input was fine but the work could not be done (:class:`RunFailure`: no
            mirror served MNIST, say); also an unexpected internal error
2           bad input (a flag, a configuration file, a data file, an output folder),
            found before any work is lost: :class:`ReglabError`; argparse's own errors too
74          the output could not be written while the command worked (a full disk,
            an I/O error; ``EX_IOERR`` of BSD's ``sysexits.h``): :class:`OutputError`.
            No file is left half-written under its final name.
130, 143    interrupted by Ctrl-C (SIGINT) or SIGTERM (128 + the signal's number);
            ``sweep``, ``study all`` and ``reproduce`` keep what finished
==========  =========================================================================
"""

#: Exit codes of the ``reglab`` command (see the module docstring).
EXIT_FAILURE, EXIT_USAGE, EXIT_IOERR, EXIT_SIGINT, EXIT_SIGTERM = 1, 2, 74, 130, 143


class ReglabError(Exception):
    """Bad input or an unusable file: the CLI prints ``reglab: error: <message>`` and exits 2."""

    exit_code = EXIT_USAGE


class RunFailure(ReglabError):
    """The input was fine but the work could not be done (a download failed, say): one line, exit code 1."""

    exit_code = EXIT_FAILURE


class OutputError(ReglabError):
    """Writing a result failed (no space left, an I/O error, a folder gone read-only): exit 74.

    Raised by :mod:`reglab.io` with the path and the system's reason; the file being written is left
    as it was (absent, or its previous whole version).
    """

    exit_code = EXIT_IOERR


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process was (the CLI installs the handler), so that it unwinds as on Ctrl-C:
    temporary files are removed, a folder claimed but left empty is given back, and it exits 143."""


def shown(path: object) -> str:
    """A path (or any text from the user) for a one-line message: control characters such as a newline in a
    file's name are written as escapes, so that the message stays one line."""
    text = str(path)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
