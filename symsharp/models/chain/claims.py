"""Claims Y1–Y7 about the single-neuron deep linear network (Yoo, Song, Yun 2025), as reported by a
secondary summary, with corrected statements where the wording is false.

Every formula a statement writes is kept as a SymPy object in :mod:`.statements` and compared
exactly with the derived one by the checker (numeric checks evaluate the statement's formula, not a
retyped copy), so a statement with a wrong formula is not reported ``proved``."""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ...claims.registry import Outcome, register
from . import statements as st

SRC = "Yoo, Song, Yun 2025 (secondary summary)"
SRC_D = "derived (symsharp)"


def _sym_chain(D, N, d):
    from .model import chain_model

    return chain_model(D, N, d)


def _data_syms(m):
    N, d = m.options["samples"], m.options["dim"]
    X = sp.Matrix(N, d, lambda j, k: sp.Symbol(f"X_{j + 1}_{k + 1}", real=True))
    y = sp.Matrix([sp.Symbol(f"y_{j + 1}", real=True) for j in range(N)])
    return X, y


def _gd_step_np(X, y, u, v, eta, batch=None):
    """One (minibatch) GD step of the chain model in plain numpy (independent of SymPy)."""
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    idx = np.arange(X.shape[0]) if batch is None else np.asarray(batch)
    Xb, yb = X[idx], y[idx]
    v = np.atleast_1d(np.asarray(v, float))
    pi = np.prod(v)
    r = Xb @ u * pi - yb
    gu = Xb.T @ r * pi / len(idx)
    gv = np.array([(r @ (Xb @ u)) * np.prod(np.delete(v, i)) / len(idx) for i in range(v.size)])
    return u - eta * gu, v - eta * gv


def _C(X, u, v):
    from .symbolic import imbalance

    return imbalance(X, u, v)


# ---------------------------------------------------------------------------------------- Y1
def _orthonormal_columns(n: int, k: int, names: str):
    """An n × k matrix with orthonormal columns, rational in the symbols ``names`` (the first k
    columns of the Cayley transform (I − K)(I + K)⁻¹ of a skew-symmetric K)."""
    params = iter(sp.symbols(names, real=True, seq=True))
    K = sp.zeros(n, n)
    for i in range(n):
        for j in range(i + 1, n):
            K[i, j] = next(params)
            K[j, i] = -K[i, j]
    return ((sp.eye(n) - K) * (sp.eye(n) + K).inv()).applyfunc(sp.cancel)[:, :k]


@register("Y1", SRC, "Q = ‖X⁺y‖², the squared norm of the minimum-norm interpolator, and depends on the data only.",
          ("Q = Σ_i d_i²/σ_i² over the nonzero singular values (thin SVD)",))
def _y1():
    # symbolic: X = E Σ Wᵀ with symbolic σ_i and rational orthonormal E (2 × 2), W (3 × 2); for full row
    # rank X⁺ = Xᵀ(XXᵀ)⁻¹, and ‖X⁺y‖² must equal the statement's Σ d_i²/σ_i² with d = Eᵀy
    E = _orthonormal_columns(2, 2, "t")
    W = _orthonormal_columns(3, 2, "a b c")
    sig = (st.sigma(1), st.sigma(2))
    X = E * sp.diag(*sig) * W.T
    y = sp.Matrix(sp.symbols("y_1 y_2", real=True))
    Xp = X.T * (X * X.T).inv()
    lhs = ((Xp * y).T * (Xp * y))[0, 0]
    dd = E.T * y
    if sp.cancel(lhs - st.Q_of(sig, dd)) != 0:
        return Outcome("open", "‖X⁺y‖² differs from the stated Σ d_i²/σ_i² (symbolic, N = 2, d = 3)")
    rng = np.random.default_rng(0)
    from .symbolic import svd_coordinates

    term = sp.lambdify((st.sigma(1), st.dvec(1)), st.Q_of((st.sigma(1),), (st.dvec(1),)), "numpy")  # one term
    worst = 0.0
    for N, d, r in [(3, 5, 3), (6, 2, 2), (5, 5, 3), (4, 4, 1)]:
        for _ in range(10):
            Xn = rng.normal(size=(N, r)) @ rng.normal(size=(r, d))
            yn = rng.normal(size=N)
            En, sn, _ = svd_coordinates(Xn)
            dn = En.T @ yn
            q1 = float(sum(term(sn[i], dn[i]) for i in range(len(sn))))  # the stated sum, term by term
            q2 = float(np.sum((np.linalg.pinv(Xn) @ yn) ** 2))
            worst = max(worst, abs(q1 - q2) / max(1, q2))
    if worst > 1e-8:
        return Outcome("open", f"numeric check failed ({worst:.1e})")
    return Outcome("proved", "symbolic: with X = EΣWᵀ (symbolic σ_i, rational orthonormal E, W; N = 2, d = 3), "
                   "‖Xᵀ(XXᵀ)⁻¹y‖² − Σ_i d_i²/σ_i² cancels to 0 (the statement's Q); numpy pinv check incl. "
                   f"rank-deficient X (40 cases, max rel. err {worst:.0e}). The identity holds always; 'interpolator' "
                   "needs y ∈ col(X): see Y1-interp")


