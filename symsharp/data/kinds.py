"""One entry point for every kind of data set (:func:`make_dataset`) and the Q-growth curve."""
from __future__ import annotations

from .core import KINDS as SYNTHETIC_KINDS
from .core import DataError, Dataset, check_noise, data_summary, rescale_to_Q, svd_coordinates, synthetic_dataset
from .real import REAL_KINDS, parse_preprocess, real_dataset
from .real import preprocess as _preprocess

import numpy as np

KINDS = SYNTHETIC_KINDS + REAL_KINDS
"""Every kind :func:`make_dataset` builds: synthetic ``gaussian``, ``spectrum``, ``image`` and
real ``digits``, ``photo-patches``."""


def make_dataset(kind: str = "gaussian", samples: int | None = 100, dim: int | None = None, seed: int = 0,
                 spectrum=None, noise: float = 0.0, Q: float | None = None, image_shape=None,
                 corr_length: float | None = None, class_sep: float = 1.0, pixel_noise: float = 0.05,
                 classes=None, patch: int | None = None, preprocess=None) -> Dataset:
    """A data set of one of :data:`KINDS` (deterministic for a given ``seed``).

    Synthetic kinds (``gaussian``, ``spectrum``, ``image``): see
    :func:`symsharp.data.core.synthetic_dataset`; ``dim`` defaults to 10.  ``preprocess`` (None
    by default: data unchanged) applies the steps of :func:`symsharp.data.real.preprocess` to X,
    with ``scale01`` using the min and max of X.

    Real kinds (``digits``, ``photo-patches``, shipped with scikit-learn; see
    :mod:`symsharp.data.real`): ``samples`` = N (None: all digits of the two classes / 1000
    patches); ``classes`` (digits only, e.g. ``"3,8"``, default ``"0,1"``); ``patch`` (photo
    patches only, side in pixels, default 32); ``dim`` may be None or the dimension the kind
    produces (64; 3·patch² — a ``dim`` of that form chooses the patch); ``preprocess`` defaults
    to ``"scale01"`` (pixels in [0, 1]).  ``spectrum``, ``image_shape`` and ``corr_length`` do
    not apply to them.

    Every kind: ``noise`` adds ``noise``·ε (ε ~ N(0, I)) to the targets; ``Q`` rescales y so that
    ‖X⁺y‖² = ``Q`` exactly (applied last, after preprocessing); ``meta["Q"]`` is the final Q."""
    if kind not in KINDS:
        raise DataError(f"unknown data kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind in SYNTHETIC_KINDS:
        for name, val, allowed in (("classes", classes, "'digits'"), ("patch", patch, "'photo-patches'")):
            if val is not None:
                raise DataError(f"{name} applies only to data kind {allowed}, not {kind!r}")
        steps = parse_preprocess(preprocess, default=())
        ds = synthetic_dataset(kind, samples=samples, dim=10 if dim is None else dim, seed=seed, spectrum=spectrum,
                               noise=noise, Q=None if steps else Q, image_shape=image_shape,
                               corr_length=corr_length, class_sep=class_sep, pixel_noise=pixel_noise)
        if not steps:
            return ds
        X, info = _preprocess(ds.X, steps)
        y = rescale_to_Q(X, ds.y, Q)
        meta = dict(ds.meta)
        meta.update(info)
        meta["Q"] = data_summary(X, y)["Q"]
        return Dataset(X=np.ascontiguousarray(X), y=y, name=ds.name, meta=meta)
    for name, val in (("spectrum", spectrum), ("image_shape", image_shape), ("corr_length", corr_length)):
        if val is not None:
            raise DataError(f"{name} does not apply to the real data kind {kind!r}")
    noise = check_noise(noise)
    ds = real_dataset(kind, samples=samples, dim=dim, seed=seed, classes=classes, patch=patch,
                      preprocess=preprocess)
    y = ds.y
    if noise:
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        y = y + noise * rng.standard_normal(y.shape[0])
    y = rescale_to_Q(ds.X, y, Q)
    ds.meta["noise"] = noise
    ds.meta["Q"] = data_summary(ds.X, y)["Q"]
    ds.y = np.asarray(y, dtype=np.float64)
    return ds


def q_growth(kind: str, Ns, seeds=(0,), preprocess=None, **options) -> dict:
    """How the dataset difficulty Q = ‖X⁺y‖² grows with N for one data source.

    For each N in ``Ns`` and each seed, builds ``make_dataset(kind, samples=N, seed=seed,
    preprocess=preprocess, **options)`` and records Q, σ₁, the rank and whether y lies in the
    column space of X.  Returns a JSON-ready dict: ``kind``, ``N`` (list), ``seeds``,
    ``preprocess`` (the steps applied), ``options``, ``Q``, ``sigma1``, ``rank``,
    ``y_in_colspace`` (lists of shape len(Ns) × len(seeds)) and ``Q_mean`` (the mean over seeds
    for each N)."""
    try:
        Ns = [int(n) for n in np.atleast_1d(Ns)]
    except (TypeError, ValueError):
        raise DataError(f"Ns must be a list of positive integers, got {Ns!r}") from None
    seeds = [int(s) for s in np.atleast_1d(seeds)]
    out = {k: [] for k in ("Q", "sigma1", "rank", "y_in_colspace")}
    applied = []
    for n in Ns:
        rows = {k: [] for k in out}
        for sd in seeds:
            ds = make_dataset(kind, samples=n, seed=sd, preprocess=preprocess, **options)
            applied = ds.meta.get("preprocess", [])
            E, s, _ = svd_coordinates(ds.X)
            dd = E.T @ ds.y
            rows["Q"].append(float(np.sum(dd ** 2 / s ** 2)))
            rows["sigma1"].append(float(s[0]) if s.size else 0.0)
            rows["rank"].append(int(s.size))
            rows["y_in_colspace"].append(bool(np.linalg.norm(ds.y - E @ dd) <= 1e-10 * np.linalg.norm(ds.y)))
        for k in out:
            out[k].append(rows[k])
    res = {"kind": kind, "N": Ns, "seeds": seeds, "preprocess": list(applied), "options": dict(options)}
    res.update(out)
    res["Q_mean"] = [float(np.mean(q)) for q in out["Q"]]
    return res
