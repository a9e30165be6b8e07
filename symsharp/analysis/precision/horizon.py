"""Precision horizons: for how many steps does a trajectory computed in a given arithmetic follow
the exact one?

:func:`precision_horizon` runs one SymPy map from one exact initial state in every requested
arithmetic and in a high-precision MPFR reference, and reports per arithmetic the first step at
which the observable (by default the first state variable) leaves the reference by more than
``tol`` relative to the reference's magnitude.  It compares with the law

    horizon ≈ (bits·ln 2 + ln tol) / λ

(λ the largest Lyapunov exponent, from the exact Jacobian) and with its finite-time version: the
first n at which the accumulated log-stretch along the reference orbit, S(n) = Σ_{t<n} ln‖J_t v_t‖,
reaches bits·ln 2 + ln tol.  On an attracting orbit (λ < 0) rounding errors are damped: the
arithmetics agree to rounding for ever, and the analysis says so instead of predicting a horizon.
"""
from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ...codegen.arith import parse_arith, parse_ariths
from .common import (PrecisionError, check_steps, check_tol, finite_or_none, int_or_none, make_problem,
                     metadata)

LN2 = math.log(2.0)
MIN_REFERENCE_BITS = 256
LYAPUNOV_BITS = 128
"""Precision of the long-run Lyapunov estimate (a statistic of the orbit, not a pointwise value)."""


def _observable(prob, observable):
    """(label, function of a (T, k) float64 state array → (T,) values)."""
    import sympy as sp

    if isinstance(observable, (int, np.integer)) and not isinstance(observable, bool):
        i = int(observable)
        if not 0 <= i < prob.k:
            raise PrecisionError(f"observable index {observable} is out of range 0 … {prob.k - 1}")
        return prob.state[i].name, (lambda a, i=i: a[:, i])
    if isinstance(observable, str):
        names = [s.name for s in prob.state]
        if observable in names:
            i = names.index(observable)
            return observable, (lambda a, i=i: a[:, i])
        raise PrecisionError(f"observable {observable!r} is not a state variable ({', '.join(names)}); pass a "
                             "SymPy expression for a function of the state")
    if isinstance(observable, sp.Expr):
        from ...codegen.arith.spec import to_fraction

        by = {s.name: s for s in prob.state + prob.params}
        bad = [s.name for s in observable.free_symbols if s.name not in by]
        if bad:
            raise PrecisionError(f"the observable uses {bad[0]!r}, which is neither a state variable nor a parameter")
        expr = observable.xreplace({s: by[s.name] for s in observable.free_symbols})
        expr = expr.subs({p: sp.Rational(to_fraction(v).numerator, to_fraction(v).denominator)
                          for p, v in zip(prob.params, prob.pvals)})
        fn = sp.lambdify(prob.state, expr, modules="numpy")
        return str(observable), (lambda a: np.asarray(fn(*[a[:, i] for i in range(prob.k)]), float)
                                 * np.ones(a.shape[0]))
    raise PrecisionError(f"observable must be a state index, a state name or a SymPy expression, got {observable!r}")


def _records_float(sm, rec, n) -> np.ndarray:
    """(n, k) float64 array from per-variable lists of numbers (NaN-padded)."""
    out = np.full((n, len(rec)), np.nan)
    for i, col in enumerate(rec):
        m = min(n, len(col))
        out[:m, i] = [sm.to_float(v) for v in col[:m]]
    return out


def first_exceedance(values, reference, tol) -> int | None:
    """First step n with |values[n] − reference[n]| > tol·max(|reference[n]|, mean |reference|),
    or values[n] not finite; None if there is none."""
    ref = np.asarray(reference, float)
    val = np.asarray(values, float)
    with np.errstate(all="ignore"):  # inf − inf past a blow-up is NaN: a mismatch, as intended
        scale = np.maximum(np.abs(ref), np.nanmean(np.abs(ref)))
        bad = ~(np.abs(val - ref) <= tol * scale)
    hit = np.flatnonzero(bad)
    return int(hit[0]) if hit.size else None


