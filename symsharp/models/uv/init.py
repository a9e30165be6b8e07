"""Initialisation and parameterisation of the UV model, derived exactly.

1. Moments of the initial state under U_ij ~ N(0, σ_U²), v_i ~ N(0, σ_v²): E f₀, E f₀², E λ₀ and
   Var λ₀ as functions of n, ‖x‖, α, σ_U, σ_v.  They are computed by expanding f₀, f₀² and λ₀ in
   the Gaussian entries and replacing every monomial by its exact moment (Isserlis), for
   n = 1 … 5; each n·moment is a polynomial of degree ≤ 2 in n, so it is interpolated from
   n = 1, 2, 3 and confirmed exactly at n = 4, 5.  (The input enters only through U x, whose law
   depends on ‖x‖ alone, so x = ‖x‖e₁.)
2. The non-dimensional initial numbers that decide the dynamics (the map depends only on
   k = aη²y², see the route-to-chaos derivation): k, ℓ₀ = ηλ₀ and the scale of X₀ = f₀/y.
   For the standard, NTK and μP-like parameterisations, the leading power of n of each, as
   n → ∞ (SymPy limits of log(·)/log n), and the regime that follows.
3. The first GD step at any feasible state (X, ℓ, k): the exact condition for the Hessian
   sharpness to fall, as a sign case analysis of polynomials (squaring only where both sides
   have known signs), and where it disagrees with the NTK λ.
"""
from __future__ import annotations

import functools
import itertools

import sympy as sp

from .eos import C, K, L, MU, S, X, Z, uv_route_derivation

