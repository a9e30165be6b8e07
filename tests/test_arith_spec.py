"""Arithmetic specs: parsing, one-line errors, exact reading of inputs."""
from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp

from symsharp.codegen.arith import Arith, ArithError, dd_split, parse_arith, parse_ariths, to_fraction
from symsharp.errors import SymsharpError


@pytest.mark.parametrize("spec, name, kind, bits", [
    ("bfloat16", "bfloat16", "emulated", 8), ("float16", "float16", "emulated", 11), ("fp16", "float16", "emulated", 11),
    ("float32", "float32", "float", 24), ("float64", "float64", "float", 53), ("dd", "dd", "dd", 106),
    ("mpfr:256", "mpfr:256", "mpfr", 256), (" MPFR:2 ", "mpfr:2", "mpfr", 2), ("mp:1024", "mp:1024", "mp", 1024),
    ("arb:64", "arb:64", "arb", 64)])
def test_parse_arith(spec, name, kind, bits):
    a = parse_arith(spec)
    assert (a.name, a.kind, a.bits) == (name, kind, bits)
    assert parse_arith(a) is a and str(a) == name


@pytest.mark.parametrize("spec, words", [
    ("float8", "unknown arithmetic"), ("mpfr:1", "at least 2 bits"), ("mpfr:0", "at least 2 bits"),
    ("arb:99999999", "above the limit"), ("mpfr:abc", "whole number of bits"), ("mpfr:", "whole number of bits"),
    ("mp:-5", "whole number of bits"), ("", "unknown arithmetic"), ("__import__('os')", "unknown arithmetic")])
def test_bad_specs_give_one_sentence(spec, words):
    with pytest.raises(ArithError) as e:
        parse_arith(spec)
    msg = str(e.value)
    assert words in msg and "\n" not in msg
    assert isinstance(e.value, SymsharpError)


def test_parse_ariths_list_order_and_duplicates():
    out = parse_ariths("float32, float64,mpfr:256,float32")
    assert [a.name for a in out] == ["float32", "float64", "mpfr:256"]
    assert [a.name for a in parse_ariths(["dd", Arith("float16", "emulated", 11)])] == ["dd", "float16"]
    with pytest.raises(ArithError):
        parse_ariths(" , ")


def test_missing_backend_is_a_one_line_error(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name in ("gmpy2", "flint"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    for spec, pkg in (("mpfr:64", "gmpy2"), ("arb:64", "python-flint")):
        with pytest.raises(ArithError) as e:
            parse_arith(spec)
        assert pkg in str(e.value) and "\n" not in str(e.value)


def test_to_fraction_is_exact_and_never_evaluates():
    assert to_fraction("0.01") == Fraction(1, 100)
    assert to_fraction("1/3") == Fraction(1, 3)
    assert to_fraction("-2.5e-3") == Fraction(-1, 400)
    assert to_fraction(0.1) == Fraction(0.1) != Fraction(1, 10)
    assert to_fraction(sp.Rational(3, 7)) == Fraction(3, 7)
    assert to_fraction(7) == 7
    for bad in ("1+1", "__import__('os').system('true')", "nan", "inf", "1/0", "x"):
        with pytest.raises(ArithError):
            to_fraction(bad)
    with pytest.raises(ArithError):
        to_fraction(float("nan"))


def test_dd_split_represents_decimals_to_106_bits():
    hi, lo = dd_split("0.1")
    err = abs(Fraction(hi) + Fraction(lo) - Fraction(1, 10)) / Fraction(1, 10)
    assert hi == 0.1 and lo != 0 and err < Fraction(1, 2 ** 106)
