"""Certified runs: rigorous enclosures of an orbit and proofs of periodic orbits.

:func:`certify` propagates ball arithmetic (python-flint, ``bits`` bits) along the orbit of an
exact initial state with Lohner's QR moving-frame method and the exact Jacobian (see
:mod:`symsharp.codegen.arith.balls`), and for comparison plain ball iteration.  It reports the
enclosure width per step, the number of certified steps (every state variable's enclosure width
≤ tol·max(1, |midpoint|)), the ratio to the pointwise horizon of MPFR at the same bits, and
statements that follow rigorously from the enclosures:

- "from this initial state the exact orbit stays in this box for N steps";
- "the exact orbit provably exceeds the divergence threshold at step t" (when it does);
- for a periodic attractor: a Krawczyk proof on the p-th iterate that a period-p orbit exists in
  a small box and is unique there, with enclosures of its multipliers.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .common import (PrecisionError, check_steps, check_tol, finite_or_none, int_or_none, make_problem, metadata,
                     value_text)
from .horizon import LYAPUNOV_BITS, reference_bits_needed

ATTRACTOR_TRANSIENT = 4000


def find_period(states, max_period: int = 64, rtol: float = 1e-10) -> int:
    """Smallest p ≤ max_period with |x_{t+p} − x_t| ≤ rtol·max(1, |x_t|) for every state
    variable over the last 2·max_period recorded states (T, k); 0 if none."""
    a = np.asarray(states, float)
    T = a.shape[0]
    w = min(T - 1, 2 * int(max_period))
    tail = a[T - w - 1:]
    if not np.all(np.isfinite(tail)):
        return 0
    for p in range(1, min(int(max_period), w) + 1):
        d = np.abs(tail[p:] - tail[:-p])
        if np.all(d <= rtol * np.maximum(1.0, np.abs(tail[:-p]))):
            return p
    return 0


def _solve(A, b):
    """Solve A x = b (small lists of high-precision numbers) by Gaussian elimination with
    partial pivoting; None if singular."""
    k = len(b)
    M = [list(A[i]) + [b[i]] for i in range(k)]
    for c in range(k):
        piv = max(range(c, k), key=lambda r: abs(M[r][c]))
        if M[piv][c] == 0:
            return None
        M[c], M[piv] = M[piv], M[c]
        for r in range(c + 1, k):
            f = M[r][c] / M[c][c]
            M[r] = [M[r][j] - f * M[c][j] for j in range(k + 1)]
    x = [None] * k
    for r in range(k - 1, -1, -1):
        s = M[r][k]
        for j in range(r + 1, k):
            s = s - M[r][j] * x[j]
        x[r] = s / M[r][r]
    return x


def refine_periodic_point(sm, x, p, period: int, iterations: int = 30):
    """Newton's method on G(x) = F^period(x) − x in the scalar arithmetic of ``sm`` (an MPFR
    :class:`~symsharp.codegen.arith.ScalarMap`).  Returns the refined point (numbers of sm)."""
    x = list(sm.convert_all(x))
    p = sm.convert_all(p)
    k = sm.k
    for _ in range(int(iterations)):
        with sm.context():
            y = tuple(x)
            M = [[1 if i == j else 0 for j in range(k)] for i in range(k)]
            for _ in range(int(period)):
                F, J = sm._step_jac(y, p)
                M = [[sum(J[i][l] * M[l][j] for l in range(k)) for j in range(k)] for i in range(k)]
                y = F
            G = [y[i] - x[i] for i in range(k)]
            DG = [[M[i][j] - (1 if i == j else 0) for j in range(k)] for i in range(k)]
            dx = _solve(DG, G)
            if dx is None:
                break
            x = [x[i] - dx[i] for i in range(k)]
            if all(abs(d) <= abs(v) * 2 ** (-sm.arith.bits + 4) + 2 ** (-sm.arith.bits) for d, v in zip(dx, x)):
                break
    return x


def _fmt_box(names, lo, hi) -> str:
    return ", ".join(f"{n} ∈ [{a:.17g}, {b:.17g}]" for n, a, b in zip(names, lo, hi))


def certify(step, x0, params, bits: int = 256, steps: int = 1000, tol: float = 1e-3, threshold: float = 1e8,
            period="auto", max_period: int = 64, state=None, param_order=None, name: str = "map",
            form: str = "horner", naive: bool = True, pointwise: bool = True, krawczyk_radius: float | None = None,
            transient: int = ATTRACTOR_TRANSIENT) -> xr.Dataset:
    """Certified run of the map ``step`` = {state symbol: expression} from the exact initial
    state ``x0`` with the exact parameter values ``params`` (see the module docstring).

    ``bits``: ball precision; ``steps``: length of the run; ``tol``: relative width defining
    certified steps; ``threshold``: the divergence threshold of the statements; ``period``:
    ``"auto"`` (detect a periodic attractor after ``transient`` steps, period ≤ ``max_period``),
    an integer, or None (no periodic-orbit proof); ``naive``: also run plain ball iteration;
    ``pointwise``: also measure MPFR's pointwise horizon at ``bits`` against a reference.

    Returns an xarray Dataset over (step, var) with ``width``, ``mid``, ``lower``, ``upper`` (Lohner)
    and ``naive_width``; ``attrs`` hold the summary; :func:`certify_json` gives the JSON."""
    from ...codegen.arith import BallMap, scalar_map

    prob = make_problem(step, x0, params, state, param_order, name=name, form=form)
    tol = check_tol(tol)
    bits = check_steps(bits, "bits", minimum=2)
    steps = check_steps(steps)
    if not (threshold > 0):
        raise PrecisionError(f"threshold must be a positive number, got {threshold!r}")
    names = [s.name for s in prob.state]
    bm = BallMap(prob.step, prob.state, prob.params, bits=bits, name=prob.name, form=prob.form)
    X0 = bm.box(prob.x0)
    P = bm.params(prob.pvals)
    L = bm.lohner(X0, P, steps, stop_width=max(1e6, 10.0 * threshold))
    n_cert = L.certified_steps(tol)
    N_run = L.steps_done
    naive_w = np.full((steps + 1, prob.k), np.inf)
    n_naive = None
    if naive:
        Nv = bm.naive(X0, P, steps, stop_width=max(1e6, 10.0 * threshold))
        naive_w[:Nv.steps_done + 1] = Nv.width
        n_naive = Nv.certified_steps(tol)
    # ---------------------------------------------------------------- pointwise horizon at the same bits
    sm_l = scalar_map(prob.step, prob.state, prob.params, f"mpfr:{LYAPUNOV_BITS}", name=prob.name, form=prob.form)
    _, logs, _, _ = sm_l.tangent(prob.x0, prob.pvals, min(20_000, max(steps, 2000)), threshold=threshold)
    logs = np.asarray(logs, float)
    logs = logs[np.isfinite(logs)]
    lyap = float(np.mean(logs)) if len(logs) else float("nan")
    point_h = None
    ref_name = None
    if pointwise:
        ref_bits = reference_bits_needed(lyap, steps, tol, 2 * bits)
        ref_name = f"mpfr:{ref_bits}"
        sm_b = scalar_map(prob.step, prob.state, prob.params, f"mpfr:{bits}", name=prob.name, form=prob.form)
        sm_r = scalar_map(prob.step, prob.state, prob.params, ref_name, name=prob.name, form=prob.form)
        ob = sm_b.orbit(prob.x0, prob.pvals, steps, record=True, threshold=threshold)
        orr = sm_r.orbit(prob.x0, prob.pvals, steps, record=True, threshold=threshold)
        T = min(len(ob.records[0]), len(orr.records[0]))
        a = np.array([[sm_b.to_float(v) for v in col[:T]] for col in ob.records]).T
        r = np.array([[sm_r.to_float(v) for v in col[:T]] for col in orr.records]).T
        with np.errstate(invalid="ignore", over="ignore"):
            bad = np.flatnonzero(np.any(~(np.abs(a - r) <= tol * np.maximum(1.0, np.abs(r))), axis=1))
        point_h = int(bad[0]) if bad.size else None
    ratio = (n_cert / point_h) if point_h else None
    # ---------------------------------------------------------------- statements
    statements = []
    lo, hi = L.hull(max(n_cert, 0))
    pv = ", ".join(f"{p.name} = {value_text(v)}" for p, v in zip(prob.params, prob.pvals))
    xv = ", ".join(f"{n} = {value_text(v)}" for n, v in zip(names, prob.x0))
    if n_cert >= 0 and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
        statements.append(f"From the initial state {xv} with {pv}, the exact orbit stays in the box "
                          f"{_fmt_box(names, lo, hi)} for steps 0 … {n_cert} (certified: {bits}-bit ball "
                          "arithmetic, Lohner's moving frame).")
    statements.append(f"Every state variable is enclosed within width tol·max(1, |x|) = {tol:g}·max(1, |x|) for "
                      f"steps 0 … {n_cert}" + (" (the whole run)." if n_cert >= steps else "."))
    t_exc = L.exceeds(threshold)
    if t_exc >= 0:
        statements.append(f"The exact orbit provably exceeds the divergence threshold {threshold:g} (some |x_i| > "
                          f"{threshold:g}) at step {t_exc}.")
    # ---------------------------------------------------------------- periodic orbit
    per = None
    kr_json = None
    if period is not None and lyap < 0:
        sm_p = scalar_map(prob.step, prob.state, prob.params, f"mpfr:{max(bits, 128)}", name=prob.name,
                          form=prob.form)
        pre = sm_p.orbit(prob.x0, prob.pvals, int(transient), record=False, threshold=threshold)
        if pre.diverged_at < 0:
            tail = sm_p.orbit(pre.final, prob.pvals, 2 * int(max_period) + 1, record=True, threshold=threshold)
            st = np.array([[sm_p.to_float(v) for v in col] for col in tail.records]).T
            per = find_period(st, max_period) if period == "auto" else check_steps(period, "period")
        if per:
            xs = refine_periodic_point(sm_p, pre.final, prob.pvals, per)
            kr = bm.krawczyk(xs, P, per, radius=krawczyk_radius)
            kr_json = {"period": per, "proved": kr.proved, "minimal_period": kr.minimal, "radius": kr.radius,
                       "box": [list(b) for b in kr.box], "orbit": [[list(b) for b in o] for o in kr.orbit],
                       "trace": list(kr.trace) if kr.trace else None, "det": list(kr.det) if kr.det else None,
                       "multipliers": [list(m) for m in kr.multipliers], "stable": kr.stable, "note": kr.note}
            if kr.proved:
                statements.append(
                    f"A periodic orbit of {'exact ' if kr.minimal else ''}period {per} exists and is unique in the box "
                    f"{_fmt_box(names, [b[0] for b in kr.box], [b[1] for b in kr.box])} (Krawczyk test on "
                    f"F^{per}, {bits}-bit balls)" +
                    (f"; its multipliers lie in {', '.join(_fmt_mult(m) for m in kr.multipliers)}" if kr.multipliers
                     else "") + ({True: ", so it is attracting.", False: ", so it is unstable."}.get(kr.stable, ".")))
    elif period is not None and period != "auto" and lyap >= 0:
        statements.append("No periodic-orbit proof attempted: the orbit is not attracting (λ ≥ 0).")
    # ---------------------------------------------------------------- dataset
    T = steps + 1
    pad = lambda a, fill: np.concatenate([a, np.full((T - a.shape[0], prob.k), fill)]) if a.shape[0] < T else a
    ds = xr.Dataset({"width": (("step", "var"), pad(L.width, np.inf)), "mid": (("step", "var"), pad(L.mid, np.nan)),
                     "lower": (("step", "var"), pad(L.lower, -np.inf)), "upper": (("step", "var"), pad(L.upper, np.inf)),
                     "naive_width": (("step", "var"), naive_w)},
                    coords={"step": np.arange(T), "var": names})
    ds["width"].attrs["description"] = "upper bound of the diameter of the Lohner enclosure"
    ds["naive_width"].attrs["description"] = "upper bound of the diameter of plain ball iteration (inf once it failed)"
    summary = {"bits": bits, "steps": steps, "tol": tol, "certified_steps": int(n_cert), "steps_done": int(N_run),
               "naive_certified_steps": n_naive, "pointwise_horizon": point_h, "pointwise_reference": ref_name,
               "horizon_ratio": ratio, "lyapunov": finite_or_none(lyap), "threshold": threshold,
               "exceeds_threshold_at": int_or_none(t_exc), "stopped": L.stopped,
               "stays_in_box": {"steps": int(n_cert), "lower": [float(v) for v in lo], "upper": [float(v) for v in hi]},
               "periodic_orbit": kr_json, "statements": statements}
    ds.attrs["summary"] = __import__("json").dumps(summary)
    ds.attrs["title"] = "certified run"
    cfg = prob.config()
    cfg.update({"bits": bits, "steps": steps, "tol": tol, "threshold": threshold, "period": period,
                "max_period": max_period, "transient": transient, "method": "lohner-qr"})
    ds.attrs["symsharp"] = metadata("certify", cfg)
    return ds


def _fmt_mult(m) -> str:
    if m and m[0] == "complex":
        return f"a complex pair of modulus in [{m[1]:.6g}, {m[2]:.6g}]"
    if m and isinstance(m[0], str):
        return f"{m[0]} {m[1]:.6g}"
    return f"[{m[0]:.12g}, {m[1]:.12g}]"


def certify_json(ds: xr.Dataset) -> dict:
    """JSON of :func:`certify`: ``{"bits", "steps", "tol", "certified_steps", "naive_certified_steps",
    "pointwise_horizon", "horizon_ratio", "lyapunov", "exceeds_threshold_at", "stays_in_box",
    "periodic_orbit", "statements", "width": [max width per step]}``."""
    import json

    out = json.loads(ds.attrs["summary"])
    w = ds["width"].max("var").values
    out["width"] = [finite_or_none(v) for v in w]
    return out
