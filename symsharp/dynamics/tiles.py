"""Tiles of a scan: how a grid is cut into fixed blocks chosen from a memory budget, and the
estimate of time, memory and output size checked before anything runs.

A 1-D scan (orbit, lyapunov) is cut into runs of consecutive grid points, a 2-D scan (phase) into
blocks (rows × columns) of the (y, x) grid; the tile shape is also the chunk shape of a Zarr
store the scan streams into.  Tiles never change answers (every point's result depends only on
its own inputs), only memory and how work is spread.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import numba
import numpy as np

from .common import DynamicsError

DEFAULT_MEMORY = 2 * 1000 ** 3
"""Default memory budget of a scan (bytes): 2 GB."""

TILE_MAX = 1 << 18
"""Largest tile (points): big enough that per-tile overhead is noise, small enough for a smooth
progress bar and a bounded working set."""

TILE_MIN = 256

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000 ** 2, "mb": 1000 ** 2, "g": 1000 ** 3, "gb": 1000 ** 3,
          "t": 1000 ** 4, "tb": 1000 ** 4, "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4}


def parse_memory(text) -> int:
    """Bytes from ``2GB``, ``500MB``, ``1.5GiB``, ``800M`` or a plain number of bytes."""
    if text is None:
        return DEFAULT_MEMORY
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        v = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _UNITS:
            raise DynamicsError(f"memory budget {text!r} is not a size such as 2GB, 500MB or 1.5GiB")
        v = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not math.isfinite(v) or v < 64 * 1000 ** 2:
        raise DynamicsError(f"memory budget {text!r} must be at least 64MB")
    return int(v)


def fmt_bytes(n: float) -> str:
    for unit, f in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= f:
            return f"{n / f:.3g} {unit}"
    return f"{int(n)} B"


def fmt_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.2g} s"
    if s < 3600:
        return f"{s / 60:.2g} min"
    if s < 86400 * 2:
        return f"{s / 3600:.2g} h"
    return f"{s / 86400:.2g} days"


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc; a guess elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 300 * 1000 ** 2


@dataclass(frozen=True)
class Layout:
    """A grid of ``shape`` (1-D: (n,); 2-D: (ny, nx)) cut into tiles of ``tile`` (same rank)."""

    shape: tuple
    tile: tuple

    @property
    def counts(self) -> tuple:
        return tuple(-(-s // t) for s, t in zip(self.shape, self.tile))

    @property
    def ntiles(self) -> int:
        return int(np.prod(self.counts))

    @property
    def points(self) -> int:
        return int(np.prod(self.shape))

    def slices(self, i: int) -> tuple:
        """The grid slices of tile ``i`` (row-major over the tile grid)."""
        idx = np.unravel_index(int(i), self.counts)
        return tuple(slice(j * t, min(s, (j + 1) * t)) for j, t, s in zip(idx, self.tile, self.shape))

    def size(self, i: int) -> int:
        return int(np.prod([s.stop - s.start for s in self.slices(i)]))


def layout_for(shape: tuple, tile_points: int) -> Layout:
    """Tiles of about ``tile_points`` points: runs of a 1-D grid, whole rows (or parts of one row)
    of a 2-D grid."""
    T = max(1, int(tile_points))
    if len(shape) == 1:
        return Layout(tuple(shape), (min(shape[0], T),))
    ny, nx = shape
    tx = min(nx, T)
    ty = max(1, min(ny, T // tx))
    return Layout((ny, nx), (ty, tx))


@dataclass
class Estimate:
    """What a scan will cost, worked out before it runs."""

    kind: str
    points: int
    steps_per_point: int
    map_steps: float
    seconds: float
    tile_points: int
    ntiles: int
    working_bytes: int
    output_bytes: int
    in_memory: bool
    peak_bytes: int
    budget: int

    def describe(self) -> str:
        where = "held in memory" if self.in_memory else "streamed to disk"
        return (f"{self.kind} of {self.points:,} points x {self.steps_per_point:,} steps = {self.map_steps:.3g} map steps, "
                f"about {fmt_seconds(self.seconds)}; memory about {fmt_bytes(self.peak_bytes)} "
                f"(budget {fmt_bytes(self.budget)}); output {fmt_bytes(self.output_bytes)} {where}; "
                f"{self.ntiles} tile{'s' if self.ntiles != 1 else ''} of up to {self.tile_points:,} points")

    def as_dict(self) -> dict:
        return {"points": self.points, "steps_per_point": self.steps_per_point, "map_steps": self.map_steps,
                "seconds": round(self.seconds, 3), "tile_points": self.tile_points, "ntiles": self.ntiles,
                "output_bytes": self.output_bytes, "peak_bytes": self.peak_bytes, "memory_budget": self.budget}


def nominal_rate(k: int, threads: int | None = None) -> float:
    """A rough map-steps-per-second figure for estimates (UV-sized maps reach ~1.2e9 per core)."""
    threads = threads or numba.get_num_threads()
    return 1.0e9 * threads / max(1.0, k / 2.0)


def plan(kind: str, shape: tuple, steps_per_point: int, work_per_point: float, k: int, per_point_bytes: int,
         output_per_point: int, budget: int, in_memory: bool, tile_points: int | None = None,
         threads: int | None = None) -> tuple:
    """(Layout, Estimate) of a scan, or a one-line :class:`DynamicsError` when it cannot fit the
    memory ``budget`` — the memory the scan itself allocates (result held in memory plus one tile's
    working arrays), not what the process already holds; the estimate's ``peak_bytes`` adds the
    process's current resident memory for information.  ``work_per_point`` counts tangent steps
    as three map steps."""
    G = int(np.prod(shape))
    base = resident_bytes()
    out_total = G * output_per_point
    held = out_total if in_memory else 0
    room = budget - held  # the budget is what the scan itself may allocate, not what the process already holds
    per = per_point_bytes + output_per_point
    need_min = per * min(G, TILE_MIN)
    if room < need_min:
        if in_memory and out_total > budget // 4:
            raise DynamicsError(
                f"{kind} of {G:,} points needs about {fmt_bytes(held + need_min)} of memory "
                f"({fmt_bytes(out_total)} for the result held in memory), over the memory budget {fmt_bytes(budget)}; "
                "stream it to a Zarr store with --out FILE.zarr (Python: out='FILE.zarr') or raise --memory")
        raise DynamicsError(
            f"{kind} needs about {fmt_bytes(held + need_min)} of memory ({fmt_bytes(per)} per point in a tile), "
            f"over the memory budget {fmt_bytes(budget)}; lower --keep or raise --memory")
    T = int(min(G, TILE_MAX, max(TILE_MIN, (room // 2) // per)))
    if tile_points is not None:
        T = max(1, min(G, int(tile_points)))
    lay = layout_for(tuple(shape), T)
    T = int(np.prod(lay.tile))
    secs = G * work_per_point / nominal_rate(k, threads)
    est = Estimate(kind=kind, points=G, steps_per_point=int(steps_per_point), map_steps=float(G) * steps_per_point,
                   seconds=secs, tile_points=T, ntiles=lay.ntiles, working_bytes=T * per, output_bytes=out_total,
                   in_memory=in_memory, peak_bytes=base + held + T * per, budget=budget)
    return lay, est
