"""The model registry: one place per model, declaring everything the toolkit needs about it.

A model registers a :class:`ModelSpec` — its name and one-line description, its options (each
declared once with flag, default, help and allowed values), how to build its SymPy model, how to
build its compiled system for the dynamics verbs, its derivation report, its reduced map, its
claims, its documents and figures, and any verbs of its own.  The command line builds every verb's
flags from these declarations, and ``derive``, ``run``, ``orbit``, ``phase``, ``lyapunov``,
``verify``, ``write-derivations`` and ``figures`` read the registry instead of branching on names.

Models come from three places:

- the built-in packages ``symsharp.models.uv``, ``symsharp.models.chain`` and the files
  ``symsharp.models.custom`` and ``symsharp.models.tanh`` (imported with :mod:`symsharp.models`);
- installed packages that declare an entry point in the group ``symsharp.models`` (the entry
  point is a module that calls :func:`register_model`, or a function that returns a spec);
- a Python file given with ``--model-file FILE`` (:func:`load_model_file`), which calls
  :func:`register_model` — a plug-in you wrote, run as Python like any plug-in.

The quickest way to a new model is :func:`symsharp.models.generic.expression_model`: a name, an
expression for ``f`` (or the loss), a data set and initial values give a model with every verb.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from ..claims.registry import add_loader
from ..errors import ModelError
from ..validate import Option

ENTRY_POINT_GROUP = "symsharp.models"

DTYPE_OPTION = Option("dtype", "float64", "floating-point type of the compiled kernels", kind="choice",
                      choices=("float64", "float32"), verbs=("dynamics",))


@dataclass(frozen=True)
class Command:
    """A verb of a model's own (e.g. UV's ``route-to-chaos``).

    add_arguments(parser) adds its flags; run(args) does the work and returns the exit status."""

    help: str
    add_arguments: Callable
    run: Callable


@dataclass
class ModelSpec:
    """Everything the toolkit needs to know about one model.

    name: registry name (lowercase letters, digits and ``-``).
    description: one line for ``symsharp models``.
    options: every option of the model, declared once (:class:`~symsharp.validate.Option`); an
        option's ``verbs`` say whether it applies to ``derive`` (the symbolic model), to the
        ``dynamics`` verbs, or both; ``scan=True`` marks per-point options that take a number, a
        list or a grid.
    build: ``build(options) -> Model``: the SymPy model from the ``derive`` options.
    system: ``system(options, dtype) -> System``: the compiled system from the non-scan
        ``dynamics`` options (``None``: the model has no dynamics).
    derive: ``derive(options) -> derivation`` (default: the generic
        :func:`~symsharp.symbolic.derive.derive_model` of ``build(options)``).
    to_json / to_markdown: the derivation report (default: the generic report).
    reduced: the reduced map the model has, in words (``"function space (f, λ)"``,
        ``"SVD coordinates"``), or None.
    point_specs: ``point_specs(options) -> {option: spec}``: per-point values given by options of
        the model's own (custom: ``--init NAME=SPEC``).
    load_claims: imports the modules that register the model's claims.
    documents: ``documents() -> {file name: Markdown}`` for ``derivations/``.
    figures: ``figures(directory) -> [paths]`` drawn for ``derivations/figures``.
    showcase: ``[(stem, argv)]``: commands whose result and figure ``symsharp figures`` writes.
    commands: verbs of the model's own, ``symsharp VERB MODEL`` {verb: :class:`Command`}.
    experiments: experiments of the model, ``symsharp experiment NAME`` {name: :class:`Command`}.
    plotters: figures of result kinds beyond run/orbit/phase/lyapunov {kind: fn(ds, path)}.
    check: ``check(verb_group, options)`` refuses impossible option sets in one line before any work.
    dataset / data_options: ``dataset(options) -> symsharp.data.Dataset`` builds the data set a model
        trains on from the options named in ``data_options`` (``symsharp data describe`` offers them).
    symbolic_map: ``symbolic_map(options) -> {"step", "state", "params"}``: the SymPy map the
        system's kernel was compiled from (same state and parameter names), for the symbolic
        analyses of the dynamics (bifurcation analysis, precision studies).
    raw_coordinates: ``raw_coordinates(options) -> {"X", "y", "depth", "svd_map"}``: for a model whose
        GD runs on data in raw coordinates beyond any fixed-size SymPy map (the chain model), its
        data (X (N, d), y (N,)), depth and a function of no arguments giving the reduced map
        (step, state, params, W) — what ``symsharp precision blowup --coords raw|svd`` runs in
        every arithmetic (None: the model is studied through ``symbolic_map`` only).
    """

    name: str
    description: str
    options: tuple = ()
    build: Callable | None = None
    system: Callable | None = None
    derive: Callable | None = None
    to_json: Callable | None = None
    to_markdown: Callable | None = None
    reduced: str | None = None
    point_specs: Callable | None = None
    load_claims: Callable | None = None
    documents: Callable | None = None
    figures: Callable | None = None
    showcase: tuple = ()
    commands: dict = field(default_factory=dict)
    experiments: dict = field(default_factory=dict)
    plotters: dict = field(default_factory=dict)
    check: Callable | None = None
    symbolic_map: Callable | None = None
    dataset: Callable | None = None
    data_options: tuple = ()
    raw_coordinates: Callable | None = None
    source: str = ""

    def options_for(self, verb_group: str) -> list:
        """The options that apply to ``"derive"`` or ``"dynamics"``."""
        return [o for o in self.options if verb_group in o.verbs]

    def option(self, name: str) -> Option:
        for o in self.options:
            if o.name == name:
                return o
        raise ModelError(f"model {self.name!r} has no option {name!r}")

    def resolve(self, verb_group: str, values: Mapping | None = None) -> dict:
        """Non-scan option values of a verb group with defaults filled in and checked."""
        values = dict(values or {})
        opts = self.options_for(verb_group)
        known = {o.name for o in opts}
        unknown = [k for k in values if k not in known]
        if unknown:
            raise ModelError(f"{unknown[0]!r} is not a {verb_group} option of the {self.name} model; its options are "
                             f"{', '.join(sorted(known)) or 'none'}")
        out = {}
        for o in opts:
            if o.scan:
                continue
            out[o.name] = o.convert(values[o.name]) if values.get(o.name) is not None else o.default
        if self.check is not None:
            self.check(verb_group, out)
        return out

    # ------------------------------------------------------------------------------- verbs
    def derivation(self, values: Mapping | None = None):
        """Run the model's derivation with ``derive`` options ``values``."""
        opts = self.resolve("derive", values)
        if self.derive is not None:
            return self.derive(opts)
        if self.build is None:
            raise ModelError(f"model {self.name!r} has no symbolic description to derive")
        from ..symbolic.derive import derive_model

        return derive_model(self.build(opts))

    def report_json(self, derivation) -> dict:
        if self.to_json is not None:
            return self.to_json(derivation)
        from ..report import model_json

        return model_json(derivation)

    def report_markdown(self, derivation) -> str:
        if self.to_markdown is not None:
            return self.to_markdown(derivation)
        from ..report import model_markdown

        return model_markdown(derivation)

    def make_system(self, values: Mapping | None = None, dtype: str = "float64"):
        """The compiled system from the non-scan ``dynamics`` options ``values``."""
        if self.system is None:
            raise ModelError(f"model {self.name!r} has no dynamics (run, orbit, phase, lyapunov)")
        DTYPE_OPTION.convert(dtype)
        return self.system(self.resolve("dynamics", values), dtype)

    def map_kwargs(self, values: Mapping | None = None) -> dict:
        """The SymPy map of the compiled system for the non-scan ``dynamics`` options ``values``."""
        if self.symbolic_map is None:
            raise ModelError(f"model {self.name!r} does not declare the SymPy map of its dynamics")
        return self.symbolic_map(self.resolve("dynamics", values))

    def option_is_scan(self, name: str) -> bool:
        """True when ``name`` is a per-point (scanned) dynamics option."""
        return any(o.name == name and o.scan for o in self.options_for("dynamics"))

    def scan_specs(self, values: Mapping) -> dict:
        """Per-point specs: the scan options given in ``values`` plus the model's own point specs."""
        specs = {o.name: values[o.name] for o in self.options_for("dynamics")
                 if o.scan and values.get(o.name) is not None}
        if self.point_specs is not None:
            specs.update(self.point_specs(self.resolve("dynamics", {k: v for k, v in values.items()
                                                                    if k not in specs})))
        return specs


