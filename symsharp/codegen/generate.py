"""Generate the Python source of the Numba kernels of a map x ↦ F(x; p).

Array layout (structure of arrays): a batch of B trajectories is stored as ``X[k, B]`` (one
contiguous row per state variable), parameters as ``P[m, B]``, records as ``REC[R, k, B]``.
The fast kernels (``iterate``, ``lyapunov``) split the batch into tiles that fit in the L1
cache, hand the tiles to the cores with ``prange``, and inside a tile run time in the outer loop
and the tile (contiguous, no branches) in the inner loop, which LLVM vectorises; ``iterate`` takes
two steps per pass over the tile whenever no divergence check or record falls in between (the same
operations, with half the loads and stores), and without records it finishes a point as soon as its
state at a divergence check equals, bit for bit, its state at the previous check (the point is
then exactly periodic: its final state is a few steps on, its monitor peak complete), compacting
the tile's remaining points; converged points stop costing time.  Subexpressions that depend only
on the parameters are computed once per trajectory before the time loop.

Expressions are CSE'd with :func:`sympy.cse` and printed by :class:`KernelPrinter`.
"""
from __future__ import annotations

import sympy as sp

from .printer import CodegenError, KernelPrinter

# Bump whenever the generated source changes; it is part of the cache key.
from .common import GENERATOR_VERSION  # noqa: E402

# Tangent-vector norms are clamped below by this value (a Jacobian that annihilates the tangent
# vector, as on a superstable orbit, contributes log(1e-30) ≈ −69 per step).
TANGENT_FLOOR = 1e-30
# The running product of tangent norms is turned into a logarithm every this many steps.
LOG_EVERY = 8


class _Emitter:
    def __init__(self):
        self.lines = []

    def __call__(self, indent: int, text: str = ""):
        self.lines.append("    " * indent + text if text else "")

    def block(self, indent: int, lines):
        for ln in lines:
            self(indent, ln)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def is_expanded_polynomial(expr, state) -> bool:
    """True when ``expr`` involves the state, is a polynomial in it and is already expanded.

    Only such expressions are rearranged: a factored form such as (f - y)**2/2 is kept, since
    expanding it would trade an accurate arrangement for one with cancellation."""
    expr = sp.sympify(expr)
    return (bool(state) and bool(expr.free_symbols & set(state)) and expr.is_polynomial(*state)
            and sp.expand(expr) == expr)


def collect_polynomial(expr, state):
    """Write an expanded polynomial in the state as Σ coefficient(p)·monomial(x), like terms
    merged.  Expressions that are not already expanded polynomials are returned unchanged."""
    expr = sp.sympify(expr)
    if not is_expanded_polynomial(expr, state):
        return expr
    poly = sp.Poly(expr, *state)
    terms = []
    for monom, coeff in poly.terms():
        m = sp.Mul(*[s ** e for s, e in zip(state, monom)])
        terms.append(sp.Mul(sp.factor_terms(coeff), m, evaluate=True))
    return sp.Add(*terms)


class Hoister:
    """Replace every maximal parameter-only subexpression by a fresh symbol.

    ``defs`` lists (symbol, expression) pairs in creation order; the expressions depend on the
    parameters only and are evaluated once per trajectory."""

    def __init__(self, state, prefix="_h"):
        self.state = set(state)
        self.defs = []
        self._index = {}
        self._prefix = prefix

    def _sym(self, e):
        if e not in self._index:
            s = sp.Dummy(f"{self._prefix}{len(self.defs)}")
            self._index[e] = s
            self.defs.append((s, e))
        return self._index[e]

    def __call__(self, e):
        e = sp.sympify(e)
        if not (e.free_symbols & self.state):
            return e if e.is_Atom else self._sym(e)
        if e.is_Add or e.is_Mul:
            const = [a for a in e.args if not (a.free_symbols & self.state)]
            var = [self(a) for a in e.args if a.free_symbols & self.state]
            if len(const) > 1 or (len(const) == 1 and not const[0].is_Atom):
                return e.func(self._sym(e.func(*const)), *var)
            return e.func(*const, *var)
        if e.is_Atom:
            return e
        return e.func(*[self(a) for a in e.args])


