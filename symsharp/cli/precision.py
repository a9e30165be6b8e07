"""``symsharp precision horizon|blowup|certify MODEL [model options] ...``: how floating-point
precision decides between agreement, convergence and blow-up, on any registered model's GD map
(:mod:`symsharp.analysis.precision` on the SymPy map its kernel is compiled from).

- ``horizon``: per arithmetic, the step at which a trajectory leaves a high-precision reference,
  against the law (bits·ln 2 + ln tol)/λ;
- ``blowup``: per (η, arithmetic) the fraction of seeds 0…N−1 that blow up and when, with the
  mechanism test (float64 plus injected relative noise 2^-p); a model with raw coordinates (the
  chain model) runs the network's own arithmetic (``--coords raw``, the default) or its SymPy map
  in SVD coordinates (``--coords svd``);
- ``certify``: Lohner enclosures in ball arithmetic, the certified horizon, citable statements and,
  for a periodic attractor, a Krawczyk proof with enclosed multipliers.

The model options fix the initial state and the map's parameters exactly as in ``run``; each value
enters as the shortest decimal that rounds to its float64 value (``--lam0 0.1`` is 1/10 exactly).
"""
from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

from ..errors import UsageError
from .common import Parser, add_model_options, option_values

ANALYSES = {
    "horizon": "precision horizon per arithmetic against the law (bits·ln2 + ln tol)/λ",
    "blowup": "fraction of seeds that blow up per (η, arithmetic), with the injected-noise mechanism test",
    "certify": "certified run: Lohner enclosures, certified horizon, citable statements, Krawczyk proofs",
}
DEFAULT_ARITHS = {"horizon": "float32,float64,dd,mpfr:256", "blowup": "float32,float64"}


# ---------------------------------------------------------------------------------- parser
def add_precision_parser(sub, models) -> None:
    """``symsharp precision ANALYSIS MODEL`` for every registered model with a SymPy map."""
    p = sub.add_parser("precision", help="precision horizons, blow-up statistics and certified runs of a model's GD "
                                         "map in every arithmetic (bfloat16 … mpfr:BITS, arb balls)")
    asub = p.add_subparsers(dest="analysis", required=True, parser_class=Parser, metavar="ANALYSIS")
    for analysis, text in ANALYSES.items():
        ap = asub.add_parser(analysis, help=text, description=text)
        msub = ap.add_subparsers(dest="model", required=True, parser_class=Parser, metavar="MODEL")
        for name, spec in models.items():
            if spec.system is None or spec.symbolic_map is None:
                continue
            mp = msub.add_parser(name, help=spec.description, description=spec.description)
            add_model_options(mp, spec.options_for("dynamics"),
                              f"{name} model options (one value each; precision blowup: --eta a grid start:stop:count "
                              "or a list)")
            _ARGUMENTS[analysis](mp, spec)


def _common(g, analysis):
    g.add_argument("--arith", default=DEFAULT_ARITHS.get(analysis),
                   help="arithmetics, comma-separated: bfloat16, float16, float32, float64, dd, mpfr:BITS, mp:BITS"
                        + (", arb:BITS" if analysis == "horizon" else "")
                        + f" (default {DEFAULT_ARITHS.get(analysis)})")
    g.add_argument("--rounding", choices=["nearest", "stochastic"], default="nearest",
                   help="rounding of the emulated float16/bfloat16 (stochastic: seeded; default nearest)")


def _output(p):
    c = p.add_argument_group("output")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.add_argument("--out", default=None, metavar="FILE.nc", help="save the labelled result (netCDF or .zarr)")
    c.add_argument("--plot", default=None, metavar="FILE.png", help="draw the result's figure (.png, .pdf, .svg)")


