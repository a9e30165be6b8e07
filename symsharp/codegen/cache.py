"""The kernel cache: generated modules as real ``.py`` files named by a content hash.

Numba can only cache functions that live in a real source file, so every generated kernel module
is written to ``$SYMSHARP_CACHE`` (default ``~/.cache/symsharp/kernels``) as
``<name>_<dtype>_<hash>.py`` and imported from there; Numba keeps its compiled code in the
``__pycache__`` folder beside it.  A file is written once, atomically (temporary file in the same
folder, then ``os.replace``), and never rewritten while it exists: Numba's cache index is keyed by
the file's modification time, so rewriting it would force a recompilation.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

ENV_VAR = "SYMSHARP_CACHE"


def cache_dir() -> Path:
    """The kernel cache folder (created if missing); a one-line error when it cannot be used."""
    from .common import CodegenError

    env = os.environ.get(ENV_VAR)
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "symsharp" / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CodegenError(f"cannot create the kernel cache folder {str(path)!r} ({exc.strerror}); set {ENV_VAR} "
                           "to a writable folder") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CodegenError(f"the kernel cache folder {str(path)!r} is not writable; set {ENV_VAR} to a writable folder")
    return path


def content_hash(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def atomic_write(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically (:func:`symsharp.io.write_atomically`) unless the file
    already exists; a file another process wrote meanwhile is kept (with its Numba cache).

    Returns True when this call created the file."""
    from ..io import write_atomically

    if path.exists():
        return False

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    return write_atomically(path, write, suffix=".tmp", keep_existing=True) is not None


def import_file(path: Path):
    """Import the module at ``path`` under a unique name (reusing it if already imported)."""
    modname = "_symsharp_kernel_" + path.stem
    mod = sys.modules.get(modname)
    if mod is not None and getattr(mod, "__file__", None) == str(path):
        return mod
    spec = importlib.util.spec_from_file_location(modname, str(path))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return mod
