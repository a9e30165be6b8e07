"""``derivations/chain_real.md``: the chain model's claims on real images that ship with
scikit-learn — Q against N, the paper's minimalist experiments (final sharpness against N, depth,
learning rate and batch size; the edge of stability), claim Y10 on wide networks — and a
comparison with the numbers the paper reports.

Everything in the document is computed when it is generated (seeded, one BLAS thread, so the
text is the same on every run); :func:`real_results` runs the experiments once per process and
:func:`draw_real_figures` draws ``derivations/figures/chain_real_*.png`` from the same results.
"""
from __future__ import annotations

import json
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np

DOCUMENT = "chain_real.md"
FIGURES = {
    "q": "chain_real_q_vs_N",
    "N": "chain_real_sharpness_vs_N",
    "depth_photo": "chain_real_sharpness_vs_depth",
    "depth_digits": "chain_real_sharpness_vs_depth_digits",
    "eta": "chain_real_sharpness_vs_eta",
    "batch": "chain_real_sharpness_vs_batch",
    "eos": "chain_real_eos",
    "y10": "chain_real_y10",
    "y10_lazy": "chain_real_y10_lazy",
    "y10_narrow": "chain_real_y10_narrow",
}
"""Figure stems in ``derivations/figures`` (all start with ``chain_real_``)."""

PAPER_Q = {"CIFAR-10": (0.22, 1.70, 44.44), "SVHN": (1.16, 21.13, 859.4), "Google Speech": (0.26, 1.67, 26.34)}
"""Q the paper reports at N = 100 / 300 / 1000 (science.md; preprocessing not stated)."""
PAPER_NS = (100, 300, 1000)
PAPER_CORR = {"linear-D5": (0.99, "5-layer linear, width 2048, CIFAR-10"),
              "tanh-D4": (0.81, "4-layer tanh, width 1024, SVHN")}

PHOTO_NS = (25, 50, 100, 200, 300, 1000)
PHOTO_PREPROCESS = ("standardize", "scale01", "center,unit-norm")
DIGIT_NS = (10, 20, 30, 40, 50, 100, 200)
SEEDS = (0, 1, 2)

# the runs of the document (each line is also a command a user can run; see COMMANDS)
RUNS = {
    "N": dict(kind="N", data="photo-patches", seeds=(0,)),
    "depth_photo": dict(kind="depth", data="photo-patches", samples=50, seeds=(0,)),
    "depth_digits": dict(kind="depth", data="digits", samples=20, seeds=(0,)),
    "eta": dict(kind="eta", data="digits", seeds=(0, 1)),
    "batch": dict(kind="batch", data="digits", seeds=(0, 1)),
    "eta_large": dict(kind="eta", data="digits", values=(0.2, 0.5, 0.8), eta_relative=True, init_scale=4.0,
                      seeds=(0,)),
    "eta_budget": dict(kind="eta", data="photo-patches", samples=50, values=(0.1, 0.8), eta_relative=True,
                       steps=10 ** 6, seeds=(0,)),
}
COMMANDS = {
    "N": "symsharp experiment chain-sharpness --data-kind photo-patches --vs N --seeds 0",
    "depth_photo": "symsharp experiment chain-sharpness --data-kind photo-patches --samples 50 --vs depth --seeds 0",
    "depth_digits": "symsharp experiment chain-sharpness --data-kind digits --samples 20 --vs depth --seeds 0",
    "eta": "symsharp experiment chain-sharpness --data-kind digits --vs eta --seeds 0,1",
    "batch": "symsharp experiment chain-sharpness --data-kind digits --vs batch --seeds 0,1",
    "eta_large": "symsharp experiment chain-sharpness --data-kind digits --vs eta --values 0.2,0.5,0.8 "
                 "--init-scale 4 --seeds 0",
    "eta_budget": "symsharp experiment chain-sharpness --data-kind photo-patches --samples 50 --vs eta "
                  "--values 0.1,0.8 --steps 1000000 --seeds 0",
    "eos": "symsharp experiment chain-eos --data-kind digits --classes 3,8",
    "y10": "symsharp experiment y10 --config reduced",
    "y10_lazy": "symsharp experiment y10 --config reduced --init-scale 1",
    "y10_narrow": "symsharp experiment y10 --config reduced --width 32",
    "describe": "symsharp data describe --data-kind photo-patches --samples 300 --preprocess standardize",
}
EOS = dict(data="digits", classes="3,8")
DEPTH_TABLE = (("photo-patches", {}, (25, 50, 100, 200, 300)), ("digits", {"classes": "0,1"}, (10, 20, 30, 40)),
               ("digits", {"classes": "3,8"}, (10, 20, 30, 40)))


def _one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - ships with scikit-learn
        return nullcontext()
    return threadpool_limits(1)


