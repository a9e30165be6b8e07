"""The status each chain-model claim's checker returns, pinned.

``tests/test_chain_claims.py`` runs every checker and asserts exactly these statuses, so the
generated documents (which print them next to the results, :func:`tag`) cannot drift from what the
checkers say.  A change of status is a change of this table and of the test's expectation."""
from __future__ import annotations

CLAIM_STATUS = {
    # claims.py: Y1–Y7 as reported, and corrections
    "Y1": "proved", "Y1-interp": "refuted", "Y1-corrected": "proved",
    "Y2": "proved",
    "Y3": "proved", "Y4": "proved", "Y4-full-norm": "refuted",
    "Y5": "refuted", "Y5-corrected": "proved",
    "Y6": "refuted", "Y6-corrected": "proved",
    "Y7": "refuted", "Y7-corrected": "proved",
    "CHAIN-perp": "proved", "CHAIN-zero-loss-ntk": "proved",
    # claims_gf.py: the gradient-flow limit, depth, Y8
    "CHAIN-GF-imbalances": "proved", "CHAIN-GF-limit": "proved", "CHAIN-GF-sharpness": "proved",
    "CHAIN-GF-small-init-bracket": "proved", "Y7-depth-exact": "proved", "Y7-hat-order": "refuted",
    "CHAIN-GF-dS-dC": "proved", "Y8": "refuted", "Y8-final-from-C": "proved", "Y8-eta-small-start": "numerical",
    "Y7-depth-gd": "numerical",
    # claims_route.py: beyond the edge of stability
    "CHAIN-route-first-flip": "numerical", "CHAIN-route-rank-one": "proved",
    "CHAIN-route-D2": "numerical", "CHAIN-route-D3": "numerical",
}


def tag(cid: str) -> str:
    """``**Y3** (proved)`` for the documents."""
    return f"**{cid}** ({CLAIM_STATUS[cid]})"


def tags(*cids: str) -> str:
    return ", ".join(tag(c) for c in cids)
