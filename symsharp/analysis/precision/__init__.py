"""Precision, blow-up and certification analyses of any map, in every arithmetic of
:mod:`symsharp.codegen.arith`.

- :func:`precision_horizon` / :func:`horizon_json`: per arithmetic, the step at which a trajectory
  leaves a high-precision reference, against the law (bits·ln 2 + ln tol)/λ;
- :func:`blowup` / :func:`blowup_chain` / :func:`blowup_json`: fraction of seeds that diverge per
  (η, arithmetic), for any map or for the chain model in raw or SVD coordinates, with the
  mechanism test (float64 plus injected relative noise 2^-p);
- :func:`certify` / :func:`certify_json`: Lohner enclosures, the certified horizon, citable
  statements and Krawczyk proofs of periodic orbits.

Every analysis returns an ``xarray.Dataset`` whose ``attrs["symsharp"]`` holds the configuration,
library versions and seed as JSON.
"""
from .blowups import blowup, blowup_chain, blowup_json, chain_init, chain_svd_map, mechanism_summary
from .certified import certify, certify_json, find_period, refine_periodic_point
from .common import PrecisionError
from .horizon import first_exceedance, horizon_json, precision_horizon, reference_bits_needed

__all__ = ["PrecisionError", "precision_horizon", "horizon_json", "first_exceedance", "reference_bits_needed",
           "blowup", "blowup_chain", "blowup_json", "chain_svd_map", "chain_init", "mechanism_summary", "certify",
           "certify_json", "find_period", "refine_periodic_point"]
