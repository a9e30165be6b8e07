"""Function-space reduction of the UV model, checked against GD run in parameter space.

The parameter-space side is written here independently in NumPy from the analytic formulas
    f = (α/√n) vᵀUx,  ∇_U L = Δf (α/√n) v xᵀ,  ∇_v L = Δf (α/√n) U x,  λ = ‖∇_U f‖² + ‖∇_v f‖²,
so a wrong reduced map cannot agree with it by construction."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis_budget import examples

from symsharp.models import custom_model, uv_model
from symsharp.symbolic.reduction import reduce_map

FLOAT = dict(allow_nan=False, allow_infinity=False)
ALLOWED = {"f", "lam", "a", "eta", "y"}


# ----------------------------------------------------------------------------- parameter space

def uv_f(U, v, x, alpha):
    return alpha / np.sqrt(U.shape[0]) * v @ U @ x


def uv_lam(U, v, x, alpha):
    c = alpha / np.sqrt(U.shape[0])
    grad_U = c * np.outer(v, x)
    grad_v = c * U @ x
    return np.sum(grad_U ** 2) + np.sum(grad_v ** 2)


def uv_grad(U, v, x, y, alpha):
    c = alpha / np.sqrt(U.shape[0])
    df = uv_f(U, v, x, alpha) - y
    return df * c * np.outer(v, x), df * c * U @ x


def gd_step(U, v, x, y, alpha, eta_U, eta_v=None):
    eta_v = eta_U if eta_v is None else eta_v
    gU, gv = uv_grad(U, v, x, y, alpha)
    return U - eta_U * gU, v - eta_v * gv


# ----------------------------------------------------------------------------- fixtures

class Reduced:
    def __init__(self, n, d):
        self.n, self.d = n, d
        self.r = reduce_map(uv_model(width=n, input_dim=d))
        s = {v.name: v for v in self.r.variables}
        self.f, self.lam = s["f"], s["lam"]
        free = set().union(*[e.free_symbols for e in list(self.r.step.values()) + list(self.r.field.values())])
        self.syms = {x.name: x for x in free}
        args = [self.syms.get(nm, sp.Symbol(nm)) for nm in ["f", "lam", "a", "eta", "y"]]
        self.step = sp.lambdify(args, [self.r.step[self.f], self.r.step[self.lam]], "numpy")
        self.field = sp.lambdify(args, [self.r.field[self.f], self.r.field[self.lam]], "numpy")


@pytest.fixture(scope="module", params=[(3, 2), (4, 2)], ids=lambda p: f"n{p[0]}_d{p[1]}")
def red(request):
    return Reduced(*request.param)


def draw_state(data, n, d):
    U = data.draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-1.5, 1.5, **FLOAT)), label="U")
    v = data.draw(hnp.arrays(np.float64, n, elements=st.floats(-1.5, 1.5, **FLOAT)), label="v")
    x = data.draw(hnp.arrays(np.float64, d, elements=st.floats(0.2, 1.5, **FLOAT)), label="|x|")
    x = x * data.draw(hnp.arrays(np.float64, d, elements=st.sampled_from([-1.0, 1.0])), label="sign x")
    alpha = data.draw(st.floats(0.3, 2.0, **FLOAT), label="alpha")
    y = data.draw(st.floats(-2.0, 2.0, **FLOAT), label="y")
    return U, v, x, alpha, y


def rel_err(a, b, scale):
    return abs(a - b) / scale


# ----------------------------------------------------------------------------- tests

def test_uv_reduction_closes_in_f_lam(red):
    assert red.r.closes, red.r.reason
    assert set(v.name for v in red.r.variables) == {"f", "lam"}
    assert red.r.failed == ()


def test_reduced_map_free_symbols(red):
    for e in list(red.r.step.values()) + list(red.r.field.values()):
        assert {s.name for s in e.free_symbols} <= ALLOWED, e.free_symbols
    # the step really depends on the learning rate and on a (not a trivial answer)
    assert {"eta", "a", "y"} <= {s.name for s in red.r.step[red.lam].free_symbols}


@settings(max_examples=examples(30), deadline=None)
@given(data=st.data())
def test_one_gd_step_matches_reduced_map(red, data):
    U, v, x, alpha, y = draw_state(data, red.n, red.d)
    f0, lam0 = uv_f(U, v, x, alpha), uv_lam(U, v, x, alpha)
    assume(lam0 > 1e-3)
    eta = data.draw(st.floats(0.01, 4.0, **FLOAT), label="eta*lam0") / lam0
    a = alpha ** 2 * (x @ x) / red.n
    U1, v1 = gd_step(U, v, x, y, alpha, eta)
    f1, lam1 = uv_f(U1, v1, x, alpha), uv_lam(U1, v1, x, alpha)
    fr, lr = red.step(f0, lam0, a, eta, y)
    scale_f = max(1.0, abs(f0), abs(y), abs(f1))
    assert rel_err(fr, f1, scale_f) < 1e-9
    assert rel_err(lr, lam1, max(lam0, lam1, 1e-12)) < 1e-9


@settings(max_examples=examples(20), deadline=None)
@given(data=st.data())
def test_ten_gd_steps_match_iterated_reduced_map(red, data):
    U, v, x, alpha, y = draw_state(data, red.n, red.d)
    f, lam = uv_f(U, v, x, alpha), uv_lam(U, v, x, alpha)
    assume(lam > 1e-2)
    eta = data.draw(st.floats(0.05, 1.8, **FLOAT), label="eta*lam0") / lam
    a = alpha ** 2 * (x @ x) / red.n
    for k in range(10):
        U, v = gd_step(U, v, x, y, alpha, eta)
        f, lam = red.step(f, lam, a, eta, y)
        fp, lp = uv_f(U, v, x, alpha), uv_lam(U, v, x, alpha)
        assume(abs(fp) < 1e6 and lp < 1e6)
        assert rel_err(f, fp, max(1.0, abs(fp), abs(y))) < 1e-9, k
        assert rel_err(lam, lp, max(lp, 1e-12)) < 1e-9, k


@settings(max_examples=examples(30), deadline=None)
@given(data=st.data())
def test_reduced_field_is_time_derivative_along_gradient_flow(red, data):
    U, v, x, alpha, y = draw_state(data, red.n, red.d)
    f0, lam0 = uv_f(U, v, x, alpha), uv_lam(U, v, x, alpha)
    a = alpha ** 2 * (x @ x) / red.n
    gU, gv = uv_grad(U, v, x, y, alpha)
    h = 1e-4
    # f and λ are polynomials of degree 2 in θ: the central difference along −∇L is exact
    # up to the h² term of f (for f it is exact: f(θ − t g) is quadratic in t) and rounding.
    fp, fm = uv_f(U - h * gU, v - h * gv, x, alpha), uv_f(U + h * gU, v + h * gv, x, alpha)
    lp, lm = uv_lam(U - h * gU, v - h * gv, x, alpha), uv_lam(U + h * gU, v + h * gv, x, alpha)
    df_dt, dlam_dt = (fp - fm) / (2 * h), (lp - lm) / (2 * h)
    Ff, Fl = red.field(f0, lam0, a, 0.0, y)
    g2 = np.sum(gU ** 2) + np.sum(gv ** 2)
    scale = 1.0 + abs(f0) + lam0 + g2
    assert abs(Ff - df_dt) < 1e-8 * scale
    assert abs(Fl - dlam_dt) < 1e-8 * scale
    # independent closed form for the first component: d f/dt = −Δf ‖∇f‖² = −(f − y) λ
    assert abs(Ff + (f0 - y) * lam0) < 1e-10 * scale


def test_layerwise_rates_do_not_close_with_reason():
    r = reduce_map(uv_model(width=3, input_dim=2, layerwise=True))
    assert r.closes is False
    assert r.reason and "\n" not in r.reason
    assert r.failed and set(r.failed) <= {"f", "lam"}


def test_layerwise_next_f_is_not_a_function_of_f_lam():
    """Independent proof that the layer-wise map cannot close in (f, λ): two states with the same
    f, λ, a, y, η_U, η_v whose next f differ.  With ‖x‖ = 1, w = Ux: f = c vᵀw,
    λ = c²(‖v‖² + ‖w‖²); the split between ‖v‖² and ‖w‖² is not determined by (f, λ)."""
    n, alpha, y = 3, 1.0, 0.5
    x = np.array([1.0, 0.0])
    states = [(np.array([1.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0])),
              (np.array([1.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]))]
    fl = [(uv_f(np.outer(w, x), v, x, alpha), uv_lam(np.outer(w, x), v, x, alpha)) for v, w in states]
    assert fl[0][0] == pytest.approx(fl[1][0], rel=1e-14) and fl[0][1] == pytest.approx(fl[1][1], rel=1e-14)
    nxt = [uv_f(*gd_step(np.outer(w, x), v, x, y, alpha, 0.1, 0.3), x, alpha) for v, w in states]
    assert abs(nxt[0] - nxt[1]) > 1e-3
    # with a common rate the same two states do agree (consistent with closes=True)
    same = [uv_f(*gd_step(np.outer(w, x), v, x, y, alpha, 0.2), x, alpha) for v, w in states]
    assert same[0] == pytest.approx(same[1], rel=1e-12)


def test_several_examples_do_not_close_with_reason():
    r = reduce_map(uv_model(width=3, input_dim=2, examples=2))
    assert r.closes is False
    assert r.reason and "\n" not in r.reason
    assert not r.step


def test_numeric_constants_agree_with_symbolic_map(red):
    """The same model built with numeric α, x, y gives the symbolic map at those values."""
    alpha, x, y = sp.Rational(3, 2), [sp.Rational(1, 2), -1] + [sp.Rational(1, 3)] * (red.d - 2), sp.Rational(1, 4)
    rn = reduce_map(uv_model(width=red.n, input_dim=red.d, alpha=alpha, x=x, y=y))
    assert rn.closes
    a = alpha ** 2 * sum(t ** 2 for t in x) / red.n
    sub = {red.syms["a"]: a, red.syms["y"]: y}
    fn = {v.name: v for v in rn.variables}
    eta = red.syms["eta"]
    for name in ("f", "lam"):
        sym_expr = red.r.step[{"f": red.f, "lam": red.lam}[name]].subs(sub)
        num_expr = rn.step[fn[name]]
        num_expr = num_expr.subs({s: {"f": red.f, "lam": red.lam, "eta": eta}[s.name] for s in num_expr.free_symbols})
        assert sp.expand(sym_expr - num_expr) == 0


def test_custom_bilinear_model_reduces_and_matches_gd():
    """f = w1 w2 x (a width-1 UV written by hand) closes in (f, λ); check 10 GD steps in NumPy."""
    r = reduce_map(custom_model(f="w1*w2*x", inputs="x"))
    assert r.closes
    s = {v.name: v for v in r.variables}
    free = set().union(*[e.free_symbols for e in r.step.values()])
    assert {t.name for t in free} <= {"f", "lam", "eta", "x", "y"}
    byname = {t.name: t for t in free}
    step = sp.lambdify([s["f"], s["lam"]] + [byname[n_] for n_ in ("eta", "x", "y")],
                       [r.step[s["f"]], r.step[s["lam"]]], "numpy")
    w1, w2, x, y, eta = 0.8, -1.1, 1.3, 0.4, 0.3
    f, lam = w1 * w2 * x, (w2 * x) ** 2 + (w1 * x) ** 2
    for _ in range(10):
        df = w1 * w2 * x - y
        w1, w2 = w1 - eta * df * w2 * x, w2 - eta * df * w1 * x
        f, lam = step(f, lam, eta, x, y)
        assert f == pytest.approx(w1 * w2 * x, rel=1e-10, abs=1e-12)
        assert lam == pytest.approx((w2 * x) ** 2 + (w1 * x) ** 2, rel=1e-10)


def test_cubic_model_does_not_close():
    """f = w³x: f' contains w⁵, and no product f^i λ^j (θ-degree 3i + 4j) has degree 5."""
    r = reduce_map(custom_model(f="w**3*x", inputs="x"))
    assert r.closes is False and "f" in r.failed and r.reason
