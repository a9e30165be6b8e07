"""The chain model in the precision verbs, and the experiments behind claim Y9.

- :func:`raw_coordinates` — the chain spec's ``raw_coordinates`` hook: the data, the depth and the
  reduced (SVD-coordinate) map of the options, so that ``symsharp precision blowup chain`` runs the
  network's own arithmetic (raw coordinates, :class:`~symsharp.codegen.arith.ChainGD`) or the
  SymPy map in SVD coordinates;
- Y9 (``In the EoS phase the oscillation decays over time, and this is highly correlated with
  numerical precision: high precision may lead to loss explosion``): the data sets
  (:data:`DATASETS`), run configurations (:data:`CONFIGS`) and measurements — blow-up fractions
  per arithmetic (:func:`y9_blowup`, :func:`thresholds`), the delayed loss of stability
  (:func:`y9_delay`) and the decay of the oscillation in runs that survive (:func:`y9_decay`);
- ``derivations/precision.md`` (:func:`precision_documents`) and its figures
  (:func:`draw_precision_figures`).

Everything is deterministic (seeded data and initial states, Numba kernels whose results do not
depend on the tiling); results are computed once per process (``lru_cache``) and shared by the
claims, the document and the figures.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

# ================================================================================ the hook

SVD_MAX_RANK = 8
"""Largest data rank of the chain model's SymPy map in SVD coordinates."""


def raw_coordinates(o) -> dict:
    """The chain model's data for the precision verbs (``ModelSpec.raw_coordinates``), from its
    resolved ``dynamics`` options: ``{"X", "y", "depth", "svd_map", "description"}``;
    ``svd_map()`` builds (step, state, params, W) of GD in SVD coordinates (rank ≤ 8)."""
    from .system import _depth, chain_data

    data = chain_data(o["samples"], o["dim"], o["data_kind"], o["data_seed"], o["data_file"], o["target_q"],
                      classes=o["classes"], patch=o["patch"], preprocess=o["preprocess"])
    D = _depth(o["depth"])
    X, y = data.X, data.y

    def svd_map():
        from ...analysis.precision import chain_svd_map
        from ...data import svd_coordinates
        from ...dynamics.orbits import DynamicsError
        from .dynamics import chain_svd_model

        r = svd_coordinates(X)[1].size
        if r > SVD_MAX_RANK:
            raise DynamicsError(f"SVD coordinates need data of rank at most {SVD_MAX_RANK} (the symbolic reduced map); "
                                f"these data have rank {r}: use --coords raw")
        return chain_svd_map(chain_svd_model(X, y, D, max_rank=SVD_MAX_RANK), X)

    return {"X": X, "y": y, "depth": D, "svd_map": svd_map,
            "description": f"chain model D={D} on {data.name} (N={X.shape[0]}, d={X.shape[1]})"}


# ================================================================================ Y9: settings

DATASETS = {
    # ill-conditioned: 20 singular values falling geometrically by a factor 30 (rank 20)
    "ill": {"samples": 20, "dim": 40, "seed": 1, "condition": 30.0, "rank": 20, "Q": 2.0},
    # the control: the spectrum kind's default σ_i = √N·i^(-1/2) (condition number √20 ≈ 4.5)
    "well": {"samples": 20, "dim": 40, "seed": 1, "condition": None, "rank": None, "Q": 2.0},
    # rank 8 (the SVD-coordinate map's limit), condition number 100: raw against SVD coordinates
    "rank8": {"samples": 20, "dim": 40, "seed": 0, "condition": 100.0, "rank": 8, "Q": 2.0},
}
"""The data of the Y9 experiments: ``make_dataset("spectrum", samples, dim, seed, spectrum, Q)``
with spectrum √N·(1, c^(-1/(r-1)), …, 1/c) for condition number c and rank r (None: the kind's
default σ_i = √N·i^(-1/2))."""

RUN = {"depth": 2, "init_scale": 0.3, "threshold": 1e6, "check_every": 16}
"""GD of the Y9 experiments: depth 2, u ~ N(0, 0.3²/d·I), v ~ N(0, 0.3²) per seed
(:func:`symsharp.analysis.precision.chain_init`), divergence when some |θ_i| > 10⁶."""

CONFIGS = {
    # what `symsharp verify` runs (a few seconds)
    "reduced": {"seeds": 16, "steps": 2000, "grid": (2.0, 6.0, 17), "ariths": "float32,float64,dd",
                "noise_bits": (24, 52)},
    # what derivations/precision.md shows
    "document": {"seeds": 32, "steps": 3000, "grid": (2.0, 6.0, 17),
                 "ariths": "bfloat16,float16,float32,float64,dd", "noise_bits": (8, 11, 24, 40, 52)},
    # raw against SVD coordinates on rank-8 data
    "rank8": {"seeds": 16, "steps": 2000, "grid": (3.0, 8.0, 21), "ariths": "float32,float64,dd",
              "noise_bits": (24, 52)},
}
"""Blow-up runs: ``seeds`` (0 … n−1), ``steps``, the learning-rate grid in units of 2/S₀
(start, stop, count), the arithmetics and the mechanism test's injected-noise bits."""

EXIT_LEVEL = 0.01
"""The loss of stability becomes visible when the period-2 amplitude of the residual along the top
singular direction exceeds this fraction of the residual norm at the crossing."""

MAJORITY = 0.5
"""A learning rate 'blows up' an arithmetic when at least this fraction of the seeds diverges."""


def spectrum_of(data: dict):
    """The singular values of a Y9 data set (None: the spectrum kind's default)."""
    if data["condition"] is None:
        return None
    return list(math.sqrt(data["samples"]) * np.geomspace(1.0, 1.0 / data["condition"], data["rank"]))


