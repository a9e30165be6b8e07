"""The first GD step of the UV model at any state: when the NTK λ and the loss-Hessian sharpness S
rise or fall, derived exactly from the engine's closed map and sharpness (one derivation).

Variables as in :mod:`.eos`: X = f/y, ℓ = ηλ, k = aη²y² = (η/η_c)², s = √k.

1. NTK: ℓ' − ℓ = A(X, ℓ, k) factors; it is linear in ℓ with a coefficient ≥ 0, so λ falls iff
   ℓ < ℓ_λ(X), a threshold that is positive only outside [0, 1].
2. Sharpness, with no squaring: ηS is the larger root of μ² − ℓμ − c(X) (c read off the engine's
   sharpness).  After one step the new polynomial at the old μ = ηS, reduced modulo the old one,
   is linear in μ: Q'(ηS) = c(X) − c(X') − A·ηS.  So S' < S iff Q'(ηS) > 0 and 2ηS > ℓ' (the
   old μ lies above the larger new root).
3. On the NTK boundary ℓ = ℓ_λ: the sign of c(X) − c(X') decides S, through κ(X).
4. k → 0: the O(k) term of η(S' − S) is linear in ℓ: a threshold ℓ_S(X).
5. f₀ = 0: from the μ form at X = 0, the exact threshold ℓ₀ < ℓ₋(k) (the boundary Q'(μ) = 0 with
   μ the larger root; the other root of the boundary equation is where μ* is the smaller root,
   rejected exactly), and the second condition 2ηS > ℓ' holds below it (exact root counting).
"""
from __future__ import annotations

import functools

import sympy as sp

from .eos import K, L, MU, S, X, uv_route_derivation


def _linear_positive(expr, domain):
    """{X in domain : expr > 0} for expr linear in X with a coefficient of known sign."""
    p = sp.Poly(expr, X)
    if p.degree() != 1:
        return sp.ConditionSet(X, expr > 0, domain)
    slope, root = p.all_coeffs()[0], sp.solve(expr, X)[0]
    if slope.is_positive:
        return sp.Intersection(domain, sp.Interval.open(root, sp.oo))
    if slope.is_negative:
        return sp.Intersection(domain, sp.Interval.open(-sp.oo, root))
    return sp.ConditionSet(X, expr > 0, domain)


