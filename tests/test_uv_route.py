"""Route to chaos of the UV model: Newton/mpmath results against independent float64 iteration of
the compiled 2-D GD map of (f, λ), and the API's contract."""
import json
import math

import numpy as np
import pytest
import sympy as sp

from symsharp.models.uv.route import DEFAULT_CONFIG, RouteError, route_to_chaos
from symsharp.models.uv import route as U
from symsharp.models.uv.system import uv_function_space_kernel
from symsharp.dynamics import orbit_diagram
from symsharp.models.uv import eos as up


@pytest.fixture(scope="module")
def route():
    return route_to_chaos(flips=10)      # the configuration the claims use (cached, shared)


@pytest.fixture(scope="module")
def kernel():
    return uv_function_space_kernel()


A = DEFAULT_CONFIG["alpha"] ** 2 * DEFAULT_CONFIG["x_norm"] ** 2 / DEFAULT_CONFIG["width"]
Y = DEFAULT_CONFIG["y"]


def _periods_2d(kernel, etas, transient=30000, keep=128):
    etas = np.asarray(etas, float)
    x0 = U.near_manifold_state(DEFAULT_CONFIG, etas)
    P = np.stack([etas, np.full_like(etas, A), np.full_like(etas, Y)], 1)
    od = orbit_diagram(kernel, x0, P, transient=transient, keep=keep, max_period=64, lyapunov_steps=0, tol=1e-7)
    return od.period


def test_cascade_bracketed_by_period_detection(route, kernel):
    """For the first four flips: period 2^{j-1} just below η_j and 2^j just above (2-D map)."""
    fl = route["period_doubling"]
    etas, expect = [], []
    for j in range(4):
        below = fl[j] - 0.3 * ((fl[j] - fl[j - 1]) if j > 0 else (fl[1] - fl[0]))
        above = fl[j] + 0.3 * (fl[j + 1] - fl[j])
        etas += [below, above]
        expect += [2 ** j, 2 ** (j + 1)]
    got = _periods_2d(kernel, etas)
    assert list(got) == expect


def test_cascade_bracketed_on_eos_map(route):
    """The same brackets with the compiled 1-D EoS map, for six flips."""
    fl = np.array(route["eta_over_eta_c"]["period_doubling"])
    cs, expect = [], []
    for j in range(6):
        below = fl[j] - 0.3 * ((fl[j] - fl[j - 1]) if j > 0 else (fl[1] - fl[0]))
        above = fl[j] + 0.3 * (fl[j + 1] - fl[j])
        cs += [1 + below, 1 + above]
        expect += [2 ** j, 2 ** (j + 1)]
    cs = np.array(cs)
    ker = U.eos_kernel()
    od = orbit_diagram(ker, (cs / 3)[:, None], cs[:, None], transient=200000, keep=256, max_period=128,
                       lyapunov_steps=0, tol=1e-7)
    assert list(od.period) == expect


def test_feigenbaum_and_onset(route):
    d = route["feigenbaum_deltas"]
    assert abs(d[-1] - 4.669201609) < 1e-3          # universal constant, reference only
    assert all(abs(d[i + 1] - 4.669201609) < abs(d[i] - 4.669201609) for i in range(len(d) - 1))
    assert route["period_doubling"][-1] < route["chaos_onset"] < route["period3_window"] < route["bounded_orbits_lost"]


def test_period_two_closed_form_is_a_two_cycle(kernel):
    """Derived 2-cycle points z₁,₂(c) return after two steps of the 1-D map and of the 2-D map."""
    r = up.uv_route_derivation()
    pts = [sp.lambdify(up.C, p, "math") for p in r.period_two[0].points]
    G = sp.lambdify((up.Z, up.C), r.normal_form, "math")
    lo, hi = (float(e) for e in (r.period_two[0].stable.inf, r.period_two[0].stable.sup))
    ec = float(U.eta_c_of(DEFAULT_CONFIG))
    rng = np.random.default_rng(0)
    for c in rng.uniform(lo, hi, 10):
        for p in pts:
            z = p(c)
            assert math.isclose(G(G(z, c), c), z, rel_tol=1e-12)
            assert not math.isclose(G(z, c), z, rel_tol=1e-6)
            s = c - 1
            eta = s * ec
            f, lam = Y * z / s, 2 * z / eta          # on the manifold ηλ = 2z
            x = np.array([f, lam])
            P = np.array([eta, A, Y])
            x2 = kernel.step(kernel.step(x, P), P)
            assert np.allclose(x2, x, rtol=1e-11, atol=0)


