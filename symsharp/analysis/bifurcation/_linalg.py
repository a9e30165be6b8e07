"""Small dense linear algebra in float64 and mpmath shared by the bifurcation modules."""
from __future__ import annotations

import itertools

import mpmath as mp
import numpy as np


def mp_matrix(rows) -> mp.matrix:
    return mp.matrix([list(r) for r in rows])


def mp_solve(A, b, minnorm: bool = False):
    """Solve A x = b (lists, or mp.matrix) in mpmath.  Square and well conditioned: LU.  With
    ``minnorm`` (or when LU fails), the minimal-norm least-squares solution by SVD, singular
    values below 10^(−dps/2)·max truncated."""
    A = A if isinstance(A, mp.matrix) else mp_matrix(A)
    bv = b if isinstance(b, mp.matrix) else mp.matrix([[v] for v in b])
    if not minnorm and A.rows == A.cols:
        try:
            x = mp.lu_solve(A, bv)
            return [x[i] for i in range(A.cols)]
        except ZeroDivisionError:
            pass
    U, S, V = mp.svd_r(A)
    smax = max(abs(S[i]) for i in range(len(S))) if len(S) else mp.mpf(0)
    cut = smax * mp.mpf(10) ** (-(mp.mp.dps // 2))
    n = A.cols
    x = [mp.mpf(0)] * n
    for i in range(len(S)):
        if abs(S[i]) <= cut or S[i] == 0:
            continue
        ui = sum(U[r, i] * bv[r] for r in range(A.rows)) / S[i]
        for j in range(n):
            x[j] += V[i, j] * ui
    return x


def mp_eig(M):
    """Eigenvalues of a square mpmath matrix (list of lists), as mpc, sorted by modulus descending
    then by argument."""
    A = M if isinstance(M, mp.matrix) else mp_matrix(M)
    if A.rows == 1:
        ev = [mp.mpc(A[0, 0])]
    elif A.rows == 2:
        tr = A[0, 0] + A[1, 1]
        det = A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
        disc = mp.sqrt(mp.mpc(tr * tr - 4 * det))
        ev = [(tr + disc) / 2, (tr - disc) / 2]
    else:
        ev = _qr_eigenvalues(A)
    ev = [mp.mpc(e) for e in ev]
    return sorted(ev, key=lambda z: (-abs(z), float(mp.arg(z)) if z != 0 else 0.0))


def _qr_eigenvalues(A):
    """Eigenvalues by mpmath's Hessenberg QR.  Its iteration can stall on a repeated eigenvalue (e.g. a
    reflection, eigenvalues −1, 1, 1, given to 40 digits: "qr: failed to converge"); it is then
    repeated with 20 more digits and with twice the digits, and as a last resort the eigenvalues are
    the roots of the characteristic polynomial (Faddeev–LeVerrier, at twice the digits)."""
    dps = mp.mp.dps
    for extra in (0, 20, dps):
        try:
            with mp.extradps(extra):
                return list(mp.eig(A, left=False, right=False))
        except RuntimeError:
            continue
    with mp.extradps(dps):
        n = A.rows
        coeffs = [mp.mpf(1)]
        Mk = mp.zeros(n, n)
        for k in range(1, n + 1):
            Mk = A * Mk + coeffs[-1] * mp.eye(n)
            coeffs.append(-sum((A * Mk)[i, i] for i in range(n)) / k)
        return list(mp.polyroots(coeffs, maxsteps=200, extraprec=4 * mp.mp.prec, error=False))


def compound2_mp(M):
    n = len(M)
    pairs = list(itertools.combinations(range(n), 2))
    return [[M[i][r] * M[j][s] - M[i][s] * M[j][r] for (r, s) in pairs] for (i, j) in pairs]


def neville(nodes, values, at=0):
    """Polynomial extrapolation (Neville) of values(nodes) to ``at``; returns (value, error
    estimate) with the error estimated as the difference between the interpolants through all
    nodes and through all but the first.  Works for floats and mpf."""
    n = len(nodes)
    T = [[None] * n for _ in range(n)]
    for i in range(n):
        T[i][i] = values[i]
    for d in range(1, n):
        for i in range(n - d):
            j = i + d
            T[i][j] = ((at - nodes[j]) * T[i][j - 1] - (at - nodes[i]) * T[i + 1][j]) / (nodes[i] - nodes[j])
    best = T[0][n - 1]
    err = abs(best - T[1][n - 1]) if n > 1 else abs(best)
    return best, err


def null_tangent(A: np.ndarray, prev: np.ndarray | None, rtol: float = 1e-8):
    """Unit null vector of A (k × (k+1)) closest to ``prev``; also returns the nullity.

    When the null space has dimension > 1 (neutral directions), the previous tangent is
    projected onto it (the minimal-change tangent)."""
    U, S, Vt = np.linalg.svd(A)
    smax = S[0] if S.size else 0.0
    rank = int(np.sum(S > rtol * max(smax, 1.0)))
    N = Vt[rank:]
    if prev is None or N.shape[0] == 1:
        t = N[-1].copy() if N.shape[0] else Vt[-1].copy()
        if prev is not None and float(t @ prev) < 0:
            t = -t
        elif prev is None and t[-1] < 0:
            t = -t
        return t, N.shape[0]
    t = N.T @ (N @ prev)
    nrm = np.linalg.norm(t)
    if nrm < 1e-12:
        t = N[-1].copy()
    else:
        t = t / nrm
    return t, N.shape[0]
