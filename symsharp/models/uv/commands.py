"""Command-line verbs of the UV model's own: ``symsharp route-to-chaos uv``."""
from __future__ import annotations

import json


def route_command(args) -> int:
    from .route import route_to_chaos

    kw = {k: getattr(args, k) for k in ("width", "x_norm", "y", "alpha", "flips", "dps") if getattr(args, k, None) is not None}
    res = route_to_chaos(**kw)
    if args.json:
        print(json.dumps(res, default=str))
        return 0
    print(f"UV route to chaos ({', '.join(f'{k}={v:g}' for k, v in res['config'].items() if isinstance(v, (int, float)))})")
    print(f"  eta_c               {res['eta_c']:.12g}   ({res['eta_c_formula']})")
    tc = res["eos_two_cycle"]
    print(f"  EoS 2-cycle stable  {tc['stable_from']:.12g} .. {tc['stable_to']:.12g}")
    for i, e in enumerate(res["period_doubling"], 1):
        print(f"  flip {i:<2}             {e:.12g}")
    print(f"  chaos onset         {res['chaos_onset']:.12g}")
    print(f"  Feigenbaum delta    {res['feigenbaum_delta']:.10g}")
    print(f"  period-3 window     {res['period3_window']:.12g}")
    print(f"  period-3 windows    {', '.join(f'{e:.12g}' for e in res['period3_windows'])}")
    print(f"  bounded orbits lost {res['bounded_orbits_lost']:.12g}")
    g = res.get("general")
    if g is not None:
        cmp = g["agreement_with_eos_map"]
        crisis = f"crisis {g['crisis']:.12g}" if g.get("crisis") is not None else "no crisis found"
        cr_d = f"crisis {cmp['crisis']['digits']:.1f}, " if "crisis" in cmp else ""
        rest = [v["digits"] for v in cmp["flips"] + cmp["period3_windows"]]
        print(f"  general engine (2-D map of (f, lam)): {len(g['flips'])} flips, "
              f"{sum(1 for w in g['windows'] if w['period'] == 3)} period-3 windows, {crisis}; agrees with the EoS map "
              f"to >= {cmp['min_digits']:.1f} digits ({cr_d}flips and windows >= {min(rest) if rest else float('nan'):.1f})")
    return 0
