"""Claim registry: each claim has an id, a source, a statement, assumptions and a checker.

A checker returns a :class:`Outcome` whose status is one of

- ``proved``: exact symbolic proof under the stated assumptions,
- ``numerical``: no counterexample in a stated randomised (Hypothesis) search,
- ``refuted``: a concrete counterexample (every symbol of the statement mapped to numbers),
- ``open``: none of the above.
"""
from __future__ import annotations

from ..errors import SymsharpError

import time
from dataclasses import dataclass, field
from typing import Callable

STATUSES = ("proved", "numerical", "refuted", "open")


class ClaimError(SymsharpError):
    """Unknown claim id or a checker that broke its contract."""


@dataclass
class Outcome:
    status: str
    method: str
    counterexample: dict | None = None
    details: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ClaimError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.status == "refuted" and not self.counterexample:
            raise ClaimError("a refuted claim must carry a counterexample")


@dataclass
class Claim:
    id: str
    source: str          # "Yoo, Song, Yun 2025 (summary)", "derived", ...
    statement: str
    assumptions: tuple
    checker: Callable[[], Outcome]
    corrects: str | None = None  # id of the claim this one corrects


@dataclass
class Result:
    claim: Claim
    outcome: Outcome
    seconds: float

    def as_dict(self) -> dict:
        return {"id": self.claim.id, "source": self.claim.source, "statement": self.claim.statement,
                "assumptions": list(self.claim.assumptions), "status": self.outcome.status,
                "method": self.outcome.method, "seconds": round(self.seconds, 3),
                "counterexample": self.outcome.counterexample, "details": self.outcome.details,
                "corrects": self.claim.corrects}


_REGISTRY: dict[str, Claim] = {}


def register(id: str, source: str, statement: str, assumptions=(), corrects: str | None = None):
    """Decorator: register ``checker`` under ``id``."""

    def deco(fn):
        if id in _REGISTRY:
            raise ClaimError(f"claim id {id!r} registered twice")
        _REGISTRY[id] = Claim(id, source, statement, tuple(assumptions), fn, corrects)
        return fn

    return deco


_LOADERS: list = []


def add_loader(fn: Callable[[], None]) -> None:
    """Register a function that imports claim modules (called before claims are listed)."""
    if fn not in _LOADERS:
        _LOADERS.append(fn)


def _load_all():
    for fn in list(_LOADERS):
        fn()


def all_claims() -> list[Claim]:
    _load_all()
    return list(_REGISTRY.values())


def get_claim(cid: str) -> Claim:
    _load_all()
    if cid not in _REGISTRY:
        raise ClaimError(f"unknown claim id {cid!r}; known ids: {', '.join(_REGISTRY)}")
    return _REGISTRY[cid]


def verify(only=None, progress: Callable[[Result], None] | None = None) -> list[Result]:
    """Run the checkers (all, or the ids in ``only``) and time each one."""
    claims = [get_claim(c) for c in only] if only else all_claims()
    results = []
    for c in claims:
        t0 = time.perf_counter()
        out = c.checker()
        r = Result(c, out, time.perf_counter() - t0)
        results.append(r)
        if progress:
            progress(r)
    return results
