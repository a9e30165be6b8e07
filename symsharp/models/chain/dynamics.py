"""GD and SGD runs of the chain model (single-neuron deep linear network) in SVD coordinates.

Model: f(x; θ) = (xᵀu) ∏_{i=1}^{D−1} v_i, θ = (u ∈ R^d, v_1 … v_{D−1}),
L(θ) = 1/(2N) ‖X u ∏v − y‖².

With the thin SVD X = E diag(σ) Wᵀ (rank r), L depends on u only through z = Wᵀu ∈ R^r; the part
u_⊥ = u − W z of u outside the row space never moves under GD or SGD (every gradient in u lies in
the row space).  So the runs evolve (z, v) only:

- full-batch GD needs σ and d = Eᵀy: one step costs O(r + D), independent of N and d;
- SGD on a minibatch B needs the rows of X' = E diag(σ) (N × r): O(|B| r) per step;
- the loss is exact, including the constant ‖y − E d‖²/(2N) of the part of y outside col X;
- the sharpness is the top eigenvalue of the (r + D − 1)-dimensional Hessian in (z, v), which
  equals the top eigenvalue of the full (d + D − 1)-dimensional Hessian (the change of variables
  is orthogonal and the Hessian vanishes on W⊥).  That Hessian is an "arrowhead": a diagonal
  r × r block plus D − 1 dense border columns, so its top eigenvalue is the largest root of a
  (D − 1)-dimensional secular equation, found exactly (to rounding) by a safeguarded root
  finder in O(r (D − 1)²) per evaluation; small matrices use a dense eigensolver;
- the top NTK eigenvalue (of JJᵀ/N, N × N) equals the top eigenvalue of the Gauss–Newton matrix
  JᵀJ/N in (z, v), an arrowhead matrix of the same shape.

Kernels are plain ``numba.njit(cache=True)`` functions (no fastmath: NaN/inf checks must work and
rounding must be IEEE), compiled for float64 and float32 states.  Observables are always
computed in float64 from the current state.  No SymPy at run time (only
:func:`chain_svd_model` builds a symbolic model, once, for the generic compiled-map machinery).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from ...data.core import DataError, _summary_from_svd, check_xy, svd_coordinates
from ...dynamics.orbits import DynamicsError
from ...io import versions

DTYPES = {"float64": np.float64, "float32": np.float32}
DENSE_MAX = 24
"""Reduced Hessians with r + D − 1 ≤ DENSE_MAX use a dense eigensolver; larger ones the secular
equation."""

RECORD_NAMES = ("loss", "sharpness", "ntk", "C", "u_norm", "v", "prod_v")


# ============================================================================== numba kernels

@nb.njit(cache=True)
def _excl_products(v, ex):
    """ex[j] = ∏_{m≠j} v_m (prefix/suffix products, no division); returns ∏ v (float64)."""
    k = v.shape[0]
    acc = 1.0
    for j in range(k):
        ex[j] = acc
        acc *= float(v[j])
    pi = acc
    acc = 1.0
    for j in range(k - 1, -1, -1):
        ex[j] *= acc
        acc *= float(v[j])
    return pi


@nb.njit(cache=True)
def _pair_excl(v, j, l):
    """∏_{m≠j,l} v_m (float64)."""
    acc = 1.0
    for m in range(v.shape[0]):
        if m != j and m != l:
            acc *= float(v[m])
    return acc


@nb.njit(cache=True)
def _small_top(M):
    """Largest eigenvalue of a small symmetric matrix."""
    k = M.shape[0]
    if k == 1:
        return M[0, 0]
    if k == 2:
        a = M[0, 0]
        b = M[0, 1]
        c = M[1, 1]
        h = 0.5 * (a - c)
        return 0.5 * (a + c) + math.hypot(h, b)
    return np.linalg.eigvalsh(M)[-1]


@nb.njit(cache=True)
def _schur_eval(lam, delta, B, Cm, M, Mp):
    """g(λ) = λ_max(M(λ)) with M(λ) = Cm − λI − Σ_i B_i B_iᵀ/(δ_i − λ) (λ > max δ), and a
    (sub)gradient g'(λ) = xᵀ M'(λ) x, M'(λ) = −I − Σ_i B_i B_iᵀ/(δ_i − λ)², x a unit top
    eigenvector of M(λ).  Returns (g, g')."""
    r, k = B.shape
    if k == 1:
        m = Cm[0, 0] - lam
        mp = -1.0
        for i in range(r):
            b = B[i, 0]
            w = 1.0 / (delta[i] - lam)
            bw = b * b * w
            m -= bw
            mp -= bw * w
        return m, mp
    if k == 2:
        m00 = Cm[0, 0] - lam
        m01 = Cm[0, 1]
        m11 = Cm[1, 1] - lam
        p00 = -1.0
        p01 = 0.0
        p11 = -1.0
        for i in range(r):
            b0 = B[i, 0]
            b1 = B[i, 1]
            w = 1.0 / (delta[i] - lam)
            t0 = b0 * w
            t1 = b1 * w
            m00 -= t0 * b0
            m01 -= t0 * b1
            m11 -= t1 * b1
            p00 -= t0 * t0
            p01 -= t0 * t1
            p11 -= t1 * t1
        h = 0.5 * (m00 - m11)
        rad = math.hypot(h, m01)
        g = 0.5 * (m00 + m11) + rad
        # top eigenvector: (m01, g − m00) or (g − m11, m01), the better conditioned one
        x0 = m01
        x1 = g - m00
        y0 = g - m11
        y1 = m01
        if x0 * x0 + x1 * x1 < y0 * y0 + y1 * y1:
            x0 = y0
            x1 = y1
        nrm = math.hypot(x0, x1)
        if nrm > 0.0:
            x0 /= nrm
            x1 /= nrm
        else:
            x0 = 1.0
            x1 = 0.0
        return g, p00 * x0 * x0 + 2.0 * p01 * x0 * x1 + p11 * x1 * x1
    for a in range(k):
        for b in range(k):
            M[a, b] = Cm[a, b]
            Mp[a, b] = 0.0
        M[a, a] -= lam
        Mp[a, a] = -1.0
    for i in range(r):
        w = 1.0 / (delta[i] - lam)
        for a in range(k):
            ta = B[i, a] * w
            for b in range(k):
                tb = B[i, b] * w
                M[a, b] -= ta * B[i, b]
                Mp[a, b] -= ta * tb
    vals, vecs = np.linalg.eigh(M)
    x = vecs[:, k - 1]
    gp = 0.0
    for a in range(k):
        for b in range(k):
            gp += x[a] * Mp[a, b] * x[b]
    return vals[k - 1], gp


@nb.njit(cache=True)
def _dense_arrow(delta, B, Cm, m):
    """Top eigenvalue of the principal submatrix on the first m diagonal entries and the border."""
    r, k = B.shape
    n = m + k
    H = np.zeros((n, n))
    for i in range(m):
        H[i, i] = delta[i]
        for a in range(k):
            H[i, m + a] = B[i, a]
            H[m + a, i] = B[i, a]
    for a in range(k):
        for b in range(k):
            H[m + a, m + b] = Cm[a, b]
    return np.linalg.eigvalsh(H)[-1]


@nb.njit(cache=True)
def _arrow_top(delta, B, Cm, dense_max):
    """Largest eigenvalue of the symmetric arrowhead matrix [[diag δ, B], [Bᵀ, Cm]], with δ in
    decreasing order.

    For λ > δ_1 = max δ, Haynsworth's inertia theorem gives #{eig > λ} = #{eig of M(λ) > 0} with
    the Schur complement M(λ) = Cm − λI − Σ_i B_i B_iᵀ/(δ_i − λ).  There M is matrix-convex and
    decreasing, so g(λ) = λ_max(M(λ)) is convex and strictly decreasing, and the top eigenvalue
    λ* ≥ δ_1 (interlacing) is its root (or δ_1 if g < 0 on (δ_1, ∞)).  Start: the top eigenvalue
    of the principal submatrix on the 8 largest δ and the border, a lower bound of λ*
    (interlacing); then Newton steps from the left, which never overshoot the root of a convex
    decreasing function (quadratic convergence), until the step or the Newton error estimate
    g''·step²/(2|g'|) is at the rounding level (an iterate that lands right of the root by
    rounding ends the search; a large one falls back to bisection).  Matrices with r + k ≤ ``dense_max`` go to a dense
    eigensolver."""
    r, k = B.shape
    if r + k <= dense_max:
        return _dense_arrow(delta, B, Cm, r)
    eps = 2.220446049250313e-16
    d1 = delta[0]
    bn = 0.0
    for i in range(r):
        for a in range(k):
            bn += B[i, a] * B[i, a]
    bn = math.sqrt(bn)
    M = np.empty((k, k))
    Mp = np.empty((k, k))
    ctop = _small_top(Cm.copy())
    hi = max(d1, ctop) + bn
    hi = hi + 4.0 * eps * abs(hi) + 1e-300
    if not (bn > 0.0):
        return max(d1, ctop)
    lo = _dense_arrow(delta, B, Cm, min(r, 8))
    floor = d1 + 4.0 * eps * abs(d1) + 1e-300
    if not (lo > floor):
        lo = floor
    if lo >= hi:
        return lo
    g, gp = _schur_eval(lo, delta, B, Cm, M, Mp)
    if not (g > 0.0):
        return lo if lo > floor else d1
    lo_prev = np.nan
    gp_prev = np.nan
    for it in range(100):
        if gp < 0.0:
            x = lo - g / gp
        else:
            x = 0.5 * (lo + hi)
        if not (x < hi):
            x = 0.5 * (lo + hi)
        step = x - lo
        if not (step > 4.0 * eps * abs(x)):
            return x
        # Newton error estimate (root − x) ≈ g''/(2|g'|) · step², with g'' from the last two slopes
        if lo_prev == lo_prev and lo > lo_prev:
            curv = abs((gp - gp_prev) / (lo - lo_prev))
            if curv / (2.0 * abs(gp)) * step * step <= 2.0 * eps * abs(x) and step <= 1e-6 * abs(x):
                return x
        gx, gpx = _schur_eval(x, delta, B, Cm, M, Mp)
        if gx > 0.0:
            lo_prev = lo
            gp_prev = gp
            lo = x
            g = gx
            gp = gpx
        elif gx < 0.0:
            # Newton from the left cannot overshoot in exact arithmetic: g(lo) was at rounding level
            return 0.5 * (lo + x) if step <= 1e-6 * abs(x) else _bisect_rest(lo, x, delta, B, Cm, M, Mp)
        else:
            return x
    return lo


@nb.njit(cache=True)
def _bisect_rest(lo, hi, delta, B, Cm, M, Mp):
    """Plain bisection of g on [lo, hi] (g(lo) > 0 > g(hi)) to a relative width of 4 ε."""
    for it in range(200):
        if hi - lo <= 4.0 * 2.220446049250313e-16 * abs(hi):
            break
        x = 0.5 * (lo + hi)
        if not (lo < x < hi):
            break
        gx, _ = _schur_eval(x, delta, B, Cm, M, Mp)
        if gx > 0.0:
            lo = x
        elif gx < 0.0:
            hi = x
        else:
            return x
    return 0.5 * (lo + hi)


@nb.njit(cache=True)
def _observe(z, v, sig, dd, N, ycon, uperp2, dense_max, out):
    """Observables of the state (z, v), computed in float64, written to ``out``:
    loss, sharpness, ntk, C_1..C_k, u_norm, v_1..v_k, prod_v."""
    r = z.shape[0]
    k = v.shape[0]
    ex = np.empty(k)
    pi = _excl_products(v, ex)
    a = 0.0
    s2 = 0.0
    zz = 0.0
    res2 = 0.0
    rho = np.empty(r)
    for i in range(r):
        zi = float(z[i])
        o = sig[i] * zi
        rh = o * pi - dd[i]
        rho[i] = rh
        res2 += rh * rh
        a += rh * o
        s2 += o * o
        zz += zi * zi
    invN = 1.0 / N
    delta = np.empty(r)
    for i in range(r):
        delta[i] = pi * pi * sig[i] * sig[i] * invN
    # loss Hessian in (z, v)
    Bm = np.empty((r, k))
    for i in range(r):
        o = sig[i] * float(z[i])
        for j in range(k):
            Bm[i, j] = ex[j] * sig[i] * (rho[i] + o * pi) * invN
    Cm = np.empty((k, k))
    for j in range(k):
        for l in range(k):
            if j == l:
                Cm[j, l] = s2 * ex[j] * ex[j] * invN
            else:
                Cm[j, l] = (s2 * ex[j] * ex[l] + a * _pair_excl(v, j, l)) * invN
    sharp = _arrow_top(delta, Bm, Cm, dense_max)
    # Gauss–Newton matrix JᵀJ/N in (z, v): same nonzero spectrum as the NTK JJᵀ/N
    for i in range(r):
        o = sig[i] * float(z[i])
        for j in range(k):
            Bm[i, j] = pi * ex[j] * sig[i] * o * invN
    for j in range(k):
        for l in range(k):
            Cm[j, l] = s2 * ex[j] * ex[l] * invN
    ntk = _arrow_top(delta, Bm, Cm, dense_max)
    out[0] = (res2 + ycon) * 0.5 * invN
    out[1] = sharp
    out[2] = ntk
    for j in range(k):
        vj = float(v[j])
        out[3 + j] = zz - vj * vj
        out[4 + k + j] = vj
    out[3 + k] = math.sqrt(zz + uperp2)
    out[4 + 2 * k] = pi


@nb.njit(cache=True)
def _state_norm2(z, v):
    s = 0.0
    for i in range(z.shape[0]):
        s += float(z[i]) * float(z[i])
    for j in range(v.shape[0]):
        s += float(v[j]) * float(v[j])
    return s


@nb.njit(cache=True)
def _record_if_due(t, z, v, sig64, dd64, N, ycon, uperp2, dense_max, rec_steps, rec, pos):
    if pos < rec_steps.shape[0] and rec_steps[pos] == t:
        _observe(z, v, sig64, dd64, N, ycon, uperp2, dense_max, rec[pos])
        return pos + 1
    return pos


@nb.njit(cache=True)
def _sum8(x):
    """Σ x_i with eight independent partial sums (deterministic IEEE arithmetic)."""
    r = x.shape[0]
    r8 = r - r % 8
    a0 = x[0] - x[0]          # zero of the dtype (r >= 1; NaN if x[0] is not finite, as the sum would be)
    a1 = a0
    a2 = a0
    a3 = a0
    a4 = a0
    a5 = a0
    a6 = a0
    a7 = a0
    for i in range(0, r8, 8):
        a0 += x[i]
        a1 += x[i + 1]
        a2 += x[i + 2]
        a3 += x[i + 3]
        a4 += x[i + 4]
        a5 += x[i + 5]
        a6 += x[i + 6]
        a7 += x[i + 7]
    for i in range(r8, r):
        a0 += x[i]
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))


