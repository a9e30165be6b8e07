"""Conserved quantities of a vector field (polynomial ansatz) and their drift under a map."""
from __future__ import annotations

from typing import Mapping, Sequence

import sympy as sp

from .algebra import coefficient_rows, compose, monomials_up_to, nullspace
from .calculus import gd_map, gf_field


def conserved_quantities(field: Mapping[sp.Symbol, sp.Expr], variables: Sequence[sp.Symbol] | None = None,
                         degree: int = 2) -> list:
    """Basis of the polynomials I of degree 1..``degree`` in ``variables`` (no constant term) with
    ∇I · F ≡ 0 for the vector field F.

    Every monomial up to ``degree`` enters the ansatz; the identity ∇I·F ≡ 0 gives one linear
    equation per monomial of the result, solved exactly over the field of rational functions of
    the remaining symbols (data, targets, model constants).  The returned basis spans the whole
    solution space of the ansatz."""
    variables = list(field) if variables is None else list(variables)
    monos = monomials_up_to(variables, degree)
    lie = [sp.expand(sum(sp.diff(m, v) * field[v] for v in variables)) for m in monos]
    rows, _ = coefficient_rows(lie, variables)
    basis = nullspace(rows, len(monos))
    out = []
    for vec in basis:
        den = sp.lcm([sp.fraction(sp.together(c))[1] for c in vec])
        I = sp.expand(sum(sp.cancel(c * den) * m for c, m in zip(vec, monos)))
        out.append(I)
    return _simplify_basis(out, variables)


def _simplify_basis(basis, variables):
    """Make the basis easier to read: clear content, order by degree then length."""
    out = []
    for I in basis:
        if I == 0:
            continue
        p = sp.Poly(I, *variables)
        content = sp.gcd_list([c for c in p.coeffs()]) if len(p.coeffs()) > 1 else p.coeffs()[0]
        I = sp.expand(I / content) if content != 0 else I
        lc = sp.Poly(I, *variables).coeffs()[0]
        if lc.could_extract_minus_sign():
            I = -I
        out.append(sp.expand(I))
    out.sort(key=lambda e: (sp.Poly(e, *variables).total_degree(), len(e.args), sp.default_sort_key(e)))
    return out


def gd_drift(invariant: sp.Expr, step: Mapping[sp.Symbol, sp.Expr], eta: sp.Symbol | Sequence = ()) -> sp.Expr:
    """Exact change I(θ') − I(θ) under one step of ``step``, as a polynomial in the learning
    rate(s) ``eta`` (factored when small)."""
    from .algebra import PolyContext

    variables = sorted(step, key=lambda v: v.name)
    ctx = PolyContext([invariant] + list(step.values()), variables)
    I = ctx.conv(invariant)
    pairs = [(ctx.gens[i], ctx.conv(step[v])) for i, v in enumerate(variables)]
    d = I.compose(pairs) - I
    if not d:
        return sp.Integer(0)
    drift = d.as_expr()
    if len(d.terms()) <= 60:
        return sp.factor(drift)
    etas = [eta] if isinstance(eta, sp.Symbol) else list(eta)
    if etas:
        return sp.collect(sp.expand(drift), etas, evaluate=True, func=sp.factor_terms)
    return drift


def model_invariants(model, degree: int = 2) -> list:
    """Conserved quantities of gradient flow on the model's loss, in parameter space."""
    return conserved_quantities(gf_field(model), model.params, degree)


def model_invariant_drifts(model, invariants=None, degree: int = 2) -> list:
    """[(I, I(θ') − I(θ))] for one GD step of the model."""
    invs = model_invariants(model, degree) if invariants is None else invariants
    step = gd_map(model)
    return [(I, gd_drift(I, step, list(model.rates()))) for I in invs]
