"""``reglab explore`` against its goals, measured on the real server (``reglab explore`` in a child process).

1. From pressing play to the first drawn snapshot on the 2-D circle (warm engine): in headless Chromium
   when it is installed (the page's own clock, ``explore.timing``: the first snapshot drawn, and the
   first with training in it), and over the websocket (start request → first snapshot received).
2. Snapshots per second received by a page for 4 λ columns on the 8×8 digits ([64, 30, 10]) and on
   MNIST ([784, 30, 10]), while playing for ``--seconds``.
3. Training throughput meanwhile (examples per second of wall-clock time, the snapshots' measuring
   and drawing included) against ``reglab train`` for the same 4 models and about as many epochs,
   measured right after each playing: per wall-clock second of its loop (its per-epoch measuring
   included), and per second of its steps alone. CPU seconds are printed beside wall seconds.

Each of 2–3 is measured ``--repeats`` times, explore and ``reglab train`` alternated, and the best of
each kept; the last lines are the issue's three figures. Run:
``python benchmarks/bench_explore.py [--data-dir DIR] [--seconds 8] [--repeats 3]``. On a shared
machine the figures move from run to run (the load average is printed); the ratios are measured in
one run, side by side.
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


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far, all its threads (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def playing(server: Server, settings: dict, seconds: float) -> dict:
    """Snapshots received per second and examples trained per wall-clock second while playing, and the server's
    CPU seconds meanwhile."""
    with server.stream() as ws:
        server.post("/api/start", {"settings": settings, "play": False})
        receive_until(ws, lambda m: m["type"] == "snapshot")
        before = server.get("/api/status")
        cpu0 = cpu_seconds(server.proc.pid)
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
        cpu = cpu_seconds(server.proc.pid) - cpu0
        status = server.get("/api/status")
    examples = status["examples"] - before["examples"]
    return {"snapshots_per_s": count / elapsed, "examples_per_s": examples / elapsed, "epochs": after["epoch"],
            "train_seconds": status["train_seconds"] - before["train_seconds"], "elapsed": elapsed, "cpu": cpu,
            "snapshot_kb": sum(sizes) / max(len(sizes), 1) / 1000}


def reglab_train(settings: dict, data_dir: str, epochs: int) -> dict:
    """``reglab train`` of the same models for ``epochs`` (its loop measures validation and test every epoch),
    in this process (warmed by a first epoch), with its wall-clock and CPU seconds."""
    sys.path.insert(0, str(SRC))
    from reglab.explore.settings import Settings
    from reglab.runs.assemble import load_data, train

    with tempfile.TemporaryDirectory() as scratch:
        config = Settings.from_json(settings).config(Path(data_dir), Path(scratch), epochs=epochs)
        ds = load_data(config)
        train(config.replace(epochs=1), ds)  # warm
        cpu0 = time.process_time()
        result = train(config, ds)
        cpu = time.process_time() - cpu0
    n = result.fit.n * epochs
    wall = result.fit.meta["epochs_seconds"]
    return {"wall_per_s": n / wall, "steps_per_s": n / result.fit.train_seconds, "wall": wall, "cpu": cpu,
            "epochs": epochs}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
                        help="reglab's data directory (MNIST in its mnist/), or that mnist/ folder itself")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of playing per measure")
    parser.add_argument("--repeats", type=int, default=3, help="measures of each figure, alternated; the best is kept")
    args = parser.parse_args()
    if Path(args.data_dir).name == "mnist" and not (Path(args.data_dir) / "mnist").is_dir():
        args.data_dir = str(Path(args.data_dir).parent)  # the mnist/ folder named: the data directory above it
    mnist = (Path(args.data_dir) / "mnist").is_dir()
    sets = {"digits": DIGITS, **({"mnist": MNIST} if mnist else {})}
    load_before = load()
    runs: dict[str, list[tuple[dict, dict]]] = {name: [] for name in sets}
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
            for k in range(args.repeats):  # explore, then reglab train on the same work, alternated
                for name, settings in sets.items():
                    say(f"2. playing on {name} ({k + 1}/{args.repeats})")
                    r = playing(server, settings, args.seconds)
                    epochs = max(2, min(2000, round(r["epochs"])))  # about the work explore did
                    say(f"3. reglab train on {name}, {epochs} epochs")
                    runs[name].append((r, reglab_train(settings, args.data_dir, epochs)))
        finally:
            server.close()
    print(f"load average (1, 5, 15 min): {load_before} before, {load()} after; {os.cpu_count()} cores")
    print()
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
    print(f"2–3. each repeat: playing for {args.seconds:g} s, then `reglab train` for the epochs explore trained; "
          "4 λ columns, [in, 30, 10] sigmoid, mini-batch 10; examples/s of wall-clock time, CPU seconds beside")
    print("| data | snapshots/s | KB per snapshot | explore examples/s | its wall s / CPU s | reglab train examples/s "
          "(loop) | its wall s / CPU s | ratio | reglab train, steps only | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, pairs in runs.items():
        for r, ref in pairs:
            print(f"| {name} | {r['snapshots_per_s']:.1f} | {r['snapshot_kb']:.1f} | {r['examples_per_s']:,.0f} | "
                  f"{r['elapsed']:.1f} / {r['cpu']:.1f} | {ref['wall_per_s']:,.0f} | {ref['wall']:.1f} / {ref['cpu']:.1f} | "
                  f"{r['examples_per_s'] / ref['wall_per_s']:.2f} | {ref['steps_per_s']:,.0f} | "
                  f"{r['examples_per_s'] / ref['steps_per_s']:.2f} |")
    print()
    print(f"The issue's figures (best of {args.repeats}, measured in this run):")
    firsts = [v[1] for v in (browser or stream)]
    print(f"- play → first drawn snapshot with training in it ({'browser' if browser else 'websocket'}): "
          f"{min(firsts):.3f} s (goal < 1 s: {'met' if min(firsts) < 1 else 'NOT met'})")
    for name, pairs in runs.items():
        goal = 10 if name == "digits" else 2
        best = max(r["snapshots_per_s"] for r, _ in pairs)
        ratio = max(r["examples_per_s"] for r, _ in pairs) / max(ref["wall_per_s"] for _, ref in pairs)
        steps = max(r["examples_per_s"] for r, _ in pairs) / max(ref["steps_per_s"] for _, ref in pairs)
        print(f"- {name}: {best:.1f} snapshots/s (goal ≥ {goal}: {'met' if best >= goal else 'NOT met'}; "
              f"{best / goal:.2f} × the goal); training meanwhile {ratio:.2f} × reglab train's examples/s "
              f"(goal ≥ 0.80: {'met' if ratio >= 0.8 else 'NOT met'}; {steps:.2f} × its steps alone)")
    if not mnist:
        print(f"MNIST not measured: no mnist/ in {args.data_dir}")


if __name__ == "__main__":
    main()
