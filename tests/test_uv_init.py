"""The UV initial state in the fewest numbers (n, k, ℓ̄_U, ℓ̄_v), the moments in physical units read off
that law, the parameterisation table and layer-wise rates — against an independent Isserlis
derivation of the moments, Monte Carlo draws, NumPy parameter-space GD and finite-n slopes."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.models.uv import eos as up
from symsharp.models.uv import init as ui
from symsharp.models.uv.model import ALPHA, ETA, Y


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


def _step(X, L, k):
    # the closed map in (X, ℓ, k), written out here as an independent reference
    return X + k * X * (X - 1) ** 2 - L * (X - 1), L + k * (X - 1) * (L * (X - 1) - 4 * X)


def _numbers(p):
    """(k, ℓ̄_U, ℓ̄_v, c_X²) from the derived coefficients, at numeric constants p (dict by name)."""
    law = ui.initial_law()
    sub = {s: p[s.name] for s in law["symbols"]}
    co = law["coeffs"]
    return [float(e.subs(sub)) for e in (co["k"], co["lbar_U"], co["lbar_v"], co["c_X"] ** 2)]


# ------------------------------------------------------------------ independent moments (Isserlis)
def _gaussian_expectation(poly, scales):
    """E[poly] for independent centred Gaussians {symbol: standard deviation}: every monomial
    ∏ z_i^{k_i} has expectation ∏ σ_i^{k_i} (k_i − 1)!! (0 if some k_i is odd)."""
    gens = list(scales)
    P = sp.Poly(sp.expand(poly), *gens)
    total = sp.Integer(0)
    for powers, coeff in P.terms():
        term = coeff
        for g, k in zip(gens, powers):
            if k % 2:
                term = 0
                break
            term *= scales[g] ** k * sp.factorial2(k - 1)
        total += term
    return sp.expand(total)


@functools.lru_cache(maxsize=None)
def _isserlis_moments():
    """The moments of (f₀, λ₀) from the expanded polynomials in the Gaussian entries, written here
    (f₀ = (α/√n)‖x‖Σu_i v_i, λ₀ = (α²/n)‖x‖²(Σu_i² + Σv_i²) with u = Ux/‖x‖), for n = 1 … 5; each
    n·moment is a polynomial of degree ≤ 2 in n, interpolated from n = 1, 2, 3 and confirmed at
    n = 4, 5 — a derivation independent of the engine's initial law."""
    n_ = ui.NW
    samples = {}
    for n in range(1, 6):
        u = sp.symbols(f"u1:{n + 1}", real=True)
        v = sp.symbols(f"v1:{n + 1}", real=True)
        scales = {**{s: ui.SIG_U for s in u}, **{s: ui.SIG_V for s in v}}
        f0 = ALPHA / sp.sqrt(n) * ui.XNORM * sum(a * b for a, b in zip(u, v))
        lam0 = ALPHA ** 2 / n * ui.XNORM ** 2 * (sum(a ** 2 for a in u) + sum(b ** 2 for b in v))
        m = {"E_f0": _gaussian_expectation(f0, scales), "E_f0_sq": _gaussian_expectation(f0 ** 2, scales),
             "E_lam0": _gaussian_expectation(lam0, scales)}
        m["Var_lam0"] = sp.expand(_gaussian_expectation(lam0 ** 2, scales) - m["E_lam0"] ** 2)
        samples[n] = m
    out = {}
    for name in samples[1]:
        poly = sp.expand(sp.interpolate([(n, sp.expand(n * samples[n][name])) for n in (1, 2, 3)], n_))
        form = sp.factor(poly / n_)
        for n in (4, 5):
            assert sp.simplify(form.subs(n_, n) - samples[n][name]) == 0, (name, n)
        out[name] = form
    return out


def test_moments_from_the_law_equal_the_isserlis_moments():
    mom = ui.initial_moments()
    ref = _isserlis_moments()
    assert set(mom) == set(ref)
    for q in ref:
        assert sp.simplify(mom[q] - ref[q]) == 0, (q, mom[q], ref[q])
    # and the law's moments do not depend on the rate (η cancels in λ₀ = ηλ₀/η)
    assert all(ETA not in e.free_symbols for e in mom.values())
    # a deliberately wrong reference is noticed (the comparison can fail)
    assert sp.simplify(mom["Var_lam0"] - 2 * ref["Var_lam0"]) != 0


