"""User expressions are parsed by a whitelist, never evaluated: a corpus of known sandbox escapes
and malformed inputs must each end in one clear error, execute nothing, and leave no file behind;
well-formed mathematics must parse to the same SymPy expression as a hand-built one."""
import contextlib
import io
import os

import pytest
import sympy as sp
from hypothesis import given, strategies as st

from symsharp.cli import main
from symsharp.errors import SymsharpError
from symsharp.expr import ExpressionError, parse_expression, parse_number
from symsharp.models import custom_model

MARK = "SYMSHARP_PWNED_MARKER"

# Each entry tries to run code (creating the marker file), read files, or exhaust resources.
ESCAPES = [
    f"w.__class__.__mro__[-1].__subclasses__()[0].__init__.__globals__['sys'].modules['os'].system('touch {MARK}')",
    "w.__class__.__mro__[-1].__subclasses__()",
    f"__import__('os').system('touch {MARK}')",
    f"__builtins__.__import__('os').system('touch {MARK}')",
    f"eval(\"__import__('os').system('touch {MARK}')\")",
    f"exec(\"open('{MARK}','w')\")",
    f"open('{MARK}', 'w')",
    "open('/etc/passwd').read()",
    "(lambda: 1)()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "{c for c in ().__class__.__bases__}",
    "getattr(w, '__class__')",
    "w.__class__",
    "w.subs(w, 1)",
    "w.real",
    "w[0]",
    "Symbol('x')",
    "sympify('1')",
    "S('1')",
    "Function('f')(w)",
    "lambdify(w, w)",
    "globals()",
    "vars()",
    "locals()['w']",
    "'abc'",
    "b'abc'",
    "f'{w}'",
    "w if w else 1",
    "w == 1",
    "w < 1",
    "w and 1",
    "not w",
    "~w",
    "w @ w",
    "w // 2",
    "w % 2",
    "w << 1",
    "w | 1",
    "w & 1",
    "w ^ 2",
    "1j*w",
    "...",
    "(w := 1)",
    "(w, 1)",
    "[w]",
    "{1: w}",
    "sin(x=w)",
    "sin(*[w])",
    "sin(w, w)",
    "atan2(w)",
    "sin",
    "foo(w)",
    "w.__init__.__globals__",
    "await w",
    "(yield w)",
    "9**9**9",
    "w**10**10",
    "2**100000",
    "w**1000",
    "1" * 200,
    "1e400*w",
    "w/0",
    "0**-1*w",
    "w\x00",
    "(" * 500 + "w" + ")" * 500,
    "+".join(["w"] * 6000),
    "w; import os",
    "import os",
    "w\nimport os",
    "",
    "   ",
    "_w + 1",
    "__import__",
]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield
    assert not os.path.exists(tmp_path / MARK), "a user expression executed code"


@pytest.mark.parametrize("text", ESCAPES)
def test_escape_refused_by_parser(text):
    with pytest.raises(ExpressionError) as exc:
        parse_expression(text, "loss")
    msg = str(exc.value)
    assert "\n" not in msg and "loss" in msg


@pytest.mark.parametrize("text", ESCAPES)
def test_escape_refused_by_custom_model(text):
    with pytest.raises(SymsharpError):
        custom_model(loss=text, params="w")
    with pytest.raises(SymsharpError):
        custom_model(f=text, data={"x": [1, 2], "y": [1, 3]}, params="w")


@pytest.mark.parametrize("text", ESCAPES[:12] + ["w[0]", "'1'", "9**9**9"])
def test_escape_refused_by_cli(text):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(["derive", "custom", "--loss", text, "--params", "w", "--json"])
        except SystemExit as exc:  # argparse-level refusals exit directly
            code = exc.code
    assert code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symsharp: error:"), err.getvalue()


@pytest.mark.parametrize("value", [f"__import__('os').system('touch {MARK}')", "w", "1+", "[1]", "1e999", "nan",
                                   "'1'", "().__class__"])
