"""The ball layer: Lohner enclosures must contain a 4096-bit trajectory, naive balls must fail
where the text says they do, Krawczyk proofs must enclose the periodic orbit found by an
independent root finder."""
from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from symsharp.codegen.arith import BallMap, scalar_map


@pytest.fixture(scope="module")
def uv():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    by = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return red.step, [f, lam], [by["eta"], by["a"], by["y"]]


def _reference(step, state, params, x0, p, steps):
    sm = scalar_map(step, state, params, "mpfr:4096", name="uv_test")
    o = sm.orbit(x0, p, steps)
    return sm, o


def _inside(balls_lo, balls_hi, sm, o, upto):
    """Every exact-orbit value (4096 bits) at steps 0 … upto lies in [lo, hi] (float bounds
    rounded outward): compared exactly, not in floating point."""
    for t in range(upto + 1):
        for i, col in enumerate(o.records):
            v = col[t]
            assert Fraction(balls_lo[t, i]) <= Fraction(*v.as_integer_ratio()) <= Fraction(balls_hi[t, i]), (t, i)


def test_lohner_contains_the_exact_orbit_on_the_chaotic_map(uv):
    step, state, params = uv
    p = ["15", "0.01", "1"]
    bm = BallMap(step, state, params, bits=256, name="uv_test")
    run = bm.lohner(bm.box(["0", "0.1"]), bm.params(p), 500)
    n = run.certified_steps(1e-3)
    sm, o = _reference(step, state, params, ["0", "0.1"], p, 500)
    _inside(run.lower, run.upper, sm, o, run.steps_done)
    # the certified horizon reaches ≥ 90 % of the pointwise horizon of MPFR at 256 bits
    pt = scalar_map(step, state, params, "mpfr:256", name="uv_test").orbit(["0", "0.1"], p, 500)
    a = np.array([[float(v) for v in c] for c in pt.records]).T
    r = np.array([[float(v) for v in c] for c in o.records]).T
    bad = np.flatnonzero(np.any(np.abs(a - r) > 1e-3 * np.maximum(1, np.abs(r)), axis=1))
    assert bad.size and n >= 0.9 * bad[0]
    # naive ball iteration loses its digits far earlier (wrapping effect)
    naive = bm.naive(bm.box(["0", "0.1"]), bm.params(p), 500)
    assert naive.certified_steps(1e-3) < 0.4 * n


def test_lohner_stays_tight_on_the_attracting_two_cycle(uv):
    step, state, params = uv
    p = ["11", "0.01", "1"]
    bm = BallMap(step, state, params, bits=128, name="uv_test")
    run = bm.lohner(bm.box(["0", "0.1"]), bm.params(p), 3000)
    assert run.steps_done == 3000 and run.certified_steps(1e-3) == 3000
    assert np.max(run.width[100:]) < 2.0 ** -100
    sm, o = _reference(step, state, params, ["0", "0.1"], p, 3000)
    _inside(run.lower, run.upper, sm, o, 3000)
    naive = bm.naive(bm.box(["0", "0.1"]), bm.params(p), 3000)
    assert naive.steps_done < 3000 and naive.certified_steps(1e-3) < 200  # naive balls blow up


def test_box_of_initial_states_in_its_own_frame(uv):
    """A wide initial box carried as C·r₀: the enclosure contains the orbits of its corners."""
    step, state, params = uv
    p = ["11", "0.01", "1"]
    bm = BallMap(step, state, params, bits=128, name="uv_test")
    rad = Fraction(1, 10 ** 6)
    run = bm.lohner(bm.box(["0.5", "0.1"], rad), bm.params(p), 40, initial_frame=True)
    sm = scalar_map(step, state, params, "mpfr:4096", name="uv_test")
    for dx in (-rad, rad):
        for dy in (-rad, rad):
            o = sm.orbit([Fraction(1, 2) + dx, Fraction(1, 10) + dy], p, 40)
            _inside(run.lower, run.upper, sm, o, 40)
    assert run.width[-1].max() < 1e-5


def test_krawczyk_proves_the_two_cycle_and_encloses_its_multipliers(uv):
    step, state, params = uv
    pv = [11, sp.Rational(1, 100), 1]
    F = sp.lambdify(state, [step[s].subs(dict(zip(params, pv))) for s in state], modules="mpmath")
    Jf = sp.lambdify(state, sp.Matrix([step[s] for s in state]).jacobian(state).subs(dict(zip(params, pv))),
                     modules="mpmath")
    sm = scalar_map(step, state, params, "mpfr:256", name="uv_test")
    x = sm.orbit(["0", "0.1"], ["11", "0.01", "1"], 3000, record=False).final
    bm = BallMap(step, state, params, bits=256, name="uv_test")
    P = bm.params(["11", "0.01", "1"])
    kr = bm.krawczyk(x, P, 2)
    assert kr.proved and kr.minimal and kr.stable is True
    with mpmath.workprec(400):
        root = mpmath.findroot(lambda a, b: [c - d for c, d in zip(F(*F(a, b)), (a, b))],
                               [mpmath.mpf(sm.to_float(v)) for v in x])
        p0 = [root[0], root[1]]
        for i in range(2):
            lo, hi = kr.box[i]
            assert lo <= p0[i] <= hi
        M = mpmath.matrix(Jf(*F(*p0))) * mpmath.matrix(Jf(*p0))
        eig = sorted((e.real for e in mpmath.eig(M)[0]), reverse=True)
    for (lo, hi), e in zip(kr.multipliers, eig):
        assert lo <= e <= hi and hi - lo < 1e-12
    # the attracting points are not fixed points: no proof for period 1 in that box
    assert not bm.krawczyk(x, P, 1).proved


def test_krawczyk_on_a_fixed_point_and_a_three_dimensional_map():
    """A 3-D generalised Hénon map: Lohner (k = 3, general QR and inverse) contains the exact
    orbit; with a small parameter the map has an attracting fixed point proved by Krawczyk."""
    x, y, z, a, b = sp.symbols("x y z a b", real=True)
    step = {x: a - y ** 2 - b * z, y: x, z: y}
    bm = BallMap(step, [x, y, z], [a, b], bits=200, name="henon3_test")
    P = bm.params(["1.76", "0.1"])
    run = bm.lohner(bm.box(["0.1", "0.2", "0.3"]), P, 60)
    sm = scalar_map(step, [x, y, z], [a, b], "mpfr:4096", name="henon3_test")
    o = sm.orbit(["0.1", "0.2", "0.3"], ["1.76", "0.1"], run.steps_done)
    _inside(run.lower, run.upper, sm, o, run.steps_done)
    assert run.certified_steps(1e-3) >= 40
    # a = 0.1, b = 0.1: attracting fixed point x = y = z = s with s² + 1.1 s − 0.1 = 0
    P2 = bm.params(["0.1", "0.1"])
    s = (-1.1 + (1.21 + 0.4) ** 0.5) / 2
    kr = bm.krawczyk([s, s, s], P2, 1)
    assert kr.proved and kr.stable is True
    exact = (-mpmath.mpf("1.1") + mpmath.sqrt(mpmath.mpf("1.61"))) / 2
    assert all(lo <= exact <= hi for lo, hi in kr.box)
