"""Speed of the generic bifurcation engine on the UV model's GD map of (f, λ).

Two timings, each after a warm-up run of the same work in the same process (kernels compiled or
loaded from the cache, SymPy lambdified, Numba dispatchers ready):

  (i)  the full route: the period-doubling cascade to 10 flips (each located by continuation and
       refined in mpmath to ``--digits`` digits, with branch switching at every flip) plus the
       periodic windows of period ≤ 3 above the chaos onset (both period-3 windows; target < 10 s);
       also reported: the windows of period ≤ 16 and the boundary crisis;
  (ii) pseudo-arclength continuation of the period-2 branch over 1000 steps with test functions
       and bifurcation detection on (target < 2 s).

    python benchmarks/bench_bifurcation.py            # digits 20
    python benchmarks/bench_bifurcation.py --digits 15

The machine is shared: other processes on it change the numbers (indicative only).
"""
from __future__ import annotations

import argparse
import platform
import time

import numba
import numpy as np

from symsharp.analysis.bifurcation import (attractor_cycle, boundary_crisis, cascade, continue_orbit, map_family,
                                           periodic_windows)
from symsharp.models import uv_model
from symsharp.symbolic.reduction import reduce_map

X0 = np.array([1.001, 0.2 * 1.001 + 1e-4])   # just off the EoS manifold λ = 2√a·f (a = 1/100, y = 1)


def uv_family():
    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    names = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return map_family(red.step, [f, lam], [names["eta"], names["a"], names["y"]], {"a": 0.01, "y": 1}, "eta",
                      name="uv_fs")


def route(fam, digits, max_period=3):
    t0 = time.perf_counter()
    cas = cascade(fam, X0, 11.0, lo=9.0, hi=20.0, flips=10, digits=digits)
    t1 = time.perf_counter()
    ws = periodic_windows(fam, X0, cas.onset, 20.0, max_period=max_period, grid=20000, digits=digits)
    t2 = time.perf_counter()
    return cas, ws, t1 - t0, t2 - t1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--digits", type=int, default=20)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, numba threads {numba.get_num_threads()}")
    t = time.perf_counter()
    fam = uv_family()
    print(f"setup (derive the (f, λ) map, compile/load kernels): {time.perf_counter() - t:.2f} s")

    route(fam, args.digits)                                    # warm-up
    cas, ws, tc, tw = route(fam, args.digits)
    p3 = [w for w in ws.windows if w.period == 3]
    print(f"\n(i) cascade to {len(cas.flips)} flips (digits {args.digits}): {tc:.2f} s;"
          f" windows of period <= 3: {tw:.2f} s;  total {tc + tw:.2f} s (target < 10 s)")
    for b in cas.flips:
        print(f"    flip {b.period:4d} -> {2 * b.period:4d}   eta = {b.param_mp}")
    print(f"    Feigenbaum ratios: {', '.join(d[:12] for d in cas.deltas_mp)}")
    print(f"    chaos onset eta = {cas.onset_mp} (± {cas.onset_uncertainty:.1e})")
    for w in p3:
        print(f"    period-3 window opens at eta = {w.fold.param_mp}  (eta/eta_c = {w.opens / 10:.10f})")
    t = time.perf_counter()
    ws16 = periodic_windows(fam, X0, cas.onset, 20.0, max_period=16, grid=20000, digits=args.digits)
    print(f"    windows of period <= 16 on a 20000-point grid: {len(ws16.windows)} in {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    cr = boundary_crisis(fam, X0, 19.0, 21.0, digits=args.digits)
    print(f"    boundary crisis eta = {cr.param_mp} (± {cr.uncertainty:.1e}) in {time.perf_counter() - t:.2f} s")

    p, x = attractor_cycle(fam, X0, 11.0)
    kw = dict(direction=1, h0=1e-3, hmax=1e-3, max_steps=1000, lo=9.0, hi=30.0, digits=args.digits)
    continue_orbit(fam, x, 11.0, p, **kw)                      # warm-up
    t = time.perf_counter()
    br = continue_orbit(fam, x, 11.0, p, **kw)
    dt = time.perf_counter() - t
    print(f"\n(ii) continuation of the period-{p} branch: {len(br) - 1} steps in {dt:.2f} s "
          f"({1e3 * dt / max(1, len(br) - 1):.2f} ms/step; target < 2 s), eta {br.param[0]:.4f} -> {br.param[-1]:.4f}, "
          f"stop: {br.stop_reason}")


if __name__ == "__main__":
    main()
