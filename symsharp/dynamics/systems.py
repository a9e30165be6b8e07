"""Compiled systems: a kernel plus the meaning of every per-point option.

A :class:`System` is what the dynamics verbs (``run``, ``orbit``, ``phase``, ``lyapunov``) and
the analyses built on them work with, for every model alike: a :class:`~symsharp.codegen.CompiledMap`,
the per-point options it takes (``eta``, ``f0``, ``seed``, ...; numbers, lists or grids that
broadcast against each other) and how a set of option values becomes initial states and kernel
parameters.  Models build their systems (see :mod:`symsharp.models`); this module never names a
model and never calls SymPy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..codegen.kernel import CompiledMap
from ..validate import Option
from .common import DynamicsError

__all__ = ["System", "Option"]


@dataclass(eq=False)
class System:
    """A compiled map with named per-point options.

    name: the model's registry name.
    kernel_source: the compiled map (state, parameters, observables), or a function of no
        arguments that compiles it on first use (so that a run that does not need the kernel,
        such as a chain-model SGD run through ``runner``, never builds it); read it as ``kernel``.
    options: per-point options {name: :class:`~symsharp.validate.Option`}.
    prepare: ``prepare(values, G) -> (x0 (G, k), params (G, m))`` from broadcast option values
        ({name: (G,) float array, or None when the option has no default and was not given}).
    description: one line for reports and figure titles.
    observables: names a run records and an orbit diagram may show (state, kernel observables,
        observers).
    default_observable: what an orbit diagram shows by default.
    observers: {name: fn(states (..., k)) -> values (...)} computed outside the kernel (for
        example the exact sharpness by a dense eigensolver).
    hidden: prefixes of kernel observables that are internal (not recorded by runs).
    metadata: extra JSON-able configuration stored with every result (data summaries, ...).
    param_records: optional ``fn(option values, steps, record_every) -> {name: (R,) array}`` of
        extra per-step records computed by a parameter-space run (UV parameter norms).
    runner: optional ``fn(values, steps, record_every, threshold, progress) -> (records, diverged_at)``
        that replaces the kernel for single runs (the chain model's GD/SGD in SVD coordinates);
        ``records`` maps names to arrays whose first axis is the record index.
    dtype: the arithmetic of the kernel and runs (``float64`` or ``float32``).
    stochastic: True when runs draw minibatches (SGD): orbit/phase/Lyapunov scans need a
        deterministic map and refuse such a system.
    """

    name: str
    kernel_source: object = field(repr=False)
    options: dict = field(default_factory=dict)
    prepare_fn: Callable = field(default=None, repr=False)
    description: str = ""
    observables: tuple = ()
    default_observable: str = "sharpness"
    observers: dict = field(default_factory=dict, repr=False)
    hidden: tuple = ()
    metadata: dict = field(default_factory=dict, repr=False)
    param_records: Callable | None = field(default=None, repr=False)
    runner: Callable | None = field(default=None, repr=False)
    stochastic: bool = False
    dtype: str = "float64"

    @property
    def kernel(self) -> CompiledMap:
        """The compiled map (built on first use when given as a factory)."""
        if not isinstance(self.kernel_source, CompiledMap):
            self.kernel_source = self.kernel_source()
        return self.kernel_source

    @property
    def kernel_name(self) -> str:
        """File name of the compiled kernel, or how runs are computed when it was never built."""
        if isinstance(self.kernel_source, CompiledMap):
            return self.kernel_source.path.name
        return "runner (no compiled map built)"

    def defaults(self) -> dict:
        return {k: o.default for k, o in self.options.items()}

    def resolve(self, values: Mapping | None = None) -> dict:
        """Option values with defaults filled in, checked, as float arrays (unbroadcast)."""
        values = dict(values or {})
        unknown = [k for k in values if k not in self.options]
        if unknown:
            raise DynamicsError(f"model {self.name!r} has no option {unknown[0]!r}; "
                                f"its options are {', '.join(self.options)}")
        out = {}
        for k, opt in self.options.items():
            v = values.get(k, opt.default)
            out[k] = None if v is None else opt.check(np.atleast_1d(np.asarray(v, dtype=np.float64)))
        return out

    def prepare(self, values: Mapping | None = None):
        """(x0 (G, k), params (G, m), broadcast option values {name: (G,)})."""
        vals = self.resolve(values)
        arrays = {k: v for k, v in vals.items() if v is not None}
        try:
            shape = np.broadcast_shapes(*[v.shape for v in arrays.values()])
        except ValueError:
            sizes = {k: v.size for k, v in arrays.items() if v.size > 1}
            raise DynamicsError(f"option grids of different lengths cannot be combined: {sizes}") from None
        G = int(np.prod(shape))
        flat = {k: (np.broadcast_to(v, shape).reshape(G) if v is not None else None) for k, v in vals.items()}
        x0, P = self.prepare_fn(flat, G)
        x0 = np.asarray(x0, dtype=np.float64).reshape(G, -1)
        P = np.asarray(P, dtype=np.float64).reshape(G, -1)
        if not np.all(np.isfinite(x0)):
            raise DynamicsError("the initial state is not finite; check the initialisation options")
        return x0, P, {k: v for k, v in flat.items() if v is not None}

    def require_deterministic(self, verb: str) -> None:
        """Refuse scans of a stochastic (SGD) system in one line."""
        if self.stochastic:
            raise DynamicsError(f"{verb} needs the deterministic GD map; minibatch options (--batch) apply to run only")
