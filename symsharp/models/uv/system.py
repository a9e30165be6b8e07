"""The UV model as a compiled system: the closed function-space GD map of (f, λ) derived by the
symbolic engine, its per-point options, the random initialisation and parameter-space norms."""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from ...codegen import cached_map, function_space_kwargs
from ...codegen.kernel import CompiledMap
from ...dynamics.systems import System
from .options import UV_OPTIONS


def _function_space_kwargs(width, input_dim, alpha):
    from .model import uv_model

    return function_space_kwargs(uv_model(width, input_dim, alpha=alpha), name="uv_function_space")


def uv_function_space_kernel(width: int = 3, input_dim: int = 2, alpha=None,
                             dtype: str = "float64") -> CompiledMap:
    """Kernel of the closed GD map of (f, λ) of the UV model, derived by
    :func:`symsharp.symbolic.reduction.reduce_map` (state (f, lam); parameters (eta, a, y) with
    a = α²‖x‖²/n; observables loss, residual f − y, the loss-Hessian sharpness and the
    gradient-flow invariant of the reduced map, as derived).

    The derivation runs once; later calls and processes load the cached kernel directly."""
    recipe = f"uv_function_space(width={width!r}, input_dim={input_dim!r}, alpha={alpha!r})"
    return cached_map(recipe, lambda: _function_space_kwargs(width, input_dim, alpha), dtype)




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

    return System(name="uv", kernel_source=kern, options=dict(UV_OPTIONS), prepare_fn=prepare,
                  description="UV model, function-space GD map of (f, λ)",
                  observables=tuple(kern.state) + tuple(kern.observables),
                  param_records=param_records, dtype=dtype)
