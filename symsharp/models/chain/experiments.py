"""Experiments on the chain model (single-neuron deep linear network): where does the sharpness
end, against the predictions.

Each experiment returns an :class:`xarray.Dataset` with labelled coordinates and the whole
configuration in ``attrs["symsharp"]`` (JSON), so :mod:`symsharp.plots.chain` can redraw it and
:func:`symsharp.io.save_result` can store it.

- :func:`sharpness_vs` sweeps one of N (through Q), depth D, learning rate η or batch size B over
  several initialisation seeds and records the final sharpness next to the predictions: Ŝ_D, the
  Y3/Y4-type bounds, the exact sharpness at the global minimum gradient flow would reach from the
  same start (:func:`symsharp.symbolic.chain_gf.gf_limit`), the small-start limit (all C_k = 0),
  and the exact formula S*(C) evaluated at the imbalances where the run ended.
- :func:`eos_run` is one GD run that reaches the edge of stability: the sharpness rises to 2/η
  and stays there while the imbalance C grows and S*(C) falls to 2/η.

Why S*(C_final): at every global minimum the sharpness depends only on the imbalances
C_k = ‖Π_W u‖² − v_k² (CHAIN-GF-sharpness).  GF conserves them; GD and SGD move them (Y5/Y6).  So
the final sharpness of a converged GD/SGD run is exactly S*(C_final), and η and B act only
through the drift of C.
"""
from __future__ import annotations

from ...errors import SymsharpError

import json
import math

import numpy as np
import xarray as xr

from ...data import REAL_KINDS, data_summary, make_dataset, svd_coordinates
from ...io import versions
from .dynamics import init_chain, run_chain
from .gf import gf_limit, gf_limit_sharpness

KINDS = ("N", "depth", "eta", "batch")
DEFAULT_VALUES = {"N": (20, 40, 60, 80, 100), "depth": (2, 3, 4, 5), "eta": (0.2, 0.5, 0.8, 1.1, 1.4, 1.7),
                  "batch": (1, 2, 5, 10, 20, None)}
"""Defaults per kind; for ``eta`` the values are multiples of 2/S_ref (S_ref the GF-limit sharpness from a
small start), for ``batch`` None means full batch (GD)."""

REAL_DEFAULT_VALUES = {
    "digits": {"N": (10, 20, 30, 40), "batch": (1, 5, 20, None)},
    "photo-patches": {"N": (25, 50, 100, 200), "batch": (1, 5, 20, None)},
}
"""Defaults of the sweeps on the real kinds where they differ from :data:`DEFAULT_VALUES`: N up to
40 for digits (the two-class digit sets have rank about 50, so larger N no longer interpolate)
and up to 200 for photo patches."""

REAL_STEPS = {"digits": 10 ** 6, "photo-patches": 4 * 10 ** 6}
"""Default GD/SGD steps of the sweeps on the real kinds (see :func:`sharpness_vs`)."""


class ExperimentError(SymsharpError):
    """A bad experiment argument (one clear sentence)."""


# ------------------------------------------------------------------------------ references
def references(X, y, depth: int, u0=None, v0=None, C=None) -> dict:
    """Predicted sharpness values for the data (X, y) at depth D.

    Always: ``Q``, ``sigma1``, ``S_hat`` (Ŝ_D), ``S_gf_small`` (exact sharpness of the GF limit
    from a small start, all C_k = 0) and the Y3/Y4 bounds there (``Y4_lower``, ``Y4_upper``).
    With (u0, v0): ``S_gf`` (exact GF-limit sharpness from that start) and ``C0``.  With ``C``
    (imbalances at a minimum): ``S_star`` = S*(C) and the CHAIN-GF-sharpness bounds
    ``lower``/``upper`` (Y3 for D = 2)."""
    E, s, W = svd_coordinates(X)
    dd = E.T @ np.asarray(y, float)
    N = np.asarray(X).shape[0]
    k = depth - 1
    small = gf_limit_sharpness(s, dd, np.zeros(k), N)
    out = {"Q": small["Q"], "sigma1": float(s[0]), "S_hat": small["S_hat"], "S_gf_small": small["sharpness"],
           "Y4_lower": small["lower"], "Y4_upper": small["upper"]}
    if u0 is not None:
        lim = gf_limit(X, y, u0, v0)
        out["S_gf"] = lim["sharpness"]
        out["C0"] = lim["C"]
    if C is not None:
        at = gf_limit_sharpness(s, dd, np.atleast_1d(C), N)
        out.update({"S_star": at["sharpness"], "lower": at["lower"], "upper": at["upper"]})
    return out


