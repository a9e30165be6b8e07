"""Rigorous enclosures of a map with ball arithmetic (python-flint / Arb).

This is the shared ball layer: evaluate a SymPy map and its exact Jacobian on balls and boxes,
propagate enclosures of orbits, and prove the existence of periodic orbits.  Everything is
generic in the number k of state variables.

Vocabulary.  A *ball* is a ``flint.arb`` [m ± r]: a real interval that contains the exact value.
A *box* is a tuple of k balls (a product of intervals).  Parameters are passed as balls too
(:meth:`BallMap.params`), so exact inputs such as 0.01 are enclosed, not rounded.

API (all methods set the working precision themselves)::

    bm = BallMap(step, state, params, bits=256)
    p  = bm.params(["15", "0.01", "1"])          # exact enclosures of the parameters
    X  = bm.box(["0", "0.1"], rad=1e-30)          # a box around a point
    bm.eval(X, p)        # a box containing {F(x; p) : x in X}
    bm.jacobian(X, p)    # k×k balls containing {∂F/∂x (x; p) : x in X}
    bm.naive(X, p, n)    # EnclosureRun: plain ball iteration (wraps, not certification)
    bm.lohner(X, p, n)   # EnclosureRun: Lohner's QR moving-frame method (as CAPD)
    bm.krawczyk(x, p, period)  # KrawczykResult: existence and uniqueness of a period-p orbit

Lohner's method.  The set of possible states after n steps is kept in the form
x̂ + C·r₀ + B·r with a point x̂, point matrices C and B (B orthogonal up to rounding), the fixed
initial box r₀ and a ball vector r.  One step with F, by the mean-value theorem over the hull
[X] of the current set::

    F(X) ⊂ F(x̂) + J([X])·(C r₀ + B r),    J = exact Jacobian (SymPy)

New x̂ = mid F(x̂), new C = mid(J C), new B = Q from a QR decomposition of mid(J B) (columns
ordered by the size of the r they multiply), and new r = (B⁻¹ J B) r + B⁻¹ (rest), with B⁻¹
enclosed rigorously.  The box that r lives in turns with the flow, so the wrapping effect of naive
interval iteration (widths growing faster than the Lyapunov rate, or growing on an attracting
cycle) disappears: the widths grow at the rate of the largest Lyapunov exponent and stay tiny on
attracting orbits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..common import CodegenError
from .scalar import ArbMap, scalar_map
from .spec import to_fraction


@dataclass
class EnclosureRun:
    """An enclosure of an orbit, step by step.

    ``width[t, i]``: an upper bound of the diameter of the enclosure of state variable i after
    step t (t = 0 … steps_done); ``mid[t, i]``: its midpoint (float); ``lower``/``upper``: the
    enclosure's bounds rounded outward to floats (every state of the exact orbit at step t lies
    in [lower[t], upper[t]]).  ``boxes``: the final enclosure as flint balls.  ``method``:
    ``"lohner"`` or ``"naive"``.  ``stopped``: why the run ended early (``""`` if it did not)."""

    method: str
    bits: int
    width: np.ndarray
    mid: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    boxes: tuple
    steps_done: int
    stopped: str = ""

    def certified_steps(self, tol: float) -> int:
        """Number of steps n such that at every step t ≤ n every state variable's enclosure
        width is at most tol·max(1, |midpoint|)."""
        ok = self.width <= tol * np.maximum(1.0, np.abs(self.mid))
        good = np.all(ok, axis=1)
        bad = np.flatnonzero(~good)
        return int(bad[0] - 1) if bad.size else int(len(good) - 1)

    def hull(self, upto: int | None = None) -> tuple:
        """(lower (k,), upper (k,)): a box that contains the exact orbit at every step 0 … upto."""
        n = self.steps_done if upto is None else int(upto)
        return self.lower[:n + 1].min(axis=0), self.upper[:n + 1].max(axis=0)

    def exceeds(self, threshold: float) -> int:
        """The first step at which some state variable provably has |x| > threshold, or −1."""
        a = np.maximum(self.lower, -self.upper)  # lower bound of |x| when the enclosure excludes 0
        hit = np.flatnonzero(np.any(a > threshold, axis=1))
        return int(hit[0]) if hit.size else -1


@dataclass
class KrawczykResult:
    """Outcome of a Krawczyk test for a period-p orbit of F in a box X around x̃.

    ``proved``: K(X) ⊂ interior(X), hence F^p has exactly one fixed point in X.
    ``minimal``: additionally F^d(X) ∩ X = ∅ for every proper divisor d of p (the period is
    exactly p).  ``box``: X (lower/upper as floats rounded outward, and the flint balls in
    ``balls``); ``orbit``: enclosures of the p points of the orbit (lists of (lower, upper)).
    ``trace``/``det`` (k = 2) and ``multipliers``: enclosures of the eigenvalues of the product of
    Jacobians along the orbit, as (lower, upper) pairs (real) or ("complex", modulus lower, modulus
    upper); ``stable``: all multipliers certainly inside the unit circle (True), certainly one
    outside (False) or undecided (None)."""

    period: int
    proved: bool
    minimal: bool
    radius: float
    box: list
    balls: tuple
    orbit: list = field(default_factory=list)
    trace: tuple | None = None
    det: tuple | None = None
    multipliers: list = field(default_factory=list)
    stable: bool | None = None
    note: str = ""


def _down(x: float) -> float:
    return math.nextafter(x, -math.inf)


def _up(x: float) -> float:
    return math.nextafter(x, math.inf)


def ball_bounds(b) -> tuple:
    """(lower, upper) floats with lower ≤ every point of the ball ≤ upper (outward rounding)."""
    lo = float(b.lower())
    hi = float(b.upper())
    return _down(lo), _up(hi)


class BallMap:
    """A map with ball-arithmetic evaluation at ``bits`` (see the module docstring).

    ``step``: {state symbol: expression}; ``state``/``params``: orders (parameters default to the
    remaining free symbols sorted by name).  The Jacobian is SymPy's exact derivative."""

    def __init__(self, step, state=None, params=None, bits: int = 256, name: str = "map", form: str = "horner"):
        sm = scalar_map(step, state, params, f"arb:{int(bits)}", name=name, form=form)
        assert isinstance(sm, ArbMap)
        self.sm = sm
        self.bits = sm.arith.bits
        self.k = sm.k
        self.m = sm.m
        self.state = sm.state
        self.params_names = sm.params
        import flint

        self._flint = flint
        self._arb = flint.arb

    def __repr__(self):
        return f"BallMap(arb:{self.bits}, state={self.state}, params={self.params_names})"

    def context(self):
        """Context manager setting flint's working precision to ``bits``."""
        return self.sm.context()

    # ---------------------------------------------------------------- construction
    def ball(self, mid, rad=0):
        """The ball containing [mid − rad, mid + rad] (mid and rad exact values)."""
        with self.context():
            m = self.sm._convert(to_fraction(mid))
            if rad:
                r = abs(self.sm._convert(to_fraction(rad)))
                m = m + self._arb(0, r.upper())
            return m

    def box(self, mids, rad=0) -> tuple:
        """A box: balls around ``mids`` with radius ``rad`` (a number or one per variable)."""
        mids = list(mids)
        if len(mids) != self.k:
            raise CodegenError(f"a box of this map has {self.k} entries ({', '.join(self.state)}), got {len(mids)}")
        rads = list(rad) if isinstance(rad, (list, tuple, np.ndarray)) else [rad] * self.k
        return tuple(self.ball(m, r) for m, r in zip(mids, rads))

    def params(self, values) -> tuple:
        """Exact enclosures of the parameter values (in the map's parameter order)."""
        values = list(values)
        if len(values) != self.m:
            raise CodegenError(f"this map has {self.m} parameters ({', '.join(self.params_names)}), got {len(values)}")
        return tuple(self.ball(v) for v in values)

    # ---------------------------------------------------------------- evaluation
    def eval(self, X, p) -> tuple:
        """A box containing F(x; p) for every x in the box X and p in the parameter balls."""
        with self.context():
            return tuple(self.sm._ns.step(tuple(X), tuple(p)))

    def jacobian(self, X, p) -> tuple:
        """k×k balls containing the exact Jacobian ∂F/∂x at every point of X."""
        with self.context():
            return tuple(tuple(r) for r in self.sm._ns.jac(tuple(X), tuple(p)))

    def iterate_eval(self, X, p, n: int) -> list:
        """[X, F(X), F²(X), …, Fⁿ(X)] by plain ball evaluation."""
        out = [tuple(X)]
        with self.context():
            step = self.sm._ns.step
            for _ in range(int(n)):
                out.append(tuple(step(out[-1], tuple(p))))
        return out

    # ---------------------------------------------------------------- orbit enclosures
    def _record(self, X, W, M, LO, HI, t):
        for i, b in enumerate(X):
            r = b.rad()
            W[t, i] = _up(2.0 * float(r)) if r.is_finite() else math.inf
            M[t, i] = float(b.mid())
            LO[t, i], HI[t, i] = ball_bounds(b) if b.is_finite() else (-math.inf, math.inf)

    def _arrays(self, n):
        return (np.full((n + 1, self.k), np.inf), np.full((n + 1, self.k), np.nan),
                np.full((n + 1, self.k), -np.inf), np.full((n + 1, self.k), np.inf))

    def naive(self, X0, p, steps: int, stop_width: float = 1e6) -> EnclosureRun:
        """Plain ball iteration X_{t+1} = F(X_t): rigorous but subject to the wrapping effect.
        Stops when a width exceeds ``stop_width``."""
        n = int(steps)
        W, M, LO, HI = self._arrays(n)
        X = tuple(X0)
        self._record(X, W, M, LO, HI, 0)
        stopped = ""
        done = n
        with self.context():
            step = self.sm._ns.step
            p = tuple(p)
            for t in range(1, n + 1):
                X = tuple(step(X, p))
                self._record(X, W, M, LO, HI, t)
                if not np.all(W[t] <= stop_width):
                    stopped = f"enclosure wider than {stop_width:g} at step {t}"
                    done = t
                    break
        return EnclosureRun("naive", self.bits, W[:done + 1], M[:done + 1], LO[:done + 1], HI[:done + 1], X, done,
                            stopped)

    def lohner(self, X0, p, steps: int, stop_width: float = 1e6, check_every: int = 8,
               initial_frame: bool = False) -> EnclosureRun:
        """Lohner's QR moving-frame enclosure of the orbits starting in the box ``X0`` (see the
        module docstring).  Stops (checked every ``check_every`` steps) when a width exceeds
        ``stop_width`` or a ball is not finite.  By default the initial radii start the frame's
        ball vector r (right for exact initial states, whose enclosures are rounding-sized) and
        the map's generated, unrolled loop runs; ``initial_frame=True`` carries a wide initial
        box in its own frame C·r₀ (general Python loop, slower)."""
        n = int(steps)
        X0 = tuple(X0)
        if initial_frame:
            return self._lohner_box(X0, p, n, stop_width)
        with self.context():
            hist, done, stopped = self.sm._ns.lohner(X0, tuple(p), n, self._arb(stop_width), int(check_every),
                                                     _qr_frame, lambda B: _inverse(B, self._arb), self._arb,
                                                     math.sqrt)
            W, M, LO, HI = self._convert_history(hist, done)
            last = tuple(h[done] for h in hist)
        msg = ""
        if stopped >= 0:
            bad = np.flatnonzero(~np.all(W <= stop_width, axis=1))
            if bad.size:
                done = int(bad[0])
                W, M, LO, HI = W[:done + 1], M[:done + 1], LO[:done + 1], HI[:done + 1]
                last = tuple(h[done] for h in hist)
            msg = f"enclosure wider than {stop_width:g} at step {done}"
        return EnclosureRun("lohner", self.bits, W, M, LO, HI, last, done, msg)

    def _convert_history(self, hist, done):
        k = self.k
        W = np.empty((done + 1, k))
        M = np.empty((done + 1, k))
        LO = np.empty((done + 1, k))
        HI = np.empty((done + 1, k))
        for i in range(k):
            h = hist[i]
            for t in range(done + 1):
                b = h[t]
                r = b.rad()
                if not (r.is_finite() and b.is_finite()):
                    W[t, i], M[t, i], LO[t, i], HI[t, i] = math.inf, math.nan, -math.inf, math.inf
                    continue
                rf = _up(float(r))
                mf = float(b.mid())
                W[t, i] = _up(2.0 * rf)
                M[t, i] = mf
                LO[t, i] = _down(_down(mf) - rf)
                HI[t, i] = _up(_up(mf) + rf)
        return W, M, LO, HI

    def _lohner_box(self, X0, p, n, stop_width) -> EnclosureRun:
        k = self.k
        W, M, LO, HI = self._arrays(n)
        arb = self._arb
        stopped = ""
        done = n
        with self.context():
            ns = self.sm._ns
            p = tuple(p)
            zero = arb(0)
            one = arb(1)
            xh = [b.mid() for b in X0]
            r0 = [b - b.mid() for b in X0]
            C = [[one if i == j else zero for j in range(k)] for i in range(k)]
            B = [[one if i == j else zero for j in range(k)] for i in range(k)]
            r = [zero] * k
            X = X0
            self._record(X, W, M, LO, HI, 0)
            for t in range(1, n + 1):
                Y = ns.step(tuple(xh), p)
                J = ns.jac(X, p)
                yh = [y.mid() for y in Y]
                z = [y - m for y, m in zip(Y, yh)]
                S = _matmul(J, C)
                Cn = [[v.mid() for v in row] for row in S]
                z = [z[i] + _dot([S[i][j] - Cn[i][j] for j in range(k)], r0) for i in range(k)]
                C = Cn
                D = _matmul(J, B)
                Q = _qr_frame([[float(d.mid()) for d in row] for row in D], [float(v.rad()) for v in r])
                Bn = [[arb(q) for q in row] for row in Q]
                Binv = _inverse(Bn, arb)
                if Binv is None:
                    stopped = f"the moving frame became singular at step {t}"
                    done = t - 1
                    break
                A = _matmul(Binv, D)
                r = [_dot(A[i], r) + _dot(Binv[i], z) for i in range(k)]
                B = Bn
                xh = yh
                X = tuple(xh[i] + _dot(C[i], r0) + _dot(B[i], r) for i in range(k))
                self._record(X, W, M, LO, HI, t)
                if not (np.all(W[t] <= stop_width) and all(b.is_finite() for b in X)):
                    stopped = f"enclosure wider than {stop_width:g} at step {t}"
                    done = t
                    break
        return EnclosureRun("lohner", self.bits, W[:done + 1], M[:done + 1], LO[:done + 1], HI[:done + 1],
                            tuple(X), done, stopped)

    # ---------------------------------------------------------------- periodic orbits
    def krawczyk(self, x_approx, p, period: int, radius: float | None = None, refine: int = 12) -> KrawczykResult:
        """Krawczyk's test for a fixed point of G = F^p − id in the box X = x̃ + [−ρ, ρ]^k
        (ρ = ``radius``, default 2^(−bits/3)·max(1, |x̃|)).  K(X) = x̃ − Y G(x̃) + (I − Y DG(X))(X − x̃)
        with Y ≈ DG(x̃)⁻¹ and DG(X) ⊂ DF(X_{p−1})···DF(X_0) − I over the ball images X_j = F^j(X).
        If K(X) ⊂ interior(X), F^p has exactly one fixed point in X (a period-p orbit, unique
        there).  Also encloses the multipliers (eigenvalues of the product of Jacobians).
        ``refine``: Newton steps on x̃ (midpoint arithmetic at ``bits``) before the test, so that a
        float approximation suffices."""
        k = self.k
        P = int(period)
        if P < 1:
            raise CodegenError(f"the period must be a positive integer, got {period!r}")
        arb = self._arb
        with self.context():
            ns = self.sm._ns
            p = tuple(p)
            xt = [self.sm._convert(to_fraction(v)).mid() for v in x_approx]
            if len(xt) != k:
                raise CodegenError(f"the approximate periodic point must have {k} entries")
            for _ in range(int(refine)):
                xt_new = _newton_step(ns, xt, p, P, k, self._flint)
                if xt_new is None:
                    break
                done = all((a - b).is_zero() or abs(a - b) < abs(b) * arb(2) ** (-self.bits + 8) + arb(2) ** (-self.bits)
                           for a, b in zip(xt_new, xt))
                xt = xt_new
                if done:
                    break
            scale = max(1.0, max(abs(float(v)) for v in xt))
            rho = float(radius) if radius is not None else math.ldexp(scale, -(self.bits // 3))
            X = tuple(v + arb(0, rho) for v in xt)
            # G(x̃) on the thin point
            y = tuple(xt)
            for _ in range(P):
                y = tuple(ns.step(y, p))
            G = [y[i] - xt[i] for i in range(k)]
            # DF^p over X by the chain rule along the ball images
            imgs = [X]
            M = [[arb(1) if i == j else arb(0) for j in range(k)] for i in range(k)]
            for _ in range(P):
                Jx = ns.jac(imgs[-1], p)
                M = _matmul(Jx, M)
                imgs.append(tuple(ns.step(imgs[-1], p)))
            DG = [[M[i][j] - (1 if i == j else 0) for j in range(k)] for i in range(k)]
            Y = _point_inverse([[d.mid() for d in row] for row in DG], self._flint)
            if Y is None:
                return KrawczykResult(P, False, False, rho, _bounds(X), X, note="DG(x̃) is singular (multiplier 1)")
            YG = [_dot(Y[i], G) for i in range(k)]
            YDG = _matmul(Y, DG)
            R = [[(1 if i == j else 0) - YDG[i][j] for j in range(k)] for i in range(k)]
            dX = [X[i] - xt[i] for i in range(k)]
            K = [xt[i] - YG[i] + _dot(R[i], dX) for i in range(k)]
            proved = all(X[i].contains_interior(K[i]) for i in range(k))
            # the fixed point lies in K ∩ X; enclose it (and its orbit) tighter by K
            Xs = tuple(K[i].intersection(X[i]) for i in range(k)) if proved else X
            minimal = False
            if proved:
                minimal = True
                for d in range(1, P):
                    if P % d == 0:
                        Z = Xs
                        for _ in range(d):
                            Z = tuple(ns.step(Z, p))
                        if all(Z[i].overlaps(Xs[i]) for i in range(k)):
                            minimal = False
            orbit = [Xs]
            Mx = [[arb(1) if i == j else arb(0) for j in range(k)] for i in range(k)]
            for _ in range(P):
                Mx = _matmul(ns.jac(orbit[-1], p), Mx)
                orbit.append(tuple(ns.step(orbit[-1], p)))
            res = KrawczykResult(P, bool(proved), bool(minimal), rho, _bounds(Xs), Xs,
                                 orbit=[_bounds(o) for o in orbit[:P]])
            if proved:
                res.trace, res.det, res.multipliers, res.stable = _multipliers(Mx, self._flint)
            else:
                res.note = "K(X) is not inside X: no proof at this radius"
        return res


# ============================================================================== small matrices

def _newton_step(ns, xt, p, P, k, flint):
    """One Newton step for F^P(x) = x on midpoints (thin balls); None if DG is singular."""
    arb = flint.arb
    y = tuple(xt)
    M = [[arb(1) if i == j else arb(0) for j in range(k)] for i in range(k)]
    for _ in range(P):
        M = _matmul(ns.jac(y, p), M)
        y = tuple(ns.step(y, p))
    G = [y[i] - xt[i] for i in range(k)]
    DG = [[(M[i][j] - (1 if i == j else 0)).mid() for j in range(k)] for i in range(k)]
    Y = _point_inverse(DG, flint)
    if Y is None:
        return None
    return [(xt[i] - _dot(Y[i], G)).mid() for i in range(k)]


def _dot(row, vec):
    acc = row[0] * vec[0]
    for a, b in zip(row[1:], vec[1:]):
        acc = acc + a * b
    return acc


def _matmul(A, B):
    k = len(B)
    cols = len(B[0])
    return [[_dot(A[i], [B[l][j] for l in range(k)]) for j in range(cols)] for i in range(len(A))]


def _qr_frame(A, rw):
    """Q of a QR decomposition (modified Gram–Schmidt, in floats) of the matrix A (rows) with its
    columns taken in decreasing order of ‖A e_j‖·|r_j| (the column that carries most width
    first), so that Q's first axis follows the most expanded direction.  Returns Q as rows."""
    k = len(A)
    cols = [[A[i][j] for i in range(k)] for j in range(k)]
    if not all(math.isfinite(v) for c in cols for v in c):
        return [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
    w = [math.sqrt(sum(v * v for v in c)) * max(abs(r), 1e-300) for c, r in zip(cols, rw)]
    order = sorted(range(k), key=lambda j: -w[j])
    qs = []
    for j in order:
        v = list(cols[j])
        for _ in range(2):  # re-orthogonalise once
            for q in qs:
                d = sum(a * b for a, b in zip(q, v))
                v = [a - d * b for a, b in zip(v, q)]
        nrm = math.sqrt(sum(a * a for a in v))
        if not nrm > 0 or not math.isfinite(nrm):
            # degenerate column: complete the basis with a unit vector orthogonal to the others
            for e in range(k):
                v = [1.0 if i == e else 0.0 for i in range(k)]
                for q in qs:
                    d = sum(a * b for a, b in zip(q, v))
                    v = [a - d * b for a, b in zip(v, q)]
                nrm = math.sqrt(sum(a * a for a in v))
                if nrm > 0.5:
                    break
        qs.append([a / nrm for a in v])
    return [[qs[j][i] for j in range(k)] for i in range(k)]


def _inverse(B, arb):
    """Rigorous enclosure of B⁻¹ (B a list of rows of exact balls); None if singular."""
    k = len(B)
    if k == 1:
        if B[0][0].contains(0):
            return None
        return [[1 / B[0][0]]]
    if k == 2:
        a, b = B[0]
        c, d = B[1]
        det = a * d - b * c
        if det.contains(0):
            return None
        return [[d / det, -b / det], [-c / det, a / det]]
    import flint

    try:
        inv = flint.arb_mat(B).inv()
    except (ZeroDivisionError, ValueError):
        return None
    return [[inv[i, j] for j in range(k)] for i in range(k)]


def _point_inverse(A, flint):
    """A point matrix (exact balls, radius 0) close to A⁻¹ (A: rows of exact balls), or None."""
    k = len(A)
    try:
        inv = flint.arb_mat(A).inv()
    except (ZeroDivisionError, ValueError):
        return None
    return [[inv[i, j].mid() for j in range(k)] for i in range(k)]


def _bounds(X) -> list:
    return [ball_bounds(b) for b in X]


def _multipliers(M, flint):
    """(trace, det, multipliers, stable) of an enclosed k×k matrix M (rows of balls)."""
    k = len(M)
    if k == 1:
        m = M[0][0]
        st = True if abs(m) < 1 else (False if abs(m) > 1 else None)
        return ball_bounds(m), ball_bounds(m), [ball_bounds(m)], st
    if k == 2:
        tr = M[0][0] + M[1][1]
        det = M[0][0] * M[1][1] - M[0][1] * M[1][0]
        disc = tr * tr - 4 * det
        mults = []
        stable = None
        if disc > 0:
            s = disc.sqrt()
            l1 = (tr + s) / 2
            l2 = (tr - s) / 2
            mults = [ball_bounds(l1), ball_bounds(l2)]
            if abs(l1) < 1 and abs(l2) < 1:
                stable = True
            elif abs(l1) > 1 or abs(l2) > 1:
                stable = False
        elif disc < 0:
            mod = det.sqrt()
            lo, hi = ball_bounds(mod)
            mults = [("complex", lo, hi), ("complex", lo, hi)]
            stable = True if mod < 1 else (False if mod > 1 else None)
        else:
            # sign of the discriminant undecided: |λ| ≤ |tr|/2 + sqrt(|disc|)/2 in either case
            rad = abs(tr) / 2 + abs(disc).sqrt() / 2
            mults = [("spectral radius at most", ball_bounds(rad)[1])]
            stable = True if rad < 1 else None
        return ball_bounds(tr), ball_bounds(det), mults, stable
    # general k: rigorous eigenvalue enclosures from Arb (simple eigenvalues)
    try:
        eig = flint.acb_mat(flint.arb_mat(M)).eig()
    except Exception:  # noqa: BLE001 - Arb could not isolate the eigenvalues
        return None, None, [], None
    mults = []
    moduli = [abs(lam) for lam in eig]
    for a in moduli:
        mults.append(("complex", *ball_bounds(a)))
    if all(a < 1 for a in moduli):
        stable = True
    elif any(a > 1 for a in moduli):
        stable = False
    else:
        stable = None
    tr = sum((M[i][i] for i in range(1, k)), M[0][0])
    return ball_bounds(tr), None, mults, stable
