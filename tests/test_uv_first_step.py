"""The first GD step of the UV model at any state: the μ form (no squaring) of S' < S against
direct evaluation of the sharpness, against the sign-case form obtained by squaring (an
independent algebraic route kept only here), the f₀ = 0 threshold, κ(X) on the NTK boundary and
the small-k threshold."""
from __future__ import annotations

import functools

import mpmath as mp
import numpy as np
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.models.uv import eos as up
from symsharp.models.uv import first_step as fsm


def _S(X, L, k):
    return (L + np.sqrt(L ** 2 + 4 * k * (X - 1) * (3 * X - 1))) / 2


def _step(X, L, k):
    # the closed map in (X, ℓ, k), written out here as an independent reference
    return X + k * X * (X - 1) ** 2 - L * (X - 1), L + k * (X - 1) * (L * (X - 1) - 4 * X)


@functools.lru_cache(maxsize=None)
def _sign_case():
    """S' < S ⇔ √D' < √D − A with D = (2ηS − ℓ)², A = ℓ' − ℓ, by squaring where both sides have known
    signs: (A < 0 ∧ (B ≥ 0 ∨ B² − 4A²D < 0)) ∨ (A ≥ 0 ∧ D > A² ∧ B > 0 ∧ B² − 4A²D > 0), B = D + A² − D'.
    Built here from the derivation's map and sharpness (polynomials lambdified for NumPy/mpmath)."""
    r = up.uv_route_derivation()
    X, L, K = up.X, up.L, up.K
    D = sp.expand((2 * r.sharpness_nd - L) ** 2)
    Dn = sp.expand(D.subs({X: r.nd_step[X], L: r.nd_step[L]}, simultaneous=True))
    A = sp.expand(r.nd_step[L] - L)
    B = sp.expand(D + A ** 2 - Dn)
    P = sp.expand(B ** 2 - 4 * A ** 2 * D)
    return {m: [sp.lambdify((X, L, K), e, m) for e in (A, B, D, P)] for m in ("numpy", "mpmath")}


def _sign_case_falls(x, ell, k, module="numpy"):
    A, B, D, P = (f(x, ell, k) for f in _sign_case()[module])
    if module == "numpy":
        return ((A < 0) & ((B >= 0) | (P < 0))) | ((A >= 0) & (D - A ** 2 > 0) & (B > 0) & (P > 0))
    return bool((A < 0 and (B >= 0 or P < 0)) or (A >= 0 and D - A ** 2 > 0 and B > 0 and P > 0))


@given(st.floats(0.01, 5.0), st.floats(-3.0, 3.0), st.floats(0.0, 6.0))
@settings(max_examples=examples(300), deadline=None)
def test_mu_form_matches_direct_evaluation(k, X, extra):
    L = 2 * np.sqrt(k) * abs(X) + extra          # feasible
    d = _S(*_step(X, L, k), k) - _S(X, L, k)
    if abs(d) < 1e-9 * (1 + _S(X, L, k)):
        return
    assert bool(fsm.sharpness_falls(np.array(X), np.array(L), np.array(k))) == (d < 0)


def test_mu_form_equals_the_sign_case_form():
    rng = np.random.default_rng(1)
    M = 20000
    k = rng.uniform(0.01, 4.0, M)
    x = rng.uniform(-2.0, 3.0, M)
    ell = 2 * np.sqrt(k) * np.abs(x) + rng.exponential(1.5, M)
    with np.errstate(all="ignore"):
        d = _S(*_step(x, ell, k), k) - _S(x, ell, k)
        mu = fsm.sharpness_falls(x, ell, k)
        sc = _sign_case_falls(x, ell, k)
    clear = np.abs(d) > 1e-9 * (1 + _S(x, ell, k))
    assert np.all(mu[clear] == sc[clear]) and np.all(mu[clear] == (d[clear] < 0))
    # the closest cases to S' = S at 40 digits, both forms against the exact difference
    with mp.workdps(40):
        r = up.uv_route_derivation()
        Sx = sp.lambdify((up.X, up.L, up.K), r.sharpness_nd, "mpmath")
        fx = [sp.lambdify((up.X, up.L, up.K), r.nd_step[v], "mpmath") for v in (up.X, up.L)]
        for i in np.argsort(np.abs(d))[:40]:
            xv, lv, kv = (mp.mpf(float(t)) for t in (x[i], ell[i], k[i]))
            dd = Sx(fx[0](xv, lv, kv), fx[1](xv, lv, kv), kv) - Sx(xv, lv, kv)
            if dd == 0:
                continue
            assert fsm.sharpness_falls(xv, lv, kv, module="mpmath") == (dd < 0)
            assert _sign_case_falls(xv, lv, kv, module="mpmath") == (dd < 0)


