"""Figures of the precision analyses (:mod:`symsharp.analysis.precision`).

    plot_horizon(ds, ax=None, path=None)    precision horizon against the mantissa bits, with the law
                                            (bits·ln 2 + ln tol)/λ and its finite-time version
    plot_blowup(ds, ax=None, path=None)     fraction of seeds that blow up against η, one curve per
                                            arithmetic (the mechanism test's injected-noise runs dashed)
    plot_certify(ds, ax=None, path=None)    enclosure width against the step: Lohner's moving frame
                                            against naive ball iteration, with the certified horizon

Every function draws into ``ax`` (or a new figure), inside a matplotlib style context (no backend is
selected and no global rcParams change), returns the figure, and writes it only when ``path`` is
given (PNG, PDF or SVG by suffix, atomically).  Colours: the Okabe–Ito palette (colour-blind safe),
one colour per arithmetic, the same in every figure.  :data:`PLOTTERS` maps the result kinds the
``symsharp precision`` verbs store (``precision-horizon``, ``precision-blowup``,
``precision-certify``) to these functions, for ``symsharp plot``.
"""
from __future__ import annotations

import json
import math

import matplotlib
import matplotlib.style
import numpy as np
from matplotlib.figure import Figure

from ..io import write_atomically
from .dynamics import OKABE_ITO, FigureError, check_figure_path

STYLE = {"figure.dpi": 110, "savefig.dpi": 160, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3,
         "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
         "axes.prop_cycle": matplotlib.rcsetup.cycler(color=list(OKABE_ITO.values()))}
"""The style of these figures (used as a context, never set globally)."""

ARITH_COLOURS = {"bfloat16": OKABE_ITO["yellow"], "float16": OKABE_ITO["orange"], "float32": OKABE_ITO["sky blue"],
                 "float64": OKABE_ITO["blue"], "dd": OKABE_ITO["bluish green"], "mpfr": OKABE_ITO["vermillion"],
                 "mp": OKABE_ITO["reddish purple"], "arb": OKABE_ITO["black"]}
"""One colour per arithmetic kind (MPFR, mpmath and arb rows share their kind's colour)."""
NOISE_PREFIX = "float64+noise:"
BITS = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53, "dd": 106}


def _bits(name: str) -> int | None:
    if name in BITS:
        return BITS[name]
    if name.startswith(NOISE_PREFIX):
        return int(name[len(NOISE_PREFIX):])
    if ":" in name:
        try:
            return int(name.split(":")[1])
        except ValueError:
            return None
    return None


def arith_colour(name: str) -> str:
    """The colour of an arithmetic row (an injected-noise row takes the colour of the format with
    that many bits, grey when there is none)."""
    if name.startswith(NOISE_PREFIX):
        b = _bits(name)
        match = [k for k, v in BITS.items() if v == b]
        return ARITH_COLOURS[match[0]] if match else "#888888"
    return ARITH_COLOURS.get(name.split(":")[0], "#444444")


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _done(fig, path):
    if path is not None:
        p = check_figure_path(path)
        write_atomically(p, lambda tmp: fig.savefig(tmp, bbox_inches="tight"), suffix=p.suffix)
    return fig


def _need(ds, names, what):
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise FigureError(f"this result has no {missing[0]!r}; it is not a {what} result")


