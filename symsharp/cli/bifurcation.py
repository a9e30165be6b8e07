"""``symsharp bifurcation MODEL [model options] --eta A:B:N``: the route to chaos of any registered
model's GD map — period-doubling cascade, Feigenbaum ratios, chaos onset, periodic windows, folds,
Neimark–Sacker points and the boundary crisis — by the general engine of
:mod:`symsharp.analysis.bifurcation` on the SymPy map the model's kernel is compiled from.

The scanned option (given as a grid ``start:stop:count``) is the continuation parameter; it must
be a parameter of the map (the learning rate ``eta`` for every model).  Every other option fixes
the initial state (from which the attractor is followed) and the other map parameters.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from ..errors import UsageError
from .common import option_values


def add_bifurcation_arguments(p) -> None:
    g = p.add_argument_group("bifurcation options")
    g.add_argument("--max-period", type=int, default=16, help="longest period of the windows searched (default 16)")
    g.add_argument("--flips", type=int, default=10, help="period-doubling flips to follow (default 10)")
    g.add_argument("--digits", type=int, default=20, help="significant digits of every located point (>= 10; default 20)")
    g.add_argument("--grid", type=int, default=20_000, help="points of the scan that finds windows and the crisis "
                                                           "(default 20000)")
    g.add_argument("--start", type=float, default=None,
                   help="parameter value where the cascade is entered (default: the start of the range)")
    g.add_argument("--no-windows", action="store_true", help="skip the periodic-window search")
    g.add_argument("--no-crisis", action="store_true", help="skip the boundary crisis")
    c = p.add_argument_group("output")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.add_argument("--out", default=None, metavar="FILE.nc", help="save branches and bifurcation points (netCDF)")
    c.add_argument("--plot", default=None, metavar="FILE.png", help="draw branches over the orbit diagram")


def _bounded(value, what, lo, hi):
    if not (lo <= value <= hi):
        raise UsageError(f"{what} must be between {lo} and {hi}, got {value}")
    return value


def _range(value):
    """``A:B`` (the continuation range: only its ends matter) as the grid ``A:B:2``; anything else
    unchanged (``start:stop:count`` is accepted too)."""
    if isinstance(value, str) and value.count(":") == 1:
        a, b = (t.strip() for t in value.split(":"))
        try:
            float(a), float(b)
        except ValueError:
            raise UsageError(f"range {value!r} must look like A:B with two numbers, e.g. 5:20") from None
        return f"{a}:{b}:2"
    return value


def bifurcation_command(args) -> int:
    from ..analysis.bifurcation import bifurcation_analysis
    from ..models.generic import model_family
    from ..dynamics.grid import parse_grid
    from ..models import get_model

    spec = get_model(args.model)
    _bounded(args.max_period, "--max-period", 1, 64)
    _bounded(args.flips, "--flips", 1, 14)
    _bounded(args.digits, "--digits", 10, 60)
    _bounded(args.grid, "--grid", 100, 1_000_000)
    if args.out:
        from ..io import check_output_path

        check_output_path(args.out)
    if args.plot:
        from ..plots import check_figure_path

        check_figure_path(args.plot)
    values = {k: _range(v) for k, v in option_values(args, spec.options_for("dynamics")).items()}
    nonscan = {k: v for k, v in values.items() if not spec.option_is_scan(k)}
    specs = spec.scan_specs(values)
    grids = {k: parse_grid(v, k) for k, v in specs.items()}
    multi = [k for k, g in grids.items() if g.size > 1]
    if len(multi) != 1:
        raise UsageError("bifurcation needs exactly one option given as a range A:B (e.g. --eta 5:20), "
                         f"got {len(multi)}{': ' + ', '.join(multi) if multi else ''}")
    param = multi[0]
    lo, hi = float(grids[param].min()), float(grids[param].max())
    scalars = {k: float(g[0]) for k, g in grids.items() if k != param}
    t0 = time.perf_counter()
    fam, x0, values_fixed = model_family(spec, {**nonscan, **scalars}, param=param, at=lo)
    kw = {"state": fam.state}
    with np.errstate(all="ignore"):
        try:
            res = bifurcation_analysis(fam, x0, lo, hi, start=args.start, flips=args.flips,
                                       max_period=args.max_period, grid=args.grid, digits=args.digits,
                                       windows=not args.no_windows, crisis=not args.no_crisis)
        except (np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError, OverflowError) as exc:
            raise UsageError(f"the bifurcation analysis of the {spec.name} map on [{lo:g}, {hi:g}] failed numerically "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}); try a "
                             "narrower range, another start or --no-windows/--no-crisis") from None
    out = res.contract()
    out["model"] = spec.name
    out["initial_state"] = {str(s): float(v) for s, v in zip(kw["state"], x0)}
    out["fixed"] = values_fixed
    if args.out:
        from ..io import save_result

        ds = res.to_dataset()
        meta = json.loads(ds.attrs["symsharp"])
        meta.update({"kind": "bifurcation", "model": spec.name, "options": {k: str(v) for k, v in values.items()},
                     "contract": {k: v for k, v in out.items() if k != "details"}})
        ds.attrs["symsharp"] = json.dumps(meta, default=str)
        save_result(ds, args.out)
    if args.plot:
        from ..plots.bifurcation import plot_branches

        plot_branches(res, path=args.plot)
    if args.json:
        print(json.dumps(out, default=str))
    else:
        _describe(out, param, time.perf_counter() - t0)
    if args.out:
        print(f"saved {args.out}", file=sys.stderr)
    if args.plot:
        print(f"figure {args.plot}", file=sys.stderr)
    return 0


def _describe(out, param, seconds) -> None:
    print(f"{out['model']}: bifurcations in {param} on [{out['details']['range'][0]:g}, {out['details']['range'][1]:g}]")
    for i, (f, per) in enumerate(zip(out["flips"], out["details"]["flip_periods"]), 1):
        print(f"  flip {i:<2} period {per:>4} → {2 * per:<5} {param} = {f:.15g}")
    if out["chaos_onset"] is not None:
        print(f"  chaos onset          {param} = {out['chaos_onset']:.15g}")
    if out["feigenbaum_delta"] is not None:
        print(f"  Feigenbaum ratio     {out['feigenbaum_delta']:.12g}")
    for w in out["windows"]:
        print(f"  window period {w['period']:<4}   opens at {param} = {w['opens']:.15g}")
    for f in out["folds"]:
        print(f"  fold                 {param} = {f:.15g}")
    for f in out["neimark_sacker"]:
        print(f"  Neimark–Sacker       {param} = {f:.15g}")
    if out["crisis"] is not None:
        print(f"  boundary crisis      {param} = {out['crisis']:.15g}")
    print(f"({seconds:.1f} s)", file=sys.stderr)
