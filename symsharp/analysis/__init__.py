"""Analyses built on the derivations and kernels (route to chaos of the UV model, …)."""
from .uv_route import DEFAULT_CONFIG, RouteError, route_to_chaos

__all__ = ["route_to_chaos", "DEFAULT_CONFIG", "RouteError"]
