"""The package's shape: layers that only look down, no import cycles, no model names in the engine.

The generic engine is layered base → symbolic/data → codegen → dynamics → analysis →
report/plots/claims; models sit above the engine and register themselves; the command line sits on
top.  Every import statement in the package — at module level and inside functions alike — is
read from the source with ``ast`` and checked against that order; cycles between modules are
found on the same graph.
"""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "symsharp"

# rank of each top-level part of the package: a module may import from a lower rank or its own part
RANKS = {
    "symsharp": 0, "symsharp.errors": 0,
    "symsharp.expr": 1, "symsharp.validate": 1, "symsharp.io": 1,
    "symsharp.symbolic": 2, "symsharp.data": 2,
    "symsharp.codegen": 3,
    "symsharp.dynamics": 4,
    "symsharp.analysis": 5,
    "symsharp.report": 6, "symsharp.plots": 6, "symsharp.claims": 6,
    "symsharp.models": 7,
    "symsharp.cli": 8,
}
ENGINE = ("symsharp.symbolic", "symsharp.data", "symsharp.codegen", "symsharp.dynamics", "symsharp.analysis",
          "symsharp.report", "symsharp.plots", "symsharp.claims", "symsharp.io", "symsharp.validate",
          "symsharp.expr", "symsharp.errors")


def _modules():
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _resolve(mod, is_pkg, node):
    if node.level == 0:
        base = node.module
    else:
        parts = mod.split(".") if is_pkg else mod.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    targets = []
    for a in node.names:
        full = f"{base}.{a.name}"
        targets.append(full if full in MODULES else base)
    return targets


def _imports():
    """{module: [(imported module, line, function-level?)]} for imports inside symsharp."""
    graph = {}
    for mod, (path, is_pkg) in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        funcs = set()
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for m in ast.walk(n):
                    funcs.add(id(m))
        edges = []
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):
                for t in _resolve(mod, is_pkg, n):
                    if t.startswith("symsharp"):
                        edges.append((t, n.lineno, id(n) in funcs))
            elif isinstance(n, ast.Import):
                for a in n.names:
                    if a.name.startswith("symsharp"):
                        edges.append((a.name, n.lineno, id(n) in funcs))
        graph[mod] = edges
    return graph


GRAPH = _imports()


def _part(mod):
    best = None
    for p in RANKS:
        if mod == p or mod.startswith(p + "."):
            if best is None or len(p) > len(best):
                best = p
    return best


def test_every_module_belongs_to_a_layer():
    missing = [m for m in MODULES if _part(m) is None]
    assert not missing, f"modules outside the declared layers: {missing}"


def test_imports_only_look_down():
    bad = []
    for mod, edges in GRAPH.items():
        src = _part(mod)
        for tgt, line, in_func in edges:
            dst = _part(tgt)
            if dst is None or dst == src or src == "symsharp":
                continue
            if RANKS[dst] >= RANKS[src]:
                bad.append(f"{mod}:{line} imports {tgt} ({'function' if in_func else 'module'} level)")
    assert not bad, "imports against the direction of the layers:\n" + "\n".join(bad)


def test_models_do_not_import_each_other():
    bad = []
    for mod, edges in GRAPH.items():
        if not mod.startswith("symsharp.models."):
            continue
        own = mod.split(".")[2]
        for tgt, line, _ in edges:
            if not tgt.startswith("symsharp.models."):
                continue
            other = tgt.split(".")[2]
            shared = ("registry", "generic", "generic_options", "expression")
            if other != own and other not in shared:
                bad.append(f"{mod}:{line} imports {tgt}")
    assert not bad, "a model imports another model:\n" + "\n".join(bad)


def _cycles():
    """Strongly connected components with more than one module (Tarjan) of the module graph,
    module- and function-level imports together (a package imports nothing through its children)."""
    adj = {m: sorted({t for t, _, _ in e if t in MODULES and t != m}) for m, e in GRAPH.items()}
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    import sys

    sys.setrecursionlimit(10_000)
    for v in adj:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    # a package's __init__ that re-exports its own submodules is not a cycle with them
    cycles = []
    for comp in _cycles():
        pkgs = [m for m in comp if MODULES[m][1]]
        rest = [m for m in comp if not MODULES[m][1]]
        if pkgs and all(any(r.startswith(p + ".") for p in pkgs) for r in rest) and _only_via_init(comp):
            continue
        cycles.append(comp)
    assert not cycles, f"import cycles: {cycles}"


def _only_via_init(comp):
    """True when every edge back into the package goes to its __init__ only through the implicit
    parent import (children never import names from their own package's __init__)."""
    for m in comp:
        if MODULES[m][1]:
            continue
        for t, _, _ in GRAPH[m]:
            if t in comp and MODULES[t][1]:
                return False
    return True


MODEL_NAME = re.compile(r"""(==|!=|\bin\b)\s*\(?\s*["'](uv|chain|custom|tanh)["']|["'](uv|chain|custom|tanh)["']\s*(==|!=)""")


@pytest.mark.parametrize("part", ["symsharp.symbolic", "symsharp.data", "symsharp.codegen", "symsharp.dynamics",
                                  "symsharp.analysis", "symsharp.report", "symsharp.plots", "symsharp.claims",
                                  "symsharp.cli"])
def test_no_branch_on_a_model_name_outside_the_models(part):
    bad = []
    for mod, (path, _) in MODULES.items():
        if _part(mod) != part:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if MODEL_NAME.search(line):
                bad.append(f"{mod}:{i}: {line.strip()}")
    assert not bad, "branches on a model name outside symsharp/models:\n" + "\n".join(bad)


def test_engine_does_not_import_models():
    bad = [f"{m}:{line} imports {t}" for m, e in GRAPH.items() if _part(m) in ENGINE
           for t, line, _ in e if t.startswith("symsharp.models") or t.startswith("symsharp.cli")]
    assert not bad, "\n".join(bad)


def test_the_checker_catches_a_violation(tmp_path):
    """The checks above can fail: a fake engine module importing a model is flagged."""
    src = "from ..models.uv import model\n\ndef f():\n    from ..cli import main\n"
    tree = ast.parse(src)
    edges = [t for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for t in _resolve("symsharp.dynamics.fake", False, n)]
    assert all(RANKS[_part(t)] > RANKS["symsharp.dynamics"] for t in edges) and len(edges) == 2
    assert MODEL_NAME.search('if args.model == "uv":') and MODEL_NAME.search("if name in ('chain', 'x')")
