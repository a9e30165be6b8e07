"""Models made ready for compiled dynamics: a kernel plus the meaning of every model option.

A :class:`System` knows which command-line/API options it takes (``eta``, ``width``, ``f0``, ...),
their defaults and allowed values, and how a set of option values (scalars or 1-D grids, which
broadcast) becomes initial states and kernel parameters.  ``orbit``, ``phase``, ``lyapunov`` and
``run`` all go through it, so they take the same model options.

The symbolic work (derivation, code generation) happens once when the system is built and is
cached on disk by :mod:`symsharp.codegen`; iterating never calls SymPy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numba as nb
import numpy as np

from ..codegen.kernel import CompiledMap
from .chain import _observe as _chain_observe
from .orbits import DynamicsError


@dataclass(frozen=True)
class Option:
    """One model option: default, help text, and the allowed range."""

    name: str
    default: object
    help: str
    minimum: float | None = None      # inclusive unless ``strict``
    strict: bool = False
    integer: bool = False
    nonzero: bool = False

    def check(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            bad = v[~np.isfinite(v)][0]
            raise DynamicsError(f"{self.name} must be finite, got {bad}")
        if self.integer and np.any(v != np.round(v)):
            bad = v[v != np.round(v)][0]
            raise DynamicsError(f"{self.name} must be a whole number, got {bad:g}")
        if self.minimum is not None:
            low = v <= self.minimum if self.strict else v < self.minimum
            if np.any(low):
                rel = ">" if self.strict else ">="
                raise DynamicsError(f"{self.name} must be {rel} {self.minimum:g}, got {v[low][0]:g}")
        if self.nonzero and np.any(v == 0):
            raise DynamicsError(f"{self.name} must be nonzero, got 0")
        return v


@dataclass
class System:
    """A compiled map with named model options.

    ``prepare(values)`` turns {option: scalar or array} (arrays broadcast against each other)
    into (x0 (G, k), params (G, m)) for the kernel, plus the broadcast option values."""

    name: str
    kernel: CompiledMap
    options: dict
    _prepare: Callable = field(repr=False)
    description: str = ""
    observables: tuple = ()
    default_observable: str = "sharpness"
    extra: dict = field(default_factory=dict)

    def defaults(self) -> dict:
        return {k: o.default for k, o in self.options.items()}

    def resolve(self, values: Mapping | None = None) -> dict:
        """Option values with defaults filled in, checked, as float arrays (unbroadcast)."""
        values = dict(values or {})
        unknown = [k for k in values if k not in self.options]
        if unknown:
            raise DynamicsError(f"model {self.name!r} has no option {unknown[0]!r}; "
                                f"its options are {', '.join(self.options)}")
        out = {}
        for k, opt in self.options.items():
            v = values.get(k, opt.default)
            out[k] = None if v is None else opt.check(np.atleast_1d(np.asarray(v, dtype=np.float64)))
        return out

    def prepare(self, values: Mapping | None = None):
        """(x0 (G, k), params (G, m), broadcast option values {name: (G,)})."""
        vals = self.resolve(values)
        arrays = {k: v for k, v in vals.items() if v is not None}
        try:
            shape = np.broadcast_shapes(*[v.shape for v in arrays.values()])
        except ValueError:
            sizes = {k: v.size for k, v in arrays.items() if v.size > 1}
            raise DynamicsError(f"option grids of different lengths cannot be combined: {sizes}") from None
        G = int(np.prod(shape))
        flat = {k: (np.broadcast_to(v, shape).reshape(G) if v is not None else None) for k, v in vals.items()}
        x0, P = self._prepare(flat, G)
        x0 = np.asarray(x0, dtype=np.float64).reshape(G, self.kernel.k)
        P = np.asarray(P, dtype=np.float64).reshape(G, self.kernel.m)
        if not np.all(np.isfinite(x0)):
            raise DynamicsError("the initial state is not finite; check the initialisation options")
        return x0, P, {k: v for k, v in flat.items() if v is not None}


# ------------------------------------------------------------------------------------- UV
UV_OPTIONS = {
    "eta": Option("eta", 1.0, "learning rate η (> 0)", 0.0, strict=True),
    "width": Option("width", 100, "width n; enters through a = α²‖x‖²/n and the initialisation", 1, integer=True),
    "x_norm": Option("x_norm", 1.0, "input norm ‖x‖ (> 0)", 0.0, strict=True),
    "y": Option("y", 1.0, "target y"),
    "alpha": Option("alpha", 1.0, "output multiplier α (> 0)", 0.0, strict=True),
    "f0": Option("f0", None, "initial output f₀ (default: from the random initialisation)"),
    "lam0": Option("lam0", None, "initial NTK λ₀ >= 0 (default: from the random initialisation)", 0.0),
    "init_scale": Option("init_scale", 1.0, "init scale σ: U_ij, v_i ~ N(0, σ²)", 0.0, strict=True),
    "seed": Option("seed", 0, "seed of the random initialisation", 0, integer=True),
}


def uv_initial_function_state(width, x_norm, alpha, init_scale, seed):
    """(f₀, λ₀) of the UV model at U_ij, v_i ~ N(0, σ²) drawn with ``seed`` (arrays broadcast).

    Only the column U x/‖x‖ and v matter: f = (α/√n) vᵀ U x, λ = (α²/n)(‖U x‖² + ‖v‖²‖x‖²).
    For one (n, seed) the draw is at σ = 1 and then scaled (f₀, λ₀ ∝ σ²)."""
    n, xn, al, s, sd = np.broadcast_arrays(*[np.asarray(t, dtype=np.float64) for t in
                                             (width, x_norm, alpha, init_scale, seed)])
    f0 = np.empty(n.shape)
    lam0 = np.empty(n.shape)
    cache = {}
    for i in np.ndindex(n.shape):
        key = (int(n[i]), int(sd[i]))
        if key not in cache:
            rng = np.random.default_rng(key[1])
            p = rng.standard_normal(key[0])   # U x̂ (x̂ = x/‖x‖): i.i.d. N(0, 1) at σ = 1
            v = rng.standard_normal(key[0])
            cache[key] = (float(v @ p), float(p @ p + v @ v))
        vp, sq = cache[key]
        f0[i] = al[i] / math.sqrt(n[i]) * s[i] ** 2 * xn[i] * vp
        lam0[i] = al[i] ** 2 / n[i] * s[i] ** 2 * xn[i] ** 2 * sq
    return f0, lam0


@nb.njit(cache=True)
def _uv_param_gd(p, v, c, y, eta, steps, record_every, out):
    """GD in parameter space on the moving part of the UV model: p = U x̂ and v, with
    f = c vᵀp and c = α‖x‖/√n (the part of U orthogonal to x never moves).  Records ‖p‖, ‖v‖, f
    every ``record_every`` steps into out[r, 0:3]; stops at a non-finite or huge state."""
    n = p.size
    r = 0
    for t in range(steps + 1):
        f = 0.0
        sp_ = 0.0
        sv = 0.0
        for i in range(n):
            f += v[i] * p[i]
            sp_ += p[i] * p[i]
            sv += v[i] * v[i]
        f *= c
        if t % record_every == 0:
            out[r, 0] = np.sqrt(sp_)
            out[r, 1] = np.sqrt(sv)
            out[r, 2] = f
            r += 1
        if not (abs(f) < 1e150 and sp_ < 1e300 and sv < 1e300):
            return t
        if t == steps:
            break
        g = eta * (f - y) * c
        for i in range(n):
            pi = p[i]
            p[i] = pi - g * v[i]
            v[i] = v[i] - g * pi
    return -1


def uv_parameter_run(width, x_norm, alpha, y, init_scale, seed, eta, steps, record_every):
    """Parameter norms along GD from the random initialisation (same draw as
    :func:`uv_initial_function_state`): {"Ux_norm": ‖U x̂‖, "v_norm": ‖v‖, "f_param": f} per record."""
    n = int(width)
    rng = np.random.default_rng(int(seed))
    p = rng.standard_normal(n) * init_scale
    v = rng.standard_normal(n) * init_scale
    c = alpha * x_norm / math.sqrt(n)
    R = steps // record_every + 1
    out = np.full((R, 3), np.nan)
    _uv_param_gd(p, v, float(c), float(y), float(eta), int(steps), int(record_every), out)
    return {"Ux_norm": out[:, 0], "v_norm": out[:, 1], "f_param": out[:, 2]}


def uv_system(dtype: str = "float64") -> System:
    """The UV model in function space: state (f, λ), parameters (η, a, y) with a = α²‖x‖²/n.

    The closed map, the sharpness formula and the invariant are those derived by the symbolic
    engine (:func:`symsharp.codegen.maps.uv_function_space_kernel`)."""
    from ..codegen.maps import uv_function_space_kernel

    kern = uv_function_space_kernel(dtype=dtype)

    def prepare(o, G):
        f0, lam0 = o["f0"], o["lam0"]
        if f0 is None or lam0 is None:
            fi, li = uv_initial_function_state(o["width"], o["x_norm"], o["alpha"], o["init_scale"], o["seed"])
            f0 = fi if f0 is None else f0
            lam0 = li if lam0 is None else lam0
        a = o["alpha"] ** 2 * o["x_norm"] ** 2 / o["width"]
        pv = {"eta": o["eta"], "a": a, "y": o["y"]}
        P = np.stack([pv[n] for n in kern.params], axis=1)
        return np.stack([f0, lam0], axis=1), P

    def param_records(o, steps, record_every):
        if o.get("f0") is not None or o.get("lam0") is not None:
            return {}
        return uv_parameter_run(o["width"][0], o["x_norm"][0], o["alpha"][0], o["y"][0], o["init_scale"][0],
                                o["seed"][0], o["eta"][0], steps, record_every)

    return System(name="uv", kernel=kern, options=dict(UV_OPTIONS), _prepare=prepare,
                  description="UV model, function-space GD map of (f, λ)",
                  observables=tuple(kern.state) + tuple(kern.observables),
                  extra={"param_records": param_records})


# ------------------------------------------------------------------------------------- custom
def custom_system(f: str | None = None, loss: str | None = None, params=None, inputs=None, data=None,
                  init: Mapping | None = None, dtype: str = "float64") -> System:
    """GD on a model the user writes down (see :func:`symsharp.models.custom_model`).

    Options: ``eta`` and one initial value per parameter, named after it (``w`` → option ``w``;
    default from ``init`` or 0.5).  Remaining free constants of the loss must be given in
    ``data``."""
    from ..codegen.maps import gd_kernel
    from ..models import custom_model

    model = custom_model(f=f, loss=loss, params=params, inputs=inputs, data=data)
    kern = gd_kernel(model, dtype=dtype, observables=_custom_observables(model))
    extra = [p for p in kern.params if p != "eta"]
    if extra:
        raise DynamicsError(f"the custom loss has free constants {extra}; give them numbers with the data "
                            f"or make them parameters")
    init = dict(init or {})
    bad = [k for k in init if k not in kern.state]
    if bad:
        raise DynamicsError(f"{bad[0]!r} is not a parameter of the custom model; its parameters are {list(kern.state)}")
    opts = {"eta": Option("eta", 1.0, "learning rate η (> 0)", 0.0, strict=True)}
    for s in kern.state:
        opts[s] = Option(s, float(init.get(s, 0.5)), f"initial value of parameter {s}")

    def prepare(o, G):
        x0 = np.stack([o[s] for s in kern.state], axis=1)
        return x0, o["eta"][:, None]

    observers = _dense_observers(kern)
    default_obs = "sharpness" if ("sharpness" in kern.observables or "sharpness" in observers) else "loss"
    public = [n for n in kern.observables if not n.startswith(("H_", "J_"))]
    return System(name="custom", kernel=kern, options=opts, _prepare=prepare,
                  description=f"custom model, parameter-space GD of {list(kern.state)}",
                  observables=tuple(kern.state) + tuple(public) + tuple(observers), default_observable=default_obs,
                  extra={"observers": observers, "hidden": ("H_", "J_")})


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


def _custom_observables(model, max_invariant_params: int = 6) -> dict:
    """Observables of a custom model's runs: the exact sharpness when the Hessian is 1×1 or 2×2
    (closed-form top eigenvalue), the parameter norm, and the quadratic conserved quantities of
    gradient flow found by :func:`symsharp.symbolic.invariants.model_invariants` (for up to
    ``max_invariant_params`` parameters)."""
    import sympy as sp

    from ..symbolic.calculus import hessian
    from ..symbolic.invariants import model_invariants

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
        from ..symbolic.calculus import jacobian

        J = jacobian(model)
        for i in range(J.shape[0]):
            for j in range(J.shape[1]):
                obs[f"J_{i}_{j}"] = J[i, j]
    obs["param_norm"] = sp.sqrt(sum(p ** 2 for p in model.params))
    if len(model.params) <= max_invariant_params:
        for i, inv in enumerate(model_invariants(model, degree=2), 1):
            obs[f"invariant_{i}"] = inv
    return obs


SYSTEMS = ("uv", "chain", "custom")


# ------------------------------------------------------------------------------------- chain
CHAIN_DEFAULTS = {"depth": 3, "samples": 50, "dim": 5, "kind": "gaussian", "data_seed": 0}


def chain_data(depth=None, samples=None, dim=None, kind=None, data_seed=None, data_file=None, target_q=None):
    """The data set of a chain-model command: a file (``data_file``) or a synthetic generator."""
    from ..data import load_dataset, make_dataset

    if data_file is not None:
        for name, val in (("samples", samples), ("dim", dim), ("data kind", kind), ("data seed", data_seed),
                          ("target Q", target_q)):
            if val is not None:
                raise DynamicsError(f"give either a data file or the synthetic data options, not both ({name})")
        return load_dataset(data_file)
    c = CHAIN_DEFAULTS
    return make_dataset(kind or c["kind"], samples=c["samples"] if samples is None else samples,
                        dim=c["dim"] if dim is None else dim, seed=c["data_seed"] if data_seed is None else data_seed,
                        Q=target_q)


@nb.njit(cache=True, parallel=True)
def _observe_batch(S, r, sig, dd, N, ycon, uperp2, dense_max, out):
    for m in nb.prange(S.shape[0]):
        _chain_observe(S[m, :r], S[m, r:], sig, dd, N, ycon, uperp2, dense_max, out[m])


def observe_states(states, r, sig, dd, N, ycon, uperp2, dense_max):
    """Chain observables (loss, sharpness, ntk, C…, u_norm, v…, prod_v) of many states (…, r + k)
    in SVD coordinates, by the exact arrowhead solvers of :mod:`symsharp.dynamics.chain`."""
    st = np.asarray(states, dtype=np.float64)
    lead = st.shape[:-1]
    S = np.ascontiguousarray(st.reshape(-1, st.shape[-1]))
    k = S.shape[1] - r
    out = np.full((S.shape[0], 5 + 2 * k), np.nan)
    ok = np.all(np.isfinite(S), axis=1)
    if ok.any():
        tmp = np.empty((int(ok.sum()), 5 + 2 * k))
        _observe_batch(np.ascontiguousarray(S[ok]), r, np.ascontiguousarray(sig, dtype=np.float64),
                       np.ascontiguousarray(dd, dtype=np.float64), float(N), float(ycon), float(uperp2),
                       int(dense_max), tmp)
        out[ok] = tmp
    return out.reshape(lead + (5 + 2 * k,))


def chain_system(depth=None, samples=None, dim=None, kind=None, data_seed=None, data_file=None, target_q=None,
                 dtype: str = "float64") -> System:
    """Full-batch GD of the chain model in SVD coordinates as a compiled map (for orbit, phase and
    Lyapunov scans; rank ≤ 8).  State (z = Wᵀu, v); options ``eta``, ``init_scale``, ``seed``.
    Observables beyond the kernel's loss: the exact sharpness and top NTK eigenvalue (the
    arrowhead eigen-solvers of :mod:`symsharp.dynamics.chain`) and the imbalances."""
    from ..codegen.maps import gd_kernel
    from ..data import data_summary
    from .chain import DENSE_MAX, chain_svd_model, init_chain

    D = CHAIN_DEFAULTS["depth"] if depth is None else depth
    if int(D) != D or D < 2:
        raise DynamicsError(f"depth must be a whole number >= 2, got {D}")
    D = int(D)
    data = chain_data(D, samples, dim, kind, data_seed, data_file, target_q)
    model = chain_svd_model(data.X, data.y, D)
    kern = gd_kernel(model, dtype=dtype)
    from ..data import svd_coordinates

    E, sig, W = svd_coordinates(data.X)
    dd = E.T @ data.y
    ycon = float(np.sum((data.y - E @ dd) ** 2))
    N, d = data.X.shape
    r = sig.size
    summary = data_summary(data.X, data.y, D)
    opts = {"eta": Option("eta", 0.1, "learning rate η (> 0)", 0.0, strict=True),
            "init_scale": Option("init_scale", 0.1, "init scale: u ~ N(0, σ²/d I), v_i ~ N(0, σ²)", 0.0),
            "seed": Option("seed", 0, "seed of the random initialisation", 0, integer=True)}

    def prepare(o, G):
        x0 = np.empty((G, r + D - 1))
        cache = {}
        for g in range(G):
            key = int(o["seed"][g])
            if key not in cache:
                u, v = init_chain(d, D, 1.0, key)
                z = W.T @ u
                cache[key] = np.concatenate([z, v])
            x0[g] = cache[key] * o["init_scale"][g]
        return x0, o["eta"][:, None]

    def observer(name):
        col = {"loss": 0, "sharpness": 1, "ntk": 2}[name]

        def fn(states):
            return observe_states(states, r, sig, dd, N, ycon, 0.0, DENSE_MAX)[..., col]
        return fn

    return System(name="chain", kernel=kern, options=opts, _prepare=prepare,
                  description=f"chain model D={D}, GD in SVD coordinates (N={N}, d={d}, rank {r})",
                  observables=tuple(kern.state) + ("loss", "sharpness", "ntk"),
                  extra={"observers": {n: observer(n) for n in ("sharpness", "ntk")},
                         "metadata": {"data": summary, "data_meta": {k: str(v) for k, v in data.meta.items()
                                                                     if k != "w_star"}}})


def chain_run_dataset(args, specs, thr) -> "xr.Dataset":
    """``symsharp run chain``: GD or SGD with :func:`symsharp.dynamics.chain.run_chain`, as a labelled result."""
    import json

    import xarray as xr

    from .chain import run_chain
    from .grid import parse_grid
    from .scan import _metadata, versions

    vals = {}
    for k, default in (("eta", 0.1), ("init_scale", 0.1), ("seed", 0)):
        g = parse_grid(specs.get(k, default), k)
        if g.size != 1:
            raise DynamicsError(f"run takes one value per option; {k!r} has several (use orbit or phase to scan)")
        vals[k] = float(g[0])
    if vals["seed"] != int(vals["seed"]) or vals["seed"] < 0:
        raise DynamicsError(f"seed must be a whole number >= 0, got {vals['seed']:g}")
    D = CHAIN_DEFAULTS["depth"] if args.depth is None else args.depth
    data = chain_data(D, args.samples, args.dim, args.data_kind, args.data_seed, args.data_file,
                      getattr(args, "target_q", None))
    res = run_chain(data.X, data.y, D, vals["eta"], args.steps, record_every=args.record_every, batch=args.batch,
                    replacement=args.replacement, seed=int(vals["seed"]), init_scale=vals["init_scale"],
                    threshold=thr.get("threshold", 1e6), dtype=args.dtype, progress=bool(args.progress))
    rec = res.records
    k = D - 1
    ds = xr.Dataset({"loss": (("step",), rec["loss"]), "sharpness": (("step",), rec["sharpness"]),
                     "ntk": (("step",), rec["ntk"]), "C": (("step", "layer"), rec["C"]),
                     "u_norm": (("step",), rec["u_norm"]), "v": (("step", "layer"), rec["v"]),
                     "prod_v": (("step",), rec["prod_v"])},
                    coords={"step": res.steps, "layer": np.arange(1, k + 1)})
    ds["C"].attrs["long_name"] = "imbalance ‖Π_W u‖² − v_i²"
    ds["sharpness"].attrs["long_name"] = "top eigenvalue of the loss Hessian"
    ds["ntk"].attrs["long_name"] = "top eigenvalue of the NTK JJᵀ/N"
    ds.attrs["eta"] = vals["eta"]
    ds.attrs["diverged_at"] = -1 if res.diverged_at is None else int(res.diverged_at)
    summ = res.config["data"]
    for key in ("N", "d", "rank", "sigma1", "Q", "S_hat"):
        ds.attrs[key] = summ[key]

    class _Sys:  # minimal stand-in for the metadata writer
        name = "chain"
        description = (f"chain model D={D}, {'SGD B=' + str(args.batch) + (' with' if args.replacement else ' without') + ' replacement' if args.batch else 'GD'}"
                       f" (N={summ['N']}, d={summ['d']}, Q={summ['Q']:.4g}, Ŝ_D={summ['S_hat']:.4g})")
        options = {k: Option(k, v, "") for k, v in vals.items()}
        extra = {"metadata": {"data": summ, "run": {k: v for k, v in res.config.items() if k != "data"},
                              "data_meta": {k: str(v) for k, v in data.meta.items() if k != "w_star"}}}

        class kernel:
            dtype = np.dtype(args.dtype)

            class path:
                name = "dynamics/chain.py (run_chain)"

    ds.attrs["symsharp"] = _metadata("run", _Sys, specs, {"steps": args.steps, "record_every": args.record_every,
                                                          "batch": args.batch, "replacement": bool(args.replacement),
                                                          "seed": int(vals["seed"]), "seconds": res.seconds})
    return ds
