"""Claims about the UV model's route to chaos: EoS manifold, the map on it, its 2-cycles, the
period-doubling cascade, Feigenbaum ratio, period-3 windows, crisis, separatrix, and the same route
from the general bifurcation engine.

Every formula and number of a statement is written between backticks and compared by its checker
with the derivation at check time (:mod:`.stated`).  Checkers recompute everything from the
engine (:mod:`.eos`, :mod:`.route`) and compare independent routes (exact composition vs
substitution, Newton vs orbit diagrams, Sturm counts vs Newton, the general engine on the 2-D map
vs the 1-D EoS map); the only typed-in number is Feigenbaum's universal δ, used as a reference."""
from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from ...claims.registry import Outcome, register
from ...claims.stated import F, Num, OneOf, checked, compare, items, parse

SRC_PAPER = "Kalra, He, Barkeshli 2023 (science.md)"
SRC_DERIVED = "derived (symsharp)"
FEIGENBAUM_DELTA = 4.669201609102990  # universal constant (reference only)


@functools.lru_cache(maxsize=None)
def _r():
    from .eos import uv_route_derivation

    return uv_route_derivation()


@functools.lru_cache(maxsize=None)
def _route():
    from .route import route_to_chaos

    return route_to_chaos(flips=10)


def _up():
    from . import eos

    return eos


def _names(**extra):
    """Statement names → the derivation's symbols."""
    up, r = _up(), _r()
    return {"X": up.X, "ℓ": up.L, "k": up.K, "s": up.S, "c": up.C, "z": up.Z, "f": r.f, "λ": r.lam, "a": r.a,
            "η": r.eta, "y": r.y, **extra}


@register("UV-eos-manifold", SRC_PAPER,
          "The zero set of the GF invariant, λ = `2*sqrt(a)*abs(f)` (the boundary of the feasible set), is invariant "
          "under the GD map of (f, λ) for every η: an 'EoS manifold' with two branches (f/y of either sign).",
          ("one example, common rate η, y ≠ 0",))
def _check_manifold():
    r = _r()
    f, lam, a = r.f, r.lam, r.a
    zero = [sp.simplify(b) for b in sp.solve(r.invariant, lam)]
    if len(zero) != 2 or sp.simplify(zero[0] + zero[1]) != 0:
        return Outcome("open", f"zero set of the invariant in λ: {zero}")
    bad = compare("UV-eos-manifold", [F(sp.sqrt(sp.expand(zero[0] ** 2)))], _names())
    if bad is not None:
        return bad
    if r.manifold_residual != 0 or r.manifold_residual_other != 0:
        return Outcome("open", "restriction residual is not identically zero",
                       details=f"{r.manifold_residual}; {r.manifold_residual_other}")
    # independent route: absolute variables, f of either sign, λ = 2√a|f| written as ±2√a f
    for sign in (1, -1):
        l0 = sign * 2 * sp.sqrt(a) * f
        fn = r.reduced.step[f].subs(lam, l0)
        ln = r.reduced.step[lam].subs(lam, l0)
        if sp.expand(ln - sign * 2 * sp.sqrt(a) * fn) != 0:
            return Outcome("open", f"branch {sign:+d} not invariant in absolute variables")
    return Outcome("proved", f"I = {r.invariant} derived as the unique quadratic GF invariant; GD multiplies it by the "
                   f"square {r.drift_ratio} so I = 0 is invariant; checked by exact expansion of the restricted map in "
                   f"(X, ηλ, k) and in (f, λ, a, η, y) for both branches; {checked('UV-eos-manifold')}")


@register("UV-eos-map", SRC_PAPER,
          "On the EoS manifold the GD map of f is one-dimensional and cubic: with X = f/y and s = η/η_c, "
          "X' = `X*(1 - s*(X - 1))**2`; in z = `s*X` and c = `1 + s` it is z' = `z*(c - z)**2`, and ηλ = `2*z`.",
          ("branch f/y ≥ 0 of the manifold; y ≠ 0",))
