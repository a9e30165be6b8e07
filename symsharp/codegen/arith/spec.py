"""Arithmetic specifications (``float16``, ``dd``, ``mpfr:256`` …) and exact conversion of inputs.

One ladder of arithmetics, one option: :func:`parse_arith` turns a spec string into an
:class:`Arith` that knows its name, kind and number of mantissa bits.  Values enter every
arithmetic through :func:`to_fraction` (exact rationals: Python numbers, decimal strings parsed
without evaluation, SymPy rationals, gmpy2 numbers) and are rounded once, correctly, to the
format (:func:`round_to_format`), so that every arithmetic starts from the same exact inputs.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from ..common import CodegenError

MAX_BITS = 1 << 20
"""Largest precision accepted for ``mpfr:``, ``mp:`` and ``arb:`` (about 315 000 decimal digits)."""

FLOAT_FORMATS = ("bfloat16", "float16", "float32", "float64")
KINDS = ("float", "emulated", "dd", "mpfr", "mp", "arb")

# (mantissa bits incl. the implicit bit, smallest normal exponent e_min with x = 1.f·2^e, largest e_max)
IEEE = {
    "bfloat16": (8, -126, 127),
    "float16": (11, -14, 15),
    "float32": (24, -126, 127),
    "float64": (53, -1022, 1023),
}

DD_BITS = 106
"""Nominal precision of double-double (two float64 words); the relative rounding error of the
operations is a small multiple of 2^-106 (Joldes, Muller & Popescu 2017)."""


class ArithError(CodegenError):
    """A bad arithmetic specification or a missing backend (one sentence)."""


@dataclass(frozen=True)
class Arith:
    """One arithmetic of the ladder.

    ``name`` is the canonical spec (``"float16"``, ``"dd"``, ``"mpfr:256"``); ``kind`` is one of
    ``float`` (native float32/float64 Numba kernels), ``emulated`` (float16/bfloat16 rounded after
    every operation inside a float32 kernel), ``dd`` (double-double Numba kernels), ``mpfr``
    (gmpy2), ``mp`` (mpmath) or ``arb`` (python-flint balls); ``bits`` is the number of mantissa
    bits (precision p, including the implicit bit)."""

    name: str
    kind: str
    bits: int

    @property
    def is_kernel(self) -> bool:
        """True for arithmetics run by batched Numba kernels (float formats and dd)."""
        return self.kind in ("float", "emulated", "dd")

    @property
    def format(self) -> str:
        """The storage format name: ``float16``/``bfloat16``/``float32``/``float64``/``dd``, or
        the kind for the multiple-precision arithmetics."""
        return self.name if self.kind in ("float", "emulated", "dd") else self.kind

    @property
    def unit_roundoff(self) -> float:
        """u = 2^-bits (rounding to nearest)."""
        return math.ldexp(1.0, -self.bits)

    def __str__(self):
        return self.name


_SPEC = re.compile(r"^(mpfr|mp|arb):(.*)$")
ALIASES = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "f16": "float16", "fp32": "float32",
           "single": "float32", "f32": "float32", "fp64": "float64", "double": "float64", "f64": "float64",
           "double-double": "dd"}


def parse_arith(spec) -> Arith:
    """Parse one arithmetic spec: ``bfloat16``, ``float16``, ``float32``, ``float64``, ``dd``,
    ``mpfr:BITS``, ``mp:BITS`` or ``arb:BITS`` (2 ≤ BITS ≤ 2^20).  Raises :class:`ArithError`
    with one sentence for anything else, and when gmpy2 (mpfr) or python-flint (arb) is missing."""
    if isinstance(spec, Arith):
        return spec
    if not isinstance(spec, str):
        raise ArithError(f"an arithmetic must be given as text such as 'float64' or 'mpfr:256', got {spec!r}")
    text = spec.strip().lower()
    text = ALIASES.get(text, text)
    if text in ("float32", "float64"):
        return Arith(text, "float", IEEE[text][0])
    if text in ("float16", "bfloat16"):
        return Arith(text, "emulated", IEEE[text][0])
    if text == "dd":
        return Arith("dd", "dd", DD_BITS)
    m = _SPEC.match(text)
    if not m:
        raise ArithError(f"unknown arithmetic {spec!r}; choose from bfloat16, float16, float32, float64, dd, "
                         "mpfr:BITS, mp:BITS, arb:BITS")
    kind, btxt = m.group(1), m.group(2).strip()
    if not re.fullmatch(r"[0-9]+", btxt):
        raise ArithError(f"the precision in {spec!r} must be a whole number of bits, e.g. {kind}:256")
    if len(btxt.lstrip("0")) > 8:
        raise ArithError(f"the precision in {spec!r} is above the limit of {MAX_BITS} bits")
    bits = int(btxt)
    if bits < 2:
        raise ArithError(f"the precision in {spec!r} must be at least 2 bits, got {bits}")
    if bits > MAX_BITS:
        raise ArithError(f"the precision in {spec!r} is above the limit of {MAX_BITS} bits")
    require_backend(kind)
    return Arith(f"{kind}:{bits}", kind, bits)


def parse_ariths(specs) -> list:
    """Parse a comma-separated list (``"float32,float64,mpfr:256"``) or a sequence of specs;
    duplicates are removed, the order is kept."""
    if isinstance(specs, str):
        items = [s for s in specs.split(",") if s.strip()]
    else:
        items = list(specs)
    if not items:
        raise ArithError("the list of arithmetics is empty; give e.g. 'float32,float64,mpfr:256'")
    out = []
    for s in items:
        a = parse_arith(s)
        if a not in out:
            out.append(a)
    return out


def require_backend(kind: str):
    """Import and return the backend module of ``mpfr`` (gmpy2), ``arb`` (flint) or ``mp`` (mpmath)."""
    try:
        if kind == "mpfr":
            import gmpy2
            return gmpy2
        if kind == "arb":
            import flint
            return flint
        if kind == "mp":
            import mpmath
            return mpmath
    except ImportError:
        pkg = {"mpfr": "gmpy2", "arb": "python-flint", "mp": "mpmath"}[kind]
        raise ArithError(f"the arithmetic {kind}:BITS needs the package {pkg}, which is not installed "
                         f"(pip install {pkg})") from None
    return None


# ------------------------------------------------------------------------------ exact inputs

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def to_fraction(value) -> Fraction:
    """The exact rational value of ``value``: int, float (its exact binary value), Fraction,
    decimal string (``"0.01"`` is exactly 1/100; parsed with a pattern, never evaluated), a
    SymPy Rational/Integer/Float, or a gmpy2 mpz/mpq/mpfr.  Infinite or NaN values are refused."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise ArithError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ArithError(f"expected a finite number, got {value!r}")
        return Fraction(value)
    if isinstance(value, str):
        t = value.strip()
        if "/" in t:
            a, _, b = t.partition("/")
            if _DECIMAL.match(a.strip()) and _DECIMAL.match(b.strip()):
                den = Fraction(b.strip())
                if den == 0:
                    raise ArithError(f"the number {value!r} divides by zero")
                return Fraction(a.strip()) / den
        if not _DECIMAL.match(t):
            raise ArithError(f"cannot read {value!r} as a number; write a decimal such as 0.01 or a ratio such as 1/3")
        return Fraction(t)
    mod = type(value).__module__ or ""
    if mod.startswith("sympy"):
        import sympy as sp

        if isinstance(value, sp.Rational):
            return Fraction(int(value.p), int(value.q))
        if isinstance(value, sp.Float):
            v = sp.Rational(value)
            return Fraction(int(v.p), int(v.q))
        raise ArithError(f"the SymPy number {value} is not an exact rational; give its numeric value")
    if mod.startswith("gmpy2"):
        import gmpy2

        if gmpy2.is_nan(value) or gmpy2.is_infinite(value):
            raise ArithError(f"expected a finite number, got {value}")
        q = gmpy2.mpq(value)
        return Fraction(int(q.numerator), int(q.denominator))
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # NumPy scalar
        import numpy as np

        if np.issubdtype(value.dtype, np.integer):
            return Fraction(int(value))
        return to_fraction(float(value))
    raise ArithError(f"cannot use {value!r} as a number")


