"""Single-neuron deep linear network of Yoo, Song & Yun (2025).

``f(x; θ) = (xᵀu) ∏_{i=1}^{D−1} v_i``, ``L = 1/(2N) ‖X u ∏ v_i − y‖²``.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ...symbolic.model import Model, ModelError, ParamBlock, check_positive_int, matrix_symbols, vector_symbols, squared_loss
from ...symbolic.model import ETA


def _as_rational_matrix(arr, what):
    out = []
    for row in arr:
        out.append([sp.nsimplify(float(t), rational=True) for t in row])
    return out


def chain_model(depth: int = 2, samples: int = 2, dim: int = 2, X=None, y=None) -> Model:
    """Build the chain model of depth D >= 2 on N examples of dimension d.

    ``X`` (N×d) and ``y`` (N) may be numeric arrays; otherwise they are symbols ``X_j_k``, ``y_j``.
    Parameter blocks: ``u`` (d entries) and ``v`` (D − 1 scalars), both at rate ``eta``.
    The observable ``beta`` is not scalar, so the model declares the scalar observable
    ``prod_v`` = ∏ v_i.
    """
    D = check_positive_int(depth, "depth (--depth)", minimum=2)
    N = check_positive_int(samples, "number of samples (--samples)")
    d = check_positive_int(dim, "input dimension (--dim)")
    if X is None:
        Xs = [list(matrix_symbols("X", N, d)[j * d:(j + 1) * d]) for j in range(N)]
    else:
        Xa = np.asarray(X, dtype=float)
        if Xa.shape != (N, d):
            raise ModelError(f"X must have shape (samples, dim) = ({N}, {d}), got {Xa.shape}")
        if not np.all(np.isfinite(Xa)):
            raise ModelError("X contains NaN or infinite entries; all entries must be finite")
        Xs = _as_rational_matrix(Xa, "X")
    if y is None:
        ys = list(vector_symbols("y", N))
    else:
        ya = np.asarray(y, dtype=float).reshape(-1)
        if ya.shape != (N,):
            raise ModelError(f"y must have length samples = {N}, got {ya.shape[0]}")
        if not np.all(np.isfinite(ya)):
            raise ModelError("y contains NaN or infinite entries; all entries must be finite")
        ys = [sp.nsimplify(float(t), rational=True) for t in ya]
    u = vector_symbols("u", d)
    v = vector_symbols("v", D - 1)
    blocks = (ParamBlock("u", u, (d,), ETA), ParamBlock("v", v, (D - 1,), ETA))
    prod_v = sp.Mul(*v)
    outs = tuple(sp.expand(sum(Xs[j][k] * u[k] for k in range(d)) * prod_v) for j in range(N))
    loss = squared_loss(outs, ys)
    consts = tuple(s for s in [t for row in Xs for t in row] + ys if isinstance(s, sp.Symbol))
    return Model(name="chain", blocks=blocks, outputs=outs, targets=tuple(ys), loss=loss,
                 constants=consts, observables={"prod_v": prod_v},
                 observable_symbols={"prod_v": sp.Symbol("pi_v", real=True)},
                 assumptions=(f"depth D = {D}, N = {N} examples, input dimension d = {d}",
                              "data " + ("symbolic" if X is None else "numeric (exact rationals)")),
                 options={"depth": D, "samples": N, "dim": d, "data": "symbolic" if X is None else "numeric"},
                 eta=ETA)
