"""Orbit diagrams, period detection, regime labels and Lyapunov exponents of compiled maps.

Works for any :class:`symsharp.codegen.CompiledMap`; never calls SymPy.  Conventions follow
DynamicalSystems.jl: ``transient`` steps are discarded, ``keep`` steps are kept.
"""
from __future__ import annotations

from ..errors import SymsharpError

from dataclasses import dataclass
from typing import Mapping

import numba as nb
import numpy as np

from ..codegen.kernel import DEFAULT_CHECK_EVERY, DEFAULT_THRESHOLD, CompiledMap, Trajectories

REGIMES = ("converged", "catapult", "periodic", "chaotic", "aperiodic", "diverged")
"""Regime labels, indexed by the codes in :attr:`OrbitDiagram.regime`:

- ``converged``: the kept orbit is a fixed point (period 1);
- ``catapult``: converged, but the monitored loss rose above its initial value on the way;
- ``periodic``: a cycle of period 2 … ``max_period``;
- ``chaotic``: no period found and a positive largest Lyapunov exponent;
- ``aperiodic``: no period found and no positive exponent (quasi-periodic, a period above
  ``max_period``, or convergence too slow for the tolerance);
- ``diverged``: a state variable exceeded the magnitude threshold, or the orbit is escaping (its
  magnitude grew by more than :data:`ESCAPE_FACTOR` across the kept steps)."""

CONVERGED, CATAPULT, PERIODIC, CHAOTIC, APERIODIC, DIVERGED = range(len(REGIMES))

ESCAPE_FACTOR = 1e2
"""An orbit without a period whose largest state magnitude over the last quarter of the kept steps
exceeds this factor times that over the first quarter is labelled ``diverged`` (escaping), even
before it crosses the divergence threshold."""


class DynamicsError(SymsharpError):
    """Bad input to an analysis function (one clear sentence, shown to the user)."""


# ------------------------------------------------------------------------------ period detection

