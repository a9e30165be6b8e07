"""SymPy maps → CSE'd Python source files → cached Numba kernels.

``compile_map(step, state, params, dtype, observables)`` returns a :class:`CompiledMap` with a
batched iterator (time outer, batch inner, tiles over the cores), the tangent map and the
observables.  Kernel modules live in ``$SYMSHARP_CACHE`` (default ``~/.cache/symsharp/kernels``).
"""
from .cache import cache_dir
from .common import GENERATOR_VERSION, CodegenError
from .kernel import DEFAULT_CHECK_EVERY, DEFAULT_THRESHOLD, CompiledMap, Trajectories, cached_map, compile_map, load_kernel
from .maps import function_space_kwargs, gd_kernel, gd_kwargs, sgd_kernel


def __getattr__(name):  # the SymPy printer is imported on first use only (keeps kernel loading fast)
    if name == "KernelPrinter":
        from .printer import KernelPrinter

        return KernelPrinter
    raise AttributeError(name)

__all__ = ["compile_map", "load_kernel", "cached_map", "CompiledMap", "Trajectories", "CodegenError",
           "KernelPrinter", "cache_dir", "gd_kernel", "gd_kwargs", "sgd_kernel", "function_space_kwargs", "GENERATOR_VERSION",
           "DEFAULT_THRESHOLD", "DEFAULT_CHECK_EVERY"]
