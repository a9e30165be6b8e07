"""Figures of runs and scans (trajectory, orbit diagram, phase diagram, Lyapunov curve).

Every function takes a result (an :class:`xarray.Dataset` from a scan or :func:`symsharp.io.load_result`
of a ``.nc`` netCDF-3/netCDF-4 file or a ``.zarr`` store), draws into ``ax`` (an Axes, or a
sequence of Axes for the figures with several panels; default: a new figure), returns the figure,
and writes it only when ``path`` is given (PNG, PDF or SVG, atomically).  Drawing happens inside a
style context: importing this module selects no backend and changes no global rcParams.
Colours: the Okabe–Ito palette (colour-blind safe).  "λ" names the NTK eigenvalue only; the
Lyapunov exponent is spelled out.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.rcsetup
import matplotlib.style
import matplotlib.pyplot as plt  # noqa: F401  (re-exported for model figures; selects no backend)
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..dynamics.common import REGIMES
from ..errors import SymsharpError
from ..io import check_output_path, write_atomically

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")

OKABE_ITO = {"orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000"}
"""Okabe & Ito's colour-blind-safe palette."""

REGIME_COLOURS = {"converged": OKABE_ITO["bluish green"], "catapult": OKABE_ITO["yellow"],
                  "periodic": OKABE_ITO["blue"], "chaotic": OKABE_ITO["vermillion"],
                  "aperiodic": OKABE_ITO["orange"], "diverged": "#BBBBBB", "unsettled": OKABE_ITO["reddish purple"]}
"""One colour per regime (Okabe–Ito, grey for diverged)."""

STYLE = {"figure.dpi": 110, "savefig.dpi": 160, "font.size": 10, "axes.grid": True, "grid.alpha": 0.3,
         "axes.spines.top": False, "axes.spines.right": False,
         "axes.prop_cycle": matplotlib.rcsetup.cycler(color=[OKABE_ITO[c] for c in
                                                             ("blue", "orange", "bluish green", "vermillion",
                                                              "reddish purple", "sky blue", "yellow", "black")])}
"""The style every figure here is drawn in (as a context, never set globally)."""

LABELS = {"eta": "learning rate η", "lam0": "initial NTK eigenvalue λ₀", "f0": "initial output f₀",
          "y": "target y", "alpha": "output multiplier α", "width": "width n", "x_norm": "input norm ‖x‖",
          "init_scale": "init scale σ", "seed": "seed", "sharpness": "sharpness S (loss Hessian)",
          "lam": "NTK eigenvalue λ", "loss": "loss", "f": "output f", "ntk": "top NTK eigenvalue",
          "residual": "residual f − y", "invariant": "GF invariant", "step": "GD step"}
INTEGER_AXES = {"width", "seed", "step", "depth", "samples", "dim", "batch"}
LYAPUNOV_LABEL = "largest Lyapunov exponent (per step)"


class FigureError(SymsharpError):
    """A figure that cannot be drawn or written (one clear sentence)."""


def check_figure_path(path) -> Path:
    """Validate a figure path before any work is done: .png/.pdf/.svg in an existing folder."""
    return check_output_path(path, FIGURE_SUFFIXES, "figure file", FigureError)


def save_figure(fig, path) -> Path:
    """Save atomically and close the figure (if pyplot manages it)."""
    p = check_figure_path(path)
    try:
        write_atomically(p, lambda tmp: fig.savefig(tmp, bbox_inches="tight"), suffix=p.suffix)
    finally:
        plt.close(fig)
    return p


def _done(fig, path):
    if path is not None:
        p = check_figure_path(path)
        write_atomically(p, lambda tmp: fig.savefig(tmp, bbox_inches="tight"), suffix=p.suffix)
    return fig