def describe_data(name: str) -> str:
    """One line: how the data set ``name`` of :data:`DATASETS` is made."""
    d = DATASETS[name]
    sp = ("the spectrum kind's default σ_i = √N·i^(−1/2)" if d["condition"] is None else
          f"σ_i = √N·{d['condition']:g}^(−(i−1)/{d['rank'] - 1}), i = 1 … {d['rank']} (condition number "
          f"{d['condition']:g})")
    return (f"make_dataset(\"spectrum\", samples={d['samples']}, dim={d['dim']}, seed={d['seed']}, Q={d['Q']:g}) "
            f"with {sp}, {'X and y' if _full_rank(d) else 'y'} rounded to float32 values")


@lru_cache(maxsize=None)
def y9_problem(name: str) -> dict:
    """Data set ``name`` of :data:`DATASETS` with its numbers: ``X``, ``y``, singular values
    ``sigma``, ``condition``, ``Q``, ``S0`` (the sharpness of the gradient-flow limit from a
    balanced start C = 0, the edge of stability's reference: GD is stable there iff η < 2/S₀).
    X (if of full rank), y and S₀ are rounded to float32 values, so that every machine runs the same
    experiment."""
    from ...codegen.arith import round_float_array
    from ...data import make_dataset, svd_coordinates
    from .gf import gf_limit_sharpness

    d = DATASETS[name]
    ds = make_dataset("spectrum", samples=d["samples"], dim=d["dim"], seed=d["seed"], spectrum=spectrum_of(d),
                      Q=d["Q"])
    # The runs amplify differences in the last bit, and the QR, SVD and products that build the data
    # and S₀ differ in the last bits between BLAS builds and CPUs.  X, y and S₀ are therefore rounded
    # to float32 values: the same on every machine, and exact in every arithmetic of the experiment.
    # X only when of full rank: rounding would make a low-rank X of full rank.
    X = round_float_array(ds.X, "float32") if _full_rank(d) else ds.X
    y = round_float_array(ds.y, "float32")
    E, s, _ = svd_coordinates(X)
    gf = gf_limit_sharpness(s, E.T @ y, [0.0] * (RUN["depth"] - 1), X.shape[0])
    return {"X": X, "y": y, "sigma": s, "condition": float(s[0] / s[-1]), "Q": float(gf["Q"]),
            "S0": float(np.float32(gf["sharpness"])), "E": E}


def _full_rank(d) -> bool:
    return d["rank"] is None or d["rank"] >= min(d["samples"], d["dim"])


def rel_grid(config: str) -> np.ndarray:
    a, b, n = CONFIGS[config]["grid"]
    return np.linspace(a, b, n)


@lru_cache(maxsize=None)
def y9_blowup(data: str = "ill", config: str = "reduced", coords: str = "raw"):
    """Blow-up statistics of the Y9 experiment (:func:`symsharp.analysis.precision.blowup_chain`)
    on data set ``data`` with configuration ``config`` in ``coords`` (raw or svd); the dataset gets
    the coordinate ``eta_rel`` = η·S₀/2 along ``eta``."""
    from ...analysis.precision import blowup_chain

    p = y9_problem(data)
    c = CONFIGS[config]
    rel = rel_grid(config)
    kw = {}
    if coords == "svd":
        from ...analysis.precision import chain_svd_map
        from .dynamics import chain_svd_model

        kw["svd_map"] = chain_svd_map(chain_svd_model(p["X"], p["y"], RUN["depth"]), p["X"])
    ds = blowup_chain(p["X"], p["y"], RUN["depth"], rel * 2.0 / p["S0"], c["seeds"], c["steps"], c["ariths"],
                      coords=coords, init_scale=RUN["init_scale"], threshold=RUN["threshold"],
                      check_every=RUN["check_every"], noise_bits=list(c["noise_bits"]), progress=False, **kw)
    ds = ds.assign_coords(eta_rel=("eta", rel))
    ds["eta_rel"].attrs["description"] = "learning rate in units of 2/S0 (S0: gradient-flow-limit sharpness from C = 0)"
    return ds


def thresholds(ds) -> dict:
    """{arith row: the smallest η/(2/S₀) of the grid at which at least :data:`MAJORITY` of the
    seeds diverge, or None}."""
    rel = ds["eta_rel"].values
    out = {}
    for a in ds["arith"].values:
        f = ds["diverged_fraction"].sel(arith=a).values
        hit = np.flatnonzero(f >= MAJORITY)
        out[str(a)] = float(rel[hit[0]]) if hit.size else None
    return out


def window(ds, low: str = "float32", high: str = "float64"):
    """The grid point (η/(2/S₀)) where ``high`` diverges on the most seeds and ``low`` on the
    fewest (largest difference of the fractions; the smallest such η), with the two diverged
    counts; None when ``high`` never diverges more often."""
    rel = ds["eta_rel"].values
    fh = ds["diverged_fraction"].sel(arith=high).values
    fl = ds["diverged_fraction"].sel(arith=low).values
    diff = fh - fl
    if not np.any(diff > 0):
        return None
    j = int(np.flatnonzero(diff == diff.max())[0])
    n = ds.sizes["seed"]
    return {"eta_rel": float(rel[j]), "high": int(round(fh[j] * n)), "low": int(round(fl[j] * n)), "seeds": n}


# ================================================================================ Y9: mechanism

def _top_sharpness(X, y, u, v) -> float:
    """Top eigenvalue of the loss Hessian of the depth-2 chain model at (u, v) (dense)."""
    N, d = X.shape
    Xu = X @ u
    r = Xu * v - y
    J = np.hstack([v * X, Xu[:, None]])
    H = J.T @ J / N
    g = X.T @ r / N
    H[:d, d] += g
    H[d, :d] += g
    return float(np.linalg.eigvalsh(H)[-1])


def period2_amplitude(r) -> np.ndarray:
    """The amplitude of the period-2 (alternating) component of a sequence r_t: the sixth
    difference |Σ_k C(6, k)(−1)^k r_(t−3+k)|/64, exact for A·(−1)^t and blind to any polynomial
    drift of degree ≤ 5 (NaN for the first and last three steps)."""
    r = np.asarray(r, float)
    out = np.full(r.shape, np.nan)
    if r.size >= 7:
        w = np.array([1, -6, 15, -20, 15, -6, 1], float) / 64
        out[3:-3] = np.abs(np.convolve(r, w, mode="valid"))
    return out


