"""The ``custom`` model: any model a user writes down on the command line or in Python — an
expression for f with a data set, or a loss — parsed by the whitelist parser (never evaluated).

    symsharp derive custom --f "w1*w2*x" --data "x=1,2;y=1,3" --json
    symsharp orbit custom --loss 'w**2/2 - w**3/3' --init w=0.3 --eta 1.5:3:1000 --observable w

Also the claims that hold for any model and are checked on a model written down here.
"""
from __future__ import annotations

from ..claims.registry import Outcome, register
from ..errors import ModelError
from ..validate import Option
from .generic_options import ETA_OPTION
from .registry import ModelSpec, register_model

OPTIONS = (
    Option("f", None, "output f as an expression in parameters and inputs (or give --loss)", kind="str",
           metavar="EXPR"),
    Option("loss", None, "loss L(θ) as an expression (instead of --f)", kind="str", metavar="EXPR"),
    Option("params", None, "comma-separated parameter names (default: every free name that is not an input or y)",
           kind="str", metavar="NAMES"),
    Option("inputs", None, "comma-separated input names (default: names in --data, or x, x1, x_2, ...)", kind="str",
           metavar="NAMES"),
    Option("data", None, "data set, one column per input and y: 'x=1,2,3;y=0.5,1,2'", kind="str", metavar="COLUMNS"),
    Option("init", (), "initial value of a parameter, NAME=SPEC (repeatable; SPEC a number, list a,b,c or grid "
                       "start:stop:count; default 0.5)", kind="items", verbs=("dynamics",), metavar="NAME=SPEC"),
)


def _check(verb, o):
    if (o.get("f") is None) == (o.get("loss") is None):
        raise ModelError("the custom model needs exactly one of --f EXPR or --loss EXPR")
    if o.get("data") is not None and o.get("loss") is not None:
        raise ModelError("--data goes with --f (a loss given directly has no data set)")


def _build(o):
    from .expression import custom_model, parse_data_text

    data = parse_data_text(o["data"]) if isinstance(o.get("data"), str) else o.get("data")
    return custom_model(f=o.get("f"), loss=o.get("loss"), params=o.get("params"), inputs=o.get("inputs"), data=data)


def _init_values(o) -> dict:
    from .expression import parse_assignments

    return parse_assignments(o.get("init") or (), "--init")


def _system(o, dtype):
    from ..dynamics.grid import parse_grid
    from .generic import parameter_space_system

    scalar = {}
    for k, v in _init_values(o).items():
        g = parse_grid(v, k)
        if g.size == 1:
            scalar[k] = float(g[0])
    return parameter_space_system(_build(o), init=scalar, dtype=dtype)


def _symbolic_map(o):
    from ..codegen.maps import gd_kwargs

    return gd_kwargs(_build(o))


def custom_system(f: str | None = None, loss: str | None = None, params=None, inputs=None, data=None,
                  init=None, dtype: str = "float64"):
    """GD on a model you write down (see :func:`custom_model`) as a compiled system: options ``eta``
    and one initial value per parameter (default from ``init`` or 0.5)."""
    from .expression import custom_model
    from .generic import parameter_space_system

    return parameter_space_system(custom_model(f=f, loss=loss, params=params, inputs=inputs, data=data),
                                  init=init, dtype=dtype)


def _example_document() -> dict:
    from ..report import model_markdown
    from ..symbolic.derive import derive_model
    from .expression import custom_model

    return {"custom_example.md": model_markdown(derive_model(custom_model(f="w1*w2*x", data={"x": [1, 2], "y": [1, 3]})))}


SPEC = register_model(ModelSpec(
    name="custom",
    description="a model you write down: --f EXPR with --data, or --loss EXPR (parameter-space GD)",
    options=OPTIONS + (ETA_OPTION,), build=_build, system=_system, check=_check,
    point_specs=_init_values, documents=_example_document, symbolic_map=_symbolic_map))


# ------------------------------------------------------------------------------------- claims
@register("ANY-quadratic-stability", "science.md (any model)",
          "GD on a quadratic L = S w²/2 is stable iff 0 < ηS < 2.", ("one parameter, S > 0, η > 0",))
def _check_quadratic():
    import sympy as sp

    from ..symbolic.calculus import gd_map
    from .expression import custom_model
    from ..symbolic.fixedpoints import fixed_points

    m = custom_model(loss="S*w**2/2", params="w")
    step = gd_map(m)
    fps = fixed_points(step, list(m.params))
    if len(fps) != 1:
        return Outcome("open", f"expected one fixed point, got {len(fps)}")
    cond = fps[0].stable_when
    eta, S = sp.Symbol("eta", positive=True), sp.Symbol("S", real=True)
    for k in range(1, 60):
        val = sp.Rational(k, 20)
        got = bool(cond.subs({S: val / eta}))
        if got != (0 < val < 2):
            return Outcome("open", f"stability condition {cond} wrong at ηS = {val}")
    return Outcome("proved", f"fixed point w = 0 of the derived GD map, Jury condition {cond}")
