"""Scalar building blocks of the generated low-precision and double-double kernels (Numba).

- :func:`rne_fp16`, :func:`rne_bf16`: round a float32 to the nearest float16 / bfloat16 value
  (ties to even, overflow to ±inf, subnormals, NaN kept), returned as a float32 that holds the
  rounded value exactly.  Written as LLVM IR (a handful of integer operations on the bits and
  one ``select`` per special case), so they vectorise inside the batch loop.
  :func:`rne_bf16_kernel`, used by the generated kernels, drops the NaN test (every NaN in a
  kernel has zero low bits, which the rounding leaves unchanged): five integer operations.
- :func:`sr_fp16`, :func:`sr_bf16`: stochastic rounding of a float32 to one of its two
  neighbours in the format, rounding away from zero with probability equal to the distance to the
  lower neighbour in units of the gap (exact for the 13 / 16 dropped bits of normal values; 23
  random bits for float16 subnormals).  The random bits are an argument, so they can be a pure
  function of (seed, trajectory, step, operation) — see :func:`op_bits`.
- :func:`fma`: the fused multiply-add ``llvm.fma.f64`` (one rounding; Numba's ``math.fma`` is
  not typed), the heart of the error-free product of double-double arithmetic.
- :func:`splitmix64`, :func:`traj_key`, :func:`step_key`, :func:`op_bits`: a counter-based hash
  (SplitMix64 finaliser) giving random bits from (seed, trajectory id, step, operation id).

Why computing each operation in float32 and then rounding gives the correctly rounded float16 or
bfloat16 result: for +, −, ×, ÷ and √ a double rounding through a format with p' ≥ 2p + 2 bits is
innocuous (Figueroa 1995); float32 has p' = 24 ≥ 2·11 + 2 and ≥ 2·8 + 2, and float32's exponent
range contains both formats' (for bfloat16 subnormals the exact products and sums are exact or
innocuous in float32, see the tests which check every case against exact rational arithmetic).
"""
from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_I32 = ir.IntType(32)
_F32 = ir.FloatType()
_F64 = ir.DoubleType()


def _c32(v):
    return ir.Constant(_I32, v & 0xFFFFFFFF)


@intrinsic
def f32_bits(typingctx, x):
    """The IEEE bits of a float32 as an int32."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], _I32)

    return types.int32(types.float32), codegen


@intrinsic
def f32_from_bits(typingctx, b):
    """The float32 with the given bits (int32 or any integer, truncated to 32 bits)."""
    if not isinstance(b, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        v = args[0]
        if v.type.width > 32:
            v = builder.trunc(v, _I32)
        elif v.type.width < 32:
            v = builder.zext(v, _I32)
        return builder.bitcast(v, _F32)

    return types.float32(b), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c with a single rounding (``llvm.fma.f64``)."""
    if not (a == types.float64 and b == types.float64 and c == types.float64):
        return None

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(_F64, [_F64, _F64, _F64])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


def _host_has_f16c() -> bool:
    try:
        import llvmlite.binding as llvm

        return bool(llvm.get_host_cpu_features().get("f16c", False))
    except Exception:  # pragma: no cover - unusual llvmlite builds
        return False


HAS_F16C = _host_has_f16c()
"""On CPUs with F16C the float32 → float16 rounding is one hardware conversion (``fptrunc`` to
``half`` and back, IEEE round-to-nearest-even); elsewhere the bit manipulation below, which gives
the same bits (both are tested against NumPy)."""


