"""Real data that ship inside scikit-learn (nothing is downloaded): two-class image sets.

- ``"digits"``: scikit-learn's handwritten digits (1797 images of 8 × 8 pixels with values
  0 … 16, ten classes, about 180 per class), a two-class subset chosen by ``classes``
  (default ``"0,1"``); d = 64.
- ``"photo-patches"``: square ``patch`` × ``patch`` × 3 patches (default 32, so d = 3072 as in
  CIFAR-10) cut at random positions from the two colour photographs scikit-learn ships
  (``china.jpg`` and ``flower.jpg``, 427 × 640 × 3, pixel values 0 … 255); the photograph is
  the class.  A real two-class natural-image set.

**Targets.** y = +1 for the first class (the first digit listed; ``china.jpg``) and y = −1 for
the second (the second digit; ``flower.jpg``).

**Sampling.** N = ``samples`` rows, as balanced as the classes allow (⌈N/2⌉ from the first
class, ⌊N/2⌋ from the second, moving the excess to the other class when one runs out).  Each
class's pool (its images; for photographs every patch position) is permuted once by ``seed``
and the first rows are taken, so for one seed the sets are *nested*: the rows for N are a subset
of the rows for any larger N.  Rows are then shuffled (by the same seed).  ``meta["indices"]``
(digits: indices into ``load_digits``) or ``meta["positions"]`` (patches: rows of
(image, top, left)) say exactly which images were used.

**Preprocessing** (:func:`preprocess`): any of the steps below, always applied in this order
whatever order they are listed in, and recorded in ``meta["preprocess"]``:

1. ``scale01`` — pixel values to [0, 1] by the fixed pixel range of the source (digits / 16,
   photographs / 255), so it does not depend on the subset;
2. ``center`` — subtract the per-feature (per-pixel) mean over the N rows;
3. ``standardize`` — per-feature z-score: subtract the mean (so it implies ``center``) and divide
   by the per-feature standard deviation (population, ddof = 0); constant features (e.g. corner
   pixels of the digits) stay 0 and are counted in ``meta["constant_features"]``;
4. ``unit-norm`` — divide X by one number so that the average row norm (1/N) Σⱼ ‖xⱼ‖ is 1
   (the factor is ``meta["norm_scale"]``).

``"none"`` (or an empty list) keeps raw pixel values.  The default for the real kinds is
``scale01``.  Steps 2–4 use statistics of the N selected rows, so they break the nesting of
X across N (the rows are still nested).

Q = ‖X⁺y‖² depends on the overall scale of X (X → cX gives Q → Q/c²), so preprocessing changes
it strongly; :func:`q_growth` measures Q against N for a source and a preprocessing.

scikit-learn is imported only inside the loaders, so ``import symsharp.data`` stays fast.
"""
from __future__ import annotations

from .core import DataError, Dataset, _pos_int, data_summary

import math
from functools import lru_cache

import numpy as np

REAL_KINDS = ("digits", "photo-patches")
PREPROCESS_STEPS = ("scale01", "center", "standardize", "unit-norm")
"""The preprocessing steps, in the order they are applied."""

_ALIASES = {"scale01": "scale01", "scale": "scale01", "pixel": "scale01", "center": "center", "centre": "center",
            "standardize": "standardize", "standardise": "standardize", "zscore": "standardize",
            "unit-norm": "unit-norm", "unit_norm": "unit-norm", "unitnorm": "unit-norm"}
DEFAULT_PREPROCESS = ("scale01",)
PHOTO_NAMES = ("china.jpg", "flower.jpg")
PHOTO_MAX_SAMPLES = 20_000
"""Largest N of ``photo-patches`` (a memory guard: 20 000 × 3072 float64 is 0.5 GB)."""
DIGITS_PIXEL_MAX = 16.0
PHOTO_PIXEL_MAX = 255.0


# ----------------------------------------------------------------------------- sources (cached)

def _need_sklearn():
    try:
        import sklearn.datasets as skd
    except ImportError:  # pragma: no cover - the test install has it
        raise DataError("the real data kinds 'digits' and 'photo-patches' need scikit-learn; "
                        "install it with `pip install scikit-learn`") from None
    return skd


@lru_cache(maxsize=1)
def _digits():
    skd = _need_sklearn()
    b = skd.load_digits()
    X = np.asarray(b.data, dtype=np.float64)
    t = np.asarray(b.target, dtype=np.int64)
    X.setflags(write=False)
    t.setflags(write=False)
    return X, t


