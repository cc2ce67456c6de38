"""Entry point of the ``reglab`` command.

Each subcommand lives in its own module of this package and exposes
``add_parser(subparsers)`` (which sets ``func`` on its parser) — nothing else is
shared between them. Errors: a :class:`reglab.errors.ReglabError` (or a bad
argument) prints one line and exits 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from reglab.errors import ReglabError

#: Subcommand modules, in the order ``reglab --help`` lists them.
SUBCOMMANDS = (
    "run",
    "train",
    "convert",
    "data",
    "study",
    "sweep",
    "reproduce",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reglab",
        description="A laboratory for regularization in neural networks.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    from reglab import __version__

    parser.add_argument("--version", action="version", version=f"reglab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"reglab.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv  # accepted anywhere on the line, not only before COMMAND
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.debug = debug
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ReglabError as exc:
        if args.debug:
            raise
        print(f"reglab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reglab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure: still one line unless --debug
        if args.debug:
            raise
        print(f"reglab: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