def _g(x, n: int = 4) -> str:
    x = float(x)
    if not np.isfinite(x):
        return "—"
    return f"{x:.{n}g}"


# ----------------------------------------------------------------------------------- numbers
def _q_tables() -> dict:
    from ...data import q_growth
    from .experiments import q_power_law

    photo = {}
    for pp in PHOTO_PREPROCESS:
        seeds = SEEDS if pp == "standardize" else (0,)
        g = q_growth("photo-patches", PHOTO_NS, seeds=seeds, preprocess=pp)
        g["fit"] = q_power_law(g["N"], g["Q_mean"])
        g["label"] = f"photo patches 32×32×3, {pp}"
        photo[pp] = g
    digits = {}
    for cl in ("0,1", "3,8"):
        g = q_growth("digits", DIGIT_NS, seeds=SEEDS, preprocess="standardize", classes=cl)
        inter = [i for i, n in enumerate(g["N"]) if all(g["y_in_colspace"][i])]
        g["fit"] = q_power_law([g["N"][i] for i in inter], [g["Q_mean"][i] for i in inter])
        g["label"] = f"digits {cl.replace(',', '/')}, standardize"
        digits[cl] = g
    return {"photo": photo, "digits": digits}


def _where_q_lives(samples=(100, 300)) -> list:
    """How much of Q sits in directions GD learns slowly: the share of Q = Σ dᵢ²/σᵢ² carried by
    singular directions with σᵢ < σ₁/30 and σᵢ < σ₁/100 (GD learns direction i about (σ₁/σᵢ)²
    times slower than the top one)."""
    from ...data import make_dataset, svd_coordinates

    out = []
    for n in samples:
        ds = make_dataset("photo-patches", samples=n, preprocess="standardize")
        E, s, _ = svd_coordinates(ds.X)
        q = (E.T @ ds.y) ** 2 / s ** 2
        out.append({"N": n, "rank": int(s.size), "ratio2": float((s[0] / s[-1]) ** 2),
                    "share30": float(q[s < s[0] / 30].sum() / q.sum()),
                    "share100": float(q[s < s[0] / 100].sum() / q.sum()),
                    "n30": int(np.sum(s < s[0] / 30))})
    return out


def _scale_table() -> list:
    """Same images, three preprocessings: Q against the small-start sharpness (exact)."""
    from ...data import make_dataset, svd_coordinates
    from .gf import gf_limit_sharpness

    rows = []
    for kind, kw, n in (("digits", {"classes": "0,1"}, 40), ("photo-patches", {}, 100)):
        for pp in ("scale01", "standardize", "center,unit-norm"):
            ds = make_dataset(kind, samples=n, preprocess=pp, **kw)
            E, s, _ = svd_coordinates(ds.X)
            dd = E.T @ ds.y
            sm = gf_limit_sharpness(s, dd, np.zeros(1), n)
            rows.append({"kind": kind, "N": n, "preprocess": pp, "Q": sm["Q"], "S_hat": sm["S_hat"],
                         "S": sm["sharpness"], "sigma1": float(s[0])})
    return rows


def _depth_table() -> list:
    """Q, the exact depth thresholds Q*_D and the small-start sharpness S_D (D = 2…5) against Ŝ_D."""
    from ...data import make_dataset, svd_coordinates
    from .gf import depth_threshold, small_init_sharpness

    rows = []
    for kind, kw, Ns in DEPTH_TABLE:
        for n in Ns:
            ds = make_dataset(kind, samples=n, preprocess="standardize", **kw)
            E, s, _ = svd_coordinates(ds.X)
            dd = E.T @ ds.y
            Q = float(np.sum(dd ** 2 / s ** 2))
            rows.append({"data": kind if not kw else f"digits {kw['classes'].replace(',', '/')}", "N": n, "Q": Q,
                         "Q_star": [depth_threshold(s, dd, D) for D in (2, 3, 4)],
                         "S": [small_init_sharpness(s, dd, D, n) for D in (2, 3, 4, 5)],
                         "S_hat": [float(s[0] ** 2 / n * Q ** ((D - 1) / D)) for D in (2, 3, 4, 5)]})
    return rows


@lru_cache(maxsize=1)
def real_results() -> dict:
    """Every number and result of the document (computed once per process)."""
    from . import claims_y10
    from .experiments import eos_run, sharpness_vs

    with _one_thread(), np.errstate(all="ignore"):
        out = {"q": _q_tables(), "where": _where_q_lives(), "scale": _scale_table(), "depth_table": _depth_table()}
        for key, kw in RUNS.items():
            kw = dict(kw)
            out[key] = sharpness_vs(kw.pop("kind"), progress=False, **kw)
        out["eos"] = eos_run(progress=False, **EOS)
        out["y10"] = claims_y10.reduced_result()
        out["y10_lazy"] = claims_y10.lazy_result()
        out["y10_narrow"] = claims_y10.narrow_result()
        out["y10_outcome"] = claims_y10._y10()
        out["y10_rich_outcome"] = claims_y10._y10_rich()
        out["y10_width_outcome"] = claims_y10._y10_width()
    return out


