"""The JSON configuration stored in ``attrs["symsharp"]`` of every dataset of the package."""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .family import MapFamily


def _versions() -> dict:
    import mpmath
    import numba
    import scipy
    import sympy

    return {"numpy": np.__version__, "scipy": scipy.__version__, "sympy": sympy.__version__,
            "mpmath": mpmath.__version__, "numba": numba.__version__, "xarray": xr.__version__}


def config_json(fam: MapFamily, **options) -> str:
    """The JSON string stored in ``attrs["symsharp"]`` of every dataset of this package: the
    family (map, state, parameter, fixed values), the options of the call, library versions."""
    def clean(v):
        if isinstance(v, (np.floating, np.integer)):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, (list, tuple)):
            return [clean(u) for u in v]
        if isinstance(v, dict):
            return {str(a): clean(b) for a, b in v.items()}
        if callable(v):
            return getattr(v, "__name__", "callable")
        return v

    return json.dumps({"family": fam.config, "options": clean(options), "versions": _versions(),
                       "dtype": "float64 (kernels); mpmath (refinement)"}, sort_keys=True)
