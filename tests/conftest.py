"""Shared numerical helpers for the tests that compare derived SymPy objects with independent
numerical computations (finite differences, hand-written NumPy gradients, ODE integration).

The helpers are exposed through the session fixture ``nx`` (a namespace), so that test modules
do not import ``conftest`` directly (that would break under ``--import-mode=importlib``).
"""
from __future__ import annotations

import types

import os

import numpy as np
import pytest
import sympy as sp
from hypothesis import settings

import symsharp.models  # noqa: F401,E402  (registers the models and their claims' loader)

# The test command is reproducible: Hypothesis draws the same examples on every run (CI included).
# HYPOTHESIS_PROFILE=explore searches with fresh random examples instead.
settings.register_profile("reproducible", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))


# ----------------------------------------------------------------------------- finite differences

def fd_grad(fun, theta, h=1e-3):
    """Gradient of a scalar function by the 5-point central stencil (exact for polynomials of
    degree <= 4, O(h^4) otherwise)."""
    theta = np.asarray(theta, dtype=float)
    g = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (-fun(theta + 2 * e) + 8 * fun(theta + e) - 8 * fun(theta - e) + fun(theta - 2 * e)) / (12 * h)
    return g


def fd_jac(fun, theta, h=1e-3):
    """Jacobian (rows: components of ``fun``, columns: parameters) by the 5-point stencil."""
    theta = np.asarray(theta, dtype=float)
    cols = []
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        cols.append((-np.asarray(fun(theta + 2 * e)) + 8 * np.asarray(fun(theta + e))
                     - 8 * np.asarray(fun(theta - e)) + np.asarray(fun(theta - 2 * e))) / (12 * h))
    return np.stack([np.atleast_1d(c) for c in cols], axis=-1)


def fd_hess(fun, theta, h=1e-2):
    """Hessian of a scalar function as the FD Jacobian of its FD gradient (exact up to rounding
    for polynomials of degree <= 4)."""
    return fd_jac(lambda t: fd_grad(fun, t, h), theta, h)


# ----------------------------------------------------------------------------- SymPy -> NumPy

def lamb(args, expr):
    """``sympy.lambdify`` to NumPy returning float arrays."""
    fn = sp.lambdify(list(args), expr, modules="numpy")

    def call(*vals):
        return np.asarray(fn(*vals), dtype=float)

    return call


def abs_terms(expr):
    """Σ |term| of an expanded expression: the natural scale for rounding errors when the
    expression is evaluated (cancellation-aware tolerance)."""
    expr = sp.expand(expr)
    terms = expr.args if expr.is_Add else (expr,)
    return sp.Add(*[sp.Abs(t) for t in terms])


def assert_close(actual, expected, rtol=1e-8, scale=None, what=""):
    """|actual − expected| <= rtol · scale elementwise, scale = max(1, max|expected|) unless given."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    if scale is None:
        scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    err = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    assert err <= rtol * scale, f"{what}: max error {err:.3e} > {rtol:.1e} * scale {scale:.3e}"


@pytest.fixture(scope="session")
def nx():
    return types.SimpleNamespace(fd_grad=fd_grad, fd_jac=fd_jac, fd_hess=fd_hess, lamb=lamb,
                                 abs_terms=abs_terms, assert_close=assert_close)


# ----------------------------------------------------------------------------- claims, checked once

@pytest.fixture(scope="session")
def claim_results():
    """{claim id: Result} of one ``verify()`` over every registered claim, shared by the test modules
    that check statuses (each checker is deterministic, so one run serves them all)."""
    from symsharp.claims import verify

    return {r.claim.id: r for r in verify()}

