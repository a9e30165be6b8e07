"""Scalar evaluators of a map in multiple-precision arithmetics: ``mpfr:BITS`` (gmpy2),
``mp:BITS`` (mpmath through :func:`sympy.lambdify`) and ``arb:BITS`` (python-flint balls).

All share one small interface, :class:`ScalarMap`::

    sm = scalar_map(step, state, params, "mpfr:256")
    x = sm.convert_all(["0", "0.1"]); p = sm.convert_all(["15", "0.01", "1"])
    sm.step(x, p)            # tuple F(x; p)
    sm.jacobian(x, p)        # rows of ∂F/∂x (exact derivatives from SymPy)
    sm.orbit(x, p, 1000)     # ScalarOrbit: records per state variable, divergence step
    sm.to_float(v)           # nearest float

The mpfr and arb evaluators print the map's three-address program (the same one the Numba
kernels use) as Python source calling gmpy2/flint through operators; the module is cached on
disk like the kernels.  mpmath is the independent reference path: ``lambdify(...,
modules="mpmath")`` evaluated under ``mpmath.workprec(bits)``.  Every method sets the
precision itself (``sm.context()`` is the context manager it uses), so callers never touch global
precision state.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..cache import atomic_write, cache_dir, content_hash, import_file
from ..common import CodegenError
from .kernels import DEFAULT_CHECK_EVERY, DEFAULT_THRESHOLD, PYOBJ_SOURCES, normalise_map, sources_hash
from .spec import Arith, parse_arith, require_backend, to_fraction

PYOBJ_VERSION = 1


@dataclass
class ScalarOrbit:
    """An orbit computed by :meth:`ScalarMap.orbit`: ``records[i]`` is the list of values of
    state variable i at steps 0, 1, … (None if not recorded); ``final`` the last state;
    ``diverged_at`` the first check step at which a state variable had |x| > threshold (or was
    NaN; for arb: was not certainly ≤ threshold), −1 if never; ``steps`` the steps done."""

    records: list | None
    final: tuple
    diverged_at: int
    steps: int


def _symbolic(step, state, params, form):
    import sympy as sp

    from .program import build_program

    state, params, exprs = normalise_map(step, state, params)
    J = sp.Matrix(exprs).jacobian(sp.Matrix(state))
    prog_f = build_program(exprs, state, params, form=form)
    jl = [J[a, b] for a in range(len(state)) for b in range(len(state))]
    prog_fj = build_program(list(exprs) + jl, state, params, form=form)
    prog_j = build_program(jl, state, params, form=form)
    return state, params, exprs, J, prog_f, prog_fj, prog_j


def _object_module(step, state, params, name, form):
    """Generate (once) and import the object-arithmetic module of the map; returns
    (module, state, params, exprs)."""
    import sympy as sp

    from .pyobj import module_source

    state, params, exprs = normalise_map(step, state, params)
    key = content_hash("symsharp-arith-pyobj", PYOBJ_VERSION, sources_hash(PYOBJ_SOURCES), form, name,
                       sp.srepr(tuple(state)), sp.srepr(tuple(params)), sp.srepr(tuple(exprs)))
    path = cache_dir() / f"pyobj_{name[:40]}_{key[:24]}.py"
    if not path.exists():
        _, _, _, _, prog_f, prog_fj, prog_j = _symbolic(step, state, params, form)
        atomic_write(path, module_source(prog_f, prog_fj, prog_j, name, key))
    mod = import_file(path)
    if getattr(mod, "KEY", None) != key:
        raise CodegenError(f"module file {str(path)!r} does not hold the expected map; delete it to regenerate")
    return mod, state, params, exprs


def _const_values(texts, conv):
    out = []
    for t in texts:
        if t in ("pi", "E"):
            out.append(conv(t))
        else:
            out.append(conv(Fraction(t)))
    return tuple(out)


class ScalarMap:
    """A map evaluated one trajectory at a time in a multiple-precision arithmetic.

    Attributes: ``arith`` (:class:`~symsharp.codegen.arith.spec.Arith`), ``state`` and
    ``params`` (names), ``k``, ``m``."""

    def __init__(self, arith: Arith, state, params):
        self.arith = arith
        self.state = tuple(s.name for s in state)
        self.params = tuple(p.name for p in params)
        self.k = len(self.state)
        self.m = len(self.params)

    def __repr__(self):
        return f"{type(self).__name__}({self.arith.name}, state={self.state}, params={self.params})"

    # ---------------------------------------------------------------- to implement
    def context(self):
        """Context manager that sets the working precision."""
        raise NotImplementedError

    def _convert(self, q: Fraction):
        raise NotImplementedError

    def to_float(self, v) -> float:
        """The float nearest to ``v`` (for balls: to the midpoint)."""
        return float(v)

    # ---------------------------------------------------------------- common
    def convert(self, value):
        """One exact value (number, decimal string, Fraction …) in this arithmetic, correctly
        rounded (arb: a ball that contains it)."""
        if self.is_native(value):
            return value
        with self.context():
            return self._convert(to_fraction(value))

    def convert_all(self, values) -> tuple:
        """A sequence of values converted with :meth:`convert`."""
        return tuple(self.convert(v) for v in values)

    def is_native(self, value) -> bool:
        """True when ``value`` is already a number of this arithmetic (no conversion needed)."""
        return False

    def _args(self, x, p):
        x = self.convert_all(x)
        p = self.convert_all([] if p is None else p)
        if len(x) != self.k:
            raise CodegenError(f"the state must have {self.k} entries ({', '.join(self.state)}), got {len(x)}")
        if len(p) != self.m:
            raise CodegenError(f"the parameters must have {self.m} entries ({', '.join(self.params)}), got {len(p)}")
        return x, p

    def step(self, x, p=None) -> tuple:
        """F(x; p) as a tuple."""
        x, p = self._args(x, p)
        with self.context():
            return self._step(x, p)

    def jacobian(self, x, p=None) -> tuple:
        """∂F_a/∂x_b at (x; p) as a tuple of rows (exact derivatives, evaluated in this arithmetic)."""
        x, p = self._args(x, p)
        with self.context():
            return self._jac(x, p)

    def step_jacobian(self, x, p=None) -> tuple:
        """(F(x; p), ∂F/∂x) from one program."""
        x, p = self._args(x, p)
        with self.context():
            return self._step_jac(x, p)

    def orbit(self, x0, p=None, steps: int = 1, record: bool = True, threshold: float = DEFAULT_THRESHOLD,
              check_every: int = DEFAULT_CHECK_EVERY) -> ScalarOrbit:
        """Iterate ``steps`` times from ``x0``; stops at the first check (every ``check_every``
        steps and at the last) where a state variable exceeds ``threshold`` in magnitude."""
        steps, check_every = _counts(steps, check_every)
        x, p = self._args(x0, p)
        with self.context():
            final, div_at, rec = self._orbit(x, p, steps, threshold, check_every, record)
        done = steps if div_at < 0 else div_at
        return ScalarOrbit(rec, tuple(final), int(div_at), int(done))

    def tangent(self, x0, p=None, steps: int = 1, v0=None, threshold: float = DEFAULT_THRESHOLD,
                check_every: int = DEFAULT_CHECK_EVERY):
        """Iterate the state with a renormalised float tangent vector pushed by the exact
        Jacobian at each point.  Returns (final state, log-stretches (steps,) float array,
        final unit tangent vector, diverged_at)."""
        steps, check_every = _counts(steps, check_every)
        x, p = self._args(x0, p)
        v = np.ones(self.k) / math.sqrt(self.k) if v0 is None else np.asarray(v0, float)
        v = v / np.linalg.norm(v)
        with self.context():
            final, logs, vf, div_at = self._tangent(x, p, steps, tuple(float(t) for t in v), threshold, check_every)
        return final, np.asarray(logs, float), np.asarray(vf, float), int(div_at)

    # default implementations through a generated object module
    def _bind(self, mod, conv, F):
        with self.context():
            cf = _const_values(mod.CONSTANTS_F, conv)
            cfj = _const_values(mod.CONSTANTS_FJ, conv)
            cj = _const_values(mod.CONSTANTS_J, conv)
        self._ns = mod.bind(cf, cfj, cj, F)

    def _step(self, x, p):
        return self._ns.step(x, p)

    def _step_jac(self, x, p):
        return self._ns.step_jac(x, p)

    def _jac(self, x, p):
        return self._ns.jac(x, p)

    def _orbit(self, x, p, steps, thr, every, record):
        return self._ns.orbit(x, p, steps, self._thr(thr), every, record)

    def _tangent(self, x, p, steps, v, thr, every):
        return self._ns.tangent(x, p, steps, v, self._thr(thr), every, self.to_float, math.log, math.sqrt)

    def _thr(self, thr):
        return self.convert(thr)


def _counts(steps, check_every):
    try:
        s, c = int(steps), int(check_every)
    except (TypeError, ValueError):
        raise CodegenError(f"steps and check_every must be integers, got {steps!r} and {check_every!r}") from None
    if s != steps or s < 0:
        raise CodegenError(f"steps must be a non-negative integer, got {steps!r}")
    if c != check_every or c < 1:
        raise CodegenError(f"check_every must be a positive integer, got {check_every!r}")
    return s, c


# ============================================================================== MPFR (gmpy2)

class _GmpyFunctions:
    def __init__(self, gmpy2):
        for n in ("sqrt", "exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
                  "asinh", "acosh", "atanh", "erf"):
            setattr(self, n, getattr(gmpy2, n))
        self.max = gmpy2.maxnum
        self.min = gmpy2.minnum
        self.sign = lambda v: gmpy2.mpfr(gmpy2.sign(v))
        self.heaviside = lambda v, h0: h0 if v == 0 else gmpy2.mpfr(1 if v > 0 else 0)


class MPFRMap(ScalarMap):
    """MPFR at ``bits`` through gmpy2: every operation correctly rounded to nearest; exponent
    range MPFR's default (no overflow in practice, hence the magnitude threshold)."""

    def __init__(self, arith, mod, state, params):
        super().__init__(arith, state, params)
        import gmpy2

        self._g = gmpy2
        self._ctx = gmpy2.context(precision=arith.bits)
        self._mpfr_type = type(gmpy2.mpfr(0))
        self._bind(mod, self._const, _GmpyFunctions(gmpy2))

    def _const(self, c):
        g = self._g
        if c == "pi":
            return g.const_pi()
        if c == "E":
            return g.exp(1)
        return self._convert(c)

    def context(self):
        return self._g.context(self._ctx)

    def is_native(self, value) -> bool:
        return type(value) is self._mpfr_type and value.precision == self.arith.bits

    def _convert(self, q):
        g = self._g
        if q.denominator == 1:
            return g.mpfr(g.mpz(q.numerator))
        return g.mpfr(g.mpq(q.numerator, q.denominator))


