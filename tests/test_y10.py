"""Claim Y10 on real data: the exact Hessian-vector products on real inputs, the Y10 experiment
(labelled result, correlations, constant-η rule, command line) and the claim checkers."""
import contextlib
import io
import json

import numpy as np
import pytest

from symsharp.data import make_dataset


def _tiny(kind="digits", n=6, **kw):
    spec = {"digits": {"classes": "0,1"}, "photo-patches": {"patch": 3}}[kind]
    ds = make_dataset(kind, samples=n, preprocess="standardize", **spec, **kw)
    return ds.X, ds.y


@pytest.mark.parametrize("act,depth", [("linear", 5), ("tanh", 4)])
def test_hvp_on_real_data_matches_dense_hessian_and_finite_differences(nx, act, depth):
    from symsharp.analysis.widenets import WideNet, reduce_inputs

    X, y = _tiny("photo-patches", 5)
    Xr, P = reduce_inputs(X)
    net = WideNet(d=Xr.shape[1], depth=depth, width=3, activation=act, init_scale=0.8, fan_in=X.shape[1])
    th = net.init(1, project=P)
    H = net.hessian(th, Xr, y)
    assert np.allclose(H, H.T, atol=1e-10 * max(1.0, np.abs(H).max()))
    Hfd = nx.fd_jac(lambda t: net.loss_grad(t, Xr, y)[1], th, h=1e-4)
    nx.assert_close(H, Hfd, rtol=1e-6, what="dense Hessian from HVPs vs finite differences of the gradient")
    v = np.random.default_rng(0).standard_normal(net.n_params)
    nx.assert_close(net.hvp(th, Xr, y, v), H @ v, rtol=1e-10, what="HVP vs dense Hessian")
    assert np.isclose(net.sharpness(th, Xr, y), np.linalg.eigvalsh(H)[-1], rtol=1e-7)


TINY = {"width": 6, "max_steps": 3000, "loss_tol": 1e-3, "archs": ["linear-D5", "tanh-D4"],
        "datasets": [{"kind": "digits", "classes": "0,1", "samples": n, "preprocess": "standardize"} for n in (4, 6, 8)]
        + [{"kind": "photo-patches", "patch": 3, "samples": n, "preprocess": "standardize"} for n in (4, 6)]}


@pytest.fixture(scope="module")
def tiny():
    from symsharp.models.chain.y10 import y10_run

    return y10_run(TINY, progress=False)


def test_y10_result_is_labelled_and_consistent(tiny):
    from scipy.stats import pearsonr

    from symsharp.models.chain.gf import gf_limit_sharpness
    from symsharp.models.chain.y10 import initial_sharpness

    ds = tiny
    meta = json.loads(ds.attrs["symsharp"])
    assert meta["experiment"] == "y10" and meta["config"]["width"] == 6 and "constant" in meta["eta_rule_text"]
    assert list(ds.arch.values) == ["linear-D5", "tanh-D4"]
    assert list(ds.group.values) == ["all", "digits 0,1", "photo 3x3"]
    assert ds["sharpness"].dims == ("arch", "data") and ds["pearson"].dims == ("arch", "group")
    # predictions from the data alone
    for j, spec in enumerate(TINY["datasets"]):
        kw = {k: v for k, v in spec.items() if k != "kind"}
        d = make_dataset(spec["kind"], **kw)
        E, s, _ = np.linalg.svd(d.X, full_matrices=False)
        keep = s > 1e-12 * s[0]
        E, s = E[:, keep], s[keep]
        dd = E.T @ d.y
        Q = float(np.sum((np.linalg.pinv(d.X, rcond=1e-12) @ d.y) ** 2))
        assert np.isclose(ds["Q"].values[j], Q, rtol=1e-8)
        for i, D in enumerate((5, 4)):
            assert np.isclose(ds["S_hat"].values[i, j], s[0] ** 2 / d.N * Q ** ((D - 1) / D), rtol=1e-8)
            Sgf = gf_limit_sharpness(s, dd, np.zeros(D - 1), d.N)["sharpness"]
            assert np.isclose(ds["S_gf"].values[i, j], Sgf, rtol=1e-10)
            # the constant step: eta = 0.5 * 2 / max(S0, S_gf), fixed before training
            S0 = initial_sharpness(d.X, d.y, D, 6, ("linear", "tanh")[i], 0.3, 1000 * i + j)
            assert np.isclose(ds["eta"].values[i, j], 0.5 * 2 / max(S0, Sgf), rtol=1e-6)
            assert np.isclose(ds["sharpness0"].values[i, j], S0, rtol=1e-5)
    # the correlations are Pearson's over the used runs
    used = ds["used"].values
    assert np.array_equal(used, ds["converged"].values & (ds["eta_sharpness"].values <= 1.9))
    for i in range(2):
        u = used[i]
        if u.sum() >= 3:
            r = pearsonr(ds["sharpness"].values[i, u], ds["S_hat"].values[i, u])[0]
            assert np.isclose(float(ds["pearson"].values[i, 0]), r)
        assert int(ds["n_used"].values[i, 0]) == int(u.sum())


