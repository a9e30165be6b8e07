"""Claims about the UV map in finite precision: the precision-horizon law, the certified horizon of
Lohner enclosures, and a computer-assisted proof of the attracting 2-cycle.

Every number of a statement is written between backticks and compared by its checker with what it
computes at check time (:mod:`symsharp.claims.stated`); the thresholds the computed numbers must
meet (20 %, 90 %) are module constants shared by the statement text and the checker.  All runs
start from exact rational values (decimal strings read exactly) on the function-space GD map that
the UV model's kernels are compiled from, with the default configuration a = α²‖x‖²/n = 1/100
(width 100), y = 1 (η_c = 10)."""
from __future__ import annotations

import functools

from ...claims.registry import Outcome, register
from ...claims.stated import Num, checked, compare

SRC = "derived (symsharp)"
PARAMS = {"a": "0.01", "y": "1"}
X0 = {"f": "0", "lam": "0.1"}
TOL = "1e-3"
HORIZON_TOL = 0.20
"""Measured precision horizons must lie within this relative distance of the law from 53 bits up."""
CERTIFIED_RATIO = 0.90
"""Lohner enclosures must certify at least this fraction of the pointwise horizon (256 bits)."""
HORIZON_ARITHS = "float32,float64,dd,mpfr:256,mpfr:1024"
SETTING = ("function-space GD map of the UV model (state f, λ; a = 1/100, y = 1, so η_c = 10) from the exact state "
           "f₀ = 0, λ₀ = 1/10")


@functools.lru_cache(maxsize=None)
def _map():
    from .system import _function_space_kwargs

    return _function_space_kwargs(3, 2, None)  # the map the UV kernels are compiled from


@functools.lru_cache(maxsize=None)
def horizon_result():
    """Precision horizons at η = 15 (tol 10⁻³) in :data:`HORIZON_ARITHS` (JSON of
    :func:`symsharp.analysis.precision.horizon_json`)."""
    from ...analysis.precision import horizon_json, precision_horizon

    kw = _map()
    ds = precision_horizon(kw["step"], X0, {"eta": "15", **PARAMS}, HORIZON_ARITHS, tol=float(TOL),
                           state=kw["state"], param_order=kw["params"], name="uv_precision")
    return horizon_json(ds)


@functools.lru_cache(maxsize=None)
def certify_result(eta: str, steps: int):
    """Certified run (256-bit balls, Lohner and naive) at η = ``eta`` (JSON of
    :func:`symsharp.analysis.precision.certify_json`)."""
    from ...analysis.precision import certify, certify_json

    kw = _map()
    ds = certify(kw["step"], X0, {"eta": eta, **PARAMS}, bits=256, steps=steps, tol=float(TOL), state=kw["state"],
                 param_order=kw["params"], name="uv_precision")
    return certify_json(ds)


def _rows(j):
    return {r["arith"]: r for r in j["rows"]}


@register("PRECISION-horizon-law", SRC,
          f"On the {SETTING} at η = 15, where the largest Lyapunov exponent is λ = `0.4887`, trajectories in "
          "float64, double-double, MPFR with 256 and with 1024 bits leave a high-precision MPFR reference by more "
          "than tol = 10⁻³ (relative) after `72`, `139`, `347` and `1405` steps; the law (bits·ln 2 + ln tol)/λ "
          "predicts `61.0`, `136.2`, `348.9` and `1438.1`: from 53 bits up every horizon is within `18` % of the law "
          f"(at most {HORIZON_TOL:.0%}), while float32's `16` steps fall short of its `19.9`.",
          ("horizon: first step where |f − f_ref| > tol·max(|f_ref|, mean |f_ref|); λ from 20 000 steps of the exact "
           "Jacobian at 128 bits; the reference's bits are chosen from λ and checked against one with 25 % more",))
def _uv_precision_horizon():
    j = horizon_result()
    rows = _rows(j)
    high = ["float64", "dd", "mpfr:256", "mpfr:1024"]
    if any(rows[a]["horizon"] is None or rows[a]["predicted"] is None for a in high + ["float32"]):
        return Outcome("open", "some arithmetic never left the reference within the run: "
                       + ", ".join(f"{a}: {r['horizon']}" for a, r in rows.items()))
    dev = max(abs(rows[a]["horizon"] - rows[a]["predicted"]) / rows[a]["predicted"] for a in high)
    bad = compare("PRECISION-horizon-law",
                  [Num(j["lyapunov"])] + [Num(rows[a]["horizon"]) for a in high]
                  + [Num(rows[a]["predicted"]) for a in high] + [Num(100 * dev), Num(rows["float32"]["horizon"]),
                                                                  Num(rows["float32"]["predicted"])], {})
    if bad is not None:
        return bad
    text = "; ".join(f"{a}: {r['horizon']} vs {r['predicted']:.1f} (finite-time {r['predicted_finite']})"
                     for a, r in rows.items())
    if dev > HORIZON_TOL:
        return Outcome("refuted", f"a horizon is {dev:.0%} away from the law: {text}",
                       counterexample={"horizons": {a: r["horizon"] for a, r in rows.items()},
                                       "law": {a: r["predicted"] for a, r in rows.items()}, "lyapunov": j["lyapunov"]})
    return Outcome("numerical", f"MPFR reference {j['reference']} (checked for {j['reference_checked_steps']} steps); "
                   f"{text}; " + checked("PRECISION-horizon-law"))


