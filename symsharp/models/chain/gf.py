"""Where gradient flow ends for the chain model, and how sharp that point is — any depth D, any
layer imbalances.

Notation as in :mod:`symsharp.symbolic.chain` (SVD coordinates z = Wᵀu, σ_i, d_i = e_iᵀy,
Q = Σ d_i²/σ_i², π = ∏_k v_k).  The imbalances are C_k = ‖z‖² − v_k², k = 1 … D − 1.

Derived here (symbolically, then used numerically):

1. GF conserves every C_k (the quadratic GF invariants are exactly span{C_k}); v_k never changes
   sign while C_k < 0 (v_k² = ‖z‖² − C_k ≥ −C_k > 0), and can cross zero when C_k ≥ 0.
2. At a global minimum σ_i z_i π = d_i, so s = ‖z‖² satisfies g(s) := s ∏_k (s − C_k) = Q.
   On s > c₀ = max(0, max_k C_k) every factor is positive and increasing, so g rises strictly from
   0 to ∞: the root is unique.  With C_k conserved, the limit of GF (when it is a global minimum)
   is fixed by the initial imbalances: s∞ = root, v_k∞² = s∞ − C_k, z∞ = z*/π∞.
3. There JJᵀ = pΣ² + q ddᵀ with p = π² = Q/s∞, q = Σ_k 1/v_k² = Σ_k 1/(s∞ − C_k), and
   N·S(θ∞) is the largest root μ of the secular equation 1 = q Σ_i d_i²/(μ − pσ_i²).
4. Small initialisation (all C_k → 0): p = Q^{(D−1)/D}, q = (D − 1)Q^{−1/D}, so
   N·S_D = Q^{−1/D} M_{D−1} with M_t = λ_max(QΣ² + t ddᵀ); Ŝ_D ≤ S_D ≤ D·Ŝ_D (Cauchy–Schwarz:
   ddᵀ ≼ QΣ²), and S_{D+1} > S_D iff Q > Q*_D = (M_{D−1}/M_D)^{D(D+1)} ∈ [(D/(D+1))^{D(D+1)}, 1].
"""
from __future__ import annotations

from ...errors import SymsharpError

import numpy as np
import sympy as sp

from ...symbolic.calculus import gf_field
from .symbolic import minimum_sharpness_matrix, svd_coordinates, svd_model
from ...symbolic.invariants import model_invariants


class ChainGFError(SymsharpError):
    """Bad input to a GF-limit computation (one clear sentence)."""


# ------------------------------------------------------------------------------ symbolic
def _imb_symbols(depth: int):
    return tuple(sp.Symbol(f"C_{k + 1}", real=True) for k in range(depth - 1))


def imbalance_conservation(depth: int, rank: int = 2) -> dict:
    """d/dt C_k along GF of the SVD model (each must be 0), the d/dt v_k field, and the basis of
    quadratic GF invariants found by the ansatz (it should span exactly the C_k)."""
    m = svd_model(depth, rank)
    F = gf_field(m)
    z, v = m.blocks[0].symbols, m.blocks[1].symbols
    zz = sum(zi ** 2 for zi in z)
    imbs = [zz - vk ** 2 for vk in v]
    lie = [sp.expand(sum(sp.diff(C, p) * F[p] for p in m.params)) for C in imbs]
    invs = model_invariants(m)
    # span check: the ansatz basis and {C_k} span the same space
    cs = sp.symbols(f"c0:{len(imbs)}")
    in_span = all(bool(sp.solve(sp.Poly(sp.expand(I - sum(c * C for c, C in zip(cs, imbs))), *m.params).coeffs(), cs,
                                dict=True)) for I in invs)
    same_space = in_span and len(invs) == len(imbs)
    # sign: v_k² = ‖z‖² − C_k, so C_k < 0 ⇒ v_k² ≥ −C_k > 0
    vdot = [sp.factor(F[vk]) for vk in v]
    return {"imbalances": imbs, "lie_derivatives": lie, "conserved": all(l == 0 for l in lie),
            "ansatz_invariants": invs, "ansatz_equals_span_C": same_space, "v_field": vdot, "model": m}


