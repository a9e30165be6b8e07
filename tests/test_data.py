"""symsharp.data: generators, loaders, data_summary (checked against independent NumPy formulas)."""
from __future__ import annotations

import numpy as np
import pytest

from symsharp.data import DataError, Dataset, data_summary, load_dataset, make_dataset, save_dataset


# ----------------------------------------------------------------------------- generators

@pytest.mark.parametrize("kind", ["gaussian", "spectrum", "image"])
def test_generators_are_deterministic_and_typed(kind):
    a = make_dataset(kind, samples=30, dim=12, seed=4)
    b = make_dataset(kind, samples=30, dim=12, seed=4)
    c = make_dataset(kind, samples=30, dim=12, seed=5)
    assert isinstance(a, Dataset)
    assert a.X.shape == (30, 12) and a.y.shape == (30,)
    assert a.X.dtype == np.float64 and a.y.dtype == np.float64
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    assert a.meta["kind"] == kind and a.N == 30 and a.d == 12


def test_gaussian_teacher_without_noise():
    ds = make_dataset("gaussian", samples=20, dim=5, seed=1)
    np.testing.assert_allclose(ds.y, ds.X @ ds.meta["w_star"], rtol=1e-13, atol=1e-13)
    noisy = make_dataset("gaussian", samples=20, dim=5, seed=1, noise=0.5)
    assert not np.allclose(noisy.y, noisy.X @ noisy.meta["w_star"])


@pytest.mark.parametrize("spectrum", [[3.0, 2.0, 0.5], [10.0], [1.0, 1.0, 1e-3, 7.0]])
def test_spectrum_has_the_prescribed_singular_values(spectrum):
    ds = make_dataset("spectrum", samples=15, dim=9, seed=2, spectrum=spectrum)
    s = np.linalg.svd(ds.X, compute_uv=False)
    want = np.sort(spectrum)[::-1]
    np.testing.assert_allclose(s[:len(want)], want, rtol=1e-12, atol=1e-12 * want[0])
    assert np.all(s[len(want):] < 1e-12 * want[0])
    assert data_summary(ds.X, ds.y)["rank"] == len(want)


def test_spectrum_default_and_noise_puts_y_outside_colspace():
    ds = make_dataset("spectrum", samples=12, dim=20, seed=0)
    s = np.linalg.svd(ds.X, compute_uv=False)
    np.testing.assert_allclose(s, np.sqrt(12) / np.sqrt(np.arange(1, 13)), rtol=1e-12)
    clean = make_dataset("spectrum", samples=20, dim=8, seed=0, spectrum=[2, 1])
    noisy = make_dataset("spectrum", samples=20, dim=8, seed=0, spectrum=[2, 1], noise=0.3)
    assert data_summary(clean.X, clean.y)["y_in_colspace"]
    assert not data_summary(noisy.X, noisy.y)["y_in_colspace"]


@pytest.mark.parametrize("kind", ["gaussian", "spectrum", "image"])
@pytest.mark.parametrize("Q", [0.3, 7.0])
def test_target_Q_is_met(kind, Q):
    ds = make_dataset(kind, samples=25, dim=16, seed=3, Q=Q, noise=0.1)
    Qn = float(np.linalg.norm(np.linalg.pinv(ds.X) @ ds.y) ** 2)
    assert Qn == pytest.approx(Q, rel=1e-9)
    assert ds.meta["Q"] == pytest.approx(Q, rel=1e-12)


def test_image_data_look_like_images():
    ds = make_dataset("image", samples=40, dim=3072, seed=0)
    assert ds.meta["image_shape"] == [32, 32, 3]
    assert ds.X.min() >= 0.0 and ds.X.max() <= 1.0
    assert set(np.unique(ds.y)) == {-1.0, 1.0} and ds.y.sum() == 0
    img = ds.X.reshape(40, 32, 32, 3)
    # neighbouring pixels are strongly correlated (smooth fields), unlike white noise
    a = img[:, :, :-1, 0].ravel() - img[:, :, :-1, 0].mean()
    b = img[:, :, 1:, 0].ravel() - img[:, :, 1:, 0].mean()
    assert np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)) > 0.5
    # the two classes differ on average
    m1 = ds.X[ds.y > 0].mean(0)
    m2 = ds.X[ds.y < 0].mean(0)
    assert np.linalg.norm(m1 - m2) > 0.5
    assert make_dataset("image", samples=4, dim=64).meta["image_shape"] == [8, 8]
    assert make_dataset("image", samples=4, dim=10).meta["image_shape"] == [10]


