"""Krawczyk proofs, Lyapunov spectra, basins, the one-call analysis of the logistic GD map (closed
forms: window of period 3 at r = 1 + √8, crisis at r = 4) and the figures."""
from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pytest
import sympy as sp

from symsharp.analysis.bifurcation import (BifurcationError, basins, bifurcation_analysis, certify_orbit, certify_point,
                                           gd_family, lyapunov_spectrum, map_family, periodic_orbits)
from symsharp.models import custom_model


@pytest.fixture(scope="module")
def uv():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    names = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return map_family(red.step, [f, lam], [names["eta"], names["a"], names["y"]], {"a": 0.01, "y": 1}, "eta",
                      name="uv_fs")


@pytest.fixture(scope="module")
def logistic():
    return gd_family(custom_model(loss="w**2/2 - w**3/3", params="w"))


@pytest.fixture(scope="module")
def uv_two_cycle(uv):
    orbs = periodic_orbits(uv, 11.0, max_period=2, seeds=[[1.001, 0.2002]])
    return [o for o in orbs if o.period == 2 and o.stable][0]


def _numpy_product(uv, pts, eta):
    J = sp.Matrix(uv.exprs).jacobian(sp.Matrix(uv.state_symbols))
    fn = sp.lambdify(list(uv.state_symbols) + [uv.param_symbol] + list(uv.fixed_symbols), J, "numpy")
    M = np.eye(2)
    for x in pts:
        M = np.asarray(fn(*x, eta, 0.01, 1.0), dtype=float) @ M
    return M


def test_krawczyk_proves_attracting_two_cycle_at_eta_11(uv, uv_two_cycle):
    cert = certify_orbit(uv, uv_two_cycle, param=11)
    assert cert.proved and cert.minimal and cert.stable is True
    mu = np.sort(np.linalg.eigvals(_numpy_product(uv, uv_two_cycle.points, 11.0)).real)
    encl = sorted(cert.multipliers)
    for (lo, hi), m in zip(encl, mu):
        assert lo <= m + 1e-12 and m - 1e-12 <= hi and hi - lo < 1e-12
    for (lo, hi), v in zip(cert.box, uv_two_cycle.points[0]):
        assert lo - 1e-15 <= v <= hi + 1e-15 and hi - lo < 1e-15
    assert cert.radius < 1e-20
    d = cert.to_dict()
    assert json.loads(json.dumps(d))["proved"] is True


def test_krawczyk_fails_away_from_an_orbit(uv):
    cert = certify_point(uv, [0.9, 0.18], 2, 11, radius=1e-6)
    assert not cert.proved


def test_lyapunov_spectrum_exact_cases(uv, uv_two_cycle):
    ds = lyapunov_spectrum(uv, uv_two_cycle.points[0], [11.0], steps=4000, transient=0, frame_transient=400)
    mu = np.sort(np.abs(uv_two_cycle.multipliers))[::-1]
    np.testing.assert_allclose(ds["exponent"].values[0], np.log(mu) / 2, atol=1e-9)
    assert ds.attrs["symsharp"] and json.loads(ds.attrs["symsharp"])["family"]["param"] == "eta"
    # Hénon: λ1 + λ2 = ln b exactly, λ1 ≈ 0.419 at a = 1.4, b = 0.3
    x, y, a, b = sp.symbols("x y a b", real=True)
    hen = map_family({x: 1 - a * x ** 2 + y, y: b * x}, [x, y], [a, b], {"b": sp.Rational(3, 10)}, "a", name="henon")
    hs = lyapunov_spectrum(hen, [0.1, 0.1], [1.4, 1.4], steps=100_000, transient=1000)
    e = hs["exponent"].values
    np.testing.assert_allclose(e.sum(axis=1), math.log(0.3), atol=1e-9)
    assert abs(e[0, 0] - 0.4192) < 0.005
    np.testing.assert_array_equal(e[0], e[1])          # the same grid point gives the same answer
    assert 1.2 < float(hs["kaplan_yorke"][0]) < 1.3


