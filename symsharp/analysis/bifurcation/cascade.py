"""Period-doubling cascades, periodic windows and the boundary crisis of a :class:`MapFamily`.

- :func:`cascade` starts from the attractor at one parameter value, follows its orbit backwards
  to the flip it was born in (a *collapse* of the orbit onto its half-period orbit, repeated while
  the period is even) and forwards through flip after flip with branch switching, then forms the
  Feigenbaum ratios δ_j = (p_j − p_{j−1})/(p_{j+1} − p_j) and extrapolates the accumulation point
  (the onset of chaos) geometrically with the last ratio.
- :func:`periodic_windows` scans the parameter range with the compiled kernel for attracting
  cycles of period ≤ P that appear after a non-periodic (or unrelated) attractor, follows each such
  cycle backwards to the saddle-node (fold) that created it — through collapses onto half-period
  orbits when the window's own cascade was met first — and locates the fold in mpmath.  A window
  narrower than the scan's grid step may be missed: the result says which grid was used.
- :func:`boundary_crisis` brackets the parameter beyond which no bounded attractor remains by
  bisection on escape of the attractor (many steps of the compiled kernel), then looks for the
  contact that causes it — a critical point x_c (det ∂F/∂x = 0) of the attractor mapped in n
  steps onto an unstable fixed point x_u — and solves {det J(x_c) = 0, F^n(x_c) = x_u,
  F(x_u) = x_u} in mpmath; the contact is accepted only inside the escape bracket.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import mpmath as mp
import numpy as np

from ._linalg import mp_solve
from ._scan import DIVERGE, Scan, detect_periods, initial_states, scan
from .continuation import BifurcationPoint, Branch, continue_orbit, switch_at_flip
from .family import BifurcationError, MapFamily
from .orbits import newton_cycles, periodic_orbits

FEIGENBAUM_GUESS = 4.669
"""Only a step-size hint for the first stages of a cascade (never a result)."""


# ------------------------------------------------------------------------------------ attractor
def attractor_cycle(fam: MapFamily, x0, param, transient: int = 5000, max_period: int = 64, tol: float = 1e-7):
    """(period, point) of the attracting cycle reached from ``x0`` at ``param`` after
    ``transient`` steps, the point refined by Newton's method; raises when no period ≤
    ``max_period`` is found."""
    x0 = np.asarray(x0, dtype=np.float64).reshape(1, fam.k)
    tr = fam.iterate(x0, [param], steps=int(transient), threshold=DIVERGE)
    if tr.diverged[0]:
        state = ", ".join(f"{s} = {float(v):.6g}" for s, v in zip(fam.state, x0[0]))
        raise BifurcationError(f"the orbit from the given state ({state}) diverges at {fam.param} = {float(param):.12g}; "
                               f"start the cascade (--start) at a value of {fam.param} where it stays bounded, or give another "
                               "initial state (the model's state options)")
    rec = fam.iterate(tr.x, [param], steps=4 * max_period, record_every=1, threshold=DIVERGE)
    p = int(detect_periods(rec.records, max_period, tol)[0])
    if p == 0:
        raise BifurcationError(f"no attracting cycle of period <= {max_period} at {fam.param} = {float(param):.12g}; "
                               "start the cascade where the attractor is periodic")
    X, ok = newton_cycles(fam, rec.x, [param], p)
    if not ok[0]:
        raise BifurcationError(f"Newton's method did not converge on the attracting period-{p} cycle at "
                               f"{fam.param} = {float(param):.12g}")
    return p, X[0]


# ------------------------------------------------------------------------------------ cascade
@dataclass
class Cascade:
    """A period-doubling cascade: ``flips`` ordered by period (1, 2, 4, … or from the period at
    which it was entered), Feigenbaum ratio estimates ``deltas`` (floats; ``deltas_mp`` strings),
    the accumulation point ``onset`` (float, ``onset_mp``) with ``onset_uncertainty`` (difference
    from the extrapolation that uses one flip fewer), and the ``branches`` followed."""

    flips: list
    deltas: list
    deltas_mp: list
    onset: float | None
    onset_mp: str | None
    onset_uncertainty: float | None
    branches: list
    stop_reason: str
    start: float
    start_period: int


def _mp_param(bp: BifurcationPoint):
    if bp.param_exact is not None:
        return mp.mpf(bp.param_exact)
    return mp.mpf(bp.param_mp) if bp.param_mp is not None else mp.mpf(bp.param)


def feigenbaum(flips: list, digits: int = 15):
    """Ratios δ_j and the geometric accumulation point from flips of consecutive periods.
    Returns (deltas_mp, onset_mp, uncertainty_mp) (mpf; onset None with fewer than 3 flips)."""
    with mp.workdps(int(digits) + 10):
        f = [_mp_param(b) for b in flips]
        d = [(f[j] - f[j - 1]) / (f[j + 1] - f[j]) for j in range(1, len(f) - 1)]
        if len(d) == 0:
            return [], None, None
        onset = f[-1] + (f[-1] - f[-2]) / (d[-1] - 1)
        unc = None
        if len(d) >= 2:
            prev = f[-2] + (f[-2] - f[-3]) / (d[-2] - 1)
            unc = abs(onset - prev)
        return d, onset, unc


def cascade(fam: MapFamily, x0, start, lo: float | None = None, hi: float | None = None, flips: int = 10,
            digits: int = 15, transient: int = 5000, max_period: int = 4096, backward: bool = True,
            h0: float | None = None, tail: int = 8) -> Cascade:
    """Follow the period-doubling cascade through the attractor reached from ``x0`` at ``start``.

    Backwards (``backward``): while the attractor's period p is even, its branch is continued
    down to the collapse onto the period-p/2 orbit, which locates the flip of period p/2.
    Forwards: the branch is continued up to its flip, the period-doubled branch is entered by
    :func:`switch_at_flip`, and so on until ``flips`` flips are located in total, the period
    exceeds ``max_period``, or a branch ends otherwise (fold, range [lo, hi]).  Every flip is
    refined in mpmath to ``digits`` significant digits.  Each branch is continued ``tail`` steps
    past its flip (the unstable orbit, for figures)."""
    if int(flips) != flips or flips < 1:
        raise BifurcationError(f"flips must be a positive integer, got {flips!r}")
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    start = float(start)
    p0, x = attractor_cycle(fam, x0, start, transient=transient)
    found: list[BifurcationPoint] = []
    branches: list[Branch] = []
    bid = 0
    # ---- backwards: collapses
    if backward:
        p, xb, eb = p0, x, start
        while p % 2 == 0 and len(found) < flips:
            br = continue_orbit(fam, xb, eb, p, direction=-1, lo=lo, hi=hi, h0=h0, detect=("collapse",),
                                stop_at=("collapse",), digits=digits, _branch_id=bid, max_steps=2000)
            bid += 1
            branches.append(br)
            col = [b for b in br.bifurcations if b.kind == "flip"]
            if not col:
                break
            bp = col[-1]
            found.append(bp)
            p //= 2
            if p % 2:
                break
            xb, eb = bp.x, bp.param
    # ---- forwards: flips and branch switching
    p, xf, ef = p0, x, start
    tangent = None
    reason = "flips"
    while len(found) < flips:
        fl = sorted([b.param for b in found])
        if len(fl) >= 2:
            dl = (fl[-1] - fl[-2]) / (fl[-2] - fl[-3]) if len(fl) >= 3 else 1 / FEIGENBAUM_GUESS
            gap = (fl[-1] - fl[-2]) * min(max(dl, 0.05), 0.6)
            hh0, hmax, target = gap / 25, gap / 5, gap / 50
        else:
            hh0, hmax, target = h0, None, None
        br = continue_orbit(fam, xf, ef, p, direction=1, lo=lo, hi=hi, h0=hh0, hmax=hmax, tangent=tangent,
                            detect=("flip", "fold", "neimark_sacker"), stop_at=("flip", "fold"), digits=digits,
                            _branch_id=bid, max_steps=2000, steps_after_stop=tail)
        bid += 1
        branches.append(br)
        flp = [b for b in br.bifurcations if b.kind == "flip"]
        if br.stop_reason != "flip" or not flp:
            reason = f"the period-{p} branch ended: {br.stop_reason}"
            break
        bp = flp[-1]
        found.append(bp)
        if len(found) >= flips:
            break
        if 2 * p > max_period:
            reason = f"period {2 * p} above max_period"
            break
        fl = sorted([b.param for b in found])
        tgt = target
        if tgt is None and len(fl) >= 2:
            tgt = (fl[-1] - fl[-2]) / FEIGENBAUM_GUESS / 50
        try:
            xf, ef, tangent = switch_at_flip(fam, bp, target=tgt)
        except BifurcationError as exc:
            reason = str(exc)
            break
        if bp.neutral > 0:
            # a flip on a continuum of orbits (e.g. a line of fixed points) is degenerate: where
            # it sits depends on which member of the continuum was followed.  The doubled orbit
            # found next to it is born elsewhere on the continuum; follow it back to its collapse
            # and take that as the flip.
            try:
                back = continue_orbit(fam, xf, ef, 2 * p, tangent=-tangent, lo=lo, hi=hi, detect=("collapse",),
                                      stop_at=("collapse",), digits=digits, _branch_id=bid, max_steps=2000)
                bid += 1
                col = [b for b in back.bifurcations if b.kind == "flip"]
                if col:
                    branches.append(back)
                    col[-1].method += (f"; replaces the degenerate flip at {fam.param} = {bp.param:.12g} "
                                       "on a continuum of orbits")
                    found[found.index(bp)] = col[-1]
            except BifurcationError:
                pass
        p *= 2
    found.sort(key=lambda b: (b.period, b.param))
    d, onset, unc = feigenbaum(found, digits)
    return Cascade(flips=found, deltas=[float(v) for v in d], deltas_mp=[mp.nstr(v, digits) for v in d],
                   onset=float(onset) if onset is not None else None,
                   onset_mp=mp.nstr(onset, digits) if onset is not None else None,
                   onset_uncertainty=float(unc) if unc is not None else None, branches=branches,
                   stop_reason=reason, start=start, start_period=p0)


# ------------------------------------------------------------------------------------ windows
@dataclass
class Window:
    """A periodic window: an attracting period-``period`` orbit born in the saddle-node ``fold``
    at ``opens`` (float; ``fold.param_mp`` the refined decimal)."""

    period: int
    opens: float
    fold: BifurcationPoint
    seen_at: float
    seen_period: int

    def to_dict(self) -> dict:
        return {"period": int(self.period), "opens": float(self.opens), "opens_mp": self.fold.param_mp,
                "uncertainty": float(self.fold.uncertainty), "seen_at": float(self.seen_at),
                "seen_period": int(self.seen_period)}


@dataclass
class WindowSearch:
    windows: list
    scan: Scan
    candidates: int
    branches: list = field(default_factory=list)
    grid_step: float = float("nan")


def periodic_windows(fam: MapFamily, x0, lo: float, hi: float, max_period: int = 16, grid: int = 20000,
                     transient: int = 3000, digits: int = 15, scan_result: Scan | None = None,
                     max_depth: int = 4) -> WindowSearch:
    """Every periodic window of period ≤ ``max_period`` opening by a saddle-node in [lo, hi] whose
    attracting cycle is seen on a grid of ``grid`` parameter values (attractors from ``x0``, see
    :func:`symsharp.analysis.bifurcation._scan.initial_states`).

    A run of grid points with the same period p that follows a non-periodic point (or a period
    other than p/2) is a candidate; its cycle is continued backwards to the fold that opens the
    window (through collapses onto half-period orbits, at most ``max_depth`` of them).  Windows are
    de-duplicated by their fold and sorted by where they open."""
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        raise BifurcationError(f"the parameter range must have lo < hi, got [{lo}, {hi}]")
    sc = scan_result if scan_result is not None else scan(fam, x0, np.linspace(lo, hi, int(grid)),
                                                          transient=transient, max_period=max_period)
    per, P = sc.period, sc.params
    step = float(P[1] - P[0]) if len(P) > 1 else 1.0
    cands = []
    for i in range(1, len(P)):
        p, q = int(per[i]), int(per[i - 1])
        if p == 0 or p == q:
            continue
        if q == 0 or (2 * q != p):
            cands.append(i)
    windows: list[Window] = []
    branches = []
    seen_folds: list[BifurcationPoint] = []

    def known(b):
        return any(f.period == b.period and abs(f.param - b.param) <= 1e-9 * (1 + abs(b.param)) for f in seen_folds)

    for i in cands:
        p = int(per[i])
        eta = float(P[i])
        X, ok = newton_cycles(fam, sc.final[i][None, :], [eta], p)
        if not ok[0]:
            continue
        xb, eb, pb = X[0], eta, p
        for _ in range(max_depth + 1):
            try:
                br = continue_orbit(fam, xb, eb, pb, direction=-1, lo=max(lo - (hi - lo), -math.inf), hi=hi,
                                    h0=step / 4, hmax=4 * step, detect=("fold", "collapse"),
                                    stop_at=("fold", "collapse"), digits=digits, max_steps=400, refine=("fold",),
                                    steps_after_stop=8)
            except BifurcationError:
                break
            branches.append(br)
            folds = [b for b in br.bifurcations if b.kind == "fold"]
            if folds:
                f = folds[-1]
                if not known(f):
                    seen_folds.append(f)
                    windows.append(Window(period=f.period, opens=f.param, fold=f, seen_at=eta, seen_period=p))
                break
            col = [b for b in br.bifurcations if b.kind == "flip"]
            if not col or pb % 2:
                break
            xb, eb, pb = col[-1].x, col[-1].param, pb // 2
            if pb < 1:
                break
    windows.sort(key=lambda w: w.opens)
    return WindowSearch(windows=windows, scan=sc, candidates=len(cands), branches=branches, grid_step=step)


# ------------------------------------------------------------------------------------ crisis
@dataclass
class Crisis:
    """The boundary crisis: ``param`` (float) and ``param_mp`` (decimal) — the contact point when
    one was found inside the escape ``bracket``, else the bracket's midpoint — with ``method``,
    ``uncertainty``, and for a contact the critical point ``x_c``, the unstable fixed point
    ``x_u`` and the number of steps ``n`` with F^n(x_c) = x_u."""

    param: float
    param_mp: str | None
    bracket: tuple
    method: str
    uncertainty: float
    x_c: np.ndarray | None = None
    x_u: np.ndarray | None = None
    n: int | None = None

    def to_dict(self) -> dict:
        return {"param": float(self.param), "param_mp": self.param_mp, "bracket": [float(b) for b in self.bracket],
                "method": self.method, "uncertainty": float(self.uncertainty),
                "x_c": None if self.x_c is None else [float(v) for v in self.x_c],
                "x_u": None if self.x_u is None else [float(v) for v in self.x_u], "n": self.n}


def _bounded(fam, seeds, eta, steps):
    tr = fam.iterate(seeds, np.full(len(seeds), eta), steps=int(steps), threshold=DIVERGE)
    return bool(np.any(~tr.diverged & np.all(np.isfinite(tr.x), axis=1)))


def _contact_system64(fam, z, n, extra=None, h=1e-7):
    k = fam.k
    xc, xu, eta = z[:k], z[k:2 * k], z[2 * k]

    def detj(x, e):
        return float(np.linalg.det(fam.jacobian64(x[None, :], [e])[0]))

    pts, E, _ = fam.cycle64(xc[None, :], [eta], n)
    pu, Eu, _ = fam.cycle64(xu[None, :], [eta], 1)
    R = np.concatenate([[detj(xc, eta)], pts[n, 0] - xu, pu[1, 0] - xu])
    J = np.zeros((2 * k + 1, 2 * k + 1))
    for j in range(k + 1):
        dz = np.zeros(k)
        hj = h * (1 + abs(z[j] if j < k else eta))
        if j < k:
            dz[j] = hj
            J[0, j] = (detj(xc + dz, eta) - detj(xc - dz, eta)) / (2 * hj)
        else:
            J[0, 2 * k] = (detj(xc, eta + hj) - detj(xc, eta - hj)) / (2 * hj)
    J[1:k + 1, :k] = E[0, :, :k]
    J[1:k + 1, k:2 * k] = -np.eye(k)
    J[1:k + 1, 2 * k] = E[0, :, k]
    J[k + 1:, k:2 * k] = Eu[0, :, :k] - np.eye(k)
    J[k + 1:, 2 * k] = Eu[0, :, k]
    if extra is not None:
        xbar, N = extra
        R = np.concatenate([R, N @ (xc - xbar)])
        J = np.vstack([J, np.concatenate([N, np.zeros((N.shape[0], k + 1))], axis=1)])
    return R, J


def _contact_newton64(fam, z, n, extra=None, maxit=30):
    for _ in range(maxit):
        R, J = _contact_system64(fam, z, n, extra)
        if not (np.all(np.isfinite(R)) and np.all(np.isfinite(J))):
            return None, None
        dz = np.linalg.lstsq(J, -R, rcond=1e-13)[0]
        z = z + dz
        if np.max(np.abs(dz)) <= 1e-10 * (1 + np.max(np.abs(z))):
            R, J = _contact_system64(fam, z, n, extra)
            return (z, J) if np.max(np.abs(R)) <= 1e-9 * (1 + np.max(np.abs(z))) else (None, None)
    return None, None


def _line_error(samples, zm, k, extra):
    """Distance of the nearest attractor samples from the fitted line (a bound on how far the
    constrained critical point may sit off the attractor), scaled to the parameter by nothing
    better than 1: reported as the uncertainty of a degenerate contact."""
    xbar, N = extra
    x = np.array([float(v) for v in zm[:k]])
    d = np.max(np.abs(samples - x[None, :]), axis=1)
    S = samples[np.argsort(d)[:max(8, 2 * k + 2)]]
    return float(np.max(np.abs((S - xbar) @ N.T)))


def _attractor_line(samples, x, k):
    """(x̄, N): centre of the attractor samples nearest to x and the normals (k − 1 rows) of the
    line through them (principal direction), for constraining a point to the attractor."""
    d = np.max(np.abs(samples - x[None, :]), axis=1)
    idx = np.argsort(d)[:max(8, 2 * k + 2)]
    S = samples[idx]
    xbar = S.mean(axis=0)
    _, _, Vt = np.linalg.svd(S - xbar)
    return xbar, Vt[1:]


def _contact_mp(fam, z, n, digits, extra=None):
    k = fam.k
    with mp.workdps(int(digits) + 15):
        z = [mp.mpf(float(v)) for v in z]
        tol = mp.mpf(10) ** (-(int(digits) + 8))
        fd = mp.mpf(10) ** (-(mp.mp.dps // 2))
        if extra is not None:
            xbar = [mp.mpf(float(v)) for v in extra[0]]
            Nm = [[mp.mpf(float(v)) for v in row] for row in extra[1]]
        for _ in range(40):
            xc, xu, eta = z[:k], z[k:2 * k], z[2 * k]
            pts, E, _ = fam.cycle_mp(xc, eta, n)
            pu, Eu, _ = fam.cycle_mp(xu, eta, 1)
            d0 = fam.det_jacobian_mp(xc, eta)
            R = [d0] + [pts[n][i] - xu[i] for i in range(k)] + [pu[1][i] - xu[i] for i in range(k)]
            row = []
            for j in range(k):
                v = xc[:]
                hj = fd * (1 + abs(v[j]))
                v[j] += hj
                row.append((fam.det_jacobian_mp(v, eta) - d0) / hj)
            row += [mp.mpf(0)] * k
            he = fd * (1 + abs(eta))
            row.append((fam.det_jacobian_mp(xc, eta + he) - d0) / he)
            J = [row]
            for i in range(k):
                J.append([E[i][j] for j in range(k)] + [-(1 if i == j else 0) for j in range(k)] + [E[i][k]])
            for i in range(k):
                J.append([mp.mpf(0)] * k + [Eu[i][j] - (1 if i == j else 0) for j in range(k)] + [Eu[i][k]])
            if extra is not None:
                for nr in Nm:
                    R.append(mp.fsum(nr[i] * (xc[i] - xbar[i]) for i in range(k)))
                    J.append(nr[:] + [mp.mpf(0)] * (k + 1))
            d = mp_solve(J, [-r for r in R], minnorm=extra is not None)
            z = [z[i] + d[i] for i in range(2 * k + 1)]
            if max(abs(c) for c in d) <= tol * (1 + max(abs(c) for c in z)):
                return z, max(abs(c) for c in d)
    raise BifurcationError("Newton on the contact system did not converge in mpmath")


def boundary_crisis(fam: MapFamily, x0, lo: float, hi: float, grid: int = 2001, transient: int = 3000,
                    steps: int = 100_000, samples: int = 64, digits: int = 15, max_n: int = 3,
                    scan_result: Scan | None = None) -> Crisis:
    """The boundary crisis in [lo, hi]: the parameter beyond which no orbit from the attractor
    stays bounded (see the module docstring for the method).  Needs a bounded attractor at some
    grid point and divergence at every grid point above the last bounded one."""
    sc = scan_result if scan_result is not None else scan(fam, x0, np.linspace(float(lo), float(hi), int(grid)),
                                                          transient=transient, max_period=8)
    P, div = sc.params, sc.diverged
    if np.all(div):
        raise BifurcationError(f"every orbit diverges on [{lo}, {hi}]; no bounded attractor to lose")
    bounded_idx = np.nonzero(~div)[0]
    ib = int(bounded_idx[-1])
    X0 = initial_states(fam, x0, P)
    samples_n = int(samples)

    def attractor_samples(start, eta):
        tr = fam.iterate(start, np.full(len(start), eta), steps=int(transient), threshold=DIVERGE)
        ok = ~tr.diverged
        if not np.any(ok):
            return None
        rec = fam.iterate(tr.x[ok][:1], [eta], steps=int(samples_n), record_every=1, threshold=DIVERGE)
        return None if rec.diverged[0] else rec.records[:, 0, :]

    seeds = attractor_samples(X0[ib:ib + 1], float(P[ib]))
    if seeds is None or not _bounded(fam, seeds, float(P[ib]), steps):
        raise BifurcationError(f"the attractor at {fam.param} = {float(P[ib]):.12g} escapes within {steps} steps")
    # walk up the grid from the last bounded point with the attractor itself as seeds: a transient
    # from the scan's initial state may escape although a bounded attractor still exists
    j = ib + 1
    while j < len(P):
        if not _bounded(fam, seeds, float(P[j]), steps):
            break
        nxt = attractor_samples(seeds, float(P[j]))
        if nxt is None:
            break
        seeds, ib, j = nxt, j, j + 1
    if j >= len(P):
        raise BifurcationError(f"a bounded attractor remains up to {fam.param} = {P[-1]:.12g}; widen the range")
    a, b = float(P[ib]), float(P[j])
    for _ in range(200):
        mid = 0.5 * (a + b)
        if mid <= a or mid >= b:
            break
        if _bounded(fam, seeds, mid, steps):
            a = mid
        else:
            b = mid
    bracket = (a, b)
    width = max(b - a, 1e-15 * (1 + abs(a)))
    gstep = float(P[1] - P[0]) if len(P) > 1 else width
    # ---- contact: a critical point mapped onto an unstable fixed point
    k = fam.k
    best = None
    try:
        fps = [o for o in periodic_orbits(fam, a, max_period=1, seeds=seeds, n_random=64, transient=200)
               if o.isolated and np.max(np.abs(o.multipliers)) > 1]
    except BifurcationError:
        fps = []
    if fps:
        # a long orbit on the attractor a little below the bracket (where it is surely bounded)
        a_in = a - min(gstep, 1e-3 * (1 + abs(a)))
        tr = fam.iterate(seeds[:1], [a_in], steps=2000, threshold=DIVERGE)
        long = fam.iterate(tr.x, [a_in], steps=20000, record_every=1, threshold=DIVERGE).records[:, 0, :]
        long = long[np.all(np.isfinite(long), axis=1)]
        for n in range(1, int(max_n) + 1):
            if not len(long):
                break
            img = fam.iterate(long, np.full(len(long), a), steps=n, threshold=DIVERGE).x
            for fp in fps:
                xu = fp.points[0]
                dist = np.max(np.abs(img - xu[None, :]), axis=1)
                for j in np.argsort(dist)[:3]:
                    z0 = np.concatenate([long[j], xu, [0.5 * (a + b)]])
                    z, J = _contact_newton64(fam, z0, n)
                    extra = None
                    if z is not None:
                        sv = np.linalg.svd(J, compute_uv=False)
                        if sv[-1] <= 1e-9 * sv[0]:
                            # a degenerate family of contacts (e.g. a whole curve of critical points
                            # mapped into an invariant curve): keep the one on the attractor, i.e.
                            # on the line through the nearest attractor samples
                            extra = _attractor_line(long, z[:k], k)
                            z, J = _contact_newton64(fam, z, n, extra)
                    # the escape bracket is biased upwards by the finite number of steps (escape
                    # times diverge at the crisis): accept a contact below b within one grid step,
                    # if orbits escape just above it and not just below it
                    if z is None or not (a - gstep <= z[-1] <= b + 1e-12 * (1 + abs(b))):
                        continue
                    try:
                        zm, unc = _contact_mp(fam, z, n, digits, extra)
                    except BifurcationError:
                        continue
                    ec = float(zm[-1])
                    dl = max(1e-6 * (1 + abs(ec)), 2 * (b - ec))
                    if not (_bounded(fam, seeds, ec - dl, steps) and not _bounded(fam, seeds, ec + dl, steps)):
                        continue
                    if extra is not None:
                        # how far the parameter moves if the line is off by the samples' scatter
                        r = max(_line_error(long, zm, k, extra), 1e-16 * (1 + float(np.max(np.abs(z[:k])))))
                        z2, _ = _contact_newton64(fam, z, n, (extra[0] + r * extra[1][0], extra[1]))
                        sens = abs(z2[-1] - z[-1]) if z2 is not None else abs(b - a)
                        unc = max(float(unc), float(sens))
                    cand = (abs(ec - b), n, zm, unc, extra is not None)
                    if best is None or cand[0] < best[0]:
                        best = cand
            if best is not None:
                break
    if best is not None:
        _, n, zm, unc, degenerate = best
        with mp.workdps(int(digits) + 15):
            eta = zm[-1]
            how = (" (a degenerate family of such contacts: the one on the attractor's local line through "
                   "the nearest samples)") if degenerate else ""
            return Crisis(param=float(eta), param_mp=mp.nstr(eta, int(digits)), bracket=bracket,
                          method=f"contact: a critical point (det J = 0) maps in {n} step(s) onto an unstable "
                                 f"fixed point{how} (mpmath); escape bracket width {width:.2e}",
                          uncertainty=max(float(unc), 10.0 ** (-int(digits) - 2) * (1 + abs(float(eta)))),
                          x_c=np.array([float(v) for v in zm[:k]]), x_u=np.array([float(v) for v in zm[k:2 * k]]), n=n)
    return Crisis(param=0.5 * (a + b), param_mp=None, bracket=bracket,
                  method=f"bisection on escape of the attractor within {steps} steps (no contact found)",
                  uncertainty=width)
