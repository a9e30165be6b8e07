"""Real data shipped by scikit-learn (digits, photo patches): loaders, preprocessing, Q, errors.

Every number is checked against an independent computation: the images scikit-learn returns,
``numpy.linalg.pinv`` for Q, NumPy means / norms for the preprocessing invariants."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from symsharp.data import (KINDS, PREPROCESS_STEPS, DataError, data_summary, describe_data, load_digits_pair,
                           load_photo_patches, make_dataset, parse_preprocess, preprocess, q_growth,
                           synthetic_dataset)
from symsharp.errors import SymsharpError

sk = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def digits():
    b = sk.load_digits()
    return b.data.astype(float), b.target


@pytest.fixture(scope="module")
def photos():
    b = sk.load_sample_images()
    names = [str(f).replace("\\", "/").rsplit("/", 1)[-1] for f in b.filenames]
    return [np.asarray(b.images[names.index(n)]) for n in ("china.jpg", "flower.jpg")]


def pinv_Q(X, y):
    return float(np.linalg.norm(np.linalg.pinv(X) @ y) ** 2)


# ----------------------------------------------------------------------------- digits

def test_kinds_include_the_real_sources():
    assert {"digits", "photo-patches"} <= set(KINDS)
    assert {"gaussian", "spectrum", "image"} <= set(KINDS)


@pytest.mark.parametrize("classes, a, b", [("0,1", 0, 1), ("3,8", 3, 8), ((7, 2), 7, 2)])
def test_digits_rows_are_the_images_of_the_two_classes(digits, classes, a, b):
    Xall, t = digits
    ds = make_dataset("digits", samples=41, classes=classes, seed=3, preprocess="none")
    assert ds.X.shape == (41, 64) and ds.y.shape == (41,) and ds.d == 64
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.float64
    idx = ds.meta["indices"]
    np.testing.assert_array_equal(ds.X, Xall[idx])                      # raw pixels 0 … 16
    np.testing.assert_array_equal(t[idx][ds.y > 0], a)
    np.testing.assert_array_equal(t[idx][ds.y < 0], b)
    assert len(set(idx.tolist())) == 41                                 # no image twice
    assert sorted(ds.meta["class_counts"]) == [20, 21] and (ds.y > 0).sum() == 21
    assert ds.meta["classes"] == [a, b] and ds.meta["kind"] == "digits"


def test_digits_default_scaling_and_determinism(digits):
    a = make_dataset("digits", samples=30, seed=1)
    b = make_dataset("digits", samples=30, seed=1)
    c = make_dataset("digits", samples=30, seed=2)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.meta["indices"], c.meta["indices"])
    assert a.meta["preprocess"] == ["scale01"] and a.meta["pixel_range"] == [0.0, 16.0]
    np.testing.assert_allclose(a.X, digits[0][a.meta["indices"]] / 16.0, rtol=0, atol=0)
    assert a.X.min() >= 0 and a.X.max() <= 1


def test_digits_subsets_are_nested_across_N():
    small = load_digits_pair("3,8", samples=20, seed=5)
    big = load_digits_pair("3,8", samples=60, seed=5)
    assert set(small.meta["indices"].tolist()) <= set(big.meta["indices"].tolist())


def test_digits_all_images_when_samples_is_none(digits):
    t = digits[1]
    ds = load_digits_pair("0,1")
    assert ds.N == int(np.sum(t == 0) + np.sum(t == 1))
    with pytest.raises(DataError, match=f"more than the {ds.N} available"):
        make_dataset("digits", samples=ds.N + 1)


# ----------------------------------------------------------------------------- photo patches

@pytest.mark.parametrize("patch", [32, 8, 5])
def test_photo_patches_are_cut_from_the_photographs(photos, patch):
    ds = make_dataset("photo-patches", samples=24, patch=patch, seed=7, preprocess="none")
    assert ds.X.shape == (24, 3 * patch * patch) and ds.meta["image_shape"] == [patch, patch, 3]
    pos = ds.meta["positions"]
    assert pos.shape == (24, 3)
    for row, (img, top, left), label in zip(ds.X, pos, ds.y):
        assert 0 <= top <= 427 - patch and 0 <= left <= 640 - patch
        want = photos[img][top:top + patch, left:left + patch, :].reshape(-1).astype(float)
        np.testing.assert_array_equal(row, want)
        assert label == (1.0 if img == 0 else -1.0)                     # china +1, flower −1
    assert (ds.y > 0).sum() == 12
    assert len({tuple(p) for p in pos.tolist()}) == 24                  # distinct positions


def test_photo_patches_default_is_cifar_sized_and_deterministic():
    a = make_dataset("photo-patches", samples=10, seed=0)
    b = load_photo_patches(samples=10, seed=0)
    c = load_photo_patches(samples=10, seed=1)
    assert a.d == 3072 and a.meta["patch"] == 32
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.meta["positions"], c.meta["positions"])
    assert a.X.min() >= 0 and a.X.max() <= 1 and a.meta["pixel_range"] == [0.0, 255.0]
    assert make_dataset("photo-patches", samples=4, dim=192).meta["patch"] == 8      # dim = 3·patch²


def test_photo_positions_are_nested_across_N():
    small = load_photo_patches(samples=10, patch=8, seed=2).meta["positions"]
    big = load_photo_patches(samples=40, patch=8, seed=2).meta["positions"]
    assert {tuple(p) for p in small.tolist()} <= {tuple(p) for p in big.tolist()}


# ----------------------------------------------------------------------------- preprocessing

def _check_invariants(X, raw, steps, pixel_max):
    """X against an independent reconstruction from the raw pixels, plus the invariants."""
    Xs = raw / pixel_max if "scale01" in steps else raw.copy()
    if "center" in steps:
        Xs = Xs - Xs.mean(0)
        np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-12 * max(1.0, np.abs(X).max()))
    if "standardize" in steps:
        sd = Xs.std(0)
        live = sd > 1e-12 * sd.max()
        Xs[:, live] /= sd[live]
        Xs[:, ~live] = 0.0
        assert np.all(X[:, ~live] == 0)
        sdX = X[:, live].std(0)              # all equal: 1, or 1/(average row norm) after unit-norm
        np.testing.assert_allclose(sdX, sdX[0], rtol=1e-10)
        if "unit-norm" not in steps:
            assert sdX[0] == pytest.approx(1.0, rel=1e-12)
    if "unit-norm" in steps:
        assert np.mean(np.linalg.norm(X, axis=1)) == pytest.approx(1.0, rel=1e-12)
        Xs = Xs / np.mean(np.linalg.norm(Xs, axis=1))
    np.testing.assert_allclose(X, Xs, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(Xs).max()))


@given(steps=st.sets(st.sampled_from(PREPROCESS_STEPS)), samples=st.integers(3, 60), seed=st.integers(0, 10),
       pair=st.sampled_from(["0,1", "3,8", "4,9"]))
def test_digits_preprocessing_invariants(steps, samples, seed, pair):
    ds = make_dataset("digits", classes=pair, samples=samples, seed=seed, preprocess=sorted(steps) or "none")
    raw = make_dataset("digits", classes=pair, samples=samples, seed=seed, preprocess="none").X
    applied = ds.meta["preprocess"]
    want = set(steps) | ({"center"} if "standardize" in steps else set())
    assert applied == [s for s in PREPROCESS_STEPS if s in want]      # canonical order
    _check_invariants(ds.X, raw, applied, 16.0)


@pytest.mark.parametrize("spec", ["scale01,center,unit-norm", "standardize", "center", "unit-norm"])
def test_photo_preprocessing_invariants(spec):
    ds = make_dataset("photo-patches", samples=30, patch=6, seed=4, preprocess=spec)
    raw = make_dataset("photo-patches", samples=30, patch=6, seed=4, preprocess="none").X
    _check_invariants(ds.X, raw, ds.meta["preprocess"], 255.0)


def test_preprocessing_order_is_canonical_and_standardize_implies_center():
    assert parse_preprocess("unit-norm, center") == ["center", "unit-norm"]
    assert parse_preprocess(["standardise"]) == ["center", "standardize"]
    assert parse_preprocess("none") == [] and parse_preprocess(None) == ["scale01"]
    a = make_dataset("digits", samples=20, preprocess="unit-norm,center")
    b = make_dataset("digits", samples=20, preprocess=("center", "unit-norm"))
    np.testing.assert_array_equal(a.X, b.X)
    X, info = preprocess(np.array([[1.0, 2.0], [3.0, 2.0]]), "standardize")
    np.testing.assert_array_equal(X, [[-1.0, 0.0], [1.0, 0.0]])
    assert info["constant_features"] == 1


def test_synthetic_kinds_unchanged_and_optionally_preprocessed():
    a = make_dataset("image", samples=12, dim=48, seed=3, Q=2.0, noise=0.1)
    b = synthetic_dataset("image", samples=12, dim=48, seed=3, Q=2.0, noise=0.1)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert "preprocess" not in a.meta and make_dataset("gaussian").d == 10
    c = make_dataset("gaussian", samples=15, dim=6, seed=1, preprocess="center", Q=3.0)
    np.testing.assert_allclose(c.X.mean(0), 0, atol=1e-14)
    assert pinv_Q(c.X, c.y) == pytest.approx(3.0, rel=1e-9)


# ----------------------------------------------------------------------------- Q and describe

@pytest.mark.parametrize("kind, kw", [("digits", {"classes": "0,1", "samples": 40}),
                                      ("digits", {"classes": "3,8", "samples": 90, "preprocess": "standardize"}),
                                      ("photo-patches", {"samples": 30, "patch": 8, "preprocess": "center"}),
                                      ("photo-patches", {"samples": 40}),
                                      ("photo-patches", {"samples": 40, "preprocess": "scale01,center,unit-norm"})])
def test_Q_from_the_loaders_matches_pinv(kind, kw):
    ds = make_dataset(kind, seed=2, **kw)
    Q = pinv_Q(ds.X, ds.y)
    info = describe_data(ds.X, ds.y)
    assert set(info) == {"N", "d", "rank", "sigma1", "Q", "S_hat"}
    assert info["Q"] == pytest.approx(Q, rel=1e-7)
    assert ds.meta["Q"] == pytest.approx(Q, rel=1e-7)
    s1 = np.linalg.svd(ds.X, compute_uv=False)[0]
    assert info["sigma1"] == pytest.approx(s1, rel=1e-12)
    assert info["rank"] == np.linalg.matrix_rank(ds.X, tol=1e-12 * s1)
    assert sorted(info["S_hat"]) == [2, 3, 4, 5]
    for D, v in info["S_hat"].items():
        assert v == pytest.approx(s1 ** 2 / ds.N * Q ** ((D - 1) / D), rel=1e-7)
    back = json.loads(json.dumps(info))
    assert back["S_hat"]["5"] == pytest.approx(info["S_hat"][5])


def test_real_data_with_target_Q_and_noise():
    ds = make_dataset("digits", samples=30, Q=2.5, noise=0.2, seed=1)
    assert pinv_Q(ds.X, ds.y) == pytest.approx(2.5, rel=1e-9)
    again = make_dataset("digits", samples=30, Q=2.5, noise=0.2, seed=1)
    np.testing.assert_array_equal(ds.y, again.y)
    assert not set(np.unique(np.round(ds.y, 12))) <= {-1.0, 1.0}


def test_q_growth_curve_and_monotone_for_nested_interpolating_sets():
    Ns = [10, 20, 40, 80]
    r = q_growth("photo-patches", Ns, seeds=(0, 1), preprocess="scale01", patch=8)   # d = 192 > N
    assert r["N"] == Ns and np.shape(r["Q"]) == (4, 2) and r["preprocess"] == ["scale01"]
    for k, n in enumerate(Ns):
        for j, sd in enumerate((0, 1)):
            ds = make_dataset("photo-patches", samples=n, seed=sd, patch=8)
            assert r["Q"][k][j] == pytest.approx(pinv_Q(ds.X, ds.y), rel=1e-7)
            assert r["y_in_colspace"][k][j]
    # nested rows, fixed scaling, y in the column space: the minimum-norm interpolator can only grow
    Q = np.array(r["Q"])
    assert np.all(np.diff(Q, axis=0) >= -1e-9 * Q[1:])
    assert r["Q_mean"] == pytest.approx(Q.mean(axis=1).tolist())
    json.dumps(r)


def test_describe_data_matches_data_summary():
    ds = make_dataset("digits", samples=25, seed=0)
    info = describe_data(ds.X, ds.y, depths=(2, 7))
    assert info["S_hat"][7] == pytest.approx(data_summary(ds.X, ds.y, 7)["S_hat"], rel=1e-14)
    with pytest.raises(DataError, match="depths"):
        describe_data(ds.X, ds.y, depths=(1,))


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, words", [
    (dict(kind="digits", classes="0,x"), ["'x'", "0 to 9"]),
    (dict(kind="digits", classes="3,3"), ["two different"]),
    (dict(kind="digits", classes="1,2,3"), ["exactly two"]),
    (dict(kind="digits", classes="1,12"), ["'12'"]),
    (dict(kind="digits", samples=1000, classes="3,8"), ["1000", "available"]),
    (dict(kind="digits", samples=0), ["samples"]),
    (dict(kind="digits", dim=10), ["dim = 10", "64"]),
    (dict(kind="digits", patch=8), ["patch"]),
    (dict(kind="digits", spectrum=[1.0]), ["spectrum"]),
    (dict(kind="digits", preprocess="whiten"), ["'whiten'", "scale01"]),
    (dict(kind="photo-patches", patch=0), ["patch", "427"]),
    (dict(kind="photo-patches", patch=500), ["patch", "427"]),
    (dict(kind="photo-patches", patch=2.5), ["patch"]),
    (dict(kind="photo-patches", dim=100), ["dim = 100", "3·patch²"]),
    (dict(kind="photo-patches", dim=192, patch=4), ["dim = 192", "patch = 4"]),
    (dict(kind="photo-patches", samples=10 ** 6), ["1000000"]),
    (dict(kind="photo-patches", classes="0,1"), ["classes"]),
    (dict(kind="gaussian", classes="0,1"), ["classes", "'digits'"]),
    (dict(kind="image", patch=8), ["patch"]),
    (dict(kind="cifar10"), ["'cifar10'", "digits", "photo-patches"]),
])
def test_real_data_errors_are_one_sentence(kwargs, words):
    with pytest.raises(DataError) as exc:
        make_dataset(**kwargs)
    assert isinstance(exc.value, SymsharpError)
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_importing_symsharp_data_does_not_import_sklearn():
    code = "import sys, symsharp.data; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