REAL_DEFAULTS = {"samples": {"digits": 40, "photo-patches": 100}, "preprocess": "standardize"}
"""Defaults of the sweeps on the real kinds (``digits``, ``photo-patches``): N = 40 digits (the
two-class digit sets have rank about 50) or 100 photo patches, and per-feature
standardisation (the preprocessing closest to the paper's reported Q values; see
:mod:`symsharp.data.real`); the real labels ±1 (no ``Q`` rescaling, no label noise)."""

SYNTHETIC_DEFAULTS = {"samples": 60, "dim": 120, "Q": 0.5, "noise": 0.5}
"""Defaults of the sweeps on the synthetic kinds."""


def _is_real(data) -> bool:
    return isinstance(data, str) and data in REAL_KINDS


def _data(data, samples, dim, data_seed, Q, spectrum, noise, classes=None, patch=None, preprocess=None):
    """(X, y) of one case: given arrays, or :func:`symsharp.data.make_dataset` of a kind."""
    if isinstance(data, dict):
        return np.asarray(data["X"], float), np.asarray(data["y"], float)
    if isinstance(data, tuple):
        return np.asarray(data[0], float), np.asarray(data[1], float)
    kw = {"spectrum": spectrum} if data == "spectrum" else {}
    for name, val in (("classes", classes), ("patch", patch), ("preprocess", preprocess)):
        if val is not None:
            kw[name] = val
    ds = make_dataset(data, samples=samples, dim=dim, seed=data_seed, Q=Q, noise=noise, **kw)
    return ds.X, ds.y


def _data_defaults(data, samples, dim, Q, noise, preprocess):
    """Fill the data options left None with the defaults of the data source."""
    if _is_real(data):
        if dim is not None:
            raise ExperimentError(f"dim does not apply to the real data kind {data!r} (the images decide it); "
                                  "leave it out")
        return (REAL_DEFAULTS["samples"][data] if samples is None else samples, None, None if Q == "default" else Q,
                0.0 if noise is None else noise,
                REAL_DEFAULTS["preprocess"] if preprocess is None else preprocess)
    c = SYNTHETIC_DEFAULTS
    return (c["samples"] if samples is None else samples, c["dim"] if dim is None else dim,
            c["Q"] if Q == "default" else Q, c["noise"] if noise is None else noise, preprocess)


def _bar(total, desc, progress):
    from tqdm.auto import tqdm

    # progress=None: tqdm decides (shown on a terminal, hidden in logs and tests)
    return tqdm(total=total, desc=desc, disable=(None if progress is None else not progress), leave=False)


