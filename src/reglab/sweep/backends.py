"""Where chunks train: in this process (the default, no Ray), or as tasks on a Ray cluster.

A backend is a context manager with two methods:

* ``budget(device) -> (bytes, cuda)``: memory one chunk may plan for, and
  whether chunks will run on CUDA;
* ``imap(chunks, dataset, progress)``: train the chunks, yielding
  ``(chunk, ChunkOutput)`` as each finishes (in any order).

The sweep writes each result as it arrives, so both backends resume alike.
"""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from reglab.errors import ReglabError
from reglab.runs.assemble import resolve_device
from reglab.sweep.chunks import Chunk, ChunkOutput, run_chunk
from reglab.sweep.memory import available_memory


class LocalBackend:
    """Train the chunks one after another in this process."""

    name = "local"

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def budget(self, device: str) -> tuple[int, bool]:
        return available_memory(device), resolve_device(device).type == "cuda"

    def slots(self, device: str) -> int:
        return 1

    def imap(self, chunks: Sequence[Chunk], dataset, progress) -> Iterator[tuple[Chunk, ChunkOutput]]:
        for chunk in chunks:
            progress.chunk_started(chunk)

            def on_epoch(epoch, record, run, chunk=chunk):
                progress.epoch(chunk, epoch, record)

            yield chunk, run_chunk(chunk, dataset, callbacks=[on_epoch])


def _train_remote(chunk: Chunk, dataset) -> ChunkOutput:
    """A Ray task: train one chunk on this node (the data set arrives read-only from the object store)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return run_chunk(chunk, dataset)


def _probe_memory(device: str) -> int:
    """A Ray task: free memory on the node (GPU memory of its device when it has one)."""
    return available_memory(device)


class RayBackend:
    """Send chunks to a Ray cluster as tasks; gather results with ``ray.wait`` as they finish.

    Parameters
    ----------
    address : str
        ``auto`` (the cluster this machine belongs to, or ``RAY_ADDRESS``),
        ``HOST:PORT`` of a head node, or ``local`` (start a private Ray on this
        machine, shut down afterwards).
    cpus_per_task : float
        CPUs each chunk reserves (Ray sets its thread count from it).
    gpus_per_task : float or None
        GPUs each chunk reserves; ``None``: 1 when the cluster has GPUs and
        ``device`` is not ``cpu``, else 0.
    init_kwargs : dict
        More arguments for ``ray.init`` (``num_cpus=`` for ``local``, …).

    Notes
    -----
    Usage statistics are off unless ``RAY_USAGE_STATS_ENABLED`` is already set:
    nothing is sent over the network. The data set is put in Ray's object store
    once and read, without copies, by every task on a node.
    """

    name = "ray"

    def __init__(self, address: str = "auto", cpus_per_task: float = 1.0, gpus_per_task: float | None = None,
                 init_kwargs: dict | None = None):
        self.address = address
        self.cpus_per_task = cpus_per_task
        self.gpus_per_task = gpus_per_task
        self.init_kwargs = dict(init_kwargs or {})
        self._owned = False
        self._ray: Any = None  # the ray module, once imported

    def __enter__(self) -> RayBackend:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        check_reachable(self.address)
        try:
            import ray
        except ImportError:
            raise ReglabError("--backend ray needs Ray: pip install 'reglab[ray]'") from None
        self._ray = ray
        if not ray.is_initialized():
            kw = {"log_to_driver": False, "logging_level": "WARNING", **self.init_kwargs}
            if self.address == "local":
                kw.setdefault("include_dashboard", False)
            try:
                ray.init(address=self.address, **kw)
            except ConnectionError as exc:
                raise ReglabError(f"no Ray cluster at --address {self.address} ({exc}); start one with 'ray start --head' "
                                  "or use --address local; a cluster with token authentication needs RAY_AUTH_MODE=token"
                                  ) from None
            self._owned = True
        return self

    def __exit__(self, *exc) -> None:
        if self._owned:
            self._ray.shutdown()
            self._owned = False

    def _resources(self, device: str) -> dict:
        gpus = self.gpus_per_task
        if gpus is None:
            gpus = 1.0 if device != "cpu" and self._ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        return {"num_cpus": self.cpus_per_task, "num_gpus": gpus}

    def budget(self, device: str) -> tuple[int, bool]:
        """GPU chunks: the free memory a probe task finds on its device. CPU chunks: the smallest node's
        memory (Ray's ``memory`` resource) divided among the tasks that node runs at once."""
        options = self._resources(device)
        if options["num_gpus"] > 0:
            probe = self._ray.remote(_probe_memory).options(**options)
            return int(self._ray.get(probe.remote(device)) * min(1.0, options["num_gpus"])), True
        per_task = [
            n["Resources"].get("memory", 0) / max(1.0, n["Resources"].get("CPU", 1) // self.cpus_per_task)
            for n in self._ray.nodes() if n.get("Alive") and n["Resources"].get("CPU", 0) >= self.cpus_per_task
        ]
        if not per_task:
            raise ReglabError(f"no node of the Ray cluster has {self.cpus_per_task:g} CPUs for a task (--ray-cpus)")
        return int(min(per_task)), False

    def slots(self, device: str) -> int:
        """How many tasks the cluster runs at once."""
        res, gpus = self._ray.cluster_resources(), self._resources(device)["num_gpus"]
        if gpus:
            return max(1, int(res.get("GPU", 0) // gpus))
        return max(1, int(res.get("CPU", 1) // self.cpus_per_task))

    def imap(self, chunks: Sequence[Chunk], dataset, progress) -> Iterator[tuple[Chunk, ChunkOutput]]:
        ray = self._ray
        if not chunks:
            return
        task = ray.remote(_train_remote).options(**self._resources(chunks[0].config.device), max_retries=1)
        data = ray.put(dataset)
        pending = {task.remote(chunk, data): chunk for chunk in chunks}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                chunk = pending.pop(ready[0])
                try:
                    output = ray.get(ready[0])
                except ray.exceptions.RayTaskError as exc:
                    if isinstance(exc.cause, ReglabError):
                        raise ReglabError(str(exc.cause)) from None
                    raise
                yield chunk, output
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


#: Seconds to wait for a Ray head's port to answer before giving up on it.
CONNECT_TIMEOUT = 10.0


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """For a ``HOST:PORT`` address, check that something listens there before asking Ray, which retries a
    missing head for minutes; ``auto``, ``local`` and ``ray://`` addresses are left to Ray."""
    if address in ("auto", "local") or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ReglabError(f"--address {address!r} is not HOST:PORT, auto or local")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = "nothing answered" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ReglabError(f"no Ray cluster at --address {address} ({reason}); start one with 'ray start --head' "
                          "or use --address local") from None


def make_backend(backend: str | object = "local", **kw):
    """``"local"``, ``"ray"`` (``kw`` go to :class:`RayBackend`), or a backend object as it is."""
    if not isinstance(backend, str):
        return backend
    if backend == "local":
        return LocalBackend()
    if backend == "ray":
        return RayBackend(**kw)
    raise ReglabError(f"--backend {backend!r} is not one of local, ray")
