"""Symbolic derivations (SymPy only; never imports Numba)."""
