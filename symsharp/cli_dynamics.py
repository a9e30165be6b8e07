"""Command-line verbs of the compiled dynamics: ``run``, ``orbit``, ``phase``, ``lyapunov``, ``plot``.

    symsharp run uv --eta 12 --f0 0 --lam0 0.1 --steps 2000 --plot traj.png
    symsharp orbit uv --eta 5:25:2001 --transient 10000 --keep 256 --json
    symsharp phase uv --eta 5:25:201 --lam0 0.01:0.5:101 --plot phase.png
    symsharp lyapunov custom --loss 'w**2/2 - w**3/3' --eta 1.5:3:400 --init w=0.3
    symsharp plot result.nc --out figure.png

Every model option takes one number, a list ``a,b,c`` or a grid ``start:stop:count`` (ends
included).  ``orbit`` and ``lyapunov`` scan the one option given several values, ``phase`` the
two.  All four verbs take the same model options.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .errors import UsageError

MODEL_OPTIONS = {
    # dest: (flag, models, help)
    "eta": ("--eta", ("uv", "chain", "custom"), "learning rate η > 0 (number, list a,b,c or grid start:stop:count)"),
    "width": ("--width", ("uv",), "UV: width n (default 100)"),
    "x_norm": ("--x-norm", ("uv",), "UV: input norm ‖x‖ (default 1)"),
    "y": ("--y", ("uv",), "UV: target y (default 1)"),
    "alpha": ("--alpha", ("uv",), "UV: output multiplier α (default 1)"),
    "f0": ("--f0", ("uv",), "UV: initial output f₀ (default: from the random initialisation)"),
    "lam0": ("--lam0", ("uv",), "UV: initial NTK λ₀ (default: from the random initialisation)"),
    "init_scale": ("--init-scale", ("uv", "chain"), "init scale σ (UV: U_ij, v_i ~ N(0, σ²); default 1)"),
    "seed": ("--seed", ("uv", "chain"), "seed of the random initialisation (default 0)"),
}


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=["uv", "chain", "custom"])
    g = p.add_argument_group("model options (each: a number, a list a,b,c or a grid start:stop:count)")
    for dest, (flag, models, help_) in MODEL_OPTIONS.items():
        g.add_argument(flag, dest=dest, default=None, metavar="SPEC", help=help_)
    c = p.add_argument_group("chain model")
    c.add_argument("--depth", type=int, default=None, help="depth D >= 2 (default 3)")
    c.add_argument("--samples", type=int, default=None, help="synthetic data: number of examples N (default 100)")
    c.add_argument("--dim", type=int, default=None, help="synthetic data: input dimension d (default 20)")
    c.add_argument("--data-kind", choices=["gaussian", "spectrum", "image"], default=None,
                   help="synthetic data generator (default gaussian)")
    c.add_argument("--data-seed", type=int, default=None, help="seed of the synthetic data (default 0)")
    c.add_argument("--data-file", default=None, help="data from .npz (X, y), .npy or .csv (last column y)")
    c.add_argument("--target-q", type=float, default=None, help="synthetic data: scale y so that Q equals this")
    c.add_argument("--batch", type=int, default=None, help="run: SGD batch size B (default: full-batch GD)")
    c.add_argument("--replacement", action="store_true", help="run: SGD batches drawn with replacement")
    u = p.add_argument_group("custom model")
    u.add_argument("--f", dest="f_expr", default=None, help="output f as a SymPy expression")
    u.add_argument("--loss", default=None, help="loss L(θ) as a SymPy expression (instead of --f)")
    u.add_argument("--params", default=None, help="comma-separated parameter names")
    u.add_argument("--inputs", default=None, help="comma-separated input names")
    u.add_argument("--data", default=None, help="dataset, e.g. 'x=1,2,3;y=0.5,1,2'")
    u.add_argument("--init", action="append", default=[], metavar="NAME=SPEC",
                   help="initial value of a parameter (repeatable; SPEC may be a grid)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--threshold", type=float, default=None,
                   help="divergence: |state| above this (default 1e8; 1e6 for chain runs)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", default=None, metavar="FILE.nc", help="save the full labelled result (netCDF)")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="draw the figure (.png, .pdf or .svg)")
    p.add_argument("--progress", action="store_true", default=None, help="always show a progress bar")


def add_dynamics_parsers(sub) -> None:
    r = sub.add_parser("run", help="one GD (or, for the chain model, SGD) run with loss, sharpness, NTK, invariants")
    add_model_arguments(r)
    r.add_argument("--steps", type=int, default=1000)
    r.add_argument("--record-every", type=int, default=1)

    o = sub.add_parser("orbit", help="orbit (bifurcation) diagram over one option, with periods, regimes, Lyapunov")
    add_model_arguments(o)
    o.add_argument("--transient", type=int, default=10_000)
    o.add_argument("--keep", type=int, default=256)
    o.add_argument("--observable", default=None, help="sharpness (default), loss, f, lam, ... or a parameter")
    o.add_argument("--continuation", action="store_true",
                   help="seed each grid point with the previous point's final state")
    o.add_argument("--max-period", type=int, default=64)
    o.add_argument("--tol", type=float, default=None, help="period tolerance (default √eps of the dtype)")

    ph = sub.add_parser("phase", help="regime labels over a 2-D grid of two options")
    add_model_arguments(ph)
    ph.add_argument("--x", dest="x_axis", default=None, help="option on the x axis (default eta if scanned)")
    ph.add_argument("--y-axis", dest="y_axis", default=None, help="option on the y axis")
    ph.add_argument("--transient", type=int, default=2000)
    ph.add_argument("--keep", type=int, default=128)
    ph.add_argument("--max-period", type=int, default=32)

    ly = sub.add_parser("lyapunov", help="largest Lyapunov exponent along a 1-D grid")
    add_model_arguments(ly)
    ly.add_argument("--steps", type=int, default=10_000)
    ly.add_argument("--transient", type=int, default=1000)

    rc = sub.add_parser("route-to-chaos", help="UV: η_c, period-doubling cascade, Feigenbaum ratio, period-3 window, crisis")
    rc.add_argument("model", choices=["uv"])
    rc.add_argument("--width", type=int, default=None, help="width n (default as symsharp.analysis.uv_route)")
    rc.add_argument("--x-norm", dest="x_norm", type=float, default=None, help="input norm ‖x‖")
    rc.add_argument("--y", type=float, default=None, help="target y (nonzero)")
    rc.add_argument("--alpha", type=float, default=None, help="output multiplier α")
    rc.add_argument("--flips", type=int, default=None, help="number of period-doubling points to compute")
    rc.add_argument("--dps", type=int, default=None, help="mpmath working precision in decimal digits")
    rc.add_argument("--json", action="store_true")

    ex = sub.add_parser("experiment", help="chain-model experiments: final sharpness vs N, D, η or B; a run at EoS")
    ex.add_argument("name", choices=["chain-sharpness", "chain-eos"])
    ex.add_argument("--vs", choices=["N", "depth", "eta", "batch"], default="depth",
                    help="chain-sharpness: the swept quantity (default depth)")
    ex.add_argument("--values", default=None, help="swept values a,b,c (batch: 'full' for GD; eta: multiples of 2/S_ref "
                                                    "unless --absolute-eta)")
    ex.add_argument("--absolute-eta", action="store_true", help="--values of eta are learning rates, not multiples")
    ex.add_argument("--seeds", default="0,1,2", help="initialisation seeds (default 0,1,2)")
    ex.add_argument("--steps", type=int, default=None)
    ex.add_argument("--data-kind", choices=["gaussian", "spectrum", "image"], default=None)
    ex.add_argument("--samples", type=int, default=None)
    ex.add_argument("--dim", type=int, default=None)
    ex.add_argument("--target-q", type=float, default=None)
    ex.add_argument("--depth", type=int, default=None)
    ex.add_argument("--eta", type=float, default=None)
    ex.add_argument("--batch", type=int, default=None)
    ex.add_argument("--replacement", action="store_true")
    ex.add_argument("--json", action="store_true")
    ex.add_argument("--out", default=None, metavar="FILE.nc")
    ex.add_argument("--plot", default=None, metavar="FILE.png")

    fg = sub.add_parser("figures", help="write the showcase figures and their result files into a folder")
    fg.add_argument("--dir", default="figures", help="output folder (created if missing; default figures)")

    pl = sub.add_parser("plot", help="redraw the figure of a saved result")
    pl.add_argument("result", help="a .nc file written with --out")
    pl.add_argument("--out", required=True, metavar="FILE.png")


# ----------------------------------------------------------------------------------------------
def _option_specs(args) -> dict:
    specs = {}
    for dest, (flag, models, _) in MODEL_OPTIONS.items():
        v = getattr(args, dest, None)
        if v is None:
            continue
        if args.model not in models:
            raise UsageError(f"{flag} is not an option of the {args.model} model")
        specs[dest] = v
    return specs


def _custom_init(items) -> dict:
    out = {}
    for it in items:
        if "=" not in it:
            raise UsageError(f"--init must look like NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def build_system(args):
    """The System for the command line's model options, and the option specs."""
    from .dynamics.grid import parse_grid
    from .dynamics.systems import custom_system, uv_system

    specs = _option_specs(args)
    if args.model != "chain":
        for name in ("depth", "samples", "dim", "data_kind", "data_seed", "data_file", "batch", "target_q"):
            if getattr(args, name, None) is not None:
                raise UsageError(f"--{name.replace('_', '-')} is an option of the chain model, not of {args.model}")
    if args.model != "custom":
        for name, flag in (("f_expr", "--f"), ("loss", "--loss"), ("params", "--params"),
                           ("inputs", "--inputs"), ("data", "--data")):
            if getattr(args, name, None) is not None:
                raise UsageError(f"{flag} is an option of the custom model, not of {args.model}")
        if args.init:
            raise UsageError(f"--init is an option of the custom model, not of {args.model}")
    if args.model == "uv":
        return uv_system(dtype=args.dtype), specs
    if args.model == "custom":
        from .cli import _parse_data

        if (args.f_expr is None) == (args.loss is None):
            raise UsageError("the custom model needs exactly one of --f EXPR or --loss EXPR")
        try:
            data = _parse_data(args.data) if args.data else None
        except argparse.ArgumentTypeError as exc:
            raise UsageError(str(exc)) from None
        init = _custom_init(args.init)
        scalar_init = {}
        for k, v in init.items():
            g = parse_grid(v, k)
            if g.size == 1:
                scalar_init[k] = float(g[0])
        system = custom_system(f=args.f_expr, loss=args.loss, params=args.params, inputs=args.inputs,
                               data=data, init=scalar_init, dtype=args.dtype)
        for k, v in init.items():
            specs[k] = v
        return system, specs
    from .dynamics.systems import chain_system

    return chain_system(depth=args.depth, samples=args.samples, dim=args.dim, kind=args.data_kind,
                        data_seed=args.data_seed, data_file=args.data_file, target_q=args.target_q,
                        dtype=args.dtype), specs


