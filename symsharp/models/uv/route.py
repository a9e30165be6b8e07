"""The UV model's route to chaos in numbers: period-doubling cascade, Feigenbaum ratios, onset of
chaos, period-3 windows, boundary crisis, divergence boundary, phase diagram, Lyapunov curves.

Two independent computations of the same route:

- the EoS map: the exact part (EoS manifold, the cubic map on it, period-2 orbits, crisis,
  separatrix) comes from :mod:`.eos`; it is derived once and lambdified into mpmath (Newton at
  high precision on the 1-D normal form) or compiled into kernels (scans).  Parameters of the 1-D
  map: c = 1 + η/η_c; its state z = (η/η_c)·f/y; on the manifold ηλ = 2z.
- the general machinery: :func:`symsharp.analysis.bifurcation.bifurcation_analysis` on the 2-D GD
  map of (f, λ) that the engine derived (:func:`general_route`) — continuation, branch switching
  at every flip, saddle-node windows, the boundary crisis — with no use of the manifold.

:func:`route_to_chaos` reports both and how many digits they share.

Default configuration (the one of ``symsharp run|orbit|phase|lyapunov uv``: width n = 100,
‖x‖ = 1, y = 1, α = 1): a = α²‖x‖²/n = 1/100, η_c = 10.
"""
from __future__ import annotations

from ...errors import SymsharpError

import functools
import math
import time

import mpmath as mp
import numpy as np

MAX_FLIPS = 14
"""Flips beyond the 14th are closer than ~1e-14 in η/η_c: past double precision and the ≈ 1e-12
uncertainty of the onset, and each costs δ ≈ 4.67 times more iterations."""
MAX_DPS = 200
"""mpmath working precision cap (decimal digits): the cascade at 200 digits already takes minutes."""

DEFAULT_CONFIG = {"width": 100, "x_norm": 1.0, "y": 1.0, "alpha": 1.0}


class RouteError(SymsharpError):
    """Bad input to the route analysis (one clear sentence)."""


# ------------------------------------------------------------------------------------- setup
@functools.lru_cache(maxsize=None)
def _exact():
    """Symbolic results, derived once, turned into callables and numbers."""
    import sympy as sp

    from . import eos as up

    r = up.uv_route_derivation()
    g = up.normal_form_functions("mpmath")
    crit = [sp.lambdify(up.C, e, "mpmath") for e in r.critical]
    cv = [sp.lambdify(up.C, e, "mpmath") for e in r.critical_values]
    imax = max(range(len(cv)), key=lambda i: cv[i](2))
    n, xn, al, y = sp.symbols("n x_norm alpha y", positive=True)
    frm = r.eta_c_formula
    syms = {s.name: s for s in frm.free_symbols}
    eta_c_fn = sp.lambdify([syms.get(nm, sp.Symbol(nm)) for nm in ("n", "x_norm", "y", "alpha")], frm, "mpmath")
    p2 = r.period_two[0]
    window = p2.stable
    window_ends = (window.inf, window.sup) if hasattr(window, "inf") else (None, None)
    p2b = r.period_two[1] if len(r.period_two) > 1 else None
    second = (p2b.stable.inf, p2b.stable.sup) if p2b is not None and hasattr(p2b.stable, "inf") else (None, None)
    fixed_c = [fp for fp in r.fixed if fp[2] != sp.EmptySet]
    conv = up.conversions()
    crit_np = sp.lambdify(up.C, r.critical[imax], "numpy")
    return {"route": r, "g": g, "crit_z": crit[imax], "crit_z_np": crit_np, "crit_value": cv[imax], "eta_c_fn": eta_c_fn,
            "eta_c_formula": frm, "crisis_c": r.crisis_c, "two_cycle": window_ends, "two_cycle_b": second,
            "fixed_stable": fixed_c[0][2] if fixed_c else None, "conv": conv,
            "trans": sp.lambdify((up.Z, up.C), r.transverse, "mpmath"),
            "sep_f0": r.separatrix.get("f0_zero_boundary"), "K": up.K, "C": up.C, "Z": up.Z}


def _mpf(e, dps):
    import sympy as sp

    return mp.mpf(str(sp.N(e, dps + 5)))


def eos_kernel():
    """Compiled kernel of the EoS normal form z ↦ G(z; c) (state z, parameter c), with
    observables ``eta_ntk`` (ηλ = 2z), ``eta_sharpness`` (ηS on the manifold) and ``transverse``
    (the per-step factor I'/I, whose log-average is the transverse Lyapunov exponent ×2)."""
    from ...codegen import cached_map

    def build():
        from . import eos as up

        r = up.uv_route_derivation()
        conv = up.conversions()
        return dict(step={up.Z: r.normal_form}, state=[up.Z], params=[up.C],
                    observables={"eta_ntk": conv["L_of_z"], "eta_sharpness": conv["sharpness_z"],
                                 "transverse": r.transverse},
                    name="uv_eos_normal_form", monitor=None)

    return cached_map("uv_eos_normal_form(v1)", build)


