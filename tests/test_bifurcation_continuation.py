"""Continuation, bifurcation location and branch switching against independent computations:
mpmath Newton flips of the logistic map written as a GD map (loss w²/2 − w³/3, so that
w ↦ w − η(w − w²) is the logistic map with r = 1 + η), Feigenbaum's δ, a closed-form fold, the
Neimark–Sacker point of the delayed logistic map (r = 2), the neutral line of the UV model, and
brute-force orbit diagrams of the compiled kernel bracketing the located flips."""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from symsharp.analysis.bifurcation import (cascade, continue_orbit, gd_family, map_family, switch_at_flip)
from symsharp.models import custom_model

FEIGENBAUM = mp.mpf("4.669201609102990671853203820466")


@pytest.fixture(scope="module")
def logistic():
    return gd_family(custom_model(loss="w**2/2 - w**3/3", params="w"))


@pytest.fixture(scope="module")
def logistic_cascade(logistic):
    return cascade(logistic, [0.3], 1.5, lo=1.0, hi=3.0, flips=10, digits=25)


def _independent_flip(p, w0, eta0, dps=40):
    """Newton on {F^p(w) = w, (F^p)'(w) = −1} in (w, η) for F(w) = w − η(w − w²), with
    hand-written forward-mode derivatives (no part of the engine involved)."""
    with mp.workdps(dps):
        w, eta = mp.mpf(w0), mp.mpf(eta0)
        for _ in range(60):
            z, A, B, C, D = w, mp.mpf(1), mp.mpf(0), mp.mpf(0), mp.mpf(0)  # z, ∂z/∂w, ∂z/∂η, ∂²z/∂w², ∂²z/∂w∂η
            for _ in range(p):
                f = z - eta * (z - z * z)
                fz = 1 - eta + 2 * eta * z
                fe = -(z - z * z)
                fzz = 2 * eta
                fze = -1 + 2 * z
                C, D, A, B = fzz * A * A + fz * C, fzz * A * B + fze * A + fz * D, fz * A, fz * B + fe
                z = f
            F1, F2 = z - w, A + 1
            J11, J12, J21, J22 = A - 1, B, C, D
            det = J11 * J22 - J12 * J21
            dw = (J22 * F1 - J12 * F2) / det
            de = (-J21 * F1 + J11 * F2) / det
            w, eta = w - dw, eta - de
            if abs(dw) + abs(de) < mp.mpf(10) ** (-dps + 5):
                return eta
    raise AssertionError("independent Newton did not converge")


def test_logistic_flips_match_independent_mpmath(logistic_cascade):
    c = logistic_cascade
    assert [b.period for b in c.flips] == [2 ** j for j in range(10)]
    assert float(c.flips[0].param_mp) == 2.0 and float(c.flips[1].param_mp) == pytest.approx(np.sqrt(6), abs=1e-15)
    with mp.workdps(40):
        for b in c.flips:
            ref = _independent_flip(b.period, b.x[0], b.param)
            got = mp.mpf(b.param_mp)
            assert abs(got - ref) <= mp.mpf(10) ** -22 * (1 + abs(ref)), (b.period, got, ref)
            assert b.uncertainty < 1e-20
            # the located orbit has a multiplier −1
            assert abs(b.multipliers + 1).min() < 1e-15


def test_feigenbaum_ratios_and_onset(logistic_cascade):
    c = logistic_cascade
    d = [mp.mpf(v) for v in c.deltas_mp]
    errs = [abs(v - FEIGENBAUM) for v in d]
    # the ratios approach δ = 4.669201609…, geometrically (error ratio about 1/δ... at least halving)
    assert all(errs[i + 1] < 0.6 * errs[i] for i in range(len(errs) - 1))
    assert errs[-1] < 1e-5
    # r_∞ = 3.5699456718709449018… (Feigenbaum point of the logistic map); η = r − 1
    assert float(c.onset_mp) == pytest.approx(2.5699456718709449018, abs=5e-12)
    assert c.onset_uncertainty < 1e-9


def test_orbit_diagram_brackets_flips(logistic, logistic_cascade):
    from symsharp.dynamics.orbits import orbit_diagram

    fl = logistic_cascade.flips
    etas, expect = [], []
    for j in range(5):
        gap = (fl[j + 1].param - fl[j].param) if j + 1 < len(fl) else 1e-3
        etas += [fl[j].param - 0.1 * gap, fl[j].param + 0.1 * gap]
        expect += [fl[j].period, 2 * fl[j].period]
    od = orbit_diagram(logistic.kernel, np.array([0.3]), np.stack([etas], 1), transient=200_000, keep=128,
                       max_period=64, lyapunov_steps=0, tol=1e-6)
    assert list(od.period) == expect


