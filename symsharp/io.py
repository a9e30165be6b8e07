"""Results as labelled arrays on disk.

A result is an :class:`xarray.Dataset` whose ``attrs["symsharp"]`` is a JSON string with the
whole configuration (model, options, scan settings, dtype, seed, library versions).  It is saved
as netCDF (``.nc``, via SciPy's netCDF-3 writer, so no extra library is needed) and reloaded with
:func:`load_result`; :func:`symsharp.plots.plot_result` redraws the figure from it.

Writes are atomic: the file appears complete or not at all.
"""
from __future__ import annotations

from .errors import SymsharpError

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

SUFFIXES = (".nc",)


class ResultError(SymsharpError):
    """A result file that cannot be written or read (one clear sentence)."""


def versions() -> dict:
    """Versions of Python, symsharp and the libraries a result depends on (stored with every result)."""
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for pkg in ("symsharp", "numpy", "scipy", "numba", "llvmlite", "sympy", "xarray", "mpmath", "gmpy2",
                "python-flint"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def check_output_path(path, suffixes=SUFFIXES, what: str = "output file", error=ResultError) -> Path:
    """Validate an output path before any work is done: a known suffix and an existing folder
    (raises ``error`` with one sentence naming ``what``)."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise error(f"{what} {str(p)!r} must end in {', '.join(suffixes)}")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise error(f"folder {str(folder)!r} of {what} {str(p)!r} does not exist")
    return p


def _encodable(ds: xr.Dataset) -> xr.Dataset:
    """netCDF-3 has no 64-bit integers and no booleans: store them as int32 / int8."""
    out = ds.copy()
    for name, var in list(out.variables.items()):
        if var.dtype == np.bool_:
            out[name] = var.astype(np.int8)
        elif var.dtype.kind in "iu" and var.dtype.itemsize > 4:
            vals = var.values
            if vals.size and (vals.max() > np.iinfo(np.int32).max or vals.min() < np.iinfo(np.int32).min):
                raise ResultError(f"variable {name!r} does not fit in 32-bit integers")
            out[name] = var.astype(np.int32)
        elif var.dtype.kind in "US" or var.dtype == object:
            out[name] = var.astype(str)
    for k, v in list(out.attrs.items()):
        if isinstance(v, (bool, np.bool_)):
            out.attrs[k] = int(v)
        elif isinstance(v, (dict, list, tuple)):
            out.attrs[k] = json.dumps(v, default=str)
    return out


def _public_mode(path) -> None:
    """mkstemp creates 0600 files; give the result the usual permissions (0666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def save_result(ds: xr.Dataset, path) -> Path:
    """Save a result atomically as netCDF; returns the path."""
    p = check_output_path(path)
    if "symsharp" not in ds.attrs:
        raise ResultError("this dataset has no symsharp metadata (attrs['symsharp']); it was not made by symsharp")
    enc = _encodable(ds)
    return write_atomically(p, lambda tmp: enc.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT"))


def write_atomically(path, writer, suffix: str = ".tmp") -> Path:
    """Call ``writer(tmp)`` on a temporary file beside ``path``, then move it into place (usual
    permissions); on any failure the temporary file is removed and nothing appears at ``path``."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix, dir=p.parent if str(p.parent) else ".")
    os.close(fd)
    try:
        writer(tmp)
        _public_mode(tmp)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def load_result(path) -> xr.Dataset:
    """Reload a result saved by :func:`save_result` (fully read into memory)."""
    p = Path(path)
    if not p.exists():
        raise ResultError(f"result file {str(p)!r} does not exist")
    try:
        with xr.open_dataset(p, engine="scipy") as ds:
            out = ds.load()
    except (OSError, ValueError, TypeError) as exc:
        raise ResultError(f"cannot read {str(p)!r} as a symsharp result ({str(exc).splitlines()[0]})") from None
    if "symsharp" not in out.attrs:
        raise ResultError(f"{str(p)!r} is not a symsharp result (no 'symsharp' metadata)")
    return out


def metadata(ds: xr.Dataset) -> dict:
    """The configuration stored with a result."""
    return json.loads(ds.attrs["symsharp"])
