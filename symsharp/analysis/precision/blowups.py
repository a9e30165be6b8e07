"""Blow-up statistics: which seeds diverge, per (learning rate, arithmetic)?

- :func:`blowup` — any map: one parameter (default ``eta``) on a grid, initial states per seed,
  every arithmetic of :mod:`symsharp.codegen.arith` but arb;
- :func:`blowup_chain` — the chain model (single-neuron deep linear network) on data (X, y), in
  raw coordinates (the network's own arithmetic, :class:`~symsharp.codegen.arith.ChainGD`) or in
  SVD coordinates (the SymPy map of the reduced model, through :func:`blowup`).

Both include the *mechanism test*: the float64 runs repeated with a relative perturbation
x ← x·(1 + 2^-p ξ), ξ uniform in [−1, 1), injected into every state variable after every step,
p = the mantissa bits of each lower-precision arithmetic.  If rounding noise is what decides
between blow-up and survival, float64 + noise 2^-p must reproduce the p-bit arithmetic's
divergence fractions; :func:`mechanism_summary` says whether it does.

Runs are independent and deterministic: Numba kernels spread the batch over the cores with
``prange``; Python-level arithmetics (mpfr, mp) go to a process pool.  Random bits (stochastic
rounding, injected noise) depend only on (seed, trajectory seed number, step, operation), so
results do not depend on the number of workers, the batch order or the tiling.
"""
from __future__ import annotations

import json
import math
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import xarray as xr

from ...codegen.arith import parse_ariths
from .common import PrecisionError, check_steps, make_problem, metadata

NOISE_PREFIX = "float64+noise:"


def _progress(total, desc, progress):
    from tqdm.auto import tqdm

    show = (total >= 4) if progress is None else bool(progress)
    return tqdm(total=total, desc=desc, disable=not show, leave=False)


def _seeds(seeds) -> list:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        n = check_steps(seeds, "seeds")
        return list(range(n))
    out = [int(s) for s in seeds]
    if not out or any(s < 0 for s in out):
        raise PrecisionError("seeds must be a positive count or a list of non-negative integers")
    return out


def _etas(etas) -> np.ndarray:
    from .common import parse_grid

    a = parse_grid(etas, "eta") if isinstance(etas, str) else np.atleast_1d(np.asarray(etas, float))
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise PrecisionError(f"the learning-rate grid must hold finite numbers, got {etas!r}")
    return a


def _noise_bits(ariths, noise_bits):
    """The p of the mechanism test: the bits of each arithmetic below float64 (or the given list)."""
    if noise_bits is not None:
        out = sorted({int(b) for b in np.atleast_1d(noise_bits)})
        if any(b < 2 or b > 52 for b in out):
            raise PrecisionError("noise bits must lie between 2 and 52 (float64 cannot carry smaller noise)")
        return out
    return sorted({a.bits for a in ariths if a.bits < 53})


def _workers(workers) -> int:
    if workers is None:
        return max(1, min(2, os.cpu_count() or 1))
    w = int(workers)
    if w < 1:
        raise PrecisionError(f"workers must be a positive integer, got {workers!r}")
    return w


def chain_init(d: int, depth: int, seeds, init_scale: float = 0.1):
    """Initial states of the chain model per seed: u ~ N(0, init_scale²/d · I), v_i ~ N(0,
    init_scale²), drawn from ``numpy.random.default_rng(seed)`` (u first) — the same draw as the
    chain model's own runs.  Returns (u0 (S, d), v0 (S, D−1))."""
    seeds = _seeds(seeds)
    u = np.empty((len(seeds), d))
    v = np.empty((len(seeds), depth - 1))
    for i, s in enumerate(seeds):
        rng = np.random.default_rng(s)
        u[i] = rng.standard_normal(d) * (init_scale / math.sqrt(d))
        v[i] = rng.standard_normal(depth - 1) * init_scale
    return u, v


# ============================================================================== generic maps

_POOL_STATE = {}


def _pool_init_map(step, state, params, name, form):
    _POOL_STATE.update(step=step, state=state, params=params, name=name, form=form, maps={})


def _pool_task_map(task):
    from ...codegen.arith import scalar_map

    spec, x0, pvals, steps, thr, every = task
    maps = _POOL_STATE["maps"]
    if spec not in maps:
        maps[spec] = scalar_map(_POOL_STATE["step"], _POOL_STATE["state"], _POOL_STATE["params"], spec,
                                name=_POOL_STATE["name"], form=_POOL_STATE["form"])
    o = maps[spec].orbit(x0, pvals, steps, record=False, threshold=thr, check_every=every)
    return o.diverged_at