@nb.njit(cache=True, inline="always")
def _state_products(v, ex, one):
    """π = ∏ v_j and ex[j] = ∏_{m≠j} v_m (``one`` when D = 2), in the state dtype, by plain
    products (no division, so a zero factor is exact)."""
    k = v.shape[0]
    pi = v[0]
    for j in range(1, k):
        pi = pi * v[j]
    for j in range(k):
        e = v[0]
        first = True
        for m in range(k):
            if m != j:
                e = v[m] if first else e * v[m]
                first = False
        ex[j] = e if not first else one
    return pi


@nb.njit(cache=True)
def gd_chunk(z, v, sig, dd, c, t0, nsteps, thr2, sig64, dd64, N, ycon, uperp2, dense_max, rec_steps, rec, pos):
    """Full-batch GD in SVD coordinates, ``nsteps`` steps from step ``t0``, in place on (z, v).

    One step (π = ∏v, ρ_i = σ_i z_i π − d_i, a = Σ ρ_i σ_i z_i, c = η/N in the state dtype):
    z_i ← z_i − c π σ_i ρ_i,  v_j ← v_j − c a ∏_{m≠j} v_m.  The state at step t is recorded
    when t == rec_steps[pos] (t = t0 … t0 + nsteps).  After each step the run stops if
    ‖(z, v)‖² > thr2 or is NaN.  Returns (next record position, step of divergence or −1)."""
    r = z.shape[0]
    k = v.shape[0]
    ex = np.empty_like(v)
    ta = np.empty_like(z)
    tq = np.empty_like(z)
    for s in range(nsteps + 1):
        t = t0 + s
        pos = _record_if_due(t, z, v, sig64, dd64, N, ycon, uperp2, dense_max, rec_steps, rec, pos)
        if s == nsteps:
            break
        # π and the products of the other factors, in the state dtype
        pi = _state_products(v, ex, c / c)
        cp = c * pi
        # pass 1 (vectorisable, no reduction): new z and the terms of a = Σ ρ_i σ_i z_i and ‖z_new‖²;
        # pass 2: the two sums with eight independent partial sums each (IEEE, deterministic)
        for i in range(r):
            zi = z[i]
            o = sig[i] * zi
            rho = o * pi - dd[i]
            ta[i] = rho * o
            zn = zi - cp * sig[i] * rho
            z[i] = zn
            tq[i] = zn * zn
        a = _sum8(ta)
        zz = _sum8(tq)
        ca = c * a
        for j in range(k):
            vn = v[j] - ca * ex[j]
            v[j] = vn
            zz += vn * vn
        if not (float(zz) <= thr2):
            return pos, t + 1
    return pos, -1