# ----------------------------------------------------------------------------------- figures
def draw_real_figures(directory) -> list:
    """Draw ``chain_real_*.png`` into ``directory`` from :func:`real_results`."""
    from .plots import plot_chain_result, plot_q_growth

    res = real_results()
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    curves = list(res["q"]["photo"].values()) + list(res["q"]["digits"].values())
    out = [plot_q_growth(curves, d / f"{FIGURES['q']}.png")]
    for key in ("N", "depth_photo", "depth_digits", "eta", "batch", "eos", "y10", "y10_lazy", "y10_narrow"):
        out.append(plot_chain_result(res[key], d / f"{FIGURES[key]}.png"))
    return out


# ----------------------------------------------------------------------------------- text
def _fig(key, what) -> str:
    return f"![{what}](figures/{FIGURES[key]}.png)"


def _rows(ds, kind):
    vals = ds[kind].values
    return range(len(vals)), vals


def _sweep_table(ds, kind, label) -> list:
    cols = [label, "Q", "Ŝ_D", "S_gf (small start)", "S_gf (same start)", "final S (mean)", "S*(C_final)",
            "Q learned", "converged"]
    L = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    idx, vals = _rows(ds, kind)
    for i in idx:
        sl = {kind: i}
        v = vals[i]
        if kind == "batch":
            v = int(ds["batch"].values[i])
            v = f"{v} (GD)" if v == int(ds["samples"].values[i]) else str(v)
        elif kind == "eta":
            v = f"{_g(v, 3)} (2/η = {_g(ds['two_over_eta'].values[i], 4)})"
        else:
            v = str(int(v))
        L.append("| " + " | ".join([v, _g(ds["Q"].values[i]), _g(ds["S_hat"].values[i]),
                                    _g(ds["S_gf_small"].values[i]), _g(float(ds["S_gf"][sl].mean())),
                                    _g(float(ds["sharpness"][sl].mean())), _g(float(ds["S_star"][sl].mean())),
                                    _g(float(ds["q_fraction"][sl].mean()), 3),
                                    f"{int(ds['converged'][sl].sum())}/{ds['converged'][sl].size}"]) + " |")
    return L


def _cfg(ds) -> dict:
    return json.loads(ds.attrs["symsharp"])


