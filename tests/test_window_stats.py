"""The compiled window statistics of the scans (period, mismatch, escape, drift) against a plain
NumPy reading of their definitions, point by point, on periodic, drifting, escaping, chaotic and
degenerate windows drawn by Hypothesis."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from symsharp.dynamics.pointwork import window_stats

from hypothesis_budget import examples


def reference(rec, ref, max_period, tol, escape_factor):
    """One point: rec (R, k), ref (k,) -> (period, mismatch, escape, drift), by the definitions."""
    R, k = rec.shape
    if not np.all(np.abs(rec) <= 1e300) or not np.isfinite(np.abs(rec).sum()) or np.abs(rec).sum() > 1e300:
        return 0, np.inf, False, False
    pmax = min(max_period, R // 2)
    q = max(1, R // 4)
    scale = np.maximum(np.where(np.abs(ref) <= 1e300, np.abs(ref), 0.0), np.abs(rec).max(axis=0))
    lim = tol * scale
    escape = np.abs(rec[R - q:]).max() > escape_factor * max(np.abs(rec[:q]).max(), 2.2250738585072014e-308)
    for p in range(1, pmax + 1):
        if np.all(np.abs(rec[p:] - rec[:-p]) <= lim):
            drift = any(np.any(np.abs(rec[t + p * ((R - 1 - t) // p)] - rec[t]) > lim) for t in range(p))
            return p, 0.0, escape, drift
    best = np.inf
    for p in range(1, pmax + 1):
        d = np.abs(rec[p:] - rec[:-p])
        m = max((float((d[:, j] / scale[j]).max()) for j in range(k) if scale[j] > 0), default=0.0)
        best = min(best, m)
    return 0, best, escape, False


def _window(kind, R, k, period, rng):
    t = np.arange(R)[:, None]
    if kind == "cycle":
        base = rng.standard_normal((period, k))
        return base[t[:, 0] % period]
    if kind == "drifting":
        base = rng.standard_normal((period, k))
        return base[t[:, 0] % period] * (1 + 1e-3 * t / R)
    if kind == "escaping":
        return rng.standard_normal((R, k)) * np.exp(t / 8.0)
    if kind == "chaotic":
        x = np.empty((R, k))
        x[0] = rng.uniform(0.1, 0.9, k)
        for i in range(1, R):
            x[i] = 3.99 * x[i - 1] * (1 - x[i - 1])
        return x
    if kind == "zero-variable":
        x = rng.standard_normal((R, k))
        x[:, 0] = 0.0
        return x
    if kind == "non-finite":
        x = rng.standard_normal((R, k))
        x[R // 2, k - 1] = np.inf
        return x
    return rng.standard_normal((R, k))


KINDS = ("cycle", "drifting", "escaping", "chaotic", "zero-variable", "non-finite", "noise")


@settings(max_examples=examples(60), deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), R=st.integers(2, 80), k=st.integers(1, 3), B=st.integers(1, 150),
       max_period=st.integers(1, 40), tol=st.sampled_from([0.0, 1e-8, 1e-3]))
def test_window_stats_match_their_definitions(seed, R, k, B, max_period, tol):
    rng = np.random.default_rng(seed)
    kinds = rng.choice(KINDS, size=B)
    periods = rng.integers(1, 12, size=B)
    rec = np.stack([_window(kd, R, k, int(p), rng) for kd, p in zip(kinds, periods)], axis=2)  # (R, k, B)
    ref = np.abs(rng.standard_normal((k, B))) * rng.choice([0.0, 1.0], size=(k, B))
    per, mis, esc, drift = window_stats(rec, ref, max_period, tol, 4.0)
    for b in range(B):
        want = reference(rec[:, :, b], ref[:, b], max_period, tol, 4.0)
        got = (int(per[b]), float(mis[b]), bool(esc[b]), bool(drift[b]))
        assert got == want, (b, kinds[b], periods[b], got, want)


def test_window_stats_find_the_period_of_a_cycle_and_not_of_chaos():
    rng = np.random.default_rng(3)
    R = 64
    cyc = _window("cycle", R, 2, 5, rng)
    cha = _window("chaotic", R, 2, 1, rng)
    per, mis, _, _ = window_stats(np.stack([cyc, cha], axis=2), np.zeros((2, 2)), 16, 1e-9, 4.0)
    assert per.tolist() == [5, 0]
    assert mis[0] == 0.0 and 0.05 < mis[1] <= 1.0


def test_fused_window_kernel_is_tangent_run_plus_statistics_bit_for_bit():
    """`CompiledMap.window` (tangent steps and statistics fused per tile, records kept in cache) gives
    exactly the states, tangent vectors, Lyapunov sums, divergence steps and statistics of a recorded
    tangent run followed by `window_stats`, for every tile size (points that diverged have no
    statistics)."""
    from symsharp.dynamics.pointwork import tangent_vectors
    from symsharp.models import get_model

    uv = get_model("uv").make_system()
    k = uv.kernel
    rng = np.random.default_rng(3)
    G = 1500
    x0, P, _ = uv.prepare({"eta": rng.uniform(1, 22, G), "lam0": rng.uniform(0.01, 0.3, G), "f0": 0.0})
    x = k.iterate(x0, P, steps=300).x
    V = tangent_vectors(x0, P)
    ref = np.abs(x0).T.copy()
    xo, vo, acc, d, at, rec = k.tangent(x, P, V, steps=96, record=True)
    stats = window_stats(np.moveaxis(rec, 1, 2), ref, 40, 1e-7, 1e3)
    assert 0 < d.sum() < G and len(np.unique(stats[0][~d])) >= 4  # diverging, converging, cycles, chaos
    ok = ~d
    for tile in (1, 13, 64, 128, 4096):
        out_rec = np.empty((96, 2, G))
        r = k.window(x, P, V, 96, ref, 40, 1e-7, 1e3, tile=tile, out_records=out_rec)
        assert np.array_equal(r[3], d) and np.array_equal(r[4], at)
        for a, b in zip((xo, vo, acc) + tuple(stats), r[:3] + r[5:]):
            assert np.array_equal(a[ok], b[ok])
        assert np.array_equal(np.moveaxis(out_rec, 2, 1)[:, ok], rec[:, ok])


def test_scans_give_the_same_answer_through_the_fused_and_the_batched_window(monkeypatch):
    """Big scans run their windows in the fused kernel, small ones as a recorded tangent run plus
    `window_stats`: a phase diagram (converging, catapult, cycles, chaos, divergence, settling) and
    an orbit diagram with kept values must not depend on which."""
    import symsharp.dynamics.points as points
    from symsharp.dynamics import orbit, phase
    from symsharp.models import get_model

    uv = get_model("uv").make_system()
    grid = {"eta": "1:20:24", "lam0": "0.01:0.3:9", "f0": 0.0}
    runs = []
    for threshold in (0, 10 ** 9):
        monkeypatch.setattr(points, "FUSED_MIN_POINTS", threshold)
        runs.append((phase(uv, grid, transient=300, keep=64),
                     orbit(uv, {"eta": "8:20:40", "lam0": 0.1, "f0": 0.0}, transient=300, keep=64)))
    (pf, of), (pb, ob) = runs
    assert len(np.unique(pf["regime"].values)) >= 4
    for a, b in ((pf, pb), (of, ob)):
        assert set(a.data_vars) == set(b.data_vars)
        for name in a.data_vars:
            assert np.array_equal(a[name].values, b[name].values, equal_nan=a[name].dtype.kind == "f"), name
