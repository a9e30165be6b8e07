"""GF limit of the chain model: symbolic derivations, and the formulas against DOP853 gradient flow
integrated from random starts (D = 2, 3, 4) and against dense eigensolvers (Hypothesis)."""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from hypothesis_budget import examples
from scipy.integrate import solve_ivp

from symsharp.models.chain.symbolic import full_hessian, svd_coordinates
from symsharp.models.chain.gf import (ChainGFError, depth_threshold, derive_chain_gf, gf_limit, gf_limit_norm, gf_limit_root,
                                        gf_limit_sharpness, rank_one_threshold, secular_top_root, small_init_sharpness)


# ------------------------------------------------------------------------------ helpers (independent numpy)
def _grad(X, y, u, v):
    N = X.shape[0]
    pi = np.prod(v)
    Xu = X @ u
    r = Xu * pi - y
    gu = X.T @ r * pi / N
    gv = np.array([(r @ Xu) * np.prod(np.delete(v, k)) / N for k in range(v.size)])
    return gu, gv


def _gf(X, y, u0, v0, T=2000.0):
    d = X.shape[1]

    def rhs(t, th):
        gu, gv = _grad(X, y, th[:d], th[d:])
        return -np.concatenate([gu, gv])

    sol = solve_ivp(rhs, (0, T), np.concatenate([u0, v0]), method="DOP853", rtol=1e-12, atol=1e-14)
    assert sol.success
    return sol.y[:d, -1], sol.y[d:, -1], sol


# ------------------------------------------------------------------------------ symbolic
@pytest.fixture(scope="module")
def derived():
    return derive_chain_gf((2, 3, 4), 2)


def test_symbolic_checks_all_pass(derived):
    for D in (2, 3, 4):
        c, e, h = derived["conservation"][D], derived["limit"][D], derived["sharpness"][D]
        assert c["conserved"] and c["ansatz_equals_span_C"]
        assert len(c["ansatz_invariants"]) == D - 1
        assert e["derived_from_minimum"] and e["g_prime_positive"] and e["g_at_lower_end_zero"]
        assert e["degree"] == D and e["leading_coeff"] == 1
        assert h["structure_verified"] and h["residual_zero"] and h["depends_on_v_squares_only"]
        assert h["secular_matches_determinant"] and h["lower_is_rayleigh_e1"] and h["dd_below_Q_Sigma2"]
    dp = derived["depth"]
    assert dp["factorises"] and dp["ratio_ok"] and dp["hat_bracket_upper"] and dp["hat_bracket_lower"]
    assert derived["galois"]["group"] == "S5" and derived["galois"]["solvable"] is False


def test_d2_closed_form_matches_y3(derived):
    import sympy as sp

    e = derived["limit"][2]
    C, Q = e["C"][0], e["Q"]
    assert sp.simplify(e["closed_form"] - (C + sp.sqrt(C ** 2 + 4 * Q)) / 2) == 0
    assert sp.simplify(e["v_squared"] - (sp.sqrt(C ** 2 + 4 * Q) - C) / 2) == 0


# ------------------------------------------------------------------------------ numeric root
def test_gf_limit_norm_root_and_uniqueness():
    rng = np.random.default_rng(3)
    for _ in range(200):
        k = rng.integers(1, 6)
        C = rng.normal(size=k) * np.exp(rng.normal() * 2)
        Q = float(np.exp(rng.normal() * 3))
        s, w = gf_limit_root(C, Q)
        assert s == gf_limit_norm(C, Q)
        assert s > max(0.0, C.max()) and np.all(w > 0)
        assert np.allclose(s - C, w, rtol=1e-9, atol=1e-12 * (abs(s) + np.abs(C)))
        assert np.isclose(s * np.prod(w), Q, rtol=1e-10)
        # uniqueness: g has no other real root above c0
        roots = np.roots(np.poly(np.concatenate([[0.0], C])) - np.r_[np.zeros(k + 1), Q])
        real = roots[np.abs(roots.imag) < 1e-7 * (1 + np.abs(roots))].real
        above = real[real > max(0.0, C.max()) + 1e-9 * (1 + abs(s))]
        assert len(above) <= 1