def test_y10_figure_and_saving(tiny, tmp_path):
    from symsharp.io import load_result, save_result
    from symsharp.models.chain.plots import FigureError, plot_chain_result, plot_sharpness_vs, plot_y10

    save_result(tiny, tmp_path / "y.nc")
    back = load_result(tmp_path / "y.nc")
    assert plot_chain_result(back, tmp_path / "y.png").stat().st_size > 10000
    with pytest.raises(FigureError, match="sharpness_vs"):
        plot_sharpness_vs(tiny, tmp_path / "x.png")
    assert plot_y10(tiny, tmp_path / "y2.pdf").exists()


def test_y10_command(tmp_path):
    from symsharp.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["experiment", "y10", "--width", "6", "--max-steps", "300", "--json",
                   "--out", str(tmp_path / "y.nc"), "--plot", str(tmp_path / "y.png")])
    assert rc == 0, err.getvalue()
    s = json.loads(out.getvalue())
    assert s["width"] == 6 and s["config"] == "reduced" and len(s["runs"]) == 14
    assert set(s["correlations"]) == {"linear-D5", "tanh-D4"}
    assert (tmp_path / "y.png").exists() and (tmp_path / "y.nc").exists()
    for args, words in ((["--width", "0"], "--width"), (["--config", "huge"], "invalid choice"),
                        (["--eta-frac", "-1"], "--eta-frac")):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            rc = main(["experiment", "y10", *args])
        assert rc == 2 and words in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1


def test_y10_bad_requests():
    from symsharp.models.chain.y10 import Y10Error, y10_run

    for kw, words in (({"archs": ["relu-D3"]}, "unknown architecture"), ({"eta_rule": "magic"}, "eta_rule"),
                      ({"width": 0}, "width"), ({"bogus": 1}, "unknown Y10 option")):
        with pytest.raises(Y10Error, match=words):
            y10_run("reduced", **kw)
    with pytest.raises(Y10Error, match="configuration"):
        y10_run("medium")


def test_y10_claim_checkers():
    """The checkers run the reduced configuration (width 128) and its lazy and narrow variants."""
    from symsharp.claims import verify
    from symsharp.models import load_claims
    from symsharp.models.chain import claims_y10

    load_claims()
    res = {r.claim.id: r.outcome for r in verify(["Y10", "Y10-rich", "Y10-width"])}
    y10 = res["Y10"]
    assert y10.status == "refuted", y10.method
    assert res["Y10-rich"].status == "numerical", res["Y10-rich"].method
    assert res["Y10-width"].status == "numerical", res["Y10-width"].method
    # the counterexample recomputes: retraining its runs gives its sharpness values
    name, ce = next(iter(y10.counterexample.items()))
    S = claims_y10.recompute_pair(ce)
    assert np.allclose(S, [r["S"] for r in ce["runs"]], rtol=1e-6)
    assert ce["runs"][1]["S_hat"] > ce["runs"][0]["S_hat"] and S[1] <= S[0]
    assert ce["pearson_within"] < claims_y10.THRESHOLDS["fails_within"]
    # the statements' thresholds are what the outcomes were compared with
    ds = claims_y10.reduced_result()
    assert float(ds["pearson"].sel(arch="linear-D5", group="all")) >= claims_y10.THRESHOLDS["rich_all"]
    nr = claims_y10.narrow_result()
    assert float(nr["pearson"].sel(arch="tanh-D4", group="digits 0,1")) < claims_y10.THRESHOLDS["fails_within"]
