"""The SGD-step kernel of a model agrees with the SymPy SGD map and with a hand-written NumPy step."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.codegen.maps import sgd_kernel
from symsharp.models import chain_model
from symsharp.symbolic.calculus import sgd_map

X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.3]])
Y = np.array([1.0, -0.5, 2.0])


@pytest.fixture(scope="module")
def setup():
    m = chain_model(2, samples=3, dim=2, X=X.tolist(), y=Y.tolist())
    return m, sgd_kernel(m, [0, 2, 2])


@given(st.lists(st.floats(-2, 2), min_size=3, max_size=3), st.floats(0.01, 0.5))
@settings(max_examples=examples(25), deadline=None)
def test_sgd_kernel_matches_numpy_step(setup, theta, eta):
    m, k = setup
    theta = np.array(theta)
    got = k.step(theta, {"eta": eta})
    # independent: L_B = 1/(2|B|) Σ_{j∈B} (x_jᵀu v − y_j)² on B = (0, 2, 2), by hand
    u, v = theta[:2], theta[2]
    B = [0, 2, 2]
    r = X[B] @ u * v - Y[B]
    gu = (X[B].T @ r) * v / len(B)
    gv = r @ (X[B] @ u) / len(B)
    want = np.concatenate([u - eta * gu, [v - eta * gv]])
    assert np.allclose(got, want, rtol=1e-13, atol=1e-14)
    sym = sgd_map(m, B)
    subs = dict(zip(m.params, theta)) | {sp.Symbol("eta", positive=True): eta}
    ref = np.array([float(sym[p].subs(subs)) for p in m.params])
    assert np.allclose(got, ref, rtol=1e-12, atol=1e-14)
