"""The chain model as a system: its data (synthetic, real or from a file), full-batch GD in SVD
coordinates as a compiled map (orbit, phase and Lyapunov scans; rank ≤ 8), and single GD/SGD runs
through :func:`symsharp.models.chain.dynamics.run_chain` (any rank)."""
from __future__ import annotations

import numba as nb
import numpy as np

from ...codegen.maps import gd_kernel
from ...data import REAL_KINDS, data_summary, load_dataset, make_dataset, svd_coordinates
from ...dynamics.orbits import DynamicsError
from ...dynamics.systems import System
from .options import CHAIN_POINT_OPTIONS
from .dynamics import DENSE_MAX, _observe, chain_svd_model, init_chain, run_chain

CHAIN_DEFAULTS = {"depth": 3, "samples": 50, "dim": 5, "kind": "gaussian", "data_seed": 0}



REAL_DATA_OPTIONS = ("classes", "patch", "preprocess")
"""Options of the real data kinds (and ``preprocess`` of every kind), passed to
:func:`symsharp.data.make_dataset`."""


def chain_data(samples=None, dim=None, kind=None, data_seed=None, data_file=None, target_q=None, classes=None,
               patch=None, preprocess=None, **kind_options):
    """The data set of a chain-model command: a file (``data_file``) or a generator of
    :func:`symsharp.data.make_dataset` (synthetic or real), with defaults from ``CHAIN_DEFAULTS``.

    Real kinds (``digits``, ``photo-patches``, shipped with scikit-learn): ``dim`` stays None
    (the images decide it: 64 for digits, 3·patch² for photo patches); ``classes`` (digits, e.g.
    ``"3,8"``), ``patch`` (photo patches, side in pixels) and ``preprocess`` (``scale01``,
    ``center``, ``standardize``, ``unit-norm``, comma-separated, or ``none``; default ``scale01``
    for the real kinds, nothing for the synthetic ones) are passed on.  Impossible combinations
    end in one-line errors (a :class:`symsharp.data.DataError` or :class:`DynamicsError`)."""
    if data_file is not None:
        for name, val in (("samples", samples), ("dim", dim), ("data kind", kind), ("data seed", data_seed),
                          ("target Q", target_q), ("classes", classes), ("patch", patch),
                          ("preprocess", preprocess)):
            if val is not None:
                raise DynamicsError(f"give either a data file or the data generator options, not both ({name})")
        return load_dataset(data_file)
    c = CHAIN_DEFAULTS
    kind = kind or c["kind"]
    if kind in REAL_KINDS:
        default_dim = None
    else:
        default_dim = c["dim"]
    kw = {k: v for k, v in kind_options.items() if v is not None}
    for name, val in (("classes", classes), ("patch", patch), ("preprocess", preprocess)):
        if val is not None:
            kw[name] = val
    return make_dataset(kind, samples=c["samples"] if samples is None else samples,
                        dim=default_dim if dim is None else dim, seed=c["data_seed"] if data_seed is None else data_seed,
                        Q=target_q, **kw)


@nb.njit(cache=True, parallel=True)
def _observe_batch(S, r, sig, dd, N, ycon, uperp2, dense_max, out):
    for m in nb.prange(S.shape[0]):
        _observe(S[m, :r], S[m, r:], sig, dd, N, ycon, uperp2, dense_max, out[m])


def observe_states(states, r, sig, dd, N, ycon, uperp2, dense_max):
    """Chain observables (loss, sharpness, ntk, C…, u_norm, v…, prod_v) of many states (…, r + k)
    in SVD coordinates, by the exact arrowhead solvers of :mod:`symsharp.models.chain.dynamics`."""
    st = np.asarray(states, dtype=np.float64)
    lead = st.shape[:-1]
    S = np.ascontiguousarray(st.reshape(-1, st.shape[-1]))
    k = S.shape[1] - r
    out = np.full((S.shape[0], 5 + 2 * k), np.nan)
    ok = np.all(np.isfinite(S), axis=1)
    if ok.any():
        tmp = np.empty((int(ok.sum()), 5 + 2 * k))
        _observe_batch(np.ascontiguousarray(S[ok]), r, np.ascontiguousarray(sig, dtype=np.float64),
                       np.ascontiguousarray(dd, dtype=np.float64), float(N), float(ycon), float(uperp2),
                       int(dense_max), tmp)
        out[ok] = tmp
    return out.reshape(lead + (5 + 2 * k,))


def _depth(depth) -> int:
    D = CHAIN_DEFAULTS["depth"] if depth is None else depth
    if int(D) != D or D < 2:
        raise DynamicsError(f"depth must be a whole number >= 2, got {D}")
    return int(D)


