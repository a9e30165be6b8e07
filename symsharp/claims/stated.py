"""Claims that check their own words.

Every formula and number in a claim's statement is written between backticks, in Python
syntax (Unicode names allowed: `4 + a*η**2*y*(f - y)`, `(7 - sqrt(1 + 3*k))/6`, `2.45044`).  A
checker does not keep its own copy of them: at check time it reads the statement as registered
(:func:`symsharp.claims.registry.get_claim`), parses each backticked item with the
:mod:`symsharp.expr` whitelist (never ``eval``) and compares it with what the code derived:

- :class:`F` ``(derived)``: the item is an expression identical to ``derived`` (``simplify`` of the
  difference is 0);
- :class:`Eq` ``(lhs, rhs)``: the item is an equation ``A = B`` with A ≡ lhs and B ≡ rhs;
- :class:`Num` ``(value)``: the item is a decimal and ``value`` rounds to it (its last digit);
- :class:`OneOf` ``(candidates)``: the item equals one of the derived candidates (members of a
  derived set whose order carries no meaning, e.g. the two points of a 2-cycle).

:func:`compare` returns ``None`` when every item matches, else the :class:`Outcome` to return:
``refuted`` with a counterexample (a point where stated and derived values differ) for a wrong
formula or number, ``open`` when the statement has a different number of items than the checker
compares or an item does not parse.  So editing a statement to a wrong formula makes its claim
fail, and so does adding a formula that no checker compares.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal

import mpmath as mp
import sympy as sp

from .registry import Outcome, get_claim
from ..expr import ExpressionError, normalize_name, parse_expression

TICK = re.compile(r"`([^`]+)`")


@dataclass
class F:
    """A stated expression that must equal ``derived``."""

    derived: object


@dataclass
class Eq:
    """A stated equation ``A = B`` with A ≡ ``lhs`` and B ≡ ``rhs``."""

    lhs: object
    rhs: object


@dataclass
class OneOf:
    """A stated expression that must equal one of ``candidates``."""

    candidates: list


@dataclass
class Num:
    """A stated decimal that ``value`` must round to (at the stated number of decimals)."""

    value: object


def items(cid: str) -> list:
    """The backticked items of claim ``cid``'s statement, as registered now."""
    return TICK.findall(get_claim(cid).statement)


def _split_equation(text: str):
    """``A = B`` → (A, B); None when there is no single top-level ``=``."""
    parts = re.split(r"(?<![<>=!])=(?!=)", text)
    return (parts[0], parts[1]) if len(parts) == 2 else None


def parse(text: str, symbols: dict):
    return parse_expression(text, "statement formula", symbols={normalize_name(k): v for k, v in symbols.items()})


def _values(expr_syms, rng):
    vals = {}
    for s in sorted(expr_syms, key=lambda t: t.name):
        lo = 0.3 if (s.is_positive or s.is_nonnegative) else -2.0
        vals[s] = sp.Rational(rng.randint(int(lo * 1000), 2500), 1000) or sp.Rational(7, 10)
    return vals


def differ(stated, derived, seed: int = 0):
    """None when ``stated`` and ``derived`` are identical expressions; else a dict describing a point
    where they differ (or why equality could not be shown)."""
    stated, derived = sp.sympify(stated), sp.sympify(derived)
    d = stated - derived
    if d == 0 or sp.simplify(d) == 0 or sp.simplify(sp.expand(d)) == 0:
        return None
    rng = random.Random(seed)
    free = stated.free_symbols | derived.free_symbols
    for _ in range(20):
        at = _values(free, rng)
        with mp.workdps(40):
            try:
                sv, dv = sp.N(stated.subs(at), 30), sp.N(derived.subs(at), 30)
            except (TypeError, ValueError, ZeroDivisionError):
                continue
            if not (sv.is_number and dv.is_number):
                continue
            if sv.is_real and dv.is_real and abs(sv - dv) > 1e-20 * (1 + abs(dv)):
                return {"at": {s.name: str(v) for s, v in at.items()}, "stated_value": str(sp.N(sv, 15)),
                        "derived_value": str(sp.N(dv, 15))}
    return {"at": {}, "note": "SymPy could not show the two expressions equal (no numeric difference found either)"}


def _number_matches(text: str, value) -> bool:
    try:
        dec = Decimal(text.strip())
    except ArithmeticError:
        return False
    exp = dec.as_tuple().exponent
    half = Decimal(5) * Decimal(10) ** (exp - 1)
    with mp.workdps(50):
        v = mp.mpf(str(sp.N(value, 45))) if isinstance(value, sp.Basic) else mp.mpf(value)
        return abs(v - mp.mpf(str(dec))) <= mp.mpf(str(half)) * (1 + mp.mpf(10) ** -12)


def compare(cid: str, expected: list, symbols: dict) -> Outcome | None:
    """Compare the backticked items of ``cid``'s statement with ``expected`` (in order); see the
    module docstring.  ``symbols`` maps the names used in the statement to the derivation's
    symbols (other names become real symbols and will not match a derived expression)."""
    got = items(cid)
    if len(got) != len(expected):
        return Outcome("open", f"the statement has {len(got)} formulas or numbers in backticks, the checker compares "
                               f"{len(expected)}", details=" | ".join(got))
    for i, (text, exp) in enumerate(zip(got, expected), 1):
        where = f"statement item {i} `{text}`"
        try:
            if isinstance(exp, Num):
                if not _number_matches(text, exp.value):
                    return Outcome("refuted", f"{where} differs from the derived number",
                                   counterexample={"statement": text, "derived": str(sp.N(exp.value, 15))
                                                   if isinstance(exp.value, sp.Basic) else repr(exp.value)})
                continue
            if isinstance(exp, Eq):
                eq = _split_equation(text)
                if eq is None:
                    return Outcome("open", f"{where} is not an equation A = B")
                for side, (t, dv) in zip(("left", "right"), zip(eq, (exp.lhs, exp.rhs))):
                    bad = differ(parse(t, symbols), dv)
                    if bad is not None:
                        return Outcome("refuted", f"{where}: the {side}-hand side differs from the derived {dv}",
                                       counterexample={"statement": text, "derived": str(dv), **bad})
                continue
            if isinstance(exp, OneOf):
                st = parse(text, symbols)
                if all(differ(st, cand) is not None for cand in exp.candidates):
                    bad = differ(st, exp.candidates[0])
                    return Outcome("refuted", f"{where} is none of the derived {[str(c) for c in exp.candidates]}",
                                   counterexample={"statement": text, "derived": [str(c) for c in exp.candidates],
                                                   **bad})
                continue
            if _split_equation(text) is not None:
                return Outcome("open", f"{where} is an equation where the checker expects an expression")
            bad = differ(parse(text, symbols), exp.derived)
            if bad is not None:
                return Outcome("refuted", f"{where} differs from the derived {exp.derived}",
                               counterexample={"statement": text, "derived": str(exp.derived), **bad})
        except ExpressionError as exc:
            return Outcome("open", f"{where} cannot be parsed: {exc}")
    return None


def checked(cid: str) -> str:
    """The phrase a checker adds to its method: how many statement items it compared."""
    n = len(items(cid))
    return f"the statement's {n} formula{'s' if n != 1 else ''}/numbers parsed and compared exactly with the derivation"