def _emit(args, ds, payload_fn) -> None:
    from .io import save_result
    from .plots import plot_result

    if args.out:
        save_result(ds, args.out)
    if args.plot:
        plot_result(ds, args.plot)
    if args.json:
        print(json.dumps(payload_fn(ds)))
    else:
        _describe(ds)
    if args.out:
        print(f"saved {args.out}", file=sys.stderr)
    if args.plot:
        print(f"figure {args.plot}", file=sys.stderr)


def _describe(ds) -> None:
    """A short human-readable summary on stdout."""
    from .dynamics.orbits import REGIMES
    from .io import metadata

    meta = metadata(ds)
    kind = meta["kind"]
    if kind == "run":
        from .dynamics.scan import run_summary

        s = run_summary(ds)
        div = s["diverged_at"]
        print(f"{meta['model']} run: {s['steps']} steps" + (f", diverged at step {div}" if div >= 0 else ""))
        if "Q" in ds.attrs:
            print("  data: " + ", ".join(f"{k}={ds.attrs[k]:.6g}" for k in ("N", "d", "rank", "sigma1", "Q", "S_hat")))
        for k, v in s["final"].items():
            print(f"  final {k:<12} {v:.10g}" if v is not None else f"  final {k:<12} n/a")
        if "two_over_eta" in s:
            print(f"  2/eta        {s['two_over_eta']:.10g}")
        return
    if kind == "lyapunov":
        ax = meta["settings"]["axis"]
        vals = ds["lyapunov"].values
        step = max(1, vals.size // 40)
        at = ds["diverged_at"].values
        for p, l, d in list(zip(ds[ax].values, vals, at))[::step]:
            print(f"{ax}={p:<12.8g} " + (f"lyapunov={l:.6g}" if d < 0 else f"diverged at step {d}"))
        if step > 1:
            print(f"(every {step}th of {vals.size} points; --json or --out for all)")
        return
    codes = ds["regime"].values.ravel()
    counts = {r: int((codes == i).sum()) for i, r in enumerate(REGIMES) if (codes == i).any()}
    print(f"{kind} of {meta['model']}: {codes.size} grid points: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


SHOWCASE = [
    # (file stem, verb, argv): every figure is a plain command a user can rerun
    ("uv_orbit", ["orbit", "uv", "--eta", "5:17:2000", "--f0", "0", "--lam0", "0.1", "--transient", "10000",
                  "--keep", "256"]),
    ("uv_lyapunov", ["lyapunov", "uv", "--eta", "5:17:2000", "--f0", "0", "--lam0", "0.1", "--steps", "20000"]),
    ("uv_phase", ["phase", "uv", "--eta", "5:25:201", "--lam0", "0.01:0.5:101", "--f0", "0"]),
    ("uv_trajectory", ["run", "uv", "--eta", "12", "--init-scale", "0.2", "--steps", "400"]),
    ("chain_trajectory", ["run", "chain", "--eta", "0.95", "--steps", "3000"]),
]


def showcase(folder: str) -> list:
    """Run the showcase commands, writing FOLDER/<name>.nc and FOLDER/<name>.png for each."""
    import os

    from .cli import build_parser

    os.makedirs(folder, exist_ok=True)
    written = []
    for stem, argv in SHOWCASE:
        nc, png = os.path.join(folder, stem + ".nc"), os.path.join(folder, stem + ".png")
        t0 = time.perf_counter()
        args = build_parser().parse_args(argv + ["--out", nc, "--plot", png, "--json"])
        import contextlib
        import io as _io

        with contextlib.redirect_stdout(_io.StringIO()), contextlib.redirect_stderr(_io.StringIO()):
            dynamics_command(args)
        print(f"{png:<32} symsharp {' '.join(argv)}  ({time.perf_counter() - t0:.1f} s)")
        written += [nc, png]
    return written


def experiment_command(args) -> int:
    """``symsharp experiment chain-sharpness|chain-eos``."""
    import numpy as np

    from .analysis import chain_experiments as ce
    from .io import check_output_path, save_result
    from .plots import check_figure_path
    from .plots.chain import plot_chain_result

    if args.out:
        check_output_path(args.out)
    if args.plot:
        check_figure_path(args.plot)
    kw = {}
    if args.steps is not None:
        kw["steps"] = args.steps
    if args.name == "chain-eos":
        for flag in ("values", "data_kind", "depth", "batch", "target_q", "eta"):
            if getattr(args, flag) not in (None, False):
                raise UsageError(f"--{flag.replace('_', '-')} is not an option of chain-eos")
        if args.samples is not None:
            kw["samples"] = args.samples
        if args.dim is not None:
            kw["dim"] = args.dim
        with np.errstate(all="ignore"):
            ds = ce.eos_run(**kw)
        summary = json.loads(ds.attrs.get("summary", "{}"))
    else:
        values = None
        if args.values is not None:
            items = [t.strip() for t in args.values.split(",") if t.strip()]
            if not items:
                raise UsageError("--values is empty; give a list a,b,c")
            try:
                conv = (lambda t: None if t == "full" else int(t)) if args.vs in ("N", "depth", "batch") else float
                values = [conv(t) for t in items]
            except ValueError:
                raise UsageError(f"--values {args.values!r}: entries must be numbers"
                                 + (" (or 'full')" if args.vs == "batch" else "")) from None
        try:
            seeds = [int(t) for t in args.seeds.split(",") if t.strip()]
        except ValueError:
            raise UsageError(f"--seeds must be whole numbers a,b,c, got {args.seeds!r}") from None
        if not seeds:
            raise UsageError("--seeds is empty")
        for name, key in (("data_kind", "data"), ("samples", "samples"), ("dim", "dim"), ("target_q", "Q"),
                          ("depth", "depth"), ("eta", "eta"), ("batch", "batch")):
            v = getattr(args, name)
            if v is not None:
                kw[key] = v
        if args.replacement:
            kw["replacement"] = True
        if args.absolute_eta:
            kw["eta_relative"] = False
        with np.errstate(all="ignore"):
            ds = ce.sharpness_vs(args.vs, values=values, seeds=seeds, **kw)
        summary = ce.summary_table(ds)
    if args.out:
        save_result(ds, args.out)
    if args.plot:
        plot_chain_result(ds, args.plot)
    if args.json:
        print(json.dumps(summary, default=float))
    elif args.name == "chain-eos":
        for k, v in summary.items():
            print(f"{k:<28} {v}")
    else:
        cols = list(summary[0])
        print("  ".join(f"{c:>14}" for c in cols))
        for row in summary:
            print("  ".join(f"{row[c]:>14.6g}" if isinstance(row[c], float) else f"{str(row[c]):>14}" for c in cols))
    return 0


def route_command(args) -> int:
    from .analysis.uv_route import route_to_chaos

    kw = {k: getattr(args, k) for k in ("width", "x_norm", "y", "alpha", "flips", "dps") if getattr(args, k) is not None}
    res = route_to_chaos(**kw)
    if args.json:
        print(json.dumps(res, default=str))
        return 0
    print(f"UV route to chaos ({', '.join(f'{k}={v:g}' for k, v in res['config'].items() if isinstance(v, (int, float)))})")
    print(f"  eta_c               {res['eta_c']:.12g}   ({res['eta_c_formula']})")
    tc = res["eos_two_cycle"]
    print(f"  EoS 2-cycle stable  {tc['stable_from']:.12g} .. {tc['stable_to']:.12g}")
    for i, e in enumerate(res["period_doubling"], 1):
        print(f"  flip {i:<2}             {e:.12g}")
    print(f"  chaos onset         {res['chaos_onset']:.12g}")
    print(f"  Feigenbaum delta    {res['feigenbaum_delta']:.10g}")
    print(f"  period-3 window     {res['period3_window']:.12g}")
    print(f"  bounded orbits lost {res['bounded_orbits_lost']:.12g}")
    return 0


def dynamics_command(args) -> int:
    import numpy as np

    from .dynamics import scan

    if args.command == "figures":
        showcase(args.dir)
        return 0
    if args.command == "route-to-chaos":
        return route_command(args)
    if args.command == "experiment":
        return experiment_command(args)

    if args.command == "plot":
        from .io import load_result
        from .plots import check_figure_path, plot_result

        check_figure_path(args.out)
        plot_result(load_result(args.result), args.out)
        print(f"figure {args.out}", file=sys.stderr)
        return 0
    # validate output paths before any work
    if args.out:
        from .io import check_output_path

        check_output_path(args.out)
    if args.plot:
        from .plots import check_figure_path

        check_figure_path(args.plot)
    thr = {} if args.threshold is None else {"threshold": args.threshold}
    if args.threshold is not None and not (args.threshold > 0 and np.isfinite(args.threshold)):
        raise UsageError(f"--threshold must be a positive finite number, got {args.threshold}")
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        if args.command == "run" and args.model == "chain":
            from .dynamics.systems import chain_run_dataset

            ds = chain_run_dataset(args, _option_specs(args), thr)
            _emit(args, ds, scan.run_summary)
            return 0
        system, specs = build_system(args)
        if args.command == "run":
            if args.batch is not None:
                raise UsageError("--batch (SGD) is available for the chain model only")
            ds = scan.run(system, specs, steps=args.steps, record_every=args.record_every, progress=args.progress, **thr)
            _emit(args, ds, scan.run_summary)
        elif args.command == "orbit":
            ds = scan.orbit(system, specs, transient=args.transient, keep=args.keep, observable=args.observable,
                            continuation=args.continuation, max_period=args.max_period, tol=args.tol,
                            progress=args.progress, **thr)
            _emit(args, ds, scan.orbit_json)
        elif args.command == "phase":
            x, y = args.x_axis, args.y_axis
            if x is None and y is None:
                from .dynamics.grid import parse_grid

                multi = [k for k in specs if parse_grid(specs[k], k).size > 1]
                if len(multi) == 2 and multi[1] == "eta":
                    multi = multi[::-1]
                if len(multi) == 2:
                    x, y = multi
            elif x is None or y is None:
                raise UsageError("phase: give both --x and --y-axis, or neither")
            ds = scan.phase(system, specs, x=x, y=y, transient=args.transient, keep=args.keep,
                            max_period=args.max_period, progress=args.progress, **thr)
            _emit(args, ds, scan.phase_json)
        elif args.command == "lyapunov":
            ds = scan.lyapunov_curve(system, specs, steps=args.steps, transient=args.transient,
                                     progress=args.progress, **thr)
            _emit(args, ds, scan.lyapunov_json)
    if not args.json:
        print(f"({time.perf_counter() - t0:.2f} s)", file=sys.stderr)
    return 0
