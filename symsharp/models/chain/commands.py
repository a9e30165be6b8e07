"""Command-line experiments of the chain model: ``symsharp experiment chain-sharpness|chain-eos``."""
from __future__ import annotations

import json

from ...data import KINDS, REAL_KINDS


def add_experiment_arguments(ex) -> None:
    """Flags of ``symsharp experiment chain-sharpness`` and ``chain-eos``."""
    ex.add_argument("--vs", choices=["N", "depth", "eta", "batch"], default="depth",
                    help="chain-sharpness: the swept quantity (default depth)")
    ex.add_argument("--values", default=None, help="swept values a,b,c (batch: 'full' for GD; eta: multiples of 2/S_ref "
                                                    "unless --absolute-eta)")
    ex.add_argument("--absolute-eta", action="store_true", help="--values of eta are learning rates, not multiples")
    ex.add_argument("--seeds", default="0,1,2", help="initialisation seeds (default 0,1,2)")
    ex.add_argument("--steps", type=int, default=None,
                    help="GD/SGD steps per run (default 20000 synthetic; real data learn their small singular "
                         "directions slowly: 10^6 digits, 4*10^6 photo patches)")
    ex.add_argument("--data-kind", choices=list(KINDS), default=None,
                    help="data: synthetic gaussian (default), spectrum, image, or real images shipped with "
                         "scikit-learn: digits (8x8, two classes) or photo-patches (32x32x3 patches of two photographs)")
    ex.add_argument("--classes", default=None, metavar="A,B", help="digits: the two classes (default 0,1)")
    ex.add_argument("--patch", type=int, default=None, help="photo-patches: patch side in pixels (default 32: d = 3072)")
    ex.add_argument("--preprocess", default=None, metavar="STEPS",
                    help="preprocessing scale01,center,standardize,unit-norm or none (default for real data in the "
                         "experiments: standardize)")
    ex.add_argument("--data-seed", type=int, default=None, help="seed of the data set (default 0)")
    ex.add_argument("--samples", type=int, default=None, help="number of examples N")
    ex.add_argument("--dim", type=int, default=None, help="input dimension d (synthetic data only)")
    ex.add_argument("--init-scale", type=float, default=None,
                    help="initialisation scale (default 0.1; 0.25 for --vs depth; 0.05 for chain-eos)")
    ex.add_argument("--target-q", type=float, default=None, help="scale y so that Q equals this")
    ex.add_argument("--depth", type=int, default=None, help="depth D")
    ex.add_argument("--eta", type=float, default=None, help="learning rate (multiple of 2/S_ref unless --absolute-eta)")
    ex.add_argument("--batch", type=int, default=None, help="SGD batch size B (default: full-batch GD)")
    ex.add_argument("--replacement", action="store_true", help="SGD batches drawn with replacement")
    ex.add_argument("--json", action="store_true", help="print the summary as JSON")
    ex.add_argument("--out", default=None, metavar="FILE.nc", help="save the labelled result (netCDF)")
    ex.add_argument("--plot", default=None, metavar="FILE.png", help="draw the figure (.png, .pdf or .svg)")


def _checked(args):
    from ...errors import UsageError

    for name, low in (("steps", 1), ("samples", 1), ("patch", 1), ("data_seed", 0), ("batch", 1), ("depth", 2)):
        v = getattr(args, name, None)
        if v is not None and v < low:
            raise UsageError(f"--{name.replace('_', '-')} must be a whole number >= {low}, got {v}")
    for name in ("eta", "init_scale", "target_q"):
        v = getattr(args, name, None)
        if v is not None and not (v > 0 and v < float("inf")):
            raise UsageError(f"--{name.replace('_', '-')} must be a positive finite number, got {v}")
    if args.data_kind in REAL_KINDS and args.dim is not None:
        raise UsageError(f"--dim does not apply to --data-kind {args.data_kind} (the images decide it); leave it out")
    if args.classes is not None and args.data_kind != "digits":
        raise UsageError("--classes applies only to --data-kind digits")
    if args.patch is not None and args.data_kind != "photo-patches":
        raise UsageError("--patch applies only to --data-kind photo-patches")