@nb.njit(cache=True)
def _row_dot(Xp, row, z):
    """Xp[row] · z with eight independent partial sums (deterministic IEEE arithmetic)."""
    r = z.shape[0]
    r8 = r - r % 8
    a0 = z[0] - z[0]
    a1 = a0
    a2 = a0
    a3 = a0
    a4 = a0
    a5 = a0
    a6 = a0
    a7 = a0
    for i in range(0, r8, 8):
        a0 += Xp[row, i] * z[i]
        a1 += Xp[row, i + 1] * z[i + 1]
        a2 += Xp[row, i + 2] * z[i + 2]
        a3 += Xp[row, i + 3] * z[i + 3]
        a4 += Xp[row, i + 4] * z[i + 4]
        a5 += Xp[row, i + 5] * z[i + 5]
        a6 += Xp[row, i + 6] * z[i + 6]
        a7 += Xp[row, i + 7] * z[i + 7]
    for i in range(r8, r):
        a0 += Xp[row, i] * z[i]
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))


@nb.njit(cache=True)
def sgd_chunk(z, v, Xp, yv, idx, starts, eta, t0, nsteps, thr2, sig64, dd64, N, ycon, uperp2, dense_max,
              rec_steps, rec, pos):
    """Minibatch SGD in SVD coordinates, in place on (z, v); step s uses the example indices
    idx[starts[s]:starts[s+1]] (repeats allowed).

    One step on a batch B (π = ∏v, o_j = X'_j·z, ρ_j = o_j π − y_j, c = η/|B| rounded to the state
    dtype): z ← z − c π Σ_j ρ_j X'_j,  v_m ← v_m − c (Σ_j ρ_j o_j) ∏_{m'≠m} v_{m'}.  Records and
    divergence checks as in :func:`gd_chunk`."""
    r = z.shape[0]
    k = v.shape[0]
    ex = np.empty_like(v)
    cbuf = np.empty(1, z.dtype)
    bmax = 0
    for s in range(nsteps):
        bmax = max(bmax, starts[s + 1] - starts[s])
    res = np.empty(max(bmax, 1), z.dtype)
    for s in range(nsteps + 1):
        t = t0 + s
        pos = _record_if_due(t, z, v, sig64, dd64, N, ycon, uperp2, dense_max, rec_steps, rec, pos)
        if s == nsteps:
            break
        b0 = starts[s]
        b1 = starts[s + 1]
        cbuf[0] = eta / (b1 - b0)
        c = cbuf[0]
        pi = _state_products(v, ex, c / c)
        a = c - c
        for jj in range(b0, b1):
            row = idx[jj]
            o = _row_dot(Xp, row, z)
            rho = o * pi - yv[row]
            res[jj - b0] = rho
            a += rho * o
        cp = c * pi
        for jj in range(b0, b1):
            row = idx[jj]
            w = cp * res[jj - b0]
            for i in range(r):
                z[i] -= w * Xp[row, i]
        ca = c * a
        for j in range(k):
            v[j] = v[j] - ca * ex[j]
        if not (_state_norm2(z, v) <= thr2):
            return pos, t + 1
    return pos, -1