# ------------------------------------------------------------------------------------- registry
_MODELS: dict[str, ModelSpec] = {}
_PLUGIN_ERRORS: list[str] = []
_ENTRY_POINTS_LOADED = False
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def register_model(spec: ModelSpec, replace: bool = False) -> ModelSpec:
    """Add ``spec`` to the registry (a second model of the same name needs ``replace=True``)."""
    if not isinstance(spec, ModelSpec):
        raise ModelError(f"register_model takes a ModelSpec, got {type(spec).__name__}")
    if not _NAME.match(spec.name):
        raise ModelError(f"model name {spec.name!r} must be lowercase letters, digits and '-', starting with a letter")
    if spec.name in _MODELS and not replace and _MODELS[spec.name] is not spec:
        raise ModelError(f"a model named {spec.name!r} is already registered ({_MODELS[spec.name].source or 'built in'})")
    for group in ("derive", "dynamics"):  # an option may be declared once per verb group
        names = [o.name for o in spec.options if group in o.verbs]
        dup = [n for n in names if names.count(n) > 1]
        if dup:
            raise ModelError(f"model {spec.name!r} declares the {group} option {dup[0]!r} twice")
    _MODELS[spec.name] = spec
    return spec


def unregister_model(name: str) -> None:
    """Remove a model (for tests and interactive sessions)."""
    _MODELS.pop(name, None)


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if callable(obj) and not isinstance(obj, type(sys)):
                got = obj()
                if isinstance(got, ModelSpec):
                    register_model(got)
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break the toolkit
            _PLUGIN_ERRORS.append(f"entry point {ep.name!r} ({ep.value}): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def registered_models() -> dict:
    """{name: ModelSpec} registered so far (built-ins and loaded files), without looking for
    installed plug-ins (see :func:`available_models`)."""
    return dict(_MODELS)


def available_models() -> dict:
    """{name: ModelSpec} of every registered model (built-ins, entry points, loaded files)."""
    _load_entry_points()
    return dict(_MODELS)


def plugin_errors() -> list:
    """One line per installed plug-in that failed to load."""
    _load_entry_points()
    return list(_PLUGIN_ERRORS)


def get_model(name: str) -> ModelSpec:
    """The spec registered under ``name`` (one-line error listing the known models).  Installed
    plug-ins are looked up only for a name not registered yet (built-ins and loaded files need no
    scan of the installed distributions)."""
    if name in _MODELS:
        return _MODELS[name]
    models = available_models()
    if name not in models:
        raise ModelError(f"unknown model {name!r}; registered models: {', '.join(sorted(models))} "
                         "(add one with --model-file FILE or an installed plug-in)")
    return models[name]


def load_model_file(path) -> list:
    """Import a Python file that registers models (calls :func:`register_model`); returns the
    names it added.  The file is a plug-in: it runs as Python, like any module you import."""
    p = Path(path)
    if p.suffix != ".py":
        raise ModelError(f"model file {str(p)!r} must be a Python file ending in .py")
    if not p.is_file():
        raise ModelError(f"model file {str(p)!r} does not exist")
    before = set(_MODELS)
    modname = "symsharp_model_file_" + re.sub(r"\W", "_", str(p.resolve()))
    spec = importlib.util.spec_from_file_location(modname, str(p))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except ModelError:
        sys.modules.pop(modname, None)
        raise
    except Exception as exc:  # noqa: BLE001 - report the plug-in's failure in one line
        sys.modules.pop(modname, None)
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"model file {str(p)!r} failed to load: {type(exc).__name__}: {msg}") from None
    added = sorted(set(_MODELS) - before)
    for n in added:
        if not _MODELS[n].source:
            _MODELS[n].source = str(p)
    if not added:
        raise ModelError(f"model file {str(p)!r} registered no model (call symsharp.models.register_model)")
    return added


def load_claims() -> None:
    """Import the claim modules of every registered model (registers their claims)."""
    for spec in available_models().values():
        if spec.load_claims is not None:
            spec.load_claims()


add_loader(load_claims)  # symsharp.claims.all_claims() lists the claims of every registered model