"""Synthetic data sets, file loaders and the data summary used by the chain-model runs."""
from __future__ import annotations

from ..errors import SymsharpError

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import zipfile

import numpy as np

KINDS = ("gaussian", "spectrum", "image")
"""The synthetic kinds (:func:`synthetic_dataset`); ``symsharp.data.KINDS`` adds the real ones."""


class DataError(SymsharpError):
    """Bad data or a bad data request (one clear sentence, shown to the user)."""


@dataclass
class Dataset:
    """A regression data set: inputs ``X`` (N, d) float64, targets ``y`` (N,) float64, a short
    ``name`` and ``meta`` (how it was made: kind, seed, options, teacher, ...)."""

    X: np.ndarray
    y: np.ndarray
    name: str = "data"
    meta: dict = field(default_factory=dict)

    @property
    def N(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    def summary(self, depth: int = 2) -> dict:
        """:func:`data_summary` of this data set."""
        return data_summary(self.X, self.y, depth)


# ----------------------------------------------------------------------------- numbers of a data set

def svd_coordinates(X, tol: float = 1e-12):
    """Thin SVD ``X = E diag(s) Wᵀ`` keeping singular values ``s > tol · s_max``.

    Returns ``(E (N, r), s (r,), W (d, r))`` with s in decreasing order (r = 0 for X = 0)."""
    E, s, Wt = np.linalg.svd(np.asarray(X, dtype=np.float64), full_matrices=False)
    if s.size == 0 or not s[0] > 0:
        keep = np.zeros(s.shape, bool)
    else:
        keep = s > tol * s[0]
    return E[:, keep], s[keep], Wt[keep].T


def _summary_from_svd(N, d, E, s, y, depth) -> dict:
    y = np.asarray(y, dtype=np.float64)
    dd = E.T @ y
    resid = y - E @ dd
    rnorm = float(np.linalg.norm(resid))
    ynorm = float(np.linalg.norm(y))
    Q = float(np.sum(dd ** 2 / s ** 2)) if s.size else 0.0
    sigma1 = float(s[0]) if s.size else 0.0
    D = int(depth)
    S_hat = sigma1 ** 2 / N * Q ** ((D - 1) / D) if Q > 0 else 0.0
    return {"N": int(N), "d": int(d), "rank": int(s.size), "depth": D, "sigma1": sigma1, "Q": Q,
            "S_hat": float(S_hat), "y_norm": ynorm, "residual_norm": rnorm,
            "y_in_colspace": bool(rnorm <= 1e-10 * max(ynorm, 1e-300))}


def data_summary(X, y, depth: int = 2) -> dict:
    """Numbers of a data set for the depth-D chain model.

    Keys: ``N``, ``d``, ``rank`` (singular values above 1e-12·σ₁), ``depth``, ``sigma1``,
    ``Q`` = Σᵢ dᵢ²/σᵢ² = ‖X⁺y‖² (dᵢ = eᵢᵀy), ``S_hat`` = σ₁²/N · Q^{(D−1)/D} (the predicted
    sharpness of Yoo et al.), ``y_norm`` = ‖y‖, ``residual_norm`` = ‖y − Π_{col X} y‖ (the part no
    model can fit) and ``y_in_colspace`` (residual_norm ≤ 1e-10·‖y‖)."""
    X, y = check_xy(X, y)
    D = int(depth)
    if D < 2:
        raise DataError(f"depth must be an integer >= 2, got {depth!r}")
    E, s, _ = svd_coordinates(X)
    return _summary_from_svd(X.shape[0], X.shape[1], E, s, y, D)


def _first_bad(a):
    bad = np.argwhere(~np.isfinite(a))[0]
    val = a[tuple(bad)]
    what = "NaN" if np.isnan(val) else ("inf" if val > 0 else "-inf")
    return what, bad


def check_xy(X, y, where: str = ""):
    """``X`` as a finite float64 (N, d) array and ``y`` as a finite float64 (N,) array, or a
    :class:`DataError` naming the problem (``where`` is appended, e.g. " in data.csv")."""
    try:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"X and y must be numeric arrays{where}") from None
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D array (samples × features){where}, got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"y must be a 1-D array of targets{where}, got shape {y.shape}")
    if X.shape[0] == 0:
        raise DataError(f"the data set{where} has no samples (N = 0); at least one row is needed")
    if X.shape[1] == 0:
        raise DataError(f"the data set{where} has no features (d = 0); X needs at least one column")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"y has {y.shape[0]} entries but X has {X.shape[0]} rows{where}; they must match")
    for name, a in (("X", X), ("y", y)):
        if not np.all(np.isfinite(a)):
            what, idx = _first_bad(a)
            loc = f"row {idx[0]}" + (f", column {idx[1]}" if a.ndim == 2 else "")
            raise DataError(f"{name} contains {what} at {loc} (rows and columns count from 0){where}; "
                            "all values must be finite")
    return X, y


