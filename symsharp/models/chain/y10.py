"""Claim Y10 on real data: does the chain model's predicted sharpness Ŝ_D = σ₁²/N · Q^{(D−1)/D}
track the loss-Hessian sharpness of *wide* networks after training?

The paper (as summarised) reports Pearson correlations 0.99 (5-layer linear network, width 2048,
CIFAR-10) and 0.81 (4-layer tanh network, width 1024, SVHN).  Neither data set can be downloaded
here; we use the real images that ship with scikit-learn (:mod:`symsharp.data.real`): two-class
handwritten digits (d = 64) and patches of two colour photographs (d = 3·patch²), both
standardised per feature.

:func:`y10_run` trains each architecture (``linear-D5``: depth 5, identity activation;
``tanh-D4``: depth 4, tanh) of one width on each data set of a family (several N, both sources)
by **full-batch GD** with the engine of :mod:`symsharp.analysis.widenets` (exact Hessian-vector
products, Lanczos sharpness), then correlates the final sharpness S with Ŝ_D over the data sets —
over all of them and within each source (where the varied quantity is N, and with it Q).

**Step size.**  ``eta_rule="constant"`` (the default) is plain GD with one constant step per run,
η = ``eta_frac``·2/max(S₀, S_gf), fixed before training: S₀ is the measured sharpness at
initialisation and S_gf the chain model's exact small-start sharpness for these data (between Ŝ_D
and D·Ŝ_D), the sharpness a run that ends like the chain model reaches.  With ``eta_frac`` < 1 such
a run stays below the stability limit 2/η at its start and at its end, so it does not end at the
edge of stability.  ``eta_rule="adaptive"`` is the engine's sharpness-adaptive step η = ``eta_frac``/S(θ)
(S re-measured every 50 steps): a gradient-flow-like schedule, *not* constant-η GD.  Runs that end
with η·S above ``eos_limit`` (default 1.9, i.e. at the edge of stability, where S ≈ 2/η whatever
Ŝ_D is) are excluded from the correlations, as are runs that did not reach ``loss_tol``.

**Initialisation.**  Standard parameterisation, W_l ~ N(0, g²/fan_in); ``init_scale`` g = 1 is the
variance-preserving (lazy) start, where the network barely moves and S stays near its initial
value; small g (rich regime) starts near the saddle at 0, and a deep linear network then learns
a nearly rank-one, balanced solution — the chain model — whose sharpness Ŝ_D predicts.

The chain model's exact small-start sharpness S_gf (CHAIN-GF-sharpness, all imbalances 0) is
recorded next to Ŝ_D: for the linear network in the rich regime it is the sharper prediction.
"""
from __future__ import annotations

import json
import math
import time
from contextlib import nullcontext

import numpy as np
import xarray as xr

from ...analysis.widenets import WideNetError, train_network
from ...data import make_dataset, svd_coordinates
from ...errors import SymsharpError
from ...io import versions
from .gf import gf_limit_sharpness

ARCHS = {"linear-D5": {"depth": 5, "activation": "linear"}, "tanh-D4": {"depth": 4, "activation": "tanh"}}
"""The paper's two wide architectures."""

from .options import ETA_RULES, Y10_CONFIG_NAMES


class Y10Error(SymsharpError):
    """A bad Y10 request (one sentence)."""


def _digits(classes, Ns):
    return [{"kind": "digits", "classes": classes, "samples": n, "preprocess": "standardize"} for n in Ns]


def _patches(patch, Ns):
    return [{"kind": "photo-patches", "patch": patch, "samples": n, "preprocess": "standardize"} for n in Ns]