def gf_limit_equation(depth: int, rank: int = 2) -> dict:
    """The equation for s = ‖z‖² at the global minimum reached by GF, its derivation from the
    minimum condition, the monotonicity certificate and closed forms."""
    s = sp.Symbol("s", nonnegative=True)
    Q = sp.Symbol("Q", positive=True)
    C = _imb_symbols(depth)
    g = s * sp.Mul(*[(s - c) for c in C])
    poly = sp.Poly(sp.expand(g - Q), s)
    # derivation at a global minimum of the SVD model with symbolic data
    m = svd_model(depth, rank)
    sig, dd = m.options["sigma"], m.options["d"]
    z, v = m.blocks[0].symbols, m.blocks[1].symbols
    pi = sp.Mul(*v)
    Qexpr = sum(di ** 2 / si ** 2 for di, si in zip(dd, sig))
    zmin = [dd[i] / (sig[i] * pi) for i in range(rank)]
    smin = sum(zi ** 2 for zi in zmin)
    Cmin = {c: smin - vk ** 2 for c, vk in zip(C, v)}
    derived = sp.simplify(g.subs(s, smin).subs(Cmin) - Qexpr) == 0
    # monotonicity: write s − C_k = w_k > 0, s > 0; then g'(s) is a sum of products of positives
    w = tuple(sp.Symbol(f"w_{k + 1}", positive=True) for k in range(depth - 1))
    sp_ = sp.Symbol("s", positive=True)
    dg = sp.diff(g, s)
    dg_w = sp.expand(dg.subs(s, sp_).subs({c: sp_ - wk for c, wk in zip(C, w)}))
    mono = bool(dg_w.is_positive)
    lower_end_zero = True  # g(c₀) = 0: c₀ is 0 (factor s) or some C_k (factor s − C_k)
    for c0 in (sp.Integer(0),) + C:
        lower_end_zero &= sp.expand(g.subs(s, c0)) == 0
    out = {"s": s, "Q": Q, "C": C, "g": g, "equation": sp.Eq(g, Q), "polynomial": poly,
           "degree": poly.degree(), "leading_coeff": poly.LC(), "derived_from_minimum": derived,
           "g_prime": dg, "g_prime_in_w": dg_w, "g_prime_positive": mono, "g_at_lower_end_zero": lower_end_zero,
           "w": w}
    # closed forms
    if depth == 2:
        roots = sp.solve(sp.Eq(g, Q), s)
        Cn, Qn = {C[0]: 1}, {Q: 1}
        out["closed_form"] = [r for r in roots if sp.N(r.subs(Cn).subs(Qn)) > 0][0]
        out["v_squared"] = sp.simplify(out["closed_form"] - C[0])
    sb = sp.Symbol("s", positive=True)
    bal = sp.solve(sp.Eq(sb ** depth, Q), sb)
    out["balanced_zero_C"] = bal[0] if bal else None
    return out


def galois_example(depth: int = 5):
    """An integer instance of g(s) = Q at this depth whose Galois group is not solvable (S_D for
    D = 5), showing that no formula in radicals exists in general; None if sympy cannot tell."""
    try:
        from sympy.polys.numberfields.galoisgroups import galois_group
    except ImportError:  # pragma: no cover
        return None
    s = sp.Symbol("s")
    Cs = {5: (1, -1, 2, 3), 6: (2, -1, 3, 1, -3)}.get(depth, tuple(range(1, depth)))
    p = sp.Poly(s * sp.Mul(*[(s - c) for c in Cs]) - 1, s)
    if not p.is_irreducible:
        return None
    G, alt = galois_group(p, by_name=True)
    return {"C": Cs, "Q": 1, "polynomial": p.as_expr(), "group": G.name, "solvable": G.get_perm_group().is_solvable}


