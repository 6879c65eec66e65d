"""Entropy, cross-entropy and the Kullback-Leibler and Jensen-Shannon divergences.

Distributions lie along the last axis and leading axes are a batch: each loss is computed per
row, then ``reduction`` ("mean", "sum" or "none") reduces over the batch.  Results are in nats,
or in units of log(base) (``base=2`` for bits).  ``p`` is the true distribution, ``q`` the
model's.

0 log 0 = 0 throughout, and the gradient stays finite there: the derivative of x log x, which
is -inf at x = 0, is taken to be 0 (see ``xlogy``).  Where q = 0 but p > 0, cross-entropy and
KL are +inf, and their gradient with respect to q is infinite, never NaN.
"""

from __future__ import annotations

import math

from autograd_core import Value, apply, ops

from ._checks import (
    Tensor,
    as_value,
    as_values,
    check_distribution,
    check_options,
    check_same_shape,
    finish,
)

__all__ = ["entropy", "cross_entropy", "kl_divergence", "js_divergence", "xlogy", "xlogx"]


def xlogy(x: Value, y: Value) -> Value:
    """x log y elementwise, with 0 log 0 = 0 and a finite gradient there (``Value.xlogy``).

    Where x = y = 0 the value and both partial derivatives are 0.  Everywhere else value and
    gradient are the plain ones, log y and x / y: where x = 0 < y the value is 0 and
    d/dx = log y; where x > 0 = y the value is -inf.
    """
    return x.xlogy(y)


def xlogx(x: Value) -> Value:
    """x log x elementwise, 0 at x = 0, where its gradient (log x + 1 = -inf) is taken as 0."""
    return xlogy(x, x)


def _distributions(p: Tensor, q: Tensor) -> tuple[Value, Value]:
    p, q = as_values(p, q)
    check_same_shape("p", p, "q", q)
    check_distribution("p", p)
    check_distribution("q", q)
    return p, q


def entropy(p: Tensor, *, reduction: str = "mean", base: float = math.e) -> Value:
    """H(p) = -sum_i p_i log p_i, with 0 log 0 = 0 (gradient -(log p_i + 1), 0 where p_i = 0)."""
    log_base = check_options(reduction, base)
    p = as_value(p)
    check_distribution("p", p)
    return finish(xlogx(p).sum(axis=-1), reduction, -1 / log_base)


def cross_entropy(p: Tensor, q: Tensor, *, reduction: str = "mean", base: float = math.e) -> Value:
    """H(p, q) = -sum_i p_i log q_i = H(p) + D_KL(p || q).

    Terms with p_i = 0 are 0 (even where q_i = 0); the result is +inf where q_i = 0 < p_i.
    """
    log_base = check_options(reduction, base)
    p, q = _distributions(p, q)
    return finish(xlogy(p, q).sum(axis=-1), reduction, -1 / log_base)


def kl_divergence(p: Tensor, q: Tensor, *, reduction: str = "mean", base: float = math.e) -> Value:
    """D_KL(p || q) = sum_i p_i log(p_i / q_i) >= 0, computed as sum_i (p_i log p_i - p_i log q_i).

    Terms with p_i = 0 are 0 (even where q_i = 0); the result is +inf where q_i = 0 < p_i.
    """
    log_base = check_options(reduction, base)
    p, q = _distributions(p, q)
    return finish(xlogx(p).sum(axis=-1) - xlogy(p, q).sum(axis=-1), reduction, 1 / log_base)


def js_divergence(p: Tensor, q: Tensor, *, reduction: str = "mean", base: float = math.e) -> Value:
    """JSD(p, q) = (D_KL(p || m) + D_KL(q || m)) / 2 with m = (p + q) / 2.

    One fused primitive (``ops.js_divergence``; a benchmark showed it pays) computes both sums
    and keeps log(q / m) for the gradient with respect to q, which is log(q / m) / 2, and
    -(log m + 1) / 2 where q = 0 (0 log 0 = 0, see above).  Symmetric, finite for any p and q,
    0 <= JSD <= log 2.
    """
    log_base = check_options(reduction, base)
    p, q = _distributions(p, q)
    return finish(apply(ops.js_divergence, p, q), reduction, 1 / log_base)