def test_closed_form_fold_and_branch_through_it():
    x, mu = sp.symbols("x mu", real=True)
    fam = map_family({x: x + mu - x ** 2}, [x], [mu], {}, "mu", name="saddle_node")
    br = continue_orbit(fam, [np.sqrt(0.5)], 0.5, 1, direction=-1, lo=-1.0, hi=2.0, max_steps=400, digits=25,
                        stop_at=())
    folds = [b for b in br.bifurcations if b.kind == "fold"]
    assert len(folds) == 1
    assert abs(mp.mpf(folds[0].param_mp)) < 1e-24 and abs(folds[0].x[0]) < 1e-12
    # the branch turns: the lower half x = −√μ is unstable, the upper half stable for 0 < μ < 1
    assert np.all(br.x[br.stable, 0] > 0) and np.all(~br.stable[br.x[:, 0] < -1e-6])
    assert np.allclose(br.x[:, 0] ** 2, br.param, atol=1e-10)
    # the lower half (multiplier 1 + 2√μ > 1) has no flip; the upper half's flip (μ = 1) is not visited
    assert not [b for b in br.bifurcations if b.kind == "flip"]
    assert br.param.max() <= 2.0 and br.x[-1, 0] < -1.0


def test_neimark_sacker_of_delayed_logistic():
    x, y, r = sp.symbols("x y r", real=True)
    fam = map_family({x: y, y: r * y * (1 - x)}, [x, y], [r], {}, "r", name="delayed_logistic")
    xs = 1 - 1 / 1.5
    br = continue_orbit(fam, [xs, xs], 1.5, 1, direction=1, hi=2.5, stop_at=("neimark_sacker",), digits=25)
    ns = [b for b in br.bifurcations if b.kind == "neimark_sacker"]
    assert len(ns) == 1
    # exact: the fixed point (1 − 1/r, 1 − 1/r) has det J = r − 1 = 1 at r = 2, multipliers e^{±iπ/3}
    assert abs(mp.mpf(ns[0].param_mp) - 2) < 1e-22
    np.testing.assert_allclose(np.abs(ns[0].multipliers), [1, 1], atol=1e-14)
    assert abs(abs(np.angle(ns[0].multipliers[0])) - np.pi / 3) < 1e-12
    assert not [b for b in br.bifurcations if b.kind in ("fold", "flip")]


def test_branch_switching_gives_the_doubled_orbit(logistic, logistic_cascade):
    bp = logistic_cascade.flips[2]
    x, eta, t = switch_at_flip(logistic, bp, target=1e-4)
    assert abs(eta - bp.param) <= 1e-4
    pts, _, _ = logistic.cycle64(np.array([x]), [eta], 2 * bp.period)
    assert np.max(np.abs(pts[-1, 0] - x)) < 1e-10                     # a period-2p orbit …
    assert np.max(np.abs(pts[bp.period, 0] - x)) > 1e-8               # … not a period-p one


def test_neutral_fixed_point_line_is_not_a_fold():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    names = {s.name: s for e in red.step.values() for s in e.free_symbols}
    fam = map_family(red.step, [f, lam], [names["eta"], names["a"], names["y"]], {"a": 0.01, "y": 1}, "eta",
                     name="uv_fs")
    br = continue_orbit(fam, [1.0, 0.15], 5.0, 1, direction=1, hi=16.0, digits=20, max_steps=300)
    assert br.neutral and np.all(br.n_neutral == 1)
    assert np.allclose(br.x[:, 0], 1.0) and np.allclose(br.x[:, 1], 0.15)   # minimal-norm tangent: λ fixed
    assert not [b for b in br.bifurcations if b.kind in ("fold", "branch_point")]
    flips = [b for b in br.bifurcations if b.kind == "flip"]
    # on the line the multipliers are 1 and 1 − ηλ: a flip at η = 2/λ, flagged as degenerate (neutral)
    assert len(flips) == 1 and flips[0].neutral == 1
    assert abs(mp.mpf(flips[0].param_mp) - mp.mpf(2) / mp.mpf("0.15")) < 1e-15