@register("Y1-interp", SRC, "X⁺y is an interpolator: X X⁺ y = y.", ("any data",), corrects=None)
def _y1_interp():
    X = np.array([[1.0], [0.0], [0.0]])
    y = np.array([0.0, 1.0, 0.0])
    resid = X @ (np.linalg.pinv(X) @ y) - y
    if np.linalg.norm(resid) > 0.5:
        return Outcome("refuted", "N > d example; X X⁺ y computed with numpy.linalg.pinv",
                       counterexample={"X": X.tolist(), "y": y.tolist(), "residual_X_Xpinv_y_minus_y": resid.tolist()})
    return Outcome("open", "counterexample did not recompute")


@register("Y1-corrected", SRC_D, "Q = ‖X⁺y‖² always; X⁺y interpolates (X X⁺ y = y) iff y ∈ col(X), e.g. when X has "
          "full row rank (N ≤ d); otherwise X⁺y is the minimum-norm least-squares solution.", ("any data",), corrects="Y1")
def _y1_corr():
    m = _sym_chain(2, 2, 3)
    X, y = _data_syms(m)
    Xp = X.T * (X * X.T).inv()
    if (X * Xp - sp.eye(2)).applyfunc(sp.simplify) != sp.zeros(2, 2):
        return Outcome("open", "X X⁺ ≠ I for full row rank")
    rng = np.random.default_rng(1)
    for _ in range(30):
        N, d = rng.integers(2, 6), rng.integers(1, 6)
        Xn = rng.normal(size=(N, d))
        inside = rng.random() < 0.5
        yn = Xn @ rng.normal(size=d) if inside else rng.normal(size=N)
        in_col = np.linalg.matrix_rank(np.column_stack([Xn, yn])) == np.linalg.matrix_rank(Xn)
        interp = np.allclose(Xn @ np.linalg.pinv(Xn) @ yn, yn, atol=1e-9)
        if in_col != interp:
            return Outcome("open", "numeric check failed")
    return Outcome("proved", "symbolic X X⁺ = I for full row rank (N=2, d=3); XX⁺ is the projector onto col(X), "
                   "numerically checked on 30 random cases with y inside/outside col(X)")


# ---------------------------------------------------------------------------------------- Y2
def _in_span(target, basis, variables) -> bool:
    """Whether ``target`` is a linear combination (constant coefficients) of ``basis``."""
    cs = sp.symbols(f"c0:{len(basis)}")
    eqs = sp.Poly(sp.expand(target - sum(c * I for c, I in zip(cs, basis))), *variables).coeffs()
    return bool(sp.solve(eqs, cs, dict=True))


@register("Y2", SRC, "Under gradient flow, C(θ) is conserved (D = 2); for D > 2 a balanced network stays balanced.",
          ("C(θ) = ‖Π_W u‖² − v_1²; balanced: ‖Π_W u‖² = v_1² = … = v_{D−1}²",
           "raw coordinates with symbolic data N = 1, d = 2 and N = 2, d = 3 (W⊥ ≠ 0) for D = 2; SVD coordinates of "
           "rank 1, 2, 3 for D = 2, 3, 4"))
def _y2():
    from ...symbolic.calculus import gf_field
    from ...symbolic.invariants import model_invariants
    from .symbolic import svd_model

    # the statement's C in raw coordinates, Π_W = Xᵀ(XXᵀ)⁻¹X: its derivative along −∇L vanishes
    for N, d in ((1, 2), (2, 3)):
        m = _sym_chain(2, N, d)
        X, _ = _data_syms(m)
        u = sp.Matrix(m.block("u").symbols)
        v1 = m.block("v").symbols[0]
        PW = X.T * (X * X.T).inv() * X
        Craw = (u.T * PW * u)[0, 0] - v1 ** 2
        F = gf_field(m)
        lie = sum(sp.diff(Craw, p) * F[p] for p in m.params)
        if sp.cancel(sp.together(lie)) != 0:
            return Outcome("open", f"d/dt (‖Π_W u‖² − v²) ≠ 0 along gradient flow (N = {N}, d = {d})")
    # SVD coordinates: the statement's C (and, for D > 2, every ‖z‖² − v_k²) lies in the span of the
    # quadratic GF invariants derived by the ansatz, so all of them are conserved and balance is kept
    for D in (2, 3, 4):
        for rank in (1, 2, 3):
            sm = svd_model(D, rank)
            invs = model_invariants(sm)
            z, v = sm.blocks[0].symbols, sm.blocks[1].symbols
            for k, vk in enumerate(v):
                target = st.Y2_imbalance(z, vk)
                if not _in_span(target, invs, sm.params):
                    return Outcome("open", f"‖Π_W u‖² − v_{k + 1}² is not conserved (D = {D}, rank {rank})")
    return Outcome("proved", "the statement's C = ‖Π_W u‖² − v_1² with Π_W = Xᵀ(XXᵀ)⁻¹X has zero derivative along "
                   "gradient flow (symbolic data N = 1, d = 2 and N = 2, d = 3); in SVD coordinates every ‖z‖² − v_k² "
                   "lies in the span of the quadratic GF invariants found by the ansatz (D = 2, 3, 4, rank 1–3), so "
                   "all v_j² − v_k² are conserved and a balanced network (all C_k = 0) stays balanced")


