"""Losses on Values or arrays: information measures and classification/regression losses.

Every Value argument is differentiable (targets too); arrays are constants.  Distributions lie
along the last axis, leading axes are a batch; ``reduction`` is "mean" (default), "sum" or
"none"; ``base`` sets the unit (e for nats, 2 for bits).  Bad inputs raise ValueError.
"""

from .classification import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    mse,
    softmax_cross_entropy,
)
from .information import cross_entropy, entropy, js_divergence, kl_divergence

__all__ = [
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "js_divergence",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
    "mse",
]
