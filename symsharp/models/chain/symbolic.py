"""Derivations for the single-neuron deep linear network (chain model) of Yoo, Song & Yun.

Two coordinate systems are used.  The full model (``chain_model``) with u ∈ R^d, and the model
in SVD coordinates of the data X = Σ σ_i e_i w_iᵀ: z = Wᵀu ∈ R^r (the part of u in the row space
W; the part in W⊥ does not enter the loss) and d_i = e_iᵀy, with loss

    L = 1/(2N) [ Σ_i (σ_i z_i ∏v − d_i)² + ‖y_⊥‖² ].

The change of variables u ↦ (Wᵀu, W⊥ᵀu) is orthogonal and L depends on u only through Xu, so
the Hessian of the full model is orthogonally similar to (Hessian of the SVD model) ⊕ 0 on W⊥:
the sharpness at any θ is the top eigenvalue of an (r + D − 1)-dimensional matrix, r ≤ min(N, d).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .model import chain_model
from ...symbolic.model import Model, ParamBlock
from ...symbolic.model import ETA
from ...symbolic.calculus import hessian_split, jacobian
from ...symbolic.invariants import model_invariant_drifts, model_invariants
from ...data import svd_coordinates  # noqa: F401  (one definition, in symsharp.data)


# ------------------------------------------------------------------------------ symbolic
def svd_model(depth: int, rank: int) -> Model:
    """The chain model in SVD coordinates (symbolic σ_i > 0, d_i, N), outputs σ_i z_i ∏v."""
    z = tuple(sp.Symbol(f"z_{i + 1}", real=True) for i in range(rank))
    v = tuple(sp.Symbol(f"v_{k + 1}", real=True) for k in range(depth - 1))
    sig = tuple(sp.Symbol(f"sigma_{i + 1}", positive=True) for i in range(rank))
    dd = tuple(sp.Symbol(f"d_{i + 1}", real=True) for i in range(rank))
    N = sp.Symbol("N", positive=True)
    pi = sp.Mul(*v)
    outs = tuple(sig[i] * z[i] * pi for i in range(rank))
    loss = sum((o - t) ** 2 for o, t in zip(outs, dd)) / (2 * N)
    return Model(name="chain-svd", blocks=(ParamBlock("z", z, (rank,), ETA), ParamBlock("v", v, (depth - 1,), ETA)),
                 outputs=outs, targets=dd, loss=sp.expand(loss), constants=sig + dd + (N,),
                 assumptions=(f"SVD coordinates, rank r = {rank}, depth D = {depth}",),
                 options={"depth": depth, "rank": rank, "N": N, "sigma": sig, "d": dd})


def minimum_sharpness_matrix(depth: int, rank: int):
    """At a global minimum (σ_i z_i π = d_i): the Hessian equals JᵀJ/N (residual part zero) and
    N·S = λ_max(JJᵀ).  Returns (JJᵀ at the minimum, substitution used, residual part at min)."""
    m = svd_model(depth, rank)
    sig, dd = m.options["sigma"], m.options["d"]
    z = m.blocks[0].symbols
    v = m.blocks[1].symbols
    pi = sp.Mul(*v)
    at_min = {z[i]: dd[i] / (sig[i] * pi) for i in range(rank)}
    split = hessian_split(m)
    # loss here is Σ(...)²/(2N) with N symbolic: hessian_split divides by len(outputs); rescale
    res_at_min = split.residual.xreplace(at_min).applyfunc(sp.simplify)
    J = jacobian(m)
    JJ = (J * J.T).xreplace(at_min).applyfunc(sp.simplify)
    return JJ, at_min, res_at_min, m


def derive_chain(depth: int = 2, samples: int = 2, dim: int = 2, rank: int = 2) -> dict:
    """Every derivation for the chain model, as {name: SymPy object or text}."""
    m = chain_model(depth, samples, dim)
    out = {"loss": m.loss}
    invs = model_invariants(m)
    out["gf_invariants"] = invs
    out["gf_invariant_gd_drift"] = [d for _, d in model_invariant_drifts(m, invs)]
    sm0 = svd_model(depth, rank)
    svd_invs = model_invariants(sm0)
    out["svd_gf_invariants"] = svd_invs
    out["svd_gf_invariant_gd_drift"] = [sp.factor(d) for _, d in model_invariant_drifts(sm0, svd_invs)]
    out["reduced_hessian_size"] = f"r + D - 1 <= min(N, d) + D - 1 = {min(samples, dim) + depth - 1}"
    JJ, at_min, res, sm = minimum_sharpness_matrix(depth, rank)
    out["svd_loss"] = sm.loss
    out["residual_part_at_minimum"] = res
    out["ntk_times_N_at_minimum"] = JJ
    sig, dd = sm.options["sigma"], sm.options["d"]
    v = sm.blocks[1].symbols
    pi = sp.Mul(*v)
    mu = sp.Symbol("mu")
    Sig2 = sp.diag(*[s ** 2 for s in sig])
    dvec = sp.Matrix(dd)
    structured = pi ** 2 * Sig2 + sum((pi / vk) ** 2 for vk in v) * (dvec * dvec.T) / pi ** 2
    out["ntk_structure_verified"] = (JJ - structured).applyfunc(sp.simplify) == sp.zeros(rank, rank)
    p, q = sp.symbols("p q", positive=True)
    secular = sp.expand(sp.Mul(*[(mu - p * s ** 2) for s in sig])
                        - q * sum(dd[i] ** 2 * sp.Mul(*[(mu - p * sig[j] ** 2) for j in range(rank) if j != i])
                                  for i in range(rank)))
    det = sp.expand((mu * sp.eye(rank) - (p * Sig2 + q * dvec * dvec.T)).det())
    out["secular_equation"] = sp.Eq(secular, 0)
    out["secular_equation_verified"] = sp.expand(det - secular) == 0
    out["secular_parameters"] = {"p": pi ** 2, "q": sp.simplify(sum((pi / vk) ** 2 for vk in v) / pi ** 2)}
    if depth == 2:
        C, Q, w = sp.symbols("C Q w", positive=True)
        sols = [s_ for s_ in sp.solve(sp.Eq(w ** 2 + C * w - Q, 0), w)]
        out["v_star_squared"] = [s_ for s_ in sols if s_.subs({C: 1, Q: 1}).is_positive][0]
    return out


# ------------------------------------------------------------------------------- numeric
def dataset_difficulty(X, y) -> float:
    E, s, W = svd_coordinates(X)
    dd = E.T @ np.asarray(y, float)
    return float(np.sum(dd ** 2 / s ** 2))


def predicted_sharpness(X, y, depth: int) -> float:
    E, s, W = svd_coordinates(X)
    N = np.asarray(X).shape[0]
    return float(s[0] ** 2 / N * dataset_difficulty(X, y) ** ((depth - 1) / depth))


def imbalance(X, u, v):
    E, s, W = svd_coordinates(X)
    pz = float(np.sum((W.T @ np.asarray(u, float)) ** 2))
    v = np.atleast_1d(np.asarray(v, float))
    C = pz - v ** 2
    return float(C[0]) if C.size == 1 else C


def full_hessian(X, y, u, v) -> np.ndarray:
    """Analytic Hessian of L = 1/(2N)‖X u ∏v − y‖² in (u, v)."""
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    u = np.asarray(u, float)
    v = np.atleast_1d(np.asarray(v, float))
    N, d = X.shape
    k = v.size
    pi = np.prod(v)
    pim = np.array([np.prod(np.delete(v, i)) for i in range(k)])
    Xu = X @ u
    r = Xu * pi - y
    J = np.hstack([X * pi, np.outer(Xu, pim)])
    H = J.T @ J / N
    # residual part: (1/N) Σ_j r_j ∇²f_j
    Hr = np.zeros((d + k, d + k))
    g = X.T @ r
    for i in range(k):
        Hr[:d, d + i] = Hr[d + i, :d] = g * pim[i]
        for j in range(i + 1, k):
            pij = np.prod(np.delete(v, [i, j]))
            Hr[d + i, d + j] = Hr[d + j, d + i] = (r @ Xu) * pij
    return H + Hr / N


def sharpness(X, y, u, v) -> float:
    """Exact sharpness via the reduced (r + D − 1)-dimensional Hessian in SVD coordinates."""
    E, s, W = svd_coordinates(X)
    z = W.T @ np.asarray(u, float)
    yy = np.asarray(y, float)
    dd = E.T @ yy
    # the SVD model: X' = diag(s), y' = dd (the part of y outside col(X) only shifts L)
    H = full_hessian(np.diag(s), dd, z, v) * (len(s) / np.asarray(X).shape[0])
    return float(np.linalg.eigvalsh(H)[-1])