def cse_lines(exprs, printer: KernelPrinter, temp_prefix: str):
    """CSE ``exprs``; return (assignment lines, printed outputs)."""
    repl, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols(temp_prefix, cls=sp.Dummy))
    lines = []
    for i, (s, e) in enumerate(repl):
        name = f"{temp_prefix}{i}"
        lines.append(f"{name} = {printer.doprint(e)}")
        printer.names[s] = name
    outs = [printer.doprint(e) for e in reduced]
    return lines, outs


class SourceBuilder:
    """Build the kernel module source for one map in one dtype."""

    def __init__(self, name, step_exprs, state, params, observables, monitor, dtype, form, key):
        self.name = name
        self.F = [sp.sympify(e) for e in step_exprs]
        self.state = list(state)
        self.params = list(params)
        self.obs = dict(observables or {})
        self.monitor = monitor
        self.dtype = dtype
        self.form = form
        self.key = key
        self.k = len(self.state)
        self.m = len(self.params)
        self.J = sp.Matrix(self.F).jacobian(sp.Matrix(self.state)) if self.k else sp.Matrix()

    # ----------------------------------------------------------------------------- helpers
    def _names(self):
        names = {s: f"x{i}" for i, s in enumerate(self.state)}
        names.update({p: f"p{j}" for j, p in enumerate(self.params)})
        return names

    def _prepare(self, exprs):
        """Arrange expressions before CSE.  Only expressions that are already expanded
        polynomials in the state are rearranged (collected, or in Horner form); any other
        arrangement, e.g. a factored loss (f - y)**2/2, is kept as given."""
        if self.form == "expanded":
            return [sp.sympify(e) for e in exprs]
        out = []
        for e in exprs:
            if is_expanded_polynomial(e, self.state):
                e = collect_polynomial(e, self.state)
                if self.form == "horner":
                    e = sp.horner(e, *self.state)
            out.append(sp.sympify(e))
        return out

    def _hoist(self, exprs, fn):
        """Hoist parameter-only parts of ``exprs``.

        Returns (hoist lines, [(array name, printed value)], hot expressions, {dummy: name})."""
        exprs = self._prepare(exprs)
        h = Hoister(self.state, prefix="_h")
        hot = [h(e) for e in exprs]
        pr = KernelPrinter(self.dtype, self._names())
        hoist_lines, hoist_outs = cse_lines([e for _, e in h.defs], pr, f"_u{fn}")
        hnames = {s: f"h{j}" for j, (s, _) in enumerate(h.defs)}
        return hoist_lines, list(zip(hnames.values(), hoist_outs)), hot, hnames

    def _hot(self, hot, hnames, prefix):
        """CSE the hot expressions; return (loads, lines, outputs) for the inner loop."""
        pr = KernelPrinter(self.dtype, self._names())
        pr.names.update(hnames)
        lines, outs = cse_lines(hot, pr, prefix)
        free = set().union(*[e.free_symbols for e in hot]) if hot else set()
        loads = [f"x{i} = s{i}[i]" for i in range(self.k)]
        loads += [f"p{j} = q{j}[i]" for j, p in enumerate(self.params) if p in free]
        loads += [f"{name} = a_{name}[i]" for s, name in hnames.items() if s in free]
        return loads, lines, outs

    def _used_params(self, hot):
        free = set().union(*[e.free_symbols for e in hot]) if hot else set()
        return [j for j, p in enumerate(self.params) if p in free]

    def _plain_body(self, exprs, prefix):
        pr = KernelPrinter(self.dtype, self._names())
        return cse_lines(self._prepare(exprs), pr, prefix)

    def _dt(self):
        return f"np.{self.dtype}"

    # ----------------------------------------------------------------------------- module
    def build(self) -> str:
        E = _Emitter()
        E(0, f'"""Kernels of the map {self.name!r}, generated by symsharp.codegen (generator version '
             f'{GENERATOR_VERSION}).')
        E(0)
        E(0, "Do not edit: the file name is a content hash of the map, and Numba's cache of this file")
        E(0, "is keyed by its modification time.")
        E(0)
        E(0, f"Layout (structure of arrays, dtype {self.dtype}): states X[k, B] with k = {self.k} rows "
             f"{', '.join(s.name for s in self.state)};")
        E(0, f"parameters P[m, B] with m = {self.m} rows {', '.join(p.name for p in self.params) or '(none)'}; "
             "records REC[R, k, B].")
        E(0, "step/jacobian/observe: serial loops over the batch.  iterate/lyapunov/window: prange over tiles")
        E(0, "of the batch (lyapunov optionally records every state; window records each tile's states in a")
        E(0, "local buffer and examines them there, so one pass gives an orbit window, its statistics and its")
        E(0, "exponent); per point the arithmetic never depends on the other points of its tile, so results")
        E(0, "are the same whatever the tiling.  Per tile,")
        E(0, "parameter-only subexpressions are computed once, then time runs in the")
        E(0, "outer loop and the tile in the inner loop.  Divergence: a state variable with")
        E(0, "not (|x| <= thr) at a check (every check_every steps and at the last step) sets DIV and DIV_AT;")
        E(0, 'a tile whose trajectories have all diverged stops early.\n"""')
        E(0, "import math")
        E(0, "import numpy as np")
        E(0, "import numba as nb")
        E(0, "from symsharp.codegen.window import stats_block")
        E(0)
        E(0, f"NAME = {self.name!r}")
        E(0, f"KEY = {self.key!r}")
        E(0, f"GENERATOR_VERSION = {GENERATOR_VERSION}")
        E(0, f"DTYPE = {self.dtype!r}")
        E(0, f"STATE = {tuple(s.name for s in self.state)!r}")
        E(0, f"PARAMS = {tuple(p.name for p in self.params)!r}")
        E(0, f"OBSERVABLES = {tuple(self.obs)!r}")
        E(0, f"MONITOR = {self.monitor!r}")
        E(0, "MAP = {")
        for s, e in zip(self.state, self.F):
            E(1, f"{s.name!r}: {str(e)!r},")
        E(0, "}")
        E(0, "OBSERVABLE_EXPRESSIONS = {")
        for n, e in self.obs.items():
            E(1, f"{n!r}: {str(e)!r},")
        E(0, "}")
        E(0)
        self._serial(E, "step", self.F, "OUT[{j}, i]")
        jac = [self.J[a, b] for a in range(self.k) for b in range(self.k)]
        self._serial(E, "jacobian", jac, None)
        self._serial(E, "observe", list(self.obs.values()), "OUT[{j}, i]")
        self._iterate(E)
        self._lyapunov(E)
        self._lyapunov(E, window=True)
        return E.text

    def _loads(self, E, ind, src_x="X", src_p="P", idx="i", params=None):
        for i in range(self.k):
            E(ind, f"x{i} = {src_x}[{i}, {idx}]")
        for j in (range(self.m) if params is None else params):
            E(ind, f"p{j} = {src_p}[{j}, {idx}]")

    def _serial(self, E, fname, exprs, target):
        E(0, "@nb.njit(cache=True)")
        E(0, f"def {fname}(X, P, OUT):")
        E(1, "for i in range(X.shape[1]):")
        if not exprs:
            E(2, "pass")
            E(0)
            return
        lines, outs = self._plain_body(exprs, f"_{fname[0]}")
        used = sorted({j for j, p in enumerate(self.params) for e in exprs if p in sp.sympify(e).free_symbols})
        self._loads(E, 2, params=used)
        E.block(2, lines)
        for j, o in enumerate(outs):
            if fname == "jacobian":
                E(2, f"OUT[{j // self.k}, {j % self.k}, i] = {o}")
            else:
                E(2, target.format(j=j) + f" = {o}")
        E(0)

    def _tile_head(self, E, hoist_lines, hoisted, used):
        dt = self._dt()
        E(1, "B = X.shape[1]")
        E(1, "ntiles = (B + tile - 1) // tile")
        E(1, "for it in nb.prange(ntiles):")
        E(2, "lo = it * tile")
        E(2, "hi = min(B, lo + tile)")
        E(2, "n = hi - lo")
        for i in range(self.k):
            E(2, f"s{i} = X[{i}, lo:hi].copy()")
        for j in used:
            E(2, f"q{j} = P[{j}, lo:hi].copy()")
        for name, _ in hoisted:
            E(2, f"a_{name} = np.empty(n, {dt})")
        if hoisted:
            E(2, "for i in range(n):")
            for j in range(self.m):
                E(3, f"p{j} = P[{j}, lo + i]")
            E.block(3, hoist_lines)
            for name, out in hoisted:
                E(3, f"a_{name}[i] = {out}")
        E(2, "alive = 0")
        E(2, "for i in range(n):")
        E(3, "if not DIV[lo + i]:")
        E(4, "alive += 1")

    def _check(self, E, ind, active=False):
        """The divergence check at multiples of check_every and at the last step; ``active``: over
        the tile's active points i < na, at tile positions pos[i] (``iterate``)."""
        E(ind, "if t % check_every == 0 or t == steps:")
        E(ind + 1, "for i in range(na):" if active else "for i in range(n):")
        b = "lo + pos[i]" if active else "lo + i"
        E(ind + 2, f"if not DIV[{b}]:")
        cond = " and ".join(f"abs(s{i}[i]) <= thr" for i in range(self.k)) or "True"
        E(ind + 3, f"if not ({cond}):")
        E(ind + 4, f"DIV[{b}] = True")
        E(ind + 4, f"DIV_AT[{b}] = t")
        E(ind + 4, "alive -= 1")
        E(ind + 1, "if alive == 0:")
        E(ind + 2, "break")

    def _monitor_direct(self, E, ind, init, active=False):
        """pk[i] = monitor(state) (or max with it), parameters read straight from P; ``active``: over
        the active points i < na, at tile positions pos[i]."""
        pr = KernelPrinter(self.dtype, self._names())
        expr = self._prepare([self.obs[self.monitor]])
        lines, outs = cse_lines(expr, pr, "_z")
        E(ind, "for i in range(na):" if active else "for i in range(n):")
        for i in range(self.k):
            E(ind + 1, f"x{i} = s{i}[i]")
        for j in self._used_params(expr):
            E(ind + 1, f"p{j} = P[{j}, lo + pos[i]]" if active else f"p{j} = P[{j}, lo + i]")
        E.block(ind + 1, lines)
        E(ind + 1, f"pk[i] = {outs[0]}" if init else f"pk[i] = max(pk[i], {outs[0]})")

    def _iterate(self, E):
        dt = self._dt()
        k = self.k
        has_mon = self.monitor is not None
        exprs = list(self.F) + ([self.obs[self.monitor]] if has_mon else [])
        hl, hoisted, hot, hnames = self._hoist(exprs, "i")
        E(0, "@nb.njit(cache=True, parallel=True)")
        E(0, "def iterate(X, P, steps, rec_from, rec_every, REC, thr, check_every, DIV, DIV_AT, PEAK, "
             "monitor, tile):")
        E(1, '"""Advance X[k, B] in place by ``steps`` map steps; record after steps rec_from + j*rec_every."""')
        self._tile_head(E, hl, hoisted, self._used_params(hot))
        if has_mon:
            E(2, f"pk = np.empty(n if monitor else 0, {dt})")
            E(2, "if monitor:")
            self._monitor_direct(E, 3, init=True)
        E(2, "if rec_every > 0 and rec_from == 0:")
        E(3, "for i in range(n):")
        for i in range(k):
            E(4, f"REC[0, {i}, lo + i] = s{i}[i]")
        # Exactly periodic points leave the tile: a point whose state at a check equals, bit for bit,
        # its state at the previous check (t − check_every) repeats those check_every states forever
        # (the map is a fixed function of the state and the point's parameters), so its final state is
        # that (steps − t) mod check_every steps on, its monitor peak is already complete, and no later
        # check can flag it but the last.  It is finished there and then, and the tile's active points
        # (i < na, tile positions pos[i]) are compacted; converged points (exact fixed points in
        # floating point, typically within a few hundred steps) stop costing anything.  Only without
        # records; diverged points keep iterating as before (``alive`` still counts finished points,
        # so a tile stops early exactly when it did before).
        E(2, "pos = np.arange(n)")
        E(2, "na = n")
        E(2, "fz = rec_every == 0")
        for i in range(k):
            E(2, f"ck{i} = s{i}.copy()")
        # Two steps per pass over the tile whenever the step in between is neither a check nor a
        # record: each point's state stays in registers for both, which halves the loads and
        # stores per step; the operations, and so the results, are exactly those of two passes.
        E(2, "t = 0")
        E(2, "while t < steps:")
        E(3, "u = t + 1")
        E(3, "if u < steps and u % check_every != 0 and not (rec_every > 0 and u >= rec_from and "
             "(u - rec_from) % rec_every == 0):")
        self._passes(E, 4, hot, hnames, has_mon, 2)
        E(4, "t += 2")
        E(3, "else:")
        self._passes(E, 4, hot, hnames, has_mon, 1)
        E(4, "t += 1")
        self._check(E, 3, active=True)
        E(3, "if fz and t % check_every == 0 and t < steps:")
        self._freeze(E, 4, hot, hnames, hoisted, has_mon)
        E(3, "if rec_every > 0 and t >= rec_from and (t - rec_from) % rec_every == 0:")
        E(4, "r = (t - rec_from) // rec_every")
        E(4, "for i in range(na):")
        for i in range(k):
            E(5, f"REC[r, {i}, lo + pos[i]] = s{i}[i]")
        if has_mon:
            E(2, "if monitor:")
            self._monitor_direct(E, 3, init=False, active=True)
            E(3, "for i in range(na):")
            E(4, "PEAK[lo + pos[i]] = pk[i]")
        E(2, "for i in range(na):")
        for i in range(k):
            E(3, f"X[{i}, lo + pos[i]] = s{i}[i]")
        E(0)

    def _freeze(self, E, ind, hot, hnames, hoisted, has_mon):
        """At a check t < steps (no records): finish the exactly periodic points (see ``_iterate``)
        and compact the active ones, each point's arrays moved down in order."""
        k = self.k
        loads, lines, outs = self._hot(list(hot[:k]), hnames, "_f")
        # every per-point array the tile's loops read (the monitor's too)
        arrays = [f"q{j}" for j in self._used_params(hot)] + [f"a_{name}" for name, _ in hoisted]
        same = " and ".join(f"s{i}[i] == ck{i}[i] and (s{i}[i] != 0 or "
                            f"math.copysign(1, s{i}[i]) == math.copysign(1, ck{i}[i]))" for i in range(k))
        E(ind, "nw = 0")
        E(ind, "for i in range(na):")
        E(ind + 1, "keep = True")
        E(ind + 1, f"if not DIV[lo + pos[i]] and {same}:")
        E(ind + 2, "keep = False")
        E.block(ind + 2, loads)
        E(ind + 2, "for _ in range((steps - t) % check_every):")
        E.block(ind + 3, lines)
        self._advance(E, ind + 3, outs)
        for i in range(k):
            E(ind + 2, f"X[{i}, lo + pos[i]] = x{i}")
        if has_mon:
            E(ind + 2, "if monitor:")
            E(ind + 3, "PEAK[lo + pos[i]] = pk[i]")
        cond = " and ".join(f"abs(x{i}) <= thr" for i in range(k)) or "True"
        E(ind + 2, f"if not ({cond}):  # the check at the last step")
        E(ind + 3, "DIV[lo + pos[i]] = True")
        E(ind + 3, "DIV_AT[lo + pos[i]] = steps")
        E(ind + 1, "if keep:")
        for i in range(k):
            E(ind + 2, f"s{i}[nw] = s{i}[i]")
            E(ind + 2, f"ck{i}[nw] = s{i}[i]")
        for arr in arrays:
            E(ind + 2, f"{arr}[nw] = {arr}[i]")
        if has_mon:
            E(ind + 2, "if monitor:")
            E(ind + 3, "pk[nw] = pk[i]")
        E(ind + 2, "pos[nw] = pos[i]")
        E(ind + 2, "nw += 1")
        E(ind, "na = nw")
        E(ind, "if na == 0:")
        E(ind + 1, "break")

    def _advance(self, E, ind, outs):
        """x_i ← F_i(x) in registers (through y_i: every F_i reads the old state)."""
        for i in range(self.k):
            E(ind, f"y{i} = {outs[i]}")
        for i in range(self.k):
            E(ind, f"x{i} = y{i}")

    def _passes(self, E, ind, hot, hnames, has_mon, nsteps):
        """One pass over the tile advancing each point by ``nsteps`` map steps (with the monitor,
        evaluated at the state before each step, when ``monitor`` is set)."""
        k = self.k
        variants = [(True, list(hot)), (False, list(hot[:k]))] if has_mon else [(False, list(hot[:k]))]
        for mon, exprs in variants:
            body = ind
            if has_mon:
                E(ind, "if monitor:" if mon else "else:")
                body = ind + 1
            loads, lines, outs = self._hot(exprs, hnames, "_t")
            E(body, "for i in range(na):")
            E.block(body + 1, loads)
            if mon:
                E(body + 1, "m = pk[i]")
            for step in range(nsteps):
                E.block(body + 1, lines)
                if mon:
                    E(body + 1, f"m = max(m, {outs[k]})")
                if step < nsteps - 1:
                    self._advance(E, body + 1, outs)
            if mon:
                E(body + 1, "pk[i] = m")
            for i in range(k):
                E(body + 1, f"s{i}[i] = {outs[i]}")

    def _lyapunov(self, E, window=False):
        """``lyapunov``, or with ``window`` the fused ``window`` kernel: the same tangent steps, the
        states recorded into a tile-local buffer (in cache) and examined there by
        :func:`symsharp.codegen.window.stats_block` (periods, mismatch, escape, drift); ``OUT``
        receives the records only if ``out_rec``."""
        k = self.k
        jac = [self.J[a, b] for a in range(k) for b in range(k)]
        hl, hoisted, hot, hnames = self._hoist(list(self.F) + jac, "l")
        E(0, "@nb.njit(cache=True, parallel=True)")
        if window:
            E(0, "def window(X, P, V, steps, thr, check_every, DIV, DIV_AT, SUM, tile, REF, max_period, tol, "
                 "escape_factor, PERIOD, MISMATCH, ESCAPE, DRIFT, OUT, out_rec):")
            E(1, '"""Advance X[k, B] and the unit tangent vectors V[k, B] in place, add Σ log|J v| to SUM, and')
            E(1, "examine each tile's window of states after steps 1 … steps (REF[k, B]: scale floors) into")
            E(1, 'PERIOD, MISMATCH, ESCAPE, DRIFT; with ``out_rec`` also store the records in OUT[steps, k, B]."""')
        else:
            E(0, "def lyapunov(X, P, V, steps, thr, check_every, DIV, DIV_AT, SUM, tile, REC, record):")
            E(1, '"""Advance X[k, B] and the unit tangent vectors V[k, B] in place; add Σ log|J v| to SUM;')
            E(1, 'if ``record``, store the state after step t in REC[t - 1, :, b] (REC[steps, k, B])."""')
        self._tile_head(E, hl, hoisted, self._used_params(hot))
        for i in range(k):
            E(2, f"v{i} = V[{i}, lo:hi].copy()")
        E(2, "prod = np.ones(n, np.float64)")
        E(2, "acc = np.zeros(n, np.float64)")
        if window:
            E(2, f"rec = np.empty((steps, {k}, n), {self._dt()})")
            E(2, "done = 0")
        E(2, "for t in range(1, steps + 1):")
        E(3, "for i in range(n):")
        loads, lines, outs = self._hot(hot, hnames, "_t")
        E.block(4, loads + [f"w{i} = v{i}[i]" for i in range(k)] + lines)
        for a in range(k):
            terms = " + ".join(f"{outs[k + a * k + b]}*w{b}" for b in range(k))
            E(4, f"y{a} = {terms}")
        E(4, "nrm = math.sqrt(" + " + ".join(f"y{a}*y{a}" for a in range(k)) + ")")
        E(4, f"nrm = max(nrm, {KernelPrinter(self.dtype, {}).const(TANGENT_FLOOR)})")
        for a in range(k):
            E(4, f"v{a}[i] = y{a} / nrm")
        for i in range(k):
            E(4, f"s{i}[i] = {outs[i]}")
        E(4, "prod[i] *= nrm")
        if window:
            E(3, "for i in range(n):")
            for i in range(k):
                E(4, f"rec[t - 1, {i}, i] = s{i}[i]")
            E(3, "done = t")
        else:
            E(3, "if record:")
            E(4, "for i in range(n):")
            for i in range(k):
                E(5, f"REC[t - 1, {i}, lo + i] = s{i}[i]")
        E(3, f"if t % {LOG_EVERY} == 0 or t == steps:")
        E(4, "for i in range(n):")
        E(5, "acc[i] += math.log(prod[i])")
        E(5, "prod[i] = 1.0")
        self._check(E, 3)
        E(2, "for i in range(n):")
        E(3, "if prod[i] != 1.0:")
        E(4, "acc[i] += math.log(prod[i])")
        E(3, "SUM[lo + i] += acc[i]")
        for i in range(k):
            E(2, f"X[{i}, lo:hi] = s{i}")
            E(2, f"V[{i}, lo:hi] = v{i}")
        if window:
            # explicit loops, not slice assignments: much quicker to compile
            E(2, "for t in range(done, steps):  # a tile that stopped early (all diverged): defined, never used")
            E(3, f"for j in range({k}):")
            E(4, "for i in range(n):")
            E(5, "rec[t, j, i] = np.nan")
            E(2, "if out_rec:")
            E(3, "for t in range(steps):")
            E(4, f"for j in range({k}):")
            E(5, "for i in range(n):")
            E(6, "OUT[t, j, lo + i] = rec[t, j, i]")
            E(2, "for b0 in range(0, n, 64):")
            E(3, "stats_block(rec, REF, b0, min(n, b0 + 64), lo, max_period, tol, escape_factor, PERIOD, MISMATCH, "
                 "ESCAPE, DRIFT)")
        E(0)


def build_source(name, step_exprs, state, params, observables, monitor, dtype, form, key) -> str:
    if form not in ("expanded", "collected", "horner"):
        raise CodegenError(f"form must be 'expanded', 'collected' or 'horner', got {form!r}")
    return SourceBuilder(name, step_exprs, state, params, observables, monitor, dtype, form, key).build()
