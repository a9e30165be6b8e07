"""The single-neuron tanh network f(x) = v·tanh(u·x) on a small data set (scalar u, v): a nonlinear
model in one file, with its derivations, kernels and every verb.

    symsharp derive tanh --json
    symsharp run tanh --eta 1.5 --u 0.3 --v 0.2 --steps 500
    symsharp orbit tanh --eta 1:6:400 --observable sharpness
    symsharp phase tanh --eta 1:6:101 --u 0.1:2:81 --data 'x=1,2;y=0.5,0.9'

The loss is L = 1/(2N) Σ_j (v tanh(u x_j) − y_j)².  Unlike the linear models its GD map is not a
polynomial, so no function-space reduction closes and no polynomial quantity is conserved by
gradient flow; the exact sharpness of the 2 × 2 Hessian is derived in closed form and compiled
with the map.
"""
from __future__ import annotations

from .registry import ModelSpec, register_model
from ..errors import ModelError
from ..validate import Option
from .generic_options import gd_point_options

DEFAULT_DATA = "x=0.5,1,2;y=0.4,0.7,0.9"
INIT = {"u": 0.5, "v": 0.5}

OPTIONS = (
    Option("data", DEFAULT_DATA, f"data set 'x=...;y=...' (default {DEFAULT_DATA!r})", kind="str", metavar="COLUMNS"),
    Option("data_file", None, "data from .npz (X, y), .npy or .csv (last column y) with one input column",
           kind="str", metavar="FILE"),
)


def _columns(o) -> dict:
    if o.get("data_file") is not None:
        from ..data import load_dataset

        ds = load_dataset(o["data_file"])
        if ds.X.shape[1] != 1:
            raise ModelError(f"the tanh model takes one input column; {o['data_file']!r} has {ds.X.shape[1]}")
        return {"x": [float(t) for t in ds.X[:, 0]], "y": [float(t) for t in ds.y]}
    from .expression import parse_data_text

    data = parse_data_text(o["data"])
    if set(data) != {"x", "y"}:
        raise ModelError(f"the tanh model's data has the columns x and y, got {', '.join(data)}")
    return data


def tanh_model(data=None):
    """The SymPy model v·tanh(u·x) on ``data`` ({"x": [...], "y": [...]}; default
    :data:`DEFAULT_DATA`)."""
    from dataclasses import replace

    from .expression import custom_model, parse_data_text

    cols = parse_data_text(DEFAULT_DATA) if data is None else data
    m = custom_model(f="v*tanh(u*x)", params="u,v", inputs="x", data=cols)
    return replace(m, name="tanh", options={**m.options, "f": "v*tanh(u*x)"})


def _build(o):
    return tanh_model(_columns(o))


def _system(o, dtype):
    from .generic import parameter_space_system

    return parameter_space_system(_build(o), init=INIT, dtype=dtype,
                                  description="single-neuron tanh network v·tanh(u·x), parameter-space GD")


def _symbolic_map(o):
    from ..codegen.maps import gd_kwargs

    return gd_kwargs(_build(o))


SPEC = register_model(ModelSpec(
    name="tanh",
    description="single-neuron tanh network f = v·tanh(u·x) on a small data set (scalar u, v)",
    options=OPTIONS + gd_point_options(("u", "v"), INIT), build=_build, system=_system, symbolic_map=_symbolic_map,
    showcase=(("tanh_orbit", ["orbit", "tanh", "--eta", "0.5:8:600", "--transient", "4000", "--keep", "128"]),),
))
