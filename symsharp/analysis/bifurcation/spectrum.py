"""Lyapunov spectra (all exponents, QR method) and basins of attraction of a :class:`MapFamily`.

Both run on the compiled kernels: states are advanced by :meth:`CompiledMap.iterate` in chunks,
the tangent map :meth:`CompiledMap.jacobian` is evaluated on the recorded states in one batched
call, and a cached Numba loop carries an orthonormal frame through the Jacobians with modified
Gram–Schmidt, adding log |r_ii| per step.  Every trajectory is independent of the others, so
results depend only on each grid point (never on its position in a batch).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np
import xarray as xr

from ._scan import DIVERGE, detect_periods, initial_states
from ._config import config_json
from .family import BifurcationError, MapFamily
from .orbits import PeriodicOrbit, periodic_orbits


@nb.njit(cache=True)
def _qr_accumulate(J, Q, S, alive):
    """Advance the frames Q (B, k, k) (columns orthonormal) through J (T, B, k, k); add
    log |r_jj| to S (B, k).  A column annihilated by J contributes log(1e-300)."""
    T, B, k, _ = J.shape
    W = np.empty((k, k))
    for b in range(B):
        if not alive[b]:
            continue
        for t in range(T):
            for i in range(k):
                for j in range(k):
                    s = 0.0
                    for q in range(k):
                        s += J[t, b, i, q] * Q[b, q, j]
                    W[i, j] = s
            for j in range(k):
                for i in range(j):
                    r = 0.0
                    for q in range(k):
                        r += Q[b, q, i] * W[q, j]
                    for q in range(k):
                        W[q, j] -= r * Q[b, q, i]
                nrm = 0.0
                for q in range(k):
                    nrm += W[q, j] * W[q, j]
                nrm = math.sqrt(nrm)
                if not (nrm > 1e-300):
                    S[b, j] += math.log(1e-300)
                    for q in range(k):
                        Q[b, q, j] = 1.0 if q == j else 0.0
                else:
                    S[b, j] += math.log(nrm)
                    for q in range(k):
                        Q[b, q, j] = W[q, j] / nrm


def lyapunov_spectrum(fam: MapFamily, x0, params, steps: int = 10_000, transient: int = 1000,
                      frame_transient: int = 100, threshold: float = DIVERGE, chunk: int | None = None) -> xr.Dataset:
    """All k Lyapunov exponents (descending) of the attractor reached from ``x0`` at each
    parameter value (``x0``: a state, an array (G, k) or a callable of the parameter array).

    QR method over ``steps`` steps after ``transient`` plain steps and ``frame_transient`` steps
    that only align the orthonormal frame (started as the identity) with the tangent dynamics
    (without them the estimates carry an O(1/steps) bias from the initial frame).
    Returns a Dataset with ``exponent`` (param, exponent) (NaN where the orbit diverged), their
    ``sum`` (the mean log |det J|), ``kaplan_yorke`` dimension and ``diverged``."""
    steps, transient = int(steps), int(transient)
    if steps < 1:
        raise BifurcationError(f"steps must be a positive integer, got {steps!r}")
    P = np.atleast_1d(np.asarray(params, dtype=np.float64)).ravel()
    G, k = P.size, fam.k
    X = initial_states(fam, x0, P)
    KP = fam.kernel_params(P)
    tr = fam.iterate(X, P, steps=transient, threshold=threshold)
    x, alive = tr.x, ~tr.diverged
    Q = np.broadcast_to(np.eye(k), (G, k, k)).copy()
    S = np.zeros((G, k))
    c = int(chunk) if chunk else max(1, min(1000, int(4e6 // max(1, G * k * k))))
    for total, acc in ((int(frame_transient), np.zeros((G, k))), (steps, S)):
        done = 0
        while done < total:
            n = min(c, total - done)
            rec = fam.iterate(x, P, steps=n, record_every=1, record_from=0, threshold=threshold, diverged=~alive)
            J = fam.kernel.jacobian(rec.records[:n], KP[None, :, :])
            alive = alive & ~rec.diverged & np.all(np.isfinite(J), axis=(0, 2, 3))
            _qr_accumulate(np.ascontiguousarray(J), Q, acc, alive)
            x = rec.x
            done += n
    lam = S / steps
    lam = -np.sort(-lam, axis=1)
    lam[~alive] = np.nan
    ky = np.array([_kaplan_yorke(l) for l in lam])
    ds = xr.Dataset({"exponent": (("param", "exponent_index"), lam),
                     "sum": ("param", np.sum(lam, axis=1)),
                     "kaplan_yorke": ("param", ky),
                     "diverged": ("param", ~alive)},
                    coords={"param": P, "exponent_index": np.arange(k)})
    ds["param"].attrs["long_name"] = fam.param
    ds.attrs["symsharp"] = config_json(fam, kind="lyapunov_spectrum", steps=steps, transient=transient,
                                       frame_transient=int(frame_transient),
                                       threshold=threshold, x0=x0 if not callable(x0) else "callable")
    return ds


def _kaplan_yorke(l):
    if not np.all(np.isfinite(l)):
        return float("nan")
    cs = np.cumsum(l)
    if cs[0] < 0:
        return 0.0
    j = int(np.max(np.nonzero(cs >= 0)[0]))
    if j == len(l) - 1:
        return float(len(l))
    return float(j + 1 + cs[j] / abs(l[j + 1]))


# ------------------------------------------------------------------------------------ basins
def basins(fam: MapFamily, param, xs, ys, axes=(0, 1), base=None, attractors: list | None = None,
           transient: int = 2000, max_period: int = 16, threshold: float = DIVERGE, tol: float = 1e-6) -> xr.Dataset:
    """Basins of attraction at ``param`` over the grid ``xs`` × ``ys`` of the state variables
    ``axes`` (other variables from ``base``).

    Each grid point is iterated ``transient`` steps, then its period (≤ ``max_period``) detected
    over 4·max_period steps and its final state matched (within ``tol`` relative) against the
    catalogue ``attractors`` (default: the stable isolated cycles found by
    :func:`periodic_orbits` from a subsample of the grid).  Labels: −1 diverged (a state variable
    above ``threshold``), 0 … n−1 catalogue attractors, n + p − 1 a period-p orbit not in the
    catalogue (e.g. a point of a continuum of fixed points), n + max_period bounded without a
    period ≤ max_period (e.g. chaotic).  ``attractor_name`` describes every label."""
    k = fam.k
    ax = tuple(int(a) for a in axes)
    if len(ax) != 2 or ax[0] == ax[1] or not all(0 <= a < k for a in ax):
        raise BifurcationError(f"axes must be two different state indices in 0..{k - 1}, got {axes!r}")
    xs = np.asarray(xs, dtype=np.float64).ravel()
    ys = np.asarray(ys, dtype=np.float64).ravel()
    b = np.zeros(k) if base is None else np.asarray(base, dtype=np.float64).reshape(k)
    Xg, Yg = np.meshgrid(xs, ys)
    S0 = np.broadcast_to(b, Xg.shape + (k,)).copy()
    S0[..., ax[0]] = Xg
    S0[..., ax[1]] = Yg
    S0 = S0.reshape(-1, k)
    pv = float(param)
    if attractors is None:
        sub = S0[:: max(1, len(S0) // 64)]
        orbs = periodic_orbits(fam, pv, max_period=max_period, seeds=sub, n_random=64, transient=transient)
        attractors = [o for o in orbs if o.isolated and o.stable]
    cat: list[PeriodicOrbit] = list(attractors)
    n = len(cat)
    B = len(S0)
    tr = fam.iterate(S0, np.full(B, pv), steps=int(transient), threshold=threshold)
    keep = 4 * int(max_period)
    rec = fam.iterate(tr.x, np.full(B, pv), steps=keep, record_every=1, threshold=threshold, diverged=tr.diverged)
    div = rec.diverged | ~np.all(np.isfinite(rec.x), axis=1)
    per = detect_periods(rec.records, max_period, 1e-8)
    lab = np.full(B, n + int(max_period), np.int64)
    xf = rec.x
    sc = 1.0 + np.max(np.abs(xf), axis=1)
    matched = np.zeros(B, bool)
    for i, o in enumerate(cat):
        d = np.min(np.max(np.abs(xf[:, None, :] - o.points[None, :, :]), axis=2), axis=1)
        m = ~matched & (per == o.period) & (d <= tol * sc)
        lab[m] = i
        matched |= m
    other = ~matched & (per > 0)
    lab[other] = n + per[other] - 1
    lab[div] = -1
    per[div] = 0
    names = [f"period-{o.period} cycle through {np.array2string(o.points[0], precision=6)}" for o in cat]
    names += [f"other period-{p} orbit" for p in range(1, int(max_period) + 1)] + ["bounded, no period <= max_period"]
    ds = xr.Dataset({"label": (("y", "x"), lab.reshape(Xg.shape)),
                     "period": (("y", "x"), per.reshape(Xg.shape)),
                     "attractor_name": ("attractor", np.array(names, dtype=object))},
                    coords={"x": xs, "y": ys, "attractor": np.arange(len(names))})
    ds["x"].attrs["long_name"] = fam.state[ax[0]]
    ds["y"].attrs["long_name"] = fam.state[ax[1]]
    ds["label"].attrs["flag_meanings"] = "-1: diverged; see attractor_name for the others"
    ds.attrs["symsharp"] = config_json(fam, kind="basins", param=pv, axes=list(ax), base=b.tolist(),
                                       transient=int(transient), max_period=int(max_period), threshold=threshold,
                                       tol=tol, attractors=[o.to_dict() for o in cat])
    return ds