# ------------------------------------------------------------------------------ sweeps
def sharpness_vs(kind: str = "depth", values=None, seeds=(0, 1, 2), steps: int | None = None, data="gaussian",
                 samples: int | None = None, dim: int | None = None, data_seed: int = 0, Q="default", spectrum=None,
                 noise: float | None = None, depth: int = 2, eta: float | None = None, eta_frac: float | None = None,
                 batch: int | None = None, replacement: bool = False, init_scale: float | None = None,
                 converged_tol: float | None = None, eta_relative: bool | None = None,
                 progress: bool | None = None, classes=None, patch=None, preprocess=None) -> xr.Dataset:
    """Final sharpness of GD/SGD on the chain model as one quantity varies.

    ``kind``: "N" (number of samples; Q changes with it unless ``Q`` is given — the default for
    this kind is Q = None), "depth", "eta" or "batch".  ``values``: the swept values (defaults in
    :data:`DEFAULT_VALUES`, for the real kinds :data:`REAL_DEFAULT_VALUES`; for "eta" the values
    are multiples of 2/S_ref when ``eta_relative`` (default: True exactly when ``values`` is not
    given), else learning rates).  ``data``: a kind for :func:`symsharp.data.make_dataset`
    (synthetic "gaussian", "spectrum", "image"; real "digits", "photo-patches" with ``classes``,
    ``patch`` and ``preprocess``) or a dict/tuple with X and y.  ``eta``: the learning rate for
    the kinds that do not sweep it; default ``eta_frac``·2/S_ref with S_ref the largest
    small-start GF-limit sharpness over the sweep (so every run is in the stable regime of the GF
    limit).  ``seeds`` are initialisation (and SGD batch) seeds; ``init_scale`` defaults to 0.1
    (0.25 for "depth", so that depth 5 leaves the saddle at 0 within the default steps).

    Defaults that depend on the data source (None or "default" above):

    - synthetic kinds: N = 60, d = 120, Q = 0.5 (y rescaled), label noise 0.5, 20 000 steps,
      ``eta_frac`` 0.25 (0.02 for "batch": one-example batches see curvatures ~ ‖x_j‖² far above
      the full-batch sharpness), ``converged_tol`` 1e-10;
    - real kinds (:data:`REAL_DEFAULTS`): N = 100, standardised pixels, the real labels ±1 (no Q
      rescaling, no noise), ``eta_frac`` 0.8 (0.1 for "batch") and many more steps
      (:data:`REAL_STEPS`: 10⁶ for digits, 4·10⁶ for photo patches), because real images put
      most of Q = Σ dᵢ²/σᵢ² into directions with small σᵢ, which GD learns at the rate
      η σᵢ² ∏v²/N — about (σ₁/σᵢ)² times slower than the top direction; ``converged_tol`` 1e-6.

    A run counts as converged when its final loss is within ``converged_tol``·max(1, L₀) of the
    minimum ‖y − Π y‖²/(2N).  ``q_fraction`` = ‖Π_W u‖²(∏v)²/Q is how much of Q = ‖X⁺y‖² the
    run has learned (1 at a global minimum: Π_W β = X⁺y there).

    Returns an xarray Dataset with dims (``kind``, seed[, layer]) and variables ``sharpness``,
    ``ntk``, ``loss``, ``max_sharpness``, ``C`` (final imbalances, NaN-padded over layer),
    ``S_star`` (exact S*(C_final)), ``lower``/``upper`` (bounds at C_final), ``S_gf`` (GF limit
    from the same start), ``q_fraction``, ``diverged``, ``converged``; per value ``S_hat``,
    ``S_gf_small``, ``Y4_lower``, ``Y4_upper``, ``Q``, ``sigma1``, ``sigma_min``, ``rank``,
    ``loss_min``, ``eta``, ``two_over_eta``, ``batch``, ``depth``, ``samples``."""
    if kind not in KINDS:
        raise ExperimentError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    real = _is_real(data)
    samples, dim, Q, noise, preprocess = _data_defaults(data, samples, dim, Q, noise, preprocess)
    if kind == "N" and Q == 0.5 and values is None:
        Q = None  # let Q grow with N (the point of the sweep)
    steps, converged_tol, init_scale, eta_frac = _sweep_defaults(kind, real, data, steps, converged_tol, init_scale,
                                                                 eta_frac)
    if eta_relative is None:
        eta_relative = values is None
    if values is None:
        values = REAL_DEFAULT_VALUES[data].get(kind, DEFAULT_VALUES[kind]) if real else DEFAULT_VALUES[kind]
    values, seeds = list(values), list(seeds)
    if not values or not seeds:
        raise ExperimentError("values and seeds must be non-empty")

    cases = _sweep_cases(kind, values, depth, data, samples, dim, data_seed, Q, spectrum, noise, classes, patch,
                         preprocess)
    S_ref = max(c[4]["S_gf_small"] for c in cases)
    if kind == "eta":
        etas = [float(v) * (2 / S_ref if eta_relative else 1.0) for v in values]
    else:
        etas = [float(eta) if eta is not None else eta_frac * 2 / S_ref] * len(values)
    kmax = max(c[1] for c in cases) - 1
    res, per = _sweep_arrays(len(values), len(seeds), kmax)
    batches = []
    label = f"sharpness vs {kind}" + (f" ({data})" if isinstance(data, str) else "")
    bar = _bar(len(values) * len(seeds), label, progress)
    try:
        for i, ((val, D, X, y, ref, svd), eta_i) in enumerate(zip(cases, etas)):
            for n in per:
                per[n][i] = ref[n]
            N = X.shape[0]
            B = (None if val is None or int(val) >= N else int(val)) if kind == "batch" else batch
            batches.append(N if B is None else B)
            for j, seed in enumerate(seeds):
                _final_state(res, i, j, X, y, D, eta_i, steps, B, replacement, seed, init_scale, svd, ref,
                             converged_tol)
                bar.update()
    finally:
        bar.close()
    ds = _sweep_dataset(kind, values, seeds, etas, cases, res, per, batches, kmax)
    cfg = {"experiment": "sharpness_vs", "kind": kind, "values": [None if v is None else float(v) for v in values],
           "seeds": seeds, "steps": steps, "data": data if isinstance(data, str) else "given", "samples": samples,
           "dim": dim, "data_seed": data_seed, "Q": Q, "spectrum": None if spectrum is None else list(map(float, spectrum)),
           "noise": noise, "depth": depth, "eta": etas, "eta_frac": eta_frac, "S_ref": S_ref, "batch": batch,
           "replacement": replacement, "init_scale": init_scale, "eta_relative": bool(eta_relative), "converged_tol": converged_tol,
           "model": "chain", "dtype": "float64", "versions": versions()}
    if real or any(v is not None for v in (classes, patch, preprocess)):
        cfg.update({"classes": classes, "patch": patch, "preprocess": preprocess})
    if kind == "N":
        cfg["Q_growth"] = q_power_law(ds["samples"].values, ds["Q"].values)
    ds.attrs["symsharp"] = json.dumps(cfg)
    ds.attrs["title"] = f"final sharpness vs {kind}" + (f" ({data})" if isinstance(data, str) else "")
    return ds