# ----------------------------------------------------------------------------- generators

def check_noise(noise) -> float:
    """``noise`` as a non-negative finite float, or a :class:`DataError`."""
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise DataError(f"noise must be a non-negative number, got {noise!r}") from None
    if not (noise >= 0 and math.isfinite(noise)):
        raise DataError(f"noise must be a non-negative finite number, got {noise!r}")
    return noise


def rescale_to_Q(X, y, Q):
    """``y`` times the one positive factor that makes ‖X⁺y‖² equal ``Q`` (``y`` itself when
    ``Q`` is None)."""
    if Q is None:
        return y
    try:
        Qt = float(Q)
    except (TypeError, ValueError):
        raise DataError(f"Q must be a positive number, got {Q!r}") from None
    if not (Qt > 0 and math.isfinite(Qt)):
        raise DataError(f"Q must be a positive finite number, got {Q!r}")
    Q0 = data_summary(X, y)["Q"]
    if not Q0 > 0:
        raise DataError("cannot set Q: y has no component in the column space of X")
    return y * math.sqrt(Qt / Q0)


def _pos_int(value, name):
    from ..validate import whole_number

    return whole_number(value, name, 1, error=DataError)


def _orthonormal(rng, n, k):
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))  # Haar-distributed columns


def _smooth(field, axes, length):
    """Filter white noise along ``axes`` (periodic, via FFT) with the amplitude
    1/(1 + (|k|·length)²): a power spectrum falling like |k|⁻⁴ beyond the correlation length, as
    in natural images (smooth large-scale structure, but every spatial frequency present)."""
    F = np.fft.fftn(field, axes=axes)
    k2 = 0.0
    for j, ax in enumerate(axes):
        n = field.shape[ax]
        shape = [1] * len(axes)
        shape[j] = n
        k2 = k2 + (np.fft.fftfreq(n) ** 2).reshape(shape)
    g = 1.0 / (1.0 + k2 * length ** 2)
    F = F * np.reshape(g, (1,) * axes[0] + np.shape(g) + (1,) * (field.ndim - axes[-1] - 1))
    return np.real(np.fft.ifftn(F, axes=axes))


