"""``reglab explore``: the playground in the browser, several λ side by side, on real data (a local web application).

    reglab explore [--host 127.0.0.1] [--port 8765] [--no-browser] [--data-dir DIR] [--out DIR]

Needs the ``explore`` extra (``pip install 'reglab[explore]'``: Starlette, uvicorn, websockets).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from reglab.errors import ReglabError

LOCAL_NAMES = ("localhost",)


def configure(p: argparse.ArgumentParser) -> None:
    p.description = ("Train several λ side by side, live in the browser, on the 2-D sets of TensorFlow Playground, the "
                     "8×8 digits, MNIST or your own file; change λ, η or the regularizer while it trains; export a "
                     "report and a run folder.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser; just print the address")
    p.add_argument("--data-dir", metavar="DIR", help="data directory: MNIST and the .npz/.csv files offered on the page "
                                                     "(default: $REGLAB_DATA, then ~/.cache/reglab)")
    p.add_argument("--out", metavar="DIR", type=Path, default=Path("explore"),
                   help="folder of the exports and of the 2-D sets' data files (default: ./explore)")
    p.set_defaults(func=run)


def is_local(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ReglabError(f"--port must be from 1 to 65535, got {args.port}")
    try:
        from reglab.explore.server import serve
    except ImportError as exc:
        raise ReglabError(f"reglab explore needs the explore extra ({exc.name} is missing): "
                          "pip install 'reglab[explore]'") from None
    from reglab.data import resolve_data_dir

    if not is_local(args.host):
        print(f"reglab: warning: --host {args.host} makes the playground reachable from other machines; it has no "
              "login, and anyone who reaches it can train on this machine and read the data directory's listing",
              file=sys.stderr)

    def ready(url: str) -> None:
        print(f"reglab explore: {url}  (Ctrl-C stops it)", flush=True)
        if not args.no_browser:
            import webbrowser

            webbrowser.open(url)

    serve(resolve_data_dir(args.data_dir), args.out.resolve(), args.host, args.port, ready)
    return 0