def _eos_kwargs(args, kw: dict) -> dict:
    """Keyword arguments of :func:`~.experiments.eos_run` from the flags of ``chain-eos``."""
    from ...errors import UsageError

    for flag in ("values", "depth", "batch", "target_q", "eta", "vs", "replacement", "absolute_eta"):
        default = "depth" if flag == "vs" else None
        if getattr(args, flag) not in (None, False, default):
            raise UsageError(f"--{flag.replace('_', '-')} is not an option of chain-eos")
    if args.data_kind not in (None, "spectrum") + tuple(REAL_KINDS):
        raise UsageError(f"chain-eos takes --data-kind spectrum (default), {' or '.join(REAL_KINDS)}, "
                         f"not {args.data_kind}")
    for name, key in (("data_kind", "data"), ("samples", "samples"), ("dim", "dim")):
        if getattr(args, name) is not None:
            kw[key] = getattr(args, name)
    return kw


def _swept_values(args):
    """``--values`` as a list (``full`` = full batch for --vs batch), or None for the defaults."""
    from ...errors import UsageError

    if args.values is None:
        return None
    items = [t.strip() for t in args.values.split(",") if t.strip()]
    if not items:
        raise UsageError("--values is empty; give a list a,b,c")
    try:
        conv = (lambda t: None if t == "full" else int(t)) if args.vs in ("N", "depth", "batch") else float
        return [conv(t) for t in items]
    except ValueError:
        raise UsageError(f"--values {args.values!r}: entries must be numbers"
                         + (" (or 'full')" if args.vs == "batch" else "")) from None


def _sweep_kwargs(args, kw: dict, values) -> dict:
    """Keyword arguments of :func:`~.experiments.sharpness_vs` from the flags of ``chain-sharpness``."""
    from ...errors import UsageError

    try:
        seeds = [int(t) for t in args.seeds.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"--seeds must be whole numbers a,b,c, got {args.seeds!r}") from None
    if not seeds:
        raise UsageError("--seeds is empty")
    kw["seeds"] = seeds
    for name, key in (("data_kind", "data"), ("samples", "samples"), ("dim", "dim"), ("target_q", "Q"),
                      ("depth", "depth"), ("eta", "eta"), ("batch", "batch")):
        v = getattr(args, name)
        if v is not None:
            kw[key] = v
    if args.replacement:
        kw["replacement"] = True
    if args.absolute_eta:
        kw["eta_relative"] = False
    elif args.vs == "eta" and values is not None:
        kw["eta_relative"] = True  # --values of eta are multiples of 2/S_ref unless --absolute-eta (see --help)
    return kw


def _print_summary(args, ds, summary) -> None:
    """The human-readable summary of an experiment (``--json`` prints ``summary`` instead)."""
    if args.name == "chain-eos":
        for k, v in summary.items():
            print(f"{k:<28} {v}")
        return
    cols = list(summary[0])
    print("  ".join(f"{c:>14}" for c in cols))
    for row in summary:
        print("  ".join(f"{row[c]:>14.6g}" if isinstance(row[c], float) else f"{str(row[c]):>14}" for c in cols))
    cfg = json.loads(ds.attrs["symsharp"])
    if "Q_growth" in cfg:
        g = cfg["Q_growth"]
        print(f"Q grows with N like {g['prefactor']:.4g}·N^{g['exponent']:.3g} (least-squares fit in log-log "
              f"over {g['points']} points)")
    nc = int(ds["converged"].sum())
    print(f"{nc}/{ds['converged'].size} runs converged (loss within {cfg['converged_tol']:g} of its minimum); "
          f"{cfg['steps']} steps, η = {cfg['eta'][0]:.4g}" + (" …" if len(set(cfg["eta"])) > 1 else ""))


def experiment_command(args) -> int:
    """``symsharp experiment chain-sharpness|chain-eos``: check the flags and the output paths, run
    the experiment, save and draw it, print the summary."""
    import numpy as np

    from ...io import check_output_path, save_result
    from ...plots import check_figure_path
    from . import experiments as ce
    from .plots import plot_chain_result

    _checked(args)
    if args.out:
        check_output_path(args.out)
    if args.plot:
        check_figure_path(args.plot)
    kw = {name: getattr(args, name) for name in ("steps", "classes", "patch", "preprocess", "data_seed", "init_scale")
          if getattr(args, name) is not None}
    if args.name == "chain-eos":
        kw = _eos_kwargs(args, kw)
        with np.errstate(all="ignore"):
            ds = ce.eos_run(**kw)
        summary = json.loads(ds.attrs.get("summary", "{}"))
    else:
        values = _swept_values(args)
        kw = _sweep_kwargs(args, kw, values)
        with np.errstate(all="ignore"):
            ds = ce.sharpness_vs(args.vs, values=values, **kw)
        summary = ce.summary_table(ds)
    if args.out:
        save_result(ds, args.out)
    if args.plot:
        plot_chain_result(ds, args.plot)
    if args.json:
        print(json.dumps(summary, default=float))
    else:
        _print_summary(args, ds, summary)
    return 0