def _trajectory(data, rel, seed, arith, steps):
    from ...analysis.precision import chain_init
    from ...codegen.arith import ChainGD

    p = y9_problem(data)
    X, y = p["X"], p["y"]
    eta = rel * 2.0 / p["S0"]
    U0, V0 = chain_init(X.shape[1], RUN["depth"], [seed], RUN["init_scale"])
    r = ChainGD(X, y, RUN["depth"], arith).run(U0, V0, eta, steps, threshold=RUN["threshold"], check_every=1,
                                               record_every=1)
    rec = r.records[:, 0, :]
    ok = np.all(np.isfinite(rec), axis=1) & (np.max(np.abs(rec), axis=1) <= 1e3)
    T = int(np.argmin(ok)) if not ok.all() else rec.shape[0]
    rec = rec[:T]
    u, v = rec[:, :-1], rec[:, -1]
    res = (u @ X.T) * v[:, None] - y
    loss = np.sum(res ** 2, axis=1) / (2 * X.shape[0])
    r1 = res @ p["E"][:, 0]
    amp = period2_amplitude(r1)
    return {"eta": eta, "rec": rec, "loss": loss, "r1": r1, "amp": amp, "rnorm": np.sqrt(2 * X.shape[0] * loss),
            "diverged_at": int(r.diverged_at[0])}


@lru_cache(maxsize=None)
def y9_delay(data: str = "ill", rel: float = 4.25, seed: int = 0, ariths=("float32", "float64", "dd"),
             steps: int = 400) -> dict:
    """The delayed loss of stability, per arithmetic, for one seed at η = rel·2/S₀: the
    trajectory's ηS_t (exact top Hessian eigenvalue), loss and the period-2 amplitude of the
    residual along the top singular direction; ``t_cross`` (first step with ηS > 2),
    ``damping_bits`` = −Σ_{t < t_cross} log₂|1 − ηS_t| (how far the period-2 mode along the top
    Hessian direction is damped, linearised, before the crossing), ``t_exit`` (first step after the
    crossing at which the period-2 amplitude of the top residual exceeds :data:`EXIT_LEVEL` times
    the residual norm at the crossing: the oscillation has become visible, the catapult starts) and
    ``overshoot`` = ηS at ``t_exit`` (how far past the edge the sharpness got), ``diverged_at``."""
    p = y9_problem(data)
    out = {}
    for a in ariths:
        tr = _trajectory(data, rel, seed, a, steps)
        u, v = tr["rec"][:, :-1], tr["rec"][:, -1]
        es = np.array([tr["eta"] * _top_sharpness(p["X"], p["y"], u[t], v[t]) for t in range(len(v))])
        above = np.flatnonzero(es > 2)
        tc = int(above[0]) if above.size else None
        res = {"eta_S": es, "loss": tr["loss"], "amp": tr["amp"], "diverged_at": tr["diverged_at"], "t_cross": tc,
               "damping_bits": None, "t_exit": None, "overshoot": None}
        if tc is not None:
            res["damping_bits"] = float(-np.sum(np.log2(np.abs(1.0 - es[:tc]))))
            with np.errstate(invalid="ignore"):
                rise = np.flatnonzero(tr["amp"][tc:] > EXIT_LEVEL * tr["rnorm"][tc])
            if rise.size:
                res["t_exit"] = tc + int(rise[0])
                res["overshoot"] = float(es[res["t_exit"]])
        out[a] = res
    return out


@lru_cache(maxsize=None)
def y9_decay(data: str = "ill", rel: float = 4.0, seed: int = 0, arith: str = "float32", steps: int = 5000,
             window_steps: int = 2000) -> dict:
    """The oscillation in a run that survives at the edge of stability: ``eta_S_end`` (ηS at the
    last step), the measured per-step factor of the period-2 amplitude over the last
    ``window_steps`` steps, ``factor_measured`` = (a_T / a_{T−w})^(1/w), against the linearised
    multiplier ``factor_predicted`` = |1 − ηS| at the end, ``loss_end``, ``diverged_at``."""
    p = y9_problem(data)
    tr = _trajectory(data, rel, seed, arith, steps)
    if tr["diverged_at"] >= 0 or len(tr["loss"]) < steps + 1:
        return {"diverged_at": tr["diverged_at"], "eta_S_end": None, "factor_measured": None,
                "factor_predicted": None, "loss_end": None, "amp": tr["amp"], "loss": tr["loss"]}
    u, v = tr["rec"][:, :-1], tr["rec"][:, -1]
    es_end = tr["eta"] * _top_sharpness(p["X"], p["y"], u[-1], v[-1])
    a = tr["amp"]
    # the mean amplitude of a few steps at both ends of the window
    a1, a0 = float(np.mean(a[-11:-3])), float(np.mean(a[-window_steps - 11:-window_steps - 3]))
    return {"diverged_at": -1, "eta_S_end": float(es_end), "factor_measured": (a1 / a0) ** (1.0 / window_steps),
            "factor_predicted": float(abs(1.0 - es_end)), "loss_end": float(tr["loss"][-1]),
            "amp": tr["amp"], "loss": tr["loss"], "amp_start": a0, "amp_end": a1}


# ================================================================================ the document

DOCUMENT = "precision.md"
FIGURES = {"horizon": "precision_horizon", "certify": "precision_certify", "blowup": "precision_blowup",
           "coords": "precision_blowup_coords", "delay": "precision_y9_delay"}
"""Figure stems in ``derivations/figures`` (all start with ``precision_``)."""

UV_SETTING = {"x0": {"f": "0", "lam": "0.1"}, "params": {"a": "0.01", "y": "1"}, "tol": 1e-3,
              "horizon_ariths": "float32,float64,dd,mpfr:256,mpfr:1024,arb:256", "horizon_eta": "15",
              "certify": (("15", 400), ("11", 3000), ("17", 50))}
