"""The fuzz corpus: bad input, corrupt files and signals through the command line.

Every bad input must end with exactly one line on stderr starting ``symsharp: error:`` and exit
status 2 — never a traceback; an interrupt ends with one line and status 130 (SIGINT) or 143
(SIGTERM) and leaves no half-written file; a closed pipe is not an error.
"""
import contextlib
import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from symsharp.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BAD = [
    # verbs, models and options
    ["nosuchverb"], ["derive"], ["derive", "nosuchmodel"], ["run", "uv", "--no-such-flag"],
    ["run", "uv", "--depth", "3"], ["derive", "uv", "--format", "yaml"], ["verify", "--only", "NOPE"],
    ["derive", "uv", "--width", "0"], ["derive", "uv", "--width", "1e6"], ["derive", "uv", "--width", "abc"],
    ["derive", "uv", "--width", "100000000000"], ["derive", "uv", "--input-dim", "-1"], ["derive", "uv", "--alpha", "0"],
    ["derive", "uv", "--alpha", "nan"], ["derive", "uv", "--alpha", "inf"], ["derive", "uv", "--eta", "-0.1"],
    ["derive", "chain", "--depth", "1"], ["derive", "chain", "--depth", "1000000"], ["derive", "chain", "--samples", "0"],
    ["derive", "custom"], ["derive", "custom", "--f", "w*x", "--loss", "w**2"], ["derive", "custom", "--f", ""],
    ["derive", "custom", "--f", "w1*("], ["derive", "custom", "--f", "w.real"], ["derive", "custom", "--loss", "w**2", "--params", "w,w"],
    ["derive", "custom", "--loss", "w**2", "--params", "1w"], ["derive", "custom", "--loss", "w**2", "--params", "v"],
    ["derive", "custom", "--loss", "w**2", "--eta", "1"],
    ["derive", "custom", "--f", "w*x", "--data", "x=1,nan;y=1,2"], ["derive", "custom", "--f", "w*x", "--data", "x=1,2;y=1"],
    ["derive", "custom", "--f", "w*x", "--data", "x=1;x=2;y=1"], ["derive", "custom", "--f", "w*x", "--data", "garbage"],
    ["derive", "custom", "--f", "w/x", "--data", "x=0,1;y=1,2"], ["derive", "custom", "--f", "w*x", "--data", "x=1,,2;y=1,2,3"],
    ["derive", "custom", "--loss", "w**2", "--data", "x=1;y=2"], ["derive", "custom", "--loss", "9**9**9"],
    # dynamics options
    ["run", "uv", "--eta", "-1"], ["run", "uv", "--eta", "nan"], ["run", "uv", "--eta", "1:2"], ["run", "uv", "--eta", "a:b:3"],
    ["run", "uv", "--eta", "1,2"], ["run", "uv", "--steps", "-5"], ["run", "uv", "--steps", "abc"], ["run", "uv", "--seed", "1.5"],
    ["run", "uv", "--width", "0"], ["run", "uv", "--lam0", "-1"], ["run", "uv", "--threshold", "-1"],
    ["run", "uv", "--threshold", "nan"], ["run", "uv", "--dtype", "float16"], ["run", "uv", "--record-every", "0"],
    ["orbit", "uv", "--eta", "11"], ["orbit", "uv", "--eta", "5:6:3", "--lam0", "0.1:0.2:3"], ["orbit", "uv", "--eta", "5:6:0"],
    ["orbit", "uv", "--eta", "5:6:3", "--keep", "1"], ["orbit", "uv", "--eta", "5:6:3", "--observable", "nope"],
    ["phase", "uv", "--eta", "5:6:3"], ["phase", "uv", "--eta", "5:6:3", "--lam0", "0.1:0.2:3", "--x", "eta"],
    ["phase", "uv", "--eta", "5:6:3", "--f0", "0:1:2", "--lam0", "0.1:0.2:3"],
    ["run", "chain", "--depth", "1"], ["run", "chain", "--batch", "0"], ["run", "chain", "--batch", "1000"],
    ["run", "chain", "--data-kind", "nope"], ["run", "chain", "--data-file", "/nonexistent.npz"],
    ["run", "chain", "--data-file", "/nonexistent.npz", "--samples", "3"], ["orbit", "chain", "--batch", "3", "--eta", "0.1:1:3"],
    ["run", "custom", "--loss", "w**2", "--init", "v=3"], ["run", "custom", "--loss", "w**2", "--init", "w=1", "--init", "w=2"],
    ["run", "custom", "--loss", "w**2", "--init", "w"], ["run", "custom", "--loss", "w**2", "--init", "w=nan"],
    ["run", "custom", "--loss", "S*w**2", "--params", "w"], ["run", "tanh", "--data", "x=1;z=2"], ["run", "tanh", "--u", "abc"],
    # outputs
    ["run", "uv", "--out", "/nonexistent/dir/r.nc"], ["run", "uv", "--out", "r.txt"], ["run", "uv", "--plot", "r.nc"],
    ["run", "uv", "--plot", "/nonexistent/dir/r.png"], ["plot", "/nonexistent.nc", "--plot", "x.png"],
    ["write-derivations", "--dir", "/proc/forbidden"],
    # model commands and files
    ["route-to-chaos", "uv", "--flips", "0"], ["route-to-chaos", "uv", "--dps", "5"],
    ["route-to-chaos", "uv", "--flips", "100"], ["route-to-chaos", "uv", "--dps", "1000000"],
    ["run", "uv", "--width", "1e12"], ["orbit", "uv", "--eta", "5:6:3", "--width", "1e9"],
    ["bifurcation", "uv", "--eta", "11"], ["bifurcation", "uv", "--eta", "5:20:2", "--digits", "3"],
    ["--model-file", "/nonexistent.py", "models"], ["--model-file"],
    ["experiment", "chain-sharpness", "--values", ""], ["experiment", "chain-sharpness", "--seeds", "a"],
    ["experiment", "chain-eos", "--depth", "3"], ["experiment", "nope"],
]


