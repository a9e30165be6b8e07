"""``compile_map``: SymPy map → cached Numba kernels, and the :class:`CompiledMap` that runs them.

The numeric side (:class:`CompiledMap`) never calls SymPy: everything it needs (names, dtype)
is read from the generated module.
"""
from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numba
import numpy as np

from ..io import write_atomically
from .cache import atomic_write, cache_dir, content_hash, import_file
from .common import DTYPES, GENERATOR_VERSION, CodegenError, nonneg_int as _nonneg_int

DEFAULT_THRESHOLD = 1e8
DEFAULT_CHECK_EVERY = 16
WINDOW_TILE = 128
"""Points per tile of :meth:`CompiledMap.window`: a tile's records (steps × k × 128 values) stay in
the core's L2 cache between the steps that write them and the statistics that read them."""

if "NUMBA_THREADING_LAYER" not in os.environ and numba.config.THREADING_LAYER == "default":
    # Numba's work-queue threading layer: on this (shared, often oversubscribed) 2-core machine each
    # launch of a parallel kernel costs ~0.05 ms with it against ~16 ms with OpenMP, whose sleeping
    # threads wait for a time slice; scans launch kernels per tile and per window batch, so that
    # decides whether small tiles cost anything.  It is not re-entrant from several threads at once:
    # the scans' tile runner holds a lock.  NUMBA_THREADING_LAYER=omp (or tbb) restores the choice.
    numba.config.THREADING_LAYER = "workqueue"


def _skip_numba_blas_probe() -> None:
    """Start-up: when Numba's CPU target first loads (the first kernel called, also from the cache)
    it imports ``numba.np.arraymath``, which probes for BLAS by importing ``scipy.linalg`` — about
    0.3 s, a third of a warm ``symsharp orbit``, for kernels that never call BLAS.  SciPy is a
    declared dependency, so the probe's answer is known: import ``arraymath`` now with the probe
    answering "present" without the import.  Numba's linear-algebra functions keep their own check
    (``numba.np.linalg.ensure_blas`` is restored at once) and still import SciPy when first used.
    Skipped (the probe runs as usual) if SciPy is absent or Numba's layout differs."""
    if "numba.np.arraymath" in sys.modules:
        return
    import importlib.util

    try:
        if importlib.util.find_spec("scipy") is None:
            return
        import numba.np.linalg as linalg
    except Exception:  # pragma: no cover - unusual installations
        return
    probe = getattr(linalg, "ensure_blas", None)
    if probe is None:  # pragma: no cover - other Numba versions
        return
    linalg.ensure_blas = lambda: None
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        linalg.ensure_blas = probe


_skip_numba_blas_probe()


@dataclass
class Trajectories:
    """Result of :meth:`CompiledMap.iterate` (arrays in the caller's layout, batch first).

    x: final states (B, k).  records: states at ``record_steps`` (R, B, k), NaN after a whole tile
    diverged, or None.  diverged: per trajectory, whether a state variable exceeded the magnitude
    threshold (or was NaN) at a check.  diverged_at: the step of that check (−1 if never); checks
    happen every ``check_every`` steps and at the last step.  peak: maximum over steps 0..steps of
    the monitored observable (None unless requested)."""

    x: np.ndarray
    records: np.ndarray | None
    record_steps: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    peak: np.ndarray | None = None


def _safe_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(name))[:40]
    return s or "map"


