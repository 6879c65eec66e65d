"""Layers: ``Dense``, activations, ``Sequential`` and ``MLP``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from autograd_core import Value

from . import init as _init
from .module import Module

__all__ = ["Dense", "ReLU", "Tanh", "Sigmoid", "Softmax", "Sequential", "MLP"]


def _value(x: Any) -> Value:
    """Wrap a non-Value input (array, list, number) as a constant Value."""
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


class Dense(Module):
    """Fully connected layer ``y = x @ W + b``, ``W`` of shape (in_features, out_features).

    ``init="xavier"`` draws ``W`` from ``nn.init.xavier_uniform``, ``init="he"`` from
    ``nn.init.he_normal``; ``b`` starts at zero. Parameters are float64 (see ``Module.astype``).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str = "xavier",
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        inits = {"xavier": _init.xavier_uniform, "he": _init.he_normal}
        if init not in inits:
            raise ValueError(f"unknown init {init!r}; valid: 'xavier', 'he'")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Value(inits[init]((in_features, out_features), rng), label="weight")
        self.bias = Value(np.zeros(out_features), label="bias") if bias else None

    def forward(self, x: Any) -> Value:
        y = _value(x) @ self.weight
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return f"{self.in_features}, {self.out_features}{bias}"


class ReLU(Module):
    """``max(x, 0)`` elementwise."""

    def forward(self, x: Any) -> Value:
        return _value(x).relu()


class Tanh(Module):
    """``tanh(x)`` elementwise."""

    def forward(self, x: Any) -> Value:
        return _value(x).tanh()


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, x: Any) -> Value:
        return _value(x).sigmoid()


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``axis``."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Value:
        return _value(x).softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Sequential(Module):
    """Applies its layers in order; they are named "0", "1", ... (``0.weight``)."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layer {i} is a {type(layer).__name__}, not a Module")
            setattr(self, str(i), layer)

    def _layers(self) -> list[Module]:
        return [layer for name, layer in vars(self).items() if name.isdigit()]

    def __len__(self) -> int:
        return len(self._layers())

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers())

    def __getitem__(self, index: int | slice) -> Module:
        """A layer by position, or a slice as a Sequential whose layers keep their names (as in
        PyTorch: ``model[2:]`` has parameters ``2.weight``..., so its checkpoints match)."""
        if not isinstance(index, slice):
            return self._layers()[index]
        part = Sequential()
        for name, layer in [(n, m) for n, m in vars(self).items() if n.isdigit()][index]:
            setattr(part, name, layer)
        return part

    def forward(self, x: Any) -> Any:
        for layer in self:
            x = layer(x)
        return x


ACTIVATIONS: dict[str | None, type[Module] | None] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "softmax": Softmax,
    None: None,
}


def _activation(name: str | None) -> Module | None:
    if name not in ACTIVATIONS:
        valid = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; valid: {valid}")
    cls = ACTIVATIONS[name]
    return None if cls is None else cls()


class MLP(Sequential):
    """``Dense(sizes[0], sizes[1])``, activation, ..., ``Dense(sizes[-2], sizes[-1])``, output
    activation. A Dense layer followed by ReLU uses He init, any other Xavier.

    Activation names: "relu", "tanh", "sigmoid", "softmax" or None (no activation).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least [in, out], got {list(sizes)}")
        for name in (activation, output_activation):
            _activation(name)  # raises ValueError on an unknown name, before building anything
        rng = np.random.default_rng(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            act = activation if i < len(sizes) - 2 else output_activation
            layers.append(Dense(n_in, n_out, init="he" if act == "relu" else "xavier", rng=rng))
            if act is not None:
                layers.append(_activation(act))
        super().__init__(*layers)
