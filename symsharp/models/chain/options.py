"""The chain model's per-point options of the dynamics verbs (declared once; light to import)."""
from __future__ import annotations

from ...validate import Option

CHAIN_POINT_OPTIONS = {
    "eta": Option("eta", 0.1, "learning rate η > 0", minimum=0.0, strict=True, scan=True, verbs=("dynamics",)),
    "init_scale": Option("init_scale", 0.1, "init scale σ: u ~ N(0, σ²/d I), v_i ~ N(0, σ²)", minimum=0.0, scan=True, verbs=("dynamics",)),
    "seed": Option("seed", 0, "seed of the random initialisation (and of SGD batches)", minimum=0, integer=True,
                   scan=True, verbs=("dynamics",)),
}


Y10_CONFIG_NAMES = ("reduced", "full")
"""Names of the Y10 experiment's configurations (defined in :mod:`.y10`; declared here for the parser)."""
ETA_RULES = ("constant", "adaptive")
"""Step-size rules of the Y10 experiment: plain constant-η GD, or η = c/S re-measured (gradient-flow-like)."""
