"""Models and the model registry.

Every model lives in one place under this package — a file for a plain model (``custom``,
``tanh``), a package for a model with physics of its own (``uv``, ``chain``) — and registers a
:class:`ModelSpec` that declares everything the toolkit needs about it.  Importing this package
registers the built-in models (cheaply: heavy modules load when used); :func:`available_models`
adds installed plug-ins (entry-point group ``symsharp.models``) and :func:`load_model_file` a
model file of your own.

    from symsharp.models import available_models, get_model, uv_model, chain_model, custom_model
    spec = get_model("uv"); der = spec.derivation({"width": 3}); spec.report_json(der)
"""
from .registry import (Command, ModelSpec, available_models, get_model, load_claims, load_model_file, plugin_errors,
                       register_model, unregister_model)
from . import chain, custom, tanh, uv  # noqa: E402,F401  (built-in models register themselves)

__all__ = ["ModelSpec", "Command", "register_model", "unregister_model", "available_models", "get_model",
           "load_model_file", "load_claims", "plugin_errors", "expression_model", "uv_model", "chain_model",
           "custom_model", "tanh_model", "Model", "ModelError", "ParamBlock", "squared_loss"]


def __getattr__(name):  # SymPy-based parts of the API, imported on first use
    if name == "uv_model":
        from .uv.model import uv_model

        return uv_model
    if name == "chain_model":
        from .chain.model import chain_model

        return chain_model
    if name == "custom_model":
        from .expression import custom_model

        return custom_model
    if name == "tanh_model":
        from .tanh import tanh_model

        return tanh_model
    if name == "expression_model":
        from .generic import expression_model

        return expression_model
    if name in ("Model", "ModelError", "ParamBlock", "squared_loss"):
        from ..symbolic import model

        return getattr(model, name)
    raise AttributeError(name)
