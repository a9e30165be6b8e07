"""Polynomial algebra used by the derivations: expressing a polynomial in θ through observables,
solving linear systems over fields of rational functions, and rewriting coefficients through
derived constants (e.g. ``a = α²‖x‖²/n``)."""
from __future__ import annotations

import itertools
import random
from typing import Mapping, Sequence

import sympy as sp
from sympy.polys.matrices import DomainMatrix


def total_degree(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> int:
    expr = sp.expand(expr)
    if expr == 0:
        return 0
    return sp.Poly(expr, *variables).total_degree()


def min_degree(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> int:
    p = sp.Poly(sp.expand(expr), *variables)
    return min(sum(m) for m in p.monoms())


def monomials_up_to(variables: Sequence[sp.Symbol], degree: int, include_constant: bool = False) -> list:
    """All monomials in ``variables`` of total degree 1..degree (and 1 if asked), in a fixed order."""
    out = [sp.Integer(1)] if include_constant else []
    for deg in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(variables, deg):
            out.append(sp.Mul(*combo))
    return out


def _domain_for(entries):
    """A polynomial ring over QQ or over QQ(surds) holding every entry (never SymPy's slow EX)."""
    from sympy import QQ

    surds = set()
    gens = set()
    for e in entries:
        gens |= e.free_symbols
        for p in e.atoms(sp.Pow):
            if p.base.is_Rational and p.exp.is_Rational and not p.exp.is_Integer:
                surds.add(sp.root(abs(p.base), p.exp.q) if p.base > 0 else p)
    K = QQ.algebraic_field(*sorted(surds, key=sp.default_sort_key)) if surds else QQ
    gens = sorted(gens, key=lambda g: g.name)
    return K.poly_ring(*gens) if gens else K


def _clear_denominators(row: list) -> list:
    """Scale a row of an equation system by the lcm of its entries' denominators (the solution
    set is unchanged), so every entry is a polynomial."""
    parts = [sp.fraction(sp.together(e)) for e in row]
    dens = [d for _, d in parts if d != 1]
    if not dens:
        return [sp.expand(n) for n, _ in parts]
    L = sp.lcm_list(dens) if len(dens) > 1 else dens[0]
    return [sp.expand(sp.cancel(n * L / d)) for n, d in parts]


def solve_linear(A: list, b: list) -> tuple | None:
    """Solve A c = b exactly (entries SymPy expressions, free symbols are treated as field
    elements).  Returns (particular solution, nullspace basis) or None if inconsistent.

    Uses fraction-free Gauss–Jordan (Bareiss) elimination in a polynomial ring over QQ or over
    an algebraic number field, so surds such as √n stay exact and fast."""
    m = len(A)
    k = len(A[0]) if m else 0
    aug = [_clear_denominators([sp.sympify(e) for e in row] + [sp.sympify(bi)]) for row, bi in zip(A, b)]
    R_ = _domain_for([e for row in aug for e in row])
    M = DomainMatrix([[R_.from_sympy(e) for e in row] for row in aug], (m, k + 1), R_)
    R, den, pivots = M.rref_den()
    if k in pivots:
        return None
    Rs = R.to_list()
    dens = R_.to_sympy(den)
    sol = [sp.Integer(0)] * k
    for r, pc in enumerate(pivots):
        sol[pc] = sp.cancel(R_.to_sympy(Rs[r][k]) / dens)
    free = [j for j in range(k) if j not in pivots]
    null = []
    for fj in free:
        vec = [sp.Integer(0)] * k
        vec[fj] = sp.Integer(1)
        for r, pc in enumerate(pivots):
            vec[pc] = sp.cancel(-R_.to_sympy(Rs[r][fj]) / dens)
        null.append(vec)
    return sol, null


def nullspace(A: list, k: int) -> list:
    """Basis of {c : A c = 0} (A given as a list of rows of length k)."""
    if not A:
        return [[sp.Integer(1) if i == j else sp.Integer(0) for i in range(k)] for j in range(k)]
    res = solve_linear(A, [sp.Integer(0)] * len(A))
    return res[1]


def transcendental_atoms(exprs: Sequence[sp.Expr], variables: Sequence[sp.Symbol]) -> list:
    """Function applications and non-integer powers that involve ``variables`` (tanh(u x), √w,
    e^w, ...): the atoms an expression is polynomial in besides the variables themselves."""
    vs = set(variables)
    atoms = set()
    for e in exprs:
        e = sp.sympify(e)
        for a in e.atoms(sp.Function, sp.Pow):
            if not (a.free_symbols & vs):
                continue
            if isinstance(a, sp.Pow) and a.exp.is_Integer:
                if a.exp < 0:  # 1/w, 1/(w² + 1): the reciprocal of the base is the generator
                    atoms.add(a.base ** -1)
                continue
            atoms.add(a)
    return sorted(atoms, key=sp.default_sort_key)


def coefficient_rows(exprs: Sequence[sp.Expr], variables: Sequence[sp.Symbol]) -> tuple:
    """Matrix of coefficients: row per monomial in ``variables``, column per expression.

    Expressions that are not polynomial in ``variables`` (a tanh network's gradient flow, say)
    are treated as polynomials in the variables and their transcendental atoms taken as
    independent generators: an identity Σ c_j e_j ≡ 0 read off these rows then holds exactly
    (sufficient; relations between the atoms themselves are not used)."""
    exprs = [sp.expand(e) for e in exprs]
    gens = list(variables) + transcendental_atoms(exprs, variables)
    polys = [sp.Poly(e, *gens) if e != 0 else None for e in exprs]
    monos = {}
    for col, p in enumerate(polys):
        if p is None:
            continue
        for mon, c in p.terms():
            monos.setdefault(mon, {})[col] = c
    rows = []
    for mon, entries in monos.items():
        rows.append([entries.get(c, sp.Integer(0)) for c in range(len(exprs))])
    return rows, list(monos)


def _product_monomials(obs_syms: Sequence[sp.Symbol], degs: Sequence[int], max_deg: int) -> list:
    """Exponent tuples k with Σ k_i deg_i <= max_deg (deg_i >= 1)."""
    out = []

    def rec(i, remaining, cur):
        if i == len(obs_syms):
            out.append(tuple(cur))
            return
        for k in range(remaining // degs[i] + 1):
            rec(i + 1, remaining - k * degs[i], cur + [k])

    rec(0, max_deg, [])
    return out


def homogeneous_parts(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> dict:
    """{degree: homogeneous component} of a polynomial in ``variables``."""
    expr = sp.expand(expr)
    if expr == 0:
        return {}
    poly = sp.Poly(expr, *variables)
    parts = {}
    for mon, c in poly.terms():
        parts.setdefault(sum(mon), []).append(c * sp.Mul(*[v ** k for v, k in zip(variables, mon)]))
    return {dg: sp.Add(*ts) for dg, ts in parts.items()}


def _is_homogeneous(expr, variables) -> bool:
    return len(homogeneous_parts(expr, variables)) == 1


def _surds(exprs):
    out = set()
    for e in exprs:
        for p in sp.sympify(e).atoms(sp.Pow):
            if p.base.is_Rational and p.exp.is_Rational and not p.exp.is_Integer:
                out.add(sp.root(abs(p.base), p.exp.q))
    return sorted(out, key=sp.default_sort_key)


class PolyContext:
    """Sparse polynomial ring (SymPy ``PolyElement``) over QQ or QQ(surds) whose first
    generators are the parameters θ and the rest the other symbols.  Arithmetic here is far
    faster than expanding SymPy expressions."""

    def __init__(self, exprs, variables):
        from sympy import QQ

        exprs = [sp.sympify(e) for e in exprs]
        self.variables = list(variables)
        others = set()
        for e in exprs:
            others |= e.free_symbols
        others -= set(self.variables)
        # constants that occur in denominators (e.g. 1/N) become generators of their own
        self.inv = {}
        for e in exprs:
            for pw in e.atoms(sp.Pow):
                if pw.base in others and pw.exp.is_Integer and pw.exp < 0 and pw.base not in self.inv:
                    self.inv[pw.base] = sp.Symbol(f"_inv_{pw.base.name}", positive=True)
        self.back = {iv: 1 / b for b, iv in self.inv.items()}
        others |= set(self.inv.values())
        self.others = sorted(others, key=lambda g: g.name)
        surds = _surds(exprs)
        self.K = QQ.algebraic_field(*surds) if surds else QQ
        self.R, *self.gens = sp.ring(self.variables + self.others, self.K)
        self.ntheta = len(self.variables)
        if self.others:
            self.Rc, *self.cgens = sp.ring(self.others, self.K)
        else:
            self.Rc = self.K

    def _fwd(self, e):
        if not self.inv:
            return e
        return e.replace(lambda x: x.is_Pow and x.base in self.inv and x.exp.is_Integer and x.exp < 0,
                         lambda x: self.inv[x.base] ** (-x.exp))

    def conv(self, e):
        e = sp.expand(e)
        return self.R.from_expr(self._fwd(e)) if e != 0 else self.R.zero

    def expr(self, p):
        """Ring element (full or constants ring) back to a SymPy expression."""
        e = p.as_expr() if hasattr(p, "as_expr") else self.K.to_sympy(p)
        return e.xreplace(self.back) if self.back else e

    def theta_degree(self, mon):
        return sum(mon[:self.ntheta])

    def parts(self, p):
        out = {}
        for mon, c in p.terms():
            out.setdefault(self.theta_degree(mon), {})[mon] = c
        return {dg: self.R.from_dict(dct) for dg, dct in out.items()}

    def at(self, p, point):
        """Evaluate the θ generators at integer values → element of the constants ring."""
        res = {}
        for mon, c in p.terms():
            val = c
            for k, v in zip(mon[:self.ntheta], point):
                if k:
                    val = val * self.K.convert(v ** k)
            key = mon[self.ntheta:]
            res[key] = res.get(key, self.K.zero) + val
        if self.others:
            return self.Rc.from_dict({k: v for k, v in res.items() if v})
        return res.get((), self.K.zero)

    def lift(self, q):
        """Constants-ring element → element of the full ring."""
        if not self.others:
            return self.R.from_dict({(0,) * self.ntheta: q}) if q else self.R.zero
        return self.R.from_dict({(0,) * self.ntheta + mon: c for mon, c in q.terms()})

    def to_expr(self, q):
        return self.expr(q)


def _solve_sampled(ctx, T, O, syms, exps, rng):
    """θ-free coefficients (as a SymPy polynomial in ``syms``) with T = Σ c_e ∏ O^e, from the
    linear system at random integer points θ, verified exactly in the polynomial ring.
    Returns None when the sampled system is inconsistent (then no identity exists), or the
    string "undetermined" when the samples did not determine it."""
    if not exps:
        return sp.Integer(0) if T == 0 else None
    dom = ctx.Rc.to_domain() if ctx.others else ctx.K
    prods = None
    for attempt in range(3):
        npts = len(exps) + 3 + 3 * attempt
        rows = []
        for _ in range(npts):
            pt = [rng.randint(-9, 9) for _ in range(ctx.ntheta)]
            ov = [ctx.at(o, pt) for o in O]
            row = []
            for e in exps:
                val = dom.one
                for o, k in zip(ov, e):
                    if k:
                        val = val * o ** k
                row.append(val)
            row.append(ctx.at(T, pt))
            rows.append(row)
        M = DomainMatrix(rows, (npts, len(exps) + 1), dom)
        R, den, pivots = M.rref_den()
        if len(exps) in pivots:
            return None
        if len(pivots) < len(exps):
            continue
        Rl = R.to_list()
        nums = [None] * len(exps)
        for r, pc in enumerate(pivots):
            nums[pc] = Rl[r][len(exps)]
        if prods is None:
            prods = []
            for e in exps:
                pr = ctx.R.one
                for o, k in zip(O, e):
                    if k:
                        pr = pr * o ** k
                prods.append(pr)
        lhs = ctx.lift(den) * T
        rhs = ctx.R.zero
        for nm, pr in zip(nums, prods):
            if nm:
                rhs += ctx.lift(nm) * pr
        if lhs != rhs:
            return None  # unique solution of the sampled system fails the identity
        dexpr = ctx.to_expr(den)
        return sp.expand(sum(sp.cancel(ctx.to_expr(nm) / dexpr) * sp.Mul(*[s ** k for s, k in zip(syms, e)])
                             for nm, e in zip(nums, exps) if nm))
    return "undetermined"


def express_in(target: sp.Expr, observables: Mapping[sp.Symbol, sp.Expr], variables: Sequence[sp.Symbol],
               seed: int = 0):
    """Write ``target(θ)`` as a polynomial in the observables with θ-free coefficients.

    The ansatz is every product of observables whose θ-degree is at most that of the target
    (observables must be polynomials in θ with no constant term).  When every observable is
    homogeneous in θ, each homogeneous component of the target is matched separately by the
    products of the same degree (a much smaller system).  Coefficients come from the linear
    system at random integer points θ; an inconsistent sampled system proves that no such
    polynomial exists (returns None).  A found polynomial is verified by exact polynomial
    arithmetic.  If the samples leave the coefficients undetermined (the products are
    algebraically dependent), full coefficient matching decides.
    """
    syms = list(observables)
    ctx = PolyContext([target] + [observables[s] for s in syms], variables)
    return express_in_ring(ctx, ctx.conv(target), {s: ctx.conv(observables[s]) for s in syms}, seed)


def express_in_ring(ctx: "PolyContext", T, obs_ring: Mapping, seed: int = 0):
    """:func:`express_in` for a target and observables already in ``ctx.R``."""
    syms = list(obs_ring)
    O = [obs_ring[s] for s in syms]
    rng = random.Random(seed)
    degs = []
    for o in O:
        pd = ctx.parts(o)
        if 0 in pd or not pd:
            raise ValueError("observables must be polynomials in the parameters without constant term")
        degs.append(min(pd))
    homogeneous = all(len(ctx.parts(o)) == 1 for o in O)
    if homogeneous:
        jobs = [(part, [e for e in _product_monomials(syms, degs, dg)
                        if sum(k * d_ for k, d_ in zip(e, degs)) == dg])
                for dg, part in sorted(ctx.parts(T).items())]
    else:
        degT = max(ctx.parts(T)) if T else 0
        jobs = [(T, _product_monomials(syms, degs, degT))]
    out = sp.Integer(0)
    for part, exps in jobs:
        piece = _solve_sampled(ctx, part, O, syms, exps, rng)
        if piece is None:
            return None
        if isinstance(piece, str):
            return _express_by_coefficients(ctx.expr(part), syms, [ctx.expr(o) for o in O], exps, ctx.variables)
        out += piece
    return sp.expand(out)


def _express_by_coefficients(target, syms, exprs, exps, variables):
    basis_syms = [sp.Mul(*[s ** k for s, k in zip(syms, e)]) for e in exps]
    prods = [sp.expand(sp.Mul(*[e_ ** kk for e_, kk in zip(exprs, e)])) for e in exps]
    rows, _ = coefficient_rows(prods + [target], variables)
    res = solve_linear([r[:-1] for r in rows], [r[-1] for r in rows])
    if res is None:
        return None
    return sp.expand(sum(c * m for c, m in zip(res[0], basis_syms)))


def compose(expr: sp.Expr, step: Mapping[sp.Symbol, sp.Expr], variables: Sequence[sp.Symbol]) -> sp.Expr:
    """expr(step(θ)) expanded, computed in a sparse polynomial ring (fast)."""
    ctx = PolyContext([expr] + list(step.values()), variables)
    p = ctx.conv(expr)
    pairs = [(ctx.gens[i], ctx.conv(step[v])) for i, v in enumerate(ctx.variables) if v in step]
    return ctx.expr(p.compose(pairs))


def rewrite_constants(expr: sp.Expr, derived: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr:
    """Rewrite ``expr`` through derived constants, e.g. α²(x₁²+x₂²)/n → a.

    For each derived constant ``a = P(consts)`` the numerator and denominator of ``expr`` are
    reduced modulo the polynomial ``a·den(P) − num(P)`` (a one-element Gröbner basis, lex order
    with the original constants first), which removes every occurrence expressible through
    ``a``.  Returns the expression unchanged where that is not possible."""
    expr = sp.sympify(expr)
    for a, P in derived.items():
        num, den = sp.fraction(sp.together(P))
        gens = sorted(P.free_symbols, key=lambda s: s.name)
        rel = sp.expand(a * den - num)

        def red(e):
            e = sp.expand(e)
            if not (e.free_symbols & set(gens)):
                return e
            others = sorted(e.free_symbols - set(gens) - {a}, key=lambda s: s.name)
            _, r = sp.reduced(e, [rel], *gens, a, *others, order="lex")
            return r

        n_, d_ = sp.fraction(sp.cancel(sp.together(expr)))
        expr = sp.cancel(red(n_) / red(d_))
    return expr