def _rne_ir(builder, x, fmt, hardware=None, nan_test=True):
    if fmt == "fp16" and (HAS_F16C if hardware is None else hardware):
        return builder.fpext(builder.fptrunc(x, ir.HalfType()), _F32)
    xb = builder.bitcast(x, _I32)
    if fmt == "bf16":
        # the sign bit rides along: a carry can reach it only from the NaN/inf exponent, and NaN is
        # selected separately; overflow carries into the exponent and gives ±inf.  Without the NaN
        # test (``nan_test=False``) a NaN whose low 16 bits are zero comes out unchanged (nothing
        # is carried out of the low half), any other NaN may not
        odd = builder.and_(builder.lshr(xb, _c32(16)), _c32(1))
        r = builder.bitcast(builder.and_(builder.add(builder.add(xb, _c32(0x7FFF)), odd), _c32(0xFFFF0000)), _F32)
        if not nan_test:
            return r
        isnan = builder.fcmp_unordered("uno", x, x)
        return builder.select(isnan, x, r)
    sign = builder.and_(xb, _c32(0x80000000))
    ab = builder.and_(xb, _c32(0x7FFFFFFF))
    odd = builder.and_(builder.lshr(ab, _c32(13)), _c32(1))
    rn = builder.and_(builder.add(builder.add(ab, _c32(0xFFF)), odd), _c32(0xFFFFE000))
    # below 2^-14 the float16 grid is fixed (2^-24): (|x| + 0.5) − 0.5 rounds to it, ties to even
    ax = builder.bitcast(ab, _F32)
    half = ir.Constant(_F32, 0.5)
    rs = builder.bitcast(builder.fsub(builder.fadd(ax, half), half), _I32)
    r = builder.select(builder.icmp_unsigned("<", ab, _c32(0x38800000)), rs, rn)
    # |x| >= 65520 (max 65504 plus half an ulp; the tie goes to the even 2^16) overflows
    r = builder.select(builder.icmp_unsigned(">=", ab, _c32(0x477FF000)), _c32(0x7F800000), r)
    r = builder.bitcast(builder.or_(r, sign), _F32)
    return builder.select(builder.fcmp_unordered("uno", x, x), x, r)


@intrinsic
def rne_fp16(typingctx, x):
    """Round a float32 to the nearest float16 value (ties to even), as a float32."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return _rne_ir(builder, args[0], "fp16")

    return types.float32(types.float32), codegen


@intrinsic
def rne_fp16_bits(typingctx, x):
    """:func:`rne_fp16` by bit manipulation only (the portable path, for tests)."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return _rne_ir(builder, args[0], "fp16", hardware=False)

    return types.float32(types.float32), codegen


@intrinsic
def rne_bf16(typingctx, x):
    """Round a float32 to the nearest bfloat16 value (ties to even), as a float32."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return _rne_ir(builder, args[0], "bf16")

    return types.float32(types.float32), codegen


@intrinsic
def rne_bf16_kernel(typingctx, x):
    """:func:`rne_bf16` without the NaN test (five integer operations instead of seven), for the
    generated kernels.  Exact for every input except NaNs whose low 16 bits are not all zero.  No
    such NaN arises in a bfloat16 kernel: its inputs are bfloat16 values (NaNs canonical, see
    :meth:`~symsharp.codegen.arith.kernels.ArithKernel.convert`), and a NaN produced by an
    operation is either the default NaN (payload zero apart from the quiet bit) or an operand's
    NaN with the quiet bit set, so the low 16 bits stay zero throughout (LLVM's NaN rules)."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return _rne_ir(builder, args[0], "bf16", nan_test=False)

    return types.float32(types.float32), codegen


# ------------------------------------------------------------------------------ counter-based hash

@nb.njit(cache=True)
def splitmix64(z):
    """SplitMix64 finaliser of a uint64 (a bijection with good avalanche)."""
    z = np.uint64(z) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True)
def traj_key(seed, tid):
    """Key of one trajectory: a pure function of (seed, trajectory id)."""
    return splitmix64(splitmix64(np.uint64(seed)) ^ np.uint64(tid))


@nb.njit(cache=True)
def step_key(tkey, t):
    """Key of one step of a trajectory."""
    return splitmix64(tkey ^ (np.uint64(t) * np.uint64(0xD1B54A32D192ED03)))


@nb.njit(cache=True)
def op_bits(skey, op):
    """64 random bits for operation ``op`` of a step (a pure function of the step key and op)."""
    return splitmix64(skey ^ (np.uint64(op) * np.uint64(0xAEF17502108EF2D9)))


@nb.njit(cache=True)
def uniform_pm1(bits):
    """A number in [−1, 1) from 53 of the given random bits."""
    return (np.float64(bits >> np.uint64(11)) * 2.0 ** -53) * 2.0 - 1.0


