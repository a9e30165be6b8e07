"""Claims about GD on the chain model beyond the edge of stability (issue 11): where the minima lose
stability, the rank-one reduction to a 1-D map, and the period-doubling route to chaos for D = 2, 3.

The numbers of each statement are in :mod:`.statements` (``ROUTE``, …) and the statement text is
written from them; the checkers recompute everything with :func:`.route.chain_route` (the generic
bifurcation engine on the chain's GD map) and compare, with independent checks: periods of the
hand-written GD kernel around every flip, flips of the 1-D map by mpmath Newton, Lyapunov exponents."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ...claims.registry import Outcome, register
from . import statements as st

SRC_Q = "issue 11 (Ghosh et al. 2025 report a period-doubling route to chaos for deep linear networks)"
SRC_D = "derived (symsharp)"


def _data_words() -> str:
    from .route import ROUTE_DATA

    return "; ".join(f"{k}: make_dataset('{c['kind']}', samples={c['samples']}, dim={c['dim']}, seed={c['seed']})"
                     for k, c in ROUTE_DATA.items())


def _route_statement(depth: int) -> str:
    R = st.ROUTE[depth]
    parts = []
    for name, r in R.items():
        parts.append(f"{name}: flips at h = 2, {', '.join(r['flips'])}, …, onset of chaos h∞ = {r['onset']}, first "
                     f"period-3 window opening at h = {r['period3']}, attractor lost at h ≈ {r['crisis'][0]} by "
                     f"{r['crisis'][1]}")
    return (f"D = {depth}: beyond the edge of stability, full-batch GD on the chain model follows a period-doubling "
            "route to chaos, in h = η·S* (S* the flattest minimum's sharpness) — " + "; ".join(parts) +
            f". The Feigenbaum ratios tend to δ = 4.669 (the 7th within {st.ROUTE_DELTA_TOL}), the largest Lyapunov "
            f"exponent is positive on more than {int(100 * st.ROUTE_LYAPUNOV_FRACTION)} % of the range between onset "
            "and loss of the attractor (periodic windows in between) and negative before the onset.")


# ---------------------------------------------------------------------------------------- first flip
@register("CHAIN-route-first-flip", SRC_D,
          "Full-batch GD leaves the manifold of global minima by a flip at η·S* = 2, where S* = min S(θ*) over all "
          "global minima (the flattest one): for 2 < η·S* below the next flip GD ends on an attracting 2-cycle "
          "(also from a small random start), which collapses onto the flattest minimum as η·S* ↓ 2.",
          ("D = 2, 3; data sets " + "rank1, rank2, rank3 of symsharp.models.chain.route.ROUTE_DATA",
           f"|h₁ − 2| ≤ {st.ROUTE_FIRST_FLIP_TOL}, collapse point within {st.ROUTE_FIRST_FLIP_DISTANCE} (relative) "
           "of the flattest minimum"))
def _first_flip():
    from .route import ROUTE_DATA, ROUTE_DEPTHS, chain_route

    worst_h, worst_x, rows = 0.0, 0.0, []
    for D in ROUTE_DEPTHS:
        for name in ROUTE_DATA:
            r = chain_route(name, D)
            h1 = r.flips[0]
            if r.flip_periods[0] != 1:
                return Outcome("open", f"D = {D}, {name}: the first flip found has period {r.flip_periods[0]}")
            worst_h = max(worst_h, abs(h1 - float(st.ROUTE_FIRST_FLIP)))
            worst_x = max(worst_x, r.first_flip_distance)
            b = r.checks["bruteforce"][0]
            sm = r.checks["small_start"][0]
            if not (b["period_below"] == 1 and b["period_above"] == 2 and sm["period"] == 2):
                return Outcome("open", f"D = {D}, {name}: GD runs disagree (periods {b['period_below']}, "
                               f"{b['period_above']}, small start {sm['period']})")
            rows.append(f"D = {D} {name}: h₁ − 2 = {h1 - 2:.1e}")
    if worst_h > st.ROUTE_FIRST_FLIP_TOL or worst_x > st.ROUTE_FIRST_FLIP_DISTANCE:
        return Outcome("open", f"first flip off by {worst_h:.1e} in h or {worst_x:.1e} in state")
    return Outcome("numerical", "the engine's cascade, followed back from the attracting 2-cycle at h = 2.2, ends in a "
                   "collapse onto the manifold of minima (located in mpmath) at h = 2 within "
                   f"{worst_h:.0e} and at the flattest minimum within {worst_x:.0e} (6 cases: D = 2, 3 × rank 1, 2, 3); "
                   "GD with the hand-written kernel from near the minimum has period 1 at h = 1.95 and 2 above the "
                   "flip, and from a small random start (scale 0.1) period 2 between the first two flips")


# ---------------------------------------------------------------------------------------- rank one
@register("CHAIN-route-rank-one", SRC_D,
          "For rank-one data (σ, d, N) the balanced line z = v_1 = … = v_{D−1} is invariant under GD, and with "
          "w = (d/σ)^{1/D}·x and η = h/S* GD on it is x ↦ x − (h/D) x^{D−1}(x^D − 1), the same map for every σ, d, N; "
          "the flattest minimum is the balanced one, with S* = D·Ŝ_D.",
          ("any depth (symbolic for D = 2, 3, 4); σ > 0, d > 0, N symbolic",))
def _rank_one():
    from .route import flattest_minimum, rank_one_map

    for D in (2, 3, 4):
        r = rank_one_map(D)
        if not r["invariant"]:
            return Outcome("open", f"the balanced line is not invariant for D = {D}: {r['residuals']}")
        stated = st.RANK_ONE_MAP.xreplace({st.RX: r["x"], st.RH: r["h"], st.D: D})
        if sp.simplify(r["map"] - stated) != 0:
            return Outcome("open", f"the derived map {r['map']} differs from the stated one (D = {D})")
        Sst = st.RANK_ONE_S_STAR.xreplace({st.D: D, st.S1: r["sigma"], st.N: r["N"], st.Q: r["d"] ** 2 / r["sigma"] ** 2})
        if sp.simplify(sp.powsimp(sp.expand_power_base(r["S_star"] - Sst, force=True), force=True)) != 0:
            return Outcome("open", f"S* at the balanced minimum is {r['S_star']}, not the stated D·Ŝ_D (D = {D})")
        # flattest: N·S = σ²P + d²Σ_k 1/w_k with P = ∏w_k ≥ σ²P + (D−1)d²P^{−1/(D−1)} (AM–GM, equality iff all
        # w_k are equal); the right side is convex in P with its only critical point at the balanced minimum
        P = sp.Symbol("P", positive=True)
        sg, dd, Nn = r["sigma"], r["d"], r["N"]
        gP = sg ** 2 * P + (D - 1) * dd ** 2 * P ** sp.Rational(-1, D - 1)
        crit = sp.solve(sp.diff(gP, P), P)
        if len(crit) != 1 or not sp.simplify(sp.diff(gP, P, 2).subs(P, crit[0])).is_positive:
            return Outcome("open", f"the AM–GM bound has no unique convex minimum for D = {D}: {crit}")
        if sp.simplify(sp.powsimp(sp.expand_power_base(gP.subs(P, crit[0]) / Nn - r["S_star"], force=True),
                                  force=True)) != 0:
            return Outcome("open", f"the minimum of the AM–GM bound is not the balanced minimum's S* (D = {D})")
    # and numerically: minimising over the manifold lands on the balanced minimum
    rng = np.random.default_rng(21)
    worst_S = worst_C = 0.0
    for _ in range(6):
        D = int(rng.integers(2, 5))
        x = rng.normal(size=(1, 3))
        y = rng.normal(size=1)
        fm = flattest_minimum(x, y, D)
        s, d = fm["sigma"][0], fm["d"][0]
        Sst = float(st.RANK_ONE_S_STAR.xreplace({st.D: D, st.S1: s, st.N: 1, st.Q: d ** 2 / s ** 2}))
        worst_S = max(worst_S, abs(fm["S_star"] - Sst) / Sst)
        worst_C = max(worst_C, float(np.max(np.abs(fm["C"]))) / float(np.max(fm["v_squared"])))
    # S is quadratic at its minimum: S to ~1e-16 pins the minimiser only to ~1e-8
    if worst_S > 1e-10 or worst_C > 1e-6:
        return Outcome("open", f"the flattest rank-one minimum is not the balanced one (S rel. {worst_S:.1e}, "
                       f"C/v² {worst_C:.1e})")
    return Outcome("proved", "SymPy, from the engine's GD map with symbolic σ, d, N (D = 2, 3, 4): every coordinate of the "
                   "image of a balanced point is the same polynomial (the line is invariant); substituting w = c·x, "
                   "η = h/S* with S* the top eigenvalue of the Hessian at the balanced minimum gives exactly the stated "
                   "map, and that S* equals the stated D·Ŝ_D; it is the flattest minimum: N·S ≥ σ²P + (D−1)d²P^(−1/(D−1)) "
                   "(AM–GM in w_k = v_k², P = ∏w_k, equality iff balanced), convex in P with its only critical point "
                   "there (SymPy). Minimising S over the minimum manifold numerically "
                   f"(6 random rank-one data sets) lands on the balanced minimum (S* = D·Ŝ_D to {worst_S:.0e}, "
                   f"C_k/v_k² ≤ {worst_C:.0e})")


# ---------------------------------------------------------------------------------------- D = 2, 3
def _check_route(depth: int) -> Outcome:
    from .route import ROUTE_DATA, chain_route, one_d_flips

    tol = 0.6 * 10.0 ** (-st.ROUTE_DECIMALS)
    R = st.ROUTE[depth]
    if set(R) != set(ROUTE_DATA):
        return Outcome("open", f"the statement covers {sorted(R)}, the analysis {sorted(ROUTE_DATA)}")
    notes = []
    for name, want in R.items():
        r = chain_route(name, depth)
        got = r.flips[1:1 + len(want["flips"])]
        if r.flip_periods[:1 + len(want["flips"])] != [2 ** j for j in range(1 + len(want["flips"]))]:
            return Outcome("open", f"{name}: flip periods {r.flip_periods}")
        bad = [(float(w), g) for w, g in zip(want["flips"], got) if abs(float(w) - g) > tol]
        if bad or len(got) < len(want["flips"]):
            return Outcome("open", f"{name}: flips {got} differ from the stated {want['flips']}")
        if r.onset is None or abs(r.onset - float(want["onset"])) > tol:
            return Outcome("open", f"{name}: onset {r.onset} differs from the stated {want['onset']}")
        if abs(r.deltas[-1] - st.FEIGENBAUM_DELTA) > st.ROUTE_DELTA_TOL:
            return Outcome("open", f"{name}: last Feigenbaum ratio {r.deltas[-1]:.5f}")
        p3 = [w["opens"] for w in r.windows if w["period"] == 3]
        if not p3 or abs(p3[0] - float(want["period3"])) > tol:
            return Outcome("open", f"{name}: first period-3 window at {p3[:1]}, stated {want['period3']}")
        cr = r.crisis
        if abs(cr["h"] - float(want["crisis"][0])) > st.ROUTE_CRISIS_TOL or cr["kind"] != want["crisis"][1]:
            return Outcome("open", f"{name}: attractor lost at {cr['h']:.4f} by {cr['kind']}, stated {want['crisis']}")
        ly = r.checks["lyapunov_above_onset"]
        if not (ly["fraction_positive"] > st.ROUTE_LYAPUNOV_FRACTION and r.checks["lyapunov_below_onset"]["largest"] < 0):
            return Outcome("open", f"{name}: Lyapunov exponents {ly['fraction_positive']}, "
                           f"{r.checks['lyapunov_below_onset']}")
        for row in r.checks["bruteforce"]:
            if not (row["period_below"] == row["period"] and row["period_above"] == 2 * row["period"]):
                return Outcome("open", f"{name}: hand-written GD has period {row['period_below']} / {row['period_above']} "
                               f"around the period-{row['period']} flip")
        w3 = r.checks.get("period3_window", {})
        if not (w3.get("period_above") == 3 and w3.get("period_below") != 3):
            return Outcome("open", f"{name}: hand-written GD around the period-3 window's opening: {w3}")
        for row in r.checks["small_start"]:
            if row["period"] != row["expected"]:
                return Outcome("open", f"{name}: GD from a small start has period {row['period']} at h = {row['h']:.4f}")
        if r.rank == 1:   # the 1-D map of CHAIN-route-rank-one, by independent mpmath Newton
            ref = [float(v) for v in one_d_flips(depth, count=6)]
            dev = max(abs(a - b) for a, b in zip(ref, r.flips[:6]))
            if len(ref) < 6 or dev > 1e-9:
                return Outcome("open", f"{name}: engine flips differ from the 1-D map's by {dev:.1e}")
            notes.append(f"rank-one flips equal the 1-D map's (mpmath Newton) to {dev:.0e}")
        notes.append(f"{name}: δ₇ = {r.deltas[-1]:.4f}, Lyapunov > 0 on {100 * ly['fraction_positive']:.0f} %, "
                     f"crisis bracket shift {cr['shift_with_steps']:+.1e} from 2.5·10⁴ to 10⁵ steps")
    return Outcome("numerical", "generic engine on the chain's GD map in SVD coordinates (continuation with branch "
                   "switching, flips refined in mpmath to 20 digits; windows: saddle-node folds; loss of the attractor "
                   "by bisection on escape within 10⁵ steps); every stated number recomputed and equal at its "
                   f"precision; GD with the hand-written kernel has the expected period just below and above each of "
                   f"the 8 flips and from a small start, and period 3 just above (not below) the period-3 window's "
                   "saddle-node; " + "; ".join(notes))


@register("CHAIN-route-D2", SRC_Q, _route_statement(2),
          (_data_words(), "h = η·S*, S* = sharpness of the flattest global minimum", "8 flips located (periods 1 … 128)",
           "windows of period ≤ 8 on a 3000-point scan"))
def _route_d2():
    return _check_route(2)


@register("CHAIN-route-D3", SRC_Q, _route_statement(3),
          (_data_words(), "h = η·S*, S* = sharpness of the flattest global minimum", "8 flips located (periods 1 … 128)",
           "windows of period ≤ 8 on a 3000-point scan",
           "dead network: the orbit lands on {∏v = 0}, where for D ≥ 3 every point with two zero factors is critical"))
def _route_d3():
    return _check_route(3)