def gf_limit_sharpness_symbolic(depth: int, rank: int = 2) -> dict:
    """JJᵀ at the GF limit in terms of (s, C_k): p = Q/s, q = Σ 1/(s − C_k); verified against the
    Hessian of the SVD model, plus the secular equation and the bounds."""
    JJ, at_min, res, m = minimum_sharpness_matrix(depth, rank)
    sig, dd = m.options["sigma"], m.options["d"]
    v = m.blocks[1].symbols
    w = tuple(sp.Symbol(f"w_{k + 1}", positive=True) for k in range(depth - 1))
    JJw = JJ.subs({vk: sp.sqrt(wk) for vk, wk in zip(v, w)}).applyfunc(sp.simplify)
    Sig2 = sp.diag(*[si ** 2 for si in sig])
    dvec = sp.Matrix(dd)
    struct = sp.Mul(*w) * Sig2 + sum(1 / wk for wk in w) * dvec * dvec.T
    depends_on_squares_only = all(sp.simplify(JJ.subs(vk, -vk) - JJ) == sp.zeros(rank, rank) for vk in v)
    s, Q = sp.Symbol("s", positive=True), sp.Symbol("Q", positive=True)
    C = _imb_symbols(depth)
    p = Q / s  # = ∏ w_k at the root of s ∏ w_k = Q
    q = sum(1 / (s - c) for c in C)
    mu = sp.Symbol("mu")
    P, Qq = sp.symbols("p q", positive=True)
    secular_rational = sp.Eq(1, Qq * sum(dd[i] ** 2 / (mu - P * sig[i] ** 2) for i in range(rank)))
    det = sp.expand((mu * sp.eye(rank) - (P * Sig2 + Qq * dvec * dvec.T)).det())
    sec_ok = sp.simplify(det - sp.Mul(*[(mu - P * si ** 2) for si in sig]) * (1 - secular_rational.rhs)) == 0
    lower = P * sig[0] ** 2 + Qq * dd[0] ** 2
    upper = P * sig[0] ** 2 + Qq * sum(di ** 2 for di in dd)
    lower_is_rayleigh = sp.simplify((P * Sig2 + Qq * dvec * dvec.T)[0, 0] - lower) == 0
    # Cauchy–Schwarz in Lagrange form: ψᵀ(QΣ² − ddᵀ)ψ = ½ Σ_{i,j} (ψ_i σ_i d_j/σ_j − ψ_j σ_j d_i/σ_i)² (rank ≥ 2)
    psi = sp.Matrix(sp.symbols(f"psi_1:{rank + 1}", real=True))
    Qx = sum(di ** 2 / si ** 2 for di, si in zip(dd, sig))
    quad = (psi.T * (Qx * Sig2 - dvec * dvec.T) * psi)[0, 0]
    lag = sum((psi[i] * sig[i] * dd[j] / sig[j] - psi[j] * sig[j] * dd[i] / sig[i]) ** 2
              for i in range(rank) for j in range(i + 1, rank))
    cs_ok = sp.simplify(quad - lag) == 0
    return {"JJ_in_w": JJw, "structure_verified": (JJw - struct).applyfunc(sp.simplify) == sp.zeros(rank, rank),
            "residual_zero": res == sp.zeros(*res.shape), "depends_on_v_squares_only": depends_on_squares_only,
            "p": p, "q": q, "secular": secular_rational, "secular_matches_determinant": sec_ok,
            "lower_bound": lower, "upper_bound": upper, "lower_is_rayleigh_e1": lower_is_rayleigh,
            "cauchy_schwarz_quadratic_form": quad, "cauchy_schwarz_lagrange": lag, "dd_below_Q_Sigma2": cs_ok,
            "upper_via_cs": sp.simplify(p + q * Q), "model": m}


def small_init_depth_symbolic() -> dict:
    """C_k = 0 (the small-init limit), depth D symbolic: N S_D = Q^{−1/D} M_{D−1}, the depth ratio
    and the rank-one value of the threshold."""
    D = sp.Symbol("D", integer=True, positive=True)
    Q, sig1, t = sp.symbols("Q sigma_1 t", positive=True)
    s = Q ** (1 / D)
    p = sp.powsimp(Q / s)
    q = (D - 1) / s
    # pΣ² + q ddᵀ = Q^{−1/D} (QΣ² + (D−1) ddᵀ): the coefficients factor out
    fac_ok = sp.simplify(p - Q ** (-1 / D) * Q) == 0 and sp.simplify(q - Q ** (-1 / D) * (D - 1)) == 0
    M = sp.Function("M")
    S = lambda k: Q ** (-1 / k) * M(k - 1)
    ratio = sp.simplify(S(D + 1) / S(D))
    expo = sp.simplify(1 / D - 1 / (D + 1))
    ratio_ok = sp.simplify(ratio - Q ** expo * M(D) / M(D - 1)) == 0
    # rank one: d_1² = Q σ_1², M_t = Q σ_1² (1 + t)
    Mr = lambda tt: Q * sig1 ** 2 * (1 + tt)
    rank1_ratio = sp.simplify(Mr(D - 1) / Mr(D))
    rank1_threshold = rank1_ratio ** (D * (D + 1))
    # Loewner step: A_t ≽ (1 + t) ddᵀ  ⇒  A_{t'} ≼ A_t (1 + t')/(1 + t) for t' > t
    Dn = [2, 3, 4, 5]
    return {"p": p, "q": q, "factorises": fac_ok, "ratio": ratio, "ratio_exponent": expo, "ratio_ok": ratio_ok,
            "rank1_ratio": rank1_ratio, "rank1_threshold": rank1_threshold,
            "rank1_threshold_values": {k: rank1_threshold.subs(D, k) for k in Dn},
            "hat_bracket_upper": sp.simplify(p + q * Q - D * Q ** ((D - 1) / D)) == 0,
            "hat_bracket_lower": sp.simplify(p - Q ** ((D - 1) / D)) == 0,
            "D": D, "Q": Q}


