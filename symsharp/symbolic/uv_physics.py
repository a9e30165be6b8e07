"""Route to chaos of the UV model, derived exactly: EoS manifold, the 1-D map on it, its fixed
points and period-2 orbits, the boundary crisis, and first-step sharpening/reduction conditions.

Everything starts from the engine's closed GD map of (f, λ) (:func:`reduce_map`), its scaling
groups (:func:`nondimensionalize`), its quadratic gradient-flow invariant
(:func:`conserved_quantities`) with the exact GD drift (:func:`gd_drift`) and the function-space
sharpness (:func:`function_space_sharpness`).  Nothing below types in a derived formula; the
only choices made here are definitions (the EoS manifold is the zero set of the GF invariant,
and the coordinates z = √k·f/y, c = 1 + √k in which the manifold map is monic).

Non-dimensional variables: X = f/y, L = ηλ, k = aη²y² = (η/η_c)², s = √k.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

from ..models import uv_model
from .derive import critical_learning_rate
from .fixedpoints import fixed_points
from .invariants import conserved_quantities, gd_drift
from .reduction import reduce_map
from .scaling import nondimensionalize
from .sharpness import function_space_sharpness

Z = sp.Symbol("z", real=True)           # z = s X  (normal-form coordinate on the EoS manifold)
C = sp.Symbol("c", positive=True)       # c = 1 + s = 1 + η/η_c
S = sp.Symbol("s", positive=True)       # s = √k = η/η_c
K = sp.Symbol("k", positive=True)       # k = aη²y²
X = sp.Symbol("X", real=True)           # X = f/y
L = sp.Symbol("L", nonnegative=True)    # L = ηλ
MU = sp.Symbol("mu")


@dataclass
class PeriodTwo:
    """One factor of (G(G(z)) − z)/(fixed-point polynomial): the points of one or more 2-cycles.

    ``multiplier_poly`` is the polynomial in μ whose roots are the multipliers G'(z₁)G'(z₂) of
    the cycles in this factor; ``multipliers`` its roots; ``real_from`` the least c > 1 from which
    the points are real; ``stable`` the c-interval where a cycle of this factor has |μ| < 1 and
    is bounded (c ≤ crisis)."""

    factor: sp.Expr
    points: list
    multiplier_poly: sp.Expr
    multipliers: list
    real_when: sp.Set
    stable: sp.Set
    transverse: sp.Expr | None = None     # Π (1 − k(X−1)²)² over the cycle, in c (when one cycle)
    sharpness: list = field(default_factory=list)   # ηS on the cycle points (when one cycle)
    ntk: list = field(default_factory=list)         # ηλ on the cycle points


@dataclass
class UVRoute:
    """The exact part of the UV route to chaos (see module docstring for the variables)."""

    model: object
    reduced: object
    f: sp.Symbol
    lam: sp.Symbol
    a: sp.Symbol
    eta: sp.Symbol
    y: sp.Symbol
    eta_c: sp.Expr                  # in a, y
    eta_c_formula: sp.Expr          # in n, x_norm, y, alpha
    nd_groups: dict                 # {k-symbol: a η² y²}
    nd_state: dict                  # {X: f/y, L: ηλ}
    nd_step: dict                   # {X: X', L: L'} in X, L, k
    invariant: sp.Expr              # GF invariant in (f, λ)
    drift_ratio: sp.Expr            # I'/I in (f, λ, a, η, y)
    invariant_nd: sp.Expr           # in X, L, k
    drift_ratio_nd: sp.Expr         # in X, k
    manifold: sp.Expr               # L on the EoS manifold (branch X ≥ 0), in X and s
    manifold_other: sp.Expr         # branch X ≤ 0
    manifold_residual: sp.Expr      # L'(X, manifold) − manifold(X'), expanded (0: invariant)
    manifold_residual_other: sp.Expr
    map_1d: sp.Expr                 # X' on the manifold, in X and s
    map_1d_other: sp.Expr
    normal_form: sp.Expr            # G(z) with z = sX, c = 1 + s
    fixed: list                     # [(z*, multiplier, stable c-set)]
    critical: list                  # critical points of G
    critical_values: list
    crisis_c: sp.Expr               # c where the critical value hits the outer fixed point
    crisis_poly: sp.Expr
    transverse: sp.Expr             # per-step transverse multiplier (1 − k(X−1)²)² in z, c
    period_two: list                # [PeriodTwo]
    sharpness_nd: sp.Expr           # ηS in X, L, k
    sharpness_manifold: sp.Expr     # ηS on the manifold in z, s (with Abs)
    first_step: dict                # exact first-step conditions
    gf_final: dict                  # final NTK/sharpness under GF and GD
    separatrix: dict                # invariant line bounding the bounded region (divergence boundary)


def _eta_of_c(eta_c):
    """η as a function of c: c = 1 + s, s = η/η_c."""
    return (C - 1) * eta_c


@functools.lru_cache(maxsize=None)
def uv_route_derivation(width: int = 1, input_dim: int = 1) -> UVRoute:
    """Run the exact derivations.  The closed map of (f, λ) does not depend on (n, d) (claim
    UV-closed-map); the smallest model (1, 1) is the fastest to reduce, and width/x_norm/α enter
    only through a = α²‖x‖²/n.  About 2 s."""
    m = uv_model(width, input_dim)
    red = reduce_map(m)
    if not red.closes:
        raise ValueError(f"the UV function-space map does not close: {red.reason}")
    f, lam = red.variables
    a = next(iter(m.derived_constants))
    eta, y = m.eta, m.targets[0]
    eta_c, eta_c_formula = critical_learning_rate(fixed_points(red.step, red.variables), m)

    # ---- non-dimensional form (engine) renamed to X, L, k
    nd = nondimensionalize(red.step, [f, lam], [a, eta, y])
    (ks, kexpr), = nd.group_symbols.items()
    ren = {ks: K}
    state = {}
    for hat, expr in nd.new_symbols.items():
        state[X if f in expr.free_symbols else L] = expr
        ren[hat] = X if f in expr.free_symbols else L
    step_nd = {ren[h]: sp.expand(e.xreplace(ren)) for h, e in nd.step.items()}
    back = {}
    for v, expr in state.items():
        orig = (expr.free_symbols & {f, lam}).pop()
        back[orig] = sp.solve(sp.Eq(v, expr), orig)[0]
    a_of_k = sp.solve(sp.Eq(K, kexpr), a)[0]

    def to_nd(e):
        """Rewrite an expression of (f, λ, a, η, y) in (X, L, k), dropping an overall factor."""
        e = sp.expand(sp.sympify(e).xreplace(back).subs(a, a_of_k))
        e = sp.factor_terms(sp.cancel(e))
        coeff, rest = e.as_independent(X, L, K, as_Add=False)
        return sp.expand(rest)

    # ---- GF invariant and its GD drift
    inv = conserved_quantities(red.field, red.variables, degree=2)
    if len(inv) != 1:
        raise ValueError(f"expected one quadratic GF invariant, found {len(inv)}")
    I = inv[0]
    ratio = sp.factor(sp.cancel((I + gd_drift(I, red.step, eta)) / I))
    I_nd = to_nd(I)
    ratio_nd = sp.factor(sp.expand(ratio.xreplace(back).subs(a, a_of_k)))

    # ---- the EoS manifold: zero set of the invariant, solved for L (two branches)
    branches = sp.solve(sp.Eq(I_nd, 0), L)
    branches = [sp.expand(b.subs(K, S ** 2)) for b in branches]
    pos = [b for b in branches if b.subs({X: 1, S: 1}) > 0]
    neg = [b for b in branches if b.subs({X: 1, S: 1}) < 0]
    if len(pos) != 1 or len(neg) != 1:
        raise ValueError(f"unexpected zero set of the invariant: {branches}")
    man, man_o = pos[0], neg[0]
    stp = {v: e.subs(K, S ** 2) for v, e in step_nd.items()}

    def restrict(branch):
        Xn = stp[X].subs(L, branch)
        Ln = stp[L].subs(L, branch)
        return sp.factor(Xn), sp.expand(Ln - branch.subs(X, Xn))

    F1, res = restrict(man)
    F1o, res_o = restrict(man_o)
    # normal form: z = sX makes the manifold map monic; c = 1 + s
    G = sp.factor(sp.expand(S * F1.subs(X, Z / S)).subs(S, C - 1))
    # fixed points of G and multipliers
    Gp = sp.diff(G, Z)
    fixed = []
    for z0 in sp.solve(sp.Eq(G, Z), Z):
        mu = sp.factor(Gp.subs(Z, z0))
        stable = _abs_less_one(mu)
        fixed.append((sp.simplify(z0), mu, stable))
    fixed.sort(key=lambda t: float(t[0].subs(C, 2)))
    crit = sorted(sp.solve(Gp, Z), key=lambda e: float(e.subs(C, 2)))
    crit_vals = [sp.factor(G.subs(Z, zc)) for zc in crit]
    # boundary crisis: the largest critical value reaches the outermost fixed point
    z_out = fixed[-1][0]
    top = max(crit_vals, key=lambda e: float(e.subs(C, 2)))
    crisis_poly = sp.factor(top - z_out)
    crisis_c = min([r for r in sp.solve(crisis_poly, C) if r.is_real and r > 1], key=float)
    # transverse multiplier per step, in z and c
    trans = sp.factor(ratio_nd.subs(K, S ** 2).subs(X, Z / S).subs(S, C - 1))
    # sharpness
    sh = function_space_sharpness(m)
    sharp_nd = sp.simplify(to_nd_sharp(sh.expr, back, a, a_of_k, eta))
    sharp_man = sp.simplify(sp.sqrt(sp.factor(sp.expand((2 * sharp_nd - L) ** 2).subs(K, S ** 2).subs(L, man)))
                            + man) / 2
    sharp_man_z = sp.simplify(sharp_man.subs(X, Z / S))
    period_two = _period_two(G, fixed, crisis_c, trans, sharp_man_z, man)
    first = _first_step(step_nd, sharp_nd, state)
    gf = _gf_final(I, f, lam, a, y, ratio)
    sep = _separatrix(step_nd, man, man_o, state, kexpr)
    return UVRoute(m, red, f, lam, a, eta, y, eta_c, eta_c_formula, {K: kexpr}, state, step_nd, I, ratio,
                   I_nd, ratio_nd, man, man_o, res, res_o, F1, F1o, G, fixed, crit, crit_vals, crisis_c,
                   crisis_poly, trans, period_two, sharp_nd, sharp_man_z, first, gf, sep)


def to_nd_sharp(expr, back, a, a_of_k, eta):
    """ηS in (X, L, k) from S in (f, λ, a, y)."""
    e = sp.expand(eta * expr.xreplace(back).subs(a, a_of_k))
    return sp.simplify(sp.powsimp(sp.expand(e), force=True))


def _abs_less_one(mu) -> sp.Set:
    """{c > 1 : |μ(c)| < 1} exactly."""
    dom = sp.Interval.open(1, sp.oo)
    lo = sp.solveset(mu > -1, C, dom)
    hi = sp.solveset(mu < 1, C, dom)
    return sp.Intersection(lo, hi)


def _period_two(G, fixed, crisis_c, trans, sharp_z, man):
    """All period-2 orbits: factor (G∘G − z)/Π(z − z*) over Q(c)."""
    GG = sp.expand(G.subs(Z, G))
    fp = sp.Poly(sp.expand(sp.Mul(*[Z - z0 for z0, _, _ in fixed])), Z)
    q, r = sp.div(sp.Poly(GG - Z, Z), fp)
    if not r.is_zero:
        raise ValueError("fixed points do not divide G(G(z)) − z")
    Gp = sp.diff(G, Z)
    mu_z = sp.expand(Gp * Gp.subs(Z, G))
    out = []
    bounded = sp.Interval.Lopen(1, crisis_c)
    for fac, _ in sp.factor_list(q.as_expr())[1]:
        pf = sp.Poly(fac, Z)
        if pf.degree() < 2:
            continue
        red_mu = sp.rem(sp.Poly(mu_z, Z), pf).as_expr()
        res = sp.factor(sp.resultant(pf.as_expr(), MU - red_mu, Z))
        # each cycle's multiplier appears once per point: take the squarefree part
        base = sp.Mul(*[b for b, _ in sp.factor_list(res)[1]])
        mus = sp.solve(base, MU)
        disc = sp.factor(sp.discriminant(pf.as_expr(), Z))
        pts = sp.solve(fac, Z) if pf.degree() <= 2 else []
        # points real: degree 2 → discriminant ≥ 0; higher degree → real where the multipliers are real
        if pf.degree() == 2:
            real = sp.solveset(disc >= 0, C, sp.Interval.open(1, sp.oo))
        else:
            radicand = [a for m in mus for a in sp.preorder_traversal(m) if isinstance(a, sp.Pow) and a.exp == sp.S.Half]
            real = sp.Interval.open(1, sp.oo)
            for rad in radicand:
                real = sp.Intersection(real, sp.solveset(rad.base >= 0, C, sp.Interval.open(1, sp.oo)))
        stable = sp.EmptySet
        for mu in mus:
            stable = sp.Union(stable, sp.Intersection(_abs_less_one(mu), real, bounded))
        pt = PeriodTwo(fac, pts, base, mus, real, stable)
        if pf.degree() == 2:
            pt.transverse = sp.factor(sp.expand(sp.Mul(*[trans.subs(Z, p) for p in pts])))
            s_of_c = C - 1
            pt.sharpness = [sp.simplify(sharp_z.subs(S, s_of_c).subs(Z, p)) for p in pts]
            pt.ntk = [sp.simplify(man.subs(X, Z / S).subs(S, s_of_c).subs(Z, p)) for p in pts]
        out.append(pt)
    return out


def _first_step(step_nd, sharp_nd, state):
    """Sign of λ' − λ and S' − S after one step, exact conditions in (X, L, k)."""
    dL = sp.factor(step_nd[L] - L)
    Lstar = sp.solve(dL, L)
    Lstar = [r for r in Lstar if r.has(X)]
    coeffL = sp.factor(sp.diff(dL, L))
    # where the threshold is positive (sharpness reduction possible at all)
    region = sp.solveset(Lstar[0] > 0, X, sp.S.Reals) if Lstar else sp.EmptySet
    # feasibility L ≥ 2√k|X| intersected with L < L*: nonempty iff 2√k|X| < L*
    # (X − 1)/(2X) > 0 on both regions, so multiplying keeps the direction of the inequality
    feas_pos = feas_neg = None
    if Lstar:
        pos = sp.cancel((Lstar[0].subs(K, S ** 2) - 2 * S * X) * (X - 1) / (2 * X))
        neg = sp.cancel((Lstar[0].subs(K, S ** 2) + 2 * S * X) * (X - 1) / (2 * X))
        feas_pos = _linear_positive(pos, sp.Interval.open(1, sp.oo))
        feas_neg = _linear_positive(neg, sp.Interval.open(-sp.oo, 0))
    # Hessian sharpness at f₀ = 0: exact boundary of sign(S₁ − S₀)
    B = sp.expand((2 * sharp_nd - L) ** 2)
    Bn = sp.expand(B.subs({X: step_nd[X], L: step_nd[L]}, simultaneous=True))
    A = sp.expand(step_nd[L] - L)
    Q = sp.expand((B - Bn + A ** 2) ** 2 - 4 * A ** 2 * B)   # zero where S' = S (after squaring twice)
    Q0 = sp.factor(Q.subs(X, 0))
    roots0 = sorted([r for r in sp.solve(Q0, L) if r != 0], key=lambda e: float(e.subs(K, 1)))
    s0 = sp.simplify(sharp_nd.subs(X, 0))
    s1 = sp.simplify(sharp_nd.subs({X: step_nd[X], L: step_nd[L]}, simultaneous=True).subs(X, 0))
    # squaring twice may add roots: keep those where S₁ − S₀ really vanishes (30 digits, three k)
    diff0 = s1 - s0
    true_roots = [r for r in roots0
                  if all(abs(sp.N(diff0.subs(K, kv).subs(L, r.subs(K, kv)), 30)) < 1e-20
                         for kv in (sp.Rational(1, 2), 1, 3))]
    # side of the (single) true root where S falls: test half the root at k = 1
    dec_below = (bool(sp.N(diff0.subs(K, 1).subs(L, true_roots[0].subs(K, 1) / 2), 30) < 0)
                 if len(true_roots) == 1 else None)
    k_max = max(sp.solve(sp.Eq(true_roots[0], 0), K)) if len(true_roots) == 1 else None
    return {"dlam": dL, "dlam_coeff_L": coeffL, "lam_threshold": Lstar[0] if Lstar else None,
            "threshold_positive_for": region, "reduction_feasible_X_gt_1": feas_pos,
            "reduction_feasible_X_lt_0": feas_neg, "S_boundary_poly_f0_zero": Q0,
            "S_roots_f0_zero": roots0, "S_threshold_f0_zero": true_roots[0] if len(true_roots) == 1 else None,
            "S_decreases_below_threshold": dec_below, "S_threshold_vanishes_at_k": k_max,
            "sharpness_f0_zero": s0, "sharpness_after_step_f0_zero": s1,
            "first_state_f0_zero": {X: step_nd[X].subs(X, 0), L: sp.factor(step_nd[L].subs(X, 0))}}


def _separatrix(step_nd, man, man_o, state, kexpr):
    """Invariant lines L = p₀ + p₁X of the reduced map (exact ansatz).  Besides the two branches
    of the EoS manifold there is one more; the signed distance D = L − (p₀ + p₁X) obeys
    D' = D·h(X) exactly, so for the k where h > 0 the side of the line is preserved.  The
    feasible states (I has a fixed sign, preserved because I'/I is a square) on the lower side
    form a bounded triangle, hence a forward-invariant bounded set: the divergence boundary."""
    p0, p1 = sp.symbols("p0 p1")
    ell = p0 + p1 * X
    eq = sp.expand(step_nd[L].subs(L, ell) - ell.subs(X, step_nd[X].subs(L, ell)))
    sols = sp.solve(sp.Poly(eq, X).coeffs(), [p0, p1], dict=True)
    lines = [sp.expand(ell.subs(sl)) for sl in sols]
    manifold_lines = {sp.expand(man.subs(S, sp.sqrt(K))), sp.expand(man_o.subs(S, sp.sqrt(K)))}
    other = [ln for ln in lines if ln not in manifold_lines]
    if len(other) != 1:
        return {"lines": lines, "line": None}
    line = other[0]
    Dsym = sp.Symbol("D", real=True)
    Dn = sp.factor(sp.expand((step_nd[L] - line.subs(X, step_nd[X])).subs(L, line + Dsym)))
    h = sp.factor(sp.cancel(Dn / Dsym))
    # h > 0 for every X  ⇔  min over X of h > 0 (h quadratic in X with positive leading coefficient)
    hp = sp.Poly(h, X)
    if hp.degree() == 2 and hp.LC().is_positive:
        xm = sp.solve(sp.diff(h, X), X)[0]
        hmin = sp.factor(h.subs(X, xm))
        k_max = sp.solve(sp.Eq(hmin, 0), K)
        k_max = min(k_max) if k_max else None
    else:
        hmin, k_max = None, None
    # triangle corners: intersections of the line with the two manifold branches
    corners = [sp.simplify(sp.solve(sp.Eq(line.subs(K, S ** 2), br), X)[0]) for br in (man, man_o)]
    f0_zero = sp.factor(line.subs(X, 0))
    eta_lam = sp.Symbol("eta_lam0", positive=True)
    return {"lines": lines, "line": line, "D_next": Dn, "h": h, "h_min": hmin, "k_max": k_max,
            "corners": corners, "f0_zero_boundary": f0_zero,
            "absolute": sp.expand(line.xreplace({X: state[X]}).subs(K, kexpr)),
            "y_zero_limit": f0_zero.subs(K, 0)}


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


def _gf_final(I, f, lam, a, y, ratio):
    """Final NTK (= sharpness at zero loss) from the invariant: GF conserves I, GD multiplies it."""
    lam_inf = sp.Symbol("lam_inf", nonnegative=True)
    I0 = sp.Symbol("I_0", real=True)
    P = sp.Symbol("P", nonnegative=True)    # Π_t (I_{t+1}/I_t) along the GD trajectory
    eq = sp.Eq(I.subs({lam: lam_inf, f: y}), I0)
    sols = [s for s in sp.solve(eq, lam_inf) if s.subs({I0: 1, a: 1, y: 1}).is_positive]
    gf = sols[0] if sols else None
    gd = gf.subs(I0, P * I0) if gf is not None else None
    return {"gf": gf, "gd": gd, "I0": I0, "P": P, "per_step_factor": ratio, "lam_inf": lam_inf}


# ----------------------------------------------------------------------------------- lambdify helpers
def normal_form_functions(module: str = "mpmath"):
    """(G, G_z, G_c, G_zz, G_zc) of the EoS normal form G(z; c) as callables (z, c) → value,
    lambdified once into ``module`` (``mpmath`` or ``math``)."""
    G = uv_route_derivation().normal_form
    exprs = [G, sp.diff(G, Z), sp.diff(G, C), sp.diff(G, Z, 2), sp.diff(G, Z, C)]
    return tuple(sp.lambdify((Z, C), e, module) for e in exprs)


def conversions():
    """Expressions linking c to η, k and the state: {"eta_of_c": η(c) in a, y, "k_of_c": …,
    "X_of_z": …, "L_of_z": …, "transverse": …}."""
    r = uv_route_derivation()
    s_of_c = C - 1
    return {"eta_of_c": _eta_of_c(r.eta_c), "k_of_c": s_of_c ** 2, "X_of_z": Z / s_of_c,
            "L_of_z": sp.simplify(r.manifold.subs(X, Z / S).subs(S, s_of_c)), "transverse": r.transverse,
            "sharpness_z": r.sharpness_manifold.subs(S, s_of_c)}


# ----------------------------------------------------------------------------------------- Markdown
def _tex(e) -> str:
    names = {L: r"\ell", X: "X", S: "s", K: "k", Z: "z", C: "c", LBU: r"\bar\ell_U", LBV: r"\bar\ell_v",
             sp.Symbol("lam", nonnegative=True): r"\lambda", sp.Symbol("lam_inf", nonnegative=True): r"\lambda_\infty"}
    return sp.latex(e, symbol_names={k: v for k, v in names.items() if k in getattr(e, "free_symbols", set())})


def uv_route_markdown(r: UVRoute | None = None) -> str:
    """The exact part of the route to chaos as Markdown (LaTeX), generated from the derivation."""
    r = uv_route_derivation() if r is None else r
    Lm = []
    A = Lm.append
    (ks, kexpr), = r.nd_groups.items()
    A("## Exact part\n")
    A("Non-dimensional variables from the scaling symmetries of the closed map: "
      + ", ".join(f"${_tex(v)} = {_tex(e)}$" for v, e in r.nd_state.items())
      + f", $k = {_tex(kexpr)} = (\\eta/\\eta_c)^2$ with $\\eta_c = {_tex(r.eta_c)} = {_tex(r.eta_c_formula)}$; "
      "$s = \\sqrt k = \\eta/\\eta_c$. The map:\n")
    for v, e in r.nd_step.items():
        A(f"$${_tex(v)}' = {_tex(sp.factor(e))}$$\n")
    A("### First step: sharpening or reduction\n")
    fs = r.first_step
    A(f"$$\\ell' - \\ell = {_tex(fs['dlam'])}.$$\n")
    A(f"The coefficient of $\\ell$ is ${_tex(fs['dlam_coeff_L'])} \\ge 0$, so the NTK falls in one step iff "
      f"$\\ell < {_tex(fs['lam_threshold'])}$, which is positive only for $X \\in {_tex(fs['threshold_positive_for'])}$: "
      "an output between 0 and the target always sharpens $\\lambda$. With the feasible set "
      f"$\\ell \\ge 2s|X|$ the reduction region is non-empty for $X \\in {_tex(fs['reduction_feasible_X_gt_1'])}$ "
      f"or $X \\in {_tex(fs['reduction_feasible_X_lt_0'])}$.\n")
    A(f"Hessian sharpness: $\\eta S = {_tex(r.sharpness_nd)}$. From $f_0 = 0$ one step gives "
      f"$(X_1, \\ell_1) = ({_tex(fs['first_state_f0_zero'][X])}, {_tex(fs['first_state_f0_zero'][L])})$, so the NTK "
      "always rises, while $S_1 = S_0$ (after squaring twice) where "
      f"${_tex(fs['S_boundary_poly_f0_zero'])} = 0$. Of its roots only "
      f"$\\ell_0 = {_tex(fs['S_threshold_f0_zero'])}$ is a true root (the other is spurious, checked to 30 digits), and "
      f"**$S$ falls in the first step iff $\\eta\\lambda_0 < {_tex(fs['S_threshold_f0_zero'])}$** "
      f"(positive for $k < {_tex(fs['S_threshold_vanishes_at_k'])}$): there the NTK sharpens while the loss-Hessian "
      "sharpness is reduced.\n")
    g = r.gf_final
    A("### Final sharpness from the invariant\n")
    A(f"The GF invariant is $I = {_tex(r.invariant)}$ (in the reduced variables $I \\propto {_tex(r.invariant_nd)}$) and "
      f"one GD step multiplies it by $I'/I = {_tex(r.drift_ratio)}$. At convergence $f = y$ and $S = \\lambda$, so "
      f"under GF $\\lambda_\\infty = {_tex(g['gf'])}$ with $I_0 = I(f_0, \\lambda_0)$, and under GD "
      f"$\\lambda_\\infty = {_tex(g['gd'])}$ with $P = \\prod_t (1 - a\\eta^2\\Delta_t^2)^2$. Since $I \\le 0$ on the "
      "feasible set, every step with $0 < a\\eta^2\\Delta_t^2 < 2$ has a factor below 1 and lowers the final "
      "sharpness below the GF value.\n")
    A("### EoS manifold and the map on it\n")
    A(f"The zero set of the invariant, $\\ell = {_tex(r.manifold)}$ ($X \\ge 0$) and $\\ell = {_tex(r.manifold_other)}$ "
      f"($X \\le 0$), i.e. $\\lambda = 2\\sqrt a |f|$, is invariant for every $\\eta$ (restriction residuals "
      f"${_tex(r.manifold_residual)}$, ${_tex(r.manifold_residual_other)}$). On it the map is one-dimensional:\n")
    A(f"$$X' = {_tex(r.map_1d)} \\quad (X \\ge 0),\\qquad X' = {_tex(r.map_1d_other)} \\quad (X \\le 0).$$\n")
    A(f"With $z = sX$ and $c = 1 + s$ (on the manifold $\\eta\\lambda = 2z$):\n")
    A(f"$$G(z) = {_tex(r.normal_form)}.$$\n")
    rows = ["| fixed point $z^*$ | multiplier $G'(z^*)$ | stable for $c \\in$ |", "|---|---|---|"]
    for z0, mu, st in r.fixed:
        rows.append(f"| ${_tex(z0)}$ | ${_tex(mu)}$ | ${_tex(st)}$ |")
    A("\n".join(rows) + "\n")
    A(f"$z^* = c - 1$ is the minimum $f = y$; it is stable iff $c < 2$, i.e. $\\eta < \\eta_c$. Critical points "
      f"${', '.join(_tex(e) for e in r.critical)}$ with values ${', '.join(_tex(e) for e in r.critical_values)}$ "
      "(the map is bimodal; the minimum maps to the repelling fixed point 0). Off the manifold, $I$ is a transverse "
      f"coordinate with multiplier $I'/I = {_tex(r.transverse)}$ per step.\n")
    A("### Period-2 orbits\n")
    A("$(G(G(z)) - z)$ divided by the fixed-point polynomial factors over $\\mathbb{Q}(c)$ as:\n")
    for pt in r.period_two:
        A(f"- ${_tex(pt.factor)} = 0$: real for $c \\in {_tex(pt.real_when)}$; cycle multipliers "
          f"${', '.join(_tex(m) for m in pt.multipliers)}$ (roots of ${_tex(pt.multiplier_poly)} = 0$, from a resultant); "
          f"stable and bounded for $c \\in {_tex(pt.stable)}$.")
        if pt.points:
            A(f"  Points $z_{{1,2}} = {', '.join(_tex(p) for p in pt.points)}$; transverse multiplier over the cycle "
              f"${_tex(pt.transverse)}$; $\\eta\\lambda$ on the cycle ${', '.join(_tex(v) for v in pt.ntk)}$ (product "
              f"${_tex(sp.simplify(sp.expand(pt.ntk[0] * pt.ntk[1])))}$: the geometric mean of $\\eta\\lambda$ is exactly 2); "
              f"$\\eta S$ on the cycle ${', '.join(_tex(v) for v in pt.sharpness)}$ (one value below 2, one above).")
        A("")
    p2 = r.period_two[0]
    A(f"So the EoS 2-cycle is stable for $\\eta_c < \\eta < ({_tex(p2.stable.sup - 1)})\\,\\eta_c$.\n")
    A("### Boundary crisis\n")
    A(f"The larger critical value reaches the outer fixed point ${_tex(r.fixed[-1][0])}$ where "
      f"${_tex(r.crisis_poly)} = 0$: $c = {_tex(r.crisis_c)}$, i.e. $\\eta = {_tex(r.crisis_c - 1)}\\,\\eta_c$ "
      f"($k = {_tex((r.crisis_c - 1) ** 2)}$). Below it $[0, c+1]$ is invariant; above it the critical orbit escapes "
      "and no bounded attractor remains.\n")
    sep = r.separatrix
    A("### Divergence boundary (separatrix)\n")
    A(f"Invariant lines $\\ell = p_0 + p_1 X$ of the map (exact ansatz): ${', '.join(_tex(e) for e in sep['lines'])}$. "
      f"The third one, $\\eta\\lambda = {_tex(sep['absolute'])}$, is not part of the manifold; the distance "
      f"$D = \\ell - ({_tex(sep['line'])})$ obeys $D' = {_tex(sep['D_next'])}$, and "
      f"$\\min_X ({_tex(sep['h'])}) = {_tex(sep['h_min'])}$, positive iff $k < {_tex(sep['k_max'])}$ — the crisis. "
      f"Feasible states below the line form a triangle with corners $X = {', '.join(_tex(c) for c in sep['corners'])}$ "
      "on the two manifold branches (the first is the outer fixed point), so for $\\eta < 2\\eta_c$ they stay bounded "
      f"forever. From $f_0 = 0$: **bounded if $\\eta\\lambda_0 < {_tex(sep['f0_zero_boundary'])}$** (proved) and "
      "divergent above it up to a measure-zero set (numerical, claim UV-divergence-boundary); for "
      f"$y = 0$ ($k = 0$) this is Lewkowycz et al.'s $\\eta\\lambda_0 < {_tex(sep['y_zero_limit'])}$.\n")
    Lm += _first_step_general_markdown()
    Lm += _parameterisation_markdown()
    return "\n".join(Lm)


# ------------------------------------------------------------------ initial state: the fewest numbers
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
    from ..models import uv_model
    from .uv_init import layerwise_reduction

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
    from .scaling import _int_nullspace

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
"""NTK: f = vᵀUx/√n, unit init, O(1) rate.  Standard: f = vᵀUx with fan-in init U ~ N(0, 1/d),
v ~ N(0, 1/n).  μP (Yang & Hu, SGD): multiplier form f = vᵀUx/n with v ~ N(0, 1), one rate ∝ n;
standard form f = vᵀUx with v ~ N(0, 1/n²), η_U = η̂n (fan-out), η_v = η̂/n (1/fan-in).
Mean-field: f = vᵀUx/n, unit init, rate ∝ n."""


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


# ------------------------------------------------------------------ first step at a general state
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


def _first_step_general_markdown() -> list:
    fs = first_step_structure()
    mu = MU
    out = ["### First step at a general state: where the NTK and the Hessian sharpness disagree\n",
           f"$\\eta S$ is the larger root of ${_tex(fs['charpoly'])}$ (read off the sharpness formula). After one step the "
           "new polynomial, evaluated at the old $\\mu = \\eta S$ and reduced with $\\mu^2 = \\ell\\mu + c(X)$, is linear in "
           "$\\mu$: $Q'(\\eta S) = c(X) - c(X') - (\\ell' - \\ell)\\,\\eta S$ with "
           f"$c(X) - c(X') = {_tex(fs['q_const'])}$. Hence, with no squaring, **$S' < S$ iff $Q'(\\eta S) > 0$ and "
           "$2\\eta S > \\ell'$** (the old sharpness lies above the larger new root; equivalent to the sign-case form "
           "in the initialisation section below).\n",
           f"The NTK falls iff $A = {_tex(fs['A'])} < 0$. On $0 < X < 1$ both factors $X - 1$ and $\\ell(X-1) - 4X$ are "
           "negative, so $\\lambda$ always rises there and every fall of $S$ is a disagreement. Elsewhere the NTK "
           f"boundary is $\\ell_\\lambda = {_tex(fs['l_lam'])}$, feasible ($\\ell_\\lambda \\ge 2s|X|$) iff "
           f"${_tex(fs['feasible_boundary']['>1'])} \\ge 0$ ($X > 1$) or ${_tex(fs['feasible_boundary']['<0'])} \\ge 0$ "
           f"($X < 0$), i.e. $k \\le {_tex(fs['k_max_boundary'])}$. On it $A = 0$ and $Q'(\\eta S) = c(X) - c(X')$:\n",
           f"$$Q'(\\eta S)\\big|_{{\\ell = \\ell_\\lambda}} = {_tex(fs['on_boundary'])},$$\n",
           f"whose factor ${_tex(fs['fixed_sign_factors'][0])}$ is $\\le 0$ on the feasible boundary. So on the NTK "
           f"boundary $S$ falls iff $k > \\kappa(X) = {_tex(fs['kappa'])}$ and rises iff $k < \\kappa(X)$ (signs checked "
           "exactly on both branches), and by continuity the disagreement next to the boundary is:\n",
           "- $k < \\kappa(X)$: a band just below $\\ell_\\lambda$ where **$\\lambda$ falls but $S$ rises**;",
           "- $k > \\kappa(X)$: a band just above $\\ell_\\lambda$ where **$\\lambda$ rises but $S$ falls**.\n",
           f"$\\kappa > 0$ only for $X \\in {_tex(fs['kappa_positive_for'])}$; for the other $X < 0$ the second case "
           "always holds.\n",
           "**Small $k$** ($\\eta \\ll \\eta_c$, e.g. NTK at large width, where $k \\propto 1/n$): both changes are "
           f"$O(k)$; $\\eta(S' - S) = k\\,[{_tex(fs['small_k_S'])}] + O(k^2)$ and $\\ell' - \\ell = k\\,[{_tex(fs['small_k_A'])}]$. "
           f"The bracket is increasing in $\\ell$ (slope ${_tex(fs['small_k_slope'])}$), so to leading order **$S$ falls iff "
           f"$\\ell < \\ell_S(X) = {_tex(fs['l_S_small_k'])}$** while $\\lambda$ falls iff $\\ell < \\ell_\\lambda(X)$; "
           f"$\\ell_S - \\ell_\\lambda = {_tex(fs['gap'])}$ is positive exactly for $X \\in {_tex(fs['gap_positive_for'])}$ "
           "(there: $\\lambda$ up and $S$ down for $\\ell_\\lambda < \\ell < \\ell_S$) and negative outside (there: "
           "$\\lambda$ down and $S$ up for $\\ell_S < \\ell < \\ell_\\lambda$). At $X = 0$, "
           f"$\\ell_S = {_tex(fs['l_S_at_0'])}$, the $k \\to 0$ limit (${_tex(fs['f0_threshold_k0'])}$) of the $f_0 = 0$ "
           f"threshold ${_tex(fs['f0_threshold'])}$. Claim UV-first-step-disagreement.\n"]
    return out


def _parameterisation_markdown() -> list:
    pn = parameterisation_numbers()
    law = pn["law"]
    co = law["coeffs"]
    st = law["stats"][max(law["stats"])]
    rel = law["relations"][0]
    ex = rel["exponents"]
    out = ["### Initial state: the fewest numbers, and the parameterisations\n",
           "With layer-wise rates the map closes in $(X, \\ell_U, \\ell_v)$ ($\\ell_U = \\eta_U\\lambda_U$, "
           "$\\ell_v = \\eta_v\\lambda_v$) and depends only on $k = a\\eta_U\\eta_v y^2$. At $U\\hat x = \\sigma_U g$, "
           "$v = \\sigma_v h$ ($g, h$ standard Gaussian in $\\mathbb R^n$) the engine's initial state is exactly\n",
           "$$X_0 = c_X\\, Z,\\quad \\ell_{U,0} = \\bar\\ell_U\\, \\chi_h,\\quad \\ell_{v,0} = \\bar\\ell_v\\, \\chi_g,\\qquad "
           "Z = \\tfrac{1}{\\sqrt n}\\textstyle\\sum_i g_i h_i,\\ \\chi_h = \\tfrac1n \\sum_i h_i^2,\\ \\chi_g = \\tfrac1n \\sum_i g_i^2,$$\n",
           f"$$c_X = {_tex(co['c_X'])},\\quad \\bar\\ell_U = {_tex(co['lbar_U'])},\\quad \\bar\\ell_v = {_tex(co['lbar_v'])},"
           f"\\quad k = {_tex(co['k'])}$$\n",
           f"(checked for $n = {', '.join(str(n) for n in law['stats'])}$; $n k$ and the coefficients do not depend on $n$). "
           f"$Z, \\chi$ have laws that depend on $n$ only: $\\mathbb E Z = {_tex(st['E_Z'])}$, $\\mathbb E Z^2 = {_tex(st['E_Z2'])}$, "
           f"$\\mathbb E\\chi = {_tex(st['E_chi'])}$, $\\operatorname{{Var}}\\chi = {_tex(law['Var_chi'])}$ (exact Gaussian "
           "moments at each $n$; $n\\operatorname{Var}\\chi$ is the same at every $n$ checked). The exponent matrix of $(c_X^2, \\bar\\ell_U, \\bar\\ell_v, k, n)$ "
           f"in the {len(law['symbols'])} constants has rank {law['rank']}; its one left-null vector "
           f"$({', '.join(str(v) for v in ex.values())})$ gives the relation\n",
           f"$$\\mathbb E X_0^2 = c_X^2 = {_tex(law['EX0_sq_in_numbers'])}"
           " \\le \\frac{\\bar\\ell_0^2}{4 n k},\\qquad \\bar\\ell_0 = \\bar\\ell_U + \\bar\\ell_v.$$\n",
           "**So the whole GD run, as a random process in $(X, \\ell_U, \\ell_v)$, depends on $(\\alpha, \\|x\\|, \\sigma_U, "
           "\\sigma_v, \\eta_U, \\eta_v, y)$ and the width only through the four numbers $(n, k, \\bar\\ell_U, \\bar\\ell_v)$** "
           f"(the constants have a {len(law['scaling_group'])}-dimensional group of scalings fixing all of them). Two "
           "consequences: (i) a parameterisation is a curve $n \\mapsto (k, \\bar\\ell_U, \\bar\\ell_v)$, and two with the same "
           "curve train identically in these variables; (ii) with $k$ and $\\bar\\ell_0$ of order one (EoS reachable), "
           "$X_0 = f_0/y = O(n^{-1/2})$ in *every* parameterisation, and $X_0$ of order one forces $k = O(1/n)$, i.e. "
           "$\\eta \\ll \\eta_c$: no parameterisation has both at large width.\n",
           "Families ($f = (\\alpha/\\sqrt n) v^\\top U x$, $\\hat\\eta = O(1)$, $d$ the input dimension), exponents of $n$ "
           "by SymPy limits:\n",
           "| parameterisation | $(\\alpha, \\sigma_U^2, \\sigma_v^2, \\eta_U, \\eta_v)$ | $k$ | $\\bar\\ell_U$ | $\\bar\\ell_v$ | "
           "$\\mathbb E X_0^2$ | exponents $(k, \\bar\\ell_0, \\mathbb E X_0^2)$ | regime as $n \\to \\infty$ |",
           "|---|---|---|---|---|---|---|---|"]
    for r_ in pn["rows"]:
        e, nu = r_["exponents"], r_["numbers"]
        fam = ", ".join(_tex(t) for t in r_["family"])
        out.append(f"| {r_['name']} | ${fam}$ | ${_tex(nu['k'])}$ | ${_tex(nu['lbar_U'])}$ | ${_tex(nu['lbar_v'])}$ | "
                   f"${_tex(nu['EX0_sq'])}$ | $({_tex(e['k'])}, {_tex(e['ell0'])}, {_tex(e['EX0_sq'])})$ | {r_['regime']} |")
    same = "; ".join(f"{a} = {b}" for a, b in pn["identical"]) or "none"
    out += ["",
            f"Families with identical numbers at every $n$ (hence identical training in $(X, \\ell)$): {same}. "
            "Layer-wise rates enter only through $k \\propto \\eta_U\\eta_v$ and the split $\\bar\\ell_U : \\bar\\ell_v = "
            "\\eta_U\\sigma_v^2 : \\eta_v\\sigma_U^2$; the $(X, \\ell_U + \\ell_v)$ dynamics is the one-rate map. "
            "Early sharpness reduction versus sharpening: where $X_0 \\to 0$ (μP, mean-field) $\\lambda$ always rises and $S$ "
            "falls in the first step iff $\\ell_0 < 7/6 - \\sqrt{1 + 3k}/6$; where $k \\to 0$ and $X_0$ stays of order one "
            "(NTK) it is decided by the random $X_0$ through $\\ell_0 < \\ell_S(X_0)$ (previous subsection); standard "
            "parameterisation with a fixed rate has $\\ell_0 \\propto n$ and diverges. Claim UV-init-numbers.\n"]
    return out
