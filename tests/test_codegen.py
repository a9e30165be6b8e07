"""Generated kernels against independent evaluations: lambdify + NumPy, finite differences,
hand-written parameter-space GD, dense eigensolvers; the on-disk cache across processes."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.codegen import CodegenError, cached_map, compile_map, gd_kernel
from symsharp.models.uv.system import uv_function_space_kernel
from symsharp.models import custom_model, uv_model
from symsharp.symbolic.calculus import gd_map
from symsharp.symbolic.reduction import reduce_map

FLOAT = dict(allow_nan=False, allow_infinity=False)
# absolute slack for products that underflow into the subnormal range
TINY = 1e-300


# ----------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def uv_reduced():
    """The UV function-space map, derived here independently of the kernel recipe."""
    red = reduce_map(uv_model(3, 2))
    assert red.closes
    return red


@pytest.fixture(scope="module")
def uv64():
    return uv_function_space_kernel(dtype="float64")


@pytest.fixture(scope="module")
def uv32():
    return uv_function_space_kernel(dtype="float32")


def _syms(red):
    names = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return [names["f"], names["lam"]], [names["eta"], names["a"], names["y"]]


def lamb(args, exprs):
    fns = [sp.lambdify(args, e, modules="numpy") for e in exprs]
    return lambda *v: np.stack([np.broadcast_to(np.asarray(f(*v), dtype=float), np.shape(v[0])) for f in fns], -1)


def lamb_scale(args, exprs):
    """Σ_terms |term| of each expanded expression, evaluated numerically: the natural scale of
    rounding errors in evaluating it (the sign of each term is taken after evaluation, so
    symbol assumptions such as lam >= 0 play no role)."""
    per = [[sp.lambdify(args, t, modules="numpy") for t in sp.Add.make_args(sp.expand(e))] for e in exprs]

    def scale(*v):
        return np.stack([sum(np.broadcast_to(np.abs(np.asarray(f(*v), dtype=float)), np.shape(v[0])) for f in fs)
                         for fs in per], -1)

    return scale


def uv_points(draw_list):
    arr = np.array(draw_list, dtype=float)
    x = arr[:, :2]
    p = arr[:, 2:]
    return x, p


POINT = st.tuples(st.floats(-3, 3, **FLOAT), st.floats(0, 6, **FLOAT), st.floats(0.01, 2, **FLOAT),
                  st.floats(0.05, 2, **FLOAT), st.floats(-2, 2, **FLOAT))


# ----------------------------------------------------------------------------- agreement with lambdify

@settings(max_examples=examples(40), deadline=None)
@given(st.lists(POINT, min_size=1, max_size=40))
def test_uv_iterate_float64_matches_lambdify_per_step(uv_reduced, uv64, pts):
    """Every step of a short kernel trajectory equals lambdify(F) at the previous recorded state
    to a few ulps of the natural scale Σ|terms| (both are IEEE evaluations of the same map)."""
    state, params = _syms(uv_reduced)
    exprs = [uv_reduced.step[s] for s in state]
    F = lamb(state + params, exprs)
    S = lamb_scale(state + params, exprs)
    x0, p = uv_points(pts)
    run = uv64.iterate(x0, p, steps=6, record_every=1, record_from=0, threshold=1e300)
    rec = run.records  # (7, B, 2)
    eps = np.finfo(np.float64).eps
    for t in range(6):
        args = [rec[t, :, 0], rec[t, :, 1]] + [p[:, j] for j in range(3)]
        ok = np.all(np.isfinite(rec[t]), axis=1) & np.all(np.abs(rec[t]) < 1e30, axis=1)
        with np.errstate(all="ignore"):  # the reference also runs on escaped states (masked by ok)
            ref, scale = F(*args), S(*args)
            err = np.abs(rec[t + 1] - ref)[ok]
        assert np.all(err <= 8 * eps * scale[ok] + TINY), (t, np.max(err / (eps * scale[ok] + 1e-300)))


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(POINT, min_size=1, max_size=40))
def test_uv_step_jacobian_observables_match_lambdify(uv_reduced, uv64, pts):
    state, params = _syms(uv_reduced)
    exprs = [uv_reduced.step[s] for s in state]
    x, p = uv_points(pts)
    args = [x[:, 0], x[:, 1]] + [p[:, j] for j in range(3)]
    eps = np.finfo(np.float64).eps
    out = uv64.step(x, p)
    ref, scale = lamb(state + params, exprs)(*args), lamb_scale(state + params, exprs)(*args)
    assert np.all(np.abs(out - ref) <= 8 * eps * scale + TINY)
    J = sp.Matrix(exprs).jacobian(state)
    jref = lamb(state + params, list(J))(*args).reshape(-1, 2, 2)
    jscale = lamb_scale(state + params, list(J))(*args).reshape(-1, 2, 2)
    assert np.all(np.abs(uv64.jacobian(x, p) - jref) <= 8 * eps * jscale + TINY)
    obs = uv64.observe(x, p)
    assert np.allclose(obs["loss"], 0.5 * (x[:, 0] - p[:, 2]) ** 2, rtol=4 * eps, atol=0)
    assert np.array_equal(obs["residual"], x[:, 0] - p[:, 2])
    assert set(obs) == {"loss", "residual", "sharpness", "invariant"}
    # the GF invariant of the reduced map (derived): constant along the reduced gradient-flow field
    inv = obs["invariant"]
    assert np.allclose(np.abs(inv), np.abs(x[:, 1] ** 2 - 4 * p[:, 1] * x[:, 0] ** 2), rtol=1e-12, atol=1e-12)


def test_float32_kernel_computes_in_float32(uv_reduced, uv32, uv64):
    """Errors of the float32 kernel are those of float32 arithmetic: within a few float32 ulps of
    the exact map, and visibly larger than rounding a float64 result once."""
    state, params = _syms(uv_reduced)
    exprs = [uv_reduced.step[s] for s in state]
    rng = np.random.default_rng(7)
    B = 4000
    x = np.stack([rng.uniform(-2, 2, B), rng.uniform(0, 5, B)], 1).astype(np.float32)
    p = np.stack([rng.uniform(0.05, 1.5, B), rng.uniform(0.1, 2, B), rng.uniform(-2, 2, B)], 1).astype(np.float32)
    args = [x[:, 0].astype(float), x[:, 1].astype(float)] + [p[:, j].astype(float) for j in range(3)]
    ref = lamb(state + params, exprs)(*args)
    scale = lamb_scale(state + params, exprs)(*args)
    out = uv32.step(x, p)
    assert out.dtype == np.float32
    eps32 = float(np.finfo(np.float32).eps)
    err = np.abs(out.astype(float) - ref)
    assert np.all(err <= 16 * eps32 * scale)
    # a float64 evaluation rounded to float32 would be within half an ulp everywhere
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(float)
    assert np.max(err / ulp) > 1.0
    run = uv32.iterate(x, p, steps=3)
    assert run.x.dtype == np.float32
    # every float constant in the float32 kernels is a float32 literal (the Lyapunov kernel's
    # running product of tangent norms is a float64 accumulator by design)
    src = uv32.source
    body = "\n".join(ln for ln in src[src.index("@nb.njit"):].splitlines() if "prod[" not in ln)
    for mt in re.finditer(r"(?<![\w.])\d+\.\d*(?:e[-+]?\d+)?", body):
        assert body[:mt.start()].endswith("np.float32("), body[max(0, mt.start() - 60):mt.end()]


def test_nonpolynomial_map_printer(tmp_path):
    """Elementary functions, π and square roots print to math calls; values match lambdify."""
    m = custom_model(loss="log(cosh(w - c)) + exp(-w**2)/2 + sin(pi*w)/7 + sqrt(1 + w**2) + atan(w)**2",
                     params=["w"])
    k = gd_kernel(m)
    expr = list(gd_map(m).values())[0]
    syms = {s.name: s for s in expr.free_symbols}
    args = [syms["w"], syms["eta"], syms["c"]]
    assert k.params == ("eta", "c")
    f = sp.lambdify(args, expr, modules="numpy")
    rng = np.random.default_rng(3)
    W, E, C = rng.uniform(-3, 3, 500), rng.uniform(0.01, 1, 500), rng.uniform(-1, 1, 500)
    out = k.step(W[:, None], np.stack([E, C], 1))[:, 0]
    assert np.allclose(out, f(W, E, C), rtol=1e-13, atol=1e-13)
    assert "math.cosh" in k.source and "math.sqrt" in k.source and "math.atan" in k.source


def test_jacobian_matches_finite_differences(uv64):
    rng = np.random.default_rng(11)
    x = np.stack([rng.uniform(-1, 1, 50), rng.uniform(0.1, 3, 50)], 1)
    p = np.stack([rng.uniform(0.1, 1, 50), rng.uniform(0.2, 1.5, 50), rng.uniform(-1, 1, 50)], 1)
    h = 1e-5
    J = uv64.jacobian(x, p)
    for b in range(2):
        e = np.zeros(2)
        e[b] = h
        fd = (uv64.step(x + e, p) - uv64.step(x - e, p)) / (2 * h)
        assert np.allclose(J[:, :, b], fd, rtol=1e-7, atol=1e-7)


def test_sharpness_observable_matches_dense_hessian(uv64):
    """The sharpness observable equals the top eigenvalue of the parameter-space Hessian of
    ½(f − y)², built by hand in NumPy, at random (U, v, x, y)."""
    rng = np.random.default_rng(5)
    n, d = 3, 2
    for _ in range(20):
        U, v, x, y = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d), rng.normal()
        c = 1 / np.sqrt(n)
        f = c * v @ U @ x
        gU = c * np.outer(v, x).ravel()
        gv = c * U @ x
        g = np.concatenate([gU, gv])
        M = np.zeros((n * d + n, n * d + n))
        for i in range(n):
            for j in range(d):
                M[i * d + j, n * d + i] = M[n * d + i, i * d + j] = c * x[j]
        H = np.outer(g, g) + (f - y) * M
        lam, a = g @ g, x @ x / n
        S = uv64.observe([f, lam], [0.3, a, y])["sharpness"]
        assert np.isclose(S, np.linalg.eigvalsh(H)[-1], rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- reduced map vs parameter space

def _param_space_gd(U, v, x, y, eta, steps):
    n = len(v)
    c = 1 / np.sqrt(n)
    fs, ls = [], []
    for _ in range(steps + 1):
        f = c * v @ U @ x
        fs.append(f)
        ls.append(c * c * (v @ v * x @ x + np.sum((U @ x) ** 2)))
        r = f - y
        gU, gv = r * c * np.outer(v, x), r * c * (U @ x)
        U, v = U - eta * gU, v - eta * gv
    return np.array(fs), np.array(ls)


def _uv_case(seed, eta_lam):
    rng = np.random.default_rng(seed)
    n, d = 3, 2
    U, v, x = rng.normal(size=(n, d)) * 0.6, rng.normal(size=n) * 0.6, rng.normal(size=d)
    y = 0.0 if seed == 0 else rng.normal() * 0.5
    f0 = v @ U @ x / np.sqrt(n)
    lam0 = (v @ v * x @ x + np.sum((U @ x) ** 2)) / n
    eta = eta_lam / lam0
    return U, v, x, y, f0, lam0, eta, x @ x / n


@pytest.mark.parametrize("seed", [0, 2, 3])
@pytest.mark.parametrize("eta_lam", [0.5, 1.5, 2.6, 3.4])
def test_reduced_uv_agrees_with_parameter_space_gd(uv64, uv32, seed, eta_lam):
    """(f, λ) from the function-space kernel follow the parameter-space GD of U (3×2), v (3):
    lazy (ηλ₀ < 2) and catapult (2 < ηλ₀ < 4) starts, with y = 0 and y ≠ 0."""
    U, v, x, y, f0, lam0, eta, a = _uv_case(seed, eta_lam)
    fs, ls = _param_space_gd(U, v, x, y, eta, 50)
    run = uv64.iterate([f0, lam0], [eta, a, y], steps=50, record_every=1, record_from=0)
    assert not run.diverged[0]
    traj = run.records[:, 0, :]
    scale = max(1.0, np.max(np.abs(ls)))
    assert np.allclose(traj[:, 0], fs, rtol=0, atol=1e-9 * scale)
    assert np.allclose(traj[:, 1], ls, rtol=0, atol=1e-9 * scale)
    run32 = uv32.iterate([f0, lam0], [eta, a, y], steps=20, record_every=1, record_from=0)
    assert np.allclose(run32.records[:, 0, 1], ls[:21], rtol=0, atol=1e-3 * scale)


def test_reduced_uv_diverges_with_parameter_space_gd(uv64):
    """A start with tiny λ₀ and large η: parameter-space GD overflows, the kernel flags it."""
    U, v, x, y, f0, lam0, eta, a = _uv_case(1, 1.5)
    with np.errstate(all="ignore"):
        fs, ls = _param_space_gd(U, v, x, y, eta, 50)
    first = int(np.argmax(~(np.abs(ls) <= 1e8)))
    assert first > 0
    run = uv64.iterate([f0, lam0], [eta, a, y], steps=50, check_every=1)
    assert run.diverged[0] and run.diverged_at[0] == first


# ----------------------------------------------------------------------------- iterate semantics

@pytest.fixture(scope="module")
def quad():
    m = custom_model(loss="S*w**2/2", params=["w"])
    return gd_kernel(m)


def test_records_and_divergence_step(quad):
    assert quad.params == ("eta", "S")
    run = quad.iterate([1.0], [0.5, 1.0], steps=10, record_every=3, record_from=1)
    assert list(run.record_steps) == [1, 4, 7, 10]
    assert np.allclose(run.records[:, 0, 0], 0.5 ** run.record_steps, rtol=1e-15)
    # |w_t| = 3^t: first exceeds 1e8 at t = 17; checks every 5 steps report 20
    run = quad.iterate([[1.0], [1.0], [np.nan], [np.inf]], [[4.0, 1.0], [0.5, 1.0], [0.5, 1.0], [0.5, 1.0]],
                       steps=100, threshold=1e8, check_every=5)
    assert list(run.diverged) == [True, False, True, True]
    assert list(run.diverged_at) == [20, -1, 5, 5]


def test_whole_tile_diverged_stops_early_and_marks_records(quad):
    run = quad.iterate([1.0], np.array([[4.0, 1.0]] * 8), steps=1000, record_every=100, check_every=8)
    assert run.diverged.all() and np.all(run.diverged_at == 24)
    assert np.all(np.isnan(run.records))  # steps 100, 200, ... never reached after the early stop


def test_monitor_peak(quad):
    run = quad.iterate([1.0], [[0.5, 1.0], [3.0, 1.0]], steps=5, monitor=True, threshold=1e300)
    assert np.allclose(run.peak, [0.5, 0.5 * 2.0 ** 10])


def _one_step_chain(kern, x0, P, steps):
    """(final states, states after each step, monitor peaks) from ``steps`` one-step calls of
    ``iterate``, which never pair steps nor finish points early."""
    x, states = x0.copy(), [x0.copy()]
    peak = kern.observe(x0, P, ["loss"])["loss"]
    for _ in range(steps):
        one = kern.iterate(x, P, steps=1, threshold=1e308, monitor=True, tile=x0.shape[0])
        x = one.x
        states.append(x.copy())
        peak = np.where(one.peak > peak, one.peak, peak)  # Python's max(peak, value)
    return x, states, peak


@pytest.mark.parametrize("steps, check_every, record_every, record_from",
                         [(0, 16, 0, None), (1, 16, 0, None), (2, 16, 0, None), (7, 16, 0, None), (40, 16, 0, None),
                          (33, 1, 0, None), (33, 2, 0, None), (33, 3, 0, None), (30, 16, 1, None), (30, 16, 2, None),
                          (31, 5, 3, 1), (31, 4, 3, 0), (25, 7, 5, 6)])
def test_iterate_equals_single_steps_bit_for_bit(uv64, steps, check_every, record_every, record_from):
    """``iterate`` takes two steps per pass over a tile where it can (no check or record in between);
    it must give exactly the states, records, divergence steps and monitor peaks of a chain of
    one-step calls (which never pair steps), on converging, periodic, chaotic and diverging points."""
    rng = np.random.default_rng(3)
    B = 96
    eta = np.concatenate([[1.0], rng.uniform(1, 16, B - 1)])  # η = 1 converges: the tile never stops early
    x0 = np.column_stack([rng.uniform(-0.5, 0.5, B), rng.uniform(0.01, 0.3, B)])
    P = np.column_stack([eta, np.full(B, 0.01), np.ones(B)])
    thr = 1e6
    run = uv64.iterate(x0, P, steps=steps, record_every=record_every, record_from=record_from, threshold=thr,
                       check_every=check_every, monitor=True, tile=B)
    x, states, peak = _one_step_chain(uv64, x0, P, steps)
    assert np.array_equal(run.x, x, equal_nan=True)
    assert np.array_equal(run.peak, peak, equal_nan=True)
    rf = record_every if record_from is None else record_from
    want = [t for t in range(rf, steps + 1, record_every)] if record_every else []
    assert list(run.record_steps) == want
    for r, t in enumerate(want):
        assert np.array_equal(run.records[r], states[t], equal_nan=True)
    checks = [t for t in range(1, steps + 1) if t % check_every == 0 or t == steps]
    at = np.full(B, -1)
    for t in reversed(checks):
        bad = ~np.all(np.abs(states[t]) <= thr, axis=1)
        at[bad] = t
    assert np.array_equal(run.diverged_at, at) and np.array_equal(run.diverged, at >= 0)
    if steps >= 33:
        assert run.diverged.any() and not run.diverged.all()



@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("steps, check_every", [(300, 16), (517, 16), (301, 5), (64, 1)])
def test_exactly_periodic_points_leave_the_tile_bit_for_bit(uv64, uv32, dtype, steps, check_every):
    """``iterate`` finishes a point early once its state at a check equals its state at the previous
    check (it is then exactly periodic); states, monitor peaks and divergence steps must be exactly
    those of a chain of one-step calls (which never finish early), for converging, periodic, chaotic
    and diverging points together in one tile, and the shortcut must actually have been taken."""
    kern = uv64 if dtype == "float64" else uv32
    rng = np.random.default_rng(11)
    B = 240
    eta = np.concatenate([rng.uniform(0.5, 9.0, B // 2), rng.uniform(9.0, 16.0, B - B // 2)])
    rng.shuffle(eta)
    x0 = np.column_stack([rng.uniform(-0.5, 0.5, B), rng.uniform(0.01, 0.3, B)]).astype(dtype)
    P = np.column_stack([eta, np.full(B, 0.01), np.ones(B)]).astype(dtype)
    thr = 1e6
    run = kern.iterate(x0, P, steps=steps, threshold=thr, check_every=check_every, monitor=True, tile=B)
    x, states, peak = _one_step_chain(kern, x0, P, steps)
    assert np.array_equal(run.x, x, equal_nan=True)
    assert np.array_equal(run.peak, peak, equal_nan=True)
    checks = [t for t in range(1, steps + 1) if t % check_every == 0 or t == steps]
    at = np.full(B, -1)
    for t in reversed(checks):
        at[~np.all(np.abs(states[t]) <= thr, axis=1)] = t
    assert np.array_equal(run.diverged_at, at)
    # the shortcut was taken: many points repeat their state across two checks before the end
    repeat = np.zeros(B, bool)
    for t in range(check_every, steps, check_every):
        repeat |= np.all(states[t] == states[t - check_every], axis=1)
    assert repeat.sum() > B // 4 and not repeat.all() and run.diverged.any()


@pytest.mark.parametrize("steps, check_every", [(33, 5), (33, 16), (40, 16), (41, 3)])
def test_exact_two_cycles_and_signed_zeros_finish_correctly(steps, check_every):
    """w -> -w·a (a = 1): every orbit is an exact 2-cycle, and 0.0 alternates with -0.0, which compare
    equal but are different states: the final state must be (-1)^steps w0 with the right sign of zero
    whatever the check interval (an odd interval must not take 0.0 and -0.0 for a repeat)."""
    w, a = sp.symbols("w a")
    m = compile_map({w: -w * a}, name="neg_two_cycle")
    x0 = np.array([[0.0], [-0.0], [1.5], [-2.0], [3.0]])
    P = np.array([[1.0]] * 4 + [[2.0]])  # the last one grows: never repeats, diverges past 1e6
    run = m.iterate(x0, P, steps=steps, threshold=1e6, check_every=check_every)
    want = x0[:, 0] * (-1.0) ** steps
    want[4] = 3.0 * (-2.0) ** steps
    got = run.x[:, 0]
    assert np.array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    assert list(run.diverged) == [False] * 4 + [True]


# ----------------------------------------------------------------------------- errors

def test_clear_errors():
    w, eta = sp.symbols("w eta")
    with pytest.raises(CodegenError, match="dtype"):
        compile_map({w: w - eta * w}, dtype="float16")
    with pytest.raises(CodegenError, match="neither a state variable nor a parameter"):
        compile_map({w: w - eta * w}, params=[])
    with pytest.raises(CodegenError, match="floor"):
        compile_map({w: sp.floor(w)}, name="bad_floor_map")
    with pytest.raises(CodegenError, match="no next-value"):
        compile_map({w: w}, state=[w, eta])


def test_param_errors(quad):
    with pytest.raises(CodegenError, match="unknown parameter 'eta2'"):
        quad.step([1.0], {"eta": 1, "S": 1, "eta2": 3})
    with pytest.raises(CodegenError, match="has no value"):
        quad.step([1.0], {"eta": 1})
    with pytest.raises(CodegenError, match="last dimension of length 2"):
        quad.step([1.0], [1.0, 2.0, 3.0])


# ----------------------------------------------------------------------------- the cache

_CHILD = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np, sympy as sp
    import symsharp.codegen.kernel as K
    if sys.argv[1] == "second":
        def refuse(*a, **k):
            raise AssertionError("kernel source regenerated")
        K.build_source = refuse
    w, r = sp.symbols("w r", real=True)
    km = K.compile_map({w: r * w * (1 - w)}, [w], [r], name="cache_probe")
    t1 = time.perf_counter()
    out = km.iterate(np.full((64, 1), 0.2), [3.7], steps=1000)
    t2 = time.perf_counter()
    st = km.module.iterate.stats
    print(json.dumps({"path": str(km.path), "hits": sum(st.cache_hits.values()),
                      "misses": sum(st.cache_misses.values()), "load": t1 - t0, "run": t2 - t1,
                      "x": float(out.x[0, 0])}))
""")


