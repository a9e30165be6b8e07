"""Period, convergence and escape statistics of recorded orbit windows (Numba).

:func:`window_stats_all` examines a batch of recorded windows in parallel; :func:`stats_block` is
its per-block body, which the generated ``window`` kernels call on each tile's own records right
after computing them (so the records never leave the core's cache).  Each point's result depends
only on that point's records and scale floors, never on its block, tile or batch.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_BLOCK = 64


@nb.njit(cache=True)
def _max_step(REC, lo, hi, p, md):
    """md[j, i] = max over the window of |x_{t+p, j} − x_{t, j}| for the points lo … hi−1 of the
    block (all in lockstep, along contiguous rows: the loop vectorises; NaN differences are
    ignored, as in a comparison)."""
    R, k, _ = REC.shape
    md[:, :] = 0.0
    for t in range(R - p):
        for j in range(k):
            r1 = REC[t + p, j, lo:hi]
            r0 = REC[t, j, lo:hi]
            mj = md[j]
            for i in range(hi - lo):
                d = abs(r1[i] - r0[i])
                m = mj[i]
                mj[i] = d if d > m else m


@nb.njit(cache=True)
def _abs_max_rows(REC, t0, t1, lo, hi, out):
    """out[i] = max(out[i], max over t0 ≤ t < t1 and every variable j of |REC[t, j, lo + i]|) for the
    points lo … hi−1 (in lockstep along contiguous rows: the loop vectorises)."""
    for t in range(t0, t1):
        for j in range(REC.shape[1]):
            row = REC[t, j, lo:hi]
            for i in range(hi - lo):
                a = abs(row[i])
                m = out[i]
                out[i] = a if a > m else m


@nb.njit(cache=True)
def stats_block(REC, REF, lo, hi, off, max_period, tol, escape_factor, PERIOD, MISMATCH, ESCAPE, DRIFT):
    """The statistics of :func:`window_stats_all` for the points lo … hi−1 (at most one block of
    64) of the records REC[R, k, ·], with their scale floors and outputs at off + lo … off + hi − 1 of
    REF[k, ·] and the output arrays (called per block by :func:`window_stats_all`, off = 0, and by
    the fused ``window`` kernels of :mod:`symsharp.codegen.generate` on a tile's own records while
    they are in the core's cache, off = the tile's first point)."""
    R, k, B = REC.shape
    pmax = min(max_period, R // 2)
    q = max(1, R // 4)
    n = hi - lo
    scale = np.zeros((k, n))
    acc = np.zeros(n)
    first = np.zeros(n)
    last = np.zeros(n)
    for j in range(k):
        for i in range(n):
            r = abs(REF[j, off + lo + i])
            scale[j, i] = r if r <= 1e300 else 0.0
    for t in range(R):
        for j in range(k):
            row = REC[t, j, lo:hi]
            sc = scale[j]
            for i in range(n):
                a = abs(row[i])
                acc[i] += a
                m = sc[i]
                sc[i] = a if a > m else m
    _abs_max_rows(REC, 0, q, lo, hi, first)
    _abs_max_rows(REC, R - q, R, lo, hi, last)
    lim = np.empty((k, n))
    for j in range(k):
        for i in range(n):
            lim[j, i] = tol * scale[j, i]
    # periods 1 and 2: the largest step over the window against the limit (max |Δ| > lim exactly
    # when some |Δ| > lim)
    fail = np.ones((3, n), np.bool_)  # fail[p, i]: p = 1, 2 is not a period of point i
    mdk = np.zeros((2, k, n))
    for lag in range(1, 3):
        if pmax >= lag:
            md = mdk[lag - 1]
            _max_step(REC, lo, hi, lag, md)
            for i in range(n):
                fail[lag, i] = False
            for j in range(k):
                for i in range(n):
                    fail[lag, i] |= md[j, i] > lim[j, i]
    pt = np.empty((k, R))
    for i in range(n):
        c = lo + i
        b = off + c
        PERIOD[b] = 0
        MISMATCH[b] = np.inf
        ESCAPE[b] = False
        DRIFT[b] = False
        if not (acc[i] <= 1e300):
            continue
        ESCAPE[b] = last[i] > escape_factor * max(first[i], 2.2250738585072014e-308)
        found = 1 if not fail[1, i] else (2 if not fail[2, i] else 0)
        if found == 0:
            # longer periods: the point's records copied to contiguous rows; p is a period exactly
            # when no |x_{t+p, j} − x_{t, j}| exceeds lim[j] (the scan stops at the first that does)
            for j in range(k):
                for t in range(R):
                    pt[j, t] = REC[t, j, c]
            for p in range(3, pmax + 1):
                ok = True
                for j in range(k):
                    L = lim[j, i]
                    row = pt[j]
                    for t in range(R - p):
                        if abs(row[t + p] - row[t]) > L:
                            ok = False
                            break
                    if not ok:
                        break
                if ok:
                    found = p
                    break
        if found > 0:
            PERIOD[b] = found
            MISMATCH[b] = 0.0
            for t in range(found):
                t2 = t + found * ((R - 1 - t) // found)
                for j in range(k):
                    if abs(REC[t2, j, c] - REC[t, j, c]) > lim[j, i]:
                        DRIFT[b] = True
            continue
        # no period: how far from periodic the window is, min over p of max_{t, j} |Δ| / s_j;
        # max_t fl(|Δ_t| / s) = fl(max_t |Δ_t| / s) (correctly rounded division by s > 0 is monotonic).
        # A lag is abandoned as soon as its running maximum exceeds the best so far: its maximum is
        # at least that, so it cannot be the minimum (exact: no rounding enters the comparison).
        best = np.inf
        for p in range(1, pmax + 1):
            m = 0.0
            for j in range(k):
                sj = scale[j, i]
                if sj > 0.0:
                    if p <= 2:
                        v = mdk[p - 1, j, i] / sj
                    else:
                        row = pt[j]
                        cur = 0.0
                        v = 0.0
                        for t in range(R - p):
                            d = abs(row[t + p] - row[t])
                            if d > cur:
                                cur = d
                                v = cur / sj
                                if v > best:
                                    break
                    m = v if v > m else m
                    if m > best:
                        break
            best = m if m < best else best
        MISMATCH[b] = best


@nb.njit(cache=True, parallel=True)
def window_stats_all(REC, REF, max_period, tol, escape_factor, PERIOD, MISMATCH, ESCAPE, DRIFT):
    """Per point b of the records REC[R, k, B]:

    PERIOD[b]: smallest p ≤ min(max_period, R // 2) with |x_{t+p, j} − x_{t, j}| ≤ tol · s_j for
    every kept t and every variable j, where s_j = max(|REF[j, b]|, max_t |x_{t, j}|) is the
    variable's own scale (0 if none; also 0 for non-finite or huge records);
    MISMATCH[b] (only for points without a period): min over p of max_{t, j} |x_{t+p, j} − x_{t, j}| / s_j
    (how far the window is from periodic; 0 for points with a period, inf for non-finite records);
    ESCAPE[b]: the largest |x| over the last quarter exceeds ``escape_factor`` times that over the
    first quarter;
    DRIFT[b]: a period p was found, but the states p·n steps apart across the whole window differ by
    more than tol · s_j (each period repeats within tol, yet the cycle is still moving: an orbit
    converging slowly, e.g. a decaying period-2 oscillation near a flip).

    Points are handled in blocks of 64: scales and the tests for periods 1 and 2 (the common
    answers) run over the whole block in lockstep (loops that vectorise); only points still
    undecided are copied to contiguous memory, where each longer lag p is tested until its first
    difference above the limit, and the mismatch scans each lag only while it can still be the
    minimum.  Comparisons of maxima are exact, so the answers are those of the definitions above,
    bit for bit."""
    B = REC.shape[2]
    nblk = (B + _BLOCK - 1) // _BLOCK
    for ib in nb.prange(nblk):
        lo = ib * _BLOCK
        stats_block(REC, REF, lo, min(B, lo + _BLOCK), 0, max_period, tol, escape_factor, PERIOD, MISMATCH,
                    ESCAPE, DRIFT)
