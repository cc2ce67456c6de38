"""The one exception type that reglab shows to users as a one-line message."""


class ReglabError(Exception):
    """Bad input or an unusable file: the CLI prints ``reglab: error: <message>`` and exits 2."""
