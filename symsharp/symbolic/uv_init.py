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
    from .uv_physics import K, L, X, uv_route_derivation

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
    from ..models import uv_model
    from .derive import _layerwise_three
    from .scaling import nondimensionalize
    from .uv_physics import K, L, X, uv_route_derivation

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
def _t(e) -> str:
    return sp.latex(e, symbol_names={sp.Symbol("L", nonnegative=True): r"\ell", sp.Symbol("L"): r"\ell"})


def uv_init_markdown() -> str:
    """The section of derivations/uv.md on initialisation, parameterisations and the first step."""
    mom = initial_moments()
    rows = parameterisation_table()
    fs = first_step_general()
    Lm = ["# Initialisation, parameterisations and the first step\n",
          "*Generated by `symsharp write-derivations` from `symsharp.symbolic.uv_init`; do not edit by hand.*\n",
          "## Moments of the initial state\n",
          "For $U_{ij} \\sim N(0, \\sigma_U^2)$, $v_i \\sim N(0, \\sigma_v^2)$ (exact Gaussian moments of the expanded "
          "polynomials for $n = 1 \\dots 5$; each $n\\cdot$moment interpolated in $n$ from $n = 1, 2, 3$ and confirmed "
          "at $n = 4, 5$):\n",
          f"$$\\mathbb E f_0 = {_t(mom['E_f0'])},\\quad \\mathbb E f_0^2 = {_t(mom['E_f0_sq'])},$$\n",
          f"$$\\mathbb E \\lambda_0 = {_t(mom['E_lam0'])},\\quad \\operatorname{{Var}} \\lambda_0 = "
          f"{_t(mom['Var_lam0'])}.$$\n",
          "So $\\lambda_0$ concentrates ($\\mathrm{sd}/\\mathrm{mean} \\propto n^{-1/2}$) while $f_0$ stays "
          "random. The reduced dynamics depends only on $k = a\\eta^2 y^2$ and the initial point $(X_0, \\ell_0) = "
          "(f_0/y, \\eta\\lambda_0)$ (route-to-chaos section), so a parameterisation acts only through these three "
          "numbers.\n",
          "## Parameterisations\n",
          "$f = (\\alpha/\\sqrt n)\\, v^\\top U x$; $\\hat\\eta$ is of order one. Leading powers of $n$ as "
          "$n \\to \\infty$ (SymPy limits):\n",
          "| parameterisation | $\\alpha$ | $\\sigma_U^2$ | $\\sigma_v^2$ | $\\eta$ | $k$ | $\\ell_0 = \\eta\\,\\mathbb E\\lambda_0$ "
          "| $\\mathbb E X_0^2$ | exponents $(k, \\ell_0, X_0^2)$ | regime as $n \\to \\infty$ |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e = r["exponents"]
        Lm.append(f"| {r['name']} | ${_t(r['alpha'])}$ | ${_t(r['sigma_U2'])}$ | ${_t(r['sigma_v2'])}$ | "
                  f"${_t(r['eta'])}$ | ${_t(r['k'])}$ | ${_t(r['ell0'])}$ | ${_t(r['X0_sq'])}$ | "
                  f"$({_t(e['k'])}, {_t(e['ell0'])}, {_t(e['X0_sq'])})$ | {r['regime']} |")
    lwr = layerwise_reduction()
    Lm += ["",
           "## Layer-wise rates\n",
           "With $\\eta_U \\ne \\eta_v$ the map closes in $(f, \\lambda_U, \\lambda_v)$ (the NTK parts of the two layers). "
           f"Its scaling symmetries leave the single group $k = {_t(lwr['group'])}$; with $X = f/y$, "
           "$\\ell_U = \\eta_U\\lambda_U$, $\\ell_v = \\eta_v\\lambda_v$:\n"]
    for v, e in lwr["step_nd"].items():
        Lm.append(f"$${_t(v)}' = {_t(e)}$$\n")
    Lm += [("The sum $\\ell = \\ell_U + \\ell_v$ closes with $X$ and its map **is the common-rate map** "
            "(checked by exact expansion). So layer-wise rates change nothing but the two numbers: "
            "$\\eta/\\eta_c \\to \\sqrt{\\eta_U\\eta_v}/\\eta_c$ and $\\eta\\lambda \\to \\eta_U\\lambda_U + "
            "\\eta_v\\lambda_v$: the EoS manifold, the cascade, the crisis and the divergence boundary carry over. "
            "At initialisation $\\mathbb E\\lambda_U = \\alpha^2\\sigma_v^2\\|x\\|^2$ and "
            "$\\mathbb E\\lambda_v = \\alpha^2\\sigma_U^2\\|x\\|^2$ (the two terms of $\\mathbb E\\lambda_0$ above).\n")
           if lwr["matches_common_rate"] else "The sum $\\ell_U + \\ell_v$ does not reduce to the common-rate map.\n"]
    Lm += ["",
           "Sharpness reduction versus progressive sharpening early on: where $X_0 \\to 0$ (μP-like) the first step "
           "always raises the NTK λ, and it lowers the Hessian sharpness iff $\\eta\\lambda_0 < 7/6 - \\sqrt{1 + 3k}/6$ "
           "(route-to-chaos section); where $X_0$ stays of order one (NTK, standard) the outcome depends on the random "
           "$X_0 = f_0/y$ through the condition below, so initialisation scale and parameterisation decide it only "
           "through $(k, X_0, \\ell_0)$.\n",
           "## First step at any state: Hessian sharpness versus NTK\n",
           "With $\\eta S = (\\ell + \\sqrt{D})/2$, the one-step changes $A = \\ell' - \\ell$ and "
           "$B = D + A^2 - D'$:\n",
           f"$$D = {_t(fs['D'])},\\qquad A = {_t(fs['A'])},$$\n",
           f"$$B = {_t(fs['B'])},$$\n",
           f"$$B^2 - 4A^2D = {_t(fs['P'])}.$$\n",
           "$D \\ge 4k(2X - 1)^2 \\ge 0$ on the feasible set, and **the sharpness falls in the first step iff** "
           "$\\sqrt{D'} < \\sqrt D - A$, i.e.\n",
           "$$\\bigl(A < 0 \\wedge (B \\ge 0 \\vee B^2 - 4A^2 D < 0)\\bigr) \\vee "
           "\\bigl(A \\ge 0 \\wedge D > A^2 \\wedge B > 0 \\wedge B^2 - 4A^2 D > 0\\bigr)$$\n",
           "(squaring only where both sides have a known sign). The NTK falls iff $A < 0$; the two disagree exactly "
           "where $A \\ge 0$ and the second bracket holds (NTK sharpens, Hessian sharpness falls) or where $A < 0$ and "
           "the first bracket fails (NTK falls, Hessian sharpness rises). At $X = 0$ this reduces to the $f_0 = 0$ "
           "threshold of the route-to-chaos section. Claim UV-first-step-general checks the condition against "
           "direct evaluation at random feasible states.\n"]
    return "\n".join(Lm)
