"""The ``custom`` model: any model a user writes down on the command line or in Python — an
expression for f with a data set, or a loss — parsed by the whitelist parser (never evaluated).

    symsharp derive custom --f "w1*w2*x" --data "x=1,2;y=1,3" --json
    symsharp orbit custom --loss 'w**2/2 - w**3/3' --init w=0.3 --eta 1.5:3:1000 --observable w

Also the claims that hold for any model and are checked on a model written down here.
"""
from __future__ import annotations

from ..claims.registry import Outcome, register
from ..errors import ModelError
from ..validate import Option
from .generic_options import ETA_OPTION
from .registry import ModelSpec, register_model

OPTIONS = (
    Option("f", None, "output f as an expression in parameters and inputs (or give --loss)", kind="str",
           metavar="EXPR"),
    Option("loss", None, "loss L(θ) as an expression (instead of --f)", kind="str", metavar="EXPR"),
    Option("params", None, "comma-separated parameter names (default: every free name that is not an input or y)",
           kind="str", metavar="NAMES"),
    Option("inputs", None, "comma-separated input names (default: names in --data, or x, x1, x_2, ...)", kind="str",
           metavar="NAMES"),
    Option("data", None, "data set, one column per input and y: 'x=1,2,3;y=0.5,1,2'", kind="str", metavar="COLUMNS"),
    Option("init", (), "initial value of a parameter, NAME=SPEC (repeatable; SPEC a number, list a,b,c or grid "
                       "start:stop:count; default 0.5)", kind="items", verbs=("dynamics",), metavar="NAME=SPEC"),
)


def _check(verb, o):
    if (o.get("f") is None) == (o.get("loss") is None):
        raise ModelError("the custom model needs exactly one of --f EXPR or --loss EXPR")
    if o.get("data") is not None and o.get("loss") is not None:
        raise ModelError("--data goes with --f (a loss given directly has no data set)")


def _build(o):
    from .expression import custom_model, parse_data_text

    data = parse_data_text(o["data"]) if isinstance(o.get("data"), str) else o.get("data")
    return custom_model(f=o.get("f"), loss=o.get("loss"), params=o.get("params"), inputs=o.get("inputs"), data=data)


def _init_values(o) -> dict:
    from .expression import parse_assignments

    return parse_assignments(o.get("init") or (), "--init")


def _system(o, dtype):
    from ..dynamics.grid import parse_grid
    from .generic import parameter_space_system

    scalar = {}
    for k, v in _init_values(o).items():
        g = parse_grid(v, k)
        if g.size == 1:
            scalar[k] = float(g[0])
    return parameter_space_system(_build(o), init=scalar, dtype=dtype)


def _symbolic_map(o):
    from ..codegen.maps import gd_kwargs

    return gd_kwargs(_build(o))


def custom_system(f: str | None = None, loss: str | None = None, params=None, inputs=None, data=None,
                  init=None, dtype: str = "float64"):
    """GD on a model you write down (see :func:`custom_model`) as a compiled system: options ``eta``
    and one initial value per parameter (default from ``init`` or 0.5)."""
    from .expression import custom_model
    from .generic import parameter_space_system

    return parameter_space_system(custom_model(f=f, loss=loss, params=params, inputs=inputs, data=data),
                                  init=init, dtype=dtype)


def _example_document() -> dict:
    from ..report import model_markdown
    from ..symbolic.derive import derive_model
    from .expression import custom_model

    return {"custom_example.md": model_markdown(derive_model(custom_model(f="w1*w2*x", data={"x": [1, 2], "y": [1, 3]}))),
            "custom_bifurcation.md": _route_document()}


SPEC = register_model(ModelSpec(
    name="custom",
    description="a model you write down: --f EXPR with --data, or --loss EXPR (parameter-space GD)",
    options=OPTIONS + (ETA_OPTION,), build=_build, system=_system, check=_check,
    point_specs=_init_values, documents=_example_document, symbolic_map=_symbolic_map))


