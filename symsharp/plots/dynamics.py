"""Figures of runs and scans (trajectory, orbit diagram, phase diagram, Lyapunov curve)."""
from __future__ import annotations

from ..errors import SymsharpError

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ..dynamics.orbits import REGIMES  # noqa: E402
from ..io import check_output_path, write_atomically  # noqa: E402

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
REGIME_COLOURS = {"converged": "#4daf4a", "catapult": "#a6d854", "periodic": "#377eb8", "chaotic": "#e41a1c",
                  "aperiodic": "#ff7f00", "diverged": "#bdbdbd"}
LABELS = {"eta": "learning rate η", "lam0": "initial NTK λ₀", "f0": "initial output f₀", "y": "target y",
          "alpha": "output multiplier α", "width": "width n", "x_norm": "input norm ‖x‖",
          "init_scale": "init scale σ", "sharpness": "sharpness S (loss Hessian)", "lam": "NTK λ",
          "loss": "loss", "f": "output f", "ntk": "top NTK eigenvalue", "residual": "residual f − y",
          "invariant": "GF invariant"}

plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 160, "font.size": 10, "axes.grid": True,
                     "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})


class FigureError(SymsharpError):
    """A figure that cannot be drawn or written (one clear sentence)."""


def check_figure_path(path) -> Path:
    """Validate a figure path before any work is done: .png/.pdf/.svg in an existing folder."""
    return check_output_path(path, FIGURE_SUFFIXES, "figure file", FigureError)


def save_figure(fig, path) -> Path:
    """Save atomically and close the figure."""
    p = check_figure_path(path)
    try:
        write_atomically(p, lambda tmp: fig.savefig(tmp, bbox_inches="tight"), suffix=p.suffix)
    finally:
        plt.close(fig)
    return p


def _meta(ds) -> dict:
    try:
        return json.loads(ds.attrs["symsharp"])
    except (KeyError, ValueError):
        raise FigureError("this dataset has no symsharp metadata; it was not made by symsharp") from None


def _label(name: str) -> str:
    return LABELS.get(name, name)


def _subtitle(meta: dict, skip=()) -> str:
    opts = meta.get("options", {})
    parts = []
    for k, v in opts.items():
        if k in skip or v is None:
            continue
        if isinstance(v, list):
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


def plot_trajectory(ds, path):
    """Loss (log scale) and sharpness over steps with the 2/η line (and the NTK where recorded);
    a third panel shows the model's conserved quantity of gradient flow (the chain model's
    imbalances C, the UV invariant).  Oscillating series (period-2 EoS cycles) are drawn as dots."""
    meta = _meta(ds)
    step = ds["step"].values
    eta = _eta_of(ds, meta)
    cons = [n for n in ("C", "invariant") if n in ds]
    rows = 3 if cons else 2
    fig, axes = plt.subplots(rows, 1, figsize=(6.4, 2.6 * rows + 0.6), sharex=True)
    a1, a2 = axes[0], axes[1]
    if "loss" in ds:
        loss = ds["loss"].values
        _series(a1, step, np.where(loss > 0, loss, np.nan), color="k", lw=1)
        a1.set_yscale("log")
    a1.set_ylabel("loss")
    for name, style in (("sharpness", dict(color="C0", lw=1.2, label="sharpness S (Hessian)")),
                        ("lam", dict(color="C2", lw=1, ls="--", label="NTK λ")),
                        ("ntk", dict(color="C2", lw=1, ls="--", label="top NTK eigenvalue"))):
        if name in ds:
            _series(a2, step, ds[name].values, **style)
    if eta:
        a2.axhline(2.0 / eta, color="C3", ls=":", lw=1.4, label=f"2/η = {2.0 / eta:.4g}")
    a2.set_ylabel("sharpness")
    a2.legend(loc="best", fontsize=8, markerscale=6)
    if cons:
        a3 = axes[2]
        var = ds[cons[0]]
        vals = var.values if var.ndim == 1 else var.values.T
        if var.ndim == 1:
            _series(a3, step, vals, color="C4", lw=1)
        else:
            for i, row in enumerate(vals):
                _series(a3, step, row, color=f"C{4 + i}", lw=1, label=f"C_{i + 1}")
            a3.legend(loc="best", fontsize=8, markerscale=6)
        a3.set_ylabel("imbalance C" if cons[0] == "C" else "GF invariant")
    axes[-1].set_xlabel("step")
    div = int(ds.attrs.get("diverged_at", -1))
    if div >= 0:
        for ax in axes:
            ax.axvline(div, color="0.4", ls="-.", lw=1)
        a1.set_title(f"diverged at step {div}", fontsize=9, color="0.3")
    fig.suptitle(_subtitle(meta), fontsize=9)
    return save_figure(fig, path)


