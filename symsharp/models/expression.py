"""A model written down as an expression: f (plus a dataset) or directly a loss L(θ), parsed by the
whitelist parser of :mod:`symsharp.expr` (never evaluated as Python)."""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import sympy as sp

from ..expr import ExpressionError, check_names, parse_expression, parse_number
from ..symbolic.model import Model, ModelError, ParamBlock, squared_loss
from ..symbolic.model import ETA

_RESERVED = {"eta"}


def _parse(text: str, what: str, symbols) -> sp.Expr:
    """``text`` as a SymPy expression through the whitelist parser (never ``eval``)."""
    try:
        return parse_expression(text, what, symbols=symbols)
    except ExpressionError as exc:
        raise ModelError(str(exc)) from None


def _names(items, what="name") -> list:
    try:
        return check_names(items, what)
    except ExpressionError as exc:
        raise ModelError(str(exc)) from None


def _value(v, what):
    try:
        return parse_number(v, what)
    except ExpressionError as exc:
        raise ModelError(str(exc)) from None


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
    inputs, params = _input_and_param_names(inputs, params, data)
    text = f if f is not None else loss
    what = "f" if f is not None else "loss"
    expr = _expression(text, what)
    free = {s.name: s for s in expr.free_symbols}
    if len(free) != len(expr.free_symbols):
        raise ModelError(f"{what} uses two different symbols with the same name")
    inputs, params = _infer_names(inputs, params, free, what, text, output=f is not None)
    psyms = tuple(free[p] for p in params)
    blocks = (ParamBlock("theta", psyms, (len(psyms),), ETA),)
    obs = {name: _parse(t, f"observable {name}", free) for name, t in (observables or {}).items()}
    if loss is not None:
        return Model(name="custom", blocks=blocks, outputs=(), targets=(), loss=sp.expand(expr),
                     constants=tuple(s for s in expr.free_symbols if s not in psyms), observables=obs,
                     assumptions=("loss given directly",), options={"loss": str(expr)}, eta=ETA)
    isyms = [free.get(n, sp.Symbol(n, real=True)) for n in inputs]
    ysym = free.get("y", sp.Symbol("y", real=True))
    if data:
        outs, ys = _examples(expr, isyms, data, what, text)
        consts = ()
        assum = (f"{len(outs)} numeric examples",)
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


def _input_and_param_names(inputs, params, data) -> tuple:
    """The given input and parameter names (checked, no name in both), plus every data column
    other than ``y`` as an input."""
    inputs = _names(inputs, "input name")
    params = _names(params, "parameter name")
    clash = [p for p in params if p in inputs]
    if clash:
        raise ModelError(f"{clash[0]!r} is given both as a parameter and as an input")
    for key in data or {}:
        name = _names([key], "data column")[0]
        if name != "y" and name not in inputs:
            inputs.append(name)
    return inputs, params


def _expression(text, what: str) -> sp.Expr:
    """The SymPy expression of ``f`` or ``loss``: parsed with the whitelist parser, or given."""
    if isinstance(text, str):
        return _parse(text, what, {})
    if isinstance(text, sp.Expr):
        return text
    raise ModelError(f"{what} must be a string or a SymPy expression, got {type(text).__name__}")


def _infer_names(inputs, params, free: dict, what: str, text, output: bool) -> tuple:
    """Inputs and parameters, inferred where not given: symbols ``x``, ``x1``, ``x_2``, ... are
    inputs of an output expression when neither list is given; every other free symbol except
    ``y`` and the reserved names is a parameter."""
    if not inputs and output and not params:
        inputs = sorted(n for n in free if re.fullmatch(r"x(_?\d+)?", n))
    if not params:
        params = sorted(n for n in free if n not in set(inputs) | {"y"} | _RESERVED)
    if not params:
        raise ModelError(f"{what} {str(text)!r} has no parameter symbols; name them with params")
    missing = [p for p in params if p not in free]
    if missing:
        raise ModelError(f"parameter {missing[0]!r} does not occur in {what} {str(text)!r}")
    return inputs, params


def _examples(expr, isyms: list, data, what: str, text) -> tuple:
    """(outputs, targets) per example: ``expr`` with the example's exact input values substituted
    (an undefined value is an error naming the example)."""
    lengths = {k: len(list(v)) for k, v in data.items()}
    if len(set(lengths.values())) != 1:
        raise ModelError(f"every data column must have the same number of examples, got {lengths}")
    if "y" not in data:
        raise ModelError("data must contain the targets under the key 'y'")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ModelError("data must contain at least one example")
    outs, ys = [], []
    for j in range(n):
        sub = {s: _value(list(data[s.name])[j], f"data value {s.name}[{j}]") for s in isyms}
        out_j = sp.expand(expr.subs(sub))
        if out_j.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            at = ", ".join(f"{k} = {v}" for k, v in sub.items())
            raise ModelError(f"{what} {str(text)!r} is undefined at example {j} ({at}): division by zero or a "
                             "singular function value")
        outs.append(out_j)
        ys.append(_value(list(data["y"])[j], f"data value y[{j}]"))
    return outs, ys


def parse_data_text(text: str) -> dict:
    """``'x=1,2,3;y=0.5,1,2'`` → {"x": ["1", "2", "3"], "y": ["0.5", "1", "2"]} (values checked to
    be finite numbers; each column once; the values stay text for the exact parser)."""
    if not isinstance(text, str):
        raise ModelError(f"data must be text like 'x=1,2;y=3,4', got {type(text).__name__}")
    out = {}
    for part in [p for p in text.split(";") if p.strip()]:
        if "=" not in part:
            raise ModelError(f"data must look like 'x=1,2;y=3,4', got {text!r}")
        k, v = part.split("=", 1)
        k = k.strip()
        if k in out:
            raise ModelError(f"data column {k!r} is given twice")
        vals = []
        for t in v.split(","):
            t = t.strip()
            if not t:
                raise ModelError(f"data column {k!r} has an empty value")
            _value(t, f"data value {t!r} for {k!r}")
            vals.append(t)
        out[k] = vals
    if not out:
        raise ModelError(f"data must look like 'x=1,2;y=3,4', got {text!r}")
    return out


def parse_assignments(items, what: str = "--init") -> dict:
    """``["w=0.5", "v=0:1:11"]`` → {"w": "0.5", "v": "0:1:11"} with each name once."""
    out = {}
    for it in items or ():
        if not isinstance(it, str) or "=" not in it:
            raise ModelError(f"{what} must look like NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        k = k.strip()
        if not k:
            raise ModelError(f"{what} must look like NAME=VALUE, got {it!r}")
        if k in out:
            raise ModelError(f"{what} gives {k!r} twice")
        out[k] = v.strip()
    return out
