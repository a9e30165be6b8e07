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
from ...errors import ModelError
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


DERIVE_MAX_RANK = 4
"""Largest data rank r of a derivation in SVD coordinates (the quadratic-invariant ansatz, the
one-step drift and the r × r secular determinant grow quickly with r; at r = 4, D = 6 a
derivation takes about half a minute)."""


def derive_rank(samples: int, dim: int, rank: int | None = None) -> int:
    """The data rank used in SVD coordinates: ``rank`` if given (1 ≤ rank ≤ min(N, d)), else
    min(N, d), the rank of generic (symbolic) data; refused above :data:`DERIVE_MAX_RANK`."""
    top = min(int(samples), int(dim))
    if rank is None:
        if top > DERIVE_MAX_RANK:
            raise ModelError(f"symbolic data with N = {samples}, d = {dim} have rank min(N, d) = {top}, above the "
                             f"largest rank {DERIVE_MAX_RANK} a chain derivation handles; give --rank R with "
                             f"1 <= R <= {DERIVE_MAX_RANK}")
        return top
    if isinstance(rank, bool) or int(rank) != rank or not 1 <= int(rank) <= min(top, DERIVE_MAX_RANK):
        raise ModelError(f"rank (--rank) must be a whole number between 1 and min(N, d, {DERIVE_MAX_RANK}) = "
                         f"{min(top, DERIVE_MAX_RANK)} for N = {samples}, d = {dim}; got {rank!r}")
    return int(rank)


def raw_structure(depth: int, samples: int, dim: int) -> dict:
    """The chain model with symbolic data X (N × d), y in its own coordinates (u, v), without the
    quadratic-invariant ansatz over symbolic data (which takes minutes beyond N = d = 2).

    Derived and checked by exact expansion: ∇_u L = π g and ∂L/∂v_k = π_{−k} uᵀg with
    g = Xᵀr/N, r = Xuπ − y, π = ∏v, π_{−k} = ∏_{j≠k} v_j.  Consequences, each checked exactly:
    ∇_u L lies in the row space of X (so Π_W⊥u never moves); along gradient flow
    d/dt(‖u‖² − v_k²) = 0; one GD step changes ‖u‖² − v_k² by η²π_{−k}²(v_k²‖g‖² − (uᵀg)²)
    (the GD map of the engine composed with I_k, with g kept as independent symbols)."""
    from ...symbolic.calculus import gd_map

    m = chain_model(depth, samples, dim)
    u, v = m.block("u").symbols, m.block("v").symbols
    N = samples
    X = sp.Matrix(samples, dim, lambda j, k: m.outputs[j].coeff(u[k]) / sp.Mul(*v))
    X = X.applyfunc(sp.expand)
    y = sp.Matrix(m.targets)
    uu = sp.Matrix(u)
    pi = sp.Mul(*v)
    r = X * uu * pi - y
    g = X.T * r / N
    step = gd_map(m)  # the engine's GD map θ ↦ θ − η∇L; the gradient is read off it
    grad = sp.Matrix([sp.expand((p_ - step[p_]) / ETA) for p_ in m.params])
    gu, gv = grad[:dim, 0], grad[dim:, 0]
    pim = [pi / vk for vk in v]
    grad_ok = all(sp.expand(gu[i] - pi * g[i]) == 0 for i in range(dim)) and \
        all(sp.expand(gv[k] - pim[k] * (uu.T * g)[0, 0]) == 0 for k in range(depth - 1))
    if not grad_ok:
        raise ModelError("the chain gradient does not have the form (π g, π_{-k} uᵀg); derivation failed")
    imbs = [sp.expand(sum(x ** 2 for x in u) - vk ** 2) for vk in v]
    field = {p: -gi for p, gi in zip(m.params, grad)}
    lie = [sp.expand(sum(sp.diff(I, p) * field[p] for p in m.params)) for I in imbs]
    # one GD step with g as free symbols G_i: u' = u − ηπG, v_k' = v_k − ηπ_{−k} uᵀG
    G = sp.Matrix([sp.Symbol(f"g_{i + 1}", real=True) for i in range(dim)])
    uG = (uu.T * G)[0, 0]
    step_g = {**{u[i]: u[i] - ETA * pi * G[i] for i in range(dim)},
              **{v[k]: v[k] - ETA * pim[k] * uG for k in range(depth - 1)}}
    same_step = all(sp.expand(step[p_] - step_g[p_].xreplace(dict(zip(G, g)))) == 0 for p_ in m.params)
    gg = (G.T * G)[0, 0]
    drift_formula = [ETA ** 2 * pim[k] ** 2 * (v[k] ** 2 * gg - uG ** 2) for k in range(depth - 1)]
    drift_ok = all(sp.expand(I.xreplace(step_g) - I - f) == 0 for I, f in zip(imbs, drift_formula))
    if not (same_step and drift_ok):
        raise ModelError("the one-step drift of the imbalances does not match η²π_{-k}²(v_k²‖g‖² − (uᵀg)²)")
    return {"model": m, "loss": m.loss, "g": g, "g_symbols": G, "imbalances": imbs, "lie_derivatives": lie,
            "conserved": all(l == 0 for l in lie), "drift_formula": drift_formula,
            "grad_u": pi * G, "grad_v": [pim[k] * uG for k in range(depth - 1)]}


