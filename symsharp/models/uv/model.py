"""The UV model of Kalra, He & Barkeshli (2023): f(x) = (α/√n) vᵀ U x on one example (x, y).

``L = ½ (f − y)²``; GD with layer-wise rates ``eta_U``, ``eta_v`` (one common ``eta`` by default).
With ``examples > 1`` the loss is the mean squared loss over the examples (the function-space
reduction then does not close, and the engine says so).
"""
from __future__ import annotations

import sympy as sp

from ...expr import ExpressionError, parse_number
from ...symbolic.model import Model, ModelError, ParamBlock, check_positive_int, matrix_symbols, vector_symbols, squared_loss

ETA = sp.Symbol("eta", positive=True)
ETA_U = sp.Symbol("eta_U", positive=True)
ETA_V = sp.Symbol("eta_v", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
A = sp.Symbol("a", positive=True)
F = sp.Symbol("f", real=True)
LAM = sp.Symbol("lam", nonnegative=True)
Y = sp.Symbol("y", real=True)


def _number(value, what):
    if value is None:
        return None
    try:
        return parse_number(value, what)
    except ExpressionError as exc:
        raise ModelError(str(exc)) from None


def uv_model(width: int = 3, input_dim: int = 2, alpha=None, layerwise: bool = False,
             examples: int = 1, x=None, y=None) -> Model:
    """Build the UV model.

    Parameters
    ----------
    width: n >= 1, the number of hidden units.
    input_dim: d >= 1.
    alpha: output multiplier; ``None`` keeps it a positive symbol ``alpha``.
    layerwise: if True, U and v get separate rates ``eta_U`` and ``eta_v``.
    examples: number of training examples (1 in the paper).
    x, y: numeric input (length d; with several examples a list of k inputs) and target (one
        example only); ``None`` keeps them symbolic.
    """
    n = check_positive_int(width, "width (--width)")
    d = check_positive_int(input_dim, "input dimension (--input-dim)")
    k = check_positive_int(examples, "number of examples")
    al = ALPHA if alpha is None else _number(alpha, "alpha (--alpha)")
    if al == 0:
        raise ModelError("alpha (--alpha) must be nonzero, got 0")
    U = matrix_symbols("U", n, d)
    v = vector_symbols("v", n)
    rU, rv = (ETA_U, ETA_V) if layerwise else (ETA, ETA)
    blocks = (ParamBlock("U", U, (n, d), rU), ParamBlock("v", v, (n,), rv))
    Um = sp.Matrix(n, d, list(U))
    vm = sp.Matrix(list(v))
    xs, ys, outs = [], [], []
    for j in range(k):
        if x is not None:
            xj = x if k == 1 else x[j]
            xv = [_number(t, "x") for t in xj]
            if len(xv) != d:
                raise ModelError(f"x must have input_dim={d} entries, got {len(xv)}")
        else:
            xv = list(vector_symbols("x" if k == 1 else f"x{j + 1}", d))
        yv = (Y if k == 1 else sp.Symbol(f"y_{j + 1}", real=True)) if (y is None or k > 1) else _number(y, "y")
        xm = sp.Matrix(xv)
        outs.append(sp.expand(al / sp.sqrt(n) * (vm.T * Um * xm)[0, 0]))
        xs.append(xv)
        ys.append(yv)
    loss = squared_loss(outs, ys)
    consts = tuple(s for s in ([al] + [t for xv in xs for t in xv] + ys) if isinstance(s, sp.Symbol))
    observables, obs_syms, derived = {}, {}, {}
    assumptions = [f"width n = {n}, input dimension d = {d}", "U, v real; alpha > 0" if alpha is None else f"alpha = {al}"]
    if k == 1:
        params = list(U) + list(v)
        grad_f = [sp.diff(outs[0], p) for p in params]
        observables = {"f": outs[0], "lam": sp.expand(sum(g ** 2 for g in grad_f))}
        obs_syms = {"f": F, "lam": LAM}
        derived = {A: sp.expand(al ** 2 * sum(t ** 2 for t in xs[0]) / n)}
        assumptions.append("one training example (x, y), loss ½(f − y)²")
    else:
        assumptions.append(f"{k} training examples, loss 1/(2N) Σ (f_j − y_j)²")
    return Model(name="uv", blocks=blocks, outputs=tuple(outs), targets=tuple(ys), loss=loss,
                 constants=consts, observables=observables, observable_symbols=obs_syms,
                 derived_constants=derived, assumptions=tuple(assumptions),
                 options={"width": n, "input_dim": d, "alpha": str(al), "layerwise": layerwise,
                          "examples": k},
                 eta=ETA)