def _horizon_arguments(p, spec):
    g = p.add_argument_group("precision horizon")
    _common(g, "horizon")
    g.add_argument("--tol", type=float, default=1e-3, help="relative tolerance of the comparison (default 1e-3)")
    g.add_argument("--steps", type=int, default=None,
                   help="length of the runs (default 1.25 × the largest predicted horizon, 1000 on an attracting orbit)")
    g.add_argument("--observable", default=None, metavar="NAME",
                   help="what is compared: a state variable (default the first) or an expression of the state "
                        "variables and map parameters")
    g.add_argument("--reference", default="auto",
                   help="reference arithmetic mpfr:BITS or mp:BITS (default auto: enough bits for the whole run)")
    g.add_argument("--threshold", type=float, default=1e8, help="divergence threshold on |x_i| (default 1e8)")
    _output(p)


def _blowup_arguments(p, spec):
    g = p.add_argument_group("blow-up statistics")
    _common(g, "blowup")
    g.add_argument("--seeds", type=int, default=8, help="number of seeds: 0 … N−1 (default 8)")
    g.add_argument("--steps", type=int, default=5000, help="GD steps per run (default 5000)")
    g.add_argument("--coords", choices=["raw", "svd"], default=None,
                   help="models with raw coordinates (chain): the network's own arithmetic (raw, default) or the "
                        "SymPy map in SVD coordinates (svd)")
    g.add_argument("--threshold", type=float, default=1e6, help="a run blows up when some |x_i| exceeds this (default 1e6)")
    g.add_argument("--check-every", dest="check_every", type=int, default=16,
                   help="steps between divergence checks (default 16)")
    g.add_argument("--noise-bits", dest="noise_bits", default=None, metavar="P,Q",
                   help="bits p of the mechanism test's injected noise 2^-p (default: the bits of each arithmetic below "
                        "float64)")
    g.add_argument("--no-mechanism", dest="mechanism", action="store_false",
                   help="skip the mechanism test (float64 plus injected noise)")
    g.add_argument("--workers", type=int, default=None,
                   help="processes for the multiple-precision arithmetics (default: both cores)")
    _output(p)


def _certify_arguments(p, spec):
    g = p.add_argument_group("certified run")
    g.add_argument("--bits", type=int, default=256, help="precision of the balls in bits, >= 2 (default 256)")
    g.add_argument("--steps", type=int, default=1000, help="length of the run (default 1000)")
    g.add_argument("--tol", type=float, default=1e-3,
                   help="a step is certified while every enclosure is narrower than tol·max(1, |x|) (default 1e-3)")
    g.add_argument("--threshold", type=float, default=1e8, help="divergence threshold of the statements (default 1e8)")
    g.add_argument("--period", default="auto",
                   help="periodic-orbit proof: auto (detect an attracting cycle), a period, or none (default auto)")
    g.add_argument("--max-period", dest="max_period", type=int, default=64,
                   help="longest period detected by --period auto (default 64)")
    g.add_argument("--no-naive", dest="naive", action="store_false", help="skip plain ball iteration")
    _output(p)


_ARGUMENTS = {"horizon": _horizon_arguments, "blowup": _blowup_arguments, "certify": _certify_arguments}


# ---------------------------------------------------------------------------------- helpers
def _exact(v) -> str:
    """A float64 value as the shortest decimal that rounds to it (0.1 → '0.1', read as 1/10)."""
    f = float(v)
    if not np.isfinite(f):
        raise UsageError(f"the option values give a non-finite number {f!r}")
    return repr(f)


def _options(args, spec, analysis):
    """(non-scan options, {per-point option: values array}, system) with every check done."""
    from ..dynamics.grid import parse_grid

    values = option_values(args, spec.options_for("dynamics"))
    nonscan = {k: v for k, v in values.items() if not spec.option_is_scan(k)}
    grids = {k: parse_grid(v, k) for k, v in spec.scan_specs(values).items()}
    multi = [k for k, g in grids.items() if g.size > 1]
    allowed = {"eta"} if analysis == "blowup" else set()
    bad = [k for k in multi if k not in allowed]
    if bad:
        flag = "--" + bad[0].replace("_", "-")
        raise UsageError(f"precision {analysis} takes one value for {flag}"
                         + (" (only --eta may be a grid or a list)" if analysis == "blowup" else ""))
    system = spec.make_system(nonscan, "float64")
    system.require_deterministic(f"precision {analysis}")
    return nonscan, grids, system


