"""The formulas and numbers written in the chain model's claim statements, as SymPy objects.

Each claim checker in :mod:`.claims`, :mod:`.claims_gf` and :mod:`.route` reads the formulas of its
own statement from here (at call time, as ``statements.NAME``) and compares them exactly with what
the code derives — so a statement with a wrong formula is not reported ``proved``.  The reports
show the same objects next to the derived ones.  Nothing here is a result: these are the claims'
words, typed in once.

Symbols: N examples, singular values σ_i > 0, d_i = e_iᵀy, Q = Σ d_i²/σ_i², depth D, imbalance(s)
C (C_k), learning rate η, s = ‖Π_W u‖² at a minimum.
"""
from __future__ import annotations

import sympy as sp

N = sp.Symbol("N", positive=True)
Q = sp.Symbol("Q", positive=True)
D = sp.Symbol("D", integer=True, positive=True)
C = sp.Symbol("C", real=True)
ETA = sp.Symbol("eta", positive=True)
S = sp.Symbol("s", positive=True)
MU = sp.Symbol("mu")
B = sp.Symbol("B", integer=True, positive=True)


def sigma(i: int) -> sp.Symbol:
    return sp.Symbol(f"sigma_{i}", positive=True)


def dvec(i: int) -> sp.Symbol:
    return sp.Symbol(f"d_{i}", real=True)


def imbalances(depth: int) -> tuple:
    """C_1 … C_{D−1}."""
    return tuple(sp.Symbol(f"C_{k + 1}", real=True) for k in range(depth - 1))


# ------------------------------------------------------------------------------ Y1
def Q_of(sig, dd):
    """Y1 / science.md: Q = Σ_i d_i²/σ_i²."""
    return sum(di ** 2 / si ** 2 for si, di in zip(sig, dd))


# ------------------------------------------------------------------------------ Y2
def Y2_imbalance(z, v1):
    """Y2: C(θ) = ‖Π_W u‖² − v_1² (z = the coordinates of Π_W u in an orthonormal basis of W)."""
    return sum(x ** 2 for x in z) - v1 ** 2


# ------------------------------------------------------------------------------ Y3 (D = 2)
Y3_V_STAR_SQ = (sp.sqrt(C ** 2 + 4 * Q) - C) / 2
"""Y3: v*² = (√(C² + 4Q) − C)/2."""


def Y3_bounds(sig, dd, w):
    """Y3: (lower, upper) = (1/N)[σ_1² w + d_1²/w], (1/N)[σ_1² w + Σ d_i²/w] with w = v*²."""
    return ((sig[0] ** 2 * w + dd[0] ** 2 / w) / N, (sig[0] ** 2 * w + sum(x ** 2 for x in dd) / w) / N)


# ------------------------------------------------------------------------------ Y4 (balanced)
def Y4_bounds(sig, dd, depth=D):
    """Y4: (1/N)[σ_1² Q^{(D−1)/D} + (D−1) d_1² Q^{−1/D}] and the same with Σ d_i²."""
    return ((sig[0] ** 2 * Q ** ((depth - 1) / depth) + (depth - 1) * dd[0] ** 2 * Q ** (-1 / depth)) / N,
            (sig[0] ** 2 * Q ** ((depth - 1) / depth) + (depth - 1) * sum(x ** 2 for x in dd) * Q ** (-1 / depth)) / N)


# ------------------------------------------------------------------------------ Y5-corrected
def Y5_drift(eta, pi_minus_k, v_k, g, u):
    """Y5-corrected: ΔC_k = η² π_{−k}² (v_k²‖g‖² − (uᵀg)²) (g, u SymPy column vectors)."""
    return eta ** 2 * pi_minus_k ** 2 * (v_k ** 2 * (g.T * g)[0, 0] - ((u.T * g)[0, 0]) ** 2)


# ------------------------------------------------------------------------------ Y6-corrected (D = 2)
def Y6_extra(eta, v, Scov, u):
    """Y6-corrected: E[ΔC_SGD] − ΔC_GD = η² κ (v² tr S − uᵀSu), without the factor κ."""
    return eta ** 2 * (v ** 2 * Scov.trace() - (u.T * Scov * u)[0, 0])


Y6_KAPPA_WITHOUT = (N - B) / (B * (N - 1))
"""Y6-corrected: κ = (N − B)/(B(N − 1)) for batches drawn without replacement."""
Y6_KAPPA_WITH = 1 / B
"""Y6-corrected: κ = 1/B with replacement."""
Y6_PROPORTIONAL_TO = (N - B) / B
"""Y6 (as worded): the extra increase is proportional to (N − B)/B."""


# ------------------------------------------------------------------------------ Ŝ_D, Y7
S1 = sigma(1)
S_HAT = S1 ** 2 / N * Q ** ((D - 1) / D)
"""science.md / Y7-corrected / Y10: Ŝ_D = (σ_1²/N)·Q^{(D−1)/D}."""
Y7_DEPTH_THRESHOLD_Q = sp.Integer(1)
"""Y7-corrected: Ŝ_{D+1} > Ŝ_D iff Q > 1."""


# ------------------------------------------------------------------------------ GF limit
def gf_g(s, Cs):
    """CHAIN-GF-limit: g(s) = s ∏_k (s − C_k), the limit solves g(s) = Q."""
    return s * sp.Mul(*[(s - c) for c in Cs])


