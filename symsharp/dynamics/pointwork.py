"""Compiled per-point work of the scans: tangent vectors from a hash of each point's own inputs,
and period / convergence / escape statistics of recorded orbit windows.

Everything here is a Numba kernel over a batch of points in which each point's result depends only
on that point's numbers — never on its index, its neighbours, the tile or the batch size — so a
scan gives the same answer whatever its tiling, scheduler or progress bar.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ..codegen.window import window_stats_all

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


@nb.njit(cache=True)
def _mix(z):
    """SplitMix64's finaliser (a bijection of uint64 with good avalanche)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True)
def _tangent_vectors(XB, PB, seed, out):
    """out[b, :] = components in (-1, 1) from a hash of (seed, PB[b, :], XB[b, :]) (uint64 bit patterns)."""
    B, k = out.shape
    m = PB.shape[1]
    for b in range(B):
        h = _mix(seed + _GOLDEN)
        for j in range(m):
            h = _mix(h ^ (PB[b, j] + _GOLDEN))
        for j in range(k):
            h = _mix(h ^ (XB[b, j] + _M1))
        nz = False
        for j in range(k):
            h = _mix(h + _GOLDEN)
            u = np.float64(h >> _S11) * (1.0 / 9007199254740992.0)
            out[b, j] = 2.0 * u - 1.0
            if out[b, j] != 0.0:
                nz = True
        if not nz:
            out[b, 0] = 1.0


def tangent_vectors(x0, params, seed: int = 0) -> np.ndarray:
    """Initial tangent vectors (B, k) for the Lyapunov exponents of B points, each drawn from a hash
    of (``seed``, the point's parameter values, its initial state): the same point gets the same
    vector wherever it sits in a grid and whatever the tiling."""
    x = np.ascontiguousarray(np.asarray(x0, dtype=np.float64) + 0.0)  # + 0.0: -0.0 hashes like 0.0
    p = np.ascontiguousarray(np.asarray(params, dtype=np.float64) + 0.0)
    if x.ndim != 2 or p.ndim != 2 or x.shape[0] != p.shape[0]:
        raise ValueError(f"tangent_vectors needs x0 (B, k) and params (B, m), got {x.shape} and {p.shape}")
    out = np.empty(x.shape, np.float64)
    _tangent_vectors(x.view(np.uint64), p.view(np.uint64), np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF), out)
    return out


def window_stats(records_rkb, ref_kb, max_period: int, tol: float, escape_factor: float):
    """(period, mismatch, escaping, drifting) of a window of records (R, k, B) with per-variable
    scale floors ``ref_kb`` (k, B) (see :func:`symsharp.codegen.window.window_stats_all`)."""
    rec = np.ascontiguousarray(records_rkb)
    ref = np.ascontiguousarray(ref_kb, dtype=np.float64)
    B = rec.shape[2]
    period = np.zeros(B, np.int64)
    mismatch = np.full(B, np.inf)
    escape = np.zeros(B, np.bool_)
    drift = np.zeros(B, np.bool_)
    if B and rec.shape[0]:
        window_stats_all(rec, ref, int(max_period), float(tol), float(escape_factor), period, mismatch, escape, drift)
    return period, mismatch, escape, drift
