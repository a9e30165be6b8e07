"""Custom models written as strings: construction, errors, and derivatives vs finite differences."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis_budget import examples

from symsharp.models import ModelError, custom_model
from symsharp.symbolic.calculus import gd_map, gradient, hessian, jacobian, ntk

FLOAT = dict(allow_nan=False, allow_infinity=False)
XS = [0.5, -1.25, 2.0]
YS = [1.0, -0.5, 0.75]


def vec(k, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, k, elements=st.floats(lo, hi, **FLOAT))


def np_f(w, x):
    return w[0] * w[1] * x + w[2] * x ** 2


def np_loss(w):
    x, y = np.array(XS), np.array(YS)
    return 0.5 * np.mean((np_f(w, x) - y) ** 2)


LOSS_TEXT = "(w1*w2 - 1)**2 + w3**2*w1 + w2**4/4"


def np_loss_direct(w):
    return (w[0] * w[1] - 1) ** 2 + w[2] ** 2 * w[0] + w[1] ** 4 / 4


class Built:
    def __init__(self, model):
        self.m = model
        self.P = list(model.params)
        self.g = sp.lambdify(self.P, gradient(model), "numpy")
        self.H = sp.lambdify(self.P, hessian(model), "numpy")
        self.L = sp.lambdify(self.P, model.loss, "numpy")


@pytest.fixture(scope="module")
def data_model():
    return Built(custom_model(f="w1*w2*x + w3*x**2", data={"x": XS, "y": YS}))


@pytest.fixture(scope="module")
def loss_model():
    return Built(custom_model(loss=LOSS_TEXT))


# ----------------------------------------------------------------------------- construction

def test_model_from_f_and_data(data_model):
    m = data_model.m
    assert [p.name for p in m.params] == ["w1", "w2", "w3"]
    assert m.n_examples == 3
    w = np.array([0.3, -1.1, 0.7])
    outs = [float(sp.lambdify(m.params, f)(*w)) for f in m.outputs]
    assert np.allclose(outs, np_f(w, np.array(XS)), rtol=1e-14)
    assert [float(t) for t in m.targets] == YS
    assert data_model.L(*w) == pytest.approx(np_loss(w), rel=1e-14)
    # only the parameters are left in the loss: the data are numbers now
    assert m.loss.free_symbols == set(m.params)


def test_model_from_loss_string(loss_model):
    m = loss_model.m
    assert [p.name for p in m.params] == ["w1", "w2", "w3"]
    assert m.outputs == () and m.targets == ()
    w = np.array([1.3, -0.4, 0.9])
    assert loss_model.L(*w) == pytest.approx(np_loss_direct(w), rel=1e-14)
    with pytest.raises(ValueError):
        jacobian(m)  # a loss-only model has no outputs
    with pytest.raises(ModelError):
        m.minibatch([0])


def test_model_without_data_has_symbolic_example_and_observables():
    m = custom_model(f="w1*w2*x", inputs="x")
    assert [p.name for p in m.params] == ["w1", "w2"]
    names = {s.name for s in m.loss.free_symbols}
    assert names == {"w1", "w2", "x", "y"}
    # λ = ‖∇f‖² = (w2 x)² + (w1 x)², independently
    lam = sp.lambdify(sorted(m.observables["lam"].free_symbols, key=lambda s: s.name), m.observables["lam"])
    w1, w2, x = 0.7, -1.3, 1.9
    assert lam(w1, w2, x) == pytest.approx((w2 * x) ** 2 + (w1 * x) ** 2, rel=1e-14)
    assert sp.expand(ntk(m)[0, 0] - m.observables["lam"]) == 0


def test_explicit_params_make_other_symbols_constants():
    m = custom_model(f="w*x + b", params=["w"], inputs=["x"])
    assert [p.name for p in m.params] == ["w"]
    assert "b" in {s.name for s in m.constants}
    (step,) = gd_map(m).values()
    w, x, b, y, eta = sp.symbols("w x b y eta", real=True)
    sub = {s: {"w": w, "x": x, "b": b, "y": y, "eta": eta}[s.name] for s in step.free_symbols}
    assert sp.expand(step.xreplace(sub) - (w - eta * (w * x + b - y) * x)) == 0


def test_custom_model_with_elementary_functions():
    """f may use SymPy functions such as sin and exp (it is parsed as a SymPy expression)."""
    m = custom_model(f="w1*sin(x) + exp(w2*x)", data={"x": [0.5, 1.0], "y": [0.0, 1.0]})
    assert [p.name for p in m.params] == ["w1", "w2"]
    w = np.array([0.3, -0.2])
    L = sp.lambdify(m.params, m.loss, "numpy")
    x, y = np.array([0.5, 1.0]), np.array([0.0, 1.0])
    assert L(*w) == pytest.approx(0.5 * np.mean((w[0] * np.sin(x) + np.exp(w[1] * x) - y) ** 2), rel=1e-12)


def test_custom_model_pi_is_a_constant_not_a_parameter():
    m = custom_model(f="w*pi*x", inputs="x")
    assert [p.name for p in m.params] == ["w"]


def test_custom_model_from_sympy_expression_with_functions():
    """Passing a SymPy expression (not text) works with functions."""
    w, x = sp.symbols("w x", real=True)
    m = custom_model(f=w * sp.sin(x), data={"x": [0.5, 1.0], "y": [0.0, 1.0]})
    assert [p.name for p in m.params] == ["w"]
    L = sp.lambdify(m.params, m.loss, "numpy")
    xs = np.array([0.5, 1.0])
    assert L(0.7) == pytest.approx(0.5 * np.mean((0.7 * np.sin(xs) - np.array([0.0, 1.0])) ** 2), rel=1e-12)


# ----------------------------------------------------------------------------- errors

BAD = {
    "unparsable f": (dict(f="w1*("), ["w1*("]),
    "unparsable loss": (dict(loss="(w1*"), ["(w1*"]),
    "parameter not in f": (dict(f="w1*x", params=["w4"], inputs=["x"]), ["w4"]),
    "columns of unequal length": (dict(f="w1*x", data={"x": [1, 2], "y": [1]}), ["same number"]),
    "missing y": (dict(f="w1*x", data={"x": [1, 2]}), ["'y'"]),
    "NaN in x": (dict(f="w1*x", data={"x": [1, float("nan")], "y": [1, 2]}), ["x[1]"]),
    "NaN in y": (dict(f="w1*x", data={"x": [1, 2], "y": [float("nan"), 2]}), ["y[0]"]),
    "infinite x": (dict(f="w1*x", data={"x": [float("inf"), 2], "y": [1, 2]}), ["x[0]"]),
    "empty data": (dict(f="w1*x", data={"x": [], "y": []}), ["at least one"]),
    "both f and loss": (dict(f="w1*x", loss="w1**2"), ["exactly one"]),
    "neither f nor loss": (dict(), ["exactly one"]),
    "no parameters": (dict(f="x", inputs=["x"]), ["no parameter"]),
    "bad symbol name": (dict(f="w1*x", params=["1w"]), ["1w"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_one_line_model_error(case):
    kwargs, must_mention = BAD[case]
    with pytest.raises(ModelError) as ei:
        custom_model(**kwargs)
    msg = str(ei.value)
    assert isinstance(ei.value, ValueError)
    assert msg and "\n" not in msg and "Traceback" not in msg
    for word in must_mention:
        assert word in msg, (case, msg)


# ----------------------------------------------------------------------------- derivatives

@settings(max_examples=examples(30), deadline=None)
@given(w=vec(3))
def test_data_model_gradient_and_hessian_vs_fd(data_model, nx, w):
    g = np.asarray(data_model.g(*w), float).reshape(-1)
    g_fd = nx.fd_grad(np_loss, w)
    assert np.allclose(g, g_fd, rtol=1e-9, atol=1e-9 * (1 + np.max(np.abs(g_fd))))
    H = np.asarray(data_model.H(*w), float)
    H_fd = nx.fd_hess(np_loss, w)
    assert np.allclose(H, H_fd, rtol=1e-8, atol=1e-8 * (1 + np.max(np.abs(H_fd))))


@settings(max_examples=examples(30), deadline=None)
@given(w=vec(3))
def test_loss_model_gradient_and_hessian_vs_fd(loss_model, nx, w):
    g = np.asarray(loss_model.g(*w), float).reshape(-1)
    g_fd = nx.fd_grad(np_loss_direct, w)
    assert np.allclose(g, g_fd, rtol=1e-9, atol=1e-9 * (1 + np.max(np.abs(g_fd))))
    H = np.asarray(loss_model.H(*w), float)
    H_fd = nx.fd_hess(np_loss_direct, w)
    assert np.allclose(H, H_fd, rtol=1e-8, atol=1e-8 * (1 + np.max(np.abs(H_fd))))
