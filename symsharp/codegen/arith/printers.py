"""Printers: one :class:`~symsharp.codegen.arith.program.Program`, one printer per arithmetic.

Every printer turns an :class:`~symsharp.codegen.arith.program.Op` into Python source lines and
a constant into a literal (or a bound value) of its format:

- :class:`FloatPrinter` — native float32/float64 Numba code, every constant cast to the dtype;
  with ``fmt`` float16/bfloat16 the float32 result of every operation is rounded to the format
  (:func:`~symsharp.codegen.arith.rounding.rne_fp16` …, or stochastically with random bits
  that are a pure function of (seed, trajectory, step, operation id));
- :class:`DDPrinter` — double-double: each value is a pair ``name_h, name_l``; the operations
  are the error-free algorithms of Joldes, Muller & Popescu (2017), TwoProd through
  ``llvm.fma.f64``; a constant whose low word is zero is used as a single double (cheaper
  DW×FP / DW+FP forms);
- :class:`ObjectPrinter` — plain Python on number objects (gmpy2 ``mpfr``, flint ``arb``,
  mpmath ``mpf``): operators for + − × ÷, and the functions of a namespace bound at load time.
"""
from __future__ import annotations

import math
from fractions import Fraction

from ..common import CodegenError
from .program import FUNCTIONS, Program
from .spec import dd_split, round_to_format

CONST_BITS = 256
"""Precision used to turn π and e into rationals before rounding them to a format (enough for
double-double)."""


def const_fraction(c, bits: int = CONST_BITS) -> Fraction:
    """The exact value of a program constant (Fraction), or a rational within 2^-bits relative
    of π or e."""
    if isinstance(c, Fraction):
        return c
    import mpmath

    with mpmath.workprec(bits + 16):
        v = mpmath.pi if c == "pi" else mpmath.e
        man, exp = mpmath.mpf(v).man_exp
    return Fraction(int(man)) * (Fraction(2) ** exp)


def _lit(v: float) -> str:
    if v != v or v in (math.inf, -math.inf):
        return {True: "np.inf", False: "-np.inf"}[v > 0] if v == v else "np.nan"
    t = repr(float(v))
    return f"({t})" if t.startswith("-") else t


# ============================================================================== float kernels

