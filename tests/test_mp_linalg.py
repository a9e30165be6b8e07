"""mpmath eigenvalues used by the bifurcation code (symsharp.analysis.bifurcation._linalg.mp_eig)."""
import mpmath as mp
import numpy as np
import pytest

from symsharp.analysis.bifurcation import _linalg

# The half-period monodromy of the depth-3 rank-one chain model at its first flip, as the collapse
# locator built it at 40 digits: a reflection (eigenvalues -1, 1, 1).  mpmath 1.3's Hessenberg QR
# stalls on it ("qr: failed to converge after 161 steps"), which once broke `symsharp verify`.
STALLING = (
    ('0.33333333333333333333333333333333287356998416915836401593108805616197216235349975', '0.666666666666666666666666666666667122986735737893913497836114465196552881073606', '0.66666666666666666666666666666666711234336907516736404287168558098488217197422605'),
    ('0.666666666666666666666666666666667122986735737893913497836114465196552881073606', '0.33333333333333333333333333333333287237126691724512448033910196801393934580214708', '-0.66666666666666666666666666666666711294272196140547393621695612146252542475342866'),
    ('0.66666666666666666666666666666666711234336907516736404287168558098488217197422605', '-0.66666666666666666666666666666666711294272196140547393621695612146252542475342866', '0.33333333333333333333333333333333289365798876326120364136651472924453445300795953'),
)


def _check(ev, A):
    ref = np.sort(np.linalg.eigvals(np.array([[float(v) for v in r] for r in A])).real)
    got = np.sort([float(mp.re(z)) for z in ev])
    assert np.allclose(got, ref, atol=1e-12)
    assert all(abs(mp.im(z)) < mp.mpf(10) ** -30 for z in ev)
    # the product of the eigenvalues is the determinant, to the working precision
    prod = mp.fprod(ev)
    assert abs(prod - mp.det(mp.matrix(A))) < mp.mpf(10) ** -30


def test_mp_eig_survives_a_stalling_qr():
    with mp.workdps(40):
        A = [[mp.mpf(v) for v in r] for r in STALLING]
        ev = _linalg.mp_eig(A)
        assert len(ev) == 3
        _check(ev, A)
        assert abs(ev[0] + 1) < 1e-30 or abs(ev[-1] + 1) < 1e-30


@pytest.mark.parametrize("seed", range(4))
def test_characteristic_polynomial_fallback(monkeypatch, seed):
    """The last resort (roots of the characteristic polynomial) on random 3x3 and 4x4 matrices and
    on the stalling reflection, with mpmath's QR made to fail."""
    def stall(*a, **k):
        raise RuntimeError("qr: failed to converge")

    rng = np.random.default_rng(seed)
    with mp.workdps(40):
        mats = [[[mp.mpf(v) for v in r] for r in STALLING]]
        mats += [[[mp.mpf(float(v)) for v in r] for r in rng.normal(size=(n, n))] for n in (3, 4)]
        monkeypatch.setattr(mp, "eig", stall)
        for A in mats:
            ev = _linalg.mp_eig(A)
            assert len(ev) == len(A)
            ref = np.linalg.eigvals(np.array([[float(v) for v in r] for r in A]))
            for z in ref:
                assert min(abs(complex(e) - z) for e in ev) < 1e-10
            assert abs(mp.fprod(ev) - mp.det(mp.matrix(A))) < mp.mpf(10) ** -25