# ============================================================================== batches

class BatchSampler:
    """The minibatch index sequence of an SGD run (reproducible from ``seed``).

    - ``replacement=False``: every epoch is a fresh permutation of 0 … N−1 (``numpy.random``
      ``default_rng(seed).permutation``), cut into consecutive batches of size ``batch``.  When
      N % batch ≠ 0 the last batch of an epoch has only N % batch examples (and its own 1/|B|
      normalisation), like PyTorch's ``drop_last=False``; with ``drop_last=True`` those examples
      are skipped and every batch has exactly ``batch`` examples.
    - ``replacement=True``: every step draws ``batch`` indices iid uniform from 0 … N−1 (drawn in
      blocks of 4096 steps, so the sequence does not depend on how a run is split in chunks).

    :meth:`take` returns the next ``n`` batches as (flat indices, starts) with batch s =
    ``idx[starts[s]:starts[s+1]]``."""

    BLOCK = 4096

    def __init__(self, N: int, batch: int, replacement: bool = False, seed: int = 0, drop_last: bool = False):
        self.N, self.batch, self.replacement, self.drop_last = int(N), int(batch), bool(replacement), bool(drop_last)
        self.rng = np.random.default_rng(seed)
        self._perm = np.zeros(0, np.int64)
        self._p = 0
        self._buf = np.zeros((0, self.batch), np.int64)
        self._b = 0

    def _next_wo(self):
        rem = len(self._perm) - self._p
        if rem == 0 or (self.drop_last and rem < self.batch):
            self._perm = self.rng.permutation(self.N).astype(np.int64)
            self._p = 0
        out = self._perm[self._p:self._p + self.batch]
        self._p += len(out)
        return out

    def take(self, n: int):
        n = int(n)
        if self.replacement:
            need = n
            parts = []
            while need > 0:
                if self._b == len(self._buf):
                    self._buf = self.rng.integers(0, self.N, size=(self.BLOCK, self.batch), dtype=np.int64)
                    self._b = 0
                m = min(need, len(self._buf) - self._b)
                parts.append(self._buf[self._b:self._b + m])
                self._b += m
                need -= m
            idx = np.concatenate(parts).reshape(-1) if parts else np.zeros(0, np.int64)
            starts = np.arange(n + 1, dtype=np.int64) * self.batch
            return idx, starts
        batches = [self._next_wo() for _ in range(n)]
        starts = np.zeros(n + 1, np.int64)
        starts[1:] = np.cumsum([len(b) for b in batches])
        idx = np.concatenate(batches) if batches else np.zeros(0, np.int64)
        return idx.astype(np.int64), starts