class CompiledMap:
    """Compiled kernels of a map x ↦ F(x; p) with k state variables and m parameters.

    Arrays are batch-first for the caller: states (B, k) or (k,), parameters (B, m), (m,) or a
    mapping {name: scalar or (B,) array}; leading dimensions broadcast.  Internally the kernels use
    structure-of-arrays (k, B)."""

    def __init__(self, module, path: Path):
        self.module = module
        self.path = Path(path)
        self._warmup = None  # a process compiling the window or lyapunov kernel (see warm_up)
        self.name = module.NAME
        self.key = module.KEY
        self.dtype = np.dtype(module.DTYPE)
        self.state = tuple(module.STATE)
        self.params = tuple(module.PARAMS)
        self.observables = tuple(module.OBSERVABLES)
        self.monitor = module.MONITOR
        self.k = len(self.state)
        self.m = len(self.params)

    def __repr__(self):
        return (f"CompiledMap({self.name!r}, state={self.state}, params={self.params}, "
                f"observables={self.observables}, dtype={self.dtype.name})")

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def dispatchers(self) -> dict:
        """The Numba dispatchers of this map (for inspecting compile/cache statistics)."""
        return {n: getattr(self.module, n) for n in ("step", "jacobian", "observe", "iterate", "lyapunov", "window")}

    # ----------------------------------------------------------------------------- inputs
    def param_array(self, p) -> np.ndarray:
        """Parameters as an array (..., m) in the kernel dtype."""
        if isinstance(p, Mapping):
            unknown = [n for n in p if n not in self.params]
            if unknown:
                raise CodegenError(f"unknown parameter {unknown[0]!r} for map {self.name!r}; "
                                   f"its parameters are {list(self.params)}")
            missing = [n for n in self.params if n not in p]
            if missing:
                raise CodegenError(f"parameter {missing[0]!r} of map {self.name!r} has no value")
            cols = np.broadcast_arrays(*[np.asarray(p[n], dtype=self.dtype) for n in self.params]) if self.m else []
            if cols and cols[0].ndim > 1:
                raise CodegenError("parameter values must be scalars or 1-D arrays")
            return np.stack(cols, axis=-1) if cols else np.zeros((0,), self.dtype)
        if p is None:
            if self.m:
                raise CodegenError(f"map {self.name!r} needs values for its parameters {list(self.params)}")
            return np.zeros((0,), self.dtype)
        arr = np.asarray(p, dtype=self.dtype)
        if arr.ndim == 0 and self.m == 1:
            arr = arr.reshape(1)
        if arr.ndim == 0 or arr.shape[-1] != self.m:
            raise CodegenError(f"parameters must have a last dimension of length {self.m} "
                               f"({', '.join(self.params)}), got shape {arr.shape}")
        return arr

    def state_array(self, x) -> np.ndarray:
        arr = np.asarray(x, dtype=self.dtype)
        if arr.ndim == 0 and self.k == 1:
            arr = arr.reshape(1)
        if arr.ndim == 0 or arr.shape[-1] != self.k:
            raise CodegenError(f"states must have a last dimension of length {self.k} "
                               f"({', '.join(self.state)}), got shape {arr.shape}")
        return arr

    def _soa(self, x, p):
        """(X (k, B), P (m, B), leading shape) from batch-first inputs."""
        x = self.state_array(x)
        p = self.param_array(p)
        lead = np.broadcast_shapes(x.shape[:-1], p.shape[:-1])
        B = int(np.prod(lead)) if lead else 1
        # always fresh, writable, C-contiguous copies: the kernels have one signature each
        X = np.array(np.broadcast_to(x, lead + (self.k,)).reshape(B, self.k).T, order="C")
        P = np.array(np.broadcast_to(p, lead + (self.m,)).reshape(B, self.m).T, order="C")
        return X, P, lead

    def _tile(self, B: int, tile) -> int:
        if tile is not None:
            t = int(tile)
            if t < 1:
                raise CodegenError(f"tile must be a positive integer, got {tile!r}")
            return t
        t = 1024 if self.dtype == np.float32 else 512
        per_thread = -(-B // max(1, numba.get_num_threads()))
        return max(16, min(t, -(-per_thread // 16) * 16))

    # ----------------------------------------------------------------------------- kernels
    def step(self, x, p=None) -> np.ndarray:
        """One map step on a batch: F(x; p) with the shape of the broadcast inputs."""
        X, P, lead = self._soa(x, p)
        out = np.empty_like(X)
        self.module.step(X, P, out)
        return out.T.reshape(lead + (self.k,))

    def jacobian(self, x, p=None) -> np.ndarray:
        """The tangent map ∂F_a/∂x_b, shape (..., k, k)."""
        X, P, lead = self._soa(x, p)
        out = np.empty((self.k, self.k, X.shape[1]), self.dtype)
        self.module.jacobian(X, P, out)
        return np.moveaxis(out, -1, 0).reshape(lead + (self.k, self.k))

    def observe(self, x, p=None, names: Sequence[str] | None = None) -> dict:
        """Observables evaluated on a batch of states: {name: array of the leading shape}."""
        names = list(self.observables) if names is None else list(names)
        bad = [n for n in names if n not in self.observables]
        if bad:
            raise CodegenError(f"map {self.name!r} has no observable {bad[0]!r}; "
                               f"its observables are {list(self.observables)}")
        X, P, lead = self._soa(x, p)
        out = np.empty((len(self.observables), X.shape[1]), self.dtype)
        self.module.observe(X, P, out)
        return {n: out[self.observables.index(n)].reshape(lead) for n in names}

    def iterate(self, x0, p=None, steps: int = 1, record_every: int = 0, record_from: int | None = None,
                threshold: float = DEFAULT_THRESHOLD, check_every: int = DEFAULT_CHECK_EVERY,
                monitor: bool = False, tile: int | None = None, diverged=None) -> Trajectories:
        """Iterate a batch of trajectories.

        Records the state after steps t = record_from, record_from + record_every, … ≤ steps
        (t = 0 is the initial state; ``record_from`` defaults to ``record_every``; no records when
        ``record_every`` is 0).  ``monitor=True`` tracks the peak of the map's monitored
        observable (``self.monitor``, e.g. the loss).  ``diverged`` (B,) marks trajectories
        already known to have diverged.

        Without records, a trajectory whose state at a divergence check equals, bit for bit, its
        state at the previous check is exactly periodic from there on; it is finished at once (its
        last few steps taken alone) and leaves the tile, so converged points cost nothing more.  The
        results are exactly those of taking every step."""
        steps = _nonneg_int(steps, "steps")
        record_every = _nonneg_int(record_every, "record_every")
        check_every = _nonneg_int(check_every, "check_every")
        if check_every < 1:
            raise CodegenError("check_every must be a positive integer, got 0")
        if not (threshold > 0):
            raise CodegenError(f"threshold must be a positive number, got {threshold!r}")
        if monitor and self.monitor is None:
            raise CodegenError(f"map {self.name!r} was compiled without a monitored observable")
        X, P, lead = self._soa(x0, p)
        if len(lead) > 1:
            raise CodegenError(f"iterate takes a flat batch of states (B, k), got leading shape {lead}")
        B = X.shape[1]
        rf = record_every if record_from is None else _nonneg_int(record_from, "record_from")
        if record_every and rf <= steps:
            rsteps = np.arange(rf, steps + 1, record_every, dtype=np.int64)
        else:
            rsteps = np.zeros(0, np.int64)
        rec = np.full((len(rsteps), self.k, B), np.nan, self.dtype)
        div = np.zeros(B, np.bool_) if diverged is None else np.array(diverged, dtype=np.bool_).reshape(B)
        div_at = np.full(B, -1, np.int64)
        peak = np.empty(B if monitor else 0, self.dtype)
        tile = self._tile(B, tile)
        with numba.parallel_chunksize(1):
            self.module.iterate(X, P, np.int64(steps), np.int64(rf), np.int64(record_every if len(rsteps) else 0),
                                rec, np.float64(threshold), np.int64(check_every), div, div_at, peak,
                                bool(monitor), np.int64(tile))
        records = np.moveaxis(rec, 2, 1) if len(rsteps) else None
        return Trajectories(x=X.T.copy(), records=records, record_steps=rsteps, diverged=div,
                            diverged_at=div_at, peak=peak if monitor else None)

    def _unit_vectors(self, v0, B: int) -> np.ndarray:
        """Initial tangent vectors (k, B) in the kernel dtype: ``v0`` (B, k) or (k,) scaled to unit
        length (all components equal if None)."""
        if v0 is None:
            return np.ones((self.k, B), self.dtype) / np.sqrt(self.k)
        v = np.broadcast_to(np.asarray(v0, dtype=np.float64), (B, self.k))
        nrm = np.linalg.norm(v, axis=1, keepdims=True)
        if not np.all(nrm > 0):
            raise CodegenError("initial tangent vectors must be nonzero")
        return np.ascontiguousarray((v / nrm).T.astype(self.dtype))

    def warm_up(self, kernel: str = "window") -> None:
        """Start compiling ``kernel`` (``"window"``: :meth:`window`; ``"lyapunov"``: :meth:`tangent`)
        in a second process unless Numba has machine code for it already (in this process or in its
        on-disk cache).  Scans call this before their transient, which this process compiles and
        runs meanwhile; :meth:`window` and :meth:`tangent` wait for it.  (Off when SYMSHARP_NO_WARMUP
        is set: the kernel then compiles where it is first used.)"""
        if kernel not in ("window", "lyapunov"):
            raise CodegenError(f"kernel must be 'window' or 'lyapunov', got {kernel!r}")
        if self._warmup is not None or getattr(self.module, kernel).signatures:
            return
        if any((self.path.parent / "__pycache__").glob(f"{self.path.stem}.{kernel}-*.nbi")):
            return
        self._warmup = _spawn_warmup(self.path, kernel)

    def _wait_for_warmup(self) -> None:
        if self._warmup is not None:  # let the warm-up process finish writing the compiled kernels
            try:
                self._warmup.wait(timeout=300)
            except subprocess.TimeoutExpired:
                pass
            self._warmup = None

    def tangent(self, x0, p=None, v0=None, steps: int = 1, threshold: float = DEFAULT_THRESHOLD,
                check_every: int = DEFAULT_CHECK_EVERY, tile: int | None = None, diverged=None,
                record: bool = False, out_records=None):
        """Iterate states with renormalised tangent vectors.

        Returns (x (B, k), v (B, k), Σ_t log‖J v_t‖ (B,) in float64, diverged, diverged_at), and
        with ``record=True`` also the states after steps 1 … ``steps`` as a sixth item (steps, B, k)
        (the same records as :meth:`iterate` with ``record_every=1``), so that one pass gives an
        orbit window and its Lyapunov sum.  ``out_records`` (steps, k, B) in the kernel dtype, if
        given, receives the records instead of a new NaN-filled array (entries of trajectories
        that diverged are then undefined) — scans reuse one cache-sized buffer.  Each trajectory's
        numbers depend only on its own inputs, never on the tile or the batch it is computed in."""
        self._wait_for_warmup()
        steps = _nonneg_int(steps, "steps")
        check_every = max(1, _nonneg_int(check_every, "check_every"))
        X, P, lead = self._soa(x0, p)
        B = X.shape[1]
        V = self._unit_vectors(v0, B)
        div = np.zeros(B, np.bool_) if diverged is None else np.array(diverged, dtype=np.bool_).reshape(B)
        div_at = np.full(B, -1, np.int64)
        acc = np.zeros(B, np.float64)
        if record and out_records is not None:
            rec = out_records
            if rec.shape != (steps, self.k, B) or rec.dtype != self.dtype or not rec.flags.c_contiguous:
                raise CodegenError(f"out_records must be a C-contiguous {self.dtype.name} array of shape "
                                   f"{(steps, self.k, B)}, got {rec.dtype.name} {rec.shape}")
        else:
            rec = np.full((steps if record else 0, self.k, B), np.nan, self.dtype)
        with numba.parallel_chunksize(1):
            self.module.lyapunov(X, P, V, np.int64(steps), np.float64(threshold), np.int64(check_every),
                                 div, div_at, acc, np.int64(self._tile(B, tile)), rec, bool(record))
        out = (X.T.copy(), V.T.copy(), acc, div, div_at)
        return out + (np.moveaxis(rec, 2, 1),) if record else out

    def window(self, x0, p, v0, steps: int, ref, max_period: int, tol: float, escape_factor: float,
               threshold: float = DEFAULT_THRESHOLD, check_every: int = DEFAULT_CHECK_EVERY, tile: int | None = None,
               out_records=None) -> tuple:
        """One orbit window of B points in one pass: ``steps`` tangent steps from states ``x0`` (B, k)
        and unit tangent vectors ``v0`` (B, k), each tile's records examined while in cache by
        :func:`symsharp.codegen.window.stats_block` with scale floors ``ref`` (k, B).

        Returns (x, v, Σ log‖J v‖, diverged, diverged_at, period, mismatch, escaping, drifting), bit
        for bit what :meth:`tangent` with ``record=True`` followed by
        :func:`symsharp.dynamics.pointwork.window_stats` on its records gives (whatever the tile;
        the statistics of points that diverged are not defined).  ``out_records`` (steps, k, B) in
        the kernel dtype, if given, also receives the records."""
        self._wait_for_warmup()
        steps = _nonneg_int(steps, "steps")
        if steps < 1:
            raise CodegenError("a window needs steps >= 1")
        check_every = max(1, _nonneg_int(check_every, "check_every"))
        X, P, lead = self._soa(x0, p)
        B = X.shape[1]
        V = self._unit_vectors(v0, B)
        REF = np.ascontiguousarray(np.broadcast_to(np.asarray(ref, dtype=np.float64), (self.k, B)))
        div = np.zeros(B, np.bool_)
        div_at = np.full(B, -1, np.int64)
        acc = np.zeros(B, np.float64)
        period = np.zeros(B, np.int64)
        mismatch = np.full(B, np.inf)
        escape = np.zeros(B, np.bool_)
        drift = np.zeros(B, np.bool_)
        if out_records is not None:
            out = out_records
            if out.shape != (steps, self.k, B) or out.dtype != self.dtype or not out.flags.c_contiguous:
                raise CodegenError(f"out_records must be a C-contiguous {self.dtype.name} array of shape "
                                   f"{(steps, self.k, B)}, got {out.dtype.name} {out.shape}")
        else:
            out = np.empty((0, self.k, B), self.dtype)
        tile = WINDOW_TILE if tile is None else self._tile(B, tile)
        with numba.parallel_chunksize(1):
            self.module.window(X, P, V, np.int64(steps), np.float64(threshold), np.int64(check_every), div, div_at,
                               acc, np.int64(tile), REF, np.int64(max_period), np.float64(tol),
                               np.float64(escape_factor), period, mismatch, escape, drift, out,
                               out_records is not None)
        return X.T.copy(), V.T.copy(), acc, div, div_at, period, mismatch, escape, drift

    def __reduce__(self):
        """Pickle by source text: the receiving process (a Dask worker, possibly on another
        machine) writes the module into its own kernel cache if it is missing and imports it."""
        return (_restore_compiled_map, (self.path.name, self.source))


def _restore_compiled_map(name: str, source: str) -> "CompiledMap":
    """Unpickle a :class:`CompiledMap` (see ``CompiledMap.__reduce__``)."""
    path = cache_dir() / name
    if not path.exists():
        atomic_write(path, source)
    elif path.read_text(encoding="utf-8") != source:
        raise CodegenError(f"kernel file {str(path)!r} differs from the kernel sent to this process; delete it")
    return load_kernel(path)


# --------------------------------------------------------------------------------- compile_map

def _as_symbol_list(items, what) -> list:
    import sympy as sp

    out = []
    for s in items:
        s = sp.Symbol(s, real=True) if isinstance(s, str) else s
        if not isinstance(s, sp.Symbol):
            raise CodegenError(f"{what} must be SymPy symbols, got {s!r}")
        out.append(s)
    names = [s.name for s in out]
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        raise CodegenError(f"the name {dup[0]!r} appears twice among the {what}")
    return out


def compile_map(step: Mapping, state: Sequence | None = None, params: Sequence | None = None,
                dtype: str = "float64", observables: Mapping[str, "sp.Expr"] | None = None,
                name: str = "map", monitor: str | None = "auto", form: str = "horner") -> CompiledMap:
    """Compile the map x ↦ F(x; p) given as ``step = {state symbol: next-value expression}``.

    ``state`` fixes the order of the state variables (default: the order of ``step``);
    ``params`` the order of the parameters (default: the remaining free symbols sorted by name).
    ``observables`` are named expressions of state and parameters; ``monitor`` names the one
    whose peak :meth:`CompiledMap.iterate` can track (``"auto"``: ``"loss"`` if present).
    ``form`` is how polynomial expressions are arranged before CSE: ``"collected"`` (sum of
    parameter coefficient × state monomial), ``"horner"`` or ``"expanded"``.

    The kernel module is generated once per content hash and reused from the cache folder by
    every later call and process (Numba's own cache holds the machine code)."""
    import sympy as sp

    from .generate import build_source

    if dtype not in DTYPES:
        raise CodegenError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", name):
        raise CodegenError(f"name must be 1-64 letters, digits, '_', '-' or '.', got {name!r}")
    state, exprs = _ordered_step(step, state)
    observables = {str(n): sp.sympify(e) for n, e in (observables or {}).items()}
    for n in observables:
        if not n.isidentifier():
            raise CodegenError(f"observable name {n!r} is not a valid identifier")
    params, exprs, observables = _match_symbols(state, params, exprs, observables)
    if monitor == "auto":
        monitor = "loss" if "loss" in observables else None
    if monitor is not None and monitor not in observables:
        raise CodegenError(f"monitor {monitor!r} is not one of the observables {list(observables)}")
    key = content_hash("symsharp-kernel", GENERATOR_VERSION, _generator_sources_hash(), numba.__version__,
                       dtype, form, name,
                       sp.srepr(tuple(state)), sp.srepr(tuple(params)), sp.srepr(tuple(exprs)),
                       sp.srepr(tuple(observables.items())), monitor)
    path = cache_dir() / f"{_safe_name(name)}_{dtype}_{key[:24]}.py"
    return _load_or_build(path, key, name, dtype,
                          lambda: build_source(name, exprs, state, params, observables, monitor, dtype, form, key))


def _ordered_step(step, state) -> tuple:
    """(state symbols, next-value expressions in the same order) from ``step``; every state
    variable needs an expression and every expression a state variable (matched by name)."""
    import sympy as sp

    if not isinstance(step, Mapping) or not step:
        raise CodegenError("step must be a non-empty mapping {state symbol: next-value expression}")
    keys = list(step)
    state = _as_symbol_list(keys if state is None else state, "state variables")
    by_name = {s.name: s for s in keys if isinstance(s, sp.Symbol)}
    exprs = []
    for s in state:
        key = s if s in step else by_name.get(s.name)
        if key is None:
            raise CodegenError(f"state variable {s.name!r} has no next-value expression in step")
        exprs.append(sp.sympify(step[key]))
    extra = [k for k in keys if (k.name if isinstance(k, sp.Symbol) else k) not in {s.name for s in state}]
    if extra:
        raise CodegenError(f"step has an expression for {extra[0]!s}, which is not a state variable")
    return state, exprs


def _match_symbols(state, params, exprs, observables) -> tuple:
    """(params, exprs, observables) with the parameters ordered (default: every free symbol that is
    not a state variable, by name) and every symbol replaced by the state or parameter symbol of
    the same name (assumptions may differ between model and caller); an unknown symbol is an
    error."""
    syms = set().union(*[e.free_symbols for e in exprs + list(observables.values())])
    if params is None:
        params = sorted(syms - set(state), key=lambda s: s.name)
    params = _as_symbol_list(params, "parameters")
    ren = {}
    known = {s.name: s for s in state + params}
    for s in syms:
        if s.name not in known:
            raise CodegenError(f"symbol {s.name!r} is neither a state variable nor a parameter")
        if known[s.name] != s:
            ren[s] = known[s.name]
    if ren:
        exprs = [e.xreplace(ren) for e in exprs]
        observables = {n: e.xreplace(ren) for n, e in observables.items()}
    return params, exprs, observables


def _load_or_build(path, key: str, name: str, dtype: str, source) -> "CompiledMap":
    """The kernel module at ``path`` (generated from ``source()`` when missing); a corrupt or
    foreign cache file is discarded and regenerated once."""
    fresh = not path.exists()
    if fresh:
        _announce_compilation(name, dtype)
        atomic_write(path, source())
    try:
        cm = load_kernel(path, expected_key=key)
    except Exception:  # noqa: BLE001 - a corrupt or foreign cache file: discard it and regenerate once
        discard_kernel(path)
        _announce_compilation(name, dtype)
        atomic_write(path, source())
        cm = load_kernel(path, expected_key=key)
    return cm


def _announce_compilation(name: str, dtype: str) -> None:
    """Tell an interactive user why the first run of a map takes seconds (not in pipes or tests)."""
    if sys.stderr is not None and hasattr(sys.stderr, "isatty") and sys.stderr.isatty():
        sys.stderr.write(f"symsharp: compiling the {dtype} kernels of {name!r} once (cached in {cache_dir()} for "
                         "next time)\n")


def discard_kernel(path: Path) -> None:
    """Remove a kernel file and Numba's cache entries for it (so a corrupt file is rebuilt)."""
    path = Path(path)
    for p in [path] + list((path.parent / "__pycache__").glob(path.stem + ".*")):
        try:
            p.unlink()
        except OSError:
            pass
    sys.modules.pop("_symsharp_kernel_" + path.stem, None)


def _spawn_warmup(path: Path, kernel: str):
    """Compile ``kernel`` ("window" or "lyapunov") of a generated module in a second process while
    this one compiles and runs the iterator: all are parallel Numba functions that take seconds to
    compile, and Numba's on-disk cache hands the result over.  Off when SYMSHARP_NO_WARMUP is set."""
    if os.environ.get("SYMSHARP_NO_WARMUP"):
        return None
    code = "import sys; from symsharp.codegen.kernel import warm_kernel; warm_kernel(sys.argv[1], sys.argv[2])"
    try:
        return subprocess.Popen([sys.executable, "-c", code, str(path), kernel], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def warm_kernel(path, kernel: str) -> None:
    """Compile (and so cache) the ``window`` or the ``lyapunov`` kernel of a generated module, with
    the argument types :meth:`CompiledMap.window` and :meth:`CompiledMap.tangent` use."""
    cm = load_kernel(path)
    x, p, v = np.zeros((1, cm.k)), np.ones((1, cm.m)), np.ones((1, cm.k))
    if kernel == "window":
        cm.window(x, p, v, 2, np.ones((cm.k, 1)), 1, 1e-8, 1e3)
    else:
        cm.tangent(x, p, v, steps=1)


def load_kernel(path, expected_key: str | None = None) -> CompiledMap:
    """Load a generated kernel module from the cache (no SymPy involved)."""
    path = Path(path)
    if not path.exists():
        raise CodegenError(f"kernel file {str(path)!r} does not exist")
    mod = import_file(path)
    if expected_key is not None and getattr(mod, "KEY", None) != expected_key:
        raise CodegenError(f"kernel file {str(path)!r} does not hold the expected map; delete it to regenerate")
    return CompiledMap(mod, path)


# --------------------------------------------------------------------------------- recipes

@functools.lru_cache(maxsize=None)
def _generator_sources_hash() -> str:
    """Hash of the code generator's own source, so that a changed generator never reuses a
    kernel file written by an older one (in addition to ``GENERATOR_VERSION``)."""
    here = Path(__file__).resolve().parent
    return content_hash(*[content_hash((here / f).read_bytes()) for f in ("generate.py", "printer.py", "common.py", "window.py")])


def _symbolic_sources_hash() -> str:
    """Hash of the source files the derivations depend on (models, symbolic layer, recipes)."""
    root = Path(__file__).resolve().parent.parent
    files = sorted(list((root / "models").rglob("*.py")) + list((root / "symbolic").rglob("*.py"))
                   + [Path(__file__).with_name("maps.py")])
    return content_hash(*[str(f.relative_to(root)) + ":" + content_hash(f.read_bytes()) for f in files if f.exists()])


def cached_map(recipe: str, build: Callable[[], dict], dtype: str = "float64") -> CompiledMap:
    """A compiled map identified by a recipe string, derived by ``build()`` only once.

    ``build`` returns the keyword arguments of :func:`compile_map` (without ``dtype``).  The
    recipe's kernel file is remembered in the cache folder, keyed by the recipe, the dtype, the
    generator and Numba versions and a hash of the symbolic layer's source files, so a later
    process loads the kernel without repeating the derivation."""
    if dtype not in DTYPES:
        raise CodegenError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    rkey = content_hash("recipe", recipe, dtype, GENERATOR_VERSION, _generator_sources_hash(), numba.__version__,
                        _symbolic_sources_hash())
    ref = cache_dir() / "recipes" / f"{rkey[:32]}.txt"
    if ref.exists():
        target = cache_dir() / ref.read_text(encoding="utf-8").strip()
        if target.exists():
            try:
                return load_kernel(target)
            except Exception:  # noqa: BLE001 - corrupt: rebuild below from the derivation
                discard_kernel(target)
    cm = compile_map(dtype=dtype, **build())
    ref.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(ref, lambda tmp: Path(tmp).write_text(cm.path.name, encoding="utf-8"))
    return cm


def cached_symbolic(recipe: str, build: Callable[[], dict]) -> dict:
    """The SymPy map ``build()`` returns (the keyword arguments of :func:`compile_map`), derived
    only once: pickled in the cache folder under the recipe, the SymPy version and a hash of the
    symbolic layer's and the models' source files (so any change to a derivation derives again).
    The cache folder is trusted like the kernel modules in it, which are imported."""
    import pickle

    import sympy as sp

    key = content_hash("symbolic", recipe, sp.__version__, _symbolic_sources_hash())
    path = cache_dir() / "maps" / f"{key[:32]}.pickle"
    if path.exists():
        try:
            with open(path, "rb") as fh:
                kw = pickle.load(fh)
            if isinstance(kw, dict) and "step" in kw:
                return kw
        except Exception:  # noqa: BLE001 - a corrupt file: derive again and overwrite it
            pass
    kw = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda tmp: Path(tmp).write_bytes(pickle.dumps(kw)))
    except OSError:  # a read-only cache only costs the derivation next time
        pass
    return kw
