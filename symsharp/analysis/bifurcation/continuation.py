"""Pseudo-arclength continuation of fixed points and periodic orbits in one parameter.

A period-p orbit is followed as the curve of solutions u = (x, p) of G(u) = F^p(x; p) − x = 0
(single shooting: the exact Jacobian [∂F^p/∂x − I | ∂F^p/∂p] is the product of the extended
Jacobians along the cycle, from the compiled kernels).  Predictor along the tangent, Newton
corrector on the bordered system [G; tᵀ(u − u_pred)] solved in the minimal-norm sense (so that a
continuum of orbits — a *neutral* direction such as the UV model's line of minima, where a
multiplier is exactly 1 for every parameter value — neither crashes the corrector nor is taken for
a fold), step-size control from the corrector's iteration count and the turning of the tangent.

Test functions along the branch, from the multipliers μ with the neutral ones (the nullity of
[M − I | ∂F^p/∂p] minus one, nearest 1) left out:

- fold / branch point: ψ_F = Π(μ_i − 1) (a fold when the parameter also turns back);
- flip: ψ_PD = Π(μ_i + 1);
- Neimark–Sacker: ψ_NS = Π_{i<j}(μ_iμ_j − 1), kept only when a complex pair sits on the unit circle;
- collapse (even p): the cycle's two halves x and F^{p/2}(x) meet — the orbit is the period-doubled
  orbit of a flip of period p/2, met from the doubled side.

A sign change is bracketed and located by Brent's method along the branch in float64, then
refined in mpmath: flips and Neimark–Sacker points by the secant method on the test function (a
Newton solve for the orbit at each parameter value), folds by Newton on the augmented system
{G = 0, det(M − I) = 0}; a collapse by solving the period-doubled orbit at decreasing amplitudes ε
and extrapolating the parameter and the cycle's midpoint to ε = 0 in powers of ε² (Neville).
Branch switching at a flip solves the period-2p orbit at a small amplitude along the flip
eigenvector, so that :func:`symsharp.analysis.bifurcation.cascade` can follow a cascade.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import mpmath as mp
import numpy as np
from scipy.optimize import brentq

from ._linalg import compound2_mp, mp_eig, mp_solve, neville, null_tangent
from .family import BifurcationError, MapFamily

KINDS = ("fold", "branch_point", "flip", "neimark_sacker")


@dataclass
class BifurcationPoint:
    """A located bifurcation of a period-``period`` orbit.

    kind: ``fold`` (multiplier +1, the branch turns: saddle-node), ``branch_point`` (multiplier
    +1, the branch does not turn: transcritical/pitchfork), ``flip`` (multiplier −1),
    ``neimark_sacker`` (a complex pair on the unit circle).  ``param`` (float) and ``param_mp``
    (decimal string with ``digits`` significant digits, after mpmath refinement), ``x`` a point of
    the orbit, ``multipliers`` there, ``uncertainty`` an estimate of the absolute error of the
    parameter value, ``method`` how it was located, ``neutral`` the number of neutral directions
    of the branch (> 0: a degenerate point on a continuum of orbits)."""

    kind: str
    period: int
    param: float
    x: np.ndarray
    multipliers: np.ndarray
    param_mp: str | None = None
    x_mp: list | None = None
    digits: int | None = None
    uncertainty: float = float("nan")
    method: str = ""
    neutral: int = 0
    branch: int = -1
    eigvec: np.ndarray | None = None
    param_exact: object = None   # the refined value as an mpf (not serialised)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "period": int(self.period), "param": float(self.param),
                "param_mp": self.param_mp, "x": [float(v) for v in self.x], "x_mp": self.x_mp,
                "multipliers": [[float(z.real), float(z.imag)] for z in self.multipliers],
                "digits": self.digits, "uncertainty": float(self.uncertainty), "method": self.method,
                "neutral": int(self.neutral), "branch": int(self.branch)}


@dataclass
class Branch:
    """A continued branch of period-``period`` orbits (N points).

    param (N,), x (N, k) the cycle's first point, multipliers (N, k) complex, stable (N,) bool,
    n_neutral (N,), amplitude (N,) ‖x − F^{p/2}(x)‖∞ for even periods (NaN otherwise), cycles
    (N, period, k) when period ≤ the stored limit (else None), bifurcations located on it,
    stop_reason, direction (+1 / −1 in the parameter at the start)."""

    period: int
    param: np.ndarray
    x: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    n_neutral: np.ndarray
    amplitude: np.ndarray
    cycles: np.ndarray | None
    bifurcations: list = field(default_factory=list)
    stop_reason: str = ""
    direction: int = 1
    id: int = -1

    @property
    def neutral(self) -> bool:
        """Whether the branch is a continuum of orbits (a neutral direction at every point)."""
        return bool(len(self.n_neutral) and np.all(self.n_neutral > 0))

    def __len__(self):
        return len(self.param)


# ------------------------------------------------------------------------------- test functions
def _drop_neutral(mu, n_neutral):
    if n_neutral <= 0:
        return mu
    keep = np.sort(np.argsort(np.abs(mu - 1.0), kind="stable")[n_neutral:])
    return mu[keep]


def test_values(mu, n_neutral: int = 0) -> dict:
    """Test functions {fold, flip, ns} of multipliers ``mu`` with ``n_neutral`` neutral ones."""
    m = _drop_neutral(np.asarray(mu, dtype=complex), n_neutral)
    out = {"fold": float(np.real(np.prod(m - 1.0))) if m.size else 1.0,
           "flip": float(np.real(np.prod(m + 1.0))) if m.size else 1.0}
    if m.size >= 2:
        v = 1.0 + 0j
        for i in range(m.size):
            for j in range(i + 1, m.size):
                v *= m[i] * m[j] - 1.0
        out["ns"] = float(np.real(v))
    else:
        out["ns"] = 1.0
    return out


def _sorted_eig(M):
    mu = np.linalg.eigvals(M)
    return mu[np.lexsort((np.angle(mu), -np.abs(mu)))]


# ------------------------------------------------------------------------------- evaluation
class _Evaluator:
    """G(u), A(u) = [M − I | ∂F^p/∂p] and the half-period point for one orbit period."""

    def __init__(self, fam: MapFamily, p: int):
        self.fam, self.p, self.k = fam, int(p), fam.k
        self.half = self.p // 2 if self.p % 2 == 0 else None
        self.calls = 0

    def __call__(self, u):
        k, p = self.k, self.p
        pts, E, _ = self.fam.cycle64(u[None, :k], np.array([u[k]]), p)
        self.calls += 1
        G = pts[p, 0] - u[:k]
        A = E[0].copy()
        A[:, :k] -= np.eye(k)
        return G, A, pts[:, 0, :]


def _scale(u):
    return 1.0 + float(np.max(np.abs(u)))


def _correct(ev: _Evaluator, u0, d, anchor, tol, maxit):
    """Newton on [G(u); d·(u − anchor)] = 0 from u0 (minimal-norm steps).  Returns
    (ok, u, G, A, pts, iterations) with the data evaluated at the accepted iterate."""
    u = u0.copy()
    for it in range(1, maxit + 1):
        G, A, pts = ev(u)
        if not (np.all(np.isfinite(G)) and np.all(np.isfinite(A))):
            return False, u, None, None, None, it
        Bm = np.vstack([A, d[None, :]])
        rhs = -np.concatenate([G, [float(d @ (u - anchor))]])
        delta = np.linalg.lstsq(Bm, rhs, rcond=1e-12)[0]
        sc = _scale(u)
        if np.max(np.abs(delta)) <= tol * sc and np.max(np.abs(G)) <= 1e-8 * sc:
            return True, u, G, A, pts, it
        u = u + delta
        if np.max(np.abs(u)) > 1e12:
            return False, u, None, None, None, it
    return False, u, None, None, None, maxit


class _Point:
    __slots__ = ("u", "t", "mu", "nn", "tests", "amp", "samp", "pts", "A")

    def __init__(self, u, t, A, pts, k, p, vref=None):
        self.u, self.t, self.A, self.pts = u, t, A, pts
        M = A[:, :k] + np.eye(k)
        self.mu = _sorted_eig(M)
        nullity = null_tangent(A, t)[1]
        self.nn = max(0, nullity - 1)
        self.tests = test_values(self.mu, self.nn)
        if p % 2 == 0:
            dvec = pts[0] - pts[p // 2]
            self.amp = float(np.max(np.abs(dvec)))
            self.samp = float(dvec @ vref) if vref is not None else self.amp
        else:
            self.amp = self.samp = float("nan")


# ------------------------------------------------------------------------------- continuation
def continue_orbit(fam: MapFamily, x0, param0, period: int = 1, direction: int = 1, lo: float = -math.inf,
                   hi: float = math.inf, h0: float | None = None, hmax: float | None = None,
                   hmin: float | None = None, max_steps: int = 500, detect=("fold", "flip", "neimark_sacker", "collapse"),
                   stop_at=(), digits: int | None = 15, tangent=None, tol: float = 1e-11,
                   store_cycles: int = 64, max_corrector: int = 8, collapse_frac: float = 0.02,
                   refine=("fold", "branch_point", "flip", "neimark_sacker", "collapse"),
                   steps_after_stop: int = 0, _branch_id: int = -1) -> Branch:
    """Continue the period-``period`` orbit through (x0, param0) in the parameter.

    ``direction`` ±1 picks the initial sense in the parameter (or give ``tangent``, a vector of
    length k + 1 in (x, param)); the branch stops outside [lo, hi], after ``max_steps`` steps, when
    the step size falls below ``hmin``, or at the first located bifurcation whose kind is in
    ``stop_at`` (``fold``, ``branch_point``, ``flip``, ``neimark_sacker``, ``collapse``).
    Bifurcations of the kinds in ``detect`` are located and, when ``digits`` is given and the kind
    is in ``refine``, refined in mpmath to that many significant digits (else float64 only).
    ``steps_after_stop`` more steps are taken past a stopping bifurcation, without detection
    (e.g. to draw the unstable continuation of a branch past its flip or fold).  Steps are in the Euclidean norm of (x, param);
    ``h0``/``hmax``/``hmin`` default to 1e-2, 1e-1 and 1e-10 times the scale 1 + |param0|."""
    k = fam.k
    p = int(period)
    if p < 1:
        raise BifurcationError(f"period must be a positive integer, got {period!r}")
    x0 = np.asarray(x0, dtype=np.float64).reshape(k)
    u = np.concatenate([x0, [float(param0)]])
    sc0 = 1.0 + abs(float(param0))
    h = 1e-2 * sc0 if h0 is None else float(h0)
    hmax = 1e-1 * sc0 if hmax is None else float(hmax)
    hmin = 1e-10 * sc0 if hmin is None else float(hmin)
    ev = _Evaluator(fam, p)
    # first point: correct at fixed parameter
    d0 = np.zeros(k + 1)
    d0[k] = 1.0
    ok, u, G, A, pts, _ = _correct(ev, u, d0, u, tol, 40)
    if not ok:
        raise BifurcationError(f"no period-{p} orbit near the given state at {fam.param} = {float(param0):.12g}")
    t_prev = np.asarray(tangent, dtype=np.float64) if tangent is not None else d0 * (1 if direction >= 0 else -1)
    t, _ = null_tangent(A, t_prev / np.linalg.norm(t_prev))
    vref = None
    if p % 2 == 0:
        dv = pts[0] - pts[p // 2]
        nv = np.linalg.norm(dv)
        vref = dv / nv if nv > 0 else None
    cur = _Point(u, t, A, pts, k, p, vref)
    pts_list = [cur]
    bifs: list[BifurcationPoint] = []
    amp0 = cur.amp
    reason = "max_steps"
    steps = 0
    extra = -1          # steps left after a stopping bifurcation (−1: none has happened)
    while steps < max_steps and extra != 0:
        if h < hmin:
            if extra < 0:
                reason = "step size below hmin"
            break
        u_pred = cur.u + h * cur.t
        ok, un, Gn, An, ptsn, iters = _correct(ev, u_pred, cur.t, u_pred, tol, max_corrector)
        if not ok:
            h *= 0.5
            continue
        tn, _ = null_tangent(An, cur.t)
        if float(tn @ cur.t) < 0.8 and h > 4 * hmin:
            h *= 0.5
            continue
        steps += 1
        if not (lo <= un[k] <= hi):
            if extra < 0:
                reason = "left the parameter range"
            break
        new = _Point(un, tn, An, ptsn, k, p, vref)
        found = _detect(fam, ev, cur, new, p, detect, tol, amp0, collapse_frac) if extra < 0 else []
        if extra > 0:
            extra -= 1
        stop = False
        for kind, a, b in found:
            bp = locate(fam, ev, a, b, kind, p, digits if kind in refine else None, tol)
            if bp is None:
                continue
            bp.branch = _branch_id
            bifs.append(bp)
            if kind in stop_at or (kind == "collapse" and "collapse" in stop_at):
                stop = True
                reason = kind
        pts_list.append(new)
        cur = new
        if stop:
            if int(steps_after_stop) <= 0 or kind == "collapse":
                break
            extra = int(steps_after_stop)
        if np.max(np.abs(un[:k])) > 1e8:
            if extra < 0:
                reason = "orbit left every bounded region"
            break
        if iters <= 2:
            h = min(h * 1.6, hmax)
        elif iters >= 5:
            h *= 0.6
    P = np.array([q.u[k] for q in pts_list])
    X = np.array([q.u[:k] for q in pts_list])
    MU = np.array([q.mu for q in pts_list])
    NN = np.array([q.nn for q in pts_list], dtype=int)
    ST = np.array([bool(np.all(np.abs(_drop_neutral(q.mu, q.nn)) < 1.0)) for q in pts_list])
    AMP = np.array([q.amp for q in pts_list])
    CY = np.array([q.pts[:p] for q in pts_list]) if p <= store_cycles else None
    return Branch(period=p, param=P, x=X, multipliers=MU, stable=ST, n_neutral=NN, amplitude=AMP, cycles=CY,
                  bifurcations=bifs, stop_reason=reason, direction=int(np.sign(pts_list[0].t[k]) or direction),
                  id=_branch_id)


def _detect(fam, ev, a: _Point, b: _Point, p, detect, tol, amp0, collapse_frac):
    out = []
    k = fam.k
    if p % 2 == 0 and "collapse" in detect:
        sc = _scale(b.u)
        if (np.sign(a.samp) != np.sign(b.samp)) or b.amp <= 1e-7 * sc or \
                (np.isfinite(amp0) and b.amp <= collapse_frac * amp0 and b.amp < a.amp):
            out.append(("collapse", a, b))
            return out
    if a.nn != b.nn:
        return out
    turned = np.sign(a.t[k]) != np.sign(b.t[k]) and a.t[k] != 0
    if np.sign(a.tests["fold"]) != np.sign(b.tests["fold"]) or turned:
        kind = "fold" if turned else "branch_point"
        if kind in detect or ("fold" in detect and kind == "branch_point"):
            out.append((kind, a, b))
    if "flip" in detect and np.sign(a.tests["flip"]) != np.sign(b.tests["flip"]):
        out.append(("flip", a, b))
    if "neimark_sacker" in detect and k - a.nn >= 2 and np.sign(a.tests["ns"]) != np.sign(b.tests["ns"]):
        out.append(("neimark_sacker", a, b))
    return out


# ------------------------------------------------------------------------------- location
def _bracket_point(ev, a: _Point, b: _Point, sigma, tol):
    d = b.u - a.u
    n = np.linalg.norm(d)
    d = d / n
    u0 = a.u + sigma * (b.u - a.u)
    ok, u, G, A, pts, _ = _correct(ev, u0, d, u0, tol, 12)
    if not ok:
        raise BifurcationError("corrector failed while bracketing a bifurcation")
    return u, A, pts


def locate(fam: MapFamily, ev, a: _Point, b: _Point, kind: str, p: int, digits, tol) -> BifurcationPoint | None:
    """Locate a bifurcation of ``kind`` between two branch points (float64 Brent, then mpmath)."""
    k = fam.k
    if kind == "collapse":
        if digits:
            return locate_collapse(fam, a.u[:k], a.u[k], p, digits, amp=a.amp)
        return locate_collapse64(fam, a.u[:k], a.u[k], p)
    nn = a.nn

    def psi(sigma):
        u, A, _ = _bracket_point(ev, a, b, sigma, tol)
        mu = _sorted_eig(A[:, :k] + np.eye(k))
        if kind == "fold" and a.nn == 0:
            tn, _ = null_tangent(A, a.t)
            return float(tn[k]) if np.sign(a.t[k]) != np.sign(b.t[k]) else test_values(mu, nn)["fold"]
        key = {"fold": "fold", "branch_point": "fold", "flip": "flip", "neimark_sacker": "ns"}[kind]
        return test_values(mu, nn)[key]

    try:
        fa, fb = psi(0.0), psi(1.0)
        if np.sign(fa) == np.sign(fb):
            sigma = 0.5
        else:
            # with a refinement to follow, a float64 location to ~1e-10 of the bracket suffices
            sigma = brentq(psi, 0.0, 1.0, xtol=1e-10 if digits else 1e-15, rtol=1e-15, maxiter=200)
        u, A, pts = _bracket_point(ev, a, b, sigma, tol)
    except BifurcationError:
        return None
    M = A[:, :k] + np.eye(k)
    mu = _sorted_eig(M)
    if kind == "neimark_sacker":
        m = _drop_neutral(mu, nn)
        if not np.any((np.abs(m.imag) > 1e-6) & (np.abs(np.abs(m) - 1) < 1e-4)):
            return None  # a neutral saddle (real μ_iμ_j = 1), not a Neimark–Sacker point
    vec = None
    if kind == "flip":
        w, V = np.linalg.eig(M)
        vec = np.real(V[:, int(np.argmin(np.abs(w + 1)))])
        vec = vec / np.linalg.norm(vec)
    width = float(np.linalg.norm(b.u - a.u))
    bp = BifurcationPoint(kind=kind, period=p, param=float(u[k]), x=u[:k].copy(), multipliers=mu,
                          uncertainty=max(1e-15 * _scale(u), 1e-13 * width), method="brent (float64)",
                          neutral=nn, eigvec=vec)
    if digits:
        try:
            refine_point(fam, bp, digits)
        except BifurcationError as exc:
            bp.method += f"; mpmath refinement failed: {exc}"
    return bp


# ------------------------------------------------------------------------------- mpmath refinement
def _solve_orbit_mp(fam, x, eta, p, minnorm, tol, maxit=40):
    k = fam.k
    for _ in range(maxit):
        pts, E, _ = fam.cycle_mp(x, eta, p)
        G = [pts[p][i] - x[i] for i in range(k)]
        A = [[E[i][j] - (1 if i == j else 0) for j in range(k)] for i in range(k)]
        d = mp_solve(A, [-g for g in G], minnorm=minnorm)
        x = [x[i] + d[i] for i in range(k)]
        if max(abs(v) for v in d) <= tol * (1 + max(abs(v) for v in x)):
            return x, E
    raise BifurcationError(f"mpmath Newton for the period-{p} orbit did not converge at {fam.param} = "
                           f"{mp.nstr(eta, 15)}")


def _psi_mp(E, k, kind):
    M = [row[:k] for row in E]
    if kind == "flip":
        return mp.det(mp.matrix([[M[i][j] + (1 if i == j else 0) for j in range(k)] for i in range(k)]))
    if kind == "neimark_sacker":
        C = compound2_mp(M)
        n = len(C)
        return mp.det(mp.matrix([[C[i][j] - (1 if i == j else 0) for j in range(n)] for i in range(n)]))
    return mp.det(mp.matrix([[M[i][j] - (1 if i == j else 0) for j in range(k)] for i in range(k)]))


def refine_point(fam: MapFamily, bp: BifurcationPoint, digits: int = 15) -> BifurcationPoint:
    """Refine a located bifurcation point in mpmath in place (``param_mp``, ``x_mp``,
    ``uncertainty``, ``multipliers``).  Flips and Neimark–Sacker points: secant method on the
    test function det(M + I) or det(C₂(M) − I) with the orbit solved at each parameter value.
    Folds and branch points: Newton on {F^p(x) − x = 0, det(M − I) = 0} in (x, param) with a
    finite-difference gradient of the determinant.  On a neutral branch the orbit solve uses
    minimal-norm steps and a fold is left at its float64 location."""
    k, p = fam.k, bp.period
    digits = int(digits)
    with mp.workdps(digits + 12):
        tol = mp.mpf(10) ** (-(digits + 6))
        x = [mp.mpf(float(v)) for v in bp.x]
        eta = mp.mpf(bp.param)
        sc = 1 + abs(eta)
        minnorm = bp.neutral > 0
        if bp.kind in ("flip", "neimark_sacker"):
            h = mp.mpf(10) ** -9 * sc
            x0, E0 = _solve_orbit_mp(fam, x, eta, p, minnorm, tol)
            f0 = _psi_mp(E0, k, bp.kind)
            eta1 = eta + h
            x1, E1 = _solve_orbit_mp(fam, x0, eta1, p, minnorm, tol)
            f1 = _psi_mp(E1, k, bp.kind)
            step = None
            for _ in range(60):
                if f1 == f0:
                    break
                eta2 = eta1 - f1 * (eta1 - eta) / (f1 - f0)
                # predictor for the orbit: linear in the parameter
                xg = [x1[i] + (x1[i] - x0[i]) * (eta2 - eta1) / (eta1 - eta) for i in range(k)]
                x2, E2 = _solve_orbit_mp(fam, xg, eta2, p, minnorm, tol)
                f2 = _psi_mp(E2, k, bp.kind)
                step = abs(eta2 - eta1)
                eta, x0, f0 = eta1, x1, f1
                eta1, x1, f1, E1 = eta2, x2, f2, E2
                if step <= tol * sc:
                    break
            else:
                raise BifurcationError(f"secant refinement of the {bp.kind} did not converge")
            eta_f, x_f, E_f = eta1, x1, E1
            unc = float(step) if step is not None else float(h)
        elif minnorm:
            return bp  # fold on a continuum of orbits: not a regular point, keep float64
        else:
            u = x + [eta]
            fd = mp.mpf(10) ** (-(mp.mp.dps // 2))
            unc = None
            grad = None
            for it in range(40):
                pts, E, _ = fam.cycle_mp(u[:k], u[k], p)
                G = [pts[p][i] - u[i] for i in range(k)]
                psi = _psi_mp(E, k, "fold")
                if grad is None or it % 4 == 3:
                    # gradient of det(M − I) by forward differences, kept for a few iterations
                    # (chord steps: the top block is exact at every iteration)
                    grad = []
                    for j in range(k + 1):
                        v = u[:]
                        v[j] += fd * (1 + abs(u[j]))
                        _, Ej, _ = fam.cycle_mp(v[:k], v[k], p)
                        grad.append((_psi_mp(Ej, k, "fold") - psi) / (fd * (1 + abs(u[j]))))
                J = [[E[i][j] - (1 if i == j else 0) for j in range(k)] + [E[i][k]] for i in range(k)] + [grad]
                d = mp_solve(J, [-g for g in G] + [-psi])
                u = [u[i] + d[i] for i in range(k + 1)]
                unc = max(abs(v) for v in d)
                if unc <= tol * sc:
                    break
            else:
                raise BifurcationError(f"Newton refinement of the {bp.kind} did not converge")
            eta_f, x_f = u[k], u[:k]
            _, E_f, _ = fam.cycle_mp(x_f, eta_f, p)
            unc = float(unc)
        mu = mp_eig([row[:k] for row in E_f])
        bp.param = float(eta_f)
        bp.param_exact = +eta_f
        bp.param_mp = mp.nstr(eta_f, digits)
        bp.x = np.array([float(v) for v in x_f])
        bp.x_mp = [mp.nstr(v, digits) for v in x_f]
        bp.multipliers = np.array([complex(z) for z in mu])
        bp.digits = digits
        bp.uncertainty = max(unc, float(mp.mpf(10) ** (-(digits + 2)) * sc))
        bp.method = (bp.method + "; " if bp.method else "") + \
            ("secant on the test function (mpmath)" if bp.kind in ("flip", "neimark_sacker")
             else "Newton on the augmented system (mpmath)")
        if not np.all(np.isfinite(bp.multipliers)) or not np.all(np.isfinite(bp.x)):
            raise BifurcationError(f"the mpmath refinement of the {bp.kind} point left non-finite numbers")
        if bp.kind == "flip":
            M = np.array([[float(E_f[i][j]) for j in range(k)] for i in range(k)])
            if not np.all(np.isfinite(M)):
                raise BifurcationError("the mpmath refinement of the flip point gave a non-finite Jacobian")
            w, V = np.linalg.eig(M)
            vec = np.real(V[:, int(np.argmin(np.abs(w + 1)))])
            bp.eigvec = vec / np.linalg.norm(vec)
    return bp


# ------------------------------------------------------------------------------- flip pairs
# The period-2p orbit near a flip of period p, written with H = F^p as the pair m ± εw
# (H(m + εw) = m − εw and H(m − εw) = m + εw):
#     R1 = (H(m + εw) + H(m − εw))/2 − m = 0
#     R2 = (H(m − εw) − H(m + εw))/(2ε) − w = 0
#     R3 = v·w − 1 = 0
# in (m, w, param) for a fixed amplitude ε.  The system is even in ε and regular as ε → 0, where it
# becomes the flip system {H(m) = m, (H'(m) + I)w = 0, v·w = 1}; so (m, w, param) are smooth
# functions of ε², which is what both branch switching and the collapse extrapolation use.

def _pair_system64(fam, z, eps, v, p):
    k = fam.k
    m, w, eta = z[:k], z[k:2 * k], z[2 * k]
    X = np.stack([m + eps * w, m - eps * w])
    pts, E, _ = fam.cycle64(X, np.array([eta, eta]), p)
    Hp, Hm = pts[p, 0], pts[p, 1]
    Mp, Mm, Dp, Dm = E[0, :, :k], E[1, :, :k], E[0, :, k], E[1, :, k]
    I = np.eye(k)
    J = np.zeros((2 * k + 1, 2 * k + 1))
    with np.errstate(all="ignore"):   # an escaping trial point gives inf/NaN, rejected by the caller
        R = np.concatenate([(Hp + Hm) / 2 - m, (Hm - Hp) / (2 * eps) - w, [float(v @ w) - 1.0]])
        J[:k, :k] = (Mp + Mm) / 2 - I
        J[:k, k:2 * k] = eps * (Mp - Mm) / 2
        J[:k, 2 * k] = (Dp + Dm) / 2
        J[k:2 * k, :k] = (Mm - Mp) / (2 * eps)
        J[k:2 * k, k:2 * k] = -(Mm + Mp) / 2 - I
        J[k:2 * k, 2 * k] = (Dm - Dp) / (2 * eps)
    J[2 * k, k:2 * k] = v
    return R, J


def _pair_system_mp(fam, z, eps, v, p):
    k = fam.k
    m, w, eta = z[:k], z[k:2 * k], z[2 * k]
    ptsp, Ep, _ = fam.cycle_mp([m[i] + eps * w[i] for i in range(k)], eta, p)
    ptsm, Em, _ = fam.cycle_mp([m[i] - eps * w[i] for i in range(k)], eta, p)
    Hp, Hm = ptsp[p], ptsm[p]
    R = [(Hp[i] + Hm[i]) / 2 - m[i] for i in range(k)] + \
        [(Hm[i] - Hp[i]) / (2 * eps) - w[i] for i in range(k)] + \
        [mp.fsum(v[i] * w[i] for i in range(k)) - 1]
    n = 2 * k + 1
    J = [[mp.mpf(0)] * n for _ in range(n)]
    for i in range(k):
        for j in range(k):
            d = 1 if i == j else 0
            J[i][j] = (Ep[i][j] + Em[i][j]) / 2 - d
            J[i][k + j] = eps * (Ep[i][j] - Em[i][j]) / 2
            J[k + i][j] = (Em[i][j] - Ep[i][j]) / (2 * eps)
            J[k + i][k + j] = -(Em[i][j] + Ep[i][j]) / 2 - d
        J[i][2 * k] = (Ep[i][k] + Em[i][k]) / 2
        J[k + i][2 * k] = (Em[i][k] - Ep[i][k]) / (2 * eps)
        J[2 * k][k + i] = v[i]
    return R, J, Em


def _pair_newton64(fam, z, eps, v, p, maxit=40):
    for _ in range(maxit):
        R, J = _pair_system64(fam, z, eps, v, p)
        if not (np.all(np.isfinite(R)) and np.all(np.isfinite(J))):
            return None
        d = np.linalg.lstsq(J, -R, rcond=1e-13)[0]
        z = z + d
        if float(np.max(np.abs(d))) <= 1e-10 * _scale(z):
            R, _ = _pair_system64(fam, z, eps, v, p)
            return z if float(np.max(np.abs(R[:fam.k]))) <= 1e-8 * _scale(z) else None
    return None


def _pair_newton_mp(fam, z, eps, v, p, tol, maxit=60):
    k = fam.k
    for _ in range(maxit):
        R, J, Em = _pair_system_mp(fam, z, eps, v, p)
        d = mp_solve(J, [-r for r in R])
        z = [z[i] + d[i] for i in range(2 * k + 1)]
        if max(abs(c) for c in d) <= tol * (1 + max(abs(c) for c in z)):
            return z
    raise BifurcationError(f"Newton for the period-{2 * p} orbit at amplitude {mp.nstr(eps, 6)} did not converge")


# ------------------------------------------------------------------------------- collapse
def locate_collapse(fam: MapFamily, x, param, q: int, digits: int = 15, amp: float | None = None,
                    nodes: int = 7, ratio: float = 0.6, cap: float = 0.02) -> BifurcationPoint:
    """Locate the flip of period q/2 from which the period-q orbit through (x, param) is born.

    The period-q orbit is written as the pair m ± εw (see the module notes) and solved in mpmath
    at amplitudes ε shrinking geometrically by ``ratio`` (the last ``nodes`` of them at most
    ``cap`` × scale); the parameter and the midpoint m, even functions of ε, are extrapolated to
    ε = 0 in powers of ε² (Neville).  The uncertainty is the difference between the
    extrapolations through all nodes and through all but the first."""
    k = fam.k
    if q % 2:
        raise BifurcationError(f"a collapse needs an even period, got {q}")
    p = q // 2
    x = np.asarray(x, dtype=np.float64)
    pts, _, _ = fam.cycle64(x[None, :], np.array([float(param)]), q)
    dvec = (pts[0, 0] - pts[p, 0]) / 2
    a0 = float(np.linalg.norm(dvec))
    if not a0 > 0:
        raise BifurcationError("the orbit has already collapsed; start from a point with a nonzero amplitude")
    v = dvec / a0
    scale = 1.0 + float(np.max(np.abs(x)))
    digits = int(digits)
    with mp.workdps(digits + 20):
        tol = mp.mpf(10) ** (-(digits + 12))
        vm = [mp.mpf(float(c)) for c in v]
        mid0 = (pts[0, 0] + pts[p, 0]) / 2
        z = [mp.mpf(float(c)) for c in mid0] + vm[:] + [mp.mpf(float(param))]
        eps = mp.mpf(a0)
        rows, hist = [], []
        while len(rows) < nodes:
            z = _pair_newton_mp(fam, z, eps, vm, p, tol)
            if eps <= cap * scale:
                rows.append((eps * eps, z[:]))
            hist.append((eps * eps, z[:]))
            eps_next = eps * ratio
            if len(hist) >= 2:   # linear predictor in ε²
                (s1, z1), (s2, z2) = hist[-2], hist[-1]
                f = (eps_next * eps_next - s2) / (s2 - s1)
                z = [z2[i] + f * (z2[i] - z1[i]) for i in range(2 * k + 1)]
            eps = eps_next
        nod = [r[0] for r in rows]
        eta, err = neville(nod, [r[1][2 * k] for r in rows])
        mid = [neville(nod, [r[1][i] for r in rows])[0] for i in range(k)]
        _, E, _ = fam.cycle_mp(mid, eta, p)
        mu = mp_eig([row[:k] for row in E])
        M = np.array([[float(E[i][j]) for j in range(k)] for i in range(k)])
        w, V = np.linalg.eig(M)
        vec = np.real(V[:, int(np.argmin(np.abs(w + 1)))])
        sc = 1 + abs(eta)
        unc = max(float(err), float(mp.mpf(10) ** (-(digits + 2)) * sc))
        # neutral directions of the half-period orbit (e.g. a line of fixed points)
        s = np.linalg.svd(M - np.eye(k), compute_uv=False)
        nn = int(np.sum(s <= 1e-6 * max(1.0, float(np.max(np.abs(M))))))
        return BifurcationPoint(kind="flip", period=p, param=float(eta), x=np.array([float(c) for c in mid]),
                                multipliers=np.array([complex(c) for c in mu]), param_mp=mp.nstr(eta, digits),
                                param_exact=+eta,
                                x_mp=[mp.nstr(c, digits) for c in mid], digits=digits, uncertainty=unc,
                                method=f"collapse of the period-{q} orbit: pair m ± εw solved at {len(rows)} "
                                       "amplitudes, extrapolated to ε = 0 in ε² (mpmath)",
                                neutral=nn, eigvec=vec / np.linalg.norm(vec))


def locate_collapse64(fam: MapFamily, x, param, q: int, nodes: int = 4, ratio: float = 0.6) -> BifurcationPoint:
    """float64 version of :func:`locate_collapse` (no mpmath): a few amplitudes, Neville in ε²."""
    k = fam.k
    p = q // 2
    x = np.asarray(x, dtype=np.float64)
    pts, _, _ = fam.cycle64(x[None, :], np.array([float(param)]), q)
    dvec = (pts[0, 0] - pts[p, 0]) / 2
    a0 = float(np.linalg.norm(dvec))
    if not a0 > 0:
        raise BifurcationError("the orbit has already collapsed; start from a point with a nonzero amplitude")
    v = dvec / a0
    z = np.concatenate([(pts[0, 0] + pts[p, 0]) / 2, v, [float(param)]])
    rows = []
    eps = a0
    for _ in range(nodes):
        zn = _pair_newton64(fam, z, eps, v, p)
        if zn is None:
            break
        rows.append((eps * eps, zn))
        z, eps = zn, eps * ratio
    if not rows:
        raise BifurcationError(f"the period-{q} orbit could not be followed to its collapse")
    nod = [r[0] for r in rows]
    eta, err = neville(nod, [r[1][2 * k] for r in rows]) if len(rows) > 1 else (rows[0][1][2 * k], abs(a0))
    mid = np.array([neville(nod, [r[1][i] for r in rows])[0] if len(rows) > 1 else rows[0][1][i] for i in range(k)])
    _, E, _ = fam.cycle64(mid[None, :], np.array([eta]), p)
    M = E[0, :, :k]
    w, V = np.linalg.eig(M)
    vec = np.real(V[:, int(np.argmin(np.abs(w + 1)))])
    return BifurcationPoint(kind="flip", period=p, param=float(eta), x=mid, multipliers=_sorted_eig(M),
                            uncertainty=float(err), method=f"collapse of the period-{q} orbit (float64 extrapolation)",
                            eigvec=vec / np.linalg.norm(vec))


# ------------------------------------------------------------------------------- branch switching
def switch_at_flip(fam: MapFamily, bp: BifurcationPoint, eps: float | None = None,
                   target: float | None = None):
    """A point and tangent of the period-2p branch born at the flip ``bp``.

    Solves the pair system (module notes) at amplitude ε from (m, w, param) = (x*, v, param*),
    v the flip eigenvector — a regular Newton problem however small ε is; ε (default 1e-3 ×
    scale) is reduced until the parameter moved by at most ``target``.  Returns (x, param,
    tangent) for :func:`continue_orbit` with period 2p, the tangent pointing to larger amplitude."""
    if bp.kind != "flip":
        raise BifurcationError(f"branch switching needs a flip, got a {bp.kind}")
    k, p = fam.k, bp.period
    xs = np.asarray(bp.x, dtype=np.float64)
    v = bp.eigvec
    if v is None:
        _, E, _ = fam.cycle64(xs[None, :], np.array([bp.param]), p)
        w, V = np.linalg.eig(E[0, :, :k])
        v = np.real(V[:, int(np.argmin(np.abs(w + 1)))])
    v = v / np.linalg.norm(v)
    scale = 1.0 + float(np.max(np.abs(xs)))
    eps = 1e-3 * scale if eps is None else float(eps)
    z0 = np.concatenate([xs, v, [bp.param]])
    z1 = None
    for _ in range(12):
        z1 = _pair_newton64(fam, z0, eps, v, p)
        if z1 is not None and (target is None or abs(z1[2 * k] - bp.param) <= target):
            break
        if z1 is not None:
            eps *= min(0.5, 0.7 * math.sqrt(target / abs(z1[2 * k] - bp.param)))
        else:
            eps *= 0.3
        z1 = None
    if z1 is None:
        raise BifurcationError(f"no period-{2 * p} orbit found near the flip at {fam.param} = {bp.param:.12g}")
    z2 = _pair_newton64(fam, z1, 1.1 * eps, v, p)
    if z2 is None:
        raise BifurcationError(f"no period-{2 * p} orbit found near the flip at {fam.param} = {bp.param:.12g}")
    u1 = np.concatenate([z1[:k] + eps * z1[k:2 * k], [z1[2 * k]]])
    u2 = np.concatenate([z2[:k] + 1.1 * eps * z2[k:2 * k], [z2[2 * k]]])
    t = u2 - u1
    return u1[:k], float(u1[k]), t / np.linalg.norm(t)