@lru_cache(maxsize=1)
def _photos():
    skd = _need_sklearn()
    try:
        b = skd.load_sample_images()
    except ImportError:  # pragma: no cover - pillow missing
        raise DataError("the real data kind 'photo-patches' needs Pillow to read scikit-learn's sample "
                        "photographs; install it with `pip install pillow`") from None
    names = [str(f).replace("\\", "/").rsplit("/", 1)[-1] for f in b.filenames]
    imgs = []
    for want in PHOTO_NAMES:
        if want not in names:  # pragma: no cover - depends on the scikit-learn release
            raise DataError(f"scikit-learn's sample images do not include {want}; found {', '.join(names)}")
        im = np.asarray(b.images[names.index(want)])
        im.setflags(write=False)
        imgs.append(im)
    return tuple(imgs)


# ----------------------------------------------------------------------------- preprocessing

def parse_preprocess(spec, default=DEFAULT_PREPROCESS) -> list:
    """Preprocessing steps from ``spec`` — None (the ``default``), ``"none"``/``""``, a
    comma-separated string such as ``"scale01,center"`` or a sequence of step names — as a list
    in application order (:data:`PREPROCESS_STEPS`; ``standardize`` adds ``center``)."""
    if spec is None:
        items = list(default)
    elif isinstance(spec, str):
        items = [t.strip() for t in spec.split(",") if t.strip()]
    else:
        try:
            items = [str(t).strip() for t in spec]
        except TypeError:
            raise DataError(f"preprocess must be a comma-separated string or a list of steps, got {spec!r}") from None
    chosen = set()
    for t in items:
        key = t.lower()
        if key in ("none", "raw"):
            continue
        if key not in _ALIASES:
            raise DataError(f"unknown preprocessing step {t!r}; choose from {', '.join(PREPROCESS_STEPS)} "
                            "(comma-separated) or 'none'")
        chosen.add(_ALIASES[key])
    if "standardize" in chosen:
        chosen.add("center")
    return [s for s in PREPROCESS_STEPS if s in chosen]


def preprocess(X, steps, pixel_range=None):
    """Apply preprocessing ``steps`` (see :func:`parse_preprocess`) to a copy of ``X`` (N, d).

    ``pixel_range`` = (lo, hi) is the fixed value range ``scale01`` maps to [0, 1]; None uses
    the min and max of X.  Returns ``(X, info)`` where ``info`` records the steps and the numbers
    used (``pixel_range``, ``constant_features``, ``norm_scale``)."""
    steps = parse_preprocess(steps, default=())
    X = np.array(X, dtype=np.float64, copy=True)
    info = {"preprocess": list(steps)}
    if "scale01" in steps:
        lo, hi = (float(X.min()), float(X.max())) if pixel_range is None else map(float, pixel_range)
        if not hi > lo:
            raise DataError(f"cannot scale pixels to [0, 1]: the value range [{lo}, {hi}] is empty")
        X = (X - lo) / (hi - lo)
        info["pixel_range"] = [lo, hi]
    if "center" in steps:
        X -= X.mean(axis=0)
    if "standardize" in steps:
        sd = X.std(axis=0)
        const = ~(sd > 1e-12 * max(1.0, float(np.max(sd)) if sd.size else 1.0))
        X[:, const] = 0.0
        X[:, ~const] /= sd[~const]
        info["constant_features"] = int(const.sum())
    if "unit-norm" in steps:
        m = float(np.mean(np.linalg.norm(X, axis=1)))
        if not m > 0:
            raise DataError("cannot scale to unit average norm: every row of X is zero")
        X /= m
        info["norm_scale"] = 1.0 / m
    return X, info


_preprocess = preprocess          # the loaders' argument ``preprocess`` shadows the function


# ----------------------------------------------------------------------------- sampling