def _check_eos_map():
    r, up = _r(), _up()
    conv = up.conversions()
    z_of_X = sp.solve(sp.Eq(up.X, conv["X_of_z"]), up.Z)[0].subs(up.C, 1 + up.S)
    c_of_s = [c for c in sp.solve(sp.Eq(up.S ** 2, conv["k_of_c"]), up.C) if sp.simplify(c.subs(up.S, 1) - 2) == 0]
    bad = compare("UV-eos-map", [F(r.map_1d), F(sp.simplify(z_of_X)), F(c_of_s[0] if c_of_s else None),
                                 F(r.normal_form), F(conv["L_of_z"])], _names())
    if bad is not None:
        return bad
    f, lam, a, eta, y = r.f, r.lam, r.a, r.eta, r.y
    # route 1: absolute map restricted to λ = 2√a f (f/y ≥ 0 branch for y > 0)
    yp = sp.Symbol("y_p", positive=True)
    f_next = sp.expand(r.reduced.step[f].subs(lam, 2 * sp.sqrt(a) * f).subs(y, yp))
    # route 2: the normal form pulled back: f = y z/s, s = η√a y (η_c = 1/(√a y) for y > 0)
    s_val = sp.simplify(eta / r.eta_c.subs(y, yp))
    G = r.normal_form.subs(up.C, 1 + s_val)
    pulled = sp.expand(yp / s_val * G.subs(up.Z, s_val * f / yp))
    if sp.simplify(f_next - pulled) != 0:
        return Outcome("open", "normal form does not reproduce the restricted map", details=str(sp.factor(f_next)))
    # numeric: compiled 2-D kernel on the manifold vs the normal form
    from .system import uv_function_space_kernel

    ker = uv_function_space_kernel()
    Gf = sp.lambdify((up.Z, up.C), r.normal_form, "numpy")
    rng = np.random.default_rng(4)
    av, ev, yv = rng.uniform(0.1, 2, 50), rng.uniform(0.1, 2, 50), rng.uniform(0.2, 2, 50)
    s = ev * np.sqrt(av) * yv
    z = rng.uniform(0, 1 + s + 1, 50)
    fv = yv * z / s
    x1 = ker.step(np.stack([fv, 2 * np.sqrt(av) * fv], 1), np.stack([ev, av, yv], 1))
    if not np.allclose(s * x1[:, 0] / yv, Gf(z, 1 + s), rtol=1e-9, atol=1e-12):
        return Outcome("open", "compiled map disagrees with the normal form")
    return Outcome("proved", "restricted map from exact substitution in the engine's (f, λ) map equals the normal form "
                   "pulled back (sympy.simplify of the difference is 0); compiled kernel agrees at 50 random points; "
                   + checked("UV-eos-map"))


@register("UV-eos-two-cycle", SRC_PAPER,
          "Above η_c the EoS state is a 2-cycle on the manifold, z₁,₂ = `(c - sqrt(c**2 - 4))/2` and "
          "`(c + sqrt(c**2 - 4))/2`, with multiplier `9 - 2*c**2`: stable exactly for c between `2` and `sqrt(5)`, "
          "where the manifold attracts it (transverse multiplier over the cycle `(5 - 2*c)**2`, below one there). On it "
          "ηλ alternates around the stability limit with the product of its two values exactly `4`, while ηS takes one "
          "value below the limit and one above.",
          ("branch f/y ≥ 0; c = 1 + η/η_c",))
