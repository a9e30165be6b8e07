"""Throughput of the UV function-space map in every arithmetic of symsharp.codegen.arith.

One map — the closed (f, λ) GD map of the UV model (width 1, input dimension 1, α = 1; derived by
``reduce_map``, nothing typed in) — run in:

  batched kernels (time outer, a block of trajectories inner, tiles on all cores), per map step:
    the existing float64/float32 kernels (symsharp.codegen.compile_map), the arith kernels in
    float64, float32, float16 and bfloat16 (emulated: every operation rounded inside a float32
    kernel), float16 with stochastic rounding, double-double; NumPy float64 vectorised over the
    batch (lambdify);
  scalar (one trajectory, latency-bound): the float64 and double-double kernels with a batch of
    one, a NumPy float16 scalar loop, MPFR (gmpy2) at 53/256/1024 bits, mpmath at 256 bits
    (lambdify), and certified arb balls at 256 bits with Lohner's QR moving frame (naive balls
    for comparison).

The batch uses η ∈ [10.5, 11.5] (a = 0.01, y = 1: attracting cycles near η_c = 10, nothing
diverges); the scalar runs use η = 11 (an attracting 2-cycle, so the Lohner enclosure stays tight
for the whole run) and η = 15 (chaos) for MPFR.  Targets (issue 9): emulated float16/bfloat16
≤ 4× the float32 kernel; double-double ≤ 8× float64; MPFR at 256 bits ≥ 5·10⁵ steps/s and never
slower than mpmath at equal bits; arb with Lohner ≥ 3·10⁴ steps/s at 256 bits.  The kernel
targets are judged on the kernels alone (compiled ``iterate`` on prepared arrays): through the
Python wrapper the input conversion and output copies add a fixed cost to every call, which makes
the ratios look smaller than the arithmetic's own cost.

    python benchmarks/bench_precision.py            # full sizes
    python benchmarks/bench_precision.py --quick    # a short run

The machine is shared: other processes change the numbers (best of several repeats is shown).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numba
import numpy as np
import sympy as sp


def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def uv_map():
    from symsharp.models import uv_model
    from symsharp.symbolic.reduction import reduce_map

    red = reduce_map(uv_model(1, 1, alpha=1))
    f, lam = red.variables
    by = {s.name: s for e in red.step.values() for s in e.free_symbols}
    return red.step, [f, lam], [by["eta"], by["a"], by["y"]]


def _kernel_only(k, x0, P, steps) -> float:
    """Seconds of one call of a kernel's compiled ``iterate`` on arrays prepared beforehand (states
    and parameters already in the kernel's layout and format): the arithmetic without the wrapper's
    input conversion and output copies."""
    B = x0.shape[0]
    div, at = np.zeros(B, np.bool_), np.full(B, -1, np.int64)
    if hasattr(k, "arith"):  # an ArithKernel (float64 … dd)
        X, XL = k.convert(x0, k.k, "states")
        Pk, PL = k.convert(P, k.m, "parameters")
        REC, RECL = np.zeros((0, k.k, B)), np.zeros((0, k.k, B))
        tid = np.arange(B, dtype=np.int64)
        per = -(-B // max(1, numba.get_num_threads()))
        tile = max(16, min(512, -(-per // 16) * 16))
        t0 = time.perf_counter()
        with numba.parallel_chunksize(1):
            k.module.iterate(X, XL, Pk, PL, np.int64(steps), np.int64(0), REC, RECL, np.float64(1e8), np.int64(16),
                             div, at, np.int64(0), tid, np.int64(0), np.int64(tile))
        return time.perf_counter() - t0
    X, Pk, _ = k._soa(x0, P)
    REC = np.zeros((0, k.k, B), k.dtype)
    t0 = time.perf_counter()
    with numba.parallel_chunksize(1):
        k.module.iterate(X, Pk, np.int64(steps), np.int64(0), np.int64(0), REC, np.float64(1e8), np.int64(16), div, at,
                         np.zeros(B, k.dtype), False, np.int64(k._tile(B, None)))
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short run")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per measurement (best is kept)")
    args = ap.parse_args(argv)
    quick = args.quick
    reps = args.repeats or (7 if quick else 9)

    from symsharp.codegen import compile_map
    from symsharp.codegen.arith import BallMap, compile_arith_map, scalar_map

    step, state, params = uv_map()
    B = 1 << (15 if quick else 16)
    steps = 200 if quick else 1000
    etas = np.linspace(10.5, 11.5, B)
    x0 = np.tile([0.0, 0.1], (B, 1))
    P = np.stack([etas, np.full(B, 0.01), np.ones(B)], 1)
    print(f"# symsharp precision benchmark — UV map, {platform.processor() or platform.machine()}, "
          f"{numba.get_num_threads()} Numba threads, Python {platform.python_version()}, numba {numba.__version__}")
    print(f"# batched: B = {B} trajectories × {steps} steps; best of {reps}")
    rows = {}

    # ---------------------------------------------------------------- batched kernels
    kernels = {"kernel float64 (compile_map)": compile_map(step, state, params, dtype="float64", name="uv_bench"),
               "kernel float32 (compile_map)": compile_map(step, state, params, dtype="float32", name="uv_bench")}
    for fmt, rnd in (("float64", "nearest"), ("float32", "nearest"), ("float16", "nearest"), ("bfloat16", "nearest"),
                     ("float16", "stochastic"), ("dd", "nearest")):
        label = f"arith {fmt}" + (" stochastic" if rnd == "stochastic" else "")
        kernels[label] = compile_arith_map(step, state, params, fmt, rounding=rnd, name="uv_bench")
    for k in kernels.values():  # compile / load
        k.iterate(x0[:64], P[:64], steps=2)
    times = {k: float("inf") for k in kernels}
    for _ in range(reps):  # interleaved, so that load changes hit every kernel alike
        for name, k in kernels.items():
            t0 = time.perf_counter()
            k.iterate(x0, P, steps=steps)
            times[name] = min(times[name], time.perf_counter() - t0)
    for name, t in times.items():
        rows[name] = t / (B * steps)
    # the same kernels called directly on prepared arrays (no conversion of inputs or outputs):
    # the arithmetic alone, which is what the targets compare
    kt = {}
    for _ in range(reps):
        for name, k in kernels.items():
            kt[name] = min(kt.get(name, float("inf")), _kernel_only(k, x0, P, steps))
    core = {name: t / (B * steps) for name, t in kt.items()}
    # NumPy float64 vectorised over the batch
    fn = sp.lambdify(state + params, [step[s] for s in state], modules="numpy")

    def numpy_run():
        f, lam = x0[:, 0].copy(), x0[:, 1].copy()
        for _ in range(steps):
            f, lam = fn(f, lam, etas, 0.01, 1.0)
        return f

    rows["numpy float64 (vectorised)"] = best_time(numpy_run, reps) / (B * steps)

    # ---------------------------------------------------------------- scalar (one trajectory)
    n1 = 200_000 if quick else 2_000_000
    for fmt in ("float64", "dd"):
        k = kernels[f"arith {fmt}"]
        k.iterate([[0.0, 0.1]], [11.0, 0.01, 1.0], steps=2)
        t = best_time(lambda: k.iterate([[0.0, 0.1]], [11.0, 0.01, 1.0], steps=n1), reps)
        rows[f"scalar {fmt} kernel (batch of 1)"] = t / n1
    # NumPy float16 scalar loop (every operation rounded by NumPy)
    fn16 = sp.lambdify(state + params, [step[s] for s in state], modules="numpy")
    n16 = 2000 if quick else 10000
    h = [np.float16(v) for v in (0.0, 0.1, 11.0, 0.01, 1.0)]

    def f16_loop():
        f, lam = h[0], h[1]
        for _ in range(n16):
            f, lam = fn16(f, lam, h[2], h[3], h[4])
        return f

    with np.errstate(all="ignore"):
        rows["numpy float16 scalar loop"] = best_time(f16_loop, reps) / n16
    nmp = 20_000 if quick else 200_000
    for bits in (53, 256, 1024):
        sm = scalar_map(step, state, params, f"mpfr:{bits}", name="uv_bench")
        x, p = sm.convert_all(["0", "0.1"]), sm.convert_all(["15", "0.01", "1"])
        n = nmp if bits <= 256 else nmp // 4
        rows[f"mpfr:{bits} scalar (gmpy2)"] = best_time(lambda: sm.orbit(x, p, n, record=False), reps) / n
    smm = scalar_map(step, state, params, "mp:256", name="uv_bench")
    x, p = smm.convert_all(["0", "0.1"]), smm.convert_all(["15", "0.01", "1"])
    nm = 2000 if quick else 10000
    rows["mp:256 scalar (mpmath lambdify)"] = best_time(lambda: smm.orbit(x, p, nm, record=False), reps) / nm
    bm = BallMap(step, state, params, bits=256, name="uv_bench")
    X0 = bm.box(["0", "0.1"])
    Pb = bm.params(["11", "0.01", "1"])
    nl = 5000 if quick else 30000
    rows["arb:256 Lohner (eta = 11)"] = best_time(lambda: bm.lohner(X0, Pb, nl), max(2, reps // 2)) / nl
    rows["arb:256 naive balls (80 steps)"] = best_time(lambda: bm.naive(X0, Pb, 80), reps) / 80

    # ---------------------------------------------------------------- report
    t64 = rows["arith float64"]
    tnp = rows["numpy float64 (vectorised)"]
    print(f"\n{'arithmetic':36s} {'steps/s':>12s} {'× float64 kernel':>17s} {'× numpy float64':>16s}")
    for name, t in rows.items():
        print(f"{name:36s} {1 / t:12.3e} {t / t64:17.2f} {t / tnp:16.3f}")
    print(f"\n{'kernel alone (prepared arrays)':36s} {'steps/s':>12s} {'× float64 kernel':>17s}")
    for name, t in core.items():
        print(f"{name:36s} {1 / t:12.3e} {t / core['arith float64']:17.2f}")
    r = {"float16 / float32 (kernels alone)": core["arith float16"] / core["arith float32"],
         "bfloat16 / float32 (kernels alone)": core["arith bfloat16"] / core["arith float32"],
         "bfloat16 / float32 (compile_map, alone)": core["arith bfloat16"] / core["kernel float32 (compile_map)"],
         "dd / float64 (kernels alone)": core["arith dd"] / core["arith float64"],
         "dd / float64 (compile_map, alone)": core["arith dd"] / core["kernel float64 (compile_map)"],
         "float16 / float32 (arith kernels)": rows["arith float16"] / rows["arith float32"],
         "bfloat16 / float32 (arith kernels)": rows["arith bfloat16"] / rows["arith float32"],
         "float16 / float32 (compile_map)": rows["arith float16"] / rows["kernel float32 (compile_map)"],
         "bfloat16 / float32 (compile_map)": rows["arith bfloat16"] / rows["kernel float32 (compile_map)"],
         "dd / float64 (arith kernels, batched)": rows["arith dd"] / rows["arith float64"],
         "dd / float64 (compile_map, batched)": rows["arith dd"] / rows["kernel float64 (compile_map)"],
         "dd / float64 (scalar loops)": rows["scalar dd kernel (batch of 1)"] / rows["scalar float64 kernel (batch of 1)"],
         "mpfr:256 / mp:256 time": rows["mpfr:256 scalar (gmpy2)"] / rows["mp:256 scalar (mpmath lambdify)"]}
    print("\nratios (time per step)")
    for k, v in r.items():
        print(f"  {k:40s} {v:8.2f}")
    checks = [("emulated float16 ≤ 4× float32 kernel (kernels alone)", r["float16 / float32 (kernels alone)"] <= 4),
              ("emulated bfloat16 ≤ 4× float32 kernel (kernels alone)", r["bfloat16 / float32 (kernels alone)"] <= 4),
              ("double-double ≤ 8× float64 (kernels alone, batched)", r["dd / float64 (kernels alone)"] <= 8),
              ("double-double ≤ 8× float64 (scalar loops)", r["dd / float64 (scalar loops)"] <= 8),
              ("MPFR 256 bits ≥ 5e5 steps/s", 1 / rows["mpfr:256 scalar (gmpy2)"] >= 5e5),
              ("MPFR never slower than mpmath (256 bits)", r["mpfr:256 / mp:256 time"] <= 1),
              ("arb Lohner ≥ 3e4 steps/s (256 bits)", 1 / rows["arb:256 Lohner (eta = 11)"] >= 3e4)]
    print("\ntargets")
    for k, ok in checks:
        print(f"  {'met    ' if ok else 'MISSED '} {k}")
    print(f"\n# load average at the end: {os.getloadavg()[0]:.2f} (shared machine: numbers are indicative)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
