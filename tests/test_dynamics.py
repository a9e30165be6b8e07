"""Orbit diagrams, periods, regimes and Lyapunov exponents against textbook values.

The logistic map appears as GD on the cubic loss L(w) = w²/2 − w³/3: with rate η the GD map is
w ↦ w − η(w − w²), affinely conjugate to x ↦ μx(1 − x) with μ = 1 + η (shown symbolically
below), so periods and Lyapunov exponents are those of the logistic map at μ = 1 + η.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.codegen import gd_kernel
from symsharp.models.uv.system import uv_function_space_kernel
from symsharp.dynamics import REGIMES, DynamicsError, detect_period, lyapunov, orbit_diagram
from symsharp.models import custom_model
from symsharp.symbolic.calculus import gd_map

CUBIC = "w**2/2 - w**3/3"


@pytest.fixture(scope="module")
def cubic():
    return gd_kernel(custom_model(loss=CUBIC))


@pytest.fixture(scope="module")
def quad():
    return gd_kernel(custom_model(loss="S*w**2/2", params=["w"]))


def test_gd_on_cubic_loss_is_conjugate_to_the_logistic_map():
    model = custom_model(loss=CUBIC)
    (w, g), = gd_map(model).items()
    eta = model.eta
    assert sp.expand(g - (w - eta * (w - w ** 2))) == 0
    x, mu = sp.symbols("x mu")
    h = 1 - mu / (mu - 1) * x  # w = h(x)
    logistic = mu * x * (1 - x)
    lhs = g.subs({w: h, eta: mu - 1})
    assert sp.simplify(lhs - h.subs(x, logistic)) == 0


def _flip_point(kernel, lo, hi, below, above, transient=20000):
    """First μ on a fine grid in [lo, hi] whose period is ``above`` (all earlier ones ``below``)."""
    mu = np.linspace(lo, hi, 201)
    od = orbit_diagram(kernel, [0.3141], {"eta": mu - 1}, transient=transient, keep=128, lyapunov_steps=0)
    per = od.period
    i = int(np.argmax(per == above))
    assert per[i] == above
    # away from the flip (where convergence is critically slow) the periods are clean
    assert np.all(per[: max(0, i - 5)] == below)
    assert np.all(per[i + 5:] == above)
    return mu[i]


def test_period_doubling_points_of_the_logistic_map(cubic):
    assert abs(_flip_point(cubic, 2.9, 3.1, 1, 2) - 3.0) < 1e-2
    assert abs(_flip_point(cubic, 3.4, 3.5, 2, 4) - (1 + np.sqrt(6))) < 1e-2


def test_lyapunov_exponent_ln2_at_mu_4(cubic):
    x0 = np.random.default_rng(0).uniform(0.05, 0.95, (64, 1))
    ly = lyapunov(cubic, x0, {"eta": 3.0}, steps=50_000, transient=100)
    assert not ly.diverged.any()
    assert abs(np.mean(ly.exponent) - np.log(2)) < 1e-2


def test_lyapunov_exponent_at_stable_fixed_point(cubic):
    """For 1 < μ < 3 the orbit converges to x* = 1 − 1/μ, where λ = ln|2 − μ|."""
    mu = np.array([1.5, 2.2, 2.7, 2.95])
    ly = lyapunov(cubic, [0.3], {"eta": mu - 1}, steps=4000, transient=2000)
    assert np.allclose(ly.exponent, np.log(np.abs(2 - mu)), atol=2e-3)


def test_orbit_diagram_labels_logistic(cubic):
    mu = np.array([2.5, 3.2, 3.5, 3.83, 4.0])
    od = orbit_diagram(cubic, [0.3141], {"eta": mu - 1}, transient=5000, keep=256, lyapunov_steps=20000,
                       observable="loss")
    assert list(od.labels) == ["converged", "periodic", "periodic", "periodic", "chaotic"]
    assert list(od.period) == [1, 2, 4, 3, 0]
    assert od.values.shape == (5, 256) and od.observable == "loss"
    assert od.lyapunov[-1] > 0.5 and np.all(od.lyapunov[:-1] < 0)
    assert sum(od.counts().values()) == 5


@settings(max_examples=examples(15), deadline=None)
@given(st.lists(st.tuples(st.floats(0.05, 4.0), st.floats(0.05, 1.95)), min_size=1, max_size=30),
       st.lists(st.tuples(st.floats(0.05, 4.0), st.floats(2.05, 3.9)), min_size=1, max_size=30),
       st.floats(-3, 3).filter(lambda w: abs(w) > 1e-3))
def test_quadratic_loss_converged_iff_eta_S_below_2(quad, below, above, w0):
    """GD on L = S w²/2: converged for ηS < 2, diverged for ηS > 2."""
    pairs = np.array(below + above)  # columns: S, ηS
    S, etaS = pairs[:, 0], pairs[:, 1]
    od = orbit_diagram(quad, [w0], {"eta": etaS / S, "S": S}, transient=3000, keep=64, lyapunov_steps=64)
    expect = np.where(etaS < 2, "converged", "diverged")
    assert list(od.labels) == list(expect)


def test_quadratic_at_eta_S_equal_2_is_period_2(quad):
    od = orbit_diagram(quad, [0.7], {"eta": 1.0, "S": 2.0}, transient=100, keep=64)
    assert od.labels[0] == "periodic" and od.period[0] == 2 and abs(od.lyapunov[0]) < 1e-12


def test_uv_y0_reproduces_lewkowycz_thresholds():
    """y = 0, small f₀: lazy for ηλ₀ < 2, catapult for 2 < ηλ₀ < 4, divergence for ηλ₀ > 4."""
    k = uv_function_space_kernel()
    eta_lam = np.concatenate([np.linspace(0.2, 1.9, 10), np.linspace(2.1, 3.9, 10), np.linspace(4.1, 6, 10)])
    lam0 = 1.0
    od = orbit_diagram(k, [1e-3, lam0], {"eta": eta_lam / lam0, "a": 1 / 3, "y": 0.0}, transient=20000,
                       keep=64, lyapunov_steps=64, observable="sharpness")
    expect = ["converged"] * 10 + ["catapult"] * 10 + ["diverged"] * 10
    assert list(od.labels) == expect
    # after a catapult the NTK λ ends below the stability limit 2/η
    cat = od.regime == REGIMES.index("catapult")
    assert np.all(od.final_state[cat, 1] * od.params[cat, 0] < 2)


def test_detect_period_synthetic():
    t = np.arange(96)
    cyc = np.array([0.1, 0.7, 0.4])
    rec = np.stack([cyc[t % 3], np.full(96, 0.5), np.sin(t * 1.3), np.where(t % 2 == 0, 1.0, 1.0 + 1e-12)], 1)
    per = detect_period(rec, max_period=16, tol=1e-8)
    assert list(per) == [3, 1, 0, 1]
    assert list(detect_period(rec, max_period=16, tol=1e-14)) == [3, 1, 0, 2]


def test_orbit_diagram_errors(quad):
    with pytest.raises(DynamicsError, match="observable 'nope'"):
        orbit_diagram(quad, [1.0], {"eta": 0.1, "S": 1.0}, observable="nope")
    with pytest.raises(DynamicsError, match="keep"):
        orbit_diagram(quad, [1.0], {"eta": 0.1, "S": 1.0}, keep=1)
