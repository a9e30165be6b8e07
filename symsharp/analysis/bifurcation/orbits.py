"""Periodic orbits of a :class:`MapFamily` at one parameter value.

Every period-p orbit (p ≤ ``max_period``) reached from the attractor or from a seeded search is
found by Newton's method on F^p(x) = x with the exact Jacobian (the product of Jacobians along
the cycle), batched over seeds in float64 with the compiled kernels; seeds that fall back onto an
orbit already known are restarted with *deflation* (Farrell et al.), so that unstable orbits are
found too.  Orbits are de-duplicated by cycle (a p-cycle found from any of its points counts
once, and a p-cycle found while looking for period 2p is recorded with its minimal period),
classified by their multipliers, and optionally refined in mpmath to a requested number of
digits.

Non-isolated orbits (a multiplier exactly 1 for which the orbit moves along a curve of orbits,
e.g. the UV model's line of minima f = y) are reported with ``isolated=False`` and their number
of neutral directions; their points are representatives of a continuum, not distinct orbits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import mpmath as mp
import numpy as np

import xarray as xr

from ._config import config_json
from ._linalg import mp_eig, mp_solve
from .family import BifurcationError, MapFamily, exact_value, mp_of

RCOND = 1e-11
"""Relative cutoff of the minimal-norm (pseudo-inverse) Newton step in float64."""


@dataclass
class PeriodicOrbit:
    """A periodic orbit of minimal period ``period`` at parameter value ``param``.

    points (period, k): the cycle, started at its canonical point (lexicographically smallest);
    multipliers (k,): eigenvalues of the product of Jacobians along the cycle, by modulus;
    stable: every multiplier except the neutral ones inside the unit circle; isolated: no
    neutral direction (n_neutral = nullity of M − I); residual: max |F^p(x) − x| in float64.
    After mpmath refinement, ``points_mp`` and ``multipliers_mp`` hold decimal strings with
    ``digits`` significant digits."""

    period: int
    param: float
    points: np.ndarray
    multipliers: np.ndarray
    stable: bool
    isolated: bool
    n_neutral: int
    residual: float
    points_mp: list | None = None
    multipliers_mp: list | None = None
    digits: int | None = None
    family_size: int = 1

    @property
    def kind(self) -> str:
        """``attracting``, ``repelling``, ``saddle``, or ``neutral`` (non-isolated)."""
        mods = np.abs(self.multipliers)
        if not self.isolated:
            return "neutral"
        if np.all(mods < 1):
            return "attracting"
        if np.all(mods > 1):
            return "repelling"
        return "saddle"

    def contains(self, x, tol: float = 1e-7) -> bool:
        """Whether the state ``x`` is (within ``tol`` relative) a point of this cycle."""
        x = np.asarray(x, dtype=np.float64)
        scale = 1.0 + float(np.max(np.abs(self.points)))
        return bool(np.min(np.max(np.abs(self.points - x[None, :]), axis=1)) <= tol * scale)

    def to_dict(self) -> dict:
        d = {"period": int(self.period), "param": float(self.param), "kind": self.kind,
             "stable": bool(self.stable), "isolated": bool(self.isolated), "n_neutral": int(self.n_neutral),
             "points": self.points.tolist(),
             "multipliers": [[float(z.real), float(z.imag)] for z in self.multipliers],
             "residual": float(self.residual), "family_size": int(self.family_size)}
        if self.points_mp is not None:
            d.update(points_mp=self.points_mp, multipliers_mp=self.multipliers_mp, digits=self.digits)
        return d


# ----------------------------------------------------------------------------------- Newton
def _scale(X):
    return 1.0 + np.max(np.abs(X), axis=-1)


def newton_cycles(fam: MapFamily, X0, pv, p: int, maxit: int = 40, tol: float = 1e-12,
                  known=None, max_step: float | None = None):
    """Batched float64 Newton on F^p(x) − x = 0 from the rows of X0 (B, k) at parameters pv.

    Minimal-norm steps (pseudo-inverse of M − I) so that non-isolated solutions are reached too;
    steps longer than ``max_step`` are shortened; with ``known`` (R, k) the residual is deflated
    by Π_r (1/‖x − r‖² + 1) so that those points repel the iteration.  Returns (X, converged)."""
    X = np.array(np.atleast_2d(X0), dtype=np.float64)
    B, k = X.shape
    pv = np.broadcast_to(np.asarray(pv, dtype=np.float64), (B,)).copy()
    active = np.all(np.isfinite(X), axis=1)
    conv = np.zeros(B, bool)
    I = np.eye(k)
    for _ in range(maxit):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        pts, E, _ = fam.cycle64(X[idx], pv[idx], p)
        G = pts[p] - X[idx]
        A = E[:, :, :k] - I
        ok = np.all(np.isfinite(G), axis=1) & np.all(np.isfinite(A), axis=(1, 2))
        if not np.all(ok):
            active[idx[~ok]] = False
            idx, G, A = idx[ok], G[ok], A[ok]
            if idx.size == 0:
                break
        d = -np.einsum("bij,bj->bi", np.linalg.pinv(A, rcond=RCOND), G)
        if known is not None and len(known):
            x = X[idx]
            diff = x[:, None, :] - known[None, :, :]            # (b, R, k)
            with np.errstate(all="ignore"):
                r2 = np.clip(np.sum(diff * diff, axis=2), 1e-150, 1e150)
                # ∇ log m with m = Π_r (1/‖x − r‖² + 1): Σ_r −2(x − r)/(‖x − r‖²(1 + ‖x − r‖²))
                w = -2.0 * diff / (r2 * (1.0 + r2))[:, :, None]
                glog = np.nan_to_num(np.sum(w, axis=1), nan=0.0, posinf=0.0, neginf=0.0)
            den = 1.0 - np.einsum("bi,bi->b", glog, d)
            den = np.where(np.abs(den) < 1e-8, 1e-8, den)
            d = d / den[:, None]
        sc = _scale(X[idx])
        if max_step is not None:
            nrm = np.max(np.abs(d), axis=1)
            lim = max_step * sc
            d = d * np.minimum(1.0, lim / np.maximum(nrm, 1e-300))[:, None]
        X[idx] += d
        small = (np.max(np.abs(d), axis=1) <= tol * sc) & (np.max(np.abs(G), axis=1) <= 1e-8 * sc)
        conv[idx[small]] = True
        active[idx[small]] = False
        bad = ~np.all(np.isfinite(X[idx]), axis=1) | (np.max(np.abs(X[idx]), axis=1) > 1e12)
        active[idx[bad]] = False
    # final check of the residual
    good = np.nonzero(conv)[0]
    if good.size:
        pts, _, _ = fam.cycle64(X[good], pv[good], p)
        res = np.max(np.abs(pts[p] - X[good]), axis=1)
        conv[good[~(res <= 1e-9 * _scale(X[good]))]] = False
    return X, conv


def _classify(fam: MapFamily, x, pv, p: int):
    """(points (p, k), multipliers, n_neutral, residual, minimal period) of the cycle through x."""
    pts, E, _ = fam.cycle64(x[None, :], np.array([pv]), p)
    pts = pts[:, 0, :]
    k = fam.k
    sc = 1.0 + float(np.max(np.abs(pts)))
    q = p
    for d in range(1, p):
        if p % d == 0 and np.max(np.abs(pts[d] - pts[0])) <= 1e-7 * sc:
            q = d
            break
    if q != p:
        pts, E, _ = fam.cycle64(x[None, :], np.array([pv]), q)
        pts = pts[:, 0, :]
    M = E[0, :, :k]
    res = float(np.max(np.abs(pts[q] - pts[0])))
    mu = np.linalg.eigvals(M)
    order = np.lexsort((np.angle(mu), -np.abs(mu)))
    mu = mu[order]
    s = np.linalg.svd(M - np.eye(k), compute_uv=False)
    # neutral directions: the nullity of M − I (a continuum of orbits such as a line of fixed
    # points; also, exceptionally, an orbit sitting exactly at a fold)
    n_neutral = int(np.sum(s <= 1e-8 * max(1.0, float(np.max(np.abs(M))))))
    return pts[:q], mu, n_neutral, res, q


def _same_family(fam, cat, q, pts, pv):
    """A known non-isolated period-q orbit on the same continuum as the cycle ``pts``: Newton
    (minimal-norm) from the midpoint of nearest points lands back on a neutral period-q orbit
    close to that midpoint."""
    for o in cat.orbits:
        if o.period != q or o.isolated:
            continue
        i = int(np.argmin(np.max(np.abs(o.points - pts[0][None, :]), axis=1)))
        a, b = o.points[i], pts[0]
        sep = float(np.max(np.abs(a - b)))
        mid = (a + b) / 2
        X, ok = newton_cycles(fam, mid[None, :], [pv], q)
        if ok[0] and float(np.max(np.abs(X[0] - mid))) <= 0.25 * sep:
            _, _, nn, _, qq = _classify(fam, X[0], pv, q)
            if nn > 0 and qq == q:
                return o
    return None


def _canonical(points):
    sc = 1.0 + np.max(np.abs(points))
    key = np.round(points / (1e-9 * sc)).astype(np.float64)
    i = min(range(len(points)), key=lambda j: tuple(key[j]))
    return np.roll(points, -i, axis=0)


def _stable(mu, n_neutral):
    """All multipliers except the ``n_neutral`` closest to 1 inside the unit circle."""
    keep = np.argsort(np.abs(mu - 1.0), kind="stable")[n_neutral:]
    return bool(np.all(np.abs(mu[keep]) < 1.0))


class _Catalogue:
    def __init__(self, tol):
        self.orbits: list[PeriodicOrbit] = []
        self.tol = tol

    def find(self, q, x):
        for o in self.orbits:
            if o.period == q and o.contains(x, self.tol):
                return o
        return None

    def points(self, divides: int | None = None):
        pts = [o.points for o in self.orbits if divides is None or divides % o.period == 0]
        return np.concatenate(pts, axis=0) if pts else np.zeros((0, 0))


def _attractor_samples(fam, seeds, pv, transient, n):
    tr = fam.iterate(seeds, np.full(len(seeds), pv), steps=transient, threshold=1e8)
    keep = max(2, int(np.ceil(n / max(1, len(seeds)))) + 1)
    rec = fam.iterate(tr.x, np.full(len(seeds), pv), steps=keep, record_every=1, threshold=1e8,
                      diverged=tr.diverged)
    ok = ~rec.diverged
    if not np.any(ok):
        return np.zeros((0, fam.k))
    pts = rec.records[:, ok, :].reshape(-1, fam.k)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) > n:
        pts = pts[np.linspace(0, len(pts) - 1, n).astype(int)]
    return pts


def periodic_orbits(fam: MapFamily, param, max_period: int = 16, seeds=None, n_random: int = 256,
                    box=None, transient: int = 1000, attractor_points: int = 64, deflation_rounds: int = 1,
                    digits: int | None = None, rng: int = 0, tol: float = 1e-7) -> list[PeriodicOrbit]:
    """All period-p orbits (p ≤ ``max_period``) found at ``param``.

    Seeds: the given ``seeds`` (S, k); ``attractor_points`` points of the attractors reached from
    them after ``transient`` steps; ``n_random`` points drawn (generator seed ``rng``) in ``box``
    ((k, 2) bounds; default: the bounding box of the seeds and attractor points, doubled).
    For each p, batched Newton from every seed, then ``deflation_rounds`` rounds restarting the
    seeds that fell onto known orbits with those orbits deflated.  Returns the orbits sorted by
    period, attracting first, then by their canonical point; refined in mpmath to ``digits``
    significant digits when given."""
    if int(max_period) != max_period or max_period < 1:
        raise BifurcationError(f"max_period must be a positive integer, got {max_period!r}")
    pv = float(param)
    k = fam.k
    S = np.zeros((0, k)) if seeds is None else np.atleast_2d(np.asarray(seeds, dtype=np.float64))
    if S.shape[1] != k:
        raise BifurcationError(f"seeds must have {k} columns ({', '.join(fam.state)}), got shape {S.shape}")
    att = _attractor_samples(fam, S, pv, transient, attractor_points) if len(S) else np.zeros((0, k))
    base = np.concatenate([S, att], axis=0)
    if box is None:
        if len(base) == 0:
            raise BifurcationError("give seeds or a box to search for periodic orbits")
        lo, hi = base.min(axis=0), base.max(axis=0)
        c, w = (lo + hi) / 2, np.maximum(hi - lo, 1e-3 * (1 + np.abs(lo + hi) / 2))
        box = np.stack([c - w, c + w], axis=1)
    box = np.asarray(box, dtype=np.float64)
    if box.shape != (k, 2) or not np.all(box[:, 1] >= box[:, 0]):
        raise BifurcationError(f"box must be an array of (low, high) bounds of shape ({k}, 2)")
    gen = np.random.default_rng(rng)
    R = box[:, 0] + (box[:, 1] - box[:, 0]) * gen.random((int(n_random), k))
    seeds_all = np.concatenate([base, R], axis=0)
    max_step = 0.5 * float(np.max(box[:, 1] - box[:, 0])) / (1.0 + float(np.max(np.abs(box))))
    cat = _Catalogue(tol)

    def absorb(X, conv, p):
        fresh = 0
        for x in X[conv]:
            if any(p % o.period == 0 and o.contains(x, tol) for o in cat.orbits):
                continue
            pts, mu, nn, res, q = _classify(fam, x, pv, p)
            if cat.find(q, pts[0]) is not None:
                continue
            if nn > 0:
                fam_orbit = _same_family(fam, cat, q, pts, pv)
                if fam_orbit is not None:
                    fam_orbit.family_size += 1
                    continue
            cat.orbits.append(PeriodicOrbit(period=q, param=pv, points=_canonical(pts), multipliers=mu,
                                            stable=_stable(mu, nn), isolated=(nn == 0), n_neutral=nn,
                                            residual=res))
            fresh += 1
        return fresh

    for p in range(1, int(max_period) + 1):
        X, conv = newton_cycles(fam, seeds_all, pv, p, max_step=max_step)
        absorb(X, conv, p)
        for _ in range(int(deflation_rounds)):
            known = cat.points(p)
            if known.size == 0:
                break
            # restart every seed whose Newton ended on a known orbit (or failed)
            hit = np.array([not c or any(o.contains(x, tol) for o in cat.orbits if p % o.period == 0)
                            for x, c in zip(X, conv)])
            if not np.any(hit):
                break
            Xd, cd = newton_cycles(fam, seeds_all[hit], pv, p, known=known, max_step=max_step)
            if absorb(Xd, cd, p) == 0:
                break
    orbits = sorted(cat.orbits, key=lambda o: (o.period, not o.stable, tuple(np.round(o.points[0], 9))))
    if digits is not None:
        orbits = [refine_orbit(fam, o, digits) for o in orbits]
    return orbits


# ----------------------------------------------------------------------------------- mpmath
def refine_orbit(fam: MapFamily, orbit: PeriodicOrbit, digits: int = 30, param=None,
                 maxit: int = 60) -> PeriodicOrbit:
    """Newton in mpmath (precision ``digits`` + 10) on F^p(x) = x from the orbit's first point,
    at the orbit's parameter value (or the exact ``param``), with minimal-norm steps (so that
    non-isolated orbits converge too); isolation and stability are re-decided from the refined
    cycle.  Returns a copy with ``points_mp`` / ``multipliers_mp`` (strings, ``digits``
    significant digits) and the float64 fields updated from them."""
    digits = int(digits)
    if digits < 1:
        raise BifurcationError(f"digits must be a positive integer, got {digits!r}")
    p, k = orbit.period, fam.k
    with mp.workdps(digits + 10):
        pv = mp_of(exact_value(orbit.param if param is None else param, "param"))
        x = [mp.mpf(float(v)) for v in orbit.points[0]]
        tol = mp.mpf(10) ** (-(digits + 5))
        ok = False
        for _ in range(maxit):
            pts, E, _ = fam.cycle_mp(x, pv, p)
            G = [pts[p][i] - x[i] for i in range(k)]
            A = [[E[i][j] - (1 if i == j else 0) for j in range(k)] for i in range(k)]
            d = mp_solve(A, [-g for g in G], minnorm=True)
            x = [x[i] + d[i] for i in range(k)]
            sc = 1 + max(abs(v) for v in x)
            if max(abs(v) for v in d) <= tol * sc:
                ok = True
                break
        if not ok:
            raise BifurcationError(f"mpmath Newton for the period-{p} orbit at {fam.param} = {orbit.param:.12g} "
                                   "did not converge")
        pts, E, _ = fam.cycle_mp(x, pv, p)
        mu = mp_eig([row[:k] for row in E])
        # isolation from the refined cycle: the nullity of M − I at half the working precision
        S = mp.svd_r(mp.matrix([[E[i][j] - (1 if i == j else 0) for j in range(k)] for i in range(k)]),
                     compute_uv=False)
        smax = max([abs(S[i]) for i in range(len(S))] + [mp.mpf(1)])
        nn = sum(1 for i in range(len(S)) if abs(S[i]) <= smax * mp.mpf(10) ** (-(digits // 2)))
        muc = np.array([complex(z) for z in mu])
        pm = [[mp.nstr(v, digits) for v in pt] for pt in pts[:p]]
        mm = [mp.nstr(z, digits) for z in mu]
        P = np.array([[float(v) for v in pt] for pt in pts[:p]])
        order = _canonical_index(P)
        P = np.roll(P, -order, axis=0)
        pm = pm[order:] + pm[:order]
        return PeriodicOrbit(period=p, param=orbit.param, points=P,
                             multipliers=muc, stable=_stable(muc, nn),
                             isolated=(nn == 0), n_neutral=nn, family_size=orbit.family_size,
                             residual=float(max(abs(pts[p][i] - x[i]) for i in range(k))),
                             points_mp=pm, multipliers_mp=mm, digits=digits)


def _canonical_index(points):
    sc = 1.0 + np.max(np.abs(points))
    key = np.round(points / (1e-9 * sc))
    return min(range(len(points)), key=lambda j: tuple(key[j]))


def orbits_dataset(fam: MapFamily, orbits: list[PeriodicOrbit], **options):
    """Periodic orbits as an ``xarray.Dataset``: ``points`` (orbit, index, variable) padded with
    NaN beyond each period, ``multiplier_real``/``multiplier_imag`` (orbit, multiplier),
    ``period``, ``stable``, ``isolated``, ``n_neutral``, ``param``; ``attrs["symsharp"]`` the JSON
    configuration (with ``options``)."""
    n, k = len(orbits), fam.k
    P = max([o.period for o in orbits] + [1])
    pts = np.full((n, P, k), np.nan)
    for i, o in enumerate(orbits):
        pts[i, :o.period] = o.points
    mu = np.array([o.multipliers for o in orbits]).reshape(n, k)
    ds = xr.Dataset({"points": (("orbit", "index", "variable"), pts),
                     "multiplier_real": (("orbit", "multiplier"), mu.real),
                     "multiplier_imag": (("orbit", "multiplier"), mu.imag),
                     "period": ("orbit", np.array([o.period for o in orbits], dtype=np.int64)),
                     "stable": ("orbit", np.array([o.stable for o in orbits], dtype=bool)),
                     "isolated": ("orbit", np.array([o.isolated for o in orbits], dtype=bool)),
                     "n_neutral": ("orbit", np.array([o.n_neutral for o in orbits], dtype=np.int64)),
                     "param": ("orbit", np.array([o.param for o in orbits], dtype=np.float64))},
                    coords={"variable": list(fam.state), "index": np.arange(P), "multiplier": np.arange(k)})
    ds.attrs["symsharp"] = config_json(fam, kind="periodic_orbits", **options)
    return ds


def orbits_json(orbits: list[PeriodicOrbit]) -> str:
    """The orbits as a JSON list (see :meth:`PeriodicOrbit.to_dict`)."""
    return json.dumps([o.to_dict() for o in orbits])
