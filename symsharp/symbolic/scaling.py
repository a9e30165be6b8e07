"""Scaling symmetries of a polynomial map and its non-dimensional form.

A scaling x_i → s^{w_i} x_i, p_j → s^{w_j} p_j is a symmetry of the map x' = F(x; p) when every
monomial of F_i has the weight of x_i.  The weights form the nullspace of a linear system; the
number of independent parameter combinations the dynamics can depend on is (#parameters −
#symmetries acting on them), and the combinations are the weight-free monomials."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass
class NonDimensional:
    symmetries: list          # list of {symbol: weight}
    groups: list              # weight-free parameter monomials
    state: dict               # variable -> weight-free rescaled variable (expression)
    new_symbols: dict         # rescaled variable symbol -> expression in old symbols
    step: dict                # map in rescaled variables and groups
    group_symbols: dict       # group symbol -> monomial


def _int_nullspace(rows, k):
    M = sp.Matrix(rows) if rows else sp.zeros(1, k)
    basis = M.nullspace()
    out = []
    for v in basis:
        den = sp.ilcm(*[sp.fraction(x)[1] for x in v])
        out.append([int(x * den) for x in v])
    return out


def nondimensionalize(step: dict, variables, params) -> NonDimensional:
    variables, params = list(variables), list(params)
    allsyms = variables + params
    idx = {s: i for i, s in enumerate(allsyms)}
    rows = []
    for i, v in enumerate(variables):
        for term in sp.Add.make_args(sp.expand(step[v])):
            powers = term.as_powers_dict()
            row = [powers.get(sym, 0) for sym in allsyms]
            row[i] -= 1
            rows.append(row)
    sym_basis = _int_nullspace(rows, len(allsyms))
    symmetries = [{s: w[idx[s]] for s in allsyms} for w in sym_basis]
    # weight-free parameter monomials: exponent vectors e (on params) with Σ e_j w_j = 0 ∀ symmetries
    W = [[w[idx[p]] for p in params] for w in sym_basis]
    groups = []
    for e in _int_nullspace(W, len(params)):
        if all(x <= 0 for x in e):
            e = [-x for x in e]
        groups.append(sp.Mul(*[p ** k for p, k in zip(params, e)]))
    # rescaled state: x_i · ∏ p^c with zero weight, c solving Σ c_j w_j = −w_i (smallest support first)
    state, new_syms = {}, {}
    for v in variables:
        c = sp.symbols(f"c0:{len(params)}")
        eqs = [sum(cj * w[idx[p]] for cj, p in zip(c, params)) + w[idx[v]] for w in sym_basis]
        best = None
        for mask in range(1, 2 ** len(params)):
            use = [j for j in range(len(params)) if mask >> j & 1]
            sol = sp.solve([e.subs({c[j]: 0 for j in range(len(params)) if j not in use}) for e in eqs],
                           [c[j] for j in use], dict=True)
            if sol and all(c[j] in sol[0] and sol[0][c[j]].is_Rational for j in use):
                if best is None or len(use) < len(best[0]):
                    best = (use, sol[0])
        if best is None:
            state[v] = v
            continue
        use, sol = best
        expr = v * sp.Mul(*[params[j] ** sol[c[j]] for j in use])
        state[v] = expr
        new_syms[sp.Symbol(f"{v.name}_hat", real=True)] = expr
    # rewrite the map: x = X / ∏p^c, groups as symbols
    inv = {}
    for X_sym, expr in new_syms.items():
        v = next(iter(expr.free_symbols & set(variables)))
        inv[v] = sp.solve(sp.Eq(X_sym, expr), v)[0]
    gsyms = {sp.Symbol(f"k{i + 1}", positive=True): g for i, g in enumerate(groups)}
    new_step = {}
    for X_sym, expr in new_syms.items():
        v = next(iter(expr.free_symbols & set(variables)))
        nxt = expr.subs(v, step[v]).subs(inv, simultaneous=True)
        nxt = sp.expand(nxt)
        for gs, g in gsyms.items():
            # eliminate one parameter of the group in favour of the group symbol
            p0 = next(p for p in params if g.as_powers_dict().get(p, 0) != 0)
            sol = sp.solve(sp.Eq(gs, g), p0)
            nxt = sp.expand(sp.simplify(nxt.subs(p0, sol[0])))
        new_step[X_sym] = sp.factor_terms(sp.expand(nxt))
    return NonDimensional(symmetries, groups, state, new_syms, new_step, gsyms)