def _axes(ax, n, figsize, **kw):
    """(figure, list of n axes): the given ones, or a new figure (not registered with pyplot)."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        axes = fig.subplots(n, 1, squeeze=False, **kw)[:, 0].tolist()
        return fig, axes, True
    axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
    return axes[0].figure, axes, False


def _meta(ds) -> dict:
    try:
        return json.loads(ds.attrs["symsharp"])
    except (KeyError, TypeError, ValueError):
        raise FigureError("this dataset has no symsharp metadata; it was not made by symsharp") from None


def _settings(meta, *keys):
    st = meta.get("settings", {})
    missing = [k for k in keys if k not in st]
    if missing:
        raise FigureError(f"the result's symsharp metadata has no setting {missing[0]!r}; it cannot be drawn")
    return st


def _label(name: str) -> str:
    return LABELS.get(name, name)


def _int_ticks(ax, name, axis="x"):
    if name in INTEGER_AXES:
        (ax.xaxis if axis == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))


def _subtitle(meta: dict, skip=()) -> str:
    opts = meta.get("options", {})
    parts = []
    for k, v in opts.items():
        if k in skip or v is None or isinstance(v, list):
            continue
        try:
            parts.append(f"{k}={float(v):g}")
        except (TypeError, ValueError):
            parts.append(f"{k}={v}")
    return f"{meta.get('description', meta.get('model', ''))}\n" + ", ".join(parts)


def _eta_of(ds, meta):
    if "eta" in ds.coords:
        return None
    v = ds.attrs.get("eta", meta.get("options", {}).get("eta"))
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------- trajectory
def _oscillating(y) -> bool:
    """True for a long series that flips direction most steps (an EoS-like cycle): drawn as dots."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if y.size < 200:
        return False
    d = np.sign(np.diff(y))
    return np.mean(d[1:] * d[:-1] < 0) > 0.3


def _series(ax, x, y, **style):
    if _oscillating(y):
        style = {k: v for k, v in style.items() if k not in ("lw", "ls")}
        ax.plot(x, y, ".", ms=1.2, **style)
    else:
        ax.plot(x, y, **style)


def plot_trajectory(ds, path=None, ax=None):
    """Loss (log scale) and sharpness over steps with the 2/η line (and the NTK where recorded);
    a third panel shows the model's conserved quantity of gradient flow (the chain model's
    imbalances C, the UV invariant).  Oscillating series (period-2 EoS cycles) are drawn as dots.
    With a single ``ax``, only the sharpness panel is drawn."""
    meta = _meta(ds)
    step = ds["step"].values
    eta = _eta_of(ds, meta)
    cons = [n for n in ("C", "invariant") if n in ds]
    rows = 3 if cons else 2
    with matplotlib.style.context(STYLE):
        fig, axes, new = _axes(ax, rows, (6.4, 2.6 * rows + 0.6), sharex=True)
        if len(axes) == 1:
            a1, a2, a3 = None, axes[0], None
        else:
            a1, a2 = axes[0], axes[1]
            a3 = axes[2] if (cons and len(axes) > 2) else None
        if a1 is not None:
            if "loss" in ds:
                loss = ds["loss"].values
                _series(a1, step, np.where(loss > 0, loss, np.nan), color="k", lw=1)
                a1.set_yscale("log")
            a1.set_ylabel("loss")
        for name, style in (("sharpness", dict(color=REGIME_COLOURS["periodic"], lw=1.2, label="sharpness S (Hessian)")),
                            ("lam", dict(color=REGIME_COLOURS["converged"], lw=1, ls="--", label="NTK eigenvalue λ")),
                            ("ntk", dict(color=REGIME_COLOURS["converged"], lw=1, ls="--", label="top NTK eigenvalue"))):
            if name in ds:
                _series(a2, step, ds[name].values, **style)
        if eta:
            a2.axhline(2.0 / eta, color=REGIME_COLOURS["chaotic"], ls=":", lw=1.4, label=f"2/η = {2.0 / eta:.4g}")
        a2.set_ylabel("sharpness")
        a2.legend(loc="best", fontsize=8, markerscale=6)
        if a3 is not None:
            var = ds[cons[0]]
            vals = var.values if var.ndim == 1 else var.values.T
            if var.ndim == 1:
                _series(a3, step, vals, color=OKABE_ITO["reddish purple"], lw=1)
            else:
                for i, row in enumerate(vals):
                    _series(a3, step, row, lw=1, label=f"C_{i + 1}")
                a3.legend(loc="best", fontsize=8, markerscale=6)
            a3.set_ylabel("imbalance C" if cons[0] == "C" else "GF invariant")
        last = axes[-1] if a3 is not None or len(axes) == 1 else a2
        last.set_xlabel("GD step")
        _int_ticks(last, "step")
        div = int(ds.attrs.get("diverged_at", -1))
        if div >= 0:
            for a in (a for a in (a1, a2, a3) if a is not None):
                a.axvline(div, color="0.4", ls="-.", lw=1)
            (a1 or a2).set_title(f"diverged at step {div}", fontsize=9, color="0.3")
        if new:
            fig.suptitle(_subtitle(meta), fontsize=9)
        return _done(fig, path)


