"""A small reverse-mode automatic differentiation engine for scalars and NumPy tensors."""

from .draw import draw_graph
from .functional import grad, gradcheck, value_and_grad
from .value import Step, Value, backward_steps, no_grad, scope

__all__ = [
    "Value",
    "no_grad",
    "grad",
    "value_and_grad",
    "gradcheck",
    "draw_graph",
    "backward_steps",
    "Step",
    "scope",
]