# ---------------------------------------------------------------------------------------- Y3 / Y4
def _min_matrix_check(D, rank):
    """The derived N·(Hessian) at a global minimum of the SVD model (symbolic σ, d, v) and the
    coefficients p, q of its structure pΣ² + q ddᵀ (checked against it)."""
    from .symbolic import minimum_sharpness_matrix

    JJ, at_min, res, sm = minimum_sharpness_matrix(D, rank)
    sig, dd = sm.options["sigma"], sm.options["d"]
    v = sm.blocks[1].symbols
    pi = sp.Mul(*v)
    p = pi ** 2
    q = sum((pi / vk) ** 2 for vk in v) / pi ** 2
    struct = p * sp.diag(*[s ** 2 for s in sig]) + q * sp.Matrix(dd) * sp.Matrix(dd).T
    ok = (JJ - struct).applyfunc(sp.simplify) == sp.zeros(rank, rank) and res == sp.zeros(*res.shape)
    return ok, p, q, sig, dd, v, JJ


def _derived_bounds(JJ, p, q, sig, dd):
    """Rayleigh quotient at e_1 and the Weyl bound λ_max(pΣ²) + λ_max(q ddᵀ), both divided by N."""
    return JJ[0, 0] / st.N, (p * sig[0] ** 2 + q * sum(x ** 2 for x in dd)) / st.N


def _numeric_minimum(rng, N, d, D, balanced_full_norm=False):
    """A global minimum of the chain model with random data (y possibly outside col(X))."""
    from .symbolic import svd_coordinates

    X = rng.normal(size=(N, d))
    y = rng.normal(size=N)
    E, s, W = svd_coordinates(X)
    beta = np.linalg.pinv(X) @ y
    v = rng.uniform(0.5, 1.5, size=D - 1) * rng.choice([-1, 1], size=D - 1)
    u = beta / np.prod(v)
    if d > len(s):  # add a component in W⊥ (does not change the loss)
        perp = np.linalg.svd(X)[2][len(s):].T @ rng.normal(size=d - len(s))
        u = u + 0.3 * perp
    return X, y, u, v


def _stated_numeric(fn):
    """A stated bound as a numpy function of (σ, d, N, other) for any rank (term-wise lambdify)."""
    def ev(sig_n, d_n, N_n, extra=None):
        r = len(sig_n)
        sig, dd = tuple(st.sigma(i + 1) for i in range(r)), tuple(st.dvec(i + 1) for i in range(r))
        exprs = fn(sig, dd)
        subs = {**dict(zip(sig, map(float, sig_n))), **dict(zip(dd, map(float, d_n))), st.N: N_n, **(extra or {})}
        return [float(e.xreplace(subs)) for e in exprs]
    return ev


@register("Y3", SRC, "D = 2, at a global minimum θ*: (1/N)[σ_1² v*² + d_1²/v*²] ≤ S(θ*) ≤ (1/N)[σ_1² v*² + (Σ_i d_i²)/v*²] "
          "with v*² = (√(C(θ*)² + 4Q) − C(θ*))/2.", ("D = 2, θ* any global minimizer (y need not lie in col(X))",
                                                      "symbolic in SVD coordinates for rank r = 2, 3"))
