"""Figures of the chain-model experiments (:mod:`symsharp.analysis.chain_experiments`).

    plot_sharpness_vs(ds, path)   final sharpness over N / depth / η / batch with Ŝ_D, the GF-limit
                                  sharpness, S*(C_final), the Y3/Y4-type bounds and 2/η
    plot_eos(ds, path)            edge-of-stability run: sharpness with 2/η and S*(C(t)), loss, C
    plot_y10(ds, path)            Y10: sharpness of wide networks after training against Ŝ_D (scatter)
    plot_q_growth(curves, path)   dataset difficulty Q against N for real data sources (log-log)
    plot_chain_result(ds, path)   whichever fits the result

Every figure shows the loss-Hessian sharpness (not the NTK) unless labelled otherwise.
"""
from __future__ import annotations

import json
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ...plots.dynamics import FigureError, check_figure_path, save_figure  # noqa: E402

XLABEL = {"N": "number of samples N", "depth": "depth D", "eta": "learning rate η", "batch": "batch size B"}


def _cfg(ds):
    try:
        return json.loads(ds.attrs["symsharp"])
    except (KeyError, ValueError):
        raise FigureError("this result has no symsharp metadata; it was not made by symsharp.analysis.chain_experiments") \
            from None


def plot_sharpness_vs(ds, path):
    """Final sharpness (mean ± std over seeds, individual seeds as dots) against the swept value."""
    p = check_figure_path(path)
    cfg = _cfg(ds)
    if cfg.get("experiment") != "sharpness_vs":
        raise FigureError(f"plot_sharpness_vs needs a sharpness_vs result, got {cfg.get('experiment')!r}")
    kind = cfg["kind"]
    x = np.asarray(ds[kind].values, float)
    if kind == "batch":
        x = np.asarray(ds["batch"].values, float)
    two = kind == "N"
    three = two and "Q_growth" in cfg
    ncol = 3 if three else (2 if two else 1)
    fig, axes = plt.subplots(1, ncol, figsize=(16 if three else (11 if two else 6.4), 4.4), squeeze=False)
    ax = axes[0, 0]
    S = ds["sharpness"].values
    for j in range(S.shape[1]):
        ax.plot(x, S[:, j], "o", color="C0", alpha=0.35, ms=4, label="final sharpness (each seed)" if j == 0 else None)
    ax.errorbar(x, np.nanmean(S, 1), yerr=np.nanstd(S, 1), color="C0", lw=2, capsize=3, label="final sharpness (mean ± std)")
    conv = ds["converged"].values.astype(bool)
    with warnings.catch_warnings():  # values with no converged run give NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        Sst = np.nanmean(np.where(conv, ds["S_star"].values, np.nan), 1)
    ax.plot(x, Sst, "x", color="k", ms=7, label="S*(C_final): exact formula at final imbalance (converged runs)")
    ax.plot(x, ds["S_hat"].values, "s--", color="C3", ms=4, label="Ŝ_D = σ₁²/N · Q^{(D−1)/D}")
    ax.plot(x, ds["S_gf_small"].values, "^-", color="C2", ms=4, label="GF limit, small start (C = 0)")
    ax.plot(x, np.nanmean(ds["S_gf"].values, 1), "v:", color="C4", ms=4, label="GF limit from the same start")
    ax.fill_between(x, ds["Y4_lower"].values, ds["Y4_upper"].values, color="C2", alpha=0.12,
                    label="Y3/Y4 bounds at C = 0")
    if kind in ("eta", "batch") or len(set(np.round(ds["two_over_eta"].values, 12))) > 1 \
            or np.nanmax(ds["two_over_eta"].values) < 3 * np.nanmax(S):
        ax.plot(x, ds["two_over_eta"].values, "-", color="0.3", lw=1.2, label="2/η (GD stability limit)")
    if kind in ("eta", "batch"):
        ax.set_xscale("log")
    ax.set_xlabel(XLABEL[kind])
    ax.set_ylabel("sharpness S = λ_max(∇²L)")
    top = np.nanmax([np.nanmax(S), np.nanmax(ds["Y4_upper"].values), np.nanmax(ds["S_hat"].values)])
    ax.set_ylim(0, 1.15 * top)
    nconv = int(ds["converged"].sum())
    src = _data_label(cfg)
    ax.set_title(f"final sharpness vs {kind}{src} ({nconv}/{S.size} runs converged, {cfg['steps']} steps)",
                 fontsize=9)
    ax.legend(fontsize=7, loc="best")
    if two:
        ax2 = axes[0, 1]
        Q = ds["Q"].values
        D = ds["depth"].values
        norm = ds["samples"].values / ds["sigma1"].values ** 2
        order = np.argsort(Q)
        ax2.errorbar(Q, np.nanmean(S, 1) * norm, yerr=np.nanstd(S, 1) * norm, fmt="o", color="C0",
                     label="N·S/σ₁² (measured)")
        qq = np.geomspace(Q.min(), Q.max(), 100)
        d0 = int(D[0])
        ax2.plot(qq, qq ** ((d0 - 1) / d0), color="C3", label="Q^{(D−1)/D} (Ŝ_D normalised)")
        ax2.fill_between(qq, qq ** ((d0 - 1) / d0), d0 * qq ** ((d0 - 1) / d0), color="C2", alpha=0.15,
                         label="[Ŝ_D, D·Ŝ_D]: range of the small-start GF limit")
        ax2.plot(Q[order], (ds["S_gf_small"].values * norm)[order], "^", color="C2", label="GF limit, small start")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_xlabel("dataset difficulty Q = ‖X⁺y‖²")
        ax2.set_ylabel("normalised sharpness N·S/σ₁²")
        ax2.set_title("the same runs against Q", fontsize=10)
        ax2.legend(fontsize=7)
    if three:
        ax3 = axes[0, 2]
        Ns = ds["samples"].values.astype(float)
        g = cfg["Q_growth"]
        ax3.loglog(Ns, ds["Q"].values, "o", color="C0", label="Q = ‖X⁺y‖² of the data")
        if np.isfinite(g["exponent"]):
            nn = np.geomspace(Ns.min(), Ns.max(), 50)
            ax3.loglog(nn, g["prefactor"] * nn ** g["exponent"], "--", color="C3",
                       label=f"fit Q ∝ N^{g['exponent']:.2f}")
        ax3.set_xlabel("number of samples N")
        ax3.set_ylabel("dataset difficulty Q")
        if "q_fraction" in ds:
            ax4 = ax3.twinx()
            ax4.plot(Ns, np.nanmean(ds["q_fraction"].values, 1), "s:", color="C2", ms=4,
                     label="fraction of Q learned ‖Π_W β‖²/Q")
            ax4.set_ylim(0, 1.05)
            ax4.set_ylabel("fraction of Q learned at the end", color="C2")
            ax4.legend(fontsize=7, loc="center right")
        ax3.set_title("Q grows with N", fontsize=10)
        ax3.legend(fontsize=7, loc="center left")
    fig.tight_layout()
    return save_figure(fig, p)


