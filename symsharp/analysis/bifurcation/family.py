"""A one-parameter family of maps x ↦ F(x; p), given as SymPy data, with its exact Jacobian.

:class:`MapFamily` is the object every other module of :mod:`symsharp.analysis.bifurcation`
works on.  It holds

- the SymPy map (state symbols, the continuation parameter, the fixed parameters and their exact
  values);
- two compiled float64 kernels (:func:`symsharp.codegen.compile_map`): ``kernel`` with state x and
  parameters (p, fixed…) for batched iteration, orbit scans and tangent maps, and ``ext``, the
  extended map (x, p) ↦ (F(x; p), p), whose Jacobian carries the parameter derivative ∂F/∂p in
  its last column, so that a product of extended Jacobians along an orbit is [∂F^n/∂x | ∂F^n/∂p];
- the same map and Jacobian lambdified into mpmath (with common subexpressions) for refinement
  at high precision.

The exact Jacobian is SymPy's derivative of the map; nothing is differentiated numerically except
the gradients of test functions during mpmath refinement (finite differences at half the working
precision, which Newton's method tolerates).
"""
from __future__ import annotations

import contextlib
import fractions
import math
from typing import Mapping, Sequence

import mpmath as mp
import numba as nb
import numpy as np
import sympy as sp

from ...codegen import CompiledMap, compile_map
from ...errors import SymsharpError
from ...symbolic.calculus import gd_map

BIG = 1e300
"""Magnitude threshold passed to the kernels when an orbit is evaluated (not iterated to test
divergence): only NaN stops a trajectory."""


class BifurcationError(SymsharpError):
    """Bad input to, or an impossible request of, the bifurcation engine (one sentence)."""


# ------------------------------------------------------------------------------------ helpers
def exact_value(v, what: str = "value") -> sp.Expr:
    """An exact SymPy number for a parameter value: ints and fractions exactly, floats as the
    decimal they print as (0.01 → 1/100), SymPy numbers as given; strings as decimals or p/q."""
    if isinstance(v, bool):
        raise BifurcationError(f"{what} must be a number, got {v!r}")
    if isinstance(v, sp.Basic):
        if not v.is_number:
            raise BifurcationError(f"{what} must be a number, got the expression {v}")
        return v
    if isinstance(v, (int, np.integer)):
        return sp.Integer(int(v))
    if isinstance(v, fractions.Fraction):
        return sp.Rational(v.numerator, v.denominator)
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            raise BifurcationError(f"{what} must be finite, got {v!r}")
        return sp.Rational(repr(float(v)))
    if isinstance(v, mp.mpf):
        m, e = mp.mpf(v).man_exp
        return sp.Integer(int(m)) * sp.Integer(2) ** int(e)
    if isinstance(v, str):
        try:
            q = fractions.Fraction(v.strip())
        except (ValueError, ZeroDivisionError):
            raise BifurcationError(f"{what} {v!r} is not a decimal number or a fraction p/q") from None
        return sp.Rational(q.numerator, q.denominator)
    raise BifurcationError(f"{what} must be a number, got {type(v).__name__} {v!r}")


def mp_of(e) -> mp.mpf:
    """An exact SymPy number (or float) as an mpf at the current mpmath precision."""
    if isinstance(e, sp.Rational):
        return mp.mpf(int(e.p)) / int(e.q)
    if isinstance(e, sp.Basic):
        return mp.mpf(str(sp.N(e, mp.mp.dps + 5)))
    return mp.mpf(e)


@contextlib.contextmanager
def _threads_for(work: int):
    """Run the parallel kernels on one thread for small jobs (``work`` = trajectories × steps):
    on a busy machine a parallel region waiting for a descheduled worker costs milliseconds, far
    more than the work."""
    if work >= 400_000:
        yield
        return
    old = nb.get_num_threads()
    nb.set_num_threads(1)
    try:
        yield
    finally:
        nb.set_num_threads(old)


@nb.njit(cache=True)
def _chain_products(J, upto):
    """J (T, B, n, n): Jacobians along B orbits.  Returns (B, n, n) products J[upto-1]…J[0] and,
    as the second result, the products up to T (both, since periodic-orbit work needs the
    half-period product too)."""
    T, B, n, _ = J.shape
    half = np.empty((B, n, n))
    full = np.empty((B, n, n))
    for b in range(B):
        M = np.zeros((n, n))
        for i in range(n):
            M[i, i] = 1.0
        W = np.empty((n, n))
        for t in range(T):
            if t == upto:
                half[b] = M
            for i in range(n):
                for j in range(n):
                    s = 0.0
                    for q in range(n):
                        s += J[t, b, i, q] * M[q, j]
                    W[i, j] = s
            for i in range(n):
                for j in range(n):
                    M[i, j] = W[i, j]
        if upto >= T:
            half[b] = M
        full[b] = M
    return full, half