# ------------------------------------------------------------------------------- orbit
def plot_orbit(ds, path=None, ax=None):
    """Orbit diagram (kept values over the scanned option), 2/η for sharpness or NTK when the axis
    is η, and the largest Lyapunov exponent in a panel below (two axes; a single ``ax`` gets the
    orbit diagram only)."""
    meta = _meta(ds)
    st = _settings(meta, "axis", "observable", "transient", "keep")
    axis, obs = st["axis"], st["observable"]
    p = np.asarray(ds[axis].values)
    vals = np.asarray(ds["values"].values)
    has_ly = "lyapunov" in ds and np.isfinite(ds["lyapunov"].values).any()
    with matplotlib.style.context(STYLE):
        if ax is None:
            if has_ly:
                fig = Figure(figsize=(7, 6), layout="constrained")
                a1, a2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
            else:
                fig = Figure(figsize=(7, 4.5), layout="constrained")
                a1, a2 = fig.subplots(), None
            new = True
        else:
            fig, axes, new = _axes(ax, 1, None)
            a1, a2 = axes[0], (axes[1] if len(axes) > 1 and has_ly else None)
        X = np.broadcast_to(p[:, None], vals.shape)
        ok = np.isfinite(vals)
        a1.scatter(X[ok], vals[ok], s=0.15, c="k", alpha=0.5, lw=0, rasterized=True)
        if axis == "eta" and obs in ("sharpness", "lam", "ntk") and p.min() > 0:
            eg = np.linspace(p.min(), p.max(), 400)
            a1.plot(eg, 2.0 / eg, color=REGIME_COLOURS["chaotic"], lw=1.2, ls="--", label="2/η")
            a1.legend(loc="upper right", fontsize=8)
            fin = vals[ok]
            if fin.size:
                top = max(np.nanmax(fin), 2.0 / p.max())
                a1.set_ylim(min(0, np.nanmin(fin)) - 0.02 * top, 1.1 * top)
        reg = np.asarray(ds["regime"].values)
        for name in ("diverged", "unsettled"):
            m = reg == REGIMES.index(name)
            if m.any():
                a1.fill_between(p, 0, 1, where=m, color=REGIME_COLOURS[name], alpha=0.35, lw=0,
                                transform=a1.get_xaxis_transform(), label=name)
        a1.set_ylabel(_label(obs))
        if a2 is not None:
            ly = ds["lyapunov"].values
            a2.plot(p, ly, color=OKABE_ITO["orange"], lw=0.8)
            a2.axhline(0, color="0.3", lw=0.8)
            a2.set_ylabel("Lyapunov exp.\n(per step)")
            a2.set_xlabel(_label(axis))
            _int_ticks(a2, axis)
            fin = ly[np.isfinite(ly)]
            if fin.size:
                lo = max(np.percentile(fin, 1), -2.0)
                a2.set_ylim(lo, max(fin.max(), 0.1) * 1.1)
        else:
            a1.set_xlabel(_label(axis))
            _int_ticks(a1, axis)
        if new:
            fig.suptitle(f"orbit diagram of {_label(obs)} (transient {st['transient']}, {st['keep']} kept)\n"
                         + _subtitle(meta, skip=(axis,)), fontsize=9)
        return _done(fig, path)


# ------------------------------------------------------------------------------- phase
MAX_CELLS = 2000
"""Phase diagrams larger than this per axis are drawn from every n-th point (files keep all)."""


