"""Runs and scans on compiled maps: orbit diagrams, periods, regimes, Lyapunov exponents."""
from .orbits import (REGIMES, DynamicsError, LyapunovResult, OrbitDiagram, detect_period, grid_params,
                     lyapunov, orbit_diagram)

__all__ = ["orbit_diagram", "lyapunov", "detect_period", "grid_params", "OrbitDiagram", "LyapunovResult",
           "REGIMES", "DynamicsError"]
