"""Chain-model runs in SVD coordinates (symsharp.models.chain.dynamics) against independent references:
plain NumPy GD/SGD in raw coordinates, dense eigensolvers on the full Hessian and on JJᵀ/N."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from symsharp.data import make_dataset, svd_coordinates
from symsharp.dynamics import DynamicsError
from symsharp.models.chain.dynamics import (BatchSampler, ChainRun, arrow_top_eigenvalue, chain_gd_numpy, chain_observables,
                                     chain_sgd_numpy, init_chain, run_chain, sgd_batches)
from symsharp.models.chain.symbolic import full_hessian


def _data(N, d, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, d)) * scale, rng.standard_normal(N)


def _safe_eta(X, y, u, v, frac=0.3):
    S = max(chain_observables(X, y, u, v)["sharpness"], 1e-3)
    return frac / S


def _ntk_top(X, u, v):
    N = X.shape[0]
    v = np.atleast_1d(v)
    pim = np.array([np.prod(np.delete(v, j)) for j in range(v.size)])
    J = np.hstack([X * np.prod(v), np.outer(X @ u, pim)])
    return float(np.linalg.eigvalsh(J @ J.T / N)[-1])


# ----------------------------------------------------------------------------- GD vs raw NumPy

@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(N=st.integers(2, 8), d=st.integers(1, 8), depth=st.sampled_from([2, 3, 4]), seed=st.integers(0, 10_000),
       xscale=st.floats(0.3, 3.0))
def test_gd_matches_raw_numpy(N, d, depth, seed, xscale):
    X, y = _data(N, d, seed, xscale)
    rng = np.random.default_rng(seed + 1)
    u = rng.standard_normal(d) * 0.7
    v = rng.uniform(0.5, 1.5, depth - 1) * rng.choice([-1, 1], depth - 1)
    eta = _safe_eta(X, y, u, v)
    run = run_chain(X, y, depth, eta, 100, u0=u, v0=v)
    uu, vv, loss = chain_gd_numpy(X, y, u, v, eta, 100)
    assert run.diverged_at is None
    np.testing.assert_array_equal(run.steps, np.arange(101))
    tol_l = 1e-10 * loss + 1e-13 * float(y @ y) / N
    assert np.all(np.abs(run.records["loss"] - loss) <= tol_l)
    assert np.linalg.norm(run.final_u - uu) <= 1e-10 * np.linalg.norm(uu) + 1e-12
    assert np.all(np.abs(run.final_v - vv) <= 1e-10 * np.abs(vv) + 1e-12)
    np.testing.assert_allclose(run.records["prod_v"][-1], np.prod(vv), rtol=1e-10, atol=1e-12)


def test_gd_matches_raw_numpy_larger_rank_and_float32():
    X, y = _data(60, 40, 0)
    u, v = init_chain(40, 3, init_scale=1.0, seed=2)
    eta = _safe_eta(X, y, u, v)
    run = run_chain(X, y, 3, eta, 150, record_every=10, u0=u, v0=v)
    uu, vv, loss = chain_gd_numpy(X, y, u, v, eta, 150)
    np.testing.assert_array_equal(run.steps, np.arange(0, 151, 10))
    np.testing.assert_allclose(run.records["loss"], loss[run.steps], rtol=1e-10)
    np.testing.assert_allclose(run.final_u, uu, rtol=1e-10, atol=1e-12)
    r32 = run_chain(X, y, 3, eta, 150, record_every=10, u0=u, v0=v, dtype="float32")
    assert r32.config["dtype"] == "float32"
    np.testing.assert_allclose(r32.records["loss"], run.records["loss"], rtol=1e-4)
    assert not np.array_equal(r32.records["loss"], run.records["loss"])    # really float32 arithmetic


def test_record_steps_include_the_last_step_and_same_seed_same_run():
    X, y = _data(9, 4, 3)
    a = run_chain(X, y, 2, 0.05, 23, record_every=5, seed=7)
    b = run_chain(X, y, 2, 0.05, 23, record_every=5, seed=7)
    np.testing.assert_array_equal(a.steps, [0, 5, 10, 15, 20, 23])
    for key in ("loss", "sharpness", "ntk", "C", "u_norm", "v", "prod_v"):
        np.testing.assert_array_equal(a.records[key], b.records[key])
    assert a.records["C"].shape == (6, 1) and a.records["v"].shape == (6, 1)
    u0, v0 = init_chain(4, 2, 0.1, 7)
    np.testing.assert_allclose(a.records["u_norm"][0], np.linalg.norm(u0))
    np.testing.assert_allclose(a.records["v"][0], v0)
    z0 = run_chain(X, y, 2, 0.05, 0)
    assert len(z0.steps) == 1 and z0.steps[0] == 0


# ----------------------------------------------------------------------------- SGD vs raw NumPy

@pytest.mark.parametrize("replacement, drop_last, N, B", [(False, False, 23, 5), (False, True, 23, 5),
                                                         (True, False, 23, 5), (False, False, 12, 12),
                                                         (True, False, 7, 1)])
@pytest.mark.parametrize("depth", [2, 3])
def test_sgd_matches_raw_numpy_with_the_same_batches(replacement, drop_last, N, B, depth):
    X, y = _data(N, 6, N + B)
    u, v = init_chain(6, depth, 1.0, seed=1)
    eta = _safe_eta(X, y, u, v, 0.2)
    batches = sgd_batches(N, B, 60, replacement=replacement, seed=11, drop_last=drop_last)
    run = run_chain(X, y, depth, eta, 60, batch=B, replacement=replacement, seed=11, drop_last=drop_last,
                    u0=u, v0=v, record_every=4)
    uu, vv, loss = chain_sgd_numpy(X, y, u, v, eta, batches)
    np.testing.assert_allclose(run.records["loss"], loss[run.steps], rtol=1e-10)
    np.testing.assert_allclose(run.final_u, uu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(run.final_v, vv, rtol=1e-10, atol=1e-12)
    # explicit batches give the same run
    run2 = run_chain(X, y, depth, eta, 60, batches=batches, u0=u, v0=v, record_every=4)
    np.testing.assert_array_equal(run2.final_u, run.final_u)


def test_batch_sampler_epochs_and_chunking():
    bs = sgd_batches(10, 4, 9, seed=0)
    assert [len(b) for b in bs] == [4, 4, 2] * 3
    for e in range(3):
        assert sorted(np.concatenate(bs[3 * e:3 * e + 3]).tolist()) == list(range(10))
    assert [len(b) for b in sgd_batches(10, 4, 6, seed=0, drop_last=True)] == [4] * 6
    for rep in (False, True):
        s = BatchSampler(10, 3, rep, seed=5)
        parts = [s.take(n) for n in (1, 4, 5000, 2)]
        flat = np.concatenate([p[0] for p in parts])
        whole = np.concatenate(sgd_batches(10, 3, 5007, replacement=rep, seed=5))
        np.testing.assert_array_equal(flat, whole)


def test_sgd_and_gd_with_full_batch_agree():
    X, y = _data(8, 3, 1)
    a = run_chain(X, y, 3, 0.05, 30, seed=2)
    b = run_chain(X, y, 3, 0.05, 30, seed=2, batch=8)
    np.testing.assert_allclose(b.records["loss"], a.records["loss"], rtol=1e-12)


# ----------------------------------------------------------------------------- observables

@pytest.mark.parametrize("N, d", [(6, 4), (4, 9), (40, 30), (35, 60)])
@pytest.mark.parametrize("depth", [2, 3, 5])
def test_sharpness_and_ntk_against_dense_eigensolvers(N, d, depth):
    X, y = _data(N, d, 10 * N + depth)
    rng = np.random.default_rng(d)
    for trial in range(3):
        u = rng.standard_normal(d) * [0.2, 1.0, 2.0][trial]
        v = rng.standard_normal(depth - 1) * [0.3, 1.0, 1.5][trial]
        H = full_hessian(X, y, u, v)
        S = float(np.linalg.eigvalsh(H)[-1])
        K = _ntk_top(X, u, v)
        for method in ("dense", "secular", "auto"):
            ob = chain_observables(X, y, u, v, method=method)
            assert ob["sharpness"] == pytest.approx(S, rel=1e-10, abs=1e-12 * np.abs(H).max())
            assert ob["ntk"] == pytest.approx(K, rel=1e-10, abs=1e-13)
        r = y - (X @ u) * np.prod(v)
        assert ob["loss"] == pytest.approx(r @ r / (2 * N), rel=1e-12)
        E, s, W = svd_coordinates(X)
        np.testing.assert_allclose(ob["C"], np.sum((W.T @ u) ** 2) - v ** 2, rtol=1e-12, atol=1e-12)


def test_recorded_sharpness_along_a_run():
    X, y = _data(30, 25, 5)
    u, v = init_chain(25, 3, 1.0, seed=3)
    eta = _safe_eta(X, y, u, v, 1.0)
    run = run_chain(X, y, 3, eta, 40, record_every=10, u0=u, v0=v)
    uu, vv = u.copy(), v.copy()
    for i, t in enumerate(run.steps):
        if i:
            uu, vv, _ = chain_gd_numpy(X, y, uu, vv, eta, t - run.steps[i - 1])
        S = np.linalg.eigvalsh(full_hessian(X, y, uu, vv))[-1]
        assert run.records["sharpness"][i] == pytest.approx(S, rel=1e-8)
        assert run.records["ntk"][i] == pytest.approx(_ntk_top(X, uu, vv), rel=1e-8)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_arrowhead_solver_on_hard_cases(k):
    rng = np.random.default_rng(k)
    r = 50
    cases = []
    delta = np.sort(rng.random(r))[::-1]
    cases.append((delta, rng.standard_normal((r, k)), np.eye(k)))
    B = rng.standard_normal((r, k)) * 1e-3
    B[0] = 0.0                                              # no coupling to the top diagonal entry
    cases.append((delta, B, -np.eye(k)))
    cases.append((delta, np.zeros((r, k)), np.diag(np.linspace(-1, 2, k))))
    dup = np.repeat([3.0, 1.0, 0.5, 0.1, 0.0], 10)
    cases.append((dup, rng.standard_normal((r, k)) * 1e-8, np.zeros((k, k))))
    M = rng.standard_normal((k, k))
    cases.append((rng.random(r) * 1e6, rng.standard_normal((r, k)) * 1e2, M + M.T))   # unsorted
    for delta, B, Cm in cases:
        H = np.block([[np.diag(delta), B], [B.T, Cm]])
        want = np.linalg.eigvalsh(H)[-1]
        got = arrow_top_eigenvalue(delta, B, Cm)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-14 * np.abs(H).max())


def test_frozen_part_outside_row_space():
    X, y = _data(5, 12, 2)
    E, s, W = svd_coordinates(X)
    P = np.eye(12) - W @ W.T
    u, v = init_chain(12, 3, 1.0, seed=4)
    for batch in (None, 2):
        run = run_chain(X, y, 3, 0.02, 200, batch=batch, u0=u, v0=v)
        np.testing.assert_allclose(P @ run.final_u, P @ u, atol=1e-13)
        assert np.linalg.norm(W.T @ (run.final_u - u)) > 1e-3
        np.testing.assert_allclose(run.records["u_norm"][-1], np.linalg.norm(run.final_u), rtol=1e-12)


def test_imbalance_drift_is_second_order_in_eta_for_depth_2():
    X, y = _data(10, 4, 6)
    u, v = init_chain(4, 2, 1.0, seed=1)
    drifts = []
    for eta in (2e-3, 1e-3):
        run = run_chain(X, y, 2, eta, 40, u0=u, v0=v)
        drifts.append(np.max(np.abs(np.diff(run.records["C"][:, 0]))))
    assert drifts[0] < 1e-4
    assert 3.5 < drifts[0] / drifts[1] < 4.5          # per-step change of C is O(η²)


# ----------------------------------------------------------------------------- divergence

def _first_exceed(X, y, u, v, eta, steps, thr):
    E, s, W = svd_coordinates(X)
    for t in range(1, steps + 1):
        u, v, _ = chain_gd_numpy(X, y, u, v, eta, 1)
        n = np.sqrt(np.sum((W.T @ u) ** 2) + np.sum(v ** 2))
        if not n <= thr:
            return t
    return None


@pytest.mark.parametrize("batch", [None, 3])
def test_divergence_is_detected_with_its_step(batch):
    X, y = _data(6, 3, 0)
    u, v = init_chain(3, 3, 1.0, seed=0)
    S = chain_observables(X, y, u, v)["sharpness"]
    with np.errstate(all="ignore"):
        run = run_chain(X, y, 3, 8.0 / S, 500, batch=batch, u0=u, v0=v, threshold=1e3)
    assert run.diverged and isinstance(run.diverged_at, int)
    assert run.steps[-1] < run.diverged_at and len(run.steps) == run.diverged_at
    assert np.all(np.isfinite(run.records["loss"]))
    if batch is None:
        with np.errstate(all="ignore"):
            assert run.diverged_at == _first_exceed(X, y, u, v, 8.0 / S, 500, 1e3)
    small = run_chain(X, y, 3, 1e-3, 10, u0=u, v0=v, threshold=1e-3)
    assert small.diverged_at == 0 and len(small.steps) == 0
    with np.errstate(all="ignore"):
        nan = run_chain(X, y, 3, 1e200, 10, u0=u, v0=v, threshold=1e300)
    assert nan.diverged_at == 1


# ----------------------------------------------------------------------------- errors and extras

@pytest.mark.parametrize("kwargs, words", [
    (dict(depth=1), ["depth", "1"]),
    (dict(eta=0.0), ["eta", "0.0"]),
    (dict(eta=-0.1), ["eta", "-0.1"]),
    (dict(eta=float("nan")), ["eta", "nan"]),
    (dict(eta=float("inf")), ["eta", "inf"]),
    (dict(steps=-1), ["steps", "-1"]),
    (dict(steps=2.5), ["steps", "2.5"]),
    (dict(record_every=0), ["record_every", "0"]),
    (dict(batch=0), ["batch", "0"]),
    (dict(batch=9), ["batch", "N = 8", "9"]),
    (dict(dtype="float16"), ["dtype", "float16"]),
    (dict(threshold=-1.0), ["threshold", "-1.0"]),
    (dict(u0=np.ones(2)), ["u0", "3"]),
    (dict(v0=np.ones(3)), ["v0", "1"]),
    (dict(y=np.ones(7)), ["7", "8"]),
    (dict(X=np.ones(8)), ["X", "2-D"]),
    (dict(X=np.where(np.arange(24).reshape(8, 3) == 10, np.nan, 1.0)), ["X contains NaN at row 3"]),
    (dict(y=np.array([0, 0, np.inf, 0, 0, 0, 0, 0.0])), ["y contains inf at row 2"]),
    (dict(X=np.zeros((8, 3))), ["rank 0"]),
])
def test_run_errors(kwargs, words):
    args = dict(X=np.arange(24.0).reshape(8, 3) % 5, y=np.ones(8), depth=2, eta=0.1, steps=3)
    args.update(kwargs)
    with pytest.raises(DynamicsError) as exc:
        run_chain(**args)
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_config_and_result_fields():
    ds = make_dataset("spectrum", samples=20, dim=6, spectrum=[2, 1, 0.5], seed=0)
    run = run_chain(ds.X, ds.y, 3, 0.1, 10, batch=4, record_every=5)
    assert isinstance(run, ChainRun) and run.seconds > 0
    c = run.config
    assert c["method"] == "sgd" and c["batch"] == 4 and c["depth"] == 3 and c["eta"] == 0.1
    assert c["data"]["rank"] == 3 and c["data"]["Q"] == pytest.approx(ds.meta["Q"])
    assert {"numpy", "numba"} <= set(c["versions"])
    assert run.final_u.shape == (6,) and run.final_v.shape == (2,)


def test_progress_bar(capsys):
    X, y = _data(10, 3, 0)
    run = run_chain(X, y, 2, 0.01, 500, record_every=100, progress=True)
    assert len(run.steps) == 6
    assert "500" in capsys.readouterr().err


def test_chain_svd_model_compiles_the_same_gd_map():
    from symsharp.codegen.maps import gd_kernel
    from symsharp.models.chain.dynamics import chain_svd_model

    X, y = _data(7, 3, 9)
    m = chain_svd_model(X, y, 3)
    k = gd_kernel(m)
    E, s, W = svd_coordinates(X)
    u, v = init_chain(3, 3, 1.0, seed=0)
    eta = _safe_eta(X, y, u, v)
    tr = k.iterate(np.r_[W.T @ u, v], [eta], steps=50)
    run = run_chain(X, y, 3, eta, 50, u0=u, v0=v)
    np.testing.assert_allclose(tr.x[0], np.r_[W.T @ run.final_u, run.final_v], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(k.observe(tr.x, [eta])["loss"][0], run.records["loss"][-1], rtol=1e-10)
    with pytest.raises(DynamicsError, match="max_rank"):
        chain_svd_model(*_data(20, 12, 0), 2)


def test_precomputed_svd_gives_the_same_run():
    X, y = _data(9, 5, 4)
    svd = svd_coordinates(X)
    a = run_chain(X, y, 3, 0.05, 20, seed=1)
    b = run_chain(X, y, 3, 0.05, 20, seed=1, svd=svd)
    np.testing.assert_array_equal(a.records["loss"], b.records["loss"])
    assert chain_observables(X, y, a.final_u, a.final_v, svd=svd)["loss"] == pytest.approx(a.records["loss"][-1])
    with pytest.raises(DynamicsError, match="svd must be"):
        run_chain(X, y, 3, 0.05, 20, svd=svd_coordinates(X.T))
