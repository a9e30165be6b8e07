"""Figures of the generic bifurcation engine (:mod:`symsharp.analysis.bifurcation`).

    plot_branches(result, ax=None, path=None)   continuation branches over the orbit diagram
    plot_basins(ds, ax=None, path=None)         basins of attraction (labels over a state grid)
    plot_spectrum(ds, ax=None, path=None)       Lyapunov spectrum over the parameter

Every function draws into ``ax`` (or a new figure), inside a matplotlib style context (the global
rcParams are never changed, no backend is selected), returns the figure, and writes it only when
``path`` is given (PNG/PDF/SVG, atomically).  Colours: the Okabe–Ito palette (colour-blind safe);
stable branches solid, unstable dashed; bifurcation points marked and labelled.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import matplotlib.style
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analysis.bifurcation import BifurcationError, BifurcationResult, Branch

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
"""Okabe & Ito's colour-blind-safe palette (orange, sky blue, bluish green, yellow, blue,
vermillion, reddish purple, black)."""

STYLE = {"figure.dpi": 110, "savefig.dpi": 160, "font.size": 9, "axes.grid": True, "grid.alpha": 0.25,
         "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
         "axes.prop_cycle": matplotlib.rcsetup.cycler(color=list(OKABE_ITO))}

MARKERS = {"flip": ("o", "PD"), "fold": ("s", "LP"), "branch_point": ("^", "BP"), "neimark_sacker": ("D", "NS")}
SUFFIXES = (".png", ".pdf", ".svg")


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _save(fig, path):
    if path is None:
        return
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise BifurcationError(f"figure path {str(p)!r} must end in .png, .pdf or .svg")
    if not p.parent.exists():
        raise BifurcationError(f"the folder {str(p.parent)!r} of the figure path does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=p.suffix, dir=p.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, bbox_inches="tight")
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _period_colour(period: int) -> str:
    j = int(np.log2(period)) if period > 0 and (period & (period - 1)) == 0 else 4 + period
    return OKABE_ITO[j % (len(OKABE_ITO) - 1)]


def _segments(param, values, stable):
    """Split a branch into runs of equal stability: [(params, values, stable), …]."""
    out = []
    if len(param) == 0:
        return out
    start = 0
    for i in range(1, len(param) + 1):
        if i == len(param) or stable[i] != stable[start]:
            hi = min(i + 1, len(param))  # overlap one point so that the curve is continuous
            out.append((param[start:hi], values[start:hi], bool(stable[start])))
            start = i
    return out


def plot_branches(result, variable: int | str = 0, ax=None, path=None, branches=None, points=None,
                  orbit: bool = True, label_points: bool = True, max_labels: int = 12):
    """Continuation branches (stable solid, unstable dashed, coloured by period) over the orbit
    diagram of ``variable`` (index or state name), with the located bifurcation points marked
    (PD flip, LP fold, BP branch point, NS Neimark–Sacker) and the first ``max_labels`` labelled.

    ``result``: a :class:`BifurcationResult` (its scan gives the orbit diagram), or None with
    ``branches`` (list of :class:`Branch`) and ``points`` given.  Returns the figure."""
    with matplotlib.style.context(STYLE):
        fig, ax = _new_axes(ax, (7.0, 4.2))
        fam = result.family if isinstance(result, BifurcationResult) else None
        if isinstance(variable, str):
            if fam is None or variable not in fam.state:
                raise BifurcationError(f"unknown state variable {variable!r}")
            vi = fam.state.index(variable)
        else:
            vi = int(variable)
        brs = list(branches) if branches is not None else (result.branches if result is not None else [])
        pts = list(points) if points is not None else (result.points() if result is not None else [])
        if orbit and isinstance(result, BifurcationResult) and result.scan is not None:
            sc = result.scan
            vals = sc.records[:, :, vi]
            P = np.broadcast_to(sc.params[None, :], vals.shape)
            ok = np.isfinite(vals) & ~sc.diverged[None, :]
            ax.plot(P[ok], vals[ok], ",", color="0.55", alpha=0.5, rasterized=True, zorder=1)
        periods = sorted({b.period for b in brs})
        for br in brs:
            if not isinstance(br, Branch) or len(br) == 0:
                continue
            col = _period_colour(br.period)
            curves = [br.cycles[:, j, vi] for j in range(br.period)] if br.cycles is not None else [br.x[:, vi]]
            for c in curves:
                for pp, vv, st in _segments(br.param, c, br.stable):
                    ax.plot(pp, vv, "-" if st else "--", color=col, lw=1.4 if st else 1.0, zorder=3)
        for n, b in enumerate(sorted(pts, key=lambda b: b.param)):
            mk, ab = MARKERS.get(b.kind, ("x", b.kind))
            ax.plot([b.param], [b.x[vi]], mk, ms=5, mfc="white", mec="black", mew=1.0, zorder=5)
            if label_points and n < max_labels:
                ax.annotate(f"{ab}{b.period}", (b.param, b.x[vi]), textcoords="offset points", xytext=(3, 4),
                            fontsize=7, zorder=6)
        handles = [Line2D([], [], color=_period_colour(p), lw=1.4, label=f"period {p}") for p in periods[:8]]
        handles += [Line2D([], [], color="black", ls="-", label="stable"),
                    Line2D([], [], color="black", ls="--", label="unstable")]
        kinds = sorted({b.kind for b in pts})
        handles += [Line2D([], [], ls="", marker=MARKERS.get(k, ("x", k))[0], mfc="white", mec="black",
                           label=f"{MARKERS.get(k, ('x', k))[1]}: {k.replace('_', '–')}") for k in kinds]
        ax.legend(handles=handles, fontsize=7, loc="best", ncols=2)
        ax.set_xlabel(fam.param if fam is not None else "parameter")
        ax.set_ylabel(fam.state[vi] if fam is not None else f"x[{vi}]")
        ax.set_title("continuation branches over the orbit diagram")
        _save(fig, path)
        return fig


def plot_basins(ds, ax=None, path=None):
    """Basins of attraction from :func:`symsharp.analysis.bifurcation.basins`: one colour per
    label present (grey: diverged), with a legend naming the attractors.  Returns the figure."""
    if "label" not in ds or "attractor_name" not in ds:
        raise BifurcationError("plot_basins needs a dataset made by symsharp.analysis.bifurcation.basins")
    with matplotlib.style.context(STYLE):
        fig, ax = _new_axes(ax, (5.2, 4.4))
        lab = np.asarray(ds["label"].values)
        present = sorted(int(v) for v in np.unique(lab))
        colours = ["#BBBBBB" if v < 0 else OKABE_ITO[i % len(OKABE_ITO)] for i, v in enumerate(present)]
        index = {v: i for i, v in enumerate(present)}
        img = np.vectorize(index.get)(lab)
        cmap = ListedColormap(colours)
        norm = BoundaryNorm(np.arange(len(present) + 1) - 0.5, len(present))
        x, y = ds["x"].values, ds["y"].values
        ax.pcolormesh(x, y, img, cmap=cmap, norm=norm, shading="nearest", rasterized=True)
        names = ds["attractor_name"].values
        handles = [Patch(color=c, label=("diverged" if v < 0 else str(names[v]))) for v, c in zip(present, colours)]
        ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=1)
        ax.set_xlabel(ds["x"].attrs.get("long_name", "x"))
        ax.set_ylabel(ds["y"].attrs.get("long_name", "y"))
        try:
            meta = json.loads(ds.attrs.get("symsharp", "{}"))
            pv = meta.get("options", {}).get("param")
            pn = meta.get("family", {}).get("param", "p")
            ax.set_title(f"basins of attraction at {pn} = {pv:g}" if pv is not None else "basins of attraction")
        except (ValueError, TypeError):
            ax.set_title("basins of attraction")
        ax.grid(False)
        _save(fig, path)
        return fig


def plot_spectrum(ds, ax=None, path=None):
    """Lyapunov spectrum from :func:`symsharp.analysis.bifurcation.lyapunov_spectrum`: every
    exponent against the parameter, with the zero line.  Returns the figure."""
    if "exponent" not in ds:
        raise BifurcationError("plot_spectrum needs a dataset made by symsharp.analysis.bifurcation.lyapunov_spectrum")
    with matplotlib.style.context(STYLE):
        fig, ax = _new_axes(ax, (6.4, 3.6))
        P = ds["param"].values
        E = ds["exponent"].values
        for j in range(E.shape[1]):
            ax.plot(P, E[:, j], "-", lw=1.0, color=OKABE_ITO[j % len(OKABE_ITO)], label=f"λ{j + 1}")
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xlabel(ds["param"].attrs.get("long_name", "parameter"))
        ax.set_ylabel("Lyapunov exponent")
        ax.set_title("Lyapunov spectrum (QR method)")
        ax.legend(fontsize=7)
        _save(fig, path)
        return fig


__all__ = ["plot_branches", "plot_basins", "plot_spectrum", "OKABE_ITO", "STYLE"]


def plot_branches_dataset(ds, variable: int | str = 0, ax=None, path=None):
    """Redraw saved continuation branches (the dataset of ``symsharp bifurcation --out``): branch
    points coloured by period, stable filled and unstable hollow, bifurcation points marked.
    Returns the figure."""
    with matplotlib.style.context(STYLE):
        fig, ax = _new_axes(ax, (7.0, 4.2))
        names = [str(v) for v in ds["variable"].values]
        vi = names.index(variable) if isinstance(variable, str) else int(variable)
        P = ds["param"].values
        X = ds["state"].values[:, vi]
        per = ds["period"].values
        st = ds["stable"].values.astype(bool)
        for p in sorted(set(int(t) for t in per)):
            m = per == p
            col = _period_colour(p)
            ax.plot(P[m & st], X[m & st], ".", ms=2.5, color=col, label=f"period {p}")
            ax.plot(P[m & ~st], X[m & ~st], ".", ms=2.5, color=col, mfc="none", alpha=0.6)
        marks = {"flip": ("o", "PD: flip"), "fold": ("s", "LP: fold"), "neimark_sacker": ("D", "NS"),
                 "branch_point": ("^", "BP")}
        seen = set()
        for p, kind, x in zip(ds["bif_param"].values, ds["bif_kind"].values, ds["bif_state"].values[:, vi]):
            mk, lab = marks.get(str(kind), ("x", str(kind)))
            ax.plot([p], [x], mk, mfc="white", mec="k", ms=6, label=None if kind in seen else lab, zorder=5)
            seen.add(kind)
        meta = json.loads(ds.attrs.get("symsharp", "{}"))
        ax.set_xlabel(str(ds["param"].attrs.get("long_name", "parameter")))
        ax.set_ylabel(names[vi])
        ax.set_title(f"continuation branches of {meta.get('model', 'the map')}")
        ax.legend(loc="best", fontsize=7, ncol=2)
        _save(fig, path)
        return fig