@nb.njit(cache=True, parallel=True)
def _detect_period(rec, max_period, tol, out):
    """rec: (R, k, B) records; out[b] = smallest p <= max_period with
    |x_{t+p} - x_t| <= tol * scale for every kept t and variable (0 if none)."""
    R, k, B = rec.shape
    pmax = min(max_period, R // 2)
    for b in nb.prange(B):
        out[b] = 0
        scale = np.empty(k)
        finite = True
        for j in range(k):
            s = 1.0
            for t in range(R):
                v = abs(rec[t, j, b])
                if not (v <= 1e300):
                    finite = False
                if v > s:
                    s = v
            scale[j] = s * tol
        if not finite:
            continue
        for p in range(1, pmax + 1):
            ok = True
            for t in range(R - p):
                for j in range(k):
                    if not (abs(rec[t + p, j, b] - rec[t, j, b]) <= scale[j]):
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                out[b] = p
                break


def detect_period(records, max_period: int = 64, tol: float = 1e-8) -> np.ndarray:
    """Smallest period p ≤ ``max_period`` (and ≤ R/2) of each recorded orbit, 0 if none.

    ``records`` has shape (R, B, k) (as returned by ``CompiledMap.iterate``) or (R, B).  An
    orbit has period p when every kept state repeats after p steps within ``tol`` times the
    variable's scale max(1, max_t |x_t|).  Orbits with non-finite or huge values get 0."""
    r = np.asarray(records, dtype=np.float64)
    if r.ndim == 2:
        r = r[:, :, None]
    if r.ndim != 3:
        raise DynamicsError(f"records must have shape (R, B, k) or (R, B), got {r.shape}")
    if int(max_period) < 1:
        raise DynamicsError(f"max_period must be a positive integer, got {max_period!r}")
    out = np.zeros(r.shape[1], np.int64)
    _detect_period(np.ascontiguousarray(np.moveaxis(r, 2, 1)), int(max_period), float(tol), out)
    return out


# ------------------------------------------------------------------------------ Lyapunov exponents

@dataclass
class LyapunovResult:
    """Largest Lyapunov exponent per trajectory (NaN where it diverged), with divergence flags."""

    exponent: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    steps: int
    final_state: np.ndarray


def lyapunov(kernel: CompiledMap, x0, params=None, steps: int = 10_000, transient: int = 0,
             v0=None, seed: int = 0, threshold: float = DEFAULT_THRESHOLD,
             check_every: int = DEFAULT_CHECK_EVERY) -> LyapunovResult:
    """Largest Lyapunov exponent λ = (1/steps) Σ_t log‖J(x_t) v_t‖ with v renormalised every step.

    ``x0`` (k,) or (B, k) and ``params`` (see :meth:`CompiledMap.param_array`) broadcast to a batch.
    After ``transient`` plain steps, the tangent vector starts from ``v0`` (default: random unit
    vectors drawn with ``seed``) and is carried by the tangent map for ``steps`` steps.  A
    tangent vector annihilated by the Jacobian (superstable orbit) contributes log(1e-30) per
    step, so such orbits get a large negative exponent instead of −∞."""
    steps = int(steps)
    if steps < 1:
        raise DynamicsError(f"steps must be a positive integer, got {steps!r}")
    x = kernel.state_array(x0)
    p = kernel.param_array(params)
    lead = np.broadcast_shapes(x.shape[:-1], p.shape[:-1])
    B = int(np.prod(lead)) if lead else 1
    x = np.broadcast_to(x, lead + (kernel.k,)).reshape(B, kernel.k)
    p = np.broadcast_to(p, lead + (kernel.m,)).reshape(B, kernel.m)
    div = np.zeros(B, bool)
    offset = np.full(B, -1, np.int64)
    if transient:
        tr = kernel.iterate(x, p, steps=transient, threshold=threshold, check_every=check_every)
        x, div, offset = tr.x, tr.diverged, tr.diverged_at
    if v0 is None:
        v0 = np.random.default_rng(seed).standard_normal((B, kernel.k))
    xf, _, acc, div2, at2 = kernel.tangent(x, p, v0, steps=steps, threshold=threshold,
                                           check_every=check_every, diverged=div)
    at = np.where(offset >= 0, offset, np.where(at2 >= 0, at2 + int(transient), -1))
    lam = acc / steps
    lam[div2] = np.nan
    return LyapunovResult(exponent=lam.reshape(lead), diverged=div2.reshape(lead),
                          diverged_at=at.reshape(lead), steps=steps, final_state=xf.reshape(lead + (kernel.k,)))


# ------------------------------------------------------------------------------ orbit diagrams

@dataclass
class OrbitDiagram:
    """Result of :func:`orbit_diagram` for G grid points (plain NumPy arrays).

    params (G, m) with names ``param_names``; values (G, keep): the kept values of
    ``observable`` (NaN where diverged); period (G,): detected period (0: none ≤ max_period);
    regime (G,): codes into :data:`REGIMES`; lyapunov (G,): largest exponent over the kept steps
    (NaN if diverged or not computed); diverged_at (G,): step of the divergence check (−1);
    loss_start / loss_peak (G,): the monitored observable at step 0 and its maximum over the run
    (None if the map has no monitor); final_state (G, k)."""

    param_names: tuple
    params: np.ndarray
    observable: str
    values: np.ndarray
    period: np.ndarray
    regime: np.ndarray
    lyapunov: np.ndarray
    diverged_at: np.ndarray
    final_state: np.ndarray
    loss_start: np.ndarray | None
    loss_peak: np.ndarray | None
    transient: int
    keep: int
    seed_out: np.ndarray | None = None

    @property
    def labels(self) -> np.ndarray:
        """The regime of every grid point as a string array."""
        return np.asarray(REGIMES, dtype=object)[self.regime].astype(str)

    def counts(self) -> dict:
        """Number of grid points in each regime."""
        return {name: int(np.sum(self.regime == i)) for i, name in enumerate(REGIMES)}


def grid_params(kernel: CompiledMap, param_grid) -> np.ndarray:
    """Parameter vectors (G, m) from a mapping {name: scalar or 1-D array} (broadcast), an array
    (G, m), or a 1-D array when the map has a single parameter."""
    if isinstance(param_grid, Mapping):
        p = kernel.param_array(param_grid)
    else:
        p = np.asarray(param_grid, dtype=kernel.dtype)
        if p.ndim == 1 and kernel.m == 1:
            p = p[:, None]
        p = kernel.param_array(p)
    if p.ndim == 1:
        p = p[None, :]
    if p.ndim != 2:
        raise DynamicsError(f"param_grid must describe a 1-D grid, got parameter array shape {p.shape}")
    return p


def orbit_diagram(kernel: CompiledMap, x0, param_grid, transient: int = 1000, keep: int = 256,
                  observable: str | None = None, max_period: int = 64, tol: float | None = None,
                  lyapunov_steps: int | None = None, chaos_threshold: float = 1e-3,
                  rise_tol: float = 1e-6, threshold: float = DEFAULT_THRESHOLD,
                  check_every: int = DEFAULT_CHECK_EVERY, seed: int = 0, continuation: bool = False,
                  seed_state=None, observe_fn=None) -> OrbitDiagram:
    """Scan a grid of parameters: discard ``transient`` steps, keep ``keep`` steps.

    Per grid point: the kept values of ``observable`` (a state variable or an observable of the
    map; default the first state variable), the period (tolerance ``tol`` relative to
    max(1, |x|); default √eps of the kernel dtype), the largest Lyapunov exponent over
    ``lyapunov_steps`` steps after the transient (default ``keep``; 0 skips it) and the regime
    (see :data:`REGIMES`).  ``catapult`` needs the map's monitored observable (the loss): it
    means the loss rose above (1 + rise_tol)·L₀ before the orbit converged.  Divergence: a
    state variable above ``threshold`` in magnitude, checked every ``check_every`` steps.

    ``continuation=True`` seeds every grid point with the previous point's state after its
    transient (the first point starts from ``seed_state`` if given, else from its ``x0``; a
    point that diverged passes on nothing, so the next one starts from its own ``x0``); the
    transients then run one after another.  ``seed_out`` of the result is the state to pass on
    to a following chunk of the grid.

    ``observe_fn(states (..., k)) -> values (...)`` computes the observable outside the kernel
    (for observables with no closed form, e.g. the chain model's sharpness); ``observable`` then
    only names it."""
    transient, keep = int(transient), int(keep)
    if transient < 0:
        raise DynamicsError(f"transient must be a non-negative integer, got {transient}")
    if keep < 2:
        raise DynamicsError(f"keep must be an integer >= 2, got {keep}")
    obs = kernel.state[0] if observable is None else observable
    if observe_fn is None and obs not in kernel.state and obs not in kernel.observables:
        raise DynamicsError(f"observable {obs!r} is neither a state variable {list(kernel.state)} "
                            f"nor an observable {list(kernel.observables)} of map {kernel.name!r}")
    P = grid_params(kernel, param_grid)
    G = P.shape[0]
    x = kernel.state_array(x0)
    if x.ndim == 1:
        x = np.broadcast_to(x, (G, kernel.k))
    if x.shape != (G, kernel.k):
        raise DynamicsError(f"x0 must have shape ({kernel.k},) or ({G}, {kernel.k}), got {x.shape}")
    tol = float(np.sqrt(np.finfo(kernel.dtype).eps)) if tol is None else float(tol)
    mon = kernel.monitor is not None
    seed_out = None
    if continuation:
        tr, x, seed_out = _continued_transients(kernel, x, P, transient, threshold, check_every, mon, seed_state)
    else:
        tr = kernel.iterate(x, P, steps=transient, threshold=threshold, check_every=check_every, monitor=mon)
    kp = kernel.iterate(tr.x, P, steps=keep, record_every=1, threshold=threshold,
                        check_every=check_every, monitor=mon, diverged=tr.diverged)
    div = kp.diverged
    div_at = np.where(tr.diverged_at >= 0, tr.diverged_at,
                      np.where(kp.diverged_at >= 0, kp.diverged_at + transient, -1))
    rec = kp.records  # (keep, G, k)
    if observe_fn is not None:
        values = np.asarray(observe_fn(rec), dtype=np.float64).T.copy()
    elif obs in kernel.state:
        values = rec[:, :, kernel.state.index(obs)].T.copy()
    else:
        values = kernel.observe(rec, P[None, :, :], names=[obs])[obs].T.copy()
    values[div] = np.nan
    period = detect_period(rec, max_period, tol)
    period[div] = 0
    lsteps = keep if lyapunov_steps is None else int(lyapunov_steps)
    lam = np.full(G, np.nan)
    if lsteps > 0:
        ly = lyapunov(kernel, tr.x, P, steps=lsteps, seed=seed, threshold=threshold,
                      check_every=check_every)
        lam = ly.exponent
        div_at = np.where((div_at < 0) & ly.diverged, ly.diverged_at + transient, div_at)
        div = div | ly.diverged
    loss_start = loss_peak = None
    regime = np.full(G, APERIODIC, np.int8)
    regime[period >= 2] = PERIODIC
    regime[(period == 0) & (lam > chaos_threshold)] = CHAOTIC
    conv = period == 1
    regime[conv] = CONVERGED
    if mon:
        loss_start = kernel.observe(x, P, names=[kernel.monitor])[kernel.monitor].astype(np.float64)
        loss_peak = np.maximum(tr.peak, kp.peak).astype(np.float64)
        rose = loss_peak > loss_start * (1.0 + rise_tol) + np.finfo(kernel.dtype).tiny
        regime[conv & rose] = CATAPULT
    # escaping orbits: no period, and the state's magnitude grew by more than ESCAPE_FACTOR from the
    # first to the last quarter of the kept steps (slow divergence that has not yet reached the
    # threshold; bounded chaotic orbits do not grow like that)
    q = max(1, keep // 4)
    with np.errstate(all="ignore"):
        first = np.max(np.abs(rec[:q]), axis=(0, 2))
        last = np.max(np.abs(rec[-q:]), axis=(0, 2))
        escaping = (period == 0) & ~div & (last > ESCAPE_FACTOR * np.maximum(first, np.finfo(np.float64).tiny))
    regime[div | escaping] = DIVERGED
    lam = np.where(div, np.nan, lam)
    return OrbitDiagram(param_names=kernel.params, params=P.astype(np.float64), observable=obs,
                        values=values, period=period, regime=regime, lyapunov=lam, diverged_at=div_at,
                        final_state=kp.x, loss_start=loss_start, loss_peak=loss_peak,
                        transient=transient, keep=keep, seed_out=seed_out)


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
