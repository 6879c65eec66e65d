"""Optimisers with the update rules of ``torch.optim.SGD`` and ``torch.optim.Adam``.

``step()`` gives each parameter new ``data`` (its dtype is kept), skipping parameters whose grad
was never set; the old array is never written, as it may be the caller's (``Value(w0)`` shares
``w0``). ``zero_grad()`` resets the grads. Weight decay is L2: ``g += wd * p``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_core import Value

__all__ = ["Optimizer", "SGD", "Adam"]


def _grad(p: Value) -> np.ndarray | None:
    """The parameter's grad as an array, or None if no backward pass has reached it."""
    g = p._grad  # the engine keeps None here until a backward pass reaches p (.grad gives zeros)
    return None if g is None else np.asarray(g)


def _update(p: Value, delta: np.ndarray) -> None:
    """``p.data = p.data - delta``, keeping p's dtype.  ``delta`` is the optimizer's own fresh
    array, so the result goes into it: no allocation, and ``p``'s old array is left as it was."""
    old = p.data
    if not isinstance(old, np.ndarray):
        p.data = type(old)(old - delta)
    elif type(delta) is np.ndarray and delta.dtype == old.dtype and delta.shape == old.shape:
        p.data = np.subtract(old, delta, out=delta)
    else:
        p.data = np.asarray(old - np.asarray(delta).astype(old.dtype))  # 0-d stays an array


class Optimizer:
    """Holds a list of parameters (``params`` may be a generator) and per-parameter state."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        if isinstance(params, Value):  # iterating it would give its rows, not the parameter
            raise TypeError("optimizer params must be an iterable of Values, e.g. [w], not a Value")
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        seen = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"optimizer params[{i}] is a {type(p).__name__}, not a Value "
                    "(pass model.parameters())"
                )
            if seen.setdefault(id(p), i) != i:  # it would be updated twice a step
                raise ValueError(
                    f"optimizer params[{i}] is params[{seen[id(p)]}] again: list each once"
                )
        if not lr >= 0.0:
            raise ValueError(f"invalid learning rate {lr}: must be >= 0")
        self.lr = lr
        self.state: list[dict[str, np.ndarray | int]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        for p, state in zip(self.params, self.state, strict=True):
            g = _grad(p)
            if g is not None:
                _update(p, self._delta(g, np.asarray(p.data), state))

    def _delta(self, g: np.ndarray, p: np.ndarray, state: dict) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """``g = grad + wd * p``; ``buf = g`` on the first step, then ``buf = momentum * buf + g``
    (no dampening, no Nesterov); ``p -= lr * buf`` (``p -= lr * g`` without momentum)."""

    def __init__(
        self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr)
        if not momentum >= 0.0:
            raise ValueError(f"invalid momentum {momentum}: must be >= 0")
        if not weight_decay >= 0.0:
            raise ValueError(f"invalid weight_decay {weight_decay}: must be >= 0")
        self.momentum, self.weight_decay = momentum, weight_decay

    def _delta(self, g: np.ndarray, p: np.ndarray, state: dict) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = state.get("momentum_buffer")
            g = state["momentum_buffer"] = g.copy() if buf is None else self.momentum * buf + g
        return self.lr * g


class Adam(Optimizer):
    """``g = grad + wd * p``; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g**2``;
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1**t)``,
    ``v_hat = v / (1 - b2**t)``, t counting this parameter's steps."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"invalid betas {betas}: need two values in [0, 1)")
        if not eps >= 0.0:
            raise ValueError(f"invalid eps {eps}: must be >= 0")
        if not weight_decay >= 0.0:
            raise ValueError(f"invalid weight_decay {weight_decay}: must be >= 0")
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def _delta(self, g: np.ndarray, p: np.ndarray, state: dict) -> np.ndarray:
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p
        t = state["step"] = state.get("step", 0) + 1
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        # torch's arrangement of lr * m_hat / (sqrt(v_hat) + eps)
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + self.eps
        return (self.lr / (1 - b1**t)) * m / denom