def _y3():
    from .gf import gf_limit_equation
    from .symbolic import dataset_difficulty, full_hessian, svd_coordinates

    w = sp.Symbol("w", positive=True)
    for rank in (2, 3):
        ok, p, q, sig, dd, v, JJ = _min_matrix_check(2, rank)
        if not ok:
            return Outcome("open", "at-minimum Hessian structure failed")
        lo_d, hi_d = _derived_bounds(JJ, p, q, sig, dd)
        lo_s, hi_s = st.Y3_bounds(sig, dd, w)
        at = {v[0]: sp.sqrt(w)}
        if sp.simplify(lo_d.subs(at) - lo_s) != 0:
            return Outcome("open", "the stated lower bound differs from the Rayleigh quotient at e_1")
        if sp.simplify(hi_d.subs(at) - hi_s) != 0:
            return Outcome("open", "the stated upper bound differs from the Weyl bound")
    # v*²: at a minimum ‖z‖² = s solves s(s − C) = Q and v² = s − C (CHAIN-GF-limit, D = 2)
    e = gf_limit_equation(2, 2)
    v2 = e["v_squared"].subs({e["C"][0]: st.C, e["Q"]: st.Q})
    if sp.simplify(v2 - st.Y3_V_STAR_SQ) != 0:
        return Outcome("open", f"the stated v*² differs from the derived {v2}")
    bounds = _stated_numeric(lambda sg, dv: st.Y3_bounds(sg, dv, w))
    vstar = sp.lambdify((st.C, st.Q), st.Y3_V_STAR_SQ, "math")
    rng = np.random.default_rng(2)
    for N, d in [(3, 5), (5, 2), (4, 4)]:
        for _ in range(8):
            X, y, u, v = _numeric_minimum(rng, N, d, 2)
            S = np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1]
            E, s, W = svd_coordinates(X)
            dd_ = E.T @ y
            Cn = float(np.sum((W.T @ u) ** 2) - v[0] ** 2)
            Qn = dataset_difficulty(X, y)
            vs = vstar(Cn, Qn)
            if abs(vs - v[0] ** 2) > 1e-9 * (1 + v[0] ** 2):
                return Outcome("open", "the stated v*² differs from v² at a numeric minimum")
            lo, hi = bounds(s, dd_, N, {w: vs})
            if not (lo - 1e-9 * hi <= S <= hi * (1 + 1e-9)):
                return Outcome("refuted", "numeric", counterexample={"X": X.tolist(), "y": y.tolist(), "u": u.tolist(), "v": v.tolist()})
    return Outcome("proved", "residual Hessian vanishes at minima; N·S = λ_max(v²Σ² + ddᵀ/v²) (symbolic, r = 2, 3); the "
                   "stated lower bound equals the Rayleigh quotient at e_1 and the stated upper bound the Weyl bound "
                   "(SymPy, exactly); the stated v*² equals the derived root of v⁴ + Cv² − Q = 0; the stated formulas "
                   "bracket numpy eigvalsh at 24 random minima (N < d and N > d) and give v² there")


@register("Y4", SRC, "Balanced layers, any D, at a global minimum: (1/N)[σ_1² Q^{(D−1)/D} + (D−1) d_1² Q^{−1/D}] ≤ S(θ*) ≤ "
          "(1/N)[σ_1² Q^{(D−1)/D} + (D−1)(Σ_i d_i²) Q^{−1/D}].",
          ("balanced means ‖Π_W u‖² = v_1² = … = v_{D−1}² (see Y4-full-norm for ‖u‖²)", "symbolic for D = 2…5, rank 2"))
def _y4():
    from .symbolic import dataset_difficulty, full_hessian, svd_coordinates

    s_ = sp.Symbol("s", positive=True)
    for D in range(2, 6):
        ok, p, q, sig, dd, v, JJ = _min_matrix_check(D, 2)
        if not ok:
            return Outcome("open", f"at-minimum structure failed for D = {D}")
        # balance: |v_k| = s and ‖z‖ = s; at the minimum ‖z‖·|π| = ‖Σ⁻¹d‖ = √Q, so s^D = √Q
        bal = {vk: s_ for vk in v}
        sQ = st.Q ** sp.Rational(1, 2 * D)
        lo_d, hi_d = _derived_bounds(JJ, p, q, sig, dd)
        lo_d, hi_d = lo_d.subs(bal).subs(s_, sQ), hi_d.subs(bal).subs(s_, sQ)
        lo_s, hi_s = st.Y4_bounds(sig, dd, D)
        if sp.simplify(lo_d - lo_s) != 0 or sp.simplify(hi_d - hi_s) != 0:
            return Outcome("open", f"the stated bounds differ from the derived ones for D = {D}")
    rng = np.random.default_rng(4)
    for D in (2, 3, 4):
        bounds = _stated_numeric(lambda sg, dv, D=D: st.Y4_bounds(sg, dv, D))
        for _ in range(6):
            N, d = 3, 4
            X = rng.normal(size=(N, d))
            y = rng.normal(size=N)
            E, s, W = svd_coordinates(X)
            Qn = dataset_difficulty(X, y)
            S, u, v = _balanced_min_sharpness(X, y, D)
            if np.linalg.norm(X @ u * np.prod(v) - X @ (np.linalg.pinv(X) @ y)) > 1e-8:
                return Outcome("open", "construction of a balanced minimum failed")
            lo, hi = bounds(s, E.T @ y, N, {st.Q: Qn})
            if not (lo * (1 - 1e-9) <= S <= hi * (1 + 1e-9)):
                return Outcome("open", "numeric check failed")
    return Outcome("proved", "at balanced minima p = π² = Q^{(D−1)/D}, q = Σ1/v_k² = (D−1)Q^{−1/D}; the stated bounds "
                   "equal the Rayleigh quotient at e_1 and the Weyl bound of the derived Hessian exactly (SymPy, "
                   "D = 2…5); they bracket numpy eigvalsh at 18 balanced minima")


@register("Y4-full-norm", SRC_D, "Y4 also holds when 'balanced' means ‖u‖² = v_1² = … = v_{D−1}² (u including its part "
          "outside the row space W).", ("D = 2",))