def _sweep_defaults(kind, real, data, steps, converged_tol, init_scale, eta_frac) -> tuple:
    """(steps, converged_tol, init_scale, eta_frac) with the defaults of the data source and the
    swept kind filled in (see :func:`sharpness_vs`)."""
    if steps is None:
        steps = REAL_STEPS[data] if real else 20000
    try:
        steps = int(steps)
    except (TypeError, ValueError):
        raise ExperimentError(f"steps must be a positive integer, got {steps!r}") from None
    if steps < 1:
        raise ExperimentError(f"steps must be a positive integer, got {steps!r}")
    if converged_tol is None:
        converged_tol = 1e-6 if real else 1e-10
    if init_scale is None:
        init_scale = 0.25 if kind == "depth" else 0.1
    if eta_frac is None:
        eta_frac = (0.1 if kind == "batch" else 0.8) if real else (0.02 if kind == "batch" else 0.25)
    return steps, converged_tol, init_scale, eta_frac


def _sweep_cases(kind, values, depth, data, samples, dim, data_seed, Q, spectrum, noise, classes, patch,
                 preprocess) -> list:
    """Per swept value: (value, D, X, y, references, svd) — the data, its SVD and the predicted
    sharpness values, once per value."""
    cases = []
    for val in values:
        D = int(val) if kind == "depth" else int(depth)
        if D < 2:
            raise ExperimentError(f"depth must be an integer >= 2, got {D!r}")
        n = int(val) if kind == "N" else samples
        X, y = _data(data, n, dim, data_seed, Q, spectrum, noise, classes, patch, preprocess)
        svd = svd_coordinates(X)
        cases.append((val, D, X, y, _references_svd(svd, y, X.shape[0], D), svd))
    return cases


def _sweep_arrays(n_values: int, n_seeds: int, kmax: int) -> tuple:
    """The result arrays of a sweep, NaN (or 0 for the flags) until a run fills them: per (value,
    seed), and per value."""
    shape = (n_values, n_seeds)
    res = {n: np.full(shape, np.nan) for n in ("sharpness", "ntk", "loss", "max_sharpness", "S_star", "lower",
                                               "upper", "S_gf", "q_fraction")}
    res["C"] = np.full(shape + (kmax,), np.nan)
    res["diverged"] = np.zeros(shape, np.int8)
    res["converged"] = np.zeros(shape, np.int8)
    per = {n: np.full(n_values, np.nan) for n in ("S_hat", "S_gf_small", "Y4_lower", "Y4_upper", "Q", "sigma1",
                                                 "sigma_min", "rank", "loss_min")}
    return res, per