def plot_phase(ds, path=None, ax=None):
    """Regime labels over a 2-D grid (categorical colours, legend of the regimes present); grids
    larger than :data:`MAX_CELLS` per axis are drawn from a regular subsample."""
    meta = _meta(ds)
    st = _settings(meta, "x", "y")
    xa, ya = st["x"], st["y"]
    ny, nx = ds["regime"].shape
    sy, sx = max(1, -(-ny // MAX_CELLS)), max(1, -(-nx // MAX_CELLS))
    reg = np.asarray(ds["regime"][::sy, ::sx].values).astype(int)
    gx, gy = np.asarray(ds[xa].values)[::sx], np.asarray(ds[ya].values)[::sy]
    with matplotlib.style.context(STYLE):
        fig, axes, new = _axes(ax, 1, (6.4, 5))
        a = axes[0]
        cmap = ListedColormap([REGIME_COLOURS[r] for r in REGIMES])
        norm = BoundaryNorm(np.arange(len(REGIMES) + 1) - 0.5, len(REGIMES))
        a.pcolormesh(gx, gy, reg, cmap=cmap, norm=norm, shading="nearest", rasterized=True)
        present = [REGIMES[i] for i in sorted(set(np.unique(reg).tolist())) if 0 <= i < len(REGIMES)]
        a.legend(handles=[Patch(color=REGIME_COLOURS[r], label=r) for r in present], loc="upper left",
                 bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
        a.set_xlabel(_label(xa))
        a.set_ylabel(_label(ya))
        _int_ticks(a, xa, "x")
        _int_ticks(a, ya, "y")
        a.grid(False)
        if new:
            note = f" (every {sy}×{sx}-th point)" if sy * sx > 1 else ""
            fig.suptitle("phase diagram" + note + "\n" + _subtitle(meta, skip=(xa, ya)), fontsize=9)
        return _done(fig, path)


# ------------------------------------------------------------------------------- lyapunov
def plot_lyapunov(ds, path=None, ax=None):
    """Largest Lyapunov exponent along a 1-D grid; positive values (chaos) shaded."""
    meta = _meta(ds)
    axis = _settings(meta, "axis")["axis"]
    p = np.asarray(ds[axis].values)
    ly = np.asarray(ds["lyapunov"].values)
    with matplotlib.style.context(STYLE):
        fig, axes, new = _axes(ax, 1, (7, 3.6))
        a = axes[0]
        a.plot(p, ly, color=OKABE_ITO["orange"], lw=0.9, marker="o" if p.size < 3 else None)
        a.fill_between(p, 0, np.where(ly > 0, ly, 0), color=REGIME_COLOURS["chaotic"], alpha=0.3, lw=0,
                       label="positive (chaos)")
        a.axhline(0, color="0.3", lw=0.8)
        fin = ly[np.isfinite(ly)]
        if fin.size:
            a.set_ylim(max(np.percentile(fin, 1), -2.0), max(fin.max(), 0.1) * 1.1)
        dv = ~np.isfinite(ly)
        if dv.any():
            a.fill_between(p, 0, 1, where=dv, color=REGIME_COLOURS["diverged"], alpha=0.35, lw=0,
                           transform=a.get_xaxis_transform(), label="diverged")
        a.set_xlabel(_label(axis))
        _int_ticks(a, axis)
        a.set_ylabel(LYAPUNOV_LABEL)
        a.legend(loc="best", fontsize=8)
        if new:
            fig.suptitle(_subtitle(meta, skip=(axis,)), fontsize=9)
        return _done(fig, path)


PLOTTERS = {"run": plot_trajectory, "orbit": plot_orbit, "phase": plot_phase, "lyapunov": plot_lyapunov}


def plot_result(ds, path=None, plotters=None, ax=None):
    """Draw the figure that fits a result's kind (run, orbit, phase, lyapunov, or a kind in
    ``plotters`` {kind: fn(ds, path)}, which models use for results of their own); ``ds`` may
    also be the path of a saved result (.nc or .zarr).  Returns the figure (or what a model's
    plotter returns)."""
    if isinstance(ds, (str, Path)):
        from ..io import load_result

        ds = load_result(ds)
    meta = _meta(ds)
    table = dict(PLOTTERS)
    table.update(plotters or {})
    kind = "experiment" if meta.get("experiment") else meta.get("kind")
    if kind not in table:
        raise FigureError(f"no figure for results of kind {kind!r}; known kinds: {', '.join(table)}")
    fn = table[kind]
    if fn in PLOTTERS.values():
        return fn(ds, path, ax=ax)
    return fn(ds, path)