def _image_shape(dim, image_shape):
    if image_shape is not None:
        shp = tuple(int(s) for s in image_shape)
        if any(s < 1 for s in shp) or int(np.prod(shp)) != dim or len(shp) not in (1, 2, 3):
            raise DataError(f"image_shape must be (length,), (height, width) or (height, width, channels) "
                            f"with product dim = {dim}, got {image_shape!r}")
        return shp
    if dim % 3 == 0 and math.isqrt(dim // 3) ** 2 == dim // 3:
        s = math.isqrt(dim // 3)
        return (s, s, 3)
    if math.isqrt(dim) ** 2 == dim:
        s = math.isqrt(dim)
        return (s, s)
    return (dim,)


def _image_data(rng, N, dim, image_shape, corr_length, class_sep, pixel_noise):
    shp = _image_shape(dim, image_shape)
    spatial = shp[:2] if len(shp) == 3 else shp
    sax = tuple(range(1, 1 + len(spatial)))
    L = float(corr_length) if corr_length is not None else max(1.0, max(spatial) / 8.0)
    if not L > 0:
        raise DataError(f"corr_length must be a positive number of pixels, got {corr_length!r}")

    def unit_field(n):
        f = _smooth(rng.standard_normal((n,) + spatial), sax, L)
        f /= f.std(axis=tuple(range(1, f.ndim)), keepdims=True) + 1e-300
        return f

    templates = unit_field(2)                                   # one smooth pattern per class
    labels = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    rng.shuffle(labels)
    cls = (labels < 0).astype(int)
    fields = 0.6 * unit_field(N) + class_sep * 0.5 * templates[cls]
    if len(shp) == 3:                                           # channels: shared field + own detail
        C = shp[2]
        own = np.stack([unit_field(N) for _ in range(C)], axis=-1)
        fields = fields[..., None] + 0.3 * own
        tint = rng.uniform(-0.3, 0.3, (2, C))
        fields = fields + tint[cls][:, None, None, :]
    brightness = rng.normal(0.0, 0.2, (N,) + (1,) * (fields.ndim - 1))
    fields = fields + pixel_noise * rng.standard_normal(fields.shape)
    X = np.clip(0.5 + 0.2 * (fields + brightness), 0.0, 1.0)   # pixel values in [0, 1]
    return X.reshape(N, dim), labels, {"image_shape": list(shp), "corr_length": L, "class_sep": float(class_sep),
                                       "pixel_noise": float(pixel_noise),
                                       "labels": "±1, balanced, shuffled"}


def synthetic_dataset(kind: str = "gaussian", samples: int = 100, dim: int = 10, seed: int = 0, spectrum=None,
                      noise: float = 0.0, Q: float | None = None, image_shape=None, corr_length: float | None = None,
                      class_sep: float = 1.0, pixel_noise: float = 0.05) -> Dataset:
    """A synthetic data set (deterministic for a given ``seed``); the synthetic part of
    :func:`symsharp.data.make_dataset` (which also builds the real kinds).

    Kinds:

    - ``"gaussian"``: X has iid N(0, 1) entries; a teacher w* ~ N(0, I/d) (stored in
      ``meta["w_star"]``) gives y = X w* + ``noise``·ε with ε ~ N(0, I).
    - ``"spectrum"``: X = E diag(σ) Wᵀ with the prescribed singular values ``spectrum``
      (r = len(spectrum) ≤ min(N, d) positive numbers; default σᵢ = √N · i^{−1/2},
      i = 1 … min(N, d)) and Haar-random orthonormal E (N, r), W (d, r); y = E c + ``noise``·ε
      with c, ε standard normal (the noise puts part of y outside the column space).
    - ``"image"``: two classes of "image-like" inputs with labels y = ±1 (balanced, shuffled):
      each sample is a smooth random pixel field (white noise filtered with amplitude
      1/(1 + |k|²ℓ²), ℓ = ``corr_length`` pixels, default side/8: a natural-image-like power
      law) plus its class's template (a field of the same kind) scaled by ``class_sep``, a random
      brightness shift, for colour images per-channel detail and a class tint, and iid pixel
      noise of std ``pixel_noise`` (in field units); pixel values 0.5 + 0.2·field are clipped to
      [0, 1].  The image shape is ``image_shape`` or
      inferred from ``dim``: (s, s, 3) when dim = 3s² (3072 → 32×32×3, like CIFAR-10),
      (s, s) when dim = s², otherwise a 1-D signal of length dim; pixels are flattened in C order.
      ``noise`` adds noise·ε to the labels.

    ``Q``: when given, y is multiplied by the one positive factor that makes the dataset
    difficulty Σ dᵢ²/σᵢ² = ‖X⁺y‖² equal ``Q`` exactly (up to rounding) — works for every kind.
    """
    if kind not in KINDS:
        raise DataError(f"unknown data kind {kind!r}; choose one of {', '.join(KINDS)}")
    N = _pos_int(samples, "samples")
    d = _pos_int(dim, "dim")
    noise = check_noise(noise)
    rng = np.random.default_rng(seed)
    meta = {"kind": kind, "samples": N, "dim": d, "seed": seed, "noise": noise}
    if kind == "gaussian":
        X = rng.standard_normal((N, d))
        w = rng.standard_normal(d) / math.sqrt(d)
        y = X @ w
        meta["w_star"] = w
    elif kind == "spectrum":
        if spectrum is None:
            s = math.sqrt(N) / np.sqrt(np.arange(1, min(N, d) + 1))
        else:
            s = np.atleast_1d(np.asarray(spectrum, dtype=np.float64))
            if s.ndim != 1 or s.size == 0:
                raise DataError(f"spectrum must be a non-empty list of singular values, got {spectrum!r}")
            if s.size > min(N, d):
                raise DataError(f"spectrum has {s.size} singular values but at most min(samples, dim) = "
                                f"{min(N, d)} are possible")
            if not np.all(np.isfinite(s)) or np.any(s <= 0):
                raise DataError(f"spectrum values must be positive finite numbers, got {spectrum!r}")
        s = np.sort(s)[::-1]
        E = _orthonormal(rng, N, s.size)
        W = _orthonormal(rng, d, s.size)
        X = (E * s) @ W.T
        y = E @ rng.standard_normal(s.size)
        meta["spectrum"] = s.tolist()
    else:
        X, y, extra = _image_data(rng, N, d, image_shape, corr_length, class_sep, pixel_noise)
        meta.update(extra)
    if noise:
        y = y + noise * rng.standard_normal(N)
    y = rescale_to_Q(X, y, Q)
    meta["Q"] = data_summary(X, y)["Q"]
    name = f"{kind}-N{N}-d{d}-seed{seed}"
    return Dataset(X=np.ascontiguousarray(X, dtype=np.float64), y=np.asarray(y, dtype=np.float64), name=name,
                   meta=meta)


# ----------------------------------------------------------------------------- files

EXTENSIONS = (".npz", ".npy", ".csv")


def _csv_rows(path: Path):
    with open(path, "r", encoding="utf-8") as fh:
        first = fh.readline()
    header = 0
    if first.strip():
        try:
            [float(t) for t in first.strip().split(",")]
        except ValueError:
            header = 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)       # "input contained no data": N = 0 below
            arr = np.loadtxt(path, delimiter=",", skiprows=header, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"could not read {path} as comma-separated numbers ({exc})") from None
    return arr


def load_dataset(path) -> Dataset:
    """Read a data set from a file.

    - ``.npz``: arrays ``X`` (N, d) and ``y`` (N,) (or (N, 1));
    - ``.npy``: one 2-D array (N, d + 1) whose last column is y;
    - ``.csv``: the same layout as ``.npy``, comma-separated; a first line that is not all numbers
      is treated as a header and skipped.

    Raises :class:`DataError` for a missing file, another extension, wrong shapes, N = 0, or
    NaN/inf values (naming the first bad row)."""
    p = Path(os.fspath(path))
    ext = p.suffix.lower()
    if ext not in EXTENSIONS:
        raise DataError(f"unsupported data file extension {p.suffix or '(none)'!r} for {p}; "
                        f"use one of {', '.join(EXTENSIONS)}")
    if not p.is_file():
        raise DataError(f"data file {p} does not exist")
    where = f" in {p.name}"
    try:
        if ext == ".npz":
            with np.load(p, allow_pickle=False) as z:
                missing = [k for k in ("X", "y") if k not in z.files]
                if missing:
                    raise DataError(f"{p} has no array {missing[0]!r}; an .npz data file needs arrays 'X' and 'y' "
                                    f"(found {', '.join(z.files) or 'none'})")
                X, y = z["X"], z["y"]
        else:
            arr = np.load(p, allow_pickle=False) if ext == ".npy" else _csv_rows(p)
            if arr.ndim != 2:
                raise DataError(f"{p} must hold a 2-D array (samples × (features + 1 target column)), "
                                f"got shape {arr.shape}")
            if arr.shape[0] == 0:
                raise DataError(f"the data set{where} has no samples (N = 0); at least one row is needed")
            if arr.shape[1] < 2:
                raise DataError(f"{p} must have at least 2 columns (features, then the target y), "
                                f"got {arr.shape[1]}")
            X, y = arr[:, :-1], arr[:, -1]
    except DataError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"could not read {p} ({exc})") from None
    X, y = check_xy(X, y, where)
    return Dataset(X=np.ascontiguousarray(X), y=np.ascontiguousarray(y), name=p.stem,
                   meta={"kind": "file", "path": str(p)})


def save_dataset(data, path, y=None) -> Path:
    """Write a :class:`Dataset` (or arrays ``X``, ``y``) in the layout :func:`load_dataset` reads."""
    if isinstance(data, Dataset):
        X, yy = data.X, data.y
    else:
        X, yy = data, y
    X, yy = check_xy(X, yy)
    p = Path(os.fspath(path))
    ext = p.suffix.lower()
    if ext == ".npz":
        np.savez(p, X=X, y=yy)
    elif ext == ".npy":
        np.save(p, np.column_stack([X, yy]))
    elif ext == ".csv":
        header = ",".join([f"x{k}" for k in range(X.shape[1])] + ["y"])
        np.savetxt(p, np.column_stack([X, yy]), delimiter=",", header=header, comments="", fmt="%.17g")
    else:
        raise DataError(f"unsupported data file extension {p.suffix or '(none)'!r} for {p}; "
                        f"use one of {', '.join(EXTENSIONS)}")
    return p
