"""The model description shared by every later stage.

A model is *data*: parameter symbols grouped in blocks (each block has its own learning-rate
symbol), input/data symbols, the outputs f_j on the examples, the targets y_j, the loss, model
constants, and optional named observables.  Derivation functions in :mod:`symsharp.symbolic`
take a :class:`Model` and return SymPy objects.
"""
from __future__ import annotations

from ..errors import ModelError  # noqa: F401  (re-exported)

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import sympy as sp


ETA = sp.Symbol("eta", positive=True)
"""The learning-rate symbol shared by every model (one declaration)."""




@dataclass(frozen=True)
class ParamBlock:
    """A named group of parameter symbols (e.g. the matrix ``U``) with its learning rate."""

    name: str
    symbols: tuple
    shape: tuple
    rate: sp.Symbol

    def as_matrix(self) -> sp.Matrix:
        if len(self.shape) == 2:
            return sp.Matrix(self.shape[0], self.shape[1], list(self.symbols))
        return sp.Matrix(list(self.symbols))


@dataclass(frozen=True)
class Model:
    """Symbolic description of a small model trained by GD on a squared loss (or a given loss).

    Attributes
    ----------
    name: short identifier (``"uv"``, ``"chain"``, ``"custom"``).
    blocks: parameter blocks; the parameter vector is their concatenation in order.
    outputs: f_j(θ) for every example j (empty when only a loss is given).
    targets: y_j for every example (same length as ``outputs``).
    loss: L(θ).  For outputs/targets it is ``1/(2N) Σ_j (f_j − y_j)²``.
    constants: symbols that are fixed during training (width, α, inputs, targets, ...).
    observables: named functions of θ (for UV: ``f`` and ``lam``).
    derived_constants: symbols standing for combinations of constants (for UV ``a = α²‖x‖²/n``);
        derivations try to express their results through them.
    assumptions: human-readable assumptions carried by every derived object.
    options: the options the model was built with (width, depth, ...), for reports.
    """

    name: str
    blocks: tuple
    outputs: tuple
    targets: tuple
    loss: sp.Expr
    constants: tuple = ()
    observables: Mapping[str, sp.Expr] = field(default_factory=dict)
    observable_symbols: Mapping[str, sp.Symbol] = field(default_factory=dict)
    derived_constants: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    assumptions: tuple = ()
    options: Mapping[str, object] = field(default_factory=dict)
    eta: sp.Symbol = ETA

    @property
    def params(self) -> tuple:
        out = []
        for b in self.blocks:
            out.extend(b.symbols)
        return tuple(out)

    @property
    def n_examples(self) -> int:
        return len(self.outputs)

    def rate_vector(self) -> list:
        """Learning-rate symbol of every parameter, in parameter order."""
        out = []
        for b in self.blocks:
            out.extend([b.rate] * len(b.symbols))
        return out

    def rates(self) -> tuple:
        seen = []
        for b in self.blocks:
            if b.rate not in seen:
                seen.append(b.rate)
        return tuple(seen)

    def block(self, name: str) -> ParamBlock:
        for b in self.blocks:
            if b.name == name:
                return b
        raise ModelError(f"model {self.name!r} has no parameter block {name!r}; "
                         f"blocks are {[b.name for b in self.blocks]}")

    def with_common_rate(self) -> "Model":
        """The same model with every block trained at the single rate ``eta``."""
        blocks = tuple(ParamBlock(b.name, b.symbols, b.shape, self.eta) for b in self.blocks)
        return _replace(self, blocks=blocks)

    def minibatch(self, batch: Sequence[int]) -> "Model":
        """The model whose loss is the minibatch loss ``1/(2B) Σ_{j∈batch} (f_j − y_j)²``."""
        if not self.outputs:
            raise ModelError("a minibatch needs a model given by outputs f_j, not only a loss")
        batch = list(batch)
        if not batch:
            raise ModelError("a minibatch must contain at least one example index")
        bad = [j for j in batch if not (0 <= j < self.n_examples)]
        if bad:
            raise ModelError(f"minibatch index {bad[0]} is out of range; allowed 0..{self.n_examples - 1}")
        loss = sp.Rational(1, 2 * len(batch)) * sum((self.outputs[j] - self.targets[j]) ** 2 for j in batch)
        return _replace(self, loss=loss)


def _replace(model: Model, **kw) -> Model:
    from dataclasses import replace

    return replace(model, **kw)


def squared_loss(outputs: Sequence[sp.Expr], targets: Sequence[sp.Expr]) -> sp.Expr:
    """``1/(2N) Σ_j (f_j − y_j)²``."""
    n = len(outputs)
    if n == 0:
        raise ModelError("a squared loss needs at least one example")
    return sp.Rational(1, 2 * n) * sum((f - y) ** 2 for f, y in zip(outputs, targets))


def matrix_symbols(name: str, rows: int, cols: int, **assumptions) -> tuple:
    """Symbols ``name_i_j`` in row-major order (1-based indices)."""
    return tuple(sp.Symbol(f"{name}_{i + 1}_{j + 1}", real=True, **assumptions)
                 for i in range(rows) for j in range(cols))


def vector_symbols(name: str, length: int, **assumptions) -> tuple:
    """Symbols ``name_i`` (1-based)."""
    return tuple(sp.Symbol(f"{name}_{i + 1}", real=True, **assumptions) for i in range(length))


def check_positive_int(value, what: str, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise a one-line :class:`ModelError`."""
    try:
        iv = int(value)
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be an integer >= {minimum}, got {value!r}") from None
    if iv != value and not (isinstance(value, str) and str(iv) == value.strip()):
        raise ModelError(f"{what} must be an integer >= {minimum}, got {value!r}")
    if iv < minimum:
        raise ModelError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return iv
