"""The chain model beyond the edge of stability: does GD follow a period-doubling route to chaos?

Full-batch GD on the chain model in SVD coordinates (state (z, v) ∈ R^{r + D − 1}, the map of
:func:`symsharp.models.chain.dynamics.chain_svd_model`) is handed to the generic bifurcation engine
(:mod:`symsharp.analysis.bifurcation`) with the learning rate measured in units of the flattest
minimum's sharpness: the continuation parameter is h = η·S*, S* = min over all global minima of
S(θ*) (:func:`flattest_minimum`).  The global minima form a (D − 1)-dimensional manifold of fixed
points (neutral multipliers 1); for h < 2 the minima with η·S(θ*) < 2 attract, for h > 2 none does.

:func:`chain_route` runs, for one data set and depth:

- the cascade (:func:`~symsharp.analysis.bifurcation.cascade`) from the attracting 2-cycle at
  h = 2.2, followed back to its collapse onto the manifold (the first flip, on a continuum of
  fixed points) and forward through flip after flip with branch switching; Feigenbaum ratios and
  the geometric accumulation point (onset of chaos);
- the loss of the attractor (:func:`attractor_loss`): the smallest h above the onset beyond which
  the orbit from the attractor leaves for good — by divergence (D = 2) or onto the set of critical
  points with zero output ∏v = 0, a "dead" network (D ≥ 3, where {v_j = v_k = 0} is a plane of
  critical points), located by bisection on escape with the attractor itself as seeds;
- the periodic windows between onset and crisis (:func:`~symsharp.analysis.bifurcation.periodic_windows`);
- independent checks: the period of GD runs of the hand-written kernel of
  :func:`~symsharp.models.chain.dynamics.run_chain` (not generated from SymPy) just below and above
  every located flip, and the largest Lyapunov exponent (QR method) below the onset and in chaos.

For rank-one data the balanced line z = v_1 = … = v_{D−1} is invariant and the route is that of the
1-D map x ↦ x − (h/D) x^{D−1}(x^D − 1) (:func:`rank_one_map`, derived from the GD map), universal
in h; :func:`one_d_flips` locates its flips independently (mpmath Newton on {G^p(x) = x,
(G^p)'(x) = −1} from brackets of a float64 scan).
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field

import mpmath as mp
import numpy as np
import sympy as sp

from ...errors import SymsharpError

ROUTE_DATA = {
    "rank1": {"kind": "gaussian", "samples": 1, "dim": 3, "seed": 0},
    "rank2": {"kind": "gaussian", "samples": 2, "dim": 2, "seed": 0},
    "rank3": {"kind": "gaussian", "samples": 5, "dim": 3, "seed": 0},
}
"""The data sets of the route analysis: ``make_dataset(kind, samples=…, dim=…, seed=…)`` (Gaussian
X, y = Xw*: rank min(N, d))."""
ROUTE_DEPTHS = (2, 3)
START = 2.2
"""h = η·S* at which the cascade starts (an attracting 2-cycle for every case here)."""
H_PARAM = "eta_S"
CRISIS_STEPS = 100_000
"""Steps within which an orbit must escape for the attractor to count as lost (the crisis is also
located with a quarter of them; the difference is reported as ``shift_with_steps``)."""


class ChainRouteError(SymsharpError):
    """Bad input to the chain route analysis (one clear sentence)."""


# ------------------------------------------------------------------------------------- data
@functools.lru_cache(maxsize=None)
def route_data(name: str):
    """(X, y) of the named data set of :data:`ROUTE_DATA`."""
    from ...data import make_dataset

    if name not in ROUTE_DATA:
        raise ChainRouteError(f"unknown route data set {name!r}; choose one of {', '.join(ROUTE_DATA)}")
    c = ROUTE_DATA[name]
    ds = make_dataset(c["kind"], samples=c["samples"], dim=c["dim"], seed=c["seed"])
    return np.asarray(ds.X, float), np.asarray(ds.y, float)


def _svd(X, y):
    from ...data import svd_coordinates

    E, s, W = svd_coordinates(X)
    return E, s, W, E.T @ np.asarray(y, float)


def minimum_sharpness(sigma, d, w, N) -> float:
    """S at the global minimum with v_k² = w_k: λ_max(∏w Σ² + (Σ 1/w_k) ddᵀ)/N (CHAIN-GF-sharpness)."""
    w = np.asarray(w, float)
    M = np.prod(w) * np.diag(np.asarray(sigma, float) ** 2) + np.sum(1.0 / w) * np.outer(d, d)
    return float(np.linalg.eigvalsh(M)[-1]) / N


def flattest_minimum(X, y, depth: int) -> dict:
    """The flattest global minimum of the depth-D chain model on (X, y): S* = min over the minimum
    manifold of S(θ*), the v_k² = w_k there, the imbalances C_k = ‖z‖² − w_k, and the state
    (z, v) in SVD coordinates (v_k = +√w_k, z = z*/∏v, z*_i = d_i/σ_i).  Minimised over log w by
    Nelder–Mead from several starts (the minimum is interior: S → ∞ as any w_k → 0 or ∞)."""
    from scipy.optimize import minimize

    D = int(depth)
    if D < 2:
        raise ChainRouteError(f"depth must be an integer >= 2, got {depth!r}")
    X = np.asarray(X, float)
    N = X.shape[0]
    E, s, W, dd = _svd(X, y)
    if not np.any(dd != 0):
        raise ChainRouteError("y is orthogonal to the columns of X: the global minima have zero output")
    f = lambda lw: minimum_sharpness(s, dd, np.exp(lw), N)
    best = None
    for a in (-2.0, -0.5, 0.0, 0.5, 2.0):
        r = minimize(f, np.full(D - 1, a + 0.5 * np.log(np.sum(dd ** 2 / s ** 2)) / D), method="Nelder-Mead",
                     options={"xatol": 1e-13, "fatol": 1e-16, "maxiter": 40000, "maxfev": 80000})
        if best is None or r.fun < best.fun:
            best = r
    w = np.exp(best.x)
    v = np.sqrt(w)
    z = dd / s / np.prod(v)
    return {"S_star": float(best.fun), "v_squared": w, "C": float(z @ z) - w, "z": z, "v": v,
            "state": np.concatenate([z, v]), "rank": int(s.size), "N": N, "sigma": s, "d": dd}


# ------------------------------------------------------------------------------------- family
@functools.lru_cache(maxsize=None)
def _model(name: str, depth: int):
    from .dynamics import chain_svd_model

    X, y = route_data(name)
    return chain_svd_model(X, y, depth)


@functools.lru_cache(maxsize=None)
def route_family(name: str, depth: int):
    """(MapFamily in h = η·S*, flattest minimum): the chain's GD map on the named data set with
    η = h/S* (S* as the exact rational of its float64 value)."""
    from ...analysis.bifurcation import map_family
    from ...symbolic.calculus import gd_map

    X, y = route_data(name)
    fm = flattest_minimum(X, y, depth)
    m = _model(name, depth)
    step = gd_map(m)
    eta = [s_ for e in step.values() for s_ in e.free_symbols if s_.name == "eta"][0]
    h = sp.Symbol(H_PARAM, positive=True)
    S_rat = sp.Rational(repr(fm["S_star"]))
    step_h = {p: e.xreplace({eta: h / S_rat}) for p, e in step.items()}
    fam = map_family(step_h, list(m.params), [h], {}, param=H_PARAM, name=f"chain_route_{name}_D{depth}")
    return fam, fm


# ------------------------------------------------------------------------------------- crisis
def _lost(fam, X, h, steps, depth):
    """For each row of X: True when the orbit at h diverges (|state| > 1e8) or ends on the zero-output
    set (|∏v| < 1e-8) within ``steps`` steps."""
    tr = fam.iterate(X, np.full(len(X), h), steps=int(steps), threshold=1e8)
    x = tr.x
    ok = ~tr.diverged & np.all(np.isfinite(x), axis=1)
    pv = np.prod(x[:, fam.k - (depth - 1):], axis=1)
    return ~ok | (np.abs(pv) < 1e-8), tr


def attractor_loss(fam, x0, depth: int, lo: float, hi: float, grid: int = 400, transient: int = 4000,
                   steps: int = 20000, samples: int = 16, bisections: int = 40) -> dict:
    """The smallest h in [lo, hi] beyond which the attractor reached from x0 (continued up the
    grid, the attractor at one grid point seeding the next) is lost within ``steps`` steps:
    {"h": midpoint, "bracket": (a, b), "kind": "divergence" or "zero output (dead network)",
    "width"}.  The bracket is biased upwards by the finite number of steps (escape times diverge
    at a crisis)."""
    H = np.linspace(float(lo), float(hi), int(grid))
    x = np.atleast_2d(np.asarray(x0, float))
    seeds = None
    a = b = None
    for h in H:
        start = x if seeds is None else seeds
        lost, tr = _lost(fam, start, h, transient, depth)
        keep = ~lost
        if not np.any(keep):
            b = h
            break
        rec = fam.iterate(tr.x[keep][:1], [h], steps=int(samples), record_every=1, threshold=1e8).records[:, 0, :]
        if not np.all(np.isfinite(rec)):
            b = h
            break
        lost2, _ = _lost(fam, rec, h, steps, depth)
        if np.all(lost2):
            b = h
            break
        seeds, a = rec[~lost2], h
    if b is None:
        raise ChainRouteError(f"the attractor survives up to h = {hi}; widen the range")
    if a is None:
        raise ChainRouteError(f"no attractor at the bottom of the range h = {lo}")
    for _ in range(int(bisections)):
        mid = 0.5 * (a + b)
        lost, _ = _lost(fam, seeds, mid, steps, depth)
        if np.all(lost):
            b = mid
        else:
            a = mid
    _, tr = _lost(fam, seeds, b + 0.01 * (b - a + 1e-3), steps, depth)
    x = tr.x
    div = tr.diverged | ~np.all(np.isfinite(x), axis=1)
    kind = "divergence" if np.any(div) else "zero output (dead network)"
    return {"h": 0.5 * (a + b), "bracket": (float(a), float(b)), "kind": kind, "width": float(b - a)}


# ------------------------------------------------------------------------------------- brute force
def gd_period(X, y, depth, eta, z, v, transient=30000, keep=512, max_period=256, tol=1e-7):
    """Period of full-batch GD (the hand-written kernel of :func:`run_chain`, not generated from
    SymPy) from the SVD state (z, v) after ``transient`` steps: smallest p ≤ ``max_period`` with
    the recorded (v, loss) repeating to ``tol``; 0 if none; -1 if the run diverged."""
    from ...data import svd_coordinates
    from .dynamics import run_chain

    E, s, W = svd_coordinates(X)
    u0 = W @ np.asarray(z, float)
    r1 = run_chain(X, y, depth, eta, transient, record_every=transient, u0=u0, v0=np.asarray(v, float),
                   threshold=1e8, svd=(E, s, W))
    if r1.diverged_at is not None:
        return -1, None
    r2 = run_chain(X, y, depth, eta, keep, record_every=1, u0=r1.final_u, v0=r1.final_v, threshold=1e8, svd=(E, s, W))
    if r2.diverged_at is not None:
        return -1, None
    R = np.column_stack([r2.records["v"], r2.records["loss"], r2.records["u_norm"]])
    scale = max(1.0, float(np.max(np.abs(R))))
    for p in range(1, max_period + 1):
        if 2 * p > len(R):
            break
        if np.max(np.abs(R[p:] - R[:-p])) <= tol * scale:
            return p, R
    return 0, R


# ------------------------------------------------------------------------------------- rank one
def rank_one_map(depth: int) -> dict:
    """For rank-one data (σ, d, N): the balanced line z = v_1 = … = v_{D−1} is invariant under the
    GD map, and with w = c·x, c = (d/σ)^{1/D}, η = h/S*, S* = D d²/(N c²) (the balanced — and
    flattest — minimum), GD on it is x ↦ x − (h/D) x^{D−1}(x^D − 1) for every σ, d, N.  Derived
    from the engine's GD map of the chain model with symbolic σ, d, N; returns the invariance
    residuals (0), the 1-D map in x and h, and S* at the balanced minimum."""
    from ...symbolic.calculus import gd_map, hessian
    from .symbolic import svd_model

    import dataclasses

    m = svd_model(depth, 1)
    sig, d_real, N = m.options["sigma"][0], m.options["d"][0], m.options["N"]
    dd = sp.Symbol(d_real.name, positive=True)   # d > 0 (d < 0 is the mirror image z → −z)
    m = dataclasses.replace(m, loss=m.loss.xreplace({d_real: dd}), outputs=m.outputs, targets=(dd,))
    z = m.blocks[0].symbols[0]
    v = m.blocks[1].symbols
    step = gd_map(m)
    eta = [s_ for s_ in step[z].free_symbols if s_.name == "eta"][0]
    w = sp.Symbol("w", positive=True)
    on = {z: w, **{vk: w for vk in v}}
    images = [sp.expand(step[p].xreplace(on)) for p in m.params]
    residuals = [sp.expand(images[i] - images[0]) for i in range(len(images))]
    x, h = sp.symbols("x h", positive=True)
    c = (dd / sig) ** sp.Rational(1, depth)
    Hs = hessian(m).xreplace({z: c, **{vk: c for vk in v}}).applyfunc(sp.simplify)
    # one output and zero residual at the minimum: H = JᵀJ/N has rank one, so its top eigenvalue is its trace
    if Hs.rank(simplify=True) != 1:
        raise ChainRouteError(f"the Hessian at the balanced rank-one minimum does not have rank one (D = {depth})")
    S_star = sp.simplify(Hs.trace())
    G = sp.simplify((images[0].xreplace({w: c * x, eta: h / S_star})) / c)
    return {"residuals": residuals, "invariant": all(r == 0 for r in residuals), "map": sp.expand(G), "x": x, "h": h,
            "S_star": S_star, "c": c, "sigma": sig, "d": dd, "N": N}


def one_d_flips(depth: int, count: int = 6, dps: int = 30, grid: int = 15000, transient: int = 8000) -> list:
    """The first ``count`` period-doubling points h_j (periods 1, 2, 4, …) of the rank-one map
    x ↦ G(x; h) (:func:`rank_one_map`), independently of the bifurcation engine: a float64 scan
    of the orbit from x = 1.01 brackets where the period changes from 2^j to 2^{j+1}; mpmath Newton
    on {G^p(x) = x, (G^p)'(x) = −1} (p = 2^j, derivatives by the chain rule) refines each to
    ``dps`` digits.  Returns mpf values."""
    r = rank_one_map(depth)
    x, h = r["x"], r["h"]
    G = r["map"]
    f64 = sp.lambdify((x, h), G, "numpy")
    fmp = sp.lambdify((x, h), G, "mpmath")
    dmp = sp.lambdify((x, h), sp.diff(G, x), "mpmath")
    dhmp = sp.lambdify((x, h), sp.diff(G, h), "mpmath")
    dxx = sp.lambdify((x, h), sp.diff(G, x, 2), "mpmath")
    dxh = sp.lambdify((x, h), sp.diff(G, x, h), "mpmath")
    H = np.linspace(1.95, 2.65, int(grid))
    X = np.full(H.shape, 1.01)
    with np.errstate(all="ignore"):
        for _ in range(int(transient)):
            X = f64(X, H)
        R = np.empty((256, H.size))
        for t in range(256):
            X = f64(X, H)
            R[t] = X
    per = np.zeros(H.size, int)
    for i in range(H.size):
        col = R[:, i]
        if not np.all(np.isfinite(col)):
            continue
        for p in (1, 2, 4, 8, 16, 32, 64, 128):
            if np.max(np.abs(col[p:] - col[:-p])) <= 1e-9:
                per[i] = p
                break
    out = []
    step = float(H[1] - H[0])
    i_prev = -1
    with mp.workdps(int(dps) + 15):
        for j in range(int(count)):
            p = 2 ** j
            # bracket: the last period-p grid point before the first period-2p point that follows a period-p
            # point (the cascade's flips come in order; points in between may be unsettled, period 0)
            two = np.nonzero(per == 2 * p)[0]
            two = [k for k in two if k > i_prev and np.any(per[i_prev + 1:k] == p)]
            if not two:
                break
            k = int(two[0])
            i = int(np.nonzero(per[:k] == p)[0][-1])
            i_prev = i
            half = 0.5 * float(H[k] - H[i])
            hh = mp.mpf(float(H[i]))
            x0 = mp.mpf(float(R[-1, i]))
            # Newton on F(x, h) = (G^p(x) − x, (G^p)'(x) + 1) with the 2 × 2 Jacobian by the chain rule
            for _ in range(100):
                xs = [x0]
                for _t in range(p):
                    xs.append(fmp(xs[-1], hh))
                gx, gh = mp.mpf(1), mp.mpf(0)          # ∂G^p/∂x, ∂G^p/∂h
                gxx, gxh = mp.mpf(0), mp.mpf(0)        # ∂²G^p/∂x², ∂²G^p/∂x∂h
                for t in range(p):
                    a, b = dmp(xs[t], hh), dhmp(xs[t], hh)
                    axx, axh = dxx(xs[t], hh), dxh(xs[t], hh)
                    gxx_n = axx * gx ** 2 + a * gxx
                    gxh_n = axx * gx * gh + axh * gx + a * gxh
                    gx, gh, gxx, gxh = a * gx, a * gh + b, gxx_n, gxh_n
                F1, F2 = xs[p] - x0, gx + 1
                J = mp.matrix([[gx - 1, gh], [gxx, gxh]])
                d = mp.lu_solve(J, mp.matrix([-F1, -F2]))
                x0, hh = x0 + d[0], hh + d[1]
                if max(abs(d[0]), abs(d[1])) < mp.mpf(10) ** (-(int(dps) + 5)):
                    break
            else:
                raise ChainRouteError(f"Newton for the period-{p} flip of the rank-one map did not converge")
            # critical slowing down blurs the scan's bracket by a few grid steps; the cascade's flips increase
            if not ((float(out[-1]) if out else 1.9) < float(hh) and abs(float(hh) - float(H[i]) - half) <= half + 60 * step):
                raise ChainRouteError(f"Newton for the period-{p} flip left its bracket near h = {H[i]:.6f}")
            out.append(+hh)
    return out


# ------------------------------------------------------------------------------------- the route
@dataclass
class ChainRoute:
    """The route to chaos of GD on the chain model for one data set and depth, h = η·S*."""

    name: str
    depth: int
    rank: int
    S_star: float
    minimum: dict
    flips: list                 # h of the flips, periods 1, 2, 4, … (floats)
    flips_mp: list              # decimal strings
    flip_periods: list
    deltas: list
    onset: float | None
    onset_uncertainty: float | None
    first_flip_distance: float  # |x(first flip) − flattest minimum|∞ (relative)
    windows: list               # [{"period", "opens"}]
    crisis: dict
    checks: dict                # brute-force periods and Lyapunov exponents
    result: object = None       # BifurcationResult (for figures)
    seconds: float = 0.0
    stop_reason: str = ""
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"data": self.name, "config": ROUTE_DATA[self.name], "depth": self.depth, "rank": self.rank,
                "S_star": self.S_star, "flips": self.flips, "flip_periods": self.flip_periods,
                "feigenbaum_deltas": self.deltas, "chaos_onset": self.onset,
                "chaos_onset_uncertainty": self.onset_uncertainty, "windows": self.windows, "crisis": self.crisis,
                "first_flip_distance": self.first_flip_distance, "checks": self.checks, "seconds": self.seconds}


def _x0_near(fm, scale=1.02):
    return np.asarray(fm["state"], float) * scale


@functools.lru_cache(maxsize=None)
def chain_route(name: str, depth: int, flips: int = 8, digits: int = 20, max_period: int = 8, grid: int = 3000,
                windows: bool = True, checks: bool = True) -> ChainRoute:
    """The route to chaos of GD on the chain model (data set ``name`` of :data:`ROUTE_DATA`, depth
    ``depth``) in h = η·S*: see the module docstring.  Cached per arguments."""
    from ...analysis.bifurcation import BifurcationResult, cascade, lyapunov_spectrum, periodic_windows, scan
    from ...analysis.bifurcation.cascade import Crisis

    t0 = time.perf_counter()
    fam, fm = route_family(name, int(depth))
    X, y = route_data(name)
    x0 = _x0_near(fm)
    cas = cascade(fam, x0, START, lo=1.5, hi=4.5, flips=int(flips), digits=int(digits), transient=20000)
    fl = sorted(cas.flips, key=lambda b: b.period)
    hs = [float(b.param) for b in fl]
    first = fl[0]
    dist = float(np.max(np.abs(first.x - fm["state"])) / (1 + np.max(np.abs(fm["state"]))))
    onset = cas.onset
    loss = attractor_loss(fam, x0, int(depth), lo=(onset or hs[-1]) + 0.01, hi=6.0, steps=CRISIS_STEPS)
    short = attractor_loss(fam, x0, int(depth), lo=(onset or hs[-1]) + 0.01, hi=6.0, steps=CRISIS_STEPS // 4)
    loss["steps"] = CRISIS_STEPS
    loss["shift_with_steps"] = float(loss["h"] - short["h"])   # escape within N vs N/4 steps
    ws, wl = None, []
    sc = None
    if windows and onset is not None:
        hi_w = loss["bracket"][0] - 1e-3
        x0f = lambda P: np.broadcast_to(x0, (np.size(P), fam.k))
        sc = scan(fam, x0f, np.linspace(1.9, hi_w, int(grid)), transient=3000, max_period=max_period)
        m = sc.params > onset
        from ...analysis.bifurcation import Scan

        sub = Scan(params=sc.params[m], records=sc.records[:, m], period=sc.period[m], diverged=sc.diverged[m],
                   final=sc.final[m], transient=sc.transient, max_period=sc.max_period)
        ws = periodic_windows(fam, x0f, onset, hi_w, max_period=max_period, digits=int(digits), scan_result=sub)
        wl = [{"period": int(w.period), "opens": float(w.opens), "opens_mp": w.fold.param_mp} for w in ws.windows]
    chk = {}
    if checks:
        # brute force with the hand-written GD kernel, in η = h/S*
        from ...data import svd_coordinates

        E, s, W = svd_coordinates(X)
        z0, v0 = x0[:fm["rank"]], x0[fm["rank"]:]
        rows = []
        for j, b in enumerate(fl):
            gap = (hs[j + 1] - hs[j]) if j + 1 < len(hs) else (hs[j] - hs[j - 1]) / 4.67
            gap_lo = (hs[j] - hs[j - 1]) if j > 0 else 0.2
            lo_h, hi_h = hs[j] - 0.25 * min(gap_lo, 4 * gap), hs[j] + 0.25 * gap
            plo, _ = gd_period(X, y, depth, lo_h / fm["S_star"], z0, v0, max_period=4 * b.period)
            phi, _ = gd_period(X, y, depth, hi_h / fm["S_star"], z0, v0, max_period=4 * b.period)
            rows.append({"period": int(b.period), "h_below": lo_h, "period_below": int(plo), "h_above": hi_h,
                         "period_above": int(phi)})
        # and from a small random start (init scale 0.1, seed 0), as in training, between the first flips
        from .dynamics import init_chain

        us, vs = init_chain(X.shape[1], int(depth), 0.1, 0)
        zs = W.T @ us
        small = []
        for j in range(min(3, len(hs) - 1)):
            hm = 0.5 * (hs[j] + hs[j + 1])
            pm, _ = gd_period(X, y, depth, hm / fm["S_star"], zs, vs, transient=60000, max_period=16)
            small.append({"h": hm, "period": int(pm), "expected": int(fl[j].period) * 2})
        chk["small_start"] = small
        # the first period-3 window: GD is 3-periodic just above its saddle-node, aperiodic just below
        p3 = [w for w in wl if w["period"] == 3]
        if p3:
            o = p3[0]["opens"]
            pin, _ = gd_period(X, y, depth, (o + 1e-4) / fm["S_star"], z0, v0, max_period=16)
            pout, _ = gd_period(X, y, depth, (o - 1e-4) / fm["S_star"], z0, v0, max_period=16)
            chk["period3_window"] = {"opens": o, "period_above": int(pin), "period_below": int(pout)}
        chk["bruteforce"] = rows
        # largest Lyapunov exponent: between the first two flips (periodic) and on a grid from the
        # onset to the loss of the attractor (chaos, with windows)
        below = [0.5 * (hs[0] + hs[1])] if len(hs) > 1 else [START]
        above = list(np.linspace(onset, loss["bracket"][0], 102)[1:-1]) if onset is not None else []
        ly = lyapunov_spectrum(fam, x0, below + above, steps=20000, transient=5000)
        lam = ly["exponent"].values[:, 0]
        chk["lyapunov_below_onset"] = {"h": below[0], "largest": float(lam[0])}
        if above:
            la = lam[1:]
            fin = np.isfinite(la)
            chk["lyapunov_above_onset"] = {"h": [float(h) for h in above], "largest": [float(v) for v in la],
                                           "fraction_positive": float(np.mean(la[fin] > 0)) if fin.any() else 0.0,
                                           "max": float(np.max(la[fin])) if fin.any() else float("nan"),
                                           "h_max": float(np.asarray(above)[fin][np.argmax(la[fin])]) if fin.any()
                                           else float("nan")}
    cr = Crisis(param=loss["h"], param_mp=None, bracket=loss["bracket"], method=f"bisection on the loss of the attractor "
                f"({loss['kind']})", uncertainty=loss["width"])
    res = BifurcationResult(family=fam, cascade=cas, windows=ws, crisis=cr, scan=sc,
                            options={"lo": 1.9, "hi": loss["bracket"][0], "start": START, "flips": flips, "digits": digits,
                                     "max_period": max_period, "grid": grid}, seconds=0.0)
    return ChainRoute(name=name, depth=int(depth), rank=fm["rank"], S_star=fm["S_star"], minimum=fm, flips=hs,
                      flips_mp=[b.param_mp for b in fl], flip_periods=[int(b.period) for b in fl],
                      deltas=[float(d) for d in cas.deltas], onset=onset, onset_uncertainty=cas.onset_uncertainty,
                      first_flip_distance=dist, windows=wl, crisis=loss, checks=chk, result=res,
                      seconds=round(time.perf_counter() - t0, 2), stop_reason=cas.stop_reason)


# ------------------------------------------------------------------------------------- figures
ROUTE_FIGURES = {2: "chain_route_D2", 3: "chain_route_D3"}
"""Figure stems in ``derivations/figures`` (data set :data:`FIGURE_DATA`)."""
FIGURE_DATA = "rank3"


def draw_route_figures(directory) -> list:
    """Continuation branches over the orbit diagram (``symsharp.plots.bifurcation.plot_branches``) of
    GD on the chain model, D = 2 and 3, data set :data:`FIGURE_DATA`, in h = η·S*; returns the paths."""
    from pathlib import Path

    from ...io import write_atomically
    from ...plots.bifurcation import plot_branches

    out = []
    for D, stem in ROUTE_FIGURES.items():
        r = chain_route(FIGURE_DATA, D)
        fam = r.result.family
        vi = fam.state.index("v_1")
        fig = plot_branches(r.result, variable=vi, max_labels=6)
        ax = fig.axes[0]
        ax.set_xlabel("h = η·S*  (S* = sharpness of the flattest global minimum)")
        ax.set_ylabel("v₁ (first scalar layer)")
        c = ROUTE_DATA[FIGURE_DATA]
        ax.set_title(f"chain model D = {D}, GD on Gaussian data N = {c['samples']}, d = {c['dim']} (rank {r.rank}): "
                     f"flips at h = 2, {r.flips[1]:.4f}, {r.flips[2]:.4f}, …; onset {r.onset:.4f}", fontsize=8)
        ax.axvline(r.crisis["h"], color="0.3", lw=0.8, ls=":")
        ax.annotate(f"attractor lost ({r.crisis['kind'].split(' (')[0]})", (r.crisis["h"], ax.get_ylim()[1]),
                    textcoords="offset points", xytext=(-4, -10), ha="right", fontsize=7)
        path = Path(directory) / f"{stem}.png"
        write_atomically(path, lambda tmp, f=fig: f.savefig(tmp, format="png", bbox_inches="tight"), suffix=".png")
        out.append(path)
    return out