def _final_state(res: dict, i: int, j: int, X, y, D: int, eta: float, steps: int, B, replacement, seed, init_scale,
                 svd, ref: dict, converged_tol: float) -> None:
    """One run of a sweep (value i, seed j): fill ``res[...][i, j]`` with its end state, the GF
    limit from the same start and S*(C) at the final imbalances."""
    N, d = X.shape
    E, s, W = svd
    dd = E.T @ y
    u0, v0 = init_chain(d, D, init_scale, seed)
    z0 = W.T @ u0
    C0 = float(z0 @ z0) - np.atleast_1d(v0) ** 2
    res["S_gf"][i, j] = gf_limit_sharpness(s, dd, C0, N)["sharpness"]
    run = run_chain(X, y, D, eta, steps, record_every=max(1, steps // 200), batch=B, replacement=replacement,
                    seed=seed, u0=u0, v0=v0, svd=svd)
    r = run.records
    if run.diverged or len(r["loss"]) == 0:
        res["diverged"][i, j] = 1
        return
    res["sharpness"][i, j] = r["sharpness"][-1]
    res["ntk"][i, j] = r["ntk"][-1]
    res["loss"][i, j] = r["loss"][-1]
    res["max_sharpness"][i, j] = np.nanmax(r["sharpness"])
    zf = W.T @ run.final_u
    res["q_fraction"][i, j] = float(zf @ zf) * float(np.prod(run.final_v)) ** 2 / ref["Q"]
    Cf = r["C"][-1]
    res["C"][i, j, :D - 1] = Cf
    res["converged"][i, j] = int(r["loss"][-1] - ref["loss_min"] <= converged_tol * max(1.0, r["loss"][0]))
    try:
        at = gf_limit_sharpness(s, dd, np.atleast_1d(Cf), N)
        res["S_star"][i, j], res["lower"][i, j], res["upper"][i, j] = at["sharpness"], at["lower"], at["upper"]
    except ValueError:
        pass


def _sweep_dataset(kind, values, seeds, etas, cases, res, per, batches, kmax) -> xr.Dataset:
    """The labelled Dataset of a sweep (dims (kind, seed[, layer]))."""
    coord = np.array([(-1 if v is None else v) for v in values], dtype=int) if kind != "eta" else np.array(etas)
    dims = (kind, "seed")
    ds = xr.Dataset({n: (dims, a) for n, a in res.items() if n != "C"},
                    coords={kind: coord, "seed": np.array(seeds, dtype=int), "layer": np.arange(1, kmax + 1)})
    ds["C"] = (dims + ("layer",), res["C"])
    for n, a in per.items():
        ds[n] = ((kind,), a.astype(int) if n == "rank" else a)
    ds["eta"] = ((kind,), np.array(etas)) if kind != "eta" else ds[kind].copy()
    ds["two_over_eta"] = ((kind,), 2 / np.array(etas))
    ds["batch"] = ((kind,), np.array(batches, dtype=int))
    ds["depth"] = ((kind,), np.array([c[1] for c in cases], dtype=int))
    ds["samples"] = ((kind,), np.array([c[2].shape[0] for c in cases], dtype=int))
    ds["dim"] = ((kind,), np.array([c[2].shape[1] for c in cases], dtype=int))
    for name, text in (("sharpness", "top eigenvalue of the loss Hessian after the run"),
                       ("S_hat", "predicted sharpness sigma1^2/N * Q^((D-1)/D)"),
                       ("S_gf_small", "exact sharpness of the gradient-flow limit from a small start (all C_k = 0)"),
                       ("S_gf", "exact sharpness of the gradient-flow limit from the same start"),
                       ("S_star", "exact sharpness S*(C) at the final imbalances"),
                       ("q_fraction", "|Pi_W u|^2 (prod v)^2 / Q: fraction of Q = |X^+ y|^2 learned"),
                       ("Q", "dataset difficulty |X^+ y|^2")):
        ds[name].attrs["long_name"] = text
    return ds


def _references_svd(svd, y, N: int, depth: int) -> dict:
    """:func:`references` (small start) from a precomputed SVD, plus ``sigma_min``, ``rank`` and
    ``loss_min`` = ‖y − Π y‖²/(2N)."""
    E, s, W = svd
    dd = E.T @ np.asarray(y, float)
    small = gf_limit_sharpness(s, dd, np.zeros(depth - 1), N)
    return {"Q": small["Q"], "sigma1": float(s[0]), "S_hat": small["S_hat"], "S_gf_small": small["sharpness"],
            "Y4_lower": small["lower"], "Y4_upper": small["upper"], "sigma_min": float(s[-1]), "rank": int(s.size),
            "loss_min": float(np.sum((np.asarray(y, float) - E @ dd) ** 2)) / (2 * N)}


def q_power_law(Ns, Qs) -> dict:
    """Least-squares fit log Q = log a + p log N over the points with Q > 0: ``{"exponent": p,
    "prefactor": a, "points": n}`` (NaN with fewer than two points or one N)."""
    Ns = np.asarray(Ns, float)
    Qs = np.asarray(Qs, float)
    ok = (Qs > 0) & (Ns > 0) & np.isfinite(Qs)
    if ok.sum() < 2 or np.ptp(Ns[ok]) == 0:
        return {"exponent": float("nan"), "prefactor": float("nan"), "points": int(ok.sum())}
    p, la = np.polyfit(np.log(Ns[ok]), np.log(Qs[ok]), 1)
    return {"exponent": float(p), "prefactor": float(np.exp(la)), "points": int(ok.sum())}


# ------------------------------------------------------------------------------ edge of stability
def flattest_imbalance(X, y, C_max: float | None = None) -> tuple:
    """(C_opt, S*(C_opt)): the imbalance (D = 2) whose global minimum is flattest, by a bounded
    scalar search of S*(C) on [−C_max, C_max] (default C_max = 10·(Q + 1))."""
    from scipy.optimize import minimize_scalar

    E, s, W = svd_coordinates(X)
    dd = E.T @ np.asarray(y, float)
    N = np.asarray(X).shape[0]
    Q = float(np.sum(dd ** 2 / s ** 2))
    cm = 10 * (Q + 1) if C_max is None else float(C_max)
    f = lambda c: gf_limit_sharpness(s, dd, [c], N)["sharpness"]
    grid = np.linspace(-cm, cm, 81)
    vals = [f(c) for c in grid]
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    r = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * (1 + cm)})
    return (float(r.x), float(r.fun)) if r.fun <= vals[i] else (float(grid[i]), float(vals[i]))


