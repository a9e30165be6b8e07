"""Pieces every part of the command line shares: the parser class (one-line errors, no
abbreviations) and the flags built from the registry's option declarations."""
from __future__ import annotations

import argparse
import sys


class Parser(argparse.ArgumentParser):
    def __init__(self, *a, **kw):
        kw.setdefault("allow_abbrev", False)
        super().__init__(*a, **kw)

    def error(self, message):  # one line, status 2 (argparse's default prints the usage first)
        sys.stderr.write(f"symsharp: error: {message}\n")
        sys.exit(2)


def add_model_options(p: argparse.ArgumentParser, options, title: str) -> None:
    """Flags for the registry's option declarations (values stay text; the registry and the
    systems check them and say what is allowed in one line)."""
    g = p.add_argument_group(title)
    for o in options:
        default = "" if (o.default is None or o.default is False or o.default == ()) else f" (default {o.default})"
        if o.kind == "flag":
            g.add_argument(o.cli_flag, dest=o.name, action="store_true", default=None, help=o.help)
        elif o.kind == "items":
            g.add_argument(o.cli_flag, dest=o.name, action="append", default=None, metavar=o.metavar or "NAME=VALUE",
                           help=o.help)
        elif o.kind == "choice":
            g.add_argument(o.cli_flag, dest=o.name, choices=list(o.choices), default=None, help=o.help + default)
        else:
            meta = o.metavar or ("SPEC" if o.scan else o.kind.upper())
            g.add_argument(o.cli_flag, dest=o.name, default=None, metavar=meta, help=o.help + default)


def option_values(args, options) -> dict:
    """{option name: value given on the command line} (only the given ones)."""
    return {o.name: getattr(args, o.name) for o in options if getattr(args, o.name, None) is not None}