def test_moments_match_monte_carlo():
    mom = ui.initial_moments()
    n, su, sv, al, xn = 7, 0.5, 2.0, 0.9, 1.7
    rng = np.random.default_rng(3)
    U = rng.standard_normal((40000, n, 3)) * su
    v = rng.standard_normal((40000, n)) * sv
    x = np.array([xn, 0.0, 0.0]) @ np.linalg.qr(rng.standard_normal((3, 3)))[0]  # any direction, norm xn
    p = U @ x
    f0 = al / np.sqrt(n) * np.sum(v * p, axis=1)
    lam0 = al ** 2 / n * (np.sum(p ** 2, axis=1) + xn ** 2 * np.sum(v ** 2, axis=1))
    sub = {ui.NW: n, ui.SIG_U: sp.Float(su), ui.SIG_V: sp.Float(sv), ALPHA: sp.Float(al), ui.XNORM: sp.Float(xn)}
    assert mom["E_f0"] == 0
    assert np.mean(f0 ** 2) == pytest.approx(float(mom["E_f0_sq"].subs(sub)), rel=0.03)
    assert np.mean(lam0) == pytest.approx(float(mom["E_lam0"].subs(sub)), rel=0.01)
    assert np.var(lam0) == pytest.approx(float(mom["Var_lam0"].subs(sub)), rel=0.05)


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
    assert law["stats_free"] == {"E_Z": 0, "E_Z2": 1, "E_chi": 1, "E_chi_g": 1, "Cov_chi": 0}
    # physical f₀ = y X₀: the target cancels in E f₀²
    assert Y not in law["moments"]["E_f0_sq"].free_symbols


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
@settings(max_examples=examples(25), deadline=None)
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


def test_one_parameterisation_table():
    pn = ui.parameterisation_numbers()
    assert [r["name"] for r in pn["rows"]] == list(ui.PARAMETERISATION_FAMILIES)
    assert len(pn["rows"]) == 6
    assert not hasattr(ui, "parameterisation_table") and not hasattr(ui, "PARAMETERISATIONS")


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
    assert all(e["rel_sd_ell0"] == sp.Rational(-1, 2) for e in ex.values())
    for r in pn["rows"]:
        for q in ("k", "ell0", "EX0_sq", "rel_sd_ell0"):
            e = r["numbers"][q].subs({ui.XNORM: 1, ui.ETAHAT: sp.Rational(1, 3), ui.DIN: 5})
            e = e.subs({s: 1 for s in e.free_symbols if s.name == "y"})
            f = sp.lambdify(ui.NW, e)
            slope = (np.log(float(f(10 ** 8))) - np.log(float(f(10 ** 7)))) / np.log(10.0)
            assert slope == pytest.approx(float(r["exponents"][q]), abs=1e-6), (r["name"], q)
        # n k E X₀²/ℓ̄₀² = ℓ̄_Uℓ̄_v/(ℓ̄_U + ℓ̄_v)² ≤ 1/4
        mr = r["numbers"]["manifold_ratio"].subs({ui.DIN: 5})
        assert all(float(mr.subs(ui.NW, nv)) <= 0.25 + 1e-15 for nv in (1, 10, 1000))


def test_regimes_quote_the_derived_divergence_line():
    sep = up.uv_route_derivation().separatrix["f0_zero_boundary"]
    text = sp.sstr(sep).replace("-", "−")
    rows = {r["name"]: r["regime"] for r in ui.parameterisation_numbers()["rows"]}
    assert text in rows["standard, η fixed"] and text in rows["mean-field (one rate)"]


def test_layerwise_rates_reduce_to_the_common_rate_map():
    r = ui.layerwise_reduction()
    a, eu, ev, y = sp.symbols("a eta_U eta_v y")
    assert sp.simplify(r["group"].subs({s: sp.Symbol(s.name) for s in r["group"].free_symbols}) - a * eu * ev * y ** 2) == 0
    assert r["sum_closes"] and r["matches_common_rate"]


def test_markdown_has_one_section_each():
    from symsharp.models.uv.report import route_markdown, uv_init_markdown

    md = uv_init_markdown()
    for head in ("## Initial state: the fewest numbers", "## Layer-wise rates", "## Parameterisations",
                 "## First step: NTK and Hessian sharpness"):
        assert md.count(head) == 1, head
    assert "\\kappa(X)" in md and "μP, standard form (layer-wise rates)" in md
    assert "interpolated" not in md           # the Isserlis interpolation is a test-only cross-check now
    route = route_markdown()
    assert "### First step" not in route and "Initial state" not in route