# ------------------------------------------------------------------------------------------- Y10
def add_y10_arguments(ex) -> None:
    """Flags of ``symsharp experiment y10``."""
    from .options import ETA_RULES, Y10_CONFIG_NAMES

    ex.add_argument("--config", choices=list(Y10_CONFIG_NAMES), default="reduced",
                    help="reduced (width 128, digits 0/1 at N = 8..20 and 32x32x3 photo patches at N = 8..16; under a "
                         "minute) or full (width 256, digits 0/1 and 3/8 at N = 10..40 and photo patches at N = 8..20; "
                         "minutes)")
    ex.add_argument("--width", type=int, default=None, help="network width (default: the configuration's)")
    ex.add_argument("--init-scale", type=float, default=None,
                    help="init scale g, W ~ N(0, g²/fan_in) (default 0.3: rich regime; 1: lazy)")
    ex.add_argument("--eta-rule", choices=list(ETA_RULES), default=None,
                    help="constant: plain GD with η = c·2/max(S₀, S_gf) (default); adaptive: η = c/S re-measured "
                         "every 50 steps (gradient-flow-like, not constant-η GD)")
    ex.add_argument("--eta-frac", type=float, default=None, help="the factor c of --eta-rule (default 0.5)")
    ex.add_argument("--max-steps", type=int, default=None, help="GD steps at most per run (default 20000)")
    ex.add_argument("--seed", type=int, default=0, help="initialisation seed (run i, j uses seed + 1000 i + j)")
    ex.add_argument("--json", action="store_true", help="print the summary as JSON")
    ex.add_argument("--out", default=None, metavar="FILE.nc", help="save the labelled result (netCDF)")
    ex.add_argument("--plot", default=None, metavar="FILE.png", help="draw the scatter plots (.png, .pdf or .svg)")


def y10_command(args) -> int:
    """``symsharp experiment y10``: wide networks on real data, sharpness after training vs Ŝ_D."""
    from ...errors import UsageError
    from ...io import check_output_path, save_result
    from ...plots import check_figure_path
    from .plots import plot_y10
    from .y10 import y10_run, y10_summary

    for name, low in (("width", 1), ("max_steps", 1), ("seed", 0)):
        v = getattr(args, name)
        if v is not None and v < low:
            raise UsageError(f"--{name.replace('_', '-')} must be a whole number >= {low}, got {v}")
    for name in ("init_scale", "eta_frac"):
        v = getattr(args, name)
        if v is not None and not (0 < v < float("inf")):
            raise UsageError(f"--{name.replace('_', '-')} must be a positive finite number, got {v}")
    if args.out:
        check_output_path(args.out)
    if args.plot:
        check_figure_path(args.plot)
    ds = y10_run(args.config, seed=args.seed, width=args.width, init_scale=args.init_scale, eta_rule=args.eta_rule,
                 eta_frac=args.eta_frac, max_steps=args.max_steps)
    if args.out:
        save_result(ds, args.out)
    if args.plot:
        plot_y10(ds, args.plot)
    s = y10_summary(ds)
    if args.json:
        print(json.dumps(s, default=float))
        return 0
    print(f"Y10, configuration {s['config']}: width {s['width']}, init scale {s['init_scale']}, {s['eta_rule']}")
    print(f"{'arch':<10} {'data':<56} {'N':>4} {'Q':>9} {'S':>10} {'S_hat':>10} {'S_gf':>10} {'eta*S':>6} "
          f"{'steps':>6} used")
    for r in s["runs"]:
        print(f"{r['arch']:<10} {r['data']:<56} {r['N']:>4} {r['Q']:>9.4g} {r['S']:>10.5g} {r['S_hat']:>10.5g} "
              f"{r['S_gf']:>10.5g} {r['eta_S']:>6.2f} {r['steps']:>6} {'yes' if r['used'] else 'no (' + r['stop'] + ')'}")
    print("correlation of S with S_hat over the used runs (all data sets, then within each source, where N and Q vary):")
    for a, groups in s["correlations"].items():
        for g, c in groups.items():
            print(f"  {a:<10} {g:<14} Pearson {c['pearson']:6.3f}  Spearman {c['spearman']:6.3f}  "
                  f"Pearson(log) {c['pearson_log']:6.3f}  (vs S_gf: {c['pearson_gf']:6.3f})  n = {c['n_used']}")
    print(f"{s['seconds']:.1f} s")
    return 0
