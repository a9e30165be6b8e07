"""Results as labelled arrays on disk.

A result is an :class:`xarray.Dataset` whose ``attrs["symsharp"]`` is a JSON string with the
whole configuration (model, options, scan settings, dtype, seed, library versions), repeated as
plain attributes, with CF attributes (``long_name``, ``units``, ``flag_values`` /
``flag_meanings``) on its variables.  It is saved as

- ``.nc``: netCDF-4 (HDF5, through h5netcdf), every data variable compressed (zlib level 4);
- ``.zarr``: a Zarr store (a folder), compressed by chunk — also what large scans stream their
  tiles into (:mod:`symsharp.dynamics.store`);

and reloaded with :func:`load_result`, which also reads the netCDF-3 ``.nc`` files written by
older versions.  Data types survive a save–load round trip.  :func:`symsharp.plots.plot_result`
redraws the figure from any of them.

Writes are atomic: the file (or folder) appears complete or not at all.  xarray is imported only
when a result is written or read.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import SymsharpError

SUFFIXES = (".nc", ".zarr")
NETCDF_COMPRESSION = {"zlib": True, "complevel": 4}


class ResultError(SymsharpError):
    """A result file that cannot be written or read (one clear sentence)."""


_VERSIONS = None


def _installed_versions() -> dict:
    """{normalised distribution name: version} from the names of the ``NAME-VERSION.dist-info``
    folders on ``sys.path`` (one directory listing per path entry; the first entry wins, as for
    imports)."""
    import sys

    found = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for n in names:
            if n.endswith(".dist-info") and "-" in n:
                name, _, ver = n[:-len(".dist-info")].partition("-")
                found.setdefault(re.sub(r"[-_.]+", "_", name).lower(), ver)
    return found


def versions() -> dict:
    """Versions of Python, symsharp and the libraries a result depends on (stored with every result).

    Read from the installed distributions' ``dist-info`` folder names (a directory listing, not a
    metadata parse per package: this runs in every command), with :mod:`importlib.metadata` for any
    package not found that way."""
    global _VERSIONS
    if _VERSIONS is not None:
        return dict(_VERSIONS)
    import platform

    out = {"python": platform.python_version()}
    installed = _installed_versions()
    for pkg in ("symsharp", "numpy", "scipy", "numba", "llvmlite", "sympy", "xarray", "mpmath", "gmpy2",
                "python-flint", "zarr", "h5netcdf", "dask", "distributed"):
        ver = installed.get(re.sub(r"[-_.]+", "_", pkg).lower())
        if ver is None:
            import importlib.metadata as md

            try:
                ver = md.version(pkg)
            except md.PackageNotFoundError:
                continue
        out[pkg] = ver
    _VERSIONS = out
    return dict(out)


def check_output_path(path, suffixes=SUFFIXES, what: str = "output file", error=ResultError) -> Path:
    """Validate an output path before any work is done: a known suffix, an existing writable
    folder (raises ``error`` with one sentence naming ``what``)."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise error(f"{what} {str(p)!r} must end in {', '.join(suffixes)}")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise error(f"folder {str(folder)!r} of {what} {str(p)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise error(f"folder {str(folder)!r} of {what} {str(p)!r} is not writable")
    if p.exists() and p.is_dir() != (p.suffix.lower() == ".zarr"):
        raise error(f"{what} {str(p)!r} exists and is a {'folder' if p.is_dir() else 'file'}")
    return p


def _attr(v):
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, default=str)
    if v is None:
        return "none"
    return v


def _encodable(ds):
    """Attributes netCDF can hold (no booleans, None, dicts); values unchanged."""
    out = ds.copy()
    out.attrs = {k: _attr(v) for k, v in out.attrs.items()}
    for name in out.variables:
        out[name].attrs = {k: _attr(v) for k, v in out[name].attrs.items()}
    return out


