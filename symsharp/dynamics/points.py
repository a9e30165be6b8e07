"""What a scan computes at a batch of grid points: orbit windows with periods, regimes and
Lyapunov exponents (:func:`orbit_points`), or Lyapunov exponents alone (:func:`lyapunov_points`).

Each point's result depends only on its own parameters, initial state and the seed: tangent
vectors come from a hash of those (:func:`~symsharp.dynamics.pointwork.tangent_vectors`), the
kernels never mix points, and a point that diverged reports canonical values (NaN state and
exponent, period 0), never what its tile companions left behind.  So a scan's answer is the same
whatever its tiles, scheduler or progress bar.

Settling: a point without a period after its transient is not labelled from one window.  Its run is
extended (by max(4·keep, transient/4) steps, doubling each time) and a new window taken, until two
successive windows agree (same class — chaotic or not — and the orbit no longer converging towards
a cycle) or a period appears; at the cap ``settle`` (total steps) it is labelled ``unsettled``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..codegen.kernel import DEFAULT_CHECK_EVERY, DEFAULT_THRESHOLD, CompiledMap, Trajectories
from .common import (APERIODIC, CATAPULT, CHAOTIC, CONVERGED, CONVERGING_RATIO, DIVERGED, ESCAPE_FACTOR, PERIODIC,
                     UNSETTLED, DynamicsError)
from .pointwork import tangent_vectors, window_stats

SETTLE_FACTOR = 8
"""Default cap of a settled run: this many times max(transient, 1000) steps in all."""

CHUNK_POINT_STEPS = 1 << 31
"""Map steps (points × steps) per kernel call of a long iteration: a scan returns to Python about
once a second, so that Ctrl-C and SIGTERM take effect promptly.  The answers do not depend on it
(see :func:`iterate_in_chunks`)."""


def iterate_in_chunks(kernel: CompiledMap, x, P, steps: int, threshold: float, check_every: int,
                      monitor: bool = False, chunk: int | None = None) -> Trajectories:
    """:meth:`CompiledMap.iterate` without records, in calls of at most ``chunk`` steps (default:
    about :data:`CHUNK_POINT_STEPS` map steps per call, a multiple of ``check_every``).

    Bit for bit the same as one call for every trajectory that does not diverge: the state evolves by
    the same operations, divergence checks fall on the same absolute steps (chunks are whole
    multiples of ``check_every``), ``diverged_at`` counts from the start and the monitored peak is
    the maximum over the same states.  (A diverged trajectory's final state is not defined.)"""
    G = len(x)
    if chunk is None:
        chunk = (CHUNK_POINT_STEPS // max(G, 1)) // check_every * check_every
    chunk = max(check_every, int(chunk) // check_every * check_every)
    if steps <= chunk:
        return kernel.iterate(x, P, steps=steps, threshold=threshold, check_every=check_every, monitor=monitor)
    done, cur, div, peak = 0, x, None, None
    at = np.full(G, -1, np.int64)
    while done < steps:
        n = min(chunk, steps - done)
        tr = kernel.iterate(cur, P, steps=n, threshold=threshold, check_every=check_every, monitor=monitor,
                            diverged=div)
        at = np.where(at >= 0, at, np.where(tr.diverged_at >= 0, tr.diverged_at + done, -1))
        div = tr.diverged
        if monitor:
            peak = tr.peak if peak is None else np.maximum(peak, tr.peak)
        cur = tr.x
        done += n
    return Trajectories(x=cur, records=None, record_steps=np.zeros(0, np.int64), diverged=div, diverged_at=at,
                        peak=peak)


@dataclass(frozen=True)
class OrbitSettings:
    """Settings of an orbit/phase scan (validated by :func:`orbit_settings`)."""

    transient: int = 1000
    keep: int = 256
    max_period: int = 64
    tol: float | None = None
    lyapunov_steps: int | None = None
    chaos_threshold: float = 1e-3
    rise_tol: float = 1e-6
    threshold: float = DEFAULT_THRESHOLD
    check_every: int = DEFAULT_CHECK_EVERY
    seed: int = 0
    continuation: bool = False
    settle: int | None = None

    def lsteps(self) -> int:
        return self.keep if self.lyapunov_steps is None else int(self.lyapunov_steps)

    def cap(self) -> int:
        """Total steps after which an unsettled point stops (0: no settling)."""
        if self.settle is None:
            return SETTLE_FACTOR * max(self.transient, 1000)
        return int(self.settle)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _whole(value, what, minimum=0) -> int:
    from ..validate import whole_number

    return whole_number(value, what, minimum, error=DynamicsError)


def _real(value, what) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DynamicsError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise DynamicsError(f"{what} must be a finite number, got {value!r}")
    return v


def orbit_settings(**kw) -> OrbitSettings:
    """Validated :class:`OrbitSettings` (one-line :class:`DynamicsError` naming the bad value)."""
    s = OrbitSettings(**kw)
    transient = _whole(s.transient, "transient")
    keep = _whole(s.keep, "keep", 2)
    max_period = _whole(s.max_period, "max_period", 1)
    if max_period > 1_000_000:
        raise DynamicsError(f"max_period must be <= 1000000, got {max_period}")
    tol = s.tol
    if tol is not None:
        tol = _real(tol, "tol")
        if not 0 <= tol < 1:
            raise DynamicsError(f"tol must be a number in [0, 1) (a relative tolerance), got {s.tol!r}")
    ls = None if s.lyapunov_steps is None else _whole(s.lyapunov_steps, "lyapunov_steps")
    thr = _real(s.threshold, "threshold")
    if thr <= 0:
        raise DynamicsError(f"threshold must be a positive finite number, got {s.threshold!r}")
    settle = None if s.settle is None else _whole(s.settle, "settle")
    return OrbitSettings(transient=transient, keep=keep, max_period=max_period, tol=tol, lyapunov_steps=ls,
                         chaos_threshold=_real(s.chaos_threshold, "chaos_threshold"),
                         rise_tol=_real(s.rise_tol, "rise_tol"), threshold=thr,
                         check_every=_whole(s.check_every, "check_every", 1), seed=_whole(s.seed, "seed"),
                         continuation=bool(s.continuation), settle=settle)


def _tol(kernel: CompiledMap, st: OrbitSettings) -> float:
    return float(np.sqrt(np.finfo(kernel.dtype).eps)) if st.tol is None else float(st.tol)


def _monitor(kernel, x, P):
    if not len(x):
        return np.zeros(0)
    return kernel.observe(x, P, names=[kernel.monitor])[kernel.monitor].astype(np.float64)


def _values(kernel, rec, P, observable, observe_fn):
    """The observable over a window of records (R, n, k) → (n, R)."""
    if observe_fn is not None:
        return np.asarray(observe_fn(rec), dtype=np.float64).T
    if observable in kernel.state:
        return rec[:, :, kernel.state.index(observable)].T.astype(np.float64)
    return kernel.observe(rec, P[None, :, :], names=[observable])[observable].T.astype(np.float64)


def orbit_points(kernel: CompiledMap, x0, P, st: OrbitSettings, observable: str | None = None,
                 observe_fn=None, seed_state=None) -> dict:
    """Orbit windows, periods, regimes and Lyapunov exponents of G points (x0 (G, k), P (G, m)).

    Returns {"period", "regime", "lyapunov", "diverged_at", "steps", "final_state", "values" (only
    when ``observable`` is given), "loss_start", "loss_peak" (None without a monitor), "seed_out",
    "extended", "unsettled"} as NumPy arrays (see :mod:`symsharp.dynamics.points`)."""
    x0 = np.asarray(x0, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    G, k = x0.shape
    keep, ls = st.keep, st.lsteps()
    tol = _tol(kernel, st)
    mon = kernel.monitor is not None
    thr, ce = st.threshold, st.check_every
    fused = keep == ls and G >= FUSED_MIN_POINTS
    if G and ls > 0:  # compiles in a second process (if not cached) while the transient runs
        kernel.warm_up("window" if fused else "lyapunov")
    V = tangent_vectors(x0, P, st.seed)
    seed_out = None
    if st.continuation:
        tr, starts, seed_out = _continued_transients(kernel, x0, P, st.transient, thr, ce, mon, seed_state)
        starts = np.asarray(starts, dtype=np.float64)
    else:
        tr = iterate_in_chunks(kernel, x0, P, st.transient, thr, ce, mon)
        starts = x0
    ref = np.ascontiguousarray(np.abs(starts).T)
    x = tr.x
    div = tr.diverged.copy()
    div_at = tr.diverged_at.copy()
    peak = tr.peak.astype(np.float64) if mon else None
    done = np.full(G, st.transient, np.int64)
    period = np.zeros(G, np.int64)
    lam = np.full(G, np.nan)
    escape = np.zeros(G, np.bool_)
    final = np.full((G, k), np.nan)
    values = np.full((G, keep), np.nan) if observable is not None else None
    prev_mis = np.full(G, np.inf)
    prev_cls = np.zeros(G, np.int8)
    unsettled = np.zeros(G, np.bool_)
    extended = np.zeros(G, np.bool_)
    cap = st.cap()
    ext = max(4 * keep, st.transient // 4, 1)
    idx = np.flatnonzero(~div)
    rnd = 0
    while idx.size:
        rnd += 1
        xe, Ve, lam_i, dv, dat, per, mis, esc, drift, vals = _window(kernel, x[idx], P[idx], V[idx], ref[:, idx], st,
                                                                     tol, observable, observe_fn, fused)
        V[idx] = Ve
        period[idx] = per
        lam[idx] = lam_i
        escape[idx] = esc
        final[idx] = xe
        if values is not None:
            values[idx] = vals
        if mon:
            peak[idx] = np.maximum(peak[idx], _monitor(kernel, xe, P[idx]))
        div_at[idx] = np.where(dat >= 0, dat + done[idx], div_at[idx])
        div[idx] |= dv
        x[idx] = xe
        done[idx] += keep
        cls = np.where(lam_i > st.chaos_threshold, CHAOTIC, APERIODIC).astype(np.int8)
        settled = dv | ((per > 0) & ~drift) | esc
        if cap <= 0:
            break
        if rnd > 1:
            converging = mis < CONVERGING_RATIO * prev_mis[idx]
            settled |= (per == 0) & ~converging & (cls == prev_cls[idx])
        prev_mis[idx] = mis
        prev_cls[idx] = cls
        nxt = idx[~settled]
        room = done[nxt] + ext + keep <= cap
        unsettled[nxt[~room]] = True
        nxt = nxt[room]
        if not nxt.size:
            break
        extended[nxt] = True
        e = iterate_in_chunks(kernel, x[nxt], P[nxt], ext, thr, ce, mon)
        x[nxt] = e.x
        if mon:
            peak[nxt] = np.maximum(peak[nxt], e.peak.astype(np.float64))
        div_at[nxt] = np.where(e.diverged_at >= 0, e.diverged_at + done[nxt], div_at[nxt])
        div[nxt] |= e.diverged
        period[nxt[e.diverged]] = 0
        done[nxt] += ext
        ext *= 2
        idx = nxt[~e.diverged]

    regime = np.full(G, APERIODIC, np.int8)
    regime[period >= 2] = PERIODIC
    regime[(period == 0) & (lam > st.chaos_threshold)] = CHAOTIC
    conv = period == 1
    regime[conv] = CONVERGED
    loss_start = loss_peak = None
    if mon:
        loss_start = _monitor(kernel, starts, P)
        ok = np.all(np.isfinite(final), axis=1)
        loss_final = np.full(G, np.nan)
        loss_final[ok] = _monitor(kernel, final[ok], P[ok])
        loss_peak = peak
        with np.errstate(invalid="ignore"):
            rise = loss_peak - loss_start
            scale = np.maximum(np.abs(loss_start), np.abs(loss_start - loss_final))
            rose = rise > st.rise_tol * scale + np.finfo(np.float64).tiny
        regime[conv & rose] = CATAPULT
    regime[unsettled] = UNSETTLED
    regime[(period == 0) & escape] = DIVERGED
    regime[div] = DIVERGED
    period[div] = 0
    lam[div] = np.nan
    final[div] = np.nan
    if values is not None:
        values[div] = np.nan
    return {"period": period, "regime": regime, "lyapunov": lam, "diverged_at": div_at, "steps": done,
            "final_state": final, "values": values, "loss_start": loss_start, "loss_peak": loss_peak,
            "seed_out": seed_out, "extended": extended, "unsettled": regime == UNSETTLED}


FUSED_MIN_POINTS = 4096
"""Scans of at least this many points (per tile) run their windows in the fused window kernel
(:meth:`~symsharp.codegen.kernel.CompiledMap.window`, about 1.5× quicker, ~10 s to compile once per
map); smaller ones as a recorded tangent run plus :func:`~symsharp.dynamics.pointwork.window_stats`
(quicker to compile).  Bit for bit the same answers either way."""

WINDOW_BATCH = 2048
"""Points whose window is recorded and examined at once when the records leave the kernel (a
separate Lyapunov length, or an observable's values): the records (keep × k values per point)
stay in the core's cache between the kernel that writes them and the statistics that read them."""

VALUES_BATCH = 16384
"""Points per call of the fused window kernel when the observable's values are also wanted (bounds
the records buffer to VALUES_BATCH × keep × k values)."""


def _window(kernel, x, P, V, ref, st, tol, observable, observe_fn, fused=False):
    """One kept window of n points: the records, periods and statistics, the Lyapunov sum, and the
    observable's values (if asked).  ``fused`` (with a Lyapunov length equal to the window, the
    default): one fused kernel (:meth:`~symsharp.codegen.kernel.CompiledMap.window`) does all of it,
    each tile's records examined while in cache; otherwise a recorded tangent run (or a plain window
    and a separate tangent run) and the statistics, in cache-sized batches."""
    n, k = x.shape
    keep, ls = st.keep, st.lsteps()
    thr, ce = st.threshold, st.check_every
    vals = np.full((n, keep), np.nan) if observable is not None else None
    if fused and ls == keep:
        if vals is None:
            xe, Ve, acc, dv, dat, per, mis, esc, drift = kernel.window(x, P, V, keep, ref, st.max_period, tol,
                                                                      ESCAPE_FACTOR, thr, ce)
            per[dv] = 0
            return xe, Ve, acc / keep, dv, dat, per, mis, esc, drift, None
        parts = []
        buf = np.empty((keep, k, min(n, VALUES_BATCH)), kernel.dtype)
        for lo in range(0, n, VALUES_BATCH):
            hi = min(n, lo + VALUES_BATCH)
            b = buf if hi - lo == buf.shape[2] else np.empty((keep, k, hi - lo), kernel.dtype)
            r = kernel.window(x[lo:hi], P[lo:hi], V[lo:hi], keep, ref[:, lo:hi], st.max_period, tol, ESCAPE_FACTOR,
                              thr, ce, out_records=b)
            vals[lo:hi] = _values(kernel, np.moveaxis(b, 2, 1), P[lo:hi], observable, observe_fn)
            parts.append(r)
        xe, Ve, acc, dv, dat, per, mis, esc, drift = (np.concatenate(a) for a in zip(*parts))
        per[dv] = 0
        return xe, Ve, acc / keep, dv, dat, per, mis, esc, drift, vals
    xe = np.empty((n, k), kernel.dtype)
    Ve = np.empty((n, k))
    lam = np.full(n, np.nan)
    dv = np.zeros(n, np.bool_)
    dat = np.full(n, -1, np.int64)
    per = np.zeros(n, np.int64)
    mis = np.full(n, np.inf)
    esc = np.zeros(n, np.bool_)
    drift = np.zeros(n, np.bool_)
    buf = np.empty((keep, k, min(n, WINDOW_BATCH)), kernel.dtype) if ls == keep else None
    for lo in range(0, n, WINDOW_BATCH):
        hi = min(n, lo + WINDOW_BATCH)
        xi, Pi, Vi = x[lo:hi], P[lo:hi], V[lo:hi]
        if ls == keep:
            b = buf if hi - lo == buf.shape[2] else np.empty((keep, k, hi - lo), kernel.dtype)
            xo, vo, acc, d, at, rec = kernel.tangent(xi, Pi, Vi, steps=keep, threshold=thr, check_every=ce,
                                                     record=True, out_records=b)
            lam[lo:hi] = acc / keep
        else:
            w = kernel.iterate(xi, Pi, steps=keep, record_every=1, threshold=thr, check_every=ce)
            xo, d, at, rec = w.x, w.diverged, w.diverged_at, w.records
            vo = Vi
            if ls > 0:
                _, vo, acc, dl, atl = kernel.tangent(xi, Pi, Vi, steps=ls, threshold=thr, check_every=ce)
                lam[lo:hi] = acc / ls
                at = np.where(at >= 0, at, atl)
                d = d | dl
        xe[lo:hi], Ve[lo:hi], dv[lo:hi], dat[lo:hi] = xo, vo, d, at
        p_, m_, e_, dr_ = window_stats(np.moveaxis(rec, 1, 2), ref[:, lo:hi], st.max_period, tol, ESCAPE_FACTOR)
        p_[d] = 0
        per[lo:hi], mis[lo:hi], esc[lo:hi], drift[lo:hi] = p_, m_, e_, dr_
        if vals is not None:
            vals[lo:hi] = _values(kernel, rec, Pi, observable, observe_fn)
    return xe, Ve, lam, dv, dat, per, mis, esc, drift, vals


def _continued_transients(kernel, x, P, transient, threshold, check_every, mon, seed_state):
    """Transients one grid point after another, each started from the previous final state."""
    G = P.shape[0]
    xs = np.empty((G, kernel.k), kernel.dtype)
    starts = np.array(x, dtype=kernel.dtype)
    div = np.zeros(G, np.bool_)
    at = np.full(G, -1, np.int64)
    peak = np.empty(G, kernel.dtype) if mon else None
    prev = None if seed_state is None else np.asarray(seed_state, dtype=kernel.dtype).reshape(kernel.k)
    for g in range(G):
        if prev is not None:
            starts[g] = prev
        t = kernel.iterate(starts[g:g + 1], P[g:g + 1], steps=transient, threshold=threshold,
                           check_every=check_every, monitor=mon)
        xs[g], div[g], at[g] = t.x[0], t.diverged[0], t.diverged_at[0]
        if mon:
            peak[g] = t.peak[0]
        prev = None if div[g] else xs[g].copy()
    tr = Trajectories(x=xs, records=None, record_steps=np.zeros(0, np.int64), diverged=div,
                      diverged_at=at, peak=peak)
    return tr, starts, prev


def lyapunov_points(kernel: CompiledMap, x0, P, steps: int, transient: int = 0, seed: int = 0,
                    threshold: float = DEFAULT_THRESHOLD, check_every: int = DEFAULT_CHECK_EVERY, v0=None) -> dict:
    """Largest Lyapunov exponent of G points: ``transient`` plain steps, then ``steps`` steps of the
    tangent map from a vector hashed from (seed, parameters, initial state) (or ``v0``).

    Returns {"lyapunov" (NaN where diverged), "diverged", "diverged_at", "final_state"}."""
    x0 = np.asarray(x0, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    V = tangent_vectors(x0, P, seed) if v0 is None else v0
    if len(x0) and steps > 0:
        kernel.warm_up("lyapunov")  # compiles in a second process (if not cached) while the transient runs
    tr = iterate_in_chunks(kernel, x0, P, transient, threshold, check_every)
    xf, _, acc, div, at2 = kernel.tangent(tr.x, P, V, steps=steps, threshold=threshold, check_every=check_every,
                                          diverged=tr.diverged)
    at = np.where(tr.diverged_at >= 0, tr.diverged_at, np.where(at2 >= 0, at2 + int(transient), -1))
    lam = acc / steps
    lam[div] = np.nan
    xf = np.asarray(xf, dtype=np.float64)
    xf[div] = np.nan
    return {"lyapunov": lam, "diverged": div, "diverged_at": at, "final_state": xf}
