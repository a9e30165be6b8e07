"""Throughput of the wide-network engine (``symsharp.analysis.widenets``) on photo patches.

For the depth-5 deep linear network and the depth-4 tanh network (standard parameterisation) at
widths ``--widths`` (default 128, 256, 512) on ``--samples`` 32×32×3 photo patches
(``make_dataset("photo-patches")``, standardised, d = 3072), in reduced coordinates (the first
layer acts on the r = rank X ≤ N SVD coordinates; exactly equivalent, see the module docstring):

- GD steps per second (one ``loss_grad`` and one update per step);
- exact Hessian-vector products per second (``hvp_operator``: the forward/backward pass at θ is
  shared, each product is one R-forward and one R-backward pass);
- the time of one Lanczos sharpness (``eigsh``, tol 1e-6, from a seeded vector) and the number
  of HVPs it used (HVPs and sharpness at the seeded initialisation, so S is reproducible);
- for the first width also the full-coordinate GD rate (d = 3072), to show what the reduction buys.

    python benchmarks/bench_widenets.py            # N = 500, widths 128 256 512
    python benchmarks/bench_widenets.py --quick    # N = 100, widths 64 128
    python benchmarks/bench_widenets.py --threads 1

``--threads`` sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS before NumPy is
imported (default: leave them alone).  On this shared 2-core machine one BLAS thread was up to
20× faster than two when other processes were busy; compare both.  Timings are indicative.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time


def best_rate(fn, repeats, min_seconds=0.5):
    """Best of ``repeats`` rounds of calls per second (each round runs at least ``min_seconds``)."""
    best = 0.0
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_seconds:
                break
        best = max(best, n / dt)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=None, help="N (default 500; 100 with --quick)")
    ap.add_argument("--widths", type=int, nargs="+", default=None, help="default 128 256 512; 64 128 with --quick")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="BLAS threads (set before NumPy is imported)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.threads is not None:
        if "numpy" in sys.modules:
            print("warning: NumPy already imported; --threads may have no effect")
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)

    import numpy as np

    from symsharp.analysis.widenets import WideNet, reduce_inputs, top_eigenvalue
    from symsharp.data import make_dataset

    N = args.samples or (100 if args.quick else 500)
    widths = args.widths or ([64, 128] if args.quick else [128, 256, 512])
    repeats = 1 if args.quick else args.repeats
    min_s = 0.2 if args.quick else 0.5

    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")
    t0 = time.perf_counter()
    ds = make_dataset("photo-patches", samples=N, seed=0, preprocess="standardize")
    t_data = time.perf_counter() - t0
    t0 = time.perf_counter()
    Xr, P = reduce_inputs(ds.X)
    t_svd = time.perf_counter() - t0
    print(f"data: photo-patches N = {N}, d = {ds.d}, rank r = {Xr.shape[1]}; load {t_data:.2f} s, SVD {t_svd:.2f} s")
    print(f"{'network':<12}{'width':>7}{'params':>10}{'GD steps/s':>12}{'HVPs/s':>10}{'Lanczos s':>11}{'HVPs':>6}"
          f"{'HVP/grad':>10}")
    rng = np.random.default_rng(0)
    for depth, act in ((5, "linear"), (4, "tanh")):
        for k, w in enumerate(widths):
            net = WideNet(d=Xr.shape[1], depth=depth, width=w, activation=act, fan_in=ds.d)
            th0 = net.init(0, project=P)
            th = th0.copy()
            eta = 1e-4

            def step():
                nonlocal th
                _, g = net.loss_grad(th, Xr, ds.y)
                th = th - eta * g

            gd = best_rate(step, repeats, min_s)
            th = th0                                  # HVPs and sharpness at the initialisation
            hv = net.hvp_operator(th, Xr, ds.y)
            v = rng.standard_normal(net.n_params)
            hvps = best_rate(lambda: hv(v), repeats, min_s)
            t0 = time.perf_counter()
            lam, _, nmv = top_eigenvalue(net.hvp_operator(th, Xr, ds.y), net.n_params, tol=1e-6, seed=0)
            t_l = time.perf_counter() - t0
            print(f"{act + '-D' + str(depth):<12}{w:>7}{net.n_params:>10}{gd:>12.1f}{hvps:>10.1f}{t_l:>11.3f}"
                  f"{nmv:>6}{gd / hvps:>10.2f}   S = {lam:.6g}")
            if k == 0:
                full = WideNet(d=ds.d, depth=depth, width=w, activation=act)
                thf = full.init(0)

                def step_full():
                    nonlocal thf
                    _, g = full.loss_grad(thf, ds.X, ds.y)
                    thf = thf - eta * g

                gdf = best_rate(step_full, repeats, min_s)
                print(f"{'  (full d)':<12}{w:>7}{full.n_params:>10}{gdf:>12.1f}   reduced/full GD rate = {gd / gdf:.2f}")


if __name__ == "__main__":
    main()