def _y4_full():
    from .symbolic import dataset_difficulty, full_hessian, svd_coordinates

    X = np.array([[1.0, 0.0]])
    y = np.array([1.0])
    v = np.array([np.sqrt(2.0)])
    u = np.array([1 / np.sqrt(2.0), np.sqrt(1.5)])
    S = np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1]
    E, s, W = svd_coordinates(X)
    lo, hi = _stated_numeric(lambda sg, dv: st.Y4_bounds(sg, dv, 2))(s, E.T @ y, 1, {st.Q: dataset_difficulty(X, y)})
    if abs(X @ u * v[0] - y).max() < 1e-12 and abs(u @ u - v @ v) < 1e-12 and S > hi + 1e-6:
        return Outcome("refuted", f"global minimum with ‖u‖² = v², u ∉ W: S = {S:.6f} > Y4's upper bound {hi:.6f} "
                       "(numpy eigvalsh; bound evaluated from Y4's stated formula)",
                       counterexample={"X": X.tolist(), "y": y.tolist(), "u": u.tolist(), "v": v.tolist(),
                                       "S": float(S), "upper_bound": hi})
    return Outcome("open", "counterexample did not recompute")


# ---------------------------------------------------------------------------------------- Y5
@register("Y5", SRC, "GD increases the layer imbalance C at every step; one GD step changes C by an exact closed-form amount.",
          ("D = 2",))
def _y5():
    X, y, u, v, eta = np.array([[1.0]]), np.array([0.0]), np.array([2.0]), np.array([1.0]), 0.1
    u2, v2 = _gd_step_np(X, y, u, v, eta)
    dC = _C(X, u2, v2) - _C(X, u, v)
    if dC < 0:
        return Outcome("refuted", f"explicit numpy GD step: ΔC = {dC:.4f} < 0 (C = {_C(X, u, v)} > 0)",
                       counterexample={"X": X.tolist(), "y": y.tolist(), "u": u.tolist(), "v": v.tolist(), "eta": eta,
                                       "delta_C": dC})
    return Outcome("open", "counterexample did not recompute")


@register("Y5-corrected", SRC_D, "One GD step changes C_k = ‖Π_W u‖² − v_k² by exactly η² π_{−k}² (v_k²‖g‖² − (uᵀg)²), "
          "g = Xᵀr/N, r = Xu∏v − y, π_{−k} = ∏_{j≠k} v_j; hence ΔC ≥ 0 whenever C ≤ 0 (D = 2), and ΔC < 0 is "
          "possible when C > 0.", ("symbolic data N = 2, d = 2 for D = 2, 3, 4",), corrects="Y5")
def _y5_corr():
    from ...symbolic.calculus import gd_map
    from ...symbolic.invariants import gd_drift

    eta = sp.Symbol("eta", positive=True)
    for D in (2, 3, 4):
        m = _sym_chain(D, 2, 2)
        X, y = _data_syms(m)
        u = sp.Matrix(m.block("u").symbols)
        v = m.block("v").symbols
        pi = sp.Mul(*v)
        r = X * u * pi - y
        g = X.T * r / 2
        step = gd_map(m)
        for k, vk in enumerate(v):
            Ck = (u.T * u)[0, 0] - vk ** 2
            drift = gd_drift(Ck, step, eta)
            pim = pi / vk
            formula = st.Y5_drift(eta, pim, vk, g, u)   # the statement's formula
            if sp.expand(drift - formula) != 0:
                return Outcome("open", f"drift formula fails for D = {D}, k = {k + 1}")
    # sign: v²‖g‖² − (zᵀg)² = −C‖g‖² + (‖z‖²‖g‖² − (zᵀg)²), the bracket a Lagrange sum of squares (d = 3)
    z = sp.Matrix(sp.symbols("z1:4", real=True))
    gg = sp.Matrix(sp.symbols("g1:4", real=True))
    vv = sp.Symbol("v", real=True)
    C = (z.T * z)[0, 0] - vv ** 2
    lhs = st.Y5_drift(1, 1, vv, gg, z)   # the stated drift at η = π_{−k} = 1
    lag = sum((z[i] * gg[j] - z[j] * gg[i]) ** 2 for i in range(3) for j in range(i + 1, 3))
    if sp.expand(lhs - (-C * (gg.T * gg)[0, 0] + lag)) != 0:
        return Outcome("open", "Lagrange certificate failed")
    # ΔC < 0 for C > 0: the stated formula at Y5's counterexample (D = 2, π_{−1} = 1) against an explicit step
    Xn, yn, un, vn, en = np.array([[1.0]]), np.array([0.0]), np.array([2.0]), np.array([1.0]), 0.1
    gn = Xn.T @ (Xn @ un * vn[0] - yn) / 1
    dC_stated = float(st.Y5_drift(en, 1, vn[0], sp.Matrix(gn), sp.Matrix(un)))
    u2, v2 = _gd_step_np(Xn, yn, un, vn, en)
    dC_step = _C(Xn, u2, v2) - _C(Xn, un, vn)
    if not (dC_stated < 0 and abs(dC_stated - dC_step) <= 1e-12 * (1 + abs(dC_step)) and _C(Xn, un, vn) > 0):
        return Outcome("open", "the stated drift does not give the explicit step's ΔC < 0 at C > 0")
    return Outcome("proved", "the stated drift η²π_{−k}²(v_k²‖g‖² − (uᵀg)²) equals the drift derived by exact composition "
                   "with the GD map (D = 2, 3, 4, symbolic data); ΔC ≥ 0 for C ≤ 0 by the certificate "
                   "−C‖g‖² + Σ_{i<j}(z_i g_j − z_j g_i)²; at X = [[1]], y = 0, u = 2, v = 1, η = 0.1 (C = 3 > 0) the "
                   f"stated formula gives ΔC = {dC_stated:.4g} < 0, equal to an explicit numpy step")