def derive_chain(depth: int = 2, samples: int = 2, dim: int = 2, rank: int | None = None) -> dict:
    """Every derivation for the chain model of depth D on symbolic data X (N × d), y, as
    {name: SymPy object or number}.

    Raw coordinates (:func:`raw_structure`): the loss, the gradient's structure, the conserved
    imbalances ‖u‖² − v_k² and their exact one-step GD drift.  SVD coordinates of rank ``rank``
    (default min(N, d), the rank of generic data; at most :data:`DERIVE_MAX_RANK`): the complete
    basis of quadratic GF invariants (ansatz with symbolic σ_i, d_i, N) and their drift, the
    Hessian at a global minimum, its p Σ² + q ddᵀ structure, the secular equation and, for D = 2,
    v*².  Every identity the report states is checked here; a failed check raises."""
    r = derive_rank(samples, dim, rank)
    raw = raw_structure(depth, samples, dim)
    out = {"depth": depth, "samples": samples, "dim": dim, "rank": r, "rank_is_generic": r == min(samples, dim),
           "loss": raw["loss"], "grad_u": raw["grad_u"], "grad_v": raw["grad_v"], "g_symbols": raw["g_symbols"],
           "gf_invariants": raw["imbalances"], "gf_invariants_conserved": raw["conserved"],
           "gf_invariant_gd_drift": raw["drift_formula"]}
    sm0 = svd_model(depth, r)
    svd_invs = model_invariants(sm0)
    out["svd_gf_invariants"] = svd_invs
    out["svd_gf_invariant_gd_drift"] = [sp.factor(d) for _, d in model_invariant_drifts(sm0, svd_invs)]
    z, v0 = sm0.blocks[0].symbols, sm0.blocks[1].symbols
    zz = sum(x ** 2 for x in z)
    Cs = [zz - vk ** 2 for vk in v0]
    cs = sp.symbols(f"c0:{len(Cs)}")
    out["svd_invariants_are_imbalances"] = len(svd_invs) == len(Cs) and all(
        bool(sp.solve(sp.Poly(sp.expand(I - sum(c * C for c, C in zip(cs, Cs))), *sm0.params).coeffs(), cs, dict=True))
        for I in svd_invs)
    out["reduced_hessian_size"] = r + depth - 1
    JJ, at_min, res, sm = minimum_sharpness_matrix(depth, r)
    out["svd_loss"] = sm.loss
    out["residual_part_at_minimum"] = res
    out["residual_zero_at_minimum"] = res == sp.zeros(*res.shape)
    out["ntk_times_N_at_minimum"] = JJ
    sig, dd = sm.options["sigma"], sm.options["d"]
    v = sm.blocks[1].symbols
    pi = sp.Mul(*v)
    mu = sp.Symbol("mu")
    Sig2 = sp.diag(*[s ** 2 for s in sig])
    dvec = sp.Matrix(dd)
    structured = pi ** 2 * Sig2 + sum((pi / vk) ** 2 for vk in v) * (dvec * dvec.T) / pi ** 2
    out["ntk_structure_verified"] = (JJ - structured).applyfunc(sp.simplify) == sp.zeros(r, r)
    p, q = sp.symbols("p q", positive=True)
    secular = sp.expand(sp.Mul(*[(mu - p * s ** 2) for s in sig])
                        - q * sum(dd[i] ** 2 * sp.Mul(*[(mu - p * sig[j] ** 2) for j in range(r) if j != i])
                                  for i in range(r)))
    det = sp.expand((mu * sp.eye(r) - (p * Sig2 + q * dvec * dvec.T)).det())
    out["secular_equation"] = sp.Eq(secular, 0)
    out["secular_equation_verified"] = sp.expand(det - secular) == 0
    out["secular_parameters"] = {"p": pi ** 2, "q": sp.simplify(sum((pi / vk) ** 2 for vk in v) / pi ** 2)}
    if depth == 2:
        C, Q, w = sp.symbols("C Q w", positive=True)
        sols = [s_ for s_ in sp.solve(sp.Eq(w ** 2 + C * w - Q, 0), w)]
        out["v_star_squared"] = [s_ for s_ in sols if s_.subs({C: 1, Q: 1}).is_positive][0]
    failed = [k for k in ("gf_invariants_conserved", "svd_invariants_are_imbalances", "residual_zero_at_minimum",
                          "ntk_structure_verified", "secular_equation_verified") if not out[k]]
    if failed:
        raise ModelError(f"chain derivation check failed: {failed[0]} (D = {depth}, N = {samples}, d = {dim}, r = {r})")
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
