"""Claim Y9 and the precision claims: the reduced Y9 experiment's findings (a precision window, the
mechanism test, the delayed loss of stability, the decay in the survivors, the well-conditioned
control), the claims' statuses pinned, statements that check their own numbers, and the chain
model's raw-coordinates hook."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from symsharp.claims import get_claim, verify
from symsharp.models import get_model, load_claims
from symsharp.models.chain import precision as P

Y9_CLAIMS = {"Y9": "numerical", "Y9-window": "numerical", "Y9-mechanism": "numerical", "Y9-decay": "numerical",
             "Y9-control": "numerical"}
PRECISION_CLAIMS = {"PRECISION-horizon-law": "numerical", "PRECISION-certified-horizon": "numerical",
             "PRECISION-uv-two-cycle": "proved"}


@pytest.fixture(scope="module")
def reduced():
    ds = P.y9_blowup("ill", "reduced")
    return ds, P.thresholds(ds), P.window(ds)


def test_higher_precision_blows_up_from_a_smaller_learning_rate(reduced):
    ds, th, w = reduced
    assert th["dd"] < th["float64"] < th["float32"]
    assert w["high"] == w["seeds"] == 16 and w["low"] == 0
    rel = ds["eta_rel"].values
    f = ds["diverged_fraction"]
    # at the smallest learning rates nothing blows up, at the largest everything
    for a in ("float32", "float64", "dd"):
        assert f.sel(arith=a).values[0] == 0 and f.sel(arith=a).values[-1] >= 0.9
    assert rel[0] < th["dd"]


def test_the_mechanism_test_reproduces_each_precision(reduced):
    ds, th, _ = reduced
    assert abs(th["float64+noise:24"] - th["float32"]) <= 0.25
    assert th["float64+noise:52"] == th["float64"]
    import json

    mech = json.loads(ds.attrs["mechanism"])
    assert "reproduces" in mech["verdict"] and "not" not in mech["verdict"].split("reproduces")[0]


def test_the_loss_of_stability_is_delayed_more_with_more_bits(reduced):
    _, _, w = reduced
    dl = P.y9_delay(rel=w["eta_rel"])
    f32, f64, dd = dl["float32"], dl["float64"], dl["dd"]
    assert f32["t_cross"] == f64["t_cross"] == dd["t_cross"]  # identical before the crossing
    assert f64["damping_bits"] > 53
    assert f32["t_exit"] < f64["t_exit"] < dd["t_exit"]
    assert 2 < f32["overshoot"] < f64["overshoot"] < dd["overshoot"]
    assert f32["diverged_at"] < 0 <= f64["diverged_at"]
    control = P.y9_delay("well", rel=P.thresholds(P.y9_blowup("well", "reduced"))["float64"])["float64"]
    assert control["damping_bits"] < 24


def test_the_oscillation_decays_in_the_survivors(reduced):
    _, _, w = reduced
    dc = P.y9_decay(rel=w["eta_rel"])
    assert dc["diverged_at"] == -1 and 1.99 < dc["eta_S_end"] < 2
    assert abs(dc["factor_measured"] - dc["factor_predicted"]) < 1e-4 and dc["factor_measured"] < 1
    assert dc["loss_end"] < 1e-8


def test_period2_amplitude_filter():
    t = np.arange(40)
    r = 3.0 * (-1.0) ** t + 0.5 + 0.01 * t + 1e-3 * t ** 2
    a = P.period2_amplitude(r)
    assert np.all(np.isnan(a[:3])) and np.all(np.isnan(a[-3:]))
    assert np.allclose(a[3:-3], 3.0)


def test_claim_statuses_are_pinned():
    load_claims()
    got = {r.claim.id: r.outcome.status for r in verify(list(Y9_CLAIMS) + list(PRECISION_CLAIMS))}
    assert got == {**Y9_CLAIMS, **PRECISION_CLAIMS}


@pytest.mark.parametrize("cid, old, new", [("Y9-window", "`3.25`", "`3.50`"), ("Y9-decay", "`1.99866`", "`1.99800`"),
                                           ("PRECISION-certified-horizon", "`334`", "`340`")])
def test_a_wrong_number_in_a_statement_refutes_the_claim(monkeypatch, cid, old, new):
    from symsharp.claims import registry

    load_claims()
    c = get_claim(cid)
    assert old in c.statement
    monkeypatch.setitem(registry._REGISTRY, cid, dataclasses.replace(c, statement=c.statement.replace(old, new, 1)))
    out = get_claim(cid).checker()
    assert out.status == "refuted" and out.counterexample


def test_counterexamples_recompute(reduced):
    from symsharp.models.chain.claims_y9 import recompute

    ds, _, _ = reduced
    got = recompute({"data": "ill", "config": "reduced"})
    assert got["float64"] == ds["diverged_fraction"].sel(arith="float64").values.tolist()


def test_raw_coordinates_hook(tmp_path):
    p = P.y9_problem("rank8")
    path = tmp_path / "d.npz"
    np.savez(path, X=p["X"], y=p["y"])
    spec = get_model("chain")
    rc = spec.raw_coordinates(spec.resolve("dynamics", {"data_file": str(path), "depth": 2}))
    assert rc["depth"] == 2 and np.array_equal(rc["X"], p["X"]) and np.array_equal(rc["y"], p["y"])
    step, state, params, W = rc["svd_map"]()
    assert len(state) == 8 + 1 and W.shape == (40, 8)
    assert get_model("uv").raw_coordinates is None
