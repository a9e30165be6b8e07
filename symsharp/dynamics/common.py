"""Names every part of the dynamics layer shares: the error class and the regime labels."""
from __future__ import annotations

from ..errors import SymsharpError

REGIMES = ("converged", "catapult", "periodic", "chaotic", "aperiodic", "diverged", "unsettled")
"""Regime labels, indexed by the codes in the ``regime`` arrays of scans:

- ``converged``: the kept orbit is a fixed point (period 1);
- ``catapult``: converged, but the monitored loss rose above its initial value on the way (by more
  than ``rise_tol`` times the larger of |L₀| and the drop L₀ − L_final, so negative losses and
  monotone descents are never called catapults);
- ``periodic``: a cycle of period 2 … ``max_period``;
- ``chaotic``: no period found and a positive largest Lyapunov exponent, in two windows that agree;
- ``aperiodic``: no period found, no positive exponent, and not converging (quasi-periodic, or a
  period above ``max_period``);
- ``diverged``: a state variable exceeded the magnitude threshold, or the orbit is escaping (its
  magnitude grew by more than :data:`ESCAPE_FACTOR` across the kept steps);
- ``unsettled``: no period found and the finite-time statistics did not settle: the orbit was
  still converging, or two successive windows disagreed, even after the run was extended up to
  its cap (``settle``).  Raise the transient (or ``settle``) to decide these points."""

CONVERGED, CATAPULT, PERIODIC, CHAOTIC, APERIODIC, DIVERGED, UNSETTLED = range(len(REGIMES))

REGIME_DESCRIPTIONS = {
    "converged": "fixed point (period 1)",
    "catapult": "converged after the loss first rose",
    "periodic": "cycle of period 2 to max_period",
    "chaotic": "no period, positive largest Lyapunov exponent",
    "aperiodic": "no period, not chaotic, not converging",
    "diverged": "state above the divergence threshold, or escaping",
    "unsettled": "finite-time statistics not settled within the step cap",
}

ESCAPE_FACTOR = 1e2
"""An orbit without a period whose largest state magnitude over the last quarter of the kept steps
exceeds this factor times that over the first quarter is labelled ``diverged`` (escaping), even
before it crosses the divergence threshold."""

CONVERGING_RATIO = 0.5
"""A window whose distance from periodicity is below this fraction of the previous window's is
still converging (not settled)."""


class DynamicsError(SymsharpError):
    """Bad input to an analysis function (one clear sentence, shown to the user)."""