def derive_chain_gf(depths=(2, 3, 4), rank: int = 2) -> dict:
    """Every GF-limit derivation for the listed depths, {name: objects}."""
    out = {"depths": tuple(depths), "rank": rank, "conservation": {}, "limit": {}, "sharpness": {}}
    for D in depths:
        out["conservation"][D] = imbalance_conservation(D, rank)
        out["limit"][D] = gf_limit_equation(D, rank)
        out["sharpness"][D] = gf_limit_sharpness_symbolic(D, rank)
    out["galois"] = galois_example(5)
    out["depth"] = small_init_depth_symbolic()
    out["balance_derivative"] = {D: imbalance_derivative_at_balance(D) for D in depths}
    return out


# ------------------------------------------------------------------------------- numeric
def gf_limit_root(C, Q: float):
    """(s, w): the unique root s > c₀ = max(0, max C_k) of s ∏_k (s − C_k) = Q (Q > 0), and
    w_k = s − C_k = v_k² at the limit.  Solved for t = s − c₀ so that w_k = t + (c₀ − C_k) keeps its
    relative accuracy even when s sits just above some C_k."""
    from scipy.optimize import brentq

    C = np.atleast_1d(np.asarray(C, float))
    if not (np.isfinite(Q) and Q > 0):
        raise ChainGFError(f"Q must be a positive finite number, got {Q!r}")
    if C.size == 0 or not np.all(np.isfinite(C)):
        raise ChainGFError("the imbalances C must be a non-empty array of finite numbers")
    c0 = max(0.0, float(C.max()))
    gap = c0 - C  # ≥ 0, exact up to one rounding

    def h(t):  # log g − log Q: monotone in t, well scaled
        return np.log(c0 + t) + np.sum(np.log(t + gap)) - np.log(Q)

    hi = Q ** (1.0 / (C.size + 1))  # g(c₀ + t) ≥ t^D
    while h(hi) < 0:  # only through rounding
        hi *= 2
    lo = hi
    while h(lo) > 0 and lo > 1e-300:
        lo *= 1e-3
    if h(lo) > 0:
        t = lo
    else:
        t = float(brentq(h, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=1000))
    return c0 + t, t + gap


def gf_limit_norm(C, Q: float) -> float:
    """The unique root s > max(0, max C_k) of s ∏_k (s − C_k) = Q (Q > 0)."""
    return gf_limit_root(C, Q)[0]


def secular_top_root(p: float, q: float, sigma, d) -> float:
    """λ_max(p Σ² + q ddᵀ) through the secular equation 1 = q Σ d_i²/(μ − pσ_i²)."""
    from scipy.optimize import brentq

    sigma = np.asarray(sigma, float)
    d = np.asarray(d, float)
    base = p * sigma[0] ** 2
    nz = np.abs(d) > 0
    if not nz.any() or q == 0:
        return float(base)
    a = p * sigma[nz] ** 2
    b = q * d[nz] ** 2
    top = a.max()
    f = lambda mu: 1.0 - np.sum(b / (mu - a))
    lo = top * (1 + 1e-15) + 1e-300
    hi = top + b.sum() * (1 + 1e-12) + 1e-300
    if f(lo) >= 0:
        root = lo
    elif f(hi) <= 0:  # the root is within rounding of its upper bound top + Σ b (tiny b against top)
        root = hi
    else:
        root = brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return float(max(base, root))


def gf_limit_sharpness(sigma, d, C, N: int) -> dict:
    """GF-limit quantities from the data spectrum (σ_i, d_i), the imbalances C_k and N."""
    sigma = np.asarray(sigma, float)
    d = np.asarray(d, float)
    C = np.atleast_1d(np.asarray(C, float))
    Q = float(np.sum(d ** 2 / sigma ** 2))
    s, w = gf_limit_root(C, Q)
    p, q = Q / s, float(np.sum(1.0 / w))
    mu = secular_top_root(p, q, sigma, d)
    mu_eig = float(np.linalg.eigvalsh(p * np.diag(sigma ** 2) + q * np.outer(d, d))[-1])
    S_hat = sigma[0] ** 2 / N * Q ** (C.size / (C.size + 1))
    return {"Q": Q, "C": C, "s": s, "v_squared": w, "p": p, "q": q, "sharpness": mu / N, "sharpness_eig": mu_eig / N,
            "lower": (p * sigma[0] ** 2 + q * d[0] ** 2) / N, "upper": (p * sigma[0] ** 2 + q * np.sum(d ** 2)) / N,
            "S_hat": S_hat, "N": N, "depth": C.size + 1}


