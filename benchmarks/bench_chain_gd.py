"""Throughput of GD and SGD on the chain model (single-neuron deep linear network), two ways.

Data: ``--samples`` × ``--dim`` two-class image-like data (``symsharp.data.make_dataset("image")``,
32×32×3 pixels for dim = 3072), depth ``--depth``.  Learning rate η = ``--eta-frac`` / Ŝ_D
(Ŝ_D = σ₁²/N · Q^{(D−1)/D}, the predicted sharpness; the initial sharpness instead when it is
larger), initial state from ``init_chain`` with
init_scale 1.

  (a) plain NumPy GD in raw coordinates (``chain_gd_numpy``: two dense mat-vecs X u and Xᵀr per
      step, O(N d));
  (b) the Numba kernel of ``run_chain`` in SVD coordinates (O(r) per step; the rate is steps per
      second spent inside the kernel, ``config["kernel_seconds"]``; the one-time SVD is timed
      separately);
  (c) SGD with batch ``--batch``: raw NumPy (X_B u, X_Bᵀ r_B; O(B d)) and the Numba kernel on the
      rows of X' = E diag σ (O(B r)).

The two GD trajectories are compared after ``--check-steps`` steps (max relative difference of
the loss over all steps; final u and v).  Kernel rates are measured with records only at the
start and the end; the cost of one record (loss, exact sharpness, NTK, …) is printed separately.

    python benchmarks/bench_chain_gd.py            # N = 1000, d = 3072, D = 3
    python benchmarks/bench_chain_gd.py --quick    # N = 200,  d = 768

The machine is shared: other processes on it change the numbers (run twice; compare ratios).
NumPy's BLAS may use several threads; the kernels use one core.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np

from symsharp.data import data_summary, make_dataset, svd_coordinates
from symsharp.models.chain.dynamics import (chain_gd_numpy, chain_observables, chain_sgd_numpy, init_chain, run_chain, sgd_batches)


def best_time(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=3072)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--eta-frac", type=float, default=1.0, help="η = eta_frac / max(S_hat, initial sharpness)")
    ap.add_argument("--numpy-steps", type=int, default=300)
    ap.add_argument("--kernel-steps", type=int, default=200_000)
    ap.add_argument("--sgd-steps", type=int, default=20_000)
    ap.add_argument("--check-steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="N = 200, d = 768 and fewer steps")
    ns = ap.parse_args(argv)
    if ns.quick:
        ns.samples, ns.dim = 200, 768
        ns.numpy_steps, ns.kernel_steps, ns.sgd_steps, ns.repeats = 200, 50_000, 5_000, 2

    N, d, D, B = ns.samples, ns.dim, ns.depth, ns.batch
    data = make_dataset("image", samples=N, dim=d, seed=0)
    X, y = data.X, data.y
    summ = data_summary(X, y, D)          # (its own SVD; not timed)
    # one-time SVD, shared by every run below (run_chain(..., svd=...))
    t_svd, svd = best_time(lambda: svd_coordinates(X), 1)
    u0, v0 = init_chain(d, D, init_scale=1.0, seed=0)
    S0 = chain_observables(X, y, u0, v0, svd=svd)["sharpness"]
    eta = ns.eta_frac / max(summ["S_hat"], S0)
    print(f"chain model GD/SGD: N = {N}, d = {d}, D = {D}, rank {summ['rank']}, Q = {summ['Q']:.4g}, "
          f"S_hat = {summ['S_hat']:.4g}, initial sharpness {S0:.4g}, eta = {eta:.4g}, float64")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}, numba {numba.__version__}")

    # warm-up (Numba compile or cache load) on tiny data
    run_chain(X[:4, :3], y[:4], D, 0.01, 2)
    run_chain(X[:4, :3], y[:4], D, 0.01, 2, batch=2)

    # (a) NumPy GD in raw coordinates
    t_np, _ = best_time(lambda: chain_gd_numpy(X, y, u0, v0, eta, ns.numpy_steps), ns.repeats)
    rate_np = ns.numpy_steps / t_np

    # (b) kernel GD: time inside the compiled kernel (run_chain reports it; SVD and set-up excluded;
    # the two records at the start and the end are included)
    def kern(n):
        run = run_chain(X, y, D, eta, n, record_every=max(n, 1), u0=u0, v0=v0, svd=svd)
        if run.diverged:
            raise SystemExit(f"the GD run diverged at step {run.diverged_at}; lower --eta-frac")
        return run.config["kernel_seconds"]
    rate_k = ns.kernel_steps / min(kern(ns.kernel_steps) for _ in range(ns.repeats))

    # agreement
    K = ns.check_steps
    u_np, v_np, loss_np = chain_gd_numpy(X, y, u0, v0, eta, K)
    run = run_chain(X, y, D, eta, K, record_every=1, u0=u0, v0=v0, svd=svd)
    rel_loss = float(np.max(np.abs(run.records["loss"] - loss_np) / np.abs(loss_np)))
    rel_u = float(np.linalg.norm(run.final_u - u_np) / np.linalg.norm(u_np))
    rel_v = float(np.max(np.abs(run.final_v - v_np) / np.abs(v_np)))
    t_rec = (run.config["kernel_seconds"] - K / rate_k) / max(len(run.steps), 1)

    # (c) SGD
    batches = sgd_batches(N, B, ns.sgd_steps // 10, seed=0)
    # chain_sgd_numpy also computes the full-batch loss every step: time a lean loop instead
    def np_sgd():
        u, v = u0.copy(), v0.copy()
        for b in batches:
            Xb = X[b]
            pi = np.prod(v)
            Xu = Xb @ u
            rb = Xu * pi - y[b]
            ex = np.array([np.prod(np.delete(v, j)) for j in range(D - 1)])
            u -= eta * (pi / len(b)) * (Xb.T @ rb)
            v -= eta * ((rb @ Xu) / len(b)) * ex
        return u, v
    t_sgd_np, _ = best_time(np_sgd, ns.repeats)
    rate_sgd_np = len(batches) / t_sgd_np

    def ksgd(n):
        run = run_chain(X, y, D, eta, n, record_every=max(n, 1), batch=B, u0=u0, v0=v0, seed=0, svd=svd)
        if run.diverged:
            raise SystemExit(f"the SGD run diverged at step {run.diverged_at}; lower --eta-frac")
        return run.config["kernel_seconds"]
    rate_sgd_k = ns.sgd_steps / min(ksgd(ns.sgd_steps) for _ in range(ns.repeats))
    u_s, v_s, loss_s = chain_sgd_numpy(X, y, u0, v0, eta, batches[:K])
    run_s = run_chain(X, y, D, eta, K, record_every=1, batch=B, u0=u0, v0=v0, seed=0, svd=svd)
    rel_sgd = float(np.max(np.abs(run_s.records["loss"] - loss_s) / np.abs(loss_s)))

    print(f"\none-time SVD of X ({N}×{d}): {t_svd:.3f} s;  one record (loss, exact sharpness, NTK, C, …): "
          f"{t_rec * 1e6:.1f} µs")
    print(f"\n{'method':44s} {'steps/s':>12s} {'× NumPy':>9s}")
    print(f"{'(a) GD, NumPy raw coordinates (2 mat-vecs)':44s} {rate_np:12.4g} {1.0:9.1f}")
    print(f"{'(b) GD, Numba kernel in SVD coordinates':44s} {rate_k:12.4g} {rate_k / rate_np:9.1f}")
    print(f"{f'(c) SGD B={B}, NumPy raw coordinates':44s} {rate_sgd_np:12.4g} {1.0:9.1f}")
    print(f"{f'(c) SGD B={B}, Numba kernel (rows of E diag σ)':44s} {rate_sgd_k:12.4g} "
          f"{rate_sgd_k / rate_sgd_np:9.1f}")
    print(f"\nagreement after {K} GD steps: max relative loss difference {rel_loss:.2e} "
          f"(loss {loss_np[0]:.6g} → {loss_np[-1]:.6g}); final u {rel_u:.2e}, v {rel_v:.2e} (relative)")
    print(f"agreement after {K} SGD steps (same batches): max relative loss difference {rel_sgd:.2e} "
          f"(loss {loss_s[0]:.6g} → {loss_s[-1]:.6g})")
    print(f"time for a 10^6-step GD run including the SVD: {t_svd + 1e6 / rate_k:.2f} s "
          f"(NumPy: {1e6 / rate_np:.0f} s)")


if __name__ == "__main__":
    main()