def _check_two_cycle():
    r, up = _r(), _up()
    G = r.normal_form
    Gp = sp.diff(G, up.Z)
    cyc = r.period_two[0]
    z1, z2 = cyc.points
    for a_, b_ in ((z1, z2), (z2, z1)):
        if sp.simplify(G.subs(up.Z, a_) - b_) != 0:
            return Outcome("open", "G does not swap the two points")
    mult = sp.simplify(sp.expand(Gp.subs(up.Z, z1) * Gp.subs(up.Z, z2)))
    if sp.simplify(mult - cyc.multipliers[0]) != 0:
        return Outcome("open", f"direct multiplier {mult} differs from the resultant's {cyc.multipliers[0]}")
    lo, hi = cyc.stable.inf, cyc.stable.sup
    gm = sp.simplify(sp.expand(cyc.ntk[0] * cyc.ntk[1]))
    tr = cyc.transverse
    bad = compare("UV-eos-two-cycle", [OneOf([z1, z2]), OneOf([z1, z2]), F(mult), F(lo), F(hi), F(tr), F(gm)],
                  _names())
    if bad is not None:
        return bad
    stated = [parse(t, _names()) for t in items("UV-eos-two-cycle")[:2]]
    if sp.simplify(stated[0] - stated[1]) == 0:
        return Outcome("refuted", "the two stated points are the same", counterexample={"statement": items("UV-eos-two-cycle")[:2]})
    fixed_flip = [fp for fp in r.fixed if fp[2] != sp.EmptySet][0][2].sup
    if sp.simplify(lo - fixed_flip) != 0:
        return Outcome("open", "the 2-cycle is not born where the minimum loses stability")
    if sp.simplify(r.eta_c * (lo - 1) - r.eta_c) != 0:
        return Outcome("open", f"window starts at c = {lo}, not at η = η_c")
    tl, th = sp.N(tr.subs(up.C, lo)), sp.N(tr.subs(up.C, hi))
    monotone = sp.solveset(sp.diff(tr, up.C) > 0, up.C, sp.Interval.open(lo, hi))
    if not (tl <= 1 and th < 1 and (monotone in (sp.EmptySet,) or monotone == sp.Interval.open(lo, hi))):
        return Outcome("open", f"transverse multiplier {tr} not below 1 on the window")
    # ηλ alternates around 2 (the stability limit ηS = 2) and ηS straddles it, at interior points
    for cv in np.linspace(float(lo), float(hi), 6)[1:-1]:
        sv = sorted(float(sp.N(e.subs(up.C, cv))) for e in cyc.sharpness)
        lv = sorted(float(sp.N(e.subs(up.C, cv))) for e in cyc.ntk)
        if not (sv[0] < 2 < sv[1] and lv[0] < 2 < lv[1]):
            return Outcome("open", f"ηS {sv} or ηλ {lv} on the cycle does not straddle 2 at c = {cv}")
    return Outcome("proved", f"points from the exact factorisation of G(G(z)) − z; multiplier {mult} (direct product = "
                   f"resultant); |μ| < 1 solved exactly: c ∈ ({lo}, {hi}); transverse multiplier {tr} < 1 there; "
                   f"product of ηλ on the cycle = {gm}; {checked('UV-eos-two-cycle')}")


@register("UV-eos-second-two-cycle", SRC_DERIVED,
          "The cubic EoS map has two further 2-cycles, born in a saddle-node at c = `2*sqrt(2)`, one of them stable up "
          "to c² = `(13 + 3*sqrt(41))/4`: a period-2 window inside the chaotic band (the map is bimodal).",
          ("branch f/y ≥ 0",))
def _check_second_two_cycle():
    r, up = _r(), _up()
    if len(r.period_two) < 2:
        return Outcome("open", "no second period-2 factor")
    cyc = r.period_two[1]
    born = cyc.real_when.inf
    bad = compare("UV-eos-second-two-cycle", [F(born), F(sp.expand(cyc.stable.sup ** 2))], _names())
    if bad is not None:
        return bad
    if sp.simplify(cyc.stable.inf - born) != 0:
        return Outcome("open", f"the stable window starts at {cyc.stable.inf}, not at the birth {born}")
    for m in cyc.multipliers:
        if sp.simplify(m.subs(up.C, born) - 1) != 0:
            return Outcome("open", f"multiplier at birth {m.subs(up.C, born)} is not 1 (not a saddle-node)")
    # numeric: the compiled EoS map from the critical point settles on a 2-cycle inside the window
    from .route import eos_kernel
    from ...dynamics import orbit_diagram

    lo, hi = float(cyc.stable.inf), float(cyc.stable.sup)
    cs = np.linspace(lo, hi, 7)[1:-1]
    od = orbit_diagram(eos_kernel(), (cs / 3)[:, None], cs[:, None], transient=20000, keep=64, lyapunov_steps=0,
                       tol=1e-8)
    if not np.all(od.period == 2):
        return Outcome("open", f"periods {od.period.tolist()} inside the second window")
    return Outcome("proved", f"quartic factor of (G∘G − z)/fixed points; multipliers {cyc.multipliers} from a resultant, "
                   f"real from c = {born}, |μ| < 1 on {cyc.stable}; iteration confirms period 2 at 5 interior c; "
                   + checked("UV-eos-second-two-cycle"))


@register("UV-eos-crisis", SRC_PAPER,
          "Bounded EoS dynamics ends in a boundary crisis at η/η_c = `2` (k = `4`): below it the interval between "
          "zero and the outer fixed point is invariant under the EoS map; above, the critical orbit escapes and almost "
          "every orbit diverges.",
          ("branch f/y ≥ 0",))