def _data_label(cfg) -> str:
    """`` (photo-patches, standardize)``-style label of the data of an experiment (empty for synthetic
    defaults)."""
    data = cfg.get("data")
    if data in (None, "given", "gaussian", "spectrum", "image") and not cfg.get("preprocess"):
        return ""
    parts = [str(data)]
    if cfg.get("classes"):
        parts.append(f"classes {cfg['classes']}")
    if cfg.get("patch"):
        parts.append(f"patch {cfg['patch']}")
    if cfg.get("preprocess"):
        parts.append(str(cfg["preprocess"]))
    return " (" + ", ".join(parts) + ")"


def plot_eos(ds, path):
    """Edge-of-stability run: sharpness with 2/η and S*(C(t)), loss (log), imbalance C."""
    p = check_figure_path(path)
    cfg = _cfg(ds)
    if cfg.get("experiment") != "eos_run":
        raise FigureError(f"plot_eos needs an eos_run result, got {cfg.get('experiment')!r}")
    t = ds["step"].values
    two = float(ds["two_over_eta"])
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 8), sharex=True)
    ax = axes[0]
    ax.plot(t, ds["sharpness"].values, color="C0", lw=1.2, label="sharpness S(θ_t) (loss Hessian)")
    ax.plot(t, ds["ntk"].values, color="C1", lw=0.8, alpha=0.7, label="top NTK eigenvalue")
    ax.plot(t, ds["S_star"].values, "--", color="k", lw=1, label="S*(C_t): sharpness of the GF limit from θ_t")
    ax.axhline(two, color="C3", lw=1.2, label=f"2/η = {two:.4g}")
    ax.axhline(float(ds["S_balanced"]), color="C2", ls=":", lw=1, label="S*(0): small-start GF limit")
    ax.set_ylabel("sharpness")
    ax.set_title(f"chain model D = 2{_data_label(cfg)}, GD with η = {float(ds['eta']):.4g}: edge of stability",
                 fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    axes[1].semilogy(t, np.maximum(ds["loss"].values, 1e-300), color="C0")
    axes[1].set_ylabel("loss")
    axes[2].plot(t, ds["C"].values, color="C4")
    axes[2].set_ylabel("imbalance C = ‖Π_W u‖² − v²")
    axes[2].set_xlabel("GD step")
    for a in axes:
        a.set_xscale("symlog", linthresh=10)
    fig.tight_layout()
    return save_figure(fig, p)


SOURCE_STYLE = (("digits", "o"), ("photo", "s"))


def plot_y10(ds, path):
    """Y10: the loss-Hessian sharpness of the wide networks after training against Ŝ_D, one panel per
    architecture (log-log), one colour per data source; hollow markers: runs left out of the
    correlations (not converged, or ended at the edge of stability); grey crosses: the chain
    model's exact small-start sharpness S_gf of the same data."""
    p = check_figure_path(path)
    cfg = _cfg(ds)
    if cfg.get("experiment") != "y10":
        raise FigureError(f"plot_y10 needs a y10 result, got {cfg.get('experiment')!r}")
    archs = list(ds.arch.values)
    sources = [str(s) for s in ds["source"].values]
    order = sorted(set(sources), key=sources.index)
    fig, axes = plt.subplots(1, len(archs), figsize=(5.6 * len(archs), 4.8), squeeze=False)
    for k, a in enumerate(archs):
        ax = axes[0, k]
        S = ds["sharpness"].sel(arch=a).values
        Sh = ds["S_hat"].sel(arch=a).values
        Sg = ds["S_gf"].sel(arch=a).values
        used = ds["used"].sel(arch=a).values.astype(bool)
        for c, src in enumerate(order):
            sel = np.array([s == src for s in sources])
            mk = next((m for key, m in SOURCE_STYLE if src.startswith(key)), "^")
            r = float(ds["pearson"].sel(arch=a, group=src))
            lab = f"{src} (Pearson {r:.2f})" if np.isfinite(r) else f"{src} (too few runs for a correlation)"
            ax.loglog(Sh[sel & used], S[sel & used], mk, color=f"C{c}", ms=7, label=lab)
            if np.any(sel & ~used):
                ax.loglog(Sh[sel & ~used], S[sel & ~used], mk, mfc="none", color=f"C{c}", ms=7,
                          label=f"{src}: left out (not converged / edge of stability)")
            ax.loglog(Sh[sel], Sg[sel], "x", color="0.5", ms=5, label="chain model S_gf (small start)" if c == 0 else None)
        fin = np.concatenate([S[np.isfinite(S)], Sh, Sg[np.isfinite(Sg)]])
        lo, hi = float(np.min(fin)) / 1.5, float(np.max(fin)) * 1.5
        ax.plot([lo, hi], [lo, hi], "-", color="0.4", lw=0.8, label="S = Ŝ_D")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        r_all = float(ds["pearson"].sel(arch=a, group="all"))
        n_all = int(ds["n_used"].sel(arch=a, group="all"))
        ax.set_title(f"{a}, width {cfg['config']['width']}: Pearson {r_all:.2f} over {n_all} data sets", fontsize=10)
        ax.set_xlabel("predicted sharpness Ŝ_D = σ₁²/N · Q^{(D−1)/D}")
        ax.set_ylabel("sharpness after training λ_max(∇²L)")
        ax.legend(fontsize=7, loc="upper left")
    rule = "constant η" if cfg["config"]["eta_rule"] == "constant" else "adaptive η = c/S (not constant-η GD)"
    fig.suptitle(f"Y10 on real data: full-batch GD, {rule}, init scale {cfg['config']['init_scale']}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, p)


def plot_q_growth(curves, path):
    """Q = ‖X⁺y‖² against N (log-log) for several data sources and preprocessings.

    ``curves``: a list of :func:`symsharp.data.q_growth` results (each with an optional ``label``);
    the mean over seeds is drawn with the seeds' range as error bars."""
    p = check_figure_path(path)
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    for c, g in enumerate(curves):
        N = np.asarray(g["N"], float)
        Q = np.asarray(g["Q"], float)
        m = Q.mean(axis=1)
        err = np.vstack([m - Q.min(axis=1), Q.max(axis=1) - m])
        lab = g.get("label") or f"{g['kind']} ({','.join(g['preprocess']) or 'raw'})"
        ax.errorbar(N, m, yerr=err, fmt="o-", color=f"C{c}", ms=4, capsize=2, label=lab)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of samples N")
    ax.set_ylabel("dataset difficulty Q = ‖X⁺y‖²")
    ax.set_title("Q grows with N on real data (mean over seeds, bars: range)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, p)


def plot_chain_result(ds, path):
    """Draw a chain-experiment result with the figure that fits it."""
    exp = _cfg(ds).get("experiment")
    if exp == "sharpness_vs":
        return plot_sharpness_vs(ds, path)
    if exp == "eos_run":
        return plot_eos(ds, path)
    if exp == "y10":
        return plot_y10(ds, path)
    raise FigureError(f"no chain figure for experiment {exp!r}; expected sharpness_vs, eos_run or y10")
