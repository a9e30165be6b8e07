"""Exact sharpness (top eigenvalue of the loss Hessian) in function-space variables.

For a single-example model with loss ½(f − y)², ∇²L = g gᵀ + Δ M with g = ∇f, M = ∇²f and
Δ = f − y.  If M is constant in θ (f is bilinear, as in the UV model) the Krylov space
K = span{g, M g, M² g, …} is invariant under H, so the spectrum of H is the spectrum of a small
matrix on K plus the spectrum of Δ·M on K^⊥.  This module derives both pieces from the model:
the representation matrix on K is written through the observables (f, λ) with
:func:`symsharp.symbolic.algebra.express_in`, and the spectral radius of M on K^⊥ comes from the
minimal polynomial of M.  Nothing model-specific is typed in.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .model import Model
from .algebra import express_in, rewrite_constants, solve_linear


class NotReducible(ValueError):
    """The sharpness of this model cannot be written through its observables by this method."""


@dataclass
class FunctionSpaceSharpness:
    """S = max(top root of ``block_charpoly``, ``complement_radius``·|Δ|).

    ``block_matrix`` represents H on the Krylov space K of g under M (in the basis g, Mg, …);
    ``block_top`` is its largest eigenvalue in closed form (when the block is at most 2×2);
    ``complement_radius`` bounds |eigenvalues of M| on K^⊥ (None if K^⊥ = {0}).
    ``expr`` is the sharpness as a function of the observables: ``block_top`` when the
    dominance ``block_top ≥ complement_radius·|Δ|`` has been proved, otherwise a ``Max``."""

    variables: tuple
    block_matrix: sp.Matrix
    block_charpoly: sp.Expr
    mu: sp.Symbol
    block_top: sp.Expr | None
    complement_radius: sp.Expr | None
    complement_dim: int
    minimal_polynomial: sp.Expr
    expr: sp.Expr
    dominance_proved: bool
    feasibility: str


def _vec_express(vec, basis_vecs, params):
    """θ-free coefficients c with vec = Σ c_j basis_j (componentwise polynomial identity)."""
    from .algebra import coefficient_rows

    rows = []
    rhs = []
    for comp in range(len(vec)):
        exprs = [b[comp] for b in basis_vecs] + [vec[comp]]
        r, _ = coefficient_rows(exprs, params)
        for row in r:
            rows.append(row[:-1])
            rhs.append(row[-1])
    if not rows:
        return [sp.Integer(0)] * len(basis_vecs)
    res = solve_linear(rows, rhs)
    return None if res is None else res[0]


def _minimal_polynomial(M: sp.Matrix, mu: sp.Symbol, max_degree: int = 6):
    """Minimal polynomial of a θ-free symbolic matrix, by testing powers for linear dependence."""
    n = M.shape[0]
    powers = [sp.eye(n)]
    for k in range(1, max_degree + 1):
        powers.append((powers[-1] * M).applyfunc(sp.expand))
        A = [[powers[j][r, c] for j in range(k)] for r in range(n) for c in range(n)]
        b = [powers[k][r, c] for r in range(n) for c in range(n)]
        res = solve_linear(A, b)
        if res is not None:
            coeffs = res[0]
            return sp.expand(mu ** k - sum(cj * mu ** j for j, cj in enumerate(coeffs)))
    return None


def _top_root(charpoly: sp.Expr, mu: sp.Symbol):
    p = sp.Poly(charpoly, mu)
    if p.degree() == 1:
        return sp.solve(charpoly, mu)[0]
    if p.degree() == 2:
        a2, a1, a0 = p.all_coeffs()
        return sp.simplify((-a1 + sp.sqrt(sp.expand(a1 ** 2 - 4 * a2 * a0))) / (2 * a2))
    return None


def function_space_sharpness(model: Model, rewrite: bool = True) -> FunctionSpaceSharpness:
    """Derive the exact sharpness of a one-example model as a function of its observables.

    Requires observables ``f`` (the output) and ``lam`` (= ‖∇f‖²) and a θ-independent ∇²f."""
    if model.n_examples != 1:
        raise NotReducible("function-space sharpness needs a single training example")
    if "f" not in model.observables or "lam" not in model.observables:
        raise NotReducible("the model must declare observables 'f' and 'lam'")
    P = list(model.params)
    f = model.outputs[0]
    y = model.targets[0]
    g = sp.Matrix([sp.diff(f, p) for p in P])
    M = sp.Matrix(len(P), len(P), lambda i, j: sp.diff(g[i], P[j]))
    if M.free_symbols & set(P):
        raise NotReducible("∇²f depends on the parameters; the Krylov reduction needs a bilinear f")
    fs, ls = model.observable_symbols["f"], model.observable_symbols["lam"]
    obs = {fs: sp.expand(f), ls: sp.expand(model.observables["lam"])}
    # Krylov basis g, Mg, M²g, ... until M^m g depends linearly (θ-free coefficients) on the rest.
    ks = [g]
    closing = None
    for _ in range(len(P)):
        nxt = (M * ks[-1]).applyfunc(sp.expand)
        coeffs = _vec_express(nxt, ks, P)
        if coeffs is not None:
            closing = coeffs
            break
        ks.append(nxt)
    if closing is None:
        raise NotReducible("the Krylov space of ∇f under ∇²f did not close")
    m = len(ks)
    delta = fs - y
    K = sp.zeros(m, m)
    for i in range(m):
        inner = sp.expand((g.T * ks[i])[0, 0])
        rep = express_in(inner, obs, P)
        if rep is None:
            raise NotReducible(f"gᵀM^{i}g is not a polynomial in f and lam")
        K[0, i] += rep
        if i + 1 < m:
            K[i + 1, i] += delta
        else:
            for j, c in enumerate(closing):
                K[j, i] += delta * c
    mu = sp.Symbol("mu")
    # characteristic polynomial of H on K (basis independent)
    cp = sp.expand((mu * sp.eye(m) - K).det())
    minpoly = _minimal_polynomial(M, mu)
    if rewrite and model.derived_constants:
        K = K.applyfunc(lambda e: rewrite_constants(e, model.derived_constants))
        cp = sp.expand(rewrite_constants(cp, model.derived_constants))
        minpoly = sp.expand(rewrite_constants(minpoly, model.derived_constants)) if minpoly is not None else None
    top = _top_root(cp, mu)
    comp_dim = len(P) - m
    radius = None
    if comp_dim > 0:
        if minpoly is None:
            raise NotReducible("could not find the minimal polynomial of ∇²f")
        roots = sp.roots(sp.Poly(minpoly, mu))
        if sum(roots.values()) != sp.Poly(minpoly, mu).degree():
            raise NotReducible("could not solve the minimal polynomial of ∇²f")
        radius = sp.Max(*[sp.Abs(r) for r in roots])
        radius = sp.simplify(radius)
    dominance = False
    expr = top
    if top is not None and radius is not None:
        dominance = prove_block_dominates(cp, mu, radius, delta, fs, ls, model)
        expr = top if dominance else sp.Max(top, radius * sp.Abs(delta))
    elif top is None:
        expr = None
    return FunctionSpaceSharpness(variables=(fs, ls), block_matrix=K, block_charpoly=cp, mu=mu,
                                  block_top=top, complement_radius=radius, complement_dim=comp_dim,
                                  minimal_polynomial=minpoly, expr=expr, dominance_proved=dominance,
                                  feasibility="lam >= 2*sqrt(a)*|f|")


def prove_block_dominates(cp, mu, radius, delta, fs, ls, model) -> bool:
    """Prove top root of the block ≥ radius·|Δ| on the feasible set λ ≥ 2√a|f|.

    For a monic quadratic q, q(r) ≤ 0 implies that r lies between the roots, hence below the
    top root.  With Δ = s·D, f = t·F (D, F > 0, s, t = ±1) and λ = 2√a F + W (W ≥ 0), q(r) is a
    polynomial in positive symbols; it is ≤ 0 if every coefficient is ≤ 0.  All four sign cases
    are checked.  Returns False when the method does not apply (no proof claimed)."""
    p = sp.Poly(cp, mu)
    if p.degree() != 2 or p.LC() != 1:
        return False
    a = next(iter(model.derived_constants), None)
    if a is None:
        return False
    D, F, W = sp.symbols("D_ F_ W_", positive=True)
    yy = model.targets[0]
    for s in (1, -1):
        for t in (1, -1):
            sub = {fs: t * F, ls: 2 * sp.sqrt(a) * F + W}
            r = (radius * D).subs(sub)
            q = cp.subs(mu, r)
            # Δ = f − y = s·D  ⇒ y = t·F − s·D
            q = sp.expand(q.subs(yy, t * F - s * D).subs(sub))
            if q == 0:
                continue
            poly = sp.Poly(q, D, F, W, sp.sqrt(a))
            if not all(_known_nonpositive(c) for c in poly.coeffs()):
                return False
    return True


def _known_nonpositive(c) -> bool:
    """True only when SymPy decides c ≤ 0; a coefficient of undecided sign is no proof."""
    return (c <= 0) is sp.true
