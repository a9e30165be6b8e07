"""Command-line verbs of the compiled dynamics: ``run``, ``orbit``, ``phase``, ``lyapunov``, ``plot``,
``figures`` — the same for every registered model.

    symsharp run uv --eta 12 --f0 0 --lam0 0.1 --steps 2000 --plot traj.png
    symsharp orbit uv --eta 5:25:2001 --transient 10000 --keep 256 --json
    symsharp phase uv --eta 5:25:201 --lam0 0.01:0.5:101 --plot phase.png
    symsharp lyapunov custom --loss 'w**2/2 - w**3/3' --eta 1.5:3:400 --init w=0.3
    symsharp phase uv --eta 5:25:10000 --lam0 0.01:0.5:10000 --f0 0 --out scan.zarr      (resumable)
    symsharp phase uv ... --out scan.zarr --resume --scheduler tcp://host:8786         (on a cluster)
    symsharp plot result.nc --plot figure.png

Every per-point model option takes one number, a list ``a,b,c`` or a grid ``start:stop:count``
(ends included).  ``orbit`` and ``lyapunov`` scan the one option given several values, ``phase``
the two.  Scans run in tiles within ``--memory``, on every core (``--scheduler local``), on worker
processes (``processes:N``) or on a Dask cluster (``tcp://host:port``); ``--out FILE.zarr`` streams
the tiles into a Zarr store that ``--resume`` finishes after an interrupt.  The answer never depends
on any of these.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import UsageError
from .common import option_values


def add_dynamics_arguments(verb: str, p: argparse.ArgumentParser) -> None:
    """The verb's own flags and the flags every dynamics verb shares."""
    g = p.add_argument_group(f"{verb} options")
    if verb == "run":
        g.add_argument("--steps", type=int, default=1000, help="GD steps (default 1000)")
        g.add_argument("--record-every", type=int, default=1, help="record every this many steps (default 1)")
    elif verb == "orbit":
        g.add_argument("--transient", type=int, default=10_000, help="steps discarded first (default 10000)")
        g.add_argument("--keep", type=int, default=256, help="steps kept per grid point (default 256)")
        g.add_argument("--observable", default=None, help="what to show: sharpness (default), loss, a state variable, ...")
        g.add_argument("--continuation", action="store_true",
                       help="seed each grid point with the previous point's final state")
        g.add_argument("--max-period", type=int, default=64, help="longest period detected (default 64)")
        g.add_argument("--tol", type=float, default=None, help="period tolerance (default √eps of the dtype)")
    elif verb == "phase":
        g.add_argument("--x", dest="x_axis", default=None, help="option on the x axis (default eta if scanned)")
        g.add_argument("--y-axis", dest="y_axis", default=None, help="option on the y axis")
        g.add_argument("--transient", type=int, default=2000, help="steps discarded first (default 2000)")
        g.add_argument("--keep", type=int, default=128, help="steps kept per grid point (default 128)")
        g.add_argument("--max-period", type=int, default=32, help="longest period detected (default 32)")
        g.add_argument("--tol", type=float, default=None, help="period tolerance (default √eps of the dtype)")
        g.add_argument("--keep-values", action="store_true",
                       help="also keep the loss over the kept steps at every grid point (large)")
    elif verb == "lyapunov":
        g.add_argument("--steps", type=int, default=10_000, help="steps averaged over (default 10000)")
        g.add_argument("--transient", type=int, default=1000, help="steps discarded first (default 1000)")
    if verb in ("orbit", "phase"):
        g.add_argument("--settle", type=int, default=None, metavar="STEPS",
                       help="points without a period run on until their statistics settle, up to this many steps "
                            "in all, else they are labelled unsettled (default 8 x max(transient, 1000); 0: off)")
    c = p.add_argument_group("output and numerics")
    c.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="kernel arithmetic (default float64)")
    c.add_argument("--threshold", type=float, default=None,
                   help="divergence: |state| above this (default 1e8; 1e6 for chain runs)")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.add_argument("--out", default=None, metavar="FILE.nc|FILE.zarr",
                   help="save the full labelled result: netCDF-4 (.nc) or a Zarr store (.zarr), which scans fill "
                        "tile by tile as they finish")
    c.add_argument("--plot", default=None, metavar="FILE.png", help="draw the figure (.png, .pdf or .svg)")
    c.add_argument("--progress", action="store_true", default=None,
                   help="always show a progress bar (default: on a terminal, for scans longer than a few seconds)")
    c.add_argument("--memory", default=None, metavar="SIZE",
                   help="memory budget, e.g. 2GB (default) or 500MB: scans run in tiles that fit it, and a scan "
                        "that cannot fit is refused before it starts")
    if verb != "run":
        c.add_argument("--scheduler", default=None, metavar="WHERE",
                       help="where tiles run: local (default, every core of this machine), processes:N (N worker "
                            "processes), or the address of a Dask scheduler, e.g. tcp://host:8786")
        c.add_argument("--resume", action="store_true",
                       help="finish a scan whose --out FILE.zarr was interrupted (only missing tiles are computed)")