def _check_crisis():
    r, up = _r(), _up()
    from .route import crisis

    c = r.crisis_c
    bad = compare("UV-eos-crisis", [F(c - 1), F((c - 1) ** 2)], _names())
    if bad is not None:
        return bad
    cr = crisis(dps=30)
    if abs(cr["c_bisection"] - float(cr["c_exact"])) > 1e-25:
        return Outcome("open", f"bisection {cr['c_bisection']} differs from exact {cr['c_exact']}")
    # beyond the outer fixed point G(z) > z and G increasing: escape is monotone
    zo = r.fixed[-1][0]
    t = sp.Symbol("t", positive=True)
    g_out = sp.expand(r.normal_form.subs(up.Z, zo + t) - (zo + t))
    if not all(sp.factor(cf).is_positive for cf in sp.Poly(g_out, t).coeffs()):
        return Outcome("open", "G(z) > z beyond the outer fixed point not shown")
    return Outcome("proved", f"critical value {r.critical_values} meets the outer fixed point {zo} where "
                   f"{r.crisis_poly} = 0, i.e. c = {c}; G(z) − z > 0 beyond it (polynomial in t = z − z_out with "
                   "positive coefficients); mpmath bisection on escape of the critical orbit agrees to 25 digits; "
                   + checked("UV-eos-crisis"))


@register("UV-eos-cascade", SRC_PAPER,
          "Above η_c the EoS state follows a period-doubling cascade: the flips (where the period of the attracting "
          "cycle doubles), found by Newton on the flip condition of the p-th iterate of the EoS map, agree with period "
          "detection on orbit diagrams of the compiled GD map of (f, λ) started off the manifold.",
          ("default configuration n = 100, ‖x‖ = y = α = 1; first 4 flips on the 2-D map, 6 on the 1-D map",))
def _check_cascade():
    from .route import DEFAULT_CONFIG, eos_kernel, near_manifold_state
    from .system import uv_function_space_kernel
    from ...dynamics import orbit_diagram

    bad = compare("UV-eos-cascade", [], {})
    if bad is not None:
        return bad
    rt = _route()
    fl = rt["period_doubling"]
    cfg = DEFAULT_CONFIG
    a = cfg["alpha"] ** 2 * cfg["x_norm"] ** 2 / cfg["width"]
    etas, expect = [], []
    for j in range(4):
        below = fl[j] - 0.3 * ((fl[j] - fl[j - 1]) if j > 0 else (fl[1] - fl[0]))
        etas += [below, fl[j] + 0.3 * (fl[j + 1] - fl[j])]
        expect += [2 ** j, 2 ** (j + 1)]
    etas = np.array(etas)
    P = np.stack([etas, np.full_like(etas, a), np.full_like(etas, cfg["y"])], 1)
    od = orbit_diagram(uv_function_space_kernel(), near_manifold_state(cfg, etas), P, transient=30000, keep=128,
                       lyapunov_steps=0, tol=1e-7)
    if list(od.period) != expect:
        return Outcome("open", f"2-D periods {od.period.tolist()}, expected {expect}")
    c = 1 + np.array(rt["eta_over_eta_c"]["period_doubling"])
    cs, exp1 = [], []
    for j in range(6):
        cs += [c[j] - 0.3 * ((c[j] - c[j - 1]) if j > 0 else (c[1] - c[0])), c[j] + 0.3 * (c[j + 1] - c[j])]
        exp1 += [2 ** j, 2 ** (j + 1)]
    cs = np.array(cs)
    od1 = orbit_diagram(eos_kernel(), (cs / 3)[:, None], cs[:, None], transient=200000, keep=256, max_period=128,
                        lyapunov_steps=0, tol=1e-7)
    if list(od1.period) != exp1:
        return Outcome("open", f"1-D periods {od1.period.tolist()}, expected {exp1}")
    return Outcome("numerical", "mpmath Newton (30 digits) vs float64 orbit diagrams: period 2^{j-1} at 30% of the gap "
                   "below each flip and 2^j at 30% above, for 4 flips on the 2-D map (transient 30000) and 6 on the "
                   "compiled EoS map (transient 200000)")


@register("UV-feigenbaum", SRC_PAPER,
          "The flip points of the UV EoS cascade accumulate geometrically with Feigenbaum's ratio: the estimates "
          "δ_j = (η_j − η_{j−1})/(η_{j+1} − η_j) approach the universal δ monotonically, the first one within "
          "`2.8` % of it, the second within `0.6` % and the last one, from ten flips, equal to `4.6692` to the digits "
          "shown.",
          ("default configuration; ratios do not depend on it (η scales with η_c)",))
