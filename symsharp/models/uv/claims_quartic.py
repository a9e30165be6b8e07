"""The quartic double well is the UV model's edge of stability in disguise.

GD on L(w) = (w² − 1)²/4 is w ↦ w(1 + η − ηw²).  With z = ηw² it becomes z ↦ z(c − z)², c = 1 + η:
exactly the normal form the engine derives for the UV map on its EoS manifold (c = 1 + η/η_c).
So the quartic's whole route to chaos is the UV one with η/η_c read as η — checked here exactly
(the identity) and numerically (the general bifurcation engine on the custom model's derived GD
map against the UV route to chaos)."""
from __future__ import annotations

import functools

import sympy as sp

from ...claims.registry import Outcome, register
from ...claims.stated import F, checked, compare

QUARTIC = "(w**2 - 1)**2/4"


@functools.lru_cache(maxsize=None)
def quartic_route():
    """The general engine on the custom quartic's GD map over η ∈ [0.5, 2.5] (as the command
    ``symsharp bifurcation custom --loss '(w**2 - 1)**2/4' --init w=0.9 --eta 0.5:2.5:2``)."""
    from ...analysis.bifurcation import bifurcation_analysis
    from ..generic import model_family
    from ..registry import get_model

    fam, x0, _ = model_family(get_model("custom"), {"loss": QUARTIC, "init": ["w=0.9"]}, param="eta", at=0.5)
    return bifurcation_analysis(fam, x0, 0.5, 2.5, flips=8, max_period=6, grid=6000, digits=20)


@register("UV-quartic-conjugacy", "derived (symsharp)",
          "GD on the quartic loss `(w**2 - 1)**2/4` is semi-conjugate to the UV EoS normal form: with z = `eta*w**2` "
          "its map becomes z' = `z*(c - z)**2` with c = `1 + eta`. Hence its flips, chaos onset, periodic windows and "
          "crisis sit at the UV values of η/η_c (period-3 windows of z appear as period-3 or period-6 windows of w).",
          ("quartic: custom model, derived GD map", "UV: the derived normal form of the map on the EoS manifold"))
def _check_quartic():
    from ..expression import custom_model
    from ...symbolic.calculus import gd_map
    from .eos import C, Z, uv_route_derivation
    from .route import route_to_chaos

    m = custom_model(loss=QUARTIC)
    (w,) = m.params
    eta = m.eta
    step = gd_map(m)[w]
    zsym, csym = sp.Symbol("z", real=True), sp.Symbol("c", positive=True)
    G = uv_route_derivation().normal_form.xreplace({Z: zsym, C: csym})
    bad = compare("UV-quartic-conjugacy", [F(m.loss), F(eta * w ** 2), F(G), F(1 + eta)],
                  {"w": w, "eta": eta, "z": zsym, "c": csym})
    if bad is not None:
        return bad
    # the identity: z(F(w)) = G(z(w)) with c = 1 + η, for every w and η
    lhs = eta * step ** 2
    rhs = G.xreplace({zsym: eta * w ** 2, csym: 1 + eta})
    if sp.expand(lhs - rhs) != 0:
        return Outcome("refuted", "η F(w)² ≠ G(η w²) with c = 1 + η",
                       counterexample={"w": "1/2", "eta": "1", "difference": str(sp.expand(lhs - rhs).subs({w: sp.Rational(1, 2), eta: 1}))})
    # numbers: the engine on the quartic against the UV route (η_c units)
    res = quartic_route().contract()
    uv = route_to_chaos(flips=8, dps=30)
    ec = uv["eta_c"]
    flips_uv = [e / ec for e in uv["period_doubling"][:8]]
    if len(res["flips"]) < 8:
        return Outcome("open", f"the engine found {len(res['flips'])} flips of the quartic, expected 8")
    err = max(abs(a - b) / b for a, b in zip(res["flips"], flips_uv))
    opens = sorted(w_["opens"] for w_ in res["windows"])
    uv3 = [w_ / ec for w_ in uv.get("period3_windows", [uv["period3_window"]])]
    win_err = max(min(abs(o - u) / u for o in opens) for u in uv3)
    onset_err = abs(res["chaos_onset"] - uv["chaos_onset"] / ec) / (uv["chaos_onset"] / ec)
    if err > 1e-10 or win_err > 1e-10 or onset_err > 1e-9:
        return Outcome("open", f"quartic vs UV/η_c: flips {err:.1e}, windows {win_err:.1e}, onset {onset_err:.1e}")
    return Outcome("proved", f"{checked('UV-quartic-conjugacy')}; exact identity ηF(w)² = G(ηw²), c = 1 + η (SymPy "
                             f"expansion); numerically the engine's "
                             f"8 flips agree with the UV flips/η_c to {err:.0e}, its windows with the {len(uv3)} UV "
                             f"period-3 windows to {win_err:.0e}, the onset to {onset_err:.0e}")
