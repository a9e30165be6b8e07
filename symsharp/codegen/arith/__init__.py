"""One SymPy map, every arithmetic: the precision engine.

``--arith`` specs (:func:`parse_arith`): ``bfloat16``, ``float16``, ``float32``, ``float64``, ``dd``
(double-double, ~106 bits), ``mpfr:BITS`` (gmpy2), ``mp:BITS`` (mpmath) and ``arb:BITS``
(python-flint balls).  From one map ``step = {state symbol: expression}``:

- :func:`compile_arith_map` → :class:`ArithKernel`: batched Numba kernels (time outer, batch
  inner, tiles over the cores) in float64, float32, float16/bfloat16 emulated by rounding every
  operation inside a float32 kernel (nearest-even or seeded stochastic rounding) and
  double-double (error-free transformations, FMA through ``llvm.fma.f64``);
- :func:`scalar_map` → :class:`ScalarMap`: step, exact Jacobian and fast orbit loops in
  ``mpfr:BITS``, ``mp:BITS`` and ``arb:BITS``;
- :class:`BallMap`: the ball layer — the map and its Jacobian on boxes, Lohner's QR
  moving-frame enclosures, naive ball iteration and Krawczyk proofs of periodic orbits;
- :class:`ChainGD`: the chain model's GD in raw coordinates (the network's own arithmetic), the one
  model-specific part, for every arithmetic but arb.

Every kernel and evaluator is generated from one three-address program
(:func:`~symsharp.codegen.arith.program.build_program`) and cached on disk like the other
kernels.
"""
from .spec import (DD_BITS, MAX_BITS, Arith, ArithError, dd_split, parse_arith, parse_ariths, round_float_array,
                   round_to_format, to_fraction)


def __getattr__(name):  # heavy parts (Numba, SymPy, flint) load on first use
    if name in ("compile_arith_map", "ArithKernel", "ArithRun", "normalise_map"):
        from . import kernels

        return getattr(kernels, name)
    if name in ("scalar_map", "ScalarMap", "ScalarOrbit", "MPFRMap", "MPMathMap", "ArbMap"):
        from . import scalar

        return getattr(scalar, name)
    if name in ("BallMap", "EnclosureRun", "KrawczykResult", "ball_bounds"):
        from . import balls

        return getattr(balls, name)
    if name in ("ChainGD", "ChainResult", "chain_statements"):
        from . import chain

        return getattr(chain, name)
    if name in ("build_program", "Program", "Op"):
        from . import program

        return getattr(program, name)
    raise AttributeError(name)


__all__ = ["Arith", "ArithError", "parse_arith", "parse_ariths", "to_fraction", "round_to_format",
           "round_float_array", "dd_split", "DD_BITS", "MAX_BITS", "compile_arith_map", "ArithKernel", "ArithRun",
           "scalar_map", "ScalarMap", "ScalarOrbit", "BallMap", "EnclosureRun", "KrawczykResult", "ChainGD",
           "ChainResult", "build_program", "Program"]
