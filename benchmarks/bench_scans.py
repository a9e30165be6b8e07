"""Scans at any size (issue 12): throughput, memory, tile overhead, threads and start-up.

Prints, in one run:

  1. a UV phase diagram of N × N points at 2000 transient + 128 kept steps (default N = 1000:
     2.1·10⁹ map steps) through the Python API and through the command line: wall time, map steps
     per second (N² × 2128 / time) and peak resident memory of the process (targets: ≥ 1.5·10⁹
     steps/s on 2 cores, ≤ 1.5 GB);
  2. the time per grid point spent outside the compiled kernels (labels, settling decisions,
     assembly: total minus the time of the transient and the fused window kernel — tangent steps
     and period statistics — on the same points; target well under 1 µs);
  3. the big scan split into 64 tiles against one tile (target: within 10 %);
  4. 1 against 2 Numba threads (speed-up);
  5. ``symsharp orbit uv --eta 5:19:16 --transient 100 --json`` warm, against
     ``python -c "import numpy, numba"`` (target: within 2×).

    python benchmarks/bench_scans.py                 # N = 1000
    python benchmarks/bench_scans.py --n 300         # quicker

The grid: η ∈ [1, 15] × λ₀ ∈ [0.01, 0.3] with f₀ = 0, y = 1, width 100 (η_c = 10): converged,
catapult, periodic (EoS), chaotic and diverged points.  The machine is shared: other processes
change the numbers (the CPU time is printed beside the wall time; compare ratios within one run).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 2000 + 128


def grid(n):
    return {"eta": f"1:15:{n}", "lam0": f"0.01:0.3:{n}", "f0": 0.0}


def _child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter (so peak memory is this scan's own); it prints JSON."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


API = r"""
import json, resource, time, numba
from symsharp.models import get_model
from symsharp.dynamics import phase
uv = get_model("uv").make_system()
phase(uv, {"eta": "1:15:8", "lam0": "0.01:0.3:8", "f0": 0.0}, transient=10, keep=128)   # load kernels
opts = %(opts)r
t0 = time.perf_counter(); c0 = time.process_time()
ds = phase(uv, opts, transient=2000, keep=128, tile=%(tile)s)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
steps = int(ds["steps"].values.sum())
print(json.dumps({"wall": wall, "cpu": cpu, "rss": rss, "steps_run": steps}))
"""

OVERHEAD = r"""
import json, time, numpy as np
from symsharp.models import get_model
from symsharp.dynamics import phase
from symsharp.dynamics.pointwork import tangent_vectors
uv = get_model("uv").make_system()
k = uv.kernel
opts = %(opts)r
phase(uv, {"eta": "1:15:8", "lam0": "0.01:0.3:8", "f0": 0.0}, transient=10, keep=128, settle=0)
t0 = time.perf_counter(); ds = phase(uv, opts, transient=2000, keep=128, settle=0); total = time.perf_counter() - t0
from symsharp.dynamics.grid import parse_grid
gx, gy = parse_grid(opts["eta"]), parse_grid(opts["lam0"])
x0, P, _ = uv.prepare({"eta": np.broadcast_to(gx[None], (gy.size, gx.size)).ravel(),
                       "lam0": np.broadcast_to(gy[:, None], (gy.size, gx.size)).ravel(), "f0": 0.0})
t0 = time.perf_counter()
tr = k.iterate(x0, P, steps=2000, monitor=True)
ok = ~tr.diverged
xs, Ps = tr.x[ok], P[ok]
V = tangent_vectors(x0[ok], Ps)
k.window(xs, Ps, V, 128, np.abs(x0[ok]).T, 64, 1.5e-8, 1e3)  # the fused window kernel the scan uses
kernel = time.perf_counter() - t0
print(json.dumps({"total": total, "kernel": kernel, "points": int(P.shape[0])}))
"""

THREADS = r"""
import json, time, numba
from symsharp.models import get_model
from symsharp.dynamics import phase
uv = get_model("uv").make_system()
opts = %(opts)r
phase(uv, {"eta": "1:15:8", "lam0": "0.01:0.3:8", "f0": 0.0}, transient=10, keep=128)
out = {}
for th in (1, 2):
    numba.set_num_threads(min(th, numba.config.NUMBA_NUM_THREADS))
    best = 1e9
    for _ in range(2):
        t0 = time.perf_counter(); phase(uv, opts, transient=2000, keep=128); best = min(best, time.perf_counter() - t0)
    out[str(th)] = best
