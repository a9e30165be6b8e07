"""Every chain-model claim's status is pinned, the checkers compare the formulas and numbers written in
their own statements (a deliberately wrong statement is not reported proved), the generated chain
documents name the claims next to the results without Python artefacts, and `derive chain` uses the
data's rank and refuses too-large instances in one line, before any work."""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
import sympy as sp

import symsharp.models  # noqa: F401  (registers the models and their claims)
from symsharp.claims.registry import all_claims, get_claim
from symsharp.models.chain import statements as st
from symsharp.models.chain.status import CLAIM_STATUS

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAIN_MODULES = ("symsharp.models.chain.claims", "symsharp.models.chain.claims_gf",
                 "symsharp.models.chain.claims_route")


def _chain_ids():
    return [c.id for c in all_claims() if c.checker.__module__ in CHAIN_MODULES]


def test_every_chain_claim_has_a_pinned_status():
    ids = _chain_ids()
    assert sorted(ids) == sorted(CLAIM_STATUS), set(ids) ^ set(CLAIM_STATUS)


@pytest.fixture(scope="module")
def outcomes(claim_results):
    return {cid: claim_results[cid].outcome for cid in sorted(CLAIM_STATUS)}


@pytest.mark.parametrize("cid", sorted(CLAIM_STATUS))
def test_status_is_pinned(outcomes, cid):
    out = outcomes[cid]
    assert out.status == CLAIM_STATUS[cid], (cid, out.status, out.method)
    if out.status == "refuted":
        assert out.counterexample


# ------------------------------------------------------------------------------ wrong statements
def _status_with(monkeypatch, cid, name, value):
    monkeypatch.setattr(st, name, value)
    return get_claim(cid).checker().status


def test_wrong_v_star_is_not_proved(monkeypatch):
    wrong = (sp.sqrt(st.C ** 2 + 4 * st.Q) + st.C) / 2        # sign of C flipped
    assert _status_with(monkeypatch, "Y3", "Y3_V_STAR_SQ", wrong) != "proved"


def test_wrong_y3_bound_is_not_proved(monkeypatch):
    right = st.Y3_bounds
    wrong = lambda sig, dd, w: (right(sig, dd, w)[0], (sig[0] ** 2 * w + dd[0] ** 2 / w) / st.N)  # upper = lower
    assert _status_with(monkeypatch, "Y3", "Y3_bounds", wrong) != "proved"


def test_wrong_drift_is_not_proved(monkeypatch):
    right = st.Y5_drift
    assert _status_with(monkeypatch, "Y5-corrected", "Y5_drift",
                        lambda *a: 2 * right(*a)) != "proved"


def test_wrong_solvability_statement_is_not_proved(monkeypatch):
    # "no formula in radicals from D = 4 on" is false: S_4 is solvable (Ferrari)
    assert _status_with(monkeypatch, "CHAIN-GF-limit", "GF_NO_RADICALS_FROM", 4) != "proved"


def test_wrong_rank_one_threshold_value_is_not_proved(monkeypatch):
    assert _status_with(monkeypatch, "Y7-depth-exact", "RANK_ONE_THRESHOLD_D2", sp.Rational(64, 728)) != "proved"


def test_wrong_depth_threshold_is_not_proved(monkeypatch):
    assert _status_with(monkeypatch, "Y7-corrected", "Y7_DEPTH_THRESHOLD_Q", sp.Rational(1, 2)) != "proved"


def test_wrong_rank_one_map_is_not_proved(monkeypatch):
    wrong = st.RX - st.RH / st.D * st.RX ** (st.D - 1) * (st.RX ** st.D - 2)
    assert _status_with(monkeypatch, "CHAIN-route-rank-one", "RANK_ONE_MAP", wrong) != "proved"


def test_wrong_route_numbers_are_not_confirmed(monkeypatch, outcomes):
    for D, name, key, value in ((2, "rank2", "onset", "2.60600"), (3, "rank1", "period3", "2.96200"),
                                (3, "rank3", "crisis", ("4.10", "divergence"))):
        route = {d: {n: dict(c) for n, c in v.items()} for d, v in st.ROUTE.items()}
        route[D][name][key] = value
        assert _status_with(monkeypatch, f"CHAIN-route-D{D}", "ROUTE", route) == "open", (D, name, key)


# ------------------------------------------------------------------------------ documents
DOCS = ("chain.md", "chain_depth3.md", "chain_gf.md", "chain_route.md")


@pytest.mark.parametrize("name", DOCS)
def test_documents_have_no_python_artefacts(name):
    text = (ROOT / "derivations" / name).read_text(encoding="utf-8")
    for bad in ("verified: True", "verified: False", ": True", ": False", "\\text{False}", "\\text{True}", "{'", "np.float"):
        assert bad not in text, (name, bad)
    assert not re.search(r"\b(True|False|None)\b", text), name


@pytest.mark.parametrize("name", DOCS)
def test_documents_show_claim_ids_and_statuses(name):
    text = (ROOT / "derivations" / name).read_text(encoding="utf-8")
    shown = re.findall(r"\*\*([A-Za-z0-9-]+)\*\* \((proved|numerical|refuted|open)\)", text)
    assert shown
    for cid, status in shown:
        assert CLAIM_STATUS[cid] == status, (name, cid)
    table = dict(re.findall(r"^\| ([A-Za-z0-9-]+) \| (proved|numerical|refuted|open) \|", text, flags=re.M))
    assert table and all(CLAIM_STATUS[c] == s for c, s in table.items())


def test_chain_documents_name_y1_to_y7():
    text = "".join((ROOT / "derivations" / n).read_text(encoding="utf-8") for n in ("chain.md", "chain_gf.md"))
    for k in range(1, 8):
        assert re.search(rf"\*\*Y{k}\*\* \(", text), f"Y{k}"


# ------------------------------------------------------------------------------ derive chain
def test_derive_uses_the_data_rank():
    from symsharp.models.chain.symbolic import derive_chain

    res = derive_chain(2, 5, 3)
    assert res["rank"] == 3 and res["rank_is_generic"]
    z = [sp.Symbol(f"z_{i}", real=True) for i in (1, 2, 3)]
    v1 = sp.Symbol("v_1", real=True)
    assert sp.expand(res["svd_gf_invariants"][0] - (sum(x ** 2 for x in z) - v1 ** 2)) == 0
    assert res["ntk_times_N_at_minimum"].shape == (3, 3)
    assert derive_chain(2, 2, 3, rank=1)["rank"] == 1


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "symsharp.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


def test_derive_refuses_in_one_line_before_any_work():
    for args, word in ((("--samples", "7"), "--samples"), (("--samples", "6", "--dim", "6"), "--rank"),
                       (("--samples", "2", "--dim", "3", "--rank", "3"), "--rank"), (("--rank", "0"), "--rank")):
        p = _cli("derive", "chain", *args)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and word in p.stderr and "Traceback" not in p.stderr


def test_derive_reports_its_rank_in_json_and_markdown():
    import json

    p = _cli("derive", "chain", "--samples", "3", "--dim", "2", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["rank"] == 2 and out["options"]["rank"] == 2
    p = _cli("derive", "chain", "--samples", "3", "--dim", "3", "--rank", "2")
    assert p.returncode == 0 and "rank r = 2 < min(N, d) = 3" in p.stdout