def eos_setup(samples: int | None = None, dim: int | None = None, spectrum=(4.0, 1.0), Q: float | None = 1.0,
              data_seed: int = 0, init_scale: float = 0.05, init_seed: int = 0, ratio: float = 0.3,
              data: str = "spectrum", classes=None, patch=None, preprocess=None):
    """A D = 2 problem that reaches the edge of stability from a small start.

    From a small start (C ≈ 0) GF would end at the sharpness S*(0).  GD with 2/η below S*(0) cannot
    settle there; GD raises C (Y5-corrected: ΔC ≥ 0 for C ≤ 0), and S*(C) falls with C near 0
    (CHAIN-GF-dS-dC) down to its minimum S_min at C_opt.  We pick 2/η = S_min + ratio·(S*(0) − S_min),
    so a stable minimum exists at some C between 0 and C_opt.

    ``data``: ``"spectrum"`` (default: N = 20, d = 40, singular values ``spectrum``, Q rescaled to
    ``Q``) or a real kind (``"digits"``, ``"photo-patches"``; default N = 40, standardised, real
    labels, ``Q`` ignored unless given explicitly as a number other than the default 1.0 — pass
    None to keep the labels) with ``classes``, ``patch``, ``preprocess``.
    Returns (X, y, u0, v0, eta, info)."""
    if data in REAL_KINDS:
        kw = {k: v for k, v in (("classes", classes), ("patch", patch)) if v is not None}
        ds = make_dataset(data, samples=40 if samples is None else samples, dim=dim, seed=data_seed,
                          Q=None if Q == 1.0 else Q, preprocess="standardize" if preprocess is None else preprocess,
                          **kw)
    elif data == "spectrum":
        for name, val in (("classes", classes), ("patch", patch), ("preprocess", preprocess)):
            if val is not None:
                raise ExperimentError(f"{name} applies only to the real data kinds {', '.join(REAL_KINDS)}")
        ds = make_dataset("spectrum", samples=20 if samples is None else samples, dim=40 if dim is None else dim,
                          seed=data_seed, spectrum=list(spectrum), Q=Q)
    else:
        raise ExperimentError(f"the edge-of-stability run takes data 'spectrum' or a real kind "
                              f"({', '.join(REAL_KINDS)}), got {data!r}")
    X, y = ds.X, ds.y
    N, d = X.shape
    E, s, W = svd_coordinates(X)
    dd = E.T @ y
    u0, v0 = init_chain(d, 2, init_scale, init_seed)
    C_opt, S_min = flattest_imbalance(X, y)
    S0 = gf_limit_sharpness(s, dd, [0.0], N)["sharpness"]
    target = S_min + ratio * (S0 - S_min)
    return X, y, u0, v0, 2 / target, {"S_balanced": S0, "S_min": S_min, "C_opt": C_opt, "two_over_eta": target}


