"""Names shared by the code generator and the numeric side, without importing SymPy (so that
loading a cached kernel stays fast)."""
from __future__ import annotations

from ..errors import SymsharpError

GENERATOR_VERSION = 8
"""Bump when generated modules change meaning (also keyed by the generator's source hash)."""

DTYPES = ("float64", "float32")


class CodegenError(SymsharpError):
    """An expression cannot be turned into a kernel (one clear sentence, shown to the user)."""


def nonneg_int(value, what) -> int:
    """``value`` as an int when it is a whole number >= 0, else a one-line :class:`CodegenError`."""
    from ..validate import whole_number

    return whole_number(value, what, 0, error=CodegenError)