def test_two_cycle_window_by_iteration(route, kernel):
    w = route["eos_two_cycle"]
    inside = np.linspace(w["stable_from"], w["stable_to"], 7)[1:-1]
    assert all(_periods_2d(kernel, inside) == 2)


def test_manifold_invariant_under_compiled_map(kernel):
    rng = np.random.default_rng(1)
    B = 200
    a = rng.uniform(0.05, 2, B)
    eta = rng.uniform(0.05, 2, B)
    y = rng.normal(size=B)
    f = rng.normal(size=B)
    lam = 2 * np.sqrt(a) * np.abs(f)
    x1 = kernel.step(np.stack([f, lam], 1), np.stack([eta, a, y], 1))
    assert np.allclose(x1[:, 1], 2 * np.sqrt(a) * np.abs(x1[:, 0]), rtol=1e-10, atol=1e-12)


def test_manifold_attracts_above_eta_c():
    ec = float(U.eta_c_of(DEFAULT_CONFIG))
    etas = ec * np.array([1.1, 1.25, 1.5, 1.8, 1.95])
    ly = U.lyapunov_curve(etas, steps=3000, transient=1000)
    assert np.all(ly["transverse"] < 0)
    # the 2-D top exponent is the larger of the manifold's own and the transverse exponent
    assert np.allclose(ly["lyapunov_2d"], np.maximum(ly["lyapunov_eos"], ly["transverse"]), atol=0.08)


def test_divergence_boundary_matches_separatrix():
    ec = float(U.eta_c_of(DEFAULT_CONFIG))
    d = U.divergence_boundary(ec * np.array([0.1, 0.7, 1.3, 1.8]), grid=200, iters=20)
    assert np.allclose(d["numeric"], d["exact"], atol=1e-4)


def test_route_keys_and_types(route):
    js = json.loads(json.dumps(route))
    for key in ("eta_c", "chaos_onset", "feigenbaum_delta", "period3_window", "bounded_orbits_lost"):
        assert isinstance(js[key], float)
    assert isinstance(js["eta_c_formula"], str)
    assert len(js["period_doubling"]) == 10 and all(isinstance(v, float) for v in js["period_doubling"])
    assert js["period_doubling"] == sorted(js["period_doubling"])
    assert set(js["eos_two_cycle"]) >= {"stable_from", "stable_to"}
    assert js["eos_two_cycle"]["stable_from"] == pytest.approx(js["eta_c"], rel=1e-14)
    assert js["eos_two_cycle"]["stable_to"] == pytest.approx(js["period_doubling"][1], rel=1e-12)


def test_eta_c_formula_evaluates():
    cfg = {"width": 5, "x_norm": 1.7, "y": -0.6, "alpha": 0.8}
    r = route_to_chaos(**cfg, flips=4, general=False)
    e = sp.sympify(r["eta_c_formula"])
    vals = {s: {"n": cfg["width"], "x_norm": cfg["x_norm"], "y": cfg["y"], "alpha": cfg["alpha"]}[s.name]
            for s in e.free_symbols}
    assert float(e.subs(vals)) == pytest.approx(r["eta_c"], rel=1e-14)
    base = route_to_chaos(flips=4, general=False)
    # everything scales with η_c: the ratios η/η_c do not depend on the configuration
    assert np.allclose(np.array(r["period_doubling"]) / r["eta_c"], np.array(base["period_doubling"]) / base["eta_c"],
                       rtol=1e-13)


@pytest.mark.parametrize("kw", [{"width": 0}, {"y": 0.0}, {"alpha": -1.0}, {"x_norm": float("nan")},
                                {"flips": 2}, {"dps": 5}, {"digits": 5}])
def test_bad_input(kw):
    with pytest.raises(RouteError):
        route_to_chaos(**kw)


