"""Fixed points of a map, their Jacobians and linear-stability conditions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import sympy as sp


@dataclass
class FixedPoint:
    """A fixed point (or a family of them: ``free`` lists the variables left free).

    ``charpoly`` is the characteristic polynomial of the Jacobian; ``neutral`` the number of
    eigenvalues equal to 1 that belong to the family (one per free variable) and are factored
    out; ``stable_when`` the conditions for the remaining eigenvalues to lie strictly inside
    the unit circle (Jury/Schur–Cohn conditions), as a SymPy boolean."""

    point: dict
    free: tuple
    jacobian: sp.Matrix
    charpoly: sp.Expr
    neutral: int
    transverse: sp.Expr
    eigenvalues: list
    stable_when: sp.Basic


def jacobian(step: Mapping[sp.Symbol, sp.Expr], variables: Sequence[sp.Symbol]) -> sp.Matrix:
    return sp.Matrix([[sp.diff(step[v], w) for w in variables] for v in variables])


def schur_stable(poly: sp.Poly) -> sp.Basic:
    """Conditions for every root of a real polynomial of degree ≤ 2 to satisfy |μ| < 1.

    Degree 1, μ − r: −1 < r < 1.  Degree 2, μ² + bμ + c (after dividing by the leading
    coefficient): |c| < 1 and |b| < 1 + c (Jury)."""
    deg = poly.degree()
    coeffs = [sp.simplify(c / poly.LC()) for c in poly.all_coeffs()]
    if deg <= 0:
        return sp.true
    if deg == 1:
        r = -coeffs[1]
        return sp.And(_canon(r > -1), _canon(r < 1))
    if deg == 2:
        b, c = coeffs[1], coeffs[2]
        return sp.And(_canon(c < 1), _canon(c > -1), _canon(1 + c - b > 0), _canon(1 + c + b > 0))
    raise NotImplementedError("stability conditions are implemented for degree ≤ 2 after removing neutral directions")


def _canon(rel):
    """Move everything to one side and simplify: ``lhs - rhs`` compared with 0, with a
    monomial leading term kept positive where possible."""
    if rel in (sp.true, sp.false):
        return rel
    e = sp.factor(sp.expand(rel.lhs - rel.rhs))
    op = type(rel)
    # prefer "0 < ηλ < 2"-style readable forms for affine expressions
    const = e.as_coeff_Add()[0] if e.is_Add else 0
    rest = sp.expand(e - const)
    if rest.could_extract_minus_sign():
        rest, const = -rest, -const
        op = {sp.StrictLessThan: sp.StrictGreaterThan, sp.StrictGreaterThan: sp.StrictLessThan,
              sp.LessThan: sp.GreaterThan, sp.GreaterThan: sp.LessThan}[op]
    return op(sp.factor(rest), -const)


def fixed_points(step: Mapping[sp.Symbol, sp.Expr], variables: Sequence[sp.Symbol] | None = None,
                 assumptions: Sequence[sp.Basic] = ()) -> list:
    """All solutions of F(x) = x (SymPy ``solve``), with Jacobians and stability conditions.

    Only maps that are rational in the variables are solved symbolically (a transcendental
    system such as a tanh network's would make ``solve`` run without end): for any other map
    this raises ``NotImplementedError`` — its fixed points and cycles are found numerically by
    the bifurcation analysis."""
    variables = list(step) if variables is None else list(variables)
    for v in variables:
        num, den = sp.fraction(sp.together(sp.sympify(step[v]) - v))
        if not (num.is_polynomial(*variables) and den.is_polynomial(*variables)):
            raise NotImplementedError("the map is not rational in the state, so its fixed points are not solved "
                                      "symbolically (they are found numerically by symsharp bifurcation)")
    eqs = [sp.factor(sp.expand(step[v] - v)) for v in variables]
    sols = sp.solve(eqs, variables, dict=True)
    J = jacobian(step, variables)
    mu = sp.Symbol("mu")
    out = []
    for sol in sols:
        point = {v: sp.simplify(sol.get(v, v)) for v in variables}
        free = tuple(v for v in variables if v not in sol)
        Jp = J.subs(point).applyfunc(sp.simplify)
        cp = sp.factor(Jp.charpoly(mu).as_expr())
        neutral = 0
        q = sp.Poly(cp, mu)
        for _ in free:
            qq, r = sp.div(q, sp.Poly(mu - 1, mu))
            if r.is_zero:
                q = qq
                neutral += 1
        eig = list(sp.roots(Jp.charpoly(mu), multiple=True)) if Jp.shape[0] <= 3 else []
        cond = simplify_conditions(schur_stable(q))
        out.append(FixedPoint(point, free, Jp, cp, neutral, q.as_expr(),
                              [sp.simplify(e) for e in eig], cond))
    return out


def simplify_conditions(cond: sp.Basic) -> sp.Basic:
    """Simplify a conjunction of polynomial inequalities that depend on the symbols only through
    one power product t (e.g. t = √a·η·y or t = η·λ): substitute t, solve the univariate
    system exactly with ``reduce_inequalities`` and substitute back.  Returns ``false`` when
    the system is infeasible, the original conjunction when no such t is found."""
    if cond in (sp.true, sp.false):
        return cond
    rels = list(cond.args) if isinstance(cond, sp.And) else [cond]
    candidates = []
    for r in rels:
        for term in sp.Add.make_args(sp.expand(r.lhs - r.rhs)):
            c, m = term.as_coeff_Mul()
            for base in (m, sp.sqrt(m)):
                base = sp.powsimp(base, force=True)
                if base.free_symbols and base not in candidates:
                    candidates.append(base)
    candidates.sort(key=lambda m: sp.count_ops(m))
    for m in candidates:
        t = sp.Symbol("t_", real=True)
        powers = m.as_powers_dict()
        linear = [s_ for s_ in m.free_symbols if powers.get(s_, 0) == 1]
        sym = sorted(linear or m.free_symbols, key=lambda s_: s_.name)[0]
        sols = sp.solve(sp.Eq(m, t), sym)
        if len(sols) != 1:
            continue
        new = [r.func(sp.simplify(r.lhs.subs(sym, sols[0])), sp.simplify(r.rhs.subs(sym, sols[0]))) for r in rels]
        if any(not (set(n.free_symbols) <= {t}) for n in new if n not in (sp.true, sp.false)):
            continue
        dom = [t > 0] if m.is_positive else ([t >= 0] if m.is_nonnegative else [])
        try:
            red = sp.reduce_inequalities(new + dom, t)
        except (NotImplementedError, ValueError):
            continue
        if red in (sp.false, sp.S.false):
            return sp.false
        return red.subs(t, m)
    return sp.simplify(cond)
