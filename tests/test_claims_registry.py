"""Every registered claim runs, honours the status contract and has its pinned verdict."""
import json

import pytest

from symsharp.claims import ClaimError, get_claim
from symsharp.claims.registry import STATUSES, all_claims


@pytest.fixture(scope="module")
def results(claim_results):
    return claim_results


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


# Every registered claim's status, pinned: a change of verdict must be a deliberate edit here.
PINNED = {
    "ANY-quadratic-stability": "proved", "CUSTOM-two-parameter-route": "numerical", "Y1": "proved",
    "Y1-interp": "refuted", "Y1-corrected": "proved", "Y2": "proved", "Y3": "proved", "Y4": "proved",
    "Y4-full-norm": "refuted", "Y5": "refuted", "Y5-corrected": "proved", "Y6": "refuted",
    "Y6-corrected": "proved", "Y7": "refuted", "Y7-corrected": "proved", "CHAIN-perp": "proved",
    "CHAIN-zero-loss-ntk": "proved", "CHAIN-GF-imbalances": "proved", "CHAIN-GF-limit": "proved",
    "CHAIN-GF-sharpness": "proved", "CHAIN-GF-small-init-bracket": "proved", "Y7-depth-exact": "proved",
    "Y7-hat-order": "refuted", "CHAIN-GF-dS-dC": "proved", "Y8": "refuted", "Y8-final-from-C": "proved",
    "Y8-eta-small-start": "numerical", "Y7-depth-gd": "numerical", "Y9": "numerical", "Y9-window": "numerical",
    "Y9-mechanism": "numerical", "Y9-decay": "numerical", "Y9-control": "numerical", "Y10": "refuted",
    "Y10-rich": "numerical", "Y10-width": "numerical", "CHAIN-route-first-flip": "numerical",
    "CHAIN-route-rank-one": "proved", "CHAIN-route-D2": "numerical", "CHAIN-route-D3": "numerical",
    "UV-closed-map": "proved", "UV-layerwise-not-closed": "proved", "UV-several-examples-not-closed": "proved",
    "UV-feasible-set": "proved", "UV-sharpness": "proved", "UV-gf-invariant": "proved",
    "UV-fixed-points": "proved", "UV-lewkowycz-thresholds": "proved", "UV-lewkowycz-regimes": "numerical",
    "UV-zero-loss-ntk": "proved", "UV-eta-c": "proved", "UV-one-parameter": "proved",
    "UV-init-numbers": "proved", "UV-parameterisations": "proved", "UV-layerwise-rates": "proved",
    "UV-first-step": "proved", "UV-first-step-disagreement": "proved", "PRECISION-horizon-law": "numerical",
    "PRECISION-certified-horizon": "numerical", "PRECISION-uv-two-cycle": "proved",
    "UV-quartic-conjugacy": "proved", "UV-eos-manifold": "proved", "UV-eos-map": "proved",
    "UV-eos-two-cycle": "proved", "UV-eos-second-two-cycle": "proved", "UV-eos-crisis": "proved",
    "UV-eos-cascade": "numerical", "UV-feigenbaum": "numerical", "UV-eos-period3": "numerical",
    "UV-separatrix": "proved", "UV-divergence-boundary": "numerical", "UV-eos-attracts": "numerical",
    "UV-route-general": "numerical", "UV-period3-windows": "numerical",
}


def test_every_claim_has_its_pinned_status(results):
    assert set(results) == set(PINNED), (set(results) ^ set(PINNED))
    got = {cid: r.outcome.status for cid, r in results.items()}
    assert got == PINNED, {c: (got[c], PINNED[c], results[c].outcome.method[:160]) for c in got if got[c] != PINNED[c]}


def test_no_claim_left_open(results):
    open_ = [cid for cid, r in results.items() if r.outcome.status == "open"]
    assert not open_, open_


def test_unknown_id():
    with pytest.raises(ClaimError, match="NOPE"):
        get_claim("NOPE")