def sgd_batches(N: int, batch: int, steps: int, replacement: bool = False, seed: int = 0,
                drop_last: bool = False) -> list:
    """The list of the first ``steps`` minibatches (index arrays) that :func:`run_chain` uses with
    these arguments (see :class:`BatchSampler`)."""
    idx, starts = BatchSampler(N, batch, replacement, seed, drop_last).take(steps)
    return [idx[starts[s]:starts[s + 1]].copy() for s in range(int(steps))]


# ============================================================================== Python API

@dataclass
class ChainRun:
    """Result of :func:`run_chain`.

    steps (R,): recorded step indices (0, record_every, 2·record_every, …, and the last step;
    only steps before a divergence).  records: {name: array}: ``loss`` (R,) full-batch loss,
    ``sharpness`` (R,) top eigenvalue of the loss Hessian, ``ntk`` (R,) top eigenvalue of the
    NTK JJᵀ/N, ``C`` (R, D−1) imbalances ‖Π_W u‖² − v_i², ``u_norm`` (R,) ‖u‖ (including the
    frozen part outside the row space), ``v`` (R, D−1), ``prod_v`` (R,).  diverged_at: the step
    after which ‖(Π_W u, v)‖ first exceeded the threshold or became non-finite (None if never).
    final_u (d,), final_v (D−1,): the state at the end (or at divergence), float64.  config:
    every argument except arrays, the data summary, library versions.  seconds: wall time of
    the run (SVD and set-up included; ``config["svd_seconds"]`` is the SVD alone and
    ``config["kernel_seconds"]`` the time inside the compiled step kernels, records included)."""

    steps: np.ndarray
    records: dict
    diverged_at: int | None
    final_u: np.ndarray
    final_v: np.ndarray
    config: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def _int_arg(value, name, minimum):
    if isinstance(value, bool):
        raise DynamicsError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        iv = int(value)
    except (TypeError, ValueError):
        raise DynamicsError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if iv != value or iv < minimum:
        raise DynamicsError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return iv