@functools.lru_cache(maxsize=None)
def first_step() -> dict:
    """The exact first-step results (keys documented inline); cached."""
    r = uv_route_derivation()
    st, sharp = r.nd_step, r.sharpness_nd
    # ---- 1. the NTK
    A = sp.factor(st[L] - L)
    coeff_L = sp.factor(sp.diff(A, L))
    l_lam = [e for e in sp.solve(A, L) if e.has(X)][0]
    lam_pos = sp.solveset(l_lam > 0, X, sp.S.Reals)
    # feasible (ℓ ≥ 2s|X|) and below the threshold: (X − 1)/(2X) > 0 on both regions
    feas = {">1": sp.factor(sp.cancel((l_lam.subs(K, S ** 2) - 2 * S * X) * (X - 1) / (2 * X))),
            "<0": sp.factor(sp.cancel((l_lam.subs(K, S ** 2) + 2 * S * X) * (X - 1) / (2 * X)))}
    red_gt1 = _linear_positive(feas[">1"], sp.Interval.open(1, sp.oo))
    red_lt0 = _linear_positive(feas["<0"], sp.Interval.open(-sp.oo, 0))
    # ---- 2. the sharpness in the μ form
    T = sp.expand(2 * sharp)
    D = sp.expand((T - L) ** 2)
    c = sp.factor(sp.expand((D - L ** 2) / 4))
    if L in c.free_symbols:
        raise ValueError(f"the sharpness is not the root of μ² − ℓμ − c(X): c = {c}")
    charpoly = MU ** 2 - L * MU - c
    if sp.simplify(sp.expand(charpoly.subs(MU, sharp))) != 0:
        raise ValueError("ηS is not a root of μ² − ℓμ − c")
    new_poly = charpoly.subs({L: st[L], X: st[X]}, simultaneous=True)
    q_at_S = sp.expand(sp.rem(sp.expand(new_poly - charpoly), charpoly, MU))   # modulo μ² = ℓμ + c
    q_lin = sp.Poly(q_at_S, MU)
    if q_lin.degree() != 1:
        raise ValueError(f"Q'(ηS) is not linear in ηS: {q_at_S}")
    q_slope, q_const = (sp.factor(t) for t in q_lin.all_coeffs())
    # ---- 3. the NTK boundary
    on_boundary = sp.factor(q_const.subs(L, l_lam))
    ends = {reg: sp.solve(e, X) for reg, e in feas.items()}
    fixed_sign, rest = [], []
    for f_, _ in sp.factor_list(on_boundary)[1]:
        fs_ = f_.subs(K, S ** 2)
        if any(sp.simplify(fs_.subs(X, e)) == 0 for es in ends.values() for e in es):
            fixed_sign.append(f_)
        else:
            rest.append(f_)
    pivot = [f_ for f_ in rest if f_.has(K) and f_.has(X)]
    kappa = sp.factor(sp.solve(pivot[0], K)[0]) if len(pivot) == 1 and sp.degree(pivot[0], K) == 1 else None
    side = {}
    if kappa is not None:
        for reg, xv in ((">1", sp.Rational(3, 2)), ("<0", -2)):
            kv = kappa.subs(X, xv)
            side[reg] = {"k < kappa": sp.sign(on_boundary.subs({X: xv, K: kv / 2})),
                         "k > kappa": sp.sign(on_boundary.subs({X: xv, K: kv * sp.Rational(11, 10)}))}
    bdom = sp.Union(sp.Interval.open(-sp.oo, 0), sp.Interval.open(1, sp.oo))
    kappa_pos = sp.solveset(kappa > 0, X, bdom) if kappa is not None else None
    s_max = sp.solve(feas[">1"], S)
    k_max = sp.factor(s_max[0] ** 2) if len(s_max) == 1 else None
    # ---- 4. small k
    eps = sp.Symbol("epsilon", positive=True)
    dS = sharp.subs({X: st[X], L: st[L]}, simultaneous=True) - sharp
    ser = sp.series(dS.subs(K, eps), eps, 0, 2).removeO()
    lead0 = sp.simplify(ser.coeff(eps, 0))
    lead_S = sp.factor(sp.simplify(ser.coeff(eps, 1)))
    lead_A = sp.factor(sp.expand(A / K))
    l_S = [e for e in sp.solve(lead_S, L) if e.has(X)][0]
    slope_S = sp.factor(sp.diff(lead_S, L))
    gap = sp.factor(l_S - l_lam)
    gap_pos = sp.solveset(gap > 0, X, sp.S.Reals)
    # ---- 5. f₀ = 0 from the μ form
    f0 = _f0_zero(st, sharp, charpoly, q_at_S, A)
    return {"A": A, "dlam_coeff_L": coeff_L, "l_lam": l_lam, "lam_threshold_positive_for": lam_pos,
            "reduction_feasible_X_gt_1": red_gt1, "reduction_feasible_X_lt_0": red_lt0,
            "feasible_boundary": feas, "boundary_ends": ends, "k_max_boundary": k_max,
            "c": c, "charpoly": charpoly, "new_poly": sp.expand(new_poly), "q_at_S": q_at_S,
            "q_slope": q_slope, "q_const": q_const, "on_boundary": on_boundary,
            "fixed_sign_factors": fixed_sign, "kappa": kappa, "kappa_side": side, "kappa_positive_for": kappa_pos,
            "small_k_order0": lead0, "small_k_S": lead_S, "small_k_A": lead_A, "l_S_small_k": l_S,
            "small_k_slope": slope_S, "gap": gap, "gap_positive_for": gap_pos, "l_S_at_0": l_S.subs(X, 0),
            "f0": f0, "f0_threshold": f0["threshold"],
            "f0_threshold_k0": sp.limit(f0["threshold"], K, 0) if f0["threshold"] is not None else None,
            "sharpness_nd": sharp, "step": st}


