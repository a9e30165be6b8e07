"""Claims from the papers and from the derivations, each with a checker."""
from .registry import Claim, ClaimError, Outcome, all_claims, get_claim, register, verify

__all__ = ["Claim", "ClaimError", "Outcome", "all_claims", "get_claim", "register", "verify"]
from . import yoo_gf  # noqa: E402,F401  (registers the GF-limit and Y7/Y8 claims)
from . import uv_route_claims  # noqa: E402,F401  (registers the UV route-to-chaos claims)
from . import uv_init_claims  # noqa: E402,F401  (registers the UV initialisation/parameterisation claims)
