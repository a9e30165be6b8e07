"""Scan results before they become :class:`xarray.Dataset` objects, and their CF description.

A :class:`ScanResult` holds NumPy arrays with dimension names and attributes and reads like a
Dataset for the few things the command line needs (``res[name].values``, ``res.attrs``), so that
``symsharp orbit ... --json`` never imports xarray.  :meth:`ScanResult.to_dataset` makes the
labelled Dataset the Python API returns.

Every variable and coordinate carries CF attributes (``long_name``, ``units``); ``regime`` carries
``flag_values`` / ``flag_meanings``; the configuration is stored both as plain attributes and as
the JSON string ``attrs["symsharp"]`` (exact replay).
"""
from __future__ import annotations

import json

import numpy as np

from .common import REGIMES

CONVENTIONS = "CF-1.10"

# long names and units of the variables every scan writes (units "1": dimensionless; steps are GD steps)
VARIABLE_ATTRS = {
    "regime": {"long_name": "dynamical regime", "units": "1",
               "flag_values": np.arange(len(REGIMES), dtype=np.int8), "flag_meanings": " ".join(REGIMES)},
    "period": {"long_name": "detected period of the kept orbit (0: none up to max_period)", "units": "1"},
    "lyapunov": {"long_name": "largest Lyapunov exponent per GD step", "units": "1"},
    "diverged_at": {"long_name": "GD step at which divergence was detected (-1: never)", "units": "1"},
    "steps": {"long_name": "GD steps run before the point's label settled", "units": "1"},
    "final_state": {"long_name": "state after the last kept step (NaN where diverged)", "units": "1"},
    "values": {"units": "1"},
    "kept": {"long_name": "GD step of each kept value", "units": "1"},
    "state": {"long_name": "state variable", "units": "1"},
    "step": {"long_name": "GD step", "units": "1"},
}

OPTION_LONG_NAMES = {
    "eta": "learning rate", "lam0": "initial NTK eigenvalue", "f0": "initial output", "y": "target",
    "alpha": "output multiplier", "width": "width", "x_norm": "input norm", "init_scale": "initialisation scale",
    "seed": "random seed", "sharpness": "sharpness (top eigenvalue of the loss Hessian)", "lam": "NTK eigenvalue",
    "loss": "loss", "f": "output", "ntk": "top NTK eigenvalue", "residual": "residual f - y",
    "invariant": "gradient-flow invariant",
}


def option_attrs(name: str) -> dict:
    """CF attributes of a scanned model option (a coordinate) or an observable."""
    return {"long_name": OPTION_LONG_NAMES.get(name, name), "units": "1"}


def plain_attrs(meta: dict) -> dict:
    """The configuration as plain (netCDF-compatible) attributes: numbers and strings only."""
    out = {"symsharp_kind": meta["kind"], "model": meta["model"], "description": meta.get("description", ""),
           "dtype": meta.get("dtype", "float64"), "seed": int(meta.get("seed", 0) or 0),
           "kernel": str(meta.get("kernel", ""))}
    for k, v in meta.get("settings", {}).items():
        out[f"setting_{k}"] = _plain(v)
    for k, v in meta.get("options", {}).items():
        out[f"option_{k}"] = _plain(v)
    return out


def _plain(v):
    if v is None:
        return "none"
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return ",".join(str(t) for t in v)
    return str(v)


class _Var:
    def __init__(self, dims, values, attrs):
        self.dims, self.values, self.attrs = tuple(dims), values, dict(attrs)

    @property
    def ndim(self):
        return np.ndim(self.values)


class ScanResult:
    """Arrays of a scan with dimension names and attributes ({name: (dims, array, attrs)})."""

    def __init__(self, data: dict, coords: dict, attrs: dict):
        self.data = dict(data)
        self.coords = dict(coords)
        self.attrs = dict(attrs)

    def __getitem__(self, name):
        if name in self.data:
            return _Var(*self.data[name])
        if name in self.coords:
            return _Var(*self.coords[name])
        raise KeyError(name)

    def __contains__(self, name):
        return name in self.data or name in self.coords

    @property
    def data_vars(self) -> dict:
        return {n: _Var(*v) for n, v in self.data.items()}

    def to_dataset(self):
        """The labelled :class:`xarray.Dataset` (imports xarray)."""
        import xarray as xr

        return xr.Dataset({n: (d, a, at) for n, (d, a, at) in self.data.items()},
                          coords={n: (d, a, at) for n, (d, a, at) in self.coords.items()}, attrs=self.attrs)


def metadata_of(ds) -> dict:
    """The configuration (JSON) of a ScanResult or Dataset."""
    return json.loads(ds.attrs["symsharp"])
