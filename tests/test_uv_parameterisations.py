"""The initial state of the UV model in the fewest numbers (n, k, ℓ̄_U, ℓ̄_v), the parameterisation
table, and where the NTK and the Hessian sharpness disagree after one step — against NumPy
parameter-space GD, Monte Carlo draws and direct evaluation of the sharpness."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symsharp.models.uv import eos as up
from symsharp.models.uv import init as ui
from symsharp.models.uv import report as ur


def _gd(U, v, x, y, alpha, eta_U, eta_v, steps):
    """Plain parameter-space GD of f = (α/√n) vᵀUx; returns (X_t, ℓ_U,t, ℓ_v,t)."""
    n = v.shape[-1]
    c = alpha / np.sqrt(n)
    out = []
    for t in range(steps + 1):
        Ux = U @ x
        f = c * v @ Ux
        out.append((f / y, eta_U * c ** 2 * (v @ v) * (x @ x), eta_v * c ** 2 * (Ux @ Ux)))
        if t < steps:
            g = c * (f - y)
            U, v = U - eta_U * g * np.outer(v, x), v - eta_v * g * Ux
    return np.array(out)


def _S(X, L, k):
    return (L + np.sqrt(L ** 2 + 4 * k * (X - 1) * (3 * X - 1))) / 2


def _step(X, L, k):
    # the closed map in (X, ℓ, k), written out here as an independent reference
    return X + k * X * (X - 1) ** 2 - L * (X - 1), L + k * (X - 1) * (L * (X - 1) - 4 * X)


def _numbers(p):
    """(k, ℓ̄_U, ℓ̄_v, c_X²) from the derived coefficients, at numeric constants p (dict by name)."""
    law = ui.initial_law()
    sub = {s: p[s.name] for s in law["symbols"]}
    co = law["coeffs"]
    return [float(e.subs(sub)) for e in (co["k"], co["lbar_U"], co["lbar_v"], co["c_X"] ** 2)]


def test_initial_law_structure():
    law = ui.initial_law()
    co = law["coeffs"]
    assert set(co) == {"c_X", "lbar_U", "lbar_v", "k"}
    assert len(law["relations"]) == 1 and law["relations"][0]["constant"] == 1
    assert law["rank"] == 4 and len(law["scaling_group"]) == len(law["symbols"]) - 4
    # the derived relation, evaluated on the coefficients themselves
    rel = law["EX0_sq_in_numbers"].subs({ui.LBU: co["lbar_U"], ui.LBV: co["lbar_v"], up.K: co["k"]})
    assert sp.simplify(rel - co["c_X"] ** 2) == 0
    assert sp.simplify(law["Var_chi"] * ui.NW) == 2
    for m in law["stats"].values():
        assert m["E_Z"] == 0 and m["E_Z2"] == 1 and m["E_chi"] == 1


def test_numbers_against_monte_carlo():
    rng = np.random.default_rng(0)
    p = {"alpha": 1.3, "eta_U": 0.2, "eta_v": 0.07, "n": 9, "sigma_U": 0.6, "sigma_v": 1.4, "x_norm": 0.8, "y": 0.9}
    k, lU, lv, cx2 = _numbers(p)
    n, d = 9, 3
    M = 20000
    x = np.array([p["x_norm"], 0.0, 0.0])
    U = rng.standard_normal((M, n, d)) * p["sigma_U"]
    v = rng.standard_normal((M, n)) * p["sigma_v"]
    c = p["alpha"] / np.sqrt(n)
    Ux = U @ x
    X0 = c * np.sum(v * Ux, axis=1) / p["y"]
    ellU = p["eta_U"] * c ** 2 * np.sum(v ** 2, axis=1) * (x @ x)
    ellv = p["eta_v"] * c ** 2 * np.sum(Ux ** 2, axis=1)
    assert np.mean(X0 ** 2) == pytest.approx(cx2, rel=0.04)
    assert np.mean(ellU) == pytest.approx(lU, rel=0.01)
    assert np.mean(ellv) == pytest.approx(lv, rel=0.01)
    assert np.var(ellU) == pytest.approx(2 * lU ** 2 / n, rel=0.05)
    a = p["alpha"] ** 2 * p["x_norm"] ** 2 / n
    assert k == pytest.approx(a * p["eta_U"] * p["eta_v"] * p["y"] ** 2, rel=1e-12)


@given(st.integers(2, 8), st.integers(1, 3), st.integers(0, 2 ** 31 - 1))
@settings(max_examples=40, deadline=None)
def test_equal_numbers_give_equal_trajectories(n, d, seed):
    law = ui.initial_law()
    rng = np.random.default_rng(seed)
    base = {"alpha": rng.uniform(0.5, 1.5), "eta_U": rng.uniform(0.05, 0.3), "eta_v": rng.uniform(0.05, 0.3), "n": n,
            "sigma_U": rng.uniform(0.3, 1.0), "sigma_v": rng.uniform(0.3, 1.0), "x_norm": rng.uniform(0.5, 1.5),
            "y": rng.uniform(0.5, 1.5)}
    w = sum(rng.normal() * np.array([g[s] for s in law["symbols"]], dtype=float) for g in law["scaling_group"])
    other = {s.name: base[s.name] * np.exp(0.8 * wi) for s, wi in zip(law["symbols"], w)}
    assert other["n"] == n
    assert np.allclose(_numbers(base), _numbers(other), rtol=1e-10)
    G, H = rng.standard_normal((n, d)), rng.standard_normal(n)
    xd = rng.standard_normal(d)
    xd /= np.linalg.norm(xd)
    runs = [_gd(p["sigma_U"] * G, p["sigma_v"] * H, p["x_norm"] * xd, p["y"], p["alpha"], p["eta_U"], p["eta_v"], 20)
            for p in (base, other)]
    assert np.allclose(runs[0], runs[1], rtol=1e-9, atol=1e-12)
    # and a parameter change that moves a number changes the run
    moved = dict(base, eta_U=base["eta_U"] * 1.5)
    run2 = _gd(moved["sigma_U"] * G, moved["sigma_v"] * H, moved["x_norm"] * xd, moved["y"], moved["alpha"],
               moved["eta_U"], moved["eta_v"], 20)
    assert not np.allclose(runs[0], run2, rtol=1e-6)


def test_mup_forms_train_identically():
    pn = ui.parameterisation_numbers()
    assert ("μP, multiplier form (one rate)", "μP, standard form (layer-wise rates)") in pn["identical"]
    fams = {r["name"]: r["family"] for r in pn["rows"]}
    rng = np.random.default_rng(3)
    n, d = 256, 4
    G, H = rng.standard_normal((n, d)), rng.standard_normal(n)
    x = np.eye(d)[0] * 1.2
    runs = []
    for name in ("μP, multiplier form (one rate)", "μP, standard form (layer-wise rates)"):
        a, su2, sv2, eu, ev = (float(t.subs({ui.NW: n, ui.DIN: d, ui.ETAHAT: sp.Rational(3, 10)})) for t in fams[name])
        r = _gd(np.sqrt(su2) * G, np.sqrt(sv2) * H, x, 1.0, a, eu, ev, 30)
        runs.append(np.stack([r[:, 0], r[:, 1] + r[:, 2]], 1))
    assert np.allclose(runs[0], runs[1], rtol=1e-9, atol=1e-12)
    # the (X, ℓ) run follows the one-rate closed map with k = aη_Uη_v y² (layer-wise claim), here k = η̂²‖x‖²y²
    k = (3 / 10) ** 2 * 1.2 ** 2
    X, L = runs[1][0]
    for t in range(1, 31):
        X, L = _step(X, L, k)
        assert X == pytest.approx(runs[1][t, 0], rel=1e-7, abs=1e-9)
        assert L == pytest.approx(runs[1][t, 1], rel=1e-7)


def test_parameterisation_exponents_against_finite_n_slopes():
    pn = ui.parameterisation_numbers()
    ex = {r["name"]: r["exponents"] for r in pn["rows"]}
    assert (ex["NTK"]["k"], ex["NTK"]["ell0"], ex["NTK"]["EX0_sq"]) == (-1, 0, 0)
    assert (ex["standard, η fixed"]["k"], ex["standard, η fixed"]["ell0"]) == (0, 1)
    assert (ex["μP, multiplier form (one rate)"]["k"], ex["μP, multiplier form (one rate)"]["ell0"],
            ex["μP, multiplier form (one rate)"]["EX0_sq"]) == (0, 0, -1)
    for r in pn["rows"]:
        for q in ("k", "ell0", "EX0_sq"):
            e = r["numbers"][q].subs({ui.XNORM: 1, sp.Symbol("y", real=True): 1, sp.Symbol("y"): 1,
                                      ui.ETAHAT: sp.Rational(1, 3), ui.DIN: 5})
            e = e.subs({s: 1 for s in e.free_symbols if s.name == "y"})
            f = sp.lambdify(ui.NW, e)
            slope = (np.log(float(f(10 ** 8))) - np.log(float(f(10 ** 7)))) / np.log(10.0)
            assert slope == pytest.approx(float(r["exponents"][q]), abs=1e-6), (r["name"], q)
        # n k E X₀²/ℓ̄₀² = ℓ̄_Uℓ̄_v/(ℓ̄_U + ℓ̄_v)² ≤ 1/4
        mr = r["numbers"]["manifold_ratio"].subs({ui.DIN: 5})
        assert all(float(mr.subs(ui.NW, nv)) <= 0.25 + 1e-15 for nv in (1, 10, 1000))


@given(st.floats(0.01, 5.0), st.floats(-3.0, 3.0), st.floats(0.0, 6.0))
@settings(max_examples=400, deadline=None)
def test_mu_form_matches_direct_evaluation(k, X, extra):
    L = 2 * np.sqrt(k) * abs(X) + extra
    d = _S(*_step(X, L, k), k) - _S(X, L, k)
    if abs(d) < 1e-9 * (1 + _S(X, L, k)):
        return
    assert bool(ui.sharpness_falls_mu_form(np.array(X), np.array(L), np.array(k))) == (d < 0)


def test_kappa_decides_the_side_of_the_ntk_boundary():
    fs = ui.first_step_structure()
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
        # the band next to the boundary: just below ℓ_λ (λ falls) when k < κ, just above (λ rises) when k > κ
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


def test_small_k_threshold_and_the_f0_zero_limit():
    fs = ui.first_step_structure()
    lS = sp.lambdify(up.X, fs["l_S_small_k"])
    assert fs["l_S_small_k"].subs(up.X, 0) == 1
    thr0 = up.uv_route_derivation().first_step["S_threshold_f0_zero"]
    assert sp.limit(thr0, up.K, 0) == 1
    rng = np.random.default_rng(9)
    X = rng.uniform(-3, 3, 3000)
    L = np.abs(rng.normal(1.5, 1.2, 3000)) + 1e-3
    k = np.full_like(X, 1e-7)
    ok = (np.abs(X - 1) > 0.05) & (np.abs(L - lS(X)) > 0.05) & (L >= 2 * np.sqrt(k) * np.abs(X))
    dS = _S(*_step(X, L, k), k) - _S(X, L, k)
    assert np.all(((dS < 0) == (L < lS(X)))[ok])
    # ℓ_S above the NTK threshold exactly on (−2/3, 1)
    assert fs["gap_positive_for"] == sp.Interval.open(sp.Rational(-2, 3), 1)


def test_lambda_always_rises_between_zero_and_target():
    rng = np.random.default_rng(10)
    X = rng.uniform(1e-6, 1 - 1e-6, 5000)
    k = rng.uniform(0.01, 4, 5000)
    L = 2 * np.sqrt(k) * X + rng.exponential(2.0, 5000)
    assert np.all(_step(X, L, k)[1] > L)


def test_markdown_has_the_new_sections():
    md = ur.uv_route_markdown()
    assert "### First step at a general state" in md and "### Initial state: the fewest numbers" in md
    assert "\\kappa(X)" in md and "μP, standard form (layer-wise rates)" in md
