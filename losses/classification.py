"""Binary cross-entropy (on probabilities and on logits), softmax cross-entropy and MSE.

``binary_cross_entropy*`` and ``mse`` are elementwise: "none" keeps the input's shape and
"mean" averages every element, as in PyTorch.  ``softmax_cross_entropy`` is computed per row
(classes on the last axis) and reduced over the batch.
"""

from __future__ import annotations

import math

import numpy as np

from autograd_core import Value, apply, ops

from ._checks import (
    Tensor,
    as_value,
    as_values,
    check_class_indices,
    check_distribution,
    check_finite,
    check_options,
    check_probabilities,
    check_same_shape,
    finish,
)
from .information import xlogy

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
    "mse",
]


def binary_cross_entropy(
    p: Tensor, q: Tensor, *, reduction: str = "mean", base: float = math.e
) -> Value:
    """-(p log q + (1 - p) log(1 - q)) elementwise; targets p and probabilities q in [0, 1].

    0 log 0 = 0, as in ``cross_entropy``; the loss is +inf where q = 0 < p or p < 1 = q.
    """
    log_base = check_options(reduction, base)
    p, q = as_values(p, q)
    check_same_shape("p", p, "q", q)
    check_probabilities("p", p)
    check_probabilities("q", q)
    return finish(xlogy(p, q) + xlogy(1 - p, 1 - q), reduction, -1 / log_base)


def binary_cross_entropy_with_logits(
    p: Tensor, logits: Tensor, *, reduction: str = "mean", base: float = math.e
) -> Value:
    """BCE(p, sigmoid(x)) = p softplus(-x) + (1 - p) softplus(x), elementwise; its gradient is
    sigmoid(x) - p.

    That is softplus(x) - p x, written as two non-negative terms: nothing cancels, so a loss
    near 0 (p = 1, x = 40: 4.2e-18) keeps its digits.  softplus(x) = log(1 + e^x) = max(x, 0) +
    log(1 + e^-|x|) is a primitive: finite and exact for any finite logit, with derivative
    sigmoid(x) (so the curvature at 0 is 1/4, as it must be).
    """
    log_base = check_options(reduction, base)
    p, x = as_values(p, logits)
    check_same_shape("p", p, "logits", x)
    check_probabilities("p", p)
    check_finite("logits", x)
    return finish(p * (-x).softplus() + (1 - p) * x.softplus(), reduction, 1 / log_base)


def softmax_cross_entropy(
    logits: Tensor, targets: Tensor, *, reduction: str = "mean", base: float = math.e
) -> Value:
    """H(p, softmax(x)) = -sum_i p_i log softmax(x)_i over the last axis; gradient softmax(x) - p.

    ``targets`` are class indices t (an integer array of shape ``logits.shape[:-1]``; the loss is
    then logsumexp(x) - x_t) or distributions p (a float array or Value of the logits' shape).
    Stable for any finite logits. With class indices a logit may also be -inf, as in PyTorch:
    a class masked out, of probability 0 and gradient 0 (the loss is +inf if it is the target).
    """
    log_base = check_options(reduction, base)
    x = as_value(logits)
    if x.ndim == 0:
        raise ValueError(f"logits must have a last axis holding the classes, got shape {x.shape}")
    if not isinstance(targets, Value) and np.issubdtype(np.asarray(targets).dtype, np.integer):
        check_finite("logits", x, masked=True)
        t = np.asarray(targets)
        check_class_indices(t, x.shape)
        # logsumexp(x) - x_t as one primitive (a benchmark showed it pays)
        return finish(apply(ops.softmax_cross_entropy, x, params=(t,)), reduction, 1 / log_base)
    x, p = as_values(x, targets)
    if p.shape != x.shape:
        hint = " (class indices must be an integer array)" if p.shape == x.shape[:-1] else ""
        raise ValueError(
            f"distribution targets must have the logits' shape {x.shape}, "
            f"got targets.shape = {p.shape}{hint}"
        )
    check_finite("logits", x)  # here p * log softmax(x) would be 0 * -inf at a masked class
    check_distribution("targets", p)
    return finish((p * x.log_softmax(axis=-1)).sum(axis=-1), reduction, -1 / log_base)


def mse(pred: Tensor, target: Tensor, *, reduction: str = "mean") -> Value:
    """(pred - target)^2 elementwise; both must be finite and of the same shape."""
    check_options(reduction)
    pred, target = as_values(pred, target)
    check_same_shape("pred", pred, "target", target)
    check_finite("pred", pred)
    check_finite("target", target)
    d = pred - target
    return finish(d * d, reduction)
