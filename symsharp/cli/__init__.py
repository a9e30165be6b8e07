"""The ``symsharp`` command line (``symsharp --help``); built from the model registry."""
from .main import build_parser, derivation_documents, main

__all__ = ["main", "build_parser", "derivation_documents"]
