"""Recipes: compiled kernels of the maps the toolkit derives (derived once, then cached)."""
from __future__ import annotations

from .common import CodegenError
from .kernel import CompiledMap, cached_map, compile_map


def gd_kwargs(model, observables: dict | None = None, name: str | None = None) -> dict:
    """``compile_map`` arguments of the parameter-space GD map of ``model``: state = the model's
    parameters in order; parameters = the learning rates, then the remaining constants sorted by
    name; observables ``loss``, the model's own and ``observables``.  The same SymPy data serve the
    kernels and the symbolic analyses (bifurcation, precision) of a model."""
    import sympy as sp

    from ..symbolic.calculus import gd_map

    step = gd_map(model)
    state = list(model.params)
    obs = {"loss": model.loss}
    obs.update(model.observables)
    obs.update(observables or {})
    free = set().union(*[sp.sympify(e).free_symbols for e in list(step.values()) + list(obs.values())])
    rates = [r for r in model.rates() if r in free]
    rest = sorted(free - set(state) - set(rates), key=lambda s: s.name)
    return dict(step=step, state=state, params=rates + rest, observables=obs, name=name or f"gd_{model.name}")


def gd_kernel(model, dtype: str = "float64", observables: dict | None = None, name: str | None = None,
              form: str = "horner") -> CompiledMap:
    """Kernel of the parameter-space GD map of ``model`` (see :func:`gd_kwargs` for the layout)."""
    return compile_map(dtype=dtype, form=form, **gd_kwargs(model, observables, name))


def sgd_kernel(model, batch, dtype: str = "float64", name: str | None = None) -> CompiledMap:
    """Kernel of one SGD step of ``model`` on the minibatch ``batch`` (example indices; repeats
    allowed), from :func:`symsharp.symbolic.calculus.sgd_map`.  Same layout as :func:`gd_kernel`;
    observables: the full-data ``loss`` and the minibatch loss ``batch_loss``."""
    import sympy as sp

    from ..symbolic.calculus import sgd_map

    batch = [int(b) for b in batch]
    step = sgd_map(model, batch)
    state = list(model.params)
    obs = {"loss": model.loss, "batch_loss": model.minibatch(batch).loss}
    free = set().union(*[sp.sympify(e).free_symbols for e in list(step.values()) + list(obs.values())])
    rates = [r for r in model.rates() if r in free]
    rest = sorted(free - set(state) - set(rates), key=lambda s: s.name)
    tag = "_".join(str(b) for b in batch)
    return compile_map(step, state, rates + rest, dtype=dtype, observables=obs,
                       name=name or f"sgd_{model.name}_b{tag}"[:60])


def function_space_kwargs(model, name: str = "function_space") -> dict:
    """``compile_map`` arguments for the closed function-space GD map of ``model`` (a model with
    observables f and lam whose reduction closes, e.g. UV): state (f, lam); parameters eta, a, y
    first, then the other constants; observables loss, residual f − y, the loss-Hessian sharpness
    and the gradient-flow invariant of the reduced map, as derived.  Raises ``CodegenError`` when
    the reduction does not close."""
    import sympy as sp

    from ..symbolic.invariants import conserved_quantities
    from ..symbolic.reduction import reduce_map
    from ..symbolic.sharpness import function_space_sharpness

    red = reduce_map(model)
    if not red.closes:
        raise CodegenError(f"the function-space map of model {model.name!r} does not close: {red.reason}")
    f, lam = red.variables
    names = {s.name: s for e in red.step.values() for s in e.free_symbols}
    y = names.get("y", sp.Symbol("y", real=True))
    obs = {"loss": (f - y) ** 2 / 2, "residual": f - y}
    try:
        obs["sharpness"] = function_space_sharpness(model).expr
    except ValueError:
        pass
    inv = conserved_quantities(red.field, red.variables, degree=2)
    if len(inv) == 1:  # the conserved quantity of gradient flow in function space
        obs["invariant"] = inv[0]
    params = [names[n] for n in ("eta", "a", "y") if n in names]
    params += sorted((set(names.values()) - set(params) - {f, lam}), key=lambda s: s.name)
    return dict(step=red.step, state=[f, lam], params=params, observables=obs, name=name)