"""The UV runs of the document: the map of ``get_model("uv").map_kwargs({})`` (a = 1/100, y = 1,
η_c = 10) from f₀ = 0, λ₀ = 1/10."""

DELAY_ARITHS = ("float32", "float64", "dd", "mpfr:256")
"""Arithmetics of the document's step-by-step run (mpfr:256 stands in for exact arithmetic)."""

LONG_DOUBLE = {"arith": "mpfr:64", "grid": (2.75, 3.0), "seeds": 8, "steps": 600}
"""The extended-precision (64-bit significand, like x87 long double) runs of the document."""


@lru_cache(maxsize=None)
def _uv_map():
    from ..registry import get_model

    return get_model("uv").map_kwargs({})


@lru_cache(maxsize=None)
def uv_horizon():
    """Precision horizons of the UV map at η = 15 (Dataset of
    :func:`symsharp.analysis.precision.precision_horizon`)."""
    from ...analysis.precision import precision_horizon

    kw = _uv_map()
    s = UV_SETTING
    return precision_horizon(kw["step"], s["x0"], {"eta": s["horizon_eta"], **s["params"]}, s["horizon_ariths"],
                             tol=s["tol"], state=kw["state"], param_order=kw["params"], name="uv_precision")


@lru_cache(maxsize=None)
def uv_certify(eta: str, steps: int):
    """Certified run of the UV map at η = ``eta`` (Dataset of :func:`symsharp.analysis.precision.certify`)."""
    from ...analysis.precision import certify

    kw = _uv_map()
    s = UV_SETTING
    return certify(kw["step"], s["x0"], {"eta": eta, **s["params"]}, bits=256, steps=steps, tol=s["tol"],
                   state=kw["state"], param_order=kw["params"], name="uv_precision")


@lru_cache(maxsize=None)
def long_double_blowup():
    """The Y9 data at two learning rates between the double-double and float64 thresholds in
    ``mpfr:64`` (a 64-bit significand, like x87 long double) and float64."""
    from ...analysis.precision import blowup_chain

    p = y9_problem("ill")
    c = LONG_DOUBLE
    rel = np.asarray(c["grid"], float)
    ds = blowup_chain(p["X"], p["y"], RUN["depth"], rel * 2.0 / p["S0"], c["seeds"], c["steps"],
                      f"float64,{c['arith']}", init_scale=RUN["init_scale"], threshold=RUN["threshold"],
                      check_every=RUN["check_every"], mechanism=False, progress=False)
    return ds.assign_coords(eta_rel=("eta", rel))


def _json(ds) -> dict:
    import json

    return json.loads(ds.attrs["summary"])


def _fmt_rel(v) -> str:
    return "—" if v is None else f"{v:g}"


def _fraction_table(ds) -> list:
    rows = [str(a) for a in ds["arith"].values]
    head = ["η/(2/S₀)", "η"] + [r.replace("float64+noise:", "f64+2^-") for r in rows]
    L = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for j, (r, e) in enumerate(zip(ds["eta_rel"].values, ds["eta"].values)):
        L.append(f"| {r:g} | {e:.4g} | " + " | ".join(f"{ds['diverged_fraction'].values[j, i]:.2f}"
                                                     for i in range(len(rows))) + " |")
    return L


def _threshold_line(ds) -> str:
    th = thresholds(ds)
    return ", ".join(f"{a} {_fmt_rel(v)}" for a, v in th.items())


def _md_horizon() -> list:
    from ...analysis.precision import horizon_json

    j = horizon_json(uv_horizon())
    s = UV_SETTING
    L = ["## 1. Precision horizons: the law (bits·ln 2 + ln tol)/λ", "",
         "The UV model's function-space GD map (state f, λ; the map its kernels are compiled from, "
         "`get_model(\"uv\").map_kwargs({})`) with a = α²‖x‖²/n = 1/100 and y = 1 (η_c = 10), at η = "
         f"{s['horizon_eta']} from the exact state f₀ = 0, λ₀ = 1/10, is chaotic. Each arithmetic runs the same "
         f"SymPy map from the same exact numbers; the horizon is the first step at which f leaves a {j['reference']} "
         f"reference (itself checked against a reference with 25 % more bits for {j['reference_checked_steps']} steps) "
         f"by more than tol = {s['tol']:g} relative. The largest Lyapunov exponent (exact Jacobian, 20 000 steps at "
         f"128 bits) is λ = {j['lyapunov']:.4f}; the finite-time law is the first n at which the accumulated "
         "log-stretch along the reference orbit reaches bits·ln 2 + ln tol.", "",
         "| arithmetic | bits | horizon (steps) | law (bits·ln2 + ln tol)/λ | finite-time law | horizon/law |",
         "|---|---:|---:|---:|---:|---:|"]
    for r in j["rows"]:
        ratio = "—" if not (r["horizon"] and r["predicted"]) else f"{r['horizon'] / r['predicted']:.3f}"
        name = r["arith"] + (" (midpoints of Lohner balls)" if r["arith"].startswith("arb:") else "")
        L.append(f"| {name} | {r['bits']} | {r['horizon']} | {r['predicted']:.1f} | {r['predicted_finite']} | "
                 f"{ratio} |")
    def dev(lo, hi=10 ** 9):
        d = [abs(r["horizon"] - r["predicted"]) / r["predicted"] for r in j["rows"]
             if lo <= r["bits"] <= hi and r["horizon"] and r["predicted"] and not r["arith"].startswith("arb:")]
        return max(d) if d else float("nan")

    def dev_ft(lo):
        d = [abs(r["horizon"] - r["predicted_finite"]) / r["predicted_finite"] for r in j["rows"]
             if r["bits"] >= lo and r["horizon"] and r["predicted_finite"] and not r["arith"].startswith("arb:")]
        return max(d) if d else float("nan")

    L += ["", f"From 53 bits up every horizon is within {dev(53):.0%} of the law ({dev(106):.1%} from 106 bits up); "
          f"against the finite-time law, which follows the actual orbit's stretching, within {dev_ft(53):.0%}. "
          f"Below 53 bits the law is off by {dev(1, 52):.0%} (float32). (Claim PRECISION-horizon-law.)", "",
          f"![precision horizon against bits](figures/{FIGURES['horizon']}.png)", "",
          "Reproduce: `symsharp precision horizon uv --eta 15 --f0 0 --lam0 0.1 --arith "
          f"{s['horizon_ariths']} --plot horizon.png`", ""]
    return L


