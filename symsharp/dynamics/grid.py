"""Grid specifications shared by the Python API and the command line.

A model option is either one number or a grid:

- ``"5:25:2001"`` — start:stop:count, both ends included (``numpy.linspace``);
- ``"9.5,11,12.5"`` — an explicit list;
- ``"0.3"`` — a single value.
"""
from __future__ import annotations

import math

import numpy as np

from .common import DynamicsError

MAX_GRID = 10_000_000


def _number(text: str, name: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise DynamicsError(f"{name} value {text.strip()!r} is not a number") from None
    if not math.isfinite(v):
        raise DynamicsError(f"{name} value {text.strip()!r} must be finite")
    return v


def parse_grid(spec, name: str = "value") -> np.ndarray:
    """Values of a grid specification (see the module docstring) as a 1-D float64 array.

    Numbers and sequences pass through (checked to be finite and non-empty)."""
    if isinstance(spec, (int, float, np.integer, np.floating)):
        vals = np.array([float(spec)])
    elif isinstance(spec, str):
        text = spec.strip()
        if not text:
            raise DynamicsError(f"{name} is empty; give a number, a list a,b,c or a grid start:stop:count")
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise DynamicsError(f"{name} grid {text!r} must look like start:stop:count, e.g. 5:25:2001")
            a, b = _number(parts[0], name), _number(parts[1], name)
            try:
                n = int(parts[2])
            except ValueError:
                raise DynamicsError(f"{name} grid {text!r}: count {parts[2]!r} must be a whole number") from None
            if n < 1:
                raise DynamicsError(f"{name} grid {text!r} is empty: the count must be >= 1, got {n}")
            if n > MAX_GRID:
                raise DynamicsError(f"{name} grid {text!r}: the count must be <= {MAX_GRID}, got {n}")
            if n == 1 and a != b:
                raise DynamicsError(f"{name} grid {text!r} has count 1 but start != stop; give one number instead")
            vals = np.linspace(a, b, n)
        else:
            items = [t for t in text.split(",")]
            if any(not t.strip() for t in items):
                raise DynamicsError(f"{name} list {text!r} has an empty entry")
            vals = np.array([_number(t, name) for t in items])
    else:
        try:
            vals = np.asarray(spec, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise DynamicsError(f"{name} must be a number, a list or a grid string, got {spec!r}") from None
        if vals.size == 0:
            raise DynamicsError(f"{name} grid is empty")
        if not np.all(np.isfinite(vals)):
            raise DynamicsError(f"{name} values must be finite, got {spec!r}")
    return vals


def is_grid(spec) -> bool:
    """True when ``spec`` describes more than one value."""
    return parse_grid(spec).size > 1
