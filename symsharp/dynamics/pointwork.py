"""Compiled per-point work of the scans: tangent vectors from a hash of each point's own inputs,
and period / convergence / escape statistics of recorded orbit windows.

Everything here is a Numba kernel over a batch of points in which each point's result depends only
on that point's numbers — never on its index, its neighbours, the tile or the batch size — so a
scan gives the same answer whatever its tiling, scheduler or progress bar.
"""
from __future__ import annotations

import numba as nb
import numpy as np

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


@nb.njit(cache=True, parallel=True)
def _window_stats(REC, REF, max_period, tol, escape_factor, PERIOD, MISMATCH, ESCAPE, DRIFT):
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
    undecided are copied to contiguous memory, where the largest difference at every lag p is
    found in one pass that gives both the longer periods and the mismatch.  Comparisons of maxima
    are exact, so the answers are those of the definitions above, bit for bit."""
    R, k, B = REC.shape
    pmax = min(max_period, R // 2)
    q = max(1, R // 4)
    nblk = (B + _BLOCK - 1) // _BLOCK
    for ib in nb.prange(nblk):
        lo = ib * _BLOCK
        hi = min(B, lo + _BLOCK)
        n = hi - lo
        scale = np.zeros((k, n))
        acc = np.zeros(n)
        first = np.zeros(n)
        last = np.zeros(n)
        for j in range(k):
            for i in range(n):
                r = abs(REF[j, lo + i])
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
        for t in range(q):
            for j in range(k):
                row = REC[t, j, lo:hi]
                for i in range(n):
                    a = abs(row[i])
                    m = first[i]
                    first[i] = a if a > m else m
        for t in range(R - q, R):
            for j in range(k):
                row = REC[t, j, lo:hi]
                for i in range(n):
                    a = abs(row[i])
                    m = last[i]
                    last[i] = a if a > m else m
        lim = np.empty((k, n))
        for j in range(k):
            for i in range(n):
                lim[j, i] = tol * scale[j, i]
        # periods 1 and 2: the largest step over the window against the limit (max |Δ| > lim exactly
        # when some |Δ| > lim)
        fail1 = np.zeros(n, np.bool_)
        fail2 = np.zeros(n, np.bool_)
        md = np.empty((k, n))
        if pmax >= 1:
            _max_step(REC, lo, hi, 1, md)
            for j in range(k):
                for i in range(n):
                    fail1[i] |= md[j, i] > lim[j, i]
        else:
            fail1[:] = True
        if pmax >= 2:
            _max_step(REC, lo, hi, 2, md)
            for j in range(k):
                for i in range(n):
                    fail2[i] |= md[j, i] > lim[j, i]
        else:
            fail2[:] = True
        pt = np.empty((k, R))
        dmax = np.empty((k, pmax + 1))
        for i in range(n):
            b = lo + i
            PERIOD[b] = 0
            MISMATCH[b] = np.inf
            ESCAPE[b] = False
            DRIFT[b] = False
            if not (acc[i] <= 1e300):
                continue
            ESCAPE[b] = last[i] > escape_factor * max(first[i], 2.2250738585072014e-308)
            found = 1 if not fail1[i] else (2 if not fail2[i] else 0)
            if found == 0:
                # every period at once: dmax[j, p] = max_t |x_{t+p, j} − x_{t, j}|, the inner loop
                # over p along contiguous memory (vectorised); p is a period exactly when
                # dmax[j, p] <= lim[j] for every variable j
                for j in range(k):
                    for t in range(R):
                        pt[j, t] = REC[t, j, b]
                dmax[:, :] = 0.0
                for j in range(k):
                    row = pt[j]
                    dm = dmax[j]
                    for t in range(R - 1):
                        a = row[t]
                        ahead = row[t + 1:t + 1 + min(pmax, R - 1 - t)]
                        for p in range(ahead.shape[0]):
                            d = abs(ahead[p] - a)
                            m = dm[p + 1]
                            dm[p + 1] = d if d > m else m
                for p in range(3, pmax + 1):
                    ok = True
                    for j in range(k):
                        if dmax[j, p] > lim[j, i]:
                            ok = False
                    if ok:
                        found = p
                        break
            if found > 0:
                PERIOD[b] = found
                MISMATCH[b] = 0.0
                for t in range(found):
                    t2 = t + found * ((R - 1 - t) // found)
                    for j in range(k):
                        if abs(REC[t2, j, b] - REC[t, j, b]) > lim[j, i]:
                            DRIFT[b] = True
                continue
            # no period: how far from periodic the window is, min over p of max_{t, j} |Δ| / s_j;
            # max_t fl(|Δ_t| / s) = fl(max_t |Δ_t| / s) (correctly rounded division by s > 0 is monotonic)
            best = np.inf
            for p in range(1, pmax + 1):
                m = 0.0
                for j in range(k):
                    sj = scale[j, i]
                    if sj > 0.0:
                        v = dmax[j, p] / sj
                        m = v if v > m else m
                best = m if m < best else best
            MISMATCH[b] = best


def window_stats(records_rkb, ref_kb, max_period: int, tol: float, escape_factor: float):
    """(period, mismatch, escaping, drifting) of a window of records (R, k, B) with per-variable
    scale floors ``ref_kb`` (k, B) (see :func:`_window_stats`)."""
    rec = np.ascontiguousarray(records_rkb)
    ref = np.ascontiguousarray(ref_kb, dtype=np.float64)
    B = rec.shape[2]
    period = np.zeros(B, np.int64)
    mismatch = np.full(B, np.inf)
    escape = np.zeros(B, np.bool_)
    drift = np.zeros(B, np.bool_)
    if B and rec.shape[0]:
        _window_stats(rec, ref, int(max_period), float(tol), float(escape_factor), period, mismatch, escape, drift)
    return period, mismatch, escape, drift