def test_cache_is_reused_by_a_second_process(tmp_path):
    env = dict(os.environ, SYMSHARP_CACHE=str(tmp_path / "kernels"))

    def child(which):
        res = subprocess.run([sys.executable, "-c", _CHILD, which], env=env, capture_output=True, text=True,
                             timeout=300)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout.strip().splitlines()[-1])

    first = child("first")
    path = first["path"]
    assert first["misses"] >= 1 and first["hits"] == 0
    stamp = os.stat(path).st_mtime_ns
    pyc = sorted(p.name for p in (tmp_path / "kernels" / "__pycache__").iterdir())
    assert any(p.endswith(".nbi") for p in pyc) and any(p.endswith(".nbc") for p in pyc)
    second = child("second")  # would fail if the source were regenerated
    assert second["path"] == path
    assert os.stat(path).st_mtime_ns == stamp  # module file not rewritten
    assert second["hits"] >= 1 and second["misses"] == 0  # Numba's own cache hit
    assert second["run"] < first["run"]  # no compilation in the second process
    assert second["x"] == first["x"]
    leftovers = [p.name for p in (tmp_path / "kernels").iterdir() if p.name.endswith(".tmp")]
    assert not leftovers


def test_content_hash_and_recipe_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARP_CACHE", str(tmp_path))
    w, r = sp.symbols("w r", real=True)
    a = compile_map({w: r * w}, name="h")
    b = compile_map({w: r * w}, name="h")
    c = compile_map({w: r * w}, name="h", dtype="float32")
    d = compile_map({w: r * w + 1}, name="h")
    assert a.path == b.path and len({a.path, c.path, d.path}) == 3
    assert a.path.parent == tmp_path
    calls = []

    def build():
        calls.append(1)
        return dict(step={w: r * w * w}, state=[w], params=[r], name="recipe_probe")

    k1 = cached_map("probe-recipe", build)
    k2 = cached_map("probe-recipe", build)
    assert len(calls) == 1 and k1.path == k2.path


