"""The background worker: one thread that owns the session, trains it while playing, and publishes snapshots.

Requests reach the worker as commands on a queue (:meth:`Worker.submit`,
answered through a :class:`~concurrent.futures.Future`), and are carried out
between two chunks of mini-batches, so a change of λ, η or the regularizer
lands between mini-batches. While playing, the worker trains chunks of
about :data:`CHUNK_SECONDS` each, cut short where a snapshot falls due, so
snapshots start on time; no more than ``max_rate`` start per second:

* where the steps train on one thread and another core is free (a few small
  models, as :meth:`~reglab.engine.steps.CompiledSteps.leaves_core_idle`
  says), a copy of the models is measured and drawn on that core while
  training goes on, one snapshot at a time, as :func:`~reglab.engine.fit`
  measures its records beside the next epoch;
* elsewhere in turn, on every core (training waits meanwhile, so the cores
  it used are free), one snapshot starting at most every ``cost / budget``
  seconds: measuring and drawing take ``budget`` of the time, training the
  rest (a snapshot that took 20 ms starts 20/budget ms after the previous
  one started).

Messages are JSON text handed to ``publish(kind, text, point)``; ``kind`` is
``session`` (what the page needs to lay itself out: settings, sizes, the
2-D points), ``snapshot`` (``point`` is its measured numbers alone, which the
server keeps for pages that connect later), or ``state`` (playing or not, a
notice).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from reglab.engine.monitors import Record
from reglab.engine.threads import torch_threads
from reglab.errors import ReglabError
from reglab.explore import snapshot
from reglab.explore.datasets import PLANAR
from reglab.explore.session import Session, Taken
from reglab.explore.settings import LIMITS, Settings
from reglab.io import finite_or_none

#: Seconds of training per chunk while playing: how long a command may wait.
CHUNK_SECONDS = 0.04
#: Seconds between two snapshots while playing, at most (the first measure may include compiling).
MAX_WAIT = 2.0
#: Points of a 2-D set sent to the page, at most per split.
MAX_POINTS_SHOWN = 2000

#: What the worker does on request, each by its method ``_<command>``.
COMMANDS = ("start", "play", "pause", "step", "reset", "change", "export", "status")

Publish = Callable[[str, str, "str | None"], None]  # (kind, message, a snapshot's point alone)


def _json(message: dict[str, Any]) -> str:
    """Compact strict JSON (NaN and infinities as ``null``)."""
    return json.dumps(finite_or_none(message), separators=(",", ":"), allow_nan=False)


class Worker:
    """The one thread that trains. ``publish(kind, text, point)`` is called from it (see the module docstring).

    Parameters
    ----------
    publish : callable
        Receives every message; must be safe to call from another thread.
    data_dir : Path
        The data directory (MNIST, the user's files).
    scratch : Path
        Where the 2-D sets are written as data files.
    exporter : callable
        ``exporter(session) -> dict`` writes an export of a session and says where.
    max_rate : float
        Snapshots per second, at most.
    budget : float
        The share of time measuring and drawing snapshots may take, at most.
    """

    def __init__(self, publish: Publish, data_dir: Path, scratch: Path,
                 exporter: Callable[[Session], dict[str, Any]], max_rate: float = 15.0, budget: float = 0.15):
        self.publish, self.data_dir, self.scratch, self.exporter = publish, data_dir, scratch, exporter
        self.max_rate, self.budget = max_rate, budget
        self.session: Session | None = None
        self.playing = False
        self.stepping = False
        self.snapshots = 0
        self._commands: queue.Queue[tuple[str, dict[str, Any], Future[Any] | None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="reglab-explore", daemon=True)
        self._last_snapshot = 0.0
        self._snapshot_cost = 0.0
        self._costs: list[float] = []
        self._beside = ThreadPoolExecutor(1, thread_name_prefix="reglab-explore-measure")
        self._pending: tuple[Session, Taken, dict[str, Any], float, Future[tuple[Record, dict[str, Any]]]] | None = None
        self._seconds_per_example = 1e-5
        self._thread.start()

    # -- from other threads ---------------------------------------------------------------------------
    def submit(self, command: str, **kw: Any) -> Future[Any]:
        """Queue ``command``, one of :data:`COMMANDS`; its answer (or its :class:`ReglabError`) comes in the future."""
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        future: Future[Any] = Future()
        self._commands.put((command, kw, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread after the chunk it is training."""
        self._commands.put(None)
        self._thread.join(timeout)
        self._beside.shutdown(wait=False)

    # -- the thread ---------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            busy = self.session is not None and (self.playing or self.stepping)
            try:
                item = self._commands.get_nowait() if busy else self._commands.get()
            except queue.Empty:  # nothing asked while playing: train on
                item = ("", {}, None)
            if item is None:
                return
            command, kw, future = item
            if future is not None:
                try:
                    future.set_result(getattr(self, f"_{command}")(**kw))
                except ReglabError as exc:
                    future.set_exception(exc)
                except Exception as exc:  # an unexpected failure: the page hears of it, the thread goes on
                    future.set_exception(ReglabError(f"internal error: {type(exc).__name__}: {exc}"))
                continue
            try:
                self._train()
            except Exception as exc:
                self.playing = self.stepping = False
                self._state(f"training stopped: {type(exc).__name__}: {exc}")

    def _require(self) -> Session:
        if self.session is None:
            raise ReglabError("nothing to train yet: press play to start")
        return self.session

    def _train(self) -> None:
        """One chunk, then a snapshot if one is due (or the step's epoch ended, or the limit was reached)."""
        s = self._require()
        beside = s.steps.leaves_core_idle()
        until_due = CHUNK_SECONDS if self._pending is not None else self._due(beside) - time.perf_counter()
        examples = max(1, int(min(CHUNK_SECONDS, until_due) / self._seconds_per_example))
        t0 = time.perf_counter()
        done = s.train(examples)
        took = (time.perf_counter() - t0) / done
        self._seconds_per_example = min(took, 0.7 * self._seconds_per_example + 0.3 * took)  # a slow start forgotten at once
        self._collect(wait=False)
        if self.stepping and s.position == 0:
            self.stepping = False
            self._snapshot()
            self._state()
        elif s.at_limit():
            self.playing = self.stepping = False
            self._snapshot()
            self._state(f"paused: the playground's limit of {LIMITS['epochs']} epochs" if s.state.active.any() else
                        "paused: every column diverged or stopped")
        elif self._pending is None and time.perf_counter() >= self._due(beside):
            if beside:  # one at a time, on the idle core
                t0, taken = time.perf_counter(), s.take()
                self._pending = s, taken, self._about(s), t0, self._beside.submit(self._measure, s, taken, True)
            else:
                self._snapshot()

    def _due(self, beside: bool) -> float:
        """When the next snapshot may start (``time.perf_counter()``): ``1/max_rate`` after the previous one
        started, and in turn no sooner than keeps snapshots to ``budget`` of the time."""
        gap = 1.0 / self.max_rate
        if not beside:
            gap = max(gap, min(MAX_WAIT, self._snapshot_cost / self.budget))
        return self._last_snapshot + gap

    @staticmethod
    def _measure(s: Session, taken: Taken, beside: bool) -> tuple[Record, dict[str, Any]]:
        """The record and the pictures of ``taken`` (any thread: it reads a copy and the data): evaluated on the
        calling thread alone ``beside`` training, else on every core; torch's small operations on one thread."""
        with torch_threads(1):
            return s.record(taken, one_thread=beside), snapshot.visuals(taken.model, s.settings.data in PLANAR)

    def _collect(self, wait: bool) -> None:
        """Publish the snapshot measured beside training, if it is ready (or wait for it)."""
        if self._pending is None or not (wait or self._pending[4].done()):
            return
        s, taken, about, t0, future = self._pending
        self._pending = None
        record, visuals = future.result()
        self._publish(s, taken, about, record, visuals, t0)

    def _snapshot(self) -> None:
        """Measure now, in turn, and publish (after a snapshot still being measured beside training)."""
        self._collect(wait=True)
        s = self._require()
        t0 = time.perf_counter()
        taken = s.take()
        self._publish(s, taken, self._about(s), *self._measure(s, taken, False), t0)

    def _about(self, s: Session) -> dict[str, Any]:
        """What a snapshot says besides its numbers, as it is when the models are taken (a change made while
        they are measured belongs to the next snapshot)."""
        return {"examples": s.examples, "train_seconds": s.train_seconds, "columns": self._columns(s),
                "events": [vars(e) for e in s.events]}

    def _publish(self, s: Session, taken: Taken, about: dict[str, Any], record: Record, visuals: dict[str, Any],
                 t0: float) -> None:
        numbers = s.keep(taken, record)
        point = snapshot.point(taken.epoch, numbers, len(s.sizes) - 1)
        message = {
            "type": "snapshot", "epoch": taken.epoch, "playing": self.playing or self.stepping,
            "snapshot_seconds": self._snapshot_cost, **about, "point": point, **visuals,
        }
        self.publish("snapshot", _json(message), _json(point))
        self.snapshots += 1
        self._last_snapshot = t0  # when it started: snapshots start at most max_rate times a second
        if taken.seen is not None:  # a point with no training since the last one passes over the training split too
            self._costs = [*self._costs[-2:], time.perf_counter() - t0]
            self._snapshot_cost = min(self._costs)  # the least of the last three: a moment off the CPU is not the cost

    @staticmethod
    def _columns(s: Session) -> list[dict[str, Any]]:
        st = s.state
        return [dict(m, diverged=st.diverged_epoch[i], stopped=st.stopped_epoch[i]) for i, m in enumerate(s.models)]

    def _state(self, notice: str | None = None) -> dict[str, Any]:
        s = self.session
        message = {"type": "state", "playing": self.playing or self.stepping, "notice": notice,
                   "epoch": None if s is None else s.epoch}
        self.publish("state", _json(message), None)
        return message

    def _session_message(self, s: Session) -> None:
        points: dict[str, Any] = {}
        if s.settings.data in PLANAR:
            for split in ("train", "test"):
                part = getattr(s.dataset, split)
                points[split] = {"X": part.X[:MAX_POINTS_SHOWN].round(3).tolist(), "y": part.y[:MAX_POINTS_SHOWN].tolist()}
        message = {
            "type": "session", "settings": s.settings.to_json(), "sizes": s.sizes, "data": s.dataset.name,
            "n": s.n, "splits": {k: len(getattr(s.dataset, k).y) for k in ("train", "validation", "test")},
            "classes": s.dataset.n_classes, "regularizer": repr(s.regularizer), "engine": type(s.steps).__name__,
            "points": points, "events": [vars(e) for e in s.events], "columns": self._columns(s),
            "note": getattr(s.dataset, "note", None),
        }
        self.publish("session", _json(message), None)

    # -- the commands ----------------------------------------------------------------------------------------
    def _start(self, settings: Settings, play: bool = True) -> dict[str, Any]:
        session = Session(settings, self.data_dir, self.scratch)  # may refuse: the old session then goes on
        self._collect(wait=True)  # the old session's last snapshot goes out before the new session
        self.session, self.playing, self.stepping = session, play, False
        self._costs, self._snapshot_cost = [], 0.0  # the old session's snapshots cost what its sizes cost
        self._session_message(session)
        self._snapshot()
        return self._state()

    def _go(self) -> Session:
        s = self._require()
        if s.at_limit():
            raise ReglabError(f"the playground's limit of {LIMITS['epochs']} epochs is reached: reset, or export"
                              if s.state.active.any() else "every column diverged or stopped: reset")
        return s

    def _play(self) -> dict[str, Any]:
        self._go()
        self.playing = True
        return self._state()

    def _pause(self) -> dict[str, Any]:
        self.playing = self.stepping = False
        if self.session is not None:
            self._snapshot()
        return self._state()

    def _step(self) -> dict[str, Any]:
        """Train to the end of the epoch (a whole epoch at an epoch's start), then pause."""
        self._go()
        self.playing, self.stepping = False, True
        return self._state()

    def _reset(self) -> dict[str, Any]:
        s = self._require()
        self._collect(wait=True)
        s.reset()
        self.playing = self.stepping = False
        self._session_message(s)
        self._snapshot()
        return self._state()

    def _change(self, **changes: Any) -> dict[str, Any]:
        s = self._require()
        event = s.change(**changes)
        if event is not None:
            self._snapshot()  # the new penalty shows at once, at the mark of the change
        return {"event": None if event is None else vars(event), "settings": s.settings.to_json()}

    def _export(self) -> dict[str, Any]:
        return self.exporter(self._require())

    def _status(self) -> dict[str, Any]:
        s = self.session
        return {"playing": self.playing or self.stepping, "epoch": None if s is None else s.epoch,
                "snapshots": self.snapshots, "examples": 0 if s is None else s.examples,
                "train_seconds": 0.0 if s is None else s.train_seconds}