def _q_section(res) -> list:
    q = res["q"]
    ph = q["photo"]
    L = ["## 1. The data and how Q grows with N", "",
         "Two real two-class image sets ship inside scikit-learn and need no download (`symsharp.data.real`): the "
         "handwritten **digits** (8×8 pixels, d = 64; pairs 0/1 and 3/8, y = ±1) and **photo patches**: 32×32×3 "
         "patches (d = 3072, the size of a CIFAR-10 image) cut at random positions from the two colour photographs "
         "scikit-learn ships (`china.jpg`, y = +1; `flower.jpg`, y = −1). For one seed the sets are nested in N. "
         "Preprocessing (`--preprocess`): `scale01` (pixels / 255 or / 16, the loaders' default), `center` "
         "(subtract the per-pixel mean), `standardize` (per-pixel z-score; implies center), `unit-norm` (divide X "
         "by its average row norm). The experiments below use `standardize`.", "",
         f"`{COMMANDS['describe']}` prints N, d, rank, σ₁, Q and Ŝ_D for D = 2…5 (`--json` for the keys N, d, "
         "rank, sigma1, Q, S_hat).", "",
         "### Q against N", "",
         "Q = ‖X⁺y‖² = Σᵢ dᵢ²/σᵢ² (mean over data seeds " + ", ".join(map(str, SEEDS)) +
         " for `standardize`, seed 0 otherwise), and the exponent p of a least-squares fit Q ∝ N^p "
         f"over N = {PHOTO_NS[0]} … {PHOTO_NS[-1]}:", "",
         "| photo patches | " + " | ".join(f"N = {n}" for n in PHOTO_NS) + " | p |",
         "|---|" + "---|" * (len(PHOTO_NS) + 1)]
    for pp, g in ph.items():
        L.append(f"| {pp} | " + " | ".join(_g(v) for v in g["Q_mean"]) + f" | {_g(g['fit']['exponent'], 3)} |")
    st = ph["standardize"]
    spread = [f"{_g(min(r))}–{_g(max(r))}" for r in st["Q"]]
    L += ["", "Seed-to-seed range of Q (standardize): " + ", ".join(f"N = {n}: {s}" for n, s in zip(st["N"], spread))
          + ".", "",
          "| digits (standardize) | " + " | ".join(f"N = {n}" for n in DIGIT_NS) + " | p (interpolating N) |",
          "|---|" + "---|" * (len(DIGIT_NS) + 1)]
    for cl, g in q["digits"].items():
        L.append(f"| {cl.replace(',', '/')} | " + " | ".join(_g(v) for v in g["Q_mean"]) +
                 f" | {_g(g['fit']['exponent'], 3)} |")
    ranks = {cl: max(max(r) for r in g["rank"]) for cl, g in q["digits"].items()}
    L += ["", "On the photo patches (N ≪ d: every set is interpolated, y lies in the column space of X) Q grows "
          "steadily, by a power law close to N^" + _g(st["fit"]["exponent"], 2) + " for `standardize`. On the "
          f"digits the rank saturates at about {max(ranks.values())} (the 8×8 images have constant corner pixels), so "
          "beyond N ≈ 50 the labels are no longer interpolated, Q = ‖X⁺y‖² is that of the least-squares fit and stops "
          "growing (it even falls once the within-class variation is sampled well); the fit uses only the "
          "interpolating N.", "",
          _fig("q", "Q against N"), "",
          "**Q lives in small singular directions.** GD learns the component along singular direction i about "
          "(σ₁/σᵢ)² times more slowly than the top one, and natural images have a long tail of small σᵢ that carries "
          "most of Q:", "",
          "| photo patches (standardize) | rank | (σ₁/σ_min)² | share of Q with σᵢ < σ₁/30 | share with σᵢ < σ₁/100 |",
          "|---|---|---|---|---|"]
    for w in res["where"]:
        L.append(f"| N = {w['N']} | {w['rank']} | {_g(w['ratio2'], 3)} | {_g(w['share30'], 3)} "
                 f"({w['n30']} directions) | {_g(w['share100'], 3)} |")
    L += ["", "So the runs below need 10⁶–10⁷ GD steps (the chain model runs in SVD coordinates, about a "
          "microsecond per step at these ranks), and we report for every run the **fraction of Q learned**, "
          "‖Π_W β‖²/Q with β = u∏v (1 at a global minimum, where Π_W β = X⁺y). A run stopped earlier ends flatter "
          "than its minimum: the sharpness grows with the part of Q learned.", ""]
    return L