def build_system(args):
    """The model's System for the command line's options, and the per-point specs."""
    from ..models import get_model

    spec = get_model(args.model)
    values = option_values(args, spec.options_for("dynamics"))
    system = spec.make_system({k: v for k, v in values.items() if not spec.option_is_scan(k)}, args.dtype)
    return system, spec.scan_specs(values), spec


def _emit(args, res, payload_fn, plotters=None) -> None:
    """Save (unless the scan already streamed into a Zarr --out), plot, print; ``res`` is a
    ScanResult or a Dataset."""
    written = None
    try:
        if args.out and not _streamed(args):
            from ..io import save_result

            save_result(_dataset(res), args.out)
            written = args.out
        if args.plot:
            from .. import plots

            plots.plot_result(_dataset(res), args.plot, plotters=plotters)
    except BaseException:  # a result file without the figure asked for is half the output: remove it
        if written is not None:
            import os

            try:
                os.unlink(written)
            except OSError:
                pass
        raise
    if args.json:
        print(json.dumps(payload_fn(res)))
    else:
        _describe(res)
    if args.out:
        print(f"saved {args.out}", file=sys.stderr)
    if args.plot:
        print(f"figure {args.plot}", file=sys.stderr)


def _dataset(res):
    return res.to_dataset() if hasattr(res, "to_dataset") else res


def _streamed(args) -> bool:
    return bool(args.out) and str(args.out).lower().rstrip("/").endswith(".zarr") and args.command != "run"


def _announce(est) -> None:
    """Print the estimate of a long scan before it starts."""
    if est.seconds > 10 or est.points > 1_000_000:
        print(f"symsharp: {est.describe()}", file=sys.stderr)


def _settle_note(res) -> None:
    from ..dynamics.common import REGIMES

    if "regime" not in res:
        return
    import numpy as np

    n = int(np.sum(np.asarray(res["regime"].values) == REGIMES.index("unsettled")))
    if n:
        from ..io import metadata

        cap = metadata(res)["settings"].get("settle")
        print(f"symsharp: note: {n} point{'s' if n != 1 else ''} unsettled after up to {cap} steps "
              "(still converging, or windows disagreeing); raise --transient or --settle to decide them",
              file=sys.stderr)


def _describe(ds) -> None:
    """A short human-readable summary on stdout."""
    from ..dynamics.common import REGIMES
    from ..io import metadata

    meta = metadata(ds)
    kind = meta["kind"]
    if kind == "run":
        from ..dynamics.scan import run_summary

        s = run_summary(ds)
        div = s["diverged_at"]
        print(f"{meta['model']} run: {s['steps']} steps" + (f", diverged at step {div}" if div >= 0 else ""))
        if "Q" in ds.attrs:
            print("  data: " + ", ".join(f"{k}={ds.attrs[k]:.6g}" for k in ("N", "d", "rank", "sigma1", "Q", "S_hat")))
        for k, v in s["initial"].items():
            print(f"  initial {k:<10} {v:.10g}" if v is not None else f"  initial {k:<10} n/a")
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