def reference_bits_needed(lyap: float, steps: int, tol: float, floor_bits: int) -> int:
    """Bits for a reference that stays within 10⁻⁶·tol of the exact orbit for ``steps`` steps
    at Lyapunov exponent ``lyap`` (a power of two, at least ``floor_bits``)."""
    lyap = lyap if math.isfinite(lyap) else 1.0
    need = (max(lyap, 0.0) * steps - math.log(tol * 1e-6)) / LN2 + 32
    b = max(MIN_REFERENCE_BITS, int(floor_bits), int(math.ceil(need)))
    return 1 << (b - 1).bit_length()


def _run_arith(prob, a, steps, threshold, rounding, seed):
    """(states (steps+1, k) float64, diverged_at or −1, extra dict)."""
    from ...codegen.arith import BallMap, compile_arith_map, scalar_map

    extra = {}
    if a.is_kernel:
        km = compile_arith_map(prob.step, prob.state, prob.params, a.name,
                               rounding=rounding if a.kind == "emulated" else "nearest", name=prob.name, form=prob.form)
        r = km.iterate([prob.x0], prob.pvals, steps=steps, record_every=1, threshold=threshold, seed=seed)
        states = r.records[:, 0, :].astype(float)
        if r.records_lo is not None:
            states = states + r.records_lo[:, 0, :]
        return states, int(r.diverged_at[0]), extra
    if a.kind == "arb":
        bm = BallMap(prob.step, prob.state, prob.params, bits=a.bits, name=prob.name, form=prob.form)
        run = bm.lohner(bm.box(prob.x0), bm.params(prob.pvals), steps)
        states = np.full((steps + 1, prob.k), np.nan)
        states[:run.steps_done + 1] = run.mid
        extra["enclosure"] = run
        return states, (run.steps_done if run.stopped else -1), extra
    sm = scalar_map(prob.step, prob.state, prob.params, a.name, name=prob.name, form=prob.form)
    o = sm.orbit(prob.x0, prob.pvals, steps, record=True, threshold=threshold)
    return _records_float(sm, o.records, steps + 1), o.diverged_at, extra