def _y7_section(res) -> list:
    n, dp, dd = res["N"], res["depth_photo"], res["depth_digits"]
    cn = _cfg(n)
    S = n["sharpness"].values[:, 0]
    L = ["## 2. Claim Y7 on real data: Q, depth and sharpness", "",
         "### Final sharpness against N", "",
         f"`{COMMANDS['N']}` (D = 2, init scale {cn['init_scale']}, η = {_g(cn['eta_frac'], 2)}·2/S_ref = "
         f"{_g(cn['eta'][0])}, {cn['steps']} GD steps; S_ref the largest small-start sharpness of the sweep):", ""]
    L += _sweep_table(n, "N", "N") + [""]
    ratio = S / n["S_hat"].values
    L += [f"The final sharpness rises with N ({', '.join(_g(s) for s in S)}) because Q does "
          f"(Q ∝ N^{_g(cn['Q_growth']['exponent'], 3)} over this sweep) while σ₁²/N stays nearly constant "
          f"({', '.join(_g(v) for v in n['sigma1'].values ** 2 / n['samples'].values)}): along N, **Y7's "
          "'larger Q, larger sharpness' holds on the photo patches**. Ŝ_2 is close to the exact small-start limit "
          f"here (ratio S/Ŝ_2 = {', '.join(_g(r, 3) for r in ratio)}): natural-image labels put d in the small "
          "singular directions, so d₁² ≪ Qσ₁² and the Y4 bracket [Ŝ_D, D·Ŝ_D] collapses to its lower end. "
          "The runs at the largest N have not learned all of Q (column 'Q learned') and end correspondingly "
          "below S*(C_final).", "",
          _fig("N", "final sharpness against N on photo patches"), "",
          "### Across preprocessings the claim fails", "",
          "Q is not scale invariant (X → cX gives Q → Q/c² but Ŝ_D → c^{2/D} Ŝ_D). The same images with three "
          "preprocessings, exact small-start sharpness S (D = 2):", "",
          "| data | N | preprocess | σ₁ | Q | Ŝ_2 | S (small start) |", "|---|---|---|---|---|---|---|"]
    for r in res["scale"]:
        L.append(f"| {r['kind']} | {r['N']} | {r['preprocess']} | {_g(r['sigma1'])} | {_g(r['Q'])} | "
                 f"{_g(r['S_hat'])} | {_g(r['S'])} |")
    rows = [r for r in res["scale"] if r["kind"] == "digits"]
    a = max(rows, key=lambda r: r["Q"])
    b = min(rows, key=lambda r: r["Q"])
    L += ["", f"On the digits, `{a['preprocess']}` has the largest Q ({_g(a['Q'])}) and "
          + ("the smallest" if a["S"] <= min(r["S"] for r in rows) else "not the largest")
          + f" sharpness ({_g(a['S'])}), `{b['preprocess']}` the smallest Q ({_g(b['Q'])}) and sharpness "
          f"{_g(b['S'])}: 'larger Q gives larger sharpness' only compares data of the same scale σ₁²/N "
          "(claim Y7-corrected: at fixed σ₁ and D).", "",
          "### Depth", "",
          "From a small start the exact sharpness at the GF limit is deeper-is-sharper iff Q > Q*_D (claim "
          "Y7-depth-exact; Q*_D ≤ 1 depends on σᵢ/σ₁ and the direction of d). Real data, standardised, exact "
          "small-start sharpness S_D against Ŝ_D:", "",
          "| data | N | Q | Q*_2, Q*_3, Q*_4 | S_2, S_3, S_4, S_5 (small start) | Ŝ_2, Ŝ_3, Ŝ_4, Ŝ_5 |",
          "|---|---|---|---|---|---|"]
    for r in res["depth_table"]:
        L.append(f"| {r['data']} | {r['N']} | {_g(r['Q'])} | {', '.join(_g(x, 3) for x in r['Q_star'])} | "
                 f"{', '.join(_g(x) for x in r['S'])} | {', '.join(_g(x) for x in r['S_hat'])} |")
    photo = [r for r in res["depth_table"] if r["data"] == "photo-patches"]
    qs = min(min(r["Q_star"]) for r in photo)
    mis = [r for r in res["depth_table"] if any((r["S"][k + 1] > r["S"][k]) != (r["S_hat"][k + 1] > r["S_hat"][k])
                                                 for k in range(3))]
    L += ["", f"On the photo patches Q*_D is within {_g(1 - qs, 2)} of 1 and S_D agrees with Ŝ_D, so Ŝ_D orders "
          "the depths correctly: **deeper is flatter while Q < 1 (N ≤ 100 here) and sharper once Q > 1** — Y7's "
          "'deeper networks give larger sharpness' fails on real data at small N exactly as on synthetic data. On "
          "the digits Q*_D is far below 1 and Ŝ_D underestimates S_D (up to "
          f"{_g(max(max(s / h for s, h in zip(r['S'], r['S_hat'])) for r in res['depth_table']), 2)}×); "
          f"in {len(mis)} of the {len(res['depth_table'])} data sets the order of Ŝ_D across depths differs from "
          "the order of the true sharpness (claim Y7-hat-order's counterexample occurs on real digits).", "",
          "GD confirms both (init scale 0.25, η = 0.8·2/S_ref):", "",
          f"`{COMMANDS['depth_photo']}`", ""]
    L += _sweep_table(dp, "depth", "D") + ["", _fig("depth_photo", "final sharpness against depth, photo patches"),
                                             "", f"`{COMMANDS['depth_digits']}`", ""]
    L += _sweep_table(dd, "depth", "D")
    Sp, Sd = dp["sharpness"].values[:, 0], dd["sharpness"].values[:, 0]
    L += ["", f"Photo patches, N = 50 (Q = {_g(dp['Q'].values[0])} < 1): final S "
          f"{', '.join(_g(s) for s in Sp)} for D = 2…5 — "
          + ("falling with depth" if np.all(np.diff(Sp) < 0) else "not monotone in depth")
          + f". Digits 0/1, N = 20 (Q = {_g(dd['Q'].values[0])}): final S {', '.join(_g(s) for s in Sd)} while Ŝ_D "
          f"falls ({', '.join(_g(s) for s in dd['S_hat'].values)}); the GD runs end at the GF limit from their own "
          "start (column S_gf same start), slightly off the small-start values because init scale 0.25 is not "
          "infinitesimal.", "", _fig("depth_digits", "final sharpness against depth, digits"), ""]
    return L


