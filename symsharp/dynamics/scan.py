"""Scans over model options with labelled results: orbit diagrams, phase diagrams, Lyapunov
curves and single runs of a :class:`~symsharp.dynamics.systems.System`.

Scans run in tiles chosen from a memory budget (``memory``, default 2 GB), whatever the progress
bar; the whole grid is checked first, with an estimate of time, memory and output size, and a scan
that cannot fit is refused in one line.  Tiles run in this process on every core (``local``), on
worker processes started here (``scheduler="processes:N"``), or on a Dask cluster (a scheduler
address or ``client=``); with ``out="scan.zarr"`` every finished tile is written into a Zarr store
at once, so a killed scan continues with ``resume=True`` and only missing tiles are computed.
Results are bit-identical whatever the tile size, scheduler, number of workers or progress bar:
a point's result depends only on its own parameters, initial state and the seed.

    from symsharp.models import get_model
    from symsharp.dynamics import phase
    uv = get_model("uv").make_system()
    ds = phase(uv, {"eta": "5:25:1000", "lam0": "0.01:0.5:1000", "f0": 0.0}, out="uv_phase.zarr")

Every function returns an :class:`xarray.Dataset` (``dataset=False``: a light
:class:`~symsharp.dynamics.result.ScanResult` that needs no xarray) whose ``attrs["symsharp"]`` (a
JSON string) holds the whole configuration — model, options (with their grids), scan settings,
dtype, seed, library versions — repeated as plain attributes, with CF attributes on every
variable; :mod:`symsharp.io` saves and reloads it and :mod:`symsharp.plots` draws it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from ..codegen.common import GENERATOR_VERSION
from ..codegen.kernel import DEFAULT_CHECK_EVERY, DEFAULT_THRESHOLD
from ..io import versions
from .common import REGIMES, UNSETTLED, DynamicsError
from .execute import parse_scheduler, run_tiles
from .grid import parse_grid
from .points import orbit_settings
from .result import CONVENTIONS, VARIABLE_ATTRS, ScanResult, option_attrs, plain_attrs
from .store import MemorySink, ZarrSink
from .systems import System
from .tiles import parse_memory, plan

PROGRESS_SECONDS = 5.0
"""Scans estimated to take longer than this show a progress bar with an ETA (on a terminal)."""


def _spec_text(v) -> object:
    return v if isinstance(v, (str, int, float)) or v is None else list(np.asarray(v, float).ravel())


def _meta_dict(kind: str, system: System, specs: Mapping, settings: Mapping) -> dict:
    opts = {k: _spec_text(specs.get(k, o.default)) for k, o in system.options.items()}
    meta = {"kind": kind, "model": system.name, "description": system.description,
            "options": opts, "settings": dict(settings), "dtype": system.dtype,
            "seed": settings.get("seed", 0), "kernel": system.kernel_name, "versions": versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    meta.update(system.metadata)
    return meta


def _metadata(kind: str, system: System, specs: Mapping, settings: Mapping) -> str:
    return json.dumps(_meta_dict(kind, system, specs, settings), default=str)


def _attrs(meta: dict) -> dict:
    out = {"Conventions": CONVENTIONS, "title": f"symsharp {meta['kind']} of the {meta['model']} model",
           "source": f"symsharp {meta.get('versions', {}).get('symsharp', '')}".strip()}
    out.update(plain_attrs(meta))
    out["symsharp"] = json.dumps(meta, default=str)
    return out


def _grids(system: System, specs: Mapping) -> dict:
    """Parse option specs (numbers, lists or 'a:b:n' strings) into arrays."""
    unknown = [k for k in specs if k not in system.options]
    if unknown:
        raise DynamicsError(f"model {system.name!r} has no option {unknown[0]!r}; "
                            f"its options are {', '.join(system.options)}")
    return {k: parse_grid(v, k) for k, v in specs.items() if v is not None}


def _scanned(grids: Mapping, want: int, verb: str, axes=None, allow_single: bool = False) -> list:
    multi = [k for k, v in grids.items() if v.size > 1]
    if axes is not None:
        for a in axes:
            if a not in grids:
                raise DynamicsError(f"{verb}: the scanned option {a!r} was not given a grid")
        missing = [k for k in multi if k not in axes]
        if missing:
            raise DynamicsError(f"{verb}: option {missing[0]!r} has several values but is not a scan axis")
        return list(axes)
    if allow_single and not multi and want == 1:
        given = list(grids)
        if not given:
            raise DynamicsError(f"{verb} needs a value for the option to scan (e.g. eta)")
        return ["eta" if "eta" in grids else given[0]]
    if len(multi) != want:
        what = "one option" if want == 1 else "two options"
        raise DynamicsError(f"{verb} needs {what} given as a grid (start:stop:count or a,b,c); "
                            f"got {len(multi)}{': ' + ', '.join(multi) if multi else ''}")
    return multi


def _steps(value, what, minimum=0) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError):
        raise DynamicsError(f"{what} must be a whole number >= {minimum}, got {value!r}") from None
    if v != value or v < minimum:
        raise DynamicsError(f"{what} must be a whole number >= {minimum}, got {value!r}")
    return v


def _out_kind(out) -> str | None:
    if out is None:
        return None
    from ..io import check_output_path

    p = check_output_path(out)
    return "zarr" if p.suffix.lower() == ".zarr" else "nc"


def _bar(total, label, progress, est_seconds):
    show = progress if progress is not None else est_seconds > PROGRESS_SECONDS
    if not show or total <= 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="pt", unit_scale=True, leave=False, smoothing=0.1,
                disable=None if progress is None else not progress)


def _tile_inputs(system: System, grids: Mapping, dims: list, layout):
    """inputs(i) -> (x0, P) of the points of tile i, row-major inside the tile."""
    base = {k: v for k, v in grids.items() if k not in dims}

    def inputs(i):
        sl = layout.slices(i)
        vals = dict(base)
        if len(dims) == 1:
            vals[dims[0]] = grids[dims[0]][sl[0]]
        else:
            ya, xa = dims
            gy, gx = grids[ya][sl[0]], grids[xa][sl[1]]
            vals[xa] = np.broadcast_to(gx[None, :], (gy.size, gx.size)).ravel()
            vals[ya] = np.broadcast_to(gy[:, None], (gy.size, gx.size)).ravel()
        x0, P, _ = system.prepare(vals)
        return x0, P

    return inputs


def _orbit_specs(kind, k, keep, with_values, with_final):
    specs = {"regime": (np.int8, (), 0), "period": (np.int32, (), 0), "lyapunov": (np.float64, (), np.nan),
             "diverged_at": (np.int64, (), -1), "steps": (np.int64, (), 0)}
    if with_values:
        specs["values"] = (np.float64, (keep,), np.nan)
    if with_final:
        specs["final_state"] = (np.float64, (k,), np.nan)
    return specs


def _execute(kind, system, options, grids, dims, job, specs, extra_dims, settings, work_per_point, steps_per_point,
             per_point_bytes, progress, memory, scheduler, client, out, resume, tile, label, coords_fn, var_attrs,
             on_plan=None):
    """Plan, run and assemble a tiled scan (shared by orbit, phase and lyapunov)."""
    out_kind = _out_kind(out)
    budget = parse_memory(memory)
    sched = client if client is not None else scheduler
    parse_scheduler(sched)  # a bad scheduler fails before any work
    shape = tuple(grids[d].size for d in dims)
    out_pp = sum(np.dtype(dt).itemsize * int(np.prod(tr)) for dt, tr, _ in specs.values())
    layout, est = plan(kind, shape, steps_per_point, work_per_point, system.kernel.k, per_point_bytes, out_pp,
                       budget, in_memory=out_kind != "zarr", tile_points=tile)
    if on_plan is not None:
        on_plan(est)
    settings = dict(settings)
    meta = _meta_dict(kind, system, options, settings)
    meta["estimate"] = est.as_dict()
    all_dims = {n: tuple(dims) + tuple(extra_dims.get(n, ())) for n in specs}
    inputs = _tile_inputs(system, grids, dims, layout)
    sequential = bool(settings.get("continuation"))
    if out_kind == "zarr":
        fp = {"kind": kind, "model": system.name, "options": meta["options"], "settings": settings,
              "dtype": system.dtype, "kernel": system.kernel_name, "generator": GENERATOR_VERSION,
              "shape": list(shape), "metadata": system.metadata}

        def template():
            import xarray as xr

            ds = xr.Dataset(coords={n: (d, a, at) for n, (d, a, at) in coords_fn().items()}, attrs=_attrs(meta))
            ds.attrs["_var_attrs"] = var_attrs
            return ds

        sink = ZarrSink(out, layout, specs, all_dims, template, fp, resume=resume,
                        carry_k=system.kernel.k if sequential else 0)
        layout = sink.layout
        inputs = _tile_inputs(system, grids, dims, layout)
    else:
        sink = MemorySink(layout, specs)
    todo = sink.remaining()
    bar = _bar(sum(layout.size(i) for i in todo), label, progress, est.seconds * len(todo) / max(1, layout.ntiles))
    try:
        first = sink.carry_before(todo[0]) if (sequential and todo and out_kind == "zarr") else None
        if sequential and out_kind == "zarr" and todo and todo[0] > 0 and first is None:
            # the previous tile passed nothing on (it diverged): start from the tile's own states
            first = None
        run_tiles(job, todo, inputs, sink, scheduler=sched, sequential=sequential, bar=bar, first_carry=first)
    finally:
        if bar is not None:
            bar.close()
        sink.close()
    if out_kind == "zarr":
        return ("zarr", Path(out), meta, est)
    data = {n: (all_dims[n], sink.arrays[n], var_attrs.get(n, {})) for n in specs}
    return ("memory", ScanResult(data, coords_fn(), _attrs(meta)), meta, est)


def _finish(res, dataset: bool, counts_fn=None):
    kind, obj, meta, est = res
    if kind == "zarr":
        _update_store_counts(obj)
        from ..io import load_result

        return load_result(obj)
    if dataset:
        return obj.to_dataset()
    return obj


def _update_store_counts(path) -> None:
    """Record the regime counts of a finished Zarr scan in its attributes."""
    import zarr

    g = zarr.open_group(str(path), mode="r+")
    if "regime" not in g:
        return
    counts = np.zeros(len(REGIMES), np.int64)
    arr = g["regime"]
    step = max(1, (1 << 24) // max(1, int(np.prod(arr.shape[1:])) if arr.ndim > 1 else 1))
    for lo in range(0, arr.shape[0], step):
        counts += np.bincount(np.asarray(arr[lo:lo + step]).ravel().astype(np.int64), minlength=len(REGIMES))[:len(REGIMES)]
    meta = json.loads(g.attrs["symsharp"])
    meta["regime_counts"] = {r: int(c) for r, c in zip(REGIMES, counts)}
    g.attrs["symsharp"] = json.dumps(meta, default=str)
    g.attrs["unsettled_points"] = int(counts[UNSETTLED])
    from .store import consolidate

    consolidate(str(path))


def _orbit_common(system, options, transient, keep, observable, continuation, max_period, tol, lyapunov_steps,
                  threshold, check_every, seed, settle):
    st = orbit_settings(transient=transient, keep=keep, max_period=max_period, tol=tol, lyapunov_steps=lyapunov_steps,
                        threshold=threshold, check_every=check_every, seed=seed, continuation=continuation,
                        settle=settle)
    return st


def _work(st, k):
    ls = st.lsteps()
    plain = st.transient + (st.keep if ls != st.keep else 0)
    return plain + 3 * ls, st.transient + st.keep + (ls if ls != st.keep else 0)


def _point_bytes(kernel, st, with_values, n_obs):
    it = kernel.dtype.itemsize
    k, m = kernel.k, kernel.m
    b = st.keep * k * it * 2 + 8 * (8 * k + 4 * m) + 160
    if with_values:
        b += st.keep * 8 * (k + n_obs + 3)
    return b


def _check_observable(system, obs):
    kern = system.kernel
    if obs not in kern.state and obs not in kern.observables and obs not in system.observers:
        raise DynamicsError(f"observable {obs!r} is not one of {', '.join(system.observables) or 'the state variables'}")


def _regime_note(meta: dict, regime: np.ndarray) -> None:
    n = int(np.sum(regime == UNSETTLED))
    meta["unsettled_points"] = n


# ------------------------------------------------------------------------------------- orbit
def orbit(system: System, options: Mapping, transient: int = 10_000, keep: int = 256,
          observable: str | None = None, continuation: bool = False, max_period: int = 64,
          tol: float | None = None, lyapunov_steps: int | None = None, threshold: float = DEFAULT_THRESHOLD,
          check_every: int = DEFAULT_CHECK_EVERY, seed: int = 0, progress=None, settle: int | None = None,
          memory=None, scheduler=None, client=None, out=None, resume: bool = False, tile: int | None = None,
          dataset: bool = True, on_plan=None):
    """Orbit (bifurcation) diagram over the one option given as a grid.

    Per grid point: ``keep`` values of ``observable`` after ``transient`` steps, the period, the
    regime label, the largest Lyapunov exponent, the steps run and the final state.
    ``continuation=True`` starts every grid point from the previous point's state after its
    transient (previous-state seeding; tiles then run in order in this process).  Points without a
    period are run on until their statistics settle, up to ``settle`` steps (default
    8·max(transient, 1000); 0: off), else labelled ``unsettled``.

    ``memory`` (bytes or '2GB'), ``scheduler`` ('local', 'processes:N', 'tcp://host:port'),
    ``client`` (a ``dask.distributed.Client``), ``out`` (a ``.zarr`` store the tiles stream into;
    ``resume=True`` finishes a killed scan) and ``tile`` (points per tile, for tests) only decide
    where and how the work runs, never the answer; ``on_plan(estimate)`` is called with the
    :class:`~symsharp.dynamics.tiles.Estimate` before any work starts."""
    system.require_deterministic("orbit")
    st = _orbit_common(system, options, transient, keep, observable, continuation, max_period, tol, lyapunov_steps,
                       threshold, check_every, seed, settle)
    grids = _grids(system, options)
    (axis,) = _scanned(grids, 1, "orbit")
    system.resolve(grids)
    obs = observable or system.default_observable
    _check_observable(system, obs)
    kern = system.kernel
    work, steps = _work(st, kern.k)
    settings = {"axis": axis, "observable": obs, "transient": st.transient, "keep": st.keep,
                "continuation": st.continuation, "max_period": st.max_period, "tol": tol,
                "lyapunov_steps": lyapunov_steps, "threshold": st.threshold, "check_every": st.check_every,
                "seed": st.seed, "settle": st.cap()}
    job = {"kind": "orbit", "kernel": kern, "settings": st, "observable": obs,
           "observe_fn": system.observers.get(obs), "final_state": True}
    specs = _orbit_specs("orbit", kern.k, st.keep, True, True)
    extra = {"values": ("kept",), "final_state": ("state",)}

    def coords():
        return {axis: ((axis,), grids[axis], option_attrs(axis)),
                "kept": (("kept",), np.arange(st.transient + 1, st.transient + st.keep + 1),
                         {**VARIABLE_ATTRS["kept"], "comment": "for points extended to settle, the last kept window "
                                                              "ends at their 'steps'"}),
                "state": (("state",), np.array(kern.state, dtype=str), VARIABLE_ATTRS["state"])}

    vattrs = {n: dict(VARIABLE_ATTRS[n]) for n in specs}
    vattrs["values"] = {**option_attrs(obs), "units": "1"}
    res = _execute("orbit", system, options, grids, [axis], job, specs, extra, settings, work, steps,
                   _point_bytes(kern, st, True, len(kern.observables)), progress, memory, scheduler, client, out,
                   resume, tile, f"orbit over {axis}", coords, vattrs, on_plan)
    return _finish(res, dataset)


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


def orbit_json(ds) -> dict:
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
          check_every: int = DEFAULT_CHECK_EVERY, seed: int = 0, progress=None, settle: int | None = None,
          keep_values: bool = False, memory=None, scheduler=None, client=None, out=None, resume: bool = False,
          tile: int | None = None, dataset: bool = True, on_plan=None):
    """Regime labels over the 2-D grid of two options (``x`` and ``y``; by default the two
    options given as grids, in the order given).  ``regime[i, j]`` is at y[i], x[j].

    Kept: regime, period, Lyapunov exponent, divergence step and steps run per point; the kept
    values of the monitored observable (the loss) only with ``keep_values=True``.  Settling and
    the tiling/scheduling arguments are those of :func:`orbit`."""
    system.require_deterministic("phase")
    st = _orbit_common(system, options, transient, keep, None, False, max_period, tol, lyapunov_steps,
                       threshold, check_every, seed, settle)
    grids = _grids(system, options)
    axes = None if x is None and y is None else [x, y]
    if axes is not None and None in axes:
        raise DynamicsError("phase: give both x and y, or neither")
    xa, ya = _scanned(grids, 2, "phase", axes)
    if xa == ya:
        raise DynamicsError(f"phase: x and y must be different options, got {xa!r} twice")
    system.resolve(grids)
    kern = system.kernel
    obs = (kern.monitor or kern.state[0]) if keep_values else None
    work, steps = _work(st, kern.k)
    settings = {"x": xa, "y": ya, "transient": st.transient, "keep": st.keep, "max_period": st.max_period,
                "tol": tol, "lyapunov_steps": lyapunov_steps, "threshold": st.threshold,
                "check_every": st.check_every, "seed": st.seed, "settle": st.cap(), "keep_values": bool(keep_values)}
    if keep_values:
        settings["observable"] = obs
    job = {"kind": "phase", "kernel": kern, "settings": st, "observable": obs, "observe_fn": None,
           "final_state": False}
    specs = _orbit_specs("phase", kern.k, st.keep, bool(keep_values), False)
    extra = {"values": ("kept",)}

    def coords():
        c = {xa: ((xa,), grids[xa], option_attrs(xa)), ya: ((ya,), grids[ya], option_attrs(ya))}
        if keep_values:
            c["kept"] = (("kept",), np.arange(st.transient + 1, st.transient + st.keep + 1), VARIABLE_ATTRS["kept"])
        return c

    vattrs = {n: dict(VARIABLE_ATTRS[n]) for n in specs}
    if keep_values:
        vattrs["values"] = {**option_attrs(obs), "units": "1"}
    res = _execute("phase", system, options, grids, [ya, xa], job, specs, extra, settings, work, steps,
                   _point_bytes(kern, st, bool(keep_values), len(kern.observables)), progress, memory, scheduler,
                   client, out, resume, tile, f"phase {xa} x {ya}", coords, vattrs, on_plan)
    return _finish(res, dataset)


def phase_json(ds) -> dict:
    meta = json.loads(ds.attrs["symsharp"])
    xa, ya = meta["settings"]["x"], meta["settings"]["y"]
    reg = ds["regime"].values
    return {"x": xa, "y": ya, "x_values": _finite_list(ds[xa].values), "y_values": _finite_list(ds[ya].values),
            "regime": [[REGIMES[int(r)] for r in row] for row in reg]}


# ------------------------------------------------------------------------------------- lyapunov
def lyapunov_curve(system: System, options: Mapping, steps: int = 10_000, transient: int = 1000,
                   threshold: float = DEFAULT_THRESHOLD, check_every: int = DEFAULT_CHECK_EVERY,
                   seed: int = 0, progress=None, memory=None, scheduler=None, client=None, out=None,
                   resume: bool = False, tile: int | None = None, dataset: bool = True, on_plan=None):
    """Largest Lyapunov exponent along the one option given as a grid (or at a single point), from
    the compiled tangent map; each point's tangent vector is hashed from the seed and the point's
    own inputs."""
    system.require_deterministic("lyapunov")
    steps, transient = _steps(steps, "steps", 1), _steps(transient, "transient")
    seed = _steps(seed, "seed")
    if not (float(threshold) > 0 and np.isfinite(threshold)):
        raise DynamicsError(f"threshold must be a positive finite number, got {threshold!r}")
    check_every = _steps(check_every, "check_every", 1)
    grids = _grids(system, options)
    (axis,) = _scanned(grids, 1, "lyapunov", allow_single=True)
    system.resolve(grids)
    kern = system.kernel
    settings = {"axis": axis, "steps": steps, "transient": transient, "threshold": float(threshold),
                "check_every": check_every, "seed": seed}
    job = {"kind": "lyapunov", "kernel": kern, "settings": settings}
    specs = {"lyapunov": (np.float64, (), np.nan), "diverged_at": (np.int64, (), -1)}

    def coords():
        return {axis: ((axis,), grids[axis], option_attrs(axis))}

    vattrs = {n: dict(VARIABLE_ATTRS[n]) for n in specs}
    res = _execute("lyapunov", system, options, grids, [axis], job, specs, {}, settings, transient + 3 * steps,
                   transient + steps, 8 * (8 * kern.k + 4 * kern.m) + 160, progress, memory, scheduler, client, out,
                   resume, tile, f"lyapunov over {axis}", coords, vattrs, on_plan)
    return _finish(res, dataset)


def lyapunov_json(ds) -> dict:
    axis = json.loads(ds.attrs["symsharp"])["settings"]["axis"]
    return {"parameter": axis, axis: _finite_list(ds[axis].values), "lyapunov": _finite_list(ds["lyapunov"].values),
            "diverged_at": [int(t) for t in ds["diverged_at"].values]}


# ------------------------------------------------------------------------------------- run
def run(system: System, options: Mapping, steps: int = 1000, record_every: int = 1,
        threshold: float = DEFAULT_THRESHOLD, check_every: int = 1, progress=None, dataset: bool = True,
        memory=None):
    """One GD trajectory, recording the state and every observable every ``record_every`` steps.

    The run stops cleanly at divergence (a state variable above ``threshold`` in magnitude or not
    finite, checked every ``check_every`` steps): records after that step are NaN and
    ``attrs['diverged_at']`` holds the step (−1 if it never diverged).  Records that would not fit
    the memory budget (``memory``, default 2 GB) are refused before the run starts."""
    steps, record_every = _steps(steps, "steps", 1), _steps(record_every, "record_every", 1)
    budget = parse_memory(memory)
    n_rec = steps // record_every + 1
    need = n_rec * 8 * (len(system.observables) + 4) * 3
    if need > budget:
        from .tiles import fmt_bytes

        raise DynamicsError(f"run: {n_rec:,} records need about {fmt_bytes(need)} of memory, over the memory budget "
                            f"{fmt_bytes(budget)}; raise --record-every, lower --steps or raise --memory")
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
    meta = _meta_dict("run", system, options, {
        "steps": steps, "record_every": record_every, "threshold": threshold, "check_every": check_every,
        "seed": int(flat.get("seed", [0])[0])})
    attrs = _attrs(meta)
    for k, v in flat.items():
        attrs[k] = float(v[0])
    attrs["diverged_at"] = int(div_at)
    data = {n: (d, a, option_attrs(n)) for n, (d, a) in data.items()}
    res = ScanResult(data, {"step": (("step",), rec_steps, VARIABLE_ATTRS["step"])}, attrs)
    return res.to_dataset() if dataset else res


def _run_with_runner(system, options, grids, steps, record_every, threshold, check_every, progress):
    """A run through the system's own runner (e.g. the chain model's GD/SGD in SVD coordinates)."""
    import xarray as xr

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
    meta = _meta_dict("run", system, options, settings)
    for k, v in _attrs(meta).items():
        ds.attrs.setdefault(k, v)
    ds.attrs["symsharp"] = json.dumps(meta, default=str)
    for n in ds.variables:
        for a, v in option_attrs(n).items():
            ds[n].attrs.setdefault(a, v)
    return ds


def run_summary(ds) -> dict:
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