@pytest.mark.parametrize("kwargs, word", [
    (dict(kind="mnist"), "'mnist'"),
    (dict(samples=0), "samples"),
    (dict(dim=2.5), "dim"),
    (dict(kind="spectrum", spectrum=[1, -1]), "positive"),
    (dict(kind="spectrum", dim=3, spectrum=[1, 1, 1, 1]), "min(samples, dim) = 3"),
    (dict(Q=-1.0), "-1.0"),
    (dict(noise=-0.1), "-0.1"),
    (dict(kind="image", dim=12, image_shape=(5, 5)), "image_shape"),
])
def test_generator_errors(kwargs, word):
    with pytest.raises(DataError) as exc:
        make_dataset(**kwargs)
    assert word in str(exc.value)


# ----------------------------------------------------------------------------- summary

@pytest.mark.parametrize("shape", [(8, 3), (4, 9), (6, 6)])
@pytest.mark.parametrize("depth", [2, 3, 5])
def test_data_summary_matches_pinv(shape, depth):
    rng = np.random.default_rng(sum(shape) + depth)
    X = rng.standard_normal(shape)
    y = rng.standard_normal(shape[0])
    s = data_summary(X, y, depth)
    Q = float(np.linalg.norm(np.linalg.pinv(X) @ y) ** 2)
    sig = np.linalg.svd(X, compute_uv=False)
    assert s["Q"] == pytest.approx(Q, rel=1e-10)
    assert s["sigma1"] == pytest.approx(sig[0], rel=1e-12)
    assert s["S_hat"] == pytest.approx(sig[0] ** 2 / shape[0] * Q ** ((depth - 1) / depth), rel=1e-10)
    assert s["rank"] == min(shape) and s["N"] == shape[0] and s["d"] == shape[1]
    resid = y - X @ (np.linalg.pinv(X) @ y)
    assert s["residual_norm"] == pytest.approx(np.linalg.norm(resid), abs=1e-12)
    assert s["y_in_colspace"] == (shape[0] <= shape[1])


def test_data_summary_rank_deficient():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2)) @ rng.standard_normal((2, 5))
    y = X @ rng.standard_normal(5)
    s = data_summary(X, y, 2)
    assert s["rank"] == 2 and s["y_in_colspace"]
    assert s["Q"] == pytest.approx(float(np.linalg.norm(np.linalg.pinv(X) @ y) ** 2), rel=1e-9)


# ----------------------------------------------------------------------------- files

@pytest.mark.parametrize("ext", [".npz", ".npy", ".csv"])
def test_round_trip(tmp_path, ext):
    ds = make_dataset("gaussian", samples=7, dim=3, seed=1, noise=0.2)
    p = save_dataset(ds, tmp_path / f"d{ext}")
    back = load_dataset(p)
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.y, ds.y)
    assert back.name == "d"


def test_csv_without_header_and_npz_column_y(tmp_path):
    p = tmp_path / "plain.csv"
    p.write_text("1,2,3\n4,5,6\n")
    ds = load_dataset(p)
    np.testing.assert_array_equal(ds.X, [[1, 2], [4, 5]])
    np.testing.assert_array_equal(ds.y, [3, 6])
    np.savez(tmp_path / "col.npz", X=np.ones((3, 2)), y=np.arange(3.0).reshape(3, 1))
    np.testing.assert_array_equal(load_dataset(tmp_path / "col.npz").y, [0, 1, 2])


def _write(tmp_path, name, content):
    p = tmp_path / name
    if isinstance(content, str):
        p.write_text(content)
    elif name.endswith(".npy"):
        np.save(p, content)
    else:
        np.savez(p, **content)
    return p


@pytest.mark.parametrize("name, content, words", [
    ("a.txt", "1,2\n", ["'.txt'", ".npz, .npy, .csv"]),
    ("missing.npz", None, ["does not exist"]),
    ("v.npy", np.arange(4.0), ["2-D", "(4,)"]),
    ("one.npy", np.ones((3, 1)), ["at least 2 columns"]),
    ("e.npy", np.ones((0, 3)), ["N = 0"]),
    ("h.csv", "x0,x1,y\n", ["N = 0"]),
    ("n.csv", "x,y\n1,2\n3,4\n5,6\n7,8\nnan,1\n", ["X contains NaN at row 4"]),
    ("i.npy", np.array([[1.0, 2.0], [3.0, np.inf]]), ["y contains inf at row 1"]),
    ("k.npz", {"X": np.ones((3, 2))}, ["no array 'y'"]),
    ("m.npz", {"X": np.ones((3, 2)), "y": np.ones(4)}, ["4 entries", "3 rows"]),
    ("bad.csv", "1,2\n3,abc\n", ["could not read"]),
])
def test_load_errors(tmp_path, name, content, words):
    p = tmp_path / name if content is None else _write(tmp_path, name, content)
    with pytest.raises(DataError) as exc:
        load_dataset(p)
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg
