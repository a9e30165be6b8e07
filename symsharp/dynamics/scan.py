"""Scans over model options with labelled results: orbit diagrams, phase diagrams, Lyapunov
curves and single runs of a :class:`~symsharp.dynamics.systems.System`.

Every function returns an :class:`xarray.Dataset` whose ``attrs["symsharp"]`` (a JSON string)
holds the whole configuration: model, options (with their grids), scan settings, dtype, seed and
library versions; :mod:`symsharp.io` saves and reloads it and :mod:`symsharp.plots` draws it.
"""
from __future__ import annotations

import json
import time
from typing import Mapping

import numpy as np
import xarray as xr

from ..codegen.kernel import DEFAULT_CHECK_EVERY, DEFAULT_THRESHOLD
from ..io import versions
from .grid import parse_grid
from .orbits import REGIMES, DynamicsError, OrbitDiagram, lyapunov, orbit_diagram
from .systems import System

PROGRESS_STEPS = 2_000_000_000
"""Scans with more map steps than this (about a second of kernel time) show a progress bar."""


def _spec_text(v) -> object:
    return v if isinstance(v, (str, int, float)) or v is None else list(np.asarray(v, float).ravel())


def _metadata(kind: str, system: System, specs: Mapping, settings: Mapping) -> str:
    opts = {k: _spec_text(specs.get(k, o.default)) for k, o in system.options.items()}
    meta = {"kind": kind, "model": system.name, "description": system.description,
            "options": opts, "settings": dict(settings), "dtype": system.dtype,
            "seed": settings.get("seed", 0), "kernel": system.kernel_name, "versions": versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    meta.update(system.metadata)
    return json.dumps(meta, default=str)


def _grids(system: System, specs: Mapping) -> dict:
    """Parse option specs (numbers, lists or 'a:b:n' strings) into arrays."""
    unknown = [k for k in specs if k not in system.options]
    if unknown:
        raise DynamicsError(f"model {system.name!r} has no option {unknown[0]!r}; "
                            f"its options are {', '.join(system.options)}")
    return {k: parse_grid(v, k) for k, v in specs.items() if v is not None}


def _scanned(grids: Mapping, want: int, verb: str, axes=None) -> list:
    multi = [k for k, v in grids.items() if v.size > 1]
    if axes is not None:
        for a in axes:
            if a not in grids:
                raise DynamicsError(f"{verb}: the scanned option {a!r} was not given a grid")
        missing = [k for k in multi if k not in axes]
        if missing:
            raise DynamicsError(f"{verb}: option {missing[0]!r} has several values but is not a scan axis")
        return list(axes)
    if len(multi) != want:
        what = "one option" if want == 1 else "two options"
        raise DynamicsError(f"{verb} needs {what} given as a grid (start:stop:count or a,b,c); "
                            f"got {len(multi)}{': ' + ', '.join(multi) if multi else ''}")
    return multi


def _chunks(G: int, work_per_point: int, label: str, progress):
    """Index ranges over the grid; a tqdm bar when the scan is long (or progress=True)."""
    total = G * max(1, work_per_point)
    show = progress if progress is not None else total > PROGRESS_STEPS
    if not show:
        return [(0, G)], None
    n = max(1, min(G, 50))
    edges = np.linspace(0, G, n + 1).astype(int)
    ranges = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    from tqdm.auto import tqdm

    bar = tqdm(total=G, desc=label, unit="pt", leave=False, disable=None if progress is None else not progress)
    return ranges, bar


def _concat(parts: list) -> OrbitDiagram:
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    cat = {}
    for name in ("params", "values", "period", "regime", "lyapunov", "diverged_at", "final_state",
                 "loss_start", "loss_peak"):
        vals = [getattr(p, name) for p in parts]
        cat[name] = None if vals[0] is None else np.concatenate(vals, axis=0)
    return OrbitDiagram(param_names=first.param_names, observable=first.observable,
                        transient=first.transient, keep=first.keep, **cat)


def _orbit_core(system: System, x0, P, transient, keep, observable, continuation, max_period, tol,
                lyapunov_steps, threshold, check_every, seed, progress, label):
    G = P.shape[0]
    lsteps = keep if lyapunov_steps is None else int(lyapunov_steps)
    work = int(transient) + int(keep) + 2 * lsteps
    ranges, bar = _chunks(G, work, label, progress)
    parts = []
    carry = None
    observe_fn = system.observers.get(observable)
    try:
        for lo, hi in ranges:
            parts.append(orbit_diagram(system.kernel, x0[lo:hi], P[lo:hi], transient=transient, keep=keep,
                                       observable=observable, max_period=max_period, tol=tol,
                                       lyapunov_steps=lyapunov_steps, threshold=threshold,
                                       check_every=check_every, seed=seed, continuation=continuation,
                                       seed_state=carry, observe_fn=observe_fn))
            if continuation:
                carry = parts[-1].seed_out
            if bar is not None:
                bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
    return _concat(parts)


def distinct_values(values: np.ndarray, period: np.ndarray, regime: np.ndarray) -> list:
    """Per grid point: the distinct attractor values (the last ``period`` kept values, sorted) for
    converged and periodic points, all kept values otherwise, nothing where it diverged."""
    out = []
    for v, p, r in zip(values, period, regime):
        if REGIMES[r] == "diverged":
            out.append([])
        elif p >= 1:
            out.append(sorted(float(t) for t in v[-p:]))
        else:
            out.append([float(t) for t in v])
    return out


# ------------------------------------------------------------------------------------- orbit
def orbit(system: System, options: Mapping, transient: int = 10_000, keep: int = 256,
          observable: str | None = None, continuation: bool = False, max_period: int = 64,
          tol: float | None = None, lyapunov_steps: int | None = None, threshold: float = DEFAULT_THRESHOLD,
          check_every: int = DEFAULT_CHECK_EVERY, seed: int = 0, progress=None) -> xr.Dataset:
    """Orbit (bifurcation) diagram over the one option given as a grid.

    Per grid point: ``keep`` values of ``observable`` after ``transient`` steps, the period, the
    regime label and the largest Lyapunov exponent.  ``continuation=True`` starts every grid
    point from the previous point's state after its transient (previous-state seeding)."""
    system.require_deterministic("orbit")
    transient, keep = _steps(transient, "transient"), _steps(keep, "keep", 2)
    grids = _grids(system, options)
    (axis,) = _scanned(grids, 1, "orbit")
    x0, P, flat = system.prepare(grids)
    obs = observable or system.default_observable
    od = _orbit_core(system, x0, P, transient, keep, obs, continuation, max_period, tol, lyapunov_steps,
                     threshold, check_every, seed, progress, f"orbit over {axis}")
    ds = xr.Dataset(
        {"values": ((axis, "kept"), od.values, {"long_name": obs}),
         "period": ((axis,), od.period, {"long_name": "detected period (0: none)"}),
         "regime": ((axis,), od.regime, {"long_name": "regime code", "labels": ",".join(REGIMES)}),
         "lyapunov": ((axis,), od.lyapunov, {"long_name": "largest Lyapunov exponent"}),
         "diverged_at": ((axis,), od.diverged_at, {"long_name": "step of divergence (-1: never)"}),
         "final_state": ((axis, "state"), od.final_state)},
        coords={axis: flat[axis], "kept": np.arange(transient + 1, transient + keep + 1),
                "state": list(system.kernel.state)})
    for k, v in flat.items():
        if k != axis and np.ptp(v) == 0:
            ds.attrs[k] = float(v[0])
    ds.attrs["symsharp"] = _metadata("orbit", system, options, {
        "axis": axis, "observable": obs, "transient": transient, "keep": keep, "continuation": bool(continuation),
        "max_period": max_period, "tol": tol, "lyapunov_steps": lyapunov_steps, "threshold": threshold,
        "check_every": check_every, "seed": seed})
    return ds


def orbit_json(ds: xr.Dataset) -> dict:
    """The JSON contract of ``symsharp orbit --json``."""
    meta = json.loads(ds.attrs["symsharp"])
    axis = meta["settings"]["axis"]
    regime = [REGIMES[int(r)] for r in ds["regime"].values]
    vals = distinct_values(ds["values"].values, ds["period"].values, ds["regime"].values)
    return {"parameter": axis, axis: _finite_list(ds[axis].values), "observable": meta["settings"]["observable"],
            "period": [int(p) for p in ds["period"].values], "regime": regime,
            "lyapunov": _finite_list(ds["lyapunov"].values), "values": [_finite_list(v) for v in vals]}


def _finite_list(a) -> list:
    return [float(t) if np.isfinite(t) else None for t in np.asarray(a, dtype=float).ravel()]


# ------------------------------------------------------------------------------------- phase
def phase(system: System, options: Mapping, x: str | None = None, y: str | None = None,
          transient: int = 2000, keep: int = 128, max_period: int = 32, tol: float | None = None,
          lyapunov_steps: int | None = None, threshold: float = DEFAULT_THRESHOLD,
          check_every: int = DEFAULT_CHECK_EVERY, seed: int = 0, progress=None) -> xr.Dataset:
    """Regime labels over the 2-D grid of two options (``x`` and ``y``; by default the two
    options given as grids, in the order given).  ``regime[i, j]`` is at y[i], x[j]."""
    system.require_deterministic("phase")
    transient, keep = _steps(transient, "transient"), _steps(keep, "keep", 2)
    grids = _grids(system, options)
    axes = None if x is None and y is None else [x, y]
    if axes is not None and None in axes:
        raise DynamicsError("phase: give both x and y, or neither")
    xa, ya = _scanned(grids, 2, "phase", axes)
    if xa == ya:
        raise DynamicsError(f"phase: x and y must be different options, got {xa!r} twice")
    gx, gy = grids[xa], grids[ya]
    full = dict(grids)
    full[xa] = gx[None, :]
    full[ya] = gy[:, None]
    x0, P, flat = system.prepare(full)
    obs = system.kernel.monitor if system.kernel.monitor else None
    od = _orbit_core(system, x0, P, transient, keep, obs, False, max_period, tol, lyapunov_steps, threshold,
                     check_every, seed, progress, f"phase {xa} x {ya}")
    shp = (gy.size, gx.size)
    ds = xr.Dataset(
        {"regime": ((ya, xa), od.regime.reshape(shp), {"long_name": "regime code", "labels": ",".join(REGIMES)}),
         "period": ((ya, xa), od.period.reshape(shp)),
         "lyapunov": ((ya, xa), od.lyapunov.reshape(shp)),
         "diverged_at": ((ya, xa), od.diverged_at.reshape(shp))},
        coords={xa: gx, ya: gy})
    ds.attrs["symsharp"] = _metadata("phase", system, options, {
        "x": xa, "y": ya, "transient": transient, "keep": keep, "max_period": max_period, "tol": tol,
        "lyapunov_steps": lyapunov_steps, "threshold": threshold, "check_every": check_every, "seed": seed})
    return ds


def phase_json(ds: xr.Dataset) -> dict:
    meta = json.loads(ds.attrs["symsharp"])
    xa, ya = meta["settings"]["x"], meta["settings"]["y"]
    reg = ds["regime"].values
    return {"x": xa, "y": ya, "x_values": _finite_list(ds[xa].values), "y_values": _finite_list(ds[ya].values),
            "regime": [[REGIMES[int(r)] for r in row] for row in reg]}


# ------------------------------------------------------------------------------------- lyapunov
def lyapunov_curve(system: System, options: Mapping, steps: int = 10_000, transient: int = 1000,
                   threshold: float = DEFAULT_THRESHOLD, check_every: int = DEFAULT_CHECK_EVERY,
                   seed: int = 0, progress=None) -> xr.Dataset:
    """Largest Lyapunov exponent along the one option given as a grid, from the compiled tangent map."""
    system.require_deterministic("lyapunov")
    steps, transient = _steps(steps, "steps", 1), _steps(transient, "transient")
    grids = _grids(system, options)
    (axis,) = _scanned(grids, 1, "lyapunov")
    x0, P, flat = system.prepare(grids)
    G = P.shape[0]
    ranges, bar = _chunks(G, 2 * steps + transient, f"lyapunov over {axis}", progress)
    exps, divat = np.full(G, np.nan), np.full(G, -1, np.int64)
    try:
        for lo, hi in ranges:
            r = lyapunov(system.kernel, x0[lo:hi], P[lo:hi], steps=steps, transient=transient, seed=seed,
                         threshold=threshold, check_every=check_every)
            exps[lo:hi], divat[lo:hi] = r.exponent, r.diverged_at
            if bar is not None:
                bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
    ds = xr.Dataset({"lyapunov": ((axis,), exps, {"long_name": "largest Lyapunov exponent"}),
                     "diverged_at": ((axis,), divat)}, coords={axis: flat[axis]})
    ds.attrs["symsharp"] = _metadata("lyapunov", system, options, {
        "axis": axis, "steps": steps, "transient": transient, "threshold": threshold,
        "check_every": check_every, "seed": seed})
    return ds


def lyapunov_json(ds: xr.Dataset) -> dict:
    axis = json.loads(ds.attrs["symsharp"])["settings"]["axis"]
    return {"parameter": axis, axis: _finite_list(ds[axis].values), "lyapunov": _finite_list(ds["lyapunov"].values),
            "diverged_at": [int(t) for t in ds["diverged_at"].values]}


# ------------------------------------------------------------------------------------- run
def run(system: System, options: Mapping, steps: int = 1000, record_every: int = 1,
        threshold: float = DEFAULT_THRESHOLD, check_every: int = 1, progress=None) -> xr.Dataset:
    """One GD trajectory, recording the state and every observable every ``record_every`` steps.

    The run stops cleanly at divergence (a state variable above ``threshold`` in magnitude or not
    finite, checked every ``check_every`` steps): records after that step are NaN and
    ``attrs['diverged_at']`` holds the step (−1 if it never diverged)."""
    steps, record_every = _steps(steps, "steps", 1), _steps(record_every, "record_every", 1)
    grids = _grids(system, options)
    multi = [k for k, v in grids.items() if v.size > 1]
    if multi:
        raise DynamicsError(f"run takes one value per option; {multi[0]!r} has several (use orbit or phase to scan)")
    if system.runner is not None:
        return _run_with_runner(system, options, grids, steps, record_every, threshold, check_every, progress)
    x0, P, flat = system.prepare(grids)
    kern = system.kernel
    rec_steps = np.arange(0, steps + 1, record_every, dtype=np.int64)
    recs = np.full((rec_steps.size, kern.k), np.nan)
    x = x0
    div_at = -1
    chunk = max(record_every, (steps // 100) // record_every * record_every) if steps > 5_000_000 else steps
    ranges = list(range(0, steps, chunk))
    bar = None
    if progress or (progress is None and steps > 20_000_000):
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="run", unit="step", leave=False, disable=None if progress is None else not progress)
    recs[0] = x0[0]
    try:
        for start in ranges:
            n = min(chunk, steps - start)
            # record indices inside (start, start + n]
            first = ((start // record_every) + 1) * record_every
            tr = kern.iterate(x, P, steps=n, record_every=record_every, record_from=first - start,
                              threshold=threshold, check_every=check_every)
            if tr.records is not None:
                idx = (tr.record_steps + start) // record_every
                recs[idx] = tr.records[:, 0, :]
            x = tr.x
            if bar is not None:
                bar.update(n)
            if tr.diverged[0]:
                div_at = int(tr.diverged_at[0]) + start
                break
    finally:
        if bar is not None:
            bar.close()
    if div_at >= 0:
        recs[rec_steps > div_at] = np.nan
    data = {s: (("step",), recs[:, i]) for i, s in enumerate(kern.state)}
    ok = np.all(np.isfinite(recs), axis=1)
    obs = {n: np.full(rec_steps.size, np.nan) for n in kern.observables}
    if ok.any():
        vals = kern.observe(recs[ok], np.broadcast_to(P[0], (int(ok.sum()), kern.m)))
        for n, v in vals.items():
            obs[n][ok] = v
    hidden = system.hidden
    for n, v in obs.items():
        if not (hidden and n.startswith(hidden)):
            data[n] = (("step",), v)
    for n, fn in system.observers.items():
        if n not in data:
            data[n] = (("step",), np.asarray(fn(recs), dtype=float))
    hook = system.param_records
    if hook is not None:  # parameter norms from a parameter-space run of the same GD
        raw = {k: (np.asarray(v, float) if v is not None else None) for k, v in system.resolve(grids).items()}
        for n, v in hook(raw, steps, record_every).items():
            v = np.array(v, dtype=float)
            if div_at >= 0:
                v[rec_steps > div_at] = np.nan
            data[n] = (("step",), v)
    ds = xr.Dataset(data, coords={"step": rec_steps})
    for k, v in flat.items():
        ds.attrs[k] = float(v[0])
    ds.attrs["diverged_at"] = int(div_at)
    ds.attrs["symsharp"] = _metadata("run", system, options, {
        "steps": steps, "record_every": record_every, "threshold": threshold, "check_every": check_every,
        "seed": int(flat.get("seed", [0])[0])})
    return ds


def _run_with_runner(system, options, grids, steps, record_every, threshold, check_every, progress):
    """A run through the system's own runner (e.g. the chain model's GD/SGD in SVD coordinates)."""
    vals = {k: (None if v is None else float(v[0])) for k, v in system.resolve(grids).items()}
    out = system.runner(vals, steps, record_every, threshold, progress)
    data = {n: (dims, arr, dict(attrs)) for n, (dims, arr, attrs) in out["data"].items()}
    coords = {"step": np.asarray(out["steps"], dtype=np.int64)}
    coords.update({n: c for n, c in out.get("coords", {}).items()})
    ds = xr.Dataset(data, coords=coords)
    for k, v in vals.items():
        if v is not None:
            ds.attrs[k] = v
    ds.attrs.update(out.get("attrs", {}))
    ds.attrs["diverged_at"] = int(out["diverged_at"])
    settings = {"steps": steps, "record_every": record_every, "threshold": threshold, "check_every": check_every,
                "seed": int(vals.get("seed") or 0)}
    settings.update(out.get("settings", {}))
    ds.attrs["symsharp"] = _metadata("run", system, options, settings)
    return ds


def run_summary(ds: xr.Dataset) -> dict:
    """A short JSON summary of a run: final values of every recorded variable and the divergence step."""
    out = {"steps": int(json.loads(ds.attrs["symsharp"])["settings"]["steps"]),
           "diverged_at": int(ds.attrs.get("diverged_at", -1))}
    initial, final = {}, {}
    for name, var in ds.data_vars.items():
        if var.dims == ("step",):
            v = var.values
            initial[name] = float(v[0]) if v.size and np.isfinite(v[0]) else None
            fin = v[np.isfinite(v)]
            final[name] = float(fin[-1]) if fin.size else None
    out["initial"] = initial
    out["final"] = final
    if "eta" in ds.attrs:
        out["two_over_eta"] = 2.0 / ds.attrs["eta"]
    return out


def _steps(value, what, minimum=0) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise DynamicsError(f"{what} must be a whole number >= {minimum}, got {value!r}") from None
    if v != value or v < minimum:
        raise DynamicsError(f"{what} must be a whole number >= {minimum}, got {value!r}")
    return v