class FloatPrinter:
    """Numba source for ``fmt`` float64, float32, float16 or bfloat16 (the last two emulated in
    float32 with rounding after every operation).  ``rounding``: ``"nearest"`` or
    ``"stochastic"`` (emulated formats only; then each operation reads random bits from
    ``op_bits(sk, op_id)`` with ``sk`` the step key in scope)."""

    def __init__(self, fmt: str, rounding: str = "nearest"):
        if fmt not in ("float64", "float32", "float16", "bfloat16"):
            raise CodegenError(f"FloatPrinter formats are float64, float32, float16, bfloat16, got {fmt!r}")
        if rounding not in ("nearest", "stochastic"):
            raise CodegenError(f"rounding must be 'nearest' or 'stochastic', got {rounding!r}")
        if rounding == "stochastic" and fmt not in ("float16", "bfloat16"):
            raise CodegenError(f"stochastic rounding is available for float16 and bfloat16, not {fmt}")
        self.fmt = fmt
        self.rounding = rounding
        self.dtype = "float64" if fmt == "float64" else "float32"
        self.emulated = fmt in ("float16", "bfloat16")
        self._short = {"float16": "fp16", "bfloat16": "bf16"}.get(fmt)

    # the storage dtype of states and parameters
    def np_dtype(self) -> str:
        """The NumPy storage dtype, as source text."""
        return f"np.{self.dtype}"

    def cast(self, text: str) -> str:
        """``text`` converted to the storage dtype, as source text."""
        return f"np.float32({text})" if self.dtype == "float32" else f"np.float64({text})"

    def const_value(self, c) -> float:
        """A program constant correctly rounded to the format."""
        q = const_fraction(c)
        return round_to_format(q, self.fmt)

    def const_defs(self, prog: Program) -> list:
        """Module-level definitions ``C{j} = …`` of the program's constants in the format."""
        out = []
        for j, c in enumerate(prog.consts):
            v = self.const_value(c)
            lit = _lit(v)
            out.append(f"C{j} = np.float32({lit})" if self.dtype == "float32" else f"C{j} = {lit}")
        return out

    def ref(self, r: str) -> str:
        """The source name of a value reference."""
        return f"C{r[1:]}" if r[0] == "c" else r

    def rnd(self, text: str, op_id) -> str:
        """``text`` rounded to the emulated format (identity for float32/float64)."""
        if not self.emulated:
            return text
        if self.rounding == "nearest":
            return f"rne_bf16_kernel({text})" if self._short == "bf16" else f"rne_{self._short}({text})"
        return f"sr_{self._short}({text}, op_bits(sk, {op_id}))"

    def op_lines(self, op, op_id) -> list:
        """Source lines of one operation (``op_id``: id of its random bits under stochastic rounding)."""
        a = [self.ref(x) for x in op.args]
        k = op.kind
        sym = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
        if k in sym:
            return [f"{op.dst} = {self.rnd(f'{a[0]} {sym[k]} {a[1]}', op_id)}"]
        if k == "neg":
            return [f"{op.dst} = -{a[0]}"]
        if k == "abs":
            return [f"{op.dst} = abs({a[0]})"]
        if k in ("max", "min"):
            return [f"{op.dst} = {k}({a[0]}, {a[1]})"]
        if k == "sign":
            return [f"{op.dst} = {self.cast(f'1.0 if {a[0]} > 0 else (-1.0 if {a[0]} < 0 else 0.0)')}"]
        if k == "heaviside":
            return [f"{op.dst} = {a[1]} if {a[0]} == 0 else {self.cast(f'1.0 if {a[0]} > 0 else 0.0')}"]
        mod = "math" if self.dtype == "float64" else "np"
        if k == "sqrt":
            return [f"{op.dst} = {self.rnd(f'{mod}.sqrt({a[0]})', op_id)}"]
        if k == "pow":
            fn = f"math.pow({a[0]}, {a[1]})" if self.dtype == "float64" else f"np.power({a[0]}, {a[1]})"
            return [f"{op.dst} = {self.rnd(fn, op_id)}"]
        if k in FUNCTIONS:
            if k == "erf" and self.dtype == "float32":
                fn = f"np.float32(math.erf({a[0]}))"
            else:
                fn = f"{mod}.{k}({a[0]})"
            return [f"{op.dst} = {self.rnd(fn, op_id)}"]
        raise CodegenError(f"the operation {k!r} has no {self.fmt} form")

    def assign(self, dst: str, ref: str) -> list:
        """``dst = value of ref``."""
        return [f"{dst} = {self.ref(ref)}"]


# ============================================================================== double-double