def _split_counts(N, na, nb, what):
    if N > na + nb:
        raise DataError(f"samples = {N} is more than the {na + nb} available for {what}; "
                        f"choose samples <= {na + nb}")
    ka = min((N + 1) // 2, na)
    kb = N - ka
    if kb > nb:
        kb = nb
        ka = N - kb
    return ka, kb


def _parse_classes(classes):
    if classes is None:
        classes = "0,1"
    if isinstance(classes, str):
        parts = [t.strip() for t in classes.replace("/", ",").replace(" ", ",").split(",") if t.strip()]
    else:
        try:
            parts = list(classes)
        except TypeError:
            raise DataError(f"classes must be two digits such as '0,1' or (3, 8), got {classes!r}") from None
    if len(parts) != 2:
        raise DataError(f"classes must name exactly two digits such as '0,1' or '3,8', got {classes!r}")
    out = []
    for p in parts:
        try:
            c = int(str(p).strip())
        except ValueError:
            c = None
        if c is None or str(c) != str(p).strip() or not 0 <= c <= 9:
            raise DataError(f"unknown digit class {p!r} in classes {classes!r}; the classes are the digits 0 to 9")
        out.append(c)
    if out[0] == out[1]:
        raise DataError(f"classes must be two different digits, got {classes!r}")
    return tuple(out)


def load_digits_pair(classes="0,1", samples: int | None = None, seed: int = 0, preprocess=None) -> Dataset:
    """A two-class subset of scikit-learn's handwritten digits (d = 64, 8 × 8 pixels).

    ``classes``: two different digits (``"3,8"``, ``(3, 8)``); y = +1 for the first, −1 for the
    second.  ``samples``: N (default: all images of the two classes, about 360).  See the module
    docstring for the sampling (balanced, nested across N for one seed) and ``preprocess``."""
    a, b = _parse_classes(classes)
    Xall, t = _digits()
    ia, ib = np.flatnonzero(t == a), np.flatnonzero(t == b)
    N = ia.size + ib.size if samples is None else _pos_int(samples, "samples")
    ka, kb = _split_counts(N, ia.size, ib.size, f"digits {a} and {b}")
    rng = np.random.default_rng(seed)
    pa, pb = rng.permutation(ia)[:ka], rng.permutation(ib)[:kb]
    idx = np.concatenate([pa, pb])
    y = np.concatenate([np.ones(ka), -np.ones(kb)])
    order = rng.permutation(N)
    idx, y = idx[order], y[order]
    steps = parse_preprocess(preprocess)
    X, info = _preprocess(Xall[idx], steps, pixel_range=(0.0, DIGITS_PIXEL_MAX))
    meta = {"kind": "digits", "samples": N, "dim": 64, "seed": seed, "classes": [a, b],
            "class_counts": [int(ka), int(kb)], "targets": f"+1 for digit {a}, -1 for digit {b}",
            "image_shape": [8, 8], "source": "sklearn.datasets.load_digits", "indices": idx}
    meta.update(info)
    return Dataset(X=np.ascontiguousarray(X), y=y, name=f"digits-{a}v{b}-N{N}-seed{seed}", meta=meta)



def _check_patch(patch, H, W):
    try:
        p = int(patch)
    except (TypeError, ValueError):
        raise DataError(f"patch must be a whole number of pixels from 1 to {min(H, W)}, got {patch!r}") from None
    if p != patch or not 1 <= p <= min(H, W):
        raise DataError(f"patch must be a whole number of pixels from 1 to {min(H, W)}, got {patch!r}")
    return p


def load_photo_patches(samples: int = 1000, seed: int = 0, patch: int = 32, preprocess=None) -> Dataset:
    """Square colour patches cut from scikit-learn's two sample photographs; the photograph is
    the class (y = +1 for ``china.jpg``, −1 for ``flower.jpg``).

    ``patch``: side in pixels (default 32: d = 3·32² = 3072, CIFAR-sized); pixels are flattened
    in (row, column, channel) C order.  Patch positions (top-left corners) are drawn without
    repetition from all (427 − patch + 1)(640 − patch + 1) positions of each photograph by
    ``seed`` (nested across N for one seed); patches overlap.  N ≤ :data:`PHOTO_MAX_SAMPLES`.
    See the module docstring for ``preprocess``."""
    imgs = _photos()
    H, W = imgs[0].shape[:2]
    p = _check_patch(patch, H, W)
    N = _pos_int(samples, "samples")
    npos = [(im.shape[0] - p + 1) * (im.shape[1] - p + 1) for im in imgs]
    if N > PHOTO_MAX_SAMPLES:
        raise DataError(f"samples = {N} is more than the {PHOTO_MAX_SAMPLES} photo patches allowed "
                        f"(a memory guard); choose samples <= {PHOTO_MAX_SAMPLES}")
    ka, kb = _split_counts(N, npos[0], npos[1], f"{p}x{p} photo patches")
    rng = np.random.default_rng(seed)
    rows, pos = [], []
    for c, (im, k, n) in enumerate(zip(imgs, (ka, kb), npos)):
        flat = rng.permutation(n)[:k]
        w = im.shape[1] - p + 1
        top, left = flat // w, flat % w
        for r0, c0 in zip(top, left):
            rows.append(im[r0:r0 + p, c0:c0 + p, :].reshape(-1))
        pos.append(np.column_stack([np.full(k, c), top, left]))
    Xraw = np.asarray(rows, dtype=np.float64)
    positions = np.concatenate(pos).astype(np.int64)
    y = np.concatenate([np.ones(ka), -np.ones(kb)])
    order = rng.permutation(N)
    Xraw, y, positions = Xraw[order], y[order], positions[order]
    steps = parse_preprocess(preprocess)
    X, info = _preprocess(Xraw, steps, pixel_range=(0.0, PHOTO_PIXEL_MAX))
    meta = {"kind": "photo-patches", "samples": N, "dim": 3 * p * p, "seed": seed, "patch": p,
            "image_shape": [p, p, 3], "classes": list(PHOTO_NAMES), "class_counts": [int(ka), int(kb)],
            "targets": "+1 for china.jpg, -1 for flower.jpg", "source": "sklearn.datasets.load_sample_images",
            "positions": positions}
    meta.update(info)
    return Dataset(X=np.ascontiguousarray(X), y=y, name=f"photo-patches{p}-N{N}-seed{seed}", meta=meta)


def real_dataset(kind: str, samples=None, dim=None, seed: int = 0, classes=None, patch=None,
                 preprocess=None) -> Dataset:
    """Dispatch of the real kinds for :func:`symsharp.data.make_dataset`.

    ``dim`` may be None or the dimension the kind produces (64 for digits; 3·patch² for
    photo patches, where a ``dim`` of the form 3p² also chooses the patch side p)."""
    if kind == "digits":
        if patch is not None:
            raise DataError("patch applies only to data kind 'photo-patches', not 'digits'")
        if dim is not None and dim != 64:
            raise DataError(f"dim = {dim!r} is not possible for data kind 'digits' (8x8 images: dim is 64)")
        return load_digits_pair(classes, samples=samples, seed=seed, preprocess=preprocess)
    if kind == "photo-patches":
        if classes is not None:
            raise DataError("classes applies only to data kind 'digits'; the classes of 'photo-patches' "
                            "are the two photographs")
        if patch is None:
            if dim is None:
                patch = 32
            else:
                q = int(dim) // 3 if isinstance(dim, (int, np.integer)) else -1
                s = math.isqrt(q) if q >= 0 else -1
                if q < 1 or dim != 3 * s * s:
                    raise DataError(f"dim = {dim!r} is not possible for data kind 'photo-patches'; dim must be "
                                    "3·patch² (e.g. 3072 for 32x32x3 patches)")
                patch = s
        elif dim is not None and dim != 3 * int(patch) ** 2:
            raise DataError(f"dim = {dim!r} does not match patch = {patch!r} (dim = 3·patch² = "
                            f"{3 * int(patch) ** 2})")
        return load_photo_patches(samples=1000 if samples is None else samples, seed=seed, patch=patch,
                                  preprocess=preprocess)
    raise DataError(f"unknown real data kind {kind!r}; choose one of {', '.join(REAL_KINDS)}")


# ----------------------------------------------------------------------------- numbers

def describe_data(X, y, depths=(2, 3, 4, 5)) -> dict:
    """The numbers ``symsharp data describe`` prints for a data set.

    Keys (JSON-ready): ``N``, ``d``, ``rank`` (singular values above 1e-12·σ₁), ``sigma1``,
    ``Q`` = ‖X⁺y‖² = Σᵢ dᵢ²/σᵢ² and ``S_hat`` = {D: σ₁²/N · Q^{(D−1)/D}} for each depth D in
    ``depths`` (integer keys; ``json.dumps`` writes them as strings)."""
    try:
        Ds = [int(D) for D in depths]
    except (TypeError, ValueError):
        raise DataError(f"depths must be integers >= 2, got {depths!r}") from None
    if any(D < 2 or D != D0 for D, D0 in zip(Ds, depths)) or not Ds:
        raise DataError(f"depths must be integers >= 2, got {depths!r}")
    s = data_summary(X, y, Ds[0])
    N, sig, Q = s["N"], s["sigma1"], s["Q"]
    S_hat = {D: float(sig ** 2 / N * Q ** ((D - 1) / D)) if Q > 0 else 0.0 for D in Ds}
    return {"N": s["N"], "d": s["d"], "rank": s["rank"], "sigma1": sig, "Q": Q, "S_hat": S_hat}
