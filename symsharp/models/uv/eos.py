"""Route to chaos of the UV model, derived exactly: EoS manifold, the 1-D map on it, its fixed
points and period-2 orbits, the boundary crisis, the divergence boundary (separatrix) and the
final sharpness from the invariant.  (The first GD step is in :mod:`.first_step`, initialisation
and parameterisations in :mod:`.init`.)

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

from .model import uv_model
from .derive import critical_learning_rate
from ...symbolic.fixedpoints import fixed_points
from ...symbolic.invariants import conserved_quantities, gd_drift
from ...symbolic.reduction import reduce_map
from ...symbolic.scaling import nondimensionalize
from ...symbolic.sharpness import function_space_sharpness

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
    gf = _gf_final(I, f, lam, a, y, ratio)
    sep = _separatrix(step_nd, man, man_o, state, kexpr)
    return UVRoute(m, red, f, lam, a, eta, y, eta_c, eta_c_formula, {K: kexpr}, state, step_nd, I, ratio,
                   I_nd, ratio_nd, man, man_o, res, res_o, F1, F1o, G, fixed, crit, crit_vals, crisis_c,
                   crisis_poly, trans, period_two, sharp_nd, sharp_man_z, gf, sep)


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
