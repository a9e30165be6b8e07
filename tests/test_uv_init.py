"""UV initialisation moments, parameterisation exponents and the general first-step condition,
against Monte Carlo draws, finite-n slopes and direct evaluation of the sharpness."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symsharp.models.uv import init as ui


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
    sub = {ui.N_: n, ui.SU: sp.Float(su), ui.SV: sp.Float(sv), ui.ALPHA: sp.Float(al), ui.XN: sp.Float(xn)}
    assert mom["E_f0"] == 0
    assert np.mean(f0 ** 2) == pytest.approx(float(mom["E_f0_sq"].subs(sub)), rel=0.03)
    assert np.mean(lam0) == pytest.approx(float(mom["E_lam0"].subs(sub)), rel=0.01)
    assert np.var(lam0) == pytest.approx(float(mom["Var_lam0"].subs(sub)), rel=0.05)


def test_parameterisation_exponents():
    rows = {r["name"]: r["exponents"] for r in ui.parameterisation_table()}
    assert rows["NTK"]["k"] == -1 and rows["NTK"]["ell0"] == 0
    assert rows["standard (fixed η)"]["ell0"] == 1
    assert rows["μP-like"]["k"] == 0 and rows["μP-like"]["ell0"] == 0 and rows["μP-like"]["X0_sq"] == -1
    assert all(r["rel_sd_ell0"] == sp.Rational(-1, 2) for r in rows.values())


def _S(X, L, k):
    return (L + np.sqrt(L ** 2 + 4 * k * (X - 1) * (3 * X - 1))) / 2


def _step(X, L, k):
    # the closed UV map in (X = f/y, ℓ = ηλ, k = aη²y²), written out by hand as a reference
    return X + k * X * (X - 1) ** 2 - L * (X - 1), L + k * (X - 1) * (L * (X - 1) - 4 * X)


@given(st.floats(0.01, 5.0), st.floats(-3.0, 3.0), st.floats(0.0, 6.0))
@settings(max_examples=300, deadline=None)
def test_first_step_condition_matches_direct_evaluation(k, X, extra):
    L = 2 * np.sqrt(k) * abs(X) + extra          # feasible
    X1, L1 = _step(X, L, k)
    d = _S(X1, L1, k) - _S(X, L, k)
    if abs(d) < 1e-9 * (1 + _S(X, L, k)):
        return
    assert bool(ui.sharpness_falls(np.array(X), np.array(L), np.array(k))) == (d < 0)


def test_first_step_reduces_to_the_f0_zero_threshold():
    # at X = 0 the general condition is ℓ₀ < 7/6 − √(1 + 3k)/6 (route-to-chaos section)
    for k in (0.3, 1.0, 2.5):
        thr = 7 / 6 - np.sqrt(1 + 3 * k) / 6
        assert bool(ui.sharpness_falls(np.array(0.0), np.array(thr * 0.98), np.array(k)))
        assert not bool(ui.sharpness_falls(np.array(0.0), np.array(thr * 1.02), np.array(k)))


def test_layerwise_rates_reduce_to_the_common_rate_map():
    r = ui.layerwise_reduction()
    a, eu, ev, y = sp.symbols("a eta_U eta_v y")
    assert sp.simplify(r["group"].subs({s: sp.Symbol(s.name) for s in r["group"].free_symbols}) - a * eu * ev * y ** 2) == 0
    assert r["sum_closes"] and r["matches_common_rate"]
