"""Models given as SymPy data, run in parameter space: the generic bridge from a
:class:`~symsharp.symbolic.model.Model` to a compiled :class:`~symsharp.dynamics.System`.

Any model a user writes down (the ``custom`` model, a plug-in model file, the tanh neuron) gets
every verb through :func:`parameter_space_system`: the derived GD map compiled once, per-point
options ``eta`` and one initial value per parameter, and run observables — the exact sharpness
(closed form for one or two parameters, a dense eigensolver on compiled Hessian entries up to
eight), the top NTK eigenvalue, the parameter norm and the quadratic conserved quantities of
gradient flow.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import sympy as sp

from ..codegen.maps import gd_kernel
from ..dynamics.orbits import DynamicsError
from ..dynamics.systems import System
from ..symbolic.calculus import hessian, jacobian
from ..symbolic.invariants import model_invariants
from ..symbolic.model import Model
from .generic_options import gd_point_options


def parameter_space_system(model: Model, init: Mapping | None = None, dtype: str = "float64",
                           default_init: float = 0.5, description: str | None = None) -> System:
    """GD of ``model`` in parameter space as a compiled system.

    Options: ``eta`` and one initial value per parameter, named after it (``w`` → option ``w``;
    default from ``init`` or ``default_init``).  Every other free symbol of the loss must have a
    number (give it in the model's data)."""
    kern = gd_kernel(model, dtype=dtype, observables=_observables(model))
    extra = [p for p in kern.params if p != "eta"]
    if extra:
        raise DynamicsError(f"the loss of model {model.name!r} has free constants {extra}; give them numbers "
                            f"with the data or make them parameters")
    init = dict(init or {})
    bad = [k for k in init if k not in kern.state]
    if bad:
        raise DynamicsError(f"{bad[0]!r} is not a parameter of the {model.name} model; its parameters are "
                            f"{list(kern.state)}")
    opts = {o.name: o for o in gd_point_options(kern.state, init, default_init)}

    def prepare(o, G):
        x0 = np.stack([o[s] for s in kern.state], axis=1)
        return x0, o["eta"][:, None]

    observers = _dense_observers(kern)
    default_obs = "sharpness" if ("sharpness" in kern.observables or "sharpness" in observers) else "loss"
    public = [n for n in kern.observables if not n.startswith(("H_", "J_"))]
    return System(name=model.name, kernel_source=kern, options=opts, prepare_fn=prepare,
                  description=description or f"{model.name} model, parameter-space GD of {list(kern.state)}",
                  observables=tuple(kern.state) + tuple(public) + tuple(observers), default_observable=default_obs,
                  observers=observers, hidden=("H_", "J_"), dtype=dtype)


MAX_DENSE_PARAMS = 8
MAX_DENSE_EXAMPLES = 16


def _dense_observers(kern) -> dict:
    """Observers computing the exact sharpness (top eigenvalue of the loss Hessian, for more than two
    parameters) and the top NTK eigenvalue (J Jᵀ/N) from the compiled Hessian/Jacobian entries with
    a dense eigensolver."""
    k = kern.k
    hnames = [n for n in kern.observables if n.startswith("H_")]
    jnames = [n for n in kern.observables if n.startswith("J_")]
    dummy = np.ones(kern.m)  # the Hessian and Jacobian do not depend on the learning rate

    def entries(states, names):
        st = np.asarray(states, dtype=np.float64)
        lead = st.shape[:-1]
        flat = st.reshape(-1, k)
        ok = np.all(np.isfinite(flat), axis=1)
        vals = kern.observe(flat[ok], np.broadcast_to(dummy, (int(ok.sum()), kern.m)), names=names) if ok.any() else {}
        return lead, ok, vals

    out = {}
    if hnames:
        def sharpness(states):
            lead, ok, vals = entries(states, hnames)
            res = np.full(ok.size, np.nan)
            if ok.any():
                H = np.empty((int(ok.sum()), k, k))
                for n in hnames:
                    _, i, j = n.split("_")
                    H[:, int(i), int(j)] = H[:, int(j), int(i)] = vals[n]
                res[ok] = np.linalg.eigvalsh(H)[:, -1]
            return res.reshape(lead)
        out["sharpness"] = sharpness
    if jnames:
        nex = 1 + max(int(n.split("_")[1]) for n in jnames)

        def ntk(states):
            lead, ok, vals = entries(states, jnames)
            res = np.full(ok.size, np.nan)
            if ok.any():
                J = np.empty((int(ok.sum()), nex, k))
                for n in jnames:
                    _, i, j = n.split("_")
                    J[:, int(i), int(j)] = vals[n]
                res[ok] = np.linalg.eigvalsh(J @ np.swapaxes(J, 1, 2) / nex)[:, -1]
            return res.reshape(lead)
        out["ntk"] = ntk
    return out


def _observables(model, max_invariant_params: int = 6) -> dict:
    """Observables of a custom model's runs: the exact sharpness when the Hessian is 1×1 or 2×2
    (closed-form top eigenvalue), the parameter norm, and the quadratic conserved quantities of
    gradient flow found by :func:`symsharp.symbolic.invariants.model_invariants` (for up to
    ``max_invariant_params`` parameters)."""


    obs = {}
    H = hessian(model)
    if H.shape == (1, 1):
        obs["sharpness"] = H[0, 0]
    elif H.shape == (2, 2):
        obs["sharpness"] = (H[0, 0] + H[1, 1]) / 2 + sp.sqrt((H[0, 0] - H[1, 1]) ** 2 / 4 + H[0, 1] ** 2)
    elif len(model.params) <= MAX_DENSE_PARAMS:  # entries for a dense eigensolver (observer "sharpness")
        for i in range(H.shape[0]):
            for j in range(i, H.shape[0]):
                obs[f"H_{i}_{j}"] = H[i, j]
    if model.outputs and len(model.params) <= MAX_DENSE_PARAMS and len(model.outputs) <= MAX_DENSE_EXAMPLES:
        J = jacobian(model)
        for i in range(J.shape[0]):
            for j in range(J.shape[1]):
                obs[f"J_{i}_{j}"] = J[i, j]
    obs["param_norm"] = sp.sqrt(sum(p ** 2 for p in model.params))
    if len(model.params) <= max_invariant_params:
        for i, inv in enumerate(model_invariants(model, degree=2), 1):
            obs[f"invariant_{i}"] = inv
    return obs


def expression_model(name: str, description: str, f: str | None = None, loss: str | None = None,
                     params=None, inputs=None, data: Mapping | None = None, init: Mapping | None = None,
                     **spec_fields):
    """A :class:`~symsharp.models.registry.ModelSpec` for a model written as an expression — the
    one-file model.

    ``f`` (with ``data`` {input: values, ..., "y": targets}) or ``loss``, as in
    :func:`symsharp.models.custom_model`; ``init`` gives default initial values of the parameters.
    The model gets ``derive`` (the generic derivation) and every dynamics verb (parameter-space GD
    with per-point options ``eta`` and one initial value per parameter).  Example — a file
    ``deep3.py``, used as ``symsharp run deep3 --model-file deep3.py --eta 0.5``::

        from symsharp.models import expression_model, register_model

        register_model(expression_model(
            "deep3", "scalar deep net f = w1·w2·w3·x on two examples",
            f="w1*w2*w3*x", data={"x": [1, 2], "y": [1, 3]}, init={"w1": 0.5, "w2": 0.6, "w3": 0.7}))
    """
    from dataclasses import replace

    from .expression import custom_model
    from .registry import ModelSpec

    def build(_opts=None):
        return replace(custom_model(f=f, loss=loss, params=params, inputs=inputs, data=data), name=name)

    def system(_opts, dtype):
        return parameter_space_system(build(), init=init, dtype=dtype, description=description)

    def symbolic_map(_opts):
        from ..codegen.maps import gd_kwargs

        return gd_kwargs(build())

    model = build()  # fail at registration, in one line, if the expression is not allowed
    options = gd_point_options([p.name for p in model.params], init)
    return ModelSpec(name=name, description=description, options=options, build=build, system=system,
                     symbolic_map=symbolic_map, **spec_fields)


def model_family(spec, values: Mapping | None = None, param: str = "eta", at: float | None = None):
    """The bifurcation family of a registered model's GD map in ``param``, from its dynamics option
    ``values`` (per-point options as scalars): the SymPy map its kernel is compiled from, the other
    map parameters fixed at the values the options give, and the initial state the options give
    (at ``param = at``).  Returns ``(MapFamily, x0 (k,), {fixed parameter: value})``."""
    from ..analysis.bifurcation import map_family
    from ..errors import ModelError

    values = dict(values or {})
    declared = {o.name for o in spec.options_for("dynamics") if not o.scan}
    nonscan = {k: v for k, v in values.items() if k in declared}
    point = {k: v for k, v in values.items() if k not in declared}  # scan options and the system's own (w, ...)
    if spec.point_specs is not None:
        point.update(spec.point_specs(spec.resolve("dynamics", nonscan)))
    system = spec.make_system(nonscan, "float64")
    system.require_deterministic("bifurcation analysis")
    kw = spec.map_kwargs(nonscan)
    pnames = [str(s) for s in kw["params"]]
    if param not in pnames:
        raise ModelError(f"--{param.replace('_', '-')} is not a parameter of the {spec.name} map (its parameters are "
                         f"{', '.join(pnames)}); the other options set the initial state")
    if at is not None:
        point[param] = at
    x0, P, _ = system.prepare(point)
    if x0.shape[0] != 1:
        raise ModelError("give one value per option besides the continuation parameter")
    kern_params = list(system.kernel.params)
    fixed = {n: float(P[0, kern_params.index(n)]) for n in pnames if n != param}
    fam = map_family(kw["step"], kw["state"], kw["params"], values=fixed, param=param, name=spec.name)
    return fam, x0[0], fixed