def gf_limit(X, y, u0, v0) -> dict:
    """Where GF from (u0, v0) ends (assuming it ends at a global minimum) and its sharpness.

    Returns :func:`gf_limit_sharpness`'s dict plus the limit point ``u``, ``v`` in the original
    coordinates (the W⊥ part of u0 is kept; |v_k| = √(s − C_k); the sign of v_k is v0's, which GF
    provably keeps when C_k < 0 — ``signs_determined`` says whether that covers every k)."""
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    u0 = np.asarray(u0, float)
    v0 = np.atleast_1d(np.asarray(v0, float))
    if X.ndim != 2 or y.shape != (X.shape[0],) or u0.shape != (X.shape[1],):
        raise ChainGFError(f"shapes must be X (N, d), y (N,), u0 (d,); got {X.shape}, {y.shape}, {u0.shape}")
    E, s_, W = svd_coordinates(X)
    dd = E.T @ y
    z0 = W.T @ u0
    C = float(z0 @ z0) - v0 ** 2
    if np.sum(dd ** 2 / s_ ** 2) <= 0:
        raise ChainGFError("Q = 0 (y is orthogonal to the columns of X): the global minima have ∏v = 0 or Π_W u = 0")
    out = gf_limit_sharpness(s_, dd, C, X.shape[0])
    sign = np.where(v0 >= 0, 1.0, -1.0)
    v = sign * np.sqrt(out["v_squared"])
    zstar = dd / s_
    z = zstar / np.prod(v)
    u = u0 - W @ z0 + W @ z
    out.update({"u": u, "v": v, "signs_determined": bool(np.all(C < 0)), "z_star": zstar})
    return out


def small_init_sharpness(sigma, d, depth: int, N: int) -> float:
    """S(θ∞) for C_k = 0 (GF from an infinitesimally small or exactly balanced-to-zero start)."""
    return gf_limit_sharpness(sigma, d, np.zeros(depth - 1), N)["sharpness"]


def _M(sigma, d, t):
    sigma = np.asarray(sigma, float)
    d = np.asarray(d, float)
    Q = np.sum(d ** 2 / sigma ** 2)
    return float(np.linalg.eigvalsh(Q * np.diag(sigma ** 2) + t * np.outer(d, d))[-1])


def depth_threshold(sigma, d, depth: int) -> float:
    """Q*_D: for data with singular values ∝ σ and d ∝ the given direction, the small-init GF-limit
    sharpness at depth D + 1 exceeds that at depth D iff Q > Q*_D."""
    if depth < 2:
        raise ChainGFError(f"depth must be an integer ≥ 2, got {depth!r}")
    return float((_M(sigma, d, depth - 1) / _M(sigma, d, depth)) ** (depth * (depth + 1)))


def rank_one_threshold(depth: int) -> float:
    """The smallest possible Q*_D, attained for rank-one data: (D/(D+1))^{D(D+1)}."""
    return float((depth / (depth + 1)) ** (depth * (depth + 1)))


def imbalance_derivative_at_balance(depth: int) -> dict:
    """How the GF-limit sharpness moves when every imbalance is shifted by the same c, at c = 0.

    With C_k = c for all k, implicit differentiation of s(s − c)^{D−1} = Q at c = 0 gives p'(0)
    and q'(0); by Hellmann–Feynman N·dS/dc = p'·ψᵀΣ²ψ + q'·(ψᵀd)² (ψ the top eigenvector) and,
    since (ψᵀd)² ≤ Q ψᵀΣ²ψ (Cauchy–Schwarz) and q' > 0, N·dS/dc ≤ (p' + Q q') ψᵀΣ²ψ = 0."""
    s, c = sp.symbols("s c", real=True)
    Q = sp.Symbol("Q", positive=True)
    g = s * (s - c) ** (depth - 1) - Q
    ds_dc = -sp.diff(g, c) / sp.diff(g, s)
    s0 = Q ** sp.Rational(1, depth)
    at0 = {c: 0, s: s0}
    p = Q / s
    q = (depth - 1) / (s - c)
    dp = sp.simplify((sp.diff(p, s) * ds_dc).subs(at0))
    dq = sp.simplify((sp.diff(q, s) * ds_dc + sp.diff(q, c)).subs(at0))
    return {"ds_dc": sp.simplify(ds_dc.subs(at0)), "dp_dc": dp, "dq_dc": dq,
            "dp_negative": bool(sp.simplify(-dp).is_positive), "dq_positive": bool(dq.is_positive),
            "p_plus_Q_q_prime_zero": sp.simplify(dp + Q * dq) == 0}
