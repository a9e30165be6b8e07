"""One SymPy map → one three-address program that every arithmetic prints.

:func:`build_program` arranges the expressions (as :func:`symsharp.codegen.compile_map` does:
expanded polynomials in the state in Horner form, anything else as given), hoists the
parameter-only subexpressions (computed once per trajectory), CSEs both parts with
:func:`sympy.cse` and flattens them into single operations ``dst = op(a, b)``.  The order of the
operations is fixed here, once, for all arithmetics:

- a sum is folded left to right in SymPy's printing order (``expr.as_ordered_terms()``); a term
  with a negative coefficient is subtracted;
- a product is folded left to right in printing order (coefficient first), the denominator
  factors are multiplied the same way and divided once; a coefficient ±1/q with q not a power of
  two is a division by q; a negative coefficient is a final negation (exact in every format);
- an integer power n ≤ 8 is n − 1 multiplications left to right (b·b·b), a larger one binary
  powering; half-integer powers use a square root; other powers a ``pow`` operation.

A float16 kernel therefore rounds exactly the values this program names, and a test can replay
the program in any other arithmetic (e.g. NumPy float16 scalars) operation by operation.

Value references: ``x{i}`` state, ``p{j}`` parameters, ``c{j}`` constants (exact rationals or π,
e), ``h{j}`` hoisted values (parameters only), ``t{j}`` hot values (per step).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from ..common import CodegenError
from ..generate import Hoister, collect_polynomial, is_expanded_polynomial

FUNCTIONS = ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "asinh",
             "acosh", "atanh", "erf")
"""Elementary functions a program may call (one argument each)."""

MAX_PRODUCT_POWER = 8
SPECIAL_CONSTANTS = {"pi": sp.pi, "E": sp.E}


@dataclass(frozen=True)
class Op:
    """``dst = kind(*args)``; kinds: add, sub, mul, div, neg, abs, sign, heaviside (x, value at 0),
    sqrt, pow, max, min, or a function name from :data:`FUNCTIONS`."""

    dst: str
    kind: str
    args: tuple


@dataclass
class Program:
    """A straight-line program: ``hoisted`` ops read parameters and constants only; ``hot`` ops
    also read the state; ``outputs`` name the values of the expressions, in order."""

    state: tuple
    params: tuple
    consts: list = field(default_factory=list)  # Fraction, or the name "pi" / "E"
    hoisted: list = field(default_factory=list)
    hot: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    @property
    def k(self) -> int:
        """Number of state variables."""
        return len(self.state)

    @property
    def m(self) -> int:
        """Number of parameters."""
        return len(self.params)

    def ops(self):
        """All operations, hoisted first."""
        return list(self.hoisted) + list(self.hot)

    def used_params(self) -> list:
        """Indices of the parameters any op or output reads."""
        refs = {a for op in self.ops() for a in op.args} | set(self.outputs)
        return [j for j in range(self.m) if f"p{j}" in refs]

    def hot_reads(self) -> set:
        """References read by the hot ops or the outputs (state, parameters, hoisted values)."""
        return {a for op in self.hot for a in op.args} | set(self.outputs)

    def text(self) -> str:
        """A readable listing (for docs and debugging)."""
        lines = [f"state: {', '.join(f'x{i}={s}' for i, s in enumerate(self.state))}",
                 f"params: {', '.join(f'p{j}={s}' for j, s in enumerate(self.params))}",
                 f"consts: {', '.join(f'c{j}={c}' for j, c in enumerate(self.consts))}"]
        for op in self.ops():
            lines.append(f"{op.dst} = {op.kind}({', '.join(op.args)})")
        lines.append("outputs: " + ", ".join(self.outputs))
        return "\n".join(lines)


def arrange(exprs, state, form: str = "horner") -> list:
    """Arrange expressions before CSE (see :mod:`symsharp.codegen.generate`): with ``form``
    ``"horner"`` or ``"collected"`` expanded polynomials in the state are collected (and put in
    Horner form); ``"given"`` keeps every expression as it is."""
    if form not in ("horner", "collected", "given"):
        raise CodegenError(f"form must be 'horner', 'collected' or 'given', got {form!r}")
    out = []
    for e in exprs:
        e = sp.sympify(e)
        if form != "given" and is_expanded_polynomial(e, state):
            e = collect_polynomial(e, state)
            if form == "horner":
                e = sp.horner(e, *state)
        out.append(e)
    return out


class _Builder:
    def __init__(self, names: dict, prog: Program, prefix: str, ops: list):
        self.names = dict(names)  # SymPy atom -> reference
        self.prog = prog
        self.prefix = prefix
        self.ops = ops
        self.memo = {}

    def const(self, value) -> str:
        key = value if isinstance(value, str) else Fraction(value)
        for j, c in enumerate(self.prog.consts):
            if type(c) is type(key) and c == key:
                return f"c{j}"
        self.prog.consts.append(key)
        return f"c{len(self.prog.consts) - 1}"

    def emit(self, kind, *args) -> str:
        dst = f"{self.prefix}{len(self.ops)}"
        self.ops.append(Op(dst, kind, tuple(args)))
        return dst

    # ------------------------------------------------------------------------------ walk
    def __call__(self, e) -> str:
        if e in self.names:
            return self.names[e]
        if e in self.memo:
            return self.memo[e]
        ref = self._walk(e)
        self.memo[e] = ref
        return ref

    def _number(self, e) -> str:
        if e.is_Rational:
            return self.const(Fraction(int(e.p), int(e.q)))
        if e.is_Float:
            r = sp.Rational(e)
            return self.const(Fraction(int(r.p), int(r.q)))
        for name, c in SPECIAL_CONSTANTS.items():
            if e == c:
                return self.const(name)
        raise CodegenError(f"the constant {e} is not supported in generated arithmetic (use rationals, pi or E)")

    def _walk(self, e) -> str:
        if e.is_Number or e.is_NumberSymbol:
            if not e.is_real:
                raise CodegenError(f"the constant {e} is not real; kernels compute in real arithmetic")
            if e.is_Number and e.is_negative:
                return self.emit("neg", self._number(-e))
            return self._number(e)
        if isinstance(e, sp.Symbol):
            raise CodegenError(f"the symbol {e} is neither a state variable nor a parameter of the map")
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e.base, e.exp)
        name = type(e).__name__
        if name == "Abs":
            return self.emit("abs", self(e.args[0]))
        if name == "sign":  # the derivative of Abs
            return self.emit("sign", self(e.args[0]))
        if name == "Heaviside":  # the derivative of Max/Min: H(0) is SymPy's second argument (default 1/2)
            h0 = e.args[1] if len(e.args) > 1 else sp.Rational(1, 2)
            if not h0.is_Rational:
                raise CodegenError(f"Heaviside's value at 0 must be a rational number, got {h0}")
            return self.emit("heaviside", self(e.args[0]), self._number(h0))
        if name in ("Max", "Min"):
            acc = self(e.args[0])
            for a in e.args[1:]:
                acc = self.emit(name.lower(), acc, self(a))
            return acc
        if name in FUNCTIONS and len(e.args) == 1:
            return self.emit(name, self(e.args[0]))
        raise CodegenError(f"cannot generate arithmetic code for {name} in {e}; allowed are +, −, ×, ÷, powers, "
                           f"numbers, Abs, sign, Heaviside, Max, Min and {', '.join(FUNCTIONS)}")

    def _add(self, e) -> str:
        acc = None
        for term in e.as_ordered_terms():
            c, _ = term.as_coeff_Mul()
            neg = c.is_Number and c.is_negative
            ref = self(-term) if neg else self(term)
            if acc is None:
                acc = self.emit("neg", ref) if neg else ref
            else:
                acc = self.emit("sub" if neg else "add", acc, ref)
        return acc

    def _mul(self, e) -> str:
        c, rest = e.as_coeff_Mul()
        negative = bool(c.is_Number and c.is_negative)
        if negative:
            c = -c
        num, den = [], []
        if c != 1:
            if c.is_Rational and abs(c.p) == 1 and not _is_pow2(c.q):
                den.append(self.const(Fraction(int(c.q))))
            else:
                num.append(self._number(c))
        factors = rest.as_ordered_factors() if rest != 1 else []
        for f in factors:
            if f.is_Pow and f.exp.is_Number and f.exp.is_negative:
                den.append(self._pow(f.base, -f.exp))
            else:
                num.append(self(f))
        acc = num[0] if num else self.const(Fraction(1))
        for r in num[1:]:
            acc = self.emit("mul", acc, r)
        if den:
            d = den[0]
            for r in den[1:]:
                d = self.emit("mul", d, r)
            acc = self.emit("div", acc, d)
        return self.emit("neg", acc) if negative else acc

    def _ipow(self, b: str, n: int) -> str:
        if n == 1:
            return b
        if n <= MAX_PRODUCT_POWER:
            acc = b
            for _ in range(n - 1):
                acc = self.emit("mul", acc, b)
            return acc
        # binary powering: square-and-multiply from the most significant bit
        acc = b
        for bit in bin(n)[3:]:
            acc = self.emit("mul", acc, acc)
            if bit == "1":
                acc = self.emit("mul", acc, b)
        return acc

    def _pow(self, base, ex) -> str:
        ex = sp.sympify(ex)
        if ex.is_Integer:
            n = int(ex)
            if n == 0:
                return self.const(Fraction(1))
            b = self(base)
            if n > 0:
                return self._ipow(b, n)
            return self.emit("div", self.const(Fraction(1)), self._ipow(b, -n))
        if ex.is_Rational and ex.q == 2:
            b = self(base)
            root = self.emit("sqrt", b)
            p = int(ex.p)
            whole = abs(p) // 2
            val = root if whole == 0 else self.emit("mul", self._ipow(b, whole), root)
            return val if p > 0 else self.emit("div", self.const(Fraction(1)), val)
        return self.emit("pow", self(base), self(ex))


def _is_pow2(q) -> bool:
    q = int(q)
    return q > 0 and q & (q - 1) == 0


def _cse_into(builder: _Builder, exprs) -> list:
    repl, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols("_cse", cls=sp.Dummy))
    for s, e in repl:
        builder.names[s] = builder(e)
    return [builder(e) for e in reduced]


def build_program(exprs, state, params, form: str = "horner", hoist: bool = True) -> Program:
    """Flatten ``exprs`` (SymPy expressions in ``state`` and ``params``) into a :class:`Program`.

    Symbols are matched by name (assumptions may differ).  ``hoist`` computes parameter-only
    subexpressions once (in the ``hoisted`` section)."""
    state = list(state)
    params = list(params)
    by_name = {s.name: s for s in state + params}
    if len(by_name) != len(state) + len(params):
        raise CodegenError("state variables and parameters must have distinct names")
    exprs = [sp.sympify(e) for e in exprs]
    ren = {}
    for e in exprs:
        for s in e.free_symbols:
            if s.name not in by_name:
                raise CodegenError(f"symbol {s.name!r} is neither a state variable nor a parameter")
            if by_name[s.name] != s:
                ren[s] = by_name[s.name]
    if ren:
        exprs = [e.xreplace(ren) for e in exprs]
    exprs = arrange(exprs, state, form)
    prog = Program(tuple(s.name for s in state), tuple(p.name for p in params))
    names = {s: f"x{i}" for i, s in enumerate(state)}
    names.update({p: f"p{j}" for j, p in enumerate(params)})
    if hoist:
        h = Hoister(state, prefix="_h")
        hot = [h(e) for e in exprs]
        hb = _Builder(names, prog, "h", prog.hoisted)
        href = _cse_into(hb, [e for _, e in h.defs])
        names.update({s: r for (s, _), r in zip(h.defs, href)})
    else:
        hot = exprs
    b = _Builder(names, prog, "t", prog.hot)
    prog.outputs = _cse_into(b, hot)
    return prog