def test_symbolic_maps_are_derived_once_and_again_when_a_derivation_changes(tmp_path, monkeypatch):
    from symsharp.codegen import kernel

    monkeypatch.setenv("SYMSHARP_CACHE", str(tmp_path))
    w, r = sp.symbols("w r", real=True)
    calls = []

    def build():
        calls.append(1)
        return dict(step={w: w - r * sp.sin(w)}, state=[w], params=[r], name="symbolic_probe")

    first = kernel.cached_symbolic("probe", build)
    again = kernel.cached_symbolic("probe", build)
    assert len(calls) == 1 and again["step"] == first["step"] and again["state"] == [w]
    (pickled,) = (tmp_path / "maps").iterdir()
    pickled.write_bytes(b"not a pickle")  # a corrupt file is derived again, not fatal
    assert kernel.cached_symbolic("probe", build)["step"] == first["step"] and len(calls) == 2
    # an edit anywhere under models/ or symbolic/ (sub-packages included) changes the key
    src = kernel._symbolic_sources_hash()
    real_read = kernel.Path.read_bytes
    monkeypatch.setattr(kernel.Path, "read_bytes", lambda self: real_read(self) + (
        b"# edited" if self.name == "model.py" and self.parent.name == "uv" else b""))
    assert kernel._symbolic_sources_hash() != src
    monkeypatch.undo()
    monkeypatch.setenv("SYMSHARP_CACHE", str(tmp_path))
    assert kernel._symbolic_sources_hash() == src