# ---------------------------------------------------------------------------------------- Y6
def _sgd_expectation(X, y, u, v, eta, B, replace):
    N = X.shape[0]
    batches = list(itertools.product(range(N), repeat=B)) if replace else list(itertools.combinations(range(N), B))
    C0 = _C(X, u, v)
    vals = []
    for b in batches:
        u2, v2 = _gd_step_np(X, y, u, v, eta, batch=list(b))
        vals.append(_C(X, u2, v2) - C0)
    return float(np.mean(vals))


@register("Y6", SRC, "SGD increases C more than GD does; the extra increase is proportional to (N − B)/B for batch size B.",
          ("D = 2",))
def _y6():
    X, y, u, v, eta = np.array([[1.0], [2.0]]), np.array([0.0, 0.0]), np.array([2.0]), np.array([0.5]), 0.1
    u2, v2 = _gd_step_np(X, y, u, v, eta)
    gd = _C(X, u2, v2) - _C(X, u, v)
    sgd = _sgd_expectation(X, y, u, v, eta, 1, replace=False)
    # the second half, "proportional to (N − B)/B": compare with κ of Y6-corrected
    r_wo = sp.simplify(st.Y6_KAPPA_WITHOUT / st.Y6_PROPORTIONAL_TO)
    r_w = sp.simplify(st.Y6_KAPPA_WITH / st.Y6_PROPORTIONAL_TO)
    prop = (f"the factor (N − B)/B is right without replacement (κ/((N − B)/B) = {r_wo}, independent of B) but not "
            f"with replacement (κ/((N − B)/B) = {r_w})") if not r_wo.has(st.B) and r_w.has(st.B) else ""
    if sgd < gd:
        return Outcome("refuted", f"exhaustive enumeration of batches: E[ΔC_SGD] = {sgd:.6f} < ΔC_GD = {gd:.6f} (B = 1, "
                       "without replacement, C > 0); " + (prop or "proportionality not compared") +
                       " (κ from Y6-corrected)",
                       counterexample={"X": X.tolist(), "y": y.tolist(), "u": u.tolist(), "v": v.tolist(), "eta": eta,
                                       "B": 1, "replacement": False, "E_delta_C_sgd": sgd, "delta_C_gd": gd})
    return Outcome("open", "counterexample did not recompute")


@register("Y6-corrected", SRC_D, "D = 2: E[ΔC_SGD] − ΔC_GD = η² κ (v² tr S − uᵀ S u), S = (1/N) Σ_j (g_j − g)(g_j − g)ᵀ, "
          "g_j = x_j r_j, with κ = (N − B)/(B(N − 1)) for batches drawn without replacement and κ = 1/B with replacement; "
          "it is ≥ 0 whenever C ≤ 0 and can be < 0 when C > 0.",
          ("D = 2; symbolic data N = 3, d = 2, B = 1, 2, exhaustive enumeration",), corrects="Y6")
