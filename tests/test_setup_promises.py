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


def test_explore_profile_raises_example_counts():
    """HYPOTHESIS_PROFILE=explore searches harder: explicit budgets scale and the profile's default rises."""
    import os
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, 'tests'); import conftest, hypothesis_budget as h, hypothesis; "
            "print(h.examples(40), hypothesis.settings().max_examples)")
    env = dict(os.environ, HYPOTHESIS_PROFILE="explore")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["400", "200"]
    env["HYPOTHESIS_PROFILE"] = "reproducible"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.stdout.split() == ["40", "100"]