def _symbols(items, what):
    out = []
    for s in items:
        if isinstance(s, str):
            s = sp.Symbol(s, real=True)
        if not isinstance(s, sp.Symbol):
            raise BifurcationError(f"{what} must be SymPy symbols or names, got {s!r}")
        out.append(s)
    names = [s.name for s in out]
    for n in names:
        if names.count(n) > 1:
            raise BifurcationError(f"the name {n!r} appears twice among the {what}")
    return out


# ------------------------------------------------------------------------------------ the family
class MapFamily:
    """The map x ↦ F(x; p) of a state x ∈ R^k in one continuation parameter p, other parameters
    fixed.  Build it with :func:`map_family` (or :func:`gd_family` for a model's GD map).

    Attributes: ``state`` (names), ``param`` (name), ``fixed`` ({name: exact value}), ``k``,
    ``exprs`` (SymPy next-value expressions), ``kernel`` and ``ext`` (compiled maps, see the
    module docstring), ``config`` (a JSON-able description)."""

    def __init__(self, step: Mapping, state: Sequence, params: Sequence, values: Mapping, param: str,
                 name: str = "map"):
        if not isinstance(step, Mapping) or not step:
            raise BifurcationError("step must be a non-empty mapping {state symbol: next-value expression}")
        state = _symbols(list(step) if state is None else state, "state variables")
        params = _symbols(params, "parameters")
        pname = param.name if isinstance(param, sp.Symbol) else str(param)
        pnames = [p.name for p in params]
        if pname not in pnames:
            raise BifurcationError(f"continuation parameter {pname!r} is not one of the parameters {pnames}")
        clash = [s.name for s in state if s.name in pnames]
        if clash:
            raise BifurcationError(f"{clash[0]!r} is both a state variable and a parameter")
        by_name = {(k.name if isinstance(k, sp.Symbol) else str(k)): v for k, v in step.items()}
        exprs = []
        for s in state:
            if s.name not in by_name:
                raise BifurcationError(f"state variable {s.name!r} has no next-value expression in step")
            exprs.append(sp.sympify(by_name[s.name]))
        extra = [n for n in by_name if n not in {s.name for s in state}]
        if extra:
            raise BifurcationError(f"step has an expression for {extra[0]!r}, which is not a state variable")
        known = {s.name: s for s in state + params}
        ren = {}
        for e in exprs:
            for s in e.free_symbols:
                if s.name not in known:
                    raise BifurcationError(f"symbol {s.name!r} in the map is neither a state variable nor a parameter")
                if known[s.name] != s:
                    ren[s] = known[s.name]
        if ren:
            exprs = [e.xreplace(ren) for e in exprs]
        psym = known[pname]
        fixed_syms = [p for p in params if p.name != pname]
        values = dict(values or {})
        unknown = [n for n in values if n not in pnames or n == pname]
        if unknown:
            raise BifurcationError(f"value given for {unknown[0]!r}, which is not a fixed parameter "
                                   f"(fixed parameters: {[p.name for p in fixed_syms]})")
        missing = [p.name for p in fixed_syms if p.name not in values]
        if missing:
            raise BifurcationError(f"fixed parameter {missing[0]!r} has no value")
        self.name = str(name)
        self.state_symbols = tuple(state)
        self.param_symbol = psym
        self.fixed_symbols = tuple(fixed_syms)
        self.state = tuple(s.name for s in state)
        self.param = pname
        self.fixed = {p.name: exact_value(values[p.name], f"value of {p.name}") for p in fixed_syms}
        self.exprs = tuple(exprs)
        self.k = len(state)
        X = list(state) + [psym]
        self.jac_exprs = tuple(tuple(sp.diff(e, v) for v in X) for e in exprs)
        self.fixed64 = np.array([float(self.fixed[p.name]) for p in fixed_syms], dtype=np.float64)
        kname = "".join(c if (c.isalnum() or c in "_-.") else "_" for c in self.name)[:48] or "map"
        self.kernel: CompiledMap = compile_map(dict(zip(state, exprs)), state, [psym] + fixed_syms,
                                               name=f"bif_{kname}", monitor=None)
        self.ext: CompiledMap = compile_map({**dict(zip(state, exprs)), psym: psym}, X, fixed_syms,
                                            name=f"bifx_{kname}", monitor=None)
        args = X + fixed_syms
        flat = list(exprs) + [d for row in self.jac_exprs for d in row]
        self._mp_fj = sp.lambdify(args, flat, modules="mpmath", cse=True)
        self._mp_f = sp.lambdify(args, list(exprs), modules="mpmath", cse=True)
        self._mp_fixed_cache = {}
        self.config = {"name": self.name, "state": list(self.state), "param": self.param,
                       "fixed": {n: str(v) for n, v in self.fixed.items()},
                       "map": {s: str(e) for s, e in zip(self.state, exprs)}}

    def __repr__(self):
        return f"MapFamily({self.name!r}, state={self.state}, param={self.param!r}, fixed={self.fixed})"

    # ---------------------------------------------------------------------------- float64
    def kernel_params(self, pv) -> np.ndarray:
        """Kernel parameter rows (B, 1 + #fixed) for continuation-parameter values ``pv`` (B,)."""
        pv = np.atleast_1d(np.asarray(pv, dtype=np.float64))
        out = np.empty((pv.size, 1 + self.fixed64.size))
        out[:, 0] = pv
        out[:, 1:] = self.fixed64
        return out

    def ext_params(self, B: int) -> np.ndarray:
        """Parameter rows (B, #fixed) of the extended kernel (the fixed parameters only)."""
        return np.broadcast_to(self.fixed64, (B, self.fixed64.size)).copy() if self.fixed64.size else \
            np.zeros((B, 0))

    def iterate(self, x0, pv, steps: int, record_every: int = 0, record_from=None, threshold: float = BIG,
                diverged=None):
        """Batched iteration with the compiled kernel (see :meth:`CompiledMap.iterate`)."""
        X = np.atleast_2d(np.asarray(x0, dtype=np.float64))
        P = self.kernel_params(pv)
        B = max(X.shape[0], P.shape[0])
        with _threads_for(B * max(1, int(steps))):
            return self.kernel.iterate(np.broadcast_to(X, (B, self.k)), np.broadcast_to(P, (B, P.shape[1])),
                                       steps=steps, record_every=record_every, record_from=record_from,
                                       threshold=threshold, diverged=diverged)

    def step64(self, x, pv) -> np.ndarray:
        """F(x; p) for a batch of states (B, k) at parameter values pv (B,) in float64."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self.kernel.step(x, self.kernel_params(pv))

    def jacobian64(self, x, pv) -> np.ndarray:
        """∂F/∂x at a batch of states (B, k, k)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self.kernel.jacobian(x, self.kernel_params(pv))

    def cycle64(self, x0, pv, p: int, half: int | None = None):
        """Orbits of length ``p`` from a batch of states x0 (B, k) at parameters pv (B,).

        Returns (points (p + 1, B, k), E (B, k, k + 1), Eh) where E = [∂F^p/∂x | ∂F^p/∂p] and Eh
        the same after ``half`` steps (or None)."""
        X = np.atleast_2d(np.asarray(x0, dtype=np.float64))
        pv = np.broadcast_to(np.asarray(pv, dtype=np.float64), (X.shape[0],))
        B, k = X.shape
        if p <= 64 or B * p < 4096:
            # short orbits: call the serial step/jacobian kernels directly (structure of arrays),
            # avoiding the parallel iterator's start-up cost
            n = k + 1
            S = np.empty((p + 1, n, B))
            S[0, :k] = X.T
            S[0, k] = pv
            Pe = np.ascontiguousarray(self.ext_params(B).T)
            Jt = np.empty((p, n, n, B))
            disp = self.ext.dispatchers          # the serial kernels, structure-of-arrays layout (k, B)
            step, jac = disp["step"], disp["jacobian"]
            for t in range(p):
                jac(S[t], Pe, Jt[t])
                step(S[t], Pe, S[t + 1])
            rec = np.moveaxis(S, 2, 1)                      # (p + 1, B, n)
            J = np.ascontiguousarray(np.moveaxis(Jt, 3, 1))  # (p, B, n, n)
        else:
            Xe = np.empty((B, k + 1))
            Xe[:, :k] = X
            Xe[:, k] = pv
            Pe = self.ext_params(B)
            with _threads_for(B * p):
                tr = self.ext.iterate(Xe, Pe, steps=p, record_every=1, record_from=0, threshold=BIG)
            rec = tr.records  # (p + 1, B, k + 1)
            J = np.ascontiguousarray(self.ext.jacobian(rec[:p], Pe[None, :, :]))  # (p, B, k+1, k+1)
        full, hp = _chain_products(J, p if half is None else int(half))
        return rec[:, :, :k], full[:, :k, :], (hp[:, :k, :] if half is not None else None)

    # ---------------------------------------------------------------------------- mpmath
    def _mp_fixed(self):
        key = mp.mp.prec
        v = self._mp_fixed_cache.get(key)
        if v is None:
            v = [mp_of(self.fixed[s.name]) for s in self.fixed_symbols]
            self._mp_fixed_cache[key] = v
        return v

    def step_mp(self, x, pv) -> list:
        """F(x; p) in mpmath at the current precision."""
        return list(self._mp_f(*x, pv, *self._mp_fixed()))

    def step_jac_mp(self, x, pv):
        """(F(x; p), J) with J the k × (k + 1) extended Jacobian [∂F/∂x | ∂F/∂p], in mpmath."""
        out = self._mp_fj(*x, pv, *self._mp_fixed())
        k = self.k
        F = list(out[:k])
        J = [list(out[k + i * (k + 1): k + (i + 1) * (k + 1)]) for i in range(k)]
        return F, J

    def cycle_mp(self, x0, pv, p: int, half: int | None = None):
        """mpmath version of :meth:`cycle64` for one state: (points (p + 1 lists), E, Eh) with E
        the k × (k + 1) list-of-lists [∂F^p/∂x | ∂F^p/∂p]."""
        k = self.k
        x = [mp.mpf(v) for v in x0]
        pv = mp.mpf(pv)
        E = [[mp.mpf(1) if i == j else mp.mpf(0) for j in range(k + 1)] for i in range(k)]
        pts = [x]
        Eh = None
        for t in range(p):
            if half is not None and t == half:
                Eh = [row[:] for row in E]
            F, J = self.step_jac_mp(x, pv)
            N = []
            for i in range(k):
                Ji = J[i]
                row = []
                for j in range(k + 1):
                    s = Ji[0] * E[0][j]
                    for q in range(1, k):
                        s += Ji[q] * E[q][j]
                    row.append(s)
                row[k] += Ji[k]
                N.append(row)
            E = N
            x = F
            pts.append(x)
        if half is not None and half >= p:
            Eh = [row[:] for row in E]
        return pts, E, Eh

    def det_jacobian_mp(self, x, pv):
        """det ∂F/∂x at x in mpmath."""
        _, J = self.step_jac_mp(x, pv)
        return mp.det(mp.matrix([row[:self.k] for row in J]))


