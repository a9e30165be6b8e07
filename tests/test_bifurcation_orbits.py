"""Periodic orbits of the generic bifurcation engine against independent computations:
closed-form 2-cycles (SymPy roots of (F∘F(w) − w)/(F(w) − w)), eigenvalues of products of
Jacobians computed with NumPy from SymPy's derivative, mpmath refinement, de-duplication by cycle,
continua of fixed points (the UV line of minima)."""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from symsharp.analysis.bifurcation import (BifurcationError, gd_family, map_family, periodic_orbits, refine_orbit)
from symsharp.models import custom_model

W, ETA = sp.symbols("w eta", real=True)


@pytest.fixture(scope="module")
def quartic():
    return gd_family(custom_model(loss="(w**2-1)**2/4", params="w"))


@pytest.fixture(scope="module")
def logistic():
    return gd_family(custom_model(loss="w**2/2 - w**3/3", params="w"))


@pytest.fixture(scope="module")
def henon():
    x, y, a, b = sp.symbols("x y a b", real=True)
    return map_family({x: 1 - a * x ** 2 + y, y: b * x}, [x, y], [a, b], {"b": sp.Rational(3, 10)}, "a",
                      name="henon")


def _two_cycles_closed_form(F, eta):
    """Points of genuine 2-cycles: real roots of (F(F(w)) − w)/(F(w) − w) at η (SymPy)."""
    Fe = F.subs(ETA, eta)
    q = sp.cancel((Fe.subs(W, Fe) - W) / (Fe - W))
    roots = [complex(r) for r in sp.Poly(sp.numer(sp.together(q)), W).nroots(n=30)]
    return sorted(r.real for r in roots if abs(r.imag) < 1e-12)


def _numpy_multipliers(F, pts, eta):
    dF = sp.lambdify((W, ETA), sp.diff(F, W), "numpy")
    return float(np.prod([dF(w, eta) for w in pts]))


@pytest.mark.parametrize("eta", [1.1, 1.3])
def test_quartic_two_cycles_match_closed_form(quartic, eta):
    F = W - ETA * (W ** 3 - W)
    orbs = periodic_orbits(quartic, eta, max_period=2, seeds=[[0.5], [-0.5], [1.6]],
                           box=[[-2.0, 2.0]], n_random=128)
    two = [o for o in orbs if o.period == 2]
    found = sorted(float(v) for o in two for v in o.points[:, 0])
    expected = _two_cycles_closed_form(F, sp.Rational(str(eta)))
    assert len(found) == len(expected)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
    for o in two:
        assert o.multipliers[0].real == pytest.approx(_numpy_multipliers(F, o.points[:, 0], eta), rel=1e-10)
        assert o.stable == (abs(o.multipliers[0]) < 1)
    # the fixed points 0, ±1 with multipliers 1 + η and 1 − 2η
    ones = sorted(float(o.points[0, 0]) for o in orbs if o.period == 1)
    np.testing.assert_allclose(ones, [-1.0, 0.0, 1.0], atol=1e-14)
    # a p-cycle found from any of its points is reported once, and never again as a 2p-cycle
    assert len({tuple(np.round(o.points[:, 0], 9)) for o in two}) == len(two)


def test_logistic_two_cycle_closed_form_and_refinement(logistic):
    eta = sp.Rational(23, 10)
    F = W - ETA * (W - W ** 2)
    orbs = periodic_orbits(logistic, 2.3, max_period=4, seeds=[[0.3]], digits=30)
    two = [o for o in orbs if o.period == 2]
    assert len(two) == 1
    exact = sorted(sp.solve(sp.cancel((F.subs(W, F) - W) / (F - W)).subs(ETA, eta), W), key=lambda r: float(r))
    with mp.workdps(40):
        got = sorted(mp.mpf(v[0]) for v in two[0].points_mp)
        for g, e in zip(got, exact):
            assert abs(g - mp.mpf(str(sp.N(e, 40)))) < mp.mpf(10) ** -28
    # multiplier of the 2-cycle: 4 + 2η − η² for this conjugate of the logistic map (r = 1 + η)
    r = 1 + 2.3
    assert two[0].multipliers[0].real == pytest.approx(-r ** 2 + 2 * r + 4, rel=1e-12)
    # no period-4 orbit at r = 3.3 (the 2-cycle is stable), and the 2-cycle is not repeated as one
    assert not [o for o in orbs if o.period == 4]


def test_henon_multipliers_equal_numpy_products(henon):
    orbs = periodic_orbits(henon, 1.4, max_period=6, seeds=[[0.1, 0.1]], n_random=200, rng=3)
    assert any(o.period == 1 for o in orbs) and any(o.period >= 2 for o in orbs)
    for o in orbs:
        M = np.eye(2)
        for x, y in o.points:
            M = np.array([[-2 * 1.4 * x, 1.0], [0.3, 0.0]]) @ M
        ev = np.sort_complex(np.linalg.eigvals(M))
        np.testing.assert_allclose(np.sort_complex(o.multipliers), ev, rtol=1e-8, atol=1e-9)
        # det of the product is (det J)^p = (−b)^p exactly
        assert abs(np.prod(o.multipliers) - (-0.3) ** o.period) <= 1e-9 * max(1, np.max(np.abs(o.multipliers)) ** 2)
    # unstable orbits are found too (deflation / random seeds): the two saddle fixed points
    assert len([o for o in orbs if o.period == 1]) == 2
    assert all(not o.stable for o in orbs)


@given(st.floats(min_value=1.05, max_value=2.4))
def test_logistic_fixed_point_multipliers_property(logistic, eta):
    orbs = periodic_orbits(logistic, eta, max_period=1, seeds=[[0.2], [1.1]], box=[[-0.5, 1.5]], n_random=16)
    got = sorted((round(float(o.points[0, 0]), 12), o.multipliers[0].real) for o in orbs)
    assert [g[0] for g in got] == [0.0, 1.0]
    assert got[0][1] == pytest.approx(1 - eta, abs=1e-12)
    assert got[1][1] == pytest.approx(1 + eta, abs=1e-12)


def test_uv_line_of_minima_is_reported_as_neutral_family():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    names = {s.name: s for e in red.step.values() for s in e.free_symbols}
    fam = map_family(red.step, [f, lam], [names["eta"], names["a"], names["y"]], {"a": 0.01, "y": 1}, "eta",
                     name="uv_fs")
    orbs = periodic_orbits(fam, 5.0, max_period=2, seeds=[[1.3, 0.1], [0.7, 0.15]])
    line = [o for o in orbs if o.period == 1 and not o.isolated]
    assert line, "points of the line f = y were not found"
    for o in line:
        assert o.points[0, 0] == pytest.approx(1.0, abs=1e-9)
        assert o.n_neutral == 1 and o.kind == "neutral"
        assert np.min(np.abs(o.multipliers - 1)) < 1e-9
    # many seeds fall onto the line: merged into few representatives of the continuum
    assert sum(o.family_size for o in line) > len(line)
    ref = refine_orbit(fam, line[0], digits=25)
    assert ref.n_neutral == 1 and mp.mpf(ref.points_mp[0][0]) == 1


def test_bad_input_one_sentence(logistic):
    with pytest.raises(BifurcationError, match="max_period"):
        periodic_orbits(logistic, 2.0, max_period=0, seeds=[[0.1]])
    with pytest.raises(BifurcationError, match="columns"):
        periodic_orbits(logistic, 2.0, seeds=[[0.1, 0.2]])
    with pytest.raises(BifurcationError, match="no value"):
        map_family({W: W - ETA * W * sp.Symbol("c")}, [W], None, {}, "eta")
