"""Every registered claim runs and honours the status contract; UV claims have the expected verdicts."""
import json

import pytest

from symsharp.claims import ClaimError, get_claim, verify
from symsharp.claims.registry import STATUSES, all_claims


@pytest.fixture(scope="module")
def results():
    return {r.claim.id: r for r in verify()}


def test_required_ids_registered():
    ids = {c.id for c in all_claims()}
    required = {f"Y{i}" for i in range(1, 8)} | {"UV-closed-map", "UV-sharpness", "UV-gf-invariant", "UV-fixed-points",
                                                 "UV-lewkowycz-thresholds", "UV-lewkowycz-regimes", "UV-zero-loss-ntk"}
    assert required <= ids, required - ids


def test_every_claim_honours_contract(results):
    for cid, r in results.items():
        assert r.outcome.status in STATUSES
        d = r.as_dict()
        json.dumps(d)  # serialisable, counterexamples included
        if r.outcome.status == "refuted":
            assert d["counterexample"], cid
        assert r.outcome.method, cid


def test_uv_claims_proved(results):
    for cid in ("UV-closed-map", "UV-layerwise-not-closed", "UV-several-examples-not-closed", "UV-feasible-set",
                "UV-sharpness", "UV-gf-invariant", "UV-fixed-points", "UV-lewkowycz-thresholds", "UV-zero-loss-ntk",
                "ANY-quadratic-stability"):
        assert results[cid].outcome.status == "proved", (cid, results[cid].outcome)
    assert results["UV-lewkowycz-regimes"].outcome.status == "numerical"


def test_no_claim_left_open(results):
    open_ = [cid for cid, r in results.items() if r.outcome.status == "open"]
    assert not open_, open_


def test_unknown_id():
    with pytest.raises(ClaimError, match="NOPE"):
        get_claim("NOPE")
