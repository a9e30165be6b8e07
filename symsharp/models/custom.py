"""A model the user writes down: an expression for f (plus a dataset) or directly a loss L(θ)."""
from __future__ import annotations

from typing import Mapping, Sequence

import sympy as sp

from .base import Model, ModelError, ParamBlock, squared_loss
from .uv import ETA

_RESERVED = {"eta"}
_MATH_NAMES = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "atan", "asin", "acos",
               "pi", "E", "Abs", "sign", "erf", "Max", "Min", "Rational", "Heaviside", "cbrt", "asinh", "atanh"}


def _parse(text: str, what: str, names: Sequence[str]) -> sp.Expr:
    local = {n: sp.Symbol(n, real=True) for n in names}
    try:
        expr = sp.parse_expr(text, local_dict=local, evaluate=True)
    except Exception as exc:  # SymPy raises many types for bad text
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"cannot parse {what} {text!r} as a SymPy expression ({msg})") from None
    if not isinstance(expr, sp.Expr):
        raise ModelError(f"{what} {text!r} is not an algebraic expression")
    return expr


def _names(items) -> list:
    if items is None:
        return []
    if isinstance(items, str):
        items = [t for t in items.replace(" ", "").split(",") if t]
    out = []
    for t in items:
        t = str(t)
        if not t.isidentifier():
            raise ModelError(f"{t!r} is not a valid symbol name")
        out.append(t)
    return out


def custom_model(f: str | sp.Expr | None = None, params=None, inputs=None,
                 data: Mapping[str, Sequence] | None = None, loss: str | sp.Expr | None = None,
                 observables: Mapping[str, str] | None = None) -> Model:
    """Build a model from a SymPy expression.

    Either ``f`` (the output, in terms of parameter and input symbols) with an optional dataset
    ``data = {"x": [...], ..., "y": [...]}`` (one value per example for every input and the
    target ``y``), or ``loss`` (directly L(θ)).  Without data, ``f`` gets one symbolic example with
    target ``y``.  ``params`` lists the parameter names; by default every free symbol that is not
    an input or ``y``.  When neither inputs nor params are given, symbols named ``x``, ``x1``,
    ``x_2``, ... are taken as inputs.
    """
    if (f is None) == (loss is None):
        raise ModelError("give exactly one of f (an output expression) or loss (a loss expression)")
    inputs = _names(inputs)
    params = _names(params)
    if data:
        for key in data:
            if key != "y" and key not in inputs:
                inputs.append(key)
    known = set(inputs) | set(params) | {"y"}
    text = f if f is not None else loss
    what = "f" if f is not None else "loss"
    if isinstance(text, str):
        import re

        tokens = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
        # mathematical functions and constants keep their SymPy meaning unless declared explicitly
        tokens = {t for t in tokens if t not in _MATH_NAMES}
        expr = _parse(text, what, sorted(known | tokens))
    else:
        expr = sp.sympify(text)
    free = {s.name: s for s in expr.free_symbols}
    if not inputs and f is not None and not params:
        import re as _re

        inputs = sorted(n for n in free if _re.fullmatch(r"x(_?\d+)?", n))
    if not params:
        params = sorted(n for n in free if n not in set(inputs) | {"y"} | _RESERVED)
    if not params:
        raise ModelError(f"{what} {str(text)!r} has no parameter symbols; name them with params")
    missing = [p for p in params if p not in free]
    if missing:
        raise ModelError(f"parameter {missing[0]!r} does not occur in {what} {str(text)!r}")
    psyms = tuple(sp.Symbol(p, real=True) for p in params)
    blocks = (ParamBlock("theta", psyms, (len(psyms),), ETA),)
    obs = {}
    if observables:
        for name, t in observables.items():
            obs[name] = _parse(t, f"observable {name}", sorted(known | set(free)))
    if loss is not None:
        return Model(name="custom", blocks=blocks, outputs=(), targets=(), loss=sp.expand(expr),
                     constants=tuple(s for s in expr.free_symbols if s not in psyms), observables=obs,
                     assumptions=("loss given directly",), options={"loss": str(expr)}, eta=ETA)
    isyms = [sp.Symbol(n, real=True) for n in inputs]
    ysym = sp.Symbol("y", real=True)
    outs, ys = [], []
    if data:
        lengths = {k: len(list(v)) for k, v in data.items()}
        if len(set(lengths.values())) != 1:
            raise ModelError(f"every data column must have the same number of examples, got {lengths}")
        if "y" not in data:
            raise ModelError("data must contain the targets under the key 'y'")
        n = next(iter(lengths.values()))
        if n == 0:
            raise ModelError("data must contain at least one example")
        for j in range(n):
            sub = {}
            for s in isyms:
                val = sp.sympify(list(data[s.name])[j])
                if not val.is_real or not val.is_finite:
                    raise ModelError(f"data value {s.name}[{j}] = {val} is not a finite real number")
                sub[s] = sp.nsimplify(val, rational=True) if val.is_Float else val
            outs.append(sp.expand(expr.subs(sub)))
            yv = sp.sympify(list(data["y"])[j])
            if not yv.is_real or not yv.is_finite:
                raise ModelError(f"data value y[{j}] = {yv} is not a finite real number")
            ys.append(sp.nsimplify(yv, rational=True) if yv.is_Float else yv)
        consts = ()
        assum = (f"{n} numeric examples",)
    else:
        outs, ys = [sp.expand(expr)], [ysym]
        consts = tuple(s for s in expr.free_symbols if s not in psyms) + (ysym,)
        assum = ("one symbolic example (inputs and target y symbolic)",)
    if not obs and len(outs) == 1:
        grad_f = [sp.diff(outs[0], p) for p in psyms]
        obs = {"f": outs[0], "lam": sp.expand(sum(g ** 2 for g in grad_f))}
    return Model(name="custom", blocks=blocks, outputs=tuple(outs), targets=tuple(ys),
                 loss=squared_loss(outs, ys), constants=consts, observables=obs,
                 observable_symbols={k: sp.Symbol(k, real=True) for k in obs},
                 assumptions=assum, options={"f": str(expr), "params": params, "inputs": inputs}, eta=ETA)