def _y6_corr():
    from ...symbolic.calculus import gd_map, sgd_map
    from ...symbolic.invariants import gd_drift

    eta = sp.Symbol("eta", positive=True)
    N = 3
    m = _sym_chain(2, N, 2)
    X, y = _data_syms(m)
    u = sp.Matrix(m.block("u").symbols)
    v = m.block("v").symbols[0]
    r = X * u * v - y
    gs = [X[j, :].T * r[j] for j in range(N)]
    g = sum(gs, sp.zeros(2, 1)) / N
    S = sum(((gj - g) * (gj - g).T for gj in gs), sp.zeros(2, 2)) / N
    C = (u.T * u)[0, 0] - v ** 2
    dgd = gd_drift(C, gd_map(m), eta)
    extra_form = st.Y6_extra(eta, v, S, u)   # the statement's formula (without κ)
    for B in (1, 2):
        for replace in (False, True):
            batches = list(itertools.product(range(N), repeat=B)) if replace else list(itertools.combinations(range(N), B))
            mean = sum(gd_drift(C, sgd_map(m, list(b)), eta) for b in batches) / len(batches)
            kappa = (st.Y6_KAPPA_WITH if replace else st.Y6_KAPPA_WITHOUT).subs({st.N: N, st.B: B})
            if sp.expand(mean - dgd - kappa * extra_form) != 0:
                return Outcome("open", f"expected SGD drift differs (B = {B}, replacement = {replace})")
    # sign for C ≤ 0: uᵀSu ≤ ‖u‖² λ_max(S) ≤ ‖u‖² tr S ≤ v² tr S.  Numeric confirmation:
    rng = np.random.default_rng(6)
    for _ in range(20):
        Xn = rng.normal(size=(4, 2))
        yn = rng.normal(size=4)
        vn = np.array([rng.uniform(1, 2)])
        un = rng.normal(size=2)
        un *= rng.uniform(0, 0.99) * vn[0] / np.linalg.norm(un)  # C < 0
        u2, v2 = _gd_step_np(Xn, yn, un, vn, 0.05)
        gd = _C(Xn, u2, v2) - _C(Xn, un, vn)
        for B in (1, 2, 3):
            if _sgd_expectation(Xn, yn, un, vn, 0.05, B, replace=False) < gd - 1e-14:
                return Outcome("open", "sign claim failed numerically")
    # "< 0 possible when C > 0": the stated formula at Y6's example (C = 3.75 > 0), against enumeration
    Xn, yn, un, vn, en = np.array([[1.0], [2.0]]), np.array([0.0, 0.0]), np.array([2.0]), np.array([0.5]), 0.1
    rn = Xn @ un * vn[0] - yn
    gj = [Xn[j] * rn[j] for j in range(2)]
    gm = sum(gj) / 2
    Sc = sp.Matrix(sum(np.outer(a - gm, a - gm) for a in gj) / 2)
    stated = float(st.Y6_KAPPA_WITHOUT.subs({st.N: 2, st.B: 1}) * st.Y6_extra(en, vn[0], Sc, sp.Matrix(un)))
    u2, v2 = _gd_step_np(Xn, yn, un, vn, en)
    enum = _sgd_expectation(Xn, yn, un, vn, en, 1, replace=False) - (_C(Xn, u2, v2) - _C(Xn, un, vn))
    if not (stated < 0 and abs(stated - enum) <= 1e-12 and _C(Xn, un, vn) > 0):
        return Outcome("open", "the stated formula does not reproduce a negative extra drift at C > 0")
    return Outcome("proved", "the stated η²κ(v² tr S − uᵀSu) with the stated κ equals the expected drift derived by exact "
                   "composition with every SGD minibatch map, averaged over all batches, minus the GD drift (N = 3, "
                   "B = 1, 2, with and without replacement); sign for C ≤ 0 by uᵀSu ≤ ‖u‖² tr S ≤ v² tr S, confirmed "
                   f"by enumeration on 20 random cases; at Y6's example (C = 3.75) the formula gives {stated:.6g} < 0, "
                   "equal to the enumeration")


# ---------------------------------------------------------------------------------------- Y7
def _balanced_min_sharpness(X, y, D):
    from .symbolic import dataset_difficulty, full_hessian, svd_coordinates

    E, s, W = svd_coordinates(X)
    Qn = dataset_difficulty(X, y)
    sb = Qn ** (1 / (2 * D))
    beta = np.linalg.pinv(X) @ y
    z = W.T @ beta
    u = W @ (z / np.linalg.norm(z) * sb)
    v = np.full(D - 1, sb)
    return float(np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1]), u, v


@register("Y7", SRC, "Larger Q gives larger sharpness at convergence; deeper networks give larger sharpness.",
          ("sharpness at the balanced global minimum (the one GF reaches from a balanced start)",))
def _y7():
    X = np.array([[1.0]])
    y = np.array([0.1])
    S2, u2, v2 = _balanced_min_sharpness(X, y, 2)
    S3, u3, v3 = _balanced_min_sharpness(X, y, 3)
    XA = np.diag([1.0, 0.1])
    yA, yB = np.array([1.0, 0.0]), np.array([0.0, 0.15])
    SA, _, _ = _balanced_min_sharpness(XA, yA, 2)
    SB, _, _ = _balanced_min_sharpness(XA, yB, 2)
    from .symbolic import dataset_difficulty

    QA, QB = dataset_difficulty(XA, yA), dataset_difficulty(XA, yB)
    if S3 < S2 and QB > QA and SB < SA:
        return Outcome("refuted", f"depth: Q = 0.01, S(D=2) = {S2:.4f} > S(D=3) = {S3:.4f}; "
                       f"Q: Q_A = {QA:.3g} < Q_B = {QB:.3g} but S_A = {SA:.4f} > S_B = {SB:.4f} (numpy eigvalsh)",
                       counterexample={"depth_case": {"X": X.tolist(), "y": y.tolist(), "D2": {"u": u2.tolist(), "v": v2.tolist(), "S": S2},
                                                      "D3": {"u": u3.tolist(), "v": v3.tolist(), "S": S3}},
                                       "Q_case": {"X": XA.tolist(), "y_A": yA.tolist(), "y_B": yB.tolist(), "D": 2,
                                                  "S_A": SA, "S_B": SB, "Q_A": QA, "Q_B": QB}})
    return Outcome("open", "counterexamples did not recompute")