def _md_certify() -> list:
    runs = {eta: _json(uv_certify(eta, steps)) for eta, steps in UV_SETTING["certify"]}
    c15, c11, c17 = runs["15"], runs["11"], runs["17"]
    po = c11["periodic_orbit"] or {}
    L = ["## 2. Certified runs: Lohner's moving frame against naive balls", "",
         "python-flint ball arithmetic at 256 bits, propagated in Lohner's QR moving frame with the exact Jacobian "
         "SymPy derives, from the same exact initial state; a step is certified while every state variable's "
         "enclosure is narrower than 10⁻³·max(1, |midpoint|).", "",
         "| η | orbit | Lohner certified steps | naive balls | pointwise horizon of mpfr:256 | ratio |",
         "|---:|---|---:|---:|---:|---:|",
         f"| 15 | chaotic (λ = {c15['lyapunov']:.4f}) | {c15['certified_steps']} | {c15['naive_certified_steps']} | "
         f"{c15['pointwise_horizon']} | {c15['horizon_ratio']:.3f} |",
         f"| 11 | attracting 2-cycle (λ = {c11['lyapunov']:.4f}) | {c11['certified_steps']} of {c11['steps']} | "
         f"{c11['naive_certified_steps']} | none (agrees for ever) | — |",
         f"| 17 | escapes | {c17['certified_steps']} | {c17['naive_certified_steps']} | "
         f"{c17['pointwise_horizon'] if c17['pointwise_horizon'] is not None else '—'} | — |", "",
         "Naive ball iteration loses its digits within a few tens of steps even on the attracting cycle (the "
         "wrapping effect); the moving frame keeps the enclosure tight to "
         f"{c15['horizon_ratio']:.0%} of the pointwise horizon on the chaotic orbit and for the whole run on the "
         "attracting one. (Claims PRECISION-certified-horizon, PRECISION-uv-two-cycle.)", "",
         "Citable statements (as printed by `symsharp precision certify`):", ""]
    for c in (c11, c17):
        for st in c["statements"]:
            L.append(f"- {st}")
    if po.get("proved"):
        L += ["", f"The Krawczyk test on F² in 256-bit balls proves the period-{po['period']} orbit; its multipliers "
              f"are enclosed in {', '.join(f'[{m[0]:.16g}, {m[1]:.16g}]' for m in po['multipliers'])} (trace "
              f"[{po['trace'][0]:.16g}, {po['trace'][1]:.16g}], determinant [{po['det'][0]:.16g}, {po['det'][1]:.16g}])."]
    L += ["", f"![enclosure widths](figures/{FIGURES['certify']}.png)", "",
          "Reproduce: `symsharp precision certify uv --eta 15 --f0 0 --lam0 0.1 --steps 400`, "
          "`… --eta 11 --steps 3000`, `… --eta 17 --steps 50`", ""]
    return L


def _delay_table(dl) -> list:
    L = ["| arithmetic | ηS > 2 from step | damping before (bits) | visible at step | ηS there (overshoot) | "
         "blow-up step |", "|---|---:|---:|---:|---:|---:|"]
    for a, r in dl.items():
        over = "—" if r["overshoot"] is None else f"{r['overshoot']:.3f}"
        fate = "survives" if r["diverged_at"] < 0 else str(r["diverged_at"])
        L.append(f"| {a} | {r['t_cross']} | {r['damping_bits']:.1f} | {r['t_exit']} | {over} | {fate} |")
    return L


