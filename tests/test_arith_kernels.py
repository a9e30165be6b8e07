"""Batched Numba kernels of the UV function-space map in float64, float32, emulated float16 /
bfloat16 and double-double, against independent computations: NumPy scalar loops (float16 and
bfloat16 replays of the same operation order), hand-written NumPy loops, MPFR at 53 bits and
mpmath at high precision."""
from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from symsharp.codegen.arith import build_program, compile_arith_map, scalar_map
from symsharp.codegen.common import CodegenError

PARAMS = {"eta": "15", "a": "0.01", "y": "1"}


@pytest.fixture(scope="module")
def uv():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    by = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return red.step, [f, lam], [by["eta"], by["a"], by["y"]]


def _bf16(v):
    """Round to bfloat16 (nearest, ties to even) by integer arithmetic on the float32 bits."""
    b = np.array([v], np.float32).view(np.uint32).astype(np.uint64)[0]
    keep, drop = b >> 16, b & 0xFFFF
    if drop > 0x8000 or (drop == 0x8000 and keep & 1):
        keep += 1
    return np.array([keep << 16], np.uint64).astype(np.uint32).view(np.float32)[0]


def replay(prog, x, p, dtype, steps, rnd=None):
    """Run a program with NumPy scalars of ``dtype`` (every operation rounded by NumPy), or in
    float32 with the rounding function ``rnd`` after each operation.  Returns (steps+1, k)."""
    cast = (lambda v: rnd(np.float32(v))) if rnd else dtype
    consts = [cast(float(c)) for c in prog.consts]
    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b}
    env = {f"p{j}": cast(float(Fraction(v))) for j, v in enumerate(p)}
    env.update({f"c{j}": c for j, c in enumerate(consts)})

    def run(section):
        for op in section:
            a = [env[r] for r in op.args]
            if op.kind == "neg":
                env[op.dst] = -a[0]
            else:
                v = ops[op.kind](*a)
                env[op.dst] = rnd(np.float32(v)) if rnd else v

    run(prog.hoisted)
    xs = [cast(float(Fraction(v))) for v in x]
    out = [list(map(float, xs))]
    for _ in range(steps):
        env.update({f"x{i}": v for i, v in enumerate(xs)})
        run(prog.hot)
        xs = [env[r] for r in prog.outputs]
        out.append(list(map(float, xs)))
    return np.array(out)


@pytest.mark.parametrize("fmt, dtype, rnd", [("float64", np.float64, None), ("float32", np.float32, None),
                                             ("float16", np.float16, None), ("bfloat16", None, _bf16)])
@pytest.mark.parametrize("eta", ["11", "15"])
def test_kernel_equals_numpy_replay_bit_for_bit(uv, fmt, dtype, rnd, eta):
    step, state, params = uv
    prog = build_program([step[s] for s in state], state, params)
    km = compile_arith_map(step, state, params, fmt, name="uv_test")
    p = [eta, "0.01", "1"]
    for x0 in (["0", "0.1"], ["0.3", "0.2"]):
        r = km.iterate([x0], p, steps=60, record_every=1, threshold=1e30, check_every=1)
        with np.errstate(all="ignore"):
            ref = replay(prog, x0, p, dtype, 60, rnd)
        got = r.records[:, 0, :]
        # a diverged trajectory stops its tile: compare up to the divergence step
        T = 61 if r.diverged_at[0] < 0 else r.diverged_at[0] + 1
        same = (got[:T] == ref[:T]) | (np.isnan(got[:T]) & np.isnan(ref[:T]))
        assert same.all(), (fmt, eta, x0, np.flatnonzero(~same.all(axis=1))[:3])
        if r.diverged_at[0] >= 0:
            assert not np.all(np.abs(ref[T - 1]) <= 1e30) and np.all(np.abs(ref[T - 2]) <= 1e30)


def test_float16_kernel_against_hand_written_numpy_loop():
    x, a, c = sp.symbols("x a c", real=True)
    km = compile_arith_map({x: a * x ** 2 + c}, [x], [a, c], "float16", name="quad_test")
    r = km.iterate([["0.1"], ["0.7"], ["-1.3"]], ["1", "-1.9"], steps=200, record_every=1)
    for b, x0 in enumerate(("0.1", "0.7", "-1.3")):
        v = np.float16(float(Fraction(x0)))
        A, C = np.float16(1.0), np.float16(-1.9)
        for t in range(1, 201):
            v = A * (v * v) + C  # NumPy rounds each float16 operation
            assert r.records[t, b, 0] == float(v), (x0, t)


