"""``symsharp precision horizon|blowup|certify`` end to end at small sizes: the JSON contracts, the
same numbers as the Python API on the same exact inputs, raw and SVD coordinates of the chain
model, one-line errors with status 2 (nothing written), and the ``--out`` / ``symsharp plot``
round trip."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from symsharp.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def one_line_error(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symsharp: error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def chain_files(tmp_path_factory):
    """Small chain-model data sets: rank 8 (raw and SVD coordinates) and rank 10 (raw only)."""
    from symsharp.data import make_dataset

    d = tmp_path_factory.mktemp("chain")
    out = {}
    for name, rank in (("rank4", 4), ("rank10", 10)):
        ds = make_dataset("spectrum", samples=10, dim=12, seed=0,
                          spectrum=list(np.sqrt(10) * np.geomspace(1, 1 / 30, rank)), Q=2.0)
        path = d / f"{name}.npz"
        np.savez(path, X=ds.X, y=ds.y)
        out[name] = (path, ds.X, ds.y)
    return out


# ----------------------------------------------------------------------------------- horizon
def test_horizon_json_contract_and_api_agreement(capsys):
    from symsharp.analysis.precision import horizon_json, precision_horizon
    from symsharp.models import get_model

    j = run_json(capsys, "precision", "horizon", "uv", "--eta", "15", "--f0", "0", "--lam0", "0.1",
                 "--arith", "float32,float64,mpfr:128")
    for key in ("lyapunov", "reference", "tol", "rows", "attracting", "note", "initial_state", "params"):
        assert key in j
    assert j["tol"] == 1e-3 and j["attracting"] is False and j["lyapunov"] > 0.4
    assert j["params"] == {"eta": "15.0", "a": "0.01", "y": "1.0"} and j["initial_state"] == {"f": "0.0", "lam": "0.1"}
    rows = {r["arith"]: r for r in j["rows"]}
    assert [r["arith"] for r in j["rows"]] == ["float32", "float64", "mpfr:128"]
    for r in j["rows"]:
        assert set(r) >= {"arith", "bits", "horizon", "predicted"}
    assert rows["float32"]["horizon"] < rows["float64"]["horizon"] < rows["mpfr:128"]["horizon"]
    # the same exact inputs through the Python API give the same rows
    kw = get_model("uv").map_kwargs({})
    ds = precision_horizon(kw["step"], {"f": "0", "lam": "0.1"}, {"eta": "15", "a": "0.01", "y": "1"},
                           "float32,float64,mpfr:128", state=kw["state"], param_order=kw["params"])
    assert horizon_json(ds)["rows"] == j["rows"]


def test_horizon_on_an_attracting_orbit_says_there_is_none(capsys):
    j = run_json(capsys, "precision", "horizon", "uv", "--eta", "11", "--f0", "0", "--lam0", "0.1",
                 "--arith", "float32,float64", "--steps", "300")
    assert j["attracting"] is True and j["lyapunov"] < 0
    assert all(r["horizon"] is None and r["predicted"] is None for r in j["rows"])
    assert "for ever" in j["note"]


def test_horizon_observable_expression_and_text_output(capsys):
    code, out, err = run(capsys, "precision", "horizon", "uv", "--eta", "15", "--f0", "0", "--lam0", "0.1",
                         "--arith", "float32", "--observable", "f*lam")
    assert code == 0, err
    assert "f*lam" in out and "float32" in out


# ----------------------------------------------------------------------------------- blow-up
def test_blowup_generic_map_contract(capsys):
    j = run_json(capsys, "precision", "blowup", "uv", "--eta", "1,30", "--seeds", "3", "--steps", "60",
                 "--arith", "float32,float64")
    for key in ("eta", "arith", "diverged_fraction", "diverged_at", "mechanism", "mechanism_verdict", "seeds"):
        assert key in j
    assert j["eta"] == [1.0, 30.0] and j["seeds"] == [0, 1, 2] and j["coords"] == "map"
    assert j["arith"] == ["float32", "float64", "float64+noise:24"]
    frac = np.array(j["diverged_fraction"])
    assert frac.shape == (2, 3) and np.all(frac[0] == 0) and np.all(frac[1] == 1)
    assert len(j["diverged_at"]) == 2 and len(j["diverged_at"][1][0]) == 3
    assert all(v is None for v in j["diverged_at"][0][0]) and all(v > 0 for v in j["diverged_at"][1][1])
    assert j["mechanism_verdict"]


def test_blowup_chain_raw_is_the_networks_arithmetic(capsys, chain_files):
    from symsharp.analysis.precision import blowup_chain

    path, X, y = chain_files["rank10"]
    j = run_json(capsys, "precision", "blowup", "chain", "--data-file", str(path), "--depth", "2", "--init-scale",
                 "0.3", "--eta", "0.5,3", "--seeds", "4", "--steps", "300", "--arith", "float32,float64")
    assert j["coords"] == "raw" and j["arith"] == ["float32", "float64", "float64+noise:24"]
    ds = blowup_chain(X, y, 2, [0.5, 3.0], 4, 300, "float32,float64", init_scale=0.3, progress=False)
    want = [[[None if v < 0 else int(v) for v in row] for row in plane] for plane in ds["diverged_at"].values]
    assert j["diverged_at"] == want


def test_blowup_chain_svd_coordinates(capsys, chain_files):
    path, X, y = chain_files["rank4"]
    args = ("precision", "blowup", "chain", "--data-file", str(path), "--depth", "2", "--init-scale", "0.3",
            "--eta", "0.2,8", "--seeds", "3", "--steps", "200", "--arith", "float64", "--no-mechanism")
    raw = run_json(capsys, *args)
    svd = run_json(capsys, *args, "--coords", "svd")
    assert svd["coords"] == "svd" and raw["coords"] == "raw"
    assert svd["diverged_fraction"] == raw["diverged_fraction"]  # far from the boundary the coordinates agree
    assert svd["diverged_fraction"][0] == [0.0] and svd["diverged_fraction"][1] == [1.0]


# ----------------------------------------------------------------------------------- certify
def test_certify_contract_with_krawczyk_proof(capsys):
    j = run_json(capsys, "precision", "certify", "uv", "--eta", "11", "--f0", "0", "--lam0", "0.1", "--steps", "300",
                 "--bits", "128")
    for key in ("bits", "steps", "tol", "certified_steps", "statements", "periodic_orbit", "width", "stays_in_box"):
        assert key in j
    assert j["bits"] == 128 and j["steps"] == 300 and j["tol"] == 1e-3 and j["certified_steps"] == 300
    po = j["periodic_orbit"]
    assert po["proved"] and po["period"] == 2 and po["stable"]
    assert all(abs(m[0]) < 1 and m[1] - m[0] < 1e-12 for m in po["multipliers"])
    assert any("Krawczyk" in s for s in j["statements"])
    assert len(j["width"]) == 301


def test_certify_divergence_statement(capsys):
    j = run_json(capsys, "precision", "certify", "uv", "--eta", "17", "--f0", "0", "--lam0", "0.1", "--steps", "40",
                 "--period", "none")
    assert j["exceeds_threshold_at"] is not None
    assert any("provably exceeds" in s for s in j["statements"])


# ----------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("argv, words", [
    (("precision", "horizon", "uv", "--arith", "float99"), "unknown arithmetic"),
    (("precision", "horizon", "uv", "--arith", "mpfr:1"), "at least 2 bits"),
    (("precision", "certify", "uv", "--bits", "1"), "--bits"),
    (("precision", "blowup", "uv", "--coords", "raw"), "raw coordinates"),
    (("precision", "blowup", "uv", "--arith", "arb:64"), "arb"),
    (("precision", "blowup", "uv", "--seed", "3"), "--seeds"),
    (("precision", "blowup", "uv", "--seeds", "0"), "--seeds"),
    (("precision", "blowup", "uv", "--noise-bits", "60"), "--noise-bits"),
    (("precision", "horizon", "uv", "--eta", "1:2:3"), "one value"),
    (("precision", "horizon", "uv", "--tol", "2"), "tol"),
    (("precision", "horizon", "uv", "--observable", "zz"), "zz"),
    (("precision", "certify", "uv", "--period", "x"), "--period"),
    (("precision", "blowup", "chain", "--batch", "4"), "deterministic"),
    (("precision", "horizon", "uv", "--plot", "x.txt"), ".png"),
])
def test_one_line_errors(capsys, argv, words):
    assert words in one_line_error(capsys, *argv)


def test_svd_coordinates_need_low_rank(capsys, chain_files):
    path, _, _ = chain_files["rank10"]
    msg = one_line_error(capsys, "precision", "blowup", "chain", "--data-file", str(path), "--depth", "2", "--eta",
                         "1", "--seeds", "2", "--steps", "5", "--coords", "svd")
    assert "rank" in msg and "--coords raw" in msg


def test_mpfr_without_gmpy2_is_one_line(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "gmpy2", None)  # import gmpy2 now raises ImportError
    assert "gmpy2" in one_line_error(capsys, "precision", "horizon", "uv", "--arith", "float64,mpfr:256")


def test_nothing_half_written(capsys, tmp_path):
    out, png = tmp_path / "r.nc", tmp_path / "r.png"
    one_line_error(capsys, "precision", "horizon", "uv", "--eta", "15", "--arith", "float32", "--observable", "zz",
                   "--out", str(out), "--plot", str(png))
    one_line_error(capsys, "precision", "blowup", "uv", "--arith", "float32", "--out", str(tmp_path / "no" / "x.nc"))
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------- --out and plot
@pytest.mark.parametrize("argv", [
    ("precision", "horizon", "uv", "--eta", "15", "--f0", "0", "--lam0", "0.1", "--arith", "float32,float64,arb:128"),
    ("precision", "blowup", "uv", "--eta", "1,30", "--seeds", "2", "--steps", "40", "--arith", "float32,float64"),
    ("precision", "certify", "uv", "--eta", "15", "--f0", "0", "--lam0", "0.1", "--steps", "120", "--bits", "128"),
])
def test_out_and_plot_round_trip(capsys, tmp_path, argv):
    from symsharp.io import load_result, metadata

    nc, png, png2 = tmp_path / "r.nc", tmp_path / "r.png", tmp_path / "again.png"
    code, _, err = run(capsys, *argv, "--out", str(nc), "--plot", str(png))
    assert code == 0, err
    meta = metadata(load_result(nc))
    assert meta["kind"] == f"precision-{argv[1]}" and meta["model"] == "uv"
    code, _, err = run(capsys, "plot", str(nc), "--plot", str(png2))
    assert code == 0, err
    assert png.stat().st_size > 10_000 and png2.stat().st_size > 10_000


def test_custom_model_blowup(capsys):
    j = run_json(capsys, "precision", "blowup", "custom", "--loss", "(w1*w2 - 1)**2/2", "--eta", "0.5,3", "--seeds",
                 "2", "--steps", "200", "--arith", "float32,float64", "--no-mechanism")
    assert j["arith"] == ["float32", "float64"] and np.array(j["diverged_fraction"]).shape == (2, 2)
    assert j["diverged_fraction"][0] == [0.0, 0.0]