def _md_blowup() -> list:
    import json

    p = y9_problem("ill")
    c = CONFIGS["document"]
    ds = y9_blowup("ill", "document")
    th = thresholds(ds)
    w = window(ds)
    two = 2.0 / p["S0"]
    a, b, n = c["grid"]
    mech = json.loads(ds.attrs["mechanism"])
    L = ["## 3. Blow-up at the edge of stability: the chain model (claim Y9)", "",
         "Settings:", "",
         f"- data: {describe_data('ill')}; singular values σ₁ = {p['sigma'][0]:.4g} … σ_r = {p['sigma'][-1]:.4g} "
         f"(condition number {p['condition']:.4g}), Q = {p['Q']:.4g};",
         f"- model and GD: depth {RUN['depth']}, full batch, constant η, from u ~ N(0, {RUN['init_scale']}²/d·I), "
         f"v ~ N(0, {RUN['init_scale']}²) drawn per seed (seeds 0 … {c['seeds'] - 1}), {c['steps']} steps; a run blows "
         f"up when some |θ_i| exceeds {RUN['threshold']:g} (checked every {RUN['check_every']} steps);",
         f"- learning rates: {n} values η/(2/S₀) = {a:g} … {b:g}, where S₀ = {p['S0']:.6g} is the sharpness of the "
         f"gradient-flow limit from a balanced start (C = 0): above 2/S₀ = {two:.6g} that limit is unstable for GD, "
         "which must reach the edge of stability first;",
         f"- arithmetic: raw coordinates — the network's own forward and backward pass with every operation rounded "
         f"(`ChainGD`), in {c['ariths'].replace(',', ', ')}; the mechanism test repeats float64 with a relative "
         f"perturbation 2^−p injected into every parameter after every step, p = "
         f"{', '.join(str(q) for q in c['noise_bits'])}.", "",
         "Fraction of the seeds that blow up:", ""]
    L += _fraction_table(ds)
    L += ["", f"Smallest η/(2/S₀) at which at least half the seeds blow up: {_threshold_line(ds)}.", ""]
    if w is not None:
        L.append(f"At η = {w['eta_rel']:g}·2/S₀ float64 blows up on {w['high']} of {w['seeds']} seeds and float32 on "
                 f"{w['low']}.")
    for k in ("bfloat16", "float16"):
        if k in th:
            mx = float(ds["diverged_fraction"].sel(arith=k).values.max())
            L.append(f"{k} (emulated, every operation rounded) " + ("never blows up on this grid." if mx == 0 else
                     f"blows up on at most {mx:.0%} of the seeds at any η of the grid."))
    L += ["", f"Mechanism test: {mech['verdict']}.", "",
          f"![blow-up fractions](figures/{FIGURES['blowup']}.png)", ""]
    ld = long_double_blowup()
    LD = LONG_DOUBLE
    L += [f"A 64-bit significand (`{LD['arith']}`, the precision of x87 long double; Python-level MPFR, so only "
          f"{LD['seeds']} seeds and {LD['steps']} steps) between the double-double and float64 thresholds:", "",
          "| η/(2/S₀) | " + " | ".join(str(x) for x in ld["arith"].values) + " |", "|---:|" + "---:|" * ld.sizes["arith"]]
    for j, r in enumerate(ld["eta_rel"].values):
        L.append(f"| {r:g} | " + " | ".join(f"{v:.2f}" for v in ld["diverged_fraction"].values[j]) + " |")
    fl = ld["diverged_fraction"].values
    more = bool(np.all(fl[:, 1] >= fl[:, 0])) and bool(np.any(fl[:, 1] > fl[:, 0]))
    L += ["", ("The extended format blows up where float64 still survives: more bits, more blow-ups." if more else
               "The extended format does not blow up more often than float64 here."), ""]
    # raw against SVD coordinates
    q = y9_problem("rank8")
    raw, svd = y9_blowup("rank8", "rank8", "raw"), y9_blowup("rank8", "rank8", "svd")
    tr, ts = thresholds(raw), thresholds(svd)
    cr = CONFIGS["rank8"]
    L += ["### Raw against SVD coordinates", "",
          f"The SymPy map in SVD coordinates (z = Wᵀu, v) needs data of rank ≤ {SVD_MAX_RANK}. On {describe_data('rank8')} "
          f"(S₀ = {q['S0']:.6g}; {cr['seeds']} seeds, {cr['steps']} steps, η/(2/S₀) = {cr['grid'][0]:g} … "
          f"{cr['grid'][1]:g}) the same runs in both coordinates — the rounding differs: raw coordinates round the "
          "network's N×d products, SVD coordinates the reduced map's r + 1 variables:", "",
          "| arithmetic | threshold η/(2/S₀), raw | threshold η/(2/S₀), SVD |", "|---|---:|---:|"]
    for k in tr:
        L.append(f"| {k} | {_fmt_rel(tr[k])} | {_fmt_rel(ts.get(k))} |")
    step = (cr["grid"][1] - cr["grid"][0]) / (cr["grid"][2] - 1)
    diffs = [abs(tr[k] - ts[k]) / step for k in tr if tr[k] is not None and ts.get(k) is not None]
    order_r = [tr.get(k) for k in ("dd", "float64", "float32")]
    order_s = [ts.get(k) for k in ("dd", "float64", "float32")]
    L += ["", (f"The thresholds in the two coordinates differ by at most {max(diffs):.0f} grid step"
               f"{'s' if max(diffs) != 1 else ''}" if diffs else "No threshold is on the grid in both coordinates")
          + f" (raw: dd {_fmt_rel(order_r[0])}, float64 {_fmt_rel(order_r[1])}, float32 {_fmt_rel(order_r[2])}; "
          f"SVD: {_fmt_rel(order_s[0])}, {_fmt_rel(order_s[1])}, {_fmt_rel(order_s[2])}).", "",
          f"![raw and SVD coordinates](figures/{FIGURES['coords']}.png)", ""]
    # control
    wl = y9_blowup("well", "reduced")
    pw = y9_problem("well")
    L += ["### Control: well-conditioned data", "",
          f"{describe_data('well')} (condition number {pw['condition']:.3g}, S₀ = {pw['S0']:.6g}), otherwise as above "
          f"with the reduced configuration ({CONFIGS['reduced']['seeds']} seeds, {CONFIGS['reduced']['steps']} steps): "
          f"thresholds {_threshold_line(wl)} — every arithmetic blows up from the same η, on the same seeds.", ""]
    return L


def _md_mechanism() -> list:
    ds = y9_blowup("ill", "document")
    w = window(ds)
    rel = w["eta_rel"] if w is not None else 3.5
    dl = y9_delay(rel=rel, ariths=DELAY_ARITHS)
    dw = y9_delay("well", rel=thresholds(y9_blowup("well", "reduced"))["float64"] or 2.25)
    dc = y9_decay(rel=rel)
    L = ["## 4. The mechanism: a delayed loss of stability", "",
         f"Seed 0 at η = {rel:g}·2/S₀ on the ill-conditioned data, step by step, with ηS_t from the exact Hessian "
         "(dense eigensolver) and the period-2 amplitude of the residual r_t along the top singular direction "
         "(its sixth difference |Σ_k C(6,k)(−1)^k r_(t−3+k)|/64, blind to the slow drift); 'visible' is the first "
         "step after the crossing at which that amplitude "
         f"exceeds {EXIT_LEVEL:.0%} of the residual norm at the crossing:", ""]
    L += _delay_table(dl)
    f64 = dl["float64"]
    L += ["", f"While ηS < 2 the period-2 mode along the top Hessian direction contracts by |1 − ηS_t| per step; "
          f"the sharpness rises slowly (progressive sharpening while the small singular directions are fitted) and "
          f"reaches 2/η only at step {f64['t_cross']}, by which time the mode has been damped by "
          f"{f64['damping_bits']:.0f} bits — below the rounding level of float32 (24 bits) and of float64 (53). After "
          "the crossing it grows again, but from the rounding floor 2^−p rather than from its exact size, so the "
          "instability becomes visible later the more bits there are, while the sharpness keeps rising: the "
          "overshoot of ηS past 2 grows with the precision, and the catapult from a large overshoot explodes."
          + _exact_remark(dl), "",
          f"On the well-conditioned control data the crossing comes at step {dw['float64']['t_cross']} after "
          f"{dw['float64']['damping_bits']:.1f} bits of damping — never below float32's rounding level — and every "
          "arithmetic follows the same path.", ""]
    if dc["eta_S_end"] is not None:
        L += [f"The runs that survive settle at the edge: float32 at η = {rel:g}·2/S₀ (seed 0) converges to a minimum "
              f"with ηS = {dc['eta_S_end']:.5f}; its period-2 oscillation shrinks by {dc['factor_measured']:.5f} per "
              f"step over the last 2000 of 5000 steps, the linearised factor |1 − ηS| = {dc['factor_predicted']:.5f}, "
              f"down to a loss of {dc['loss_end']:.1e}.", ""]
    L += [f"![delayed loss of stability](figures/{FIGURES['delay']}.png)", ""]
    return L


