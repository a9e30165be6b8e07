"""Analyses built on compiled maps and derivations, for every model alike: bifurcation analysis,
precision and certification, wide-network sharpness (each a module or package of its own)."""
