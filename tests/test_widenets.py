"""Wide networks: gradients, exact Hessian-vector products, sharpness, NTK, GD, and a reduced Y10 run.

Independent references: finite differences of the loss and of the gradient (conftest's 5-point
stencils), a dense Hessian built by finite differences of the loss alone, ``numpy.linalg.eigvalsh``
and the Gauss–Newton matrix JᵀJ/N built from finite-difference Jacobians of the outputs."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, strategies as st

from symsharp.analysis.widenets import (ACTIVATIONS, PARAMETERIZATIONS, WideNet, WideNetError, reduce_inputs,
                                        top_eigenvalue, train_gd, train_network, y10_experiment)
from symsharp.data import make_dataset
from symsharp.errors import SymsharpError

COMBOS = [(a, p) for a in ACTIVATIONS for p in PARAMETERIZATIONS]


def small_problem(seed, N=5, d=3, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, d)) * scale, rng.standard_normal(N)


def make_net(d, depth, width, act, par, init_scale=1.3, fan_in=None):
    return WideNet(d=d, depth=depth, width=width, activation=act, parameterization=par, init_scale=init_scale,
                   fan_in=fan_in)


# ----------------------------------------------------------------------------- layout and forward

def test_layout_and_forward_against_explicit_formula():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    for act, phi in (("linear", lambda t: t), ("tanh", np.tanh)):
        for par in PARAMETERIZATIONS:
            net = make_net(3, 4, 5, act, par, init_scale=0.7, fan_in=11)
            assert net.n_params == 5 * 3 + 2 * 25 + 5
            th = net.init(2)
            W1, W2, W3, W4 = net.unflatten(th)
            c = [1.0] * 4 if par == "standard" else [0.7 / np.sqrt(m) for m in (11, 5, 5, 5)]
            want = c[3] * phi(c[2] * phi(c[1] * phi(c[0] * X @ W1.T) @ W2.T) @ W3.T) @ W4[0]
            np.testing.assert_allclose(net.forward(th, X), want, rtol=1e-13)


def test_init_statistics_match_the_parameterisation():
    net_s = make_net(400, 3, 300, "linear", "standard", init_scale=2.0)
    net_n = make_net(400, 3, 300, "linear", "ntk", init_scale=2.0)
    W1s, W2s, _ = net_s.unflatten(net_s.init(0))
    W1n, _, _ = net_n.unflatten(net_n.init(0))
    assert W1s.std() == pytest.approx(2.0 / np.sqrt(400), rel=0.02)
    assert W2s.std() == pytest.approx(2.0 / np.sqrt(300), rel=0.02)
    assert W1n.std() == pytest.approx(1.0, rel=0.02)
    X = np.random.default_rng(1).standard_normal((6, 400))
    # both parameterisations give the same function at initialisation (same seed)
    np.testing.assert_allclose(net_s.forward(net_s.init(5), X), net_n.forward(net_n.init(5), X), rtol=1e-10)


# ----------------------------------------------------------------------------- derivatives

@pytest.mark.parametrize("act, par", COMBOS)
def test_gradient_matches_finite_differences(nx, act, par):
    X, y = small_problem(1)
    net = make_net(3, 4, 3, act, par)
    th = net.init(3)
    L, g = net.loss_grad(th, X, y)
    assert L == pytest.approx(net.loss(th, X, y), rel=1e-15)
    nx.assert_close(g, nx.fd_grad(lambda t: net.loss(t, X, y), th, h=1e-3), rtol=1e-8, what="gradient")


@pytest.mark.parametrize("act, par", COMBOS)
def test_dense_hessian_from_hvps_matches_finite_differences_of_the_loss(nx, act, par):
    X, y = small_problem(2, N=4, d=2)
    net = make_net(2, 3, 3, act, par)
    th = net.init(4)
    H = net.hessian(th, X, y)                       # column by column from exact HVPs
    np.testing.assert_allclose(H, H.T, atol=1e-13 * np.abs(H).max())
    H_fd = nx.fd_hess(lambda t: net.loss(t, X, y), th, h=1e-2)    # loss values only
    nx.assert_close(H, H_fd, rtol=1e-5, what="Hessian vs FD of the loss")
    H_fg = nx.fd_jac(lambda t: net.loss_grad(t, X, y)[1], th, h=1e-3)   # FD of the gradient
    nx.assert_close(H, H_fg, rtol=1e-8, what="Hessian vs FD of the gradient")


@given(depth=st.integers(2, 4), width=st.integers(1, 4), d=st.integers(1, 4), N=st.integers(1, 5),
       act=st.sampled_from(ACTIVATIONS), par=st.sampled_from(PARAMETERIZATIONS),
       scale=st.floats(0.3, 2.0), seed=st.integers(0, 10 ** 6))
def test_hvp_matches_finite_differences_of_the_gradient(nx, depth, width, d, N, act, par, scale, seed):
    X, y = small_problem(seed, N=N, d=d)
    net = make_net(d, depth, width, act, par, init_scale=scale)
    th = net.init(seed)
    rng = np.random.default_rng(seed + 1)
    v, u = rng.standard_normal(net.n_params), rng.standard_normal(net.n_params)
    hv = net.hvp(th, X, y, v)
    grad = lambda t: net.loss_grad(t, X, y)[1]   # noqa: E731
    h = 1e-3
    fd = (-grad(th + 2 * h * v) + 8 * grad(th + h * v) - 8 * grad(th - h * v) + grad(th - 2 * h * v)) / (12 * h)
    scale_ = max(1.0, float(np.abs(fd).max()))
    assert np.max(np.abs(hv - fd)) <= 1e-6 * scale_
    hu = net.hvp(th, X, y, u)
    assert np.dot(u, hv) == pytest.approx(np.dot(v, hu), rel=1e-9, abs=1e-12 * scale_)   # symmetry


@pytest.mark.parametrize("act, par", COMBOS)
def test_jvp_vjp_against_finite_difference_jacobian(nx, act, par):
    X, y = small_problem(3, N=4, d=3)
    net = make_net(3, 3, 4, act, par)
    th = net.init(1)
    J = nx.fd_jac(lambda t: net.forward(t, X), th, h=1e-3)          # N × P
    rng = np.random.default_rng(0)
    v, r = rng.standard_normal(net.n_params), rng.standard_normal(4)
    nx.assert_close(net.jvp(th, X, v), J @ v, rtol=1e-8, what="J v")
    nx.assert_close(net.vjp(th, X, r), J.T @ r, rtol=1e-8, what="J^T r")


# ----------------------------------------------------------------------------- sharpness and NTK

@pytest.mark.parametrize("act, par", COMBOS)
def test_lanczos_and_power_sharpness_match_dense_eigvalsh(act, par):
    X, y = small_problem(5, N=6, d=4)
    net = make_net(4, 3, 5, act, par)
    th = net.init(7)
    lam = np.linalg.eigvalsh(net.hessian(th, X, y))
    S = net.sharpness(th, X, y, tol=1e-12)
    assert S == pytest.approx(lam[-1], rel=1e-9)
    if lam[-1] > 1.05 * abs(lam[0]):       # power iteration finds the largest |λ|
        Sp = net.sharpness(th, X, y, method="power", tol=1e-13, maxiter=20000)
        assert Sp == pytest.approx(lam[-1], rel=1e-5)


def _zero_loss_point(net, X, y, seed):
    """Random hidden layers, last layer by least squares: an exact interpolant when width ≥ N."""
    th = net.init(seed)
    Ws = net.unflatten(th)
    f, A, _, _ = net._forward(Ws, X)
    c = net.multipliers()[-1]
    w, *_ = np.linalg.lstsq(c * A[-1], y, rcond=None)
    Ws[-1][0] = w
    return th


@pytest.mark.parametrize("act, par", COMBOS)
def test_at_zero_loss_hessian_is_gauss_newton_and_sharpness_is_ntk_top(nx, act, par):
    X, y = small_problem(6, N=4, d=5)               # d ≥ N: the linear net can interpolate too
    net = make_net(5, 3, 6, act, par)
    th = _zero_loss_point(net, X, y, seed=2)
    assert net.loss(th, X, y) < 1e-26
    J = nx.fd_jac(lambda t: net.forward(t, X), th, h=1e-3)
    GN = J.T @ J / X.shape[0]
    H = net.hessian(th, X, y)
    nx.assert_close(H, GN, rtol=1e-7, what="Hessian vs Gauss-Newton at zero loss")
    S = net.sharpness(th, X, y, tol=1e-12)
    K = net.ntk_top(th, X)
    assert S == pytest.approx(K, rel=1e-9)
    assert K == pytest.approx(np.linalg.eigvalsh(J @ J.T / X.shape[0])[-1], rel=1e-6)
    # away from a minimum the two differ (the check can fail)
    th2 = net.init(9)
    assert abs(net.sharpness(th2, X, y) - net.ntk_top(th2, X)) > 1e-6


def test_deep_linear_net_trained_to_a_global_minimum():
    """GD on a tiny interpolable problem: at the end sharpness = top NTK eigenvalue."""
    X, y = small_problem(8, N=4, d=6)
    net = make_net(6, 4, 8, "linear", "standard", init_scale=1.0)
    th0 = net.init(0)
    eta = 0.5 / net.sharpness(th0, X, y)
    res = train_gd(net, X, y, eta, theta0=th0, max_steps=200_000, loss_tol=1e-24)
    assert res.reason == "loss" and res.loss <= 1e-24
    S, K = net.sharpness(res.theta, X, y, tol=1e-12), net.ntk_top(res.theta, X)
    assert S == pytest.approx(K, rel=1e-8)


def test_ntk_top_lanczos_path_matches_dense():
    X, y = small_problem(4, N=70, d=5)
    net = make_net(5, 3, 6, "tanh", "standard")
    th = net.init(0)
    K = net.ntk_top(th, X, tol=1e-12)               # N > 64: Lanczos on J Jᵀ/N
    J = np.array([net.vjp(th, X, e) for e in np.eye(70)])
    assert K == pytest.approx(np.linalg.eigvalsh(J @ J.T / 70)[-1], rel=1e-9)


def test_top_eigenvalue_on_a_known_matrix():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    lam = np.linspace(-5.0, 3.0, 30)
    A = (Q * lam) @ Q.T
    val, vec, n = top_eigenvalue(lambda v: A @ v, 30, tol=1e-12)
    assert val == pytest.approx(3.0, rel=1e-10)          # largest algebraic, not largest |λ|
    assert n > 0 and abs(abs(vec @ Q[:, -1]) - 1) < 1e-8
    with pytest.raises(WideNetError, match="'qr'"):
        top_eigenvalue(lambda v: A @ v, 30, method="qr")


# ----------------------------------------------------------------------------- training

@pytest.mark.parametrize("act", ACTIVATIONS)
def test_reduced_coordinates_give_the_same_run(act):
    ds = make_dataset("photo-patches", samples=8, patch=3, seed=0, preprocess="standardize")   # d = 27
    kw = dict(depth=3, width=7, activation=act, init_scale=0.8, eta=0.05, max_steps=60, loss_tol=0.0,
              record_every=1, seed=4)
    a = train_network(ds.X, ds.y, reduce=True, **kw)
    b = train_network(ds.X, ds.y, reduce=False, **kw)
    assert a["X_used"].shape[1] < ds.d == b["X_used"].shape[1]
    np.testing.assert_allclose(a["result"].losses, b["result"].losses, rtol=1e-10)
    assert a["sharpness"] == pytest.approx(b["sharpness"], rel=1e-7)
    assert a["ntk_top"] == pytest.approx(b["ntk_top"], rel=1e-7)
    # the first layers agree after mapping back: W1 P = M
    Wa, Wb = a["net"].unflatten(a["result"].theta), b["net"].unflatten(b["result"].theta)
    np.testing.assert_allclose(Wb[0] @ a["project"], Wa[0], rtol=1e-8, atol=1e-12)
    Xr, P = reduce_inputs(ds.X)
    np.testing.assert_allclose(Xr @ P.T, ds.X, atol=1e-12 * np.abs(ds.X).max())


def test_training_is_deterministic_and_seeded():
    X, y = small_problem(9, N=6, d=4)
    net = make_net(4, 3, 5, "tanh", "standard", init_scale=1.0)
    r1 = train_gd(net, X, y, 0.05, seed=3, max_steps=50, loss_tol=0)
    r2 = train_gd(net, X, y, 0.05, seed=3, max_steps=50, loss_tol=0)
    r3 = train_gd(net, X, y, 0.05, seed=4, max_steps=50, loss_tol=0)
    np.testing.assert_array_equal(r1.theta, r2.theta)
    assert not np.array_equal(r1.theta, r3.theta)
    assert r1.steps == 50 and r1.reason == "max_steps" and r1.losses[-1] < r1.losses[0]


def test_divergence_is_caught_by_a_magnitude_threshold():
    X, y = small_problem(10, N=6, d=4)
    net = make_net(4, 3, 5, "linear", "standard", init_scale=1.0)
    S0 = net.sharpness(net.init(0), X, y)
    res = train_gd(net, X, y, 10.0 / S0, seed=0, max_steps=5000, div_factor=1e6)
    assert res.diverged and not res.converged
    assert np.isfinite(res.loss) and res.steps < 5000           # stopped before overflow


def test_adaptive_step_tracks_the_sharpness():
    X, y = small_problem(11, N=6, d=8)
    net = make_net(8, 4, 6, "linear", "standard", init_scale=0.6)
    res = train_gd(net, X, y, seed=1, max_steps=3000, loss_tol=1e-8, adapt_every=20, eta_frac=0.4)
    assert res.converged and res.sharpness_checks > 1
    assert res.eta * net.sharpness(res.theta, X, y) == pytest.approx(0.4, rel=0.05)


@pytest.mark.parametrize("kwargs, word", [
    (dict(d=3, depth=1, width=4), "depth"),
    (dict(d=3, depth=3, width=0), "width"),
    (dict(d=3, depth=3, width=4, activation="relu"), "'relu'"),
    (dict(d=3, depth=3, width=4, parameterization="mup"), "'mup'"),
    (dict(d=3, depth=3, width=4, init_scale=-1.0), "init_scale"),
])
def test_widenet_errors(kwargs, word):
    with pytest.raises(WideNetError) as exc:
        WideNet(**kwargs)
    assert word in str(exc.value) and isinstance(exc.value, SymsharpError)


def test_bad_requests_are_one_sentence():
    net = make_net(3, 3, 4, "linear", "standard")
    with pytest.raises(WideNetError, match=r"shape \(N, 3\)"):
        net.forward(net.init(0), np.zeros((2, 4)))
    with pytest.raises(WideNetError, match="eta"):
        train_gd(net, np.zeros((2, 3)), np.zeros(2), -1.0)
    with pytest.raises(WideNetError, match="'nope'"):
        y10_experiment("nope")
    with pytest.raises(WideNetError, match="'lr'"):
        y10_experiment("reduced", lr=0.1)


# ----------------------------------------------------------------------------- Y10 (reduced)

def test_y10_reduced_run():
    ds = y10_experiment("reduced")
    assert set(ds.dims) == {"arch", "data", "group"}
    assert list(ds.arch.values) == ["linear-D5", "tanh-D4"]
    meta = json.loads(ds.attrs["symsharp"])
    assert meta["config_name"] == "reduced" and "numpy" in meta["versions"]
    assert "samples" in meta["varied"]["digits"] and "kind" in meta["varied"]["all"]
    # Ŝ_D recomputed from the stored Q, σ₁, N and the architecture's depth
    for i, D in enumerate(ds.depth.values):
        want = ds.sigma1.values ** 2 / ds.N.values * ds.Q.values ** ((D - 1) / D)
        np.testing.assert_allclose(ds.S_hat.values[i], want, rtol=1e-12)
    assert np.all(np.isfinite(ds.sharpness.values[~ds.diverged.values]))
    assert np.all(ds.final_loss.values < 0.5)                       # training made progress
    # the correlations are those of the used runs
    for i in range(ds.sizes["arch"]):
        sel = ds.used.values[i]
        assert ds.n_used.values[i, 0] == sel.sum()
        if sel.sum() >= 3:
            r = np.corrcoef(ds.sharpness.values[i, sel], ds.S_hat.values[i, sel])[0, 1]
            assert ds.pearson.values[i, 0] == pytest.approx(r, rel=1e-10)
            assert -1 <= ds.spearman.values[i, 0] <= 1
    # at the end of a converged run the sharpness is close to the top NTK eigenvalue (small loss)
    conv = ds.converged.values & (ds.final_loss.values < 1e-3)
    np.testing.assert_allclose(ds.sharpness.values[conv], ds.ntk_top.values[conv], rtol=0.1)
