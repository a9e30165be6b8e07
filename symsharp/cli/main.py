"""The ``symsharp`` command, built from the model registry.

    symsharp models                                   the registered models, one line each
    symsharp derive MODEL [model options] [--json | --format markdown|latex|json]
    symsharp run|orbit|phase|lyapunov MODEL [model options] [--json] [--out F.nc] [--plot F.png]
    symsharp route-to-chaos uv [options]              (and other verbs a model declares)
    symsharp precision horizon|blowup|certify MODEL [model options] [--arith LIST] [--json] [--out F.nc]
    symsharp experiment NAME [options]                (experiments a model declares)
    symsharp verify [--only ID ...] [--json]
    symsharp write-derivations [--dir DIR] [--check]
    symsharp figures [--dir DIR]
    symsharp plot RESULT.nc --out FIGURE.png

Every verb's model options come from the registry (``symsharp VERB MODEL --help`` lists them);
``--model-file FILE.py`` (anywhere on the line) loads a model of your own first.  User mistakes end
with one line on stderr and exit status 2; an interrupt ends with one line and status 130.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time

from ..errors import SymsharpError, UsageError
from .common import Parser as _Parser
from .common import add_model_options, option_values

VERB_HELP = {
    "derive": "derive gradients, Hessians, NTK, GD map, invariants, reduction, sharpness, fixed points",
    "run": "one GD (or SGD) run with loss, sharpness, NTK and invariants",
    "orbit": "orbit (bifurcation) diagram over one option, with periods, regimes, Lyapunov exponents",
    "phase": "regime labels over a 2-D grid of two options",
    "lyapunov": "largest Lyapunov exponent along a 1-D grid of one option",
}


def _version() -> str:
    from .. import __version__

    return __version__


class _VersionAction(argparse.Action):
    """``--version``: prints the version (looked up only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser._print_message(f"symsharp {_version()}\n", sys.stdout)
        parser.exit()


# ---------------------------------------------------------------------------------- the parser
def _focus(argv) -> tuple:
    """(command, next word) of a command line: the parser then builds only what they select."""
    words = []
    for a in argv:
        if a.startswith("-"):
            break
        words.append(a)
        if len(words) == 2:
            break
    return tuple(words) + (None,) * (2 - len(words))


def build_parser(focus=None) -> argparse.ArgumentParser:
    """The ``symsharp`` parser.  ``focus`` = (command, word after it), e.g. ("orbit", "uv"): every
    command is still there, but only the selected one gets its per-model sub-parsers, and only the
    named model's if it is registered (a warm ``symsharp orbit uv`` does not build the hundred
    parsers of every verb × model, nor scan the installed plug-ins).  Without ``focus`` (or for an
    unknown model, ``--help`` and error messages) everything is built."""
    from ..models import available_models
    from ..models.registry import registered_models
    from .bifurcation import add_bifurcation_arguments
    from .dynamics import add_dynamics_arguments

    p = _Parser(prog="symsharp", description="Exact mathematics and fast numerics for sharpness dynamics of GD. "
                                             "Every verb takes a registered model (symsharp models).")
    p.add_argument("--version", action=_VersionAction, help="show the version and exit")
    p.add_argument("--model-file", action="append", metavar="FILE.py",
                   help="load a model of your own (a Python file calling symsharp.models.register_model); "
                        "may be given anywhere on the line")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    command, word = focus if focus is not None else (None, None)
    registered = registered_models()
    models = registered if (command is not None and word in registered) else available_models()

    def models_for(verb) -> dict:
        if command is None:
            return models
        if verb != command:
            return {}
        return {word: models[word]} if word in models else models

    ms = sub.add_parser("models", help="list the registered models")
    ms.add_argument("--json", action="store_true", help="print name, description, reduced map and source as JSON")

    d = sub.add_parser("derive", help=VERB_HELP["derive"])
    dsub = d.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
    for name, spec in models_for("derive").items():
        if spec.build is None and spec.derive is None:
            continue
        mp = dsub.add_parser(name, help=spec.description, description=spec.description)
        add_model_options(mp, spec.options_for("derive"), f"{name} model options")
        mp.add_argument("--format", choices=["markdown", "latex", "json"], default="markdown",
                        help="output format (default markdown)")
        mp.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")

    for verb in ("run", "orbit", "phase", "lyapunov"):
        vp = sub.add_parser(verb, help=VERB_HELP[verb])
        vsub = vp.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
        for name, spec in models_for(verb).items():
            if spec.system is None:
                continue
            mp = vsub.add_parser(name, help=spec.description, description=spec.description)
            add_model_options(mp, spec.options_for("dynamics"),
                              f"{name} model options (each scanned one: a number, a list a,b,c or a grid start:stop:count)")
            add_dynamics_arguments(verb, mp)

    b = sub.add_parser("bifurcation", help="route to chaos of a model's GD map: flips, Feigenbaum ratios, onset, "
                                           "windows, folds, Neimark–Sacker points, crisis")
    bsub = b.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
    for name, spec in models_for("bifurcation").items():
        if spec.system is None or spec.symbolic_map is None:
            continue
        mp = bsub.add_parser(name, help=spec.description, description=spec.description)
        add_model_options(mp, spec.options_for("dynamics"),
                          f"{name} model options (the continuation parameter as a range A:B)")
        add_bifurcation_arguments(mp)

    from .precision import add_precision_parser

    add_precision_parser(sub, models if command in (None, "precision") else {})

    verbs = {}
    for name, spec in models.items():
        for verb, cmd in spec.commands.items():
            verbs.setdefault(verb, []).append((name, cmd))
    for verb, entries in verbs.items():
        vp = sub.add_parser(verb, help=entries[0][1].help)
        vsub = vp.add_subparsers(dest="model", required=True, parser_class=_Parser, metavar="MODEL")
        for name, cmd in entries:
            if name not in models_for(verb):
                continue
            mp = vsub.add_parser(name, help=cmd.help, description=cmd.help)
            cmd.add_arguments(mp)

    experiments = {n: cmd for spec in models.values() for n, cmd in spec.experiments.items()}
    if experiments:
        ex = sub.add_parser("experiment", help="experiments of the models: " + ", ".join(experiments))
        esub = ex.add_subparsers(dest="name", required=True, parser_class=_Parser, metavar="NAME")
        for n, cmd in experiments.items():
            if command not in (None, "experiment") or (word in experiments and n != word):
                continue
            ep = esub.add_parser(n, help=cmd.help, description=cmd.help)
            cmd.add_arguments(ep)

    v = sub.add_parser("verify", help="check every registered claim")
    v.add_argument("--only", nargs="+", metavar="ID", help="check only these claim ids")
    v.add_argument("--json", action="store_true", help="print a JSON list instead of a table")

    w = sub.add_parser("write-derivations", help="regenerate the documents and figures in derivations/")
    w.add_argument("--dir", default="derivations", help="output folder (default derivations)")
    w.add_argument("--check", action="store_true", help="exit 1 if a committed file differs from the generated one")
    w.add_argument("--no-figures", action="store_true", help="write only the Markdown, not derivations/figures/")

    fg = sub.add_parser("figures", help="write the showcase figures and their result files into a folder")
    fg.add_argument("--dir", default="figures", help="output folder (created if missing; default figures)")

    pl = sub.add_parser("plot", help="redraw the figure of a saved result")
    pl.add_argument("result", help="a result file written with --out")
    pl.add_argument("--plot", required=True, metavar="FILE.png", help="figure file (.png, .pdf or .svg)")

    from .data import DATA_HELP, add_data_arguments

    if command in (None, "data"):
        add_data_arguments(sub)
    else:  # its options come from the dataset hooks of every model, plug-ins included
        sub.add_parser("data", help=DATA_HELP)
    return p


# ---------------------------------------------------------------------------------- verbs
def _derive(args) -> str:
    from ..models import get_model

    spec = get_model(args.model)
    values = option_values(args, spec.options_for("derive"))
    opts = spec.resolve("derive", values)  # checked before any work (and part of the cache key)
    key = _derive_key(spec, opts, args.format)
    cached = _derive_cache_read(key)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    der = spec.derivation(values)
    if args.format == "json":
        out = spec.report_json(der)
        out["seconds"] = round(time.perf_counter() - t0, 3)
        text = json.dumps(out, indent=2)
    else:
        from ..report import markdown_to_latex

        md = spec.report_markdown(der)
        text = md if args.format == "markdown" else markdown_to_latex(md)
    _derive_cache_write(key, text)
    return text


def _source_hash() -> str:
    """A hash of the package's source: a derivation cached by an older code base is never reused."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _derive_key(spec, opts, fmt) -> str | None:
    if spec.source:  # a model file or plug-in: its code is not in the package hash
        return None
    import hashlib

    payload = json.dumps({"model": spec.name, "options": opts, "format": fmt, "version": _version(),
                          "source": _source_hash()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _derive_cache_dir():
    from ..codegen.cache import cache_dir

    d = cache_dir().parent / "derive"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _derive_cache_read(key):
    if key is None or os.environ.get("SYMSHARP_NO_DERIVE_CACHE"):
        return None
    try:
        path = _derive_cache_dir() / f"{key}.txt"
        return path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, SymsharpError):
        return None


def _derive_cache_write(key, text) -> None:
    """Store a derivation's text by content key (atomically; a failure to cache is not an error)."""
    if key is None:
        return
    try:
        from ..codegen.cache import atomic_write

        atomic_write(_derive_cache_dir() / f"{key}.txt", text)
    except (OSError, SymsharpError):
        pass


def _models(args) -> int:
    from ..models import available_models, plugin_errors

    models = available_models()
    if args.json:
        print(json.dumps([{"name": n, "description": s.description, "reduced_map": s.reduced, "source": s.source or "built in",
                           "verbs": (["derive"] if (s.build or s.derive) else []) +
                           (["run", "orbit", "phase", "lyapunov"] if s.system else []) +
                           (["bifurcation", "precision"] if s.system and s.symbolic_map else []) + sorted(s.commands),
                           "experiments": sorted(s.experiments)} for n, s in models.items()], indent=2))
        return 0
    w = max(len(n) for n in models) + 2
    for name, spec in models.items():
        src = f"  [{spec.source}]" if spec.source else ""
        print(f"{name:<{w}}{spec.description}{src}")
    for err in plugin_errors():
        print(f"(plug-in not loaded: {err})", file=sys.stderr)
    return 0


def _verify(args) -> int:
    from ..claims import all_claims, get_claim, verify
    from ..models import load_claims

    load_claims()
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


def _builtin_specs():
    from ..models import available_models

    return [s for s in available_models().values() if not s.source]


def derivation_documents() -> dict:
    """{file name: Markdown text} of everything in ``derivations/`` (deterministic), from every
    built-in model's declared documents."""
    docs = {}
    for spec in _builtin_specs():
        if spec.documents is not None:
            docs.update(spec.documents())
    return dict(sorted(docs.items()))


FIGURE_DIR = "figures"
"""Sub-folder of ``derivations/`` with the figures the documents show (drawn by write-derivations)."""


def derivation_figures(directory: str) -> list:
    """Draw the figures referenced by the derivations into ``directory``."""
    os.makedirs(directory, exist_ok=True)
    out = []
    for spec in _builtin_specs():
        if spec.figures is not None:
            out += [str(p) for p in spec.figures(directory)]
    return out


def check_folder(path: str, what: str) -> None:
    """Create ``path`` if needed and check it is a writable folder, before any work (one-line error)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{what} {path!r} exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {what} {path!r} ({exc.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path!r} is not writable")


def _write_derivations(args) -> int:
    from ..io import write_atomically

    if not args.check:
        check_folder(args.dir, "--dir")
        if not args.no_figures:
            check_folder(os.path.join(args.dir, FIGURE_DIR), "the figures folder")
    docs = derivation_documents()
    stale = []
    for name, text in docs.items():
        path = os.path.join(args.dir, name)
        if args.check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
            if old != text:
                stale.append(name)
        else:
            os.makedirs(args.dir, exist_ok=True)
            write_atomically(path, lambda tmp, t=text: open(tmp, "w", encoding="utf-8").write(t), suffix=".md")
            print(f"wrote {path}")
    if not args.check and not args.no_figures:
        for f in derivation_figures(os.path.join(args.dir, FIGURE_DIR)):
            print(f"wrote {f}")
    if args.check and stale:
        print("stale derivations: " + ", ".join(stale) + " (run: symsharp write-derivations)")
        return 1
    return 0


def showcase(folder: str) -> list:
    """Run every built-in model's showcase commands, writing FOLDER/<name>.nc and FOLDER/<name>.png."""
    import contextlib
    import io as _io
    import os

    from ..models import available_models
    from .dynamics import dynamics_command

    os.makedirs(folder, exist_ok=True)
    written = []
    for spec in available_models().values():
        if spec.source:
            continue
        for stem, argv in spec.showcase:
            nc, png = os.path.join(folder, stem + ".nc"), os.path.join(folder, stem + ".png")
            t0 = time.perf_counter()
            args = build_parser().parse_args(list(argv) + ["--out", nc, "--plot", png, "--json"])
            with contextlib.redirect_stdout(_io.StringIO()), contextlib.redirect_stderr(_io.StringIO()):
                dynamics_command(args)
            print(f"{png:<32} symsharp {' '.join(argv)}  ({time.perf_counter() - t0:.1f} s)")
            written += [nc, png]
    return written


def _plot(args) -> int:
    """Redraw a saved result: generic kinds by :mod:`symsharp.plots`, the model's own kinds by the
    plotters its spec declares."""
    from ..io import load_result, metadata
    from ..models import available_models
    from ..plots import check_figure_path, plot_result

    check_figure_path(args.plot)
    ds = load_result(args.result)
    meta = metadata(ds)
    spec = available_models().get(meta.get("model"))
    plotters = dict(spec.plotters) if spec is not None else {}
    if meta.get("kind") == "bifurcation":
        from ..plots.bifurcation import plot_branches_dataset

        plotters["bifurcation"] = lambda d, path: plot_branches_dataset(d, path=path)
    if str(meta.get("kind", "")).startswith("precision-"):
        from ..plots.precision import PLOTTERS as PRECISION_PLOTTERS

        plotters.update(PRECISION_PLOTTERS)
    plot_result(ds, args.plot, plotters=plotters)
    print(f"figure {args.plot}", file=sys.stderr)
    return 0


def _model_command(args) -> int:
    from ..models import get_model

    return get_model(args.model).commands[args.command].run(args)


def _experiment(args) -> int:
    from ..models import available_models

    for spec in available_models().values():
        if args.name in spec.experiments:
            return spec.experiments[args.name].run(args)
    raise UsageError(f"unknown experiment {args.name!r}")


# ---------------------------------------------------------------------------------- entry point
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


def _take_model_files(argv: list) -> tuple:
    """Remove every ``--model-file FILE`` (or ``--model-file=FILE``) from ``argv``."""
    files, rest, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--model-file":
            if i + 1 >= len(argv):
                raise UsageError("--model-file needs a FILE.py")
            files.append(argv[i + 1])
            i += 2
            continue
        if a.startswith("--model-file="):
            files.append(a.split("=", 1)[1])
            i += 1
            continue
        rest.append(a)
        i += 1
    return files, rest


def _dispatch(args) -> int:
    if args.command == "models":
        return _models(args)
    if args.command == "derive":
        print(_derive(args))
        return 0
    if args.command == "verify":
        return _verify(args)
    if args.command == "write-derivations":
        return _write_derivations(args)
    if args.command == "experiment":
        return _experiment(args)
    if args.command == "bifurcation":
        from .bifurcation import bifurcation_command

        return bifurcation_command(args)
    if args.command == "precision":
        from .precision import precision_command

        return precision_command(args)
    if args.command == "data":
        from .data import data_command

        return data_command(args)
    if args.command == "figures":
        check_folder(args.dir, "--dir")
        showcase(args.dir)
        return 0
    if args.command == "plot":
        return _plot(args)
    if args.command in ("run", "orbit", "phase", "lyapunov"):
        from .dynamics import dynamics_command

        return dynamics_command(args)
    return _model_command(args)


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 check failed, 2 user error, 130 interrupt)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        files, argv = _take_model_files(_join_negative_values(argv))
        if files:
            from ..models import load_model_file

            for f in files:
                load_model_file(f)
        parser = build_parser(_focus(argv))
        if not argv:
            parser.print_help()
            return 0
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: --help, --version (0) or a one-line usage error (2)
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help()
            return 0
        return _dispatch(args)
    except SymsharpError as exc:
        sys.stderr.write(f"symsharp: error: {_one_line(exc)}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("symsharp: interrupted\n")
        return 130
    except Terminated:
        sys.stderr.write("symsharp: terminated\n")
        return 143
    except BrokenPipeError:  # e.g. `symsharp ... --json | head`: the reader went away
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _one_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so that the stack unwinds and every half-written
    temporary file is removed (writes are atomic: temporary file, then rename)."""


def _terminate(signum, frame):
    raise Terminated


if __name__ == "__main__":
    sys.exit(main())