def test_float64_kernel_equals_mpfr_53(uv):
    """Same operations, each correctly rounded to 53 bits: MPFR at 53 bits gives the same bits."""
    step, state, params = uv
    km = compile_arith_map(step, state, params, "float64", name="uv_test")
    sm = scalar_map(step, state, params, "mpfr:53", name="uv_test")
    for eta in ("11", "15"):
        p = [eta, "0.01", "1"]
        r = km.iterate([["0", "0.1"]], p, steps=300, record_every=1)
        o = sm.orbit(["0", "0.1"], p, 300)
        ref = np.array([[float(v) for v in col] for col in o.records]).T
        assert np.array_equal(r.records[:, 0, :], ref)


def test_double_double_against_mpmath(uv):
    step, state, params = uv
    km = compile_arith_map(step, state, params, "dd", name="uv_test")
    f = sp.lambdify(state + params, [step[s] for s in state], modules="mpmath")
    rng = np.random.default_rng(1)
    x0 = np.column_stack([rng.uniform(0, 1.5, 20), rng.uniform(0.05, 0.3, 20)])
    r = km.iterate(x0, ["11", "0.01", "1"], steps=1, record_every=1)
    with mpmath.workprec(600):
        p = [mpmath.mpf(11), mpmath.mpf(1) / 100, mpmath.mpf(1)]
        for b in range(20):
            exact = f(mpmath.mpf(x0[b, 0]), mpmath.mpf(x0[b, 1]), *p)
            for i in range(2):
                got = mpmath.mpf(r.records[1, b, i]) + mpmath.mpf(r.records_lo[1, b, i])
                assert abs(got - exact[i]) <= mpmath.mpf(2) ** -98 * max(1, abs(exact[i])), (b, i)
    # along a chaotic orbit the error grows like exp(λ t) from ~2^-106
    r = km.iterate([["0", "0.1"]], ["15", "0.01", "1"], steps=40, record_every=1)
    with mpmath.workprec(4096):
        x = [mpmath.mpf(0), mpmath.mpf(1) / 10]
        p = [mpmath.mpf(15), mpmath.mpf(1) / 100, mpmath.mpf(1)]
        for t in range(1, 41):
            x = f(*x, *p)
            got = mpmath.mpf(r.records[t, 0, 0]) + mpmath.mpf(r.records_lo[t, 0, 0])
            assert abs(got - x[0]) <= mpmath.mpf(2) ** -100 * mpmath.e ** (0.6 * t) * max(1, abs(x[0])), t


@pytest.mark.parametrize("fmt, rounding", [("float16", "stochastic"), ("float64", "nearest")])
def test_results_do_not_depend_on_batch_position_or_tiling(uv, fmt, rounding):
    step, state, params = uv
    km = compile_arith_map(step, state, params, fmt, rounding=rounding, name="uv_test")
    rng = np.random.default_rng(4)
    B = 37
    x0 = np.column_stack([rng.uniform(0, 1.5, B), rng.uniform(0.05, 0.3, B)])
    P = np.column_stack([rng.uniform(10, 16, B), np.full(B, 0.01), np.ones(B)])
    ids = np.arange(100, 100 + B)
    a = km.iterate(x0, P, steps=300, seed=9, traj_ids=ids, tile=16)
    perm = rng.permutation(B)
    b = km.iterate(x0[perm], P[perm], steps=300, seed=9, traj_ids=ids[perm], tile=512)
    assert np.array_equal(a.x[perm], b.x, equal_nan=True)
    assert np.array_equal(a.diverged_at[perm], b.diverged_at)
    if rounding == "stochastic":
        c = km.iterate(x0, P, steps=300, seed=10, traj_ids=ids, tile=16)
        assert not np.array_equal(a.x, c.x, equal_nan=True)


def test_divergence_flag_uses_threshold_at_checks(uv):
    step, state, params = uv
    km = compile_arith_map(step, state, params, "float64", name="uv_test")
    r = km.iterate([["0", "0.1"], ["0", "0.1"]], [["20", "0.01", "1"], ["11", "0.01", "1"]], steps=400,
                   record_every=1, threshold=1e3, check_every=8)
    assert r.diverged.tolist() == [True, False] and r.diverged_at[1] == -1
    big = np.flatnonzero(~np.all(np.abs(r.records[:, 0, :]) <= 1e3, axis=1))
    first_check = [t for t in range(8, 401, 8) if t >= big[0]][0]
    assert r.diverged_at[0] == first_check


def test_injected_noise_is_seeded_and_of_the_requested_size(uv):
    step, state, params = uv
    km = compile_arith_map(step, state, params, "float64", name="uv_test")
    p = ["11", "0.01", "1"]
    plain = km.iterate([["0.5", "0.1"]], p, steps=1)
    n1 = km.iterate([["0.5", "0.1"]], p, steps=1, noise_bits=20, seed=3)
    n2 = km.iterate([["0.5", "0.1"]], p, steps=1, noise_bits=20, seed=3)
    n3 = km.iterate([["0.5", "0.1"]], p, steps=1, noise_bits=20, seed=4)
    assert np.array_equal(n1.x, n2.x) and not np.array_equal(n1.x, n3.x)
    rel = np.abs(n1.x - plain.x) / np.abs(plain.x)
    assert np.all(rel <= 2.0 ** -20 * (1 + 1e-9)) and np.any(rel > 2.0 ** -30)


