"""The UV model's per-point options of the dynamics verbs (declared once; light to import)."""
from __future__ import annotations

from ...validate import Option

UV_OPTIONS = {
    "eta": Option("eta", 1.0, "learning rate η > 0", minimum=0.0, strict=True, scan=True, verbs=("dynamics",)),
    "width": Option("width", 100, "width n (1 to 10⁷); enters through a = α²‖x‖²/n and the initialisation",
                    minimum=1, maximum=10_000_000, integer=True, scan=True, verbs=("dynamics",)),
    "x_norm": Option("x_norm", 1.0, "input norm ‖x‖ > 0", minimum=0.0, strict=True, scan=True, verbs=("dynamics",)),
    "y": Option("y", 1.0, "target y", scan=True, verbs=("dynamics",)),
    "alpha": Option("alpha", 1.0, "output multiplier α > 0", minimum=0.0, strict=True, scan=True, verbs=("dynamics",)),
    "f0": Option("f0", None, "initial output f₀ (default: from the random initialisation)", scan=True, verbs=("dynamics",)),
    "lam0": Option("lam0", None, "initial NTK λ₀ >= 0 (default: from the random initialisation)", minimum=0.0,
                   scan=True, verbs=("dynamics",)),
    "init_scale": Option("init_scale", 1.0, "init scale σ: U_ij, v_i ~ N(0, σ²)", minimum=0.0, strict=True,
                         scan=True, verbs=("dynamics",)),
    "seed": Option("seed", 0, "seed of the random initialisation", minimum=0, integer=True, scan=True, verbs=("dynamics",)),
}