class DDPrinter:
    """Numba source for double-double: every value is a pair (``name_h``, ``name_l``) except
    constants whose low word is zero, which stay single doubles."""

    dtype = "float64"
    fmt = "dd"

    def __init__(self, prog: Program):
        self.prog = prog
        self.split = [dd_split(const_fraction(c)) for c in prog.consts]
        self.single = {f"c{j}" for j, (h, l) in enumerate(self.split) if l == 0.0}

    def np_dtype(self) -> str:
        return "np.float64"

    def const_defs(self, prog: Program) -> list:
        out = []
        for j, (h, l) in enumerate(self.split):
            out.append(f"C{j}_h = {_lit(h)}")
            out.append(f"C{j}_l = {_lit(l)}")
        return out

    def is_single(self, r: str) -> bool:
        """True for constants whose low word is zero (used as single doubles)."""
        return r in self.single

    def hi(self, r: str) -> str:
        """Source name of the high word of a value."""
        return f"C{r[1:]}_h" if r[0] == "c" else f"{r}_h"

    def lo(self, r: str) -> str:
        """Source name of the low word of a value."""
        return f"C{r[1:]}_l" if r[0] == "c" else f"{r}_l"

    def assign(self, dst: str, ref: str) -> list:
        """dst_h, dst_l = value of ``ref``."""
        return [f"{dst}_h = {self.hi(ref)}", f"{dst}_l = {self.lo(ref)}"]

    @staticmethod
    def _fast2sum(zh, zl, a, b):
        return [f"{zh} = {a} + {b}", f"{zl} = {b} - ({zh} - {a})"]

    @staticmethod
    def _2sum(s, e, a, b, tmp):
        return [f"{s} = {a} + {b}", f"{tmp} = {s} - {a}", f"{e} = ({a} - ({s} - {tmp})) + ({b} - {tmp})"]

    def _add(self, d, a, b, negb=False) -> list:
        u = f"_{d}"
        ah, al = self.hi(a), self.lo(a)
        bh, bl = self.hi(b), self.lo(b)
        if negb:
            bh, bl = f"(-{bh})", f"(-{bl})"
        if self.is_single(a) and not self.is_single(b) and not negb:
            a, b = b, a
            ah, al, bh, bl = bh, bl, ah, al
        if self.is_single(b) or (self.is_single(a) and self.is_single(b)):
            if self.is_single(a):  # both single: exact sum as a double-double
                return self._2sum(f"{d}_h", f"{d}_l", ah, bh, f"{u}bb")
            # DWPlusFP (Algorithm 4): 10 flops, relative error ≤ 2u²
            return (self._2sum(f"{u}sh", f"{u}sl", ah, bh, f"{u}bb")
                    + [f"{u}v = {al} + {u}sl"] + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}sh", f"{u}v"))
        if self.is_single(a):  # a single, b negated double-double: a − b
            return (self._2sum(f"{u}sh", f"{u}sl", bh, ah, f"{u}bb")
                    + [f"{u}v = {bl} + {u}sl"] + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}sh", f"{u}v"))
        # AccurateDWPlusDW (Algorithm 6): 20 flops, relative error ≤ 3u²/(1 − 4u)
        return (self._2sum(f"{u}sh", f"{u}sl", ah, bh, f"{u}bb") + self._2sum(f"{u}th", f"{u}tl", al, bl, f"{u}cc")
                + [f"{u}c = {u}sl + {u}th"] + self._fast2sum(f"{u}vh", f"{u}vl", f"{u}sh", f"{u}c")
                + [f"{u}w = {u}tl + {u}vl"] + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}vh", f"{u}w"))

    def _mul(self, d, a, b) -> list:
        u = f"_{d}"
        if self.is_single(a) and not self.is_single(b):
            a, b = b, a
        ah, al, bh, bl = self.hi(a), self.lo(a), self.hi(b), self.lo(b)
        if self.is_single(a) and self.is_single(b):  # TwoProd: exact
            return [f"{d}_h = {ah} * {bh}", f"{d}_l = fma({ah}, {bh}, -{d}_h)"]
        if self.is_single(b):
            # DWTimesFP3 (Algorithm 9): relative error ≤ 2u²
            return [f"{u}ch = {ah} * {bh}", f"{u}c1 = fma({ah}, {bh}, -{u}ch)", f"{u}c3 = fma({al}, {bh}, {u}c1)"] \
                + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}ch", f"{u}c3")
        # DWTimesDW3 (Algorithm 12): relative error ≤ 4u²
        return [f"{u}ch = {ah} * {bh}", f"{u}c1 = fma({ah}, {bh}, -{u}ch)", f"{u}t0 = {al} * {bl}",
                f"{u}t1 = fma({ah}, {bl}, {u}t0)", f"{u}c2 = fma({al}, {bh}, {u}t1)", f"{u}c3 = {u}c1 + {u}c2"] \
            + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}ch", f"{u}c3")

    def _div(self, d, a, b) -> list:
        u = f"_{d}"
        ah, al, bh, bl = self.hi(a), self.lo(a), self.hi(b), self.lo(b)
        if self.is_single(b):
            # DWDivFP3 (Algorithm 15): relative error ≤ 3u²
            return [f"{u}th = {ah} / {bh}", f"{u}ph = {u}th * {bh}", f"{u}pl = fma({u}th, {bh}, -{u}ph)",
                    f"{u}dh = {ah} - {u}ph", f"{u}dt = {u}dh - {u}pl", f"{u}dd = {u}dt + {al}",
                    f"{u}tl = {u}dd / {bh}"] + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}th", f"{u}tl")
        # DWDivDW2 (Algorithm 17): relative error ≤ 15u² + 56u³
        return [f"{u}th = {ah} / {bh}", f"{u}rh0 = {bh} * {u}th", f"{u}r1 = fma({bh}, {u}th, -{u}rh0)",
                f"{u}r3 = fma({bl}, {u}th, {u}r1)"] + self._fast2sum(f"{u}rh", f"{u}rl", f"{u}rh0", f"{u}r3") + \
            [f"{u}ph = {ah} - {u}rh", f"{u}dl = {al} - {u}rl", f"{u}dd = {u}ph + {u}dl", f"{u}tl = {u}dd / {bh}"] \
            + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}th", f"{u}tl")

    def _sqrt(self, d, a) -> list:
        u = f"_{d}"
        ah, al = self.hi(a), self.lo(a)
        # one Newton correction of the double square root (as in the QD library)
        return [f"{u}s = math.sqrt({ah})", f"{u}ph = {u}s * {u}s", f"{u}pl = fma({u}s, {u}s, -{u}ph)",
                f"{u}e = (({ah} - {u}ph) - {u}pl + {al}) / (2.0 * {u}s) if {u}s > 0.0 else 0.0"] \
            + self._fast2sum(f"{d}_h", f"{d}_l", f"{u}s", f"{u}e")

    def op_lines(self, op, op_id) -> list:
        """Source lines of one double-double operation."""
        k, d, a = op.kind, op.dst, op.args
        if k == "add":
            return self._add(d, a[0], a[1])
        if k == "sub":
            return self._add(d, a[0], a[1], negb=True)
        if k == "mul":
            return self._mul(d, a[0], a[1])
        if k == "div":
            return self._div(d, a[0], a[1])
        if k == "neg":
            return [f"{d}_h = -{self.hi(a[0])}", f"{d}_l = -{self.lo(a[0])}"]
        if k == "abs":
            h, l = self.hi(a[0]), self.lo(a[0])
            return [f"{d}_h = abs({h})", f"{d}_l = {l} if {h} >= 0.0 else -{l}"]
        if k == "sign":  # a normalised double-double is zero iff its high word is
            h = self.hi(a[0])
            return [f"{d}_h = 1.0 if {h} > 0.0 else (-1.0 if {h} < 0.0 else 0.0)", f"{d}_l = 0.0"]
        if k == "heaviside":
            h = self.hi(a[0])
            return [f"{d}_h = {self.hi(a[1])} if {h} == 0.0 else (1.0 if {h} > 0.0 else 0.0)",
                    f"{d}_l = {self.lo(a[1])} if {h} == 0.0 else 0.0"]
        if k == "sqrt":
            return self._sqrt(d, a[0])
        if k in ("max", "min"):
            cmp = ">" if k == "max" else "<"
            x, y = a
            c = f"({self.hi(x)} {cmp} {self.hi(y)} or ({self.hi(x)} == {self.hi(y)} and {self.lo(x)} {cmp} {self.lo(y)}))"
            return [f"_{d}c = {c}", f"{d}_h = {self.hi(x)} if _{d}c else {self.hi(y)}",
                    f"{d}_l = {self.lo(x)} if _{d}c else {self.lo(y)}"]
        raise CodegenError(f"double-double arithmetic supports +, −, ×, ÷, sqrt, abs, max and min, not {k}")


