"""Chain model numerics and Yoo-claim counterexamples against independent computations."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.claims import get_claim
from symsharp.models.chain.symbolic import dataset_difficulty, derive_chain, full_hessian, imbalance, sharpness


def _loss(X, y, u, v):
    return 0.5 / X.shape[0] * np.sum((X @ u * np.prod(v) - y) ** 2)


def _fd_hessian(X, y, u, v, h=1e-4):
    th = np.concatenate([u, v])
    d = u.size
    L = lambda t: _loss(X, y, t[:d], t[d:])
    P = th.size
    H = np.zeros((P, P))
    for i in range(P):
        for j in range(P):
            e_i = np.eye(P)[i] * h
            e_j = np.eye(P)[j] * h
            H[i, j] = (L(th + e_i + e_j) - L(th + e_i - e_j) - L(th - e_i + e_j) + L(th - e_i - e_j)) / (4 * h * h)
    return H


case = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(2, 4), st.integers(0, 10_000))


@settings(max_examples=examples(40), deadline=None)
@given(case)
def test_reduced_sharpness_equals_full_eigvalsh(c):
    N, d, D, seed = c
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, d)), rng.normal(size=N)
    u, v = rng.normal(size=d), rng.normal(size=D - 1)
    full = np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1]
    assert sharpness(X, y, u, v) == pytest.approx(full, rel=1e-9, abs=1e-10)


@settings(max_examples=examples(15), deadline=None)
@given(case)
def test_full_hessian_vs_finite_differences(c):
    N, d, D, seed = c
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, d)), rng.normal(size=N)
    u, v = rng.normal(size=d), rng.normal(size=D - 1)
    np.testing.assert_allclose(full_hessian(X, y, u, v), _fd_hessian(X, y, u, v), rtol=1e-4, atol=1e-5)


@settings(max_examples=examples(30), deadline=None)
@given(case)
def test_Q_is_pinv_norm(c):
    N, d, _, seed = c
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, d)), rng.normal(size=N)
    assert dataset_difficulty(X, y) == pytest.approx(np.sum((np.linalg.pinv(X) @ y) ** 2), rel=1e-9)


def _gd(X, y, u, v, eta):
    r = X @ u * v[0] - y
    N = X.shape[0]
    return u - eta * X.T @ r * v[0] / N, v - eta * np.array([r @ (X @ u)]) / N


def test_y5_counterexample_recomputes():
    out = get_claim("Y5").checker()
    assert out.status == "refuted"
    ce = out.counterexample
    X, y, u, v = (np.array(ce[k], float) for k in ("X", "y", "u", "v"))
    u2, v2 = _gd(X, y, u, v, ce["eta"])
    # C = ‖Π_W u‖² − v²; here X has full column rank, so Π_W u = u
    assert (u2 @ u2 - v2[0] ** 2) - (u @ u - v[0] ** 2) < 0


def test_y6_counterexample_recomputes():
    out = get_claim("Y6").checker()
    assert out.status == "refuted"
    ce = out.counterexample
    X, y, u, v = (np.array(ce[k], float) for k in ("X", "y", "u", "v"))
    eta = ce["eta"]
    C = lambda uu, vv: uu @ uu - vv[0] ** 2
    u2, v2 = _gd(X, y, u, v, eta)
    dgd = C(u2, v2) - C(u, v)
    dsgd = np.mean([C(*_gd(X[[j]], y[[j]], u, v, eta)) - C(u, v) for j in range(X.shape[0])])
    assert dsgd < dgd


def test_y7_counterexample_recomputes():
    out = get_claim("Y7").checker()
    assert out.status == "refuted"
    dc = out.counterexample["depth_case"]
    X, y = np.array(dc["X"]), np.array(dc["y"])
    S = {}
    for D in ("D2", "D3"):
        u, v = np.array(dc[D]["u"]), np.array(dc[D]["v"])
        assert _loss(X, y, u, v) < 1e-20  # a global minimum
        S[D] = np.linalg.eigvalsh(_fd_hessian(X, y, u, v))[-1]
    assert S["D3"] < S["D2"]


def test_imbalance_uses_row_space_projection():
    X = np.array([[1.0, 0.0]])
    assert imbalance(X, np.array([2.0, 5.0]), np.array([1.0])) == pytest.approx(4.0 - 1.0)


def test_derive_chain_structure_verified():
    res = derive_chain(3, 2, 2)
    assert res["ntk_structure_verified"] is True
    assert res["secular_equation_verified"] is True
    assert len(res["gf_invariants"]) == 2
