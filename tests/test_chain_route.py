"""GD on the chain model beyond the edge of stability (symsharp.models.chain.route) against independent
computations: the flattest minimum by brute force and a numpy Hessian, the rank-one flips by mpmath
Newton on the 1-D map, flips and the loss of the attractor by GD runs of the hand-written kernel."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from symsharp.models.chain.route import (ROUTE_DATA, ChainRouteError, chain_route, flattest_minimum, gd_period,
                                         minimum_sharpness, one_d_flips, route_data)
from symsharp.models.chain.symbolic import full_hessian

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name,depth", [("rank2", 2), ("rank3", 3)])
def test_flattest_minimum_by_brute_force(name, depth):
    X, y = route_data(name)
    fm = flattest_minimum(X, y, depth)
    # a grid over log w (independent of the optimiser) never goes below S*, and comes close to it
    g = np.linspace(-3, 3, 241)
    grids = np.meshgrid(*([g] * (depth - 1)), indexing="ij")
    W = np.exp(np.stack([a.ravel() for a in grids], axis=1))
    S = np.array([minimum_sharpness(fm["sigma"], fm["d"], w, fm["N"]) for w in W[::7]])
    assert S.min() >= fm["S_star"] * (1 - 1e-12)
    assert S.min() <= fm["S_star"] * (1 + 1e-2)
    # the state is a global minimum of the loss, and a dense numpy Hessian there has top eigenvalue S*
    from symsharp.data import svd_coordinates

    E, s, Wr = svd_coordinates(X)
    u = Wr @ fm["z"]
    assert np.allclose(X @ u * np.prod(fm["v"]), X @ np.linalg.pinv(X) @ y, atol=1e-12)
    assert np.linalg.eigvalsh(full_hessian(X, y, u, fm["v"]))[-1] == pytest.approx(fm["S_star"], rel=1e-10)


def test_unknown_data_set_is_one_line():
    with pytest.raises(ChainRouteError, match="unknown route data set"):
        route_data("rank9")


@pytest.fixture(scope="module")
def r1d3():
    return chain_route("rank1", 3)


@pytest.fixture(scope="module")
def r2d2():
    return chain_route("rank2", 2)


def test_rank_one_flips_equal_the_one_d_maps(r1d3):
    ref = [float(h) for h in one_d_flips(3, count=6)]
    assert ref[0] == pytest.approx(2.0, abs=1e-20)
    np.testing.assert_allclose(r1d3.flips[:6], ref, rtol=0, atol=1e-10)
    assert r1d3.flip_periods == [2 ** j for j in range(len(r1d3.flips))]


def test_first_flip_and_the_multiplier_minus_one(r2d2):
    # the first flip sits at h = 2 on the flattest minimum: at η = 2/S* the GD Jacobian there,
    # I − η·H with H a dense numpy Hessian, has the eigenvalue −1
    assert r2d2.flips[0] == pytest.approx(2.0, abs=1e-9)
    X, y = route_data("rank2")
    fm = r2d2.minimum
    from symsharp.data import svd_coordinates

    E, s, W = svd_coordinates(X)
    H = full_hessian(X, y, W @ fm["z"], fm["v"])
    mu = np.linalg.eigvalsh(np.eye(H.shape[0]) - (2.0 / fm["S_star"]) * H)
    assert mu[0] == pytest.approx(-1.0, abs=1e-10)


def test_gd_runs_bracket_every_flip(r2d2):
    X, y = route_data("rank2")
    fm = r2d2.minimum
    z0, v0 = fm["z"] * 1.02, fm["v"] * 1.02
    for j in range(4):
        lo, hi = r2d2.flips[j], r2d2.flips[j + 1]
        p, _ = gd_period(X, y, 2, (lo + 0.5 * (hi - lo)) / fm["S_star"], z0, v0, max_period=64)
        assert p == 2 ** (j + 1), j
    # beyond the onset: no period up to 64 at a point where the engine's Lyapunov exponent is largest
    ly = r2d2.checks["lyapunov_above_onset"]
    assert ly["max"] > 0.1
    p, _ = gd_period(X, y, 2, ly["h_max"] / fm["S_star"], z0, v0, max_period=64)
    assert p == 0


def test_feigenbaum_ratios_and_onset(r2d2, r1d3):
    for r in (r2d2, r1d3):
        d = np.array(r.deltas)
        assert abs(d[-1] - 4.669201609) < 5e-3 and np.all(np.abs(np.diff(d[-3:])) < 0.01)
        assert r.flips[-1] < r.onset < r.flips[-1] + 2 * (r.flips[-1] - r.flips[-2])


@pytest.mark.parametrize("which", ["r2d2", "r1d3"])
def test_how_the_attractor_is_lost(which, request):
    """Just above the located loss, GD with the hand-written kernel diverges (D = 2) or ends with zero
    output and zero gradient (D = 3); just below, it stays bounded with nonzero output."""
    from symsharp.models.chain.dynamics import run_chain
    from symsharp.data import svd_coordinates

    r = request.getfixturevalue(which)
    X, y = route_data(r.name)
    E, s, W = svd_coordinates(X)
    fm = r.minimum
    h_lost = r.crisis["bracket"][1]
    up = run_chain(X, y, r.depth, (h_lost + 0.05) / fm["S_star"], 200_000, record_every=200_000,
                   u0=W @ fm["z"] * 1.02, v0=fm["v"] * 1.02, threshold=1e8)
    if r.depth == 2:
        assert r.crisis["kind"] == "divergence" and up.diverged_at is not None
    else:
        assert r.crisis["kind"].startswith("zero output") and up.diverged_at is None
        v = up.final_v
        assert np.sum(np.abs(v) < 1e-3) >= 2                       # two vanishing factors: a critical point
        assert up.records["loss"][-1] == pytest.approx(np.sum(y ** 2) / (2 * len(y)), rel=1e-3)


def test_route_figures_exist():
    for D in (2, 3):
        p = ROOT / "derivations" / "figures" / f"chain_route_D{D}.png"
        assert p.exists() and p.stat().st_size > 10_000


def test_route_data_sets_have_the_stated_ranks():
    for k, name in enumerate(ROUTE_DATA, start=1):
        X, _ = route_data(name)
        assert np.linalg.matrix_rank(X) == k