def test_gf_limit_norm_rejects_bad_input():
    with pytest.raises(ChainGFError, match="Q must be"):
        gf_limit_norm([0.0], -1.0)
    with pytest.raises(ChainGFError, match="imbalances"):
        gf_limit_norm([np.nan], 1.0)


# ------------------------------------------------------------------------------ against gradient flow
CASES = [(D, N, d, seed) for D in (2, 3, 4) for (N, d) in ((3, 4), (5, 3)) for seed in (0,)]


@pytest.mark.parametrize("D,N,d,seed", CASES)
def test_limit_matches_integrated_gradient_flow(D, N, d, seed):
    rng = np.random.default_rng(100 * D + 10 * N + seed)
    X = rng.normal(size=(N, d))
    y = rng.normal(size=N)  # for N > d, y is outside col(X): the formula uses d = Eᵀy only
    u0 = rng.normal(size=d) * 0.7
    v0 = rng.normal(size=D - 1) * 0.9
    u, v, _ = _gf(X, y, u0, v0)
    assert np.linalg.norm(np.concatenate(_grad(X, y, u, v))) < 1e-8
    lim = gf_limit(X, y, u0, v0)
    E, s, W = svd_coordinates(X)
    S = np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1]
    assert abs(S - lim["sharpness"]) < 1e-7 * S
    assert abs(lim["sharpness"] - lim["sharpness_eig"]) < 1e-10 * S
    assert abs(np.sum((W.T @ u) ** 2) - lim["s"]) < 1e-7 * lim["s"]
    assert np.allclose(v ** 2, lim["v_squared"], rtol=1e-7)
    # imbalances conserved along the flow
    C0 = np.sum((W.T @ u0) ** 2) - v0 ** 2
    C1 = np.sum((W.T @ u) ** 2) - v ** 2
    assert np.allclose(C0, C1, atol=1e-9)
    assert lim["lower"] * (1 - 1e-12) <= lim["sharpness"] <= lim["upper"] * (1 + 1e-12)


def test_sign_kept_when_C_negative_and_can_flip_when_positive():
    X, y = np.array([[1.0]]), np.array([1.0])
    # C = 0.99 > 0: v starts negative, crosses zero
    u, v, _ = _gf(X, y, np.array([1.0]), np.array([-0.1]), T=200)
    assert v[0] > 0
    lim = gf_limit(X, y, [1.0], [-0.1])
    assert not lim["signs_determined"]
    assert np.isclose(np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1], lim["sharpness"], rtol=1e-9)
    # C < 0: sign kept
    u, v, sol = _gf(X, y, np.array([0.1]), np.array([-1.0]), T=200)
    assert np.all(sol.y[1] < 0)
    assert gf_limit(X, y, [0.1], [-1.0])["signs_determined"]


def test_small_balanced_start_approaches_c_zero_limit():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3, 4))
    y = rng.normal(size=3)
    E, s, W = svd_coordinates(X)
    for D in (2, 3):
        z = W @ rng.normal(size=len(s))
        u0 = 1e-2 * z / np.linalg.norm(z)  # ‖Π_W u0‖ = v0: C = 0 exactly, whatever the scale
        v0 = np.full(D - 1, 1e-2)
        u, v, _ = _gf(X, y, u0, v0, T=20000)
        S = np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1]
        assert abs(S - small_init_sharpness(s, E.T @ y, D, 3)) < 1e-6 * S


# ------------------------------------------------------------------------------ Hypothesis: random imbalances
@settings(max_examples=examples(60), deadline=None)
@given(D=st.integers(2, 5), r=st.integers(1, 4), seed=st.integers(0, 2 ** 31 - 1),
       cscale=st.floats(-3, 3), sscale=st.floats(-1.5, 1.5))