def _check_feigenbaum():
    rt = _route()
    d = rt["feigenbaum_deltas"]
    errs = [abs(x - FEIGENBAUM_DELTA) / FEIGENBAUM_DELTA for x in d]
    got = items("UV-feigenbaum")
    if len(got) != 3:
        return compare("UV-feigenbaum", [None] * 3, {})
    b1, b2 = (float(parse(t, {})) / 100 for t in got[:2])
    if not (errs[0] <= b1 and errs[1] <= b2):
        return Outcome("refuted", "the first ratio estimates are not within the stated bounds",
                       counterexample={"delta_2": d[0], "delta_3": d[1], "rel_error_2": errs[0], "rel_error_3": errs[1]})
    # items 1 and 2 are bounds (checked above as bounds); item 3 is the last estimate
    bad = compare("UV-feigenbaum", [F(parse(got[0], {})), F(parse(got[1], {})), Num(d[-1])], {})
    if bad is not None:
        return bad
    if len(rt["period_doubling"]) != 10:
        return Outcome("open", f"{len(rt['period_doubling'])} flips computed, the statement says ten")
    if not all(errs[i + 1] < errs[i] for i in range(len(errs) - 1)):
        return Outcome("open", f"δ_j not converging monotonically: {d}")
    return Outcome("numerical", f"{len(rt['period_doubling'])} flips by mpmath Newton at 30 digits; δ_j = "
                   + ", ".join(f"{x:.9f}" for x in d) + f"; relative errors {errs[0]:.2%}, {errs[1]:.2%}, …, "
                   f"{errs[-1]:.1e}; accumulation η_∞/η_c − 1 = {rt['eta_over_eta_c']['chaos_onset']:.12f}; "
                   + checked("UV-feigenbaum") + " (bounds checked as bounds)")


@register("UV-eos-period3", SRC_DERIVED,
          "Period-3 orbits of the EoS map first appear (saddle-node, opening the first period-3 window) at "
          "c = 1 + η/η_c ≈ `2.45044` — inside the chaotic band, after the period-doubling accumulation and before the "
          "crisis; two 3-cycles (`6` real period-3 points) are born there.",
          ("branch f/y ≥ 0",))
def _check_period3():
    r, up = _r(), _up()
    rt = _route()
    c3 = sp.Rational(rt["c"]["period3_window"])
    # exact Sturm counts of the period-3 points (degree-24 polynomial) just below and above
    G = r.normal_form
    G3 = sp.expand(G.subs(up.Z, sp.expand(G.subs(up.Z, G))))
    fp = sp.Poly(sp.expand(sp.Mul(*[up.Z - z0 for z0, _, _ in r.fixed])), up.Z)
    q, rem = sp.div(sp.Poly(G3 - up.Z, up.Z), fp)
    if not rem.is_zero:
        return Outcome("open", "fixed points do not divide G³(z) − z")
    eps = sp.Rational(1, 10 ** 12)
    below = sp.Poly(q.as_expr().subs(up.C, c3 - eps), up.Z).count_roots()
    above = sp.Poly(q.as_expr().subs(up.C, c3 + eps), up.Z).count_roots()
    c_inf = float(rt["eta_over_eta_c"]["chaos_onset"]) + 1
    # and none at the chaos onset (grid of rationals between it and c3)
    grid = [sp.Rational(str(round(c_inf + (float(c3) - c_inf) * t, 8))) for t in (0.0, 0.25, 0.5, 0.75, 0.99)]
    earlier = [sp.Poly(q.as_expr().subs(up.C, g), up.Z).count_roots() for g in grid]
    if below != 0 or any(earlier):
        return Outcome("open", f"Sturm counts below/earlier: {below}, {earlier}")
    bad = compare("UV-eos-period3", [Num(sp.Float(rt["c"]["period3_window"], 30)), F(above)], {})
    if bad is not None:
        return bad
    return Outcome("numerical", f"mpmath Newton on {{G³(z) = z, (G³)'(z) = 1}} from the first attracting period-3 orbit "
                   f"of a float64 scan: c = {rt['c']['period3_window']}; exact Sturm counts of real period-3 points: "
                   f"0 at c − 1e-12, {above} at c + 1e-12, 0 at 5 rationals between the accumulation point and c; "
                   + checked("UV-eos-period3"))