def precision_horizon(step, x0, params, ariths="bfloat16,float16,float32,float64,dd,mpfr:256",
                      tol: float = 1e-3, steps: int | None = None, observable=0, reference="auto", state=None,
                      param_order=None, name: str = "map", form: str = "horner", rounding: str = "nearest",
                      seed: int = 0, threshold: float = 1e8, lyapunov_steps: int = 20_000,
                      max_steps: int = 200_000, max_reference_bits: int = 1 << 16) -> xr.Dataset:
    """Precision horizons of the map ``step`` = {state symbol: expression} from ``x0`` with
    ``params`` (mapping name → value; values exact: numbers, Fractions or decimal strings).

    ``ariths``: list or comma-separated specs (see :func:`symsharp.codegen.arith.parse_arith`);
    ``tol``: relative tolerance; ``steps``: length of the runs (default: 1.25 × the largest
    predicted horizon, or 1000 steps on an attracting orbit); ``observable``: a state index or
    name, or a SymPy expression of the state (and parameters); ``reference``: ``"auto"`` (MPFR with
    enough bits to stay within 10⁻⁶·tol of the exact orbit for all steps, checked against a
    reference with 25 % more bits) or a spec such as ``"mpfr:4096"``.  ``rounding`` applies to
    float16/bfloat16 (``"stochastic"``: seeded by ``seed``).  arb rows use Lohner enclosures
    (midpoints compared; the certified horizon is stored as ``certified``).

    Returns an xarray Dataset with ``observable`` (arith, step), ``reference`` (step),
    ``log_stretch`` (step, cumulative), ``horizon``/``predicted``/``predicted_finite``/``bits``
    (arith), attributes ``lyapunov``, ``reference``, ``tol`` and ``symsharp`` (JSON config); see
    :func:`horizon_json` for the JSON contract."""
    from ...codegen.arith import scalar_map

    prob = make_problem(step, x0, params, state, param_order, name=name, form=form)
    tol = check_tol(tol)
    arith_list = parse_ariths(ariths)
    label, obs_fn = _observable(prob, observable)
    if rounding not in ("nearest", "stochastic"):
        raise PrecisionError(f"rounding must be 'nearest' or 'stochastic', got {rounding!r}")
    lyapunov_steps = check_steps(lyapunov_steps, "lyapunov_steps")
    # ---------------------------------------------------------------- Lyapunov exponent (long run)
    sm_l = scalar_map(prob.step, prob.state, prob.params, f"mpfr:{LYAPUNOV_BITS}", name=prob.name, form=prob.form)
    _, logs_l, _, div_l = sm_l.tangent(prob.x0, prob.pvals, lyapunov_steps, threshold=threshold)
    logs_l = np.asarray(logs_l, float)
    logs_l = logs_l[np.isfinite(logs_l)]
    lyap = float(np.mean(logs_l)) if len(logs_l) else float("nan")
    chaotic = not (lyap <= 0)
    max_bits = max(a.bits for a in arith_list)
    if steps is None:
        if chaotic:
            pred = max((a.bits * LN2 + math.log(tol)) / lyap for a in arith_list)
            steps_run = int(math.ceil(1.25 * pred)) + 20
        else:
            steps_run = 1000
        steps_run = min(steps_run, int(max_steps))
    else:
        steps_run = check_steps(steps)
    note = ""
    # ---------------------------------------------------------------- reference
    if reference == "auto":
        ref_bits = reference_bits_needed(lyap, steps_run, tol, 2 * max_bits)
        if ref_bits > max_reference_bits:
            ref_bits = int(max_reference_bits)
            supported = int((ref_bits * LN2 - 32 * LN2 + math.log(tol * 1e-6)) / max(lyap, 1e-300))
            if supported < steps_run:
                note += f"runs shortened to {supported} steps, the reach of a {ref_bits}-bit reference; "
                steps_run = max(1, supported)
        ref = parse_arith(f"mpfr:{ref_bits}")
    else:
        ref = parse_arith(reference)
        if ref.kind not in ("mpfr", "mp"):
            raise PrecisionError(f"the reference must be mpfr:BITS or mp:BITS, got {reference!r}")
    sm_ref = scalar_map(prob.step, prob.state, prob.params, ref.name, name=prob.name, form=prob.form)
    o_ref = sm_ref.orbit(prob.x0, prob.pvals, steps_run, record=True, threshold=threshold)
    ref_states = _records_float(sm_ref, o_ref.records, steps_run + 1)
    ref_obs = obs_fn(ref_states)
    # check the reference against one with 25 % more bits
    chk = parse_arith(f"{ref.kind}:{ref.bits + max(64, ref.bits // 4)}")
    sm_chk = scalar_map(prob.step, prob.state, prob.params, chk.name, name=prob.name, form=prob.form)
    o_chk = sm_chk.orbit(prob.x0, prob.pvals, steps_run, record=True, threshold=threshold)
    chk_obs = obs_fn(_records_float(sm_chk, o_chk.records, steps_run + 1))
    dev = first_exceedance(chk_obs, ref_obs, tol * 1e-6)
    ref_ok = steps_run if dev is None else dev - 1
    if dev is not None:
        note += (f"the reference {ref.name} departs from {chk.name} by more than 1e-6·tol at step {dev}; "
                 "horizons beyond that step are not resolved; ")
    # finite-time stretch along the reference orbit
    _, logs_ref, _, _ = sm_ref.tangent(prob.x0, prob.pvals, steps_run, threshold=threshold)
    S = np.concatenate([[0.0], np.cumsum(logs_ref)])
    S = np.pad(S, (0, max(0, steps_run + 1 - len(S))), constant_values=np.nan)[:steps_run + 1]
    fin = np.flatnonzero(np.isfinite(S))
    lyap_run = float(S[fin[-1]] / fin[-1]) if fin.size > 1 else float("nan")
    if o_ref.diverged_at >= 0:
        note += f"the reference orbit exceeds the threshold {threshold:g} at step {o_ref.diverged_at}; "
    if not chaotic:
        note += (f"attracting orbit (largest Lyapunov exponent {lyap:.4g} ≤ 0): rounding errors are damped, the "
                 "arithmetics agree with the exact orbit to within their rounding for ever — there is no "
                 "precision horizon; ")
    # ---------------------------------------------------------------- arithmetics
    R = len(arith_list)
    obs = np.full((R, steps_run + 1), np.nan)
    horizon = np.full(R, -1, np.int64)
    predicted = np.full(R, np.nan)
    predicted_ft = np.full(R, -1, np.int64)
    certified = np.full(R, -1, np.int64)
    diverged_at = np.full(R, -1, np.int64)
    bits = np.array([a.bits for a in arith_list], np.int64)
    for j, a in enumerate(arith_list):
        states, dat, extra = _run_arith(prob, a, steps_run, threshold, rounding, seed)
        obs[j] = obs_fn(states)
        diverged_at[j] = dat
        h = first_exceedance(obs[j], ref_obs, tol)
        horizon[j] = -1 if h is None else h
        target = a.bits * LN2 + math.log(tol)
        if chaotic:
            predicted[j] = max(0.0, target / lyap)
            hit = np.flatnonzero(S >= target)
            predicted_ft[j] = int(hit[0]) if hit.size else -1
        if "enclosure" in extra:
            certified[j] = extra["enclosure"].certified_steps(tol)
    names = [a.name for a in arith_list]
    ds = xr.Dataset(
        {"observable": (("arith", "step"), obs), "reference": ("step", ref_obs), "log_stretch": ("step", S),
         "horizon": ("arith", horizon), "predicted": ("arith", predicted), "predicted_finite": ("arith", predicted_ft),
         "certified": ("arith", certified), "bits": ("arith", bits), "diverged_at": ("arith", diverged_at)},
        coords={"arith": names, "step": np.arange(steps_run + 1)})
    ds["horizon"].attrs["description"] = ("first step where |x − x_ref| > tol·max(|x_ref|, mean|x_ref|); −1: never "
                                          "within the run")
    ds["predicted"].attrs["description"] = "(bits·ln2 + ln tol)/λ (NaN on an attracting orbit)"
    ds["predicted_finite"].attrs["description"] = ("first n with Σ_{t<n} ln‖J_t v_t‖ ≥ bits·ln2 + ln tol along the "
                                                   "reference orbit; −1: not within the run")
    ds["certified"].attrs["description"] = "arb rows: steps certified by Lohner enclosures (width ≤ tol·max(1,|mid|))"
    ds["log_stretch"].attrs["description"] = "cumulative log-stretch of a tangent vector along the reference orbit"
    ds.attrs.update({"lyapunov": lyap, "lyapunov_run": lyap_run, "reference": ref.name, "tol": tol,
                     "observable": label, "steps": steps_run, "reference_checked_steps": int(ref_ok),
                     "attracting": int(not chaotic), "note": note.strip().rstrip(";"),
                     "title": "precision horizons"})
    cfg = prob.config()
    cfg.update({"ariths": names, "tol": tol, "steps": steps_run, "observable": label, "reference": ref.name,
                "reference_check": chk.name, "rounding": rounding, "seed": seed, "threshold": threshold,
                "lyapunov_steps": lyapunov_steps, "lyapunov_bits": LYAPUNOV_BITS})
    ds.attrs["symsharp"] = metadata("precision_horizon", cfg)
    return ds


