"""Sharpness, fixed points and simplification on models whose answers are known independently."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.models import custom_model, uv_model
from symsharp.symbolic.calculus import gd_map, hessian
from symsharp.symbolic.fixedpoints import fixed_points
from symsharp.symbolic.sharpness import NotReducible, function_space_sharpness


@pytest.fixture(scope="module")
def product_sharpness():
    # f = w1 w2 x is bilinear: the same Krylov derivation applies to a user-written model
    m = custom_model(f="w1*w2*x", inputs="x")
    return m, function_space_sharpness(m)


@settings(max_examples=examples(40), deadline=None)
@given(st.floats(-2, 2), st.floats(-2, 2), st.floats(0.1, 2), st.floats(-2, 2))
def test_custom_bilinear_sharpness_vs_eigvalsh(product_sharpness, w1, w2, x, y):
    m, sh = product_sharpness
    H = hessian(m)
    syms = {s.name: s for s in H.free_symbols | sh.expr.free_symbols}
    vals = {"w1": w1, "w2": w2, "x": x, "y": y}
    Hn = np.array(H.subs({syms[k]: v for k, v in vals.items() if k in syms}).tolist(), dtype=float)
    f = w1 * w2 * x
    lam = (w2 * x) ** 2 + (w1 * x) ** 2
    sub = {s: {"f": f, "lam": lam, "y": y, "x": x}[s.name] for s in sh.expr.free_symbols}
    assert float(sh.expr.subs(sub)) == pytest.approx(np.linalg.eigvalsh(Hn)[-1], rel=1e-9, abs=1e-12)


def test_non_bilinear_model_is_reported():
    with pytest.raises(NotReducible):
        function_space_sharpness(custom_model(f="w**3*x", inputs="x"))


def test_quadratic_fixed_point_condition():
    m = custom_model(loss="S*w**2/2", params="w")
    (fp,) = fixed_points(gd_map(m), list(m.params))
    eta, S = sp.Symbol("eta", positive=True), sp.Symbol("S", real=True)
    assert bool(fp.stable_when.subs(S, sp.Rational(19, 10) / eta))
    assert not bool(fp.stable_when.subs(S, sp.Rational(21, 10) / eta))
    assert not bool(fp.stable_when.subs(S, -sp.Rational(1, 10) / eta))


def test_logistic_as_gd_fixed_points():
    """GD on L(w) = w²/2 − w³/3 with rate r: w ↦ w − r(w − w²).  Fixed points 0 and 1; w = 1 is
    stable iff 0 < r < 2 (multiplier 1 − r(−1) ... computed independently: d/dw = 1 − r + 2rw)."""
    m = custom_model(loss="w**2/2 - w**3/3", params="w")
    fps = fixed_points(gd_map(m), list(m.params))
    w = m.params[0]
    eta = sp.Symbol("eta", positive=True)
    pts = sorted(float(fp.point[w]) for fp in fps)
    assert pts == [0.0, 1.0]
    for fp in fps:
        mult = lambda r: 1 - r + 2 * r * float(fp.point[w])  # independent derivative of the map
        for r in [0.5, 1.5, 2.5, 3.5]:
            assert bool(fp.stable_when.subs(eta, r)) == (abs(mult(r)) < 1)


def test_uv_sharpness_block_structure():
    sh = function_space_sharpness(uv_model(3, 2))
    assert sh.block_matrix.shape == (2, 2)
    assert sh.complement_dim == 9 - 2
    assert sh.dominance_proved


def test_nondimensionalize_logistic_family():
    """x' = r x (1 − x/K): one scaling symmetry (x, K) → (s x, s K), so the dynamics depends on r
    only, in the variable x/K (independent textbook fact)."""
    from symsharp.symbolic.scaling import nondimensionalize

    x, r, K = sp.symbols("x r K", positive=True)
    nd = nondimensionalize({x: sp.expand(r * x * (1 - x / K))}, [x], [r, K])
    assert len(nd.symmetries) == 1
    assert len(nd.groups) == 1 and sp.simplify(nd.groups[0] - r) == 0
    ((X, expr),) = nd.new_symbols.items()
    assert sp.simplify(expr - x / K) == 0
    (k,) = nd.group_symbols
    assert sp.expand(nd.step[X] - k * X * (1 - X)) == 0
