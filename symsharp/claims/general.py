"""Claims that hold for any model (quadratic-loss stability)."""
from __future__ import annotations

import sympy as sp

from .registry import Outcome, register


@register("ANY-quadratic-stability", "science.md (any model)",
          "GD on a quadratic L = S w²/2 is stable iff 0 < ηS < 2.", ("one parameter, S > 0, η > 0",))
def _check_quadratic():
    from ..models import custom_model
    from ..symbolic.calculus import gd_map
    from ..symbolic.fixedpoints import fixed_points

    m = custom_model(loss="S*w**2/2", params="w")
    step = gd_map(m)
    fps = fixed_points(step, list(m.params))
    if len(fps) != 1:
        return Outcome("open", f"expected one fixed point, got {len(fps)}")
    cond = fps[0].stable_when
    eta, S = sp.Symbol("eta", positive=True), sp.Symbol("S", real=True)
    for k in range(1, 60):
        val = sp.Rational(k, 20)
        got = bool(cond.subs({S: val / eta}))
        if got != (0 < val < 2):
            return Outcome("open", f"stability condition {cond} wrong at ηS = {val}")
    return Outcome("proved", f"fixed point w = 0 of the derived GD map, Jury condition {cond}")