# ------------------------------------------------------------------------------ stochastic rounding

@nb.njit(cache=True)
def sr_bf16(x, bits):
    """Stochastically round a float32 to bfloat16 (random ``bits``: a uint64)."""
    xb = np.int64(f32_bits(x)) & 0xFFFFFFFF
    sign = xb & 0x80000000
    ab = xb & 0x7FFFFFFF
    if ab > 0x7F800000:
        return x
    r = (ab + np.int64(bits & np.uint64(0xFFFF))) & 0xFFFF0000
    if r > 0x7F800000:
        r = 0x7F800000
    return f32_from_bits(r | sign)


@nb.njit(cache=True)
def sr_fp16(x, bits):
    """Stochastically round a float32 to float16 (random ``bits``: a uint64)."""
    xb = np.int64(f32_bits(x)) & 0xFFFFFFFF
    sign = xb & 0x80000000
    ab = xb & 0x7FFFFFFF
    if ab > 0x7F800000:
        return x
    e = (ab >> 23) - 127
    if e >= -14:
        shift = 13
    elif e >= -24:
        shift = -1 - e
    else:
        # below 2^-24: 0 or 2^-24, up with probability |x|/2^-24 (23 random bits)
        ax = f32_from_bits(ab)
        u = np.float32(np.float64(bits & np.uint64(0x7FFFFF)) * 2.0 ** -23)
        r = 0x33800000 if u < ax * np.float32(16777216.0) else 0
        return f32_from_bits(r | sign)
    mask = (np.int64(1) << shift) - 1
    r = (ab + (np.int64(bits) & mask)) & ~mask
    if r >= 0x47800000:  # 2^16 and above: overflow
        r = 0x7F800000
    return f32_from_bits(r | sign)


# ------------------------------------------------------------------------------ scalar conveniences

@nb.njit(cache=True)
def round_array(x, fmt_code, out):
    """out[i] = round-to-nearest-even of float32 x[i] to float16 (fmt_code 0; 2 forces the bit
    manipulation path) or bfloat16 (1; 3: the kernels' variant without the NaN test)."""
    for i in range(x.shape[0]):
        if fmt_code == 0:
            out[i] = rne_fp16(x[i])
        elif fmt_code == 2:
            out[i] = rne_fp16_bits(x[i])
        elif fmt_code == 3:
            out[i] = rne_bf16_kernel(x[i])
        else:
            out[i] = rne_bf16(x[i])


@nb.njit(cache=True)
def sr_array(x, fmt_code, seed, out):
    """Stochastic rounding of x[i] with random bits op_bits(step_key(traj_key(seed, 0), 0), i)."""
    sk = step_key(traj_key(seed, 0), 0)
    for i in range(x.shape[0]):
        b = op_bits(sk, i)
        out[i] = sr_fp16(x[i], b) if fmt_code == 0 else sr_bf16(x[i], b)


def round_fp16(x, portable: bool = False) -> np.ndarray:
    """NumPy front end of :func:`rne_fp16` (float32 array in, float32 array out);
    ``portable=True`` uses the bit-manipulation path even where F16C exists."""
    x = np.ascontiguousarray(x, dtype=np.float32).ravel()
    out = np.empty_like(x)
    round_array(x, 2 if portable else 0, out)
    return out


def round_bf16(x, kernel: bool = False) -> np.ndarray:
    """NumPy front end of :func:`rne_bf16` (float32 array in, float32 array out); ``kernel=True``
    uses :func:`rne_bf16_kernel`, the generated kernels' variant without the NaN test."""
    x = np.ascontiguousarray(x, dtype=np.float32).ravel()
    out = np.empty_like(x)
    round_array(x, 3 if kernel else 1, out)
    return out


def stochastic_round(x, fmt: str, seed: int = 0) -> np.ndarray:
    """NumPy front end of the stochastic rounding (``fmt`` 'float16' or 'bfloat16')."""
    x = np.ascontiguousarray(x, dtype=np.float32).ravel()
    out = np.empty_like(x)
    sr_array(x, 0 if fmt == "float16" else 1, np.int64(seed), out)
    return out
