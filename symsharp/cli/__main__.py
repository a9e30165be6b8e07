"""``python -m symsharp.cli``: the same as the ``symsharp`` command."""
import sys

from .main import main

if __name__ == "__main__":  # not when a worker process (Dask, multiprocessing) re-imports the main module
    sys.exit(main())