def eos_run(steps: int | None = None, samples: int | None = None, dim: int | None = None, spectrum=(4.0, 1.0),
            Q: float | None = 1.0, data_seed: int = 0, init_scale: float = 0.05, init_seed: int = 0,
            ratio: float = 0.3, eta: float | None = None,
            X=None, y=None, u0=None, v0=None, record_every: int | None = None, dtype: str = "float64",
            progress: bool | None = None, data: str = "spectrum", classes=None, patch=None,
            preprocess=None) -> xr.Dataset:
    """One GD run (D = 2) that reaches the edge of stability; see :func:`eos_setup` for the default
    problem (``data`` "spectrum") and the real-data one (``data`` "digits" or "photo-patches").

    ``steps`` defaults to 3000 (synthetic) or 50 000 (real data, which learn slowly in their small
    singular directions); ``record_every`` to 1 (synthetic) or steps/5000 (real).
    Returns an xarray Dataset over ``step`` with ``loss``, ``sharpness``, ``ntk``, ``C``, ``prod_v``
    and ``S_star`` = S*(C(t)) (the sharpness of the minimum GF would reach from the current
    state), plus scalar ``eta``, ``two_over_eta``, ``S_gf`` (from the start), ``S_balanced`` and
    summary attributes in ``attrs["summary"]`` (JSON): late mean sharpness ratio to 2/η, C at start
    and end."""
    real = X is None and data in REAL_KINDS
    if steps is None:
        steps = 50_000 if real else 3000
    if record_every is None:
        record_every = max(1, int(steps) // 5000) if real else 1
    if X is None:
        X, y, u0_, v0_, eta_, info = eos_setup(samples, dim, spectrum, Q, data_seed, init_scale, init_seed, ratio,
                                               data=data, classes=classes, patch=patch, preprocess=preprocess)
        u0 = u0_ if u0 is None else u0
        v0 = v0_ if v0 is None else v0
        eta = eta_ if eta is None else eta
    else:
        if u0 is None or v0 is None or eta is None:
            raise ExperimentError("with X and y given, u0, v0 and eta must be given too")
        info = {}
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    N = X.shape[0]
    E, s, W = svd_coordinates(X)
    dd = E.T @ y
    run = run_chain(X, y, 2, eta, steps, record_every=record_every, u0=u0, v0=v0, dtype=dtype,
                    progress=bool(progress) if progress is not None else steps >= 200000)
    r = run.records
    C = r["C"][:, 0]
    S_star = np.array([gf_limit_sharpness(s, dd, [c], N)["sharpness"] for c in C])
    ds = xr.Dataset({"loss": ("step", r["loss"]), "sharpness": ("step", r["sharpness"]), "ntk": ("step", r["ntk"]),
                     "C": ("step", C), "prod_v": ("step", r["prod_v"]), "S_star": ("step", S_star)},
                    coords={"step": run.steps})
    S_gf = gf_limit(X, y, u0, v0)["sharpness"]
    S_bal = gf_limit_sharpness(s, dd, [0.0], N)["sharpness"]
    ds["eta"] = eta
    ds["two_over_eta"] = 2 / eta
    ds["S_gf"] = S_gf
    ds["S_balanced"] = S_bal
    n = len(run.steps)
    late = slice(int(0.8 * n), n)
    summary = {**{k: float(v) for k, v in info.items() if k in ("S_min", "C_opt")},
               "late_sharpness_over_2_eta": float(np.mean(r["sharpness"][late]) * eta / 2),
               "final_sharpness": float(r["sharpness"][-1]), "two_over_eta": 2 / eta, "S_gf": S_gf,
               "S_balanced": S_bal, "C_start": float(C[0]), "C_end": float(C[-1]),
               "final_loss": float(r["loss"][-1]), "max_sharpness": float(np.nanmax(r["sharpness"])),
               "diverged_at": run.diverged_at, "seconds": run.seconds}
    cfg = {"experiment": "eos_run", "steps": steps, "samples": N, "dim": X.shape[1], "data": data if real else
           ("spectrum" if info else "given"), "classes": classes, "patch": patch, "preprocess": preprocess, "spectrum": list(map(float, spectrum)),
           "Q": Q, "data_seed": data_seed, "init_scale": init_scale, "init_seed": init_seed, "ratio": ratio, "eta": eta,
           "u0": np.asarray(u0, float).tolist(), "v0": np.atleast_1d(np.asarray(v0, float)).tolist(),
           "record_every": record_every, "dtype": dtype, "depth": 2, "model": "chain", "versions": versions(),
           **{k: float(v) for k, v in info.items()}}
    ds.attrs["symsharp"] = json.dumps(cfg)
    ds.attrs["summary"] = json.dumps(summary)
    ds.attrs["title"] = "edge of stability (chain model, D = 2" + (f", {data})" if real else ")")
    return ds


# ------------------------------------------------------------------------------ Y8 helpers
def final_sharpness(X, y, depth, eta, steps, u0, v0, batch=None, seed=0, replacement=False) -> dict:
    """Run GD/SGD from (u0, v0) and return {sharpness, loss, C, S_star, diverged}: the measured
    final sharpness and the exact S*(C_final) (equal when the run converged)."""
    run = run_chain(X, y, depth, eta, steps, record_every=steps, batch=batch, seed=seed, replacement=replacement,
                    u0=u0, v0=v0)
    if run.diverged:
        return {"sharpness": math.nan, "loss": math.nan, "C": None, "S_star": math.nan, "diverged": True}
    Cf = run.records["C"][-1]
    return {"sharpness": float(run.records["sharpness"][-1]), "loss": float(run.records["loss"][-1]),
            "C": Cf.tolist(), "S_star": references(X, y, depth, C=Cf)["S_star"], "diverged": False}


def summary_table(ds: xr.Dataset) -> list:
    """Rows {value, sharpness_mean, sharpness_std, S_star_mean, S_gf_mean, S_hat, S_gf_small, two_over_eta, Q,
    q_fraction_mean, converged, diverged} of a :func:`sharpness_vs` result (for printing)."""
    kind = json.loads(ds.attrs["symsharp"])["kind"]
    rows = []
    for i, val in enumerate(ds[kind].values):
        sl = {kind: i}
        row = {kind: float(val), "sharpness_mean": float(ds.sharpness[sl].mean()),
               "sharpness_std": float(ds.sharpness[sl].std()), "S_star_mean": float(ds.S_star[sl].mean()),
               "S_gf_mean": float(ds.S_gf[sl].mean()), "S_hat": float(ds.S_hat[sl]),
               "S_gf_small": float(ds.S_gf_small[sl]), "two_over_eta": float(ds.two_over_eta[sl]),
               "Q": float(ds.Q[sl])}
        if "q_fraction" in ds:
            row["q_fraction_mean"] = float(ds.q_fraction[sl].mean())
        row.update({"converged": int(ds.converged[sl].sum()), "diverged": int(ds.diverged[sl].sum())})
        rows.append(row)
    return rows


EXPERIMENT_FIGURES = (
    ("chain_sharpness_vs_depth", "depth", "symsharp experiment chain-sharpness --vs depth"),
    ("chain_sharpness_vs_N", "N", "symsharp experiment chain-sharpness --vs N"),
    ("chain_sharpness_vs_eta", "eta", "symsharp experiment chain-sharpness --vs eta"),
    ("chain_sharpness_vs_batch", "batch", "symsharp experiment chain-sharpness --vs batch"),
    ("chain_eos", None, "symsharp experiment chain-eos"),
)
"""(figure stem, swept quantity or None for the EoS run, the command that reproduces it)."""


def draw_experiment_figures(directory, progress: bool | None = None) -> list:
    """Run every experiment of :data:`EXPERIMENT_FIGURES` with its defaults and draw it into ``directory``."""
    from pathlib import Path

    from .plots import plot_chain_result

    out = []
    for stem, kind, _ in EXPERIMENT_FIGURES:
        with np.errstate(all="ignore"):
            ds = eos_run(progress=progress) if kind is None else sharpness_vs(kind, progress=progress)
        out.append(plot_chain_result(ds, Path(directory) / f"{stem}.png"))
    return out
