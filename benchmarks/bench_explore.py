"""``reglab explore`` against its goals, measured on the real server (``reglab explore`` in a child process).

1. From pressing play to the first drawn snapshot on the 2-D circle (warm engine): in headless Chromium
   when it is installed (the page's own clock, ``explore.timing``: the first snapshot drawn, and the
   first with training in it), and over the websocket (start request → first snapshot received).
2. Snapshots per second received by a page for 4 λ columns on the 8×8 digits ([64, 30, 10]) and on
   MNIST ([784, 30, 10]), while playing for ``--seconds``.
3. Training throughput meanwhile (examples per second of wall-clock time, the snapshots' measuring
   and drawing included) against ``reglab train`` for the same 4 models, measured in the same run
   right after: per wall-clock second of its loop (its per-epoch measuring included), and per second
   of its steps alone.

Run: ``python benchmarks/bench_explore.py [--data-dir DIR] [--seconds 8]``. On a shared machine the
figures move from run to run; the ratios are measured in one run, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect

SRC = Path(__file__).resolve().parents[1] / "src"
FOUR = [0.0, 0.3, 3.0, 30.0]
CIRCLE = {"data": "circle", "lmbda": FOUR}
DIGITS = {"data": "digits", "hidden": [30], "activation": "sigmoid", "init": "large", "eta": 0.1, "lmbda": FOUR}
MNIST = {**DIGITS, "data": "mnist"}


class Server:
    """``reglab explore --no-browser`` on a free port of 127.0.0.1, as a user starts it."""

    def __init__(self, data_dir: str, out: str):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        self.proc = subprocess.Popen([sys.executable, "-m", "reglab", "explore", "--no-browser", "--port", str(self.port),
                                      "--data-dir", data_dir, "--out", out], stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        assert "reglab explore: http://" in line, line
        self.url = f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json", "Origin": self.url})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.load(r)

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=60) as r:
            return json.load(r)

    def stream(self):
        return connect(f"ws://127.0.0.1:{self.port}/ws", origin=self.url, max_size=None, open_timeout=60)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def receive_until(ws, want, seconds: float = 600.0) -> dict:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        msg = json.loads(ws.recv(timeout=end - time.monotonic()))
        if want(msg):
            return msg
    raise TimeoutError("no such message")


def first_snapshot_over_the_stream(server: Server, repeats: int) -> list[tuple[float, float]]:
    """(start request → first snapshot, → first snapshot with training in it), seconds, per repeat."""
    out = []
    with server.stream() as ws:
        for _ in range(repeats):
            t0 = time.perf_counter()
            server.post("/api/start", {"settings": CIRCLE, "play": True})
            receive_until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 0)
            t1 = time.perf_counter()
            receive_until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] > 0)
            out.append((t1 - t0, time.perf_counter() - t0))
            server.post("/api/pause")
    return out


def first_snapshot_in_the_browser(server: Server, repeats: int) -> list[tuple[float, float]] | None:
    """The page's own clock from the click on play (a paused session): the first snapshot drawn, and the first
    with training in it (the same one here)."""
    if not Path("/usr/bin/chromium").exists():
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    out = []
    try:
        for _ in range(repeats):
            driver.get(f"{server.url}/?data=circle&lmbda={','.join(map(str, FOUR))}")
            end = time.monotonic() + 30
            while not driver.execute_script("return window.explore && explore.latest !== null") and time.monotonic() < end:
                time.sleep(0.05)  # the page has drawn the server's session, paused
            driver.find_element(By.ID, "play").click()
            end = time.monotonic() + 60
            timing = {}
            while "firstTrained" not in timing and time.monotonic() < end:
                timing = driver.execute_script("return explore.timing")
                time.sleep(0.02)
            out.append((timing["firstDrawn"] / 1000, timing["firstTrained"] / 1000))
            server.post("/api/start", {"settings": CIRCLE, "play": False})
    finally:
        driver.quit()
    return out


def playing(server: Server, settings: dict, seconds: float) -> dict:
    """Snapshots received per second and examples trained per wall-clock second while playing."""
    with server.stream() as ws:
        server.post("/api/start", {"settings": settings, "play": False})
        receive_until(ws, lambda m: m["type"] == "snapshot")
        before = server.get("/api/status")
        server.post("/api/play")
        t0 = time.perf_counter()
        count, sizes = 0, []
        while time.perf_counter() - t0 < seconds:
            msg = json.loads(ws.recv(timeout=60))
            if msg["type"] == "snapshot" and msg["epoch"] > before["epoch"]:
                count += 1
                sizes.append(len(json.dumps(msg)))
        after = server.post("/api/pause")
        elapsed = time.perf_counter() - t0
        status = server.get("/api/status")
    examples = status["examples"] - before["examples"]
    return {"snapshots_per_s": count / elapsed, "examples_per_s": examples / elapsed, "epochs": after["epoch"],
            "train_seconds": status["train_seconds"] - before["train_seconds"], "elapsed": elapsed,
            "snapshot_kb": sum(sizes) / max(len(sizes), 1) / 1000}


def reglab_train(settings: dict, data_dir: str, epochs: int) -> dict:
    """``reglab train`` of the same models (its loop measures validation and test every epoch)."""
    sys.path.insert(0, str(SRC))
    from reglab.explore.settings import Settings
    from reglab.runs.assemble import load_data, train

    with tempfile.TemporaryDirectory() as scratch:
        config = Settings.from_json(settings).config(Path(data_dir), Path(scratch), epochs=epochs)
        ds = load_data(config)
        train(config.replace(epochs=1), ds)  # warm
        result = train(config, ds)
    n = result.fit.n * epochs
    return {"wall_per_s": n / result.fit.meta["epochs_seconds"], "steps_per_s": n / result.fit.train_seconds}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    mnist = (Path(args.data_dir) / "mnist").is_dir()
    rows = []
    with tempfile.TemporaryDirectory() as out:
        server = Server(args.data_dir, out)
        try:
            say("warming the server up")
            server.post("/api/start", {"settings": {**DIGITS, "lmbda": [1.0]}, "play": False})  # warm: compile, load
            server.post("/api/start", {"settings": CIRCLE, "play": False})
            say("1. play → first snapshot")
            stream = first_snapshot_over_the_stream(server, args.repeats)
            server.post("/api/start", {"settings": CIRCLE, "play": False})
            browser = first_snapshot_in_the_browser(server, args.repeats)
            say("2. playing on the digits")
            runs = {"digits": playing(server, DIGITS, args.seconds)}
            if mnist:
                say("2. playing on MNIST")
                runs["mnist"] = playing(server, MNIST, args.seconds)
        finally:
            server.close()
    print("1. from play to the first snapshot, 2-D circle, 4 λ (seconds; best and median of "
          f"{args.repeats}; goal < 1 s)")
    print("| measured where | first snapshot | first with training in it |")
    print("|---|---|---|")
    for name, values in (("websocket (start request → received)", stream),
                         ("browser (click on play → drawn)", browser)):
        if values is None:
            print(f"| {name} | not measured: no /usr/bin/chromium | |")
            continue
        a, b = sorted(v[0] for v in values), sorted(v[1] for v in values)
        print(f"| {name} | {a[0]:.3f} / {a[len(a) // 2]:.3f} | {b[0]:.3f} / {b[len(b) // 2]:.3f} |")
    print()
    print(f"2–3. playing for {args.seconds:g} s, 4 λ columns, [in, 30, 10] sigmoid, mini-batch 10")
    print("| data | snapshots/s (goal) | KB per snapshot | explore examples/s (wall) | reglab train examples/s (wall) "
          "| ratio | reglab train, steps only | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in runs.items():
        epochs = max(2, min(10, round(r["epochs"])))
        say(f"3. reglab train on {name}, {epochs} epochs")
        ref = reglab_train(DIGITS if name == "digits" else MNIST, args.data_dir, epochs)
        goal = "≥ 10" if name == "digits" else "≥ 2"
        rows.append((name, r, ref))
        print(f"| {name} | {r['snapshots_per_s']:.1f} ({goal}) | {r['snapshot_kb']:.1f} | {r['examples_per_s']:,.0f} | "
              f"{ref['wall_per_s']:,.0f} | {r['examples_per_s'] / ref['wall_per_s']:.2f} | {ref['steps_per_s']:,.0f} | "
              f"{r['examples_per_s'] / ref['steps_per_s']:.2f} |")
    if not mnist:
        print(f"MNIST not measured: no mnist/ in {args.data_dir}")


if __name__ == "__main__":
    main()
