"""Data sets for the runs: synthetic generators, loaders and the numbers the chain model needs.

- :func:`make_dataset` builds ``"gaussian"``, ``"spectrum"`` and ``"image"`` data (deterministic
  for a given ``seed``); :func:`load_dataset` reads ``.npz``, ``.npy`` and ``.csv`` files;
  :func:`save_dataset` writes them.
- :func:`data_summary` reports N, d, rank, σ₁, the dataset difficulty Q = Σ dᵢ²/σᵢ² (with
  dᵢ = eᵢᵀy, X = Σ σᵢ eᵢ wᵢᵀ the thin SVD), the predicted sharpness Ŝ_D = σ₁²/N · Q^{(D−1)/D} and
  the part of y outside the column space of X.

Plain NumPy; no SymPy, no Numba.
"""
from .core import (DataError, Dataset, data_summary, load_dataset, make_dataset, save_dataset, svd_coordinates,
                   KINDS)

__all__ = ["Dataset", "DataError", "make_dataset", "load_dataset", "save_dataset", "data_summary",
           "svd_coordinates", "KINDS"]