# ----------------------------------------------------------------------------------- horizon
def plot_horizon(ds, ax=None, path=None):
    """Precision horizon (steps) against the mantissa bits of each arithmetic, the law
    (bits·ln 2 + ln tol)/λ as a line and the finite-time prediction as open markers.  Rows that
    never left the reference within the run are drawn at the run length with an upward arrow; on
    an attracting orbit the figure says that there is no horizon."""
    _need(ds, ("horizon", "bits", "predicted"), "precision-horizon")
    fig, ax = _axes(ax, (5.4, 3.6))
    with matplotlib.style.context(STYLE):
        names = [str(a) for a in ds["arith"].values]
        bits = ds["bits"].values.astype(float)
        hor = ds["horizon"].values.astype(float)
        pft = ds["predicted_finite"].values.astype(float) if "predicted_finite" in ds else np.full(len(bits), -1.0)
        steps = int(ds.attrs.get("steps", ds.sizes.get("step", 1) - 1))
        lyap = float(ds.attrs.get("lyapunov", float("nan")))
        tol = float(ds.attrs.get("tol", 1e-3))
        attracting = bool(int(ds.attrs.get("attracting", 0)))
        if not attracting and math.isfinite(lyap) and lyap > 0:
            b = np.linspace(max(1.0, bits.min() * 0.8), bits.max() * 1.25, 200)
            law = (b * math.log(2) + math.log(tol)) / lyap
            ax.plot(b, np.maximum(law, 0), color="#555555", lw=1, ls="--",
                    label=f"law (bits·ln2 + ln tol)/λ, λ = {lyap:.4g}")
        for j, n in enumerate(names):
            c = arith_colour(n)
            if hor[j] >= 0:
                ball = n.startswith("arb:")
                ax.plot(bits[j], hor[j], "s" if ball else "o", color=c, ms=6, mfc="none" if ball else None,
                        label=f"{n}: {int(hor[j])}" + (" (midpoints)" if ball else ""))
            else:
                ax.plot(bits[j], steps, "^", color=c, ms=7, label=f"{n}: > {steps} (never left)")
            if pft[j] >= 0:
                ax.plot(bits[j], pft[j], "o", mfc="none", color=c, ms=9, lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("mantissa bits")
        ax.set_ylabel("horizon (steps within tol of the reference)")
        if attracting:
            ax.text(0.02, 0.95, f"attracting orbit (λ = {lyap:.3g} < 0): the arithmetics agree to rounding for ever — "
                    "no horizon", transform=ax.transAxes, va="top", fontsize=8)
        ax.plot([], [], "o", mfc="none", color="#555555", label="finite-time prediction")
        ax.set_title(f"precision horizon: tol {tol:g}, reference {ds.attrs.get('reference', '?')}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    return _done(fig, path)


# ----------------------------------------------------------------------------------- blow-up
def plot_blowup(ds, ax=None, path=None, relative: bool | None = None):
    """Fraction of seeds that blow up against the learning rate, one curve per arithmetic; the
    mechanism test's rows (float64 plus injected noise 2^-p) dashed in the colour of the p-bit
    format.  ``relative``: use the coordinate ``eta_rel`` (η in units of 2/S₀) when the result
    has it (default: when present)."""
    _need(ds, ("diverged_fraction",), "precision-blowup")
    fig, ax = _axes(ax, (5.4, 3.6))
    with matplotlib.style.context(STYLE):
        rel = ("eta_rel" in ds.coords) if relative is None else bool(relative and "eta_rel" in ds.coords)
        x = ds["eta_rel"].values if rel else ds["eta"].values
        marker = "o" if len(x) <= 40 else None
        for a in ds["arith"].values:
            n = str(a)
            f = ds["diverged_fraction"].sel(arith=a).values
            noise = n.startswith(NOISE_PREFIX)
            ax.plot(x, f, ls="--" if noise else "-", marker=marker, ms=3 if noise else 4, lw=1.0 if noise else 1.5,
                    color=arith_colour(n), mfc="none" if noise else None,
                    label=(f"float64 + noise 2^-{n[len(NOISE_PREFIX):]}" if noise else n))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("learning rate η / (2/S₀)" if rel else "learning rate η")
        ax.set_ylabel("fraction of seeds that blow up")
        meta = _meta(ds)
        coords = meta.get("coords", "")
        ax.set_title(f"blow-up statistics ({ds.sizes['seed']} seeds, {ds.attrs.get('steps', '?')} steps"
                     + (f", {coords} coordinates" if coords in ("raw", "svd") else "") + ")", fontsize=9)
        ax.legend(fontsize=7)
    return _done(fig, path)


def _meta(ds) -> dict:
    try:
        return json.loads(ds.attrs.get("symsharp", "{}"))
    except (TypeError, ValueError):
        return {}


# ----------------------------------------------------------------------------------- certified runs
def plot_certify(ds, ax=None, path=None):
    """Width of the enclosure (largest over the state variables) against the step: Lohner's
    moving frame and naive ball iteration, the tolerance tol·max(1, |x|) and the certified
    horizons of both."""
    _need(ds, ("width", "naive_width", "mid"), "precision-certify")
    fig, ax = _axes(ax, (5.4, 3.6))
    with matplotlib.style.context(STYLE):
        summary = json.loads(ds.attrs.get("summary", "{}"))
        step = ds["step"].values
        with np.errstate(invalid="ignore"):
            w = ds["width"].max("var").values
            wn = ds["naive_width"].max("var").values
            tolw = summary.get("tol", 1e-3) * np.maximum(1.0, np.abs(ds["mid"]).max("var").values)
        ok = np.isfinite(w) & (w > 0)
        okn = np.isfinite(wn) & (wn > 0)
        ax.semilogy(step[ok], w[ok], color=OKABE_ITO["blue"], lw=1.3, label="Lohner (moving frame)")
        if okn.any():
            ax.semilogy(step[okn], wn[okn], color=OKABE_ITO["vermillion"], lw=1.0, label="naive balls")
        okt = np.isfinite(tolw)
        ax.semilogy(step[okt], tolw[okt], color="#777777", lw=0.8, ls=":", label="tol·max(1, |x|)")
        for key, colour, name in (("certified_steps", OKABE_ITO["blue"], "certified"),
                                  ("naive_certified_steps", OKABE_ITO["vermillion"], "naive"),
                                  ("pointwise_horizon", OKABE_ITO["black"], "pointwise horizon")):
            v = summary.get(key)
            if v is not None and 0 <= v < len(step) - 1:
                ax.axvline(v, color=colour, lw=0.7, ls="--", label=f"{name}: {v}")
        ax.set_xlabel("step")
        ax.set_ylabel("enclosure width (largest variable)")
        title = f"certified run: {summary.get('bits', '?')}-bit balls, {summary.get('certified_steps', '?')} steps certified"
        po = summary.get("periodic_orbit")
        if po and po.get("proved"):
            title += f"; period-{po['period']} orbit proved"
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    return _done(fig, path)


PLOTTERS = {"precision-horizon": lambda ds, path: plot_horizon(ds, path=path),
            "precision-blowup": lambda ds, path: plot_blowup(ds, path=path),
            "precision-certify": lambda ds, path: plot_certify(ds, path=path)}
"""{result kind: fn(ds, path)} for ``symsharp plot``."""
