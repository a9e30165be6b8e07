"""Gradients, Hessians, NTK, Hessian split, GD/SGD maps and the GF field, checked against
independent numerical computations: 5-point finite differences of a loss written here in NumPy,
and gradients written by hand in NumPy (not derived from the library's expressions)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis_budget import examples

from symsharp.models import ModelError, chain_model, custom_model, uv_model
from symsharp.symbolic.calculus import (apply_map, gd_map, gf_field, gradient, hessian, hessian_split,
                                        jacobian, ntk, sgd_map)

FLOAT = dict(allow_nan=False, allow_infinity=False)


def vec(k, lo=-1.5, hi=1.5):
    return hnp.arrays(np.float64, k, elements=st.floats(lo, hi, **FLOAT))


# ----------------------------------------------------------------------------- independent models

@dataclass
class Case:
    """A model plus an independent NumPy description of it."""

    model: object
    draw_consts: Callable  # data strategy -> {name: value}
    outputs: Callable  # (theta, c) -> f_j for all examples
    targets: Callable  # c -> y_j
    grad: Callable  # (theta, c) -> ∇L written by hand

    def loss(self, theta, c, batch=None):
        r = self.outputs(theta, c) - self.targets(c)
        if batch is not None:
            r = r[list(batch)]
        return 0.5 * np.mean(r ** 2)


def _uv_case(n, d, k=1, layerwise=False):
    m = uv_model(width=n, input_dim=d, examples=k, layerwise=layerwise)
    xnames = [[f"x_{i + 1}" for i in range(d)]] if k == 1 else [[f"x{j + 1}_{i + 1}" for i in range(d)]
                                                               for j in range(k)]
    ynames = ["y"] if k == 1 else [f"y_{j + 1}" for j in range(k)]

    def draw(data):
        c = {"alpha": data.draw(st.floats(0.3, 2.0, **FLOAT))}
        for row in xnames:
            for nm in row:
                c[nm] = data.draw(st.floats(-1.5, 1.5, **FLOAT))
        for nm in ynames:
            c[nm] = data.draw(st.floats(-2, 2, **FLOAT))
        return c

    def X(c):
        return np.array([[c[nm] for nm in row] for row in xnames])

    def outputs(theta, c):
        U = theta[:n * d].reshape(n, d)
        v = theta[n * d:]
        return c["alpha"] / np.sqrt(n) * (X(c) @ U.T @ v)

    def targets(c):
        return np.array([c[nm] for nm in ynames])

    def grad(theta, c):
        U = theta[:n * d].reshape(n, d)
        v = theta[n * d:]
        cc = c["alpha"] / np.sqrt(n)
        r = (outputs(theta, c) - targets(c)) / k
        xr = X(c).T @ r  # Σ_j r_j x_j
        return np.concatenate([cc * np.outer(v, xr).ravel(), cc * U @ xr])

    return Case(m, draw, outputs, targets, grad)


def _chain_case(D, N=3, d=2, seed=0):
    rng = np.random.default_rng(seed)
    Xn = np.round(rng.uniform(-1.5, 1.5, (N, d)), 2)
    yn = np.round(rng.uniform(-1.5, 1.5, N), 2)
    m = chain_model(depth=D, samples=N, dim=d, X=Xn.tolist(), y=yn.tolist())

    def outputs(theta, c):
        u, v = theta[:d], theta[d:]
        return (Xn @ u) * np.prod(v)

    def grad(theta, c):
        u, v = theta[:d], theta[d:]
        r = (outputs(theta, c) - yn) / N
        gu = Xn.T @ r * np.prod(v)
        gv = np.array([(r @ (Xn @ u)) * np.prod(np.delete(v, i)) for i in range(D - 1)])
        return np.concatenate([gu, gv])

    return Case(m, lambda data: {}, outputs, lambda c: yn, grad)


CUSTOM_X = np.array([0.5, -1.25, 2.0])
CUSTOM_Y = np.array([1.0, -0.5, 0.75])


def _custom_case():
    m = custom_model(f="w1*w2*x + w3*x**2", data={"x": CUSTOM_X.tolist(), "y": CUSTOM_Y.tolist()})

    def outputs(theta, c):
        w1, w2, w3 = theta
        return w1 * w2 * CUSTOM_X + w3 * CUSTOM_X ** 2

    def grad(theta, c):
        w1, w2, w3 = theta
        r = (outputs(theta, c) - CUSTOM_Y) / 3
        return np.array([r @ (w2 * CUSTOM_X), r @ (w1 * CUSTOM_X), r @ CUSTOM_X ** 2])

    return Case(m, lambda data: {}, outputs, lambda c: CUSTOM_Y, grad)


BUILDERS = {
    "uv_n3_d2": lambda: _uv_case(3, 2),
    "uv_n4_d3": lambda: _uv_case(4, 3),
    "uv_n3_d2_layerwise": lambda: _uv_case(3, 2, layerwise=True),
    "uv_n3_d2_two_examples": lambda: _uv_case(3, 2, k=2),
    "chain_D2": lambda: _chain_case(2, seed=1),
    "chain_D3": lambda: _chain_case(3, seed=2),
    "custom_w1w2x_w3x2": _custom_case,
}
MULTI = ["uv_n3_d2_two_examples", "chain_D2", "chain_D3", "custom_w1w2x_w3x2"]


class Derived:
    """The derived objects of one case, each computed once on first use, with lambdified forms."""

    def __init__(self, case: Case, nx):
        m = case.model
        self.case, self.m, self.nx = case, m, nx
        self.P = list(m.params)
        self.rates = list(m.rates())
        self.consts = sorted((m.loss.free_symbols | set().union(*[f.free_symbols for f in m.outputs]))
                             - set(self.P) - set(self.rates), key=lambda s: s.name)
        self.args = self.P + self.rates + self.consts
        self._sgd = {}

    def _l(self, e):
        return self.nx.lamb(self.args, e)

    @cached_property
    def H(self):
        return hessian(self.m)

    @cached_property
    def split(self):
        return hessian_split(self.m)

    @cached_property
    def step(self):
        return gd_map(self.m)

    @cached_property
    def f_loss(self):
        return self._l(self.m.loss)

    @cached_property
    def f_g(self):
        return self._l(gradient(self.m))

    @cached_property
    def f_H(self):
        return self._l(self.H)

    @cached_property
    def f_GN(self):
        return self._l(self.split.gauss_newton)

    @cached_property
    def f_R(self):
        return self._l(self.split.residual)

    @cached_property
    def f_J(self):
        return self._l(jacobian(self.m))

    @cached_property
    def f_K(self):
        return self._l(ntk(self.m))

    @cached_property
    def f_step(self):
        return self._l(sp.Matrix([self.step[p] for p in self.P]))

    @cached_property
    def f_field(self):
        field = gf_field(self.m)
        return self._l(sp.Matrix([field[p] for p in self.P]))

    @cached_property
    def probe_is_output(self):
        """apply_map is checked on f_1 (on θ_1 θ_last for the 16-parameter UV model, whose f_1(θ')
        is slow to expand; the full loss is too large to expand for any UV model)."""
        return len(self.P) < 16

    @cached_property
    def f_probe_after(self):
        probe = self.m.outputs[0] if self.probe_is_output else self.P[0] * self.P[-1]
        return self._l(apply_map(probe, self.step))

    @cached_property
    def f_lam(self):
        return self._l(self.m.observables["lam"]) if "lam" in self.m.observables else None

    def sgd(self, batch):
        key = tuple(batch)
        if key not in self._sgd:
            st_ = sgd_map(self.m, list(batch))
            self._sgd[key] = self._l(sp.Matrix([st_[p] for p in self.P]))
        return self._sgd[key]

    def point(self, data):
        theta = data.draw(vec(len(self.P)), label="theta")
        c = self.case.draw_consts(data)
        etas = {r: data.draw(st.floats(0.01, 1.0, **FLOAT), label=r.name) for r in self.rates}
        argv = list(theta) + [etas[r] for r in self.rates] + [c[s.name] for s in self.consts]
        return theta, c, etas, argv


@pytest.fixture(scope="module", params=list(BUILDERS))
def dv(request, nx):
    return Derived(BUILDERS[request.param](), nx)


@pytest.fixture(scope="module", params=MULTI)
def dv_multi(request, nx):
    return Derived(BUILDERS[request.param](), nx)


@pytest.fixture(scope="module")
def dv_uv(nx):
    return Derived(_uv_case(3, 2), nx)


SET = settings(max_examples=examples(12), deadline=None)


# ----------------------------------------------------------------------------- tests

@SET
@given(data=st.data())
def test_model_loss_matches_independent_numpy_loss(dv, nx, data):
    theta, c, _, argv = dv.point(data)
    nx.assert_close(dv.f_loss(*argv), dv.case.loss(theta, c), 1e-12, what="loss")


@SET
@given(data=st.data())
def test_gradient_vs_finite_differences_and_hand_gradient(dv, nx, data):
    theta, c, _, argv = dv.point(data)
    g = dv.f_g(*argv).reshape(-1)
    g_fd = nx.fd_grad(lambda t: dv.case.loss(t, c), theta)
    scale = 1 + abs(dv.case.loss(theta, c)) + np.max(np.abs(g_fd))
    nx.assert_close(g, g_fd, 1e-8, scale, what="gradient vs FD")
    nx.assert_close(g, dv.case.grad(theta, c), 1e-11, scale, what="gradient vs hand-written")


@SET
@given(data=st.data())
def test_hessian_vs_finite_differences_of_gradient(dv, nx, data):
    theta, c, _, argv = dv.point(data)
    H = dv.f_H(*argv)
    assert np.array_equal(H, H.T)
    H_fd = nx.fd_jac(lambda t: dv.case.grad(t, c), theta, h=1e-3)
    nx.assert_close(H, H_fd, 1e-8, 1 + np.max(np.abs(H_fd)), what="Hessian vs FD of gradient")


@SET
@given(data=st.data())
def test_ntk_vs_fd_jacobian(dv, nx, data):
    theta, c, _, argv = dv.point(data)
    J_fd = nx.fd_jac(lambda t: dv.case.outputs(t, c), theta)
    N = J_fd.shape[0]
    nx.assert_close(dv.f_J(*argv), J_fd, 1e-9, what="Jacobian")
    K_fd = J_fd @ J_fd.T / N
    nx.assert_close(dv.f_K(*argv), K_fd, 1e-9, what="NTK")
    if dv.f_lam is not None:  # one example: the observable lam is the scalar NTK ‖∇f‖²
        assert N == 1
        nx.assert_close(dv.f_lam(*argv), K_fd[0, 0], 1e-9, what="lam")


@SET
@given(data=st.data())
def test_hessian_split_gauss_newton_and_residual(dv, nx, data):
    theta, c, _, argv = dv.point(data)
    J_fd = nx.fd_jac(lambda t: dv.case.outputs(t, c), theta)
    N = J_fd.shape[0]
    GN, R, H = dv.f_GN(*argv), dv.f_R(*argv), dv.f_H(*argv)
    nx.assert_close(GN, J_fd.T @ J_fd / N, 1e-9, what="Gauss-Newton")
    r = dv.case.outputs(theta, c) - dv.case.targets(c)
    R_ind = sum(r[j] * nx.fd_hess(lambda t: dv.case.outputs(t, c)[j], theta) for j in range(N)) / N
    nx.assert_close(R, R_ind, 1e-8, 1 + np.max(np.abs(R_ind)), what="residual part")
    nx.assert_close(GN + R, H, 1e-11, what="GN + residual = Hessian")


def test_hessian_split_sums_exactly_to_hessian(dv):
    diff = dv.split.gauss_newton + dv.split.residual - dv.H
    assert all(sp.expand(e) == 0 for e in diff)
    assert len(dv.split.residuals) == dv.case.model.n_examples


@SET
@given(data=st.data())
def test_hessian_equals_gauss_newton_at_zero_residual(dv_uv, nx, data):
    """Claim valid for any model: where f = y the Hessian is JᵀJ/N (UV: choose y = f(θ))."""
    dv = dv_uv
    theta, c, _, argv = dv.point(data)
    c["y"] = float(dv.case.outputs(theta, c)[0])
    argv = list(theta) + [0.1] * len(dv.rates) + [c[s.name] for s in dv.consts]
    GN, H, R = dv.f_GN(*argv), dv.f_H(*argv), dv.f_R(*argv)
    nx.assert_close(H, GN, 1e-12, what="H vs GN at f = y")
    nx.assert_close(R, np.zeros_like(R), 1e-12, what="residual part at f = y")


@SET
@given(data=st.data())
def test_gd_map_is_theta_minus_eta_grad(dv, nx, data):
    theta, c, etas, argv = dv.point(data)
    eta_vec = np.array([etas[r] for r in dv.case.model.rate_vector()])
    expected = theta - eta_vec * dv.case.grad(theta, c)
    nx.assert_close(dv.f_step(*argv).reshape(-1), expected, 1e-12, what="GD map")


@SET
@given(data=st.data())
def test_apply_map_gives_value_after_one_step(dv, nx, data):
    theta, c, etas, argv = dv.point(data)
    eta_vec = np.array([etas[r] for r in dv.case.model.rate_vector()])
    th1 = theta - eta_vec * dv.case.grad(theta, c)
    after = dv.case.outputs(th1, c)[0] if dv.probe_is_output else th1[0] * th1[-1]
    nx.assert_close(dv.f_probe_after(*argv), after, 1e-10, 1 + abs(after), what="apply_map(probe, step)")


@SET
@given(data=st.data())
def test_gf_field_is_minus_gradient(dv, nx, data):
    theta, c, _, argv = dv.point(data)
    nx.assert_close(dv.f_field(*argv).reshape(-1), -dv.case.grad(theta, c), 1e-12, what="GF field")


def test_layerwise_rates_follow_blocks():
    m = uv_model(3, 2, layerwise=True)
    names = [r.name for r in m.rate_vector()]
    assert names == ["eta_U"] * 6 + ["eta_v"] * 3
    step = gd_map(m)
    U11, v1 = m.params[0], m.params[6]
    assert step[U11].free_symbols >= {sp.Symbol("eta_U", positive=True)}
    assert sp.Symbol("eta_v", positive=True) not in step[U11].free_symbols
    assert sp.Symbol("eta_U", positive=True) not in step[v1].free_symbols


@settings(max_examples=examples(15), deadline=None)
@given(data=st.data())
def test_sgd_map_is_gd_on_minibatch_loss(dv_multi, nx, data):
    N = dv_multi.case.model.n_examples
    batch = data.draw(st.lists(st.integers(0, N - 1), min_size=1, max_size=N), label="batch")
    theta, c, etas, argv = dv_multi.point(data)
    (eta,) = etas.values()
    g_B = nx.fd_grad(lambda t: dv_multi.case.loss(t, c, batch), theta)
    expected = theta - eta * g_B
    scale = 1 + np.max(np.abs(theta)) + eta * (dv_multi.case.loss(theta, c, batch) + np.max(np.abs(g_B)))
    nx.assert_close(dv_multi.sgd(batch)(*argv).reshape(-1), expected, 1e-9, scale, what=f"SGD {batch}")


def test_sgd_full_batch_is_gd(dv_multi):
    m = dv_multi.case.model
    full = sgd_map(m, list(range(m.n_examples)))
    assert all(sp.expand(full[p] - dv_multi.step[p]) == 0 for p in m.params)


def test_sgd_bad_batch_is_a_one_line_model_error():
    m = chain_model(2, 3, 2, X=[[1, 0], [0, 1], [1, 1]], y=[1, 2, 3])
    for bad in ([], [3], [-1]):
        with pytest.raises(ModelError) as ei:
            sgd_map(m, bad)
        assert "\n" not in str(ei.value)