def _y8_section(res) -> list:
    e, b, el, eb = res["eta"], res["batch"], res["eta_large"], res["eta_budget"]
    ce = _cfg(e)
    L = ["## 3. Claim Y8 on real data: learning rate and batch size", "",
         f"From a small start (init scale {ce['init_scale']}), digits 0/1, N = {int(e['samples'].values[0])}, "
         f"D = 2, {ce['steps']} steps:", "", f"`{COMMANDS['eta']}`", ""]
    L += _sweep_table(e, "eta", "η") + ["", _fig("eta", "final sharpness against η, digits"), "",
                                        f"`{COMMANDS['batch']}` (η = 0.1·2/S_ref)", ""]
    L += _sweep_table(b, "batch", "B") + [""]
    Se = e["sharpness"].mean("seed").values
    Sb = b["sharpness"].mean("seed").values
    eta_ok = bool(np.all(np.diff(Se) <= 1e-9 * Se[:-1]))
    b_ok = bool(np.all(np.diff(Sb) >= -1e-9 * Sb[1:]))
    L += [f"Larger η: final sharpness {'never larger' if eta_ok else 'not monotone'} "
          f"({', '.join(_g(s) for s in Se)}); below the stability limit the change is small (GD drifts the imbalance "
          "C by O(η²) and S*(C) falls with C near 0), above it the run ends at the edge of stability with S ≈ 2/η. "
          f"Smaller B: {'flatter' if b_ok else 'not monotone'} ({', '.join(_g(s) for s in Sb)} for "
          f"B = {', '.join(str(int(x)) for x in b['batch'].values)}). **From a small start Y8 holds on the digits** "
          "(claims Y8-eta-small-start, Y8-final-from-C).", "", _fig("batch", "final sharpness against B, digits"), "",
          "**Where Y8's refutation occurs on real data.** (1) A large start (init scale 4, C₀ beyond the flattest "
          "imbalance): `" + COMMANDS["eta_large"] + "`", ""]
    L += _sweep_table(el, "eta", "η") + [""]
    Sl = el["sharpness"].values[:, 0]
    Cl = el["C"].values[:, 0, 0]
    conv = el["converged"].values[:, 0].astype(bool)
    L += [f"Converged runs: S = {', '.join(_g(s) for s, c in zip(Sl, conv) if c)} with final C = "
          f"{', '.join(_g(c, 4) for c, k in zip(Cl, conv) if k)}: "
          + ("larger η gives a *sharper* minimum" if np.all(np.diff(Sl[conv]) > 0) else "not sharper with η")
          + " — GD pushes C further past the flattest imbalance, as in Y8's synthetic counterexample 1. "
          "(2) A finite budget on photo patches (N = 50, 10⁶ steps): `" + COMMANDS["eta_budget"] + "`", ""]
    L += _sweep_table(eb, "eta", "η")
    Sbud = eb["sharpness"].values[:, 0]
    qf = eb["q_fraction"].values[:, 0]
    L += ["", f"The small-η run has learned only {_g(qf[0], 3)} of Q and ends at S = {_g(Sbud[0])}, the large-η run "
          f"{_g(qf[1], 3)} of Q and S = {_g(Sbud[1])}: at a fixed number of steps a larger η ends *sharper* because "
          "it gets further into the small singular directions — on real data Y8 is a statement about converged "
          "runs only.", ""]
    eos = res["eos"]
    s = json.loads(eos.attrs["summary"])
    ceos = _cfg(eos)
    L += ["## 4. The edge of stability on real data", "",
          f"`{COMMANDS['eos']}`: D = 2, digits 3/8, N = {ceos['samples']}, init scale {ceos['init_scale']}, "
          f"2/η = S_min + 0.3·(S*(0) − S_min) = {_g(s['two_over_eta'])} below the small-start GF limit "
          f"S*(0) = {_g(s['S_balanced'])} (S_min = {_g(s['S_min'])}, the flattest minimum, at C = {_g(s['C_opt'])}); "
          f"{ceos['steps']} steps. The sharpness rises to 2/η (maximum {_g(s['max_sharpness'])}) and stays there "
          f"(mean over the last 20 %: {_g(s['late_sharpness_over_2_eta'], 4)}·2/η) while C grows from "
          f"{_g(s['C_start'], 3)} to {_g(s['C_end'], 3)}, S*(C) falls to 2/η and the loss reaches "
          f"{_g(s['final_loss'], 2)}.", "", _fig("eos", "edge of stability, digits"), ""]
    return L