# ------------------------------------------------------------------------------- orbit
def plot_orbit(ds, path):
    """Orbit diagram (kept values over the scanned option), 2/η for sharpness or NTK when the axis
    is η, and the largest Lyapunov exponent in a panel below."""
    meta = _meta(ds)
    st = meta["settings"]
    axis, obs = st["axis"], st["observable"]
    p = ds[axis].values
    vals = ds["values"].values
    has_ly = "lyapunov" in ds and np.isfinite(ds["lyapunov"].values).any()
    if has_ly:
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    else:
        fig, a1 = plt.subplots(figsize=(7, 4.5))
    X = np.broadcast_to(p[:, None], vals.shape)
    ok = np.isfinite(vals)
    a1.scatter(X[ok], vals[ok], s=0.15, c="k", alpha=0.5, lw=0, rasterized=True)
    if axis == "eta" and obs in ("sharpness", "lam", "ntk") and p.min() > 0:
        eg = np.linspace(p.min(), p.max(), 400)
        a1.plot(eg, 2.0 / eg, color="C3", lw=1.2, ls="--", label="2/η")
        a1.legend(loc="upper right", fontsize=8)
        fin = vals[ok]
        if fin.size:
            top = max(np.nanmax(fin), 2.0 / p.max())
            a1.set_ylim(min(0, np.nanmin(fin)) - 0.02 * top, 1.1 * top)
    reg = ds["regime"].values
    dv = reg == REGIMES.index("diverged")
    if dv.any():
        a1.fill_between(p, 0, 1, where=dv, color=REGIME_COLOURS["diverged"], alpha=0.35, lw=0,
                        transform=a1.get_xaxis_transform(), label="diverged")
    a1.set_ylabel(_label(obs))
    if has_ly:
        ly = ds["lyapunov"].values
        a2.plot(p, ly, color="C1", lw=0.8)
        a2.axhline(0, color="0.3", lw=0.8)
        a2.set_ylabel("Lyapunov exp.")
        a2.set_xlabel(_label(axis))
        fin = ly[np.isfinite(ly)]
        if fin.size:
            lo = max(np.percentile(fin, 1), -2.0)
            a2.set_ylim(lo, max(fin.max(), 0.1) * 1.1)
    else:
        a1.set_xlabel(_label(axis))
    fig.suptitle(f"orbit diagram of {_label(obs)} (transient {st['transient']}, {st['keep']} kept)\n"
                 + _subtitle(meta, skip=(axis,)), fontsize=9)
    return save_figure(fig, path)


# ------------------------------------------------------------------------------- phase
def plot_phase(ds, path):
    """Regime labels over a 2-D grid (categorical colours, legend of the regimes present)."""
    meta = _meta(ds)
    xa, ya = meta["settings"]["x"], meta["settings"]["y"]
    reg = ds["regime"].values.astype(int)
    cmap = ListedColormap([REGIME_COLOURS[r] for r in REGIMES])
    norm = BoundaryNorm(np.arange(len(REGIMES) + 1) - 0.5, len(REGIMES))
    fig, ax = plt.subplots(figsize=(6.4, 5))
    ax.pcolormesh(ds[xa].values, ds[ya].values, reg, cmap=cmap, norm=norm, shading="nearest", rasterized=True)
    present = [REGIMES[i] for i in sorted(set(reg.ravel().tolist()))]
    ax.legend(handles=[Patch(color=REGIME_COLOURS[r], label=r) for r in present], loc="upper left",
              bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_xlabel(_label(xa))
    ax.set_ylabel(_label(ya))
    ax.grid(False)
    fig.suptitle("phase diagram\n" + _subtitle(meta, skip=(xa, ya)), fontsize=9)
    return save_figure(fig, path)


# ------------------------------------------------------------------------------- lyapunov
def plot_lyapunov(ds, path):
    """Largest Lyapunov exponent along a 1-D grid; positive values (chaos) shaded."""
    meta = _meta(ds)
    axis = meta["settings"]["axis"]
    p = ds[axis].values
    ly = ds["lyapunov"].values
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(p, ly, color="C1", lw=0.9)
    ax.fill_between(p, 0, np.where(ly > 0, ly, 0), color="C3", alpha=0.3, lw=0, label="λ_max > 0 (chaos)")
    ax.axhline(0, color="0.3", lw=0.8)
    fin = ly[np.isfinite(ly)]
    if fin.size:
        ax.set_ylim(max(np.percentile(fin, 1), -2.0), max(fin.max(), 0.1) * 1.1)
    dv = ~np.isfinite(ly)
    if dv.any():
        ax.fill_between(p, 0, 1, where=dv, color=REGIME_COLOURS["diverged"], alpha=0.35, lw=0,
                        transform=ax.get_xaxis_transform(), label="diverged")
    ax.set_xlabel(_label(axis))
    ax.set_ylabel("largest Lyapunov exponent")
    ax.legend(loc="best", fontsize=8)
    fig.suptitle(_subtitle(meta, skip=(axis,)), fontsize=9)
    return save_figure(fig, path)


PLOTTERS = {"run": plot_trajectory, "orbit": plot_orbit, "phase": plot_phase, "lyapunov": plot_lyapunov}


def plot_result(ds, path, plotters=None):
    """Draw the figure that fits a saved result's kind (run, orbit, phase, lyapunov, or a kind in
    ``plotters`` {kind: fn(ds, path)}, which models use for results of their own)."""
    meta = _meta(ds)
    table = dict(PLOTTERS)
    table.update(plotters or {})
    kind = "experiment" if meta.get("experiment") else meta.get("kind")
    if kind not in table:
        raise FigureError(f"no figure for results of kind {kind!r}; known kinds: {', '.join(table)}")
    return table[kind](ds, path)