@register("PRECISION-certified-horizon", SRC,
          f"On the {SETTING} at η = 15, 256-bit balls propagated in Lohner's moving frame with the exact Jacobian "
          "certify `334` steps (every enclosure narrower than 10⁻³·max(1, |x|)): `96` % of the `347` steps for which "
          f"MPFR at 256 bits follows the exact orbit (at least {CERTIFIED_RATIO:.0%}), while plain ball iteration "
          "certifies `73` steps.",
          ("python-flint arb balls; pointwise horizon of mpfr:256 against a reference with twice the bits",))
def _uv_certified_horizon():
    j = certify_result("15", 400)
    if j["pointwise_horizon"] is None or j["horizon_ratio"] is None:
        return Outcome("open", "MPFR at 256 bits did not leave the reference within the run")
    bad = compare("PRECISION-certified-horizon", [Num(j["certified_steps"]), Num(100 * j["horizon_ratio"]),
                                           Num(j["pointwise_horizon"]), Num(j["naive_certified_steps"])], {})
    if bad is not None:
        return bad
    text = (f"Lohner {j['certified_steps']} / pointwise {j['pointwise_horizon']} = {j['horizon_ratio']:.3f}, naive "
            f"{j['naive_certified_steps']}; λ = {j['lyapunov']:.4f}")
    if j["horizon_ratio"] < CERTIFIED_RATIO:
        return Outcome("refuted", f"the certified horizon is below {CERTIFIED_RATIO:.0%} of the pointwise one: {text}",
                       counterexample={"certified_steps": j["certified_steps"],
                                       "pointwise_horizon": j["pointwise_horizon"], "bits": 256, "eta": 15})
    return Outcome("numerical", text + "; " + checked("PRECISION-certified-horizon"))


@register("PRECISION-uv-two-cycle", SRC,
          f"On the {SETTING} at η = 11 the orbit falls onto an attracting 2-cycle: Lohner enclosures with 256-bit "
          "balls stay within 10⁻³·max(1, |x|) for all `3000` steps (plain ball iteration for `84`), and the "
          "Krawczyk test on F² proves that a unique orbit of exact period 2 passes through a box around f = "
          "`0.6634943528`, λ = `0.1326988706`, with multipliers enclosed in intervals narrower than 10⁻¹² around "
          "`0.64` and `0.18`, so it attracts.",
          ("computer-assisted proof: interval Newton (Krawczyk) in python-flint arb balls on the second iterate with "
           "the exact Jacobian; the multipliers are the eigenvalues of the enclosed monodromy matrix",))
def _uv_two_cycle():
    j = certify_result("11", 3000)
    po = j["periodic_orbit"]
    if not po or not po["proved"] or po["period"] != 2 or not po["minimal_period"]:
        return Outcome("open", f"no Krawczyk proof of a period-2 orbit: {po}")
    mult = po["multipliers"]
    if len(mult) != 2 or any(isinstance(m[0], str) for m in mult):
        return Outcome("open", f"the multipliers are not two real intervals: {mult}")
    widths = [m[1] - m[0] for m in mult]
    mids = sorted(((m[0] + m[1]) / 2 for m in mult), reverse=True)
    box = [(b[0] + b[1]) / 2 for b in po["box"]]
    bad = compare("PRECISION-uv-two-cycle", [Num(j["certified_steps"]), Num(j["naive_certified_steps"]), Num(box[0]),
                                             Num(box[1]), Num(mids[0]), Num(mids[1])], {})
    if bad is not None:
        return bad
    if max(widths) >= 1e-12 or not all(abs(m[0]) < 1 and abs(m[1]) < 1 for m in mult):
        return Outcome("open", f"multiplier enclosures {mult} are too wide or not inside the unit circle")
    return Outcome("proved", f"Krawczyk on F² (256-bit balls): box {po['box']}, multipliers {mult}, radius "
                   f"{po['radius']:.2e}; Lohner certified {j['certified_steps']} of {j['steps']} steps; "
                   + checked("PRECISION-uv-two-cycle"))