def _run_in_process(argv):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, err.getvalue()


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a)[:60] for a in BAD])
def test_bad_input_is_one_line_and_status_2(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = _run_in_process(argv)
    lines = err.strip().splitlines()
    assert code == 2, (argv, code, err)
    assert len(lines) == 1 and lines[0].startswith("symsharp: error:"), err
    assert "Traceback" not in err
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")], "a temporary file was left behind"


def test_no_arguments_prints_the_usage():
    code, _ = _run_in_process([])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([]) == 0
    assert "COMMAND" in out.getvalue() and "bifurcation" in out.getvalue()
    with contextlib.redirect_stdout(out):
        assert main(["--version"]) == 0


def _long_scan(tmp_path):
    return [sys.executable, "-m", "symsharp.cli", "orbit", "uv", "--eta", "5:17:4000", "--f0", "0", "--lam0", "0.1",
            "--transient", "50000000", "--keep", "64", "--progress", "--out", str(tmp_path / "big.nc")]


@pytest.mark.parametrize("sig,status,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_signals_end_in_one_line_and_leave_nothing(tmp_path, sig, status, word):
    p = subprocess.Popen(_long_scan(tmp_path), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    assert p.poll() is None, p.communicate()
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and "it/s" not in ln and "pt/s" not in ln
             and "%" not in ln]
    assert p.returncode == status, err
    assert lines[-1] == f"symsharp: {word}" and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_a_closed_pipe_is_not_an_error():
    cmd = f"{sys.executable} -m symsharp.cli models --json | head -c 5"
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr


@pytest.mark.parametrize("content,suffix,argv", [
    (b"not a netcdf file at all", ".nc", ["plot", "{path}", "--plot", "x.png"]),
    (b"PK\x03\x04truncated", ".npz", ["run", "chain", "--data-file", "{path}", "--steps", "3"]),
    (b"1,2,3\n4,five,6\n", ".csv", ["run", "chain", "--data-file", "{path}", "--steps", "3"]),
    (b"", ".npy", ["run", "chain", "--data-file", "{path}", "--steps", "3"]),
])
def test_corrupt_files_are_one_line(tmp_path, monkeypatch, content, suffix, argv):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    code, err = _run_in_process([a.replace("{path}", str(path)) for a in argv])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("symsharp: error:"), err


def test_a_netcdf_with_incomplete_metadata_is_one_line(tmp_path, monkeypatch):
    import xarray as xr

    monkeypatch.chdir(tmp_path)
    ds = xr.Dataset({"regime": ("eta", np.zeros(3, np.int32))}, coords={"eta": [1.0, 2.0, 3.0]})
    ds.attrs["symsharp"] = '{"kind": "orbit"}'
    ds.to_netcdf(tmp_path / "r.nc", engine="scipy")
    code, err = _run_in_process(["plot", str(tmp_path / "r.nc"), "--plot", "x.png"])
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_a_corrupt_kernel_cache_file_is_rebuilt(tmp_path, monkeypatch):
    """A kernel file damaged on disk (truncated, garbage) is detected, discarded and regenerated."""
    from symsharp.codegen import cache_dir
    from symsharp.models.custom import custom_system

    monkeypatch.setenv("SYMSHARP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SYMSHARP_NO_WARMUP", "1")
    s1 = custom_system(loss="(w - 3)**2/2 + w**4/1000")
    path = s1.kernel.path
    x1 = s1.kernel.step([[0.5]], [[0.1]])
    path.write_text("def step(:\n  this is not python\n")
    import sys as _sys

    _sys.modules.pop("_symsharp_kernel_" + path.stem, None)
    s2 = custom_system(loss="(w - 3)**2/2 + w**4/1000")
    assert s2.kernel.path == path and "this is not python" not in path.read_text()
    np.testing.assert_array_equal(s2.kernel.step([[0.5]], [[0.1]]), x1)
    assert cache_dir() == tmp_path / "cache"


def test_out_is_not_left_behind_when_the_figure_fails(tmp_path, monkeypatch):
    import symsharp.plots as plots

    monkeypatch.chdir(tmp_path)

    def broken(*a, **k):
        from symsharp.errors import SymsharpError

        raise SymsharpError("the figure could not be drawn")

    monkeypatch.setattr(plots, "plot_result", broken)
    code, err = _run_in_process(["run", "custom", "--loss", "w**2/2", "--steps", "5", "--out", "r.nc", "--plot", "r.png"])
    assert code == 2 and "could not be drawn" in err
    assert os.listdir(tmp_path) == []