def map_family(step: Mapping, state: Sequence | None = None, params: Sequence | None = None,
               values: Mapping | None = None, param: str = "eta", name: str = "map") -> MapFamily:
    """The family x ↦ F(x; p) for bifurcation analysis.

    ``step`` maps each state symbol to its next value; ``state`` fixes their order (default: the
    order of ``step``); ``params`` lists every parameter symbol (default: the remaining free
    symbols sorted by name); ``values`` gives the value of every parameter except ``param``, the
    continuation parameter (exact numbers are kept exact; floats are read as the decimal they
    print as).  Compiles the float64 kernels once (cached on disk)."""
    if not isinstance(step, Mapping) or not step:
        raise BifurcationError("step must be a non-empty mapping {state symbol: next-value expression}")
    st = _symbols(list(step) if state is None else state, "state variables")
    if params is None:
        free = set()
        for e in step.values():
            free |= sp.sympify(e).free_symbols
        names = {s.name for s in st}
        params = sorted({s for s in free if s.name not in names}, key=lambda s: s.name)
    return MapFamily(step, st, params, values or {}, param, name)


def gd_family(model, values: Mapping | None = None, param: str = "eta", name: str | None = None) -> MapFamily:
    """The GD map θ ↦ θ − η∇L(θ) of a :class:`symsharp.symbolic.model.Model` as a family in
    ``param`` (default the learning rate), other constants fixed by ``values``."""
    step = gd_map(model)
    return map_family(step, list(model.params), None, values, param, name or f"gd_{model.name}")
