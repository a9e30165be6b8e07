"""Computer-assisted proofs of periodic orbits: Krawczyk's test in ball arithmetic.

The ball arithmetic is the shared layer :class:`symsharp.codegen.arith.balls.BallMap`
(python-flint Arb; the map and its exact SymPy Jacobian evaluated on balls, parameters enclosed
exactly).  This module only prepares its input: the exact parameter values of the family, and an
approximate periodic point accurate far below the box radius (an mpmath refinement of the orbit).
If K(X) ⊂ interior(X) for the box X = x̃ + [−ρ, ρ]^k, then F^p has exactly one fixed point in X —
a period-p orbit exists there and is unique — and the multipliers are enclosed by the eigenvalues
of the enclosed product of Jacobians along the orbit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...codegen.arith.balls import BallMap
from .family import BifurcationError, MapFamily, exact_value
from .orbits import PeriodicOrbit, refine_orbit


@dataclass
class Certificate:
    """Outcome of :func:`certify_orbit`.

    ``proved``: existence and uniqueness of a fixed point of F^period in ``box`` (per variable
    (lower, upper), rounded outward); ``minimal``: the period is exactly ``period``; ``orbit``:
    enclosures of every point of the cycle; ``multipliers``: enclosures of the eigenvalues of the
    product of Jacobians ((lower, upper) for real ones, ("complex", |μ| lower, |μ| upper) for a
    complex pair); ``stable``: certainly attracting (True), certainly not (False), undecided
    (None); ``param``: the exact parameter value used; ``bits``: the ball precision."""

    proved: bool
    minimal: bool
    period: int
    param: str
    radius: float
    bits: int
    box: list
    orbit: list = field(default_factory=list)
    multipliers: list = field(default_factory=list)
    stable: bool | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {"proved": bool(self.proved), "minimal": bool(self.minimal), "period": int(self.period),
                "param": self.param, "radius": float(self.radius), "bits": int(self.bits),
                "box": [list(b) for b in self.box], "orbit": [[list(b) for b in o] for o in self.orbit],
                "multipliers": [list(m) for m in self.multipliers], "stable": self.stable, "note": self.note,
                "method": "Krawczyk operator in ball arithmetic (symsharp.codegen.arith.balls)"}


_BALLMAPS: dict = {}


def _ballmap(fam: MapFamily, bits: int) -> BallMap:
    key = (id(fam), int(bits))
    bm = _BALLMAPS.get(key)
    if bm is None:
        step = dict(zip(fam.state_symbols, fam.exprs))
        bm = BallMap(step, list(fam.state_symbols), [fam.param_symbol, *fam.fixed_symbols], bits=int(bits),
                     name=f"bif_{fam.name}"[:60])
        _BALLMAPS[key] = bm
    return bm


def certify_orbit(fam: MapFamily, orbit: PeriodicOrbit, param=None, radius: float | None = None,
                  bits: int = 256) -> Certificate:
    """Prove (or fail to prove) that the period-``orbit.period`` orbit exists and is unique in a
    small box around its first point, at the exact parameter value ``param`` (default: the
    orbit's parameter as the decimal it prints as).

    The point is first refined in mpmath to about bits·log10(2) digits; ``radius`` defaults to
    2^(−bits/3)·max(1, |x|).  Failure to prove is not a disproof: try another radius or more bits."""
    if not isinstance(orbit, PeriodicOrbit):
        raise BifurcationError("certify_orbit needs a PeriodicOrbit (from periodic_orbits or refine_orbit)")
    bits = int(bits)
    if bits < 64:
        raise BifurcationError(f"bits must be an integer >= 64, got {bits!r}")
    pex = exact_value(orbit.param if param is None else param, "param")
    digits = int(bits * math.log10(2)) + 5
    ref = refine_orbit(fam, orbit, digits=digits, param=pex)
    bm = _ballmap(fam, bits)
    pvals = [str(pex)] + [str(fam.fixed[s.name]) for s in fam.fixed_symbols]
    p = bm.params(pvals)
    res = bm.krawczyk(ref.points_mp[0], p, ref.period, radius=radius)
    return Certificate(proved=bool(res.proved), minimal=bool(res.minimal), period=int(res.period), param=str(pex),
                       radius=float(res.radius), bits=bits, box=list(res.box), orbit=list(res.orbit),
                       multipliers=list(res.multipliers), stable=res.stable, note=res.note)


def certify_point(fam: MapFamily, x, period: int, param, radius: float | None = None, bits: int = 256) -> Certificate:
    """:func:`certify_orbit` for an approximate periodic point ``x`` given directly."""
    x = np.asarray(x, dtype=np.float64).reshape(fam.k)
    orb = PeriodicOrbit(period=int(period), param=float(exact_value(param, "param")), points=x[None, :],
                        multipliers=np.zeros(fam.k, complex), stable=False, isolated=True, n_neutral=0, residual=0.0)
    return certify_orbit(fam, orb, param=param, radius=radius, bits=bits)
