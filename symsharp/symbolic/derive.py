"""The generic derivation of any model: one call that runs every derivation and returns SymPy objects
(no formatting; :mod:`symsharp.report` turns them into Markdown/LaTeX/JSON)."""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .calculus import gd_map, gf_field, gradient, hessian_split, ntk
from .fixedpoints import fixed_points
from .invariants import gd_drift, model_invariants
from .model import Model
from .reduction import reduce_map
from .sharpness import function_space_sharpness


@dataclass
class Derivation:
    """Everything derived for one model; ``items`` keeps insertion order for reports."""

    model: Model
    items: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    options: dict = field(default_factory=dict)


def derive_model(model: Model, invariant_degree: int = 2, max_fixed_point_params: int = 3) -> Derivation:
    """Derive any model: gradient, Hessian split, NTK, GD map, GF invariants with drift,
    the function-space reduction (when it has observables f, lam) and fixed points of the GD map
    (parameter space, for at most ``max_fixed_point_params`` parameters)."""
    out = Derivation(model)
    it = out.items
    it["loss"] = model.loss
    it["gradient"] = gradient(model)
    if model.outputs:
        split = hessian_split(model)
        it["hessian_gauss_newton"] = split.gauss_newton
        it["hessian_residual"] = split.residual
        it["ntk"] = ntk(model)
    else:
        from .calculus import hessian

        it["hessian"] = hessian(model)
    step = gd_map(model)
    it["gd_map"] = step
    it["gf_field"] = gf_field(model)
    inv = model_invariants(model, invariant_degree)
    it["param_gf_invariants"] = inv
    it["param_invariant_drift"] = [gd_drift(I, step, model.eta) for I in inv]
    if model.observables and model.outputs and len(model.outputs) == 1:
        try:
            red = reduce_map(model)
            it["reduced"] = red
            if red.closes:
                it["fixed_points_reduced"] = fixed_points(red.step, red.variables)
        except ValueError as exc:
            out.notes.append(f"function-space reduction not attempted: {exc}")
        try:
            it["sharpness"] = function_space_sharpness(model)
        except ValueError as exc:  # NotReducible, or observables that are not polynomials in the parameters
            out.notes.append(f"function-space sharpness: {exc}")
    if len(model.params) <= max_fixed_point_params:
        try:
            it["fixed_points"] = fixed_points(step, list(model.params))
        except NotImplementedError as exc:
            out.notes.append(f"fixed points: {exc}")
    else:
        out.notes.append(f"parameter-space fixed points skipped (more than {max_fixed_point_params} parameters)")
    return out