def _a_of(config):
    n, xn, al = config["width"], config["x_norm"], config["alpha"]
    return al ** 2 * xn ** 2 / n


def _check_config(width, x_norm, y, alpha):
    from ...validate import whole_number

    w = whole_number(width, "width", 1, error=RouteError)
    for name, v in (("x_norm", x_norm), ("alpha", alpha)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise RouteError(f"{name} must be a positive finite number, got {v!r}")
    if not (isinstance(y, (int, float)) and math.isfinite(y) and y != 0):
        raise RouteError(f"y must be a nonzero finite number (η_c is infinite for y = 0), got {y!r}")
    return {"width": w, "x_norm": float(x_norm), "y": float(y), "alpha": float(alpha)}


def eta_c_of(config, dps: int = 30):
    """η_c of a configuration, from the derived formula, in mpmath."""
    ex = _exact()
    with mp.workdps(dps):
        return ex["eta_c_fn"](mp.mpf(config["width"]), mp.mpf(config["x_norm"]), mp.mpf(config["y"]),
                              mp.mpf(config["alpha"]))


# ------------------------------------------------------------------------------ Newton machinery
def _orbit_derivs(z, c, p):
    """G^p at (z, c) with ∂z, ∂c, ∂zz, ∂zc of the p-fold composition (forward mode)."""
    g, gz, gc, gzz, gzc = _exact()["g"]
    A, B, Czz, D = mp.mpf(1), mp.mpf(0), mp.mpf(0), mp.mpf(0)
    for _ in range(p):
        v, vz, vc, vzz, vzc = g(z, c), gz(z, c), gc(z, c), gzz(z, c), gzc(z, c)
        Czz, D, A, B = vzz * A * A + vz * Czz, vzz * A * B + vzc * A + vz * D, vz * A, vz * B + vc
        z = v
    return z, A, B, Czz, D


def cycle_bifurcation(p: int, z0, c0, multiplier: int = -1, dps: int = 30, maxit: int = 80):
    """Newton on {G^p(z) = z, (G^p)'(z) = multiplier} in (z, c): multiplier −1 gives a flip
    (period doubling p → 2p), +1 a saddle-node.  Returns (z, c) as mpf."""
    with mp.workdps(dps + 10):
        z, c = mp.mpf(z0), mp.mpf(c0)
        tol = mp.mpf(10) ** (-(dps + 5))
        for _ in range(maxit):
            zp, A, B, Czz, D = _orbit_derivs(z, c, p)
            F1, F2 = zp - z, A - multiplier
            J11, J12, J21, J22 = A - 1, B, Czz, D
            det = J11 * J22 - J12 * J21
            if det == 0:
                break
            dz = (J22 * F1 - J12 * F2) / det
            dc = (-J21 * F1 + J11 * F2) / det
            z, c = z - dz, c - dc
            if abs(dz) + abs(dc) < tol:
                return +z, +c
    raise RouteError(f"Newton for the period-{p} bifurcation did not converge from c = {mp.nstr(c0, 12)}")


def superstable(p: int, c0, dps: int = 30, maxit: int = 80):
    """Parameter c where the critical point (the local maximum of G) has period p (Newton in c)."""
    ex = _exact()
    g, gz, gc = ex["g"][:3]
    cz = ex["crit_z"]
    with mp.workdps(dps + 10):
        c = mp.mpf(c0)
        h = mp.mpf(10) ** (-(dps // 2))
        tol = mp.mpf(10) ** (-(dps + 5))
        for _ in range(maxit):
            z0 = cz(c)
            dz0 = (cz(c + h) - cz(c - h)) / (2 * h)     # z0(c) is linear in c; exact up to rounding
            z, A, B = z0, mp.mpf(1), dz0
            for _ in range(p):
                vz, vc = gz(z, c), gc(z, c)
                z, A, B = g(z, c), vz * A, vz * B + vc
            F, dF = z - z0, B - dz0
            dc = F / dF
            c -= dc
            if abs(dc) < tol:
                return +c
    raise RouteError(f"Newton for the superstable period-{p} parameter did not converge")


def cascade(flips: int = 10, dps: int = 30) -> dict:
    """Flip parameters c_1 < c_2 < … (period 2^{j−1} → 2^j) and superstable parameters
    C_0 < C_1 < … interleaved with them, each found by Newton continued from the previous
    ones (geometric extrapolation of the interleaved sequence gives the next starting guess).
    Returns c values as mpf, the Feigenbaum ratio estimates δ_j and the accumulation point."""
    if int(flips) != flips or flips < 3:
        raise RouteError(f"flips must be an integer >= 3, got {flips!r}")
    ex = _exact()
    cz = ex["crit_z"]
    with mp.workdps(dps + 10):
        # C_0: superstable fixed point, started between 1 and the first flip
        start = (1 + _mpf(_exact()["two_cycle"][0], dps)) / 2
        Cs = [superstable(1, start, dps)]
        seq = [Cs[0]]
        fl = []
        z, c = cycle_bifurcation(1, cz(Cs[0]), Cs[0] + (Cs[0] - 1) / 2, -1, dps)
        fl.append(c)
        seq.append(c)
        for j in range(1, flips):
            p = 2 ** j
            gap = seq[-1] - seq[-2]
            ratio = (gap / (seq[-2] - seq[-3])) if len(seq) >= 3 else mp.mpf("0.5")
            Cg = seq[-1] + gap * ratio
            Cj = superstable(p, Cg, dps)
            Cs.append(Cj)
            seq.append(Cj)
            gap = seq[-1] - seq[-2]
            ratio = gap / (seq[-2] - seq[-3])
            fg = seq[-1] + gap * ratio
            z, c = cycle_bifurcation(p, cz(Cj), fg, -1, dps)
            if not (Cj < c):
                raise RouteError(f"flip of period {p} found at c = {mp.nstr(c, 15)}, not above C_{j}")
            fl.append(c)
            seq.append(c)
        deltas = [(fl[j] - fl[j - 1]) / (fl[j + 1] - fl[j]) for j in range(1, len(fl) - 1)]
        deltas_s = [(Cs[j] - Cs[j - 1]) / (Cs[j + 1] - Cs[j]) for j in range(1, len(Cs) - 1)]
        d = deltas[-1]
        c_inf = fl[-1] + (fl[-1] - fl[-2]) / (d - 1)
        c_inf_s = Cs[-1] + (Cs[-1] - Cs[-2]) / (deltas_s[-1] - 1)
    return {"c_flips": fl, "c_superstable": Cs, "deltas": deltas, "deltas_superstable": deltas_s,
            "c_inf": c_inf, "c_inf_superstable": c_inf_s, "c_inf_uncertainty": abs(c_inf - c_inf_s)}


def crisis(dps: int = 30, steps: int = 200) -> dict:
    """Boundary crisis: the derived exact c, and an independent mpmath bisection on whether the
    critical orbit leaves the interval bounded by the outer fixed point within ``steps`` steps."""
    ex = _exact()
    g = ex["g"][0]
    cz = ex["crit_z"]
    c_exact = ex["crisis_c"]
    out_fp = ex["route"].fixed[-1][0]
    import sympy as sp

    zout = sp.lambdify(ex["C"], out_fp, "mpmath")

    def escapes(c):
        z = cz(c)
        for _ in range(steps):
            z = g(z, c)
            if z > zout(c) or z < 0:
                return True
        return False

    with mp.workdps(dps + 10):
        lo, hi = _mpf(ex["two_cycle"][1], dps) + mp.mpf("0.1"), 2 * _mpf(c_exact, dps)
        if escapes(lo) or not escapes(hi):
            raise RouteError("the critical orbit does not bracket an escape above the 2-cycle window")
        for _ in range(int(dps * 3.4) + 5):
            mid = (lo + hi) / 2
            if escapes(mid):
                hi = mid
            else:
                lo = mid
    return {"c_exact": c_exact, "c_bisection": (lo + hi) / 2, "bracket": (lo, hi)}


def period3_windows(c_lo, c_hi=None, dps: int = 30, grid: int = 20001) -> list:
    """Every period-3 window of the EoS map between ``c_lo`` and ``c_hi`` (default: the crisis)
    seen on a ``grid``-point scan: c-values where an attracting period-3 orbit of the critical
    point appears after a point without period 3 (compiled EoS kernel, float64), each followed by
    Newton on {G³(z) = z, (G³)'(z) = 1} (mpmath, ``dps`` digits) to the saddle-node that opens it.
    Returns [{"c", "z", "scan_first_c", "scan_step"}] sorted by c (c, z as mpf)."""
    ex = _exact()
    c_hi = float(ex["crisis_c"]) if c_hi is None else float(c_hi)
    from ...dynamics import orbit_diagram

    ker = eos_kernel()
    cs = np.linspace(float(c_lo), c_hi, grid)[1:-1]
    z0 = np.broadcast_to(np.asarray(ex["crit_z_np"](cs), dtype=np.float64), cs.shape)
    od = orbit_diagram(ker, z0[:, None], cs[:, None], transient=3000, keep=48, max_period=8,
                       lyapunov_steps=0, tol=1e-7)
    per = np.asarray(od.period)
    starts = [i for i in range(len(cs)) if per[i] == 3 and (i == 0 or per[i - 1] != 3)]
    if not starts:
        raise RouteError("no attracting period-3 orbit found between the chaos onset and the crisis")
    out = []
    for i in starts:
        z, c = cycle_bifurcation(3, od.final_state[i, 0], cs[i], +1, dps)
        if not (float(c_lo) < c <= cs[i] + 1e-9):
            raise RouteError(f"Newton for the period-3 saddle-node went to c = {mp.nstr(c, 12)}, not in "
                             f"({float(c_lo):.10g}, {cs[i]:.10g}] where the 3-cycle was seen")
        if all(abs(c - o["c"]) > mp.mpf(10) ** (-(dps - 5)) for o in out):
            out.append({"c": c, "z": z, "scan_first_c": float(cs[i]), "scan_step": float(cs[1] - cs[0])})
    return sorted(out, key=lambda w: w["c"])


def period3_opening(c_lo, c_hi=None, dps: int = 30, grid: int = 20001) -> dict:
    """The first period-3 window above ``c_lo`` (see :func:`period3_windows`)."""
    return period3_windows(c_lo, c_hi, dps, grid)[0]


# --------------------------------------------------------------------------------- EoS-map numbers
@functools.lru_cache(maxsize=None)
def eos_route_numbers(flips: int = 10, dps: int = 30) -> dict:
    """The configuration-free numbers of the EoS map, in c = 1 + η/η_c (mpmath, ``dps`` digits):
    {"cascade", "crisis", "period3"} from :func:`cascade`, :func:`crisis`, :func:`period3_windows`."""
    cas = cascade(flips, dps)
    cr = crisis(dps)
    p3 = period3_windows(cas["c_inf"], cr["c_exact"], dps)
    return {"cascade": cas, "crisis": cr, "period3": p3}


# --------------------------------------------------------------------------------- general machinery
def general_x0(config) -> np.ndarray:
    """Initial state of the general analysis: f = 1.001·y and λ just above the EoS manifold
    (λ = 2√a|f| + 5·10⁻⁴·2√a|y|), so the attractor reached is the EoS one."""
    a, y = _a_of(config), config["y"]
    f0 = 1.001 * y
    return np.array([f0, 2 * math.sqrt(a) * abs(f0) + 5e-4 * 2 * math.sqrt(a) * abs(y)])


@functools.lru_cache(maxsize=None)
def _family(a: float, y: float):
    from ...analysis.bifurcation import map_family

    r = _exact()["route"]
    f, lam = r.reduced.variables
    return map_family(r.reduced.step, [f, lam], [r.eta, r.a, r.y], {"a": a, "y": y}, "eta", name="uv_fs")


@functools.lru_cache(maxsize=None)
def _general(width, x_norm, y, alpha, flips, digits, max_period, grid):
    from ...analysis.bifurcation import bifurcation_analysis

    cfg = {"width": width, "x_norm": x_norm, "y": y, "alpha": alpha}
    ec = float(eta_c_of(cfg))
    fam = _family(_a_of(cfg), y)
    return bifurcation_analysis(fam, general_x0(cfg), 0.95 * ec, 2.05 * ec, start=1.1 * ec, flips=flips,
                                max_period=max_period, grid=grid, digits=digits)


def general_route(config=None, flips: int = 10, digits: int = 20, max_period: int = 3, grid: int = 20000):
    """The route to chaos of the 2-D GD map of (f, λ) by the general bifurcation engine
    (:func:`symsharp.analysis.bifurcation.bifurcation_analysis` on the map the engine derived,
    parameter η, a and y fixed by ``config``), on η ∈ [0.95, 2.05]·η_c from :func:`general_x0`:
    the cascade (``flips`` flips), every window of period ≤ ``max_period`` above the chaos onset
    seen on a ``grid``-point scan, and the boundary crisis; every point refined to ``digits``
    digits.  Returns the :class:`~symsharp.analysis.bifurcation.BifurcationResult` (cached)."""
    cfg = _check_config(**dict(DEFAULT_CONFIG if config is None else config))
    return _general(cfg["width"], cfg["x_norm"], cfg["y"], cfg["alpha"], int(flips), int(digits), int(max_period),
                    int(grid))


def agreement_digits(a, b, cap: int) -> float:
    """Number of significant digits two values share: −log₁₀(|a − b|/|b|), at most ``cap``."""
    with mp.workdps(cap + 20):
        a, b = mp.mpf(a), mp.mpf(b)
        if a == b:
            return float(cap)
        return float(min(cap, -mp.log10(abs(a - b) / abs(b))))


def compare_general(res, ec, eos: dict, digits: int) -> dict:
    """Where the general result ``res`` and the EoS-map numbers ``eos`` (:func:`eos_route_numbers`)
    agree, in η (η = (c − 1)·η_c, ``ec`` an mpf): per quantity the two values and the digits shared."""
    import sympy as sp

    ex = _exact()
    cas = res.cascade

    def eta(c):
        return (mp.mpf(c) - 1) * ec

    def mpv(b):
        return mp.mpf(b.param_mp) if b.param_mp is not None else mp.mpf(b.param)

    out = {}
    gfl = [mpv(b) for b in cas.flips]
    efl = [eta(c) for c in eos["cascade"]["c_flips"]]
    n = min(len(gfl), len(efl))
    out["flips"] = [{"general": mp.nstr(g, digits), "eos_map": mp.nstr(e, digits), "digits": agreement_digits(g, e, digits)}
                    for g, e in zip(gfl[:n], efl[:n])]
    gd = [mp.mpf(d) for d in cas.deltas_mp]
    ed = eos["cascade"]["deltas"]
    out["feigenbaum_deltas"] = [{"general": mp.nstr(g, 15), "eos_map": mp.nstr(e, 15), "digits": agreement_digits(g, e, digits)}
                                for g, e in zip(gd, ed)]
    if cas.onset_mp is not None:
        g, e = mp.mpf(cas.onset_mp), eta(eos["cascade"]["c_inf"])
        out["chaos_onset"] = {"general": mp.nstr(g, digits), "eos_map": mp.nstr(e, digits),
                              "digits": agreement_digits(g, e, digits)}
    wins = res.windows.windows if res.windows is not None else []
    g3 = [mpv(w.fold) for w in wins if w.period == 3]
    e3 = [eta(w["c"]) for w in eos["period3"]]
    out["period3_windows"] = [{"general": mp.nstr(g, digits), "eos_map": mp.nstr(e, digits),
                               "eta_over_eta_c": float(e / ec), "digits": agreement_digits(g, e, digits)}
                              for g, e in zip(g3, e3)] if len(g3) == len(e3) else []
    out["period3_count"] = {"general": len(g3), "eos_map": len(e3)}
    b0 = ex["two_cycle_b"][0]
    if b0 is not None:
        e2 = eta(_mpf(b0, digits + 10))
        g2 = [mpv(w.fold) for w in wins if w.period == 2]
        if g2:
            g = min(g2, key=lambda v: abs(v - e2))
            out["second_two_cycle_window"] = {"general": mp.nstr(g, digits), "eos_map": mp.nstr(e2, digits),
                                              "exact": str(b0), "exact_latex": sp.latex(b0),
                                              "digits": agreement_digits(g, e2, digits)}
    if res.crisis is not None:
        e = eta(_mpf(eos["crisis"]["c_exact"], digits + 10))
        g = mp.mpf(res.crisis.param_mp) if res.crisis.param_mp is not None else mp.mpf(res.crisis.param)
        out["crisis"] = {"general": mp.nstr(g, digits), "eos_map": mp.nstr(e, digits),
                         "exact": str(eos["crisis"]["c_exact"]), "exact_latex": sp.latex(eos["crisis"]["c_exact"]),
                         "digits": agreement_digits(g, e, digits),
                         "method": res.crisis.method}
    keys = [v["digits"] for v in out["flips"]] + [v["digits"] for v in out["feigenbaum_deltas"]] \
        + [v["digits"] for v in out["period3_windows"]] \
        + [out[k]["digits"] for k in ("chaos_onset", "second_two_cycle_window", "crisis") if k in out]
    out["min_digits"] = min(keys) if keys else None
    return out


# --------------------------------------------------------------------------------- main entry
def route_to_chaos(width: int = DEFAULT_CONFIG["width"], x_norm: float = DEFAULT_CONFIG["x_norm"],
                   y: float = DEFAULT_CONFIG["y"], alpha: float = DEFAULT_CONFIG["alpha"],
                   flips: int = 10, dps: int = 30, general: bool = True, digits: int = 20) -> dict:
    """The UV route to chaos for one configuration, all learning rates in absolute units.

    Defaults: width n = 100 (as the dynamics commands), ‖x‖ = 1, y = 1, α = 1, so a = 1/100
    and η_c = 10.  Learning rates scale as η = (c − 1)·η_c with c the parameter of the EoS normal
    form z ↦ z(c − z)²; k = (η/η_c)².  Keys:

    - ``eta_c`` (float) and ``eta_c_formula`` (SymPy string in n, x_norm, y, alpha);
    - ``period_doubling``: flips η_1 < η_2 < … (period 2^{j−1} → 2^j); η_1 = η_c;
    - ``superstable``: η where the 2^j-cycle contains the critical point;
    - ``chaos_onset``: accumulation point (geometric extrapolation with the last δ estimate)
      and ``chaos_onset_uncertainty``;
    - ``feigenbaum_delta`` (last estimate) and ``feigenbaum_deltas`` (all);
    - ``period3_window``: η where the first period-3 orbits are born (saddle-node), and
      ``period3_windows``: every period-3 window between the chaos onset and the crisis;
    - ``bounded_orbits_lost``: the boundary crisis (critical orbit reaches the outer fixed point;
      beyond it almost every orbit diverges);
    - ``eos_two_cycle``: {"stable_from", "stable_to"} and exact forms in c; ``second_two_cycle_window``;
    - ``divergence_boundary_f0_zero``: the derived separatrix at f₀ = 0 (string, in η/η_c) and
      the line in absolute units;
    - ``general`` (when ``general``): the same route from the general bifurcation engine on the
      2-D map of (f, λ) (:func:`general_route`, ``digits`` digits) with, per quantity, the digits
      it shares with the EoS-map numbers;
    - ``k``: the same points as k = (η/η_c)²; ``c``: as c; ``map_1d``; ``config``; ``seconds``.
    All η values are floats rounded from mpmath numbers computed with ``dps`` digits."""
    t0 = time.perf_counter()
    cfg = _check_config(width, x_norm, y, alpha)
    if int(dps) != dps or not 20 <= dps <= MAX_DPS:
        raise RouteError(f"dps must be an integer from 20 to {MAX_DPS}, got {dps!r}")
    if int(flips) != flips or not 3 <= flips <= MAX_FLIPS:
        raise RouteError(f"flips must be an integer from 3 to {MAX_FLIPS}, got {flips!r}")
    if int(digits) != digits or not 10 <= digits <= 40:
        raise RouteError(f"digits must be an integer from 10 to 40, got {digits!r}")
    ex = _exact()
    import sympy as sp

    num = eos_route_numbers(int(flips), int(dps))
    with mp.workdps(dps):
        ec = eta_c_of(cfg, dps)

        def eta(c):
            return (mp.mpf(c) - 1) * ec

        cas, cr, p3s = num["cascade"], num["crisis"], num["period3"]
        p3 = p3s[0]
        w0, w1 = ex["two_cycle"]
        b0, b1 = ex["two_cycle_b"]
        fl = cas["c_flips"]
        sep = ex["route"].separatrix
        s_sym = sp.Symbol("(eta/eta_c)")
        res = {
            "config": dict(cfg, a=_a_of(cfg)),
            "eta_c": float(ec),
            "eta_c_formula": str(ex["eta_c_formula"]),
            "map_1d": {"G(z)": str(ex["route"].normal_form), "z": "(eta/eta_c) * f / y",
                       "c": "1 + eta/eta_c", "eta_lambda_on_manifold": "2*z",
                       "map_in_f_over_y": str(ex["route"].map_1d), "s": "eta/eta_c"},
            "period_doubling": [float(eta(c)) for c in fl],
            "superstable": [float(eta(c)) for c in cas["c_superstable"]],
            "chaos_onset": float(eta(cas["c_inf"])),
            "chaos_onset_uncertainty": float(cas["c_inf_uncertainty"] * ec),
            "feigenbaum_delta": float(cas["deltas"][-1]),
            "feigenbaum_deltas": [float(d) for d in cas["deltas"]],
            "feigenbaum_deltas_superstable": [float(d) for d in cas["deltas_superstable"]],
            "period3_window": float(eta(p3["c"])),
            "period3_windows": [float(eta(w["c"])) for w in p3s],
            "bounded_orbits_lost": float(eta(_mpf(cr["c_exact"], dps))),
            "eos_two_cycle": {"stable_from": float(eta(_mpf(w0, dps))), "stable_to": float(eta(_mpf(w1, dps))),
                              "c_interval": [str(w0), str(w1)],
                              "eta_lambda_geometric_mean": "2 (exact: product of the two z values is 1)"},
            "second_two_cycle_window": ({"stable_from": float(eta(_mpf(b0, dps))),
                                         "stable_to": float(eta(_mpf(b1, dps))),
                                         "c_interval": [str(b0), str(b1)]} if b0 is not None else None),
            "divergence_boundary_f0_zero": {"eta_lambda0_max": str(sep["f0_zero_boundary"].subs(ex["K"], s_sym ** 2)),
                                            "line": str(sep.get("absolute"))},
            "c": {"period_doubling": [mp.nstr(c, dps - 5) for c in fl], "chaos_onset": mp.nstr(cas["c_inf"], 15),
                  "period3_window": mp.nstr(p3["c"], dps - 5), "period3_windows": [mp.nstr(w["c"], dps - 5) for w in p3s],
                  "bounded_orbits_lost": str(cr["c_exact"])},
            "k": {"period_doubling": [float((c - 1) ** 2) for c in fl], "chaos_onset": float((cas["c_inf"] - 1) ** 2),
                  "period3_window": float((p3["c"] - 1) ** 2), "period3_windows": [float((w["c"] - 1) ** 2) for w in p3s],
                  "bounded_orbits_lost": float((cr["c_exact"] - 1) ** 2)},
            "eta_over_eta_c": {"period_doubling": [float(c - 1) for c in fl], "chaos_onset": float(cas["c_inf"] - 1),
                               "period3_window": float(p3["c"] - 1), "period3_windows": [float(w["c"] - 1) for w in p3s],
                               "bounded_orbits_lost": float(cr["c_exact"] - 1)},
            "dps": int(dps),
        }
    if general:
        g = general_route(cfg, flips=int(flips), digits=int(digits))
        con = g.contract()
        with mp.workdps(dps + 10):
            cmp = compare_general(g, eta_c_of(cfg, dps + 10), num, int(digits))
        res["general"] = {
            "method": "symsharp.analysis.bifurcation.bifurcation_analysis on the 2-D GD map of (f, lam) derived by the "
                      "engine (continuation, branch switching at flips, saddle-node windows, boundary crisis)",
            "param": con["param"], "range": con["details"]["range"], "digits": int(digits),
            "flips": con["flips"], "flip_periods": con["details"]["flip_periods"], "chaos_onset": con["chaos_onset"],
            "feigenbaum_delta": con["feigenbaum_delta"], "feigenbaum_deltas": con["details"]["feigenbaum_deltas"],
            "windows": con["windows"], "crisis": con["crisis"], "folds": con["folds"],
            "neimark_sacker": con["neimark_sacker"], "agreement_with_eos_map": cmp,
            "seconds": con["details"]["seconds"]}
    res["seconds"] = round(time.perf_counter() - t0, 3)
    return res


# ------------------------------------------------------------------------------ scans on kernels
def _params(config, etas):
    a = _a_of(config)
    etas = np.asarray(etas, dtype=np.float64)
    return np.stack([etas, np.full_like(etas, a), np.full_like(etas, config["y"])], 1)


def near_manifold_state(config, etas, offset: float = 1e-3):
    """Initial (f, λ) just off the EoS manifold inside the bounded region: f = y(1 + offset),
    ηλ = 2(η/η_c)|f/y|(1 + offset) + offset."""
    etas = np.asarray(etas, dtype=np.float64)
    ec = float(eta_c_of(config))
    s = etas / ec
    X = 1.0 + offset
    L = 2 * s * X * (1 + offset) + offset
    return np.stack([np.full_like(etas, config["y"] * X), L / etas], 1)


def lyapunov_curve(etas, config=None, steps: int = 4000, transient: int = 2000, offset: float = 1e-3,
                   seed: int = 0) -> dict:
    """Largest Lyapunov exponent over η of (i) the 2-D GD map of (f, λ) (compiled UV kernel,
    started just off the manifold) and (ii) the 1-D EoS map (compiled normal form, from the
    critical point), plus the transverse exponent of the manifold along the 1-D attractor
    (½⟨log I'/I⟩; negative means the manifold attracts).  NaN where the orbit diverged."""
    from .system import uv_function_space_kernel
    from ...dynamics import lyapunov

    cfg = dict(DEFAULT_CONFIG if config is None else config)
    etas = np.asarray(etas, dtype=np.float64)
    ker = uv_function_space_kernel()
    P = _params(cfg, etas)
    x0 = near_manifold_state(cfg, etas, offset)
    ly2 = lyapunov(ker, x0, P, steps=steps, transient=transient, seed=seed)
    ec = float(eta_c_of(cfg))
    cs = 1 + etas / ec
    ek = eos_kernel()
    zc = np.broadcast_to(np.asarray(_exact()["crit_z_np"](cs), dtype=np.float64), cs.shape)
    ly1 = lyapunov(ek, zc[:, None], cs[:, None], steps=steps, transient=transient, seed=seed)
    tr = ek.iterate(zc[:, None], cs[:, None], steps=transient)
    rec = ek.iterate(tr.x, cs[:, None], steps=steps, record_every=1, diverged=tr.diverged)
    T = ek.observe(rec.records, cs[None, :, None], names=["transverse"])["transverse"]
    with np.errstate(divide="ignore", invalid="ignore"):
        trans = np.mean(np.log(np.abs(T)), axis=0)
    trans[rec.diverged] = np.nan
    return {"eta": etas, "eta_over_eta_c": etas / ec, "lyapunov_2d": ly2.exponent, "lyapunov_eos": ly1.exponent,
            "transverse": trans, "diverged_2d": ly2.diverged}


def orbit_diagram_data(etas, config=None, transient: int = 3000, keep: int = 200, offset: float = 1e-3,
                       observable: str = "sharpness"):
    """Orbit diagram of the 2-D GD map over η (compiled UV kernel, started just off the EoS
    manifold): kept values of ``observable`` (default the loss-Hessian sharpness), with the 2/η
    line, periods and regimes.  Returns the :class:`OrbitDiagram` and a dict of arrays."""
    from .system import uv_function_space_kernel
    from ...dynamics import orbit_diagram

    cfg = dict(DEFAULT_CONFIG if config is None else config)
    etas = np.asarray(etas, dtype=np.float64)
    ker = uv_function_space_kernel()
    od = orbit_diagram(ker, near_manifold_state(cfg, etas, offset), _params(cfg, etas), transient=transient,
                       keep=keep, observable=observable, max_period=64)
    return od, {"eta": etas, "values": od.values, "two_over_eta": 2 / etas, "period": od.period,
                "regime": od.labels}


def divergence_boundary(etas, config=None, f0: float = 0.0, steps: int = 3000, grid: int = 400,
                        iters: int = 30, hi: float = 8.0) -> dict:
    """Numerical divergence boundary ηλ₀*(η) at fixed f₀ with the compiled UV kernel: the least
    ηλ₀ on a grid of ``grid`` values in (0, hi) whose orbit diverges, refined by bisection
    against the grid value below it.  (The bounded set is not an interval: e.g. from f₀ = 0 the
    step with ηλ₀ = 1 lands exactly on a minimum; such measure-zero exceptions above the boundary
    are counted in ``exceptions``.)  ``exact`` is the derived separatrix (the invariant line of
    :func:`symsharp.models.uv.eos.uv_route_derivation`, ``separatrix["absolute"]``) at f = f₀."""
    from .system import uv_function_space_kernel

    cfg = dict(DEFAULT_CONFIG if config is None else config)
    etas = np.asarray(etas, dtype=np.float64)
    ker = uv_function_space_kernel()
    G = len(etas)
    els = np.linspace(0, hi, grid + 1)[1:]
    E, Lg = np.meshgrid(etas, els, indexing="ij")
    x0 = np.stack([np.full(E.size, f0), (Lg / E).ravel()], 1)
    P = _params(cfg, E.ravel())
    d = ker.iterate(x0, P, steps=steps, threshold=1e6).diverged.reshape(E.shape)
    first = np.where(d.any(axis=1), d.argmax(axis=1), grid - 1)
    lo = np.where(first > 0, els[np.maximum(first - 1, 0)], 0.0)
    up = els[first]
    Pe = _params(cfg, etas)
    for _ in range(iters):
        mid = (lo + up) / 2
        dd = ker.iterate(np.stack([np.full(G, f0), mid / etas], 1), Pe, steps=steps, threshold=1e6).diverged
        up = np.where(dd, mid, up)
        lo = np.where(dd, lo, mid)
    above = els[None, :] > up[:, None]
    exceptions = np.sum(above & ~d, axis=1)
    a, y = _a_of(cfg), cfg["y"]
    exact = separatrix_functions()["absolute"](f0, a, etas, y)
    return {"eta": etas, "numeric": (lo + up) / 2, "exact": exact, "exceptions": exceptions,
            "grid_step": float(els[1] - els[0])}


@functools.lru_cache(maxsize=None)
def separatrix_functions() -> dict:
    """The derived divergence boundary as NumPy callables: ``absolute(f, a, eta, y)`` (ηλ on the
    invariant line) and ``f0_zero(k)`` (ηλ₀ at f₀ = 0, k = (η/η_c)²), plus ``f0_zero_text``, the
    formula in η/η_c for labels."""
    import sympy as sp

    ex = _exact()
    r, sep = ex["route"], ex["route"].separatrix
    q = sp.Symbol("q", positive=True)
    text = sp.sstr(sep["f0_zero_boundary"].subs(ex["K"], q ** 2)).replace("q", "(η/η_c)").replace("**2", "²")
    return {"absolute": sp.lambdify((r.f, r.a, r.eta, r.y), sep["absolute"], "numpy"),
            "f0_zero": sp.lambdify(ex["K"], sep["f0_zero_boundary"], "numpy"),
            "f0_zero_text": "ηλ₀ = " + text.replace(" - ", " − ")}


def phase_diagram(etas, eta_lams, config=None, transient: int = 3000, keep: int = 256) -> dict:
    """Regimes on the grid (η, ηλ₀) with f₀ = 0: converged (lazy), catapult, periodic (EoS),
    chaotic, aperiodic, diverged (labels of :func:`symsharp.dynamics.orbit_diagram`)."""
    from .system import uv_function_space_kernel
    from ...dynamics import orbit_diagram

    cfg = dict(DEFAULT_CONFIG if config is None else config)
    etas = np.asarray(etas, dtype=np.float64)
    els = np.asarray(eta_lams, dtype=np.float64)
    E, Lg = np.meshgrid(etas, els, indexing="ij")
    e, l = E.ravel(), Lg.ravel()
    ker = uv_function_space_kernel()
    x0 = np.stack([np.zeros_like(e), l / e], 1)
    od = orbit_diagram(ker, x0, _params(cfg, e), transient=transient, keep=keep, observable="loss",
                       max_period=64)
    ec = float(eta_c_of(cfg))
    return {"eta": etas, "eta_lambda0": els, "regime": od.regime.reshape(E.shape),
            "labels": od.labels.reshape(E.shape), "period": od.period.reshape(E.shape),
            "eta_c": ec, "divergence_line": separatrix_functions()["f0_zero"]((etas / ec) ** 2),
            "divergence_formula": separatrix_functions()["f0_zero_text"]}


# ------------------------------------------------------------------------------------- Markdown


# -------------------------------------------------------------------------------------- figures
def route_figure_data(config=None, n_eta: int = 600, n_lam: int = 120, keep: int = 200) -> dict:
    """Data of the three route figures (plain arrays): the orbit diagram of the loss-Hessian
    sharpness and of ηλ over η with the 2/η line, the Lyapunov curves, and the (η, ηλ₀) phase
    diagram at f₀ = 0 with the exact lines (η_c, chaos onset, crisis, and the derived divergence
    boundary of :func:`separatrix_functions`)."""
    cfg = dict(DEFAULT_CONFIG if config is None else config)
    r = route_to_chaos(**cfg, flips=8, general=False)
    ec = r["eta_c"]
    etas = ec * np.linspace(0.6, 1.995, n_eta)
    od, orbit = orbit_diagram_data(etas, cfg, keep=keep)
    od_l, orbit_l = orbit_diagram_data(etas, cfg, keep=keep, observable="lam")
    ly = lyapunov_curve(etas, cfg)
    pd = phase_diagram(ec * np.linspace(0.05, 2.2, n_lam), np.linspace(0.02, 4.5, n_lam) + 1e-3, cfg)
    marks = {"eta_c": ec, "chaos_onset": r["chaos_onset"], "period3_window": r["period3_window"],
             "bounded_orbits_lost": r["bounded_orbits_lost"], "period_doubling": r["period_doubling"][:4]}
    return {"config": cfg, "marks": marks, "orbit": orbit, "orbit_ntk_times_eta": orbit_l["values"] * etas[:, None],
            "lyapunov": ly, "phase": pd}
