"""Neural-network building blocks on top of ``autograd_core``.

``Module`` (parameter discovery, state dicts, ``save``/``load``), layers (``Dense``, ``ReLU``,
``Tanh``, ``Sigmoid``, ``Softmax``, ``Sequential``, ``MLP``), ``init`` (weight initialisers),
``optim`` (``SGD``, ``Adam``) and ``fit`` (a minibatch training loop).
"""

from . import init, optim
from .layers import MLP, Dense, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .module import Module, load
from .train import fit

__all__ = [
    "Module",
    "Dense",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "Sequential",
    "MLP",
    "init",
    "optim",
    "load",
    "fit",
]
