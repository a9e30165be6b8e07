"""Scans at any size (issue 12) and the dynamics-correctness items of issue 10.

Same input, same answer: a grid point's result depends only on its own parameters, initial state
and the seed — never on its position, the tile size, the scheduler, the number of workers or the
progress bar.  Tiles stream into a resumable Zarr store; results are self-describing (CF) and keep
their dtypes through netCDF-4 and Zarr; the whole grid is checked against the memory budget first.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from symsharp.cli import main
from symsharp.dynamics import REGIMES, DynamicsError, detect_period, lyapunov, orbit_diagram, scan
from symsharp.io import ResultError, load_result, save_result
from symsharp.models import get_model

UV_PHASE = {"eta": "6:16:13", "lam0": "0.05:0.3:7", "f0": 0.0}
SMALL = dict(transient=300, keep=32)


@pytest.fixture(scope="module")
def uv():
    return get_model("uv").make_system()


@pytest.fixture(scope="module")
def reference(uv):
    """The in-process, one-tile phase diagram every other way of running must reproduce bit for bit."""
    return scan.phase(uv, UV_PHASE, **SMALL)


def cli_json(capsys, *argv):
    assert main(list(argv) + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def cli_error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("symsharp: error: "), err
    return err[0]


def assert_identical(a, b, names=None):
    for n in names or a.data_vars:
        assert a[n].dtype == b[n].dtype, n
        assert np.array_equal(a[n].values, b[n].values, equal_nan=True), n


# ------------------------------------------------------------------------------ issue 10: position and chunking
def test_lyapunov_of_a_point_does_not_depend_on_its_position_or_chunking(capsys, uv):
    out = cli_json(capsys, "lyapunov", "uv", "--eta", "9.5,9.5,9.5", "--f0", "0", "--lam0", "0.1", "--steps", "500")
    assert out["lyapunov"][0] == out["lyapunov"][1] == out["lyapunov"][2]
    grid = {"eta": np.r_[np.linspace(9, 14, 37), 9.5], "f0": 0.0, "lam0": 0.1}
    a = scan.lyapunov_curve(uv, grid, steps=400, transient=50)
    b = scan.lyapunov_curve(uv, grid, steps=400, transient=50, tile=5, progress=True)
    assert_identical(a, b)
    single = scan.lyapunov_curve(uv, {"eta": 9.5, "f0": 0.0, "lam0": 0.1}, steps=400, transient=50)
    assert single["lyapunov"].values[0] == a["lyapunov"].values[-1]
    # the low-level function too: a point's tangent vector comes from its own inputs
    k = uv.kernel
    x0, P, _ = uv.prepare({"eta": [9.5, 12.0, 9.5], "f0": 0.0, "lam0": 0.1})
    ly = lyapunov(k, x0, P, steps=300).exponent
    assert ly[0] == ly[2] and lyapunov(k, x0[2:], P[2:], steps=300).exponent[0] == ly[0]


def test_lyapunov_with_a_single_point_is_allowed(capsys):
    out = cli_json(capsys, "lyapunov", "uv", "--eta", "9.5", "--f0", "0", "--lam0", "0.1", "--steps", "300")
    assert out["parameter"] == "eta" and len(out["lyapunov"]) == 1 and out["lyapunov"][0] is not None


def test_catapult_needs_a_real_rise_of_the_loss(capsys):
    # L = -w²/2 + w³/3 is negative along the monotone descent from w = 0.5 to the minimum at w = 1
    out = cli_json(capsys, "orbit", "custom", "--loss=-w**2/2 + w**3/3", "--params", "w", "--init", "w=0.5",
                   "--eta", "0.5,1.9", "--observable", "w")
    assert out["regime"] == ["converged", "converged"]


def test_uv_catapult_still_detected(uv):
    ds = scan.orbit(uv, {"eta": [1.0, 3.0], "f0": 1e-3, "lam0": 1.0, "y": 0.0}, transient=3000, keep=32)
    assert [REGIMES[r] for r in ds["regime"].values] == ["converged", "catapult"]


def test_period_detection_uses_every_variable_on_its_own_scale(capsys):
    # w1 → 0 at once, w2 ↦ −w2 forever: a 2-cycle whose amplitude (1e-9) is tiny next to 1
    out = cli_json(capsys, "orbit", "custom", "--loss", "w1**2/2 + w2**2", "--eta", "1,0.5", "--init", "w2=1e-9",
                   "--init", "w1=0.5", "--observable", "w2", "--transient", "100", "--keep", "16")
    assert out["period"] == [2, 1] and out["regime"] == ["periodic", "converged"]
    t = np.arange(64)
    rec = np.stack([np.full(64, 3.0), 1e-9 * (-1.0) ** t], axis=1)[:, None, :]  # (R, B=1, k=2)
    assert detect_period(rec, 8, 1e-8)[0] == 2
    assert detect_period(rec[:, :, :1], 8, 1e-8)[0] == 1


@pytest.mark.parametrize("tol", ["-1", "nan", "inf", "1.5"])
def test_bad_tol_is_refused_in_one_line(capsys, tol):
    assert "tol" in cli_error(capsys, "orbit", "uv", "--eta", "11,12", f"--tol={tol}")
    with pytest.raises(DynamicsError, match="tol"):
        detect_period(np.zeros((8, 2)), 4, float(tol))


def test_points_whose_statistics_do_not_settle_are_extended_or_labelled_unsettled(uv):
    k = uv.kernel
    x0, P, _ = uv.prepare({"eta": [10.01, 9.99], "f0": 0.0, "lam0": 0.1})
    # one window after 2000 steps: 10.01 looks chaotic (+0.02: a non-normal transient near a slowly
    # attracting 2-cycle), 9.99 aperiodic; both are still converging
    old = orbit_diagram(k, x0, P, transient=2000, keep=128, settle=0)
    assert list(old.labels) == ["chaotic", "aperiodic"]
    new = orbit_diagram(k, x0, P, transient=2000, keep=128)
    assert list(new.labels) == ["periodic", "converged"] and list(new.period) == [2, 1]
    assert np.all(new.steps > 2128)
    capped = orbit_diagram(k, x0, P, transient=2000, keep=128, settle=3000)
    assert list(capped.labels) == ["unsettled", "unsettled"]
    # through the scan API: steps run and the cap are recorded
    ds = scan.orbit(uv, {"eta": [10.01, 9.99], "f0": 0.0, "lam0": 0.1}, transient=2000, keep=128, settle=3000)
    assert json.loads(ds.attrs["symsharp"])["settings"]["settle"] == 3000
    assert ds["steps"].attrs["long_name"] and np.all(ds["steps"].values <= 3000)


# ------------------------------------------------------------------------------ issue 12: tiles, stores, clusters
def test_tiles_and_progress_bar_never_change_the_answer(uv, reference):
    for tile in (1, 10, 64):
        assert_identical(reference, scan.phase(uv, UV_PHASE, tile=tile, progress=tile == 10, **SMALL))
    assert reference["regime"].dtype == np.int8 and set(np.unique(reference["regime"].values)) >= {0, 5}


def test_long_iterations_in_chunks_give_the_same_bits(uv, reference, monkeypatch):
    """A long transient runs in kernel calls of a bounded size (so that signals take effect); the
    chunks never change a trajectory that stays bounded, its divergence step or its loss peak."""
    from symsharp.dynamics import points

    k = uv.kernel
    e, l = np.meshgrid(np.linspace(6, 21, 40), np.linspace(0.01, 0.4, 9))
    x0, P, _ = uv.prepare({"eta": np.r_[e.ravel(), np.linspace(20.0, 20.3, 100)],
                           "lam0": np.r_[l.ravel(), np.full(100, 0.2003)],
                           "f0": np.r_[np.zeros(e.size), np.full(100, 1.001)]})
    one = k.iterate(x0, P, steps=1000, monitor=True)
    # bounded orbits, and orbits that escape at the first check or only after a chaotic transient
    assert (~one.diverged).sum() > 100 and (one.diverged_at == 16).sum() > 100 and (one.diverged_at > 48).sum() > 10
    for chunk in (16, 48, 992):
        ch = points.iterate_in_chunks(k, x0, P, 1000, 1e8, 16, monitor=True, chunk=chunk)
        ok = ~one.diverged
        assert np.array_equal(ch.diverged, one.diverged) and np.array_equal(ch.diverged_at, one.diverged_at)
        assert np.array_equal(ch.x[ok], one.x[ok]) and np.array_equal(ch.peak[ok], one.peak[ok])
    monkeypatch.setattr(points, "CHUNK_POINT_STEPS", 1000)  # a few steps per call: the scan is unchanged
    assert_identical(reference, scan.phase(uv, UV_PHASE, **SMALL))


def test_zarr_store_is_written_tile_by_tile_and_resumes(uv, reference, tmp_path, monkeypatch):
    from symsharp.dynamics import store

    path = tmp_path / "scan.zarr"
    written = []
    real = store.ZarrSink.write

    def dying(self, i, out, carry=None):
        if len(written) == 4:
            raise KeyboardInterrupt
        written.append(i)
        real(self, i, out, carry)

    monkeypatch.setattr(store.ZarrSink, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        scan.phase(uv, UV_PHASE, tile=9, out=str(path), **SMALL)
    assert path.is_dir() and not list(tmp_path.glob(".*"))  # no temporary files left beside it
    with pytest.raises(ResultError, match="unfinished"):
        load_result(path)
    with pytest.raises(DynamicsError, match="resume"):
        scan.phase(uv, UV_PHASE, tile=9, out=str(path), **SMALL)
    with pytest.raises(DynamicsError, match="different scan"):
        scan.phase(uv, UV_PHASE, out=str(path), resume=True, transient=301, keep=32)
    monkeypatch.setattr(store.ZarrSink, "write", real)
    done_before = list(written)
    again = []
    monkeypatch.setattr(store.ZarrSink, "write", lambda self, i, out, carry=None: (again.append(i),
                                                                                   real(self, i, out, carry)))
    ds = scan.phase(uv, UV_PHASE, out=str(path), resume=True, memory="1GB", **SMALL)
    assert sorted(again + done_before) == list(range(len(again) + len(done_before)))
    assert not set(again) & set(done_before)
    assert_identical(reference, ds)


def test_dask_cluster_of_two_worker_processes_gives_the_same_bits(uv, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        ds = scan.phase(uv, UV_PHASE, client=client, tile=16, **SMALL)
        orb = scan.orbit(uv, {"eta": "9:14:23", "f0": 0.0, "lam0": 0.1}, client=client, tile=5, **SMALL)
    assert_identical(reference, ds)
    assert_identical(scan.orbit(uv, {"eta": "9:14:23", "f0": 0.0, "lam0": 0.1}, **SMALL), orb)


def test_memory_budget_is_checked_before_anything_runs(capsys, uv, tmp_path):
    huge = {"eta": "5:25:100000", "lam0": "0.01:0.5:100000", "f0": 0.0}
    with pytest.raises(DynamicsError, match="memory budget.*zarr"):
        scan.phase(uv, huge, memory="1GB")
    msg = cli_error(capsys, "phase", "uv", "--eta", "5:25:100000", "--lam0", "0.01:0.5:100000", "--f0", "0",
                    "--memory", "1GB", "--out", str(tmp_path / "p.nc"))
    assert "memory" in msg and "zarr" in msg
    assert "memory" in cli_error(capsys, "run", "uv", "--steps", "2000000000")
    assert "memory budget" in cli_error(capsys, "phase", "uv", "--eta", "5:6:3", "--lam0", "0.1,0.2", "--memory", "lots")
    assert "scheduler" in cli_error(capsys, "phase", "uv", "--eta", "5:6:3", "--lam0", "0.1,0.2", "--scheduler", "bogus")
    assert "--resume" in cli_error(capsys, "phase", "uv", "--eta", "5:6:3", "--lam0", "0.1,0.2", "--resume")
    assert list(tmp_path.iterdir()) == []
    seen = []
    scan.phase(uv, UV_PHASE, on_plan=seen.append, **SMALL)
    est = seen[0]
    assert est.points == 13 * 7 and est.output_bytes > 0 and est.seconds > 0 and "map steps" in est.describe()


def test_phase_keeps_values_only_when_asked(uv):
    ds = scan.phase(uv, UV_PHASE, keep_values=True, **SMALL)
    assert ds["values"].shape == (7, 13, 32) and "values" not in scan.phase(uv, UV_PHASE, **SMALL)


# ------------------------------------------------------------------------------ self-describing files
def test_netcdf4_and_zarr_round_trip_with_cf_attributes(capsys, reference, tmp_path):
    nc, zr = tmp_path / "p.nc", tmp_path / "p.zarr"
    save_result(reference, nc)
    save_result(reference, zr)
    assert nc.read_bytes()[:4] == b"\x89HDF"
    for path in (nc, zr):
        ds = load_result(path)
        assert_identical(reference, ds)
        for name in list(ds.data_vars) + list(ds.coords):
            assert ds[name].attrs.get("long_name") and "units" in ds[name].attrs, (path, name)
        assert list(ds["regime"].attrs["flag_values"]) == list(range(len(REGIMES)))
        assert ds["regime"].attrs["flag_meanings"].split() == list(REGIMES)
        assert ds.attrs["Conventions"].startswith("CF") and ds.attrs["setting_transient"] == 300
        assert json.loads(ds.attrs["symsharp"])["kind"] == "phase"
        png = tmp_path / f"{path.suffix[1:]}.png"
        assert main(["plot", str(path), "--plot", str(png)]) == 0 and png.stat().st_size > 5_000
    orb = scan.orbit(get_model("uv").make_system(), {"eta": "9:14:6", "f0": 0.0, "lam0": 0.1}, **SMALL)
    save_result(orb, nc)
    back = load_result(nc)
    assert_identical(orb, back)
    assert back["state"].dtype == orb["state"].dtype


def test_old_netcdf3_results_still_load_and_plot(tmp_path, reference):
    old = reference.copy()
    old["diverged_at"] = old["diverged_at"].astype(np.int32)
    old["steps"] = old["steps"].astype(np.int32)
    old["regime"].attrs = {"long_name": "regime code", "labels": ",".join(REGIMES[:6])}
    old = old.drop_vars([])
    old.attrs = {"symsharp": reference.attrs["symsharp"]}
    path = tmp_path / "old.nc"
    old.to_netcdf(path, engine="scipy", format="NETCDF3_64BIT")
    assert path.read_bytes()[:3] == b"CDF"
    ds = load_result(path)
    assert np.array_equal(ds["regime"].values, reference["regime"].values)
    assert main(["plot", str(path), "--plot", str(tmp_path / "old.png")]) == 0


# ------------------------------------------------------------------------------ start-up, plots
HEAVY = {"xarray", "matplotlib", "sympy", "dask", "zarr", "distributed"}


def test_scans_without_files_import_no_xarray_matplotlib_or_sympy():
    code = ("import sys, json; from symsharp.models.uv.system import uv_system; from symsharp.dynamics import scan; "
            "r = scan.orbit(uv_system(), {'eta': '5:19:16'}, transient=100, keep=16, dataset=False); "
            "json.dumps(scan.orbit_json(r)); "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % sorted(HEAVY))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []


def test_orbit_json_command_imports_no_xarray_matplotlib_or_sympy():
    argv = [sys.executable, "-X", "importtime", "-m", "symsharp.cli", "orbit", "uv", "--eta", "5:19:16",
            "--transient", "100", "--json"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and json.loads(r.stdout)["parameter"] == "eta"
    mods = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert not mods & HEAVY, mods & HEAVY


def test_plots_draw_into_given_axes_without_global_state(reference):
    import matplotlib

    before = dict(matplotlib.rcParams)
    from symsharp import plots
    from matplotlib.figure import Figure

    assert dict(matplotlib.rcParams) == before
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_phase(reference, ax=ax) is fig
    assert plots.plot_result(reference) is not None  # no path: nothing written, figure returned
    assert dict(matplotlib.rcParams) == before
    assert len(set(plots.REGIME_COLOURS.values())) == len(REGIMES) and set(plots.REGIME_COLOURS) == set(REGIMES)
