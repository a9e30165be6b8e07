"""Figures, one function per kind, each drawn from a result (an xarray Dataset, or a saved
``.nc``/``.zarr`` result read with :func:`symsharp.io.load_result`).

    plot_trajectory(ds, path=None, ax=None)   loss and sharpness over steps, with the 2/η line
    plot_orbit(ds, path=None, ax=None)        orbit (bifurcation) diagram, 2/η line, Lyapunov exponent below
    plot_phase(ds, path=None, ax=None)        regime labels over a 2-D grid
    plot_lyapunov(ds, path=None, ax=None)     largest Lyapunov exponent over a 1-D grid
    plot_result(ds, path=None, ax=None)       whichever of the above fits the result's kind

Every function draws into ``ax`` (or a new figure), inside a style context (no backend is selected
and no global rcParams change on import), returns the figure, and writes it only when ``path`` is
given (PNG, PDF or SVG by suffix, atomically).  Regime colours: Okabe–Ito (colour-blind safe).
Figures of the chain-model experiments live with that model.
"""
from .dynamics import (FIGURE_SUFFIXES, OKABE_ITO, REGIME_COLOURS, check_figure_path, plot_lyapunov, plot_orbit,
                       plot_phase, plot_result, plot_trajectory, save_figure)

__all__ = ["FIGURE_SUFFIXES", "OKABE_ITO", "REGIME_COLOURS", "check_figure_path", "plot_lyapunov", "plot_orbit",
           "plot_phase", "plot_result", "plot_trajectory", "save_figure"]