# ------------------------------------------------------------------------------------- claims
@register("ANY-quadratic-stability", "science.md (any model)",
          "GD on a quadratic L = S w²/2 is stable iff 0 < ηS < 2.", ("one parameter, S > 0, η > 0",))
def _check_quadratic():
    import sympy as sp

    from ..symbolic.calculus import gd_map
    from .expression import custom_model
    from ..symbolic.fixedpoints import fixed_points

    m = custom_model(loss="S*w**2/2", params="w")
    step = gd_map(m)
    fps = fixed_points(step, list(m.params))
    if len(fps) != 1:
        return Outcome("open", f"expected one fixed point, got {len(fps)}")
    cond = fps[0].stable_when
    eta, S = sp.Symbol("eta", positive=True), sp.Symbol("S", real=True)
    for k in range(1, 60):
        val = sp.Rational(k, 20)
        got = bool(cond.subs({S: val / eta}))
        if got != (0 < val < 2):
            return Outcome("open", f"stability condition {cond} wrong at ηS = {val}")
    return Outcome("proved", f"fixed point w = 0 of the derived GD map, Jury condition {cond}")


# ------------------------------------------------------------------------------------- route to chaos
ROUTE_CASES = {
    "quartic": dict(loss="(w**2 - 1)**2/4", init=("w=0.9",), lo=0.5, hi=2.5, max_period=6, flips=8,
                    title="the quartic double well (w² − 1)²/4"),
    "two-parameter": dict(loss="(w1**2 - 1)**2/4 + (w2 - w1)**2/2", init=("w1=0.9", "w2=0.8"), lo=0.3, hi=2.5,
                          max_period=4, flips=4, title="a two-parameter loss with isolated minima"),
}
"""Custom losses analysed from the command line alone (``symsharp bifurcation custom --loss ...``)."""


def route_command_line(case: str) -> str:
    """The ``symsharp bifurcation`` command that computes a route-to-chaos case."""
    c = ROUTE_CASES[case]
    inits = " ".join(f"--init {t}" for t in c["init"])
    return (f"symsharp bifurcation custom --loss '{c['loss']}' {inits} --eta {c['lo']}:{c['hi']}:2 "
            f"--max-period {c['max_period']} --flips {c['flips']} --grid 6000 --digits 20 --json")


_ROUTES: dict = {}


def custom_route(case: str):
    """The bifurcation analysis of a :data:`ROUTE_CASES` entry through the same code path as the
    command line (the registry's custom model, its derived GD map, the general engine); cached."""
    if case not in _ROUTES:
        from ..analysis.bifurcation import bifurcation_analysis
        from .generic import model_family
        from .registry import get_model

        c = ROUTE_CASES[case]
        fam, x0, _ = model_family(get_model("custom"), {"loss": c["loss"], "init": list(c["init"])}, param="eta",
                                  at=c["lo"])
        _ROUTES[case] = bifurcation_analysis(fam, x0, c["lo"], c["hi"], flips=c["flips"], max_period=c["max_period"],
                                             grid=6000, digits=20)
    return _ROUTES[case]


def _complex_tex(u: complex) -> str:
    re_, im = round(u.real, 10) + 0.0, round(u.imag, 10) + 0.0
    imag = "" if im == 0 else (("-" if im < 0 else ("+" if re_ else "")) + (f"{abs(im):g}" if abs(im) != 1 else "") + "i")
    return (f"{re_:g}" if re_ or not imag else "") + imag