@example(D=2, r=1, seed=20164, cscale=0.0, sscale=-1.40625)  # root within rounding of its upper bound
def test_random_imbalances_against_eigvalsh(D, r, seed, cscale, sscale):
    rng = np.random.default_rng(seed)
    sigma = np.sort(np.exp(rng.normal(size=r) * sscale + rng.normal(size=r) * 0.3))[::-1]
    dvec = rng.normal(size=r)
    C = rng.normal(size=D - 1) * np.exp(cscale)
    N = 7
    out = gf_limit_sharpness(sigma, dvec, C, N)
    # build that minimum explicitly and compute the sharpness with a dense Hessian
    v = np.sqrt(out["v_squared"]) * rng.choice([-1, 1], size=D - 1)
    z = dvec / sigma / np.prod(v)
    assert np.isclose(z @ z, out["s"], rtol=1e-9)
    assert np.allclose(z @ z - v ** 2, C, atol=1e-9 * (1 + np.abs(C).max() + out["s"]))
    H = full_hessian(np.diag(sigma), dvec, z, v) * (r / N)
    S = np.linalg.eigvalsh(H)[-1]
    assert np.isclose(S, out["sharpness"], rtol=1e-8)
    assert out["lower"] * (1 - 1e-10) <= S <= out["upper"] * (1 + 1e-10)
    # Cauchy–Schwarz upper bound N S ≤ σ1² g'(s)
    s = out["s"]
    gprime = np.prod(s - C) + s * sum(np.prod(np.delete(s - C, k)) for k in range(D - 1))
    assert N * S <= sigma[0] ** 2 * gprime * (1 + 1e-10)


@settings(max_examples=examples(60), deadline=None)
@given(D=st.integers(2, 5), r=st.integers(1, 4), seed=st.integers(0, 2 ** 31 - 1))
def test_depth_threshold_properties(D, r, seed):
    rng = np.random.default_rng(seed)
    sigma = np.sort(np.exp(rng.normal(size=r)))[::-1]
    dhat = rng.normal(size=r)
    qs = depth_threshold(sigma, dhat, D)
    assert rank_one_threshold(D) * (1 - 1e-9) <= qs <= 1 + 1e-12
    # invariant under scaling y and X
    assert np.isclose(depth_threshold(3 * sigma, 0.2 * dhat, D), qs, rtol=1e-9)
    # the threshold decides the order of the true small-init sharpness
    for Q in (qs * 0.9, qs * 1.1):
        dd = dhat * np.sqrt(Q / np.sum(dhat ** 2 / sigma ** 2))
        SD, SD1 = small_init_sharpness(sigma, dd, D, 5), small_init_sharpness(sigma, dd, D + 1, 5)
        if qs < 1 - 1e-6 and qs > rank_one_threshold(D) * (1 + 1e-6):
            assert (SD1 > SD) == (Q > qs)
        S_hat = lambda k: sigma[0] ** 2 / 5 * Q ** ((k - 1) / k)
        assert S_hat(D) * (1 - 1e-10) <= SD <= D * S_hat(D) * (1 + 1e-10)


def test_rank_one_counterexample_hat_order_vs_true_order():
    # Q = 0.25 lies between (2/3)^6 ≈ 0.088 and 1: Ŝ_3 < Ŝ_2 but S_3 > S_2
    sigma, d = np.array([1.0]), np.array([0.5])
    S2, S3 = small_init_sharpness(sigma, d, 2, 1), small_init_sharpness(sigma, d, 3, 1)
    assert np.isclose(S2, 2 * 0.25 ** 0.5) and np.isclose(S3, 3 * 0.25 ** (2 / 3))
    assert S3 > S2 and 0.25 ** (2 / 3) < 0.25 ** 0.5


def test_secular_root_with_zero_top_component():
    sigma, d = np.array([3.0, 1.0]), np.array([0.0, 0.1])
    for p, q in [(1.0, 1.0), (0.1, 50.0)]:
        ref = np.linalg.eigvalsh(p * np.diag(sigma ** 2) + q * np.outer(d, d))[-1]
        assert np.isclose(secular_top_root(p, q, sigma, d), ref, rtol=1e-12)