def _run_pool(init, initargs, fn, tasks, workers, bar):
    out = [None] * len(tasks)
    if not tasks:
        return out
    if workers == 1:
        init(*initargs)
        for i, t in enumerate(tasks):
            out[i] = fn(t)
            bar.update(1)
        return out
    with ProcessPoolExecutor(max_workers=workers, initializer=init, initargs=initargs) as ex:
        futs = [ex.submit(fn, t) for t in tasks]
        for i, f in enumerate(futs):
            out[i] = f.result()
            bar.update(1)
    return out


def blowup(step, x0s, params, etas, seeds=8, steps: int = 5000, ariths="float32,float64", scan: str = "eta",
           state=None, param_order=None, name: str = "map", form: str = "horner", threshold: float = 1e6,
           check_every: int = 16, rounding: str = "nearest", mechanism: bool = True, noise_bits=None,
           noise_seed: int = 0, workers: int | None = None, progress: bool | None = None) -> xr.Dataset:
    """Blow-up statistics of the map ``step`` = {state symbol: expression}.

    ``x0s``: initial states, an array (S, k) (one per seed) or a callable seed → state;
    ``params``: values of the other parameters (mapping); ``scan``: the parameter put on the grid
    ``etas`` (list or 'a:b:n'); ``seeds``: a count (0 … N−1) or a list.  A trajectory diverges
    when some |x_i| > ``threshold`` at a check (every ``check_every`` steps and at the last).
    ``mechanism``: also run float64 with injected relative noise 2^-p (p from ``noise_bits`` or
    the bits of each arithmetic below float64).  Returns a Dataset over (eta, arith, seed) with
    ``diverged_at`` (−1: never) and ``diverged_fraction`` (eta, arith); see :func:`blowup_json`."""
    from ...codegen.arith import compile_arith_map

    seeds = _seeds(seeds)
    grid = _etas(etas)
    steps = check_steps(steps)
    arith_list = parse_ariths(ariths)
    if any(a.kind == "arb" for a in arith_list):
        raise PrecisionError("blow-up statistics use point arithmetics; arb balls are for certify")
    if callable(x0s):
        X0 = [list(x0s(s)) for s in seeds]
    else:
        X0 = [list(r) for r in np.atleast_2d(np.asarray(x0s, dtype=object))]
        if len(X0) != len(seeds):
            raise PrecisionError(f"x0s has {len(X0)} initial states for {len(seeds)} seeds")
    base = dict(params or {})
    base[scan] = 0
    prob = make_problem(step, X0[0], base, state, param_order, name=name, form=form)
    snames = [p.name for p in prob.params]
    if scan not in snames:
        raise PrecisionError(f"the scanned parameter {scan!r} is not a parameter of the map ({', '.join(snames)})")
    js = snames.index(scan)
    nb = _noise_bits(arith_list, noise_bits) if mechanism else []
    rows = [a.name for a in arith_list] + [f"{NOISE_PREFIX}{p}" for p in nb]
    E, A, S = len(grid), len(rows), len(seeds)
    div_at = np.full((E, A, S), -1, np.int64)
    workers = _workers(workers)
    # parameter rows per (eta, seed) in batch order
    pv = [list(prob.pvals) for _ in range(E * S)]
    x0b = []
    for e in range(E):
        for s in range(S):
            pv[e * S + s][js] = float(grid[e])
            x0b.append(X0[s])
    tids = np.tile(np.asarray(seeds, np.int64), E)
    kern = [(j, a) for j, a in enumerate(arith_list) if a.is_kernel]
    py = [(j, a) for j, a in enumerate(arith_list) if not a.is_kernel]
    bar = _progress(len(kern) + len(nb) + len(py) * E * S, "blow-up", progress)
    try:
        pv_arr = np.array(pv, dtype=object)
        x0_arr = np.array(x0b, dtype=object)
        for j, a in kern + [(len(arith_list) + i, "float64") for i in range(len(nb))]:
            arith = a if isinstance(a, str) else a.name
            km = compile_arith_map(prob.step, prob.state, prob.params, arith,
                                   rounding=rounding if arith in ("float16", "bfloat16") else "nearest",
                                   name=prob.name, form=prob.form)
            p_noise = nb[j - len(arith_list)] if j >= len(arith_list) else 0
            r = km.iterate(x0_arr, pv_arr, steps=steps, threshold=threshold, check_every=check_every,
                           seed=noise_seed, traj_ids=tids, noise_bits=p_noise)
            div_at[:, j, :] = r.diverged_at.reshape(E, S)
            bar.update(1)
        tasks, where = [], []
        for j, a in py:
            for e in range(E):
                for s in range(S):
                    tasks.append((a.name, X0[s], pv[e * S + s], steps, threshold, check_every))
                    where.append((e, j, s))
        res = _run_pool(_pool_init_map, (prob.step, prob.state, prob.params, prob.name, prob.form), _pool_task_map,
                        tasks, workers, bar)
        for (e, j, s), d in zip(where, res):
            div_at[e, j, s] = d
    finally:
        bar.close()
    cfg = prob.config()
    cfg["params"].pop(scan, None)
    cfg.update({"coords": "map", "scan": scan, "eta": grid.tolist(), "seeds": seeds, "steps": steps,
                "ariths": [a.name for a in arith_list], "noise_bits": nb, "noise_seed": noise_seed,
                "threshold": threshold, "check_every": check_every, "rounding": rounding,
                "x0": [[str(v) for v in x] for x in X0]})
    return _dataset(grid, rows, seeds, div_at, steps, cfg, "blowup")


