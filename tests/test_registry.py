"""The model registry: a model defined only in this test folder — from a file or an installed
entry point — gets every verb through the command line, and the registry's declarations are what
the command line offers."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from symsharp.errors import ModelError
from symsharp.models import available_models, get_model, load_model_file, register_model, unregister_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODEL_FILE = textwrap.dedent('''
    """A user's model: the scalar deep net f = w1·w2·w3·x on two examples, in one file."""
    from symsharp.models import expression_model, register_model

    register_model(expression_model(
        "deep3", "scalar deep net f = w1*w2*w3*x on two examples",
        f="w1*w2*w3*x", data={"x": [1, 2], "y": [1, 3]}, init={"w1": 0.5, "w2": 0.6, "w3": 0.7}))
''')


def cli(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "symsharp.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("plugin") / "deep3.py"
    p.write_text(MODEL_FILE)
    return str(p)


def test_builtin_models_are_registered():
    models = available_models()
    assert {"uv", "chain", "custom", "tanh"} <= set(models)
    for spec in models.values():
        assert spec.description and "\n" not in spec.description


def test_models_verb_lists_every_model_with_a_description(model_file):
    p = cli("models", "--model-file", model_file)
    assert p.returncode == 0, p.stderr
    lines = {ln.split()[0]: ln for ln in p.stdout.splitlines()}
    assert {"uv", "chain", "custom", "tanh", "deep3"} <= set(lines)
    assert "scalar deep net" in lines["deep3"] and model_file in lines["deep3"]


def test_model_file_gets_derive(model_file):
    p = cli("derive", "deep3", "--model-file", model_file, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["model"] == "deep3" and out["params"] == ["w1", "w2", "w3"]
    # L = ((w1 w2 w3 - 1)² + (2 w1 w2 w3 - 3)²)/4: check the derived gradient at a point by finite differences
    import sympy as sp

    w = sp.symbols("w1 w2 w3", real=True)
    grad = [sp.sympify(g, locals=dict(zip(["w1", "w2", "w3"], w))) for g in out["gradient"]]
    t = np.array([0.3, -0.7, 1.1])

    def L(v):
        p_ = v[0] * v[1] * v[2]
        return ((p_ - 1) ** 2 + (2 * p_ - 3) ** 2) / 4

    h = 1e-6
    for i, g in enumerate(grad):
        e = np.zeros(3)
        e[i] = h
        fd = (L(t + e) - L(t - e)) / (2 * h)
        assert float(g.subs(dict(zip(w, t)))) == pytest.approx(fd, rel=1e-7)


def test_model_file_gets_run_orbit_and_phase(model_file, tmp_path):
    p = cli("--model-file", model_file, "run", "deep3", "--eta", "0.1", "--steps", "300", "--json")
    assert p.returncode == 0, p.stderr
    run = json.loads(p.stdout)
    assert run["initial"]["w1"] == 0.5 and run["initial"]["w3"] == 0.7
    # GD on the deep net from this start converges to a minimum: w1 w2 w3 = (1 + 6)/(1 + 4) = 7/5
    prod = run["final"]["w1"] * run["final"]["w2"] * run["final"]["w3"]
    assert prod == pytest.approx(7 / 5, rel=1e-6)
    # the recorded sharpness is the top eigenvalue of the loss Hessian (finite differences here)
    t = np.array([run["final"][k] for k in ("w1", "w2", "w3")])

    def L(v):
        q = v[0] * v[1] * v[2]
        return ((q - 1) ** 2 + (2 * q - 3) ** 2) / 4

    h = 1e-4
    H = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            ei, ej = np.eye(3)[i] * h, np.eye(3)[j] * h
            H[i, j] = (L(t + ei + ej) - L(t + ei - ej) - L(t - ei + ej) + L(t - ei - ej)) / (4 * h * h)
    assert run["final"]["sharpness"] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-5)
    p = cli("orbit", "deep3", "--model-file", model_file, "--eta", "0.1,3", "--transient", "500", "--keep", "32",
            "--json")
    assert p.returncode == 0, p.stderr
    orb = json.loads(p.stdout)
    assert orb["regime"][0] == "converged" and orb["regime"][1] == "diverged"
    out = tmp_path / "ph.nc"
    p = cli("phase", "deep3", "--model-file", model_file, "--eta", "0.05:0.6:4", "--w1", "0.2:1:3",
            "--transient", "200", "--keep", "32", "--out", str(out), "--json")
    assert p.returncode == 0, p.stderr
    ph = json.loads(p.stdout)
    assert ph["x"] == "eta" and ph["y"] == "w1" and len(ph["regime"]) == 3 and len(ph["regime"][0]) == 4
    assert out.stat().st_size > 0


def test_plugin_through_an_installed_entry_point(tmp_path):
    """A package that declares the entry point group symsharp.models is found without --model-file."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "myplug.py").write_text(MODEL_FILE.replace('"deep3"', '"plugdeep"'))
    dist = site / "myplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[symsharp.models]\nplugdeep = myplug\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    p = cli("models", env=env)
    assert p.returncode == 0, p.stderr
    assert any(ln.startswith("plugdeep") for ln in p.stdout.splitlines())
    p = cli("run", "plugdeep", "--eta", "0.1", "--steps", "50", "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["steps"] == 50


def test_bad_model_files_are_one_line(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("raise RuntimeError('boom')\n")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    for args, words in [(["--model-file", str(bad), "models"], "failed to load"),
                        (["--model-file", str(empty), "models"], "registered no model"),
                        (["--model-file", str(tmp_path / "missing.py"), "models"], "does not exist"),
                        (["--model-file", str(tmp_path / "x.txt"), "models"], "must be a Python file"),
                        (["run", "nosuchmodel"], "invalid choice")]:
        p = cli(*args)
        assert p.returncode == 2, (args, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, p.stderr)


def test_registry_rejects_bad_specs():
    from symsharp.models.registry import ModelSpec
    from symsharp.validate import Option

    with pytest.raises(ModelError, match="already registered"):
        register_model(ModelSpec(name="uv", description="again"))
    with pytest.raises(ModelError, match="lowercase"):
        register_model(ModelSpec(name="Bad Name", description="x"))
    with pytest.raises(ModelError, match="twice"):
        register_model(ModelSpec(name="dup", description="x", options=(Option("a", 1), Option("a", 2))))
    unregister_model("dup")


def test_load_model_file_in_process(tmp_path):
    p = tmp_path / "inproc.py"
    p.write_text(MODEL_FILE.replace('"deep3"', '"inproc"'))
    try:
        assert load_model_file(p) == ["inproc"]
        spec = get_model("inproc")
        sysm = spec.make_system()
        assert set(sysm.options) == {"eta", "w1", "w2", "w3"}
        assert spec.source == str(p)
    finally:
        unregister_model("inproc")


def test_every_verb_flag_comes_from_the_registry():
    """The flags of `run MODEL` are exactly the model's dynamics options plus the verb's own."""
    from symsharp.cli import build_parser

    parser = build_parser()
    verb_sub = next(a for a in parser._actions if a.dest == "command").choices["run"]
    model_sub = next(a for a in verb_sub._actions if a.dest == "model").choices
    for name, spec in available_models().items():
        if spec.system is None:
            continue
        flags = {s for a in model_sub[name]._actions for s in a.option_strings}
        for o in spec.options_for("dynamics"):
            assert o.cli_flag in flags, (name, o.cli_flag)
        for o in spec.options_for("derive"):
            if o.name not in {d.name for d in spec.options_for("dynamics")}:
                assert o.cli_flag not in flags or o.cli_flag in ("--dtype",), (name, o.cli_flag)


def test_every_flag_has_help_text():
    """Users' polish: `symsharp VERB MODEL --help` explains every option."""
    import argparse

    from symsharp.cli import build_parser

    missing = []

    def walk(p, path):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sp_ in a.choices.items():
                    walk(sp_, path + [name])
            elif a.option_strings and not a.help and a.dest != "help":
                missing.append(" ".join(path + [a.option_strings[0]]))

    walk(build_parser(), ["symsharp"])
    assert not missing, missing


@pytest.mark.parametrize("argv", [
    ["orbit", "uv", "--eta", "5:19:16", "--transient", "100", "--json"],
    ["phase", "uv", "--eta", "1:15:8", "--lam0", "0.01:0.3:8", "--f0", "0"],
    ["derive", "chain", "--depth", "3", "--json"],
    ["run", "custom", "--loss", "(x*y-1)**2/2", "--steps", "5"],
    ["bifurcation", "uv", "--eta", "10:14"],
    ["precision", "horizon", "uv", "--eta", "15", "--steps", "10"],
    ["route-to-chaos", "uv", "--flips", "3"],
    ["data", "describe", "--data-kind", "digits"],
    ["experiment", "chain-sharpness", "--vs", "N"],
    ["models"],
])
def test_focused_parser_reads_a_command_line_like_the_full_parser(argv):
    """`main` builds only the selected command's parsers (start-up time); what it reads must be
    exactly what the full parser reads."""
    from symsharp.cli.main import _focus, build_parser

    focused = build_parser(_focus(argv))
    assert vars(focused.parse_args(argv)) == vars(build_parser().parse_args(argv))
    verbs = next(a for a in focused._actions if a.dest == "command").choices
    assert set(verbs) == set(next(a for a in build_parser()._actions if a.dest == "command").choices)


def test_versions_from_dist_info_names_match_importlib_metadata():
    import importlib.metadata as md

    from symsharp.io import versions

    v = versions()
    assert {"symsharp", "numpy", "numba", "sympy"} <= set(v)
    for pkg, ver in v.items():
        if pkg != "python":
            assert ver == md.version(pkg), pkg