def _map_problem(spec, nonscan, grids, system, seeds=None):
    """(map kwargs, initial states [{state: decimal}] (one per seed, or one), {parameter: decimal}
    of every map parameter)."""
    kw = spec.map_kwargs(nonscan)
    point = {k: g[0] for k, g in grids.items()}
    if seeds is not None and "seed" in system.options:
        point["seed"] = np.asarray(seeds, float)
    x0, P, _ = system.prepare(point)
    kern = list(system.kernel.params)
    pnames = [str(s) for s in kw["params"]]
    missing = [n for n in pnames if n not in kern]
    if missing:
        raise UsageError(f"the {spec.name} map's parameter {missing[0]!r} is not set by its options")
    cols = {n: P[:, kern.index(n)] for n in pnames}
    for n, c in cols.items():
        if np.unique(c).size > 1:
            raise UsageError(f"the {spec.name} map's parameter {n!r} depends on the seed; precision blowup needs it "
                             "fixed")
    params = {n: _exact(c[0]) for n, c in cols.items()}
    states = [{str(s): _exact(v) for s, v in zip(kw["state"], row)} for row in x0]
    return kw, states, params


def _check_threshold(value):
    if not (value > 0 and math.isfinite(value)):
        raise UsageError(f"--threshold must be a positive finite number, got {value}")


def _check_outputs(args):
    if args.out:
        from ..io import check_output_path

        check_output_path(args.out)
    if args.plot:
        from ..plots import check_figure_path

        check_figure_path(args.plot)


def _save(ds, args, kind, spec, extra):
    meta = json.loads(ds.attrs["symsharp"])
    meta.update({"kind": kind, "model": spec.name, **extra})
    ds.attrs["symsharp"] = json.dumps(meta, default=str)
    if args.out:
        from ..io import save_result

        save_result(ds, args.out)
    if args.plot:
        from ..plots.precision import PLOTTERS

        PLOTTERS[kind](ds, args.plot)


