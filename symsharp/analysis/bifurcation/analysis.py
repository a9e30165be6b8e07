"""One call for the whole route to chaos of a map family: cascade, windows, crisis; its result as
labelled datasets and as the JSON contract of the ``bifurcation`` command."""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .cascade import Cascade, Crisis, WindowSearch, boundary_crisis, cascade, periodic_windows
from .continuation import BifurcationPoint, Branch
from ._config import config_json
from .family import BifurcationError, MapFamily
from ._scan import Scan, scan


@dataclass
class BifurcationResult:
    """Result of :func:`bifurcation_analysis` (see its docstring)."""

    family: MapFamily
    cascade: Cascade | None
    windows: WindowSearch | None
    crisis: Crisis | None
    scan: Scan | None
    options: dict
    seconds: float
    extra_branches: list = field(default_factory=list)

    # ------------------------------------------------------------------------- collections
    @property
    def branches(self) -> list:
        out = []
        if self.cascade is not None:
            out += self.cascade.branches
        if self.windows is not None:
            out += self.windows.branches
        return out + list(self.extra_branches)

    def points(self, kind: str | None = None) -> list:
        """Every located bifurcation point (optionally of one ``kind``), de-duplicated, sorted by
        parameter."""
        pts = []
        for br in self.branches:
            pts += br.bifurcations
        if self.cascade is not None:
            pts += self.cascade.flips
        if self.windows is not None:
            pts += [w.fold for w in self.windows.windows]
        out = []
        for b in sorted(pts, key=lambda b: b.param):
            if kind is not None and b.kind != kind:
                continue
            if any(o.kind == b.kind and o.period == b.period and abs(o.param - b.param) <= 1e-9 * (1 + abs(b.param))
                   for o in out):
                continue
            out.append(b)
        return out

    # ------------------------------------------------------------------------- contract
    def contract(self) -> dict:
        """The JSON contract: ``{"param", "flips", "folds", "neimark_sacker", "windows": [{"period",
        "opens"}], "chaos_onset", "feigenbaum_delta", "crisis"}`` in the parameter's own units, plus
        details (periods of the flips, all ratio estimates, uncertainties, methods, digits)."""
        return contract(self)

    def to_json(self) -> str:
        return json.dumps(self.contract())

    def to_dataset(self) -> xr.Dataset:
        """All branch points and located bifurcations as one labelled dataset."""
        return branches_dataset(self.family, self.branches, self.points(), self.options)


def _num(bp_param_mp, fallback):
    return float(bp_param_mp) if bp_param_mp is not None else float(fallback)


def contract(res: BifurcationResult) -> dict:
    """See :meth:`BifurcationResult.contract`."""
    cas = res.cascade
    flips = cas.flips if cas is not None else []
    folds = res.points("fold")
    ns = res.points("neimark_sacker")
    wins = res.windows.windows if res.windows is not None else []
    out = {
        "param": res.family.param,
        "flips": [_num(b.param_mp, b.param) for b in flips],
        "folds": [_num(b.param_mp, b.param) for b in folds],
        "neimark_sacker": [_num(b.param_mp, b.param) for b in ns],
        "windows": [{"period": int(w.period), "opens": _num(w.fold.param_mp, w.opens)} for w in wins],
        "chaos_onset": (float(cas.onset_mp) if cas is not None and cas.onset_mp is not None else None),
        "feigenbaum_delta": (float(cas.deltas_mp[-1]) if cas is not None and cas.deltas_mp else None),
        "crisis": (None if res.crisis is None else _num(res.crisis.param_mp, res.crisis.param)),
    }
    out["details"] = {
        "flip_periods": [int(b.period) for b in flips],
        "flips_mp": [b.param_mp for b in flips],
        "flip_uncertainties": [float(b.uncertainty) for b in flips],
        "feigenbaum_deltas": [float(d) for d in cas.deltas_mp] if cas is not None else [],
        "chaos_onset_uncertainty": None if cas is None else cas.onset_uncertainty,
        "fold_periods": [int(b.period) for b in folds],
        "windows": [w.to_dict() for w in wins],
        "window_grid_step": None if res.windows is None else res.windows.grid_step,
        "crisis": None if res.crisis is None else res.crisis.to_dict(),
        "digits": res.options.get("digits"),
        "range": [res.options.get("lo"), res.options.get("hi")],
        "seconds": res.seconds,
    }
    return out