def _dataset(grid, rows, seeds, div_at, steps, cfg, kind) -> xr.Dataset:
    frac = (div_at >= 0).mean(axis=2)
    ds = xr.Dataset({"diverged_at": (("eta", "arith", "seed"), div_at),
                     "diverged_fraction": (("eta", "arith"), frac)},
                    coords={"eta": grid, "arith": rows, "seed": np.asarray(seeds, np.int64)})
    ds["diverged_at"].attrs["description"] = "check step at which a state variable first exceeded the threshold; -1: never"
    ds.attrs["title"] = "blow-up statistics"
    ds.attrs["steps"] = steps
    summary = mechanism_summary(ds)
    ds.attrs["mechanism"] = json.dumps(summary)
    ds.attrs["symsharp"] = metadata(kind, cfg)
    return ds


def mechanism_summary(ds: xr.Dataset, tolerance: float = 0.2) -> dict:
    """Does float64 + noise 2^-p reproduce the divergence fractions of the p-bit arithmetic?

    Per p: mean over η of |fraction(p-bit) − fraction(float64 + noise 2^-p)| and of
    |fraction(p-bit) − fraction(float64)|; ``reproduces`` when the first is ≤ ``tolerance`` and
    (if the arithmetic differs from plain float64 by more than ``tolerance``) smaller than the
    second.  A test is ``informative`` only when the p-bit arithmetic differs from float64 by more
    than ``tolerance``; the verdict is drawn from the informative tests."""
    rows = [str(a) for a in ds["arith"].values]
    frac = ds["diverged_fraction"].values
    out = {"tolerance": tolerance, "tests": []}
    if "float64" not in rows:
        out["verdict"] = "no float64 runs: the mechanism test needs float64 in the list of arithmetics"
        return out
    f64 = frac[:, rows.index("float64")]
    for i, r in enumerate(rows):
        if not r.startswith(NOISE_PREFIX):
            continue
        p = int(r[len(NOISE_PREFIX):])
        from ...codegen.arith import parse_arith

        match = [j for j, a in enumerate(rows) if not a.startswith(NOISE_PREFIX) and parse_arith(a).bits == p]
        t = {"bits": p, "noise": r, "fraction_noise": frac[:, i].tolist(), "fraction_float64": f64.tolist()}
        if match:
            j = match[0]
            d_noise = float(np.mean(np.abs(frac[:, j] - frac[:, i])))
            d_plain = float(np.mean(np.abs(frac[:, j] - f64)))
            rep = d_noise <= tolerance and (d_plain <= tolerance or d_noise < d_plain)
            t.update({"arith": rows[j], "fraction_arith": frac[:, j].tolist(), "mean_abs_diff_noise": d_noise,
                      "mean_abs_diff_float64": d_plain, "reproduces": bool(rep)})
        out["tests"].append(t)
    decided = [t for t in out["tests"] if "reproduces" in t]
    informative = [t for t in decided if t["mean_abs_diff_float64"] > tolerance]
    if not decided:
        out["verdict"] = "no arithmetic below float64 to compare with"
    elif not informative:
        out["verdict"] = (f"no precision dependence here: every arithmetic's divergence fractions are within {tolerance:g} "
                          "of float64's on average, so the mechanism test has nothing to explain")
    elif all(t["reproduces"] for t in informative):
        out["verdict"] = ("float64 with injected relative noise 2^-p reproduces the divergence fractions of the p-bit "
                          "arithmetics that differ from float64: rounding noise of that size explains the precision "
                          "dependence")
    else:
        bad = ", ".join(t["arith"] for t in informative if not t["reproduces"])
        out["verdict"] = (f"injected noise does not reproduce the divergence fractions of {bad}: the precision "
                          "dependence is not explained by the noise level alone")
    for t in decided:
        t["informative"] = t["mean_abs_diff_float64"] > tolerance
    return out


