"""End-to-end tests of the scan layer and the ``run``/``orbit``/``phase``/``lyapunov``/``plot``
commands, against independent computations (parameter-space NumPy GD with dense Hessians, the
logistic map's textbook values, the stability rule ηS < 2 of quadratics, Lewkowycz's thresholds)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from symsharp.cli import main
from symsharp.dynamics import scan
from symsharp.dynamics.grid import parse_grid
from symsharp.dynamics.orbits import DynamicsError
from symsharp.models.uv.system import uv_system
from symsharp.io import load_result, metadata, save_result


def cli_json(capsys, *argv):
    argv = list(argv) + ([] if "--json" in argv else ["--json"])
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def cli_error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("symsharp: error: ")
    return err[0]


@pytest.fixture(scope="module")
def uv():
    return uv_system()


# ------------------------------------------------------------------------------ grids
@given(st.floats(-50, 50), st.floats(-50, 50), st.integers(2, 500))
@settings(max_examples=examples(40), deadline=None)
def test_grid_start_stop_count_includes_both_ends(a, b, n):
    g = parse_grid(f"{a!r}:{b!r}:{n}", "eta")
    assert g.size == n and g[0] == a and g[-1] == pytest.approx(b, abs=1e-12 * (1 + abs(b)))
    assert np.allclose(np.diff(g), (b - a) / (n - 1))


def test_grid_lists_and_errors():
    assert parse_grid("9.5,11,12.5", "eta").tolist() == [9.5, 11.0, 12.5]
    assert parse_grid("3", "eta").tolist() == [3.0]
    for bad, words in [("5:25:0", "empty"), ("5:25", "start:stop:count"), ("1,,2", "empty entry"),
                       ("a:2:3", "not a number"), ("inf", "finite"), ("", "empty"), ("1:2:2.5", "whole number")]:
        with pytest.raises(DynamicsError, match=words):
            parse_grid(bad, "eta")


# ------------------------------------------------------------------------------ UV against parameter space
def _uv_param_gd_reference(n, sigma, seed, eta, steps, y=1.0, alpha=1.0, x_norm=1.0):
    """Independent reference: GD on the moving block (p = U x̂, v) of the UV model in NumPy, and the
    exact Hessian of L on that block by a dense eigensolver, at each of the last steps."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n) * sigma
    v = rng.standard_normal(n) * sigma
    c = alpha * x_norm / math.sqrt(n)
    S = []
    for t in range(steps):
        f = c * v @ p
        d = f - y
        if t >= steps - 8:
            # L = ½(c vᵀp − y)²: H = c² [v; p][v; p]ᵀ + d c [[0, I], [I, 0]]
            g = c * np.concatenate([v, p])
            H = np.outer(g, g)
            H[:n, n:] += d * c * np.eye(n)
            H[n:, :n] += d * c * np.eye(n)
            S.append(np.linalg.eigvalsh(H)[-1])
        p, v = p - eta * d * c * v, v - eta * d * c * p
    return np.array(S)


@pytest.mark.parametrize("eta,period", [(11.0, 2), (12.5, 4)])
def test_uv_orbit_values_match_parameter_space_hessian(capsys, eta, period):
    # width 100, σ = 0.3: f0, λ0 from the random draw; the kept sharpness values of the reduced
    # kernel must equal the top eigenvalue of the parameter-space Hessian along the same GD.
    out = cli_json(capsys, "orbit", "uv", "--eta", f"{eta},{eta + 1e-9}", "--init-scale", "0.3", "--seed", "1",
                   "--transient", "3000", "--keep", "64")
    assert out["parameter"] == "eta" and out["observable"] == "sharpness"
    assert set(out) >= {"eta", "period", "regime", "lyapunov", "values"}
    assert out["period"][0] == period and out["regime"][0] == "periodic"
    assert out["lyapunov"][0] < 0
    ref = _uv_param_gd_reference(100, 0.3, 1, eta, 3000 + 64 + 1)
    distinct = np.unique(np.round(ref, 9))
    assert len(out["values"][0]) == period
    assert np.allclose(sorted(out["values"][0]), np.sort(ref[-period:]), rtol=1e-6)
    assert distinct.size == period


