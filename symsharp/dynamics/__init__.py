"""Runs and scans on compiled maps: systems with named model options, orbit diagrams, phase
diagrams, periods, regimes, Lyapunov exponents, single runs, and the chain model's GD/SGD in SVD
coordinates.

    from symsharp.dynamics import uv_system, orbit, phase, lyapunov_curve, run
    ds = orbit(uv_system(), {"eta": "5:17:2000", "f0": 0.0, "lam0": 0.1}, transient=10_000, keep=256)
"""
from .chain import ChainRun, chain_gd_numpy, chain_observables, chain_sgd_numpy, chain_svd_model, run_chain
from .grid import parse_grid
from .orbits import (REGIMES, DynamicsError, LyapunovResult, OrbitDiagram, detect_period, grid_params,
                     lyapunov, orbit_diagram)
from .scan import lyapunov_curve, orbit, orbit_json, phase, phase_json, run, run_summary
from .systems import System, chain_system, custom_system, uv_system

__all__ = ["orbit_diagram", "lyapunov", "detect_period", "grid_params", "OrbitDiagram", "LyapunovResult",
           "REGIMES", "DynamicsError", "parse_grid", "System", "uv_system", "chain_system", "custom_system",
           "orbit", "phase", "lyapunov_curve", "run", "orbit_json", "phase_json", "run_summary",
           "run_chain", "ChainRun", "chain_observables", "chain_gd_numpy", "chain_sgd_numpy", "chain_svd_model"]