# ============================================================================== arb (python-flint)

class _ArbFunctions:
    def __init__(self, flint):
        a = flint.arb
        for n in ("sqrt", "exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
                  "asinh", "acosh", "atanh", "erf"):
            setattr(self, n, getattr(a, n))
        self.max = a.max
        self.min = a.min
        self.sign = a.sgn  # a ball containing 0 gives [−1, 1] (Clarke's generalised derivative of |x|)
        self.heaviside = _arb_heaviside


def _arb_heaviside(v, h0):
    """H(v) on a ball: 1 or 0 when the sign is certain, the hull [0, 1] otherwise (H(0) = h0 ∈ [0, 1])."""
    import flint

    if v > 0:
        return flint.arb(1)
    if v < 0:
        return flint.arb(0)
    if v.is_zero():
        return h0
    return flint.arb("0.5 +/- 0.5")


@contextlib.contextmanager
def _flint_prec(flint, bits):
    old = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        yield
    finally:
        flint.ctx.prec = old


class ArbMap(ScalarMap):
    """Ball arithmetic at ``bits`` through python-flint (Arb): every result is a ball
    guaranteed to contain the exact result of the operation on any points of the input balls.
    Evaluating :meth:`step` or :meth:`jacobian` on balls gives rigorous enclosures of the map and
    its exact Jacobian over a box (see :mod:`symsharp.codegen.arith.balls`)."""

    def __init__(self, arith, mod, state, params):
        super().__init__(arith, state, params)
        import flint

        self._f = flint
        self._arb = flint.arb
        self._bind(mod, self._const, _ArbFunctions(flint))

    def _const(self, c):
        if c == "pi":
            return self._arb.pi()
        if c == "E":
            return self._arb.const_e()
        return self._convert(c)

    def context(self):
        return _flint_prec(self._f, self.arith.bits)

    def is_native(self, value) -> bool:
        return type(value) is self._arb

    def _convert(self, q):
        f = self._f
        if q.denominator == 1:
            return self._arb(f.fmpz(q.numerator))
        return self._arb(f.fmpq(q.numerator, q.denominator))

    def to_float(self, v) -> float:
        return float(v.mid())

    def ball(self, mid, rad=0):
        """The ball [mid ± rad] (rad rounded up), mid an exact value."""
        with self.context():
            m = self._convert(to_fraction(mid))
            if rad:
                m = m + self._arb(0, self._arb(to_fraction(rad).numerator) / to_fraction(rad).denominator)
            return m


