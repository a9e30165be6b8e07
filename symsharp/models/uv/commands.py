"""Command-line verbs of the UV model's own: ``symsharp route-to-chaos uv``."""
from __future__ import annotations

import json


def route_command(args) -> int:
    from .route import route_to_chaos

    kw = {k: getattr(args, k) for k in ("width", "x_norm", "y", "alpha", "flips", "dps") if getattr(args, k) is not None}
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
    print(f"  bounded orbits lost {res['bounded_orbits_lost']:.12g}")
    return 0