@register("UV-separatrix", SRC_DERIVED,
          "The line ηλ = `4 + a*η**2*y*(f - y)` is invariant under the GD map of (f, λ), and the distance to it is "
          "multiplied by `a*η**2*f**2 - a*η**2*f*y + 1` (with X = f/y: `k*X**2 - k*X + 1`), positive for all f iff "
          "η/η_c < `2`. Hence below that rate every state below the line stays in a bounded triangle forever; from "
          "f₀ = 0 GD stays bounded if ηλ₀ < `4 - k` (k = (η/η_c)²), which for a zero target is Lewkowycz et al.'s "
          "`4`.",
          ("one example, common rate η; feasible states (λ ≥ 2√a|f|)",))
def _check_separatrix():
    r, up = _r(), _up()
    sep = r.separatrix
    line = sep["line"]
    if line is None:
        return Outcome("open", "no invariant line besides the manifold")
    X, L, K = up.X, up.L, up.K
    kexpr = r.nd_groups[K]
    h_abs = sp.expand(sep["h"].subs(X, r.nd_state[X]).subs(K, kexpr))
    bad = compare("UV-separatrix", [F(sep["absolute"]), F(h_abs), F(sep["h"]), F(sp.sqrt(sep["k_max"])),
                                    F(sep["f0_zero_boundary"]), F(sep["y_zero_limit"])], _names())
    if bad is not None:
        return bad
    if sp.expand(r.nd_step[L].subs(L, line) - line.subs(X, r.nd_step[X].subs(L, line))) != 0:
        return Outcome("open", "line not invariant")
    if sp.simplify(sep["k_max"] - (r.crisis_c - 1) ** 2) != 0:
        return Outcome("open", f"sign-preservation limit k = {sep['k_max']} differs from the crisis")
    # feasibility is preserved (I'/I is a square) and the feasible part below the line is bounded: corners finite
    if any(not c.is_finite for c in [cc.subs(up.S, sp.Rational(3, 2)) for cc in sep["corners"]]):
        return Outcome("open", "triangle not bounded")
    return Outcome("proved", f"invariant lines of the form L = p₀ + p₁X solved exactly: {sep['lines']}; "
                   f"D' = {sep['D_next']}, min over X of h = {sep['h_min']} > 0 iff k < {sep['k_max']}; "
                   f"feasible region below the line is the triangle with corners X = {sep['corners']}; "
                   f"I'/I = {r.drift_ratio_nd} ≥ 0 keeps feasibility; " + checked("UV-separatrix"))


@register("UV-divergence-boundary", SRC_PAPER,
          "From f₀ = 0, GD on the UV model diverges iff ηλ₀ > `4 - a*η**2*y**2` (up to a measure-zero set of "
          "exceptional orbits), for every η below the crisis; above it almost every start diverges.",
          ("default configuration; float64 iteration with the compiled kernel, divergence at |state| > 1e6",))
def _check_divergence():
    from .route import DEFAULT_CONFIG, divergence_boundary, eta_c_of

    r, up = _r(), _up()
    bad = compare("UV-divergence-boundary", [F(r.separatrix["f0_zero_boundary"].subs(up.K, r.nd_groups[up.K]))],
                  _names())
    if bad is not None:
        return bad
    ec = float(eta_c_of(DEFAULT_CONFIG))
    s = np.array([0.05, 0.3, 0.6, 0.9, 1.1, 1.4, 1.7, 1.9, 1.97])
    d = divergence_boundary(ec * s, grid=200, iters=24)
    stated = sp.lambdify((r.a, r.eta, r.y), parse(items("UV-divergence-boundary")[0], _names()), "numpy")
    a = DEFAULT_CONFIG["alpha"] ** 2 * DEFAULT_CONFIG["x_norm"] ** 2 / DEFAULT_CONFIG["width"]
    exact = stated(a, ec * s, DEFAULT_CONFIG["y"])
    err = np.abs(d["numeric"] - exact)
    if np.any(err > 1e-4):
        i = int(np.argmax(err))
        return Outcome("refuted", "bisection with the compiled kernel",
                       counterexample={"eta_over_eta_c": float(s[i]), "eta_lambda0_numeric": float(d["numeric"][i]),
                                       "eta_lambda0_stated": float(exact[i])})
    d2 = divergence_boundary(ec * np.array([2.05, 2.3]), grid=200, iters=1)
    frac = float(np.mean(d2["exceptions"])) / 200
    return Outcome("numerical", f"bisection on 9 values of η/η_c below the crisis: max |numeric − stated| = "
                   f"{err.max():.1e}; at η = 2.05η_c, 2.3η_c all but {frac:.1%} of 200 starts diverge (exceptions land "
                   f"on the fixed line); {checked('UV-divergence-boundary')}")


