"""The web application: Starlette routes for the page, its API and its websocket, served by uvicorn.

=========================  ==========================================================
``GET /``                  the page (``static/index.html``)
``GET /static/…``          its script, style and the vendored uPlot
``GET /api/options``       the choices: data sets (2-D, digits, MNIST when present, the
                           data directory's files), the registries' names, the limits,
                           the default settings
``POST /api/start``        ``{"settings": {…}, "play": true}``: a new session
``POST /api/play``,        ``/api/pause``, ``/api/step`` (to the end of the epoch),
``/api/reset``             ``/api/reset`` (the same settings from new weights)
``POST /api/change``       ``{"lmbda": […], "eta": …, "reg": …, "l1_ratio": …}`` between
                           mini-batches
``POST /api/export``       the report and the run folder; their paths
``GET /exports/NAME/…``    an exported ``report.html`` (only folders this server wrote)
``WS /ws``                 the stream: ``session``, ``snapshot`` and ``state`` messages
=========================  ==========================================================

A refusal is ``{"error": "one line"}`` with status 400 (bad values), 403
(a foreign ``Origin`` or ``Host``), 409 (nothing running) or 413 (too large).

Security: the server binds 127.0.0.1 unless told otherwise; a request whose
``Origin`` is not this server's own address, or whose ``Host`` is not one of
its names (DNS rebinding), is refused before any route runs, websocket
included; the page is served with a Content-Security-Policy that lets it
load and connect to nothing but this server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from reglab.errors import ReglabError
from reglab.explore.datasets import PLANAR, data_files
from reglab.explore.settings import LIMITS, Settings
from reglab.explore.worker import Worker

STATIC = Path(__file__).parent / "static"
#: Hosts that bind every address: any Host header is then accepted (the origin check stays).
WILDCARDS = ("0.0.0.0", "::", "")
#: Points of the history a page gets when it connects, about at most.
MAX_POINTS = 4000
#: Bytes of a request body, at most.
MAX_BODY = 64 * 1024
#: The page may load and connect to its own server only.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Guard:
    """ASGI middleware: refuse HTTP and websocket requests to a foreign ``Host`` or from a foreign ``Origin``.

    ``hosts``: the ``Host`` headers accepted (``None``: any, for a server bound to every address). The
    ``Origin`` must be this very server, ``http://`` + the request's ``Host``. A request without
    ``Origin`` (a tool, not a page in a browser) passes; browsers send it with every websocket
    handshake and every cross-site POST.
    """

    def __init__(self, app: ASGIApp, hosts: set[str] | None):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin, host = headers.get("origin"), headers.get("host", "")
        refusal = None
        if self.hosts is not None and host.lower() not in self.hosts:
            refusal = f"host {host!r} is not this server's"
        elif origin is not None and origin.lower() != f"http://{host.lower()}":
            refusal = f"origin {origin!r} is not this server's: requests from other pages are refused"
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": refusal})  # before accept: a 403
        else:
            await JSONResponse({"error": refusal}, status_code=403)(scope, receive, send)


@dataclass
class _Client:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    pending_snapshot: list[str] = field(default_factory=list)


class Hub:
    """The open websockets and the stream's state, fed from the worker's thread.

    A page that connects gets the session message, a ``history`` message (every point of the
    session so far) and the latest snapshot first. Session and state messages always reach a page;
    of the snapshots a slow page has not yet taken, only the newest waits (its curves get fewer
    points, never stale ones).
    """

    def __init__(self) -> None:
        self.clients: list[_Client] = []
        self.session: str | None = None
        self.latest: str | None = None
        self.points: list[str] = []
        self._lock = threading.Lock()  # a page registers and reads the first messages while no publish runs

    def publish(self, kind: str, text: str, point: str | None = None) -> None:
        """Called by the worker's thread: keep what a new page needs, and hand ``text`` to every page."""
        with self._lock:
            if kind == "session":
                self.session, self.latest, self.points = text, None, []
            elif kind == "snapshot":
                self.latest = text
                if point is not None:
                    self.points.append(point)
                if len(self.points) > MAX_POINTS:  # thin the older half: every other point
                    half = len(self.points) // 2
                    self.points = self.points[:half:2] + self.points[half:]
            for client in self.clients:
                client.loop.call_soon_threadsafe(self._offer, client, kind, text)

    @staticmethod
    def _offer(client: _Client, kind: str, text: str) -> None:
        if kind != "snapshot":
            client.queue.put_nowait(text)
            return
        if client.pending_snapshot:  # the page has not taken the previous one: replace it
            client.pending_snapshot[0] = text
            return
        client.pending_snapshot.append(text)
        client.queue.put_nowait("")  # a token: take the pending snapshot

    async def stream(self, websocket: WebSocket) -> None:
        """Send every message to ``websocket`` until the page closes it (heard at once, even while nothing is
        sent: a server stopping waits for its websockets)."""
        client = _Client(asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:  # the first messages and the registration, with no publish in between
            if self.session is not None:
                client.queue.put_nowait(self.session)
                client.queue.put_nowait('{"type":"history","points":[' + ",".join(self.points[:-1]) + "]}")
            if self.latest is not None:
                client.queue.put_nowait(self.latest)
            self.clients.append(client)

        async def send() -> None:
            while True:
                text = await client.queue.get()
                await websocket.send_text(client.pending_snapshot.pop() if text == "" else text)

        async def closed() -> None:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass  # the page sends nothing; anything it does send is ignored

        tasks = [asyncio.create_task(send()), asyncio.create_task(closed())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a failure to send is raised here
        finally:
            for task in tasks:
                task.cancel()
            with self._lock:
                self.clients.remove(client)


def create_app(data_dir: Path, out: Path, *, host: str = "127.0.0.1", port: int = 8765, max_rate: float = 15.0,
               budget: float = 0.15) -> Starlette:
    """The application; ``data_dir``: MNIST and the user's files; ``out``: exports and the 2-D data files.

    ``host`` and ``port`` are where it is served: they name the origins and hosts it accepts.
    """
    from reglab.explore.export import export_session

    hub = Hub()
    exports: dict[str, Path] = {}

    def exporter(session: Any) -> dict[str, Any]:
        written = export_session(session, out)
        exports[written["name"]] = Path(written["folder"])
        return {**written, "url": f"/exports/{written['name']}/report.html"}

    worker = Worker(hub.publish, data_dir, out / "data", exporter, max_rate=max_rate, budget=budget)

    async def ask(command: str, **kw: Any) -> JSONResponse:
        try:
            return JSONResponse(await asyncio.wrap_future(worker.submit(command, **kw)))
        except ReglabError as exc:
            status = 409 if str(exc).startswith("nothing to train") else 400
            return JSONResponse({"error": str(exc)}, status_code=status)

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ReglabError(f"the request is {len(raw):,} bytes; at most {MAX_BODY:,}")
        try:
            value = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ReglabError("the request is not JSON") from None
        if not isinstance(value, dict):
            raise ReglabError("the request must be a JSON object")
        return value

    def refused(exc: ReglabError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=413 if "bytes; at most" in str(exc) else 400)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})

    async def options(request: Request) -> JSONResponse:
        from reglab.config import TrainConfig
        from reglab.data.mnist import mnist_available

        choices = {f: list(TrainConfig.__dataclass_fields__[f].metadata["choices"])
                   for f in ("activation", "init", "cost", "optimizer", "reg")}
        return JSONResponse({
            "planar": list(PLANAR), "mnist": mnist_available(data_dir), "files": data_files(data_dir),
            "data_dir": str(data_dir), "choices": choices, "limits": LIMITS, "defaults": Settings().to_json(),
        })

    async def start(request: Request) -> JSONResponse:
        try:
            d = await body(request)
            settings = Settings.from_json(d.get("settings", {}))
            play = d.get("play", True)
            if not isinstance(play, bool):
                raise ReglabError(f"play must be true or false, got {play!r}")
        except ReglabError as exc:
            return refused(exc)
        return await ask("start", settings=settings, play=play)

    def command(name: str) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def run(request: Request) -> JSONResponse:
            return await ask(name)

        return run

    async def change(request: Request) -> JSONResponse:
        try:
            d = await body(request)
            unknown = set(d) - {"lmbda", "eta", "reg", "l1_ratio"}
            if unknown:
                raise ReglabError(f"a change takes lmbda, eta, reg and l1_ratio, not {', '.join(sorted(unknown))}")
            kw = Settings.from_json(d).to_json()  # the same checks as at the start
        except ReglabError as exc:
            return refused(exc)
        return await ask("change", **{k: (list(kw[k]) if k == "lmbda" else kw[k]) for k in d})

    async def exported(request: Request) -> Response:
        folder = exports.get(request.path_params["name"])
        if folder is None:
            return JSONResponse({"error": "no such export"}, status_code=404)
        return FileResponse(folder / "report.html", headers={"Content-Security-Policy": "default-src 'none'; "
                                                             "img-src data:; style-src 'unsafe-inline'"})

    async def stream(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await hub.stream(websocket)
        except WebSocketDisconnect:
            pass

    routes = [
        Route("/", index),
        Route("/api/options", options),
        Route("/api/start", start, methods=["POST"]),
        *(Route(f"/api/{name}", command(name), methods=["POST"]) for name in ("play", "pause", "step", "reset", "export")),
        Route("/api/status", command("status")),
        Route("/api/change", change, methods=["POST"]),
        Route("/exports/{name}/report.html", exported),
        WebSocketRoute("/ws", stream),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        worker.close()

    names = {host.lower(), "127.0.0.1", "localhost", "[::1]"}
    hosts = None if host in WILDCARDS else {f"{h}:{port}" for h in names}
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.worker, app.state.hub = worker, hub
    app.add_middleware(Guard, hosts=hosts)  # type: ignore[arg-type]
    return app


def serve(data_dir: Path, out: Path, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve until interrupted; ``on_ready(url)`` once the socket listens."""
    import uvicorn

    config = uvicorn.Config(create_app(data_dir, out, host=host, port=port), host=host, port=port, log_level="warning",
                            ws="auto", lifespan="on", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                break
            await asyncio.sleep(0.05)
        if server.started:  # a wildcard address is reached on this machine as 127.0.0.1
            shown = "127.0.0.1" if host in WILDCARDS else f"[{host}]" if ":" in host else host
            on_ready(f"http://{shown}:{port}/")
        await task

    asyncio.run(main())
    if not server.started:
        raise ReglabError(f"cannot listen on {host}:{port} (is the port in use? try --port)")