def test_route_json_keys_are_backward_compatible_and_extended(route):
    old = {"config", "eta_c", "eta_c_formula", "map_1d", "period_doubling", "superstable", "chaos_onset",
           "chaos_onset_uncertainty", "feigenbaum_delta", "feigenbaum_deltas", "feigenbaum_deltas_superstable",
           "period3_window", "bounded_orbits_lost", "eos_two_cycle", "second_two_cycle_window",
           "divergence_boundary_f0_zero", "c", "k", "eta_over_eta_c", "dps", "seconds"}
    assert old <= set(route) and {"period3_windows", "general"} <= set(route)
    assert route["divergence_boundary_f0_zero"]["eta_lambda0_max"] == "4 - (eta/eta_c)**2"
    w = np.array(route["eta_over_eta_c"]["period3_windows"])
    assert len(w) == 4 and np.allclose(w, [1.4504, 1.6996, 1.9249, 1.9818], atol=6e-5)
    assert route["period3_windows"][0] == route["period3_window"]
    g = route["general"]
    for key in ("param", "flips", "chaos_onset", "feigenbaum_delta", "windows", "crisis", "agreement_with_eos_map"):
        assert key in g
    assert g["param"] == "eta" and len(g["flips"]) == 10
    assert [w["opens"] for w in g["windows"] if w["period"] == 3] == pytest.approx(route["period3_windows"], rel=1e-13)
    assert g["agreement_with_eos_map"]["min_digits"] >= 10


def test_route_command_json(route, capsys):
    import argparse

    from symsharp.models.uv.commands import route_command

    ns = argparse.Namespace(width=None, x_norm=None, y=None, alpha=None, flips=None, dps=None, json=True)
    assert route_command(ns) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["period3_windows"] == route["period3_windows"] and js["general"]["flips"] == route["general"]["flips"]
    ns.json = False
    assert route_command(ns) == 0
    text = capsys.readouterr().out
    assert "period-3 windows" in text and "general engine" in text


def test_period3_windows_are_saddle_nodes_of_the_third_iterate(route):
    """Each EoS-map window: G³(z) = z and (G³)'(z) = 1 at the returned (z, c), by direct composition of
    the derived normal form at 40 digits (independent of the Newton that found them)."""
    import mpmath as mp

    from symsharp.models.uv.route import eos_route_numbers

    r = up.uv_route_derivation()
    G = sp.lambdify((up.Z, up.C), r.normal_form, "mpmath")
    Gz = sp.lambdify((up.Z, up.C), sp.diff(r.normal_form, up.Z), "mpmath")
    wins = eos_route_numbers(10, 30)["period3"]
    assert len(wins) == 4
    with mp.workdps(40):
        for w in wins:
            z, c, d = mp.mpf(w["z"]), mp.mpf(w["c"]), mp.mpf(1)
            z0 = z
            for _ in range(3):
                z, d = G(z, c), d * Gz(z, c)
            assert abs(z - z0) < mp.mpf(10) ** -25 and abs(d - 1) < mp.mpf(10) ** -20
            # a saddle-node of period 3, not a fixed point of G
            assert abs(G(z0, c) - z0) > mp.mpf("1e-3")


def test_divergence_boundary_and_figure_line_come_from_the_derivation(monkeypatch):
    sep = up.uv_route_derivation().separatrix
    fns = U.separatrix_functions()
    k = np.linspace(0.0, 3.9, 7)
    assert np.allclose(fns["f0_zero"](k), [float(sep["f0_zero_boundary"].subs(up.K, kv)) for kv in k], rtol=1e-15)
    assert fns["f0_zero_text"] == "ηλ₀ = 4 − (η/η_c)²"
    # the functions that report the exact line use the derived one: a changed derivation changes them
    fake = dict(fns, absolute=lambda f, a, eta, y: 0 * eta + 1.25, f0_zero=lambda kk: 0 * kk + 2.5)
    monkeypatch.setattr(U, "separatrix_functions", lambda: fake)
    ec = float(U.eta_c_of(DEFAULT_CONFIG))
    d = U.divergence_boundary(ec * np.array([0.5, 1.5]), grid=40, iters=2)
    assert np.all(d["exact"] == 1.25)
    pd = U.phase_diagram(ec * np.array([0.5, 1.5]), np.array([0.5, 1.0]), transient=10, keep=8)
    assert np.all(pd["divergence_line"] == 2.5)
