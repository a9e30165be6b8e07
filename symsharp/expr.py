"""User expressions without ``eval``: a whitelist walk over Python's ``ast``.

Everything a user types as mathematics (``--f``, ``--loss``, ``--data`` values, numbers given as
strings in the Python API) goes through :func:`parse_expression` or :func:`parse_number`.  The text
is parsed by :func:`ast.parse` (which never executes anything) and the tree is walked with a
whitelist: numbers, names, ``+ - * / **``, unary ``±``, parentheses and calls of a fixed list of
elementary functions with positional arguments.  Attribute access, subscripts, strings,
comprehensions, lambdas, keywords, comparisons and everything else are refused with one sentence
that names the offending part.  The SymPy expression is then *built* from the tree, so no user
text ever reaches :func:`sympy.sympify` or :func:`eval`.

Decimal literals become exact rationals (``0.1`` → 1/10), names become real symbols (the same
symbol object for the same name, so gradients with respect to inferred parameters are right for
any Unicode identifier), and integer exponents and literals are bounded so that a short text
cannot ask for an astronomically large computation.
"""
from __future__ import annotations

import ast
import math
import unicodedata
from fractions import Fraction
from typing import Iterable, Mapping

import sympy as sp

from .errors import SymsharpError


class ExpressionError(SymsharpError):
    """A user expression that is not allowed (one sentence naming the offending part)."""


FUNCTIONS = {
    # name: (SymPy function, number of arguments)
    "sin": (sp.sin, 1), "cos": (sp.cos, 1), "tan": (sp.tan, 1),
    "asin": (sp.asin, 1), "acos": (sp.acos, 1), "atan": (sp.atan, 1), "atan2": (sp.atan2, 2),
    "sinh": (sp.sinh, 1), "cosh": (sp.cosh, 1), "tanh": (sp.tanh, 1),
    "asinh": (sp.asinh, 1), "acosh": (sp.acosh, 1), "atanh": (sp.atanh, 1),
    "exp": (sp.exp, 1), "log": (sp.log, 1), "sqrt": (sp.sqrt, 1), "cbrt": (sp.cbrt, 1),
    "erf": (sp.erf, 1), "erfc": (sp.erfc, 1), "abs": (sp.Abs, 1), "Abs": (sp.Abs, 1),
    "sign": (sp.sign, 1),
}
"""Elementary functions a user expression may call (positional arguments only)."""

CONSTANTS = {"pi": sp.pi, "E": sp.E}
"""Named constants.  Every other name is a real symbol."""

RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS)

MAX_LENGTH = 10_000
MAX_NODES = 5_000
MAX_DEPTH = 60
MAX_EXPONENT = 64
MAX_INTEGER_DIGITS = 30


def normalize_name(name: str) -> str:
    """The canonical form of an identifier (NFKC, as Python's own parser normalises names)."""
    return unicodedata.normalize("NFKC", str(name).strip())


def check_name(name: str, what: str = "name") -> str:
    """``name`` normalised, or a one-line error if it is not a usable symbol name."""
    n = normalize_name(name)
    if not n.isidentifier():
        raise ExpressionError(f"{what} {name!r} is not a valid symbol name (letters, digits and _, "
                              f"not starting with a digit)")
    if n.startswith("_"):
        raise ExpressionError(f"{what} {name!r} must not start with an underscore")
    if n in RESERVED:
        raise ExpressionError(f"{what} {name!r} is the name of a function or constant "
                              f"({', '.join(sorted(RESERVED))}); choose another name")
    return n


