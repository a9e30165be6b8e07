"""The one validators module: options with their defaults, help text and allowed values.

An :class:`Option` describes one model or verb option — its name, default, help text, kind and
allowed range — and checks values given from Python or from the command line, raising a one-line
:class:`OptionError` that names the option, the bad value and what is allowed.  The dynamics layer
uses it for per-point options of compiled systems (numbers, lists or grids); the model registry
uses it to declare every model's options once, and the command line builds its flags from it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import SymsharpError


class OptionError(SymsharpError):
    """A bad option value (one sentence naming the option, the value and what is allowed)."""


KINDS = ("float", "int", "str", "choice", "flag", "items")


@dataclass(frozen=True)
class Option:
    """One option.

    name: Python name (``init_scale``); the command-line flag is ``--init-scale`` unless ``flag``.
    default: value when not given (``None``: not set / decided by the model).
    help: one line for ``--help``.
    kind: ``float``, ``int``, ``str``, ``choice`` (one of ``choices``), ``flag`` (on/off) or
        ``items`` (repeatable ``NAME=VALUE``).
    minimum / strict / nonzero / maximum: numeric range (``minimum`` inclusive unless ``strict``).
    scan: per-point option of the dynamics verbs: a number, a list ``a,b,c`` or a grid
        ``start:stop:count`` (validated per value by :meth:`check`).
    verbs: where the option applies: ``"derive"`` (symbolic model), ``"dynamics"`` (run, orbit,
        phase, lyapunov and the analyses built on them).
    """

    name: str
    default: object = None
    help: str = ""
    kind: str = "float"
    choices: tuple = ()
    minimum: float | None = None
    strict: bool = False
    integer: bool = False
    nonzero: bool = False
    maximum: float | None = None
    scan: bool = False
    verbs: tuple = ("derive", "dynamics")
    flag: str | None = None
    metavar: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"option kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """How errors name the option: ``init_scale (--init-scale)``."""
        return f"{self.name} ({self.cli_flag})"

    def allowed(self) -> str:
        """What values are allowed, in words."""
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        parts = []
        if self.integer or self.kind == "int":
            parts.append("a whole number")
        elif self.kind == "float":
            parts.append("a finite number")
        if self.minimum is not None:
            parts.append(f"{'>' if self.strict else '>='} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        if self.nonzero:
            parts.append("nonzero")
        return " ".join(parts) if parts else "text"

    # ---------------------------------------------------------------------- scalar values
    def convert(self, value):
        """A single value from Python or command-line text, checked (one-line error)."""
        if value is None:
            return None
        if self.kind == "flag":
            return bool(value)
        if self.kind == "str" or self.kind == "items":
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise OptionError(f"{self.label} must be {self.allowed()}, got {value!r}")
            return value
        v = _number(value, self)
        try:
            self.check(np.asarray([v]))
        except OptionError as exc:  # name the command-line flag too
            raise OptionError(str(exc).replace(self.name, self.label, 1)) from None
        return int(v) if (self.kind == "int" or self.integer) else v

    # ---------------------------------------------------------------------- arrays (grids)
    def check(self, values) -> np.ndarray:
        """Check an array of values (a grid); returns it as float64."""
        try:
            v = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise OptionError(f"{self.name} must be {self.allowed()}, got {values!r}") from None
        if not np.all(np.isfinite(v)):
            bad = v[~np.isfinite(v)][0]
            raise OptionError(f"{self.name} must be finite, got {bad}")
        if (self.integer or self.kind == "int") and np.any(v != np.round(v)):
            bad = v[v != np.round(v)][0]
            raise OptionError(f"{self.name} must be a whole number, got {bad:g}")
        if self.minimum is not None:
            low = v <= self.minimum if self.strict else v < self.minimum
            if np.any(low):
                rel = ">" if self.strict else ">="
                raise OptionError(f"{self.name} must be {rel} {self.minimum:g}, got {v[low][0]:g}")
        if self.maximum is not None and np.any(v > self.maximum):
            raise OptionError(f"{self.name} must be <= {self.maximum:g}, got {v[v > self.maximum][0]:g}")
        if self.nonzero and np.any(v == 0):
            raise OptionError(f"{self.name} must be nonzero, got 0")
        return v


def _number(value, opt: Option) -> float:
    if isinstance(value, bool):
        raise OptionError(f"{opt.label} must be {opt.allowed()}, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            v = int(text) if (opt.kind == "int" and text.lstrip("+-").isdigit()) else float(text)
        except ValueError:
            raise OptionError(f"{opt.label} must be {opt.allowed()}, got {value!r}") from None
    else:
        try:
            v = float(value) if not isinstance(value, (int, np.integer)) else int(value)
        except (TypeError, ValueError):
            raise OptionError(f"{opt.label} must be {opt.allowed()}, got {value!r}") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise OptionError(f"{opt.label} must be finite, got {value!r}")
    return v


def whole_number(value, what: str, minimum: int = 0, maximum: int | None = None, error=None) -> int:
    """``value`` as an int within [minimum, maximum], or a one-line ``error`` (a
    :class:`~symsharp.errors.SymsharpError` subclass; default :class:`OptionError`)."""
    error = OptionError if error is None else error
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError):
        raise error(f"{what} must be a whole number >= {minimum}, got {value!r}") from None
    try:
        exact = v == value or (isinstance(value, str) and str(v) == value.strip())
    except TypeError:
        exact = False
    if not exact or v < minimum:
        raise error(f"{what} must be a whole number >= {minimum}, got {value!r}")
    if maximum is not None and v > maximum:
        raise error(f"{what} must be at most {maximum}, got {value!r}")
    return v


def positive_number(value, what: str, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``allow_zero``), or a one-line error."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        rel = ">= 0" if allow_zero else "> 0"
        raise OptionError(f"{what} must be a finite number {rel}, got {value!r}")
    return v
