"""Orbit diagrams, period detection, regime labels and Lyapunov exponents of compiled maps.

Works for any :class:`symsharp.codegen.CompiledMap`; never calls SymPy.  Conventions follow
DynamicalSystems.jl: ``transient`` steps are discarded, ``keep`` steps are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..codegen.kernel import DEFAULT_CHECK_EVERY, DEFAULT_THRESHOLD, CompiledMap
from .common import (APERIODIC, CATAPULT, CHAOTIC, CONVERGED, DIVERGED, ESCAPE_FACTOR, PERIODIC, REGIMES,  # noqa: F401
                     UNSETTLED, DynamicsError)
from .pointwork import tangent_vectors, window_stats
from .points import lyapunov_points, orbit_points, orbit_settings


# ------------------------------------------------------------------------------ period detection

def detect_period(records, max_period: int = 64, tol: float = 1e-8, reference=None) -> np.ndarray:
    """Smallest period p ≤ ``max_period`` (and ≤ R/2) of each recorded orbit, 0 if none.

    ``records`` has shape (R, B, k) (as returned by ``CompiledMap.iterate``) or (R, B).  An
    orbit has period p when every kept state repeats after p steps within ``tol`` times each
    variable's own scale s_j = max(|reference_j|, max_t |x_{t, j}|) — every state variable counts,
    each measured against itself.  ``reference`` (B, k) is an optional floor of the scales (scans
    use the initial state, so a variable that decayed to rounding level from an O(1) start counts
    as converged).  Orbits with non-finite or huge values get 0."""
    r = np.asarray(records)
    if r.dtype not in (np.float32, np.float64):
        r = r.astype(np.float64)
    if r.ndim == 2:
        r = r[:, :, None]
    if r.ndim != 3:
        raise DynamicsError(f"records must have shape (R, B, k) or (R, B), got {r.shape}")
    if int(max_period) < 1:
        raise DynamicsError(f"max_period must be a positive integer, got {max_period!r}")
    tol = float(tol)
    if not (0 <= tol < 1):
        raise DynamicsError(f"tol must be a number in [0, 1) (a relative tolerance), got {tol!r}")
    B, k = r.shape[1], r.shape[2]
    ref = np.zeros((k, B)) if reference is None else np.abs(np.broadcast_to(np.asarray(reference, float), (B, k))).T
    per, _, _, _ = window_stats(np.moveaxis(r, 2, 1), ref, int(max_period), tol, ESCAPE_FACTOR)
    return per


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
    After ``transient`` plain steps, the tangent vector starts from ``v0`` (default: a vector
    hashed from ``seed``, the point's parameters and its initial state, so a point's exponent
    never depends on its position in the batch) and is carried by the tangent map for ``steps``
    steps.  A tangent vector annihilated by the Jacobian (superstable orbit) contributes
    log(1e-30) per step, so such orbits get a large negative exponent instead of −∞."""
    steps = int(steps)
    if steps < 1:
        raise DynamicsError(f"steps must be a positive integer, got {steps!r}")
    if int(transient) < 0:
        raise DynamicsError(f"transient must be a non-negative integer, got {transient!r}")
    x = kernel.state_array(x0)
    p = kernel.param_array(params)
    lead = np.broadcast_shapes(x.shape[:-1], p.shape[:-1])
    B = int(np.prod(lead)) if lead else 1
    x = np.broadcast_to(x, lead + (kernel.k,)).reshape(B, kernel.k)
    p = np.broadcast_to(p, lead + (kernel.m,)).reshape(B, kernel.m)
    r = lyapunov_points(kernel, x, p, steps, int(transient), seed=seed, threshold=threshold,
                        check_every=check_every, v0=v0)
    return LyapunovResult(exponent=r["lyapunov"].reshape(lead), diverged=r["diverged"].reshape(lead),
                          diverged_at=r["diverged_at"].reshape(lead), steps=steps,
                          final_state=r["final_state"].reshape(lead + (kernel.k,)))


# ------------------------------------------------------------------------------ orbit diagrams

@dataclass
class OrbitDiagram:
    """Result of :func:`orbit_diagram` for G grid points (plain NumPy arrays).

    params (G, m) with names ``param_names``; values (G, keep): the kept values of
    ``observable`` (NaN where diverged); period (G,): detected period (0: none ≤ max_period);
    regime (G,): codes into :data:`REGIMES`; lyapunov (G,): largest exponent over the kept steps
    (NaN if diverged or not computed); diverged_at (G,): step of the divergence check (−1);
    loss_start / loss_peak (G,): the monitored observable at step 0 and its maximum over the run
    (None if the map has no monitor); final_state (G, k) (NaN where diverged); steps (G,): GD steps
    run per point (more than transient + keep where the run was extended to settle)."""

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
    steps: np.ndarray | None = None

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
                  seed_state=None, observe_fn=None, settle: int | None = None) -> OrbitDiagram:
    """Scan a grid of parameters: discard ``transient`` steps, keep ``keep`` steps.

    Per grid point: the kept values of ``observable`` (a state variable or an observable of the
    map; default the first state variable), the period (every state variable must repeat within
    ``tol`` times its own scale max(|x₀|, max_t |x_t|); default √eps of the kernel dtype), the
    largest Lyapunov exponent over ``lyapunov_steps`` steps after the transient (default
    ``keep``; 0 skips it) and the regime (see :data:`REGIMES`).  ``catapult`` needs the map's
    monitored observable (the loss): the loss rose above L₀ by more than ``rise_tol`` times
    max(|L₀|, L₀ − L_final) before the orbit converged.  Divergence: a state variable above
    ``threshold`` in magnitude, checked every ``check_every`` steps.

    Points without a period are extended until their statistics settle, up to ``settle`` total
    steps (default 8·max(transient, 1000); 0 labels from the first window as before), else
    labelled ``unsettled`` (see :mod:`symsharp.dynamics.points`).

    ``continuation=True`` seeds every grid point with the previous point's state after its
    transient (the first point starts from ``seed_state`` if given, else from its ``x0``; a
    point that diverged passes on nothing, so the next one starts from its own ``x0``); the
    transients then run one after another.  ``seed_out`` of the result is the state to pass on
    to a following chunk of the grid.

    ``observe_fn(states (..., k)) -> values (...)`` computes the observable outside the kernel
    (for observables with no closed form, e.g. the chain model's sharpness); ``observable`` then
    only names it."""
    st = orbit_settings(transient=transient, keep=keep, max_period=max_period, tol=tol,
                        lyapunov_steps=lyapunov_steps, chaos_threshold=chaos_threshold, rise_tol=rise_tol,
                        threshold=threshold, check_every=check_every, seed=seed, continuation=continuation,
                        settle=settle)
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
    r = orbit_points(kernel, x, P, st, observable=obs, observe_fn=observe_fn, seed_state=seed_state)
    return OrbitDiagram(param_names=kernel.params, params=P.astype(np.float64), observable=obs,
                        values=r["values"], period=r["period"], regime=r["regime"], lyapunov=r["lyapunov"],
                        diverged_at=r["diverged_at"], final_state=r["final_state"], loss_start=r["loss_start"],
                        loss_peak=r["loss_peak"], transient=st.transient, keep=st.keep, seed_out=r["seed_out"],
                        steps=r["steps"])