def test_f0_zero_threshold_from_the_mu_form():
    fs = fsm.first_step()
    f0 = fs["f0"]
    K = up.K
    assert f0["slope_negative"] and f0["lam_rises"] and f0["second_condition_holds"]
    assert len(f0["candidates"]) == 2 and len(f0["rejected"]) == 1
    thr = sp.lambdify(K, f0["threshold"])
    for k in (0.3, 1.0, 2.5, 9.0):
        t = thr(k)
        # direct evaluation on both sides and the sign-case form
        for ell, falls in ((0.98 * t, True), (1.02 * t, False)):
            assert (_S(*_step(0.0, ell, k), k) < _S(0.0, ell, k)) == falls
            assert bool(fsm.sharpness_falls(np.array(0.0), np.array(ell), np.array(k))) == falls
            assert bool(_sign_case_falls(np.array(0.0), np.array(ell), np.array(k))) == falls
    assert f0["vanishes_at_k"] == 16 and fs["f0_threshold_k0"] == fs["l_S_at_0"]


def test_kappa_decides_the_side_of_the_ntk_boundary():
    fs = fsm.first_step()
    kap = sp.lambdify(up.X, fs["kappa"])
    rng = np.random.default_rng(8)
    seen = {"lam_down_S_up": 0, "lam_up_S_down": 0}
    for _ in range(400):
        X = rng.uniform(1.05, 4) if rng.random() < 0.5 else rng.uniform(-4, -0.05)
        k = rng.uniform(0.01, 0.99) * 4 / (X - 1) ** 2          # feasible boundary: k(X − 1)² ≤ 4
        kk = kap(X)
        if abs(k - kk) < 1e-3 * (1 + kk):
            continue
        lb = 4 * X / (X - 1)
        assert lb >= 2 * np.sqrt(k) * abs(X)
        dS = _S(*_step(X, lb, k), k) - _S(X, lb, k)
        assert (dS < 0) == (k > kk)
        h = 1e-4 * lb
        lv = lb - h if k < kk else lb + h
        if lv < 2 * np.sqrt(k) * abs(X):
            continue
        X1, L1 = _step(X, lv, k)
        dS = _S(X1, L1, k) - _S(X, lv, k)
        if k < kk:
            assert L1 < lv and dS > 0
            seen["lam_down_S_up"] += 1
        else:
            assert L1 > lv and dS < 0
            seen["lam_up_S_down"] += 1
    assert min(seen.values()) > 20


def test_small_k_threshold():
    fs = fsm.first_step()
    lS = sp.lambdify(up.X, fs["l_S_small_k"])
    assert fs["l_S_small_k"].subs(up.X, 0) == 1
    rng = np.random.default_rng(9)
    X = rng.uniform(-3, 3, 3000)
    L = np.abs(rng.normal(1.5, 1.2, 3000)) + 1e-3
    k = np.full_like(X, 1e-7)
    ok = (np.abs(X - 1) > 0.05) & (np.abs(L - lS(X)) > 0.05) & (L >= 2 * np.sqrt(k) * np.abs(X))
    dS = _S(*_step(X, L, k), k) - _S(X, L, k)
    assert np.all(((dS < 0) == (L < lS(X)))[ok])
    assert fs["gap_positive_for"] == sp.Interval.open(sp.Rational(-2, 3), 1)


def test_lambda_always_rises_between_zero_and_target():
    fs = fsm.first_step()
    assert sp.Complement(sp.S.Reals, fs["lam_threshold_positive_for"]) == sp.Interval(0, 1)
    rng = np.random.default_rng(10)
    X = rng.uniform(1e-6, 1 - 1e-6, 5000)
    k = rng.uniform(0.01, 4, 5000)
    L = 2 * np.sqrt(k) * X + rng.exponential(2.0, 5000)
    assert np.all(_step(X, L, k)[1] > L)


def test_one_first_step_derivation():
    import symsharp.models.uv.init as ui

    for name in ("first_step_general", "first_step_structure", "sharpness_falls", "sharpness_falls_mu_form"):
        assert not hasattr(ui, name)
    assert not hasattr(up.uv_route_derivation(), "first_step")
