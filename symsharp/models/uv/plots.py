"""Figures of the UV route to chaos (data from :func:`symsharp.models.uv.route.route_figure_data`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from ...dynamics.orbits import REGIMES
from ...plots.dynamics import REGIME_COLOURS, plt, save_figure


def plot_route_figures(data: dict, directory) -> list:
    """Draw :func:`symsharp.models.uv.route.route_figure_data` into ``directory``:
    uv_route_orbit.png (sharpness with 2/η and ηλ with the line 2, marks at η_c, chaos onset,
    period-3 window and crisis), uv_route_lyapunov.png (2-D map, EoS map, transverse exponent),
    uv_route_phase.png (regimes in (η, ηλ₀) at f₀ = 0 with the derived divergence line)."""

    d = Path(directory)
    out = []
    m = data["marks"]
    o = data["orbit"]
    eta = o["eta"]
    fig, axes = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    x = np.repeat(eta[:, None], o["values"].shape[1], 1)
    axes[0].plot(x.ravel(), o["values"].ravel(), ",", color="k", alpha=0.5)
    axes[0].plot(eta, o["two_over_eta"], "r-", lw=1, label="2/η")
    axes[0].set_ylabel("sharpness S (loss Hessian)")
    axes[0].legend(loc="upper right")
    axes[1].plot(x.ravel(), data["orbit_ntk_times_eta"].ravel(), ",", color="k", alpha=0.5)
    axes[1].axhline(2, color="r", lw=1, label="ηλ = 2")
    axes[1].set_ylabel("ηλ (NTK × η)")
    axes[1].set_xlabel("learning rate η")
    for ax in axes:
        for key, ls in (("eta_c", "--"), ("chaos_onset", ":"), ("period3_window", "-."), ("bounded_orbits_lost", "--")):
            ax.axvline(m[key], color="grey", ls=ls, lw=0.8)
    axes[0].set_title("UV model: EoS route to chaos (lines: η_c, chaos onset, period 3, crisis)")
    out.append(save_figure(fig, d / "uv_route_orbit.png"))
    ly = data["lyapunov"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(ly["eta"], ly["lyapunov_2d"], "k-", lw=0.8, label="GD map of (f, λ)")
    ax.plot(ly["eta"], ly["lyapunov_eos"], "b-", lw=0.6, alpha=0.6, label="EoS map")
    ax.plot(ly["eta"], ly["transverse"], "g-", lw=0.8, label="transverse (manifold)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylim(-2, 1.5)
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("Lyapunov exponent")
    ax.legend(loc="lower left", fontsize=8)
    out.append(save_figure(fig, d / "uv_route_lyapunov.png"))
    pd = data["phase"]
    fig, ax = plt.subplots(figsize=(7, 5))
    cmap = ListedColormap([REGIME_COLOURS[n] for n in REGIMES])
    norm = BoundaryNorm(np.arange(len(REGIMES) + 1) - 0.5, len(REGIMES))
    ax.pcolormesh(pd["eta"], pd["eta_lambda0"], pd["regime"].T, cmap=cmap, norm=norm, shading="auto")
    ax.plot(pd["eta"], pd["divergence_line"], "k--", lw=1, label=pd["divergence_formula"])
    ax.axvline(m["eta_c"], color="k", lw=0.8)
    ax.axvline(m["bounded_orbits_lost"], color="k", lw=0.8)
    ax.set_ylim(pd["eta_lambda0"][0], pd["eta_lambda0"][-1])
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("ηλ₀ (f₀ = 0)")
    ax.legend(handles=[Patch(color=REGIME_COLOURS[n], label=n) for n in REGIMES], fontsize=8, loc="upper right")
    out.append(save_figure(fig, d / "uv_route_phase.png"))
    return out
