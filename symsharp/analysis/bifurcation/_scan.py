"""Brute-force scans with the compiled kernel: attractors over a parameter grid and their periods."""
from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from .family import BifurcationError, MapFamily

DIVERGE = 1e8
"""Magnitude threshold of divergence in scans (checked every 16 steps by the kernels)."""


@nb.njit(cache=True)
def _periods(rec, max_period, tol, out):
    """rec (R, B, k): smallest p ≤ max_period with |x_{t+p} − x_t| ≤ tol·max(1, max|x|) for every
    kept t and variable; 0 if none (or non-finite)."""
    R, B, k = rec.shape
    pmax = min(max_period, R // 2)
    for b in range(B):
        out[b] = 0
        s = 1.0
        finite = True
        for t in range(R):
            for j in range(k):
                v = abs(rec[t, b, j])
                if not (v <= 1e300):
                    finite = False
                elif v > s:
                    s = v
        if not finite:
            continue
        thr = tol * s
        for p in range(1, pmax + 1):
            ok = True
            for t in range(R - p):
                for j in range(k):
                    if not (abs(rec[t + p, b, j] - rec[t, b, j]) <= thr):
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                out[b] = p
                break


def detect_periods(records, max_period: int, tol: float = 1e-8) -> np.ndarray:
    """Smallest period (≤ ``max_period``) of each recorded orbit (R, B, k); 0 if none."""
    r = np.ascontiguousarray(records, dtype=np.float64)
    out = np.zeros(r.shape[1], np.int64)
    _periods(r, int(max_period), float(tol), out)
    return out


def initial_states(fam: MapFamily, x0, params) -> np.ndarray:
    """Initial states (G, k) for a parameter grid from a state (k,), an array (G, k) or a
    callable params → (G, k)."""
    params = np.asarray(params, dtype=np.float64)
    G = params.size
    X = x0(params) if callable(x0) else x0
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = np.broadcast_to(X, (G, fam.k))
    if X.shape != (G, fam.k):
        raise BifurcationError(f"initial states must have shape ({fam.k},) or ({G}, {fam.k}), got {X.shape}")
    return np.ascontiguousarray(X)


@dataclass
class Scan:
    """Attractors over a parameter grid: params (G,), records (keep, G, k) of the kept steps,
    period (G,) (0: none ≤ max_period), diverged (G,), final (G, k)."""

    params: np.ndarray
    records: np.ndarray
    period: np.ndarray
    diverged: np.ndarray
    final: np.ndarray
    transient: int
    max_period: int


def scan(fam: MapFamily, x0, params, transient: int = 3000, keep: int | None = None, max_period: int = 16,
         tol: float = 1e-7, threshold: float = DIVERGE) -> Scan:
    """Iterate every grid point from its initial state (see :func:`initial_states`) for
    ``transient`` steps, then record ``keep`` steps (default 4·max_period) and detect periods."""
    params = np.asarray(params, dtype=np.float64).ravel()
    keep = 4 * int(max_period) if keep is None else int(keep)
    X0 = initial_states(fam, x0, params)
    tr = fam.iterate(X0, params, steps=int(transient), threshold=threshold)
    rec = fam.iterate(tr.x, params, steps=keep, record_every=1, threshold=threshold, diverged=tr.diverged)
    div = rec.diverged | ~np.all(np.isfinite(rec.x), axis=1)
    per = detect_periods(rec.records, max_period, tol)
    per[div] = 0
    return Scan(params=params, records=rec.records, period=per, diverged=div, final=rec.x, transient=int(transient),
                max_period=int(max_period))