# ============================================================================== Python objects

class ObjectPrinter:
    """Plain Python for number objects with operators; functions come from a namespace ``F``
    (``F.sqrt``, ``F.exp`` …) and constants from a tuple bound when the module is loaded for an
    arithmetic.  ``prefix`` is put before the names of hoisted and hot values and ``cprefix``
    before constant indices (so that two programs can share one function body); ``xnames``
    renames the state inputs."""

    def __init__(self, prefix: str = "", cprefix: str = "C", xnames=None):
        self.prefix = prefix
        self.cprefix = cprefix
        self.xnames = xnames

    def ref(self, r: str) -> str:
        if r[0] == "c":
            return f"{self.cprefix}{r[1:]}"
        if r[0] in "ht":
            return f"{self.prefix}{r}"
        if r[0] == "x" and self.xnames is not None:
            return self.xnames[int(r[1:])]
        return r

    def op_lines(self, op, op_id=None) -> list:
        """Source lines of one operation on number objects."""
        a = [self.ref(x) for x in op.args]
        d = self.ref(op.dst)
        k = op.kind
        sym = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
        if k in sym:
            return [f"{d} = {a[0]} {sym[k]} {a[1]}"]
        if k == "neg":
            return [f"{d} = -{a[0]}"]
        if k == "abs":
            return [f"{d} = abs({a[0]})"]
        if k == "pow":
            return [f"{d} = {a[0]} ** {a[1]}"]
        if k in ("max", "min", "sqrt", "sign", "heaviside") or k in FUNCTIONS:
            return [f"{d} = F_{k}({', '.join(a)})"]
        raise CodegenError(f"the operation {k!r} has no Python form")

    def functions(self, prog: Program) -> list:
        """Names of the namespace functions a program calls."""
        return sorted({op.kind for op in prog.ops()
                       if op.kind in ("max", "min", "sqrt", "sign", "heaviside") or op.kind in FUNCTIONS})