def test_basins_depend_only_on_the_grid_point():
    w1, w2 = sp.symbols("w1 w2", real=True)
    m = custom_model(loss="(w1**2-1)**2/4 + (w2**2-1)**2/4", params="w1,w2")
    fam = gd_family(m, name="double_well")
    xs, ys = np.linspace(-1.6, 1.6, 41), np.linspace(-1.6, 1.6, 33)
    ds = basins(fam, 0.4, xs, ys, transient=400, max_period=4)
    names = list(ds["attractor_name"].values)
    assert sum(n.startswith("period-1 cycle") for n in names) == 4       # the four minima (±1, ±1)
    lab = ds["label"].values
    # independent: NumPy GD from every grid point, compared by quadrant of the limit
    X, Y = np.meshgrid(xs, ys)
    u, v = X.copy(), Y.copy()
    with np.errstate(all="ignore"):
        for _ in range(400):
            u, v = u - 0.4 * (u ** 3 - u), v - 0.4 * (v ** 3 - v)
    ok = (np.abs(np.abs(u) - 1) < 1e-8) & (np.abs(np.abs(v) - 1) < 1e-8)
    for i, n in enumerate(names[:4]):
        cx, cy = [float(t) for t in n.split("[")[1].split("]")[0].split()]
        mask = lab == i
        assert np.all(np.sign(u[mask]) == np.sign(cx)) and np.all(np.sign(v[mask]) == np.sign(cy))
        assert np.all(mask == (ok & (np.sign(u) == np.sign(cx)) & (np.sign(v) == np.sign(cy))))
    # a sub-grid (other batch, other positions) gives the same labels
    sub = basins(fam, 0.4, xs[3:17], ys[5:9], transient=400, max_period=4)
    np.testing.assert_array_equal(sub["label"].values, lab[5:9, 3:17])


def test_logistic_analysis_closed_forms(logistic):
    res = bifurcation_analysis(logistic, [0.3], 1.5, 3.2, flips=8, max_period=3, grid=20000, digits=20)
    c = res.contract()
    assert c["flips"][:2] == [2.0, pytest.approx(math.sqrt(6), abs=1e-15)]
    w3 = [w["opens"] for w in c["windows"] if w["period"] == 3]
    assert w3 == [pytest.approx(math.sqrt(8), abs=1e-15)]           # r = 1 + √8
    assert c["crisis"] == pytest.approx(3.0, abs=1e-15)               # r = 4
    assert res.crisis.n == 2 and res.crisis.x_u[0] == pytest.approx(1.0)
    assert c["neimark_sacker"] == []


def test_figures(uv, logistic, tmp_path):
    from symsharp.plots.bifurcation import plot_basins, plot_branches, plot_spectrum

    res = bifurcation_analysis(logistic, [0.3], 1.5, 3.2, flips=5, max_period=3, grid=2000, digits=12,
                               crisis=False)
    before = dict(matplotlib.rcParams)
    fig = plot_branches(res, path=tmp_path / "branches.png")
    assert (tmp_path / "branches.png").stat().st_size > 0 and fig.axes
    ds = lyapunov_spectrum(logistic, [0.3], np.linspace(2.0, 2.99, 40), steps=2000)
    plot_spectrum(ds, path=tmp_path / "spectrum.svg")
    w1, w2 = sp.symbols("w1 w2", real=True)
    fam = gd_family(custom_model(loss="(w1**2-1)**2/4 + (w2**2-1)**2/4", params="w1,w2"), name="double_well")
    bs = basins(fam, 0.4, np.linspace(-1.6, 1.6, 21), np.linspace(-1.6, 1.6, 21), transient=300, max_period=4)
    f3 = plot_basins(bs)
    assert f3.axes
    assert dict(matplotlib.rcParams) == before                          # no global style change
    with pytest.raises(BifurcationError, match="must end in"):
        plot_spectrum(ds, path=tmp_path / "x.txt")
