"""Certified runs of the UV map: the certified horizon against MPFR's pointwise horizon, the
statements against a 4096-bit trajectory, Krawczyk proofs on the attracting 2-cycle."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from symsharp.analysis.precision import certify, certify_json
from symsharp.codegen.arith import scalar_map

X0 = {"f": "0", "lam": "0.1"}


@pytest.fixture(scope="module")
def uv():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    by = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return red.step, [f, lam], [by["eta"], by["a"], by["y"]]


def _exact_orbit(uv, eta, steps):
    step, state, params = uv
    sm = scalar_map(step, state, params, "mpfr:4096", name="uv_test")
    o = sm.orbit(["0", "0.1"], [eta, "0.01", "1"], steps, threshold=1e300)
    return [[Fraction(*v.as_integer_ratio()) for v in col] for col in o.records]


def test_certified_horizon_on_the_chaotic_map(uv):
    step, state, params = uv
    ds = certify(step, X0, {"eta": "15", "a": "0.01", "y": "1"}, bits=256, steps=500, state=state,
                 param_order=params, name="uv_test")
    j = certify_json(ds)
    assert {"bits", "steps", "tol", "certified_steps"} <= set(j) and j["bits"] == 256 and j["steps"] == 500
    assert j["horizon_ratio"] >= 0.9 and j["pointwise_horizon"] > 300
    assert j["naive_certified_steps"] < 0.4 * j["certified_steps"]
    # widths grow at about the Lyapunov rate: log-width slope over the certified steps
    w = np.array([v for v in j["width"][:j["certified_steps"]]])
    slope = np.polyfit(np.arange(50, len(w)), np.log(w[50:]), 1)[0]
    assert abs(slope - j["lyapunov"]) < 0.15 * j["lyapunov"]
    # "stays in this box" holds for the 4096-bit orbit; every step's enclosure contains it
    exact = _exact_orbit(uv, "15", j["certified_steps"])
    box = j["stays_in_box"]
    for i in range(2):
        for t in range(j["certified_steps"] + 1):
            v = exact[i][t]
            assert Fraction(box["lower"][i]) <= v <= Fraction(box["upper"][i])
            assert Fraction(ds["lower"].values[t, i]) <= v <= Fraction(ds["upper"].values[t, i])
    assert any("stays in the box" in s for s in j["statements"])
    json.dumps(j)
    assert json.loads(ds.attrs["symsharp"])["analysis"] == "certify"


def test_attracting_cycle_stays_tight_and_is_proved(uv):
    step, state, params = uv
    ds = certify(step, X0, {"eta": "11", "a": "0.01", "y": "1"}, bits=128, steps=2000, state=state,
                 param_order=params, name="uv_test", pointwise=False)
    j = certify_json(ds)
    assert j["certified_steps"] == 2000 and max(j["width"][200:]) < 1e-30
    assert j["naive_certified_steps"] < 200
    po = j["periodic_orbit"]
    assert po["proved"] and po["minimal_period"] and po["period"] == 2 and po["stable"] is True
    # the attractor of the 4096-bit orbit lies in the proved boxes (the two points of the orbit)
    exact = _exact_orbit(uv, "11", 4000)
    late = [(exact[0][t], exact[1][t]) for t in (3998, 3999)]
    boxes = [po["orbit"][0], po["orbit"][1]]
    for pt in late:
        assert any(all(Fraction(b[i][0]) <= pt[i] <= Fraction(b[i][1]) for i in range(2)) for b in boxes)
    (l1, h1), (l2, h2) = po["multipliers"]
    assert 0 < l2 <= h2 < l1 <= h1 < 1
    assert any("period 2" in s and "attracting" in s for s in j["statements"])


def test_divergence_is_certified(uv):
    step, state, params = uv
    ds = certify(step, X0, {"eta": "17", "a": "0.01", "y": "1"}, bits=128, steps=100, threshold=1e8,
                 state=state, param_order=params, name="uv_test", period=None)
    j = certify_json(ds)
    t = j["exceeds_threshold_at"]
    assert t is not None and any("provably exceeds" in s for s in j["statements"])
    exact = _exact_orbit(uv, "17", t)
    assert max(abs(exact[0][t]), abs(exact[1][t])) > 1e8
    assert all(max(abs(exact[0][s]), abs(exact[1][s])) <= 1e8 for s in range(t))  # the first such step
