"""Blow-up statistics: exhaustive seed tables on a map whose divergence step is known in closed
form, the chain model in raw and SVD coordinates against direct runs, independence of the worker
count, the mechanism test's bookkeeping."""
from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symsharp.analysis.precision import (PrecisionError, blowup, blowup_chain, blowup_json, chain_init,
                                        chain_svd_map)
from symsharp.codegen.arith import ChainGD

ETAS = [0.5, 1.5, 3.0]
SEEDS = list(range(8))
THR = 1e6
EVERY = 4
STEPS = 40


def _x0(seed):
    return [Fraction(seed + 1, 10)]


def _closed_form_divergence(eta, seed):
    """x_t = (η x₀)^(2^t)/η for x ← η x²: the first check step with |x_t| > THR, or −1."""
    q = Fraction(eta).limit_denominator(100) * _x0(seed)[0]
    if q <= 1:
        return -1
    e = Fraction(eta).limit_denominator(100)
    for t in range(1, STEPS + 1):
        if math.log(q) * 2 ** t - math.log(e) > math.log(THR):
            return min(-(-t // EVERY) * EVERY, STEPS)
    return -1


@pytest.fixture(scope="module")
def quad():
    x, eta = sp.symbols("x eta", real=True)
    return {x: eta * x ** 2}, [x], [eta]


def test_exhaustive_seed_table_against_closed_form(quad):
    step, state, params = quad
    ds = blowup(step, _x0, {}, ETAS, SEEDS, STEPS, "float32,float64,mpfr:64", state=state, param_order=params,
                name="quad_blowup", threshold=THR, check_every=EVERY, mechanism=False, workers=1, progress=False)
    want = np.array([[_closed_form_divergence(e, s) for s in SEEDS] for e in ETAS])
    assert (want >= 0).any() and (want < 0).any()
    for a in ("float32", "float64", "mpfr:64"):
        assert np.array_equal(ds["diverged_at"].sel(arith=a).values, want), a
    frac = ds["diverged_fraction"].values
    assert np.allclose(frac, (ds["diverged_at"].values >= 0).mean(axis=2))
    j = blowup_json(ds)
    assert j["eta"] == ETAS and j["arith"] == ["float32", "float64", "mpfr:64"]
    assert len(j["diverged_fraction"]) == 3 and len(j["diverged_fraction"][0]) == 3
    assert j["diverged_at"][2][1] == [None if v < 0 else int(v) for v in want[2]]
    json.dumps(j)


def test_results_do_not_depend_on_the_number_of_workers(quad):
    step, state, params = quad
    kw = dict(state=state, param_order=params, name="quad_blowup", threshold=THR, check_every=EVERY,
              mechanism=False, progress=False)
    a = blowup(step, _x0, {}, ETAS, SEEDS[:4], STEPS, "mpfr:64", workers=1, **kw)
    b = blowup(step, _x0, {}, ETAS, SEEDS[:4], STEPS, "mpfr:64", workers=2, **kw)
    assert np.array_equal(a["diverged_at"].values, b["diverged_at"].values)


@pytest.fixture(scope="module")
def chain_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 3)) * np.array([3.0, 1.0, 0.2])
    y = rng.standard_normal(6)
    return X, y


def test_chain_raw_matches_direct_runs_and_reports_the_mechanism(chain_data):
    X, y = chain_data
    etas = [0.05, 0.6, 1.2]
    ds = blowup_chain(X, y, 2, etas, seeds=6, steps=400, ariths="float32,float64", init_scale=0.5,
                      threshold=1e6, progress=False)
    rows = [str(a) for a in ds["arith"].values]
    assert rows == ["float32", "float64", "float64+noise:24"]
    U0, V0 = chain_init(3, 2, range(6), 0.5)
    for a in ("float32", "float64"):
        for e, eta in enumerate(etas):
            r = ChainGD(X, y, 2, a).run(U0, V0, eta, 400, threshold=1e6)
            assert np.array_equal(ds["diverged_at"].sel(arith=a).values[e], r.diverged_at)
    r = ChainGD(X, y, 2, "float64").run(U0, V0, etas[2], 400, threshold=1e6, noise_bits=24, traj_ids=np.arange(6))
    assert np.array_equal(ds["diverged_at"].sel(arith="float64+noise:24").values[2], r.diverged_at)
    frac = ds["diverged_fraction"].sel(arith="float64").values
    assert frac[0] == 0 and frac[-1] == 1  # far below and far beyond the edge of stability
    mech = blowup_json(ds)["mechanism"]
    t = mech["tests"][0]
    assert t["bits"] == 24 and t["arith"] == "float32" and "reproduces" in t and mech["verdict"]
    meta = json.loads(ds.attrs["symsharp"])
    assert meta["coords"] == "raw" and meta["seeds"] == list(range(6)) and "versions" in meta


def test_chain_svd_coordinates_agree_with_raw_far_from_the_boundary(chain_data):
    X, y = chain_data
    etas = [0.05, 1.2]
    kw = dict(seeds=4, steps=400, ariths="float64", init_scale=0.5, threshold=1e6, mechanism=False, progress=False)
    from symsharp.models.chain.dynamics import chain_svd_model  # the model's own builder (tests may import models)

    raw = blowup_chain(X, y, 2, etas, coords="raw", **kw)
    svd = blowup_chain(X, y, 2, etas, coords="svd", svd_map=chain_svd_map(chain_svd_model(X, y, 2), X), **kw)
    assert np.array_equal(raw["diverged_fraction"].values, svd["diverged_fraction"].values)
    assert json.loads(svd.attrs["symsharp"])["coords"] == "svd"


def test_blowup_errors(quad, chain_data):
    step, state, params = quad
    X, y = chain_data
    with pytest.raises(PrecisionError):
        blowup(step, _x0, {}, ETAS, 2, 10, "arb:64", state=state, param_order=params)
    with pytest.raises(PrecisionError):
        blowup(step, _x0, {}, ETAS, 2, 10, "float64", scan="zeta", state=state, param_order=params)
    with pytest.raises(PrecisionError):
        blowup_chain(X, y, 2, [0.1], coords="polar")
    with pytest.raises(PrecisionError):
        blowup_chain(X, y, 2, [0.1], coords="svd")  # needs the model's SVD map
    with pytest.raises(PrecisionError):
        blowup_chain(X, y, 1, [0.1])
    with pytest.raises(PrecisionError):
        blowup(step, _x0, {}, "0:1:x", 2, 10, "float64", state=state, param_order=params)


def test_mechanism_verdicts_on_constructed_tables():
    import xarray as xr

    from symsharp.analysis.precision import mechanism_summary

    def table(frac):
        rows = ["float16", "float64", "float64+noise:11"]
        f = np.array(frac, float)  # (eta, arith)
        return xr.Dataset({"diverged_fraction": (("eta", "arith"), f)}, coords={"eta": [1.0, 2.0], "arith": rows})

    explained = mechanism_summary(table([[0.0, 0.9, 0.1], [0.2, 1.0, 0.25]]))
    assert explained["tests"][0]["informative"] and explained["tests"][0]["reproduces"]
    assert explained["verdict"].startswith("float64 with injected relative noise")
    unexplained = mechanism_summary(table([[0.0, 0.9, 0.9], [0.2, 1.0, 1.0]]))
    assert not unexplained["tests"][0]["reproduces"] and "does not reproduce" in unexplained["verdict"]
    flat = mechanism_summary(table([[0.5, 0.5, 0.5], [1.0, 1.0, 0.9]]))
    assert not flat["tests"][0]["informative"] and flat["verdict"].startswith("no precision dependence")
