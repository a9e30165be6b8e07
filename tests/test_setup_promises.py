"""The README's test command is exactly what .ci/run runs, and derivations/ is up to date."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme_commands():
    lines = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read().splitlines()
    return [l.strip() for l in lines if l.startswith("    python3 -m venv")]


def test_ci_runs_readme_test_command():
    cmds = _readme_commands()
    assert len(cmds) == 2, cmds
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read().splitlines()
    assert cmds[1] in [l.strip() for l in ci]


def test_derivations_are_fresh():
    """Regenerating derivations/ from the code gives exactly the committed files."""
    from symsharp.cli import derivation_documents

    docs = derivation_documents()
    stale = []
    for name, text in docs.items():
        path = os.path.join(ROOT, "derivations", name)
        if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
            stale.append(name)
    assert not stale, f"stale derivations {stale}: run `symsharp write-derivations`"
