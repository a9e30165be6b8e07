"""The single-neuron deep linear network ("chain") of Yoo, Song & Yun (2025):
f(x; θ) = (xᵀu) ∏_{i=1}^{D−1} v_i, L = 1/(2N) ‖X u ∏ v_i − y‖².

One package with everything about the model: the SymPy builder (:mod:`.model`), its symbolic
derivations in raw and SVD coordinates (:mod:`.symbolic`), the gradient-flow limit (:mod:`.gf`),
GD/SGD in SVD coordinates with exact arrowhead eigensolvers (:mod:`.dynamics`), the compiled
system (:mod:`.system`), the paper's experiments (:mod:`.experiments`) with their figures, and the
claims Y1–Y10.  Importing this package only registers the model; the heavy modules load when used.
"""
from __future__ import annotations

from ...data import KINDS
from ...validate import Option
from ..registry import Command, ModelSpec, register_model
from .options import CHAIN_POINT_OPTIONS

_DERIVE = ("derive",)
_DYN = ("dynamics",)

OPTIONS = (
    # the symbolic model (derive): symbolic data X (N × d), y
    # (bounds checked before any work; at the largest instance, D = 6, N = d = 6, rank 4, a derivation
    # takes under a minute)
    Option("depth", 2, "depth D >= 2 of the derived instance (at most 6)", kind="int", minimum=2, maximum=6,
           verbs=_DERIVE),
    Option("samples", 2, "number of symbolic examples N of the derived instance (at most 6)", kind="int", minimum=1,
           maximum=6, verbs=_DERIVE),
    Option("dim", 2, "symbolic input dimension d of the derived instance (at most 6)", kind="int", minimum=1,
           maximum=6, verbs=_DERIVE),
    Option("rank", None, "data rank r used in SVD coordinates, 1 <= r <= min(N, d) and r <= 4 (default min(N, d), "
           "the rank of generic data)", kind="int", minimum=1, maximum=4, verbs=_DERIVE),
    # the dynamics: a data set and the training
    Option("depth", 3, "depth D >= 2", kind="int", minimum=2, maximum=64, verbs=_DYN),
    Option("samples", None, "number of examples N (default 50)", kind="int", minimum=1, verbs=_DYN),
    Option("dim", None, "input dimension d of synthetic data (default 5)", kind="int", minimum=1, verbs=_DYN),
    Option("data_kind", None, "data generator (default gaussian; real images: digits, photo-patches)", kind="choice",
           choices=tuple(KINDS), verbs=_DYN),
    Option("classes", None, "digits: the two classes, e.g. 3,8 (default 0,1)", kind="str", verbs=_DYN, metavar="A,B"),
    Option("patch", None, "photo-patches: patch side in pixels (default 32: d = 3072)", kind="int", minimum=1,
           verbs=_DYN),
    Option("preprocess", None, "preprocessing steps scale01,center,standardize,unit-norm or none "
           "(default scale01 for real data, none for synthetic)", kind="str", verbs=_DYN, metavar="STEPS"),
    Option("data_seed", None, "seed of the data generator (default 0)", kind="int", minimum=0, verbs=_DYN),
    Option("data_file", None, "data from .npz (X, y), .npy or .csv (last column y)", kind="str", verbs=_DYN,
           metavar="FILE"),
    Option("target_q", None, "scale y so that the dataset difficulty Q equals this", minimum=0.0, strict=True,
           verbs=_DYN),
    Option("batch", None, "SGD batch size B for run (default: full-batch GD)", kind="int", minimum=1, verbs=_DYN),
    Option("replacement", False, "SGD batches drawn with replacement", kind="flag", verbs=_DYN),
)


def _check(group, o):
    """Bounds of a derivation that depend on several options (before any work): the data rank."""
    if group == "derive":
        from .symbolic import derive_rank

        derive_rank(o["samples"], o["dim"], o["rank"])


def _derive(o):
    from .symbolic import derive_chain

    res = derive_chain(o["depth"], o["samples"], o["dim"], rank=o["rank"])
    return {"options": {"depth": o["depth"], "samples": o["samples"], "dim": o["dim"], "rank": res["rank"]}, **res}


def _to_json(res):
    from .report import chain_json

    return chain_json(res)


def _to_markdown(res):
    from .report import chain_markdown

    return chain_markdown(res)


def _build(o):
    from .model import chain_model

    return chain_model(o["depth"], o["samples"], o["dim"])