def _route_document() -> str:
    from ..report import tex
    from .expression import custom_model
    from ..symbolic.calculus import gd_map, hessian

    L = ["# Custom losses: routes to chaos from the command line\n",
         "*Generated by `symsharp write-derivations`; every number below comes from the general bifurcation engine "
         "(`symsharp.analysis.bifurcation`) on the GD map the toolkit derives from the loss, through the same code path "
         "as the command shown. Do not edit by hand.*\n"]
    for case, c in ROUTE_CASES.items():
        res = custom_route(case)
        out = res.contract()
        m = custom_model(loss=c["loss"])
        L += [f"## {c['title'][0].upper() + c['title'][1:]}\n", f"    {route_command_line(case)}\n",
              "GD map: " + ", ".join(f"${tex(k)}' = {tex(v)}$" for k, v in gd_map(m).items()) + ".\n",
              "| event | period | η |", "|---|---|---|"]
        for f, p in zip(out["flips"], out["details"]["flip_periods"]):
            L.append(f"| flip | {p} → {2 * p} | {f:.15g} |")
        if out["chaos_onset"] is not None:
            L.append(f"| onset of chaos (accumulation of flips) | | {out['chaos_onset']:.13g} |")
        for w in out["windows"]:
            L.append(f"| window opens (fold) | {w['period']} | {w['opens']:.15g} |")
        for v in out["neimark_sacker"]:
            L.append(f"| Neimark–Sacker | | {v:.15g} |")
        if out["crisis"] is not None:
            L.append(f"| boundary crisis (no bounded attractor above) | | {out['crisis']:.12g} |")
        L.append("")
        if out["feigenbaum_delta"] is not None:
            L.append(f"Feigenbaum ratios of the flips: {', '.join(f'{d:.8f}' for d in out['details']['feigenbaum_deltas'])} "
                     "(universal value 4.669201609…).\n")
        if case == "quartic":
            L.append("The minimum $w = 1$ has multiplier $1 - 2\\eta$: the first flip is at $\\eta = 1$. With "
                     "$z = \\eta w^2$ the GD map becomes $z' = z(c - z)^2$, $c = 1 + \\eta$ — the normal form of the UV "
                     "model on its EoS manifold with $\\eta/\\eta_c = \\eta$ — so every number of this table is the UV "
                     "route to chaos divided by $\\eta_c$ (claim UV-quartic-conjugacy; the period-3 windows of the UV map "
                     "at $\\eta/\\eta_c \\approx 1.6996, 1.9249$ appear here as period-6 windows, the lift of a 3-cycle of "
                     "$z$ through the two-to-one map $w \\mapsto \\eta w^2$).\n")
        else:
            import cmath

            import sympy as sp

            H = hessian(m).subs({p: 1 for p in m.params})
            S_star = max(H.eigenvals(), key=lambda e: float(e))
            ns = [b for b in res.points("neimark_sacker")]
            mus = [complex(u) for u in ns[0].multipliers] if ns else []
            ang = abs(cmath.phase(mus[0])) / (2 * cmath.pi) if mus else None
            res_txt = f" (argument 2π·{sp.nsimplify(round(ang, 12))}: a 1:{int(round(1 / ang))} resonance)" if ang else ""
            L.append(f"At the minimum $w_1 = w_2 = 1$ the Hessian is ${tex(H)}$ with top eigenvalue $S^* = {tex(S_star)}$, so "
                     f"the minimum flips at $\\eta = 2/S^* = {tex(sp.nsimplify(2 / S_star))}$; the period-2 orbit loses "
                     "stability in a Neimark–Sacker bifurcation with multipliers "
                     + ", ".join(f"${_complex_tex(u)}$" for u in mus) + res_txt
                     + " and the invariant circle it sheds is destroyed almost at once (crisis). "
                     "Claim CUSTOM-two-parameter-route.\n")
    return "\n".join(L)


@register("CUSTOM-two-parameter-route", "derived (symsharp)",
          "GD on the loss `(w1**2 - 1)**2/4 + (w2 - w1)**2/2` (isolated minima ±(1, 1)) loses the minimum in a flip "
          "at η = `2 - sqrt(2)` = 2/S*, then its period-2 orbit loses stability in a Neimark–Sacker bifurcation at "
          "η = `1` with multipliers ±i; above η ≈ `1.00008` no bounded attractor remains.",
          ("custom model from the command line", "general bifurcation engine, 20 digits",
           "brute-force orbit diagrams of the compiled kernel bracket each point"))
