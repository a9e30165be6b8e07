"""The UV model of Kalra, He & Barkeshli (2023): f(x) = (α/√n) vᵀ U x on one example (x, y).

One package with everything about the model: the SymPy builder (:mod:`.model`), its derivations
(:mod:`.derive`), the compiled function-space system (:mod:`.system`), the physics of its edge of
stability — EoS manifold and normal form (:mod:`.eos`), initialisation and parameterisations
(:mod:`.init`), the route to chaos (:mod:`.route`) — with its claims, report sections and figures.
Importing this package only registers the model; the heavy modules load when used.
"""
from __future__ import annotations

from ...validate import Option
from ..registry import Command, ModelSpec, register_model
from .options import UV_OPTIONS

OPTIONS = (
    # the symbolic model (derive)
    Option("width", 3, "width n of the explicit instance derived on; results are expressed through "
                       "a = α²‖x‖²/n and hold for every n", kind="int", minimum=1, maximum=8, verbs=("derive",)),
    Option("input_dim", 2, "input dimension d of the derived instance", kind="int", minimum=1, maximum=4,
           verbs=("derive",)),
    Option("alpha", None, "output multiplier α > 0 (default: kept symbolic)", minimum=0.0, strict=True,
           verbs=("derive",)),
    Option("layerwise", False, "also derive the layer-wise-rate map in (f, λ_U, λ_v) (~15 s)", kind="flag",
           verbs=("derive",)),
    Option("eta", None, "also evaluate the map and the fixed points' stability at this learning rate > 0",
           minimum=0.0, strict=True, verbs=("derive",)),
)


def _derive(o):
    from .derive import derive_uv

    der = derive_uv(o["width"], o["input_dim"], o["alpha"], layerwise=o["layerwise"])
    der.options = dict(o)
    return der


def _to_json(der):
    from .report import at_eta, uv_json

    out = uv_json(der)
    eta = getattr(der, "options", {}).get("eta")
    if eta is not None:
        out["at_eta"] = at_eta(der, eta)
    return out


def _to_markdown(der):
    from .report import uv_markdown

    return uv_markdown(der)


def _build(o):
    from .model import uv_model

    return uv_model(o["width"], o["input_dim"], o["alpha"], layerwise=o["layerwise"])


def _system(o, dtype):
    from .system import uv_system

    return uv_system(dtype=dtype)


def _symbolic_map(o):
    from ...codegen.kernel import cached_symbolic
    from .system import _function_space_kwargs

    # the map uv_system() compiles, derived once and then loaded from the cache
    return cached_symbolic("uv_function_space(width=3, input_dim=2, alpha=None)",
                           lambda: _function_space_kwargs(3, 2, None))


def _claims():
    from . import claims, claims_init, claims_precision, claims_quartic, claims_route  # noqa: F401  (registration)


def _documents():
    from .derive import derive_uv
    from .report import uv_document

    return {"uv.md": uv_document(derive_uv(3, 2))}


def _figures(directory):
    from .plots import plot_route_figures
    from .route import route_figure_data

    return [str(p) for p in plot_route_figures(route_figure_data(), directory)]


def _route_arguments(p):
    p.add_argument("--width", type=int, default=None, help="width n (default 100)")
    p.add_argument("--x-norm", dest="x_norm", type=float, default=None, help="input norm ‖x‖ (default 1)")
    p.add_argument("--y", type=float, default=None, help="target y, nonzero (default 1)")
    p.add_argument("--alpha", type=float, default=None, help="output multiplier α (default 1)")
    p.add_argument("--flips", type=int, default=None, help="number of period-doubling points to compute (default 10)")
    p.add_argument("--dps", type=int, default=None, help="mpmath working precision in decimal digits (default 30)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _route_run(args):
    from .commands import route_command

    return route_command(args)


SHOWCASE = (
    # (file stem, argv): every figure is a plain command a user can rerun
    ("uv_orbit", ["orbit", "uv", "--eta", "5:17:2000", "--f0", "0", "--lam0", "0.1", "--transient", "10000",
                  "--keep", "256"]),
    ("uv_lyapunov", ["lyapunov", "uv", "--eta", "5:17:2000", "--f0", "0", "--lam0", "0.1", "--steps", "20000"]),
    ("uv_phase", ["phase", "uv", "--eta", "5:25:201", "--lam0", "0.01:0.5:101", "--f0", "0"]),
    ("uv_trajectory", ["run", "uv", "--eta", "12", "--init-scale", "0.2", "--steps", "400"]),
)

SPEC = register_model(ModelSpec(
    name="uv",
    description="UV model f = (α/√n) vᵀUx on one example (Kalra, He & Barkeshli 2023); GD in function space (f, λ)",
    options=OPTIONS + tuple(UV_OPTIONS.values()),
    build=_build, system=_system, derive=_derive, to_json=_to_json, to_markdown=_to_markdown,
    reduced="function space (f, λ): the closed GD map of the output and the NTK",
    load_claims=_claims, documents=_documents, figures=_figures, showcase=SHOWCASE, symbolic_map=_symbolic_map,
    commands={"route-to-chaos": Command("UV: η_c, period-doubling cascade, Feigenbaum ratio, period-3 window, crisis",
                                        _route_arguments, _route_run)},
))


def __getattr__(name):  # the Python API, loaded on first use
    if name == "uv_model":
        from .model import uv_model

        return uv_model
    if name in ("uv_system", "uv_function_space_kernel", "uv_initial_function_state"):
        from . import system

        return getattr(system, name)
    if name in ("route_to_chaos", "DEFAULT_CONFIG", "RouteError"):
        from . import route

        return getattr(route, name)
    if name == "derive_uv":
        from .derive import derive_uv

        return derive_uv
    raise AttributeError(name)
