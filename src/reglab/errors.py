"""The exceptions that reglab shows to users as a one-line message, and the exit code each one gives.

``reglab``'s exit codes: 0 done; 1 a runtime failure (:class:`RunFailure`: the input was fine but the
work could not be done, e.g. no mirror served MNIST; also an unexpected internal error); 2 a usage error
(:class:`ReglabError`: a bad flag, value, file or data set; argparse's own errors too); 130 interrupted
by Ctrl-C and 143 by SIGTERM (``sweep``, ``study all`` and ``reproduce`` keep what finished).
"""


class ReglabError(Exception):
    """Bad input or an unusable file: the CLI prints ``reglab: error: <message>`` and exits 2."""

    exit_code = 2


class RunFailure(ReglabError):
    """The input was fine but the work could not be done (a download failed, say): one line, exit code 1."""

    exit_code = 1