def bifurcation_analysis(fam: MapFamily, x0, lo: float, hi: float, start: float | None = None,
                         flips: int = 10, max_period: int = 16, grid: int = 20000, digits: int = 20,
                         transient: int = 3000, windows: bool = True, crisis: bool = True,
                         crisis_steps: int = 100_000) -> BifurcationResult:
    """The route to chaos of ``fam`` on [lo, hi] from the initial state ``x0`` (a state, or a
    callable of the parameter array giving states).

    - cascade (:func:`cascade`) from the attractor at ``start`` (default: ``lo``), ``flips`` flips;
    - periodic windows of period ≤ ``max_period`` (:func:`periodic_windows`) on a ``grid``-point
      scan of [lo, hi] (above the chaos onset when one was found);
    - the boundary crisis (:func:`boundary_crisis`) when orbits diverge at the top of the range.
    Every located point is refined in mpmath to ``digits`` significant digits (≥ 10 needed by the
    contract; the default 20 keeps the Feigenbaum ratios good to about 10 digits too)."""
    t0 = time.perf_counter()
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise BifurcationError(f"the range must be finite with lo < hi, got [{lo}, {hi}]")
    if int(digits) != digits or digits < 10:
        raise BifurcationError(f"digits must be an integer >= 10, got {digits!r}")
    st = lo if start is None else float(start)
    x_start = x0(np.array([st]))[0] if callable(x0) else x0
    cas = cascade(fam, x_start, st, lo=lo, hi=hi, flips=flips, digits=digits, transient=max(transient, 5000))
    sc = scan(fam, x0, np.linspace(lo, hi, int(grid)), transient=transient, max_period=max_period) \
        if (windows or crisis) else None
    ws = None
    if windows:
        wlo = cas.onset if (cas.onset is not None and lo < cas.onset < hi) else lo
        sub = None
        if sc is not None:
            m = sc.params >= wlo
            sub = Scan(params=sc.params[m], records=sc.records[:, m], period=sc.period[m], diverged=sc.diverged[m],
                       final=sc.final[m], transient=sc.transient, max_period=sc.max_period)
        ws = periodic_windows(fam, x0, wlo, hi, max_period=max_period, digits=digits, scan_result=sub)
    cr = None
    if crisis and sc is not None and np.any(sc.diverged) and np.any(~sc.diverged):
        last_bounded = int(np.nonzero(~sc.diverged)[0][-1])
        if last_bounded < len(sc.params) - 1:
            cr = boundary_crisis(fam, x0, lo, hi, digits=digits, steps=crisis_steps, scan_result=sc)
    opts = dict(lo=lo, hi=hi, start=st, flips=flips, max_period=max_period, grid=grid, digits=digits,
                transient=transient, windows=windows, crisis=crisis, crisis_steps=crisis_steps)
    return BifurcationResult(family=fam, cascade=cas, windows=ws, crisis=cr, scan=sc, options=opts,
                             seconds=round(time.perf_counter() - t0, 3))


# ----------------------------------------------------------------------------------- datasets
def branches_dataset(fam: MapFamily, branches: list, points: list, options: dict | None = None) -> xr.Dataset:
    """Branch points (dimension ``point``) and bifurcation points (dimension ``bifurcation``)."""
    k = fam.k
    rows = [(j, b, i) for j, b in enumerate(branches) for i in range(len(b))]
    n = len(rows)
    P = np.array([b.param[i] for _, b, i in rows]) if n else np.zeros(0)
    X = np.array([b.x[i] for _, b, i in rows]).reshape(n, k)
    MU = np.array([b.multipliers[i] for _, b, i in rows]).reshape(n, k)
    ds = xr.Dataset(
        {"param": ("point", P),
         "state": (("point", "variable"), X),
         "multiplier_real": (("point", "multiplier"), MU.real),
         "multiplier_imag": (("point", "multiplier"), MU.imag),
         "stable": ("point", np.array([bool(b.stable[i]) for _, b, i in rows], dtype=bool)),
         "period": ("point", np.array([b.period for _, b, i in rows], dtype=np.int64)),
         "branch": ("point", np.array([j for j, _, _ in rows], dtype=np.int64)),
         "n_neutral": ("point", np.array([int(b.n_neutral[i]) for _, b, i in rows], dtype=np.int64)),
         "bif_param": ("bifurcation", np.array([p.param for p in points], dtype=np.float64)),
         "bif_param_mp": ("bifurcation", np.array([p.param_mp or "" for p in points], dtype=object)),
         "bif_kind": ("bifurcation", np.array([p.kind for p in points], dtype=object)),
         "bif_period": ("bifurcation", np.array([p.period for p in points], dtype=np.int64)),
         "bif_state": (("bifurcation", "variable"), np.array([p.x for p in points]).reshape(len(points), k)),
         "bif_uncertainty": ("bifurcation", np.array([p.uncertainty for p in points], dtype=np.float64))},
        coords={"variable": list(fam.state), "multiplier": np.arange(k)})
    ds["param"].attrs["long_name"] = fam.param
    ds.attrs["symsharp"] = config_json(fam, **(options or {}), kind="bifurcation_branches")
    return ds


__all__ = ["BifurcationResult", "bifurcation_analysis", "contract", "branches_dataset", "config_json",
           "BifurcationPoint", "Branch"]
