"""The one base class of every error that reports a user mistake.

Every user-facing error in symsharp derives from :class:`SymsharpError` (itself a ``ValueError``),
so callers — the command line above all — need a single ``except``: the message is one sentence
naming the bad value and what is allowed.  Anything else that escapes is a bug.
"""
from __future__ import annotations


class SymsharpError(ValueError):
    """A user mistake or an impossible request, described in one sentence."""


class UsageError(SymsharpError):
    """A bad command-line value (printed as one line, exit status 2)."""


class ModelError(SymsharpError):
    """A model was asked for with invalid options (one clear sentence, shown to the user)."""