def _pos_float(value, name, allow_zero=False):
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise DynamicsError(f"{name} must be a positive finite number, got {value!r}") from None
    if not math.isfinite(f) or f < 0 or (f == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise DynamicsError(f"{name} must be a {kind} finite number, got {value!r}")
    return f


def _check_data(X, y):
    try:
        return check_xy(X, y)
    except DataError as exc:
        raise DynamicsError(str(exc)) from None


def _vec_arg(a, n, name):
    arr = np.asarray(a, dtype=np.float64).reshape(-1) if np.ndim(a) <= 1 else np.asarray(a, dtype=np.float64)
    if arr.shape != (n,):
        raise DynamicsError(f"{name} must have {n} entries, got shape {np.shape(a)}")
    if not np.all(np.isfinite(arr)):
        raise DynamicsError(f"{name} contains NaN or infinite entries; all entries must be finite")
    return arr.copy()


def _svd_arg(X, svd):
    if svd is None:
        return svd_coordinates(X)
    try:
        E, s, W = (np.asarray(a, dtype=np.float64) for a in svd)
    except (TypeError, ValueError):
        raise DynamicsError("svd must be the tuple (E, s, W) returned by symsharp.data.svd_coordinates(X)") from None
    N, d = X.shape
    r = s.shape[0] if s.ndim == 1 else -1
    if s.ndim != 1 or E.shape != (N, r) or W.shape != (d, r):
        raise DynamicsError(f"svd must be (E (N, r), s (r,), W (d, r)) for X of shape {X.shape}, got shapes "
                            f"{E.shape}, {s.shape}, {W.shape}")
    if r and not (np.all(s > 0) and np.all(np.diff(s) <= 0)):
        raise DynamicsError("svd singular values must be positive and in decreasing order, as returned by "
                            "symsharp.data.svd_coordinates(X)")
    return E, s, W


def init_chain(d: int, depth: int, init_scale: float = 0.1, seed: int = 0):
    """The default initial state: u ~ N(0, init_scale²/d · I_d) (so ‖u‖ ≈ init_scale) and
    v_i ~ N(0, init_scale²) iid, drawn from ``numpy.random.default_rng(seed)`` (u first)."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d) * (init_scale / math.sqrt(d))
    v = rng.standard_normal(depth - 1) * init_scale
    return u, v


def _check_batches(batch, batches, steps: int, N: int):
    """Validated ``batch`` (an int in 1..N or None) and ``batches`` (index arrays or None)."""
    if batch is not None:
        batch = _int_arg(batch, "batch", 1)
        if batch > N:
            raise DynamicsError(f"batch must be between 1 and the number of samples N = {N}, got {batch}")
    if batches is not None:
        batches = [np.asarray(b, dtype=np.int64).reshape(-1) for b in batches]
        if len(batches) < steps:
            raise DynamicsError(f"batches has {len(batches)} index arrays but steps = {steps} are needed")
        for s, b in enumerate(batches[:steps]):
            if b.size == 0 or b.min() < 0 or b.max() >= N:
                raise DynamicsError(f"batch {s} must be a non-empty list of indices in 0..{N - 1}, got {b.tolist()}")
    return batch, batches


@dataclass
class _SVDStart:
    """The run's data and initial state in SVD coordinates (see the module docstring)."""

    E: np.ndarray
    sig: np.ndarray
    W: np.ndarray
    dd: np.ndarray          # Eᵀy
    ycon: float             # ‖y − E Eᵀy‖², the loss constant outside col X
    z: np.ndarray           # Wᵀu (float64)
    u_perp: np.ndarray      # u − W z, frozen under GD and SGD
    svd_seconds: float


def _svd_start(X, y, u, svd) -> _SVDStart:
    t = time.perf_counter()
    E, sig, W = _svd_arg(X, svd)
    svd_seconds = time.perf_counter() - t
    if sig.size == 0:
        raise DynamicsError("X has rank 0 (all entries zero); the chain model needs data with rank >= 1")
    dd = E.T @ y
    z = W.T @ u
    return _SVDStart(E, sig, W, dd, float(np.sum((y - E @ dd) ** 2)), z, u - W @ z, svd_seconds)


def _record_steps(steps: int, record_every: int) -> np.ndarray:
    """0, record_every, 2·record_every, …, and always the last step."""
    rec_steps = np.arange(0, steps + 1, record_every, dtype=np.int64)
    if rec_steps[-1] != steps:
        rec_steps = np.append(rec_steps, np.int64(steps))
    return rec_steps


def _chunk_source(st: _SVDStart, X, y, eta: float, batch, batches, replacement, seed, drop_last, dt, chunk):
    """(chunk length, step(z, v, t0, n, pos, observe_args) → (pos, div_at)) for GD or SGD."""
    N = X.shape[0]
    if batch is None and batches is None:
        sig_t = np.ascontiguousarray(st.sig, dtype=dt)
        dd_t = np.ascontiguousarray(st.dd, dtype=dt)
        c = np.array([eta / N], dtype=dt)[0]

        def step(z, v, t0, n, pos, obs):
            return gd_chunk(z, v, sig_t, dd_t, c, t0, n, *obs, pos)
        return chunk, step
    Xp = np.ascontiguousarray(st.E * st.sig, dtype=dt)          # X' = E diag σ  (N × r)
    yv = np.ascontiguousarray(y, dtype=dt)
    sampler = BatchSampler(N, batch, replacement, seed, drop_last) if batches is None else None

    def step(z, v, t0, n, pos, obs):
        if sampler is not None:
            idx, starts = sampler.take(n)
        else:
            sel = batches[t0:t0 + n]
            starts = np.zeros(n + 1, np.int64)
            starts[1:] = np.cumsum([len(b) for b in sel])
            idx = np.concatenate(sel) if sel else np.zeros(0, np.int64)
        return sgd_chunk(z, v, Xp, yv, idx, starts, eta, t0, n, *obs, pos)
    return min(chunk, max(1, (1 << 20) // (batch or 1))), step


def _iterate(step, z, vs, steps: int, chunk: int, obs: tuple, div_at: int, bar) -> tuple:
    """Run ``step`` chunk by chunk until ``steps`` or a divergence; (pos, div_at, kernel seconds)."""
    t0 = pos = 0
    kernel_seconds = 0.0
    while div_at < 0:
        n = min(chunk, steps - t0)
        tk = time.perf_counter()
        pos, div_at = step(z, vs, t0, n, pos, obs)
        kernel_seconds += time.perf_counter() - tk
        if bar is not None:
            bar.update(n if div_at < 0 else div_at - t0)
        t0 += n
        if t0 >= steps:
            break
    return pos, div_at, kernel_seconds


def _split_records(rec: np.ndarray, k: int) -> dict:
    return {"loss": rec[:, 0].copy(), "sharpness": rec[:, 1].copy(), "ntk": rec[:, 2].copy(),
            "C": rec[:, 3:3 + k].copy(), "u_norm": rec[:, 3 + k].copy(), "v": rec[:, 4 + k:4 + 2 * k].copy(),
            "prod_v": rec[:, 4 + 2 * k].copy()}


def run_chain(X, y, depth: int, eta: float, steps: int, record_every: int = 1, batch: int | None = None,
              replacement: bool = False, seed: int = 0, init_scale: float = 0.1, u0=None, v0=None,
              threshold: float = 1e6, dtype: str = "float64", progress: bool = False, drop_last: bool = False,
              batches=None, svd=None) -> ChainRun:
    """Train the depth-D chain model on (X, y) with GD (``batch=None``) or minibatch SGD.

    Runs in SVD coordinates (see the module docstring); the result is the same as plain GD/SGD in
    the raw coordinates up to rounding.  ``u0`` (d,) and ``v0`` (D−1,) give the initial state,
    otherwise :func:`init_chain` draws it with ``init_scale`` and ``seed``.  SGD batches come
    from :class:`BatchSampler` (``batch``, ``replacement``, ``drop_last``, the same ``seed``; the
    sampler's generator is separate from the initialisation's) or from ``batches``, an explicit
    sequence of at least ``steps`` index arrays.  The state is recorded every ``record_every``
    steps and at the last step.  The run stops when ‖(Π_W u, v)‖ exceeds ``threshold`` or is not
    finite (checked after every step).  ``dtype`` ("float64" or "float32") is the arithmetic of
    the steps; η/N (η/|B|) is rounded to it once.  ``progress`` shows a tqdm bar, updated in
    about 100 chunks.  ``svd``: the result ``(E, s, W)`` of :func:`symsharp.data.svd_coordinates`
    for this X, to skip the SVD when many runs share the data (not checked beyond shapes)."""
    t_start = time.perf_counter()
    D = _int_arg(depth, "depth", 2)
    eta_f = _pos_float(eta, "eta (learning rate)")
    steps = _int_arg(steps, "steps", 0)
    record_every = _int_arg(record_every, "record_every", 1)
    thr = _pos_float(threshold, "threshold")
    init_scale = _pos_float(init_scale, "init_scale", allow_zero=True)
    if dtype not in DTYPES:
        raise DynamicsError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    dt = DTYPES[dtype]
    X, y = _check_data(X, y)
    N, d = X.shape
    batch, batches = _check_batches(batch, batches, steps, N)
    sgd = batch is not None or batches is not None
    if u0 is None or v0 is None:
        ud, vd = init_chain(d, D, init_scale, seed)
    u = _vec_arg(u0, d, "u0") if u0 is not None else ud
    v = _vec_arg(v0, D - 1, "v0") if v0 is not None else vd

    st = _svd_start(X, y, u, svd)
    summary = _summary_from_svd(N, d, st.E, st.sig, y, D)
    z = np.ascontiguousarray(st.z, dtype=dt)
    vs = np.ascontiguousarray(v, dtype=dt)
    rec_steps = _record_steps(steps, record_every)
    k = D - 1
    rec = np.full((len(rec_steps), 5 + 2 * k), np.nan)
    thr2 = thr * thr
    div_at = -1 if _state_norm2(z, vs) <= thr2 else 0
    config = {"method": "sgd" if sgd else "gd", "depth": D, "eta": eta_f, "steps": steps,
              "record_every": record_every, "batch": batch, "replacement": bool(replacement),
              "drop_last": bool(drop_last), "explicit_batches": batches is not None, "seed": seed,
              "init_scale": init_scale, "u0_given": u0 is not None, "v0_given": v0 is not None,
              "threshold": thr, "dtype": dtype, "data": summary, "svd_seconds": st.svd_seconds,
              "versions": versions()}

    n_chunks = 100 if (progress and steps >= 100) else 1
    chunk, step = _chunk_source(st, X, y, eta_f, batch, batches, replacement, seed, drop_last, dt,
                                max(1, -(-steps // n_chunks)))
    # the arguments every chunk kernel takes after its own: threshold, observables' data, records
    obs = (thr2, np.ascontiguousarray(st.sig), np.ascontiguousarray(st.dd), float(N), st.ycon,
           float(st.u_perp @ st.u_perp), DENSE_MAX, rec_steps, rec)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, unit="step", desc=f"chain {'SGD' if sgd else 'GD'} D={D}")
    try:
        pos, div_at, config["kernel_seconds"] = _iterate(step, z, vs, steps, chunk, obs, div_at, bar)
    finally:
        if bar is not None:
            bar.close()
    return ChainRun(steps=rec_steps[:pos].copy(), records=_split_records(rec[:pos], k),
                    diverged_at=None if div_at < 0 else int(div_at),
                    final_u=st.W @ z.astype(np.float64) + st.u_perp, final_v=vs.astype(np.float64), config=config,
                    seconds=time.perf_counter() - t_start)


def chain_observables(X, y, u, v, method: str = "auto", svd=None) -> dict:
    """The recorded observables of one state (u, v), computed as in :func:`run_chain`:
    {loss, sharpness, ntk, C, u_norm, v, prod_v}.  ``method``: "auto", "dense" (dense
    eigensolver on the reduced matrices) or "secular" (the arrowhead root finder)."""
    X, y = _check_data(X, y)
    N, d = X.shape
    v = np.atleast_1d(np.asarray(v, dtype=np.float64))
    k = v.size
    if k < 1:
        raise DynamicsError("v must have at least one entry (depth >= 2)")
    u = _vec_arg(u, d, "u")
    dense_max = {"auto": DENSE_MAX, "dense": 1 << 30, "secular": 0}.get(method)
    if dense_max is None:
        raise DynamicsError(f"method must be 'auto', 'dense' or 'secular', got {method!r}")
    E, sig, W = _svd_arg(X, svd)
    dd = E.T @ y
    ycon = float(np.sum((y - E @ dd) ** 2))
    z = W.T @ u
    up = u - W @ z
    out = np.empty(5 + 2 * k)
    _observe(np.ascontiguousarray(z), np.ascontiguousarray(v), np.ascontiguousarray(sig), np.ascontiguousarray(dd),
             float(N), ycon, float(up @ up), dense_max, out)
    return {"loss": out[0], "sharpness": out[1], "ntk": out[2], "C": out[3:3 + k].copy(), "u_norm": out[3 + k],
            "v": out[4 + k:4 + 2 * k].copy(), "prod_v": out[4 + 2 * k]}


def arrow_top_eigenvalue(delta, B, Cm, method: str = "secular") -> float:
    """Largest eigenvalue of the symmetric arrowhead matrix [[diag δ, B], [Bᵀ, Cm]] (δ (r,),
    B (r, k), Cm (k, k) symmetric) by the secular-equation root finder or a dense solver."""
    delta = np.asarray(delta, dtype=np.float64).reshape(-1)
    order = np.argsort(-delta, kind="stable")
    B = np.ascontiguousarray(np.asarray(B, dtype=np.float64).reshape(delta.size, -1)[order])
    delta = np.ascontiguousarray(delta[order])
    Cm = np.ascontiguousarray(Cm, dtype=np.float64)
    return float(_arrow_top(delta, B, Cm, 0 if method == "secular" else 1 << 30))


# ============================================================================== references

def chain_gd_numpy(X, y, u, v, eta: float, steps: int):
    """Plain NumPy GD in raw coordinates (two dense mat-vecs per step): the baseline and test
    oracle.  Returns (u, v, loss) with the final state and the loss at steps 0 … steps."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    u = np.array(u, dtype=np.float64)
    v = np.array(np.atleast_1d(v), dtype=np.float64)
    N = X.shape[0]
    k = v.size
    loss = np.empty(int(steps) + 1)
    ex = np.empty(k)
    for t in range(int(steps) + 1):
        pi = np.prod(v)
        Xu = X @ u
        r = Xu * pi - y
        loss[t] = (r @ r) / (2 * N)
        if t == steps:
            break
        for j in range(k):
            ex[j] = np.prod(np.delete(v, j))
        gu = (pi / N) * (X.T @ r)
        gv = ((r @ Xu) / N) * ex
        u -= eta * gu
        v -= eta * gv
    return u, v, loss


def chain_sgd_numpy(X, y, u, v, eta: float, batches):
    """Plain NumPy minibatch SGD in raw coordinates on the given index arrays (one per step):
    u ← u − η π/|B| X_Bᵀ r_B, v_j ← v_j − η (r_B·X_B u)/|B| ∏_{m≠j} v_m.  Returns (u, v, loss)
    with the full-batch loss at steps 0 … len(batches)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    u = np.array(u, dtype=np.float64)
    v = np.array(np.atleast_1d(v), dtype=np.float64)
    N = X.shape[0]
    k = v.size
    loss = np.empty(len(batches) + 1)
    for t in range(len(batches) + 1):
        r = (X @ u) * np.prod(v) - y
        loss[t] = (r @ r) / (2 * N)
        if t == len(batches):
            break
        b = np.asarray(batches[t])
        Xb = X[b]
        pi = np.prod(v)
        Xu = Xb @ u
        rb = Xu * pi - y[b]
        ex = np.array([np.prod(np.delete(v, j)) for j in range(k)])
        gu = (pi / len(b)) * (Xb.T @ rb)
        gv = ((rb @ Xu) / len(b)) * ex
        u -= eta * gu
        v -= eta * gv
    return u, v, loss


# ============================================================================== generic machinery

def chain_svd_model(X, y, depth: int, max_rank: int = 8):
    """The chain model on the reduced data, as a :class:`symsharp.models.Model` for the generic
    compiled-map machinery (``symsharp.codegen.maps.gd_kernel(model)``, orbit diagrams, Lyapunov).

    Built once with :func:`symsharp.models.chain_model` on X'' = diag(σ) (r × r) and y'' = d =
    Eᵀy, with the loss replaced by the exact full-data loss
    1/(2N)[Σ_i (σ_i z_i ∏v − d_i)² + ‖y − E d‖²] (same GD map as the full model in the
    coordinates z = Wᵀu, W from :func:`symsharp.data.svd_coordinates`).  Its parameters are
    named u_1 … u_r (they are the coordinates z_i) and v_1 … v_{D−1}; its outputs are the r SVD
    outputs σ_i z_i ∏v with targets d_i.  Only for full-batch GD (``minibatch`` of this model is
    not the SGD of the original data).  Needs rank r ≤ ``max_rank`` (symbolic size grows with r)."""
    import dataclasses

    import sympy as sp

    from .model import chain_model

    D = _int_arg(depth, "depth", 2)
    X, y = _check_data(X, y)
    N = X.shape[0]
    E, sig, W = svd_coordinates(X)
    r = sig.size
    if r == 0:
        raise DynamicsError("X has rank 0; the chain model on it has no trainable direction")
    if r > max_rank:
        raise DynamicsError(f"the data have rank {r}, above max_rank = {max_rank}; the symbolic reduced model "
                            "is meant for small ranks (use run_chain for large data)")
    dd = E.T @ y
    ycon = float(np.sum((y - E @ dd) ** 2))
    m = chain_model(D, samples=r, dim=r, X=np.diag(sig), y=dd)
    loss = sp.expand(m.loss * sp.Rational(r, N) + sp.nsimplify(ycon, rational=True) / (2 * N))
    return dataclasses.replace(
        m, name="chain_svd", loss=loss,
        assumptions=m.assumptions + (f"SVD coordinates of numeric data with N = {N} examples, rank r = {r}: "
                                     "parameters u_i stand for z_i = w_iᵀu; loss is the full-data loss",),
        options={**dict(m.options), "reduced": True, "original_samples": N, "rank": r})
