"""The API and the stream, through Starlette's test client: start, play, change λ mid-run, pause, step, reset,
export; bad values get their one-line message; limits hold; foreign origins and hosts are refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette.testclient", reason="the explore extra and httpx2 (pip install -e '.[test]') are not installed")

from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from reglab.data import load_digits  # noqa: E402
from reglab.explore.server import STATIC, create_app  # noqa: E402
from reglab.runs.assemble import train  # noqa: E402

PORT = 8765
ORIGIN = f"http://127.0.0.1:{PORT}"
CIRCLE = {"data": "circle", "lmbda": [0.0, 0.1, 1.0, 10.0]}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    np.savez(d / "mine.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    (d / "elsewhere").mkdir()
    np.savez(d / "elsewhere" / "hidden.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    return d


@pytest.fixture(scope="module")
def client(data_dir, tmp_path_factory):
    app = create_app(data_dir, tmp_path_factory.mktemp("out"), port=PORT)
    with TestClient(app, base_url=ORIGIN) as c:
        yield c


def post(client, path, body=None, **kw):
    return client.post(path, json=body, **kw) if body is not None else client.post(path, **kw)


def stream(client, **headers):
    """The websocket (the test client names its host ``testserver`` unless told)."""
    return client.websocket_connect("/ws", headers={"host": f"127.0.0.1:{PORT}", "origin": ORIGIN, **headers})


def until(ws, want, limit=400):
    """Messages from the stream until one for which ``want(message)`` holds; that one."""
    for _ in range(limit):
        msg = ws.receive_json()
        if want(msg):
            return msg
    raise AssertionError(f"no wanted message among {limit}")


def test_the_page_loads_nothing_from_elsewhere(client):
    r = client.get("/")
    assert r.status_code == 200 and "default-src 'none'" in r.headers["content-security-policy"]
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs and all(ref.startswith("/static/") or ref == "data:," for ref in refs)
    for ref in refs:
        if ref.startswith("/static/"):
            assert client.get(ref).status_code == 200
    script = (STATIC / "explore.js").read_text()
    assert not re.search(r"https?://", script)  # every request the script makes is to this server


def test_the_options_offer_the_registries_and_the_data_directorys_files(client, data_dir):
    o = client.get("/api/options").json()
    assert o["planar"] == ["circle", "xor", "gauss", "spiral"] and o["files"] == ["mine.npz"]
    assert "l1-prox" in o["choices"]["reg"] and "tanh" in o["choices"]["activation"]
    assert o["limits"]["models"] == 8 and o["defaults"]["data"] == "circle"


@pytest.mark.parametrize("headers, what", [
    ({"origin": "http://evil.example"}, "origin 'http://evil.example' is not this server's"),
    ({"origin": "http://127.0.0.1:9999"}, "is not this server's"),
    ({"host": "evil.example:8765"}, "host 'evil.example:8765' is not this server's"),
])
def test_foreign_origins_and_hosts_are_refused(client, headers, what):
    r = client.post("/api/start", json={"settings": CIRCLE}, headers=headers)
    assert r.status_code == 403 and what in r.json()["error"]
    with pytest.raises(WebSocketDisconnect) as refused:
        with stream(client, **headers):
            pass
    assert refused.value.code == 1008
    assert client.get("/api/options", headers={"origin": ORIGIN}).status_code == 200


@pytest.mark.parametrize("body, status, message", [
    ({"settings": {**CIRCLE, "eta": -1}}, 400, "eta must be a number in [0, 1000], got -1"),
    ({"settings": {**CIRCLE, "lmbda": [0.1] * 9}}, 400, "lmbda must be a list of at most 8 values"),
    ({"settings": {**CIRCLE, "hidden": [300]}}, 400, "hidden layer widths must be integers from 1 to 256"),
    ({"settings": {**CIRCLE, "points": 10**6}}, 400, "points must be an integer from 20 to 5000"),
    ({"settings": {**CIRCLE, "batch_size": 300}}, 400, "--batch-size 300 exceeds the 250 training examples"),
    ({"settings": {"data": "file", "file": "../../etc/passwd"}}, 400, "is not a .npz or .csv file of the data directory"),
    ({"settings": {"data": "file", "file": "elsewhere/hidden.npz"}}, 400, "is not a .npz or .csv file"),
    ({"settings": CIRCLE, "play": "yes"}, 400, "play must be true or false"),
    ({"settings": {**CIRCLE, "lmbda": [0.1] * 1000}}, 400, "at most 8 values"),
])
def test_bad_values_get_their_message_and_change_nothing(client, body, status, message):
    before = client.get("/api/status").json()
    r = post(client, "/api/start", body)
    assert r.status_code == status and message in r.json()["error"]
    assert client.get("/api/status").json()["epoch"] == before["epoch"]


def test_too_large_or_not_json(client):
    r = client.post("/api/start", content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and "at most 65,536" in r.json()["error"]
    assert client.post("/api/start", content=b"not json").json()["error"] == "the request is not JSON"


def test_a_users_file_from_the_listing_trains(client):
    r = post(client, "/api/start", {"settings": {"data": "file", "file": "mine.npz", "hidden": [4], "lmbda": [0.1]},
                                    "play": False})
    assert r.status_code == 200, r.text
    assert client.get("/api/status").json()["epoch"] == 0


def test_start_play_change_pause_step_reset_export(client):
    with stream(client) as ws:
        assert post(client, "/api/start", {"settings": CIRCLE, "play": True}).status_code == 200
        session = until(ws, lambda m: m["type"] == "session" and m["settings"]["lmbda"] == CIRCLE["lmbda"])
        assert session["sizes"] == [2, 8, 8, 2] and len(session["points"]["train"]["y"]) == session["n"] == 250
        first = until(ws, lambda m: m["type"] == "snapshot")
        assert first["epoch"] == 0 and len(first["boundary"]["classes"]) == 4 and first["links"]["sizes"] == [2, 8, 8, 2]
        moving = until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] > 2)
        assert len(json.dumps(moving)) < 60_000  # compact: no weight tensor travels

        r = post(client, "/api/change", {"lmbda": [0.0, 0.1, 1.0, 500.0]})
        assert r.status_code == 200 and "30" not in r.json()["event"]["text"] and "10→500" in r.json()["event"]["text"]
        changed = until(ws, lambda m: m["type"] == "snapshot" and m["events"])
        assert changed["events"][0]["text"] == "λ 0, 0.1, 1, 10→500" and changed["columns"][3]["lmbda"] == 500.0

        assert post(client, "/api/pause").json()["playing"] is False
        paused = client.get("/api/status").json()
        assert client.get("/api/status").json()["epoch"] == paused["epoch"]
        last = until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == paused["epoch"])
        post(client, "/api/change", {"lmbda": [0.0, 1.0, 1.0, 500.0]})  # paused: the same weights, a new λ
        again = until(ws, lambda m: m["type"] == "snapshot" and len(m["events"]) == 2)
        assert again["epoch"] == paused["epoch"] and again["point"]["penalty"][2] == last["point"]["penalty"][2]
        assert again["point"]["penalty"][1] == pytest.approx(10 * last["point"]["penalty"][1], rel=1e-6)  # λ 0.1 → 1

        assert post(client, "/api/step").status_code == 200
        stepped = until(ws, lambda m: m["type"] == "state" and not m["playing"] and m["epoch"] > paused["epoch"])
        assert stepped["epoch"] == int(paused["epoch"]) + 1  # to the end of the epoch

        exported = post(client, "/api/export").json()
        folder = Path(exported["folder"])
        assert (folder / "report.html").is_file() and (folder / "run" / "summary.json").is_file()
        assert client.get(exported["url"]).status_code == 200
        assert client.get("/exports/nothing-here/report.html").status_code == 404

        assert post(client, "/api/reset").json()["epoch"] == 0
        until(ws, lambda m: m["type"] == "session")
        assert until(ws, lambda m: m["type"] == "snapshot")["events"] == []


def test_a_page_that_connects_later_gets_the_history(client):
    post(client, "/api/start", {"settings": CIRCLE, "play": False})
    for _ in range(3):
        post(client, "/api/step")
    with stream(client) as ws:
        assert ws.receive_json()["type"] == "session"
        history = ws.receive_json()
        assert history["type"] == "history" and [p["epoch"] for p in history["points"]][:1] == [0]
        assert ws.receive_json()["type"] == "snapshot"


def test_the_numbers_shown_are_reglab_trains(client):
    """Two steps (two epochs) on the digits: the snapshot's accuracies and penalty are those `reglab train`
    records for epoch 2 with the same settings."""
    settings = {"data": "digits", "hidden": [16], "activation": "sigmoid", "init": "default", "lmbda": [0.0, 5.0],
                "eta": 0.5}
    with stream(client) as ws:
        assert post(client, "/api/start", {"settings": settings, "play": False}).status_code == 200
        until(ws, lambda m: m["type"] == "session" and m["data"] == "digits")
        post(client, "/api/step")
        until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 1)
        post(client, "/api/step")
        shown = until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 2)["point"]
    config = client.app.state.worker.session.config
    assert config.lmbda == (0.0, 5.0)
    record = train(config.replace(epochs=2), load_digits()).fit.history.records[-1]
    for key in ("validation_accuracy", "test_accuracy", "train_accuracy", "penalty", "validation_cost"):
        assert shown[key] == record[key].tolist(), key


def test_commands_before_a_start_are_refused_with_409(data_dir, tmp_path):
    app = create_app(data_dir, tmp_path, port=PORT)
    with TestClient(app, base_url=ORIGIN) as c:
        r = c.post("/api/play")
        assert r.status_code == 409 and r.json()["error"] == "nothing to train yet: press play to start"
        assert c.post("/api/change", json={"lmbda": [1.0]}).status_code == 409
        assert c.post("/api/change", json={"momentum": 0.5}).json()["error"].startswith("a change takes lmbda")


def test_training_pauses_at_the_epoch_limit(data_dir, tmp_path, monkeypatch):
    from reglab.explore.settings import LIMITS

    monkeypatch.setitem(LIMITS, "epochs", 3)
    app = create_app(data_dir, tmp_path, port=PORT)
    with TestClient(app, base_url=ORIGIN) as c, stream(c) as ws:
        assert c.post("/api/start", json={"settings": CIRCLE, "play": True}).status_code == 200
        state = until(ws, lambda m: m["type"] == "state" and m["notice"])
        assert state == {"type": "state", "playing": False, "notice": "paused: the playground's limit of 3 epochs",
                         "epoch": 3.0}
        for command in ("play", "step"):
            r = c.post(f"/api/{command}")
            assert r.status_code == 400 and r.json()["error"] == "the playground's limit of 3 epochs is reached: reset, or export"
        assert c.get("/api/status").json()["epoch"] == 3.0