N_ = sp.Symbol("n", positive=True, integer=True)
XN = sp.Symbol("x_norm", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
SU = sp.Symbol("sigma_U", positive=True)
SV = sp.Symbol("sigma_v", positive=True)
ETAHAT = sp.Symbol("etahat", positive=True)
Y = sp.Symbol("y", positive=True)
D_ = sp.Symbol("d", positive=True, integer=True)


# --------------------------------------------------------------------------------- moments
def _gaussian_expectation(poly: sp.Expr, scales: dict) -> sp.Expr:
    """E[poly] for independent centred Gaussians {symbol: standard deviation}: every monomial
    ∏ z_i^{k_i} has expectation ∏ σ_i^{k_i} (k_i − 1)!! (0 if some k_i is odd)."""
    gens = list(scales)
    P = sp.Poly(sp.expand(poly), *gens)
    total = sp.Integer(0)
    for powers, coeff in P.terms():
        term = coeff
        for g, k in zip(gens, powers):
            if k % 2:
                term = 0
                break
            term *= scales[g] ** k * sp.factorial2(k - 1)
        total += term
    return sp.expand(total)


def _moments_at(n: int) -> dict:
    u = sp.symbols(f"u1:{n + 1}", real=True)   # the column U x / ‖x‖ (i.i.d. N(0, σ_U²))
    v = sp.symbols(f"v1:{n + 1}", real=True)
    scales = {**{s: SU for s in u}, **{s: SV for s in v}}
    f0 = ALPHA / sp.sqrt(n) * XN * sum(a * b for a, b in zip(u, v))
    lam0 = ALPHA ** 2 / n * (XN ** 2 * sum(a ** 2 for a in u) + XN ** 2 * sum(b ** 2 for b in v))
    m = {"E_f0": _gaussian_expectation(f0, scales), "E_f0_sq": _gaussian_expectation(f0 ** 2, scales),
         "E_lam0": _gaussian_expectation(lam0, scales)}
    m["Var_lam0"] = sp.expand(_gaussian_expectation(lam0 ** 2, scales) - m["E_lam0"] ** 2)
    return m


@functools.lru_cache(maxsize=None)
def initial_moments() -> dict:
    """{name: (closed form in n, ‖x‖, α, σ_U, σ_v), ...} plus the check record."""
    samples = {n: _moments_at(n) for n in range(1, 6)}
    out = {}
    for name in samples[1]:
        pts = [(n, sp.expand(n * samples[n][name])) for n in (1, 2, 3)]
        poly = sp.expand(sp.interpolate(pts, N_))
        form = sp.factor(poly / N_)
        for n in (4, 5):   # exact confirmation beyond the interpolation points
            if sp.simplify(form.subs(N_, n) - samples[n][name]) != 0:
                raise AssertionError(f"{name}: the degree-2 form fails at n = {n}")
        out[name] = form
    return out


# --------------------------------------------------------------------------------- parameterisations
PARAMETERISATIONS = {
    # name: (α, σ_U², σ_v², η) as functions of n (and the input dimension d); η̂ is O(1)
    "NTK": (sp.Integer(1), sp.Integer(1), sp.Integer(1), ETAHAT),
    "standard (fixed η)": (sp.sqrt(N_), 1 / D_, 1 / N_, ETAHAT),
    "standard (η = η̂/n)": (sp.sqrt(N_), 1 / D_, 1 / N_, ETAHAT / N_),
    "μP-like": (1 / sp.sqrt(N_), 1 / D_, sp.Integer(1), ETAHAT * N_),
}
"""f = (α/√n) vᵀUx.  NTK: f = vᵀUx/√n with unit init.  Standard: f = vᵀUx (α = √n) with fan-in
init U ~ N(0, 1/d), v ~ N(0, 1/n).  μP-like: f = vᵀUx/n (α = 1/√n), U ~ N(0, 1/d), v ~ N(0, 1),
one common rate η = η̂ n (the (f, λ) map needs equal rates; μP's layer-wise rates need the
(f, λ_U, λ_v) closure)."""


def _exponent(expr) -> sp.Expr:
    """Leading power of n in a positive expression as n → ∞."""
    e = sp.simplify(expr)
    if e == 0:
        return -sp.oo
    return sp.limit(sp.log(e) / sp.log(N_), N_, sp.oo)


@functools.lru_cache(maxsize=None)
def parameterisation_table() -> list:
    """Rows {name, alpha, sigma_U2, sigma_v2, eta, k, ell0, X0_sq, Var_ell0, exponents{…}, regime}."""
    mom = initial_moments()
    rows = []
    for name, (al, su2, sv2, eta) in PARAMETERISATIONS.items():
        sub = {ALPHA: al, SU: sp.sqrt(su2), SV: sp.sqrt(sv2)}
        a = al ** 2 * XN ** 2 / N_
        k = sp.simplify(a * eta ** 2 * Y ** 2)
        ell0 = sp.simplify(eta * mom["E_lam0"].subs(sub))
        var_ell0 = sp.simplify(eta ** 2 * mom["Var_lam0"].subs(sub))
        x0sq = sp.simplify(mom["E_f0_sq"].subs(sub) / Y ** 2)
        ex = {"k": _exponent(k), "ell0": _exponent(ell0), "X0_sq": _exponent(x0sq),
              "rel_sd_ell0": _exponent(sp.sqrt(var_ell0) / ell0)}
        rows.append({"name": name, "alpha": al, "sigma_U2": su2, "sigma_v2": sv2, "eta": eta, "k": k,
                     "ell0": ell0, "X0_sq": x0sq, "Var_ell0": var_ell0, "exponents": ex,
                     "regime": _regime(ex)})
    return rows


def _regime(ex) -> str:
    """What the exponents imply as n → ∞ (thresholds: η_c ⇔ k = 1, lazy ℓ₀ < 2, separatrix
    ℓ₀ < 4 − k at f₀ = 0)."""
    if ex["ell0"] > 0:
        return "ℓ₀ = ηλ₀ grows with n: beyond the divergence boundary ηλ₀ < 4 − k, GD diverges"
    if ex["k"] < 0:
        return ("k → 0 (η/η_c → 0): no EoS; lazy if ℓ₀ < 2, catapult if 2 < ℓ₀ < 4 "
                "(Lewkowycz et al.), as at y = 0")
    if ex["X0_sq"] < 0:
        return ("k and ℓ₀ of order 1, f₀ → 0: the f₀ = 0 phase diagram applies at every width "
                "(catapult, EoS 2-cycle, cascade, chaos for η > η_c)")
    return "k, ℓ₀ and X₀ all of order 1: every regime is reachable"


# --------------------------------------------------------------------------------- first step, any state
@functools.lru_cache(maxsize=None)
def first_step_general() -> dict:
    """Exact condition for S' < S after one GD step from a feasible state (X, ℓ, k).

    With T = ηS·2 = ℓ + √D, D = ℓ² + 4k(X − 1)(3X − 1) (≥ 4k(2X − 1)² ≥ 0 on the feasible set
    ℓ ≥ 2√k|X|), A = ℓ' − ℓ and B = D + A² − D':
    S' < S ⇔ √D' < √D − A ⇔
      (A < 0 and (B ≥ 0 or 4A²D − B² > 0))  or  (A ≥ 0 and D > A² and B > 0 and B² − 4A²D > 0).
    Squaring happens only where both sides are known to be non-negative (or both negative)."""

    r = uv_route_derivation()
    step, sharp = r.nd_step, r.sharpness_nd
    T = sp.expand(2 * sharp)                     # ℓ + √D
    D = sp.expand((T - L) ** 2)
    Dn = sp.expand(D.subs({X: step[X], L: step[L]}, simultaneous=True))
    A = sp.expand(step[L] - L)
    B = sp.expand(D + A ** 2 - Dn)
    P = sp.factor(B ** 2 - 4 * A ** 2 * D)
    cond = sp.Or(sp.And(A < 0, sp.Or(B >= 0, -P > 0)),
                 sp.And(A >= 0, D - A ** 2 > 0, B > 0, P > 0))
    return {"T": T, "D": D, "D_next": Dn, "A": sp.factor(A), "B": sp.factor(B), "P": P, "condition": cond,
            "X": X, "L": L, "K": K, "step": step, "sharpness_nd": sharp}


def sharpness_falls(Xv, Lv, kv, module: str = "numpy"):
    """The exact first-step condition evaluated from its polynomials A, B, D, P (lambdified with
    ``module``: "numpy" for arrays, "mpmath" for high precision); True where S' < S."""
    import numpy as np

    fs = first_step_general()
    args = (fs["X"], fs["L"], fs["K"])
    A, B, D, P = (sp.lambdify(args, fs[n], module)(Xv, Lv, kv) for n in ("A", "B", "D", "P"))
    if module == "numpy":
        A, B, D, P = (np.asarray(t, dtype=float) for t in (A, B, D, P))
        return ((A < 0) & ((B >= 0) | (P < 0))) | ((A >= 0) & (D - A ** 2 > 0) & (B > 0) & (P > 0))
    return bool((A < 0 and (B >= 0 or P < 0)) or (A >= 0 and D - A ** 2 > 0 and B > 0 and P > 0))


# --------------------------------------------------------------------------------- layer-wise rates
@functools.lru_cache(maxsize=None)
def layerwise_reduction() -> dict:
    """Layer-wise rates η_U ≠ η_v: the engine's closed map of (f, λ_U, λ_v), its scaling groups, and
    the exact reduction of (X, ℓ_U + ℓ_v) (ℓ_U = η_U λ_U, ℓ_v = η_v λ_v) to the common-rate map.

    Returns {"group": k-expression, "step_nd": {X, LU, LV}, "sum_closes": bool, "sum_step": {X, L},
    "matches_common_rate": bool}."""
    from .model import uv_model
    from .derive import _layerwise_three
    from ...symbolic.scaling import nondimensionalize

    lw = uv_model(2, 1, None, layerwise=True)
    red = _layerwise_three(lw, 2, 1)
    f, lu, lv = red.variables
    syms = {s.name: s for e in red.step.values() for s in e.free_symbols}
    nd = nondimensionalize(red.step, [f, lu, lv], [syms["a"], syms["eta_U"], syms["eta_v"], syms["y"]])
    (gsym, gexpr), = nd.group_symbols.items()
    LU, LV = sp.symbols("ell_U ell_v", nonnegative=True)
    ren = {gsym: K}
    for hat, expr in nd.new_symbols.items():
        ren[hat] = X if f in expr.free_symbols else (LU if lu in expr.free_symbols else LV)
    step = {ren[h]: sp.expand(e.xreplace(ren)) for h, e in nd.step.items()}
    # the sum ℓ = ℓ_U + ℓ_v: substitute ℓ_v = ℓ − ℓ_U and check that ℓ_U drops out
    sub = {LV: L - LU}
    sum_step = {X: sp.expand(step[X].xreplace(sub)), L: sp.expand((step[LU] + step[LV]).xreplace(sub))}
    closes = all(LU not in e.free_symbols for e in sum_step.values())
    common = uv_route_derivation().nd_step
    matches = closes and all(sp.expand(sum_step[v] - common[v]) == 0 for v in (X, L))
    return {"group": gexpr, "group_symbol": K, "step_nd": step, "state": {X: f, LU: lu, LV: lv},
            "new_symbols": nd.new_symbols, "sum_closes": closes, "sum_step": sum_step,
            "matches_common_rate": matches, "LU": LU, "LV": LV}


# --------------------------------------------------------------------------------- Markdown


NW = sp.Symbol("n", positive=True, integer=True)      # width


XNORM = sp.Symbol("x_norm", positive=True)            # ‖x‖


SIG_U = sp.Symbol("sigma_U", positive=True)


SIG_V = sp.Symbol("sigma_v", positive=True)


ETAHAT = sp.Symbol("etahat", positive=True)           # an O(1) base rate


DIN = sp.Symbol("d", positive=True, integer=True)     # input dimension (fan-in of U)


LBU = sp.Symbol("lbar_U", positive=True)              # ℓ̄_U = η_U E λ_U


LBV = sp.Symbol("lbar_v", positive=True)              # ℓ̄_v = η_v E λ_v


def _std_gaussian_mean(expr, gens) -> sp.Expr:
    """E[expr] for independent standard Gaussians ``gens`` (E g^k = (k − 1)!!, 0 for odd k)."""
    P = sp.Poly(sp.expand(expr), *gens)
    tot = sp.Integer(0)
    for powers, coeff in P.terms():
        if any(p % 2 for p in powers):
            continue
        tot += coeff * sp.Mul(*[sp.factorial2(p - 1) for p in powers])
    return sp.expand(tot)


@functools.lru_cache(maxsize=None)
def initial_law(widths: tuple = (1, 2, 3, 4)) -> dict:
    """The law of the initial non-dimensional state under U_ij ~ N(0, σ_U²), v_i ~ N(0, σ_v²).

    From the engine's layer-wise model (rates η_U, η_v; the closed map of (f, λ_U, λ_v) depends on
    the constants only through k = aη_Uη_v y², :func:`uv_init.layerwise_reduction`), write U x̂ = σ_U g,
    v = σ_v h with g, h standard Gaussian vectors.  Then, exactly,

        X₀ = c_X · Z,  ℓ_U = ℓ̄_U · χ_h,  ℓ_v = ℓ̄_v · χ_g,
        Z = Σ g_i h_i/√n,  χ_h = Σ h_i²/n,  χ_g = Σ g_i²/n   (laws that depend on n only),

    with coefficients c_X, ℓ̄_U, ℓ̄_v that are monomials in (α, ‖x‖, σ_U, σ_v, η_U, η_v, y) — found
    by dividing the engine's f/y, η_Uλ_U, η_vλ_v by the statistics and checking that no g, h is
    left, for each width in ``widths``.  So a whole GD run, in (X, ℓ_U, ℓ_v), depends on the
    parameterisation only through (n, k, ℓ̄_U, ℓ̄_v, c_X); the exponent matrix of these monomials
    has one left-null vector: the multiplicative relation among them (c_X² = ℓ̄_Uℓ̄_v/(nk)), which
    leaves the four numbers (n, k, ℓ̄_U, ℓ̄_v).  Moments of Z, χ from exact Gaussian moments."""
    from .model import uv_model

    lw = layerwise_reduction()
    kgrp = lw["group"]
    coeffs, stats_m = None, {}
    for n in widths:
        m = uv_model(n, 1, None, layerwise=True)
        f = m.outputs[0]
        blocks = {b.name: list(b.symbols) for b in m.blocks}
        lam_U = sp.expand(sum(sp.diff(f, p) ** 2 for p in blocks["U"]))
        lam_v = sp.expand(sum(sp.diff(f, p) ** 2 for p in blocks["v"]))
        g = sp.symbols(f"g1:{n + 1}", real=True)
        h = sp.symbols(f"h1:{n + 1}", real=True)
        xs = next(s for s in f.free_symbols if s.name == "x_1")
        sub = {**{u: SIG_U * gi for u, gi in zip(blocks["U"], g)},
               **{v: SIG_V * hi for v, hi in zip(blocks["v"], h)}, xs: XNORM}
        Zs = sum(a * b for a, b in zip(g, h)) / sp.sqrt(n)
        chi_h = sum(b ** 2 for b in h) / n
        chi_g = sum(a ** 2 for a in g) / n
        # the rescaled state from the engine's non-dimensionalisation, evaluated at initialisation
        vals = {}
        for hat, expr in lw["new_symbols"].items():
            e = expr.xreplace({s: {"f": f, "lam_U": lam_U, "lam_v": lam_v}[s.name]
                               for s in expr.free_symbols if s.name in ("f", "lam_U", "lam_v")})
            vals[hat.name] = sp.expand(e.xreplace(sub))
        here = {"c_X": sp.cancel(vals["f_hat"] / Zs), "lbar_U": sp.cancel(vals["lam_U_hat"] / chi_h),
                "lbar_v": sp.cancel(vals["lam_v_hat"] / chi_g)}
        for name, c in here.items():
            if c.free_symbols & (set(g) | set(h)):
                raise ValueError(f"{name} is not a multiple of its statistic at n = {n}: {c}")
        (a_sym, a_val), = m.derived_constants.items()
        k_n = sp.simplify(kgrp.xreplace({s: a_val.xreplace({xs: XNORM}) for s in kgrp.free_symbols
                                         if s.name == a_sym.name}))
        # n·k must not depend on n (then k = (n·k)/n for every width)
        here["n_k"] = sp.simplify(n * k_n)
        gens = list(g) + list(h)
        e_chi = _std_gaussian_mean(chi_h, gens)
        stats_m[n] = {"E_Z": _std_gaussian_mean(Zs, gens), "E_Z2": _std_gaussian_mean(Zs ** 2, gens),
                      "E_chi": e_chi, "Var_chi": sp.expand(_std_gaussian_mean(chi_h ** 2, gens) - e_chi ** 2)}
        if coeffs is None:
            coeffs = here
        elif any(sp.simplify(coeffs[q] - here[q]) != 0 for q in here):
            raise ValueError(f"the coefficients depend on the width beyond k: {coeffs} vs {here} at n = {n}")
    coeffs = dict(coeffs)
    coeffs["k"] = coeffs.pop("n_k") / NW
    # n·Var χ from the exact moments: the same number at every width means Var χ = (that)/n
    nvar = {sp.simplify(n * m_["Var_chi"]) for n, m_ in stats_m.items()}
    var_chi = nvar.pop() / NW if len(nvar) == 1 else None
    return {"coeffs": coeffs, "stats": stats_m, "group": kgrp, "Var_chi": var_chi, **_coefficient_relation(coeffs)}


def _coefficient_relation(coeffs: dict) -> dict:
    """Multiplicative relations among the monomials c_X², ℓ̄_U, ℓ̄_v, k and n: the left nullspace of
    their exponent matrix; and the scalings of the constants that leave all of them fixed."""
    from ...symbolic.scaling import _int_nullspace

    names = ["c_X2", "lbar_U", "lbar_v", "k", "n"]
    mons = [coeffs["c_X"] ** 2, coeffs["lbar_U"], coeffs["lbar_v"], coeffs["k"], NW]
    syms = sorted(set().union(*[mm.free_symbols for mm in mons]), key=lambda s: s.name)
    rows = []
    for mm in mons:
        pw = sp.powsimp(sp.expand_power_base(mm, force=True), force=True).as_powers_dict()
        rows.append([pw.get(s, 0) for s in syms])
    M = sp.Matrix(rows)
    left = M.T.nullspace()
    relations = []
    for vec in left:
        den = sp.ilcm(*[sp.fraction(t)[1] for t in vec])
        e = [int(t * den) for t in vec]
        if e[0] < 0:
            e = [-t for t in e]
        const = sp.simplify(sp.Mul(*[mm ** ei for mm, ei in zip(mons, e)]))
        relations.append({"exponents": dict(zip(names, e)), "constant": const})
    group = [dict(zip(syms, w)) for w in _int_nullspace(rows, len(syms))]
    solved = None
    if len(relations) == 1:
        c2 = sp.Symbol("c_X2", positive=True)
        rel = relations[0]
        prod = sp.Mul(*[(c2 if nm == "c_X2" else {"lbar_U": LBU, "lbar_v": LBV, "k": K, "n": NW}[nm]) ** ei
                        for nm, ei in rel["exponents"].items()])
        solved = sp.solve(sp.Eq(prod, rel["constant"]), c2)[0]
    return {"relations": relations, "rank": M.rank(), "symbols": syms, "scaling_group": group,
            "EX0_sq_in_numbers": solved}


PARAMETERISATION_FAMILIES = {
    # name: (α, σ_U², σ_v², η_U, η_v) as functions of the width n (d = input dimension); η̂ = O(1).
    # f = (α/√n) vᵀUx.  Definitions only; everything else is derived.
    "NTK": (sp.Integer(1), sp.Integer(1), sp.Integer(1), ETAHAT, ETAHAT),
    "standard, η fixed": (sp.sqrt(NW), 1 / DIN, 1 / NW, ETAHAT, ETAHAT),
    "standard, η = η̂/n": (sp.sqrt(NW), 1 / DIN, 1 / NW, ETAHAT / NW, ETAHAT / NW),
    "μP, multiplier form (one rate)": (1 / sp.sqrt(NW), 1 / DIN, sp.Integer(1), ETAHAT * NW, ETAHAT * NW),
    "μP, standard form (layer-wise rates)": (sp.sqrt(NW), 1 / DIN, 1 / NW ** 2, ETAHAT * NW, ETAHAT / NW),
    "mean-field (one rate)": (1 / sp.sqrt(NW), sp.Integer(1), sp.Integer(1), ETAHAT * NW, ETAHAT * NW),
}


def _n_exponent(expr) -> sp.Expr:
    """Leading power of n of a positive expression as n → ∞ (SymPy limit of log(·)/log n)."""
    e = sp.simplify(expr)
    return sp.limit(sp.log(e) / sp.log(NW), NW, sp.oo)


@functools.lru_cache(maxsize=None)
def parameterisation_numbers() -> dict:
    """For each family of :data:`PARAMETERISATION_FAMILIES`: the numbers (k, ℓ̄_U, ℓ̄_v, ℓ̄₀ = ℓ̄_U + ℓ̄_v,
    E X₀² = c_X²) from :func:`initial_law`, their leading exponents of n, the regime they imply,
    and which families have identical numbers at every n (identical law of the whole GD run)."""
    law = initial_law()
    co = law["coeffs"]
    syms = {s.name: s for s in law["symbols"]}
    al, xn = syms["alpha"], syms["x_norm"]
    su, sv, eu, ev = syms["sigma_U"], syms["sigma_v"], syms["eta_U"], syms["eta_v"]
    rows = []
    for name, (a_, su2, sv2, e_u, e_v) in PARAMETERISATION_FAMILIES.items():
        sub = {al: a_, su: sp.sqrt(su2), sv: sp.sqrt(sv2), eu: e_u, ev: e_v}
        nums = {"k": co["k"], "lbar_U": co["lbar_U"], "lbar_v": co["lbar_v"], "EX0_sq": co["c_X"] ** 2}
        nums = {q: sp.simplify(e.subs(sub)) for q, e in nums.items()}
        nums["ell0"] = sp.simplify(nums["lbar_U"] + nums["lbar_v"])
        # n k E X₀² / ℓ̄₀² = ℓ̄_U ℓ̄_v/(ℓ̄_U + ℓ̄_v)² ≤ 1/4: how far from the EoS manifold the start is
        nums["manifold_ratio"] = sp.simplify(NW * nums["k"] * nums["EX0_sq"] / nums["ell0"] ** 2)
        ex = {q: _n_exponent(nums[q]) for q in ("k", "ell0", "EX0_sq", "lbar_U", "lbar_v")}
        rows.append({"name": name, "family": (a_, su2, sv2, e_u, e_v), "numbers": nums, "exponents": ex,
                     "regime": _regime_of(ex)})
    same = []
    for i, r1 in enumerate(rows):
        for r2 in rows[i + 1:]:
            if all(sp.simplify(r1["numbers"][q] - r2["numbers"][q]) == 0 for q in ("k", "lbar_U", "lbar_v", "EX0_sq")):
                same.append((r1["name"], r2["name"]))
    return {"rows": rows, "identical": same, "law": law}


def _regime_of(ex) -> str:
    """The regime the exponents imply as n → ∞, from the derived thresholds: k = 1 (η = η_c), the
    divergence line ℓ₀ < 4 − k and the lazy/catapult split ℓ₀ = 2 of the y = 0 limit (k → 0)."""
    if ex["ell0"] > 0:
        return "ℓ₀ grows like a power of n: beyond ℓ₀ = 4 − k, GD diverges at large width"
    if ex["ell0"] < 0:
        return "ℓ₀ → 0: lazy, the NTK stays put (η λ far below 2)"
    if ex["k"] < 0:
        return ("k → 0: η ≪ η_c, no EoS; the y = 0 thresholds apply: lazy for ℓ₀ < 2, catapult for 2 < ℓ₀ < 4, "
                "divergence above")
    if ex["EX0_sq"] < 0:
        return ("k, ℓ₀ of order one and X₀ → 0: the f₀ = 0 phase diagram at every width (lazy, catapult, "
                "EoS 2-cycle and the cascade for k > 1, divergence for ℓ₀ > 4 − k)")
    return "k, ℓ₀ and X₀ all of order one"


@functools.lru_cache(maxsize=None)
def first_step_structure() -> dict:
    """Where the NTK λ and the Hessian sharpness S disagree after one GD step, at any feasible state.

    1. ηS is the larger root of μ² − ℓμ − c(X) (c read off the engine's sharpness:
       (2ηS − ℓ)² = ℓ² + 4c).  After the step the new polynomial at the old μ = ηS is
       Q'(ηS) = c(X) − c(X') − A·ηS (A = ℓ' − ℓ; uses μ² = ℓμ + c), so S' < S iff ηS lies above the
       larger new root: Q'(ηS) > 0 and 2ηS > ℓ'.  No squaring.
    2. On the NTK boundary A = 0 (ℓ = ℓ_λ(X)), Q'(ηS) = c(X) − c(X'): its sign, a factored
       polynomial in (X, k), says which disagreement borders the boundary.
    3. As k → 0 (η ≪ η_c, e.g. NTK at large width) both changes are O(k); the O(k) coefficient of
       η(S' − S) is linear in ℓ, giving an explicit threshold ℓ_S(X) to compare with ℓ_λ(X)."""
    r = uv_route_derivation()
    st = r.nd_step
    T = sp.expand(2 * r.sharpness_nd)
    D = sp.expand((T - L) ** 2)
    c = sp.factor(sp.expand((D - L ** 2) / 4))
    if L in c.free_symbols:
        raise ValueError(f"the sharpness is not the root of μ² − ℓμ − c(X): c = {c}")
    charpoly = MU ** 2 - L * MU - c
    # ηS is a root of the characteristic polynomial (exact check on the engine's expression)
    if sp.simplify(sp.expand(charpoly.subs(MU, r.sharpness_nd))) != 0:
        raise ValueError("ηS is not a root of μ² − ℓμ − c")
    new_poly = charpoly.subs({L: st[L], X: st[X]}, simultaneous=True)
    A = sp.factor(st[L] - L)
    q_at_S = sp.expand(sp.rem(sp.expand(new_poly - charpoly), charpoly, MU))   # reduce mod μ² = ℓμ + c
    q_lin = sp.Poly(q_at_S, MU)
    if q_lin.degree() != 1:
        raise ValueError(f"Q'(ηS) is not linear in ηS: {q_at_S}")
    q_slope, q_const = (sp.factor(t) for t in q_lin.all_coeffs())
    # the NTK boundary and c(X) − c(X') on it
    l_lam = [e for e in sp.solve(A, L) if e.has(X)][0]
    on_boundary = sp.factor(q_const.subs(L, l_lam))          # Q'(ηS) there (A = 0): S falls iff > 0
    # feasibility of the boundary: ℓ_λ ≥ 2s|X|, times (X − 1)/(2X) > 0 on X > 1 and on X < 0
    feas = {">1": sp.factor(sp.cancel((l_lam.subs(K, S ** 2) - 2 * S * X) * (X - 1) / (2 * X))),
            "<0": sp.factor(sp.cancel((l_lam.subs(K, S ** 2) + 2 * S * X) * (X - 1) / (2 * X)))}
    # the factor of `on_boundary` that vanishes at the end of the feasible boundary has a fixed sign there
    ends = {reg: sp.solve(e, X) for reg, e in feas.items()}
    facs = [f_ for f_, _ in sp.factor_list(on_boundary)[1]]
    fixed_sign, rest = [], []
    for f_ in facs:
        fs_ = f_.subs(K, S ** 2)
        if any(sp.simplify(fs_.subs(X, e)) == 0 for es in ends.values() for e in es):
            fixed_sign.append(f_)
        else:
            rest.append(f_)
    pivot = [f_ for f_ in rest if f_.has(K) and f_.has(X)]
    kappa = None
    if len(pivot) == 1 and sp.degree(pivot[0], K) == 1:
        kappa = sp.factor(sp.solve(pivot[0], K)[0])
    # sign of Q'(ηS) on the boundary just above and below k = κ(X), sampled on both branches
    side = {}
    if kappa is not None:
        for reg, xv in ((">1", sp.Rational(3, 2)), ("<0", -2)):
            kv = kappa.subs(X, xv)
            side[reg] = {"k < kappa": sp.sign(on_boundary.subs({X: xv, K: kv / 2})),
                         "k > kappa": sp.sign(on_boundary.subs({X: xv, K: kv * sp.Rational(11, 10)}))}
    # small k: O(k) coefficient of η(S' − S) and of A
    eps = sp.Symbol("epsilon", positive=True)
    dS = r.sharpness_nd.subs({X: st[X], L: st[L]}, simultaneous=True) - r.sharpness_nd
    ser = sp.series(dS.subs(K, eps), eps, 0, 2).removeO()
    lead0 = sp.simplify(ser.coeff(eps, 0))
    lead_S = sp.factor(sp.simplify(ser.coeff(eps, 1)))
    lead_A = sp.factor(sp.expand(A / K))
    l_S = [e for e in sp.solve(lead_S, L) if e.has(X)][0]
    # S falls (to O(k)) iff lead_S < 0; lead_S is linear in ℓ with slope of fixed sign
    slope_S = sp.factor(sp.diff(lead_S, L))
    gap = sp.factor(l_S - l_lam)
    gap_pos = sp.solveset(gap > 0, X, sp.S.Reals)
    lam_rises_01 = sp.factor(A)   # on 0 < X < 1 both (X − 1) and ℓ(X − 1) − 4X are negative
    # where the NTK boundary exists (X < 0 or X > 1), the part with κ > 0
    bdom = sp.Union(sp.Interval.open(-sp.oo, 0), sp.Interval.open(1, sp.oo))
    kappa_pos = sp.solveset(kappa > 0, X, bdom) if kappa is not None else None
    # largest k with a feasible NTK boundary point, from the X > 1 feasibility factor (linear in s)
    s_max = sp.solve(feas[">1"], S)
    k_max = sp.factor(s_max[0] ** 2) if len(s_max) == 1 else None
    l_S0 = l_S.subs(X, 0)
    thr0 = r.first_step["S_threshold_f0_zero"]
    thr0_lim = sp.limit(thr0, K, 0) if thr0 is not None else None
    return {"c": c, "charpoly": charpoly, "new_poly": sp.expand(new_poly), "A": A, "q_at_S": q_at_S,
            "q_slope": q_slope, "q_const": q_const, "l_lam": l_lam, "on_boundary": on_boundary,
            "feasible_boundary": feas, "boundary_ends": ends, "fixed_sign_factors": fixed_sign,
            "kappa": kappa, "kappa_side": side, "small_k_order0": lead0, "small_k_S": lead_S,
            "small_k_A": lead_A, "l_S_small_k": l_S, "small_k_slope": slope_S, "gap": gap,
            "gap_positive_for": gap_pos, "A_on_01": lam_rises_01, "kappa_positive_for": kappa_pos,
            "k_max_boundary": k_max, "l_S_at_0": l_S0, "f0_threshold": thr0, "f0_threshold_k0": thr0_lim}


def sharpness_falls_mu_form(Xv, Lv, kv):
    """The first-step condition S' < S in the μ form (NumPy arrays): Q'(ηS) > 0 and 2ηS > ℓ'."""
    fs = first_step_structure()
    r = uv_route_derivation()
    args = (X, L, K)
    mu = sp.lambdify(args, r.sharpness_nd, "numpy")(Xv, Lv, kv)
    q = sp.lambdify((X, L, K, MU), fs["q_at_S"], "numpy")(Xv, Lv, kv, mu)
    lnext = sp.lambdify(args, r.nd_step[L], "numpy")(Xv, Lv, kv)
    return (q > 0) & (2 * mu > lnext)


