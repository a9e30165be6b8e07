"""Generic bifurcation analysis of one-parameter map families x ↦ F(x; p) given as SymPy data.

    fam = map_family(step, state, params, values={"a": 0.01, "y": 1}, param="eta")
    orbits = periodic_orbits(fam, 11.0, max_period=16, seeds=[[1.0, 0.2]], digits=30)
    br = continue_orbit(fam, x, 11.0, period=2, direction=+1, stop_at=("flip",))
    cas = cascade(fam, x0, start=11.0, flips=10)             # flips, δ_j, onset of chaos
    ws = periodic_windows(fam, x0, 13.0, 20.0, max_period=16)  # saddle-node windows
    cr = boundary_crisis(fam, x0, 19.0, 21.0)
    res = bifurcation_analysis(fam, x0, lo, hi); res.contract()  # the JSON contract
    cert = certify_orbit(fam, orbits[k])                      # Krawczyk proof in ball arithmetic
    ds = lyapunov_spectrum(fam, x0, etas); bs = basins(fam, 11.0, xs, ys)

Layers: :mod:`.family` (SymPy → compiled float64 kernels + mpmath evaluators, exact Jacobians),
:mod:`.orbits` (periodic orbits), :mod:`.continuation` (pseudo-arclength, test functions,
location, branch switching), :mod:`.cascade` (cascade, windows, crisis), :mod:`.analysis`
(the one-call driver, datasets, JSON contract), :mod:`.certify` (Krawczyk via
:mod:`symsharp.codegen.arith.balls`), :mod:`.spectrum` (Lyapunov spectrum, basins).
"""
from .analysis import BifurcationResult, bifurcation_analysis, branches_dataset, config_json, contract
from .cascade import (Cascade, Crisis, Window, WindowSearch, attractor_cycle, boundary_crisis, cascade, feigenbaum,
                      periodic_windows)
from .certify import Certificate, certify_orbit, certify_point
from .continuation import (BifurcationPoint, Branch, continue_orbit, locate_collapse, refine_point, switch_at_flip,
                           test_values)
from .family import BifurcationError, MapFamily, exact_value, gd_family, map_family
from .orbits import PeriodicOrbit, newton_cycles, orbits_dataset, orbits_json, periodic_orbits, refine_orbit
from .spectrum import basins, lyapunov_spectrum
from ._scan import Scan, detect_periods, scan

__all__ = ["map_family", "gd_family", "MapFamily", "BifurcationError", "exact_value",
           "periodic_orbits", "refine_orbit", "newton_cycles", "PeriodicOrbit", "orbits_json", "orbits_dataset",
           "continue_orbit", "switch_at_flip", "locate_collapse", "refine_point", "test_values", "Branch",
           "BifurcationPoint", "cascade", "feigenbaum", "attractor_cycle", "periodic_windows", "boundary_crisis",
           "Cascade", "Window", "WindowSearch", "Crisis", "bifurcation_analysis", "BifurcationResult", "contract",
           "branches_dataset", "config_json", "certify_orbit", "certify_point", "Certificate",
           "lyapunov_spectrum", "basins", "scan", "Scan", "detect_periods"]
