"""UV derivations: every derivation of the UV model in one call (SymPy objects, no formatting),
the critical learning rate η_c and the layer-wise-rate reduction."""
from __future__ import annotations

import sympy as sp

from ...symbolic.calculus import gd_map, output_ntk_observables
from ...symbolic.derive import Derivation
from ...symbolic.fixedpoints import fixed_points
from ...symbolic.invariants import conserved_quantities, gd_drift, gd_drifts, model_invariants
from ...symbolic.model import Model
from ...symbolic.reduction import reduce_map
from ...symbolic.scaling import nondimensionalize
from ...symbolic.sharpness import function_space_sharpness
from .model import uv_model


def derive_uv(width: int = 3, input_dim: int = 2, alpha=None, layerwise: bool = False) -> Derivation:
    """Derive the UV model: calculus, invariants, function-space reduction, sharpness, fixed
    points; plus the layer-wise-rate and several-example variants (which do not close in
    (f, λ)).  With ``layerwise=True`` also derive the closed map of the layer-wise-rate model in
    (f, λ_U, λ_v) (slower: ~15 s)."""
    m = uv_model(width, input_dim, alpha)
    out = Derivation(m)
    it = out.items
    it["f"] = m.outputs[0]
    it["loss"] = m.loss
    it["a_definition"] = next(iter(m.derived_constants.values()))
    it["lam_parameter_space"] = m.observables["lam"]
    it["n_params"] = len(m.params)
    red = reduce_map(m)
    it["reduced"] = red
    fs_inv = conserved_quantities(red.field, red.variables, degree=2) if red.closes else []
    it["fs_gf_invariants"] = fs_inv
    it["fs_invariant_drift"] = [gd_drift(I, red.step, m.eta) for I in fs_inv]
    it["sharpness"] = function_space_sharpness(m)
    it["fixed_points"] = fixed_points(red.step, red.variables) if red.closes else []
    if red.closes:
        it["eta_c"] = critical_learning_rate(it["fixed_points"], m)
        a = next(iter(m.derived_constants))
        it["nondimensional"] = nondimensionalize(red.step, list(red.variables), [a, m.eta, m.targets[0]])
    # parameter-space invariants of gradient flow and their exact GD drift
    inv = model_invariants(m, degree=2)
    it["param_gf_invariants"] = inv
    step = gd_map(m)
    it["param_invariant_drift"] = gd_drifts(inv, step, m.eta)
    # variants
    lw = uv_model(width, input_dim, alpha, layerwise=True)
    it["layerwise_reduced"] = reduce_map(lw)
    if layerwise:
        it["layerwise_reduced_3"] = _layerwise_three(lw, width, input_dim)
    multi = uv_model(1, 2, 1, examples=2, x=[[1, 0], [1, 2]])
    obs_multi = output_ntk_observables(multi)
    it["multi_reduced"] = reduce_map(multi, observables=obs_multi, rewrite=False)
    return out


def critical_learning_rate(fps, model):
    """η_c: the rate above which no global minimum is linearly stable.

    Global minima are the fixed points with f = y (a family parametrised by λ).  On it λ is
    bounded below by the feasibility bound λ ≥ 2√a|f| (proved by the sum-of-squares certificate of
    claim UV-feasible-set), so the least sharp minimum has λ_min = 2√a|y|.  Stability on the family
    is a condition on ηλ; η_c solves the boundary of that condition at λ_min.
    Returns (η_c in terms of a and y, η_c in terms of n, x_norm, y, alpha)."""
    fs, ls = model.observable_symbols["f"], model.observable_symbols["lam"]
    a = next(iter(model.derived_constants))
    y = model.targets[0]
    eta = model.eta
    line = [fp for fp in fps if fp.free == (ls,) and sp.simplify(fp.point[fs] - y) == 0]
    if len(line) != 1:
        return None
    lam_min = 2 * sp.sqrt(a) * sp.Abs(y)
    cond = line[0].stable_when.subs(ls, lam_min)
    rels = list(cond.args) if isinstance(cond, sp.And) else [cond]
    roots = []
    for r in rels:
        if eta in r.free_symbols:
            roots += [z for z in sp.solve(sp.Eq(r.lhs, r.rhs), eta) if z.is_positive is not False]
    if not roots:
        return None
    eta_c = sp.simplify(min(roots, key=lambda z: z.subs({a: 1, y: 1})))
    n, xn, al = sp.symbols("n x_norm alpha", positive=True)
    return eta_c, sp.simplify(eta_c.subs(a, al ** 2 * xn ** 2 / n))


def _layerwise_three(lw, width, input_dim):
    """Reduce the layer-wise-rate UV model to (f, λ_U, λ_v), the two blocks' NTK parts."""
    P = lw.params
    f_lw = lw.outputs[0]
    nU = width * input_dim
    lamU = sp.expand(sum(sp.diff(f_lw, p) ** 2 for p in P[:nU]))
    lamv = sp.expand(sum(sp.diff(f_lw, p) ** 2 for p in P[nU:]))
    lw3 = Model(**{**lw.__dict__, "observables": {"f": f_lw, "lam_U": lamU, "lam_v": lamv},
                   "observable_symbols": {"f": sp.Symbol("f", real=True),
                                          "lam_U": sp.Symbol("lam_U", nonnegative=True),
                                          "lam_v": sp.Symbol("lam_v", nonnegative=True)}})
    return reduce_map(lw3)


