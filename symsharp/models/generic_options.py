"""Per-point options of parameter-space GD, shared by every model run in parameter space (light to
import: the registry declares them before any SymPy or Numba is loaded)."""
from __future__ import annotations

from typing import Mapping

from ..validate import Option

ETA_OPTION = Option("eta", 1.0, "learning rate η > 0", minimum=0.0, strict=True, scan=True, verbs=("dynamics",))


def gd_point_options(params, init: Mapping | None = None, default_init: float = 0.5) -> tuple:
    """Per-point options of parameter-space GD: ``eta`` and one initial value per parameter."""
    init = dict(init or {})
    return (ETA_OPTION,) + tuple(Option(str(p), float(init.get(str(p), default_init)), f"initial value of parameter {p}",
                                        scan=True, verbs=("dynamics",)) for p in params)