@register("Y7-corrected", SRC_D, "Ŝ_D = σ_1²/N · Q^{(D−1)/D} increases with Q at fixed σ_1 and D, and Ŝ_{D+1} > Ŝ_D iff Q > 1 "
          "(the exact sharpness at balanced minima also depends on the direction of d, not only on Q).",
          ("Q > 0, D ≥ 2 integer",), corrects="Y7")
def _y7_corr():
    Q, D, N, s1 = st.Q, st.D, st.N, st.S1
    Sh = lambda k: st.S_HAT.subs(D, k)   # the statement's Ŝ_D
    dQ = sp.simplify(sp.diff(Sh(D), Q))
    # ∂Ŝ/∂Q = (σ_1²/N)(D−1)/D · Q^{−1/D}: positive for D ≥ 2 (every factor is positive)
    if not (sp.simplify(dQ * N * Q ** (1 / D) / s1 ** 2) - (D - 1) / D).equals(0):
        return Outcome("open", f"∂Ŝ/∂Q = {dQ}")
    ratio = sp.powsimp(sp.simplify(Sh(D + 1) / Sh(D)), force=True)
    expo = sp.simplify(sp.log(ratio).expand(force=True) / sp.log(Q))
    if not (sp.simplify(expo - 1 / (D * (D + 1))) == 0):
        return Outcome("open", f"Ŝ_(D+1)/Ŝ_D = {ratio}")
    # the ratio Q^e with e = 1/(D(D+1)) > 0 exceeds 1 exactly above the root of Q^e = 1
    q = sp.Symbol("q", positive=True)
    roots = sp.solve(sp.Eq(q ** expo, 1), q)
    if roots != [st.Y7_DEPTH_THRESHOLD_Q]:
        return Outcome("open", f"the depth threshold is {roots}, not the stated Q = {st.Y7_DEPTH_THRESHOLD_Q}")
    return Outcome("proved", f"for the stated Ŝ_D: ∂Ŝ_D/∂Q = {dQ} > 0 for D ≥ 2; Ŝ_(D+1)/Ŝ_D = Q^(1/(D(D+1))), > 1 iff "
                   f"Q > {roots[0]} (SymPy), the stated threshold")


# ---------------------------------------------------------------------------------------- structure
@register("CHAIN-perp", "science.md (chain model)", "For the chain model Π_{W⊥}u never moves under GF, GD and SGD.",
          ("symbolic data N = 2, d = 3 (W⊥ nontrivial), D = 2, 3",))
def _chain_perp():
    from ...symbolic.calculus import gradient

    for D in (2, 3):
        m = _sym_chain(D, 2, 3)
        X, y = _data_syms(m)
        u = sp.Matrix(m.block("u").symbols)
        pi = sp.Mul(*m.block("v").symbols)
        for batch in ([0, 1], [0], [1], [1, 1]):
            loss = m.minibatch(batch).loss
            gu = sp.Matrix(gradient(m, loss)[:3])
            r = X * u * pi - y
            coeff = [sum(r[j] for j in batch if j == jj) * pi / len(batch) for jj in range(2)]
            combo = X.T * sp.Matrix(coeff)
            if (gu - combo).applyfunc(sp.expand) != sp.zeros(3, 1):
                return Outcome("open", f"∇_u L is not a combination of the rows (D = {D}, batch {batch})")
    return Outcome("proved", "∇_u of the full and of every minibatch loss equals Xᵀc (a combination of rows x_j), so its "
                   "W⊥ component vanishes identically: GF, GD and SGD never move Π_W⊥u")


@register("CHAIN-zero-loss-ntk", "science.md (any model)", "For the chain model, at zero loss the sharpness equals the top NTK "
          "eigenvalue.", ("symbolic data N = 2, d = 2, D = 2, 3",))
def _chain_zero():
    from ...symbolic.calculus import hessian, hessian_split
    from .symbolic import full_hessian

    for D in (2, 3):
        m = _sym_chain(D, 2, 2)
        split = hessian_split(m)
        if (hessian(m) - split.gauss_newton - split.residual).applyfunc(sp.expand) != sp.zeros(len(m.params), len(m.params)):
            return Outcome("open", "split failed")
        zero = {t: f for t, f in zip(m.targets, m.outputs)}
        if split.residual.xreplace(zero).applyfunc(sp.expand) != sp.zeros(len(m.params), len(m.params)):
            return Outcome("open", "residual part does not vanish at zero loss")
    rng = np.random.default_rng(8)
    for _ in range(10):
        X = rng.normal(size=(3, 5))
        u = rng.normal(size=5)
        v = rng.normal(size=2)
        y = X @ u * np.prod(v)
        J = np.hstack([X * np.prod(v), np.outer(X @ u, [v[1], v[0]])])
        if abs(np.linalg.eigvalsh(full_hessian(X, y, u, v))[-1] - np.linalg.eigvalsh(J @ J.T / 3)[-1]) > 1e-9:
            return Outcome("open", "numeric check failed")
    return Outcome("proved", "∇²L = JᵀJ/N + residual part, the residual part vanishes when y = f(θ) (symbolic); "
                   "nonzero spectra of JᵀJ/N and JJᵀ/N coincide; numeric check at 10 zero-loss points")