GF_D2_S = (C + sp.sqrt(C ** 2 + 4 * Q)) / 2
"""CHAIN-GF-limit: D = 2: s = (C + √(C² + 4Q))/2."""
GF_BALANCED_S = Q ** (1 / D)
"""CHAIN-GF-limit: all C_k = 0: s = Q^{1/D}."""
GF_NO_RADICALS_FROM = 5
"""CHAIN-GF-limit: from D = 5 on there is no formula in radicals in general (the Galois group of the
generic instance is not solvable); below it there is one (D = 2 explicitly; D = 3, 4 Cardano/Ferrari)."""


def gf_p_q(s, Cs):
    """CHAIN-GF-sharpness: p = Q/s, q = Σ_k 1/(s − C_k)."""
    return Q / s, sum(1 / (s - c) for c in Cs)


def gf_secular(p, q, sig, dd, mu=MU):
    """CHAIN-GF-sharpness: 1 = q Σ_i d_i²/(μ − pσ_i²), as the expression rhs − 1."""
    return q * sum(di ** 2 / (mu - p * si ** 2) for si, di in zip(sig, dd)) - 1


def gf_bounds(sig, dd, s, Cs):
    """CHAIN-GF-sharpness: (lower, upper, top) of S(θ∞):
    (1/N)[σ_1² Q/s + q d_1²], (1/N)[σ_1² Q/s + q Σ d_i²], (σ_1²/N) g'(s)."""
    p, q = gf_p_q(s, Cs)
    return ((sig[0] ** 2 * p + q * dd[0] ** 2) / N, (sig[0] ** 2 * p + q * sum(x ** 2 for x in dd)) / N,
            sig[0] ** 2 / N * sp.diff(gf_g(s, Cs), s))


# ------------------------------------------------------------------------------ depth
SMALL_INIT_BRACKET = (1, D)
"""CHAIN-GF-small-init-bracket: Ŝ_D ≤ S(θ∞) ≤ D·Ŝ_D (factors of Ŝ_D)."""
RANK_ONE_THRESHOLD = (D / (D + 1)) ** (D * (D + 1))
"""Y7-depth-exact: the lower end of Q*_D, attained for rank-one data."""
RANK_ONE_THRESHOLD_D2 = sp.Rational(64, 729)
"""Y7-depth-exact: its value for D = 2 (≈ 0.088)."""
RANK_ONE_THRESHOLD_D2_DECIMAL = sp.Rational(88, 1000)
"""Y7-depth-exact: "≈ 0.088" (three decimals)."""


# ------------------------------------------------------------------------------ beyond the edge of stability
FEIGENBAUM_DELTA = 4.669201609102990
"""Feigenbaum's universal δ (a reference constant, science.md), not a result."""
ROUTE_FIRST_FLIP = sp.Integer(2)
"""CHAIN-route-first-flip: the minima lose stability by a flip at η·S* = 2."""
ROUTE_FIRST_FLIP_TOL = 1e-8
ROUTE_FIRST_FLIP_DISTANCE = 1e-6
"""… where the attracting 2-cycle collapses onto the flattest minimum (relative distance)."""

RX, RH = sp.symbols("x h", positive=True)
RANK_ONE_MAP = RX - RH / D * RX ** (D - 1) * (RX ** D - 1)
"""CHAIN-route-rank-one: GD on the balanced line of rank-one data, w = (d/σ)^{1/D} x, η = h/S*."""
RANK_ONE_S_STAR = D * S_HAT
"""CHAIN-route-rank-one: the flattest (balanced) minimum of rank-one data has S* = D·Ŝ_D."""

ROUTE_DECIMALS = 5
"""Flips, onset and window openings of the route claims are stated to this many decimals."""
ROUTE_DELTA_TOL = 0.005
"""The last Feigenbaum ratio (from 8 flips) is within this of δ."""
ROUTE_LYAPUNOV_FRACTION = 0.8
"""The largest Lyapunov exponent is positive on more than this fraction of a 100-point grid between the
onset and the loss of the attractor (the rest: periodic windows), negative between the first two flips."""
ROUTE_CRISIS_TOL = 0.02
"""Tolerance of the stated loss of the attractor (escape within 10⁵ steps; it moves by up to a few 10⁻²
between 2.5·10⁴ and 10⁵ steps)."""

ROUTE = {
    2: {"rank1": {"flips": ("2.47214", "2.57606", "2.59846", "2.60326"), "onset": "2.60457", "period3": "2.90088",
                  "crisis": ("4.00", "divergence")},
        "rank2": {"flips": ("2.47304", "2.57715", "2.59960", "2.60441"), "onset": "2.60573", "period3": "2.90396",
                  "crisis": ("3.79", "divergence")},
        "rank3": {"flips": ("2.47221", "2.57616", "2.59855", "2.60336"), "onset": "2.60467", "period3": "2.90116",
                  "crisis": ("3.98", "divergence")}},
    3: {"rank1": {"flips": ("2.48921", "2.60083", "2.62496", "2.63014"), "onset": "2.63156", "period3": "2.96173",
                  "crisis": ("3.66", "zero output (dead network)")},
        "rank2": {"flips": ("2.48959", "2.60127", "2.62542", "2.63061"), "onset": "2.63202", "period3": "2.96297",
                  "crisis": ("4.04", "zero output (dead network)")},
        "rank3": {"flips": ("2.48925", "2.60087", "2.62500", "2.63018"), "onset": "2.63159", "period3": "2.96183",
                  "crisis": ("4.10", "zero output (dead network)")}},
}
"""CHAIN-route-D2 / -D3: for each data set of :data:`symsharp.models.chain.route.ROUTE_DATA`, in
h = η·S*: the flips after the first (periods 2, 4, 8, 16), the onset of chaos, where the first
period-3 window opens, and where (and how) the attractor is lost."""
