"""The ``symsharp`` command.

    symsharp derive uv|chain|custom [model options] [--format markdown|latex|json]
    symsharp verify [--only ID ...] [--json]
    symsharp write-derivations [--dir DIR] [--check]
    symsharp run|orbit|phase|lyapunov uv|chain|custom [model options] [--json] [--out F.nc] [--plot F.png]
    symsharp plot RESULT.nc --out FIGURE.png

User mistakes end with one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time


from .errors import SymsharpError, UsageError  # noqa: F401  (UsageError re-exported)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse's default prints usage first)
        sys.stderr.write(f"symsharp: error: {message}\n")
        sys.exit(2)


def _positive_int(name, minimum=1):
    def conv(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= {minimum}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= {minimum}, got {text!r}")
        return v
    return conv


def _finite_float(name, positive=False):
    def conv(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{name} must be finite, got {text!r}")
        if positive and v <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be > 0, got {text!r}")
        return v
    return conv


def _parse_data(text):
    """``x=1,2,3;y=0.5,1,2`` → {"x": [1, 2, 3], "y": [0.5, 1, 2]}."""
    out = {}
    for part in [p for p in text.split(";") if p.strip()]:
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"data must look like 'x=1,2;y=3,4', got {text!r}")
        k, v = part.split("=", 1)
        if k.strip() in out:
            raise argparse.ArgumentTypeError(f"data column {k.strip()!r} is given twice")
        vals = []
        for t in v.split(","):
            try:
                fv = float(t)
            except ValueError:
                raise argparse.ArgumentTypeError(f"data value {t!r} for {k.strip()!r} is not a number") from None
            if not math.isfinite(fv):
                raise argparse.ArgumentTypeError(f"data value {t!r} for {k.strip()!r} must be finite")
            vals.append(t.strip())
        out[k.strip()] = vals
    return out


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="symsharp", description="Exact mathematics and fast numerics for sharpness dynamics of GD.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("derive", help="derive gradients, Hessians, NTK, GD map, invariants, reduction, sharpness, fixed points")
    d.add_argument("model", choices=["uv", "chain", "custom"])
    d.add_argument("--format", choices=["markdown", "latex", "json"], default="markdown")
    d.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    d.add_argument("--width", type=_positive_int("--width"), default=3, help="UV: width n (default 3)")
    d.add_argument("--input-dim", type=_positive_int("--input-dim"), default=2, help="UV: input dimension d (default 2)")
    d.add_argument("--alpha", type=_finite_float("--alpha", positive=True), default=None,
                   help="UV: output multiplier α (default: symbolic)")
    d.add_argument("--layerwise", action="store_true", help="UV: also derive the layer-wise-rate map in (f, λ_U, λ_v)")
    d.add_argument("--depth", type=_positive_int("--depth", 2), default=2, help="chain: depth D >= 2 (default 2)")
    d.add_argument("--samples", type=_positive_int("--samples"), default=2, help="chain: number of examples N (default 2)")
    d.add_argument("--dim", type=_positive_int("--dim"), default=2, help="chain: input dimension d (default 2)")
    d.add_argument("--f", dest="f_expr", default=None, help="custom: output f as a SymPy expression")
    d.add_argument("--loss", default=None, help="custom: loss L(θ) as a SymPy expression (instead of --f)")
    d.add_argument("--params", default=None, help="custom: comma-separated parameter names")
    d.add_argument("--inputs", default=None, help="custom: comma-separated input names")
    d.add_argument("--data", type=_parse_data, default=None, help="custom: dataset, e.g. 'x=1,2,3;y=0.5,1,2'")
    d.add_argument("--eta", type=_finite_float("--eta (learning rate)", positive=True), default=None,
                   help="also evaluate stability conditions at this learning rate (> 0)")

    v = sub.add_parser("verify", help="check every registered claim")
    v.add_argument("--only", nargs="+", metavar="ID", help="check only these claim ids")
    v.add_argument("--json", action="store_true", help="print a JSON list instead of a table")

    from .cli_dynamics import add_dynamics_parsers

    add_dynamics_parsers(sub)

    w = sub.add_parser("write-derivations", help="regenerate the Markdown files in derivations/")
    w.add_argument("--dir", default="derivations")
    w.add_argument("--check", action="store_true", help="exit 1 if a committed file differs from the generated one")
    w.add_argument("--no-figures", action="store_true", help="write only the Markdown, not derivations/figures/")
    return p


# ------------------------------------------------------------------------------------------
def _derive(args) -> str:
    from .models.base import ModelError  # noqa: F401
    from . import report

    if args.model == "uv":
        from .symbolic.derive import derive_uv

        t0 = time.perf_counter()
        der = derive_uv(args.width, args.input_dim, args.alpha, layerwise=args.layerwise)
        if args.format == "json":
            out = report.uv_json(der)
            if args.eta is not None:
                out["at_eta"] = _at_eta(out, args.eta)
            out["seconds"] = round(time.perf_counter() - t0, 3)
            return json.dumps(out, indent=2)
        md = report.uv_markdown(der)
    elif args.model == "chain":
        from .symbolic.chain import chain_markdown, derive_chain

        res = derive_chain(args.depth, args.samples, args.dim)
        if args.format == "json":
            return json.dumps({"model": "chain", "options": {"depth": args.depth, "samples": args.samples, "dim": args.dim},
                               **{k: _jsonable(v) for k, v in res.items()}}, indent=2)
        md = chain_markdown(res)
    else:
        from .models import custom_model
        from .symbolic.derive import derive_custom

        if (args.f_expr is None) == (args.loss is None):
            raise UsageError("derive custom needs exactly one of --f EXPR or --loss EXPR")
        model = custom_model(f=args.f_expr, loss=args.loss, params=args.params, inputs=args.inputs, data=args.data)
        der = derive_custom(model)
        if args.format == "json":
            return json.dumps(report.custom_json(der), indent=2)
        md = report.custom_markdown(der)
    return md if args.format == "markdown" else report.markdown_to_latex(md)


def _jsonable(v):
    import sympy as sp

    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, sp.MatrixBase):
        return str(v.tolist())
    return str(v)


def _at_eta(out, eta):
    import sympy as sp

    e = sp.Symbol("eta", positive=True)
    val = sp.nsimplify(eta, rational=True)
    loc = {"eta": e, "f": sp.Symbol("f", real=True), "lam": sp.Symbol("lam", nonnegative=True),
           "y": sp.Symbol("y", real=True), "a": sp.Symbol("a", positive=True)}
    res = {"eta": eta, "function_space_map": {}, "fixed_points": []}
    for k, s in out["function_space_map"].items():
        res["function_space_map"][k] = str(sp.sympify(s, locals=loc).subs(e, val))
    for fp in out["fixed_points"]:
        res["fixed_points"].append({"point": {k: str(sp.sympify(s, locals=loc).subs(e, val)) for k, s in fp["point"].items()},
                                    "stable_when": str(sp.sympify(fp["stable_when"], locals=loc).subs(e, val))})
    return res


def _verify(args) -> int:
    from .claims import verify

    from .claims import all_claims, get_claim

    ids = args.only or [c.id for c in all_claims()]
    for cid in ids:
        get_claim(cid)  # unknown ids fail before any work starts
    w = max(len(c) for c in ids) + 1

    def show(r):
        if not args.json:
            print(f"{r.claim.id:<{w}} {r.outcome.status:<10} {r.seconds:7.2f}s  {r.outcome.method}", flush=True)

    if not args.json:
        print(f"{'id':<{w}} {'status':<10} {'time':>8}  method")
    t0 = time.perf_counter()
    results = verify(args.only, progress=show)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        counts = {}
        for r in results:
            counts[r.outcome.status] = counts.get(r.outcome.status, 0) + 1
        print(f"{len(results)} claims in {time.perf_counter() - t0:.1f}s: " +
              ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    return 0


def derivation_documents() -> dict:
    """{file name: Markdown text} of everything in ``derivations/`` (deterministic)."""
    from . import report
    from .models import custom_model
    from .symbolic.chain import chain_markdown, derive_chain
    from .symbolic.derive import derive_custom, derive_uv

    docs = {"uv.md": report.uv_markdown(derive_uv(3, 2))}
    docs["chain.md"] = chain_markdown(derive_chain(2, 2, 2))
    docs["chain_depth3.md"] = chain_markdown(derive_chain(3, 2, 2))
    from .symbolic.chain_gf import chain_gf_markdown, derive_chain_gf

    from .analysis.chain_experiments import experiments_markdown

    docs["chain_gf.md"] = chain_gf_markdown(derive_chain_gf((2, 3, 4), 2)) + "\n\n" + experiments_markdown()
    docs["custom_example.md"] = report.custom_markdown(derive_custom(custom_model(f="w1*w2*x", data={"x": [1, 2], "y": [1, 3]})))
    from .analysis.uv_route import route_markdown

    from .symbolic.uv_init import uv_init_markdown

    docs["uv.md"] += "\n\n" + route_markdown() + "\n\n" + uv_init_markdown()
    return docs


FIGURE_DIR = "figures"
"""Sub-folder of ``derivations/`` with the figures the documents show (drawn by write-derivations)."""


def derivation_figures(directory: str) -> list:
    """Draw the figures referenced by the derivations into ``directory``."""
    from .analysis.uv_route import route_figure_data
    from .plots.uv_route import plot_route_figures

    os.makedirs(directory, exist_ok=True)
    out = [str(p) for p in plot_route_figures(route_figure_data(), directory)]
    from .analysis.chain_experiments import draw_experiment_figures

    return out + [str(p) for p in draw_experiment_figures(directory)]


def write_text_atomic(path: str, text: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_derivations(args) -> int:
    docs = derivation_documents()
    stale = []
    for name, text in docs.items():
        path = os.path.join(args.dir, name)
        if args.check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
            if old != text:
                stale.append(name)
        else:
            write_text_atomic(path, text)
            print(f"wrote {path}")
    if not args.check and not getattr(args, "no_figures", False):
        for f in derivation_figures(os.path.join(args.dir, FIGURE_DIR)):
            print(f"wrote {f}")
    if args.check and stale:
        print("stale derivations: " + ", ".join(stale) + " (run: symsharp write-derivations)")
        return 1
    return 0


def _numeric_errors() -> tuple:
    """Exception types that mean a user mistake in the numeric layers (one line, exit 2)."""
    from .codegen.common import CodegenError
    from .dynamics.orbits import DynamicsError
    from .io import ResultError
    from .plots.dynamics import FigureError

    errs = [CodegenError, DynamicsError, ResultError, FigureError]
    try:
        from .analysis.chain_experiments import ExperimentError
        from .analysis.uv_route import RouteError

        errs += [RouteError, ExperimentError]
    except ImportError:
        pass
    try:
        from .data import DataError

        errs.append(DataError)
    except ImportError:
        pass
    return tuple(errs)


_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)")


def _join_negative_values(argv: list) -> list:
    """``--f0 -1:1:11`` → ``--f0=-1:1:11``: argparse would read a value starting with '-' that
    is not a plain number (a grid or list) as an option."""
    out = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if (a.startswith("--") and "=" not in a and i + 1 < len(argv) and _NEGATIVE_VALUE.match(argv[i + 1])):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def _user_errors() -> tuple:
    """Every exception type that reports a user mistake (imported only when something failed)."""
    from .claims.registry import ClaimError
    from .models.base import ModelError

    return (SymsharpError, UsageError, ModelError, ClaimError) + _numeric_errors()


def main(argv=None) -> int:
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    try:
        if args.command == "derive":
            print(_derive(args))
            return 0
        if args.command == "verify":
            return _verify(args)
        if args.command == "write-derivations":
            return _write_derivations(args)
        if args.command in ("run", "orbit", "phase", "lyapunov", "plot", "figures", "route-to-chaos", "experiment"):
            from .cli_dynamics import dynamics_command

            return dynamics_command(args)
    except _user_errors() as exc:
        sys.stderr.write(f"symsharp: error: {str(exc).splitlines()[0]}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