@register("UV-eos-attracts", SRC_PAPER,
          "Between η_c and the crisis the EoS manifold attracts: the transverse Lyapunov exponent, the average of "
          "log(I_{t+1}/I_t) = log `(1 - a*η**2*(f - y)**2)**2` along the EoS attractor, is negative, and the top "
          "exponent of the 2-D map equals the larger of the manifold's own and the transverse one.",
          ("default configuration; 40 values of η; 4000 steps after 2000 transient",))
def _check_attracts():
    from .route import DEFAULT_CONFIG, eta_c_of, lyapunov_curve

    r = _r()
    bad = compare("UV-eos-attracts", [F(r.drift_ratio)], _names())
    if bad is not None:
        return bad
    ec = float(eta_c_of(DEFAULT_CONFIG))
    s = np.linspace(1.02, 1.98, 40)
    ly = lyapunov_curve(ec * s, steps=4000, transient=2000)
    if np.any(~np.isfinite(ly["transverse"])) or np.any(ly["transverse"] >= 0):
        i = int(np.nanargmax(ly["transverse"]))
        return Outcome("refuted", "transverse exponent", counterexample={"eta_over_eta_c": float(s[i]),
                                                                        "transverse": float(ly["transverse"][i])})
    gap = np.nanmax(np.abs(ly["lyapunov_2d"] - np.maximum(ly["lyapunov_eos"], ly["transverse"])))
    if gap > 0.1:
        return Outcome("open", f"2-D exponent differs from max(manifold, transverse) by {gap:.3f}")
    return Outcome("numerical", f"transverse exponent in [{ly['transverse'].min():.3f}, {ly['transverse'].max():.3f}] "
                   f"on 40 η in (1.02, 1.98)η_c; |λ_2D − max(λ_EoS, λ_⊥)| ≤ {gap:.3f} (finite-time estimates); "
                   + checked("UV-eos-attracts"))


# ------------------------------------------------------------------------------ general machinery
@register("UV-route-general", SRC_DERIVED,
          "The general bifurcation engine (continuation with branch switching, saddle-node windows, crisis contact) on "
          "the 2-D GD map of (f, λ), with no use of the EoS manifold, reproduces the route computed on the 1-D EoS map: "
          "the first `10` flips, every Feigenbaum ratio estimate, the extrapolated onset of chaos, the period-3 "
          "windows and the second period-2 window agree to at least `18` significant digits, and the boundary crisis "
          "to at least `10`.",
          ("default configuration (η_c = 10), η ∈ [0.95, 2.05]·η_c; general engine refined to 20 digits, EoS map to 30",))
def _check_route_general():
    rt = _route()
    g = rt.get("general")
    if g is None:
        return Outcome("open", "route_to_chaos did not run the general engine")
    cmp = g["agreement_with_eos_map"]
    got = items("UV-route-general")
    if len(got) != 3:
        return compare("UV-route-general", [None] * 3, {})
    n_flips, d_pts, d_crisis = (parse(t, {}) for t in got)
    if g["flip_periods"][:int(n_flips)] != [2 ** j for j in range(int(n_flips))] or len(cmp["flips"]) < int(n_flips):
        return Outcome("refuted", f"the general engine located {len(cmp['flips'])} flips with periods {g['flip_periods']}",
                       counterexample={"flips_stated": int(n_flips), "flip_periods": g["flip_periods"]})
    if cmp["period3_count"]["general"] != cmp["period3_count"]["eos_map"] or not cmp["period3_windows"]:
        return Outcome("refuted", "the two computations find different period-3 windows",
                       counterexample=cmp["period3_count"])
    pts = [v["digits"] for v in cmp["flips"][:int(n_flips)]] + [v["digits"] for v in cmp["feigenbaum_deltas"]] \
        + [v["digits"] for v in cmp["period3_windows"]] + [cmp["chaos_onset"]["digits"],
                                                          cmp["second_two_cycle_window"]["digits"]]
    worst = min(pts)
    if worst < float(d_pts):
        return Outcome("refuted", f"some quantity agrees to only {worst:.1f} digits", counterexample={"min_digits": worst})
    if cmp["crisis"]["digits"] < float(d_crisis):
        return Outcome("refuted", f"the crisis agrees to only {cmp['crisis']['digits']:.1f} digits",
                       counterexample=cmp["crisis"])
    return Outcome("numerical", f"bifurcation_analysis on the 2-D map ({len(cmp['flips'])} flips, "
                   f"{cmp['period3_count']['general']} period-3 windows, crisis by contact) against mpmath Newton on the "
                   f"EoS normal form: flips, ratios, onset and windows agree to ≥ {worst:.1f} digits, the crisis to "
                   f"{cmp['crisis']['digits']:.1f} (exact c = {cmp['crisis']['exact']}); the stated counts and digit "
                   "bounds are checked as bounds")