print(json.dumps(out))
"""


def best_of(argv, repeats=3, env=None):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, env=env)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="grid points per axis of the big phase diagram (default 1000)")
    ap.add_argument("--small", type=int, default=400, help="grid per axis for the overhead/thread comparisons (default 400)")
    ns = ap.parse_args()
    n, m = ns.n, ns.small
    G = n * n
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared machine: numbers are indicative)")

    # 1. big phase diagram, API and CLI
    r = _child(API % {"opts": grid(n), "tile": None})
    rate = G * STEPS / r["wall"]
    print(f"[1] API  phase {n}x{n} at {STEPS} steps: {r['wall']:.2f} s wall ({r['cpu']:.2f} s CPU), "
          f"{rate:.3g} map steps/s (target >= 1.5e9), peak RSS {r['rss'] / 1e9:.2f} GB (target <= 1.5 GB); "
          f"steps actually run incl. settling {r['steps_run']:.3g}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "phase.nc")
        argv = [sys.executable, "-m", "symsharp.cli", "phase", "uv", "--eta", grid(n)["eta"], "--lam0",
                grid(n)["lam0"], "--f0", "0", "--out", out]
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        wall = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        size = os.path.getsize(out)
    print(f"[1] CLI  phase {n}x{n} (incl. start-up and writing {size / 1e6:.1f} MB netCDF-4): {wall:.2f} s, "
          f"{G * STEPS / wall:.3g} map steps/s, peak RSS (largest child so far) {rss / 1e9:.2f} GB")

    # 2. per-point work outside the kernels
    o = _child(OVERHEAD % {"opts": grid(m)})
    per = (o["total"] - o["kernel"]) / o["points"] * 1e6
    print(f"[2] per-point work outside the kernels ({m}x{m}, settling off): {per:.2f} us/point "
          f"(total {o['total']:.2f} s, kernels alone {o['kernel']:.2f} s)")

    # 3. 64 tiles against one (the big grid)
    one = _child(API % {"opts": grid(n), "tile": G})
    many = _child(API % {"opts": grid(n), "tile": -(-G // 64)})
    print(f"[3] {n}x{n}: one tile {one['wall']:.2f} s ({one['cpu']:.2f} s CPU, RSS {one['rss'] / 1e9:.2f} GB), "
          f"64 tiles {many['wall']:.2f} s ({many['cpu']:.2f} s CPU, RSS {many['rss'] / 1e9:.2f} GB): "
          f"ratio {many['wall'] / one['wall']:.3f} (target <= 1.10)")

    # 4. threads
    t = _child(THREADS % {"opts": grid(m)})
    print(f"[4] {m}x{m}: 1 thread {t['1']:.2f} s, 2 threads {t['2']:.2f} s: speed-up {t['1'] / t['2']:.2f}x")

    # 5. start-up.  "Warm" = kernels cached and Python's bytecode written, as after a first run on any
    # machine; both commands run with PYTHONDONTWRITEBYTECODE unset (some sandboxes set it, and then
    # every module of the package is compiled from source on every start), best of 5, interleaved
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [sys.executable, "-m", "symsharp.cli", "orbit", "uv", "--eta", "5:19:16", "--transient", "100", "--json"]
    bare_cmd = [sys.executable, "-c", "import numpy, numba"]
    subprocess.run(cmd, capture_output=True, check=True, env=env)  # warm the kernel cache and the bytecode
    subprocess.run(bare_cmd, capture_output=True, check=True, env=env)
    warm = bare = float("inf")
    for _ in range(5):
        bare = min(bare, best_of(bare_cmd, 1, env))
        warm = min(warm, best_of(cmd, 1, env))
    print(f"[5] warm `symsharp orbit uv --eta 5:19:16 --transient 100 --json`: {warm:.2f} s; "
          f"`python -c 'import numpy, numba'`: {bare:.2f} s; ratio {warm / bare:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
