"""Function-space reduction: does one GD step map the observables to functions of themselves?"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .model import Model
from .algebra import PolyContext, express_in_ring, rewrite_constants
from .calculus import gd_map, gf_field


@dataclass
class ReducedMap:
    """Result of a function-space reduction.

    ``closes`` tells whether every observable at the next step is a polynomial in the
    observables (coefficients free of θ).  ``step`` maps observable symbols to their next value;
    ``field`` is the gradient-flow vector field in the same variables (when it closes).
    ``failed`` names the observables whose next value is not such a polynomial."""

    model_name: str
    variables: tuple
    closes: bool
    step: dict = field(default_factory=dict)
    field: dict = field(default_factory=dict)
    failed: tuple = ()
    reason: str = ""
    assumptions: tuple = ()


def reduce_map(model: Model, observables: dict | None = None, step_map: dict | None = None,
               rewrite: bool = True) -> ReducedMap:
    """Reduce the GD map of ``model`` to the observables (default: the model's own).

    ``observables`` maps names to polynomials in θ.  The decision is exact within the ansatz of
    polynomials of bounded degree (see :func:`symsharp.symbolic.algebra.express_in`): a
    ``closes=False`` answer means no polynomial in the observables of the admissible degree
    equals the next value, which the sampled linear system proves inconsistent.
    """
    obs = dict(model.observables if observables is None else observables)
    if not obs:
        return ReducedMap(model.name, (), False, reason="the model declares no observables")
    syms = {name: model.observable_symbols.get(name, sp.Symbol(name, real=True)) for name in obs}
    sym_to_expr = {syms[n]: sp.expand(e) for n, e in obs.items()}
    P = list(model.params)
    step_map = gd_map(model) if step_map is None else step_map
    gf = gf_field(model)
    step, flow, failed = {}, {}, []
    ctx = PolyContext(list(sym_to_expr.values()) + list(step_map.values()) + list(gf.values()), P)
    obs_ring = {s: ctx.conv(e) for s, e in sym_to_expr.items()}
    step_ring = [(ctx.gens[i], ctx.conv(step_map[p])) for i, p in enumerate(P)]
    gf_ring = [ctx.conv(gf[p]) for p in P]
    for name in obs:
        o = obs_ring[syms[name]]
        nxt = o.compose(step_ring)
        rep = express_in_ring(ctx, nxt, obs_ring)
        if rep is None:
            failed.append(name)
            continue
        # gradient-flow field: d/dt obs = ∇obs · (−∇L)
        dt = ctx.R.zero
        for i, gi in enumerate(gf_ring):
            dt += o.diff(ctx.gens[i]) * gi
        rep_f = express_in_ring(ctx, dt, obs_ring)
        if rewrite and model.derived_constants:
            rep = rewrite_constants(rep, model.derived_constants)
            rep_f = rewrite_constants(rep_f, model.derived_constants) if rep_f is not None else None
        step[syms[name]] = sp.factor_terms(sp.expand(rep))
        if rep_f is not None:
            flow[syms[name]] = sp.factor(rep_f)
    variables = tuple(syms[n] for n in obs)
    if failed:
        return ReducedMap(model.name, variables, False, step, flow, tuple(failed),
                          reason=("after one GD step, " + ", ".join(failed) +
                                  " is not a polynomial in " + ", ".join(obs) +
                                  " with parameter-free coefficients"),
                          assumptions=model.assumptions)
    return ReducedMap(model.name, variables, True, step, flow, (), "", model.assumptions)