# ============================================================================== the chain model

def _pool_init_chain(X, y, depth):
    _POOL_STATE.update(X=X, y=y, depth=depth, chains={})


def _pool_task_chain(task):
    from ...codegen.arith import ChainGD

    spec, u0, v0, eta, steps, thr, every = task
    ch = _POOL_STATE["chains"]
    if spec not in ch:
        ch[spec] = ChainGD(_POOL_STATE["X"], _POOL_STATE["y"], _POOL_STATE["depth"], spec)
    r = ch[spec].run(np.asarray([u0]), np.asarray([v0]), eta, steps, threshold=thr, check_every=every)
    return int(r.diverged_at[0])


def chain_svd_map(model, X):
    """The GD map of a chain model in SVD coordinates, for :func:`blowup_chain` with
    ``coords="svd"``: (step, state, params, W) from ``model`` (the SymPy model of the chain
    network on the reduced data, e.g. ``chain_svd_model(X, y, depth)`` of the chain model's
    package, whose parameters are z = Wᵀu and v) through
    :func:`symsharp.symbolic.calculus.gd_map`, and W from :func:`symsharp.data.svd_coordinates`.
    The engine does not build the model itself: models sit above the analyses."""
    from ...data import svd_coordinates
    from ...symbolic.calculus import gd_map

    st = gd_map(model)
    state = list(model.params)
    params = sorted({s for e in st.values() for s in e.free_symbols} - set(state), key=lambda s: s.name)
    _, _, W = svd_coordinates(np.asarray(X, float))
    return st, state, params, W


