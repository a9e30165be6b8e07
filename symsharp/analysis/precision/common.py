"""Shared helpers of the precision analyses: the map problem, versions, metadata."""
from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from fractions import Fraction

from ...errors import SymsharpError


class PrecisionError(SymsharpError):
    """Bad input to a precision analysis (one sentence)."""


def versions() -> dict:
    """Versions of the libraries whose arithmetic the results depend on."""
    out = {"python": platform.python_version()}
    for mod in ("numpy", "numba", "sympy", "mpmath", "gmpy2", "flint", "xarray"):
        try:
            m = __import__(mod)
            out[mod] = str(getattr(m, "__version__", "?"))
        except ImportError:
            out[mod] = None
    return out


def metadata(kind: str, config: dict) -> str:
    """The JSON string stored in ``attrs["symsharp"]``: analysis kind, configuration, versions."""
    return json.dumps({"analysis": kind, **config, "versions": versions()}, default=_jsonable)


def _jsonable(v):
    if isinstance(v, Fraction):
        return str(v)
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(v)


def finite_or_none(x):
    """A JSON-friendly number: None for NaN/inf/None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def int_or_none(x):
    """A JSON-friendly step count: None for None or a negative value (−1 means never)."""
    if x is None:
        return None
    x = int(x)
    return None if x < 0 else x


def value_text(v) -> str:
    """A parameter value as it is stored in metadata (exact text)."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, Fraction):
        return str(v)
    return repr(v)


@dataclass
class MapProblem:
    """A map with fixed parameter values and initial state: ``step`` {symbol: expression},
    ``state`` and ``params`` (symbol orders), ``pvals`` (exact values in params order), ``x0``
    (exact values in state order)."""

    step: dict
    state: list
    params: list
    pvals: list
    x0: list
    name: str = "map"
    form: str = "horner"

    @property
    def k(self):
        return len(self.state)

    def config(self) -> dict:
        return {"map": {s.name: str(e) for s, e in zip(self.state, [self.step[s] for s in self.state])},
                "state": [s.name for s in self.state], "params": {p.name: value_text(v) for p, v in
                                                                    zip(self.params, self.pvals)},
                "x0": [value_text(v) for v in self.x0], "form": self.form}


def make_problem(step, x0, params=None, state=None, param_order=None, name: str = "map",
                 form: str = "horner") -> MapProblem:
    """Check and order the inputs of a map analysis.  ``params``: mapping name → value (or a
    sequence in ``param_order``); ``x0``: a mapping name → value or a sequence in state order.
    Values may be numbers, Fractions or decimal strings (read exactly)."""
    from ...codegen.arith.kernels import normalise_map
    from ...codegen.arith.spec import to_fraction
    from ...codegen.common import CodegenError

    try:
        st, pa, exprs = normalise_map(step, state, param_order)
    except CodegenError as e:
        raise PrecisionError(str(e)) from None
    stepd = dict(zip(st, exprs))
    if isinstance(params, dict):
        names = {str(k): v for k, v in params.items()}
        missing = [p.name for p in pa if p.name not in names]
        if missing:
            raise PrecisionError(f"parameter {missing[0]!r} of the map has no value")
        unknown = [n for n in names if n not in {p.name for p in pa}]
        if unknown:
            raise PrecisionError(f"{unknown[0]!r} is not a parameter of the map; its parameters are "
                                 f"{', '.join(p.name for p in pa)}")
        pvals = [names[p.name] for p in pa]
    else:
        pvals = list(params or [])
        if len(pvals) != len(pa):
            raise PrecisionError(f"the map has {len(pa)} parameters ({', '.join(p.name for p in pa)}), "
                                 f"got {len(pvals)} values")
    if isinstance(x0, dict):
        names = {str(k): v for k, v in x0.items()}
        missing = [s.name for s in st if s.name not in names]
        if missing:
            raise PrecisionError(f"state variable {missing[0]!r} has no initial value")
        xs = [names[s.name] for s in st]
    else:
        xs = list(x0)
        if len(xs) != len(st):
            raise PrecisionError(f"the initial state needs {len(st)} values ({', '.join(s.name for s in st)}), "
                                 f"got {len(xs)}")
    for v in pvals + xs:
        try:
            to_fraction(v)
        except CodegenError as e:
            raise PrecisionError(str(e)) from None
    return MapProblem(stepd, st, pa, pvals, xs, name=name, form=form)


def check_tol(tol) -> float:
    """``tol`` as a float in (0, 1), or a one-sentence error."""
    try:
        t = float(tol)
    except (TypeError, ValueError):
        raise PrecisionError(f"tol must be a number between 0 and 1, got {tol!r}") from None
    if not (0 < t < 1):
        raise PrecisionError(f"tol must be a number between 0 and 1, got {tol!r}")
    return t


def check_steps(steps, what="steps", minimum=1) -> int:
    """``steps`` as an integer ≥ ``minimum``, or a one-sentence error."""
    try:
        s = int(steps)
    except (TypeError, ValueError):
        raise PrecisionError(f"{what} must be a positive integer, got {steps!r}") from None
    if s != steps or s < minimum:
        raise PrecisionError(f"{what} must be an integer ≥ {minimum}, got {steps!r}")
    return s


def parse_grid(spec, what: str = "value"):
    """A grid from ``"a:b:n"`` (n evenly spaced values from a to b), ``"a,b,c"`` or one number
    (parsed as decimals, never evaluated)."""
    import numpy as np

    from ...codegen.arith.spec import to_fraction
    from ...codegen.common import CodegenError

    text = str(spec).strip()
    try:
        if ":" in text:
            parts = [t.strip() for t in text.split(":")]
            if len(parts) != 3:
                raise PrecisionError(f"a {what} grid is 'start:stop:count', got {spec!r}")
            a, b = float(to_fraction(parts[0])), float(to_fraction(parts[1]))
            n = int(parts[2]) if parts[2].isdigit() else -1
            if n < 1:
                raise PrecisionError(f"the count in the {what} grid {spec!r} must be a positive integer")
            return np.linspace(a, b, n)
        return np.array([float(to_fraction(t.strip())) for t in text.split(",") if t.strip()])
    except CodegenError as e:
        raise PrecisionError(f"cannot read the {what} grid {spec!r}: {e}") from None