def _public_mode(path) -> None:
    """mkstemp creates 0600 files; give the result the usual permissions (0666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _nc_encoding(ds) -> dict:
    enc = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "fiub" and var.ndim:
            e = dict(NETCDF_COMPRESSION)
            if var.dtype.kind in "iub":
                e["_FillValue"] = None
            enc[name] = e
    return enc


def _zarr_encoding(ds) -> dict:
    return {name: {"_FillValue": None} for name, var in ds.variables.items() if var.dtype.kind in "iub"}


def save_result(ds, path) -> Path:
    """Save a result atomically as netCDF-4 (``.nc``) or Zarr (``.zarr``); returns the path."""
    p = check_output_path(path)
    if "symsharp" not in ds.attrs:
        raise ResultError("this dataset has no symsharp metadata (attrs['symsharp']); it was not made by symsharp")
    enc = _encodable(ds)
    if p.suffix.lower() == ".zarr":
        import warnings

        def write(tmp):
            with warnings.catch_warnings():  # Zarr 3 notes that consolidated metadata is an extension
                warnings.simplefilter("ignore")
                enc.to_zarr(tmp, mode="w", encoding=_zarr_encoding(enc), consolidated=True)

        return write_folder_atomically(p, write)
    return write_atomically(p, lambda tmp: _write_netcdf4(enc, tmp, _nc_encoding(enc)))


def _write_netcdf4(ds, path, encoding) -> None:
    """``ds.to_netcdf(path, engine="h5netcdf", format="NETCDF4", encoding=encoding)`` for a dataset
    held in memory, through the same xarray store, opened with a plain thread lock: ``to_netcdf``
    asks Dask which scheduler is active to choose its write lock, and where Dask is installed that
    imports ``dask`` and ``distributed`` (half a second of every ``--out`` of the command line)."""
    from xarray.backends import H5NetCDFStore
    from xarray.backends.locks import HDF5_LOCK

    store = H5NetCDFStore.open(str(path), mode="w", format="NETCDF4", lock=HDF5_LOCK)
    try:
        ds.dump_to_store(store, encoding=encoding)
    finally:
        store.close()


def write_atomically(path, writer, suffix: str = ".tmp", keep_existing: bool = False) -> Path | None:
    """Call ``writer(tmp)`` on a temporary file beside ``path``, then move it into place (usual
    permissions); on any failure the temporary file is removed and nothing appears at ``path``.

    ``keep_existing``: if ``path`` exists by the time the file is written (another process won the
    race), keep that file, discard this one and return None."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix, dir=p.parent if str(p.parent) else ".")
    os.close(fd)
    try:
        writer(tmp)
        _public_mode(tmp)
        if keep_existing and p.exists():
            os.unlink(tmp)
            return None
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def write_folder_atomically(path, writer) -> Path:
    """Like :func:`write_atomically` for a folder (a Zarr store): written beside ``path`` under a
    hidden name, then renamed into place (an existing folder is replaced)."""
    p = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else "."))
    old = None
    try:
        shutil.rmtree(tmp)
        writer(str(tmp))
        os.chmod(tmp, 0o777 & ~_umask())
        if p.exists():
            old = p.with_name(f".{p.name}.old.{os.getpid()}")
            os.replace(p, old)
        os.replace(tmp, p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not p.exists():
            os.replace(old, p)
            old = None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return p


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _kind(p: Path) -> str:
    if p.is_dir():
        return "zarr"
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head[:3] == b"CDF":
        return "netcdf3"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return "netcdf4"
    raise ResultError(f"cannot read {str(p)!r} as a symsharp result (neither netCDF nor Zarr)")


LAZY_BYTES = 1 << 30
"""Zarr results larger than this stay on disk (read on access) instead of loading into memory."""


def load_result(path):
    """Reload a result saved by :func:`save_result` or streamed by a scan (``.nc`` netCDF-4 or
    netCDF-3, or a ``.zarr`` store); small results are read into memory."""
    import xarray as xr

    p = Path(path)
    if not p.exists():
        raise ResultError(f"result file {str(p)!r} does not exist")
    kind = "zarr" if p.is_dir() else None
    try:
        kind = kind or _kind(p)
        if kind == "zarr":
            _check_complete(p)
            ds = xr.open_zarr(p, chunks=None, consolidated=None)
            out = ds.load() if ds.nbytes <= LAZY_BYTES else ds
        else:
            engine = "scipy" if kind == "netcdf3" else "h5netcdf"
            with xr.open_dataset(p, engine=engine) as ds:
                out = ds.load()
    except ResultError:
        raise
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ResultError(f"cannot read {str(p)!r} as a symsharp result ({str(exc).splitlines()[0]})") from None
    if "symsharp" not in out.attrs:
        raise ResultError(f"{str(p)!r} is not a symsharp result (no 'symsharp' metadata)")
    try:
        json.loads(out.attrs["symsharp"])
    except (TypeError, ValueError):
        raise ResultError(f"{str(p)!r} has unreadable symsharp metadata") from None
    return _restore_strings(out)


def _check_complete(p: Path) -> None:
    """A scan store with missing tiles is refused (resume it first)."""
    prog = p / "symsharp_progress" / "done"
    if not prog.exists():
        return
    import zarr

    done = np.asarray(zarr.open_array(str(prog), mode="r")[:])
    if not done.all():
        raise ResultError(f"{str(p)!r} is an unfinished scan ({int((~done.astype(bool)).sum())} of {done.size} "
                          "tiles missing); finish it with the same command and --resume")


def _restore_strings(ds):
    """Text coordinates come back from netCDF-4/Zarr as object arrays: give them a str dtype."""
    for name in list(ds.coords):
        v = ds[name]
        if v.dtype == object and all(isinstance(t, str) for t in np.ravel(v.values)):
            ds = ds.assign_coords({name: (v.dims, np.asarray(v.values, dtype=str), v.attrs)})
    return ds


def metadata(ds) -> dict:
    """The configuration stored with a result."""
    try:
        return json.loads(ds.attrs["symsharp"])
    except (KeyError, TypeError, ValueError):
        raise ResultError("this dataset has no readable symsharp metadata; it was not made by symsharp") from None
