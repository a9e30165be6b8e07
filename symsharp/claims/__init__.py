"""The claim registry and the checker protocol.

Claims live with their model (``symsharp/models/<name>/claims*.py``) and register themselves with
:func:`register`; :func:`symsharp.models.load_claims` imports every registered model's claims.
"""
from .registry import Claim, ClaimError, Outcome, all_claims, get_claim, register, verify

__all__ = ["Claim", "ClaimError", "Outcome", "all_claims", "get_claim", "register", "verify"]