def _exact_remark(dl) -> str:
    hi = dl.get("mpfr:256")
    dd = dl.get("dd")
    if hi is None or dd is None or hi["t_exit"] is None:
        return ""
    same = hi["t_exit"] == dd["t_exit"]
    return (f" With 256 bits (a rounding floor far below the 2^−{hi['damping_bits']:.0f} the mode decays to, so "
            "close to exact arithmetic) "
            f"the instability becomes visible at step {hi['t_exit']} (ηS = {hi['overshoot']:.3f})"
            + (", as in double-double: its 106 bits already exceed the damping, so it follows the exact path."
               if same else f", double-double at step {dd['t_exit']}."))


def _md_meaning() -> list:
    ds = y9_blowup("ill", "document")
    th = thresholds(ds)
    rows = list(ds["arith"].values)
    da = ds["diverged_at"].values
    trio = [a for a in ("float32", "float64", "dd") if a in rows]
    allb = [j for j in range(ds.sizes["eta"]) if all(np.all(da[j, rows.index(a)] >= 0) for a in trio)]
    when = ""
    if allb:
        j = allb[0]
        med = {a: int(np.median(da[j, rows.index(a)])) for a in trio}
        later = med["dd"] >= med["float64"] >= med["float32"]
        when = (f" Where all three blow up on every seed (η = {ds['eta_rel'].values[j]:g}·2/S₀) the median blow-up "
                f"step is float32 {med['float32']}, float64 {med['float64']}, double-double {med['dd']}"
                + (": higher precision blows up more often, not earlier in time." if later else "."))
    return ["## 5. What Y9 turns out to mean", "",
            "Claim Y9 — \"in the EoS phase the oscillation decays over time, and this is highly correlated with "
            "numerical precision: high precision may lead to loss explosion\" — holds as worded, and the checkers "
            "(Y9, Y9-window, Y9-mechanism, Y9-decay, Y9-control) pin down when:", "",
            "- **More bits blow up more often**: the learning rate from which GD blows up falls with the mantissa "
            f"bits (here, in units of 2/S₀: float32 {_fmt_rel(th.get('float32'))}, float64 "
            f"{_fmt_rel(th.get('float64'))}, double-double {_fmt_rel(th.get('dd'))}"
            + "".join(f"; {k} {'none on the grid' if th.get(k) is None else _fmt_rel(th[k])}"
                      for k in ("bfloat16", "float16") if k in th) + "). Near "
            "the thresholds the lower precision survives on (nearly) every seed where the higher one blows up on "
            "every seed." + when,
            "- **The oscillation decays in the survivors**: they converge to a minimum just below the edge, ηS → 2⁻, "
            "and the period-2 oscillation decays by |1 − ηS| per step.",
            "- **Why**: rounding noise of size 2^−p seeds the instability at the edge. When the sharpness rises "
            "slowly through 2/η, the period-2 mode is damped below the rounding level before the crossing and "
            "regrows from it afterwards; the loss of stability is delayed longer the more bits there are, ηS "
            "overshoots further, and a larger catapult explodes. Float64 with injected relative noise "
            "2^−p reproduces the p-bit arithmetic (the mechanism test), so it is the noise level, not the format.",
            "- **Conditions**: progressive sharpening slow enough that the mode is damped by more than the lower "
            "precision's mantissa bits before the crossing (here: ill-conditioned data, a small start), and η in the "
            "window between the two precisions' thresholds. Below the window neither blows up, above it both do; on "
            "well-conditioned data the crossing is fast and precision does not matter.",
            "- **Exact arithmetic is the limit**: once the bits exceed the damping before the crossing, the run "
            "follows the exact-arithmetic path (longest delay, largest overshoot); adding precision never helped on "
            "these data — rounding noise acts as a regulariser of the edge of stability.", ""]


def precision_markdown() -> str:
    """``derivations/precision.md`` (deterministic)."""
    head = ["# Precision: horizons, certified runs and blow-up at the edge of stability", "",
            "Generated by `symsharp write-derivations` (`symsharp.models.chain.precision`); every number is computed "
            "when the document is generated, from one SymPy map (or, for the chain model in raw coordinates, one "
            "generated GD step) printed into every arithmetic: emulated bfloat16/float16, float32, float64, "
            "double-double, MPFR, and python-flint balls for certified enclosures. Claims: PRECISION-horizon-law, "
            "PRECISION-certified-horizon, PRECISION-uv-two-cycle, Y9, Y9-window, Y9-mechanism, Y9-decay, Y9-control "
            "(`symsharp verify --only …`).", ""]
    body = _md_horizon() + _md_certify() + _md_blowup() + _md_mechanism() + _md_meaning()
    p = y9_problem("ill")
    c = CONFIGS["document"]
    two = 2.0 / p["S0"]
    tail = ["## Reproduce", "", "```",
            "# the ill-conditioned data of section 3 as a data file",
            "python -c \"import numpy as np; from symsharp.models.chain.precision import y9_problem; "
            "p = y9_problem('ill'); np.savez('y9_ill.npz', X=p['X'], y=p['y'])\"",
            f"symsharp precision blowup chain --data-file y9_ill.npz --depth 2 --init-scale {RUN['init_scale']} "
            f"--eta {c['grid'][0] * two:.6g}:{c['grid'][1] * two:.6g}:{c['grid'][2]} --seeds {c['seeds']} "
            f"--steps {c['steps']} --arith {c['ariths']} --noise-bits {','.join(str(q) for q in c['noise_bits'])} "
            "--plot blowup.png", "```", ""]
    return "\n".join(head + body + tail)


