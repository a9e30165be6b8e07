"""Command-line experiments of the chain model: ``symsharp experiment chain-sharpness|chain-eos``."""
from __future__ import annotations

import json


def add_experiment_arguments(ex) -> None:
    """Flags of ``symsharp experiment chain-sharpness`` and ``chain-eos``."""
    ex.add_argument("--vs", choices=["N", "depth", "eta", "batch"], default="depth",
                    help="chain-sharpness: the swept quantity (default depth)")
    ex.add_argument("--values", default=None, help="swept values a,b,c (batch: 'full' for GD; eta: multiples of 2/S_ref "
                                                    "unless --absolute-eta)")
    ex.add_argument("--absolute-eta", action="store_true", help="--values of eta are learning rates, not multiples")
    ex.add_argument("--seeds", default="0,1,2", help="initialisation seeds (default 0,1,2)")
    ex.add_argument("--steps", type=int, default=None, help="GD/SGD steps per run")
    ex.add_argument("--data-kind", choices=["gaussian", "spectrum", "image"], default=None, help="data generator")
    ex.add_argument("--samples", type=int, default=None, help="number of examples N")
    ex.add_argument("--dim", type=int, default=None, help="input dimension d")
    ex.add_argument("--target-q", type=float, default=None, help="scale y so that Q equals this")
    ex.add_argument("--depth", type=int, default=None, help="depth D")
    ex.add_argument("--eta", type=float, default=None, help="learning rate (multiple of 2/S_ref unless --absolute-eta)")
    ex.add_argument("--batch", type=int, default=None, help="SGD batch size B (default: full-batch GD)")
    ex.add_argument("--replacement", action="store_true", help="SGD batches drawn with replacement")
    ex.add_argument("--json", action="store_true", help="print the summary as JSON")
    ex.add_argument("--out", default=None, metavar="FILE.nc", help="save the labelled result (netCDF)")
    ex.add_argument("--plot", default=None, metavar="FILE.png", help="draw the figure (.png, .pdf or .svg)")


def experiment_command(args) -> int:
    """``symsharp experiment chain-sharpness|chain-eos``."""
    import numpy as np

    from ...errors import UsageError
    from ...io import check_output_path, save_result
    from ...plots import check_figure_path
    from . import experiments as ce
    from .plots import plot_chain_result

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
