"""Where finished tiles go: arrays in memory (:class:`MemorySink`) or a Zarr store on disk
(:class:`ZarrSink`), written tile by tile as they finish.

A Zarr store of a scan is created complete in its layout (coordinates, CF attributes, the
configuration, one chunk per tile) under a temporary name and renamed into place, so it is either
absent or resumable.  Each finished tile is written into its chunks and then marked done in the
store's ``symsharp_progress/done`` array (one chunk per tile); a killed scan is resumed by
computing only the tiles not marked done, after checking that the store was started by the same
scan (same model, options, settings, kernel and tiles).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .common import DynamicsError
from .tiles import Layout

PROGRESS = "symsharp_progress"


class MemorySink:
    """Tiles written into NumPy arrays of the whole grid.

    specs: {name: (dtype, trailing shape, fill value)}."""

    def __init__(self, layout: Layout, specs: dict):
        self.layout = layout
        self.arrays = {n: np.full(tuple(layout.shape) + tuple(tr), fill, dtype) for n, (dtype, tr, fill) in specs.items()}
        self.carries = {}

    def remaining(self) -> list:
        return list(range(self.layout.ntiles))

    def write(self, i, out: dict, carry=None) -> None:
        sl = self.layout.slices(i)
        block = tuple(s.stop - s.start for s in sl)
        for n, a in self.arrays.items():
            a[sl] = np.asarray(out[n]).reshape(block + a.shape[len(block):])
        self.carries[i] = carry

    def close(self) -> None:
        pass


def _fingerprint_json(fp: dict) -> str:
    return json.dumps(fp, sort_keys=True, default=str)


class ZarrSink:
    """Tiles written into a Zarr store as they finish (see the module docstring).

    ``template`` is a function returning the xarray Dataset of coordinates and attributes (data
    variables are created from ``specs``); ``fingerprint`` identifies the scan for ``resume``."""

    def __init__(self, path, layout: Layout, specs: dict, dims: dict, template, fingerprint: dict,
                 resume: bool = False, carry_k: int = 0):
        import zarr

        self.path = Path(path)
        self.specs = specs
        fp = _fingerprint_json(fingerprint)
        if self.path.exists():
            if not resume:
                raise DynamicsError(f"{str(self.path)!r} exists; add --resume to finish that scan (Python: resume=True) "
                                    "or remove it first")
            try:
                g = zarr.open_group(str(self.path), mode="r+")
                old = g.attrs.get("symsharp_scan")
                tile = tuple(json.loads(g.attrs["symsharp_tile"]))
            except Exception as exc:  # noqa: BLE001 - any unreadable store is one message
                raise DynamicsError(f"{str(self.path)!r} is not a resumable symsharp scan ({type(exc).__name__})") from None
            if old != fp:
                diff = _first_difference(json.loads(old) if old else {}, fingerprint)
                raise DynamicsError(f"{str(self.path)!r} holds a different scan ({diff}); resume it with the same "
                                    "command, or write to a new --out")
            self.layout = Layout(layout.shape, tile)
        else:
            self.layout = layout
            self._create(template, dims, fp, carry_k)
        self.group = zarr.open_group(str(self.path), mode="r+")
        self.done = self.group[PROGRESS]["done"]
        self.carry = self.group[PROGRESS]["carry"] if carry_k else None

    def _create(self, template, dims, fp, carry_k) -> None:
        import dask.array as da
        import zarr

        ds = template()
        lay = self.layout
        enc = {}
        for n, (dtype, tr, fill) in self.specs.items():
            shape = tuple(lay.shape) + tuple(tr)
            chunks = tuple(lay.tile) + tuple(tr)
            ds[n] = (dims[n], da.full(shape, fill, dtype=dtype, chunks=chunks), ds.attrs.get("_var_attrs", {}).get(n, {}))
            enc[n] = {"chunks": chunks, "_FillValue": None if np.dtype(dtype).kind in "iub" else fill}
        ds.attrs.pop("_var_attrs", None)
        for n in ds.coords:
            if ds[n].dtype.kind in "iub":
                enc[n] = {"_FillValue": None}
        ds.attrs["symsharp_scan"] = fp
        ds.attrs["symsharp_tile"] = json.dumps(list(lay.tile))
        parent = self.path.parent if str(self.path.parent) else Path(".")
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=parent))
        try:
            shutil.rmtree(tmp)
            ds.to_zarr(str(tmp), mode="w-", compute=False, encoding=enc, consolidated=False)
            g = zarr.open_group(str(tmp), mode="r+")
            pg = g.create_group(PROGRESS)
            pg.create_array("done", shape=(lay.ntiles,), chunks=(1,), dtype="int8", fill_value=0)
            if carry_k:
                pg.create_array("carry", shape=(lay.ntiles, carry_k), chunks=(1, carry_k), dtype="float64",
                                fill_value=np.nan)
            os.replace(tmp, self.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def remaining(self) -> list:
        return [int(i) for i in np.flatnonzero(np.asarray(self.done[:]) == 0)]

    def carry_before(self, i: int):
        """The continuation state handed to tile ``i`` by tile ``i − 1`` (None if none)."""
        if self.carry is None or i == 0:
            return None
        c = np.asarray(self.carry[i - 1])
        return None if not np.all(np.isfinite(c)) else c

    def write(self, i, out: dict, carry=None) -> None:
        sl = self.layout.slices(i)
        block = tuple(s.stop - s.start for s in sl)
        for n, (dtype, tr, _) in self.specs.items():
            self.group[n][sl] = np.asarray(out[n], dtype=dtype).reshape(block + tuple(tr))
        if self.carry is not None:
            self.carry[i] = np.full(self.carry.shape[1], np.nan) if carry is None else np.asarray(carry, float)
        self.done[i] = 1

    def close(self) -> None:
        import zarr

        if np.all(np.asarray(self.done[:]) == 1):
            consolidate(str(self.path))


def consolidate(path: str) -> None:
    """Consolidate a finished store's metadata (quiet about Zarr 3's note that this is an extension)."""
    import warnings

    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(path)


def _first_difference(old: dict, new: dict) -> str:
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            for kk in sorted(set(a) | set(b)):
                if json.dumps(a.get(kk), default=str) != json.dumps(b.get(kk), default=str):
                    return f"{k} {kk}: {a.get(kk)!r} there, {b.get(kk)!r} now"
        elif json.dumps(a, default=str) != json.dumps(b, default=str):
            return f"{k}: {a!r} there, {b!r} now"
    return "different layout"