Y10_CONFIGS = {
    "reduced": {"width": 128, "init_scale": 0.3, "eta_rule": "constant", "eta_frac": 0.5, "max_steps": 20000,
                "loss_tol": 1e-4, "eos_limit": 1.9, "archs": ["linear-D5", "tanh-D4"],
                "datasets": _digits("0,1", (8, 12, 16, 20)) + _patches(32, (8, 12, 16))},
    "full": {"width": 256, "init_scale": 0.3, "eta_rule": "constant", "eta_frac": 0.5, "max_steps": 20000,
             "loss_tol": 1e-4, "eos_limit": 1.9, "archs": ["linear-D5", "tanh-D4"],
             "datasets": _digits("0,1", (10, 20, 30, 40)) + _digits("3,8", (10, 20, 30, 40))
             + _patches(32, (8, 12, 16, 20))},
}
"""Named configurations of :func:`y10_run`.  ``"reduced"``: width 128, standardised digits 0/1 at
N = 8, 12, 16, 20 and 32×32×3 photo patches (d = 3072, as CIFAR-10) at N = 8, 12, 16 (the claim
checker, the derivations document; tens of seconds).  ``"full"``: width 256, digits 0/1 and 3/8 at
N = 10, 20, 30, 40 and the photo patches at N = 8, 12, 16, 20 (about four minutes on two cores;
larger N of the patches do not reach the loss 1e-4 within 20 000 steps: their Q lives in tiny
singular directions).  Both: init scale 0.3 (rich regime), constant-η GD with
η = 0.5·2/max(S₀, S_gf), at most 20 000 steps, stop at loss 1e-4 (the initial loss is ≈ 0.5)."""

OVERRIDES = ("width", "init_scale", "eta_rule", "eta_frac", "max_steps", "loss_tol", "eos_limit", "archs",
             "datasets")


def _label(spec: dict) -> str:
    parts = [spec["kind"]]
    for k in ("classes", "patch", "samples", "preprocess", "seed"):
        if k in spec:
            parts.append(f"{k}={spec[k]}")
    return ",".join(parts)


def _source(spec: dict) -> str:
    """The data source of a data set spec (the group its within-source correlation uses)."""
    if spec["kind"] == "digits":
        return f"digits {spec.get('classes', '0,1')}"
    if spec["kind"] == "photo-patches":
        p = spec.get("patch", 32)
        return f"photo {p}x{p}"
    return spec["kind"]


def correlations(a, b) -> dict:
    """Pearson and Spearman correlations of two vectors and the Pearson correlation of their
    logarithms (NaN with fewer than 3 points or no spread)."""
    from scipy.stats import pearsonr, spearmanr

    a, b = np.asarray(a, float), np.asarray(b, float)
    nan = float("nan")
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"pearson": nan, "spearman": nan, "pearson_log": nan, "n": int(a.size)}
    lg = float(pearsonr(np.log(a), np.log(b))[0]) if np.all(a > 0) and np.all(b > 0) else nan
    return {"pearson": float(pearsonr(a, b)[0]), "spearman": float(spearmanr(a, b)[0]), "pearson_log": lg,
            "n": int(a.size)}