def mpfr_context(fmt: str, bits: int | None = None):
    """A gmpy2 context that rounds exactly like the IEEE format ``fmt`` (precision, exponent
    range and subnormals), or like MPFR at ``bits`` when ``fmt`` is ``"mpfr"``."""
    import gmpy2

    if fmt == "mpfr":
        return gmpy2.context(precision=int(bits))
    p, emin, emax = IEEE[fmt]
    # MPFR writes x = 0.1f·2^E, so E = e + 1; with subnormalize the smallest exponent is that of
    # the smallest subnormal 2^(emin − p + 1) = 0.1·2^(emin − p + 2).
    return gmpy2.context(precision=p, emin=emin - p + 2, emax=emax + 1, subnormalize=True)


def round_to_format(value, fmt: str) -> float:
    """The value correctly rounded (to nearest, ties to even; overflow to ±inf; subnormals) to
    the IEEE format ``fmt`` (``float16``, ``bfloat16``, ``float32`` or ``float64``), returned as a
    Python float.  Computed with gmpy2 from the exact rational (no double rounding)."""
    import gmpy2

    q = to_fraction(value)
    if fmt == "float64":
        return float(q)
    with gmpy2.context(mpfr_context(fmt)) as ctx:
        x = gmpy2.mpfr(gmpy2.mpq(q.numerator, q.denominator))
        x = ctx.check_range(x)
        out = float(x)
    return out


def round_float_array(x, fmt: str):
    """Float64 array → the values correctly rounded to the IEEE format ``fmt`` (ties to even,
    overflow to ±inf, subnormals; any NaN becomes the default NaN), returned as float64.
    Vectorised: with x = m·2^e, q = 2^(max(e, e_min) − p + 1) is the format's spacing at x, and
    rint(x/q)·q is exact."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    if fmt == "float64":
        return x.copy()
    p, emin, emax = IEEE[fmt]
    with np.errstate(invalid="ignore", over="ignore"):  # a signalling NaN makes frexp warn
        _, E = np.frexp(x)
        e = np.maximum(E.astype(np.int64) - 1, emin)
        q = np.ldexp(1.0, (e - p + 1).astype(np.int32))
        r = np.rint(x / q) * q
        big = math.ldexp(2.0 - math.ldexp(1.0, 1 - p), emax)
        r = np.where(np.abs(r) > big, np.copysign(np.inf, x), r)
    # NaN comes out as the default NaN, whose payload every format holds (the bfloat16 kernels
    # rely on NaN payloads with zero low bits, see rounding.rne_bf16_kernel)
    return np.where(np.isfinite(x), r, np.where(np.isnan(x), np.nan, x))


def dd_split(value) -> tuple:
    """(hi, lo) double-double of an exact value: hi = fl64(x), lo = fl64(x − hi)."""
    q = to_fraction(value)
    hi = float(q)
    if not math.isfinite(hi):
        return hi, 0.0
    return hi, float(q - Fraction(hi))
