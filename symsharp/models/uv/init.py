"""Initialisation and parameterisations of the UV model, derived exactly (one derivation).

1. Layer-wise rates η_U, η_v: the engine's closed map of (f, λ_U, λ_v), its single scaling group
   k = aη_Uη_v y², and the exact reduction of (X, ℓ_U + ℓ_v) to the common-rate map
   (:func:`layerwise_reduction`).
2. The law of the initial state (:func:`initial_law`): under U_ij ~ N(0, σ_U²), v_i ~ N(0, σ_v²)
   the engine's rescaled state is exactly X₀ = c_X·Z, ℓ_U = ℓ̄_U·χ_h, ℓ_v = ℓ̄_v·χ_g with statistics
   whose laws depend on n only, so a GD run depends on the constants only through
   (n, k, ℓ̄_U, ℓ̄_v); the moments of (f₀, λ₀) in physical units follow from the statistics'
   exact Gaussian moments (:func:`initial_moments`).
3. Parameterisations (:data:`PARAMETERISATION_FAMILIES`, :func:`parameterisation_numbers`): the
   four numbers of each family, their leading powers of n and the regime they imply.
"""
from __future__ import annotations

import functools

import sympy as sp

from .eos import K, L, X, uv_route_derivation
from .model import ETA, ETA_U, ETA_V, Y

NW = sp.Symbol("n", positive=True, integer=True)      # width
XNORM = sp.Symbol("x_norm", positive=True)            # ‖x‖
SIG_U = sp.Symbol("sigma_U", positive=True)
SIG_V = sp.Symbol("sigma_v", positive=True)
ETAHAT = sp.Symbol("etahat", positive=True)           # an O(1) base rate
DIN = sp.Symbol("d", positive=True, integer=True)     # input dimension (fan-in of U)
LBU = sp.Symbol("lbar_U", positive=True)              # ℓ̄_U = η_U E λ_U
LBV = sp.Symbol("lbar_v", positive=True)              # ℓ̄_v = η_v E λ_v


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
    the constants only through k = aη_Uη_v y², :func:`layerwise_reduction`), write U x̂ = σ_U g,
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
        e_chi_g = _std_gaussian_mean(chi_g, gens)
        stats_m[n] = {"E_Z": _std_gaussian_mean(Zs, gens), "E_Z2": _std_gaussian_mean(Zs ** 2, gens),
                      "E_chi": e_chi, "E_chi_g": e_chi_g,
                      "Var_chi": sp.expand(_std_gaussian_mean(chi_h ** 2, gens) - e_chi ** 2),
                      "Var_chi_g": sp.expand(_std_gaussian_mean(chi_g ** 2, gens) - e_chi_g ** 2),
                      "Cov_chi": sp.expand(_std_gaussian_mean(chi_h * chi_g, gens) - e_chi * e_chi_g)}
        if coeffs is None:
            coeffs = here
        elif any(sp.simplify(coeffs[q] - here[q]) != 0 for q in here):
            raise ValueError(f"the coefficients depend on the width beyond k: {coeffs} vs {here} at n = {n}")
    coeffs = dict(coeffs)
    coeffs["k"] = coeffs.pop("n_k") / NW
    # n·Var χ from the exact moments: the same number at every width means Var χ = (that)/n
    nvar = {sp.simplify(n * m_[q]) for n, m_ in stats_m.items() for q in ("Var_chi", "Var_chi_g")}
    var_chi = nvar.pop() / NW if len(nvar) == 1 else None
    # the other statistics must not depend on the width at all
    free = {}
    for q in ("E_Z", "E_Z2", "E_chi", "E_chi_g", "Cov_chi"):
        vals = {m_[q] for m_ in stats_m.values()}
        if len(vals) != 1:
            raise ValueError(f"{q} depends on the width: {vals}")
        free[q] = vals.pop()
    law = {"coeffs": coeffs, "stats": stats_m, "stats_free": free, "group": kgrp, "Var_chi": var_chi,
           **_coefficient_relation(coeffs)}
    law["moments"] = _moments(law)
    return law