def horizon_json(ds: xr.Dataset) -> dict:
    """The JSON contract of :func:`precision_horizon`: ``{"lyapunov", "reference", "tol", "steps",
    "observable", "attracting", "note", "rows": [{"arith", "bits", "horizon", "predicted",
    "predicted_finite", "certified"?, "diverged_at"}]}`` (None where there is no value)."""
    rows = []
    for j, a in enumerate(ds["arith"].values):
        row = {"arith": str(a), "bits": int(ds["bits"].values[j]), "horizon": int_or_none(ds["horizon"].values[j]),
               "predicted": finite_or_none(ds["predicted"].values[j]),
               "predicted_finite": int_or_none(ds["predicted_finite"].values[j]),
               "diverged_at": int_or_none(ds["diverged_at"].values[j])}
        if str(a).startswith("arb:"):
            row["certified"] = int_or_none(ds["certified"].values[j])
        rows.append(row)
    return {"lyapunov": finite_or_none(ds.attrs["lyapunov"]), "lyapunov_run": finite_or_none(ds.attrs["lyapunov_run"]),
            "reference": ds.attrs["reference"], "reference_checked_steps": int(ds.attrs["reference_checked_steps"]),
            "tol": float(ds.attrs["tol"]), "steps": int(ds.attrs["steps"]), "observable": ds.attrs["observable"],
            "attracting": bool(ds.attrs["attracting"]), "note": ds.attrs["note"], "rows": rows}
