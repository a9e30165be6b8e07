"""Runs and scans of compiled systems, for every model alike: orbit diagrams, phase diagrams,
periods, regimes, Lyapunov exponents and single runs.

    from symsharp.models import get_model
    from symsharp.dynamics import orbit
    uv = get_model("uv").make_system()
    ds = orbit(uv, {"eta": "5:17:2000", "f0": 0.0, "lam0": 0.1}, transient=10_000, keep=256)
"""
from .grid import parse_grid
from .orbits import (REGIMES, DynamicsError, LyapunovResult, OrbitDiagram, detect_period, grid_params,
                     lyapunov, orbit_diagram)
from .scan import lyapunov_curve, orbit, orbit_json, phase, phase_json, run, run_summary
from .systems import Option, System

__all__ = ["orbit_diagram", "lyapunov", "detect_period", "grid_params", "OrbitDiagram", "LyapunovResult",
           "REGIMES", "DynamicsError", "parse_grid", "System", "Option", "orbit", "phase", "lyapunov_curve", "run",
           "orbit_json", "phase_json", "run_summary"]