def test_uv_run_parameter_norms_agree_with_function_space(uv):
    ds = scan.run(uv, {"eta": 2.0, "init_scale": 0.5, "seed": 3}, steps=400, record_every=4)
    assert np.allclose(ds["f"].values, ds["f_param"].values, rtol=1e-9, atol=1e-12)
    # λ = (α²/n)(‖U x‖² + ‖v‖²‖x‖²) from the parameter norms
    lam = (ds["Ux_norm"].values ** 2 + ds["v_norm"].values ** 2) / 100
    assert np.allclose(ds["lam"].values, lam, rtol=1e-9)
    assert ds.attrs["diverged_at"] == -1
    assert float(ds["loss"].values[-1]) < 1e-20


def test_run_stops_cleanly_at_divergence(capsys, tmp_path):
    out = tmp_path / "r.nc"
    assert main(["run", "uv", "--eta", "30", "--f0", "0", "--lam0", "0.5", "--steps", "500", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "diverged at step" in text
    ds = load_result(out)
    at = ds.attrs["diverged_at"]
    assert 0 < at < 500
    assert np.all(np.isnan(ds["loss"].values[ds["step"].values > at]))
    assert np.all(np.isfinite(ds["loss"].values[ds["step"].values < at]))


# ------------------------------------------------------------------------------ custom models with known answers
def test_logistic_map_as_custom_model(capsys):
    # GD on L = w²/2 − w³/3: w' = (1 − η) w + η w², conjugate to x' = μ x (1 − x) with μ = 1 + η.
    # Textbook: period 1 for μ < 3, period 2 for 3 < μ < 1 + √6, period 4 above; λ = ln 2 at μ = 4.
    out = cli_json(capsys, "orbit", "custom", "--loss", "w**2/2 - w**3/3", "--init", "w=0.3",
                   "--eta", "1.8,2.2,2.5,3.0", "--observable", "w", "--transient", "4000", "--keep", "256")
    assert out["period"][:3] == [1, 2, 4]
    assert out["regime"][:3] == ["converged", "periodic", "periodic"]
    assert out["regime"][3] == "chaotic"
    ly = cli_json(capsys, "lyapunov", "custom", "--loss", "w**2/2 - w**3/3", "--init", "w=0.3",
                  "--eta", "3.0,1.0", "--steps", "200000")
    assert ly["lyapunov"][0] == pytest.approx(math.log(2), abs=0.01)
    # μ = 2: superstable fixed point x = 1/2 → the tangent vector is annihilated, very negative
    assert ly["lyapunov"][1] < -5


@pytest.mark.parametrize("S", [0.7, 2.0, 4.5])
def test_quadratic_loss_phase_diagram_is_eta_S_below_2(S):
    ds = scan.phase(_quadratic(S), {"eta": np.linspace(0.1, 4.0 / S, 17)[1:], "w": [-2.0, 0.3, 1.5]},
                    x="eta", y="w", transient=300, keep=256)
    eta = ds["eta"].values
    lab = ds["regime"].values
    for i in range(lab.shape[0]):
        for j, e in enumerate(eta):
            # escaping orbits count as diverged, so only a thin band around ηS = 2 is left undecided
            if e * S < 1.95:
                assert lab[i, j] == 0  # converged
            elif e * S > 2.03:
                assert lab[i, j] == 5  # diverged


def _quadratic(S):
    from symsharp.models.custom import custom_system

    return custom_system(loss=f"{S!r}*w**2/2", params="w")


def test_uv_phase_reduces_to_lewkowycz_at_y0(capsys):
    # y = 0: lazy for ηλ₀ < 2, catapult for 2 < ηλ₀ < 4, divergence above 4; the JSON layout has
    # regime[i][j] at y_values[i], x_values[j].
    out = cli_json(capsys, "phase", "uv", "--eta", "1:9:9", "--lam0", "0.1:0.9:5", "--y", "0", "--f0", "0.01",
                   "--transient", "3000", "--keep", "32")
    assert out["x"] == "eta" and out["y"] == "lam0"
    checked = 0
    for i, l0 in enumerate(out["y_values"]):
        for j, e in enumerate(out["x_values"]):
            z = e * l0
            want = "converged" if z < 1.9 else "catapult" if 2.1 < z < 3.9 else "diverged" if z > 4.1 else None
            if want:
                assert out["regime"][i][j] == want, (e, l0, out["regime"][i][j])
                checked += 1
    assert checked > 30


# ------------------------------------------------------------------------------ continuation, io, plots
def test_continuation_seeds_each_point_with_the_previous_state(uv):
    grid = np.array([11.0, 11.5, 12.0, 12.5])
    ds = scan.orbit(uv, {"eta": grid, "f0": 0.0, "lam0": 0.1}, transient=200, keep=8, continuation=True)
    k = uv.kernel
    x0, P, _ = uv.prepare({"eta": grid, "f0": 0.0, "lam0": 0.1})
    x = x0[0]
    for g in range(grid.size):
        x = k.iterate(x[None], P[g:g + 1], steps=200).x[0]
        keep = k.iterate(x[None], P[g:g + 1], steps=8, record_every=1).records[:, 0, :]
        S = k.observe(keep, np.broadcast_to(P[g], (8, k.m)), names=["sharpness"])["sharpness"]
        assert np.allclose(ds["values"].values[g], S, rtol=1e-12)


def test_results_round_trip_and_replot(capsys, tmp_path):
    nc, png, png2 = tmp_path / "o.nc", tmp_path / "o.png", tmp_path / "again.png"
    out = cli_json(capsys, "orbit", "uv", "--eta", "9:14:40", "--f0", "0", "--lam0", "0.1", "--transient", "500",
                   "--keep", "32", "--json", "--out", str(nc), "--plot", str(png))
    ds = load_result(nc)
    meta = metadata(ds)
    assert meta["kind"] == "orbit" and meta["model"] == "uv" and meta["dtype"] == "float64"
    assert meta["options"]["eta"] == "9:14:40" and meta["settings"]["transient"] == 500
    assert {"numpy", "numba", "sympy", "xarray"} <= set(meta["versions"])
    assert scan.orbit_json(ds) == out
    assert png.stat().st_size > 10_000
    assert main(["plot", str(nc), "--plot", str(png2)]) == 0
    assert png2.stat().st_size > 10_000
    for kind_args in (["run", "uv", "--eta", "12", "--f0", "0", "--lam0", "0.1", "--steps", "100"],
                      ["lyapunov", "uv", "--eta", "9:14:20", "--f0", "0", "--lam0", "0.1", "--steps", "500"],
                      ["phase", "uv", "--eta", "9:14:6", "--lam0", "0.05:0.3:4", "--f0", "0", "--keep", "16"]):
        f = tmp_path / f"{kind_args[0]}.nc"
        assert main(kind_args + ["--out", str(f), "--plot", str(f.with_suffix(".png"))]) == 0
        assert metadata(load_result(f))["kind"] == kind_args[0]
        assert f.with_suffix(".png").stat().st_size > 5_000


def test_float32_kernel_runs_in_float32(capsys):
    out = cli_json(capsys, "orbit", "uv", "--eta", "11,12.5", "--f0", "0", "--lam0", "0.1", "--dtype", "float32",
                   "--transient", "2000", "--keep", "32")
    assert out["period"] == [2, 4]


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("argv,words", [
    (["orbit", "uv", "--eta", "5"], "needs one option given as a grid"),
    (["orbit", "uv", "--eta", "5:6:0"], "empty"),
    (["phase", "uv", "--eta", "1:2:3"], "needs two options"),
    (["run", "uv", "--steps", "-3"], "steps must be"),
    (["orbit", "uv", "--eta", "-1:3:4"], "eta must be > 0"),
    (["orbit", "uv", "--eta", "1:2:3", "--lam0", "-1"], "lam0 must be >= 0"),
    (["orbit", "uv", "--eta", "1:2:3", "--width", "0"], "width must be >= 1"),
    (["orbit", "uv", "--eta", "1:2:3", "--keep", "1"], "keep must be"),
    (["run", "uv", "--eta", "nan"], "finite"),
    (["run", "uv", "--batch", "3"], "unrecognized arguments: --batch 3"),
    (["run", "custom", "--loss", "w**2", "--init", "v=3"], "not a parameter"),
    (["run", "custom", "--loss", "w**("], "cannot parse"),
    (["lyapunov", "uv", "--eta", "1:2:3", "--steps", "0"], "steps must be"),
    (["plot", "/nonexistent/r.nc", "--plot", "x.png"], "does not exist"),
])
def test_bad_input_is_one_line_and_status_2(capsys, argv, words):
    assert words in cli_error(capsys, *argv)


def test_failed_command_leaves_no_files(capsys, tmp_path):
    out, fig = tmp_path / "o.nc", tmp_path / "o.png"
    cli_error(capsys, "orbit", "uv", "--eta", "5", "--out", str(out), "--plot", str(fig))
    cli_error(capsys, "orbit", "uv", "--eta", "1:2:3", "--out", str(tmp_path / "o.txt"))
    cli_error(capsys, "orbit", "uv", "--eta", "1:2:3", "--plot", str(tmp_path / "o.txt"))
    assert list(tmp_path.iterdir()) == []


def test_save_is_atomic_and_validates(tmp_path, uv):
    ds = scan.lyapunov_curve(uv, {"eta": [9.0, 11.0], "f0": 0.0, "lam0": 0.1}, steps=100)
    p = save_result(ds, tmp_path / "l.nc")
    assert [f.name for f in tmp_path.iterdir()] == ["l.nc"]
    assert np.allclose(load_result(p)["lyapunov"].values, ds["lyapunov"].values)


# ------------------------------------------------------------------------------ chain model
def test_run_chain_reports_data_numbers_and_matches_numpy(capsys, tmp_path):
    from symsharp.data import data_summary, make_dataset
    from symsharp.models.chain.dynamics import chain_gd_numpy, init_chain

    out = tmp_path / "c.nc"
    assert main(["run", "chain", "--depth", "3", "--samples", "30", "--dim", "6", "--eta", "0.2", "--steps", "300",
                 "--record-every", "10", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    ds = load_result(out)
    data = make_dataset("gaussian", samples=30, dim=6, seed=0)
    summ = data_summary(data.X, data.y, 3)
    assert ds.attrs["Q"] == pytest.approx(summ["Q"]) and ds.attrs["S_hat"] == pytest.approx(summ["S_hat"])
    assert "Q" in text and "S_hat" in text
    u0, v0 = init_chain(6, 3, 0.1, 0)
    X, y = data.X, data.y
    u, v = chain_gd_numpy(X, y, u0, v0, 0.2, 300)[:2]
    loss = np.mean((X @ u * np.prod(v) - y) ** 2) / 2
    assert float(ds["loss"].values[-1]) == pytest.approx(loss, rel=1e-8, abs=1e-14)


def test_orbit_chain_sharpness_is_the_full_hessian_top_eigenvalue():
    from symsharp.data import make_dataset, svd_coordinates
    from symsharp.models.chain.system import chain_system
    from symsharp.models.chain.symbolic import full_hessian

    sysm = chain_system(depth=2, samples=12, dim=2)
    ds = scan.orbit(sysm, {"eta": [0.3, 1.0, 1.6]}, transient=500, keep=8)
    data = make_dataset("gaussian", samples=12, dim=2, seed=0)
    E, s, W = svd_coordinates(data.X)
    for g in range(3):
        st_ = ds["final_state"].values[g]
        if not np.all(np.isfinite(st_)):
            continue
        u, v = W @ st_[:2], st_[2:]
        H = full_hessian(data.X, data.y, u, v)
        assert ds["values"].values[g, -1] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-9)


@pytest.mark.parametrize("argv,words", [
    (["run", "chain", "--samples", "10", "--batch", "11"], "batch"),
    (["run", "chain", "--depth", "1"], "depth"),
    (["run", "chain", "--eta", "0"], "eta"),
    (["orbit", "chain", "--eta", "0.1:1:3", "--dim", "20", "--samples", "30"], "rank"),
    (["run", "chain", "--data-file", "/nonexistent.npz"], "does not exist"),
])
def test_chain_bad_input(capsys, argv, words):
    assert words in cli_error(capsys, *argv)


def test_chain_nan_data_file_is_one_line(capsys, tmp_path):
    X = np.ones((5, 2))
    X[3, 1] = np.nan
    f = tmp_path / "d.npz"
    np.savez(f, X=X, y=np.ones(5))
    msg = cli_error(capsys, "run", "chain", "--data-file", str(f))
    assert "NaN" in msg or "nan" in msg


# ------------------------------------------------------------------------------ route to chaos, experiments, figures
def test_route_to_chaos_cli_contract_and_bracketing(capsys):
    import sympy as sp

    out = cli_json(capsys, "route-to-chaos", "uv", "--width", "100", "--flips", "6")
    for key in ("eta_c", "eta_c_formula", "period_doubling", "chaos_onset", "feigenbaum_delta", "period3_window",
                "bounded_orbits_lost", "eos_two_cycle"):
        assert key in out
    n, xn, y, al = sp.symbols("n x_norm y alpha", positive=True)
    f = sp.sympify(out["eta_c_formula"], locals={"n": n, "x_norm": xn, "y": y, "alpha": al})
    assert float(f.subs({n: 100, xn: 1, y: 1, al: 1})) == pytest.approx(out["eta_c"], rel=1e-12)
    flips = out["period_doubling"]
    assert len(flips) >= 6 and all(a < b for a, b in zip(flips, flips[1:])) and flips[-1] < out["chaos_onset"]
    assert out["eos_two_cycle"]["stable_from"] == pytest.approx(flips[0])
    assert out["eos_two_cycle"]["stable_to"] == pytest.approx(flips[1])
    assert abs(out["feigenbaum_delta"] - 4.669201609) < 0.01
    assert out["chaos_onset"] < out["period3_window"] < out["bounded_orbits_lost"]
    # independent: the compiled (f, λ) map's orbit diagram, started off the manifold, has period 2
    # just below the second flip and period 4 just above, and period 4 / 8 around the third
    e2, e3 = flips[1], flips[2]
    orb = cli_json(capsys, "orbit", "uv", "--eta", f"{e2 * 0.995},{e2 * 1.005},{e3 * 0.999},{e3 * 1.001}",
                   "--f0", "0", "--lam0", "0.1", "--transient", "200000", "--keep", "512", "--max-period", "16")
    assert orb["period"] == [2, 4, 4, 8]


def test_experiment_cli(capsys, tmp_path):
    out = cli_json(capsys, "experiment", "chain-sharpness", "--vs", "depth", "--values", "2,3", "--seeds", "0",
                   "--steps", "4000", "--out", str(tmp_path / "e.nc"), "--plot", str(tmp_path / "e.png"))
    assert [r["depth"] for r in out] == [2.0, 3.0]
    for r in out:
        assert r["converged"] == 1
        # the converged run's sharpness is that of the minimum with its final imbalances
        assert r["sharpness_mean"] == pytest.approx(r["S_star_mean"], rel=1e-8)
    assert (tmp_path / "e.png").stat().st_size > 5_000
    assert main(["plot", str(tmp_path / "e.nc"), "--plot", str(tmp_path / "again.png")]) == 0
    capsys.readouterr()
    assert "not an option of chain-eos" in cli_error(capsys, "experiment", "chain-eos", "--depth", "3")
    assert "entries must be numbers" in cli_error(capsys, "experiment", "chain-sharpness", "--values", "2,x")


def test_custom_run_records_dense_sharpness_and_ntk(nx):
    from symsharp.models.custom import custom_system

    sysm = custom_system(f="w1*w2*w3*x + w3*x**2", data={"x": ["1", "2", "-1"], "y": ["1", "3", "0.5"]},
                         params="w1,w2,w3")
    ds = scan.run(sysm, {"eta": 0.02, "w1": 0.3, "w2": 1.2, "w3": -0.4}, steps=50, record_every=10)
    X, Y = np.array([1.0, 2.0, -1.0]), np.array([1.0, 3.0, 0.5])

    def loss(t):
        f = t[0] * t[1] * t[2] * X + t[2] * X ** 2
        return np.mean((f - Y) ** 2) / 2

    for i in range(ds.sizes["step"]):
        t = np.array([ds[n].values[i] for n in ("w1", "w2", "w3")])
        H = nx.fd_hess(loss, t)
        assert ds["sharpness"].values[i] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-6)
        J = np.stack([X * t[1] * t[2], X * t[0] * t[2], X * t[0] * t[1] + X ** 2], axis=1)
        assert ds["ntk"].values[i] == pytest.approx(np.linalg.eigvalsh(J @ J.T / 3)[-1], rel=1e-12)
    assert "H_0_0" not in ds and "J_0_0" not in ds


def test_figures_command_writes_every_showcase_result(capsys, tmp_path):
    from symsharp.models import available_models

    showcase = [item for spec in available_models().values() if not spec.source for item in spec.showcase]
    assert {stem for stem, _ in showcase} >= {"uv_orbit", "uv_lyapunov", "uv_phase", "uv_trajectory", "chain_trajectory"}
    assert main(["figures", "--dir", str(tmp_path / "figs")]) == 0
    for stem, argv in showcase:
        ds = load_result(tmp_path / "figs" / f"{stem}.nc")
        assert metadata(ds)["kind"] == argv[0]
        assert (tmp_path / "figs" / f"{stem}.png").stat().st_size > 5_000
