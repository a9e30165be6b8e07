"""Real data (scikit-learn's digits and photo patches) through every chain-model command, ``symsharp
data describe`` against NumPy, and the chain experiments on real data at tiny sizes."""
import contextlib
import io
import json

import numpy as np
import pytest

from symsharp.cli.main import main
from symsharp.data import make_dataset


def cli(*args):
    """Run the command line in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), np.errstate(all="ignore"):
        rc = main([str(a) for a in args])
    return rc, out.getvalue(), err.getvalue()


def ok(*args):
    rc, out, err = cli(*args)
    assert rc == 0, err
    return out


# ----------------------------------------------------------------------------- the chain commands
@pytest.mark.parametrize("flags,N,d", [
    (["--data-kind", "digits", "--samples", 10], 10, 64),
    (["--data-kind", "digits", "--classes", "3,8", "--samples", 12, "--preprocess", "standardize"], 12, 64),
    (["--data-kind", "photo-patches", "--patch", 4, "--samples", 6, "--preprocess", "center,unit-norm"], 6, 48),
    (["--data-kind", "digits", "--samples", 8, "--batch", 2], 8, 64),
])
def test_run_on_real_data(tmp_path, flags, N, d):
    from symsharp.data import describe_data
    from symsharp.io import load_result

    out = ok("run", "chain", *flags, "--steps", 200, "--json", "--out", tmp_path / "r.nc")
    res = json.loads(out)
    assert res["steps"] == 200 and res["diverged_at"] == -1
    ds = load_result(tmp_path / "r.nc")
    assert int(ds.attrs["N"]) == N and int(ds.attrs["d"]) == d
    kw = dict(zip(flags[::2], flags[1::2]))
    data = make_dataset(kw["--data-kind"], samples=N, classes=kw.get("--classes"), patch=kw.get("--patch"),
                        preprocess=kw.get("--preprocess"))
    assert np.isclose(float(ds.attrs["Q"]), describe_data(data.X, data.y)["Q"], rtol=1e-10)


def test_scans_on_real_data(tmp_path):
    """orbit, lyapunov and phase compile the SVD-coordinate map of the digits (rank 4, one kernel)."""
    base = ["chain", "--data-kind", "digits", "--samples", 4, "--depth", 2]
    o = json.loads(ok("orbit", *base, "--eta", "0.2:1.2:3", "--transient", 200, "--keep", 16, "--json"))
    assert len(o["eta"]) == 3 and len(o["regime"]) == 3
    ly = json.loads(ok("lyapunov", *base, "--eta", "0.2,0.6", "--json"))
    assert len(ly["lyapunov"]) == 2
    ph = json.loads(ok("phase", *base, "--eta", "0.2:1.2:2", "--init-scale", "0.1:0.5:2", "--json"))
    assert np.shape(ph["regime"]) == (2, 2)


def test_symbolic_map_uses_the_real_data():
    """The hook bifurcation analyses compile from: state (z, v) of size rank + D − 1, for the real data."""
    from symsharp.models import get_model

    spec = get_model("chain")
    kw = spec.map_kwargs({"data_kind": "digits", "classes": "3,8", "samples": 3, "depth": 3})
    assert len(kw["state"]) == 3 + 2
    with pytest.raises(Exception, match="patch applies only"):
        spec.map_kwargs({"data_kind": "digits", "samples": 3, "patch": 4})


def test_bifurcation_takes_the_real_data_options():
    rc, out, err = cli("bifurcation", "chain", "--help")
    assert rc == 0
    for flag in ("--data-kind", "--classes", "--patch", "--preprocess"):
        assert flag in out


@pytest.mark.parametrize("args,words", [
    (["run", "chain", "--classes", "3,8"], "classes applies only"),
    (["run", "chain", "--data-kind", "digits", "--patch", 4], "patch applies only"),
    (["run", "chain", "--data-kind", "photo-patches", "--classes", "0,1"], "classes applies only"),
    (["run", "chain", "--data-kind", "digits", "--dim", 10], "dim = 10 is not possible"),
    (["run", "chain", "--data-kind", "digits", "--preprocess", "blur"], "unknown preprocessing step"),
    (["run", "chain", "--data-kind", "digits", "--samples", 5000], "more than the"),
    (["run", "chain", "--data-kind", "digits", "--classes", "3,3"], "two different digits"),
    (["run", "chain", "--data-file", "x.npz", "--classes", "3,8"], "not both (classes)"),
    (["orbit", "chain", "--data-kind", "digits", "--samples", 20, "--eta", "0.1:1:3"], "rank 20"),
    (["data", "describe", "--data-kind", "digits", "--patch", 3], "patch applies only"),
    (["data", "describe", "--depths", "1,2"], "--depths"),
    (["experiment", "chain-sharpness", "--data-kind", "digits", "--dim", 10], "--dim does not apply"),
    (["experiment", "chain-sharpness", "--patch", 8], "--patch applies only"),
    (["experiment", "chain-eos", "--data-kind", "gaussian"], "chain-eos takes"),
    (["experiment", "chain-eos", "--data-kind", "digits", "--vs", "N"], "--vs is not an option"),
])
def test_bad_combinations_are_one_line_errors(args, words):
    rc, out, err = cli(*args)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and words in err, err


# ----------------------------------------------------------------------------- data describe
@pytest.mark.parametrize("flags", [
    ["--data-kind", "digits", "--classes", "3,8", "--samples", 30],
    ["--data-kind", "digits", "--samples", 120, "--preprocess", "standardize"],   # N > rank: least squares
    ["--data-kind", "photo-patches", "--patch", 6, "--samples", 15, "--preprocess", "center"],
    ["--data-kind", "spectrum", "--samples", 12, "--dim", 7, "--target-q", 2.5],
])
def test_data_describe_json_against_pinv_and_svd(flags):
    from symsharp.models.chain.system import chain_data

    res = json.loads(ok("data", "describe", *flags, "--json"))
    kw = dict(zip(flags[::2], flags[1::2]))
    data = chain_data(kw.get("--samples"), kw.get("--dim"), kw["--data-kind"], None, None, kw.get("--target-q"),
                      classes=kw.get("--classes"), patch=kw.get("--patch"), preprocess=kw.get("--preprocess"))
    X, y = data.X, data.y
    s = np.linalg.svd(X, compute_uv=False)
    Q = float(np.sum((np.linalg.pinv(X, rcond=1e-12) @ y) ** 2))
    assert (res["N"], res["d"]) == X.shape
    assert res["rank"] == np.linalg.matrix_rank(X, tol=1e-12 * s[0])
    assert np.isclose(res["sigma1"], s[0], rtol=1e-12)
    assert np.isclose(res["Q"], Q, rtol=1e-7)
    assert set(res["S_hat"]) == {"2", "3", "4", "5"}
    for D, v in res["S_hat"].items():
        D = int(D)
        assert np.isclose(v, s[0] ** 2 / X.shape[0] * Q ** ((D - 1) / D), rtol=1e-7)
    if "--target-q" in kw:
        assert np.isclose(res["Q"], 2.5, rtol=1e-9)


def test_data_describe_text():
    out = ok("data", "describe", "--data-kind", "digits", "--samples", 20, "--depths", "2,4")
    assert "rank" in out and "S_hat D=2" in out and "S_hat D=4" in out and "S_hat D=3" not in out


# ----------------------------------------------------------------------------- experiments on real data
def test_sharpness_vs_N_on_digits():
    from symsharp.models.chain.experiments import sharpness_vs

    ds = sharpness_vs("N", data="digits", values=(8, 16, 24), seeds=(0,), steps=200_000, progress=False)
    cfg = json.loads(ds.attrs["symsharp"])
    assert cfg["data"] == "digits" and cfg["preprocess"] == "standardize" and cfg["Q"] is None
    Q = ds["Q"].values
    assert np.all(np.diff(Q) > 0)   # nested interpolating sets: Q grows with N
    assert cfg["Q_growth"]["points"] == 3 and cfg["Q_growth"]["exponent"] > 0
    conv = ds["converged"].values.astype(bool)
    assert conv.all()
    S = ds["sharpness"].values
    assert np.allclose(S[conv], ds["S_star"].values[conv], rtol=1e-6)
    assert np.allclose(ds["q_fraction"].values, 1, rtol=1e-3)
    assert np.all(ds["S_hat"].values <= ds["S_gf_small"].values * (1 + 1e-9))
    assert np.all(ds["dim"].values == 64)


def test_real_data_experiment_cli(tmp_path):
    from symsharp.io import load_result

    nc, png = tmp_path / "n.nc", tmp_path / "n.png"
    out = ok("experiment", "chain-sharpness", "--data-kind", "photo-patches", "--patch", 4, "--vs", "N",
             "--values", "6,12", "--seeds", 0, "--steps", 20000, "--out", nc, "--plot", png)
    assert "Q grows with N like" in out and "runs converged" in out
    ds = load_result(nc)
    assert list(ds["N"].values) == [6, 12] and png.stat().st_size > 10000
    for vs, values in (("depth", "2,3"), ("eta", "0.3,0.6"), ("batch", "2,full")):
        rows = json.loads(ok("experiment", "chain-sharpness", "--data-kind", "digits", "--samples", 10, "--vs", vs,
                             "--values", values, "--seeds", 0, "--steps", 20000, "--json"))
        assert len(rows) == 2 and all(r["diverged"] == 0 for r in rows)
        assert all(0 < r["q_fraction_mean"] <= 1.01 for r in rows)


def test_eos_on_real_data(tmp_path):
    out = ok("experiment", "chain-eos", "--data-kind", "digits", "--classes", "3,8", "--samples", 20,
             "--steps", 20000, "--json", "--plot", tmp_path / "e.png")
    s = json.loads(out)
    assert s["diverged_at"] is None
    assert abs(s["late_sharpness_over_2_eta"] - 1) < 0.02      # the sharpness sits at 2/η
    assert s["S_balanced"] > s["two_over_eta"] and s["C_end"] > s["C_start"]
    assert (tmp_path / "e.png").exists()
