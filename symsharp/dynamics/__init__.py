"""Runs and scans of compiled systems, for every model alike: orbit diagrams, phase diagrams,
periods, regimes, Lyapunov exponents and single runs.

    from symsharp.models import get_model
    from symsharp.dynamics import orbit
    uv = get_model("uv").make_system()
    ds = orbit(uv, {"eta": "5:17:2000", "f0": 0.0, "lam0": 0.1}, transient=10_000, keep=256)

Scans run in tiles within a memory budget, on every core or on a Dask cluster, and can stream into
a resumable Zarr store (see :mod:`symsharp.dynamics.scan`); the answer never depends on how.
"""
from .common import REGIMES, DynamicsError
from .grid import parse_grid
from .orbits import LyapunovResult, OrbitDiagram, detect_period, grid_params, lyapunov, orbit_diagram
from .pointwork import tangent_vectors
from .result import ScanResult
from .scan import lyapunov_curve, lyapunov_json, orbit, orbit_json, phase, phase_json, run, run_summary
from .systems import Option, System
from .tiles import parse_memory

__all__ = ["orbit_diagram", "lyapunov", "detect_period", "grid_params", "OrbitDiagram", "LyapunovResult",
           "REGIMES", "DynamicsError", "parse_grid", "System", "Option", "orbit", "phase", "lyapunov_curve", "run",
           "orbit_json", "phase_json", "lyapunov_json", "run_summary", "ScanResult", "tangent_vectors",
           "parse_memory"]