def _system(o, dtype):
    from .system import chain_system

    return chain_system(depth=o["depth"], samples=o["samples"], dim=o["dim"], kind=o["data_kind"],
                        data_seed=o["data_seed"], data_file=o["data_file"], target_q=o["target_q"], batch=o["batch"],
                        replacement=o["replacement"], dtype=dtype, classes=o["classes"], patch=o["patch"],
                        preprocess=o["preprocess"])


def _symbolic_map(o):
    from ...codegen.maps import gd_kwargs
    from .dynamics import chain_svd_model
    from .system import _depth, chain_data

    data = chain_data(o["samples"], o["dim"], o["data_kind"], o["data_seed"], o["data_file"], o["target_q"],
                      classes=o["classes"], patch=o["patch"], preprocess=o["preprocess"])
    return gd_kwargs(chain_svd_model(data.X, data.y, _depth(o["depth"])))


DATA_OPTIONS = ("samples", "dim", "data_kind", "classes", "patch", "preprocess", "data_seed", "data_file", "target_q")


def _dataset(o):
    from .system import chain_data

    return chain_data(o.get("samples"), o.get("dim"), o.get("data_kind"), o.get("data_seed"), o.get("data_file"),
                      o.get("target_q"), classes=o.get("classes"), patch=o.get("patch"), preprocess=o.get("preprocess"))


def _claims():
    from . import claims, claims_gf, claims_y9, claims_y10, claims_route  # noqa: F401  (registration)


def _documents():
    from .report import chain_documents
    from .precision import precision_documents
    from .report_real import real_documents

    return {**chain_documents(), **real_documents(), **precision_documents()}


def _figures(directory):
    from .experiments import draw_experiment_figures
    from .precision import draw_precision_figures
    from .report_real import draw_real_figures
    from .route import draw_route_figures

    return [str(p) for p in draw_experiment_figures(directory)] + [str(p) for p in draw_real_figures(directory)] + \
        [str(p) for p in draw_route_figures(directory)] + [str(p) for p in draw_precision_figures(directory)]


def _plot_experiment(ds, path):
    from .plots import plot_chain_result

    return plot_chain_result(ds, path)


def _experiment_arguments(p):
    from .commands import add_experiment_arguments

    add_experiment_arguments(p)


def _experiment_run(args):
    from .commands import experiment_command

    return experiment_command(args)


_EXPERIMENT = Command("chain-model experiments: final sharpness vs N, D, η or B; a run at the edge of stability",
                      _experiment_arguments, _experiment_run)


def _y10_arguments(p):
    from .commands import add_y10_arguments

    add_y10_arguments(p)


def _y10_run(args):
    from .commands import y10_command

    return y10_command(args)


_Y10 = Command("claim Y10 on real data: wide networks (linear depth 5, tanh depth 4) trained by full-batch GD; "
               "sharpness after training vs the chain model's Ŝ_D", _y10_arguments, _y10_run)

SPEC = register_model(ModelSpec(
    name="chain",
    description="single-neuron deep linear network f = (xᵀu)∏v_i (Yoo, Song & Yun 2025); GD/SGD in SVD coordinates",
    options=OPTIONS + tuple(CHAIN_POINT_OPTIONS.values()),
    build=_build, system=_system, derive=_derive, check=_check, to_json=_to_json, to_markdown=_to_markdown,
    reduced="SVD coordinates (z = Wᵀu, v): the part of u outside the row space of X never moves",
    load_claims=_claims, documents=_documents, figures=_figures, symbolic_map=_symbolic_map,
    dataset=_dataset, data_options=DATA_OPTIONS,
    raw_coordinates=lambda o: __import__(f"{__name__}.precision", fromlist=["raw_coordinates"]).raw_coordinates(o),
    showcase=(("chain_trajectory", ["run", "chain", "--eta", "0.95", "--steps", "3000"]),),
    experiments={"chain-sharpness": _EXPERIMENT, "chain-eos": _EXPERIMENT, "y10": _Y10},
    plotters={"experiment": _plot_experiment},
))


def __getattr__(name):  # the Python API, loaded on first use
    if name == "chain_model":
        from .model import chain_model

        return chain_model
    if name in ("chain_system", "chain_data", "observe_states"):
        from . import system

        return getattr(system, name)
    if name in ("run_chain", "ChainRun", "chain_observables", "chain_gd_numpy", "chain_sgd_numpy", "chain_svd_model",
                "init_chain"):
        from . import dynamics

        return getattr(dynamics, name)
    raise AttributeError(name)
