"""The UV model's route to chaos from the generic engine, on the 2-D GD map of (f, λ), against the
numbers of the EoS-map route (:func:`route_to_chaos`, mpmath Newton on the 1-D normal form) and
against brute-force orbit diagrams of the compiled kernel."""
from __future__ import annotations

import json

import mpmath as mp
import numpy as np
import pytest

from symsharp.models.uv.route import cycle_bifurcation, route_to_chaos


@pytest.fixture(scope="module")
def uv():
    from symsharp.models.uv.route import _family

    # the family route_to_chaos uses: the engine's closed map of (f, λ), a = 1/100, y = 1 (cached)
    return _family(0.01, 1.0)


X0 = np.array([1.001, 0.2 * 1.001 + 1e-4])   # just off the EoS manifold λ = 2√a·f


@pytest.fixture(scope="module")
def route():
    return route_to_chaos(width=100, x_norm=1.0, y=1.0, alpha=1.0, flips=10, dps=30)


@pytest.fixture(scope="module")
def result(uv, route):
    from symsharp.models.uv.route import DEFAULT_CONFIG, general_route, general_x0

    np.testing.assert_allclose(general_x0(DEFAULT_CONFIG), X0, rtol=1e-15)
    res = general_route(DEFAULT_CONFIG, flips=10, digits=20, max_period=3, grid=20000)   # what route_to_chaos ran
    o = res.options
    assert (o["lo"], o["hi"], o["start"]) == pytest.approx((9.5, 20.5, 11.0), rel=1e-15)
    assert (o["max_period"], o["grid"], o["digits"], o["flips"]) == (3, 20000, 20, 10)
    return res


def test_route_to_chaos_reports_the_general_result(result, route):
    g = route["general"]
    assert g["flips"] == result.contract()["flips"]
    assert g["agreement_with_eos_map"]["period3_count"] == {"general": 4, "eos_map": 4}
    p3 = [w["opens"] for w in result.contract()["windows"] if w["period"] == 3]
    assert [v / route["eta_c"] for v in p3] == pytest.approx([1.4504, 1.6996, 1.9249, 1.9818], abs=6e-5)


def test_flips_onset_delta(result, route):
    c = result.contract()
    assert c["param"] == "eta"
    assert c["details"]["flip_periods"] == [2 ** j for j in range(10)]
    np.testing.assert_allclose(c["flips"], route["period_doubling"], rtol=1e-13, atol=0)
    assert c["chaos_onset"] == pytest.approx(route["chaos_onset"], rel=1e-13)
    assert c["feigenbaum_delta"] == pytest.approx(route["feigenbaum_delta"], rel=1e-11)
    np.testing.assert_allclose(c["details"]["feigenbaum_deltas"], route["feigenbaum_deltas"], rtol=1e-11)
    # the first flip is met from the 2-cycle's side (its collapse onto the line of minima)
    assert "collapse" in result.cascade.flips[0].method and result.cascade.flips[0].neutral == 1


def test_windows_and_crisis(result, route):
    c = result.contract()
    p3 = [w["opens"] for w in c["windows"] if w["period"] == 3]
    assert len(p3) == 4
    np.testing.assert_allclose(p3, route["period3_windows"], rtol=1e-13)
    assert p3[0] == pytest.approx(route["period3_window"], rel=1e-13)
    assert p3[1] / route["eta_c"] == pytest.approx(1.6996, abs=1e-4)
    # the second period-3 window, independently: Newton on {G³(z) = z, (G³)'(z) = 1} of the EoS map
    ec = route["eta_c"]
    w = [w for w in result.windows.windows if w.period == 3][1]
    x = w.fold.x
    z0, c0 = (w.opens / ec) * x[0] / 1.0, 1 + w.opens / ec
    with mp.workdps(40):
        _, cc = cycle_bifurcation(3, z0, c0, +1, dps=30)
        assert abs(mp.mpf(w.fold.param_mp) - (cc - 1) * ec) < mp.mpf(10) ** -15
    # the second period-2 window of the bimodal map opens by a saddle-node at η = η_c(2√2 − 1)
    p2 = [w["opens"] for w in c["windows"] if w["period"] == 2]
    assert any(abs(v - route["second_two_cycle_window"]["stable_from"]) < 1e-11 for v in p2)
    assert c["crisis"] == pytest.approx(route["bounded_orbits_lost"], rel=1e-10)
    assert result.crisis.bracket[1] >= route["bounded_orbits_lost"] - 1e-9


def test_orbit_diagrams_bracket_located_points(uv, result):
    from symsharp.dynamics.orbits import orbit_diagram

    etas, expect = [], []
    fl = result.cascade.flips
    for j in range(1, 5):
        gap = fl[j + 1].param - fl[j].param
        etas += [fl[j].param - 0.1 * gap, fl[j].param + 0.1 * gap]
        expect += [fl[j].period, 2 * fl[j].period]
    for w in [w for w in result.windows.windows if w.period == 3][:2]:
        etas += [w.opens - 1e-3, w.opens + 1e-3]
        expect += [0, 3]
    P = np.stack([etas, np.full(len(etas), 0.01), np.ones(len(etas))], 1)
    od = orbit_diagram(uv.kernel, X0, P, transient=100_000, keep=256, max_period=64, lyapunov_steps=0, tol=1e-6)
    got = list(od.period)
    assert got[:8] == expect[:8]
    for i in range(8, len(etas), 2):
        assert got[i] != 3 and got[i + 1] == 3        # no 3-cycle just below the saddle-node, one just above


def test_contract_is_json_with_ten_digits(result):
    c = json.loads(result.to_json())
    for key in ("param", "flips", "folds", "neimark_sacker", "windows", "chaos_onset", "feigenbaum_delta", "crisis"):
        assert key in c
    for s in c["details"]["flips_mp"]:
        assert len(s.replace(".", "").replace("-", "").lstrip("0")) >= 10 or float(s) == round(float(s))
    assert all(u < 1e-10 for u in c["details"]["flip_uncertainties"])
    assert c["details"]["crisis"]["uncertainty"] < 1e-9 * 20
    ds = result.to_dataset()
    meta = json.loads(ds.attrs["symsharp"])
    assert meta["family"]["param"] == "eta" and meta["options"]["digits"] == 20
    assert set(ds["bif_kind"].values) >= {"flip", "fold"}


def test_cascade_started_on_the_line_of_minima(uv, route):
    from symsharp.analysis.bifurcation import cascade

    # at η = 5 the attractor is a point of the line f = y (a continuum of fixed points): its flip at
    # η = 2/λ depends on the point, so the engine re-locates it from the doubled orbit's collapse
    c = cascade(uv, X0, 5.0, lo=4.0, hi=20.0, flips=3, digits=20)
    assert [b.period for b in c.flips] == [1, 2, 4]
    assert c.flips[0].neutral == 1 and "replaces the degenerate flip" in c.flips[0].method
    np.testing.assert_allclose([float(b.param_mp) for b in c.flips], route["period_doubling"][:3], rtol=1e-13)
