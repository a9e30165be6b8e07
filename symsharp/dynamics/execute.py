"""Where the tiles of a scan run: in this process (``local``: Numba threads over every core), on a
Dask cluster of worker processes started here (``processes:N``), or on an existing
``dask.distributed`` scheduler (``tcp://host:8786``, or a ``Client`` from Python).

Tiles are sent to workers with their inputs (initial states and parameters, computed here), the
compiled map travels as its generated source (see ``CompiledMap.__reduce__``), and finished tiles
come back here to be written — into memory or into a Zarr store, as they finish — so workers
need no shared disk.  Results do not depend on where or in which order tiles ran.
"""
from __future__ import annotations

import os
import threading
import uuid
from contextlib import contextmanager

import numba
import numpy as np

from .common import DynamicsError
from .points import lyapunov_points, orbit_points

_LOCK = threading.Lock()


def tile_task(job: dict, x0, P, carry=None, threads: int | None = None):
    """Compute one tile (runs wherever the tile is scheduled).  Returns ({name: (n, ...) array}, carry)."""
    if threads:
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    kernel = job["kernel"]
    with _LOCK, np.errstate(all="ignore"):
        if job["kind"] == "lyapunov":
            s = job["settings"]
            r = lyapunov_points(kernel, x0, P, s["steps"], s["transient"], seed=s["seed"], threshold=s["threshold"],
                                check_every=s["check_every"])
            return {"lyapunov": r["lyapunov"], "diverged_at": r["diverged_at"]}, None
        r = orbit_points(kernel, x0, P, job["settings"], observable=job.get("observable"),
                         observe_fn=job.get("observe_fn"), seed_state=carry)
    out = {"period": r["period"].astype(np.int32), "regime": r["regime"], "lyapunov": r["lyapunov"],
           "diverged_at": r["diverged_at"], "steps": r["steps"]}
    if job.get("observable") is not None:
        out["values"] = r["values"]
    if job.get("final_state"):
        out["final_state"] = r["final_state"]
    return out, r["seed_out"]


def parse_scheduler(spec):
    """("local", None) | ("processes", N) | ("address", "tcp://…") | ("client", Client)."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "local")):
        return "local", None
    if not isinstance(spec, str):
        if hasattr(spec, "submit") and hasattr(spec, "gather"):
            return "client", spec
        raise DynamicsError(f"scheduler must be 'local', 'processes:N', a scheduler address or a Dask Client, got {spec!r}")
    s = spec.strip()
    if s.lower().startswith("processes"):
        _, _, n = s.partition(":")
        try:
            n = int(n) if n else (os.cpu_count() or 1)
        except ValueError:
            n = 0
        if n < 1 or n > 1024:
            raise DynamicsError(f"scheduler {spec!r}: give processes:N with a whole number of worker processes N >= 1")
        return "processes", n
    if "://" in s:
        proto = s.split("://", 1)[0].lower()
        if proto not in ("tcp", "tls", "inproc", "ws", "wss", "ucx"):
            raise DynamicsError(f"scheduler address {spec!r} must start with tcp:// (or tls://)")
        return "address", s
    raise DynamicsError(f"scheduler {spec!r} is not local, processes:N or a scheduler address such as tcp://host:8786")


@contextmanager
def dask_client(kind, arg):
    """A ``dask.distributed.Client`` for the scheduler choice (closed, with any cluster started here,
    on exit — also on an interrupt)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency of the Dask schedulers
        raise DynamicsError("the Dask schedulers need the 'distributed' package (pip install distributed)") from None
    if kind == "client":
        yield arg, None
        return
    if kind == "processes":
        import logging

        with LocalCluster(n_workers=arg, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client, max(1, (os.cpu_count() or 1) // arg)
        return
    try:
        client = Client(arg, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise DynamicsError(f"cannot reach the Dask scheduler at {arg} ({str(exc).splitlines()[0] if str(exc) else 'timeout'})") from None
    try:
        yield client, None
    finally:
        client.close()


def run_tiles(job: dict, tiles, inputs, sink, scheduler=None, sequential: bool = False, bar=None,
              first_carry=None) -> None:
    """Compute ``tiles`` (indices) and hand each result to ``sink.write(i, out, carry)`` as it finishes.

    ``inputs(i) -> (x0, P)`` gives a tile's inputs (computed here, in this process).
    ``sequential`` (continuation) runs the tiles in order here, passing each one's carry on."""
    kind, arg = parse_scheduler(scheduler)
    tiles = list(tiles)
    if kind == "local" or sequential or not tiles:
        carry = first_carry
        for i in tiles:
            x0, P = inputs(i)
            out, carry_out = tile_task(job, x0, P, carry if sequential else None)
            sink.write(i, out, carry_out)
            if sequential:
                carry = carry_out
            if bar is not None:
                bar.update(len(P))
        return
    from distributed import as_completed

    with dask_client(kind, arg) as (client, threads):
        nworkers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
        run = uuid.uuid4().hex
        (jf,) = client.scatter([job], broadcast=True, hash=False)  # a list: a dict would be scattered item by item
        pending = iter(tiles)
        sizes = {}
        futures = []

        def submit(i):
            x0, P = inputs(i)
            f = client.submit(tile_task, jf, x0, P, None, threads, key=f"symsharp-tile-{run}-{i}", pure=False)
            sizes[f.key] = (i, len(P))
            return f

        for _ in range(2 * nworkers):
            i = next(pending, None)
            if i is None:
                break
            futures.append(submit(i))
        ac = as_completed(futures)
        try:
            for fut in ac:
                i, n = sizes.pop(fut.key)
                out, carry_out = fut.result()
                sink.write(i, out, carry_out)
                fut.release()
                if bar is not None:
                    bar.update(n)
                nxt = next(pending, None)
                if nxt is not None:
                    ac.add(submit(nxt))
        except BaseException:
            for f in list(ac.futures) if hasattr(ac, "futures") else []:
                f.cancel()
            raise