def _finish(args, out, describe, t0):
    if args.json:
        print(json.dumps(out, default=str))
    else:
        describe(out)
        sys.stdout.flush()
        print(f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    if args.out:
        print(f"saved {args.out}", file=sys.stderr)
    if args.plot:
        print(f"figure {args.plot}", file=sys.stderr)
    return 0


def _given(args, spec) -> dict:
    return {k: str(v) for k, v in option_values(args, spec.options_for("dynamics")).items()}


# ---------------------------------------------------------------------------------- verbs
def precision_command(args) -> int:
    from ..models import get_model

    spec = get_model(args.model)
    return {"horizon": _horizon, "blowup": _blowup, "certify": _certify}[args.analysis](args, spec)


def _horizon(args, spec) -> int:
    from ..analysis.precision import horizon_json, precision_horizon
    from ..analysis.precision.common import check_steps, check_tol
    from ..codegen.arith import parse_ariths

    t0 = time.perf_counter()
    ariths = parse_ariths(args.arith)
    tol = check_tol(args.tol)
    if args.steps is not None:
        check_steps(args.steps)
    _check_threshold(args.threshold)
    _check_outputs(args)
    nonscan, grids, system = _options(args, spec, "horizon")
    kw, states, params = _map_problem(spec, nonscan, grids, system)
    observable = 0
    if args.observable is not None:
        names = [str(s) for s in kw["state"]]
        if args.observable in names:
            observable = args.observable
        else:
            from ..expr import parse_expression

            syms = {str(s): s for s in list(kw["state"]) + list(kw["params"])}
            observable = parse_expression(args.observable, "--observable", symbols=syms)
    ds = precision_horizon(kw["step"], states[0], params, ariths, tol=tol, steps=args.steps, observable=observable,
                           reference=args.reference, state=kw["state"], param_order=kw["params"],
                           name=f"{spec.name}_precision", rounding=args.rounding, threshold=args.threshold)
    out = {"model": spec.name, "initial_state": states[0], "params": params, **horizon_json(ds)}
    _save(ds, args, "precision-horizon", spec, {"options": _given(args, spec)})
    return _finish(args, out, _describe_horizon, t0)


def _describe_horizon(out) -> None:
    print(f"{out['model']}: precision horizons of {out['observable']} (tol {out['tol']:g}, reference {out['reference']}, "
          f"{out['steps']} steps); largest Lyapunov exponent {out['lyapunov']:.6g}")
    print(f"  {'arithmetic':<14}{'bits':>6}{'horizon':>10}{'law':>10}{'finite-time':>13}")
    for r in out["rows"]:
        h = "never" if r["horizon"] is None else str(r["horizon"])
        law = "—" if r["predicted"] is None else f"{r['predicted']:.1f}"
        ft = "—" if r["predicted_finite"] is None else str(r["predicted_finite"])
        extra = f"   certified {r['certified']}" if r.get("certified") is not None else ""
        print(f"  {r['arith']:<14}{r['bits']:>6}{h:>10}{law:>10}{ft:>13}{extra}")
    if out["note"]:
        print(f"  note: {out['note']}")


def _noise_bits(text):
    if text is None:
        return None
    try:
        bits = [int(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"--noise-bits must be whole numbers such as 11,24, got {text!r}") from None
    if not bits or any(b < 2 or b > 52 for b in bits):
        raise UsageError(f"--noise-bits must lie between 2 and 52 (float64 carries the noise), got {text!r}")
    return bits


def _blowup(args, spec) -> int:
    from ..analysis.precision import blowup, blowup_chain, blowup_json
    from ..analysis.precision.common import check_steps
    from ..codegen.arith import parse_ariths

    t0 = time.perf_counter()
    ariths = parse_ariths(args.arith)
    if any(a.kind == "arb" for a in ariths):
        raise UsageError("blow-up statistics use point arithmetics; arb balls are for precision certify")
    check_steps(args.seeds, "--seeds")
    check_steps(args.steps, "--steps")
    check_steps(args.check_every, "--check-every")
    if args.workers is not None:
        check_steps(args.workers, "--workers")
    _check_threshold(args.threshold)
    nbits = _noise_bits(args.noise_bits)
    if args.coords is not None and spec.raw_coordinates is None:
        raise UsageError(f"--coords applies to models with raw coordinates (chain); the {spec.name} model is studied "
                         "through its SymPy map only")
    _check_outputs(args)
    nonscan, grids, system = _options(args, spec, "blowup")
    if "seed" in option_values(args, spec.options_for("dynamics")):
        raise UsageError("precision blowup runs seeds 0 … N−1 (--seeds N); do not give --seed")
    etas = grids.get("eta")
    if etas is None:
        if "eta" not in system.options or system.options["eta"].default is None:
            raise UsageError(f"the {spec.name} model has no learning rate option --eta")
        etas = np.array([float(system.options["eta"].default)])
    seeds = list(range(args.seeds))
    common = dict(threshold=args.threshold, check_every=args.check_every, rounding=args.rounding,
                  mechanism=args.mechanism, noise_bits=nbits, workers=args.workers,
                  progress=sys.stderr.isatty())
    coords = None
    if spec.raw_coordinates is not None:
        coords = args.coords or "raw"
        rc = spec.raw_coordinates(spec.resolve("dynamics", nonscan))
        init = float(grids["init_scale"][0]) if "init_scale" in grids else float(system.options["init_scale"].default)
        ds = blowup_chain(rc["X"], rc["y"], rc["depth"], etas, seeds, args.steps, ariths, coords=coords,
                          init_scale=init, svd_map=rc["svd_map"]() if coords == "svd" else None, **common)
    else:
        kw, states, params = _map_problem(spec, nonscan, {k: g for k, g in grids.items() if k != "eta"}, system,
                                          seeds=seeds)
        params.pop("eta", None)
        x0s = [[st[str(s)] for s in kw["state"]] for st in states]
        if len(x0s) == 1:
            x0s = x0s * len(seeds)
        ds = blowup(kw["step"], x0s, params, etas, seeds, args.steps, ariths, scan="eta", state=kw["state"],
                    param_order=kw["params"], name=f"{spec.name}_precision", **common)
    out = {"model": spec.name, "coords": coords or "map", **blowup_json(ds)}
    out["mechanism_verdict"] = out["mechanism"].get("verdict")
    _save(ds, args, "precision-blowup", spec, {"options": _given(args, spec)})
    return _finish(args, out, _describe_blowup, t0)


def _describe_blowup(out) -> None:
    print(f"{out['model']}: fraction of {len(out['seeds'])} seeds that blow up within {out['steps']} steps"
          + (f" ({out['coords']} coordinates)" if out["coords"] != "map" else ""))
    w = max(len(a) for a in out["arith"]) + 2
    print("  " + "η".ljust(12) + "".join(a.rjust(w) for a in out["arith"]))
    for e, row in zip(out["eta"], out["diverged_fraction"]):
        print("  " + f"{e:<12.6g}" + "".join(f"{v:.2f}".rjust(w) for v in row))
    if out.get("mechanism_verdict"):
        print(f"  mechanism test: {out['mechanism_verdict']}")


def _certify(args, spec) -> int:
    from ..analysis.precision import certify, certify_json
    from ..analysis.precision.common import PrecisionError, check_steps, check_tol

    t0 = time.perf_counter()
    bits = check_steps(args.bits, "--bits", minimum=2)
    from ..codegen.arith import parse_arith

    parse_arith(f"arb:{bits}")  # python-flint present, bits in range
    check_steps(args.steps, "--steps")
    tol = check_tol(args.tol)
    check_steps(args.max_period, "--max-period")
    period = str(args.period).strip().lower()
    if period == "none":
        period = None
    elif period != "auto":
        try:
            period = check_steps(int(period), "--period")
        except ValueError:
            raise PrecisionError(f"--period must be auto, none or a positive integer, got {args.period!r}") from None
    _check_threshold(args.threshold)
    _check_outputs(args)
    nonscan, grids, system = _options(args, spec, "certify")
    kw, states, params = _map_problem(spec, nonscan, grids, system)
    ds = certify(kw["step"], states[0], params, bits=bits, steps=args.steps, tol=tol, threshold=args.threshold,
                 period=period, max_period=args.max_period, state=kw["state"], param_order=kw["params"],
                 name=f"{spec.name}_precision", naive=args.naive)
    out = {"model": spec.name, "initial_state": states[0], "params": params, **certify_json(ds)}
    _save(ds, args, "precision-certify", spec, {"options": _given(args, spec)})
    return _finish(args, out, _describe_certify, t0)


def _describe_certify(out) -> None:
    ratio = "" if out["horizon_ratio"] is None else f" ({out['horizon_ratio']:.0%} of the pointwise horizon " \
                                                    f"{out['pointwise_horizon']})"
    naive = "" if out["naive_certified_steps"] is None else f"; naive balls: {out['naive_certified_steps']}"
    print(f"{out['model']}: {out['bits']}-bit balls certify {out['certified_steps']} of {out['steps']} steps"
          f"{ratio}{naive}; largest Lyapunov exponent {out['lyapunov']}")
    for s in out["statements"]:
        print(f"  - {s}")
