"""A small reverse-mode automatic differentiation engine for scalars and NumPy tensors."""

from . import ops
from .draw import draw_graph
from .functional import grad, gradcheck, value_and_grad
from .ops import Primitive
from .value import Step, Value, apply, backward_steps, no_grad, scope

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
    "apply",
    "Primitive",
    "ops",
]
