"""Figures, one function per kind, each drawn from a saved result (an xarray Dataset).

    plot_trajectory(ds, path)   loss and sharpness over steps, with the 2/η line
    plot_orbit(ds, path)        orbit (bifurcation) diagram, 2/η line, Lyapunov exponent below
    plot_phase(ds, path)        regime labels over a 2-D grid
    plot_lyapunov(ds, path)     largest Lyapunov exponent over a 1-D grid
    plot_result(ds, path)       whichever of the above fits the result's kind

Files are written atomically (PNG, PDF or SVG by suffix).  Figures of the chain-model
experiments live in :mod:`symsharp.plots.chain`.
"""
from .dynamics import FIGURE_SUFFIXES, check_figure_path, plot_lyapunov, plot_orbit, plot_phase, plot_result, plot_trajectory, save_figure

__all__ = ["FIGURE_SUFFIXES", "check_figure_path", "plot_lyapunov", "plot_orbit", "plot_phase", "plot_result",
           "plot_trajectory", "save_figure"]
