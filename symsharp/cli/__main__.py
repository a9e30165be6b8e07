"""``python -m symsharp.cli``: the same as the ``symsharp`` command."""
import sys

from .main import main

sys.exit(main())
