"""``reglab explore``: prints its address, binds 127.0.0.1 unless told, warns for another host, says what is missing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from reglab.cli.explore import is_local
from reglab.cli.main import main

SRC = Path(__file__).resolve().parents[2] / "src"


def test_local_hosts():
    assert all(is_local(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_local(h) for h in ("0.0.0.0", "192.168.1.5", "example.org", "::"))


def test_a_bad_port_and_a_missing_extra_get_one_line(capsys, monkeypatch):
    assert main(["explore", "--port", "0", "--no-browser"]) == 2
    assert "--port must be from 1 to 65535, got 0" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "reglab.explore.server", None)  # as if the extra were not installed
    assert main(["explore", "--no-browser"]) == 2
    assert "reglab explore needs the explore extra" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("0.0.0.0", True)])
def test_it_serves_where_it_says_and_warns_for_a_non_local_host(tmp_path, host, warned):
    pytest.importorskip("uvicorn", reason="the explore extra is not installed")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-m", "reglab", "explore", "--no-browser", "--host", host, "--port",
                             str(port), "--out", str(tmp_path), "--data-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"reglab explore: http://127.0.0.1:{port}/"), line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/options", timeout=30) as r:
            assert json.load(r)["planar"][0] == "circle"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert ("makes the playground reachable from other machines" in err) == warned