def _check_two_parameter():
    import sympy as sp

    from ..claims.stated import F, Num, checked, compare
    from ..dynamics import orbit
    from ..symbolic.calculus import hessian
    from .expression import custom_model
    from .registry import get_model

    c = ROUTE_CASES["two-parameter"]
    out = custom_route("two-parameter").contract()
    m = custom_model(loss=c["loss"])
    S_star = max(hessian(m).subs({p: 1 for p in m.params}).eigenvals())
    flip_exact = sp.nsimplify(2 / S_star)
    if not out["flips"] or abs(out["flips"][0] - float(flip_exact)) > 1e-12:
        return Outcome("open", f"engine's first flip {out['flips'][:1]} is not 2/S* = {flip_exact}")
    if len(out["neimark_sacker"]) != 1:
        return Outcome("open", f"expected one Neimark–Sacker point, got {out['neimark_sacker']}")
    ns = out["neimark_sacker"][0]
    bad = compare("CUSTOM-two-parameter-route", [F(m.loss), F(flip_exact), Num(ns), Num(out["crisis"])],
                  {p.name: p for p in m.params})
    if bad is not None:
        return bad
    # independent: brute force along η with previous-state seeding (continuation), from the stated start
    import numpy as np

    sysm = get_model("custom").make_system({"loss": c["loss"]})
    init = {k: float(v) for k, v in (t.split("=") for t in c["init"])}
    f1 = out["flips"][0]
    etas = [f1 * 0.99] + list(np.linspace(f1 * 1.01, ns * 0.999, 40)) + [ns * 1.001]
    ds = orbit(sysm, {"eta": etas, **init}, transient=100_000, keep=256, max_period=8, continuation=True)
    per = [int(p) for p in ds["period"].values]
    from ..dynamics import REGIMES

    if per[0] != 1 or any(p != 2 for p in per[1:-1]) or REGIMES[int(ds["regime"].values[-1])] != "diverged":
        return Outcome("open", f"orbit diagram periods {per}: not fixed point, then period 2 up to the Neimark–Sacker "
                               "point, then divergence")
    # independent: the 2-cycle at η = NS by Newton on F∘F (SymPy Jacobian, NumPy), multipliers of J(x1) J(x0)
    w1, w2 = m.params
    from ..symbolic.calculus import gd_map

    step = gd_map(m)
    Fx = sp.lambdify((w1, w2), [step[w1].subs(m.eta, ns), step[w2].subs(m.eta, ns)], "numpy")
    Jx = sp.lambdify((w1, w2), sp.Matrix([[sp.diff(step[a_], b_).subs(m.eta, ns) for b_ in (w1, w2)]
                                          for a_ in (w1, w2)]), "numpy")
    x = np.array(ds["final_state"].values[-2], float)
    for _ in range(60):
        x1 = np.array(Fx(*x), float)
        x2 = np.array(Fx(*x1), float)
        M = np.array(Jx(*x1), float) @ np.array(Jx(*x), float)
        x = x - np.linalg.solve(M - np.eye(2), x2 - x)
    x1 = np.array(Fx(*x), float)
    mu = np.linalg.eigvals(np.array(Jx(*x1), float) @ np.array(Jx(*x), float))
    if np.max(np.abs(np.abs(mu) - 1)) > 1e-8 or np.min(np.abs(mu.imag)) < 0.5:
        return Outcome("open", f"multipliers of the 2-cycle at the stated NS point: {mu}")
    return Outcome("numerical", f"{checked('CUSTOM-two-parameter-route')}; flip = 2/S* exactly ({flip_exact}); NS at {ns:.15g} where an independent Newton "
                                f"solve gives 2-cycle multipliers {np.round(mu, 10).tolist()}; brute force with "
                                "continuation: fixed point, then period 2 up to the NS point, divergence just above")
