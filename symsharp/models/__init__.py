"""Model descriptions: UV, chain (single-neuron deep linear network), custom."""
from .base import Model, ModelError, ParamBlock, squared_loss
from .chain import chain_model
from .custom import custom_model
from .uv import uv_model

__all__ = ["Model", "ModelError", "ParamBlock", "squared_loss", "uv_model", "chain_model", "custom_model"]