def test_data_strings_are_numbers_only(value):
    with pytest.raises(SymsharpError):
        custom_model(f="w*x", data={"x": [value, 1], "y": [1, 2]})
    with pytest.raises(SymsharpError):
        parse_number(value)


def test_numeric_strings_are_exact():
    assert parse_number("1/3") == sp.Rational(1, 3)
    assert parse_number("0.1") == sp.Rational(1, 10)
    assert parse_number("sqrt(2)") == sp.sqrt(2)
    assert parse_number(0.1) == sp.Rational(1, 10)
    assert parse_number("-2**-2") == -sp.Rational(1, 4)
    m = custom_model(f="w*x", data={"x": ["1/3", 2], "y": ["0.5", "3"]})
    w = m.params[0]
    assert m.outputs[0] == w / 3 and m.targets == (sp.Rational(1, 2), 3)


# --------------------------------------------------------------------------- well-formed input
W1, W2, X = sp.symbols("w1 w2 x", real=True)


@pytest.mark.parametrize("text,expected", [
    ("w1*w2*x", W1 * W2 * X),
    ("(w1 - 1)**2/4 + sin(w2)**2", (W1 - 1) ** 2 / 4 + sp.sin(W2) ** 2),
    ("exp(-w1) + log(1 + w2**2) + sqrt(x) + Abs(w1) + abs(w2)", sp.exp(-W1) + sp.log(1 + W2 ** 2) + sp.sqrt(X)
     + 2 * 0 + sp.Abs(W1) + sp.Abs(W2)),
    ("tanh(w1*x)*w2 - pi*E", sp.tanh(W1 * X) * W2 - sp.pi * sp.E),
    ("-w1 + +w2 - 0.25", -W1 + W2 - sp.Rational(1, 4)),
    ("w1**-2 + w2**(1/2)", W1 ** -2 + sp.sqrt(W2)),
    ("atan2(w1, w2) + cbrt(x) + erf(w1)", sp.atan2(W1, W2) + sp.cbrt(X) + sp.erf(W1)),
])
def test_well_formed(text, expected):
    assert sp.simplify(parse_expression(text) - expected) == 0


@given(st.lists(st.sampled_from(["w1", "w2", "x", "2", "0.5", "3"]), min_size=1, max_size=6),
       st.lists(st.sampled_from(["+", "-", "*"]), min_size=5, max_size=5))
def test_parser_agrees_with_sympy_on_arithmetic(atoms, ops):
    """Random arithmetic over names and numbers: the whitelist builder and SymPy's own parser
    (run here on trusted test-generated text only) give the same expression."""
    text = atoms[0]
    for a, o in zip(atoms[1:], ops):
        text += f" {o} {a}"
    loc = {"w1": W1, "w2": W2, "x": X}
    ref = sp.nsimplify(sp.parse_expr(text, local_dict=loc), rational=True)
    assert sp.expand(parse_expression(text) - ref) == 0


def test_unicode_parameter_names_have_their_gradient():
    """Regression: names outside ASCII inferred as parameters used to get a zero gradient."""
    from symsharp.symbolic.calculus import gradient

    m = custom_model(f="α*β*x", data={"x": [1, 2], "y": [1, 3]})
    assert [p.name for p in m.params] == ["α", "β"]
    g = gradient(m)
    assert all(sp.simplify(gi) != 0 for gi in g)
    a, b = m.params
    # L = ((ab - 1)² + (2ab - 3)²)/4, dL/da = b((ab − 1) + 2(2ab − 3))/2
    assert sp.expand(g[0] - b * ((a * b - 1) + 2 * (2 * a * b - 3)) / 2) == 0


def test_duplicate_and_bad_names():
    for kw in ({"params": "w,w"}, {"params": "1w"}, {"params": "sin"}, {"params": "_w"}):
        with pytest.raises(SymsharpError):
            custom_model(loss="w**2", **kw)
    with pytest.raises(SymsharpError):
        custom_model(f="w*x", params="w", inputs="w")