def _blas_one_thread():
    """Limit BLAS to one thread (NumPy's BLAS with two threads ran ~10× slower on the shared machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - ships with scikit-learn
        return nullcontext()
    return threadpool_limits(1)


def _config(config, overrides) -> tuple:
    if isinstance(config, str):
        if config not in Y10_CONFIGS:
            raise Y10Error(f"unknown Y10 configuration {config!r}; choose one of {', '.join(Y10_CONFIGS)}")
        cfg, name = json.loads(json.dumps(Y10_CONFIGS[config])), config
    elif isinstance(config, dict):
        cfg, name = json.loads(json.dumps({**Y10_CONFIGS["reduced"], **config})), "custom"
    else:
        raise Y10Error(f"config must be one of {', '.join(Y10_CONFIGS)} or a dict, got {config!r}")
    bad = sorted(set(overrides) - set(OVERRIDES))
    if bad:
        raise Y10Error(f"unknown Y10 option {bad[0]!r}; allowed: {', '.join(OVERRIDES)}")
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    if cfg["eta_rule"] not in ETA_RULES:
        raise Y10Error(f"eta_rule must be one of {', '.join(ETA_RULES)}, got {cfg['eta_rule']!r}")
    for key, lo in (("width", 1), ("max_steps", 1)):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise Y10Error(f"{key} must be a whole number >= {lo}, got {v!r}")
    for key in ("init_scale", "eta_frac", "loss_tol", "eos_limit"):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0 and math.isfinite(v)):
            raise Y10Error(f"{key} must be a positive finite number, got {v!r}")
    archs = []
    for a in cfg["archs"]:
        if a not in ARCHS:
            raise Y10Error(f"unknown architecture {a!r}; choose from {', '.join(ARCHS)}")
        archs.append(a)
    if not archs or not cfg["datasets"]:
        raise Y10Error("a Y10 run needs at least one architecture and one data set")
    return cfg, name


def initial_sharpness(X, y, depth: int, width: int, activation: str, init_scale: float, seed: int) -> float:
    """The loss-Hessian sharpness S₀ of the network :func:`~symsharp.analysis.widenets.train_network`
    starts from with these arguments (same reduced coordinates, initialisation and Lanczos)."""
    from ...analysis.widenets import WideNet, reduce_inputs, top_eigenvalue

    X = np.asarray(X, dtype=np.float64)
    Xr, P = reduce_inputs(X)
    net = WideNet(d=Xr.shape[1], depth=depth, width=width, activation=activation, init_scale=init_scale,
                  fan_in=X.shape[1])
    theta0 = net.init(seed, project=P)
    return float(top_eigenvalue(net.hvp_operator(theta0, Xr, y), net.n_params, tol=1e-6, seed=seed)[0])


def y10_run(config="reduced", *, seed: int = 0, progress: bool | None = None, **overrides) -> xr.Dataset:
    """Train the wide networks of a Y10 configuration on its family of real data sets and correlate
    the final sharpness with Ŝ_D (see the module docstring).

    ``config``: ``"reduced"``, ``"full"`` (:data:`Y10_CONFIGS`) or a dict of entries that replace
    the reduced configuration's; keyword ``overrides`` (any of :data:`OVERRIDES`: ``width``,
    ``init_scale``, ``eta_rule``, ``eta_frac``, ``max_steps``, ``loss_tol``, ``eos_limit``,
    ``archs``, ``datasets``) replace entries of the configuration.  Run (arch i, data set j)
    initialises with seed ``seed`` + 1000·i + j.  ``progress``: a bar over the runs (None: on a
    terminal only).

    Returns an :class:`xarray.Dataset` over ``arch`` × ``data`` (``sharpness``, ``sharpness0``,
    ``ntk_top``, ``S_hat``, ``S_gf``, ``eta``, ``eta_sharpness``, ``final_loss``, ``steps``,
    ``converged``, ``used``, ``seconds``, ...; per data set ``N``, ``d``, ``rank``, ``Q``,
    ``sigma1``, ``source``) and ``arch`` × ``group`` (``pearson``, ``spearman``, ``pearson_log``,
    ``n_used`` of S against Ŝ_D; ``pearson_gf`` of S against S_gf), ``group`` = ``"all"`` and each
    data source.  ``attrs["symsharp"]`` holds the configuration (JSON)."""
    from tqdm.auto import tqdm

    cfg, name = _config(config, overrides)
    seed = int(seed)
    archs = [dict(ARCHS[a], name=a) for a in cfg["archs"]]
    specs = [dict(s) for s in cfg["datasets"]]
    for s in specs:
        if "kind" not in s:
            raise Y10Error(f"each data set needs a 'kind', got {s!r}")
    data = []
    for s in specs:
        kw = {k: v for k, v in s.items() if k != "kind"}
        kw.setdefault("seed", 0)
        ds = make_dataset(s["kind"], **kw)
        E, sv, _ = svd_coordinates(ds.X)
        dd = E.T @ ds.y
        data.append({"ds": ds, "s": sv, "dd": dd, "Q": float(np.sum(dd ** 2 / sv ** 2)), "source": _source(s)})
    nA, nD = len(archs), len(data)
    names = ("sharpness", "sharpness0", "ntk_top", "S_hat", "S_gf", "eta", "eta_sharpness", "final_loss", "seconds")
    out = {k: np.full((nA, nD), np.nan) for k in names}
    steps = np.zeros((nA, nD), np.int64)
    conv = np.zeros((nA, nD), bool)
    div = np.zeros((nA, nD), bool)
    reason = np.empty((nA, nD), dtype=object)
    bar = tqdm(total=nA * nD, desc=f"Y10 width {cfg['width']}", disable=None if progress is None else not progress)
    t_all = time.perf_counter()
    try:
        with _blas_one_thread():
            for i, a in enumerate(archs):
                D = a["depth"]
                for j, dat in enumerate(data):
                    ds = dat["ds"]
                    S_hat = float(dat["s"][0] ** 2 / ds.N * dat["Q"] ** ((D - 1) / D))
                    out["S_hat"][i, j] = S_hat
                    out["S_gf"][i, j] = gf_limit_sharpness(dat["s"], dat["dd"], np.zeros(D - 1), ds.N)["sharpness"]
                    if cfg["eta_rule"] == "constant":
                        S0 = initial_sharpness(ds.X, ds.y, D, cfg["width"], a["activation"], cfg["init_scale"],
                                               seed + 1000 * i + j)
                        kw = {"eta": cfg["eta_frac"] * 2 / max(S0, out["S_gf"][i, j])}
                    else:
                        kw = {"eta_rule": "adaptive", "eta_frac": cfg["eta_frac"]}
                    try:
                        r = train_network(ds.X, ds.y, depth=D, width=cfg["width"], activation=a["activation"],
                                          init_scale=cfg["init_scale"], seed=seed + 1000 * i + j,
                                          max_steps=cfg["max_steps"], loss_tol=cfg["loss_tol"], **kw)
                    except WideNetError as exc:
                        raise Y10Error(str(exc)) from None
                    res = r["result"]
                    out["sharpness"][i, j] = r["sharpness"]
                    out["sharpness0"][i, j] = r["sharpness0"]
                    out["ntk_top"][i, j] = r["ntk_top"]
                    out["eta"][i, j] = r["eta"]
                    out["eta_sharpness"][i, j] = r["eta"] * r["sharpness"]
                    out["final_loss"][i, j] = res.loss
                    out["seconds"][i, j] = res.seconds
                    steps[i, j] = res.steps
                    conv[i, j] = res.reason == "loss"
                    div[i, j] = res.diverged
                    reason[i, j] = res.reason
                    bar.update(1)
                    bar.set_postfix(arch=a["name"], N=ds.N, refresh=False)
    finally:
        bar.close()
    eos_limit = float(cfg["eos_limit"])
    used = conv & ~div & ~(out["eta_sharpness"] > eos_limit)
    sources = [d["source"] for d in data]
    groups = ["all"] + sorted(set(sources), key=sources.index)
    corr = {k: np.full((nA, len(groups)), np.nan) for k in ("pearson", "spearman", "pearson_log", "pearson_gf")}
    n_used = np.zeros((nA, len(groups)), np.int64)
    for i in range(nA):
        for g, grp in enumerate(groups):
            sel = np.array([(grp == "all" or sources[j] == grp) and used[i, j] for j in range(nD)])
            c = correlations(out["sharpness"][i, sel], out["S_hat"][i, sel])
            n_used[i, g] = c["n"]
            for k in ("pearson", "spearman", "pearson_log"):
                corr[k][i, g] = c[k]
            corr["pearson_gf"][i, g] = correlations(out["sharpness"][i, sel], out["S_gf"][i, sel])["pearson"]

    res = xr.Dataset({k: (("arch", "data"), v) for k, v in out.items()},
                     coords={"arch": [a["name"] for a in archs], "data": [_label(s) for s in specs], "group": groups})
    res["steps"] = (("arch", "data"), steps)
    res["converged"] = (("arch", "data"), conv)
    res["diverged"] = (("arch", "data"), div)
    res["used"] = (("arch", "data"), used)
    res["stop_reason"] = (("arch", "data"), reason.astype(str))
    res["source"] = ("data", np.array(sources, dtype=str))
    res["kind"] = ("data", np.array([s["kind"] for s in specs], dtype=str))
    res["N"] = ("data", np.array([d["ds"].N for d in data], np.int64))
    res["d"] = ("data", np.array([d["ds"].d for d in data], np.int64))
    res["rank"] = ("data", np.array([d["s"].size for d in data], np.int64))
    res["Q"] = ("data", np.array([d["Q"] for d in data]))
    res["sigma1"] = ("data", np.array([float(d["s"][0]) for d in data]))
    res["depth"] = ("arch", np.array([a["depth"] for a in archs], np.int64))
    res["activation"] = ("arch", np.array([a["activation"] for a in archs], dtype=str))
    for k, v in corr.items():
        res[k] = (("arch", "group"), v)
    res["n_used"] = (("arch", "group"), n_used)
    for k, text in (("sharpness", "loss-Hessian sharpness after training (Lanczos, exact HVPs)"),
                    ("sharpness0", "loss-Hessian sharpness at initialisation"),
                    ("ntk_top", "top eigenvalue of the empirical NTK J J^T / N after training"),
                    ("S_hat", "predicted sharpness sigma1^2/N * Q^((D-1)/D)"),
                    ("S_gf", "chain model: exact sharpness of the small-start gradient-flow limit"),
                    ("eta_sharpness", "eta * final sharpness (2: edge of stability)"),
                    ("used", "converged to loss_tol and eta * sharpness <= eos_limit"),
                    ("pearson", "Pearson correlation of sharpness and S_hat over the used runs"),
                    ("spearman", "Spearman rank correlation of sharpness and S_hat over the used runs"),
                    ("pearson_log", "Pearson correlation of log sharpness and log S_hat"),
                    ("pearson_gf", "Pearson correlation of sharpness and S_gf over the used runs")):
        res[k].attrs["long_name"] = text
    meta = {"experiment": "y10", "model": "chain", "config_name": name, "config": cfg, "seed": seed,
            "eta_rule_text": ("constant-eta GD: eta = eta_frac * 2 / max(S0, S_gf), fixed for the whole run"
                              if cfg["eta_rule"] == "constant" else
                              "sharpness-adaptive step eta = eta_frac / S re-measured every 50 steps (not constant-eta GD)"),
            "init": f"standard parameterisation, W_l ~ N(0, g^2/fan_in), g = {cfg['init_scale']}; run (arch i, data j) "
                    f"uses seed {seed} + 1000 i + j",
            "used": f"stopped at loss <= {cfg['loss_tol']} and eta * sharpness <= eos_limit = {eos_limit}",
            "dtype": "float64", "seconds": time.perf_counter() - t_all, "versions": versions()}
    res.attrs["symsharp"] = json.dumps(meta, default=str)
    res.attrs["title"] = f"Y10: sharpness of wide networks after training vs S_hat_D (width {cfg['width']})"
    return res


def y10_summary(ds: xr.Dataset) -> dict:
    """JSON-ready summary of a :func:`y10_run` result: per architecture and group the correlations
    and the number of runs used, and per run S, Ŝ_D, S_gf, η·S, steps and stop reason."""
    meta = json.loads(ds.attrs["symsharp"])
    out = {"config": meta["config_name"], "width": meta["config"]["width"],
           "init_scale": meta["config"]["init_scale"], "eta_rule": meta["eta_rule_text"], "correlations": {},
           "runs": []}
    for a in ds.arch.values:
        out["correlations"][str(a)] = {
            str(g): {k: float(ds[k].sel(arch=a, group=g)) for k in ("pearson", "spearman", "pearson_log", "pearson_gf")}
            | {"n_used": int(ds["n_used"].sel(arch=a, group=g))} for g in ds.group.values}
        for dlab in ds.data.values:
            sl = {"arch": a, "data": dlab}
            out["runs"].append({"arch": str(a), "data": str(dlab), "N": int(ds["N"].sel(data=dlab)),
                                "Q": float(ds["Q"].sel(data=dlab)), "S": float(ds["sharpness"].sel(sl)),
                                "S_hat": float(ds["S_hat"].sel(sl)), "S_gf": float(ds["S_gf"].sel(sl)),
                                "eta_S": float(ds["eta_sharpness"].sel(sl)), "steps": int(ds["steps"].sel(sl)),
                                "final_loss": float(ds["final_loss"].sel(sl)), "stop": str(ds["stop_reason"].sel(sl).item()),
                                "used": bool(ds["used"].sel(sl))})
    out["seconds"] = meta["seconds"]
    return out

assert tuple(Y10_CONFIGS) == Y10_CONFIG_NAMES, "options.Y10_CONFIG_NAMES must list the configurations of Y10_CONFIGS"
