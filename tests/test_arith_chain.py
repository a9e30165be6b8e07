"""Chain-model GD in raw coordinates, every arithmetic from one generic step: bit-exact against
NumPy scalar loops of the same operation order (float64, float32, float16, bfloat16), against
mpmath at high precision (double-double), MPFR against mpmath at equal bits."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

from symsharp.codegen.arith import ChainGD
from symsharp.codegen.common import CodegenError


def _bf16(v):
    b = np.array([v], np.float32).view(np.uint32).astype(np.uint64)[0]
    keep, drop = b >> 16, b & 0xFFFF
    if drop > 0x8000 or (drop == 0x8000 and keep & 1):
        keep += 1
    return np.array([keep << 16], np.uint64).astype(np.uint32).view(np.float32)[0]


def numpy_gd(X, y, u, v, eta, steps, cast, rnd=lambda z: z):
    """The documented order of operations with NumPy scalars (cast: the dtype; rnd: rounding
    after each float32 operation for bfloat16)."""
    X = [[cast(a) for a in row] for row in X]
    y = [cast(a) for a in y]
    u = [cast(a) for a in u]
    v = [cast(a) for a in v]
    eta = cast(eta)
    N = cast(len(y))
    d = len(u)
    for _ in range(steps):
        P = v[0]
        for w in v[1:]:
            P = rnd(P * w)
        PN = rnd(P / N)
        s, r = [], []
        for j in range(len(y)):
            acc = rnd(X[j][0] * u[0])
            for k in range(1, d):
                acc = rnd(acc + rnd(X[j][k] * u[k]))
            s.append(acc)
            r.append(rnd(rnd(acc * P) - y[j]))
        a = []
        for k in range(d):
            acc = rnd(r[0] * X[0][k])
            for j in range(1, len(y)):
                acc = rnd(acc + rnd(r[j] * X[j][k]))
            a.append(acc)
        b = rnd(r[0] * s[0])
        for j in range(1, len(y)):
            b = rnd(b + rnd(r[j] * s[j]))
        E = []
        for l in range(len(v)):
            others = [v[m] for m in range(len(v)) if m != l]
            e = others[0] if others else cast(1)
            for w in others[1:]:
                e = rnd(e * w)
            E.append(e)
        u = [rnd(u[k] - rnd(eta * rnd(PN * a[k]))) for k in range(d)]
        bn = rnd(b / N)
        v = [rnd(v[l] - rnd(eta * rnd(bn * E[l]))) for l in range(len(v))]
    return np.array([float(t) for t in u]), np.array([float(t) for t in v])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    y = rng.standard_normal(5)
    u0 = rng.standard_normal((3, 3)) * 0.3
    v0 = rng.standard_normal((3, 2)) * 0.3
    return X, y, u0, v0


@pytest.mark.parametrize("fmt, cast, rnd", [
    ("float64", np.float64, None), ("float32", np.float32, None), ("float16", np.float16, None),
    ("bfloat16", lambda a: _bf16(np.float32(a)), _bf16)])
@pytest.mark.parametrize("depth", [2, 3])
def test_chain_gd_bit_exact_against_numpy(data, fmt, cast, rnd, depth):
    X, y, u0, v0 = data
    v0 = v0[:, :depth - 1]
    cg = ChainGD(X, y, depth, fmt)
    r = cg.run(u0, v0, [0.05, 0.2, 0.3], 40, threshold=1e30)
    for b, eta in enumerate([0.05, 0.2, 0.3]):
        with np.errstate(all="ignore"):
            u, v = numpy_gd(X, y, u0[b], v0[b], eta, 40, cast, rnd or (lambda z: z))
        assert np.array_equal(r.u[b], u, equal_nan=True) and np.array_equal(r.v[b], v, equal_nan=True), (fmt, b)


def test_chain_double_double_against_mpmath(data):
    X, y, u0, v0 = data
    r = ChainGD(X, y, 2, "dd").run(u0, v0[:, :1], 0.2, 25)
    with mpmath.workprec(400):
        for b in range(3):
            Xm = [[mpmath.mpf(float(a)) for a in row] for row in X]
            ym = [mpmath.mpf(float(a)) for a in y]
            u = [mpmath.mpf(float(a)) for a in u0[b]]
            v = mpmath.mpf(float(v0[b, 0]))
            eta = mpmath.mpf(0.2)
            for _ in range(25):
                s = [sum(Xm[j][k] * u[k] for k in range(3)) for j in range(5)]
                res = [s[j] * v - ym[j] for j in range(5)]
                gu = [v / 5 * sum(res[j] * Xm[j][k] for j in range(5)) for k in range(3)]
                gv = sum(res[j] * s[j] for j in range(5)) / 5
                u = [u[k] - eta * gu[k] for k in range(3)]
                v = v - eta * gv
            for k in range(3):
                got = mpmath.mpf(r.u[b, k]) + mpmath.mpf(r.u_lo[b, k])
                assert abs(got - u[k]) <= 1e-28 * max(1, abs(u[k]))
            assert abs(mpmath.mpf(r.v[b, 0]) + mpmath.mpf(r.v_lo[b, 0]) - v) <= 1e-28 * max(1, abs(v))
    # the low words carry the rest: compare a float64 run, which differs by far more
    r64 = ChainGD(X, y, 2, "float64").run(u0, v0[:, :1], 0.2, 25)
    assert not np.array_equal(r64.u, r.u)


def test_mpfr_and_mp_run_the_same_operations(data):
    X, y, u0, v0 = data
    a = ChainGD(X, y, 3, "mpfr:120").run(u0, v0, 0.2, 30, record_every=10)
    b = ChainGD(X, y, 3, "mp:120").run(u0, v0, 0.2, 30, record_every=10)
    assert np.array_equal(a.records, b.records)
    c = ChainGD(X, y, 3, "mpfr:53").run(u0, v0, 0.2, 30)
    d = ChainGD(X, y, 3, "float64").run(u0, v0, 0.2, 30)
    assert np.array_equal(c.u, d.u) and np.array_equal(c.v, d.v)  # MPFR at 53 bits = IEEE double here


def test_chain_batch_independence_divergence_and_noise(data):
    X, y, u0, v0 = data
    rng = np.random.default_rng(5)
    B = 23
    U = rng.standard_normal((B, 3)) * 0.3
    V = rng.standard_normal((B, 1)) * 0.3
    eta = rng.uniform(0.05, 3.0, B)
    ids = np.arange(B) * 7
    cg = ChainGD(X, y, 2, "float16", rounding="stochastic")
    a = cg.run(U, V, eta, 200, seed=3, traj_ids=ids, tile=8)
    perm = rng.permutation(B)
    b = cg.run(U[perm], V[perm], eta[perm], 200, seed=3, traj_ids=ids[perm], tile=64)
    assert np.array_equal(a.u[perm], b.u, equal_nan=True) and np.array_equal(a.diverged_at[perm], b.diverged_at)
    # divergence = a parameter beyond the threshold at a check, as in a float64 replay
    f64 = ChainGD(X, y, 2, "float64")
    r = f64.run(U, V, eta, 200, threshold=1e4, check_every=5, record_every=1)
    assert r.diverged.any() and not r.diverged.all()
    for i in np.flatnonzero(r.diverged):
        big = np.flatnonzero(np.any(np.abs(r.records[:, i, :]) > 1e4, axis=1))
        assert r.diverged_at[i] == -(-big[0] // 5) * 5
    # injected noise: relative size 2^-p, seeded
    n1 = f64.run(U[:3], V[:3], 0.01, 1, noise_bits=30, seed=1)
    n0 = f64.run(U[:3], V[:3], 0.01, 1)
    rel = np.abs(n1.u - n0.u) / np.abs(n0.u)
    assert np.all(rel <= 2.0 ** -30 * (1 + 1e-9)) and np.any(rel > 0)


def test_chain_errors():
    X = np.ones((3, 2))
    y = np.ones(3)
    for kw in ({"depth": 1}, {"depth": 2, "arith": "arb:64"}, {"depth": 2, "arith": "float64", "rounding": "stochastic"}):
        with pytest.raises(CodegenError):
            ChainGD(X, y, **kw)
    with pytest.raises(CodegenError):
        ChainGD(np.ones((3, 2)), np.ones(4), 2)
    with pytest.raises(CodegenError):
        ChainGD(X, y, 2).run(np.ones((2, 3)), np.ones((2, 1)), 0.1, 1)