def chain_system(depth=None, samples=None, dim=None, kind=None, data_seed=None, data_file=None, target_q=None,
                 batch=None, replacement: bool = False, dtype: str = "float64", data=None, classes=None, patch=None,
                 preprocess=None, **kind_options) -> System:
    """The chain model of depth D on a data set as a :class:`~symsharp.dynamics.System`.

    Scans (orbit, phase, Lyapunov) use full-batch GD in SVD coordinates as a compiled map (state
    (z = Wᵀu, v), rank ≤ 8, built on first use); single runs use
    :func:`~symsharp.models.chain.dynamics.run_chain` (GD, or SGD with ``batch`` and
    ``replacement``; any rank).  Per-point options ``eta``, ``init_scale``, ``seed``.  Observables
    beyond the kernel's loss: the exact sharpness and top NTK eigenvalue (arrowhead eigensolvers)
    and, in runs, the imbalances.  ``data``: a :class:`symsharp.data.Dataset` instead of the data
    options; ``classes``, ``patch``, ``preprocess``: the real-data options of :func:`chain_data`."""
    D = _depth(depth)
    if data is None:
        data = chain_data(samples, dim, kind, data_seed, data_file, target_q, classes=classes, patch=patch,
                          preprocess=preprocess, **kind_options)
    X, y = data.X, data.y
    E, sig, W = svd_coordinates(X)
    dd = E.T @ y
    ycon = float(np.sum((y - E @ dd) ** 2))
    N, d = X.shape
    r = sig.size
    summary = data_summary(X, y, D)
    if batch is not None:
        batch = int(batch)
        if not 1 <= batch <= N:
            raise DynamicsError(f"batch must be between 1 and the number of samples N = {N}, got {batch}")

    def kernel():
        return gd_kernel(chain_svd_model(X, y, D), dtype=dtype)

    def prepare(o, G):
        x0 = np.empty((G, r + D - 1))
        cache = {}
        for g in range(G):
            key = int(o["seed"][g])
            if key not in cache:
                u, v = init_chain(d, D, 1.0, key)
                cache[key] = np.concatenate([W.T @ u, v])
            x0[g] = cache[key] * o["init_scale"][g]
        return x0, o["eta"][:, None]

    def observer(name):
        col = {"loss": 0, "sharpness": 1, "ntk": 2}[name]

        def fn(states):
            return observe_states(states, r, sig, dd, N, ycon, 0.0, DENSE_MAX)[..., col]
        return fn

    def runner(values, steps, record_every, threshold, progress):
        res = run_chain(X, y, D, values["eta"], steps, record_every=record_every, batch=batch,
                        replacement=replacement, seed=int(values["seed"]), init_scale=values["init_scale"],
                        threshold=threshold, dtype=dtype, progress=bool(progress), svd=(E, sig, W))
        rec = res.records
        L = {"long_name": "layer index i of v_i"}
        out = {"loss": (("step",), rec["loss"], {"long_name": "full-batch loss"}),
               "sharpness": (("step",), rec["sharpness"], {"long_name": "top eigenvalue of the loss Hessian"}),
               "ntk": (("step",), rec["ntk"], {"long_name": "top eigenvalue of the NTK JJᵀ/N"}),
               "C": (("step", "layer"), rec["C"], {"long_name": "imbalance ‖Π_W u‖² − v_i²"}),
               "u_norm": (("step",), rec["u_norm"], {"long_name": "‖u‖"}),
               "v": (("step", "layer"), rec["v"], {"long_name": "v_i"}),
               "prod_v": (("step",), rec["prod_v"], {"long_name": "∏ v_i"})}
        return {"steps": res.steps, "data": out, "coords": {"layer": (("layer",), np.arange(1, D), L)},
                "diverged_at": -1 if res.diverged_at is None else int(res.diverged_at),
                "attrs": {k: summary[k] for k in ("N", "d", "rank", "sigma1", "Q", "S_hat")},
                "settings": {"run": {k: v for k, v in res.config.items() if k != "data"}, "seconds": res.seconds,
                             "batch": batch, "replacement": bool(replacement)}}

    how = "GD" if batch is None else f"SGD B={batch} {'with' if replacement else 'without'} replacement"
    meta = {k: str(v) for k, v in data.meta.items() if k != "w_star"}
    return System(name="chain", kernel_source=kernel, options=dict(CHAIN_POINT_OPTIONS), prepare_fn=prepare,
                  description=(f"chain model D={D}, {how} (N={N}, d={d}, rank {r}, Q={summary['Q']:.4g}, "
                               f"Ŝ_D={summary['S_hat']:.4g})"),
                  observables=tuple(f"u_{i + 1}" for i in range(r)) + tuple(f"v_{k + 1}" for k in range(D - 1))
                  + ("loss", "sharpness", "ntk"),
                  observers={n: observer(n) for n in ("sharpness", "ntk")},
                  metadata={"data": summary, "data_meta": meta}, runner=runner, stochastic=batch is not None, dtype=dtype)
