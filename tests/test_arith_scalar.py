"""Scalar multiple-precision evaluators (mpfr, mp, arb) of the UV map against independent
computations: an mpmath replay of the same operations, exact rational evaluation with SymPy,
mpmath's root finder for the attracting 2-cycle."""
from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from symsharp.codegen.arith import build_program, scalar_map
from symsharp.codegen.common import CodegenError


@pytest.fixture(scope="module")
def uv():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    by = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return red.step, [f, lam], [by["eta"], by["a"], by["y"]]


def _mp(q: Fraction):
    return mpmath.mpf(q.numerator) / q.denominator


def mpmath_replay(prog, x, p, steps):
    """The program's operations one by one in mpmath (current working precision)."""
    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b, "neg": lambda a: -a}
    env = {f"c{j}": _mp(c) for j, c in enumerate(prog.consts)}
    env.update({f"p{j}": _mp(Fraction(v)) for j, v in enumerate(p)})
    for op in prog.hoisted:
        env[op.dst] = ops[op.kind](*[env[a] for a in op.args])
    xs = [_mp(Fraction(v)) for v in x]
    for _ in range(steps):
        env.update({f"x{i}": v for i, v in enumerate(xs)})
        for op in prog.hot:
            env[op.dst] = ops[op.kind](*[env[a] for a in op.args])
        xs = [env[r] for r in prog.outputs]
    return xs


def _exact(v) -> Fraction:
    if isinstance(v, mpmath.mpf):
        sign, m, e, _ = v._mpf_
        return (-1) ** sign * Fraction(int(m)) * Fraction(2) ** int(e)
    p, q = v.as_integer_ratio()
    return Fraction(int(p), int(q))


@pytest.mark.parametrize("bits", [64, 256])
def test_mpfr_equals_mpmath_replay_bit_for_bit(uv, bits):
    step, state, params = uv
    prog = build_program([step[s] for s in state], state, params)
    sm = scalar_map(step, state, params, f"mpfr:{bits}", name="uv_test")
    p = ["15", "0.01", "1"]
    o = sm.orbit(["0", "0.1"], p, 250, record=False)
    with mpmath.workprec(bits):
        ref = mpmath_replay(prog, ["0", "0.1"], p, 250)
        assert [_exact(v) for v in o.final] == [_exact(v) for v in ref]


def test_mp_lambdify_path_agrees_with_mpfr_to_rounding(uv):
    step, state, params = uv
    p = ["15", "0.01", "1"]
    a = scalar_map(step, state, params, "mp:200", name="uv_test").orbit(["0", "0.1"], p, 30)
    b = scalar_map(step, state, params, "mpfr:200", name="uv_test").orbit(["0", "0.1"], p, 30)
    for t in range(31):
        for i in range(2):
            x, y = _exact(a.records[i][t]), _exact(b.records[i][t])
            assert abs(x - y) <= Fraction(2) ** -185 * np.exp(0.6 * t) * max(1, abs(y)), (t, i)


def test_jacobian_and_step_against_exact_rationals(uv):
    step, state, params = uv
    J = sp.Matrix([step[s] for s in state]).jacobian(state)
    sm = scalar_map(step, state, params, "mpfr:256", name="uv_test")
    ball = scalar_map(step, state, params, "arb:128", name="uv_test")
    rng = np.random.default_rng(2)
    for _ in range(5):
        x = [Fraction(float(rng.uniform(0, 1.5))), Fraction(float(rng.uniform(0.05, 0.3)))]
        pv = [Fraction(int(rng.integers(5, 20))), Fraction(1, 100), Fraction(1)]
        sub = {s: sp.Rational(v.numerator, v.denominator) for s, v in zip(state + params, x + pv)}
        Fx = [sp.Rational(step[s].xreplace(sub)) for s in state]
        Jx = J.xreplace(sub)
        F, Jm = sm.step_jacobian(x, pv)
        for i in range(2):
            want = Fraction(int(Fx[i].p), int(Fx[i].q))
            assert abs(_exact(F[i]) - want) <= Fraction(2) ** -245 * max(1, abs(want))
            for j in range(2):
                w = Fraction(int(Jx[i, j].p), int(Jx[i, j].q))
                assert abs(_exact(Jm[i][j]) - w) <= Fraction(2) ** -245 * max(1, abs(w))
                assert abs(_exact(sm.jacobian(x, pv)[i][j]) - w) <= Fraction(2) ** -245 * max(1, abs(w))
        # arb: the balls contain the exact values (tiny 2000-bit balls around them)
        Fb = ball.step(x, pv)
        Jb = ball.jacobian(x, pv)
        import flint

        with flint.ctx.workprec(2000):
            for i in range(2):
                assert Fb[i].rad() < 2.0 ** -100
                assert Fb[i].contains(flint.arb(flint.fmpq(int(Fx[i].p), int(Fx[i].q))))
                for j in range(2):
                    assert Jb[i][j].contains(flint.arb(flint.fmpq(int(Jx[i, j].p), int(Jx[i, j].q))))


def test_tangent_lyapunov_matches_the_two_cycle_multiplier(uv):
    """At η = 11 the orbit is attracted by a 2-cycle: λ = ln|μ_max|/2 with μ the eigenvalues of
    J(x₁)J(x₀), computed here by mpmath's root finder and eigensolver."""
    step, state, params = uv
    pv = [11, sp.Rational(1, 100), 1]
    F = sp.lambdify(state, [step[s].subs(dict(zip(params, pv))) for s in state], modules="mpmath")
    Jf = sp.lambdify(state, sp.Matrix([step[s] for s in state]).jacobian(state).subs(dict(zip(params, pv))),
                     modules="mpmath")
    sm = scalar_map(step, state, params, "mpfr:128", name="uv_test")
    x, logs, v, div = sm.tangent(["0", "0.1"], ["11", "0.01", "1"], 3000)
    assert div == -1
    with mpmath.workprec(200):
        x0 = [mpmath.mpf(float(sm.to_float(t))) for t in x]
        root = mpmath.findroot(lambda a, b: [c - d for c, d in zip(F(*F(a, b)), (a, b))], x0)
        p0 = [root[0], root[1]]
        p1 = F(*p0)
        M = mpmath.matrix(Jf(*p1)) * mpmath.matrix(Jf(*p0))
        mu = max(abs(e) for e in mpmath.eig(M)[0])
    lam = float(np.mean(logs[1000:]))
    assert abs(lam - float(mpmath.log(mu)) / 2) < 1e-6


def test_orbit_threshold_and_errors(uv):
    step, state, params = uv
    for spec in ("mpfr:64", "mp:64"):
        sm = scalar_map(step, state, params, spec, name="uv_test")
        o = sm.orbit(["0", "0.1"], ["20", "0.01", "1"], 500, threshold=1e6, check_every=4)
        assert o.diverged_at > 0 and o.diverged_at % 4 == 0
        vals = [abs(sm.to_float(v)) for v in o.records[0]]
        first = next(t for t, v in enumerate(vals) if v > 1e6)
        assert o.diverged_at == -(-first // 4) * 4
    with pytest.raises(CodegenError):
        scalar_map(step, state, params, "float64")
    sm = scalar_map(step, state, params, "mpfr:64", name="uv_test")
    with pytest.raises(CodegenError):
        sm.step(["0"], ["1", "2", "3"])
    with pytest.raises(CodegenError):
        sm.orbit(["0", "0"], ["1", "2", "3"], steps=-1)