@register("UV-period3-windows", SRC_DERIVED,
          "Between the onset of chaos and the crisis the UV route has four period-3 windows wide enough for the scans "
          "to see them (assumptions), opening by saddle-nodes at η/η_c ≈ `1.4504`, `1.6996`, `1.9249` and `1.9818`; "
          "each is located by an mpmath Newton on the 1-D EoS map and by the general engine on the 2-D map, and "
          "bracketed by brute-force orbit diagrams of both maps (no 3-cycle just below, a 3-cycle just above).",
          ("default configuration; EoS scan of 20001 points in c, engine scan of 20000 points in η",))
def _check_period3_windows():
    from .route import DEFAULT_CONFIG, cycle_bifurcation, eos_kernel, eos_route_numbers, general_x0
    from .system import uv_function_space_kernel
    from ...dynamics import orbit_diagram
    import mpmath as mp

    rt = _route()
    cs = [mp.mpf(c) for c in rt["c"]["period3_windows"]]
    bad = compare("UV-period3-windows", [Num(float(c - 1)) for c in cs], {})
    if bad is not None:
        return bad
    got = items("UV-period3-windows")
    g = rt["general"]["agreement_with_eos_map"]
    if len(g["period3_windows"]) != len(got):
        return Outcome("refuted", f"the general engine finds {g['period3_count']['general']} period-3 windows",
                       counterexample=g["period3_count"])
    # independent Newton: each window again from a point 1e-6 above its opening with the stated value as guess
    ec = rt["eta_c"]
    worst = 0.0
    num = eos_route_numbers(10, 30)
    for w, t in zip(num["period3"], got):
        c0 = 1 + float(parse(t, {}))
        _, cc = cycle_bifurcation(3, w["z"], c0 + 1e-6, +1, dps=30)
        worst = max(worst, float(abs(cc - w["c"])))
    if worst > 1e-20:
        return Outcome("open", f"Newton from the stated values lands {worst:.1e} away from the windows")
    # brackets: orbit diagrams of the EoS map (in c) and of the 2-D map (in η), 1e-5·η_c below and above
    h = 2e-5
    c_pts = np.array([float(c) + s for c in cs for s in (-h, h)])
    od1 = orbit_diagram(eos_kernel(), (c_pts / 3)[:, None], c_pts[:, None], transient=100000, keep=256,
                        max_period=64, lyapunov_steps=0, tol=1e-7)
    cfg = DEFAULT_CONFIG
    a = cfg["alpha"] ** 2 * cfg["x_norm"] ** 2 / cfg["width"]
    etas = (c_pts - 1) * ec
    P = np.stack([etas, np.full_like(etas, a), np.full_like(etas, cfg["y"])], 1)
    od2 = orbit_diagram(uv_function_space_kernel(), np.broadcast_to(general_x0(cfg), (len(etas), 2)).copy(), P,
                        transient=100000, keep=256, max_period=64, lyapunov_steps=0, tol=1e-6)
    for name, per in (("EoS map", od1.period), ("2-D map", od2.period)):
        per = list(per)
        if any(per[2 * i] == 3 or per[2 * i + 1] != 3 for i in range(len(cs))):
            return Outcome("refuted", f"orbit diagrams of the {name} do not bracket the windows",
                           counterexample={"c": [float(c) for c in c_pts], "periods": [int(p) for p in per]})
    digits = min(v["digits"] for v in g["period3_windows"])
    return Outcome("numerical", f"EoS map: scan of the critical orbit + mpmath Newton on {{G³(z) = z, (G³)'(z) = 1}} "
                   f"(30 digits), re-found from the stated values to {worst:.0e}; general engine on the 2-D map agrees "
                   f"to ≥ {digits:.1f} digits; orbit diagrams of both maps show no 3-cycle at c − {h:g} and a 3-cycle at "
                   f"c + {h:g} for every window; {checked('UV-period3-windows')}")
