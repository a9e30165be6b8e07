"""``symsharp data describe [data options] [--json]``: the numbers of a data set that the chain
model's theory uses — N, d, rank, σ₁, the dataset difficulty Q = ‖X⁺y‖² = Σᵢ dᵢ²/σᵢ² and the
predicted sharpness Ŝ_D = σ₁²/N · Q^{(D−1)/D} for D = 2 … 5 (or ``--depths``).

The data options are those of the registered model that declares a data set
(``ModelSpec.dataset``; the chain model), taken from its option declarations in the registry, and
the data set is built by that model's own hook, so ``data describe`` describes what ``run chain``
with the same flags trains on.  JSON keys: ``N``, ``d``, ``rank``, ``sigma1``,
``Q``, ``S_hat`` {D: value} and ``data`` (how the set was made: kind, seed, preprocessing, ...).
"""
from __future__ import annotations

import argparse
import json

from ..errors import UsageError
from .common import Parser, add_model_options, option_values

def _data_spec():
    """The registered model that declares a data set (``ModelSpec.dataset``): its data options are
    the options of ``symsharp data``.  Exactly one model may declare it."""
    from ..models import available_models

    specs = [s for s in available_models().values() if s.dataset is not None]
    if len(specs) != 1:
        raise UsageError(f"symsharp data needs exactly one registered model that declares a data set, found "
                         f"{len(specs)}: {', '.join(s.name for s in specs) or 'none'}")
    return specs[0]


def _data_options():
    spec = _data_spec()
    opts = {o.name: o for o in spec.options_for("dynamics")}
    return [opts[n] for n in spec.data_options if n in opts]


DATA_HELP = "describe a data set: N, d, rank, σ₁, Q and the predicted sharpness Ŝ_D"


def add_data_arguments(parent) -> argparse.ArgumentParser:
    """Add the ``data`` verb: ``parent`` is the subparsers object of the main parser (a ``data``
    parser is added to it) or a parser that becomes the ``data`` verb itself.  Returns it."""
    if isinstance(parent, argparse._SubParsersAction):
        p = parent.add_parser("data", help=DATA_HELP)
    else:
        p = parent
    sub = p.add_subparsers(dest="data_action", required=True, parser_class=Parser, metavar="ACTION")
    d = sub.add_parser("describe", help="print N, d, rank, σ₁, Q = ‖X⁺y‖² and Ŝ_D = σ₁²/N·Q^((D−1)/D) for D = 2…5",
                       description="The numbers of a data set (synthetic, real images shipped with scikit-learn, or "
                                   "a file) that the chain model's sharpness theory uses. The data options are those "
                                   "of the chain-model commands.")
    add_model_options(d, _data_options(), "data options (as for the chain-model commands)")
    d.add_argument("--depths", default="2,3,4,5", metavar="D,D,...", help="depths D of Ŝ_D (default 2,3,4,5)")
    d.add_argument("--json", action="store_true", help="print JSON (keys N, d, rank, sigma1, Q, S_hat, data)")
    return p


def _depths(text: str) -> list:
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    try:
        out = [int(t) for t in items]
    except ValueError:
        out = None
    if not items or out is None or any(D < 2 for D in out):
        raise UsageError(f"--depths must be whole numbers >= 2 such as 2,3,4,5, got {text!r}")
    return out


def describe(values: dict, depths=(2, 3, 4, 5)) -> dict:
    """The JSON-ready description of the data set that the data options ``values`` (option name →
    value, as on the command line) make."""
    from ..data import describe_data

    opts = {o.name: o.convert(values[o.name]) if values.get(o.name) is not None else None for o in _data_options()}
    data = _data_spec().dataset(opts)
    out = describe_data(data.X, data.y, depths)
    out["S_hat"] = {str(D): v for D, v in out["S_hat"].items()}
    meta = {k: v for k, v in data.meta.items() if k not in ("w_star", "indices", "positions", "spectrum")}
    out["data"] = json.loads(json.dumps({"name": data.name, **meta}, default=str))
    return out


def data_command(args) -> int:
    """``symsharp data describe``."""
    if getattr(args, "data_action", None) != "describe":
        raise UsageError("symsharp data needs an action: describe")
    depths = _depths(args.depths)
    res = describe(option_values(args, _data_options()), depths)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    meta = res["data"]
    how = ", ".join(f"{k} {meta[k]}" for k in ("kind", "classes", "patch", "preprocess", "seed") if k in meta)
    print(f"data set      {meta.get('name', 'data')}" + (f" ({how})" if how else ""))
    for key, label in (("N", "N"), ("d", "d"), ("rank", "rank")):
        print(f"{label:<13} {res[key]}")
    print(f"{'sigma1':<13} {res['sigma1']:.6g}")
    print(f"{'Q':<13} {res['Q']:.6g}   (= ‖X⁺y‖², dataset difficulty)")
    for D, v in res["S_hat"].items():
        print(f"{'S_hat D=' + D:<13} {v:.6g}   (σ₁²/N · Q^({int(D) - 1}/{D}))")
    return 0