# ============================================================================== mpmath (lambdify)

class MPMathMap(ScalarMap):
    """mpmath at ``bits``: the map and its Jacobian through ``sympy.lambdify(...,
    modules="mpmath")`` (an evaluation path independent of the generated programs)."""

    def __init__(self, arith, state, params, exprs):
        super().__init__(arith, state, params)
        import mpmath
        import sympy as sp

        self._mp = mpmath
        J = sp.Matrix(exprs).jacobian(sp.Matrix(state))
        args = list(state) + list(params)
        self._f = sp.lambdify(args, list(exprs), modules="mpmath")
        self._j = sp.lambdify(args, [J[a, b] for a in range(len(state)) for b in range(len(state))], modules="mpmath")

    def context(self):
        return self._mp.workprec(self.arith.bits)

    def is_native(self, value) -> bool:
        return type(value) is self._mp.mpf

    def _convert(self, q):
        return self._mp.mpf(q.numerator) / q.denominator

    def _step(self, x, p):
        return tuple(self._f(*x, *p))

    def _step_jac(self, x, p):
        k = self.k
        J = self._j(*x, *p)
        return tuple(self._f(*x, *p)), tuple(tuple(J[a * k:(a + 1) * k]) for a in range(k))

    def _jac(self, x, p):
        return self._step_jac(x, p)[1]

    def _orbit(self, x, p, steps, thr, every, record):
        f = self._f
        rec = [[v] for v in x] if record else None
        div_at = -1
        for t in range(1, steps + 1):
            x = f(*x, *p)
            if record:
                for i, v in enumerate(x):
                    rec[i].append(v)
            if t % every == 0 or t == steps:
                if not all(abs(v) <= thr for v in x):
                    div_at = t
                    break
        return tuple(x), div_at, rec

    def _tangent(self, x, p, steps, v, thr, every):
        k = self.k
        logs = []
        div_at = -1
        v = list(v)
        for t in range(1, steps + 1):
            J = self._j(*x, *p)
            w = [sum(float(J[a * k + b]) * v[b] for b in range(k)) for a in range(k)]
            nrm = max(math.sqrt(sum(c * c for c in w)), 1e-300)
            v = [c / nrm for c in w]
            logs.append(math.log(nrm))
            x = self._f(*x, *p)
            if t % every == 0 or t == steps:
                if not all(abs(c) <= thr for c in x):
                    div_at = t
                    break
        return tuple(x), logs, tuple(v), div_at

    def _thr(self, thr):
        return thr


