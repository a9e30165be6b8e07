"""End-to-end tests of the ``symsharp`` command (run as a subprocess, as a user would)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "symsharp.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def uv_json():
    p = run("derive", "uv", "--format", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


SYMS = {"f": sp.Symbol("f", real=True), "lam": sp.Symbol("lam", nonnegative=True), "y": sp.Symbol("y", real=True),
        "eta": sp.Symbol("eta", positive=True), "a": sp.Symbol("a", positive=True)}


def parse(s):
    e = sp.sympify(s, locals=SYMS)
    assert e.free_symbols <= set(SYMS.values()), (s, e.free_symbols)
    return e


def test_uv_json_contract(uv_json):
    for key in ("function_space_map", "closes", "sharpness", "gf_invariants", "fixed_points"):
        assert key in uv_json
    assert uv_json["closes"] is True
    assert set(uv_json["function_space_map"]) == {"f", "lam"}
    for s in uv_json["function_space_map"].values():
        parse(s)
    parse(uv_json["sharpness"])
    assert len(uv_json["gf_invariants"]) >= 1
    for fp in uv_json["fixed_points"]:
        assert set(fp["point"]) == {"f", "lam"}
        for s in fp["point"].values():
            parse(s)
        cond = sp.sympify(fp["stable_when"], locals=SYMS)
        assert isinstance(cond, (bool, sp.logic.boolalg.Boolean))


def _uv_state(rng, n, d):
    return rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d), float(rng.uniform(0.5, 2)), float(rng.normal())


def _numeric(U, v, x, alpha, y):
    n, d = U.shape
    c = alpha / np.sqrt(n)
    p = U @ x
    f = c * v @ p
    g = np.concatenate([c * np.outer(v, x).ravel(), c * p])
    P = n * d + n
    M = np.zeros((P, P))
    for i in range(n):
        for j in range(d):
            M[i * d + j, n * d + i] = M[n * d + i, i * d + j] = c * x[j]
    return f, g @ g, alpha ** 2 * (x @ x) / n, np.outer(g, g) + (f - y) * M


@pytest.mark.parametrize("n,d", [(3, 2), (5, 4)])
def test_uv_json_agrees_with_parameter_space(uv_json, n, d):
    """The printed map and sharpness agree with an independent numpy implementation of the
    full parameter-space model at random points."""
    fmap = {k: sp.lambdify([SYMS[s] for s in ("f", "lam", "a", "eta", "y")], parse(v), "math")
            for k, v in uv_json["function_space_map"].items()}
    S = sp.lambdify([SYMS[s] for s in ("f", "lam", "a", "y")], parse(uv_json["sharpness"]), "math")
    I = [sp.lambdify([SYMS[s] for s in ("f", "lam", "a")], parse(e), "math") for e in uv_json["gf_invariants"]]
    rng = np.random.default_rng(n * 10 + d)
    for _ in range(25):
        U, v, x, al, y = _uv_state(rng, n, d)
        eta = float(rng.uniform(0.01, 0.5))
        f, lam, a, H = _numeric(U, v, x, al, y)
        assert S(f, lam, a, y) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-9, abs=1e-12)
        c = al / np.sqrt(n)
        U2 = U - eta * (f - y) * c * np.outer(v, x)
        v2 = v - eta * (f - y) * c * (U @ x)
        f2, lam2, _, _ = _numeric(U2, v2, x, al, y)
        assert fmap["f"](f, lam, a, eta, y) == pytest.approx(f2, rel=1e-9, abs=1e-12)
        assert fmap["lam"](f, lam, a, eta, y) == pytest.approx(lam2, rel=1e-9, abs=1e-12)
        # the GF invariant drifts under GD exactly as I' = (1 − aη²(f−y)²)² I
        for Ii in I:
            assert Ii(f2, lam2, a) == pytest.approx((1 - a * eta ** 2 * (f - y) ** 2) ** 2 * Ii(f, lam, a), rel=1e-8, abs=1e-12)


def test_uv_fixed_point_line_stability(uv_json):
    line = [fp for fp in uv_json["fixed_points"] if parse(fp["point"]["f"]) == SYMS["y"]]
    assert len(line) == 1
    cond = sp.sympify(line[0]["stable_when"], locals=SYMS)
    for el in [0.5, 1.0, 1.99]:
        assert bool(cond.subs(SYMS["lam"], el / SYMS["eta"]))
    for el in [2.01, 3.0]:
        assert not bool(cond.subs(SYMS["lam"], el / SYMS["eta"]))


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_uv_text_formats(fmt):
    p = run("derive", "uv", "--width", "2", "--input-dim", "1", "--format", fmt)
    assert p.returncode == 0, p.stderr
    assert "Sharpness" in p.stdout
    if fmt == "latex":
        assert "\\begin{document}" in p.stdout


def test_custom_derive_json():
    p = run("derive", "custom", "--f", "w1*w2*x", "--data", "x=1,2;y=1,3", "--format", "json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    w1, w2 = sp.symbols("w1 w2", real=True)
    # GF of the product model conserves w1² − w2²
    invs = [sp.sympify(s, locals={"w1": w1, "w2": w2}) for s in out["gf_invariants"]]
    assert any(sp.simplify(I / (w1 ** 2 - w2 ** 2)).is_number for I in invs)


def test_custom_loss_derive():
    p = run("derive", "custom", "--loss", "(w - 1)**2/2", "--format", "json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["gd_map"]["w"].replace(" ", "") in ("-eta*(w-1)+w", "-eta*w+eta+w", "eta-eta*w+w", "w-eta*(w-1)")


@pytest.mark.parametrize("args,needle", [
    (("derive", "chain", "--depth", "1"), "--depth"),
    (("derive", "uv", "--width", "0"), "--width"),
    (("derive", "uv", "--eta", "-0.1"), "--eta"),
    (("verify", "--only", "NOPE"), "NOPE"),
    (("derive", "custom", "--f", "w1*("), "w1*("),
    (("derive", "custom", "--f", "w*x", "--data", "x=1,nan;y=1,2"), "finite"),
    (("derive", "custom", "--f", "w*x", "--data", "x=1,2;y=1"), "same number"),
])
def test_bad_input_one_line_exit_2(args, needle):
    p = run(*args)
    assert p.returncode == 2
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert needle in lines[0]
    assert "Traceback" not in p.stderr


def test_verify_json_selected():
    p = run("verify", "--only", "UV-sharpness", "ANY-quadratic-stability", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [r["id"] for r in out] == ["UV-sharpness", "ANY-quadratic-stability"]
    for r in out:
        assert set(r) >= {"id", "source", "statement", "assumptions", "status", "method", "seconds", "counterexample"}
        assert r["status"] == "proved"