def _snippet(text: str, node: ast.AST) -> str:
    try:
        seg = ast.get_source_segment(text, node)
    except Exception:  # noqa: BLE001 - only used to quote the offending part
        seg = None
    seg = seg if seg else type(node).__name__
    return seg if len(seg) <= 60 else seg[:57] + "..."


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class _Builder:
    def __init__(self, text: str, what: str, symbols: Mapping[str, sp.Symbol], allow_names: bool):
        self.text = text
        self.what = what
        self.symbols = dict(symbols)
        self.allow_names = allow_names
        self.nodes = 0

    def fail(self, node, why: str):
        raise ExpressionError(f"{self.what} {self.text!r}: {why} ({_snippet(self.text, node)!r} is not allowed)")

    def symbol(self, name: str) -> sp.Symbol:
        if name not in self.symbols:
            self.symbols[name] = sp.Symbol(name, real=True)
        return self.symbols[name]

    def build(self, node, depth=0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"{self.what} is too long (more than {MAX_NODES} terms)")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"{self.what} is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Expression):
            return self.build(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.build(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, depth + 1)
            self.fail(node, "only unary + and - are allowed")
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                hint = " (write powers as **)" if isinstance(node.op, ast.BitXor) else ""
                self.fail(node, f"only + - * / ** are allowed{hint}")
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if op == "+":
                return left + right
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            if op == "/":
                if right == 0:
                    self.fail(node, "division by zero")
                return left / right
            return self.power(node, left, right)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        self.fail(node, "only numbers, names, + - * / **, parentheses and calls of "
                        f"{', '.join(sorted(FUNCTIONS))} are allowed")

    def number(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(node, "only real numbers are allowed as constants")
        if isinstance(v, int):
            if len(str(abs(v))) > MAX_INTEGER_DIGITS:
                self.fail(node, f"integer literals are limited to {MAX_INTEGER_DIGITS} digits")
            return sp.Integer(v)
        if not math.isfinite(v):
            self.fail(node, "numbers must be finite")
        return sp.Rational(Fraction(repr(v)))  # the decimal as written, exactly

    def name(self, node):
        n = node.id
        if n in CONSTANTS:
            return CONSTANTS[n]
        if n in FUNCTIONS:
            self.fail(node, f"{n} is a function; call it as {n}(...)")
        if not self.allow_names:
            self.fail(node, "only numbers are allowed here")
        if n.startswith("_"):
            self.fail(node, "names must not start with an underscore")
        return self.symbol(n)

    def power(self, node, base, exp):
        if exp.is_Number:
            if not exp.is_Rational:
                self.fail(node, "exponents must be exact numbers")
            if abs(exp) > MAX_EXPONENT:
                self.fail(node, f"numeric exponents are limited to ±{MAX_EXPONENT}")
            if base == 0 and exp < 0:
                self.fail(node, "division by zero")
        elif base.is_Number and abs(base) > 2 ** MAX_EXPONENT:
            self.fail(node, "numeric bases of symbolic powers are limited in size")
        return base ** exp

    def call(self, node, depth):
        if not isinstance(node.func, ast.Name):
            self.fail(node, "only calls of the elementary functions "
                            f"{', '.join(sorted(FUNCTIONS))} by name are allowed")
        fname = node.func.id
        if fname not in FUNCTIONS:
            self.fail(node.func, f"unknown function {fname!r}; allowed are {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            self.fail(node, "keyword arguments are not allowed")
        if any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(node, "starred arguments are not allowed")
        fn, arity = FUNCTIONS[fname]
        if len(node.args) != arity:
            self.fail(node, f"{fname} takes {arity} argument{'s' if arity > 1 else ''}")
        args = [self.build(a, depth + 1) for a in node.args]
        return fn(*args)


def parse_expression(text, what: str = "expression", symbols: Mapping[str, sp.Symbol] | None = None,
                     allow_names: bool = True) -> sp.Expr:
    """Build the SymPy expression that ``text`` denotes, without evaluating any Python.

    ``symbols`` maps names to the symbols to use for them (other names become
    ``Symbol(name, real=True)``).  ``allow_names=False`` accepts only numeric expressions.
    Raises :class:`ExpressionError` (one line) for anything outside the whitelist."""
    if not isinstance(text, str):
        raise ExpressionError(f"{what} must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"{what} is too long ({len(text)} characters; at most {MAX_LENGTH})")
    if "\x00" in text:
        raise ExpressionError(f"{what} contains a NUL character")
    src = text.strip()
    if not src:
        raise ExpressionError(f"{what} is empty")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {what} {text!r}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"cannot parse {what}: it is nested too deeply") from None
    builder = _Builder(src, what, {normalize_name(k): v for k, v in (symbols or {}).items()}, allow_names)
    try:
        expr = builder.build(tree)
    except RecursionError:
        raise ExpressionError(f"{what} is nested too deeply") from None
    expr = sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr  # a SymPy object already
    if not isinstance(expr, sp.Expr):
        raise ExpressionError(f"{what} {text!r} is not an algebraic expression")
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise ExpressionError(f"{what} {text!r} is not finite")
    return expr


def expression_names(expr: sp.Expr) -> list:
    """Names of the free symbols of ``expr`` in a stable order."""
    return sorted(s.name for s in expr.free_symbols)


def parse_number(value, what: str = "value") -> sp.Expr:
    """An exact real number from a Python/NumPy/SymPy number or a numeric string such as
    ``"1/3"`` or ``"sqrt(2)"`` (parsed by :func:`parse_expression` with no names allowed).
    Floats become the exact rational of their shortest decimal form."""
    if isinstance(value, sp.Basic):
        v = value
    elif isinstance(value, bool):
        raise ExpressionError(f"{what} must be a number, got {value!r}")
    elif isinstance(value, int):
        v = sp.Integer(value)
    elif isinstance(value, Fraction):
        v = sp.Rational(value.numerator, value.denominator)
    elif isinstance(value, str):
        if value.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise ExpressionError(f"{what} must be a finite real number, got {value!r}")
        v = parse_expression(value, what, allow_names=False)
    else:
        try:
            f = float(value)  # numpy scalars, decimals, ...
        except (TypeError, ValueError):
            raise ExpressionError(f"{what} must be a number, got {value!r}") from None
        if not math.isfinite(f):
            raise ExpressionError(f"{what} must be a finite real number, got {value!r}")
        if float(f).is_integer() and abs(f) < 2 ** 53:
            v = sp.Integer(int(f))
        else:
            v = sp.Rational(Fraction(repr(f)))
    if not (v.is_number and v.is_real and v.is_finite):
        raise ExpressionError(f"{what} must be a finite real number, got {value!r}")
    return v


def check_names(items: Iterable, what: str) -> list:
    """A list of distinct valid symbol names from ``'a,b'`` or an iterable; one-line errors."""
    if items is None:
        return []
    if isinstance(items, str):
        items = [t for t in (s.strip() for s in items.split(",")) if t]
    out = []
    for t in items:
        n = check_name(str(t), what)
        if n in out:
            raise ExpressionError(f"{what} {n!r} is given twice")
        out.append(n)
    return out
