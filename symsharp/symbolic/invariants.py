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
    return gd_drifts([invariant], step, eta)[0]


def gd_drifts(invariants: Sequence[sp.Expr], step: Mapping[sp.Symbol, sp.Expr], eta: sp.Symbol | Sequence = ()) -> list:
    """:func:`gd_drift` for several invariants, sharing one polynomial ring and one conversion
    of the map.  Small results are factored; large ones are grouped by powers of ``eta``."""
    from .algebra import PolyContext

    etas = [eta] if isinstance(eta, sp.Symbol) else list(eta)
    variables = sorted(step, key=lambda v: v.name)
    ctx = PolyContext(list(invariants) + list(step.values()) + etas, variables)
    pairs = [(ctx.gens[i], ctx.conv(step[v])) for i, v in enumerate(variables)]
    eta_pos = [ctx.R.symbols.index(e) for e in etas if e in ctx.R.symbols]
    etas = [ctx.R.symbols[i] for i in eta_pos]
    out = []
    for inv in invariants:
        I = ctx.conv(inv)
        d = I.compose(pairs) - I
        if not d:
            out.append(sp.Integer(0))
        elif len(d.terms()) <= 60:
            out.append(sp.factor(ctx.expr(d)))
        else:
            groups = {}
            for mon, c in d.terms():
                key = tuple(mon[i] for i in eta_pos)
                rest = list(mon)
                for i in eta_pos:
                    rest[i] = 0
                groups.setdefault(key, {})[tuple(rest)] = c
            expr = sp.Integer(0)
            for key, dct in sorted(groups.items()):
                coef = ctx.expr(ctx.R.from_dict(dct))
                expr += sp.Mul(*[e ** k for e, k in zip(etas, key)]) * coef
            out.append(expr)
    return out


def model_invariants(model, degree: int = 2) -> list:
    """Conserved quantities of gradient flow on the model's loss, in parameter space."""
    return conserved_quantities(gf_field(model), model.params, degree)


def model_invariant_drifts(model, invariants=None, degree: int = 2) -> list:
    """[(I, I(θ') − I(θ))] for one GD step of the model."""
    invs = model_invariants(model, degree) if invariants is None else invariants
    step = gd_map(model)
    return list(zip(invs, gd_drifts(invs, step, list(model.rates()))))