def _scan_kwargs(args) -> dict:
    kw = {"progress": args.progress, "memory": args.memory, "dataset": False}
    if args.command != "run":
        kw.update(scheduler=args.scheduler, out=args.out if _streamed(args) else None, resume=args.resume,
                  on_plan=_announce)
    return kw


def _check_flags(args) -> dict:
    """Validate output paths and flags before any work; the threshold keyword (if given)."""
    import numpy as np

    if args.out:
        from ..io import check_output_path

        check_output_path(args.out)
    if args.plot:
        from ..plots import check_figure_path

        check_figure_path(args.plot)
    if getattr(args, "resume", False) and not _streamed(args):
        raise UsageError("--resume needs --out FILE.zarr (the store of the interrupted scan)")
    if args.memory is not None:
        from ..dynamics.tiles import parse_memory

        parse_memory(args.memory)
    if args.threshold is not None and not (args.threshold > 0 and np.isfinite(args.threshold)):
        raise UsageError(f"--threshold must be a positive finite number, got {args.threshold}")
    return {} if args.threshold is None else {"threshold": args.threshold}


def _phase_axes(args, specs) -> tuple:
    """(x, y) options of a phase diagram: the flags, or the two scanned options (η on x)."""
    x, y = args.x_axis, args.y_axis
    if x is None and y is None:
        from ..dynamics.grid import parse_grid

        multi = [k for k in specs if parse_grid(specs[k], k).size > 1]
        if len(multi) == 2 and multi[1] == "eta":
            multi = multi[::-1]
        if len(multi) == 2:
            x, y = multi
    elif x is None or y is None:
        raise UsageError("phase: give both --x and --y-axis, or neither")
    return x, y


def _run_verb(args, system, specs, spec, kw: dict) -> None:
    """Run ``run``, ``orbit``, ``phase`` or ``lyapunov`` on the system and emit the result."""
    from ..dynamics import scan

    if args.command == "run":
        ds = scan.run(system, specs, steps=args.steps, record_every=args.record_every, **kw)
        _emit(args, ds, scan.run_summary, spec.plotters)
    elif args.command == "orbit":
        ds = scan.orbit(system, specs, transient=args.transient, keep=args.keep, observable=args.observable,
                        continuation=args.continuation, max_period=args.max_period, tol=args.tol,
                        settle=args.settle, **kw)
        _settle_note(ds)
        _emit(args, ds, scan.orbit_json, spec.plotters)
    elif args.command == "phase":
        x, y = _phase_axes(args, specs)
        ds = scan.phase(system, specs, x=x, y=y, transient=args.transient, keep=args.keep,
                        max_period=args.max_period, tol=args.tol, settle=args.settle,
                        keep_values=args.keep_values, **kw)
        _settle_note(ds)
        _emit(args, ds, scan.phase_json, spec.plotters)
    elif args.command == "lyapunov":
        ds = scan.lyapunov_curve(system, specs, steps=args.steps, transient=args.transient, **kw)
        _emit(args, ds, scan.lyapunov_json, spec.plotters)


def dynamics_command(args) -> int:
    """``symsharp run|orbit|phase|lyapunov MODEL ...``: check the flags, build the model's system,
    run the verb, print or save the result."""
    import numpy as np

    thr = _check_flags(args)
    t0 = time.perf_counter()
    kw = _scan_kwargs(args)
    with np.errstate(all="ignore"):
        system, specs, spec = build_system(args)
        _run_verb(args, system, specs, spec, {**kw, **thr})
    if not args.json:
        print(f"({time.perf_counter() - t0:.2f} s)", file=sys.stderr)
    return 0