# ============================================================================== factory

def scalar_map(step, state=None, params=None, arith="mpfr:256", name: str = "map", form: str = "horner") -> ScalarMap:
    """The map ``step`` = {state symbol: expression} as a :class:`ScalarMap` in ``arith``
    (``mpfr:BITS``, ``mp:BITS`` or ``arb:BITS``).  Parameters default to the remaining free
    symbols sorted by name.  ``form`` is the arrangement of polynomials (see
    :func:`symsharp.codegen.arith.program.arrange`; the mp path evaluates the expressions as
    given)."""
    import re

    a = parse_arith(arith)
    if a.kind not in ("mpfr", "mp", "arb"):
        raise CodegenError(f"{a.name} is not a scalar arithmetic; use compile_arith_map for float formats and dd")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", name):
        raise CodegenError(f"name must be 1-64 letters, digits, '_', '-' or '.', got {name!r}")
    require_backend(a.kind)
    if a.kind == "mp":
        st, pa, exprs = normalise_map(step, state, params)
        return MPMathMap(a, st, pa, exprs)
    mod, st, pa, exprs = _object_module(step, state, params, re.sub(r"[^A-Za-z0-9_]", "_", name), form)
    return MPFRMap(a, mod, st, pa) if a.kind == "mpfr" else ArbMap(a, mod, st, pa)