def blowup_chain(X, y, depth: int = 2, etas=(0.4,), seeds=8, steps: int = 5000, ariths="float32,float64",
                 coords: str = "raw", init_scale: float = 0.1, u0=None, v0=None, threshold: float = 1e6,
                 check_every: int = 16, rounding: str = "nearest", mechanism: bool = True, noise_bits=None,
                 noise_seed: int = 0, workers: int | None = None, progress: bool | None = None,
                 svd_map=None) -> xr.Dataset:
    """Blow-up statistics of full-batch GD on the chain model of depth ``depth`` on (X, y).

    ``coords="raw"``: the network's own arithmetic (every operation of the forward and backward
    pass rounded, :class:`~symsharp.codegen.arith.ChainGD`); ``coords="svd"``: the SymPy GD map
    in SVD coordinates (z = Wᵀu, v) through :func:`blowup`; it needs ``svd_map`` = (step, state,
    params, W), e.g. ``chain_svd_map(chain_svd_model(X, y, depth), X)`` with the chain model's own
    builder (the engine does not import models).  Initial states: ``u0`` (S, d), ``v0`` (S, D−1), or drawn per seed by
    :func:`chain_init`.  Divergence: some |θ_i| > ``threshold``.  Other arguments as in
    :func:`blowup`.  Returns a Dataset over (eta, arith, seed); see :func:`blowup_json`."""
    from ...codegen.arith import ChainGD

    X = np.asarray(X, float)
    y = np.asarray(y, float).reshape(-1)
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise PrecisionError(f"X must be N×d and y of length N, got shapes {X.shape} and {y.shape}")
    D = int(depth)
    if D != depth or D < 2:
        raise PrecisionError(f"depth must be an integer ≥ 2, got {depth!r}")
    if coords not in ("raw", "svd"):
        raise PrecisionError(f"coords must be 'raw' or 'svd', got {coords!r}")
    seeds = _seeds(seeds)
    grid = _etas(etas)
    steps = check_steps(steps)
    arith_list = parse_ariths(ariths)
    if any(a.kind == "arb" for a in arith_list):
        raise PrecisionError("blow-up statistics use point arithmetics; arb balls are for certify")
    N, d = X.shape
    if u0 is None or v0 is None:
        U0, V0 = chain_init(d, D, seeds, init_scale)
    else:
        U0 = np.atleast_2d(np.asarray(u0, float))
        V0 = np.atleast_2d(np.asarray(v0, float)).reshape(len(seeds), D - 1)
        if U0.shape != (len(seeds), d):
            raise PrecisionError(f"u0 must have shape (seeds, d) = ({len(seeds)}, {d}), got {U0.shape}")
    cfg = {"model": "chain", "coords": coords, "depth": D, "samples": N, "dim": d, "eta": grid.tolist(),
           "seeds": seeds, "steps": steps, "ariths": [a.name for a in arith_list], "init_scale": init_scale,
           "threshold": threshold, "check_every": check_every, "rounding": rounding, "noise_seed": noise_seed,
           "data_sha": __import__("hashlib").sha256(np.ascontiguousarray(X).tobytes()
                                                     + np.ascontiguousarray(y).tobytes()).hexdigest()[:16]}
    if coords == "svd":
        if svd_map is None:
            raise PrecisionError("coords='svd' needs svd_map=(step, state, params, W), e.g. "
                                 "chain_svd_map(chain_svd_model(X, y, depth), X) from the chain model's package")
        st, state, params, W = svd_map
        if W.shape[0] != d or len(state) != W.shape[1] + D - 1:
            raise PrecisionError(f"svd_map does not fit the data: expected {W.shape[1] + D - 1} state variables "
                                 f"(rank {W.shape[1]} + depth {D} − 1), got {len(state)}")
        x0s = np.hstack([U0 @ W, V0])
        ds = blowup(st, x0s, {}, grid, seeds, steps, arith_list, scan="eta", state=state, param_order=params,
                    name=f"chain_svd_N{N}_d{d}_D{D}", threshold=threshold, check_every=check_every, rounding=rounding,
                    mechanism=mechanism, noise_bits=noise_bits, noise_seed=noise_seed, workers=workers,
                    progress=progress)
        meta = json.loads(ds.attrs["symsharp"])
        meta.update(cfg)
        ds.attrs["symsharp"] = json.dumps(meta)
        return ds
    nb = _noise_bits(arith_list, noise_bits) if mechanism else []
    rows = [a.name for a in arith_list] + [f"{NOISE_PREFIX}{p}" for p in nb]
    E, A, S = len(grid), len(rows), len(seeds)
    div_at = np.full((E, A, S), -1, np.int64)
    workers = _workers(workers)
    ub = np.tile(U0, (E, 1))
    vb = np.tile(V0, (E, 1))
    eb = np.repeat(grid, S)
    tids = np.tile(np.asarray(seeds, np.int64), E)
    kern = [(j, a.name) for j, a in enumerate(arith_list) if a.is_kernel]
    kern += [(len(arith_list) + i, "float64") for i in range(len(nb))]
    py = [(j, a) for j, a in enumerate(arith_list) if not a.is_kernel]
    bar = _progress(len(kern) + len(py) * E * S, "blow-up (chain)", progress)
    try:
        for j, name in kern:
            cg = ChainGD(X, y, D, name, rounding=rounding if name in ("float16", "bfloat16") else "nearest")
            p_noise = nb[j - len(arith_list)] if j >= len(arith_list) else 0
            r = cg.run(ub, vb, eb, steps, threshold=threshold, check_every=check_every, seed=noise_seed,
                       traj_ids=tids, noise_bits=p_noise)
            div_at[:, j, :] = r.diverged_at.reshape(E, S)
            bar.update(1)
        tasks, where = [], []
        for j, a in py:
            for e in range(E):
                for s in range(S):
                    tasks.append((a.name, U0[s].tolist(), V0[s].tolist(), float(grid[e]), steps, threshold,
                                  check_every))
                    where.append((e, j, s))
        res = _run_pool(_pool_init_chain, (X, y, D), _pool_task_chain, tasks, workers, bar)
        for (e, j, s), dv in zip(where, res):
            div_at[e, j, s] = dv
    finally:
        bar.close()
    cfg["noise_bits"] = nb
    return _dataset(grid, rows, seeds, div_at, steps, cfg, "blowup_chain")


def blowup_json(ds: xr.Dataset) -> dict:
    """JSON of the blow-up statistics: ``{"eta": [...], "arith": [...], "seeds": [...],
    "steps": n, "diverged_fraction": [[per arith] per eta], "diverged_at": [[[per seed] per arith]
    per eta] (None: never), "mechanism": {...}}``."""
    da = ds["diverged_at"].values
    return {"eta": [float(v) for v in ds["eta"].values], "arith": [str(a) for a in ds["arith"].values],
            "seeds": [int(s) for s in ds["seed"].values], "steps": int(ds.attrs["steps"]),
            "diverged_fraction": ds["diverged_fraction"].values.tolist(),
            "diverged_at": [[[None if v < 0 else int(v) for v in row] for row in plane] for plane in da],
            "mechanism": json.loads(ds.attrs["mechanism"])}
