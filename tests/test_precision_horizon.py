"""Precision horizons of the UV map: the law (bits·ln2 + ln tol)/λ checked loosely against runs,
the attracting case, the JSON contract and one-line errors."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from symsharp.analysis.precision import PrecisionError, horizon_json, precision_horizon
from symsharp.errors import SymsharpError

X0 = {"f": "0", "lam": "0.1"}


@pytest.fixture(scope="module")
def uv():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    by = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return red.step, [f, lam], [by["eta"], by["a"], by["y"]]


@pytest.fixture(scope="module")
def chaotic(uv):
    step, state, params = uv
    return precision_horizon(step, X0, {"eta": "15", "a": "0.01", "y": "1"}, ariths="float32,float64,dd,mpfr:256",
                             state=state, param_order=params, name="uv_test")


def test_horizon_law_on_the_chaotic_map(chaotic):
    j = horizon_json(chaotic)
    assert j["lyapunov"] > 0.3 and not j["attracting"]
    rows = {r["arith"]: r for r in j["rows"]}
    hs = [rows[a]["horizon"] for a in ("float32", "float64", "dd", "mpfr:256")]
    assert all(h is not None for h in hs) and hs == sorted(hs) and len(set(hs)) == 4
    for a in ("float64", "dd", "mpfr:256"):
        r = rows[a]
        law = (r["bits"] * math.log(2) + math.log(1e-3)) / j["lyapunov"]
        assert abs(r["predicted"] - law) < 1e-9
        # loosely: within 15 % (plus a few steps) of the law and of its finite-time version
        assert abs(r["horizon"] - r["predicted"]) <= 0.15 * r["predicted"] + 5, r
        assert abs(r["horizon"] - r["predicted_finite"]) <= 0.15 * r["predicted_finite"] + 5, r
    # slope: horizons grow by about ln2/λ steps per bit
    slope = (rows["mpfr:256"]["horizon"] - rows["float64"]["horizon"]) / (256 - 53)
    assert abs(slope - math.log(2) / j["lyapunov"]) < 0.15 * math.log(2) / j["lyapunov"]


def test_reference_is_chosen_and_checked(chaotic):
    j = horizon_json(chaotic)
    bits = int(j["reference"].split(":")[1])
    assert j["reference"].startswith("mpfr:") and bits >= 512 and bits & (bits - 1) == 0
    assert j["reference_checked_steps"] == j["steps"] >= max(r["horizon"] for r in j["rows"])
    meta = json.loads(chaotic.attrs["symsharp"])
    assert meta["analysis"] == "precision_horizon" and meta["reference"] == j["reference"]
    assert meta["params"] == {"eta": "15", "a": "0.01", "y": "1"} and "versions" in meta
    # the JSON contract
    assert {"lyapunov", "reference", "tol", "rows"} <= set(j)
    assert {"arith", "bits", "horizon", "predicted"} <= set(j["rows"][0])
    json.dumps(j)
    # the observable series are stored: at the horizon the float64 run leaves the reference
    h = {r["arith"]: r["horizon"] for r in j["rows"]}["float64"]
    obs = chaotic["observable"].sel(arith="float64").values
    ref = chaotic["reference"].values
    scale = np.maximum(np.abs(ref), np.mean(np.abs(ref)))
    assert np.all(np.abs(obs[:h] - ref[:h]) <= 1e-3 * scale[:h]) and abs(obs[h] - ref[h]) > 1e-3 * scale[h]


def test_attracting_orbit_has_no_horizon(uv):
    step, state, params = uv
    ds = precision_horizon(step, X0, {"eta": "11", "a": "0.01", "y": "1"}, ariths="float64,dd,mpfr:128",
                           state=state, param_order=params, name="uv_test", steps=600)
    j = horizon_json(ds)
    assert j["attracting"] and j["lyapunov"] < 0 and "no precision horizon" in j["note"]
    assert all(r["horizon"] is None and r["predicted"] is None for r in j["rows"])


def test_observable_choices_and_errors(uv):
    step, state, params = uv
    f, lam = state
    ds = precision_horizon(step, X0, {"eta": "15", "a": "0.01", "y": "1"}, ariths="float64", steps=150,
                           observable=sp.Symbol("f", real=True) - 1, state=state, param_order=params, name="uv_test")
    assert ds.attrs["observable"] == "f - 1" and horizon_json(ds)["rows"][0]["horizon"] is not None
    ds = precision_horizon(step, X0, {"eta": "15", "a": "0.01", "y": "1"}, ariths="float64", steps=150,
                           observable="lam", state=state, param_order=params, name="uv_test")
    assert ds.attrs["observable"] == "lam"
    bad = [dict(observable="g"), dict(tol=2), dict(ariths="float8"), dict(ariths="mpfr:1"), dict(steps=0),
           dict(reference="float64")]
    for kw in bad:
        args = dict(ariths="float64", steps=50, state=state, param_order=params, name="uv_test")
        args.update(kw)
        with pytest.raises(SymsharpError) as e:
            precision_horizon(step, X0, {"eta": "15", "a": "0.01", "y": "1"}, **args)
        assert "\n" not in str(e.value)
    with pytest.raises(PrecisionError):
        precision_horizon(step, X0, {"eta": "15", "a": "0.01"}, ariths="float64", state=state, param_order=params)
    with pytest.raises(PrecisionError):
        precision_horizon(step, {"f": "0", "lam": "__import__('os')"}, {"eta": "15", "a": "0.01", "y": "1"},
                          ariths="float64", state=state, param_order=params)
