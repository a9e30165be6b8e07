"""Print SymPy expressions as plain Python that Numba compiles in a fixed precision.

The printer is deliberately small: it knows numbers, symbols, ``+``, ``*``, powers and a list of
elementary functions, and refuses everything else with one clear sentence.  Every constant is
written in the kernel's dtype (``np.float32(...)`` for float32), so that a float32 kernel never
promotes to float64.  Small integer powers become products (``x*x*x``), half-integer powers use
``math.sqrt``; quotients are printed as one division.
"""
from __future__ import annotations

import sympy as sp

from .common import DTYPES, CodegenError  # noqa: F401  (re-exported)


_FUNCS = {
    "sin": "math.sin", "cos": "math.cos", "tan": "math.tan", "exp": "math.exp", "log": "math.log",
    "sinh": "math.sinh", "cosh": "math.cosh", "tanh": "math.tanh", "asin": "math.asin",
    "acos": "math.acos", "atan": "math.atan", "asinh": "math.asinh", "acosh": "math.acosh",
    "atanh": "math.atanh", "erf": "math.erf", "erfc": "math.erfc", "Abs": "abs", "atan2": "math.atan2",
    "Max": "max", "Min": "min", "sign": "np.sign",
}


# Integer powers up to this exponent are written as products.
MAX_PRODUCT_POWER = 8


class KernelPrinter:
    """``KernelPrinter(dtype, names).doprint(expr)`` → Python source for ``expr``.

    ``names`` maps symbols to the identifiers used in the generated code."""

    def __init__(self, dtype: str, names: dict):
        if dtype not in DTYPES:
            raise CodegenError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.dtype = dtype
        self.names = names

    # ----------------------------------------------------------------------------- numbers
    def const(self, value) -> str:
        """A constant in the kernel dtype (value: SymPy number or Python number)."""
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            raise CodegenError(f"the constant {value} is not a finite real number")
        text = repr(v)
        if self.dtype == "float32":
            return f"np.float32({text})"
        return text if not text.startswith("-") else f"({text})"

    # ----------------------------------------------------------------------------- dispatch
    def doprint(self, expr) -> str:
        return self._p(sp.sympify(expr))

    def _p(self, e) -> str:
        if e in self.names:
            return self.names[e]
        if e.is_Number or e.is_NumberSymbol:
            if not e.is_real:
                raise CodegenError(f"the constant {e} is not real; kernels compute in real arithmetic")
            return self.const(e)
        if isinstance(e, sp.Symbol):
            raise CodegenError(f"the symbol {e} is neither a state variable nor a parameter of the map")
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e.base, e.exp)
        fname = type(e).__name__
        if fname == "DiracDelta":
            # a generalised function: its value away from its support (the derived Hessian of |w| is
            # exact everywhere except at the kink w = 0, where the loss is not differentiable)
            return self.const(0)
        if fname == "Heaviside":
            arg = self._p(e.args[0])
            half = self.const(e.args[1]) if len(e.args) > 1 else self.const(sp.Rational(1, 2))
            return f"({self.const(1)} if {arg} > 0 else ({self.const(0)} if {arg} < 0 else {half}))"
        if fname in _FUNCS:
            args = ", ".join(self._p(a) for a in e.args)
            if fname in ("Max", "Min") and len(e.args) > 2:
                # fold into binary calls: Numba's max/min of scalars take two arguments reliably
                out = self._p(e.args[0])
                for a in e.args[1:]:
                    out = f"{_FUNCS[fname]}({out}, {self._p(a)})"
                return out
            return f"{_FUNCS[fname]}({args})"
        raise CodegenError(f"cannot generate code for {fname} in {e}; allowed are +, *, powers, "
                           f"numbers and the functions {', '.join(sorted(_FUNCS))}")

    def _add(self, e) -> str:
        parts = []
        for i, term in enumerate(e.as_ordered_terms()):
            coeff, rest = term.as_coeff_Mul()
            if coeff.is_Number and coeff < 0:
                pos = self._p(-term)
                parts.append(("-" if i == 0 else " - ") + self._wrap_add(pos, -term))
            else:
                parts.append(("" if i == 0 else " + ") + self._p(term))
        return "(" + "".join(parts) + ")"

    @staticmethod
    def _wrap_add(text, term) -> str:
        return text if not term.is_Add else f"({text})"

    def _mul(self, e) -> str:
        coeff, rest = e.as_coeff_Mul()
        if coeff.is_Number and coeff < 0:
            return f"(-{self._p(-e)})"
        num, den = [], []
        for f in sp.Mul.make_args(e):
            if f.is_Pow and f.exp.is_Number and f.exp.is_negative:
                den.append(self._pow(f.base, -f.exp))
            elif f.is_Rational and not f.is_Integer and f.p == 1:
                den.append(self.const(f.q))
            else:
                num.append(self._p(f))
        n = "*".join(num) if num else self.const(1)
        if not den:
            return f"({n})" if len(num) > 1 else n
        d = den[0] if len(den) == 1 else "(" + "*".join(den) + ")"
        return f"({n}/{d})"

    def _pow(self, base, exp) -> str:
        b = self._p(base)
        if exp.is_Integer:
            n = int(exp)
            if n == 0:
                return self.const(1)
            if 0 < n <= MAX_PRODUCT_POWER:
                return "(" + "*".join([b] * n) + ")" if n > 1 else b
            if -MAX_PRODUCT_POWER <= n < 0:
                return f"({self.const(1)}/{self._pow(base, sp.Integer(-n))})"
            return f"({b}**{self.const(n)})"
        if exp.is_Rational and exp.q == 2:
            root = f"math.sqrt({b})"
            whole = (exp.p - 1) // 2 if exp.p > 0 else (exp.p + 1) // 2
            if exp.p > 0:
                return root if whole == 0 else f"({self._pow(base, sp.Integer(whole))}*{root})"
            # negative half-integer: 1/(b**|whole| * sqrt(b))
            den = root if whole == 0 else f"({self._pow(base, sp.Integer(-whole))}*{root})"
            return f"({self.const(1)}/{den})"
        return f"({b}**{self._p(exp)})"
