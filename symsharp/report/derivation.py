"""Turn derivations into JSON, Markdown (with LaTeX) or plain LaTeX text: the generic report of any
model, and the helpers every model's own report sections use (:func:`tex`, :func:`short`)."""
from __future__ import annotations

import sympy as sp

from ..symbolic.derive import Derivation


def _s(e) -> str:
    return str(e)


_NAMES = {sp.Symbol("lam", nonnegative=True): r"\lambda", sp.Symbol("lam", real=True): r"\lambda",
          sp.Symbol("lam_U", nonnegative=True): r"\lambda_U", sp.Symbol("lam_v", nonnegative=True): r"\lambda_v",
          sp.Symbol("f_hat", real=True): r"\hat f", sp.Symbol("lam_hat", real=True): r"\hat\lambda",
          sp.Symbol("k1", positive=True): "k"}


def tex(e) -> str:
    """LaTeX of a SymPy object, with the project's symbol names (λ for lam, ...)."""
    fs = getattr(e, "free_symbols", set())
    names = {k: v for k, v in _NAMES.items() if k in fs}
    return sp.latex(e, symbol_names=names) if names else sp.latex(e)


def short(e, limit: int = 400) -> str:
    """``str(e)`` cut to ``limit`` characters."""
    s = str(e)
    return s if len(s) <= limit else s[:limit] + " …"


_tex = tex
_short = short


# --------------------------------------------------------------------------------- any model
def model_json(d: Derivation) -> dict:
    """The JSON of a generic derivation (:func:`symsharp.symbolic.derive.derive_model`)."""
    it = d.items
    m = d.model
    out = {"model": m.name, "options": {k: (v if isinstance(v, (int, float, str, list)) else str(v))
                                          for k, v in m.options.items()},
           "params": [str(p) for p in m.params], "assumptions": list(m.assumptions),
           "loss": _s(it["loss"]), "gradient": [_s(g) for g in it["gradient"]],
           "gd_map": {str(k): _s(v) for k, v in it["gd_map"].items()},
           "gf_invariants": [_s(I) for I in it["param_gf_invariants"]],
           "gf_invariant_gd_drift": [_s(x) for x in it["param_invariant_drift"]],
           "notes": list(d.notes)}
    if "ntk" in it:
        out["ntk"] = _s(it["ntk"].tolist())
        out["hessian_gauss_newton"] = _s(it["hessian_gauss_newton"].tolist())
        out["hessian_residual"] = _s(it["hessian_residual"].tolist())
    if "hessian" in it:
        out["hessian"] = _s(it["hessian"].tolist())
    if "reduced" in it:
        r = it["reduced"]
        out["closes"] = r.closes
        out["function_space_map"] = {str(k): _s(v) for k, v in r.step.items()}
        if not r.closes:
            out["reduction_reason"] = r.reason
    if "sharpness" in it and it["sharpness"].expr is not None:
        out["sharpness"] = _s(it["sharpness"].expr)
    for key in ("fixed_points", "fixed_points_reduced"):
        if key in it:
            out[key] = [{"point": {str(k): _s(v) for k, v in fp.point.items()},
                         "stable_when": _s(fp.stable_when)} for fp in it[key]]
    return out


def model_markdown(d: Derivation) -> str:
    """The Markdown (with LaTeX) of a generic derivation."""
    it = d.items
    L = [f"# {d.model.name.capitalize()} model: derivations\n\n", f"Parameters: {', '.join('$' + sp.latex(p) + '$' for p in d.model.params)}.\n\n",
         f"$$L = {_tex(it['loss'])}$$\n\n", "## Gradient\n\n",
         f"$$\\nabla L = {_tex(it['gradient'])}$$\n\n", "## GD map\n\n"]
    for k, v in it["gd_map"].items():
        L.append(f"$${_tex(k)}' = {_tex(v)}$$\n\n")
    L.append("## Conserved quantities of gradient flow (degree ≤ 2) and GD drift\n\n")
    if not it["param_gf_invariants"]:
        L.append("None in the ansatz.\n\n")
    for I, dr in zip(it["param_gf_invariants"], it["param_invariant_drift"]):
        L.append(f"$$I = {_tex(I)},\\qquad I'-I = {_tex(dr)}$$\n\n")
    if "fixed_points" in it:
        L.append("## Fixed points of the GD map\n\n")
        for fp in it["fixed_points"]:
            L.append(f"- ${_tex(fp.point)}$: stable when ${_tex(fp.stable_when)}$\n")
    for n in d.notes:
        L.append(f"\n*Note:* {n}\n")
    return "".join(L)


def markdown_to_latex(md: str) -> str:
    """A plain LaTeX rendering of the Markdown report (headings → sections)."""
    out = ["\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"]
    for line in md.splitlines():
        if line.startswith("# "):
            out.append(f"\\section*{{{line[2:]}}}")
        elif line.startswith("## "):
            out.append(f"\\subsection*{{{line[3:]}}}")
        elif line.startswith("$$") and line.endswith("$$"):
            out.append("\\[" + line[2:-2] + "\\]")
        else:
            out.append(line.replace("*", ""))
    out.append("\\end{document}\n")
    return "\n".join(out)
