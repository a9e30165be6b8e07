"""Data sets for the runs: synthetic generators, real images shipped by scikit-learn, loaders and
the numbers the chain model needs.

- :func:`make_dataset` builds the synthetic kinds ``"gaussian"``, ``"spectrum"``, ``"image"``
  and the real kinds ``"digits"`` (scikit-learn's 8 × 8 handwritten digits, a two-class subset)
  and ``"photo-patches"`` (32 × 32 × 3 patches of scikit-learn's two sample photographs, the
  photograph as the class), with optional preprocessing (``scale01``, ``center``,
  ``standardize``, ``unit-norm``; see :mod:`symsharp.data.real`); all deterministic for a given
  ``seed``.  :func:`load_dataset` reads ``.npz``, ``.npy`` and ``.csv`` files;
  :func:`save_dataset` writes them.
- :func:`data_summary` reports N, d, rank, σ₁, the dataset difficulty Q = Σ dᵢ²/σᵢ² (with
  dᵢ = eᵢᵀy, X = Σ σᵢ eᵢ wᵢᵀ the thin SVD), the predicted sharpness Ŝ_D = σ₁²/N · Q^{(D−1)/D} and
  the part of y outside the column space of X; :func:`describe_data` gives N, d, rank, σ₁, Q and
  Ŝ_D for several depths; :func:`q_growth` measures Q against N.

Plain NumPy (scikit-learn only inside the real loaders); no SymPy, no Numba.
"""
from .core import (DataError, Dataset, data_summary, load_dataset, save_dataset, svd_coordinates,
                   synthetic_dataset)
from .kinds import KINDS, make_dataset, q_growth
from .real import (PREPROCESS_STEPS, REAL_KINDS, describe_data, load_digits_pair, load_photo_patches,
                   parse_preprocess, preprocess)

__all__ = ["Dataset", "DataError", "make_dataset", "load_dataset", "save_dataset", "data_summary",
           "svd_coordinates", "KINDS", "REAL_KINDS", "PREPROCESS_STEPS", "synthetic_dataset", "describe_data",
           "q_growth", "load_digits_pair", "load_photo_patches", "preprocess", "parse_preprocess"]
