"""Chain experiments: shapes, references, the edge-of-stability run, the Y8 counterexamples and the figures."""
import json

import numpy as np
import pytest

from symsharp.models.chain.experiments import (ExperimentError, eos_run, final_sharpness, flattest_imbalance,
                                                 references, sharpness_vs, summary_table)
from symsharp.models.chain.dynamics import run_chain


@pytest.mark.parametrize("kind,values", [("N", (20, 40)), ("depth", (2, 3)), ("eta", (0.3, 0.6)),
                                         ("batch", (2, None))])
def test_sharpness_vs_shapes_and_sanity(kind, values):
    steps = 20000 if kind == "batch" else 4000  # the batch sweep uses a 12× smaller η
    ds = sharpness_vs(kind, values=values, seeds=(0, 1), steps=steps, eta_relative=True if kind == "eta" else None)
    assert ds["sharpness"].shape == (2, 2)
    assert ds["C"].shape[:2] == (2, 2)
    cfg = json.loads(ds.attrs["symsharp"])
    assert cfg["kind"] == kind and cfg["steps"] == steps
    assert not ds["diverged"].values.any()
    conv = ds["converged"].values.astype(bool)
    assert conv.sum() >= 3
    S, Sst = ds["sharpness"].values, ds["S_star"].values
    # converged runs sit at a global minimum: S equals the formula at the final imbalances
    assert np.allclose(S[conv], Sst[conv], rtol=1e-6)
    assert np.all(ds["S_hat"].values * (1 - 1e-9) <= ds["S_gf_small"].values)
    assert np.all(ds["S_gf_small"].values <= ds["depth"].values * ds["S_hat"].values * (1 + 1e-9))
    assert np.all(ds["Y4_lower"].values <= ds["S_gf_small"].values * (1 + 1e-9))
    assert len(summary_table(ds)) == 2


def test_depth_sweep_matches_gf_limit_and_beats_s_hat_ordering():
    ds = sharpness_vs("depth", seeds=(0,), steps=20000)  # Q = 0.5 < 1: Ŝ_D falls with D
    S = ds["sharpness"].values[:, 0]
    assert ds["converged"].values.all()
    assert np.allclose(S, ds["S_gf"].values[:, 0], rtol=0.03)
    assert np.all(np.diff(S) > 0) and np.all(np.diff(ds["S_hat"].values) < 0)


def test_batch_sweep_small_batches_flatter_here():
    ds = sharpness_vs("batch", values=(1, 5, None), seeds=(0, 1), steps=20000)
    m = ds["sharpness"].mean("seed").values
    assert ds["converged"].values.all()
    assert m[0] < m[1] < m[2]  # Y8's batch direction holds on these data (and fails elsewhere, see Y8)


def test_eos_run_settles_at_two_over_eta_while_C_grows():
    ds = eos_run(steps=1500)
    s = json.loads(ds.attrs["summary"])
    two = float(ds["two_over_eta"])
    S = ds["sharpness"].values
    late = S[int(0.8 * len(S)):]
    assert np.all(np.abs(late / two - 1) < 0.03)
    assert s["diverged_at"] is None and s["final_loss"] < 1e-20
    # GF from the same start would end too sharp for this η; GD ends at 2/η instead
    assert s["S_gf"] > 1.3 * two
    # the edge of stability is reached (sharpness above 2/η for a while) and C grows there
    above = np.nonzero(S > two * 1.005)[0]
    assert len(above) > 20
    C = ds["C"].values
    assert C[-1] - C[0] > 0.5
    assert C[above[-1]] > C[above[0]]
    # the sharpness at the end equals the exact S*(C) and is just below 2/η
    assert abs(S[-1] - ds["S_star"].values[-1]) < 1e-9 * S[-1] and S[-1] < two
    C_opt, S_min = flattest_imbalance(*_eos_data())
    assert S_min < two < float(ds["S_balanced"])


def _eos_data():
    from symsharp.models.chain.experiments import eos_setup

    X, y, *_ = eos_setup()
    return X, y


def test_y8_counterexample_recomputes_from_its_dict():
    from symsharp.claims import get_claim

    out = get_claim("Y8").checker()
    assert out.status == "refuted"
    c = out.counterexample["eta_case"]
    X, y, u0, v0 = (np.array(c[k], float) for k in ("X", "y", "u0", "v0"))
    res = []
    for eta in (c["eta_small"], c["eta_large"]):
        r = run_chain(X, y, c["depth"], eta, c["steps"], record_every=c["steps"], u0=u0, v0=v0)
        assert r.records["loss"][-1] < 1e-25
        res.append(r.records["sharpness"][-1])
    assert res[1] > 1.2 * res[0]
    b = out.counterexample["batch_case"]
    X, y, u0, v0 = (np.array(b[k], float) for k in ("X", "y", "u0", "v0"))
    sgd = run_chain(X, y, 2, b["eta"], b["steps"], record_every=b["steps"], u0=u0, v0=v0, batch=b["batch_small"],
                    seed=b["seed"], replacement=b["replacement"])
    gd = run_chain(X, y, 2, b["eta"], b["steps"], record_every=b["steps"], u0=u0, v0=v0)
    assert sgd.records["sharpness"][-1] > 1.05 * gd.records["sharpness"][-1]
    assert np.isclose(sgd.records["sharpness"][-1], b["S_final_sgd_B1"], rtol=1e-9)


def test_final_sharpness_equals_formula():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 6))
    y = rng.normal(size=4)
    r = final_sharpness(X, y, 3, 0.05, 20000, rng.normal(size=6) * 0.5, rng.normal(size=2) * 0.5)
    assert not r["diverged"] and np.isclose(r["sharpness"], r["S_star"], rtol=1e-9)
    ref = references(X, y, 3, C=r["C"])
    assert ref["lower"] * (1 - 1e-12) <= r["sharpness"] <= ref["upper"] * (1 + 1e-12)


def test_bad_arguments():
    with pytest.raises(ExperimentError, match="kind"):
        sharpness_vs("width")
    with pytest.raises(ExperimentError, match="steps"):
        sharpness_vs("depth", steps=0)


def test_figures_and_saving(tmp_path):
    from symsharp.io import load_result, save_result
    from symsharp.models.chain.plots import FigureError, plot_chain_result, plot_eos, plot_sharpness_vs

    ds = sharpness_vs("N", values=(20, 40), seeds=(0,), steps=3000)
    p = plot_sharpness_vs(ds, tmp_path / "n.png")
    assert p.exists() and p.stat().st_size > 10000
    save_result(ds, tmp_path / "n.nc")
    back = load_result(tmp_path / "n.nc")
    assert plot_chain_result(back, tmp_path / "n2.png").exists()
    e = eos_run(steps=300)
    assert plot_eos(e, tmp_path / "eos.png").exists()
    with pytest.raises(FigureError, match="eos_run"):
        plot_eos(ds, tmp_path / "x.png")