def precision_documents() -> dict:
    """``{"precision.md": text}`` for ``derivations/``."""
    return {DOCUMENT: precision_markdown()}


# ================================================================================ figures

def plot_delay(dl, decay=None, rel=None, path=None):
    """The delayed loss of stability (three panels): ηS_t per arithmetic with the edge ηS = 2, the
    period-2 amplitude (log scale) per arithmetic, and the decay of the oscillation in a run that
    survives against the linearised |1 − ηS|^t.  Returns the figure; writes it when ``path`` is
    given."""
    import matplotlib.style
    from matplotlib.figure import Figure

    from ...plots.precision import STYLE, _done, arith_colour

    with matplotlib.style.context(STYLE):
        fig = Figure(figsize=(6.4, 7.2), layout="constrained")
        a1, a2, a3 = fig.subplots(3, 1)
        T = max(len(r["eta_S"]) for r in dl.values())
        for name, r in dl.items():
            t = np.arange(len(r["eta_S"]))
            fate = "survives" if r["diverged_at"] < 0 else f"blows up at {r['diverged_at']}"
            a1.plot(t, r["eta_S"], color=arith_colour(name), lw=1.2, label=f"{name} ({fate})")
            a2.semilogy(t, r["amp"][:len(t)], color=arith_colour(name), lw=1.0, label=name)
            if r["t_exit"] is not None:
                a1.plot(r["t_exit"], r["overshoot"], "o", color=arith_colour(name), ms=4)
        a1.axhline(2.0, color="#777777", lw=0.8, ls="--")
        a1.set_ylim(0, 7)
        lim = min(T, 1 + max((r["diverged_at"] if r["diverged_at"] >= 0 else (r["t_exit"] or 0) + 60)
                             for r in dl.values()))
        for ax in (a1, a2):
            ax.set_xlim(0, lim)
        a1.set_ylabel("η·S (S: loss-Hessian sharpness)")
        a1.set_title(f"seed 0 at η = {rel:g}·2/S₀: the loss of stability is delayed more with more bits"
                     if rel is not None else "delayed loss of stability", fontsize=9)
        a1.legend(fontsize=7)
        a2.set_ylabel("period-2 amplitude, top residual")
        a2.set_xlabel("step")
        if decay is not None and decay.get("eta_S_end") is not None:
            amp = decay["amp"]
            t = np.arange(len(amp))
            a3.semilogy(t, amp, color=arith_colour("float32"), lw=0.8, label="float32 (survives)")
            T0 = len(amp) - 2001
            ref = amp[T0] * decay["factor_predicted"] ** (t[T0:] - T0)
            a3.semilogy(t[T0:], ref, color="#555555", ls="--", lw=1,
                        label=f"|1 − ηS|^t, ηS = {decay['eta_S_end']:.5f}")
            a3.set_xlabel("step")
            a3.set_ylabel("period-2 amplitude")
            a3.set_title("the oscillation at the edge decays in the run that survives", fontsize=9)
            a3.legend(fontsize=7)
        else:
            a3.set_visible(False)
    return _done(fig, path)


def draw_precision_figures(directory) -> list:
    """Draw ``precision_*.png`` into ``directory`` from the document's results."""
    from pathlib import Path

    import matplotlib.style
    from matplotlib.figure import Figure

    from ...plots.precision import STYLE, _done, plot_blowup, plot_certify, plot_horizon

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = [plot_horizon(uv_horizon(), path=d / f"{FIGURES['horizon']}.png")]
    with matplotlib.style.context(STYLE):
        fig = Figure(figsize=(10.5, 3.6), layout="constrained")
        axes = fig.subplots(1, 2)
        plot_certify(uv_certify("15", 400), ax=axes[0])
        plot_certify(uv_certify("11", 3000), ax=axes[1])
        for ax, (eta, steps), what in zip(axes, UV_SETTING["certify"], ("chaotic", "attracting 2-cycle")):
            j = _json(uv_certify(eta, steps))
            ax.set_title(f"UV map, η = {eta} ({what}): {j['certified_steps']} steps certified, 256-bit balls",
                         fontsize=9)
    out.append(_done(fig, d / f"{FIGURES['certify']}.png"))
    out.append(plot_blowup(y9_blowup("ill", "document"), path=d / f"{FIGURES['blowup']}.png"))
    with matplotlib.style.context(STYLE):
        fig = Figure(figsize=(10.5, 3.6), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        plot_blowup(y9_blowup("rank8", "rank8", "raw"), ax=axes[0])
        plot_blowup(y9_blowup("rank8", "rank8", "svd"), ax=axes[1])
    out.append(_done(fig, d / f"{FIGURES['coords']}.png"))
    ds = y9_blowup("ill", "document")
    w = window(ds)
    rel = w["eta_rel"] if w is not None else 3.5
    out.append(plot_delay(y9_delay(rel=rel, ariths=DELAY_ARITHS), y9_decay(rel=rel), rel,
                          path=d / f"{FIGURES['delay']}.png"))
    return [d / f"{FIGURES[k]}.png" for k in ("horizon", "certify", "blowup", "coords", "delay")]
