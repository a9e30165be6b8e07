"""``symsharp data describe [data options] [--json]``: the numbers of a data set that the chain
model's theory uses — N, d, rank, σ₁, the dataset difficulty Q = ‖X⁺y‖² = Σᵢ dᵢ²/σᵢ² and the
predicted sharpness Ŝ_D = σ₁²/N · Q^{(D−1)/D} for D = 2 … 5 (or ``--depths``).

The data options are exactly those of the chain-model commands (``symsharp run chain --help``),
taken from the chain model's option declarations in the registry, and the data set is built the
same way (:func:`symsharp.models.chain.chain_data`), so ``data describe`` describes what
``run chain`` with the same flags trains on.  JSON keys: ``N``, ``d``, ``rank``, ``sigma1``,
``Q``, ``S_hat`` {D: value} and ``data`` (how the set was made: kind, seed, preprocessing, ...).
"""
from __future__ import annotations

import argparse
import json

from ..errors import UsageError
from .common import Parser, add_model_options, option_values

DATA_MODEL = "chain"
"""The registered model whose data options ``symsharp data`` takes (the model trained on a data set)."""

DATA_OPTIONS = ("samples", "dim", "data_kind", "classes", "patch", "preprocess", "data_seed", "data_file", "target_q")
"""The data options of :data:`DATA_MODEL`, in the order ``--help`` shows them."""


def _data_options():
    from ..models import get_model

    spec = get_model(DATA_MODEL)
    opts = {o.name: o for o in spec.options_for("dynamics")}
    return [opts[n] for n in DATA_OPTIONS if n in opts]


def add_data_arguments(parent) -> argparse.ArgumentParser:
    """Add the ``data`` verb: ``parent`` is the subparsers object of the main parser (a ``data``
    parser is added to it) or a parser that becomes the ``data`` verb itself.  Returns it."""
    if isinstance(parent, argparse._SubParsersAction):
        p = parent.add_parser("data", help="describe a data set: N, d, rank, σ₁, Q and the predicted sharpness Ŝ_D")
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
    from ..models import chain as chain_pkg

    opts = {o.name: o.convert(values[o.name]) if values.get(o.name) is not None else None for o in _data_options()}
    data = chain_pkg.chain_data(opts["samples"], opts["dim"], opts["data_kind"], opts["data_seed"], opts["data_file"],
                                opts["target_q"], classes=opts["classes"], patch=opts["patch"],
                                preprocess=opts["preprocess"])
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
