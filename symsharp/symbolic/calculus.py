"""Gradients, Hessians, NTK, GD/SGD maps and the gradient-flow field of any model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import sympy as sp

from .model import Model


def gradient(model: Model, loss: sp.Expr | None = None) -> sp.Matrix:
    """∇_θ L as a column vector in parameter order."""
    L = model.loss if loss is None else loss
    return sp.Matrix([sp.expand(sp.diff(L, p)) for p in model.params])


def hessian(model: Model) -> sp.Matrix:
    """∇²_θ L (symmetric, parameter order)."""
    P = model.params
    g = gradient(model)
    n = len(P)
    H = sp.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = sp.expand(sp.diff(g[i], P[j]))
    return H


def jacobian(model: Model) -> sp.Matrix:
    """J = ∂f(X)/∂θ, one row per example."""
    if not model.outputs:
        raise ValueError("this model is given by a loss only; it has no outputs and no Jacobian")
    return sp.Matrix([[sp.expand(sp.diff(f, p)) for p in model.params] for f in model.outputs])


def ntk(model: Model) -> sp.Matrix:
    """Empirical NTK K = J Jᵀ / N (for one example, the scalar λ = ‖∇_θ f‖²)."""
    J = jacobian(model)
    N = model.n_examples
    return (J * J.T).applyfunc(lambda e: sp.expand(e / N))


@dataclass(frozen=True)
class HessianSplit:
    """∇²L = Gauss–Newton part JᵀJ/N + residual part (1/N) Σ_j r_j ∇²f_j."""

    gauss_newton: sp.Matrix
    residual: sp.Matrix
    residuals: tuple  # r_j = f_j − y_j


def hessian_split(model: Model) -> HessianSplit:
    J = jacobian(model)
    N = model.n_examples
    P = model.params
    GN = (J.T * J).applyfunc(lambda e: sp.expand(e / N))
    R = sp.zeros(len(P), len(P))
    res = tuple(sp.expand(f - y) for f, y in zip(model.outputs, model.targets))
    for j, f in enumerate(model.outputs):
        for a in range(len(P)):
            for b in range(a, len(P)):
                h = sp.diff(f, P[a], P[b])
                if h != 0:
                    R[a, b] += res[j] * h / N
                    if a != b:
                        R[b, a] += res[j] * h / N
    R = R.applyfunc(sp.expand)
    return HessianSplit(GN, R, res)


def gd_map(model: Model, loss: sp.Expr | None = None) -> dict:
    """One GD step θ ↦ θ − η_block ∇L, as {parameter symbol: expression}.

    Each block uses its own rate symbol (``eta`` or layer-wise ``eta_U``, ``eta_v``...)."""
    g = gradient(model, loss)
    return {p: sp.expand(p - r * gi) for p, r, gi in zip(model.params, model.rate_vector(), g)}


def sgd_map(model: Model, batch: Sequence[int]) -> dict:
    """One SGD step on the minibatch ``batch`` (indices of examples; repeats allowed, as
    with sampling with replacement): θ ↦ θ − η ∇L_B with L_B = 1/(2B) Σ_{j∈B} (f_j − y_j)²."""
    return gd_map(model, model.minibatch(batch).loss)


def gf_field(model: Model) -> dict:
    """The gradient-flow vector field θ̇ = −∇L as {parameter: expression}."""
    g = gradient(model)
    return {p: -gi for p, gi in zip(model.params, g)}


def apply_map(expr: sp.Expr, step: dict) -> sp.Expr:
    """Substitute one step of a map into an expression (simultaneous substitution)."""
    return sp.expand(sp.sympify(expr).xreplace(step))


def output_ntk_observables(model: Model) -> dict:
    """Observables {f1, …, fN, K11, K12, …} (outputs and NTK entries ∇f_j·∇f_k) of a model."""
    obs = {f"f{j + 1}": f for j, f in enumerate(model.outputs)}
    grads = [[sp.diff(f, p) for p in model.params] for f in model.outputs]
    for j in range(len(grads)):
        for k in range(j, len(grads)):
            obs[f"K{j + 1}{k + 1}"] = sp.expand(sum(a * b for a, b in zip(grads[j], grads[k])))
    return obs