def test_kernel_errors_are_one_sentence(uv):
    step, state, params = uv
    for kw in ({"arith": "float64", "rounding": "stochastic"}, {"arith": "mpfr:64"}, {"arith": "float8"},
               {"arith": "float64", "name": "bad name!"}):
        with pytest.raises(CodegenError) as e:
            compile_arith_map(step, state, params, **kw)
        assert "\n" not in str(e.value)
    x = sp.Symbol("x", real=True)
    with pytest.raises(CodegenError):
        compile_arith_map({x: sp.exp(x)}, [x], [], "dd", name="exp_dd")


def test_division_square_root_abs_max_in_double_double_and_balls():
    """A map with ÷, √, |·| and max: double-double against mpmath; MPFR and arb steps too."""
    x, y, a = sp.symbols("x y a", real=True)
    step = {x: sp.sqrt(x + a) / (1 + y ** 2) + sp.Rational(1, 3), y: sp.Abs(x - y) / 3 - sp.Max(x, y) / 7}
    f = sp.lambdify([x, y, a], [step[x], step[y]], modules="mpmath")
    rng = np.random.default_rng(0)
    X0 = np.column_stack([rng.uniform(0, 2, 40), rng.uniform(-1, 1, 40)])
    r = compile_arith_map(step, [x, y], [a], "dd", name="divsqrt_test").iterate(X0, ["0.3"], steps=1, record_every=1)
    sm = scalar_map(step, [x, y], [a], "mpfr:200", name="divsqrt_test")
    ball = scalar_map(step, [x, y], [a], "arb:200", name="divsqrt_test")
    import flint

    with mpmath.workprec(500):
        for b in range(40):
            exact = f(mpmath.mpf(X0[b, 0]), mpmath.mpf(X0[b, 1]), mpmath.mpf(3) / 10)
            m = sm.step([float(X0[b, 0]), float(X0[b, 1])], ["0.3"])
            z = ball.step([float(X0[b, 0]), float(X0[b, 1])], ["0.3"])
            for i in range(2):
                got = mpmath.mpf(r.records[1, b, i]) + mpmath.mpf(r.records_lo[1, b, i])
                assert abs(got - exact[i]) <= mpmath.mpf(2) ** -100 * max(1, abs(exact[i]))
                assert abs(mpmath.mpf(m[i].as_integer_ratio()[0]) / m[i].as_integer_ratio()[1] - exact[i]) \
                    <= mpmath.mpf(2) ** -195 * max(1, abs(exact[i]))
                lo, hi = z[i].lower(), z[i].upper()
                with flint.ctx.workprec(500):
                    assert mpmath.mpf(lo.str(200, radius=False)) - mpmath.mpf(2) ** -190 <= exact[i]
                    assert exact[i] <= mpmath.mpf(hi.str(200, radius=False)) + mpmath.mpf(2) ** -190


def test_nans_in_a_bfloat16_kernel_stay_nan():
    """The bfloat16 kernels round without a NaN test (valid because every NaN they see has zero low
    bits): a NaN made by √ of a negative number, and an input NaN with an arbitrary payload, stay NaN
    at every step, while the finite trajectory next to them is the bfloat16 replay."""
    x = sp.Symbol("x", real=True)
    k = compile_arith_map({x: sp.sqrt(x + 2) - 1}, [x], [], "bfloat16", name="sqrt_nan_test")
    odd_nan = np.array([0x7FF800012345FFFF], np.uint64).view(np.float64)[0]
    r = k.iterate(np.array([[-3.0], [4.0], [odd_nan], [-2.5]]), steps=6, record_every=1, threshold=1e30)
    rec = r.records[:, :, 0]  # (steps + 1, batch)
    assert np.isnan(rec[1:, 0]).all()  # −3 → √(−1) − 1 = NaN → NaN …
    assert np.isnan(rec[:, 2]).all() and np.isnan(rec[1:, 3]).all()
    v, expect = np.float32(4.0), [4.0]
    for _ in range(6):
        with np.errstate(invalid="ignore"):
            v = _bf16(_bf16(np.sqrt(_bf16(v + np.float32(2)))) - np.float32(1))
        expect.append(float(v))
    assert np.array_equal(rec[:, 1], expect, equal_nan=True)
    assert r.diverged[[0, 2, 3]].all() and not r.diverged[1]