def _y10_table(ds) -> list:
    L = ["| arch | data | N | Q | Ŝ_D | S_gf | S₀ (init) | S after training | η·S | steps | used |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for a in ds.arch.values:
        for j, lab in enumerate(ds.data.values):
            sl = {"arch": a, "data": lab}
            used = bool(ds["used"].sel(sl))
            L.append(f"| {a} | {ds['source'].values[j]} | {int(ds['N'].values[j])} | {_g(ds['Q'].values[j])} | "
                     f"{_g(ds['S_hat'].sel(sl))} | {_g(ds['S_gf'].sel(sl))} | {_g(ds['sharpness0'].sel(sl))} | "
                     f"{_g(ds['sharpness'].sel(sl))} | "
                     f"{_g(ds['eta_sharpness'].sel(sl), 3)} | {int(ds['steps'].sel(sl))} | "
                     f"{'yes' if used else 'no (' + str(ds['stop_reason'].sel(sl).item()) + ')'} |")
    return L


def _corr_table(ds) -> list:
    L = ["| arch | group | Pearson | Spearman | Pearson of logs | Pearson with S_gf | runs |",
         "|---|---|---|---|---|---|---|"]
    for a in ds.arch.values:
        for g in ds.group.values:
            sl = {"arch": a, "group": g}
            L.append(f"| {a} | {g} | {_g(ds['pearson'].sel(sl), 3)} | {_g(ds['spearman'].sel(sl), 3)} | "
                     f"{_g(ds['pearson_log'].sel(sl), 3)} | {_g(ds['pearson_gf'].sel(sl), 3)} | "
                     f"{int(ds['n_used'].sel(sl))} |")
    return L


def _y10_section(res) -> list:
    ds, lz, nr = res["y10"], res["y10_lazy"], res["y10_narrow"]
    cfg = _cfg(ds)["config"]
    L = ["## 5. Claim Y10: wide networks", "",
         f"`{COMMANDS['y10']}` trains a deep linear network of depth 5 and a tanh network of depth 4, width "
         f"{cfg['width']}, standard parameterisation with init scale {cfg['init_scale']} (W_l ~ N(0, g²/fan_in)), "
         "by **constant-η full-batch GD** with η = " + f"{cfg['eta_frac']}" + "·2/max(S₀, S_gf) fixed before "
         "training (S₀ the measured initial sharpness, S_gf the chain model's exact small-start sharpness of the "
         f"data), until the loss is {cfg['loss_tol']:g} (at most {cfg['max_steps']} steps), on standardised "
         "digits 0/1 (N = 8, 12, 16, 20) and 32×32×3 photo patches (d = 3072; N = 8, 12, 16). The sharpness is the "
         "loss-Hessian λ_max by Lanczos with exact Hessian-vector products (Pearlmutter's R-operator; tested against "
         "finite differences and a dense Hessian in `tests/test_widenets.py` and `tests/test_y10.py`). Runs that "
         "do not reach the loss or end with η·S > " + f"{cfg['eos_limit']}" + " (edge of stability) are left out "
         "of the correlations.", ""]
    L += _y10_table(ds) + ["", "Correlation of S with Ŝ_D over the used runs (group 'all': both sources; within a "
                                "source the varied quantity is N, and with it Q):", ""]
    L += _corr_table(ds) + ["", _fig("y10", "Y10 scatter, small start"), "",
                            f"**From a lazy start** (`{COMMANDS['y10_lazy']}`, digits only here): the same networks "
                            "with the variance-preserving init scale g = 1:", ""]
    L += _y10_table(lz) + [""] + _corr_table(lz) + ["", _fig("y10_lazy", "Y10 scatter, lazy start"), "",
                                                    f"**A narrow tanh network** (width 32, small start; the tanh digit runs of `{COMMANDS['y10_narrow']}`):", ""]
    L += _y10_table(nr) + [""] + _corr_table(nr) + ["", _fig("y10_narrow", "Y10 scatter, tanh at width 32"), ""]
    L += ["**What we find** (the claim checkers, run on the results above):", ""]
    for cid, key in (("Y10", "y10_outcome"), ("Y10-rich", "y10_rich_outcome"), ("Y10-width", "y10_width_outcome")):
        o = res[key]
        L += [f"- `{cid}`: **{o.status}** — {o.method}", ""]
    L += ["So Ŝ_D tracks the sharpness of wide networks trained from a **small start**: the deep linear network "
          "learns the nearly rank-one, balanced solution of the chain model and its sharpness lies in the chain "
          "model's bracket [Ŝ_5, 5·Ŝ_5] (on the digits Ŝ_D orders the data sets but is several times too small; "
          "the exact chain value S_gf is closer); a tanh network with a small start does the same once it is wide "
          "enough to stay in the near-linear range of tanh. From a **lazy start** the networks hardly move, their "
          "sharpness stays near its initial value, tens of times Ŝ_D, and does not follow Ŝ_D within a source. A "
          "correlation over data sets of *different* sources is high for every architecture because σ₁²/N differs "
          "by an order of magnitude between the sources: a between-source Pearson correlation says little about "
          "tracking.", "",
          "**Constant η versus the adaptive step.** Every run here uses one constant η (plain GD), chosen below "
          "the stability limit at the start and at the predicted end. The wide-network engine also offers the "
          "sharpness-adaptive step η = c/S(θ) re-measured during training (`--eta-rule adaptive`), which keeps "
          "η·S = c < 2 throughout: a gradient-flow-like schedule that never reaches the edge of stability and so "
          "isolates the GF limit — it is not constant-η GD. With a constant η a run whose sharpness would exceed "
          "2/η ends at the edge of stability instead (S ≈ 2/η, unrelated to Ŝ_D); such runs are excluded above. "
          f"`symsharp experiment y10 --config full` runs width 256 on digits 0/1 and 3/8 (N = 10…40) and the photo "
          "patches (N = 8…20) in about four minutes; it is not regenerated here.", ""]
    return L


def _paper_section(res) -> list:
    ph = res["q"]["photo"]
    idx = [PHOTO_NS.index(n) for n in PHOTO_NS if n in PAPER_NS]
    L = ["## 6. Comparison with the numbers the paper reports", "",
         "| Q at N = 100 / 300 / 1000 | source | preprocessing |", "|---|---|---|"]
    for name, vals in PAPER_Q.items():
        L.append(f"| {' / '.join(_g(v) for v in vals)} | paper, {name} (two-class subset) | not stated |")
    for pp, g in ph.items():
        L.append(f"| {' / '.join(_g(g['Q_mean'][i]) for i in idx)} | ours, photo patches 32×32×3 | {pp}"
                 + (" (mean of seeds " + ", ".join(map(str, g["seeds"])) + ")" if len(g["seeds"]) > 1 else "")
                 + " |")
    st = ph["standardize"]
    pc = np.polyfit(np.log(PAPER_NS), np.log(PAPER_Q["CIFAR-10"]), 1)[0]
    L += ["", f"Growth: the paper's CIFAR-10 numbers grow like N^{_g(pc, 3)} between N = 100 and 1000, ours "
          f"(`standardize`) like N^{_g(st['fit']['exponent'], 3)} over N = {PHOTO_NS[0]}…{PHOTO_NS[-1]}. The "
          "magnitude of Q depends on the scale of X (Q ∝ 1/c² for X → cX) and on how y is coded, so only "
          "preprocessings of the same scale are comparable: per-pixel standardisation gives values of the paper's "
          "order at N = 1000, pixels in [0, 1] give far larger Q (the mean pixel direction dominates σ₁), unit "
          "average row norm larger still. Other differences: our images are patches of two photographs "
          "(one photograph per class, overlapping patches), not CIFAR-10 classes; labels ±1; the paper's "
          "preprocessing, labels and class pair are not stated in the summary we have.", "",
          "| correlation | paper | ours (reduced, width " + f"{_cfg(res['y10'])['config']['width']}" + ") |",
          "|---|---|---|"]
    ds = res["y10"]
    for a, (v, what) in PAPER_CORR.items():
        groups = [str(g) for g in ds.group.values]
        ours = "; ".join(f"{g}: {_g(ds['pearson'].sel(arch=a, group=g), 3)}" for g in groups)
        L.append(f"| {a} | {v} ({what}) | {ours} |")
    L += ["", f"Differences: width {_cfg(res['y10'])['config']['width']} instead of 1024–2048, tiny data sets "
          "(N ≤ 20) so that every run reaches a low loss with constant-η GD within the time of this document, real "
          "images shipped with scikit-learn instead of CIFAR-10/SVHN, standard parameterisation with init scale "
          "0.3. The paper's initialisation, step size and what it varied across its data sets are not in the "
          "summary we have; our finding is that the answer depends on the initialisation (small vs lazy start) and, "
          "for tanh, on the width.", ""]
    return L


def real_markdown() -> str:
    """The text of ``derivations/chain_real.md``."""
    res = real_results()
    L = ["# The chain model on real data: Q, the minimalist experiments and claim Y10", "",
         "*Generated by `symsharp write-derivations` (module `symsharp.models.chain.report_real`); do not edit by "
         "hand. Every number below is computed when the document is generated (seeded; one BLAS thread).*", "",
         "Sharpness is always the top eigenvalue of the loss Hessian. Chain-model runs: GD/SGD in SVD coordinates "
         "with the exact arrowhead eigensolver (`symsharp.models.chain.dynamics`); overlays: Ŝ_D = σ₁²/N·Q^{(D−1)/D}, "
         "the exact sharpness S_gf of the gradient-flow limit from a small start (all C_k = 0) and from the run's "
         "own start, and S*(C_final), the exact sharpness of the minimum with the run's final imbalances (equal to "
         "the final sharpness of a converged run).", ""]
    L += _q_section(res) + _y7_section(res) + _y8_section(res) + _y10_section(res) + _paper_section(res)
    return "\n".join(L).rstrip() + "\n"


def real_documents() -> dict:
    """``{"chain_real.md": text}`` for ``derivations/``."""
    return {DOCUMENT: real_markdown()}