def _moments(law) -> dict:
    """E f₀, E f₀², E λ₀, Var λ₀ in physical units at one common rate η (η_U = η_v = η), from
    X₀ = c_X Z, ηλ₀ = ℓ̄_U χ_h + ℓ̄_v χ_g and the exact moments of the statistics."""
    co, st = law["coeffs"], law["stats_free"]
    one = {ETA_U: ETA, ETA_V: ETA}
    lu, lv = co["lbar_U"].subs(one), co["lbar_v"].subs(one)
    if law["Var_chi"] is None:
        raise ValueError("Var χ is not of the form (number)/n at the widths checked")
    var_ell = lu ** 2 * law["Var_chi"] + lv ** 2 * law["Var_chi"] + 2 * lu * lv * st["Cov_chi"]
    return {"E_f0": sp.factor(Y * co["c_X"] * st["E_Z"]),
            "E_f0_sq": sp.factor(Y ** 2 * co["c_X"] ** 2 * st["E_Z2"]),
            "E_lam0": sp.factor((lu * st["E_chi"] + lv * st["E_chi_g"]) / ETA),
            "Var_lam0": sp.factor(var_ell / ETA ** 2)}


def initial_moments() -> dict:
    """{E_f0, E_f0_sq, E_lam0, Var_lam0} of (f₀, λ₀) at U_ij ~ N(0, σ_U²), v_i ~ N(0, σ_v²), in
    n, ‖x‖ (``x_norm``), α, σ_U, σ_v (and y for f₀): read off :func:`initial_law`."""
    return dict(initial_law()["moments"])


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
    al = syms["alpha"]
    su, sv, eu, ev = syms["sigma_U"], syms["sigma_v"], syms["eta_U"], syms["eta_v"]
    rows = []
    for name, (a_, su2, sv2, e_u, e_v) in PARAMETERISATION_FAMILIES.items():
        sub = {al: a_, su: sp.sqrt(su2), sv: sp.sqrt(sv2), eu: e_u, ev: e_v}
        nums = {"k": co["k"], "lbar_U": co["lbar_U"], "lbar_v": co["lbar_v"], "EX0_sq": co["c_X"] ** 2}
        nums = {q: sp.simplify(e.subs(sub)) for q, e in nums.items()}
        nums["ell0"] = sp.simplify(nums["lbar_U"] + nums["lbar_v"])
        # n k E X₀² / ℓ̄₀² = ℓ̄_U ℓ̄_v/(ℓ̄_U + ℓ̄_v)² ≤ 1/4: how far from the EoS manifold the start is
        nums["manifold_ratio"] = sp.simplify(NW * nums["k"] * nums["EX0_sq"] / nums["ell0"] ** 2)
        # relative spread of ℓ₀ = ℓ̄_U χ_h + ℓ̄_v χ_g (χ_h, χ_g uncorrelated, Var χ from the law)
        nums["rel_sd_ell0"] = sp.simplify(sp.sqrt((nums["lbar_U"] ** 2 + nums["lbar_v"] ** 2)
                                                  * law["Var_chi"].subs(NW, NW)) / nums["ell0"])
        ex = {q: _n_exponent(nums[q]) for q in ("k", "ell0", "EX0_sq", "lbar_U", "lbar_v", "rel_sd_ell0")}
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
    divergence line ℓ₀ < ℓ_div(k) (the separatrix at f₀ = 0) and the lazy/catapult split ℓ₀ = 2 of
    the y = 0 limit (k → 0)."""
    sep = uv_route_derivation().separatrix
    div = sp.sstr(sep["f0_zero_boundary"]).replace("-", "−")
    lim = sp.sstr(sep["y_zero_limit"])
    if ex["ell0"] > 0:
        return f"ℓ₀ grows like a power of n: beyond ℓ₀ = {div}, GD diverges at large width"
    if ex["ell0"] < 0:
        return "ℓ₀ → 0: lazy, the NTK stays put (η λ far below 2)"
    if ex["k"] < 0:
        return ("k → 0: η ≪ η_c, no EoS; the y = 0 thresholds apply: lazy for ℓ₀ < 2, catapult for "
                f"2 < ℓ₀ < {lim}, divergence above")
    if ex["EX0_sq"] < 0:
        return ("k, ℓ₀ of order one and X₀ → 0: the f₀ = 0 phase diagram at every width (lazy, catapult, "
                f"EoS 2-cycle and the cascade for k > 1, divergence for ℓ₀ > {div})")
    return "k, ℓ₀ and X₀ all of order one"


