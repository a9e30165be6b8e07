"""The report layer: every derivation and claim turned into JSON, Markdown (with LaTeX) or LaTeX.

Symbolic and analysis layers return data; the text is made here (generic reports) and in each
model's own ``report`` module (its sections), with the helpers of :mod:`symsharp.report.derivation`.
"""
from .derivation import markdown_to_latex, model_json, model_markdown, short, tex

__all__ = ["model_json", "model_markdown", "markdown_to_latex", "tex", "short"]
