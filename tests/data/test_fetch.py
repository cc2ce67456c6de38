"""``fetch_mnist`` and ``reglab data fetch`` against HTTP servers started here on 127.0.0.1."""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import math
import shutil
import socket
import threading

import pytest
from rich.console import Console

from reglab.cli.main import main
from reglab.cli.progress import Progress
from reglab.data import load_mnist, mnist_available
from reglab.data.fetch import fetch_mnist
from reglab.data.mnist import MNIST_FILES
from reglab.errors import ReglabError

NAMES = [f"{name}.gz" for name in MNIST_FILES]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-file (the interrupted download) is expected here


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """Requests to 127.0.0.1 must not go through a proxy from the environment."""
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "*")


@pytest.fixture
def serve():
    """``serve(directory) -> base URL`` of an HTTP server for that directory, stopped after the test."""
    servers = []

    def start(directory) -> str:
        server = QuietServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A URL on a port where nothing listens: the connection is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def good_mirror(serve, shared_data_dir):
    return serve(shared_data_dir / "mnist")


@pytest.fixture(scope="module")
def corrupt_files(tmp_path_factory):
    """Each file well-formed and of the canonical size, but all zeros: only its sha256 is wrong."""
    directory = tmp_path_factory.mktemp("corrupt")
    for name, spec in MNIST_FILES.items():
        sizes = (spec.count, *spec.item_shape)
        header = bytes([0, 0, 8, spec.ndim]) + b"".join(s.to_bytes(4, "big") for s in sizes)
        (directory / f"{name}.gz").write_bytes(gzip.compress(header + bytes(math.prod(sizes)), compresslevel=1))
    return directory


@pytest.fixture
def corrupt_mirror(serve, corrupt_files):
    return serve(corrupt_files)


def test_fetch_downloads_verifies_and_then_skips(tmp_path, good_mirror, dead_url):
    results = fetch_mnist(tmp_path, [good_mirror])
    assert [(r.file, r.status, r.source) for r in results] == [(n, "downloaded", good_mirror + n) for n in NAMES]
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(NAMES)
    assert len(load_mnist(tmp_path).train) == 50_000
    again = fetch_mnist(tmp_path, [dead_url])  # nothing to download: the dead mirror is never asked
    assert [r.status for r in again] == ["present"] * 4


def test_a_down_mirror_is_skipped(tmp_path, good_mirror, dead_url):
    results = fetch_mnist(tmp_path, [dead_url, good_mirror])
    assert all(r.source.startswith(good_mirror) for r in results)
    assert mnist_available(tmp_path)


def test_a_corrupt_mirror_leaves_nothing_behind(tmp_path, corrupt_mirror, serve, dead_url):
    (tmp_path / "empty").mkdir()
    missing = serve(tmp_path / "empty")
    with pytest.raises(ReglabError) as info:
        fetch_mnist(tmp_path / "data", [corrupt_mirror, missing, dead_url])
    message = str(info.value)
    assert message.startswith("could not fetch train-images-idx3-ubyte.gz from any mirror: ")
    assert f"{corrupt_mirror}train-images-idx3-ubyte.gz: sha256 of the decompressed content is " in message
    assert f"{missing}train-images-idx3-ubyte.gz: HTTP 404" in message
    assert f"{dead_url}train-images-idx3-ubyte.gz: " in message and "refused" in message
    assert "\n" not in message
    assert list((tmp_path / "data" / "mnist").iterdir()) == []


def test_a_truncated_download_is_refused(tmp_path, serve, shared_data_dir):
    directory = tmp_path / "cut"
    directory.mkdir()
    for name in NAMES:
        content = (shared_data_dir / "mnist" / name).read_bytes()
        (directory / name).write_bytes(content[: len(content) // 2])
    with pytest.raises(ReglabError, match="corrupt or truncated gzip data"):
        fetch_mnist(tmp_path / "data", [serve(directory)])
    assert list((tmp_path / "data" / "mnist").iterdir()) == []


def test_an_interrupted_download_leaves_nothing(tmp_path, good_mirror):
    def interrupt(name, done, total):
        if done > 1_000_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_mnist(tmp_path, [good_mirror], progress=interrupt)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_progress_is_reported(tmp_path, good_mirror):
    seen = {}
    fetch_mnist(tmp_path, [good_mirror], progress=lambda name, done, total: seen.setdefault(name, []).append((done, total)))
    assert sorted(seen) == sorted(NAMES)
    size = (tmp_path / "mnist" / NAMES[0]).stat().st_size
    assert seen[NAMES[0]][0] == (0, size) and seen[NAMES[0]][-1] == (size, size)


def test_a_bad_file_is_replaced(tmp_path, good_mirror, shared_data_dir):
    (tmp_path / "mnist").mkdir()
    for name in NAMES:
        shutil.copy(shared_data_dir / "mnist" / name, tmp_path / "mnist" / name)
    (tmp_path / "mnist" / NAMES[1]).write_bytes(b"rubbish")
    results = fetch_mnist(tmp_path, [good_mirror])
    assert [r.status for r in results] == ["present", "replaced", "present", "present"]
    assert len(load_mnist(tmp_path).test) == 10_000


def test_an_unwritable_data_dir(tmp_path, good_mirror):
    (tmp_path / "file").write_text("")
    with pytest.raises(ReglabError, match="cannot create"):
        fetch_mnist(tmp_path / "file" / "data", [good_mirror])


def test_cli_fetch(tmp_path, good_mirror, capsys):
    assert main(["data", "fetch", "mnist", "--mirror", good_mirror, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("downloaded ") == 4 and f"MNIST is ready in {tmp_path / 'mnist'}" in out
    assert main(["data", "fetch", "mnist", "--quiet", "--mirror", good_mirror, "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


def test_cli_fetch_from_a_corrupt_mirror(tmp_path, corrupt_mirror, capsys):
    """A failed download is a runtime failure (exit 1, not a usage error) whose one line says where to put the
    files by hand."""
    assert main(["data", "fetch", "mnist", "--mirror", corrupt_mirror, "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("reglab: error: could not fetch train-images-idx3-ubyte.gz from any mirror") and err.count("\n") == 1
    assert "Offline? Copy the four files (train-images-idx3-ubyte.gz, " in err and f"into {tmp_path / 'mnist'} by hand" in err
    assert list((tmp_path / "mnist").iterdir()) == []


def test_progress_bars_draw_on_a_terminal():
    out = io.StringIO()
    with Progress("bytes", console=Console(file=out, force_terminal=True, width=100)) as hook:
        hook("train-labels-idx1-ubyte.gz", 0, 2048)
        hook("train-labels-idx1-ubyte.gz", 2048, 2048)
    assert "train-labels-idx1-ubyte.gz" in out.getvalue()
    quiet = io.StringIO()
    with Progress("bytes", console=Console(file=quiet, force_terminal=True, width=100), show=False) as hook:
        hook("train-labels-idx1-ubyte.gz", 0, 2048)
    assert quiet.getvalue() == ""