def _f0_zero(st, sharp, charpoly, q_at_S, A) -> dict:
    """The μ form at X = 0.  Q'(μ) = slope·μ + const with slope < 0, so Q' > 0 iff μ < μ* =
    −const/slope.  μ (the larger root of the old polynomial p₀) is below μ* iff p₀(μ*) > 0 and
    μ* > ℓ/2 (the vertex).  The boundary p₀(μ*) = 0 is a polynomial in ℓ; a root is the threshold
    only where μ* ≥ ℓ/2 there (otherwise μ* is the smaller root): decided exactly in k.  Below
    the threshold the second condition 2μ > ℓ' is checked by exact root counting."""
    Lp = sp.Symbol("ell_p", positive=True)
    first = {X: st[X].subs(X, 0), L: sp.factor(st[L].subs(X, 0))}
    q0 = sp.Poly(sp.expand(q_at_S.subs(X, 0)), MU)
    slope0, const0 = q0.all_coeffs()
    slope_negative = bool(sp.factor(slope0).subs(L, Lp).is_negative)
    mu_star = sp.factor(-const0 / slope0)
    p0 = charpoly.subs(X, 0)
    bound = sp.factor(sp.expand(p0.subs(MU, mu_star)))
    kdom = sp.Interval.open(0, sp.oo)
    cands = sp.solve(bound, L)
    true_roots, rejected = [], []
    for rt in cands:
        margin = sp.simplify(mu_star.subs(L, rt) - rt / 2)        # μ* − ℓ/2 at the root
        where = sp.solveset(margin >= 0, K, kdom)
        (true_roots if where == kdom else rejected).append(rt)
    out = {"first_state": first, "q_at_S": sp.factor(q0.as_expr()), "slope_negative": slope_negative,
           "mu_star": mu_star, "boundary_poly": bound, "candidates": cands, "rejected": rejected,
           "threshold": None, "vanishes_at_k": None, "second_condition_holds": None, "lam_rises": None}
    lam_rise = sp.factor(first[L] - L)
    out["lam_rises"] = bool(lam_rise.subs(L, Lp).is_positive)
    if len(true_roots) != 1 or not slope_negative:
        return out
    thr = true_roots[0]
    out["threshold"] = thr
    kz = [v for v in sp.solve(sp.Eq(thr, 0), K) if v.is_positive]
    out["vanishes_at_k"] = min(kz) if kz else None
    # below the threshold (0 < ℓ < thr, 0 < k < k₀) is 2μ > ℓ'?  2μ − ℓ' = √D₀ − A₀ with A₀ = A(0, ℓ, k):
    # true where A₀ ≤ 0, else iff E = D₀ − A₀² > 0.  E has no term linear in ℓ, so on [0, thr] its
    # minimum is at ℓ = 0 or ℓ = thr; both are checked exactly in k (t = √(radicand of thr)).
    A0 = sp.expand(A.subs(X, 0))
    D0 = sp.expand((2 * sharp.subs(X, 0) - L) ** 2)
    E = sp.expand(D0 - A0 ** 2)
    ok = None
    if sp.Poly(E, L).coeff_monomial(L) == 0 and out["vanishes_at_k"] is not None:
        k0 = out["vanishes_at_k"]
        at0 = sp.factor(E.subs(L, 0))
        ok0 = bool(at0.is_positive)
        rads = [a.base for a in sp.preorder_traversal(thr) if isinstance(a, sp.Pow) and a.exp == sp.S.Half]
        if ok0 and len(rads) == 1:
            t = sp.Symbol("t", positive=True)
            k_of_t = sp.solve(sp.Eq(rads[0], t ** 2), K)[0]
            Et = sp.together(sp.expand(E.subs(L, thr).subs(K, k_of_t)))
            num, den = sp.fraction(sp.factor(Et))
            lo_t, hi_t = (sp.sqrt(rads[0].subs(K, 0)), sp.sqrt(rads[0].subs(K, k0)))
            pn = sp.Poly(sp.expand(num), t)
            inner = pn.count_roots(lo_t, hi_t) - sum(1 for e in (lo_t, hi_t) if pn.eval(e) == 0)
            mid = (lo_t + hi_t) / 2
            ok = inner == 0 and bool(sp.sign(Et.subs(t, mid)) > 0) and bool(den.subs(t, mid) != 0)
        else:
            ok = False if not ok0 else None
    out["second_condition_holds"] = ok
    out["E"] = E
    return out


@functools.lru_cache(maxsize=None)
def _mu_form_functions(module: str):
    fs = first_step()
    r = uv_route_derivation()
    args = (X, L, K)
    return (sp.lambdify(args, r.sharpness_nd, module), sp.lambdify((X, L, K, MU), fs["q_at_S"], module),
            sp.lambdify(args, r.nd_step[L], module))


def sharpness_falls(Xv, Lv, kv, module: str = "numpy"):
    """The first-step condition S' < S in the μ form: Q'(ηS) > 0 and 2ηS > ℓ' (NumPy arrays, or
    ``module="mpmath"`` for high-precision scalars)."""
    mu_f, q_f, l_f = _mu_form_functions(module)
    mu = mu_f(Xv, Lv, kv)
    q = q_f(Xv, Lv, kv, mu)
    ln = l_f(Xv, Lv, kv)
    if module == "numpy":
        return (q > 0) & (2 * mu > ln)
    return bool(q > 0 and 2 * mu > ln)
