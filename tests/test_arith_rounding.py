"""Rounding to float16 / bfloat16 inside float32 kernels, checked bit by bit against independent
conversions: NumPy's float16 and a bfloat16 reference written here from integer arithmetic on
the float32 bits; operation-level results against exact rational arithmetic."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symsharp.codegen.arith.rounding import round_bf16, round_fp16, stochastic_round
from symsharp.codegen.arith.spec import round_float_array, round_to_format


def _bits(a):
    return np.asarray(a, np.float32).view(np.uint32)


def _same(a, b):
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    return (_bits(a) == _bits(b)) | (np.isnan(a) & np.isnan(b))


def bf16_reference(x):
    """Round float32 values to bfloat16 (nearest, ties to even) by integer arithmetic on the
    bits: keep the top 16 bits, add one unit of the kept part when the dropped 16 bits exceed
    half, or equal half and the kept part is odd.  NaN stays NaN."""
    b = _bits(x).astype(np.uint64)
    keep = b >> 16
    drop = b & 0xFFFF
    up = (drop > 0x8000) | ((drop == 0x8000) & ((keep & 1) == 1))
    r = ((keep + up.astype(np.uint64)) << 16).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(np.asarray(x, np.float32)), np.float32(np.nan), r)


def _near_grid(grid, spread=8):
    """float32 values within ``spread`` ulps of every value of ``grid`` (float32 array)."""
    off = np.arange(-spread, spread + 1, dtype=np.int64)
    b = grid.view(np.uint32).astype(np.int64)[:, None] + off[None, :]
    b = b[(b >= 0) & (b < 0x7F800000)]
    return b.astype(np.uint32).view(np.float32)


@pytest.fixture(scope="module")
def fp16_probe():
    h = np.arange(0, 0x7C01, dtype=np.uint16).view(np.float16).astype(np.float32)  # all finite ≥ 0 and +inf
    mids = ((h[:-1].astype(np.float64) + h[1:].astype(np.float64)) / 2).astype(np.float32)  # exact ties
    x = np.concatenate([_near_grid(h[np.isfinite(h)]), _near_grid(mids),
                        np.float32([65504, 65519.996, 65520, 65536, 1e6, 3e38, 2.0 ** -24, 2.0 ** -25,
                                    1.5 * 2.0 ** -25, 2.0 ** -26, 1e-45, 0.0, np.inf, np.nan])])
    return np.concatenate([x, -x])


@pytest.mark.parametrize("portable", [False, True])
def test_fp16_rounding_bit_exact_against_numpy(fp16_probe, portable):
    with np.errstate(over="ignore"):
        ref = fp16_probe.astype(np.float16).astype(np.float32)
    got = round_fp16(fp16_probe, portable=portable)
    bad = ~_same(got, ref)
    assert not bad.any(), f"{bad.sum()} mismatches, e.g. {fp16_probe[bad][:5]} -> {got[bad][:5]} vs {ref[bad][:5]}"
    # the probe really covers ties, overflow and subnormals
    assert np.any(fp16_probe == np.float32(65520)) and np.any(ref == np.inf)
    assert np.any((ref != 0) & (np.abs(ref) < 2.0 ** -14))


def test_bf16_rounding_bit_exact_against_reference():
    rng = np.random.default_rng(7)
    grid = (np.arange(0, 0x7F81, 3, dtype=np.uint32) << 16).view(np.float32)  # bf16 values (every 3rd)
    ties = ((np.arange(0, 0x7F80, 7, dtype=np.uint32) << 16) | 0x8000).view(np.float32)
    rand = rng.integers(0, 2 ** 32, 400_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([_near_grid(grid, 2), _near_grid(ties, 2), rand,
                        np.float32([3.3961776e38, 3.3961775e38, 3.4e38, 1e-40, 1e-45, 0.0, np.inf, np.nan])])
    x = np.concatenate([x, -x])
    ref = bf16_reference(x)
    got = round_bf16(x)
    bad = ~_same(got, ref)
    assert not bad.any(), f"{bad.sum()} mismatches, e.g. {x[bad][:5]}"
    assert np.isinf(round_bf16(np.float32([3.4e38]))[0])  # overflow beyond the largest bfloat16
    assert round_bf16(np.float32([1e-40]))[0] != 0  # bfloat16 subnormal kept


def test_bf16_kernel_variant_equals_reference_on_every_value_a_kernel_sees():
    """The kernels' rounding (no NaN test) equals the reference on every non-NaN float32 probed and
    returns every NaN with zero low 16 bits (the only NaNs in a kernel) bit for bit unchanged."""
    rng = np.random.default_rng(11)
    grid = (np.arange(0, 0x7F81, 1, dtype=np.uint32) << 16).view(np.float32)  # every bf16 value >= 0
    ties = ((np.arange(0, 0x7F80, 1, dtype=np.uint32) << 16) | 0x8000).view(np.float32)
    rand = rng.integers(0, 2 ** 32, 1_000_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([_near_grid(grid, 2), _near_grid(ties, 2), rand, np.float32([3.4e38, 1e-40, 1e-45, 0.0])])
    x = np.concatenate([x, -x])
    x = x[~np.isnan(x)]
    got = round_bf16(x, kernel=True)
    assert np.array_equal(_bits(got), _bits(bf16_reference(x)))
    assert np.array_equal(_bits(got), _bits(round_bf16(x)))
    hi = np.arange(0x7F81, 0x8000, dtype=np.uint32)
    nans = (np.concatenate([hi, hi | 0x8000]) << 16).view(np.float32)  # all NaNs with zero low bits
    assert np.isnan(nans).all()
    assert np.array_equal(_bits(round_bf16(nans, kernel=True)), _bits(nans))
    # the operations' own NaNs have zero low bits: the default NaN and NaN propagation
    with np.errstate(invalid="ignore"):
        made = np.float32([np.inf]) - np.float32([np.inf])
    assert (_bits(made) & 0xFFFF == 0).all() and (_bits(made + np.float32(1)) & 0xFFFF == 0).all()


def test_inputs_reach_the_kernels_with_canonical_nans():
    """Any NaN (whatever its payload) is rounded to the default NaN, so every NaN a bfloat16 kernel
    sees has zero low bits."""
    odd = np.array([0x7FF8000123456789, 0xFFF0000000010001], dtype=np.uint64).view(np.float64)
    assert np.isnan(odd).all()
    for fmt in ("float16", "bfloat16", "float32"):
        r = round_float_array(np.concatenate([odd, [1.0, np.inf]]), fmt).astype(np.float32)
        assert np.isnan(r[:2]).all() and r[2] == 1.0 and r[3] == np.inf
        assert (_bits(r[:2]) & 0xFFFF == 0).all()


def _exact_round(q: Fraction, p: int, emin: int, emax: int) -> float:
    """Round an exact rational to the binary format (p bits, normal exponents emin … emax),
    nearest with ties to even, with subnormals and overflow to ±inf — by integer arithmetic."""
    if q == 0:
        return 0.0
    s = -1 if q < 0 else 1
    a = abs(q)
    e = math.floor(math.log2(a.numerator) - math.log2(a.denominator))
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    quantum = Fraction(2) ** (max(e, emin) - p + 1)
    m = a / quantum
    n = math.floor(m)
    frac = m - n
    if frac > Fraction(1, 2) or (frac == Fraction(1, 2) and n % 2 == 1):
        n += 1
    r = n * quantum
    if r > (2 - Fraction(2) ** (1 - p)) * Fraction(2) ** emax:
        return s * math.inf
    return s * float(r)


FORMATS = {"float16": (11, -14, 15), "bfloat16": (8, -126, 127)}


def _fmt_values(fmt):
    p, emin, emax = FORMATS[fmt]
    mags = st.integers(min_value=0, max_value=2 ** p - 1)
    exps = st.integers(min_value=emin - p - 2, max_value=emax - p + 2)
    return st.builds(lambda m, e, s: s * float(round_to_format(Fraction(m) * Fraction(2) ** e, fmt)),
                     mags, exps, st.sampled_from([1, -1]))


@pytest.mark.parametrize("fmt", ["float16", "bfloat16"])
def test_operations_in_float32_then_rounded_are_correctly_rounded(fmt):
    """rnd(fl32(a op b)) equals the exact result of a op b rounded once (double rounding through
    float32 is innocuous) — checked against exact rationals for many operand pairs."""
    p, emin, emax = FORMATS[fmt]
    rnd = round_fp16 if fmt == "float16" else round_bf16

    @given(_fmt_values(fmt), _fmt_values(fmt), st.sampled_from(["+", "-", "*", "/"]))
    def check(a, b, op):
        if not (math.isfinite(a) and math.isfinite(b)) or (op == "/" and b == 0):
            return
        fa, fb = np.float32(a), np.float32(b)
        with np.errstate(all="ignore"):
            v = {"+": fa + fb, "-": fa - fb, "*": fa * fb, "/": fa / fb}[op]
        got = float(rnd(np.float32([v]))[0])
        qa, qb = Fraction(a), Fraction(b)
        exact = {"+": qa + qb, "-": qa - qb, "*": qa * qb, "/": qa / qb if qb else None}[op]
        want = _exact_round(exact, p, emin, emax)
        assert got == want or (got == 0 and want == 0), (a, op, b, got, want)

    check()


def test_round_float_array_matches_numpy_and_exact():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(5000) * 10.0 ** rng.integers(-45, 40, 5000)
    x = np.concatenate([x, [65519.999, 65520.0, 2.0 ** -25, 3 * 2.0 ** -26, 0.0, -0.0, np.inf]])
    with np.errstate(over="ignore"):
        assert np.array_equal(round_float_array(x, "float16"), x.astype(np.float16).astype(np.float64))
        assert np.array_equal(round_float_array(x, "float32"), x.astype(np.float32).astype(np.float64))
    bf = round_float_array(x[:600], "bfloat16")
    for v, r in zip(x[:600], bf):
        want = _exact_round(Fraction(float(v)), 8, -126, 127) if math.isfinite(v) else v
        assert r == want or (r == 0 and want == 0)


def test_round_to_format_reads_decimals_exactly():
    # 0.1 rounded once from the exact decimal, not from the double 0.1
    assert round_to_format("0.1", "float16") == _exact_round(Fraction(1, 10), 11, -14, 15)
    assert round_to_format("65520", "float16") == math.inf
    assert round_to_format("1/3", "bfloat16") == _exact_round(Fraction(1, 3), 8, -126, 127)


@pytest.mark.parametrize("fmt", ["float16", "bfloat16"])
def test_stochastic_rounding_neighbours_unbiased_and_seeded(fmt):
    x = np.float32(1.0) + np.float32(2.0 ** -13) * np.float32(0.3)  # between two fp16/bf16 values
    xs = np.full(40_000, x, np.float32)
    r1 = stochastic_round(xs, fmt, seed=5)
    r2 = stochastic_round(xs, fmt, seed=5)
    r3 = stochastic_round(xs, fmt, seed=6)
    assert np.array_equal(r1, r2) and not np.array_equal(r1, r3)
    vals = np.unique(r1)
    # only the two neighbours occur
    assert len(vals) == 2 and vals[0] <= x <= vals[1]
    gap = float(vals[1] - vals[0])
    p_up = (float(x) - float(vals[0])) / gap
    assert abs(np.mean(r1 == vals[1]) - p_up) < 0.015
    # representable values are never moved; subnormal float16 inputs land on the 2^-24 grid
    exact = np.float32([0.5, -2.0, 0.0])
    assert np.array_equal(stochastic_round(exact, fmt, 1), exact)
    if fmt == "float16":
        tiny = stochastic_round(np.full(20_000, 2.0 ** -26, np.float32), fmt, 2)
        assert set(np.unique(tiny)) <= {0.0, np.float32(2.0 ** -24)}
        assert abs(np.mean(tiny > 0) - 0.25) < 0.02
